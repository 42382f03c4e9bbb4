"""The Jira sandbox's data: a fixed catalogue (workflows, issue types, resolutions) and state.

The seed is deterministic so that tests can name issues and users. The workflows are shaped to
catch clients that cut corners on a real site: transition names differ from the statuses they
lead to, the closing transition has a screen with a required resolution (whose allowed values
differ per project), and OPS has no "In Progress" or "In Review" status at all.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Flavour = Literal["cloud", "datacenter"]
Json = dict[str, Any]

SEED_TIME = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)


def jira_time(moment: dt.datetime) -> str:
    """Jira's timestamp format: ``2024-05-01T09:00:00.000+0000``."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def now() -> str:
    return jira_time(dt.datetime.now(dt.UTC))


# == the catalogue: fixed for a sandbox's life ==================================================


@dataclass(frozen=True)
class StatusCategory:
    id: int
    key: str
    name: str
    color: str


CATEGORIES = {
    "new": StatusCategory(2, "new", "To Do", "blue-gray"),
    "indeterminate": StatusCategory(4, "indeterminate", "In Progress", "yellow"),
    "done": StatusCategory(3, "done", "Done", "green"),
}


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: StatusCategory
    icon: str
    description: str = ""

    @property
    def is_done(self) -> bool:
        return self.category.key == "done"


@dataclass(frozen=True)
class Transition:
    """A workflow transition; ``sources=None`` makes it global (available from every status)."""

    id: str
    name: str
    to: str
    sources: tuple[str, ...] | None
    resolutions: tuple[str, ...] = ()  # non-empty: a screen with a required resolution

    @property
    def has_screen(self) -> bool:
        return bool(self.resolutions)

    def available_from(self, status: str) -> bool:
        return status != self.to and (self.sources is None or status in self.sources)


@dataclass(frozen=True)
class Workflow:
    statuses: tuple[Status, ...]
    transitions: tuple[Transition, ...]

    def status(self, name: str) -> Status:
        for status in self.statuses:
            if name.lower() in (status.name.lower(), status.id):
                return status
        names = ", ".join(s.name for s in self.statuses)
        raise KeyError(f"no status {name!r} in this workflow (it has {names})")

    def available(self, status: str) -> list[Transition]:
        return [t for t in self.transitions if t.available_from(status)]

    @property
    def default_resolution(self) -> str:
        return next(t.resolutions[0] for t in self.transitions if t.resolutions)


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str
    avatar_id: int
    hierarchy_level: int = 0


@dataclass(frozen=True)
class Resolution:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str
    workflow: Workflow


PROJ_WORKFLOW = Workflow(
    statuses=(
        Status("10000", "To Do", CATEGORIES["new"], "open.png"),
        Status("3", "In Progress", CATEGORIES["indeterminate"], "inprogress.png",
               "This issue is being actively worked on at the moment by the assignee."),
        Status("10002", "In Review", CATEGORIES["indeterminate"], "generic.png"),
        Status("10001", "Done", CATEGORIES["done"], "closed.png"),
        # environment statuses (issue 20): what a team's promotion chain moves issues through
        Status("10004", "In QA", CATEGORIES["indeterminate"], "generic.png"),
        Status("10005", "Ready for Release", CATEGORIES["indeterminate"], "generic.png"),
    ),
    transitions=(
        Transition("11", "Start work", "In Progress", ("To Do", "In Review")),
        Transition("21", "Request review", "In Review", ("In Progress",)),
        Transition("31", "Stop work", "To Do", ("In Progress",)),
        Transition("41", "Close", "Done",
                   ("To Do", "In Progress", "In Review", "In QA", "Ready for Release"),
                   ("Done", "Won't Do", "Duplicate")),
        Transition("51", "Reopen", "To Do", ("Done",)),
        Transition("61", "Deploy to QA", "In QA", ("In Progress", "In Review")),
        Transition("71", "Approve for release", "Ready for Release", ("In QA",)),
        # smart commits (issue 21): from In Review, #start names two transitions (ambiguous)
        Transition("81", "Start rework", "In Progress", ("In Review",)),
    ),
)  # fmt: skip
OPS_WORKFLOW = Workflow(
    statuses=(
        Status("1", "Open", CATEGORIES["new"], "open.png",
               "The issue is open and ready for the assignee to start work on it."),
        Status("10003", "Triage", CATEGORIES["indeterminate"], "generic.png"),
        Status("5", "Resolved", CATEGORIES["done"], "resolved.png",
               "A resolution has been taken, and it is awaiting verification by reporter."),
    ),
    transitions=(
        Transition("11", "Begin triage", "Triage", ("Open",)),
        Transition("21", "Resolve issue", "Resolved", ("Open", "Triage"), ("Fixed", "Won't Fix")),
        Transition("31", "Send back", "Open", ("Triage",)),
        Transition("41", "Reopen issue", "Open", ("Resolved",)),
    ),
)  # fmt: skip
PROJECTS = (
    Project("10000", "PROJ", "Sandbox Project", PROJ_WORKFLOW),
    Project("10001", "OPS", "Operations", OPS_WORKFLOW),
)
ISSUE_TYPES = (
    IssueType("10000", "Epic", "A big user story that needs to be broken down.", 10307, 1),
    IssueType("10001", "Story", "Functionality or a feature expressed as a user goal.", 10315),
    IssueType("10002", "Task", "A small, distinct piece of work.", 10318),
    IssueType("10003", "Bug", "A problem or error.", 10303),
)
RESOLUTIONS = (
    Resolution("10000", "Done", "Work has been completed on this issue."),
    Resolution("10001", "Won't Do", "This issue won't be actioned."),
    Resolution("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    Resolution("10003", "Fixed", "A fix for this issue is checked into the tree and tested."),
    Resolution("10004", "Won't Fix",
               "The problem described is an issue which will never be fixed."),
)  # fmt: skip


def project_by_key(key: str) -> Project:
    """A project by key (any case) or id; KeyError if there is none."""
    for project in PROJECTS:
        if key.upper() == project.key or key == project.id:
            return project
    raise KeyError(f"no project {key!r}")


def issue_type_by_name(name: str) -> IssueType:
    for issue_type in ISSUE_TYPES:
        if name.lower() == issue_type.name.lower() or name == issue_type.id:
            return issue_type
    raise KeyError(f"no issue type {name!r}")


def resolution_by_name(name: str) -> Resolution:
    for resolution in RESOLUTIONS:
        if name.lower() == resolution.name.lower() or name == resolution.id:
            return resolution
    raise KeyError(f"no resolution {name!r}")


# == state: what requests change ================================================================


@dataclass
class User:
    name: str
    key: str
    account_id: str
    email: str
    display_name: str
    token: str
    time_zone: str

    def aliases(self, flavour: Flavour) -> list[str]:
        """What JQL and user search accept for this user on each flavour (lower case)."""
        if flavour == "cloud":
            names = [self.account_id, self.email, self.display_name]
        else:
            names = [self.name, self.key, self.email, self.display_name]
        return [name.lower() for name in names]

    def as_dict(self) -> Json:
        return {
            "name": self.name,
            "key": self.key,
            "accountId": self.account_id,
            "email": self.email,
            "displayName": self.display_name,
            "token": self.token,
        }


@dataclass
class Version:
    id: int
    project: str
    name: str
    description: str = ""
    released: bool = False
    archived: bool = False
    release_date: str | None = None
    start_date: str | None = None

    def as_dict(self) -> Json:
        return {
            "id": str(self.id),
            "project": self.project,
            "projectId": int(project_by_key(self.project).id),
            "name": self.name,
            "description": self.description,
            "released": self.released,
            "archived": self.archived,
            "releaseDate": self.release_date,
            "startDate": self.start_date,
        }


@dataclass
class Comment:
    id: int
    author: str  # user name
    body: str  # plain text; rendered as ADF on /rest/api/3
    created: str
    updated: str


@dataclass
class RemoteLink:
    id: int
    global_id: str | None
    application: Json
    relationship: str | None
    object: Json

    def as_dict(self) -> Json:
        return copy.deepcopy(
            {
                "id": self.id,
                "globalId": self.global_id,
                "application": self.application,
                "relationship": self.relationship,
                "object": self.object,
            }
        )


@dataclass
class Issue:
    id: int
    key: str
    project: str
    summary: str
    type: str
    status: str
    reporter: str
    created: str
    assignee: str | None = None
    resolution: str | None = None
    resolution_date: str | None = None
    description: str = ""  # plain text; rendered as ADF on /rest/api/3
    labels: list[str] = field(default_factory=list)
    fix_versions: list[int] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    remote_links: list[RemoteLink] = field(default_factory=list)
    updated: str = ""
    status_changed: str = ""

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])

    @property
    def workflow(self) -> Workflow:
        return project_by_key(self.project).workflow


SEED_USERS = (
    User("alice", "JIRAUSER10000", "5b10a2844c20165700ede21f", "alice@example.com",
         "Alice Example", "sandbox-token-alice", "Europe/Berlin"),
    User("bob", "JIRAUSER10001", "712020:3e0a8c1d-5b2f-4c7a-9d6e-8f1b2c3d4e5f", "bob@example.com",
         "Bob Builder", "sandbox-token-bob", "America/New_York"),
    User("carol", "JIRAUSER10002", "60f1c3a9b7e2d40069a1b2c3", "carol@example.com",
         "Carol Chen", "sandbox-token-carol", "Asia/Tokyo"),
)  # fmt: skip
#: (project, summary, type, status, assignee, labels) of the seeded issues, keys in order.
SEED_ISSUES: tuple[tuple[str, str, str, str, str | None, tuple[str, ...]], ...] = (
    ("PROJ", "Add login form", "Story", "To Do", None, ("frontend",)),
    ("PROJ", "Crash when the password has “smart quotes”", "Bug", "To Do", None, ("security",)),
    ("PROJ", "Café menu: naïve façade — über-long summary that goes on and on well beyond "
             "sixty characters of text", "Task", "In Progress", "bob", ()),
    ("PROJ", "Ship it", "Story", "Done", "alice", ()),
    ("PROJ", "Password reset email", "Story", "To Do", "alice", ("backend",)),
    ("PROJ", "Dark mode", "Story", "In Review", "alice", ("frontend",)),
    ("PROJ", "Flaky login test", "Bug", "In Progress", "carol", ("ci",)),
    ("PROJ", "Upgrade dependencies", "Task", "To Do", None, ()),
    ("PROJ", "Release notes page", "Story", "Done", "bob", ()),
    ("PROJ", "Login rate limiting", "Story", "To Do", None, ("security", "backend")),
    ("PROJ", "Onboarding", "Epic", "In Progress", "alice", ()),
    ("PROJ", "Fix typo in footer", "Bug", "To Do", "bob", ("frontend",)),
    ("OPS", "Rotate certificates", "Task", "Open", None, ()),
    ("OPS", "Disk alert on build agent", "Bug", "Triage", "carol", ("ci",)),
)  # fmt: skip


@dataclass
class JiraState:
    """Users, issues and versions; the sandbox replaces it with a fresh seed on reset."""

    users: dict[str, User] = field(default_factory=dict)
    issues: dict[str, Issue] = field(default_factory=dict)
    versions: dict[int, Version] = field(default_factory=dict)
    next_issue_id: int = 10000
    next_comment_id: int = 10000
    next_link_id: int = 10000
    next_version_id: int = 10000

    @classmethod
    def seeded(cls) -> JiraState:
        state = cls(users={user.name: copy.copy(user) for user in SEED_USERS})
        release = state.add_version("PROJ", "1.0.0", "First release", released=True,
                                    release_date="2024-04-30")  # fmt: skip
        for index, (project, summary, type_, status, assignee, labels) in enumerate(SEED_ISSUES):
            created = jira_time(SEED_TIME + dt.timedelta(hours=index))
            issue = state.add_issue(project, summary, type_, status, assignee, "", created)
            issue.labels = list(labels)
        shipped = state.issues["PROJ-4"]
        shipped.fix_versions = [release.id]
        state.add_comment(shipped, "bob", "Released in 1.0.0.", jira_time(SEED_TIME.replace(day=2)))
        state.issues["PROJ-9"].resolution = "Won't Do"
        return state

    # -- changes -------------------------------------------------------------------------------

    def add_issue(
        self,
        project_key: str,
        summary: str,
        type_: str,
        status: str,
        assignee: str | None,
        description: str,
        created: str,
        reporter: str = "alice",
    ) -> Issue:
        project = project_by_key(project_key)
        issue_type = issue_type_by_name(type_)
        status_obj = project.workflow.status(status)
        for user in (assignee, reporter):
            if user is not None and user not in self.users:
                raise KeyError(f"no user {user!r}")
        numbers = [i.number for i in self.issues.values() if i.project == project.key]
        issue = Issue(
            id=self.next_issue_id,
            key=f"{project.key}-{max(numbers, default=0) + 1}",
            project=project.key,
            summary=summary,
            type=issue_type.name,
            status=status_obj.name,
            reporter=reporter,
            created=created,
            assignee=assignee,
            description=description,
            updated=created,
            status_changed=created,
        )
        self.next_issue_id += 1
        self.move(issue, status_obj, None, created)
        self.issues[issue.key] = issue
        return issue

    @staticmethod
    def move(issue: Issue, status: Status, resolution: str | None, when: str) -> None:
        """Put an issue in a status; done statuses carry a resolution and others none."""
        if issue.workflow.status(issue.status).category != status.category:
            issue.status_changed = when
        issue.status = status.name
        if status.is_done:
            issue.resolution = resolution or issue.resolution or issue.workflow.default_resolution
            issue.resolution_date = issue.resolution_date or when
        else:
            issue.resolution = None
            issue.resolution_date = None
        issue.updated = when

    def add_version(
        self,
        project_key: str,
        name: str,
        description: str = "",
        *,
        released: bool = False,
        archived: bool = False,
        release_date: str | None = None,
        start_date: str | None = None,
    ) -> Version:
        version = Version(
            self.next_version_id,
            project_by_key(project_key).key,
            name,
            description,
            released,
            archived,
            release_date,
            start_date,
        )
        self.next_version_id += 1
        self.versions[version.id] = version
        return version

    def add_comment(self, issue: Issue, author: str, text: str, when: str) -> Comment:
        comment = Comment(self.next_comment_id, author, text, when, when)
        self.next_comment_id += 1
        issue.comments.append(comment)
        issue.updated = when
        return comment

    def upsert_remote_link(
        self,
        issue: Issue,
        global_id: str | None,
        application: Json,
        relationship: str | None,
        link_object: Json,
    ) -> tuple[RemoteLink, bool]:
        """Create a link, or update the one with the same globalId; True when created."""
        for link in issue.remote_links:
            if global_id and link.global_id == global_id:
                link.application, link.relationship = application, relationship
                link.object = link_object
                return link, False
        link = RemoteLink(self.next_link_id, global_id, application, relationship, link_object)
        self.next_link_id += 1
        issue.remote_links.append(link)
        return link, True

    # -- lookups -------------------------------------------------------------------------------

    def find_issue(self, key_or_id: str) -> Issue | None:
        issue = self.issues.get(key_or_id.upper())
        if issue is None and key_or_id.isdigit():
            issue = next((i for i in self.issues.values() if str(i.id) == key_or_id), None)
        return issue

    def find_user(self, identifier: str, flavour: Flavour) -> User | None:
        """A user by accountId (Cloud) or by name or key (Data Center)."""
        for user in self.users.values():
            ids = (user.account_id,) if flavour == "cloud" else (user.name, user.key)
            if identifier in ids:
                return user
        return None

    def project_versions(self, project_key: str) -> list[Version]:
        key = project_by_key(project_key).key
        return [v for v in self.versions.values() if v.project == key]

    # -- snapshots for tests -------------------------------------------------------------------

    def issue_dict(self, issue: Issue) -> Json:
        return {
            "id": str(issue.id),
            "key": issue.key,
            "project": issue.project,
            "summary": issue.summary,
            "type": issue.type,
            "status": issue.status,
            "assignee": issue.assignee,
            "reporter": issue.reporter,
            "resolution": issue.resolution,
            "labels": list(issue.labels),
            "fixVersions": [self.versions[v].name for v in issue.fix_versions],
            "description": issue.description,
            "comments": [
                {"id": str(c.id), "author": c.author, "body": c.body, "created": c.created}
                for c in issue.comments
            ],
            "remotelinks": [link.as_dict() for link in issue.remote_links],
        }

    def as_json(self, flavour: Flavour) -> Json:
        return {
            "flavour": flavour,
            "users": [u.as_dict() for u in self.users.values()],
            "projects": [project_dict(p) for p in PROJECTS],
            "issues": [self.issue_dict(i) for i in self.issues.values()],
            "versions": [v.as_dict() for v in self.versions.values()],
        }


def project_dict(project: Project) -> Json:
    """A project with its workflow, for state snapshots."""
    return {
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "statuses": [
            {"id": s.id, "name": s.name, "category": s.category.key}
            for s in project.workflow.statuses
        ],
        "transitions": [
            {
                "id": t.id,
                "name": t.name,
                "to": t.to,
                "from": list(t.sources) if t.sources is not None else None,
                "resolutions": list(t.resolutions),
            }
            for t in project.workflow.transitions
        ],
    }

"""The Bitbucket sandbox's data: accounts, repositories, pull requests, and the seed.

One state serves both flavours; the flavour only decides how repositories are named
(``workspace/slug`` on Cloud, ``PROJECT/slug`` on Data Center) and how things are rendered.
The people are the Jira sandbox's (same names, e-mail addresses, display names and Atlassian
account ids), so a test can follow one person from a Jira issue to their pull request.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jiraflow.sandbox.jira_model import SEED_USERS

Flavour = Literal["cloud", "datacenter"]
Json = dict[str, Any]
PullRequestState = Literal["OPEN", "MERGED", "DECLINED", "SUPERSEDED"]

SEED_TIME = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
SEED_WORKSPACE = "acme"  # Cloud
SEED_PROJECT = "ACME"  # Data Center
SEED_SLUG = "shop"
SEED_DEFAULT_REVIEWERS = ("alice", "bob")
#: Cloud's Atlassian API tokens, repository access tokens and (refused) app passwords start so.
API_TOKEN_PREFIX = "ATATT3xFfGF0"
ACCESS_TOKEN_PREFIX = "ATCTT3xFfGN0"
APP_PASSWORD_PREFIX = "ATBB"
#: Data Center 9 HTTP access tokens start with BBDC- (for secret scanning).
HTTP_TOKEN_PREFIX = "BBDC-"


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def stable_uuid(*parts: str) -> str:
    """A Cloud uuid in braces, the same for the same parts in every run."""
    return "{" + str(uuid.UUID(bytes=_digest("uuid", *parts)[:16], version=4)) + "}"


def fake_hash(*parts: str) -> str:
    """A made-up 40-hex commit id for repositories without a git directory."""
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()


def _token(prefix: str, length: int, *parts: str) -> str:
    raw = base64.urlsafe_b64encode(_digest("token", *parts) + _digest("more", *parts))
    body = raw.decode().replace("-", "x").replace("_", "Z").rstrip("=")
    return prefix + body[:length]


# == accounts ===================================================================================


@dataclass(frozen=True)
class Account:
    """A person (or, on Cloud, the bot behind a repository access token)."""

    name: str  # Data Center user name and slug; the sandbox's handle for the person
    display_name: str
    email: str
    account_id: str
    uuid: str
    dc_id: int
    bot_repository: str | None = None  # full name of the repository an access token serves

    @property
    def nickname(self) -> str:
        return self.name if self.bot_repository is None else self.display_name

    @property
    def slug(self) -> str:
        """Data Center: the user's slug in URLs, which need not be the name (a server puts
        '_' for '@' and other characters a slug cannot hold: ``jo@acme.com`` is
        ``jo_acme.com``)."""
        return "".join(c if c.isalnum() or c in "._-" else "_" for c in self.name.lower())

    @property
    def api_token(self) -> str:
        """Cloud: the Atlassian API token, sent as Basic ``email:token``."""
        return _token(API_TOKEN_PREFIX, 64, "api", self.name) + "=" + fake_hash(self.name)[:8]

    @property
    def app_password(self) -> str:
        """Cloud: a legacy app password; Bitbucket Cloud no longer accepts these."""
        return _token(APP_PASSWORD_PREFIX, 28, "app", self.name) + fake_hash("app", self.name)[:8]

    @property
    def http_token(self) -> str:
        """Data Center: the HTTP access token, sent as ``Bearer`` (or Basic ``name:token``)."""
        return _token(HTTP_TOKEN_PREFIX, 44, "dc", self.name)


def seed_accounts() -> dict[str, Account]:
    accounts: dict[str, Account] = {}
    for number, person in enumerate(SEED_USERS, start=1):
        accounts[person.name] = Account(
            name=person.name,
            display_name=person.display_name,
            email=person.email,
            account_id=person.account_id,
            uuid=stable_uuid("user", person.name),
            dc_id=number,
        )
    return accounts


def access_token_bot(full_name: str, dc_id: int) -> Account:
    """The account a Cloud repository access token acts as (an informed guess at its shape:
    a bot whose display name is the token's name)."""
    slug = full_name.split("/", 1)[1]
    return Account(
        name=f"{slug}-access-token",
        display_name="Repository Access Token",
        email="",
        account_id=f"712020:{stable_uuid('bot', full_name)[1:-1]}",
        uuid=stable_uuid("bot", full_name),
        dc_id=dc_id,
        bot_repository=full_name,
    )


# == repositories and pull requests =============================================================


@dataclass
class Comment:
    """A general comment on a pull request (no inline anchor, no replies)."""

    id: int
    author: str  # account name
    text: str
    created: dt.datetime
    version: int = 0

    def as_json(self) -> Json:
        return {"id": self.id, "author": self.author, "text": self.text}


@dataclass
class PullRequest:
    id: int
    title: str
    description: str
    source: str  # branch names, without refs/heads/
    destination: str
    author: str  # account name
    reviewers: list[str]
    created: dt.datetime
    updated: dt.datetime
    source_commit: str
    destination_commit: str
    draft: bool = False
    close_source_branch: bool = False
    state: PullRequestState = "OPEN"
    version: int = 0
    #: account name -> "approved" | "changes_requested"; absent means no verdict
    verdicts: dict[str, str] = field(default_factory=dict)
    #: account name -> when they last acted; reviewers without an action are absent
    participated: dict[str, dt.datetime] = field(default_factory=dict)
    #: the source commit each reviewer last reviewed (Data Center's lastReviewedCommit)
    reviewed_commit: dict[str, str] = field(default_factory=dict)
    closed: dt.datetime | None = None
    closed_by: str | None = None
    merge_commit: str | None = None
    reason: str = ""
    comments: list[Comment] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.state == "OPEN"

    @property
    def participants(self) -> list[str]:
        """Everyone with a role: reviewers first, then those who acted without being asked."""
        others = [name for name in self.participated if name not in self.reviewers]
        return [*self.reviewers, *others]

    def as_json(self) -> Json:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "source": self.source,
            "destination": self.destination,
            "author": self.author,
            "reviewers": list(self.reviewers),
            "state": self.state,
            "draft": self.draft,
            "version": self.version,
            "close_source_branch": self.close_source_branch,
            "verdicts": dict(self.verdicts),
            "source_commit": self.source_commit,
            "destination_commit": self.destination_commit,
            "merge_commit": self.merge_commit,
            "closed_by": self.closed_by,
            "reason": self.reason,
            "comments": [c.as_json() for c in self.comments],
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
        }


@dataclass
class Repository:
    owner: str  # Cloud workspace slug (lower case) or Data Center project key (upper case)
    slug: str
    dc_id: int
    main_branch: str = "main"
    default_reviewers: list[str] = field(default_factory=list)
    git_dir: Path | None = None
    #: branch -> tip, for repositories without a git directory (made up on first sight)
    fake_tips: dict[str, str] = field(default_factory=dict)
    pull_requests: dict[int, PullRequest] = field(default_factory=dict)
    created: dt.datetime = SEED_TIME
    #: builds reported on its commits (sandbox/bitbucket_builds.BuildBook, made on first use)
    build_status: Any = None
    #: merge settings and checks (sandbox/bitbucket_merging.MergeRules, made on first use)
    merge_rules: Any = None
    #: Cloud's environments and deployments (sandbox/bitbucket_deployments.DeploymentBook,
    #: made on first use)
    deployments: Any = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.slug}"

    @property
    def name(self) -> str:
        return self.slug

    @property
    def uuid(self) -> str:
        return stable_uuid("repository", self.full_name.lower())

    @property
    def project_key(self) -> str:
        """The Data Center project key, or the Cloud project the repository is filed under."""
        return self.owner.upper()

    def next_pull_request_id(self) -> int:
        return max(self.pull_requests, default=0) + 1

    def as_json(self) -> Json:
        return {
            "full_name": self.full_name,
            "main_branch": self.main_branch,
            "default_reviewers": list(self.default_reviewers),
            "git_dir": str(self.git_dir) if self.git_dir else None,
            "pull_requests": [pr.as_json() for pr in self.pull_requests.values()],
        }


class Clock:
    """Wall-clock time that never repeats, so "last updated" orders are strict."""

    def __init__(self) -> None:
        self._last = SEED_TIME

    def now(self) -> dt.datetime:
        moment = dt.datetime.now(dt.UTC)
        if moment <= self._last:
            moment = self._last + dt.timedelta(microseconds=1)
        self._last = moment
        return moment


@dataclass
class BitbucketState:
    accounts: dict[str, Account]
    repositories: dict[str, Repository]  # by full name, lower case
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> repository key
    clock: Clock = field(default_factory=Clock)
    #: Cloud's pull-request list: whether a ``q`` query alone lifts the OPEN-only default
    #: (True), or only the ``state`` parameter does (False: without ``state``, only OPEN
    #: pull requests are listed, whatever ``q`` says). Reports differ; clients must send both.
    q_lifts_state_default: bool = True

    @classmethod
    def seeded(cls, flavour: Flavour) -> BitbucketState:
        owner = SEED_WORKSPACE if flavour == "cloud" else SEED_PROJECT
        repository = Repository(owner, SEED_SLUG, 1, default_reviewers=[*SEED_DEFAULT_REVIEWERS])
        return cls(seed_accounts(), {repository.full_name.lower(): repository})

    def repository(self, owner: str, slug: str) -> Repository | None:
        return self.repositories.get(f"{owner}/{slug}".lower())

    def repository_by_name(self, full_name: str) -> Repository:
        owner, _, slug = full_name.partition("/")
        found = self.repository(owner, slug)
        if found is None:
            raise KeyError(f"no repository {full_name!r}")
        return found

    def repository_by_id(self, dc_id: int) -> Repository | None:
        return next((r for r in self.repositories.values() if r.dc_id == dc_id), None)

    def add_repository(self, full_name: str, flavour: Flavour) -> Repository:
        owner, sep, slug = full_name.partition("/")
        if not sep or not owner or not slug or "/" in slug:
            raise ValueError(f"a repository is named OWNER/slug, not {full_name!r}")
        if self.repository(owner, slug) is not None:
            raise ValueError(f"the repository {full_name} exists already")
        owner = owner.lower() if flavour == "cloud" else owner.upper()
        next_id = max((r.dc_id for r in self.repositories.values()), default=0) + 1
        repository = Repository(owner, slug.lower(), next_id, created=self.clock.now())
        self.repositories[repository.full_name.lower()] = repository
        return repository

    def account(self, name: str) -> Account:
        if name in self.accounts:
            return self.accounts[name]
        raise KeyError(f"no user {name!r}; the sandbox has {', '.join(self.people())}")

    def people(self) -> list[str]:
        return [a.name for a in self.accounts.values() if a.bot_repository is None]

    def add_person(self, name: str, display_name: str, email: str) -> Account:
        """Another user (a test's: a Data Center name whose slug is not the name)."""
        if name in self.accounts:
            raise ValueError(f"the user {name} exists already")
        number = max(a.dc_id for a in self.accounts.values() if a.bot_repository is None) + 1
        account = Account(name, display_name, email, f"712020:{stable_uuid('id', name)[1:-1]}",
                          stable_uuid("user", name), number)  # fmt: skip
        self.accounts[name] = account
        return account

    def access_token(self, repository: Repository) -> str:
        """The (one) repository access token of a repository, created on first use."""
        for token, key in self.access_tokens.items():
            if key == repository.full_name.lower():
                return token
        token = _token(ACCESS_TOKEN_PREFIX, 64, "access", repository.full_name.lower())
        bot = access_token_bot(repository.full_name, 1000 + repository.dc_id)
        self.accounts[bot.name] = bot
        self.access_tokens[token] = repository.full_name.lower()
        return token

    def as_json(self) -> Json:
        return {
            "users": self.people(),
            "repositories": [r.as_json() for r in self.repositories.values()],
        }

"""How the Bitbucket sandbox renders its state as Bitbucket Cloud REST 2.0 JSON.

Key names, nesting and JSON types follow captured Cloud responses (tests/data/reference/
bitbucket-cloud/) and the Cloud Swagger 2.0 spec; tests/test_sandbox_bitbucket.py holds every
answer to both. Where the two disagree the spec's closed objects win: links Cloud sends beyond
the spec (``statuses``, ``request-changes`` on a pull request; ``branches``, ``tags`` on a
repository) are left out, and so is the ``type`` inside ``summary`` and ``rendered``.
Commit hashes are 12 characters, as Cloud shows them, except the merge commit in the answer to
a merge, which Cloud sends in full (and shortens on later reads).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from urllib.parse import quote

from jiraflow.sandbox.bitbucket_model import (
    SEED_TIME,
    Account,
    BitbucketState,
    Json,
    PullRequest,
    Repository,
    stable_uuid,
)
from jiraflow.sandbox.bitbucket_pulls import current_commits

SHORT_HASH = 12


def cloud_time(moment: dt.datetime) -> str:
    """Cloud's timestamps: ``2024-05-01T09:00:00.000000+00:00``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def rendered(text: str) -> Json:
    """``{raw, markup, html}`` with a minimal Markdown rendering (paragraphs only)."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    markup = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return {"raw": text, "markup": "markdown", "html": markup}


def _link(href: str) -> Json:
    return {"href": href}


@dataclass(frozen=True)
class CloudView:
    base: str  # the server, e.g. http://127.0.0.1:PORT (the API is under /2.0)
    state: BitbucketState

    def api(self, path: str) -> str:
        return f"{self.base}/2.0/{path}"

    def web(self, path: str) -> str:
        return f"{self.base}/{path}"

    # -- people ----------------------------------------------------------------------------------

    def account(self, account: Account) -> Json:
        braced = quote(account.uuid)
        return {
            "display_name": account.display_name,
            "links": {
                "self": _link(self.api(f"users/{braced}")),
                "avatar": _link(self.web(f"account/{braced}/avatar/")),
                "html": _link(self.web(f"{braced}/")),
            },
            "type": "user",
            "uuid": account.uuid,
            "account_id": account.account_id,
            "nickname": account.nickname,
        }

    def account_named(self, name: str) -> Json:
        return self.account(self.state.account(name))

    def me(self, account: Account) -> Json:
        """``GET /user``: the account plus what only its owner sees."""
        body = self.account(account)
        body["links"]["repositories"] = _link(self.api(f"repositories/{quote(account.uuid)}"))
        body.update(
            username=account.nickname,
            created_on=cloud_time(SEED_TIME),
            is_staff=False,
            location=None,
        )
        return body

    # -- repositories ----------------------------------------------------------------------------

    def repository_summary(self, repository: Repository) -> Json:
        full = repository.full_name
        return {
            "type": "repository",
            "full_name": full,
            "links": {
                "self": _link(self.api(f"repositories/{full}")),
                "html": _link(self.web(full)),
                "avatar": _link(self.web(f"{full}/avatar/32/")),
            },
            "name": repository.name,
            "uuid": repository.uuid,
        }

    def repository(self, repository: Repository) -> Json:
        full, owner = repository.full_name, repository.owner
        api = self.api(f"repositories/{full}")
        links = {
            "self": _link(api),
            "html": _link(self.web(full)),
            "avatar": _link(self.web(f"{full}/avatar/32/")),
            "pullrequests": _link(f"{api}/pullrequests"),
            "commits": _link(f"{api}/commits"),
            "forks": _link(f"{api}/forks"),
            "watchers": _link(f"{api}/watchers"),
            "downloads": _link(f"{api}/downloads"),
            "clone": [
                {"href": self.web(f"{full}.git"), "name": "https"},
                {"href": f"git@127.0.0.1:{full}.git", "name": "ssh"},
            ],
            "hooks": _link(f"{api}/hooks"),
        }
        workspace_uuid = stable_uuid("workspace", owner)
        return {
            "type": "repository",
            "full_name": full,
            "links": links,
            "name": repository.name,
            "slug": repository.slug,
            "description": "",
            "scm": "git",
            "website": None,
            "owner": {
                "display_name": owner.capitalize(),
                "links": {
                    "self": _link(self.api(f"workspaces/{owner}")),
                    "avatar": _link(self.web(f"workspaces/{owner}/avatar/")),
                    "html": _link(self.web(f"{owner}/")),
                },
                "type": "team",
                "uuid": workspace_uuid,
                "username": owner,
            },
            "workspace": {
                "type": "workspace",
                "uuid": workspace_uuid,
                "name": owner.capitalize(),
                "slug": owner,
                "links": {
                    "avatar": _link(self.web(f"workspaces/{owner}/avatar/")),
                    "html": _link(self.web(f"{owner}/")),
                    "self": _link(self.api(f"workspaces/{owner}")),
                },
            },
            "is_private": True,
            "project": {
                "type": "project",
                "key": repository.project_key,
                "uuid": stable_uuid("project", owner),
                "name": owner.capitalize(),
                "links": {
                    "html": _link(self.web(f"{owner}/workspace/projects/{repository.project_key}")),
                    "avatar": _link(self.web(f"{owner}/workspace/projects/avatar/32")),
                },
            },
            "fork_policy": "no_public_forks",
            "created_on": cloud_time(repository.created),
            "updated_on": cloud_time(repository.created),
            "size": 1024,
            "language": "",
            "uuid": repository.uuid,
            "mainbranch": {"name": repository.main_branch, "type": "branch"},
            "has_wiki": False,
            "has_issues": False,
        }

    # -- pull requests ---------------------------------------------------------------------------

    def commit(self, repository: Repository, commit: str, *, full: bool = False) -> Json:
        shown = commit if full else commit[:SHORT_HASH]
        return {
            "hash": shown,
            "type": "commit",
            "links": {
                "self": _link(self.api(f"repositories/{repository.full_name}/commit/{shown}")),
                "html": _link(self.web(f"{repository.full_name}/commits/{shown}")),
            },
        }

    def merge_commit(self, pr: PullRequest, *, full: bool) -> Json | None:
        """``{"hash": ...}`` as the spec declares it (no capture shows a merged pull request)."""
        if pr.merge_commit is None:
            return None
        return {"hash": pr.merge_commit if full else pr.merge_commit[:SHORT_HASH]}

    def _endpoint(self, repository: Repository, branch: str, commit: str) -> Json:
        return {
            "branch": {"name": branch},
            "commit": self.commit(repository, commit),
            "repository": self.repository_summary(repository),
        }

    def participant(self, pr: PullRequest, name: str) -> Json:
        verdict = pr.verdicts.get(name)
        when = pr.participated.get(name)
        return {
            "type": "participant",
            "user": self.account_named(name),
            "role": "REVIEWER" if name in pr.reviewers else "PARTICIPANT",
            "approved": verdict == "approved",
            "state": verdict,
            "participated_on": cloud_time(when) if when else None,
        }

    def pull_request(
        self,
        repository: Repository,
        pr: PullRequest,
        *,
        full: bool = True,
        full_merge_hash: bool = False,
        with_people: bool | None = None,
    ) -> Json:
        """A pull request; ``full=False`` is the shape of a list item (no reviewers,
        participants or rendered text unless ``with_people``, like ``fields=+values.reviewers``)."""
        source, destination = current_commits(repository, pr)
        api = self.api(f"repositories/{repository.full_name}/pullrequests/{pr.id}")
        spec = f"{repository.full_name}:{source[:SHORT_HASH]}%0D{destination[:SHORT_HASH]}"
        diff_query = f"?from_pullrequest_id={pr.id}"
        diff_base = self.api(f"repositories/{repository.full_name}")
        body: Json = {
            "comment_count": len(pr.comments),
            "task_count": 0,
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "description": pr.description,
        }
        if full:
            body["rendered"] = {
                "title": rendered(pr.title),
                "description": rendered(pr.description),
            }
        body.update(
            state=pr.state,
            draft=pr.draft,
            author=self.account_named(pr.author),
            source=self._endpoint(repository, pr.source, source),
            destination=self._endpoint(repository, pr.destination, destination),
            merge_commit=self.merge_commit(pr, full=full_merge_hash),
            close_source_branch=pr.close_source_branch,
            closed_by=self.account_named(pr.closed_by) if pr.closed_by else None,
            reason=pr.reason,
            created_on=cloud_time(pr.created),
            updated_on=cloud_time(pr.updated),
        )
        if full if with_people is None else with_people:
            body["reviewers"] = [self.account_named(name) for name in pr.reviewers]
            body["participants"] = [self.participant(pr, name) for name in pr.participants]
        body["links"] = {
            "self": _link(api),
            "html": _link(self.web(f"{repository.full_name}/pull-requests/{pr.id}")),
            "commits": _link(f"{api}/commits"),
            "approve": _link(f"{api}/approve"),
            "diff": _link(f"{diff_base}/diff/{spec}{diff_query}"),
            "diffstat": _link(f"{diff_base}/diffstat/{spec}{diff_query}"),
            "comments": _link(f"{api}/comments"),
            "activity": _link(f"{api}/activity"),
            "merge": _link(f"{api}/merge"),
            "decline": _link(f"{api}/decline"),
        }
        body["summary"] = rendered(pr.description)
        return body

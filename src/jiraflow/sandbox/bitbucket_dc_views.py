"""How the Bitbucket sandbox renders its state as Bitbucket Data Center REST 1.0 JSON.

Key names, nesting and JSON types follow captured Bitbucket Server responses
(tests/data/reference/bitbucket-server/) and the Data Center 9.4 OpenAPI spec. Two members no
capture shows come from the spec (``draft`` and ``type`` of a ref); ``properties.mergeCommit``
of a merged pull request is from real merged pull requests seen in public code.
Timestamps are epoch milliseconds; commit ids are full, ``displayId`` of a commit is 11 chars.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from jiraflow.sandbox.bitbucket_model import (
    Account,
    BitbucketState,
    Json,
    PullRequest,
    Repository,
    fake_hash,
)
from jiraflow.sandbox.bitbucket_pulls import current_commits, has_conflicts

DISPLAY_ID_LENGTH = 11


def epoch_millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def branch_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


@dataclass(frozen=True)
class DataCenterView:
    base: str  # the server; the REST API is under /rest/api/1.0
    state: BitbucketState

    def user(self, account: Account) -> Json:
        return {
            "name": account.name,
            "emailAddress": account.email,
            "id": account.dc_id,
            "displayName": account.display_name,
            "active": True,
            "slug": account.slug,
            "type": "NORMAL",
            "links": {"self": [{"href": f"{self.base}/users/{account.slug}"}]},
        }

    def user_named(self, name: str) -> Json:
        return self.user(self.state.account(name))

    def project_id(self, key: str) -> int:
        keys = sorted({r.project_key for r in self.state.repositories.values()})
        return keys.index(key) + 1 if key in keys else 0

    def project(self, repository: Repository) -> Json:
        key = repository.project_key
        return {
            "key": key,
            "id": self.project_id(key),
            "name": key.capitalize(),
            "public": False,
            "type": "NORMAL",
            "links": {"self": [{"href": f"{self.base}/projects/{key}"}]},
        }

    def repository(self, repository: Repository) -> Json:
        key, slug = repository.project_key, repository.slug
        host = self.base.split("://", 1)[-1].split(":")[0]
        return {
            "slug": slug,
            "id": repository.dc_id,
            "name": repository.name,
            "hierarchyId": fake_hash("hierarchy", repository.full_name.lower())[:20],
            "scmId": "git",
            "state": "AVAILABLE",
            "statusMessage": "Available",
            "forkable": True,
            "project": self.project(repository),
            "public": False,
            "links": {
                "clone": [
                    {"href": f"ssh://git@{host}:7999/{key.lower()}/{slug}.git", "name": "ssh"},
                    {"href": f"{self.base}/scm/{key.lower()}/{slug}.git", "name": "http"},
                ],
                "self": [{"href": f"{self.base}/projects/{key}/repos/{slug}/browse"}],
            },
        }

    def minimal_ref(self, branch: str) -> Json:
        return {"id": branch_ref(branch), "displayId": branch, "type": "BRANCH"}

    def branch(self, branch: str, commit: str, *, default: bool) -> Json:
        return {
            **self.minimal_ref(branch),
            "latestCommit": commit,
            "latestChangeset": commit,
            "isDefault": default,
        }

    def ref(self, repository: Repository, branch: str, commit: str) -> Json:
        return {
            "id": branch_ref(branch),
            "displayId": branch,
            "latestCommit": commit,
            "type": "BRANCH",
            "repository": self.repository(repository),
        }

    def participant(self, pr: PullRequest, name: str) -> Json:
        verdict = pr.verdicts.get(name)
        if name == pr.author:
            role = "AUTHOR"
        elif name in pr.reviewers:
            role = "REVIEWER"
        else:
            role = "PARTICIPANT"
        body: Json = {"user": self.user_named(name)}
        if name in pr.reviewed_commit and role != "AUTHOR":
            body["lastReviewedCommit"] = pr.reviewed_commit[name]
        status = {"approved": "APPROVED", "changes_requested": "NEEDS_WORK"}.get(verdict or "")
        body.update(role=role, approved=verdict == "approved", status=status or "UNAPPROVED")
        return body

    def pull_request(self, repository: Repository, pr: PullRequest) -> Json:
        source, destination = current_commits(repository, pr)
        body: Json = {"id": pr.id, "version": pr.version, "title": pr.title}
        if pr.description:
            body["description"] = pr.description
        body.update(
            state=pr.state,
            open=pr.is_open,
            closed=not pr.is_open,
            draft=pr.draft,
            createdDate=epoch_millis(pr.created),
            updatedDate=epoch_millis(pr.updated),
        )
        if pr.closed is not None:
            body["closedDate"] = epoch_millis(pr.closed)
        body.update(
            fromRef=self.ref(repository, pr.source, source),
            toRef=self.ref(repository, pr.destination, destination),
            locked=False,
            author=self.participant(pr, pr.author),
            reviewers=[self.participant(pr, name) for name in pr.reviewers],
            participants=[
                self.participant(pr, name)
                for name in pr.participants
                if name not in pr.reviewers and name != pr.author
            ],
            properties=self._properties(repository, pr),
            links={"self": [{"href": self.pull_request_url(repository, pr)}]},
        )
        return body

    def pull_request_url(self, repository: Repository, pr: PullRequest) -> str:
        where = f"projects/{repository.project_key}/repos/{repository.slug}"
        return f"{self.base}/{where}/pull-requests/{pr.id}"

    def _properties(self, repository: Repository, pr: PullRequest) -> Json:
        properties: Json = {}
        if pr.is_open:
            outcome = "CONFLICTED" if has_conflicts(repository, pr) else "CLEAN"
            properties["mergeResult"] = {"outcome": outcome, "current": True}
        properties.update(resolvedTaskCount=0, openTaskCount=0)
        if pr.merge_commit is not None:
            properties["mergeCommit"] = {
                "displayId": pr.merge_commit[:DISPLAY_ID_LENGTH],
                "id": pr.merge_commit,
            }
        return properties

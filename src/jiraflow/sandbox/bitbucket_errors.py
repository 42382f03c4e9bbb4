"""How each flavour words a refusal: status codes, messages, exception names, extra members.

Where the wording is known from real answers (captured in public code and issue threads) it is
copied; where it is not, the comment says so. Clients should key on status codes, Cloud's
``error.fields`` names and Data Center's ``exceptionName``, not on message text.

Cloud (all 400, ``{"type": "error", "error": {"message", "fields"?}}``):

* missing branch: ``source: branch not found: NAME`` with ``fields.source`` (real)
* reviewers: ``fields.reviewers`` = ``["Alice Example is the author and cannot be included as a
  reviewer."]`` (real) or ``["Malformed reviewers list"]`` for an unknown one (real)
* no changes: ``There are no changes to be pulled`` (real)
* closed: ``fields.newstatus`` = ``["This pull request is already closed."]`` (real)
* conflict: ``You can't merge until you resolve all merge conflicts.`` (real)
* fast-forward impossible: ``Unable to fast forward due to changes in the destination branch.``
  (real)

Data Center (``{"errors": [{"context", "message", "exceptionName", ...}]}``):

* missing branch: 404 ``Repository "shop" of project with key "ACME" has no branch "NAME"``
  (real message; the exception name NoSuchBranchException is a guess)
* duplicate: 409 DuplicatePullRequestException, ``existingPullRequest`` (real)
* reviewers: 409 InvalidPullRequestReviewersException, context ``reviewers``, ``reviewerErrors``
  of ``{context: name, message, exceptionName: null}`` (real shape; the author's message is a
  guess, ``NAME is not a user.`` is real)
* no changes: 409 EmptyPullRequestException ``Branch "X" is already up-to-date with branch "Y"
  in repository "shop".`` (the "is already up-to-date with branch" part is real)
* closed: 409 IllegalPullRequestStateException (message a guess)
* conflict: 409 PullRequestMergeVetoedException, ``conflicted: true``, ``vetoes: []`` (real)
* fast-forward impossible: 409 PullRequestMergeVetoedException with one veto (a guess)
* stale version: 409 PullRequestOutOfDateException with currentVersion/expectedVersion (real)
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from jiraflow.sandbox.bitbucket_http import ApiError, field_error
from jiraflow.sandbox.bitbucket_model import Json, PullRequest, Repository
from jiraflow.sandbox.bitbucket_pulls import Refusal

DC_EXCEPTION_PACKAGE = "com.atlassian.bitbucket."
ALREADY_CLOSED = "This pull request is already closed."


def cloud_refusal(refusal: Refusal) -> ApiError:
    details = refusal.details
    if refusal.code == "missing_branch":
        return field_error(details["side"], f"branch not found: {details['branch']}")
    if refusal.code == "reviewers":
        messages = [
            f"{p.account.display_name} is the author and cannot be included as a reviewer."
            if p.problem == "author"
            else "Malformed reviewers list"
            for p in details["problems"]
        ]
        return field_error("reviewers", *dict.fromkeys(messages))
    if refusal.code == "closed":
        return field_error("newstatus", ALREADY_CLOSED)
    message = {
        "no_changes": "There are no changes to be pulled",
        "conflict": "You can't merge until you resolve all merge conflicts.",
        "not_fast_forward": "Unable to fast forward due to changes in the destination branch.",
        "own": "You can't approve or request changes on your own pull request.",  # a guess
    }.get(refusal.code, str(refusal))
    return ApiError(HTTPStatus.BAD_REQUEST, message)


def dc_error(status: int, exception: str | None, message: str, **extra: Any) -> ApiError:
    """A Data Center error; ``exception`` is relative to com.atlassian.bitbucket."""
    name = None if exception is None else DC_EXCEPTION_PACKAGE + exception
    context = extra.pop("context", None)
    return ApiError(status, message, exception=name, context=context, extra=extra)


def dc_missing_branch(repository: Repository, branch: str) -> ApiError:
    return dc_error(
        HTTPStatus.NOT_FOUND,
        "repository.NoSuchBranchException",
        f'Repository "{repository.slug}" of project with key "{repository.project_key}" '
        f'has no branch "{branch}"',
    )


def dc_out_of_date(pr: PullRequest, expected: int) -> ApiError:
    return dc_error(
        HTTPStatus.CONFLICT,
        "pull.PullRequestOutOfDateException",
        "You are attempting to modify a pull request based on out-of-date information.",
        currentVersion=pr.version,
        expectedVersion=expected,
    )


def dc_refusal(
    refusal: Refusal, repository: Repository, render: Callable[[PullRequest], Json]
) -> ApiError:
    details = refusal.details
    conflict = HTTPStatus.CONFLICT
    vetoed = "pull.PullRequestMergeVetoedException"
    if refusal.code == "missing_branch":
        return dc_missing_branch(repository, details["branch"])
    if refusal.code == "duplicate":
        message = "Only one pull request may be open for a given source and target branch"
        return dc_error(
            conflict,
            "pull.DuplicatePullRequestException",
            message,
            existingPullRequest=render(details["existing"]),
        )
    if refusal.code == "reviewers":
        problems = [
            {
                "context": p.identifier,
                "message": f"{p.identifier} is not a user.",
                "exceptionName": None,
            }
            if p.account is None
            else {
                "context": p.account.name,
                "message": f"{p.account.name} is the author and cannot review this pull request.",
                "exceptionName": None,
            }
            for p in details["problems"]
        ]
        return dc_error(
            conflict,
            "pull.InvalidPullRequestReviewersException",
            "Errors encountered while adding some reviewers to this pull request.",
            context="reviewers",
            reviewerErrors=problems,
            validReviewers=[],
        )
    if refusal.code == "no_changes":
        return dc_error(conflict, "pull.EmptyPullRequestException", str(refusal))
    if refusal.code == "closed":
        return dc_error(
            conflict,
            "pull.IllegalPullRequestStateException",
            f"The pull request is already {details['state'].lower()}.",
        )
    if refusal.code == "own":  # the wording and exception name are the sandbox's guess
        return dc_error(
            conflict,
            "pull.IllegalPullRequestStateException",
            "The author of a pull request cannot approve it or mark it as needing work.",
        )
    if refusal.code == "conflict":
        return dc_error(
            conflict,
            vetoed,
            "The pull request has conflicts and cannot be merged.",
            conflicted=True,
            vetoes=[],
        )
    veto = {
        "summaryMessage": "Fast-forward not possible",
        "detailedMessage": "The target branch has commits that are not on the source branch.",
    }
    return dc_error(
        conflict,
        vetoed,
        "Merging the pull request has been vetoed.",
        conflicted=False,
        vetoes=[veto],
    )

"""Local simulators of the services jiraflow talks to, serving real HTTP on 127.0.0.1.

Tests run jiraflow against them over the network stack instead of mocking clients, and
``jiraflow sandbox serve`` / ``jiraflow demo`` use them to show the whole flow with no account.
Standard library only, so that importing the package stays fast.
"""

from jiraflow.sandbox.bitbucket import BitbucketSandbox
from jiraflow.sandbox.jira import JiraSandbox
from jiraflow.sandbox.server import RequestRecord

__all__ = ["BitbucketSandbox", "JiraSandbox", "RequestRecord"]

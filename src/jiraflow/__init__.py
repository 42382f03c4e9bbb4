"""jiraflow: Gitflow for teams on Jira and Bitbucket."""

__version__ = "0.1.0"

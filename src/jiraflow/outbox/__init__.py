"""The Jira updates jiraflow owes: one class per kind of remote action (actions.py), and the
outbox file that keeps them until they are delivered (box.py). Above jira/: an action is
delivered through the Tracker; nothing in jira/ knows of actions."""

"""The Gitflow engine: the branch model, plans for each command, and the journal."""

"""`jiraflow completion bash|zsh|fish`: print the shell's completion script."""

from __future__ import annotations

import click

from jiraflow.cli import CONTEXT_SETTINGS

INSTALL = {
    "bash": 'eval "$(jiraflow completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(jiraflow completion zsh)"    # in ~/.zshrc',
    "fish": "jiraflow completion fish > ~/.config/fish/completions/jiraflow.fish",
}


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("shell", type=click.Choice(sorted(INSTALL)))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  eval "$(jiraflow completion bash)"   (in ~/.bashrc)
    zsh:   eval "$(jiraflow completion zsh)"    (in ~/.zshrc)
    fish:  jiraflow completion fish > ~/.config/fish/completions/jiraflow.fish
    """
    from click.shell_completion import get_completion_class

    from jiraflow.cli import cli

    cls = get_completion_class(shell)
    assert cls is not None  # the Choice above only lets known shells through
    script = cls(cli, {}, "jiraflow", "_JIRAFLOW_COMPLETE").source()
    click.echo(script)

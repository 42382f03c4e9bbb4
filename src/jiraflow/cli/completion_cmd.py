"""`jiraflow completion bash|zsh|fish`: print the shell's completion script."""

from __future__ import annotations

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

# click's fish script splits each answer at every comma, cutting an issue summary at its
# first one; split once: "plain,PROJ-12<TAB>Fix login, then logout" keeps its description.
FISH_FIX = ('(string split "," $completion)', '(string split -m 1 "," $completion)')

SHELLS = ("bash", "fish", "zsh")


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_obj
def completion(state: AppState, shell: str) -> None:
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
    # the script is the command's output, with --json too: `eval "$(jiraflow --json ...)"`
    state.renderer.raw(script.replace(*FISH_FIX) if shell == "fish" else script)

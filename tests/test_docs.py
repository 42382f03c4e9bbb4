"""The documentation covers what the code has."""

from __future__ import annotations

from pathlib import Path

from jiraflow.config import KEYS

DOCS = Path(__file__).parent.parent / "docs"


def test_every_config_key_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [key for key in KEYS if f"`{key}`" not in text]
    assert not missing, f"add these keys to docs/configuration.md: {missing}"


def test_every_exit_code_is_documented() -> None:
    text = (DOCS / "exit-codes.md").read_text()
    readme = (DOCS.parent / "README.md").read_text()
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 130):
        assert f"| {code} |" in readme
        assert str(code) in text


def test_the_readme_leads_with_the_demo_and_the_test_command() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    demo = readme.index("python3 -m pip install . && jiraflow demo")
    tests = readme.index("python3 -m pip install nox && python3 -m nox -s tests")
    assert demo < tests < readme.index("\n## ")
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert "python3 -m pip install --quiet nox && python3 -m nox -s tests" in ci


def test_the_pipelines_example_is_valid_yaml_running_real_commands() -> None:
    import re
    import shlex

    import click
    import yaml  # comes with pre-commit, a test dependency

    from jiraflow.cli import cli

    text = (DOCS / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    pipeline = yaml.safe_load(blocks[0])
    step = pipeline["pipelines"]["pull-requests"]["**"][0]["step"]
    assert step["clone"]["depth"] == "full"
    commands = [line for line in step["script"] if line.startswith("jiraflow ")]
    assert commands == ["jiraflow check pr"]
    for block in blocks[1:]:
        commands += [
            line.lstrip("- ").split("#")[0].strip()
            for line in block.splitlines()
            if line.strip().startswith("- jiraflow ")
        ]
    for command in commands:
        group_name, name, *rest = shlex.split(command)[1:]
        group = cli.get_command(click.Context(cli), group_name)
        assert isinstance(group, click.Group), command
        sub = group.get_command(click.Context(group), name)
        assert sub is not None, command
        sub.make_context(name, rest)  # the arguments parse

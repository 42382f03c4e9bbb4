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

"""Configuration layers, `config show|get|set`, and the errors that name file and key."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from gitutil import Repo


def user_file(home: Path) -> Path:
    return home / ".config" / "jiraflow" / "config.toml"


def test_every_layer_and_its_source(repo: Repo, run, isolated_env: Path, monkeypatch) -> None:
    uf = user_file(isolated_env)
    uf.parent.mkdir(parents=True)
    uf.write_text(
        '[finish]\npush = true\nkeep = true\nfetch = true\n[release]\ntag_message = "user"\n'
    )
    (repo.path / ".jiraflow.toml").write_text(
        '[finish]\nkeep = false\nfetch = false\n[gitflow.prefix]\nfeature = "feat/"\n'
    )
    repo.git("config", "gitflow.prefix.feature", "f/")
    monkeypatch.setenv("JIRAFLOW_FINISH_FETCH", "yes")
    shown = json.loads(run(repo, "--json", "config", "show").out)
    assert shown["finish.no_ff"] == {"value": False, "source": "default"}
    assert shown["finish.push"] == {"value": True, "source": str(uf)}
    assert shown["finish.keep"] == {"value": False, "source": ".jiraflow.toml"}
    assert shown["gitflow.prefix.feature"] == {
        "value": "f/",
        "source": "git config gitflow.prefix.feature",
    }
    assert shown["finish.fetch"] == {"value": True, "source": "environment JIRAFLOW_FINISH_FETCH"}
    text = run(repo, "config", "show").out
    assert "finish.keep" in text and "(.jiraflow.toml)" in text


def test_layers_change_behaviour(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text("[finish]\nkeep = true\n")
    run(repo, "feature", "start", "x")
    repo.commit()
    assert run(repo, "feature", "finish").code == 0
    assert repo.exists("refs/heads/feature/x")  # kept, as configured


def test_jiraflow_config_names_the_user_file(repo: Repo, run, monkeypatch, tmp_path) -> None:
    custom = tmp_path / "team.toml"
    custom.write_text('[hotfix]\ntag_message = "HF {version}"\n')
    monkeypatch.setenv("JIRAFLOW_CONFIG", str(custom))
    assert run(repo, "config", "get", "hotfix.tag_message").out.strip() == "HF {version}"


def test_get(repo: Repo, run) -> None:
    assert run(repo, "config", "get", "gitflow.develop").out == "develop\n"
    assert run(repo, "config", "get", "finish.push").out == "false\n"
    result = run(repo, "config", "get", "gitflow.nope")
    assert result.code == 3 and "unknown key 'gitflow.nope'" in result.err


def test_set_writes_toml_in_the_repository(repo: Repo, run) -> None:
    assert run(repo, "config", "set", "finish.push", "true").code == 0
    assert run(repo, "config", "set", "release.tag_message", "v{version}").code == 0
    data = tomllib.loads((repo.path / ".jiraflow.toml").read_text())
    assert data["finish"]["push"] is True
    assert data["release"]["tag_message"] == "v{version}"
    assert data["gitflow"]["develop"] == "develop"  # what init wrote is kept


def test_set_user(repo: Repo, run, isolated_env: Path) -> None:
    assert run(repo, "config", "set", "--user", "finish.keep", "on").code == 0
    assert tomllib.loads(user_file(isolated_env).read_text()) == {"finish": {"keep": True}}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("finish.push", "maybe", "'finish.push' must be true or false, not 'maybe'"),
        ("finish.pusj", "true", "unknown key 'finish.pusj'"),
        ("gitflow", "x", "unknown key 'gitflow'"),
    ],
)
def test_set_refuses(repo: Repo, run, key: str, value: str, message: str) -> None:
    before = (repo.path / ".jiraflow.toml").read_text()
    result = run(repo, "config", "set", key, value)
    assert result.code == 3 and message in result.err
    assert (repo.path / ".jiraflow.toml").read_text() == before


def test_set_warns_when_a_higher_layer_wins(repo: Repo, run) -> None:
    result = run(repo, "config", "set", "gitflow.develop", "dev")
    assert result.code == 0
    assert (
        "gitflow.develop is still develop: git config gitflow.branch.develop overrides it"
        in result.err
    )


def test_set_keeps_comments(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text("# team settings\n[finish]\npush = false\n")
    result = run(repo, "config", "set", "finish.push", "true")
    assert result.code == 0 and "comments were not kept" not in result.err
    assert (repo.path / ".jiraflow.toml").read_text() == "# team settings\n[finish]\npush = true\n"


def test_git_config_value_of_the_wrong_type_names_the_key(repo: Repo, run) -> None:
    repo.git("config", "gitflow.prefix.feature", "feat/")
    assert run(repo, "config", "get", "gitflow.prefix.feature").out == "feat/\n"
    # and the env layer type-checks booleans
    import os

    os.environ["JIRAFLOW_FINISH_KEEP"] = "sometimes"
    try:
        result = run(repo, "config", "show")
    finally:
        del os.environ["JIRAFLOW_FINISH_KEEP"]
    assert result.code == 3
    assert "environment JIRAFLOW_FINISH_KEEP: 'finish.keep' must be true or false" in result.err


def test_config_works_outside_a_repository(tmp_path, run) -> None:
    result = run(tmp_path, "config", "get", "gitflow.main")
    assert result.code == 0 and result.out == "main\n"


def test_a_zero_timeout_from_the_environment_is_a_config_error(
    repo,
    run,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_TIMEOUT", "0")
    result = run(repo, "config", "get", "bitbucket.timeout")
    assert result.code == 3
    assert "above 0" in result.err


# -- the parsed-file cache (start-up budget: no tomllib import for a file read before) --------
def test_a_config_file_is_parsed_again_only_when_its_bytes_change(
    repo: Repo, run, isolated_env: Path
) -> None:
    path = repo.path / ".jiraflow.toml"
    path.write_text(path.read_text() + "[finish]\nkeep = true\n")
    assert run(repo, "config", "get", "finish.keep").out.strip() == "true"
    cache = isolated_env / ".cache" / "jiraflow" / "parsed.marshal"
    assert cache.exists()
    path.write_text(path.read_text().replace("keep = true", "keep = false"))
    assert run(repo, "config", "get", "finish.keep").out.strip() == "false"  # never stale
    cache.write_bytes(b"\x00garbage")  # a broken cache is parsed around, then replaced
    assert run(repo, "config", "get", "finish.keep").out.strip() == "false"
    path.write_text(path.read_text() + "[check]\npattern = [\n")
    broken = run(repo, "config", "get", "finish.keep")
    assert broken.code == 3 and "not valid TOML" in broken.err


def test_a_file_refused_is_not_kept_in_the_cache(repo: Repo, run, isolated_env: Path) -> None:
    """A token put in a config file by mistake is refused, and not copied anywhere."""
    path = repo.path / ".jiraflow.toml"
    assert run(repo, "config", "get", "finish.keep").code == 0  # the file as it was: kept
    path.write_text(path.read_text() + '[jira]\ntoken = "s3cr3t-TOKEN"\n')
    result = run(repo, "config", "get", "finish.keep")
    assert result.code == 3 and "jira.token" in result.err
    cache = isolated_env / ".cache" / "jiraflow" / "parsed.marshal"
    assert cache.stat().st_mode & 0o077 == 0  # the user's alone
    assert b"s3cr3t-TOKEN" not in cache.read_bytes()


def test_a_toml_date_is_read_though_it_cannot_be_cached(tmp_path: Path) -> None:
    from jiraflow.config import read_toml

    path = tmp_path / "dated.toml"
    path.write_text("when = 2026-12-04\n")
    for _ in range(2):
        assert str(read_toml(str(path), check=lambda table: None)["when"]) == "2026-12-04"

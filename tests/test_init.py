"""`jiraflow init`: picks main like AVH, creates develop, adopts an AVH setup."""

from __future__ import annotations

import io
import tomllib

from gitutil import Repo, git


def file_config(repo: Repo) -> dict:
    return tomllib.loads((repo.path / ".jiraflow.toml").read_text())


def test_init_creates_develop_and_writes_both_configs(make_repo, run) -> None:
    repo = make_repo(init=False, remote=False)
    result = run(repo, "init", "--defaults")
    assert result.code == 0, result.err
    assert repo.branch() == "develop"
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "main")
    assert repo.git("config", "gitflow.branch.master") == "main"
    assert repo.git("config", "gitflow.branch.develop") == "develop"
    assert repo.git("config", "gitflow.prefix.feature") == "feature/"
    assert file_config(repo)["gitflow"]["main"] == "main"


def test_init_picks_master_like_avh(make_repo, run) -> None:
    repo = make_repo(init=False, remote=False)
    repo.git("branch", "-m", "main", "master")
    assert run(repo, "init", "-d").code == 0
    assert repo.git("config", "gitflow.branch.master") == "master"
    assert file_config(repo)["gitflow"]["main"] == "master"


def test_init_prefers_production_then_main_then_master(make_repo, run) -> None:
    repo = make_repo(init=False, remote=False)
    repo.git("branch", "master")
    repo.git("branch", "production")
    assert run(repo, "init", "-d").code == 0
    assert repo.git("config", "gitflow.branch.master") == "production"


def test_init_adopts_an_avh_setup_without_asking(make_repo, run) -> None:
    repo = make_repo(init=False, remote=False)
    repo.git("branch", "-m", "main", "trunk")
    repo.git("branch", "dev")
    for key, value in {
        "gitflow.branch.master": "trunk",
        "gitflow.branch.develop": "dev",
        "gitflow.prefix.feature": "feat/",
        "gitflow.prefix.versiontag": "v",
    }.items():
        repo.git("config", key, value)
    assert run(repo, "init").code == 0
    data = file_config(repo)
    assert data["gitflow"]["main"] == "trunk" and data["gitflow"]["develop"] == "dev"
    assert data["gitflow"]["prefix"]["feature"] == "feat/"
    assert data["gitflow"]["version_tag_prefix"] == "v"
    assert run(repo, "feature", "start", "x").code == 0
    assert repo.branch() == "feat/x"


def test_init_in_an_empty_repository_uses_the_unborn_branch(tmp_path, run) -> None:
    path = tmp_path / "empty"
    git(tmp_path, "init", "-q", "-b", "trunk", str(path))
    repo = Repo(path)
    assert run(repo, "init", "--defaults").code == 0
    assert repo.git("log", "--format=%s", "trunk") == "Initial commit"
    assert repo.branch() == "develop"
    assert repo.git("config", "gitflow.branch.master") == "trunk"


def test_init_tracks_develop_from_origin(make_repo, run, tmp_path) -> None:
    upstream = make_repo()  # has develop on its origin
    clone = Repo(tmp_path / "clone")
    git(tmp_path, "clone", "-q", upstream.git("remote", "get-url", "origin"), str(clone.path))
    assert run(clone, "init", "-d").code == 0
    assert clone.git("rev-parse", "--abbrev-ref", "develop@{upstream}") == "origin/develop"


def test_init_is_idempotent_and_force_rewrites(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text(
        '[gitflow]\nmain = "main"\ndevelop = "develop"\n# kept\n'
    )
    before = repo.snapshot()
    result = run(repo, "init", "-d")
    assert result.code == 0
    assert repo.snapshot() == before
    assert "# kept" in (repo.path / ".jiraflow.toml").read_text()
    assert run(repo, "init", "-d", "--force").code == 0
    assert "# kept" not in (repo.path / ".jiraflow.toml").read_text()


def test_init_dry_run(make_repo, run) -> None:
    repo = make_repo(init=False, remote=False)
    before = repo.snapshot()
    result = run(repo, "--dry-run", "init", "-d")
    assert result.code == 0
    assert "git branch --quiet --no-track develop main" in result.out
    assert "write .jiraflow.toml" in result.out
    assert repo.snapshot() == before
    assert not (repo.path / ".jiraflow.toml").exists()


def test_init_asks_on_a_terminal(make_repo, run, monkeypatch) -> None:
    repo = make_repo(init=False, remote=False)
    answers = io.StringIO("\nintegration\nfeat/\n\n\n\n\nv\n")
    answers.isatty = lambda: True  # type: ignore[method-assign]  # a TTY cannot be made real here
    monkeypatch.setattr("sys.stdin", answers)
    result = run(repo, "init")
    assert result.code == 0, result.err
    data = file_config(repo)
    assert data["gitflow"]["develop"] == "integration"
    assert data["gitflow"]["prefix"]["feature"] == "feat/"
    assert data["gitflow"]["version_tag_prefix"] == "v"
    assert repo.branch() == "integration"


def test_init_in_a_clone_whose_develop_has_the_team_file(make_repo, run, tmp_path) -> None:
    upstream = make_repo()
    upstream.git("checkout", "-q", "develop")
    (upstream.path / ".jiraflow.toml").write_text('[gitflow.prefix]\nfeature = "feat/"\n')
    upstream.git("add", ".jiraflow.toml")
    upstream.git("commit", "-q", "-m", "team config")
    upstream.git("push", "-q", "origin", "develop")
    clone = Repo(tmp_path / "clone")
    git(tmp_path, "clone", "-q", upstream.git("remote", "get-url", "origin"), str(clone.path))
    result = run(clone, "init", "-d")
    assert result.code == 0, result.err
    assert clone.branch() == "develop"
    assert clone.git("status", "--porcelain") == ""
    assert clone.git("config", "gitflow.prefix.feature") == "feat/"


def test_init_does_not_ask_when_avh_is_set_up(repo: Repo, run, monkeypatch) -> None:
    answers = io.StringIO("")
    answers.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", answers)
    result = run(repo, "init")
    assert result.code == 0, result.err
    assert "Branch for production" not in result.out

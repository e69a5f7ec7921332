"""`ralph config` and `ralph profiles` through a Typer app with only these commands registered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from ralph.cli import settings_cmds
from ralph.cli.runner import run_app
from ralph.settings import Settings


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """Test root."""

    settings_cmds.register(app)
    return app


def run(app: typer.Typer, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_app(app, list(args), prog_name="ralph")
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def configured(isolated_home: Path, git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    gpath = isolated_home / ".config" / "ralph" / "config.toml"
    gpath.parent.mkdir(parents=True)
    gpath.write_text(
        'model = "anthropic/claude-opus-4-6"\n'
        '[profiles.hybrid]\nmodel_build = "llamacpp/devstral"\nagent_build = "ralph-build"\n'
        "[profiles.opus]\nmax_iterations = 10\n"
    )
    (git_repo / "ralph").mkdir()
    (git_repo / "ralph" / "config.toml").write_text('[profiles.local]\nmodel = "sim/devstral-small-2"\n')
    monkeypatch.chdir(git_repo)
    return git_repo


def test_config_json_shows_values_and_sources(
    app: typer.Typer, configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(app, capsys, "config", "--json", "--profile", "opus")
    data = json.loads(out)
    assert code == 0
    assert data["max_iterations"] == {"value": 10, "source": "profile:opus"}
    assert data["model"]["value"] == "anthropic/claude-opus-4-6"
    assert data["model"]["source"].startswith("global:")
    assert data["max_failures"] == {"value": 3, "source": "default"}


def test_config_table_lists_every_key(
    app: typer.Typer, configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(app, capsys, "config")
    assert code == 0
    assert "max_rate_limit_wait_s" in out and "global:" in out


def test_config_reference_is_a_markdown_table_of_every_key(
    app: typer.Typer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(app, capsys, "config", "--reference")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "| Key | Type | Default | Meaning |"
    assert len(lines) == 2 + len(Settings.model_fields)
    assert "| `max_cost` | a number >= 0 | `0.0` | Cost limit per run in USD; 0 = off. |" in lines
    assert all(line.count(" | ") >= 3 for line in lines[2:])


def test_profiles_json_routes_and_local_stages(
    app: typer.Typer, configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(app, capsys, "profiles", "--json")
    found = {item["name"]: item for item in json.loads(out)}
    assert code == 0 and set(found) == {"hybrid", "opus", "local"}
    hybrid = found["hybrid"]
    assert hybrid["routes"]["build"] == {
        "backend": "opencode",
        "model": "llamacpp/devstral",
        "agent": "ralph-build",
        "is_local": True,
    }
    assert hybrid["local_stages"] == ["build"]
    assert len(found["local"]["local_stages"]) == 6


def test_profiles_table_and_single_profile(
    app: typer.Typer, configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(app, capsys, "profiles", "--profile", "hybrid")
    assert code == 0 and "profile hybrid" in out and "profile opus" not in out and "local" in out


def test_unknown_profile_is_one_line_exit_2(
    app: typer.Typer, configured: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(app, capsys, "profiles", "--profile", "nope")
    assert code == 2 and out == ""
    assert err == "error: unknown profile 'nope' (known: hybrid, local, opus)\n"


def test_bad_config_is_one_line_exit_2(
    app: typer.Typer,
    isolated_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gpath = isolated_home / ".config" / "ralph" / "config.toml"
    gpath.parent.mkdir(parents=True)
    gpath.write_text("max_iterations = true\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(app, capsys, "config")
    assert code == 2
    assert err == f"error: {gpath}: key 'max_iterations': expected an integer >= 0, got True\n"


def test_works_outside_a_repo(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(app, capsys, "profiles", "--json")
    assert code == 0 and json.loads(out)[0]["name"] == "default"

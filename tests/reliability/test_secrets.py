"""Secrets never reach what Ralph writes. Fake keys are planted in the environment (API keys, a token, a
password), in the repo's ralph/config.toml (an agent argv flag, a provider URL password) and in the global
config. Then a construct runs whose BUILD agent (which gets the API keys Ralph passes to agents) prints its
whole environment and prompt, 2 MB of it, so the output spills; `ralph status` and `ralph log` read the
ledger; and the whole bench pipeline runs on the same target. Every file below the test folder and the home
folder is searched for the marker, and so are the commits Ralph made and everything the commands printed;
only the config files we planted it in may hold it. A config error shows a bad value redacted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.reliability.harness import (
    SPEC,
    build_by,
    copy_repo,
    fake_opencode,
    finish,
    git,
    ralph,
    read_state,
    start_construct,
)
from tests.reliability.hostile import block

from ralph.agents.base import AgentEvent, EventKind
from ralph.loop.live import ActivitySink
from ralph.loop.secrets import SecretMask
from ralph.scenarios import create_scenario

MARKER = b"PLANTED"
ENV_SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-PLANTED-env-anthropic-0001",
    "OPENAI_API_KEY": "sk-PLANTED-env-openai-0002",
    "GITHUB_TOKEN": "ghp_PLANTEDenvgithub0003",
    "DEPLOY_PASSWORD": "PLANTED-env-password-0004",
}
REPO_CONFIG_TOP = 'acp_command = ["acp-agent", "--api-key", "sk-ant-PLANTED-cfg-acp-0005"]\n'
REPO_CONFIG_TABLE = (
    '\n[providers.vendor]\nbase_url = "https://user:PLANTED-cfg-url-0006@api.example.com/v1"\n'
)
GLOBAL_CONFIG = '[profiles.opus]\nacp_command = ["agent", "--token=PLANTED-global-0007"]\n'
BLOCKED = block('{"verdict": "blocked", "summary": "stuck", "reason": "stuck"}')


def plant_in_repo(repo: Path) -> str:
    """Put secrets in ralph/config.toml and commit them (as a user would); the commit Ralph starts from."""
    config = repo / "ralph" / "config.toml"
    config.write_text(REPO_CONFIG_TOP + config.read_text() + REPO_CONFIG_TABLE)
    git(repo, "commit", "-qam", "config with provider credentials")
    return git(repo, "rev-parse", "HEAD").strip()


def leaks(folder: Path, allowed: set[Path]) -> list[str]:
    """Files below ``folder`` holding the marker (git object stores are searched through git instead; raw
    agent output spilled by the backend is checked by its own test)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not {".git", "spill"} & set(p.parts)]
    return [str(path) for path in files if path not in allowed and MARKER in path.read_bytes()]


def test_spilled_agent_output_holds_no_credentials(
    planned_template: Callable[[str], Path], tmp_path: Path, isolated_home: Path
) -> None:
    _construct(planned_template("opus"), tmp_path)
    spilled = list(isolated_home.rglob("spill/*/*.log"))
    assert spilled
    assert [str(p) for p in spilled if MARKER in p.read_bytes()] == []


def commit_leaks(repo: Path, base: str) -> list[str]:
    """Lines of the commits after ``base`` (on every branch) that hold the marker, config file aside."""
    log = git(repo, "log", "-p", "--all", f"^{base}", "--", ".", ":!ralph/config.toml")
    return [line for line in log.splitlines() if MARKER.decode() in line]


def test_config_errors_show_bad_values_redacted(planned_repo: Callable[..., Path]) -> None:
    repo = planned_repo("opus")
    config = repo / "ralph" / "config.toml"
    config.write_text(config.read_text() + '\n[providers.bad]\napi_key = "sk-ant-PLANTED-bad-0009"\n')
    done = ralph(repo, "status")
    assert done.returncode == 2 and "providers.bad.api_key" in done.stderr
    assert MARKER.decode() not in done.stdout + done.stderr


def test_planted_keys_reach_no_file_commit_or_output(
    planned_template: Callable[[str], Path], tmp_path: Path, isolated_home: Path
) -> None:
    global_config = isolated_home / ".config" / "ralph" / "config.toml"
    global_config.parent.mkdir(parents=True)
    global_config.write_text(GLOBAL_CONFIG)
    repo_out, repo_base = _construct(planned_template("opus"), tmp_path)
    bench_out, target_base = _bench(tmp_path)
    allowed = {p for p in tmp_path.rglob("ralph/config.toml")} | {global_config}
    assert MARKER.decode() not in repo_out + bench_out
    assert leaks(tmp_path, allowed) == []
    assert leaks(isolated_home, allowed) == []
    assert commit_leaks(tmp_path / "repo", repo_base) == []
    cells = [p for p in (tmp_path / "target-experiments").rglob("*") if (p / ".git").is_file()]
    assert cells
    for cell in cells:
        assert commit_leaks(cell, target_base) == [], cell


def _construct(template: Path, tmp_path: Path) -> tuple[str, str]:
    """A construct whose BUILD agent prints its environment and prompt (2 MB: the output spills)."""
    repo = copy_repo(template, tmp_path / "repo")
    base = plant_in_repo(repo)
    filler: dict[str, Any] = {"text": "x" * 1023 + "\n", "repeat": 2048, "chunk": 64, "print_env": True}
    program = fake_opencode(tmp_path / "agent", {"build": [{**filler, "text": filler["text"] + BLOCKED}]})
    env = build_by(program, RALPH_OUTPUT_CAP_BYTES="1000000", **ENV_SECRETS)
    code, out = finish(start_construct(repo, "--max-iterations", "2", env=env, full_cli=True))
    assert code == 3, out
    assert list((tmp_path / "agent" / "prompts").iterdir())
    assert list((Path(repo_log_dir(repo)) / "spill").rglob("*.log"))
    status = ralph(repo, "status", env=ENV_SECRETS)
    log = ralph(repo, "log", env=ENV_SECRETS)
    return out + status.stdout + status.stderr + log.stdout + log.stderr, base


def repo_log_dir(repo: Path) -> str:
    """The log folder the last run used (its activity log is in ``<log_dir>/activity``)."""
    return str(Path(read_state(repo)["activity_log"]).parent.parent)


def _bench(tmp_path: Path) -> tuple[str, str]:
    """The whole bench pipeline on a target whose config holds the planted secrets."""
    target = create_scenario("c-runtime-refactor", tmp_path / "target").repo
    base = plant_in_repo(target)
    exp = tmp_path / "001-secrets"
    exp.mkdir()
    (exp / "experiment.toml").write_text(
        f'target_repo = "{target}"\nbase_ref = "ralph/work"\nspec = "{Path(SPEC).name}"\n'
        'profiles = ["opus"]\nreplicates = 1\nseed = 3\n[limits]\nmax_iterations = 2\n'
    )
    steps = [("setup",), ("plan",), ("run", "--all"), ("collect",), ("analyze", "--json"), ("report",)]
    outputs = ""
    for step in steps:
        done = ralph(tmp_path, "bench", step[0], str(exp), *step[1:], env=ENV_SECRETS)
        assert done.returncode == 0, (step, done.stdout[-2000:], done.stderr[-2000:])
        outputs += done.stdout + done.stderr
    assert list(exp.rglob("*.html")), "the bench report was not written"
    return outputs, base


def test_activity_log_masks_a_key_split_across_text_pieces(tmp_path: Path) -> None:
    key = ENV_SECRETS["ANTHROPIC_API_KEY"]
    sink = ActivitySink(tmp_path / "activity.log", SecretMask([key]))
    long_line = "y" * 395 + key + " and more"
    for start in range(0, len(long_line), 7):
        sink.emit(AgentEvent(EventKind.TEXT, text=long_line[start : start + 7]))
    sink.emit(AgentEvent(EventKind.TEXT, text=f"\nthe key is {key[:20]}" + f"{key[20:]}\n"))
    sink.close()
    written = (tmp_path / "activity.log").read_text()
    assert "PLANTED" not in written and written.count("***") == 2

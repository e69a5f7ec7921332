"""snapshot(): resolved values as JSON, credentials redacted, counts kept."""

from __future__ import annotations

import json
from pathlib import Path

from ralph.settings import load_settings
from ralph.settings.redact import REDACTED, looks_like_secret_value, redact


def test_snapshot_is_json_and_complete(isolated_home: Path) -> None:
    snap = load_settings(None).snapshot()
    assert json.loads(json.dumps(snap)) == snap
    assert snap["max_tokens"] == 0
    assert snap["log_dir"] == str(isolated_home / ".local" / "state" / "ralph" / "logs")
    assert snap["sim_models"]["sim/devstral-small-2"] == {"local": True}


def test_snapshot_redacts_credentials(isolated_home: Path) -> None:
    path = isolated_home / ".config" / "ralph" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        'acp_command = ["agent", "--api-key", "abc123", "--token=xyz", "OPENAI_API_KEY=sk-live"]\n'
        'format_command = "sk-ant-api03-abcdef"\n'
        '[providers.p]\nbase_url = "https://user:hunter2@example.com/v1"\n'
        '[sim_models."sim/x"]\napi_key = "plain"\nmax_tokens = 100\n'
    )
    snap = load_settings(None).snapshot()
    assert snap["acp_command"] == [
        "agent",
        "--api-key",
        REDACTED,
        f"--token={REDACTED}",
        f"OPENAI_API_KEY={REDACTED}",
    ]
    assert snap["format_command"] == REDACTED
    assert snap["providers"]["p"]["base_url"] == f"https://user:{REDACTED}@example.com/v1"
    assert snap["sim_models"]["sim/x"] == {"api_key": REDACTED, "max_tokens": 100}
    assert "hunter2" not in json.dumps(snap) and "abc123" not in json.dumps(snap)


def test_top_level_names_are_never_redacted() -> None:
    assert redact({"max_tokens": 5, "secret": "x"}) == {"max_tokens": 5, "secret": "x"}
    assert redact({"t": {"secret": "x"}}) == {"t": {"secret": REDACTED}}


def test_secret_value_shapes() -> None:
    for value in ["sk-abc", "ghp_123", "Bearer abc", "AKIAABCDEF", "-----BEGIN RSA PRIVATE KEY-----"]:
        assert looks_like_secret_value(value), value
    for value in ["opencode", "ask-me", "anthropic/claude-opus-4-6", "make test"]:
        assert not looks_like_secret_value(value), value

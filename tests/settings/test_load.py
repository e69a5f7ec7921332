"""load_settings: layer order, sources, legacy sections, profiles, env, flags, file/key/type errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ralph.errors import ConfigError
from ralph.settings import UNSET, Settings, flag_overrides, load_settings


def global_file(home: Path, text: str) -> Path:
    path = home / ".config" / "ralph" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def repo_file(repo: Path, text: str) -> Path:
    path = repo / "ralph" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "target"
    path.mkdir()
    return path


def test_defaults_without_files(isolated_home: Path) -> None:
    settings = load_settings(None)
    assert settings.max_iterations == 50
    assert settings.max_wall_time_s == 3600
    assert settings.backend == "opencode"
    assert settings.local_providers == ["llamacpp", "ollama", "vllm", "lmstudio", "local"]
    assert settings.log_dir == isolated_home / ".local" / "state" / "ralph" / "logs"
    assert settings.push is False and settings.commit is True
    assert settings.source_of("max_iterations") == "default"
    assert settings.profile == "default"


def test_each_layer_overrides_the_one_below(
    isolated_home: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpath = global_file(
        isolated_home,
        "max_iterations = 1\nmax_failures = 1\nmax_tokens = 1\nmax_api_calls = 1\nmax_cost = 1.0\n"
        "[profiles.fast]\nmax_failures = 2\nmax_tokens = 2\nmax_api_calls = 2\nmax_cost = 2.0\n",
    )
    rpath = repo_file(repo, "max_tokens = 3\nmax_api_calls = 3\nmax_cost = 3.0\n")
    monkeypatch.setenv("RALPH_MAX_API_CALLS", "4")
    monkeypatch.setenv("RALPH_MAX_COST", "4.5")
    settings = load_settings(repo, profile="fast", overrides={"max_cost": 5})
    assert (settings.max_iterations, settings.source_of("max_iterations")) == (1, f"global:{gpath}")
    assert (settings.max_failures, settings.source_of("max_failures")) == (2, "profile:fast")
    assert (settings.max_tokens, settings.source_of("max_tokens")) == (3, f"repo:{rpath}")
    assert (settings.max_api_calls, settings.source_of("max_api_calls")) == (4, "env:RALPH_MAX_API_CALLS")
    assert (settings.max_cost, settings.source_of("max_cost")) == (5.0, "flag")
    assert settings.profile == "fast" and settings.source_of("profile") == "profile:fast"


def test_legacy_default_section_overlays_global_top_level(isolated_home: Path) -> None:
    global_file(isolated_home, 'model = "a/top"\nmax_iterations = 9\n[default]\nmodel = "a/legacy"\n')
    settings = load_settings(None)
    assert settings.model == "a/legacy"
    assert settings.max_iterations == 9


def test_xdg_config_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "elsewhere"
    (config / "ralph").mkdir(parents=True)
    (config / "ralph" / "config.toml").write_text("max_iterations = 77\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    assert load_settings(None).max_iterations == 77


def test_explicit_env_mapping_replaces_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RALPH_MAX_ITERATIONS", "5")
    settings = load_settings(None, env={"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "st")})
    assert settings.max_iterations == 50
    assert settings.log_dir == tmp_path / "st" / "ralph" / "logs"


def test_profile_from_env_and_merged_from_both_files(
    isolated_home: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    global_file(isolated_home, '[profiles.hybrid]\nmodel = "anthropic/claude-opus-4-6"\nmax_failures = 7\n')
    repo_file(repo, '[profiles.hybrid]\nmodel_build = "llamacpp/devstral"\nmax_failures = 8\n')
    monkeypatch.setenv("RALPH_PROFILE", "hybrid")
    settings = load_settings(repo)
    assert settings.profile == "hybrid"
    assert settings.model == "anthropic/claude-opus-4-6"
    assert settings.model_build == "llamacpp/devstral"
    assert settings.max_failures == 8
    assert settings.profiles()["hybrid"] == {
        "model": "anthropic/claude-opus-4-6",
        "model_build": "llamacpp/devstral",
        "max_failures": 8,
    }


def test_repo_top_level_beats_profile(isolated_home: Path, repo: Path) -> None:
    repo_file(repo, "max_failures = 4\n[profiles.p]\nmax_failures = 6\n")
    assert load_settings(repo, profile="p").max_failures == 4


def test_no_repo_means_no_repo_layer(isolated_home: Path, repo: Path) -> None:
    repo_file(repo, "max_failures = 4\n")
    assert load_settings(None).max_failures == 3


def test_unknown_profile_lists_known_ones(isolated_home: Path) -> None:
    global_file(isolated_home, "[profiles.b]\n[profiles.a]\n")
    with pytest.raises(ConfigError, match=r"^unknown profile 'x' \(known: a, b\)$"):
        load_settings(None, profile="x")


def test_default_profile_name_needs_no_table(isolated_home: Path) -> None:
    assert load_settings(None, profile="default").profile == "default"


def test_unknown_key_names_file_key_and_suggestion(isolated_home: Path) -> None:
    path = global_file(isolated_home, "max_iteration = 3\n")
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    assert str(err.value) == f"{path}: unknown key 'max_iteration' (did you mean 'max_iterations'?)"
    assert err.value.exit_code == 2


def test_wrong_type_names_file_key_and_expected_type(isolated_home: Path, repo: Path) -> None:
    path = repo_file(repo, 'max_iterations = "ten"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(repo)
    assert str(err.value) == f"{path}: key 'max_iterations': expected an integer >= 0, got 'ten'"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("commit = 1", "expected a boolean"),
        ('sandbox = "docker"', "expected one of 'auto', 'bwrap', 'none'"),
        ("context_kill_pct = 120", "expected a number from 0 to 100"),
        ('acp_command = "opencode acp"', "expected a list of strings"),
        ("local_providers = [1]", "key 'local_providers.0'"),
        ('backend = "codex"', "expected one of 'opencode', 'claude', 'acp', 'openai', 'sim'"),
    ],
)
def test_file_values_are_strictly_typed(isolated_home: Path, line: str, expected: str) -> None:
    path = global_file(isolated_home, line + "\n")
    with pytest.raises(ConfigError, match=str(path)) as err:
        load_settings(None)
    assert expected in str(err.value)


def test_nested_table_errors_name_the_path(isolated_home: Path) -> None:
    global_file(isolated_home, '[providers.llama]\nbase_url = "http://127.0.0.1:8080"\nlocal = "yes"\n')
    with pytest.raises(ConfigError, match=r"key 'providers\.llama\.local'"):
        load_settings(None)
    global_file(isolated_home, "[prices.x]\ninput = 1\nouput = 2\n")
    with pytest.raises(ConfigError, match=r"key 'prices\.x\.ouput'"):
        load_settings(None)


def test_profile_table_errors_name_the_profile(isolated_home: Path) -> None:
    global_file(isolated_home, "[profiles.p]\nmax_failures = -1\n")
    with pytest.raises(ConfigError, match=r"^profile 'p': key 'max_failures'"):
        load_settings(None, profile="p")


def test_invalid_toml_names_the_file(isolated_home: Path) -> None:
    path = global_file(isolated_home, "max_iterations = = 3\n")
    with pytest.raises(ConfigError, match=rf"^{path}: invalid TOML"):
        load_settings(None)


def test_profiles_section_must_hold_tables(isolated_home: Path) -> None:
    global_file(isolated_home, "profiles = 3\n")
    with pytest.raises(ConfigError, match="key 'profiles': expected a table"):
        load_settings(None)


def test_env_values_are_parsed_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RALPH_MAX_ITERATIONS", "12")
    monkeypatch.setenv("RALPH_PUSH", "true")
    monkeypatch.setenv("RALPH_LOCAL_PROVIDERS", "mybox, gpu2")
    monkeypatch.setenv("RALPH_ACP_COMMAND", "claude-agent-acp --flag 'a b'")
    monkeypatch.setenv("RALPH_PROVIDERS", '{"gpu": {"base_url": "http://10.0.0.5:8000", "local": true}}')
    monkeypatch.setenv("RALPH_LOG_DIR", "/tmp/ralph-ledger")
    settings = load_settings(None)
    assert settings.max_iterations == 12 and settings.push is True
    assert settings.local_providers == ["mybox", "gpu2"]
    assert settings.acp_command == ["claude-agent-acp", "--flag", "a b"]
    assert settings.providers["gpu"].local is True
    assert settings.log_dir == Path("/tmp/ralph-ledger")
    assert settings.source_of("log_dir") == "env:RALPH_LOG_DIR"


def test_bad_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RALPH_MAX_COST", "lots")
    with pytest.raises(ConfigError, match=r"^environment RALPH_MAX_COST: key 'max_cost': expected a number"):
        load_settings(None)


def test_unset_and_none_flags_never_hide_file_values(isolated_home: Path) -> None:
    global_file(isolated_home, "max_iterations = 8\nmax_failures = 2\n")
    settings = load_settings(None, overrides={"max_iterations": UNSET, "max_failures": None, "push": True})
    assert settings.max_iterations == 8 and settings.max_failures == 2
    assert settings.push is True and settings.source_of("push") == "flag"


def test_unknown_flag_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"^flag: unknown key 'max_iters'"):
        load_settings(None, overrides={"max_iters": 3})


def test_flag_overrides_translate_cli_names() -> None:
    given = {
        "max_wall_time": 120,
        "stage_timeout": 1.5,
        "no_commit": True,
        "push": UNSET,
        "max_cost": None,
        "max_iterations": 4,
    }
    assert flag_overrides(given) == {
        "max_wall_time_s": 120,
        "stage_timeout_ms": 1500,
        "commit": False,
        "max_iterations": 4,
    }
    assert flag_overrides({"no_commit": False}) == {}


def test_table_keys_merge_across_layers(isolated_home: Path, repo: Path) -> None:
    global_file(
        isolated_home,
        '[providers.a]\nbase_url = "http://a"\n[prices."m/x"]\ninput = 1\n'
        '[sim_models."sim/opus-4.6"]\nskill = 0.9\n',
    )
    repo_file(repo, '[providers.b]\nlocal = true\n[sim_models."sim/opus-4.6"]\nlocal = true\n')
    settings = load_settings(repo)
    assert set(settings.providers) == {"a", "b"}
    assert settings.sim_models["sim/opus-4.6"] == {"local": True, "skill": 0.9}
    assert settings.sim_models["sim/devstral-small-2"] == {"local": True}
    assert settings.prices["m/x"].input == 1


def test_home_in_log_dir_is_expanded(isolated_home: Path) -> None:
    global_file(isolated_home, 'log_dir = "~/ledger"\n')
    assert load_settings(None).log_dir == isolated_home / "ledger"


def test_ralph_dir_moves_the_repo_file(isolated_home: Path, repo: Path) -> None:
    global_file(isolated_home, 'ralph_dir = ".ralph"\n')
    (repo / ".ralph").mkdir()
    (repo / ".ralph" / "config.toml").write_text("max_failures = 9\n")
    assert load_settings(repo).max_failures == 9


EARLIER_KEYS = """
model = "anthropic/claude-opus-4-5"
model_build = "llamacpp/devstral"
model_verify = "anthropic/claude-sonnet-4-5"
model_investigate = ""
model_decompose = ""
model_plan = ""
agent = "ralph"
agent_build = "ralph-build"
agent_verify = "ralph-verify"
agent_investigate = ""
agent_decompose = ""
agent_plan = ""
agent_dedup = "ralph-dedup"
context_window = 128000
context_warn_pct = 70
context_compact_pct = 85
context_kill_pct = 95
stage_timeout_ms = 900000
iteration_timeout_ms = 900000
timeout_ms = 900000
max_failures = 3
max_iterations = 50
max_tokens = 0
max_wall_time_s = 7200
max_api_calls = 0
max_issues_per_spec = 10
max_decompose_depth = 3
max_retries_per_task = 3
issue_similarity_threshold = 0.8
verify_batch_size = 5
investigate_batch_size = 5
loop_detection_threshold = 3
max_identical_tool_calls = 5
progress_check_interval = 600
progress_stall_abort_s = 1200
emit_session_summary = true
commit_prefix = "ralph:"
recent_commits_display = 3
art_style = "braille"
dashboard_buffer_lines = 2000
format_command = "make fmt"
diff_max_bytes = 200000
use_acp = true
ralph_dir = "ralph"
log_dir = "/tmp/ralph-logs"
profile = "default"
"""


def test_every_earlier_key_is_accepted(isolated_home: Path) -> None:
    global_file(isolated_home, EARLIER_KEYS)
    settings = load_settings(None)
    assert settings.context_window == 128000
    assert settings.max_wall_time_s == 7200
    assert settings.agent_dedup == "ralph-dedup"
    assert settings.log_dir == Path("/tmp/ralph-logs")
    assert settings.format_command == "make fmt"


def test_every_field_has_a_docstring() -> None:
    missing = [key for key, info in Settings.model_fields.items() if not info.description]
    assert missing == []


def test_settings_are_frozen() -> None:
    settings = load_settings(None)
    with pytest.raises(ValueError):
        settings.max_iterations = 3  # type: ignore[misc]


def test_loading_does_not_touch_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    before = dict(os.environ)
    load_settings(None, profile=None)
    assert dict(os.environ) == before

"""Stage routing, local-vs-remote by endpoint, price lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from ralph.settings import ModelPrice, load_settings
from ralph.settings.endpoints import is_local_model, is_loopback_url
from ralph.settings.prices import find_price, normalise_model_id
from ralph.stage import Stage


def settings_from(home: Path, text: str, profile: str | None = None):  # type: ignore[no-untyped-def]
    path = home / ".config" / "ralph" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return load_settings(None, profile=profile)


def test_stage_models_fall_back_to_model(isolated_home: Path) -> None:
    s = settings_from(
        isolated_home,
        'model = "anthropic/claude-opus-4-6"\nmodel_build = "llamacpp/devstral"\n'
        'model_plan = "anthropic/claude-sonnet-4-5"\n',
    )
    assert s.route(Stage.BUILD).model == "llamacpp/devstral"
    assert s.route(Stage.PLAN).model == "anthropic/claude-sonnet-4-5"
    assert s.route(Stage.VERIFY).model == "anthropic/claude-opus-4-6"


def test_dedup_model_falls_back_to_investigate_then_model(isolated_home: Path) -> None:
    s = settings_from(isolated_home, 'model = "a/m"\nmodel_investigate = "a/inv"\n')
    assert s.route(Stage.DEDUP).model == "a/inv"
    s = settings_from(isolated_home, 'model = "a/m"\nmodel_investigate = "a/inv"\nmodel_dedup = "a/d"\n')
    assert s.route(Stage.DEDUP).model == "a/d"
    s = settings_from(isolated_home, 'model = "a/m"\n')
    assert s.route(Stage.DEDUP).model == "a/m"


def test_agent_and_backend_fall_back(isolated_home: Path) -> None:
    s = settings_from(
        isolated_home,
        'agent = "ralph"\nagent_verify = "ralph-ro"\nbackend = "claude"\nbackend_build = "opencode"\n',
    )
    build, verify, plan = s.route(Stage.BUILD), s.route(Stage.VERIFY), s.route(Stage.PLAN)
    assert (build.backend, build.agent) == ("opencode", "ralph")
    assert (verify.backend, verify.agent) == ("claude", "ralph-ro")
    assert plan.backend == "claude"
    assert settings_from(isolated_home, "").route(Stage.BUILD).agent is None


def test_complete_is_not_routed() -> None:
    with pytest.raises(ValueError, match="not routed"):
        load_settings(None).route(Stage.COMPLETE)


@pytest.mark.parametrize(
    ("model", "local"),
    [
        ("llamacpp/devstral", True),
        ("ollama/qwen3-coder", True),
        ("lmstudio/x", True),
        ("anthropic/claude-opus-4-6", False),
        ("claude-sonnet-4-5", False),
        ("openrouter/qwen", False),
        ("vllm:qwen", True),
        ("ollama:llama3", True),
        ("LOCAL:thing", True),
        ("http://localhost:8080/v1", True),
        ("x@127.0.0.1", True),
        ("sim/devstral-small-2", True),
        ("sim/opus-4.6", False),
        ("sim/sonnet-4.5", False),
        ("sim/unknown", False),
        ("", False),
    ],
)
def test_default_locality(model: str, local: bool) -> None:
    assert load_settings(None).is_local_model(model) is local


def test_configured_providers_decide_locality(isolated_home: Path) -> None:
    s = settings_from(
        isolated_home,
        '[providers.gpu]\nbase_url = "http://127.0.0.1:9000/v1"\n'
        '[providers.box]\nbase_url = "http://10.1.2.3:8000"\nlocal = true\n'
        "[providers.llamacpp]\nlocal = false\n"
        '[providers.cloud]\nbase_url = "https://api.example.com"\n',
    )
    assert s.is_local_model("gpu/qwen")
    assert s.is_local_model("box/qwen")
    assert not s.is_local_model("llamacpp/devstral")
    assert not s.is_local_model("cloud/qwen")


def test_local_providers_list_is_configurable(isolated_home: Path) -> None:
    s = settings_from(isolated_home, 'local_providers = ["mine"]\n')
    assert s.is_local_model("mine/x")
    assert not s.is_local_model("llamacpp/devstral")


def test_sim_models_table_overrides_locality(isolated_home: Path) -> None:
    s = settings_from(isolated_home, '[sim_models."sim/opus-4.6"]\nlocal = true\n')
    assert s.is_local_model("sim/opus-4.6")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/v1", "http://localhost", "http://[::1]:80", "127.0.0.2:9", "http://a.localhost/"],
)
def test_loopback_urls(url: str) -> None:
    assert is_loopback_url(url)


@pytest.mark.parametrize("url", ["http://10.0.0.1", "https://api.anthropic.com", "", "http://[bad"])
def test_non_loopback_urls(url: str) -> None:
    assert not is_loopback_url(url)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("anthropic/claude-opus-4-6", ModelPrice(input=5, cached=0.5, output=25)),
        ("claude-opus-4-6", ModelPrice(input=5, cached=0.5, output=25)),
        ("claude-opus-4-1-20250805", ModelPrice(input=15, cached=1.5, output=75)),
        ("anthropic/claude-sonnet-4-5", ModelPrice(input=3, cached=0.3, output=15)),
        ("claude-sonnet-4-5-20250929", ModelPrice(input=3, cached=0.3, output=15)),
        ("claude-sonnet-4.5", ModelPrice(input=3, cached=0.3, output=15)),
        ("claude-haiku-4-5", ModelPrice(input=1, cached=0.1, output=5)),
        ("claude-opus-4-6[1m]", ModelPrice(input=5, cached=0.5, output=25)),
        ("sim/opus-4.6", ModelPrice(input=5, cached=0.5, output=25)),
        ("opus", ModelPrice(input=5, cached=0.5, output=25)),
    ],
)
def test_builtin_prices(model: str, expected: ModelPrice) -> None:
    assert find_price(model) == expected


@pytest.mark.parametrize(
    "model", ["llamacpp/devstral", "openai/gpt-5", "", "claude-opusx", "sim/devstral-small-2"]
)
def test_unknown_models_have_no_price(model: str) -> None:
    assert find_price(model) is None


def test_prefix_match_respects_word_boundaries() -> None:
    assert normalise_model_id("Anthropic/Claude-Opus-4.6-20260101") == "claude-opus-4-6"
    assert find_price("claude-opus-4-10") == find_price("claude-opus-4")


def test_configured_prices_win(isolated_home: Path) -> None:
    s = settings_from(
        isolated_home,
        'model = "anthropic/claude-opus-4-6"\n[prices."claude-opus-4-6"]\ninput = 1\ncached = 0\noutput = 2\n'
        '[prices."openrouter/qwen"]\ninput = 0.1\noutput = 0.2\n',
    )
    assert s.route(Stage.BUILD).price == ModelPrice(input=1, cached=0, output=2)
    assert s.price_of("openrouter/qwen") == ModelPrice(input=0.1, output=0.2)


def test_local_route_has_no_price(isolated_home: Path) -> None:
    s = settings_from(isolated_home, 'model = "llamacpp/claude-opus-4-6"\n')
    route = s.route(Stage.BUILD)
    assert route.is_local and route.price is None


def test_price_converts_to_agent_price() -> None:
    from ralph.agents.base import Price

    price = find_price("claude-haiku-4-5")
    assert price is not None
    assert Price(**price.model_dump()) == Price(input=1, cached=0.1, output=5)


def test_endpoint_function_defaults() -> None:
    assert is_local_model("llamacpp/x")
    assert not is_local_model("llamacpp/x", local_providers=())

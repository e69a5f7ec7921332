"""The simulated model table: built-in defaults, the scenario config that mirrors them, override checks."""

from __future__ import annotations

import tomllib

import pytest

from ralph.agents.base import Price
from ralph.agents.sim_models import DEFAULT_SIM_MODELS, FailureMode, resolve_sim_model, sim_model_table
from ralph.errors import ConfigError
from ralph.scenarios import scenarios_dir


def test_scenario_config_states_the_built_in_models() -> None:
    config = tomllib.loads((scenarios_dir() / "sim-config.toml").read_text())
    assert config["backend"] == "sim"
    assert config["sim_models"] == {name: sim_model_table(m) for name, m in DEFAULT_SIM_MODELS.items()}
    assert set(config["profiles"]) == {"hybrid", "opus", "sonnet", "opus-sonnet", "sonnet-hybrid", "devstral"}


def test_skill_orders_the_models_and_only_devstral_is_local() -> None:
    opus, sonnet, devstral = (
        DEFAULT_SIM_MODELS[f"sim/{n}"] for n in ("opus-4.6", "sonnet-4.5", "devstral-small-2")
    )
    for level in range(1, 6):
        assert opus.success_p(level) > sonnet.success_p(level) > devstral.success_p(level)
    assert [m.local for m in (opus, sonnet, devstral)] == [False, False, True]
    assert opus.short == "opus-4.6"


def test_overrides_merge_key_by_key() -> None:
    model = resolve_sim_model(
        "sim/opus-4.6",
        {
            "sim/opus-4.6": {
                "skill": 0.5,
                "latency_s": 3,
                "price": {"input": 1},
                "failure_modes": {"wrong": 2},
            }
        },
    )
    assert model.skill == (0.5,) * 5 and model.latency_s == 3.0 and model.price == Price(1.0, 0.0, 0.0)
    assert dict(model.failure_modes) == {
        mode: (2.0 if mode is FailureMode.WRONG else 0.0) for mode in FailureMode
    }
    assert model.review == DEFAULT_SIM_MODELS["sim/opus-4.6"].review


def test_unknown_and_empty_model_names() -> None:
    assert resolve_sim_model("").name == "sim/sonnet-4.5"
    generic = resolve_sim_model("anthropic/claude-x")
    assert generic.name == "anthropic/claude-x" and not generic.local


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"speed": 1}, r"sim_models.sim/opus-4.6.speed: unknown key"),
        ({"skill": [0.5, 1.5]}, r"sim_models.sim/opus-4.6.skill: expected a probability"),
        ({"local": "yes"}, r"sim_models.sim/opus-4.6.local: expected a boolean"),
        ({"steps": -1}, r"sim_models.sim/opus-4.6.steps: expected a number >= 0"),
        ({"failure_modes": {"explode": 1}}, r"sim_models.sim/opus-4.6.failure_modes: unknown failure mode"),
    ],
)
def test_bad_overrides_name_the_key(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_sim_model("sim/opus-4.6", {"sim/opus-4.6": entry})

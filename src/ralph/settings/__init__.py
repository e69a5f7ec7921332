"""Configuration: one resolved ``Settings`` per run.

model.py      Settings (every key, typed, documented) and StageRoute
load.py       load_settings: defaults < global < profile < repo < env < flags; UNSET; flag_overrides
layers.py     per-key checking of one layer (file, key and expected type in every error); RALPH_<KEY> parsing
endpoints.py  local-vs-remote by provider/base_url, earlier name rules as fallback; sim model table
prices.py     built-in Claude price table and normalised prefix lookup
redact.py     credential masking for snapshots
describe.py   rows for `ralph config`, the Markdown key reference, profile routing tables
agentenv.py   which environment variables (agent credentials) reach agents
"""

from ralph.settings.agentenv import agent_environment
from ralph.settings.endpoints import Provider
from ralph.settings.load import UNSET, flag_overrides, load_settings
from ralph.settings.model import Settings, StageRoute
from ralph.settings.prices import ModelPrice

__all__ = [
    "UNSET",
    "ModelPrice",
    "Provider",
    "Settings",
    "StageRoute",
    "agent_environment",
    "flag_overrides",
    "load_settings",
]

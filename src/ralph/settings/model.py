"""The resolved configuration: every key with its type, default and meaning (the class is the reference)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ralph.settings.agentenv import DEFAULT_AGENT_ENV
from ralph.settings.endpoints import DEFAULT_LOCAL_PROVIDERS, DEFAULT_SIM_MODELS, Provider, is_local_model
from ralph.settings.prices import ModelPrice, find_price
from ralph.settings.redact import redact
from ralph.stage import Stage

__all__ = ["BackendName", "Settings", "StageRoute"]

BackendName = Literal["opencode", "claude", "acp", "openai", "sim"]
StageBackend = Literal["", "opencode", "claude", "acp", "openai", "sim"]
Count = Annotated[int, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Money = Annotated[float, Field(ge=0)]


@dataclass(frozen=True)
class StageRoute:
    """Where one stage goes: backend, model, agent/mode, locality and price (None if unknown)."""

    stage: Stage
    backend: str
    model: str
    agent: str | None
    is_local: bool
    price: ModelPrice | None


class Settings(BaseModel):
    """One run's resolved settings; built by ``load_settings``, never mutated."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    model: str = ""
    """Model for every stage (opencode `provider/model`, a Claude id, or `sim/...`); empty = agent default."""
    model_plan: str = ""
    """PLAN model; empty means `model`."""
    model_investigate: str = ""
    """INVESTIGATE model; empty means `model`."""
    model_build: str = ""
    """BUILD model; empty means `model`."""
    model_verify: str = ""
    """VERIFY model; empty means `model`."""
    model_decompose: str = ""
    """DECOMPOSE model; empty means `model`."""
    model_dedup: str = ""
    """Task-dedup model; empty means `model_investigate`, then `model`."""
    agent: str = ""
    """opencode agent / ACP mode for every stage; empty = the agent's default."""
    agent_plan: str = ""
    """PLAN agent/mode; empty means `agent`."""
    agent_investigate: str = ""
    """INVESTIGATE agent/mode; empty means `agent`."""
    agent_build: str = ""
    """BUILD agent/mode; empty means `agent`."""
    agent_verify: str = ""
    """VERIFY agent/mode; empty means `agent`."""
    agent_decompose: str = ""
    """DECOMPOSE agent/mode; empty means `agent`."""
    agent_dedup: str = ""
    """Dedup agent/mode; empty means `agent`."""
    backend: BackendName = "opencode"
    """Agent backend for every stage: opencode, claude, acp, openai or sim."""
    backend_plan: StageBackend = ""
    """PLAN backend; empty means `backend`."""
    backend_investigate: StageBackend = ""
    """INVESTIGATE backend; empty means `backend`."""
    backend_build: StageBackend = ""
    """BUILD backend; empty means `backend`."""
    backend_verify: StageBackend = ""
    """VERIFY backend; empty means `backend`."""
    backend_decompose: StageBackend = ""
    """DECOMPOSE backend; empty means `backend`."""
    backend_dedup: StageBackend = ""
    """Dedup backend; empty means `backend`."""
    local_providers: list[str] = Field(default_factory=lambda: list(DEFAULT_LOCAL_PROVIDERS))
    """Provider ids (the part before `/` in a model id) whose models run on this machine."""
    providers: dict[str, Provider] = Field(default_factory=dict)
    """Providers `{name: {base_url, local}}`; `local = true` or a loopback base_url makes one local."""
    opencode_bin: str = "opencode"
    """The opencode executable."""
    claude_bin: str = "claude"
    """The Claude Code executable."""
    acp_command: list[str] = Field(default_factory=lambda: ["opencode", "acp"])
    """argv of the Agent Client Protocol agent for the `acp` backend."""
    agent_env: list[str] = Field(default_factory=lambda: list(DEFAULT_AGENT_ENV))
    """Environment variables (shell-style patterns) passed to agents, e.g. their API keys; every other
    credential-looking variable is scrubbed. Model-written checks never get any of them."""
    claude_permission_mode: Literal["default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"] = (
        "acceptEdits"
    )
    """Claude Code `--permission-mode`."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """USD per million tokens `{model: {input, cached, output}}`; overrides the built-in Claude table."""
    context_window: Count = 200_000
    """Tokens in the model's context, the base of the context percentages."""
    context_warn_pct: Percent = 70
    """Context occupancy (%) at which a warning is shown."""
    context_compact_pct: Percent = 85
    """Context occupancy (%) at which the session is handed off to a fresh one with a summary."""
    context_kill_pct: Percent = 95
    """Context occupancy (%) at which the stage is killed and the task goes to DECOMPOSE."""
    stage_timeout_ms: Count = 900_000
    """Timeout of one agent stage, in milliseconds (also used for dedup)."""
    iteration_timeout_ms: Count = 900_000
    """Timeout of one iteration, in milliseconds; 0 = off."""
    timeout_ms: Count = 900_000
    """PLAN timeout in milliseconds (at least 15 minutes are always allowed)."""
    max_failures: Count = 3
    """Consecutive failed stages before the circuit breaker stops the run."""
    max_iterations: Count = 50
    """Iterations per run; 0 = unlimited."""
    max_tokens: Count = 0
    """Token budget per run (input + cached + output); 0 = off."""
    max_wall_time_s: Count = 3600
    """Wall-clock limit per run, in seconds; 0 = off."""
    max_api_calls: Count = 0
    """Limit on remote model calls per run; 0 = off."""
    max_cost: Money = 0.0
    """Cost limit per run in USD; 0 = off."""
    max_issues_per_spec: Count = 10
    """Open issues per spec before INVESTIGATE stops taking new ones."""
    max_decompose_depth: Count = 3
    """How many times a task may be split by DECOMPOSE."""
    max_retries_per_task: Count = 3
    """VERIFY rejections before a task is escalated to an issue."""
    issue_similarity_threshold: Fraction = 0.8
    """Jaccard word similarity at which two issues count as duplicates."""
    verify_batch_size: Annotated[int, Field(ge=1)] = 5
    """Done tasks per VERIFY call."""
    investigate_batch_size: Annotated[int, Field(ge=1)] = 5
    """Issues per INVESTIGATE call."""
    loop_detection_threshold: Count = 3
    """Identical consecutive ticket-state fingerprints that count as a loop; 0 = off."""
    max_identical_tool_calls: Count = 5
    """Identical consecutive tool calls in one stage before it is killed as a loop; 0 = off."""
    max_empty_steps: Count = 5
    """Consecutive model steps without text or tool use before the stage is killed; 0 = off."""
    max_validation_retries: Count = 2
    """In-session repair retries when the stage output fails validation."""
    max_rate_limit_wait_s: Count = 900
    """Longest wait for a rate-limit window to reset before the stage fails as infra."""
    progress_check_interval: Count = 600
    """Seconds without a successful stage before a stall warning; 0 = off."""
    progress_stall_abort_s: Count = 1200
    """Seconds without a successful stage before the run stops (progress_stall); 0 = off."""
    emit_session_summary: bool = True
    """Write a session summary JSON next to the ledger at the end of a run."""
    commit_prefix: str = "ralph:"
    """Prefix of every commit message Ralph writes."""
    recent_commits_display: Count = 3
    """Recent commits shown by status and watch."""
    art_style: Literal["braille", "braille_full", "blocks", "minimal", "none"] = "braille"
    """Dashboard art style."""
    dashboard_buffer_lines: Count = 2000
    """Lines of agent activity kept by the live view."""
    format_command: str = ""
    """Shell command run after each successful BUILD (failure only warns); empty = none."""
    diff_max_bytes: Count = 200_000
    """Cap on the diff shown to VERIFY."""
    use_acp: bool = True
    """Earlier spelling: run opencode through ACP; `backend = "acp"` is the new one."""
    ralph_dir: str = "ralph"
    """Repo folder holding specs and `config.toml`."""
    log_dir: Path = Path("~/.local/state/ralph/logs")
    """Ledger directory (runs.jsonl, iterations.jsonl, calls.jsonl); default `$XDG_STATE_HOME/ralph/logs`."""
    profile: str = "default"
    """Selected profile name (set by `--profile` / `RALPH_PROFILE`); recorded in the ledger."""
    auto_accept_checks: bool = False
    """Accept a done task whose `check` passes without the VERIFY review."""
    check_timeout_s: Count = 60
    """Timeout of one acceptance `check` command, in seconds."""
    sandbox: Literal["auto", "bwrap", "none"] = "auto"
    """Sandbox for checks: bwrap when available (auto), always bwrap, or none (scrubbed env only)."""
    output_cap_bytes: Count = 8_000_000
    """Agent output kept in memory per stage; the rest spills to `<log_dir>/spill/`."""
    commit: bool = True
    """Commit after each iteration."""
    push: bool = False
    """Push the working branch after each commit (never --force)."""
    sim_seed: int = 0
    """Seed of the `sim` backend."""
    sim_models: dict[str, dict[str, Any]] = Field(default_factory=lambda: _default_sim_models())
    """Simulated models `{model: {local, ...}}` passed to the sim backend; merged over the built-in table."""
    experiment: str = ""
    """Experiment name recorded in the run record; empty outside a bench."""
    replicate: Count = 0
    """Replicate number recorded in the run record (bench cells); 0 = none."""

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _profiles: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)

    def route(self, stage: Stage) -> StageRoute:
        """Backend, model, agent, locality and price of ``stage``."""
        if stage not in Stage.routed():
            raise ValueError(f"stage {stage.value} is not routed to a model")
        key = stage.key
        model = getattr(self, f"model_{key}") or (self.model_investigate if stage is Stage.DEDUP else "")
        model = model or self.model
        local = self.is_local_model(model)
        return StageRoute(
            stage=stage,
            backend=getattr(self, f"backend_{key}") or self.backend,
            model=model,
            agent=getattr(self, f"agent_{key}") or self.agent or None,
            is_local=local,
            price=None if local else find_price(model, self.prices),
        )

    def is_local_model(self, model: str) -> bool:
        """Local by endpoint (providers, local_providers, sim_models), else the earlier name rules."""
        return is_local_model(
            model, local_providers=self.local_providers, providers=self.providers, sim_models=self.sim_models
        )

    def price_of(self, model: str) -> ModelPrice | None:
        """Configured or built-in price of ``model``; None when unknown."""
        return find_price(model, self.prices)

    def source_of(self, key: str) -> str:
        """Origin of ``key``: default, global:<path>, profile:<name>, repo:<path>, env:RALPH_X or flag."""
        if key not in type(self).model_fields:
            raise KeyError(key)
        return self._sources.get(key, "default")

    def snapshot(self) -> dict[str, Any]:
        """Resolved values as JSON types, credentials redacted (for the run record)."""
        data: dict[str, Any] = redact(self.model_dump(mode="json"))
        return data

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Profile name -> its raw table (global file's, overlaid by the repo file's)."""
        return {name: dict(table) for name, table in self._profiles.items()}


def _default_sim_models() -> dict[str, dict[str, Any]]:
    return {name: dict(entry) for name, entry in DEFAULT_SIM_MODELS.items()}

"""Opening a run: check the input (one clear error, nothing changed), build the backends and the clock,
write the start record. Shared by ``construct`` and ``plan_spec``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ralph.agents.base import AgentBackend, BackendOptions
from ralph.clock import Clock, SystemClock, VirtualClock
from ralph.errors import AgentError, StoreError, UsageError
from ralph.gitops import repo_root
from ralph.loop.secrets import agent_secrets
from ralph.settings import Settings, agent_environment
from ralph.stage import Stage
from ralph.tix import TicketStore

__all__ = [
    "SpecFile",
    "build_backends",
    "check_endpoints",
    "find_rules",
    "open_store",
    "resolve_spec",
    "root_of",
    "uses_sim",
]

_RULE_FILES = ("AGENTS.md", "CLAUDE.md")


@dataclass(frozen=True)
class SpecFile:
    name: str
    """The spec's file name (``x.md``), as tickets and the state file record it."""
    path: Path
    text: str


def root_of(repo: Path) -> Path:
    """The git top level of ``repo``; UsageError when it is not a git working tree."""
    if not repo.exists():
        raise UsageError(f"{repo} does not exist")
    return repo_root(repo)


def open_store(root: Path) -> TicketStore:
    """The repo's ticket store; UsageError (exit 2) when there is none yet."""
    if not (root / ".tix").is_dir():
        raise UsageError(f"no ticket store in {root} (run `ralph init` first)")
    try:
        return TicketStore.open(root)
    except StoreError as err:
        raise UsageError(f"cannot open the ticket store in {root}: {err}") from err


def resolve_spec(root: Path, settings: Settings, given: str | None, saved: str | None) -> SpecFile:
    """The spec given (a path, or a name under ``<ralph_dir>/specs``), else the one saved in the state."""
    wanted = given or saved
    if not wanted:
        raise UsageError("no spec: give --spec NAME or run `ralph plan SPEC` first")
    specs = root / settings.ralph_dir / "specs"
    candidates = [Path(wanted), root / wanted, specs / wanted, specs / f"{wanted}.md"]
    for path in candidates:
        if path.is_file():
            return SpecFile(
                name=path.name, path=path, text=path.read_text(encoding="utf-8", errors="replace")
            )
    raise UsageError(f"spec not found: {wanted} (looked in {specs})")


def find_rules(root: Path) -> tuple[str, str]:
    """Project rules for every prompt: the first of AGENTS.md, CLAUDE.md (text, file name)."""
    for name in _RULE_FILES:
        path = root / name
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")[:20_000], name
    return "", ""


def uses_sim(settings: Settings, stages: Iterable[Stage]) -> bool:
    return any(settings.route(stage).backend == "sim" for stage in stages)


def _options(settings: Settings, name: str, clock: Clock, spill: Path) -> BackendOptions:
    programs = {
        "opencode": (settings.opencode_bin,),
        "claude": (settings.claude_bin,),
        "acp": tuple(settings.acp_command),
    }
    extra: dict[str, object] = {"providers": _provider_table(settings)}
    if name == "sim":
        extra = {"sim_models": settings.sim_models, "sim_seed": settings.sim_seed}
    return BackendOptions(
        clock=clock,
        program=programs.get(name, ()),
        env=agent_environment(settings.agent_env) if name != "sim" else {},
        permission_mode=settings.claude_permission_mode if name == "claude" else "",
        output_cap_bytes=settings.output_cap_bytes,
        spill_dir=spill,
        mask=agent_secrets(settings) if name != "sim" else None,
        extra=extra,
    )


def _provider_table(settings: Settings) -> dict[str, dict[str, str]]:
    return {name: {"base_url": p.base_url} for name, p in settings.providers.items() if p.base_url}


def check_endpoints(settings: Settings, stages: Iterable[Stage]) -> None:
    """Before a run: every configured provider endpoint a stage routes to must answer (AgentError if not)."""
    from ralph.agents.registry import check_endpoint

    urls = {_endpoint_of(settings, settings.route(stage).model) for stage in stages}
    for url in sorted(u for u in urls if u):
        ok, detail = check_endpoint(url)
        if not ok:
            raise AgentError(f"{detail} (a stage's model is served there; start it or change the profile)")


def _endpoint_of(settings: Settings, model: str) -> str:
    provider = settings.providers.get(model.partition("/")[0])
    return provider.base_url if provider is not None else ""


def build_backends(
    settings: Settings, stages: Iterable[Stage], run_id: str
) -> tuple[dict[str, AgentBackend], Clock, bool]:
    """One backend per distinct routed backend name; a sim anywhere makes the whole run use a VirtualClock."""
    from ralph.agents.registry import get_backend

    stages = tuple(stages)
    simulated = uses_sim(settings, stages)
    clock: Clock = VirtualClock() if simulated else SystemClock()
    spill = Path(settings.log_dir) / "spill" / run_id
    names = sorted({settings.route(stage).backend for stage in stages})
    check_endpoints(settings, stages)
    backends = {name: get_backend(name, _options(settings, name, clock, spill)) for name in names}
    return backends, clock, simulated

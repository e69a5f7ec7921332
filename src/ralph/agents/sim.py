"""The ``sim`` backend: a seeded simulator of a model and its agent working a bundled scenario.

It really edits the working tree (known solutions, or the broken and partial changes agents leave), really
runs checks, and spends only virtual time: latency advances ``options.clock``, nothing sleeps. Every choice is
a pure function of (sim_seed, model, stage, task key, attempt, retry) - a follow-up task from INVESTIGATE
adds its name to the key - so a resumed run repeats itself.
Everything it prints and returns is labelled simulated.

Modules: sim_models (model table), sim_run (one stage's calls, clock, events, answer text), sim_tasks
(tickets -> scenario tasks, checks), sim_build (BUILD), sim_stages (PLAN, VERIFY, DECOMPOSE, INVESTIGATE,
DEDUP).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ralph.agents.base import AgentEvent, BackendOptions, EventKind, EventSink, StageRequest, StageResult
from ralph.agents.sim_build import answer_build
from ralph.agents.sim_models import resolve_sim_model
from ralph.agents.sim_run import Answer, SimJob
from ralph.agents.sim_stages import (
    answer_decompose,
    answer_dedup,
    answer_investigate,
    answer_plan,
    answer_verify,
)
from ralph.agents.sim_tasks import find_keys, pick_scenario
from ralph.errors import FailureKind
from ralph.scenarios import Scenario, list_scenarios, load_scenario
from ralph.stage import Stage

__all__ = ["SimBackend"]

_STAGES: Mapping[Stage, Callable[[SimJob], Answer]] = {
    Stage.PLAN: answer_plan,
    Stage.BUILD: answer_build,
    Stage.VERIFY: answer_verify,
    Stage.DECOMPOSE: answer_decompose,
    Stage.INVESTIGATE: answer_investigate,
    Stage.DEDUP: answer_dedup,
}


class SimBackend:
    """Simulated agent. ``options.extra``: ``sim_seed`` (int), ``sim_models`` ({model: {...}} overrides of
    the built-in table) and ``scenario`` (a bundled scenario name; default: found from the spec or labels)."""

    name = "sim"

    def __init__(self, options: BackendOptions) -> None:
        self._options = options
        self._seed = int(options.extra.get("sim_seed") or 0)
        self._models: Mapping[str, Any] = options.extra.get("sim_models") or {}
        fixed = options.extra.get("scenario")
        self._fixed: Scenario | None = load_scenario(str(fixed)) if fixed else None
        self._scenarios: list[Scenario] | None = None

    def run(self, request: StageRequest, events: EventSink) -> StageResult:
        model = resolve_sim_model(request.model, self._models)
        job = SimJob(request, events, model, self._seed, self._options.clock, self._scenario_for(request))
        session = request.session_id or self._session_id(request)
        events.emit(AgentEvent(EventKind.SESSION, text=session))
        answer_for = _STAGES.get(request.stage)
        if answer_for is None:
            detail = f"[simulated] the sim backend has no {request.stage.value} stage"
            answer = Answer(None, detail, FailureKind.AGENT_ERROR, detail)
        else:
            answer = answer_for(job)
        return job.result(answer, session)

    def close(self) -> None:
        return None

    def _scenario_for(self, request: StageRequest) -> Scenario | None:
        if self._fixed is not None:
            return self._fixed
        if self._scenarios is None:
            self._scenarios = list_scenarios()
        tickets = list(_tickets(request.payload))
        specs = [request.payload.get("spec"), *(t.get("spec") for t in tickets)]
        texts = [str(label) for t in tickets for label in t.get("labels") or ()]
        texts += [value for t in tickets for value in t.values() if isinstance(value, str)]
        return pick_scenario(self._scenarios, specs, find_keys(texts))

    def _session_id(self, request: StageRequest) -> str:
        text = f"{self._seed}|{request.model}|{request.stage.value}|{sorted(request.payload.items())!r}"
        return "sim-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _tickets(payload: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    task = payload.get("task")
    if isinstance(task, Mapping):
        yield task
    for key in ("tasks", "issues", "pending"):
        for item in payload.get(key) or ():
            if isinstance(item, Mapping):
                yield item

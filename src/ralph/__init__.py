"""Ralph: unattended coding-agent loops with tickets, guardrails, a ledger and a profile bench.

Packages (imports point downwards only; ``tests/test_layers.py`` enforces it):
    errors, stage, clock   shared vocabulary: exception tree, exit/kill reasons, stage names, time
    proc                   child processes: group kill, line streaming, scrubbed env
    settings/              resolved Settings from defaults, files, profile, env and flags
    tix/                   the ticket store (plan.jsonl + SQLite cache) and TQL
    output/                [RALPH_OUTPUT] protocol: per-stage JSON Schemas and the parser
    ledger/                runs/iterations/calls JSONL records, locked writer, reader (incl. earlier ralph)
    scenarios/             bundled target projects with specs and known solutions (for sim and demos)
    agents/                AgentBackend protocol, watchdog, registry, and the backends
    gitops                 worktrees, branches, attempt snapshots, exact revert, commits
    loop/                  the construct state machine, guards, prompts, reconcile, plan
    bench/                 experiments: cells, gates, stats, analysis
    report/                HTML report and plots
    cli/                   Typer apps `ralph` and `tix`; thin layers over the above
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

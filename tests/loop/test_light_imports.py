"""`ralph --help` and `ralph status` start fast: the CLI and the loop's status path do not load the prompt
templates, the output schemas, Rich, or the bench/report/watch/scenario packages."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("jinja2", "jsonschema", "matplotlib", "rich", "ralph.bench", "ralph.report", "ralph.watch")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_cli_and_status_path_import_no_heavy_module() -> None:
    loaded = _loaded_after("import ralph.cli.main, ralph.loop.status, ralph.loop.construct")
    heavy = sorted(m for m in loaded if m in HEAVY or m.startswith(tuple(f"{h}." for h in HEAVY)))
    assert heavy == []
    assert "ralph.scenarios.create" not in loaded

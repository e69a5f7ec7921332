"""The README is executable: every ```sh block runs, in order, as one shell session (doctest-style).

Blocks marked ```sh norun need a real cloud model or the user's own repository and are not run. The
scratch folder /tmp/ralph-try of the README is replaced by a private temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


def runnable_blocks(text: str) -> list[str]:
    return [m["body"] for m in FENCE.finditer(text) if m["info"].strip() == "sh"]


def test_readme_opens_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8").splitlines()[:6]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_config_reference_is_current() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from sync_readme import with_reference
    finally:
        sys.path.pop(0)
    text = README.read_text(encoding="utf-8")
    assert with_reference(text) == text, "run: .venv/bin/python scripts/sync_readme.py"


def test_every_runnable_command_in_the_readme_succeeds(tmp_path: Path, isolated_home: Path) -> None:
    blocks = runnable_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3, "the README lost its runnable examples"
    scratch = tmp_path / "ralph-try"
    scratch.mkdir()
    script = "\n".join(block.replace("/tmp/ralph-try", str(scratch)) for block in blocks)
    prologue = "set -euo pipefail\ntrap 'echo \"README command failed: $BASH_COMMAND\" >&2' ERR\n"
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["RALPH_LOG_DIR"] = str(tmp_path / "logs")
    done = subprocess.run(
        ["bash", "-c", prologue + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n--- stdout ---\n{done.stdout[-3000:]}"
    assert "runtime-refactor.md" in done.stdout
    assert (scratch / "001-showdown" / "report.html").stat().st_size > 10_000


@pytest.mark.parametrize("command", ["make demo", "make test"])
def test_makefile_has_the_readme_targets(command: str) -> None:
    target = command.split()[1]
    assert re.search(rf"^{target}:", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)

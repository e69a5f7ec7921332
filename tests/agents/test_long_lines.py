"""Lines longer than the output cap and credentials in spilled output.

The line reader holds a line up to ``max_line_bytes``; with ``split_long`` the rest of a longer one comes in
pieces, so the backend records the whole line in its spill file without ever holding it. What is spilled
has the agent's credentials masked, also when one is split across two pieces of a line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.agents.recording import Recorder

from ralph.agents.base import AgentEvent, BackendOptions, EventKind, StageRequest
from ralph.agents.linerun import MIN_LINE_BYTES
from ralph.agents.opencode import OpencodeBackend
from ralph.agents.stagerun import StageRun
from ralph.loop.secrets import SecretMask
from ralph.proc import LineHead, LineProcess, LineTail
from ralph.stage import Stage

SECRET = "sk-ant-PLANTED-test-secret-0001"


def read_all(proc: LineProcess) -> list[str]:
    items = [item for item in proc.lines(poll_s=0.05) if item is not None]
    proc.kill()
    proc.wait()
    return items


def test_an_overlong_line_comes_whole_as_a_head_and_tail_pieces(tmp_path: Path) -> None:
    """Cut mid-character on purpose (2-byte characters, odd limit): no byte is lost or mangled."""
    writer = "import sys\nsys.stdout.buffer.write(('\\u00e9' * 2_500_000 + '\\nnext\\n').encode())\n"
    proc = LineProcess([sys.executable, "-c", writer], cwd=tmp_path, max_line_bytes=999_999, split_long=True)
    items = read_all(proc)
    assert isinstance(items[0], LineHead) and len(items[0].encode()) <= 999_999
    tails = items[1:-1]
    assert tails and all(isinstance(t, LineTail) for t in tails)
    assert max(len(t) for t in tails) <= 65536
    assert "".join(items[:-1]) == "\u00e9" * 2_500_000 + "\n"
    assert items[-1] == "next\n" and type(items[-1]) is str


def test_an_overlong_last_line_without_newline_is_whole_too(tmp_path: Path) -> None:
    writer = "import sys\nsys.stdout.write('a\\n' + 'z' * 300_000)\n"
    proc = LineProcess([sys.executable, "-c", writer], cwd=tmp_path, max_line_bytes=100_000, split_long=True)
    items = read_all(proc)
    assert items[0] == "a\n"
    assert isinstance(items[1], LineHead) and len(items[1]) == 100_000
    assert "".join(items[1:]) == "z" * 300_000


def test_without_split_long_the_rest_is_dropped_as_before(tmp_path: Path) -> None:
    writer = "import sys\nsys.stdout.write('y' * 300_000 + '\\nnext\\n')\n"
    proc = LineProcess([sys.executable, "-c", writer], cwd=tmp_path, max_line_bytes=100_000)
    assert read_all(proc) == ["y" * 100_000 + "\n", "next\n"]


def test_queued_lines_are_bounded_by_size_not_only_by_count(tmp_path: Path) -> None:
    """Big lines a slow consumer has not taken: never more than ``max_line_bytes`` of them wait (one line
    longer than that waits alone)."""
    writer = "import sys\nfor i in range(40):\n    sys.stdout.write(f'{i:08d}' + 'w' * 400_000 + '\\n')\n"
    proc = LineProcess([sys.executable, "-c", writer], cwd=tmp_path, max_line_bytes=1_000_000)
    time.sleep(1.0)
    assert proc._queue.qsize() <= 3
    numbers = [int(line[:8]) for line in read_all(proc)]
    assert numbers == list(range(40))


def ask(tmp_path: Path) -> StageRequest:
    return StageRequest(stage=Stage.BUILD, prompt="p", model="fake/m1", cwd=tmp_path, timeout_s=60.0)


def event(kind: str, part: dict[str, Any]) -> str:
    return json.dumps({"type": kind, "sessionID": "ses_1", "part": part})


def agent_script(tmp_path: Path, big_chars: int) -> Path:
    """A stand-in for ``opencode run``: a text event of ``big_chars`` characters on one line, then a short
    answer and the step's end."""
    tokens = {"input": 10, "output": 2, "reasoning": 0, "cache": {"read": 0, "write": 0}}
    head = event("text", {"type": "text", "text": "@"}).split("@")[0]
    tail = event("text", {"type": "text", "text": "@"}).split("@")[1]
    lines = [
        event("step_start", {"type": "step-start"}),
        event("text", {"type": "text", "text": "the answer"}),
        event("step_finish", {"type": "step-finish", "reason": "stop", "tokens": tokens, "cost": 0}),
    ]
    script = tmp_path / "agent.py"
    script.write_text(
        "import sys\n"
        "out = sys.stdout\n"
        f"out.write({lines[0]!r} + '\\n')\n"
        f"out.write({head!r})\n"
        f"for _ in range({big_chars // 1000}):\n"
        "    out.write('x' * 1000)\n"
        f"out.write({tail!r} + '\\n')\n"
        f"out.write({lines[1]!r} + '\\n' + {lines[2]!r} + '\\n')\n"
    )
    return script


def test_a_line_over_the_cap_is_spilled_whole_and_the_stage_goes_on(tmp_path: Path) -> None:
    big = 3_000_000
    assert big > 2 * MIN_LINE_BYTES
    options = BackendOptions(
        program=(sys.executable, str(agent_script(tmp_path, big))),
        output_cap_bytes=1000,
        spill_dir=tmp_path / "spill",
    )
    sink = Recorder()
    result = OpencodeBackend(options).run(ask(tmp_path), sink)
    assert result.ok, result.detail
    assert result.text.strip() == "the answer"
    assert [e.raw_type for e in sink.of(EventKind.UNKNOWN)] == ["overlong"]
    assert result.output_log is not None
    spilled = result.output_log.read_text().splitlines()
    assert len(spilled) == 4
    assert len(spilled[1]) > big and spilled[1].endswith('"}}')
    assert json.loads(spilled[1])["part"]["text"] == "x" * big


def test_spilled_output_has_credentials_masked_even_split_across_pieces(tmp_path: Path) -> None:
    mask = SecretMask([SECRET])
    run = StageRun(
        "t", ask(tmp_path), BackendOptions(output_cap_bytes=10, spill_dir=tmp_path, mask=mask), Recorder()
    )
    run.raw(f"ANTHROPIC_API_KEY={SECRET}")
    run.raw_part("head of a long line, key " + SECRET[:5])
    for start in range(5, len(SECRET), 3):
        run.raw_part(SECRET[start : start + 3])
    run.raw_part(" and again " + SECRET[:-1])
    run.raw_part(SECRET[-1] + " end\n")
    run.raw_part("unfinished last line " + SECRET[:12])
    run.raw_part(SECRET[12:])
    result = run.result()
    assert result.output_log is not None
    assert result.output_log.read_text() == (
        "ANTHROPIC_API_KEY=***\nhead of a long line, key *** and again *** end\nunfinished last line ***"
    )


def test_without_a_mask_spilled_output_is_as_given(tmp_path: Path) -> None:
    run = StageRun("t", ask(tmp_path), BackendOptions(output_cap_bytes=10, spill_dir=tmp_path), Recorder())
    run.raw_part("a" * 20)
    run.raw_part(SECRET + "\n")
    run.emit(AgentEvent(EventKind.TEXT, text="t"))
    result = run.result()
    assert result.output_log is not None
    assert result.output_log.read_text() == "a" * 20 + SECRET + "\n"

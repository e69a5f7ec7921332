"""Run the real ``tix`` console script as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIX = str(Path(sys.executable).with_name("tix"))


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def tix(cwd: Path, *args: str) -> Result:
    done = subprocess.run([TIX, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    return Result(done.returncode, done.stdout, done.stderr)

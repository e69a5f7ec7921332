"""Facts about the machine a cell ran on (recorded in experiment-meta.json): host, CPU, RAM, GPU if any."""

from __future__ import annotations

import os
import platform
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from ralph.proc import run_command

__all__ = ["HostInfo", "host_info"]


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    platform: str
    cpu_model: str
    cpu_count: int
    ram_gb: float
    gpu: str | None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _gpu() -> str | None:
    """Names of NVIDIA GPUs through nvidia-smi, when it is installed and answers."""
    if shutil.which("nvidia-smi") is None:
        return None
    done = run_command(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], cwd=Path.cwd(), timeout_s=10
    )
    names = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    return ", ".join(names) if done.ok and names else None


def host_info() -> HostInfo:
    return HostInfo(
        hostname=socket.gethostname(),
        platform=platform.platform(),
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count() or 0,
        ram_gb=_ram_gb(),
        gpu=_gpu(),
    )

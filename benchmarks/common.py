"""Shared helpers: timing, bounded subprocess runs, facts about the machine."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of ``fn`` took, and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished child processes."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def clock(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call (CPU counts less of what other jobs on the machine
    take from it), and its result."""
    cpu = cpu_seconds()
    wall, result = timed(fn)
    return wall, cpu_seconds() - cpu, result


@dataclass
class Timing:
    """Median wall and CPU seconds over several runs, and each run's wall seconds."""

    wall: float
    cpu: float
    runs: list[float]


def median_of(fn: Callable[[], Any], repeat: int) -> tuple[Timing, Any]:
    """The timing of ``repeat`` calls of ``fn`` and the last call's result."""
    walls, cpus, result = [], [], None
    for _ in range(max(repeat, 1)):
        wall, cpu, result = clock(fn)
        walls.append(wall)
        cpus.append(cpu)
    return Timing(statistics.median(walls), statistics.median(cpus), walls), result


def demine_command() -> list[str]:
    """The `demine` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("demine")
    return [str(script)] if script.exists() else [sys.executable, "-m", "demine"]


def run_command(args: list[str], timeout: float, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    """Wall seconds and stdout of a command; RuntimeError on another exit status."""
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        tail = done.stderr.strip()[-2000:]
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {tail}")
    return seconds, done.stdout


def run_json(args: list[str], timeout: float, ok: tuple[int, ...] = (0,)) -> tuple[float, Any]:
    """Wall seconds and parsed JSON stdout of a command."""
    seconds, stdout = run_command(args, timeout, ok)
    return seconds, json.loads(stdout)


def machine() -> dict[str, Any]:
    """Cores, memory, CPU and library versions: the context every figure needs."""
    import geopandas
    import numpy
    import pyogrio
    import shapely
    import sqlalchemy

    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gib": _ram_gib(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],  # others' jobs skew it
        "platform": platform.platform(),
        "python": platform.python_version(),
        "geos": shapely.geos_version_string,
        "gdal": pyogrio.__gdal_version_string__,
        "sqlite": _sqlite_version(),
        "shapely": shapely.__version__,
        "geopandas": geopandas.__version__,
        "pyogrio": pyogrio.__version__,
        "numpy": numpy.__version__,
        "sqlalchemy": sqlalchemy.__version__,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version

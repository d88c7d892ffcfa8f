"""Shared helpers: timing, bounded subprocess runs, facts about the machine."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of ``fn`` took, and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def median_of(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    """Median seconds over ``repeat`` calls, every run's seconds, and the last result."""
    runs, result = [], None
    for _ in range(max(repeat, 1)):
        seconds, result = timed(fn)
        runs.append(seconds)
    return statistics.median(runs), runs, result


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

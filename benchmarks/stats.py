"""`demine stats`: the whole command (Python start-up included) and the service alone."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks.common import demine_command, median_of, run_command, run_json, timed
from demine.domain.actors import Actor
from demine.services.reads.stats import land_release_stats
from demine.settings import Settings, sqlite_url
from demine.storage.database import Database

TARGET_S = 1.0
AS_OF = date(2025, 10, 31)  # mid-way through the demo's two years: history is consulted
VARIANTS: tuple[tuple[str, list[str], dict[str, Any]], ...] = (
    ("totals", [], {}),
    ("by region", ["--by", "region"], {"by": "region"}),
    ("by org", ["--by", "org"], {"by": "org"}),
    ("by year", ["--by", "year"], {"by": "year"}),
    ("by month", ["--by", "month"], {"by": "month"}),
    (f"as of {AS_OF}", ["--as-of", AS_OF.isoformat()], {"as_of": AS_OF}),
)


def run(path: Path, repeat: int, timeout: float = 120.0) -> dict[str, Any]:
    """Median CLI seconds and service milliseconds for each variant, against the 1 s target."""
    database = Database(Settings(database_url=sqlite_url(path)))
    actor = Actor.system("bench")
    startup, _ = median_of(lambda: run_command(_import_only(), timeout), repeat)
    variants = {}
    for label, options, kwargs in VARIANTS:
        args = [*demine_command(), "stats", "--db", str(path), *options, "--json"]
        cli, out = median_of(lambda a=args: run_json(a, timeout)[1], repeat)
        service, result = median_of(lambda k=kwargs: _service(database, actor, k), repeat)
        if out != json.loads(json.dumps(result, default=str)):
            raise AssertionError(f"stats {label}: the CLI and the service disagree")
        variants[label] = {
            "cli_s": round(cli.wall, 3),
            "cli_cpu_s": round(cli.cpu, 3),
            "cli_runs_s": [round(s, 3) for s in cli.runs],
            "service_ms": round(service.wall * 1000, 1),
            "service_cpu_ms": round(service.cpu * 1000, 1),
            "groups": len(result.get("groups", [])),
            "pass": cli.wall <= TARGET_S,
        }
    database.dispose()
    return {"target_s": TARGET_S, "repeat": repeat, "import_cli_s": round(startup.wall, 3),
            "import_cli_cpu_s": round(startup.cpu, 3), "variants": variants,
            "pass": all(v["pass"] for k, v in variants.items() if not k.startswith("as of")),
            "as_of_pass": all(v["pass"] for k, v in variants.items() if k.startswith("as of"))}


def _service(database: Database, actor: Actor, kwargs: dict[str, Any]) -> dict[str, Any]:
    with database.read() as uow:
        return land_release_stats(uow, actor=actor, **kwargs)


def _import_only() -> list[str]:
    """Start-up alone: Python plus loading the CLI as the console script does, the floor of any
    `demine` command."""
    return [sys.executable, "-c", "from demine.cli.entry import load_app; load_app()"]


def profile(path: Path, kwargs: dict[str, Any], top: int = 20) -> str:
    """One service call under cProfile, then its SQL statements timed one by one."""
    import cProfile
    import io
    import pstats

    from benchmarks import sqlprofile

    database = Database(Settings(database_url=sqlite_url(path)))
    actor = Actor.system("bench")
    profiler = cProfile.Profile()
    seconds, _ = timed(lambda: profiler.runcall(_service, database, actor, kwargs))
    statements = sqlprofile.capture(database, lambda: _service(database, actor, kwargs))
    database.dispose()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
    return (f"service {seconds:.3f} s under cProfile\n{text.getvalue()}"
            f"SQL statements rerun alone:\n"
            f"{sqlprofile.render(sqlprofile.replay(path, statements))}")

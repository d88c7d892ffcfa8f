"""`python -m benchmarks`: generation, `demine stats` and `demine check` against GeoPandas."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import overlaps, stats
from benchmarks.common import machine
from benchmarks.generation import file_facts, generate, not_measured
from benchmarks.report import render

GENERATION_TIMEOUT_S = {"small": 300, "region": 900, "national": 1800}
CHECK_TIMEOUT_S = 900
STEPS = ("stats", "overlaps", "check")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--scale", choices=("national", "region", "small"), default="national")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--db", type=Path, help="GeoPackage to build (or reuse, with --keep)")
    p.add_argument("--keep", action="store_true",
                   help="reuse --db when it exists (generation not measured); keep the file")
    p.add_argument("--repeat", type=int, default=3, help="runs per timed figure (median)")
    p.add_argument("--json", type=Path, dest="json_out", help="write every figure here")
    p.add_argument("--only", nargs="+", choices=("generation", *STEPS), default=list(STEPS),
                   help="run only these steps (generation always runs, or is reused)")
    p.add_argument("--profile", action="store_true",
                   help="cProfile the service call of each stats variant over the target")
    return p.parse_args(argv)


def run(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """Every step on the store at ``path``; the figures as one dict."""
    figures: dict[str, Any] = {"scale": args.scale, "machine": machine()}
    if args.keep and path.exists():
        figures["generation"] = not_measured(args.scale)
    else:
        _say(f"building the {args.scale} demo into {path} …")
        figures["generation"] = generate(path, args.scale, args.seed,
                                         GENERATION_TIMEOUT_S[args.scale])
    figures["file"] = file_facts(path)
    steps = {
        "stats": ("timing demine stats", lambda: stats.run(path, args.repeat)),
        "overlaps": ("timing overlap/duplicate detection against GeoPandas",
                     lambda: overlaps.run(path, args.repeat)),
        "check": ("running the whole demine check once",
                  lambda: overlaps.whole_check(path, CHECK_TIMEOUT_S)),
    }
    for name in (s for s in STEPS if s in args.only):
        message, step = steps[name]
        _say(f"{message} …")
        try:
            figures[name] = step()
        except Exception as exc:  # noqa: BLE001 - one failed step must not lose the others
            figures.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
    if args.profile and "stats" in figures:
        figures["profiles"] = {
            label: stats.profile(path, kwargs) for label, _, kwargs in stats.VARIANTS
            if not figures["stats"]["variants"][label]["pass"]}
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit 1 when a step failed or the two sides disagree on the pairs."""
    args = parse(argv)
    workdir = None if args.db else Path(tempfile.mkdtemp(prefix="demine-bench-"))
    path = args.db or workdir / f"{args.scale}.gpkg"
    try:
        figures = run(args, path)
    finally:
        if workdir is not None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    figures["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print(render(figures))
    for label, text in figures.get("profiles", {}).items():
        print(f"\n== profile: stats {label} ==\n{text}")
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    found = figures.get("overlaps", {})
    agree = all(found[w]["pairs"]["agree"] for w in ("stored", "seeded") if w in found)
    return 0 if agree and "errors" not in figures else 1


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark command runs end to end on the small demo (figures only, no timing asserts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("geopandas")  # the benchmark-only extra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root

from benchmarks.__main__ import main  # noqa: E402


def test_benchmark_command_produces_every_figure_then_reuses_the_store(tmp_path, capsys):
    out, db = tmp_path / "bench.json", tmp_path / "small.gpkg"
    status = main(["--scale", "small", "--db", str(db), "--repeat", "1", "--json", str(out)])
    figures = json.loads(out.read_text())
    assert status == 0
    assert figures["generation"]["measured"] and figures["generation"]["seconds"] > 0
    assert figures["file"]["file_mb"] > 0 and figures["file"]["rows"]["hazards"] == 200
    variants = figures["stats"]["variants"]
    assert len(variants) == 6
    assert all(v["cli_s"] > 0 and v["service_ms"] > 0 for v in variants.values())
    for workload in ("stored", "seeded"):
        w = figures["overlaps"][workload]
        assert w["pairs"]["agree"], w["pairs"]["differences"]
        assert w["pairs"]["demine"] == w["pairs"]["geopandas"]
        assert w["demine"]["total_s"] > 0 and w["geopandas"]["total_s"] > 0
    seeded = figures["overlaps"]["seeded"]["pairs"]["demine_by_kind"]
    assert seeded["duplicate"] > 0 and seeded["overlap"] > 0
    assert figures["check"]["checked"]["hazards"] == 200
    assert figures["machine"]["geos"] and figures["machine"]["gdal"]

    capsys.readouterr()
    assert main(["--scale", "small", "--db", str(db), "--keep", "--only", "generation"]) == 0
    assert "build: not measured" in capsys.readouterr().out

"""The benchmark's figures as a readable table on stdout."""

from __future__ import annotations

from typing import Any


def render(figures: dict[str, Any]) -> str:
    """Every figure, one section per step."""
    lines = [_machine(figures["machine"])]
    lines += _generation(figures["generation"], figures["file"])
    if "stats" in figures:
        lines += _stats(figures["stats"])
    if "overlaps" in figures:
        lines += _overlaps(figures["overlaps"])
    if "check" in figures:
        c = figures["check"]
        lines.append(f"\nwhole `demine check --json` (every check, 1 run): {c['wall_s']:.2f} s; "
                     "findings " + ", ".join(f"{k} {v:,}" for k, v in c["counts"].items() if v))
    for step, error in figures.get("errors", {}).items():
        lines.append(f"\n{step}: FAILED: {error}")
    return "\n".join(lines)


def _machine(m: dict[str, Any]) -> str:
    return (f"machine: {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, "
            f"Python {m['python']}, GEOS {m['geos']}, GDAL {m['gdal']}, SQLite {m['sqlite']}, "
            f"GeoPandas {m['geopandas']}; load average (1/5/15 min) at start "
            f"{m['load_average_start']}, at end {m.get('load_average_end')}")


def _generation(g: dict[str, Any], f: dict[str, Any]) -> list[str]:
    lines = [f"\n== generation ({g['scale']}) =="]
    if g["measured"]:
        lines.append(f"build {g['seconds']:.1f} s (`demine demo` wall {g['wall_s']:.1f} s), "
                     f"peak RSS {g['peak_rss_mb']:,} MB")
    else:
        lines.append("build: not measured (existing file reused with --keep)")
    lines.append(f"file {f['file_mb']:,.1f} MB (+ WAL {f['wal_mb']:,.1f} MB): {f['path']}")
    lines.append("rows: " + ", ".join(f"{k} {v:,}" for k, v in f["rows"].items() if v))
    return lines


def _stats(s: dict[str, Any]) -> list[str]:
    lines = [f"\n== demine stats (median of {s['repeat']}; target ≤ {s['target_s']} s for "
             "the whole command) ==",
             f"start-up floor (Python, then the CLI loaded as the console script does): "
             f"{s['import_cli_s']:.3f} s "
             f"(CPU {s['import_cli_cpu_s']:.3f} s)",
             f"{'variant':<18}{'CLI s':>8}{'CPU s':>8}{'service ms':>12}{'CPU ms':>9}"
             f"{'groups':>8}  target"]
    for label, v in s["variants"].items():
        verdict = "PASS" if v["pass"] else "FAIL"
        lines.append(f"{label:<18}{v['cli_s']:>8.3f}{v['cli_cpu_s']:>8.3f}"
                     f"{v['service_ms']:>12.1f}{v['service_cpu_ms']:>9.1f}{v['groups']:>8}  "
                     f"{verdict}")
    lines.append(f"stats target, current figures: {'PASS' if s['pass'] else 'FAIL'}; "
                 f"--as-of (every version read from history): "
                 f"{'PASS' if s.get('as_of_pass') else 'FAIL'}")
    return lines


def _overlaps(o: dict[str, Any]) -> list[str]:
    lines = [f"\n== check: overlap/duplicate hazards vs GeoPandas sjoin (median of "
             f"{o['repeat']}; tolerance {o['tolerance_m2']} m²) =="]
    for name in ("stored", "seeded"):
        w = o[name]
        d, p, pairs = w["demine"], w["geopandas"], w["pairs"]
        extra = f", {w['seeded_copies']:,} shifted copies" if "seeded_copies" in w else ""
        lines += [
            f"{name}: {w['polygons']:,} polygons{extra}; file read {w['file_read']}",
            f"  demine    read {d['read_s']:7.3f} s  detect {d['detect_s']:7.3f} s  "
            f"total {d['total_s']:7.3f} s (CPU {d['total_cpu_s']:.3f} s)",
            f"  geopandas read {p['read_s']:7.3f} s  detect {p['detect_s']:7.3f} s  "
            f"total {p['total_s']:7.3f} s (CPU {p['total_cpu_s']:.3f} s; sjoin "
            f"{p['sjoin_s']:.3f}, intersection "
            f"{p['intersection_s']:.3f}, measure {p['measure_s']:.3f} s)",
            f"  ratio geopandas/demine: total {w['ratio']:.2f}, detect only "
            f"{w['ratio_detect']:.2f}, total CPU {w['ratio_cpu']:.2f}  "
            f"(goal ≥ 1.0: {'MET' if w['ratio'] >= 1 else 'NOT MET'})",
            f"  candidate pairs (intersecting, i < j): {w['candidate_pairs']:,}",
            f"  pairs found: demine {pairs['demine']:,} {pairs['demine_by_kind']}, geopandas "
            f"{pairs['geopandas']:,} {pairs['geopandas_by_kind']}: "
            f"{'SAME pair set' if pairs['agree'] else 'DIFFERENT: ' + str(pairs['differences'])}",
        ]
    return lines

"""Where a `demine stats` call spends its time, statement by statement (for --profile)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from demine.storage.database import Database


def capture(database: Database, call: Callable[[], Any]) -> list[tuple[str, tuple]]:
    """The SQL statements (and parameters) ``call`` sends to ``database``."""
    seen: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, tuple(parameters or ())))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return seen


def replay(path: Path, statements: list[tuple[str, tuple]]) -> list[dict[str, Any]]:
    """Each statement rerun on its own with plain sqlite3: seconds, rows and query plan."""
    out = []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            started = time.perf_counter()
            rows = conn.execute(sql, params).fetchall()
            seconds = time.perf_counter() - started
            plan = [r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
            out.append({"seconds": round(seconds, 3), "rows": len(rows),
                        "sql": " ".join(sql.split()), "plan": plan})
    finally:
        conn.close()
    return out


def render(statements: list[dict[str, Any]]) -> str:
    """Slowest first, with the plan SQLite chose."""
    lines = []
    for s in sorted(statements, key=lambda s: -s["seconds"]):
        lines.append(f"{s['seconds']:.3f} s, {s['rows']} rows: {s['sql'][:400]}")
        lines += [f"    plan: {p}" for p in s["plan"]]
    return "\n".join(lines)

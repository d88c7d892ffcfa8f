"""Shared helpers of the HTTP benchmarks: servers on loopback, a token, bounded client load.

A store is given as CLI arguments (``["--db", PATH]`` or ``["--database-url", URL]``), so
the same code drives `demine serve` on a GeoPackage and on PostGIS.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from benchmarks.common import demine_command

CLI_TIMEOUT = 300  # seconds any one `demine` command may take
_FEATURE = re.compile(rb'"type"\s*:\s*"Feature"')


def store_args(db=None, url: str | None = None) -> list[str]:
    """CLI arguments naming a store: a GeoPackage file or a database URL."""
    return ["--database-url", url] if url else ["--db", str(db)]


def stores_unusable(parser, args) -> int | None:
    """For a command with ``--db`` and ``--database-url``: a usage error when neither is
    given; 2 (after saying why and how to build it) when one given is missing; else None."""
    if not (args.db or args.database_url):
        parser.error("give --db and/or --database-url")
    missing = missing_store(args.db, args.database_url)
    if missing:
        print(missing, file=sys.stderr)
        return 2
    return None


def missing_store(db=None, url: str | None = None) -> str | None:
    """Why the store cannot be benchmarked, with how to build it; None when it is there."""
    if db is not None and not Path(db).exists():
        return (f"no GeoPackage at {db}; build it with:\n  .venv/bin/demine demo --scale "
                f"national --no-serve --db {db}")
    if url:
        from sqlalchemy import create_engine, inspect

        try:
            engine = create_engine(url, connect_args={"connect_timeout": 10})
            try:
                with engine.connect() as conn:
                    if inspect(conn).has_table("hazards"):
                        return None
            finally:
                engine.dispose()
            reason = "no hazards table"
        except Exception as exc:  # noqa: BLE001 - any failure: say it and how to build it
            reason = str(exc).splitlines()[0]
        name = url.rsplit("/", 1)[-1]
        return (f"no demine store at {url} ({reason}); build it with (about 10 minutes):\n"
                f"  bash scripts/postgis.sh start && bash scripts/postgis.sh createdb {name}\n"
                f"  .venv/bin/demine init --database-url {url}\n"
                f"  .venv/bin/demine demo --scale national --no-serve --database-url {url}")
    return None


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(store: list[str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([*demine_command(), *args, *store], input=stdin, text=True,
                          capture_output=True, timeout=CLI_TIMEOUT, check=False)
    return done.stdout


def bench_email(role: str) -> str:
    """The benchmark user of a role (``token`` creates it)."""
    return f"bench-{role}@demine.invalid"


def token(store: list[str], role: str = "authority", *, write: bool = False) -> str:
    """A read (or read and write) token of a benchmark user of the national authority
    (created on first use). An admin sees every record; an authority user goes through the
    need-to-know filter (drafts, restricted and confidential records of others stay hidden)."""
    orgs = json.loads(_cli(store, "org", "list", "--json"))
    org = next((o for o in orgs if o["kind"] == "authority"), orgs[0])
    email = bench_email(role)
    _cli(store, "user", "add", "--email", email, "--org", org["code"], "--role", role,
         "--password-stdin", stdin="benchmark-password\n")
    scopes = ["--scope", "read", "--scope", "write"] if write else []
    return json.loads(_cli(store, "token", "create", "--email", email, *scopes,
                           "--json"))["token"]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    """Return once ``url`` answers 200; RuntimeError when the server died or took too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@contextmanager
def server(args: Sequence[str], ready_url: str, *, env: dict | None = None,
           log: Path | None = None):
    """Run a server command for the duration of the block (its output to ``log``, if given);
    always stopped afterwards."""
    with open(log or os.devnull, "wb") as out:
        process = subprocess.Popen(list(args), stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
        try:
            wait_until_up(ready_url, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


@contextmanager
def demine_server(store: list[str], workers: int, env: dict | None = None):
    """`demine serve --workers N` on a free loopback port; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server([*demine_command(), "serve", *store, "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers)], f"{url}/healthz", env=env):
        yield url


@dataclass
class Sample:
    """One request: seconds, HTTP status, features (or 1 per tile), response bytes, label."""

    seconds: float
    status: int
    count: int
    size: int
    label: str


@dataclass
class Reply:
    """What the load clients keep of a response."""

    status_code: int
    content: bytes


def features_returned(response: Reply) -> int:
    """The features in a GeoJSON page, counted without parsing it (and the same way for
    every server: not all of them send numberReturned)."""
    return len(_FEATURE.findall(response.content))


class _Client:
    """A keep-alive HTTP/1.1 connection of the standard library: it costs the client a
    fraction of the CPU httpx does, which matters when the client shares two cores with the
    servers it measures (an empty tile: about 560 requests/s against 410 with httpx)."""

    def __init__(self, base_url: str, headers: dict | None):
        parts = urlsplit(base_url)
        self.host, self.port, self.headers = parts.hostname, parts.port, dict(headers or {})
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def get(self, path: str) -> Reply:
        try:
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
            return Reply(response.status, response.read())
        except (http.client.HTTPException, OSError):
            self.connection.close()  # the server closed an idle connection: reconnect once
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
            return Reply(response.status, response.read())

    def close(self) -> None:
        self.connection.close()


def _timed_get(http: _Client, label: str, path: str,
               count: Callable[[Reply], int]) -> Sample:
    started = time.perf_counter()
    r = http.get(path)
    elapsed = time.perf_counter() - started
    return Sample(elapsed, r.status_code, count(r) if r.status_code == 200 else 0,
                  len(r.content), label)


def run_load(base_url: str, requests: Sequence[tuple[str, str]], *, seconds: float,
             clients: int, headers: dict | None = None,
             count: Callable[[Reply], int] = lambda r: 1,
             meanwhile: Callable[[float], object] = time.sleep) -> tuple[list[Sample], float]:
    """``clients`` threads send ``requests`` ((label, path) pairs, in order, cycling) for
    ``seconds`` (while this thread runs ``meanwhile(seconds)``, which must last that long);
    the samples and the wall seconds until the last request finished."""
    order, stop = itertools.cycle(requests), threading.Event()
    return _drive(base_url, headers, count, clients, lambda: None if stop.is_set()
                  else next(order), lambda: (meanwhile(seconds), stop.set()))


def run_once(base_url: str, requests: Sequence[tuple[str, str]], *, clients: int,
             headers: dict | None = None,
             count: Callable[[Reply], int] = lambda r: 1) -> tuple[list[Sample], float]:
    """``clients`` threads send each of ``requests`` exactly once (a cold pass: nothing asked
    before); the samples and the wall seconds the pass took."""
    pending = list(reversed(requests))
    return _drive(base_url, headers, count, clients,
                  lambda: pending.pop() if pending else None, lambda: None)


def _drive(base_url: str, headers: dict | None, count: Callable[[Reply], int], clients: int,
           take: Callable[[], tuple[str, str] | None],
           meanwhile: Callable[[], object]) -> tuple[list[Sample], float]:
    """``clients`` threads each take the next request (under a lock) until ``take`` gives
    None, while this thread runs ``meanwhile``; the samples and the wall seconds."""
    lock, samples = threading.Lock(), []

    def client() -> None:
        http = _Client(base_url, headers)
        while True:
            with lock:
                request = take()
            if request is None:
                break
            samples.append(_timed_get(http, *request, count))
        http.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    meanwhile()
    for t in threads:
        t.join(timeout=90)
    return samples, time.perf_counter() - started


def summary(samples: Sequence[Sample], elapsed: float, *, ok=(200,),
            counted: str = "features") -> dict:
    """requests/s, counted/s (features, non-empty tiles), p50/p95 ms, errors of some samples."""
    if not samples:
        return {"requests": 0}
    ordered = sorted(s.seconds for s in samples)
    total = sum(s.count for s in samples)
    return {"requests": len(samples),
            "errors": sum(s.status not in ok for s in samples),
            "requests_per_s": round(len(samples) / elapsed, 1),
            f"{counted}_per_s": round(total / elapsed, 1),
            f"mean_{counted}": round(total / len(samples), 2),
            "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
            "mean_kb": round(sum(s.size for s in samples) / len(samples) / 1024, 1)}


def machine_load() -> list[float]:
    """The 1, 5 and 15 minute load averages (the machine has other users)."""
    return [round(v, 2) for v in os.getloadavg()]


def finish(figures: dict, json_path: Path | None) -> None:
    """Note the load at the end, print the machine line, write the figures when asked."""
    figures["load_end"] = machine_load()
    print(f"\nmachine: {figures['cpus']} CPUs, load average {figures['load_start']} at the "
          f"start, {figures['load_end']} at the end")
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2))

"""Concurrent clients against `demine serve --workers 2`: optimistic locking holds (one writer
wins, the other gets 412), concurrent creates all succeed with distinct codes, and the audit
chain stays linear. Both backends, on the small demo region (one per module).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from shapely.geometry import mapping, shape
from typer.testing import CliRunner

from demine.cli.app import app as demine_cli
from demine.services.tiles.grid import tile_of

ROUNDS = 10  # hazards patched by two clients at once
BURSTS = 3  # times two clients create 20 EO finds each at once


# --- the store: a copy of the session's demo template, shared by this module's tests ---------

def _demine(url: str, *args: str):
    return CliRunner().invoke(demine_cli, [*args, "--database-url", url])


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def demo_url(request, tmp_path_factory):
    """A store holding the small demo region, shared by this module's tests."""
    template = request.getfixturevalue(f"{request.param}_demo")
    url, remove = template.copy(tmp_path_factory.mktemp("demo"))
    yield url
    remove()


# --- the server: a real `demine serve` with two worker processes ----------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # the server and its workers: the group this test started
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(demo_url, tmp_path_factory):
    """The base URL of `demine serve --workers 2` on the module's store."""
    port = _free_port()
    tmp_path = tmp_path_factory.mktemp("serve")
    log = (tmp_path / "serve.log").open("w")
    env = {**os.environ, "DEMINE_DATABASE_URL": demo_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "demine", "serve", "--database-url", demo_url, "--host",
         "127.0.0.1", "--port", str(port), "--workers", "2"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "demine serve did not start"
            time.sleep(0.3)
        yield base
    finally:
        _stop(process)
        log.close()


def bearer(base: str, role: str) -> dict[str, str]:
    response = httpx.post(f"{base}/api/v1/auth/token", timeout=30,
                          json={"email": f"{role}@demo.demine.org",
                                "password": f"demine-demo-{role}"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def together(*calls: Callable[[], object]) -> list:
    """Run the calls in threads released at the same moment (a barrier); their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for result in results:
        assert result is not None and not isinstance(result, Exception), result
    return results


# --- tests ----------------------------------------------------------------------------------

def test_same_etag_patched_twice_at_once_one_wins(server, demo_url):
    first, second = bearer(server, "operator"), bearer(server, "operator")
    with httpx.Client(base_url=server, timeout=60) as a, \
            httpx.Client(base_url=server, timeout=60) as b:
        hazards = a.get("/api/v1/hazards", headers=first,
                        params={"organisation": "SEDS", "limit": ROUNDS}).json()["items"]
        assert len(hazards) == ROUNDS
        for hazard in hazards:
            location = f"/api/v1/hazards/{hazard['id']}"
            current = a.get(location, headers=first)
            etag, version = current.headers["ETag"], current.json()["version"]

            def patch(client, headers, name, etag=etag, location=location):
                return lambda: client.patch(
                    location, json={"name": name},
                    headers={**headers, "If-Match": etag,
                             "Content-Type": "application/merge-patch+json"})

            responses = together(patch(a, first, "renamed by A"),
                                 patch(b, second, "renamed by B"))
            statuses = [r.status_code for r in responses]
            assert sorted(statuses) == [200, 412], [r.text for r in responses]
            winner = responses[statuses.index(200)].json()
            after = a.get(location, headers=first).json()
            if hazard["review_status"] == "approved":  # the edit waits for the authority
                assert after["version"] == version == winner["version"]
                assert after["pending_change"] == winner["pending_change"]
                assert after["pending_change"]["changes"]["name"] in ("renamed by A",
                                                                      "renamed by B")
            else:
                assert after["version"] == version + 1 == winner["version"]
                assert after["name"] == winner["name"]
            assert responses[statuses.index(412)].json()["error"]["code"] == \
                "precondition_failed"
    report = _demine(demo_url, "audit", "verify", "--json")
    assert report.exit_code == 0, report.output


def test_concurrent_creates_all_succeed_and_the_chain_stays_linear(server, demo_url):
    headers = [bearer(server, "operator"), bearer(server, "operator")]
    with httpx.Client(base_url=server, timeout=60) as client:
        hazards = client.get("/api/v1/hazards", headers=headers[0],
                             params={"organisation": "SEDS", "limit": 1}).json()
        point = shape(hazards["items"][0]["geometry"]).representative_point()
        total = client.get("/api/v1/eo_finds", headers=headers[0],
                           params={"limit": 1}).json()["total"]
    before = json.loads(_demine(demo_url, "audit", "verify", "--json").stdout)["entries"]

    body = {"hazard_id": hazards["items"][0]["id"], "category": "ap_mine", "quantity": 1,
            "found_on": "2025-06-03", "geometry": mapping(point)}

    def burst(n: int) -> Callable[[], list]:
        def send() -> list:
            outcomes = []
            with httpx.Client(base_url=server, timeout=60) as client:
                for _ in range(20):
                    try:
                        outcomes.append(client.post("/api/v1/eo_finds", headers=headers[n],
                                                    json=body))
                    except httpx.TransportError as exc:  # e.g. reset after a server error
                        outcomes.append(exc)
            return outcomes
        return send

    outcomes = [o for _ in range(BURSTS)
                for burst_outcomes in together(burst(0), burst(1)) for o in burst_outcomes]
    responses = [o for o in outcomes if isinstance(o, httpx.Response) and o.status_code == 201]
    problems = [o if isinstance(o, Exception) else f"{o.status_code} {o.text[:120]}"
                for o in outcomes if isinstance(o, Exception) or o.status_code != 201]
    assert not problems, f"{len(problems)} of {len(outcomes)} creates failed: {problems[:3]}"
    codes = [r.json()["code"] for r in responses]
    assert len(set(codes)) == len(codes) == 40 * BURSTS

    with httpx.Client(base_url=server, timeout=60) as client:
        assert client.get("/api/v1/eo_finds", headers=headers[0],
                          params={"limit": 1}).json()["total"] == total + 40 * BURSTS
    report = _demine(demo_url, "audit", "verify", "--json")
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["entries"] == before + 40 * BURSTS


def test_no_worker_serves_a_tile_made_before_a_change(server):
    """Both workers keep tiles (in memory and in the file they share): after a rename through
    one of them, every answer, whichever worker gives it, carries the new name."""
    import mapbox_vector_tile

    admin = bearer(server, "admin")
    hazard = httpx.get(f"{server}/api/v1/hazards", params={"limit": 1}, headers=admin,
                       timeout=30).json()["items"][0]
    point = shape(hazard["geometry"]).representative_point()
    z, (x, y) = 13, tile_of(point.x, point.y, 13)
    path = f"{server}/tiles/hazards/{z}/{x}/{y}.pbf"

    def names(rounds: int) -> set[str]:
        seen = set()
        for _ in range(rounds):  # a connection each: the workers take turns
            tile = mapbox_vector_tile.decode(httpx.get(path, headers=admin, timeout=30).content)
            seen |= {f["properties"].get("name") for f in tile["hazards"]["features"]
                     if f["id"] == hazard["id"]}
        return seen

    assert names(12) == {hazard["name"]}  # made by each worker, then kept
    location = f"{server}/api/v1/hazards/{hazard['id']}"
    tag = httpx.get(location, headers=admin, timeout=30).headers["ETag"]
    renamed = httpx.patch(location, json={"name": "renamed while cached"}, timeout=30, headers={
        **admin, "Content-Type": "application/merge-patch+json", "If-Match": tag})
    assert renamed.status_code == 200, renamed.text
    assert names(12) == {"renamed while cached"}

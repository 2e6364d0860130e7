"""Limits: query deadline (runaway query killed, others keep answering), row cap, request size."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, auth
from kg_twin.history.recorder import RecordingStore

CROSS = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_runaway_query_is_killed_while_others_answer(live_server: LiveServer) -> None:
    srv = live_server
    p = srv.create_project("slow")
    srv.put_graph(p, "default", "".join(f"<urn:s{i}> <urn:p> {i} .\n" for i in range(300)), "text/turtle")
    tok = srv.token(p, "reader")
    store = srv.twin.store.inner if isinstance(srv.twin.store, RecordingStore) else srv.twin.store  # the backend under the history recorder
    pool = store._pool  # the on-disk store's worker pool
    assert pool is not None
    killed_before = srv.twin.store.workers_killed
    pids_before = {w.proc.pid for w in pool._all}

    other: list[tuple[float, int, float]] = []  # (start, status, seconds)
    stop = threading.Event()

    def other_client() -> None:
        with srv.client(tok) as c:
            while not stop.is_set():
                t0 = time.monotonic()
                r = c.get(f"/projects/{p}/sparql", params={"query": "SELECT ?o { <urn:s7> ?p ?o }"})
                other.append((t0, r.status_code, time.monotonic() - t0))
                time.sleep(0.05)

    with srv.client(tok) as c:
        c.get(f"/projects/{p}/sparql", params={"query": "ASK {}"})  # snapshot made, workers warm
        th = threading.Thread(target=other_client, daemon=True)
        th.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        r = c.get(f"/projects/{p}/sparql", params={"query": CROSS, "timeout": "1"})
        t_runaway = time.monotonic() - t0
        t_end = time.monotonic()
        time.sleep(0.5)
        stop.set()
        th.join(timeout=10)

    during = [o for o in other if t0 <= o[0] <= t_end]
    print(f"\nrunaway: 503 after {t_runaway:.2f} s; other client: {len(during)} queries during it, max {max((o[2] for o in during), default=0):.3f} s")
    assert r.status_code == 503, r.text
    assert r.text.startswith("QUERY_TIMEOUT")
    assert t_runaway < 6, f"503 came after {t_runaway:.1f} s"  # ~1 s + overhead; generous bound
    assert len(during) >= 3, other
    assert all(status == 200 for _, status, _ in during), during
    # the worker was killed (CPU freed), and replaced
    assert srv.twin.store.workers_killed == killed_before + 1
    dead = [pid for pid in pids_before if not _pid_alive(pid)]
    assert len(dead) == 1, (pids_before, dead)
    deadline = time.monotonic() + 10
    while len(pool._all) < pool.size and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pool._all) == pool.size
    with srv.client(tok) as c:
        r = c.get(f"/projects/{p}/sparql", params={"query": "SELECT ?o { <urn:s7> ?p ?o }"})
        assert r.status_code == 200 and '"7"' in r.text


def test_timeout_parameter_is_validated(live_server: LiveServer) -> None:
    srv = live_server
    p = srv.create_project("tp")
    with srv.client(srv.admin) as c:
        for bad in ("abc", "-1", "0"):
            r = c.get(f"/projects/{p}/sparql", params={"query": "ASK {}", "timeout": bad})
            assert r.status_code == 400 and r.text.startswith("BAD_TIMEOUT"), r.text
        # a request may not ask for more than the server limit (still answers)
        assert c.get(f"/projects/{p}/sparql", params={"query": "ASK {}", "timeout": "99999"}).status_code == 200


@pytest.fixture(scope="module")
def capped(make_live_server: Any) -> LiveServer:
    return make_live_server(max_rows=5, max_query_bytes=2048, max_upload_bytes=4096)


def test_row_cap_signals_truncation(capped: LiveServer) -> None:
    srv = capped
    p = srv.create_project("cap")
    srv.put_graph(p, "default", "".join(f"<urn:s{i}> <urn:p> {i} .\n" for i in range(20)), "text/turtle")
    with srv.client(srv.admin) as c:
        r = c.get(f"/projects/{p}/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200
        assert r.headers["X-KG-Twin-Truncated"] == "true" and r.headers["X-KG-Twin-Row-Limit"] == "5"
        doc = r.json()
        assert doc["truncated"] is True and len(doc["results"]["bindings"]) == 5
        r = c.get(f"/projects/{p}/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+xml"})
        assert r.headers["X-KG-Twin-Truncated"] == "true" and r.text.count("<result>") == 5
        r = c.get(f"/projects/{p}/sparql", params={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": "text/csv"})
        assert r.headers["X-KG-Twin-Truncated"] == "true" and len(r.text.strip().splitlines()) == 6
        r = c.get(f"/projects/{p}/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "application/n-triples"})
        assert r.headers["X-KG-Twin-Truncated"] == "true" and len(r.text.strip().splitlines()) == 5
        # under the cap: no signal
        r = c.get(f"/projects/{p}/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 5"})
        assert "X-KG-Twin-Truncated" not in r.headers and "truncated" not in r.json()
        # the federated endpoint caps too
        r = c.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
        assert r.headers["X-KG-Twin-Truncated"] == "true" and len(r.json()["results"]["bindings"]) == 5


def test_request_size_limits(capped: LiveServer) -> None:
    srv = capped
    p = srv.create_project("size")
    big_query = "SELECT * { ?s ?p ?o } #" + "x" * 3000
    with srv.client(srv.admin) as c:
        r = c.get(f"/projects/{p}/sparql", params={"query": big_query})
        assert r.status_code == 413 and r.text.startswith("QUERY_TOO_LARGE")
        r = c.post(f"/projects/{p}/sparql", content=big_query.encode(), headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 413
        r = c.post(f"/projects/{p}/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> \"" + "y" * 3000 + "\" }"})
        assert r.status_code == 413
        # a huge body is refused without being buffered whole (3 x max_query_bytes + 64 KiB)
        huge = b"query=" + b"A" * (3 * 2048 + 65536 + 10)
        r = c.post(f"/projects/{p}/sparql", content=huge, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413 and r.text.startswith("QUERY_TOO_LARGE")

        def chunks() -> Any:
            for _ in range(100):
                yield b"B" * 65536

        r = c.post("/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 413
        # GSP upload over KG_TWIN_MAX_UPLOAD_BYTES: refused, nothing stored
        body = "".join(f"<urn:s{i}> <urn:p> \"{'z' * 40}\" .\n" for i in range(200)).encode()
        assert len(body) > 4096
        r = c.put(f"/graph/{p}/big", content=body, headers={"Content-Type": "application/n-triples"})
        assert r.status_code == 413 and r.json()["code"] == "UPLOAD_TOO_LARGE"
        assert c.get(f"/graph/{p}/big").status_code == 404
        # just under the limits: fine
        assert c.get(f"/projects/{p}/sparql", params={"query": "SELECT * { ?s ?p ?o } #" + "x" * 1500}).status_code == 200
        assert c.put(f"/graph/{p}/small", content=body[:2000].rsplit(b"\n", 1)[0] + b"\n", headers={"Content-Type": "application/n-triples"}).status_code == 201

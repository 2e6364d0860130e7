"""Runaway planning stopped in job workers: time to the 503, the server's memory, the cost for
ordinary updates. Against a real ``kg-twin serve`` on 127.0.0.1 (stopped at the end).

    python -m bench.isolation                     # deadline 2 s, 5 rounds
    python -m bench.isolation --deadline 1 --rounds 10 --triples 20000

Prints, per kind of request (update, sh:select validation, uploaded-data validation, named query
check), the seconds from sending a request with 200 star patterns to its 503 (median and max; the
deadline is the baseline: ratio = time / deadline), the latency of a simple query sent meanwhile,
the resident memory of the server and of its workers before and after, and the latency of an
``INSERT ... WHERE`` update (rehearsed in a worker) against an ``INSERT DATA`` one (not rehearsed).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import httpx

EX = "http://example.org/"
RU = "application/sparql-update"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return out


def _memory(pid: int) -> str:
    kids = _children(pid)
    return f"server {_rss_kb(pid) / 1024:.0f} MB, {len(kids)} workers {sum(_rss_kb(k) for k in kids) / 1024:.0f} MB"


def _star(n: int = 200) -> str:
    return " . ".join(f"?x <{EX}p{i}> ?o{i}" for i in range(n))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deadline", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--triples", type=int, default=10000, help="triples in the project's graph")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kgt-bench-iso-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "KG_TWIN_DATA_DIR": str(work), "KG_TWIN_PORT": str(port), "KG_TWIN_HOST": "127.0.0.1", "KG_TWIN_BASE_IRI": url + "/",
           "KG_TWIN_INFER_ON_CHANGE": "false", "KG_TWIN_LOG_LEVEL": "warning",
           "KG_TWIN_QUERY_TIMEOUT_S": str(args.deadline), "KG_TWIN_VALIDATE_TIMEOUT_S": str(args.deadline)}
    admin = subprocess.run([sys.executable, "-m", "kg_twin", "token", "create", "--project", "*", "--role", "admin"], capture_output=True, text=True, env=env, check=True, timeout=120).stdout.strip()
    h = {"Authorization": f"Bearer {admin}"}
    proc = subprocess.Popen([sys.executable, "-m", "kg_twin", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "wb"))
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert httpx.post(url + "/projects", json={"id": "b", "public": True}, headers=h, timeout=30).status_code == 201
        graph = f"{url}/graph/b/data"
        data = "".join(f"<{EX}s{i}> a <{EX}Thing> ; <{EX}p{i % 7}> {i} .\n" for i in range(args.triples // 2))
        r = httpx.put(f"{url}/projects/b/graphs", params={"graph": graph}, content=data.encode(), headers={"Content-Type": "text/turtle", **h}, timeout=120)
        assert r.status_code in (201, 204), r.text
        time.sleep(3)  # workers started
        print(f"deadline {args.deadline:g} s, {args.triples} triples, {args.rounds} rounds")
        print(f"memory idle:  {_memory(proc.pid)}")
        shapes = (f'@prefix sh: <http://www.w3.org/ns/shacl#> . <{EX}S> a sh:NodeShape ; sh:targetClass <{EX}Thing> ; '
                  f'sh:sparql [ sh:message "m" ; sh:select """SELECT $this WHERE {{ $this a <{EX}Thing> . {_star()} }}""" ] .')
        kinds: dict[str, Callable[[httpx.Client], httpx.Response]] = {
            "update": lambda c: c.post(f"{url}/projects/b/sparql", content=f"INSERT {{ GRAPH <{graph}> {{ ?x <{EX}q> 1 }} }} WHERE {{ GRAPH <{graph}> {{ {_star()} }} }}", headers={"Content-Type": RU, **h}),
            "validate (project)": lambda c: c.post(f"{url}/projects/b/validate", content=shapes.encode(), headers={"Content-Type": "text/turtle"}),
            "validate (upload)": lambda c: c.post(f"{url}/projects/b/validate", json={"shapes": shapes, "data": f"<{EX}a> a <{EX}Thing> ."}),
            "named query check": lambda c: c.put(f"{url}/projects/b/queries/star", content=f"#+ summary: s\nSELECT ?x WHERE {{ {_star()} }}", headers={"Content-Type": "application/sparql-query", **h}),
        }
        for name, send in kinds.items():
            times, side = [], []
            for _ in range(args.rounds):
                box: dict[str, Any] = {}

                def slow() -> None:
                    with httpx.Client(timeout=120) as c:
                        t0 = time.monotonic()
                        box["r"] = send(c)
                        box["t"] = time.monotonic() - t0

                th = threading.Thread(target=slow)
                th.start()
                time.sleep(args.deadline / 3)
                t0 = time.monotonic()
                q = httpx.get(f"{url}/projects/b/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=120)
                side.append(time.monotonic() - t0)
                th.join()
                assert box["r"].status_code == 503 and q.status_code == 200, (box["r"].status_code, box["r"].text[:300], q.status_code)
                times.append(box["t"])
                time.sleep(1.5)  # the killed worker's replacement starts
            print(f"{name:20s} 503 after median {statistics.median(times):.2f} s (x{statistics.median(times) / args.deadline:.2f} the deadline), "
                  f"max {max(times):.2f} s; a query meanwhile: median {statistics.median(side) * 1000:.0f} ms, max {max(side) * 1000:.0f} ms")
        lat: dict[str, list[float]] = {"INSERT DATA": [], "INSERT WHERE (rehearsed)": []}
        with httpx.Client(timeout=60) as c:
            for i in range(args.rounds * 4):
                for name, text in (("INSERT DATA", f"INSERT DATA {{ GRAPH <{graph}> {{ <{EX}n{i}> <{EX}v> {i} }} }}"),
                                   ("INSERT WHERE (rehearsed)", f"INSERT {{ GRAPH <{graph}> {{ ?s <{EX}w> {i} }} }} WHERE {{ GRAPH <{graph}> {{ ?s <{EX}v> {i} }} }}")):
                    t0 = time.monotonic()
                    r = c.post(f"{url}/projects/b/sparql", content=text, headers={"Content-Type": RU, **h})
                    lat[name].append(time.monotonic() - t0)
                    assert r.status_code == 204, r.text
        base = statistics.median(lat["INSERT DATA"])
        for name, v in lat.items():
            print(f"{name:26s} median {statistics.median(v) * 1000:.0f} ms (x{statistics.median(v) / base:.1f} INSERT DATA)")
        print(f"memory after: {_memory(proc.pid)}")
        print(json.dumps({"server_alive": proc.poll() is None}))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


if __name__ == "__main__":
    main()

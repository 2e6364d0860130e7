"""HTTP query throughput: kg-twin's project endpoint vs ``oxigraph serve-read-only``, same data, ``wrk``.

Both servers get the same generated district (:mod:`bench.generate`); ``wrk`` (a native client, so
that the client is not the bottleneck) sends each query shape for a few seconds at 1, 4 and 16
connections: SPARQL shapes as ``POST application/sparql-query``, the named query as ``GET``. Per
cell: req/s, p50/p99 latency, CPU per request of the API process (and of its query workers), and the
kg-twin / oxigraph ratio. A last row checks that a runaway query still ends with 503 within its
deadline + 1 s while 4 connections keep the server busy.

    python -m bench.http                     # 200k triples, 6 s per cell, 1/4/16 connections
    python -m bench.http --quick             # 20k triples, 1 s per cell, 1/4 connections
    python -m bench --only http              # the same, inside docs/benchmarks.md

``wrk`` is the Debian package ``wrk``: installed here with apt-get when missing and running as root,
otherwise the bench stops with a message saying how to install it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
ID = "http://localhost:8000/id/bench/"
PREFIXES = "PREFIX brick: <https://brickschema.org/schema/Brick#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "

#: the five shapes of the issue (tracker #17): name -> (query, engine-bound?)
QUERIES: dict[str, str] = {
    "one subject's triples": f"SELECT ?p ?o WHERE {{ <{ID}building/B00003/storey/1/space/2/CO2> ?p ?o }}",
    "50 subjects of a class": PREFIXES + "SELECT ?s ?l WHERE { ?s a brick:VAV ; rdfs:label ?l } LIMIT 50",
    "count by class": "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)",
    "regex on labels": PREFIXES + 'SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(REGEX(?l, "^RM1[0-9]+ CO2$")) } LIMIT 100',
    "1000 rows": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1000",
}
NAMED = "list-points-of-equipment"
NAMED_ARG = ("equipment", f"{ID}building/B00001/AHU-1")
ACCEPT = "application/sparql-results+json"

LUA = """
wrk.method = os.getenv("BENCH_METHOD")
wrk.headers["Accept"] = os.getenv("BENCH_ACCEPT")
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/sparql-query"
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p99_us\\": %d, \\"non2xx\\": %d, \\"socket_errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_wrk() -> str:
    """The ``wrk`` binary: found, or installed from Debian with apt-get when running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package) with apt-get", file=sys.stderr)
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("bench.http needs the HTTP load generator `wrk`: install it with `sudo apt-get install wrk` (Debian/Ubuntu) and run again")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def wrk(binary: str, lua: Path, url: str, method: str, body: str, connections: int, seconds: float) -> dict[str, float]:
    env = dict(os.environ, BENCH_METHOD=method, BENCH_BODY=body, BENCH_ACCEPT=ACCEPT)
    threads = min(connections, 2)
    out = subprocess.run(
        [binary, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "30s", "-s", str(lua), url],
        capture_output=True, text=True, env=env, timeout=seconds + 60,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {out.stdout[-500:]} {out.stderr[-500:]}")
    r = json.loads(line[6:])
    secs = r["duration_us"] / 1e6
    return {"requests": r["requests"], "rps": r["requests"] / secs if secs else 0.0, "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "errors": r["non2xx"] + r["socket_errors"]}


def measure(binary: str, lua: Path, url: str, method: str, body: str, connections: int, seconds: float, pid: int) -> dict[str, float]:
    """One wrk cell, with the CPU the server process (and, apart, its children) spent per request."""
    kids = children(pid)
    c0, k0 = cpu_seconds(pid), sum(cpu_seconds(k) for k in kids)
    r = wrk(binary, lua, url, method, body, connections, seconds)
    c1, k1 = cpu_seconds(pid), sum(cpu_seconds(k) for k in kids)
    n = r["requests"]
    r["cpu_us"] = (c1 - c0) / n * 1e6 if n else float("nan")  # nan: no request finished within the cell
    r["workers_cpu_us"] = (k1 - k0) / n * 1e6 if n else float("nan")
    return r


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def named_text() -> str:
    """The named query's text with its parameter pasted in (what a client of oxigraph would send)."""
    from bench.catalog import paste

    text = "\n".join(ln for ln in (ROOT / "queries" / f"{NAMED}.rq").read_text().splitlines() if not ln.startswith("#+"))
    return paste(text, "_equipment_iri", f"<{NAMED_ARG[1]}>")


def runaway(port: int, binary: str, lua: Path, timeout_s: float) -> dict[str, float]:
    """A runaway query with ``?timeout=`` while 4 connections send lookups: status and seconds to answer."""
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
    url = f"http://127.0.0.1:{port}/projects/bench/sparql?" + urlencode({"timeout": f"{timeout_s:g}"})
    load = threading.Thread(target=wrk, args=(binary, lua, f"http://127.0.0.1:{port}/projects/bench/sparql", "POST", QUERIES["one subject's triples"], 4, timeout_s + 3))
    load.start()
    time.sleep(1.0)
    req = urllib.request.Request(url, data=q.encode(), headers={"Content-Type": "application/sparql-query", "Accept": ACCEPT})
    t0 = time.monotonic()
    try:
        status = urllib.request.urlopen(req, timeout=timeout_s + 30).status
    except urllib.error.HTTPError as e:
        status = e.code
    elapsed = time.monotonic() - t0
    load.join()
    return {"status": status, "seconds": elapsed, "deadline": timeout_s}


def run(n: int, seconds: float, connections: list[int], work: Path) -> str:
    """Start both servers on the same data, measure every cell, stop both; the markdown table."""
    from bench.generate import write

    binary = ensure_wrk()
    lua = work / "bench.lua"
    lua.write_text(LUA)
    f = work / "http.nt"
    real = write(f, n)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        data = work / "kgt-http"
        # same work as oxigraph: no reasoner refreshing after the load
        env = dict(os.environ, PYTHONPATH=str(ROOT), KG_TWIN_DATA_DIR=str(data), KG_TWIN_INFER_ON_CHANGE="false")
        subprocess.run([sys.executable, "-m", "kg_twin", "project", "create", "bench", "--public"], env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "kg_twin", "load", str(f), "--project", "bench", "--graph", "district"], env=env, check=True, capture_output=True)
        kport = free_port()
        kgt = subprocess.Popen([sys.executable, "-m", "kg_twin", "serve", "--port", str(kport)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(kgt)
        oxdir = work / "ox-http"
        oxbin = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        subprocess.run([oxbin, "load", "--location", str(oxdir), "--file", str(f)], check=True, capture_output=True)
        oport = free_port()
        oxp = subprocess.Popen([oxbin, "serve-read-only", "--location", str(oxdir), "--bind", f"127.0.0.1:{oport}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(oxp)
        wait_http(f"http://127.0.0.1:{kport}/health")
        wait_http(f"http://127.0.0.1:{oport}/query?query=ASK%7B%7D")
        kurl, ourl = f"http://127.0.0.1:{kport}/projects/bench/sparql", f"http://127.0.0.1:{oport}/query"
        cells: list[tuple[str, str, str, str, str]] = [(name, "POST", kurl, "POST", q) for name, q in QUERIES.items()]
        named_url = f"http://127.0.0.1:{kport}/projects/bench/queries/{NAMED}?" + urlencode([NAMED_ARG])
        cells.append((f"named query `{NAMED}` (GET)", "GET", named_url, "GET", ""))
        rows = []
        for name, kmethod, ku, _, body in cells:
            obody = named_text() if kmethod == "GET" else body
            ou = ourl + "?query=" + quote(obody) if kmethod == "GET" else ourl
            for c in connections:
                wrk(binary, lua, ku, kmethod, body, c, min(1.0, seconds))  # warm-up (snapshot, caches)
                k = measure(binary, lua, ku, kmethod, body, c, seconds, kgt.pid)
                o = measure(binary, lua, ou, kmethod, body, c, seconds, oxp.pid)
                ratio = k["rps"] / o["rps"] if o["rps"] else float("nan")
                rows.append([name, c, k["rps"], k["p50_ms"], k["p99_ms"], k["cpu_us"], k["workers_cpu_us"], o["rps"], o["p50_ms"], o["p99_ms"], o["cpu_us"], ratio,
                             int(k["errors"] + o["errors"])])
                print(f"  {name} c={c}: kg-twin {k['rps']:,.0f} req/s, oxigraph {o['rps']:,.0f} req/s, ratio {ratio:.2f}", file=sys.stderr)
        ra = runaway(kport, binary, lua, 2.0)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    from bench.__main__ import table

    md = table(["query", "conns", "kg-twin req/s", "p50 ms", "p99 ms", "API CPU µs/req", "workers CPU µs/req", "oxigraph req/s", "p50 ms", "p99 ms",
                "oxigraph CPU µs/req", "kg-twin / oxigraph", "errors"], rows)
    md += (f"\n\n{real:,} triples in both servers; `wrk` on 127.0.0.1, {seconds:g} s per cell. Runaway query "
           f"(`?timeout={ra['deadline']:g}`) under 4-connection lookup load: HTTP {ra['status']} after {ra['seconds']:.2f} s.")
    return md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20k triples, 1 s per cell, 1 and 4 connections")
    ap.add_argument("--triples", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--connections", type=int, action="append", help="repeatable; default 1, 4, 16")
    a = ap.parse_args(argv)
    n = a.triples or (20_000 if a.quick else 200_000)
    seconds = a.seconds or (1.0 if a.quick else 6.0)
    conns = a.connections or ([1, 4] if a.quick else [1, 4, 16])
    work = Path(tempfile.mkdtemp(prefix="kgt-bench-http-"))
    try:
        print(run(n, seconds, conns, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Live-twin benchmark: readings/s through REST and MQTT, arrival -> SPARQL visibility latency,
history aggregates over 10M stored readings (full mode), SQLite vs DuckDB as the history store.

    python -m bench.live            # full (a few minutes; writes 10M readings)
    python -m bench.live --quick    # seconds

The server runs as a separate process (`python -m kg_twin serve`, uvloop + httptools, 2 query
workers) on 127.0.0.1; clients run in this process. Client and server share the same cores, so
the numbers are a lower bound of what the server alone does. Mosquitto is used when installed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
BRICK = "https://brickschema.org/schema/Brick#"
NS = "http://example.org/bench#"
KGT = "https://w3id.org/kg-twin/ontology#"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model(n_rooms: int) -> bytes:
    """A Brick model: rooms with a CO2, a temperature and an occupancy point each (3 points per room)."""
    out = [f"@prefix brick: <{BRICK}> . @prefix unit: <http://qudt.org/vocab/unit/> . @prefix b: <{NS}> ."]
    for i in range(n_rooms):
        out.append(
            f"b:room{i} a brick:Room . b:co2_{i} a brick:CO2_Level_Sensor ; brick:hasUnit unit:PPM ; brick:isPointOf b:room{i} . "
            f"b:temp_{i} a brick:Zone_Air_Temperature_Sensor ; brick:hasUnit unit:DEG_C ; brick:isPointOf b:room{i} . "
            f"b:occ_{i} a brick:Occupancy_Status ; brick:isPointOf b:room{i} ."
        )
    return "\n".join(out).encode()


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Server:
    def __init__(self, data_dir: Path, port: int, mqtt: str | None) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), KG_TWIN_DATA_DIR=str(data_dir), KG_TWIN_BASE_IRI="http://bench.local/", KG_TWIN_LOG_LEVEL="warning")
        args = [sys.executable, "-m", "kg_twin", "serve", "--port", str(port)]
        if mqtt:
            args += ["--mqtt", mqtt]
        self.log = (data_dir / "server.log").open("wb")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.port = port
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status < 500:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start: " + (data_dir / "server.log").read_text()[-2000:])
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Client:
    """Keep-alive HTTP client; reconnects once when the server closed an idle connection."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.h = {"Authorization": f"Bearer {token}"}

    def _do(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
        for attempt in (0, 1):
            try:
                self.c.request(method, path, body=body, headers={**self.h, **headers})
                r = self.c.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.c.close()
                self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
                if attempt:
                    raise
        if r.status >= 400:
            raise RuntimeError(f"{r.status} {data[:300]!r}")
        return json.loads(data)

    def post(self, path: str, body: bytes, ctype: str = "application/json") -> Any:
        return self._do("POST", path, body, {"Content-Type": ctype})

    def get(self, path: str, params: dict[str, str] | None = None, accept: str = "application/json") -> Any:
        return self._do("GET", path + ("?" + urlencode(params) if params else ""), None, {"Accept": accept})


def start_mosquitto(work: Path) -> tuple[subprocess.Popen | None, str | None]:
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if exe is None:
        return None, None
    port = free_port()
    conf = work / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 10000000\nmax_inflight_messages 0\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"mqtt://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None, None


def prefill(data_dir: Path, project: str, points: list[str], n: int) -> float:
    """Write ``n`` readings (one per minute per point, ending now) straight into the history store."""
    from kg_twin.live.timeseries import open_history

    ts = open_history(data_dir)
    scope = f"http://bench.local/graph/{project}/state"
    sids = ts.ensure_many(scope, project, [(NS + p, p, None) for p in points])
    per = n // len(points)
    end = (int(time.time()) // 60) * 60_000 - 3_600_000  # an hour ago: live readings come later
    t0 = time.perf_counter()
    batch: list[tuple[int, int, float, None]] = []
    for k in range(per):
        t = end - (per - k) * 60_000
        for j, p in enumerate(points):
            batch.append((sids[NS + p], t, 400.0 + (k * 7 + j) % 900, None))
        if len(batch) >= 200_000:
            ts.append(batch)
            batch = []
    ts.append(batch)
    ts.close()
    return time.perf_counter() - t0


def setup(work: Path, n_rooms: int) -> dict[str, Any]:
    from kg_twin.reasoning.infer import infer_project
    from kg_twin.service import create_twin
    from kg_twin.settings import Settings

    twin = create_twin(Settings(data_dir=work, base_iri="http://bench.local/"))
    twin.projects.create("bench", title="live benchmark")
    twin.store.load(model(n_rooms), format="turtle", graph=twin.naming.graph("bench", "model"))
    # infer now, as a load through the server would: otherwise the server's start-up catch-up
    # inference (seconds of CPU) runs during the first throughput measurement
    infer_project(twin.store, twin.naming, "bench")
    toks = {r: twin.access.tokens.create("bench" if r != "admin" else "*", r).secret for r in ("writer", "reader", "admin")}
    twin.close()
    return toks


PREPARED_MAX = 1_500_000  # readings encoded ahead of a REST run (~110 MB of JSON at most)


def rest_bodies(points: list[str], batch: int, n_readings: int) -> list[bytes]:
    """JSON bodies of ``batch`` readings, every (point, timestamp) distinct: the server stores new rows.

    Readings are 100 ms apart per point, from 58 minutes ago on: newer than the prefilled history
    (which ends an hour ago) and the warm-up, so every batch also moves the points' current state
    (and the state flush into the graph works as it would with live data); older than the MQTT runs.
    """
    base = int(time.time() * 1000) - 58 * 60_000
    n = len(points)
    out = []
    for b in range(max(2, -(-n_readings // batch))):
        rows = [{"point": points[i % n], "timestamp": iso(base + (b * batch + i) // n * 100), "value": 400 + i % 700} for i in range(batch)]
        out.append(json.dumps(rows).encode())
    return out


def rest_throughput(port: int, pid: int, token: str, points: list[str], seconds: float, batch: int, threads: int) -> dict[str, Any]:
    """``threads`` keep-alive clients POST pre-encoded bodies for ``seconds``; the server's answers are summed.

    Bodies are encoded before the clock starts (for up to 250k readings/s, at most ``PREPARED_MAX``),
    so the client spends little CPU during the run; if the run outlasts them they repeat, and the
    repeated readings replace stored rows (``distinct`` says how many readings were new).
    """
    bodies = rest_bodies(points, batch, min(PREPARED_MAX, int(seconds * 250_000)))
    total = [0, 0]
    errors: list[Exception] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(k: int) -> None:
        c = Client(port, token)
        i = k
        try:
            while time.monotonic() < stop:
                res = c.post("/projects/bench/observations", bodies[i % len(bodies)])
                if res["rejected"] or res["accepted"] != batch:
                    raise RuntimeError(f"expected {batch} readings accepted, got {res['accepted']} (rejected {res['rejected']}: {res['rejects'][:3]})")
                with lock:
                    total[0] += res["accepted"]
                    total[1] = max(total[1], i + 1)
                i += threads
        except Exception as e:  # reported by the caller: a failed run must not print a rate
            errors.append(e)

    c0, cc0 = cpu_s(pid), time.process_time()
    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.perf_counter() - t0
    cpu, client_cpu = cpu_s(pid) - c0, time.process_time() - cc0
    if errors:
        raise errors[0]
    distinct = min(total[1], len(bodies)) * batch
    return {"path": f"REST POST /observations ({batch:,}/batch, {threads} client{'s' if threads > 1 else ''})", "readings": total[0], "distinct": min(distinct, total[0]),
            "seconds": round(el, 2), "readings_per_s": round(total[0] / el), "server_cpu_s": round(cpu, 1),
            "readings_per_server_cpu_s": round(total[0] / cpu) if cpu > 0 else "", "client_cpu_s": round(client_cpu, 2)}


def mqtt_throughput(port: int, pid: int, admin: str, url: str, points: list[str], n_msgs: int, per_msg: int) -> dict[str, Any]:
    import paho.mqtt.client as mqtt

    from kg_twin.live.mqtt import parse_url

    cfg = parse_url(url)
    adm = Client(port, admin)
    before = adm.get("/live/status")["mqtt"]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{time.monotonic_ns()}")
    pub.max_queued_messages_set(0)
    pub.max_inflight_messages_set(1000)
    pub.connect(cfg["host"], cfg["port"])
    pub.loop_start()
    now = int(time.time() * 1000) - 1_200_000  # newer than the REST runs' readings
    msgs = []
    for i in range(min(n_msgs, 5000)):
        p = points[i % len(points)]
        if per_msg == 1:
            body = json.dumps({"value": 400 + i % 700, "timestamp": iso(now + i)})
        else:
            body = json.dumps([{"value": 400 + (i + k) % 700, "timestamp": iso(now + i * per_msg + k)} for k in range(per_msg)])
        msgs.append((f"twin/bench/{p}", body))
    expected = before["accepted"] + n_msgs * per_msg
    c0 = cpu_s(pid)
    t0 = time.perf_counter()
    for i in range(n_msgs):
        topic, body = msgs[i % len(msgs)]
        pub.publish(topic, body, qos=0)
    pub.loop_stop()
    pub.disconnect()
    deadline = time.monotonic() + 300
    while True:
        st = adm.get("/live/status")["mqtt"]
        if st["accepted"] + st["rejected"] >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    el = time.perf_counter() - t0
    cpu = cpu_s(pid) - c0
    got = st["accepted"] - before["accepted"]
    return {"path": f"MQTT QoS 0, {per_msg} reading(s)/message", "readings": got, "seconds": round(el, 2), "readings_per_s": round(got / el),
            "server_cpu_s": round(cpu, 1), "readings_per_server_cpu_s": round(got / cpu) if cpu > 0 else ""}


def latency(port: int, writer: str, reader: str, n: int, load: bool, points: list[str]) -> dict[str, Any]:
    w, r = Client(port, writer), Client(port, reader)
    stop = threading.Event()
    bg = None
    if load:
        def noise() -> None:
            c = Client(port, writer)
            base = int(time.time() * 1000) - 3_600_000
            i = 0
            while not stop.is_set():
                rows = [{"point": points[(i + k) % len(points)], "timestamp": iso(base + i), "value": 500} for k in range(5000)]
                c.post("/projects/bench/observations", json.dumps(rows).encode())
                i += 1

        bg = threading.Thread(target=noise, daemon=True)
        bg.start()
        time.sleep(0.5)
    lat = []
    pt = NS + "co2_0"
    for i in range(n):
        v = 10_000.0 + i + (0.5 if load else 0.0)
        body = json.dumps([{"point": "co2_0", "timestamp": iso(int(time.time() * 1000)), "value": v}]).encode()
        q = f'ASK {{ <{pt}> <{BRICK}lastKnownValue>/<{BRICK}value> "{v!r}"^^<http://www.w3.org/2001/XMLSchema#double> }}'
        t0 = time.perf_counter()
        w.post("/projects/bench/observations", body)
        while True:
            if r.get("/projects/bench/sparql", {"query": q}, accept="application/sparql-results+json")["boolean"]:
                break
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("reading not visible after 10 s")
            time.sleep(0.005)
        lat.append((time.perf_counter() - t0) * 1000)
    stop.set()
    if bg:
        bg.join(timeout=30)
    return {"case": "under REST load (5k-reading batches)" if load else "idle", "n": n, "p50_ms": round(pct(lat, 50), 1), "p99_ms": round(pct(lat, 99), 1), "max_ms": round(max(lat), 1)}


def aggregates(port: int, reader: str, points: list[str], stored: int) -> list[dict[str, Any]]:
    r = Client(port, reader)
    end = datetime.now(timezone.utc)
    start = end - timedelta(days=30)
    rows = []
    for every, agg in (("1h", "avg"), ("1d", "max")):
        t0 = time.perf_counter()
        out = r.get(f"/projects/bench/points/{points[0]}/observations", {"start": start.isoformat(), "end": end.isoformat(), "every": every, "agg": agg})
        el = time.perf_counter() - t0
        n = sum(x["count"] for x in out["rows"])
        rows.append({"query": f"REST one point, every={every} agg={agg}", "stored": stored, "readings_aggregated": n, "ms": round(el * 1000, 1)})
    co2 = [p for p in points if p.startswith("co2_")]
    q = f"""PREFIX brick: <{BRICK}> PREFIX kgt: <{KGT}> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
    SELECT ?room ?avg WHERE {{ ?s a brick:CO2_Level_Sensor ; brick:isPointOf ?room .
      BIND(kgt:avg(?s, "P1D"^^xsd:dayTimeDuration) AS ?avg) FILTER(?avg > 800) }}"""
    t0 = time.perf_counter()
    res = r.get("/projects/bench/sparql", {"query": q}, accept="application/sparql-results+json")
    el = time.perf_counter() - t0
    rows.append({"query": f"SPARQL kgt:avg over the last day for {len(co2)} CO2 points (rooms > 800 ppm: {len(res['results']['bindings'])})", "stored": stored,
                 "readings_aggregated": len(co2) * 1440, "ms": round(el * 1000, 1)})
    return rows


# --------------------------------------------------------------------------- SQLite vs DuckDB
_DUCK_HOLD = """
import duckdb, sys, time
c = duckdb.connect(sys.argv[1])
c.execute("CREATE TABLE IF NOT EXISTS obs (series INTEGER, ts BIGINT, value DOUBLE)")
print("ready", flush=True)
time.sleep(30)
"""
_DUCK_READ = """
import duckdb, sys
try:
    duckdb.connect(sys.argv[1], read_only=True).execute("SELECT COUNT(*) FROM obs").fetchall()
    print("ok")
except Exception as e:
    print("error: " + str(e).splitlines()[0][:160])
"""
_SQLITE_READ = """
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print("ok", c.execute("SELECT COUNT(*) FROM obs").fetchone()[0])
"""


def store_choice(work: Path, n: int) -> list[dict[str, Any]]:
    import duckdb

    from kg_twin.live.timeseries import SQLiteTimeSeriesStore

    rows = []
    series, per = 100, n // 100
    base = 1_700_000_000_000
    data = [(s, base + k * 60_000, float((s * 7 + k) % 900), None) for k in range(per) for s in range(series)]
    # SQLite (the store kg-twin uses)
    sq = SQLiteTimeSeriesStore(work / "cmp.sqlite")
    sq.ensure_many("urn:s", "p", [(f"urn:p{i}", f"p{i}", None) for i in range(series)])
    t0 = time.perf_counter()
    for i in range(0, len(data), 10_000):
        sq.append(data[i : i + 10_000])
    ins_sq = time.perf_counter() - t0
    t0 = time.perf_counter()
    sq.aggregate(1, base, base + per * 60_000, 3_600_000, "avg")
    agg_sq = time.perf_counter() - t0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    read_sq = subprocess.run([sys.executable, "-c", _SQLITE_READ, str(work / "cmp.sqlite")], capture_output=True, text=True, env=env).stdout.strip()
    sq.close()
    rows.append({"store": "SQLite (WAL)", "append_rows_per_s": round(len(data) / ins_sq), "hourly_avg_one_series_ms": round(agg_sq * 1000, 1),
                 "reader_process_while_writer_open": read_sq.split()[0] if read_sq else "failed"})
    # DuckDB: executemany (row by row) on a sample, and COPY from a CSV per 10k batch (its bulk path without pandas)
    dpath = str(work / "cmp.duckdb")
    dc = duckdb.connect(dpath)
    dc.execute("CREATE TABLE obs (series INTEGER, ts BIGINT, value DOUBLE, quality VARCHAR)")
    sample = data[:5_000]
    t0 = time.perf_counter()
    dc.executemany("INSERT INTO obs VALUES (?,?,?,?)", sample)
    ins_many = len(sample) / (time.perf_counter() - t0)
    dc.execute("DELETE FROM obs")
    csvp = work / "batch.csv"
    t0 = time.perf_counter()
    for i in range(0, len(data), 10_000):
        with csvp.open("w") as fh:
            fh.write("".join(f"{r[0]},{r[1]},{r[2]},\n" for r in data[i : i + 10_000]))
        dc.execute(f"COPY obs FROM '{csvp}' (HEADER false)")
    ins_copy = len(data) / (time.perf_counter() - t0)
    dc.close()
    # concurrency: a second process opening the file while a writer holds it
    dc = duckdb.connect(dpath)
    t0 = time.perf_counter()
    dc.execute("SELECT (ts - ts % 3600000) b, AVG(value) FROM obs WHERE series = 1 GROUP BY b").fetchall()
    agg_dk = time.perf_counter() - t0
    dc.close()
    holder = subprocess.Popen([sys.executable, "-c", _DUCK_HOLD, dpath], stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    read_dk = subprocess.run([sys.executable, "-c", _DUCK_READ, dpath], capture_output=True, text=True).stdout.strip()
    holder.kill()
    holder.wait()
    rows.append({"store": f"DuckDB (COPY per 10k batch; executemany: {ins_many:,.0f} rows/s)", "append_rows_per_s": round(ins_copy), "hourly_avg_one_series_ms": round(agg_dk * 1000, 1),
                 "reader_process_while_writer_open": read_dk})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_no rows_"
    hs = list(rows[0].keys())

    def f(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    out = ["| " + " | ".join(hs) + " |", "|" + "---|" * len(hs)]
    out += ["| " + " | ".join(f(r.get(h, "")) for h in hs) + " |" for r in rows]
    return "\n".join(out)


def run(quick: bool = True) -> str:
    work = Path(tempfile.mkdtemp(prefix="kgt-live-bench-"))
    broker, mqtt_url = start_mosquitto(work)
    n_rooms = 100 if quick else 1000
    points = [f"{k}_{i}" for i in range(n_rooms) for k in ("co2", "temp")]
    srv = None
    parts: list[str] = []
    try:
        return _run(quick, work, broker, mqtt_url, n_rooms, points, parts)
    finally:
        if broker:
            broker.terminate()
            broker.wait()
        shutil.rmtree(work, ignore_errors=True)


def _run(quick: bool, work: Path, broker: Any, mqtt_url: str | None, n_rooms: int, points: list[str], parts: list[str]) -> str:
    srv = None
    try:
        toks = setup(work / "data", n_rooms)
        stored = 0
        prefill_s = 0.0
        if not quick:
            stored = 10_000_000
            prefill_s = prefill(work / "data", "bench", points, stored)
        srv = Server(work / "data", free_port(), mqtt_url)
        port = srv.port
        # warm up (catalogue, series), with readings older than every later one: each REST batch then
        # moves the current state too, so the state flush into the graph is part of the measurement
        Client(port, toks["writer"]).post("/projects/bench/observations", json.dumps([{"point": p, "timestamp": iso(int(time.time() * 1000) - 7 * 3_600_000), "value": 1} for p in points]).encode())
        pid = srv.proc.pid
        thr = [rest_throughput(port, pid, toks["writer"], points, 3 if quick else 15, 10_000, clients) for clients in (1, 2)]
        if not quick:
            thr.append(rest_throughput(port, pid, toks["writer"], points, 10, 1_000, 2))
        if mqtt_url:
            thr.append(mqtt_throughput(port, pid, toks["admin"], mqtt_url, points, 20_000 if quick else 200_000, 1))
            thr.append(mqtt_throughput(port, pid, toks["admin"], mqtt_url, points, 2_000 if quick else 20_000, 50))
        parts += ["### Sustained readings/s", "",
                  "REST: `clients` keep-alive HTTP connections (threads of this process) POST pre-encoded JSON bodies; every answer is "
                  "checked (all readings accepted); `distinct`: readings with a new (point, timestamp), stored as new rows. "
                  "`server_cpu_s`: CPU seconds used by the kg-twin server process during the run (its query workers are idle here); "
                  "`readings_per_server_cpu_s` does not depend on how busy the shared machine is; `client_cpu_s`: CPU of this "
                  "(client) process, which shares the 2 cores.", "", table(thr), ""]
        if not mqtt_url:
            parts += ["_MQTT rows skipped: mosquitto is not installed._", ""]
        lat = [latency(port, toks["writer"], toks["reader"], 20 if quick else 100, False, points), latency(port, toks["writer"], toks["reader"], 10 if quick else 50, True, points)]
        parts += ["### Arrival -> SPARQL visibility (POST one reading, poll an ASK on the project endpoint every 5 ms)", "", table(lat), ""]
        if not quick:
            parts += [f"### History aggregates over {stored:,} stored readings ({len(points)} points; prefilled in {prefill_s:.0f} s = {stored / prefill_s:,.0f} rows/s)", "",
                      table(aggregates(port, toks["reader"], points, stored)), ""]
        parts += [f"Load average during the run (other processes share the 2 cores): {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min).", ""]
        status = Client(port, toks["admin"]).get("/live/status")
        parts += [f"Server counters after the run: {json.dumps(status['live'])}", ""]
    finally:
        if srv:
            srv.stop()
    try:
        parts += ["### History store: SQLite vs DuckDB", "", table(store_choice(work, 200_000 if quick else 2_000_000)), ""]
    except ImportError as e:
        parts += [f"_store comparison skipped: {e}_", ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    print(run(a.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""History: aggregates over REST and the CLI against values computed here; SPARQL history functions
through the live server (query workers); no cross-project reads."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.engines import embedded_only
from tests.live.test_ingest import iso, select

BASE = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]


def _post(server, project, token, readings):
    with server.client(token) as c:
        r = c.post(f"/projects/{project}/observations", json=readings)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rejected"] == 0, body["rejects"][:3]
    return body


def _expected(samples, start, end, every_s, agg):
    buckets = {}
    for t, v in samples:
        if start <= t < end:
            epoch = int(t.timestamp())
            b = epoch - epoch % every_s
            buckets.setdefault(b, []).append(v)
    out = []
    for b in sorted(buckets):
        vs = buckets[b]
        val = {"avg": sum(vs) / len(vs), "min": min(vs), "max": max(vs), "count": len(vs), "sum": sum(vs)}[agg]
        out.append((datetime.fromtimestamp(b, timezone.utc), val, len(vs)))
    return out


@pytest.fixture
def temp_history(server, campus):
    rng = random.Random(7)
    samples = []
    t = BASE
    while t < BASE + timedelta(hours=3):
        samples.append((t, round(rng.uniform(18, 26), 3)))
        t += timedelta(seconds=rng.randint(20, 200))
    rng.shuffle(samples)  # arrival order must not matter
    _post(server, campus["project"], campus["writer"], [{"point": "temp_103", "timestamp": iso(t), "value": v} for t, v in samples])
    return samples


@pytest.mark.parametrize("agg", ["avg", "min", "max", "count", "sum"])
def test_rest_aggregates_match(server, campus, temp_history, agg):
    start, end = BASE + timedelta(minutes=10), BASE + timedelta(hours=2, minutes=50)
    with server.client(campus["reader"]) as c:
        r = c.get(f"/projects/{campus['project']}/points/temp_103/observations", params={"start": iso(start), "end": iso(end), "every": "15min", "agg": agg})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["unit"].endswith("DEG_C") and got["id"] == "temp_103"
    exp = _expected(temp_history, start, end, 900, agg)
    assert [row["time"] for row in got["rows"]] == [iso(b).replace("Z", ".000Z") for b, _, _ in exp]
    for row, (_, v, n) in zip(got["rows"], exp):
        assert row["value"] == pytest.approx(v, rel=1e-9)
        assert row["count"] == n


def test_raw_and_csv(server, campus, temp_history):
    p = campus["project"]
    iri = campus["ns"] + "temp_103"
    with server.client(campus["reader"]) as c:
        r = c.get(f"/projects/{p}/points/{quote(iri, safe='')}/observations", params={"start": iso(BASE), "end": iso(BASE + timedelta(hours=1))})
        assert r.status_code == 200
        rows = r.json()["rows"]
        exp = sorted((t, v) for t, v in temp_history if t < BASE + timedelta(hours=1))
        assert [x["value"] for x in rows] == [v for _, v in exp]
        r = c.get(f"/projects/{p}/points/temp_103/observations", params={"start": iso(BASE), "end": iso(BASE + timedelta(hours=3)), "every": "1h", "agg": "max", "format": "csv"})
        assert r.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(r.text)))
        exp = _expected(temp_history, BASE, BASE + timedelta(hours=3), 3600, "max")
        assert [float(x["value"]) for x in table] == pytest.approx([v for _, v, _ in exp])
        r = c.get(f"/projects/{p}/points/temp_103/observations", params={"start": "2024-05-01T08:00:00", "every": "1h"})
        assert r.status_code == 400 and r.json()["code"] == "BAD_TIME"
        r = c.get(f"/projects/{p}/points/temp_103/observations", params={"agg": "median", "every": "1h"})
        assert r.status_code == 400 and r.json()["code"] == "BAD_AGGREGATE"
        assert c.get(f"/projects/{p}/points/nope/observations").status_code == 404


def test_cli_observations_reads_history_while_server_runs(server, campus, temp_history):
    start, end = BASE, BASE + timedelta(hours=3)
    env = dict(os.environ, PYTHONPATH=str(ROOT), KG_TWIN_TIMESERIES=server.settings.timeseries)
    out = subprocess.run(
        [sys.executable, "-m", "kg_twin", "observations", "--project", campus["project"], "--point", "temp_103", "--start", iso(start), "--end", iso(end),
         "--every", "30min", "--agg", "avg", "--format", "json", "--data-dir", str(server.settings.data_dir)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)["rows"]
    exp = _expected(temp_history, start, end, 1800, "avg")
    assert [r["value"] for r in got] == pytest.approx([v for _, v, _ in exp])
    # the same through a running server
    out2 = subprocess.run(
        [sys.executable, "-m", "kg_twin", "observations", "-p", campus["project"], "--point", "temp_103", "--start", iso(start), "--end", iso(end),
         "--every", "30min", "--url", server.url, "--token", campus["reader"]],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert out2.returncode == 0, out2.stderr
    assert [float(r["value"]) for r in csv.DictReader(io.StringIO(out2.stdout))] == pytest.approx([v for _, v, _ in exp])
    bad = subprocess.run([sys.executable, "-m", "kg_twin", "observations", "-p", campus["project"], "--point", "nope", "--data-dir", str(server.settings.data_dir)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "NO_HISTORY" in bad.stderr


KGT = "https://w3id.org/kg-twin/ontology#"


def test_sparql_rooms_with_high_average_co2(server, campus, request):
    """'Rooms whose average CO2 over the last day exceeded 1000 ppm' in one query, run by the query workers."""
    embedded_only(request, server)
    p = campus["project"]
    now = datetime.now(timezone.utc)
    levels = {"co2_101": (900, 1400), "co2_102": (500, 700), "co2_103": (950, 1020)}
    readings, expected = [], {}
    for pt, (lo, hi) in levels.items():
        vals = [lo + (hi - lo) * i / 47 for i in range(48)]
        readings += [{"point": pt, "timestamp": iso(now - timedelta(minutes=30 * i + 1)), "value": v} for i, v in enumerate(vals)]
        # a reading older than a day must not count
        readings.append({"point": pt, "timestamp": iso(now - timedelta(days=2)), "value": 5000})
        expected[pt] = sum(vals) / len(vals)
    _post(server, p, campus["writer"], readings)
    q = f"""PREFIX brick: <https://brickschema.org/schema/Brick#> PREFIX kgt: <{KGT}>
    PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
    SELECT ?room ?avg WHERE {{
      ?s a brick:CO2_Level_Sensor ; brick:isPointOf ?room .
      BIND(kgt:avg(?s, "P1D"^^xsd:dayTimeDuration) AS ?avg)
      FILTER(?avg > 1000)
    }} ORDER BY ?room"""
    rows = select(server, p, campus["reader"], q)
    ns = campus["ns"]
    assert [r["room"] for r in rows] == [ns + "room101"]
    assert float(rows[0]["avg"]) == pytest.approx(expected["co2_101"])
    # explicit window, aggregate by name, count and latest
    start, end = iso(now - timedelta(hours=5)), iso(now)
    q2 = f"""PREFIX kgt: <{KGT}> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
    SELECT ?mx ?n ?last WHERE {{
      BIND(kgt:agg(<{ns}co2_102>, "max", "{start}"^^xsd:dateTime, "{end}"^^xsd:dateTime) AS ?mx)
      BIND(kgt:count(<{ns}co2_102>, "{start}"^^xsd:dateTime, "{end}"^^xsd:dateTime) AS ?n)
      BIND(kgt:latest(<{ns}co2_102>) AS ?last) }}"""
    row = select(server, p, campus["reader"], q2)[0]
    in_window = [(now - timedelta(minutes=30 * i + 1), 500 + 200 * i / 47) for i in range(48)]
    in_window = [v for t, v in in_window if now - timedelta(hours=5) <= t < now]
    assert float(row["mx"]) == pytest.approx(max(in_window))
    assert int(row["n"]) == len(in_window)
    assert float(row["last"]) == pytest.approx(500)  # the newest reading (1 minute ago)


def test_no_cross_project_history(server, campus, request):
    """The same model (same point IRIs) in two projects: each project sees only its own history."""
    embedded_only(request, server)
    p = campus["project"]
    other = server.create_project("twin")
    server.put_graph(other, "model", (Path(__file__).resolve().parents[1] / "data" / "live" / "campus.ttl").read_bytes())
    ow, orr = server.token(other, "writer"), server.token(other, "reader")
    now = datetime.now(timezone.utc)
    _post(server, p, campus["writer"], [{"point": "rh_101", "timestamp": iso(now - timedelta(minutes=1)), "value": 40}])
    ns = campus["ns"]
    q = f'PREFIX kgt: <{KGT}> SELECT ?a ?n WHERE {{ BIND(kgt:avg(<{ns}rh_101>, "PT1H") AS ?a) BIND(kgt:count(<{ns}rh_101>, "PT1H") AS ?n) }}'
    assert float(select(server, p, campus["reader"], q)[0]["a"]) == 40
    row = select(server, other, orr, q)[0]
    assert "a" not in row and int(row["n"]) == 0  # not project p's history
    _post(server, other, ow, [{"point": "rh_101", "timestamp": iso(now - timedelta(minutes=1)), "value": 60}])
    assert float(select(server, other, orr, q)[0]["a"]) == 60
    assert float(select(server, p, campus["reader"], q)[0]["a"]) == 40
    with server.client(orr) as c:
        assert c.get(f"/projects/{p}/points/rh_101/observations").status_code == 404

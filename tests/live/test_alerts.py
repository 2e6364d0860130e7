"""Rules and alerts: threshold rules fire exactly once per crossing (hysteresis), SPARQL rules on
current state, alerts recorded as RDF with PROV, streamed to SSE subscribers with point changes."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
from urllib.parse import urlencode, urlsplit

from tests.live.test_ingest import iso, select

KGT = "https://w3id.org/kg-twin/ontology#"
PROV = "http://www.w3.org/ns/prov#"


class SSEClient:
    """A real SSE client (HTTP/1.1 over a socket) collecting events in a background thread."""

    def __init__(self, url: str, token: str, params: dict | None = None) -> None:
        self.events: list[tuple[str, dict]] = []
        self.ready = threading.Event()
        self.status: int | None = None
        u = urlsplit(url)
        self._conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        path = u.path + ("?" + urlencode(params) if params else "")
        self._conn.request("GET", path, headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
        self._resp = self._conn.getresponse()
        self.status = self._resp.status
        self._conn.sock.settimeout(None)
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        assert self.ready.wait(10), f"SSE stream not ready (status {self.status})"

    def _run(self) -> None:
        kind, data = None, []
        try:
            for raw in self._resp:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and kind:
                    self.events.append((kind, json.loads("\n".join(data))))
                    if kind == "ready":
                        self.ready.set()
                    kind, data = None, []
        except (OSError, ValueError, http.client.HTTPException):  # closed by close()
            pass

    def wait_for(self, kind: str, n: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [d for k, d in self.events if k == kind]
            if len(got) >= n:
                return got
            time.sleep(0.02)
        return [d for k, d in self.events if k == kind]

    def close(self) -> None:
        try:
            self._conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._t.join(timeout=5)
        self._conn.close()


def post(server, campus, readings):
    with server.client(campus["writer"]) as c:
        r = c.post(f"/projects/{campus['project']}/observations", json=readings)
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text
    return r.json()


def test_rule_management(server, campus):
    p = campus["project"]
    with server.client(campus["reader"]) as c:
        assert c.post(f"/projects/{p}/rules", json={"id": "x", "class": "brick:CO2_Sensor", "value": 1}).status_code == 403
    with server.client(campus["writer"]) as c:
        r = c.post(f"/projects/{p}/rules", json={"id": "co2-high", "class": "brick:CO2_Sensor", "op": ">", "value": 1000, "clear": 950, "label": "CO2 too high"})
        assert r.status_code == 201, r.text
        assert c.post(f"/projects/{p}/rules", json={"id": "co2-high", "class": "brick:CO2_Sensor", "value": 1}).status_code == 409
        bad = [
            {"id": "b1", "class": "brick:Room", "value": 1},  # not a point class
            {"id": "b2", "class": "brick:CO2_Sensor", "value": "high"},
            {"id": "b3", "class": "brick:CO2_Sensor", "value": 1000, "clear": 1100},  # clear on the wrong side
            {"id": "b4", "kind": "sparql", "query": "CONSTRUCT WHERE { ?s ?p ?o }"},
            {"id": "b5", "kind": "sparql", "query": "ASK { ?s ?p "},  # syntax error
            {"id": "bad id!", "class": "brick:CO2_Sensor", "value": 1},
        ]
        for b in bad:
            r = c.post(f"/projects/{p}/rules", json=b)
            assert r.status_code == 400, (b, r.text)
            assert r.json()["ok"] is False and r.json()["code"]
    with server.client(campus["reader"]) as c:
        rules = c.get(f"/projects/{p}/rules").json()["rules"]
        assert [r["id"] for r in rules] == ["co2-high"]
        assert c.get(f"/projects/{p}/rules/co2-high").json()["clear"] == 950
        assert c.delete(f"/projects/{p}/rules/co2-high").status_code == 403
    with server.client(campus["writer"]) as c:
        assert c.delete(f"/projects/{p}/rules/co2-high").status_code == 204
        assert c.get(f"/projects/{p}/rules/co2-high").status_code == 404


def test_threshold_alerts_exactly_once_per_crossing(server, campus):
    p, ns = campus["project"], campus["ns"]
    with server.client(campus["writer"]) as c:
        assert c.post(f"/projects/{p}/rules", json={"id": "co2-high", "class": "brick:CO2_Sensor", "op": ">", "value": 1000, "clear": 950}).status_code == 201
    sse = SSEClient(f"{server.url}/projects/{p}/events", campus["reader"], {"points": "co2_101"})
    other = SSEClient(f"{server.url}/projects/{p}/events", campus["reader"])  # alerts only
    try:
        t0 = datetime.now(timezone.utc) - timedelta(minutes=30)
        values_101 = [900, 1100, 1200, 1050, 960, 940, 980, 1001, 1500]  # raise @1100, clear @940, raise @1001
        values_102 = [1200, 800]  # raise, clear
        seq = [("co2_101", v, t0 + timedelta(minutes=i)) for i, v in enumerate(values_101)]
        seq += [("co2_102", v, t0 + timedelta(minutes=i)) for i, v in enumerate(values_102)]
        # several batches, each with readings of both points; one out-of-order old reading that must not fire
        post(server, campus, [{"point": pt, "timestamp": iso(t), "value": v} for pt, v, t in seq[:4]])
        post(server, campus, [{"point": "co2_101", "timestamp": iso(t0 - timedelta(days=1)), "value": 5000}])
        post(server, campus, [{"point": pt, "timestamp": iso(t), "value": v} for pt, v, t in seq[4:]])
        # the same values again (a replay): the state does not change, no new alert
        post(server, campus, [{"point": "co2_101", "timestamp": iso(t0 + timedelta(minutes=8)), "value": 1500}])
        alerts = sse.wait_for("alert", 5)
        time.sleep(0.5)
        alerts = [d for k, d in sse.events if k == "alert"]
        got = [(a["point"].rsplit("#", 1)[1], a["state"], a["value"]) for a in alerts]
        assert sorted(got) == sorted([
            ("co2_101", "raised", 1100.0), ("co2_101", "cleared", 940.0), ("co2_101", "raised", 1001.0),
            ("co2_102", "raised", 1200.0), ("co2_102", "cleared", 800.0),
        ])
        assert [d for k, d in other.events if k == "alert"] == alerts
        # point changes of the watched point only
        readings = sse.wait_for("reading", len(values_101))
        assert {r["point"] for r in readings} == {ns + "co2_101"}
        assert [r["value"] for r in readings][: len(values_101)] == [float(v) for v in values_101]
        assert not [d for k, d in other.events if k == "reading"]
    finally:
        sse.close()
        other.close()
    # recorded as RDF events with PROV, in the project's events graph
    deadline = time.monotonic() + 3
    q = f"""PREFIX kgt: <{KGT}> PREFIX prov: <{PROV}>
    SELECT ?a ?state ?point ?v ?rule WHERE {{ GRAPH <{server.graph_iri(p, 'events')}> {{
      ?a a kgt:Alert ; kgt:alertState ?state ; kgt:point ?point ; kgt:value ?v ; kgt:rule ?rule ;
         prov:generatedAtTime ?t ; prov:wasGeneratedBy ?act . ?act a prov:Activity ; prov:used ?rule ; prov:wasAssociatedWith ?agent }} }}"""
    while True:
        rows = select(server, p, campus["reader"], q)
        if len(rows) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(rows) == 5
    assert {r["rule"] for r in rows} == {server.twin.naming.mint(p, "rule", "co2-high")}


def test_sparql_rule_over_current_state(server, campus):
    p = campus["project"]
    q = """PREFIX brick: <https://brickschema.org/schema/Brick#>
    SELECT ?point ?value WHERE { ?point a brick:Zone_Air_Temperature_Sensor ; brick:lastKnownValue/brick:value ?value . FILTER(?value > 26) }"""
    with server.client(campus["writer"]) as c:
        assert c.post(f"/projects/{p}/rules", json={"id": "hot", "kind": "sparql", "query": q}).status_code == 201
        ask = "PREFIX brick: <https://brickschema.org/schema/Brick#> ASK { ?p brick:lastKnownValue/brick:value ?v . FILTER(?v < 0) }"
        assert c.post(f"/projects/{p}/rules", json={"id": "negative", "kind": "sparql", "query": ask}).status_code == 201
    sse = SSEClient(f"{server.url}/projects/{p}/events", campus["reader"])
    try:
        now = datetime.now(timezone.utc)
        post(server, campus, [{"point": "temp_101", "timestamp": iso(now - timedelta(seconds=30)), "value": 27.5}, {"point": "temp_102", "timestamp": iso(now - timedelta(seconds=30)), "value": 21}])
        first = sse.wait_for("alert", 1)
        post(server, campus, [{"point": "temp_101", "timestamp": iso(now - timedelta(seconds=20)), "value": 28}])  # still hot: no new alert
        time.sleep(0.8)
        post(server, campus, [{"point": "temp_101", "timestamp": iso(now - timedelta(seconds=10)), "value": 22}, {"point": "rh_101", "timestamp": iso(now - timedelta(seconds=10)), "value": -1}])
        sse.wait_for("alert", 3)
        time.sleep(0.8)
        alerts = [(a["rule"], a["state"], (a["point"] or "").rsplit("#", 1)[-1]) for k, a in sse.events if k == "alert"]
    finally:
        sse.close()
    assert first and first[0]["rule"] == "hot"
    assert sorted(alerts) == sorted([("hot", "raised", "temp_101"), ("hot", "cleared", "temp_101"), ("negative", "raised", "")])


def test_events_need_reader(server, campus):
    with httpx.Client() as c:
        assert c.get(f"{server.url}/projects/{campus['project']}/events").status_code == 401
        r = c.get(f"{server.url}/projects/{campus['project']}/events", params={"points": "nope"}, headers={"Authorization": f"Bearer {campus['reader']}"})
        assert r.status_code == 404 and r.json()["code"] == "POINT_NOT_FOUND"

"""Readings through the REST batch path: accepted, rejected with reasons, state in SPARQL, access control."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import httpx

from kg_twin.terms import BRICK, REF


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def select(server, project, token, q):
    r = httpx.post(f"{server.url}/projects/{project}/sparql", data={"query": q}, headers={"Authorization": f"Bearer {token}", "Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def test_batch_accepts_and_rejects_with_reasons(server, campus):
    p, ns = campus["project"], campus["ns"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    batch = [
        {"point": "co2_101", "timestamp": iso(now), "value": 640, "unit": "PPM"},  # 0 ok (local name)
        {"point": ns + "temp_101", "timestamp": iso(now), "value": "21.5", "unit": "°C"},  # 1 ok (IRI, alias unit)
        {"point": "nope_999", "timestamp": iso(now), "value": 1},  # 2 unknown point
        {"point": "co2_102", "timestamp": "2024-05-01T10:00:00", "value": 500},  # 3 no timezone
        {"point": "co2_103", "timestamp": iso(now), "value": "high"},  # 4 not a number
        {"point": "temp_102", "timestamp": iso(now), "value": 70, "unit": "DEG_F"},  # 5 wrong unit
        {"point": "occ_101", "timestamp": iso(now), "value": "on"},  # 6 ok (status point)
        {"point": "occ_102", "timestamp": iso(now), "value": 0.5},  # 7 not a state
        {"point": "room101", "timestamp": iso(now), "value": 1},  # 8 a room is not a point
        "not an object",  # 9
        {"point": "energy", "timestamp": "2024-05-01T12:00:00+02:00", "value": 1234.5},  # 10 ok (offset)
    ]
    with server.client(campus["writer"]) as c:
        r = c.post(f"/projects/{p}/observations", json=batch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (11, 4, 7)
    codes = {x["index"]: x["code"] for x in body["rejects"]}
    assert codes == {2: "UNKNOWN_POINT", 3: "BAD_TIMESTAMP", 4: "BAD_VALUE", 5: "UNIT_MISMATCH", 7: "BAD_VALUE", 8: "UNKNOWN_POINT", 9: "MISSING_POINT"}
    assert all(x["reason"] for x in body["rejects"])
    assert "timezone" in next(x["reason"] for x in body["rejects"] if x["index"] == 3)


def test_csv_batch(server, campus):
    p = campus["project"]
    csv = "point,timestamp,value,unit,quality\nco2_101,2024-05-01T10:00:00Z,600,PPM,good\nco2_101,2024-05-01T10:05:00Z,x,PPM,\nrh_101,2024-05-01T10:00:00Z,45,%RH,\n"
    with server.client(campus["writer"]) as c:
        r = c.post(f"/projects/{p}/observations", content=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["accepted"], b["rejected"]) == (2, 1)
    assert b["rejects"][0]["index"] == 1 and b["rejects"][0]["code"] == "BAD_VALUE"


def test_bad_bodies(server, campus):
    p = campus["project"]
    with server.client(campus["writer"]) as c:
        r = c.post(f"/projects/{p}/observations", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "BAD_JSON"
        r = c.post(f"/projects/{p}/observations", content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})
        assert r.status_code == 400 and r.json()["code"] == "BAD_CSV"
        r = c.post(f"/projects/{p}/observations", content=b"<x/>", headers={"Content-Type": "application/xml"})
        assert r.status_code == 415


def test_access_control(server, campus):
    p = campus["project"]
    reading = [{"point": "co2_101", "timestamp": "2024-05-01T10:00:00Z", "value": 600}]
    with server.client(campus["reader"]) as c:
        assert c.post(f"/projects/{p}/observations", json=reading).status_code == 403
        assert c.get(f"/projects/{p}/points").status_code == 200
    with server.client() as c:
        assert c.post(f"/projects/{p}/observations", json=reading).status_code == 401
        assert c.get(f"/projects/{p}/points/co2_101/observations").status_code == 401
    other = server.create_project("other")
    other_writer = server.token(other, "writer")
    with server.client(other_writer) as c:  # a token of another project sees nothing here
        assert c.post(f"/projects/{p}/observations", json=reading).status_code == 404
        assert c.get(f"/projects/{p}/points/co2_101/observations").status_code == 404
        assert c.get(f"/projects/{p}/events").status_code == 404


def test_state_visible_in_sparql_within_a_second(server, campus):
    p, ns = campus["project"], campus["ns"]
    model_size = server.twin.store.graph_size(server.graph_iri(p, "model"))
    q = f"""PREFIX brick: <{BRICK}> PREFIX ref: <{REF}>
    SELECT ?v ?t ?id ?db WHERE {{ <{ns}co2_102> brick:lastKnownValue ?o . ?o brick:value ?v ; brick:timestamp ?t .
      <{ns}co2_102> ref:hasExternalReference ?r . ?r a ref:TimeseriesReference ; ref:hasTimeseriesId ?id ; ref:storedAt ?db }}"""
    seen = []
    # the target is a second on the embedded store; an external engine adds HTTP round trips to each
    # flush and query (~0.6 s on Virtuoso here), so it gets more room on a loaded CI machine
    limit = 5.0 if str(server.settings.store).startswith("http") else 1.0
    for value in (700.0, 815.5):
        ts = iso(datetime.now(timezone.utc))
        with server.client(campus["writer"]) as c:
            t0 = time.monotonic()
            assert c.post(f"/projects/{p}/observations", json=[{"point": "co2_102", "timestamp": ts, "value": value}]).json()["accepted"] == 1
        while True:
            rows = select(server, p, campus["reader"], q)
            if rows and float(rows[0]["v"]) == value:
                break
            assert time.monotonic() - t0 < limit, f"reading not visible after {limit:g} s: {rows}"
            time.sleep(0.02)
        seen.append(rows)
    # one current value per point (the previous one was replaced), a reference to its history
    assert len(seen[-1]) == 1 and seen[-1][0]["id"] == "co2_102"
    # an older reading does not overwrite the state
    with server.client(campus["writer"]) as c:
        assert c.post(f"/projects/{p}/observations", json=[{"point": "co2_102", "timestamp": "2020-01-01T00:00:00Z", "value": 1.0}]).json()["accepted"] == 1
    time.sleep(0.6)
    assert float(select(server, p, campus["reader"], q)[0]["v"]) == 815.5
    # the model graph is untouched; the state lives in its own graph
    assert server.twin.store.graph_size(server.graph_iri(p, "model")) == model_size
    assert server.twin.store.has_graph(server.graph_iri(p, "state"))

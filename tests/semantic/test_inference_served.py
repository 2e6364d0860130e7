"""A running server keeps each project's inferred graph current after changes."""

from __future__ import annotations

import time

import pytest

BRICK_MODEL = """@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix ex: <http://example.org/site#> .
ex:vav1 a brick:VAV ; brick:hasPoint ex:zat1 .
ex:zat1 a brick:Zone_Air_Temperature_Sensor .
"""

ASK_INVERSE = "PREFIX brick: <https://brickschema.org/schema/Brick#> ASK { <http://example.org/site#zat1> brick:isPointOf <http://example.org/site#vav1> }"
ASK_SUPERCLASS = "PREFIX brick: <https://brickschema.org/schema/Brick#> ASK { <http://example.org/site#zat1> a brick:Temperature_Sensor }"


@pytest.mark.slow
def test_inferred_graph_follows_uploads(make_live_server):
    srv = make_live_server(infer_on_change=True)
    pid = srv.create_project("inf")
    srv.put_graph(pid, "hvac", BRICK_MODEL)
    with srv.client(srv.admin) as c:
        deadline = time.monotonic() + 120
        seen = False
        while time.monotonic() < deadline:
            r = c.get(f"/projects/{pid}/sparql", params={"query": ASK_INVERSE}, headers={"Accept": "application/sparql-results+json"})
            assert r.status_code == 200, r.text
            if r.json()["boolean"]:
                seen = True
                break
            time.sleep(0.5)
        assert seen, "isPointOf was not inferred within 120 s"
        r = c.get(f"/projects/{pid}/sparql", params={"query": ASK_SUPERCLASS}, headers={"Accept": "application/sparql-results+json"})
        assert r.json()["boolean"] is True
        # asserted data only: the inferred graph is kept apart
        r = c.get(f"/projects/{pid}/sparql", params={"query": ASK_INVERSE, "inferred": "false"}, headers={"Accept": "application/sparql-results+json"})
        assert r.json()["boolean"] is False

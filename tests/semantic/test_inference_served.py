"""A running server keeps each project's inferred graph current after changes, and says so."""

from __future__ import annotations

import pytest

BRICK_MODEL = """@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix ex: <http://example.org/site#> .
ex:vav1 a brick:VAV ; brick:hasPoint ex:zat1 .
ex:zat1 a brick:Zone_Air_Temperature_Sensor .
"""
MORE = """@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix ex: <http://example.org/site#> .
ex:vav1 brick:hasPoint ex:co2 . ex:co2 a brick:CO2_Level_Sensor .
"""

ASK_INVERSE = "PREFIX brick: <https://brickschema.org/schema/Brick#> ASK { <http://example.org/site#zat1> brick:isPointOf <http://example.org/site#vav1> }"
ASK_SUPERCLASS = "PREFIX brick: <https://brickschema.org/schema/Brick#> ASK { <http://example.org/site#zat1> a brick:Temperature_Sensor }"
ASK_MORE = "PREFIX brick: <https://brickschema.org/schema/Brick#> ASK { <http://example.org/site#co2> brick:isPointOf <http://example.org/site#vav1> ; a brick:Point }"
JSON = {"Accept": "application/sparql-results+json"}


def _ask(c, pid: str, q: str, **params: str) -> bool:
    r = c.get(f"/projects/{pid}/sparql", params={"query": q, **params}, headers=JSON)
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


@pytest.mark.slow
def test_small_changes_are_inferred_before_the_write_returns(make_live_server):
    srv = make_live_server(infer_on_change=True)
    pid = srv.create_project("inf")
    with srv.client(srv.admin) as c:
        r = c.put(f"/projects/{pid}/graphs", params={"graph": srv.twin.naming.graph(pid, "hvac")}, content=BRICK_MODEL, headers={"Content-Type": "text/turtle"})
        assert r.status_code in (201, 204), r.text
        assert r.headers["KG-Twin-Inference"] == "current"
        # no waiting: the write's response came after its inference
        assert _ask(c, pid, ASK_INVERSE) and _ask(c, pid, ASK_SUPERCLASS)
        assert not _ask(c, pid, ASK_INVERSE, inferred="false")  # the inferred graph is kept apart
        # appending (POST) is incremental too
        r = c.post(f"/projects/{pid}/graphs", params={"graph": srv.twin.naming.graph(pid, "hvac")}, content=MORE, headers={"Content-Type": "text/turtle"})
        assert r.status_code == 204, r.text
        assert _ask(c, pid, ASK_MORE)
        body = c.get(f"/projects/{pid}").json()
        assert body["inference"]["state"] == "current"
        assert body["inference"]["triples"] > 0 and body["inference"]["graph"].endswith(f"/graph/{pid}/inferred")
        assert body["inference"]["last_run"]["mode"] == "incremental"
        # dropping the graph retracts its entailments
        r = c.delete(f"/projects/{pid}/graphs", params={"graph": srv.twin.naming.graph(pid, "hvac")})
        assert r.status_code == 204, r.text
        assert not _ask(c, pid, ASK_INVERSE) and not _ask(c, pid, ASK_MORE)
        assert srv.twin.store.graph_size(srv.twin.naming.inferred_graph(pid)) == 0


def test_pending_state_is_visible(twin):
    """A change bigger than the synchronous limit is queued: the project reads 'pending' until done."""
    from kg_twin.reasoning.infer import project_lock
    from kg_twin.reasoning.refresh import InferenceRefresher

    twin.projects.create("big")
    r = InferenceRefresher.attach(twin)
    try:
        assert twin.inference_state("big") == "current"
        r.sync_limit = 0
        g = twin.naming.graph("big", "hvac")
        change = twin.before_replace("big", [g])
        twin.store.load(BRICK_MODEL.encode(), format="turtle", graph=g)
        change.triples = 4
        with project_lock("big"):  # hold the run back so the state can be seen
            twin.notify("big", change)
            assert twin.inference_state("big") == "pending"
        assert r.wait_idle(timeout=60)
        assert twin.inference_state("big") == "current" and not r.errors
        assert twin.store.ask(f"ASK {{ GRAPH <{twin.naming.inferred_graph('big')}> {{ <http://example.org/site#zat1> a <https://brickschema.org/schema/Brick#Point> }} }}")
    finally:
        r.close()

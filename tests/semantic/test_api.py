"""REST: /ontologies, /ontologies/check, /ontologies/{module}, POST /projects/{p}/infer, and the refresher the app attaches."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from fastapi.testclient import TestClient

from kg_twin.api.app import create_app
from kg_twin.service import Twin, create_twin
from kg_twin.settings import Settings

G36 = Path(__file__).resolve().parents[1] / "data" / "brick" / "g36-combined-ahu-vav.ttl"
BASE = "http://twin.test/"


@pytest.fixture()
def client(tmp_path):
    settings = Settings(store="memory", data_dir=tmp_path, base_iri=BASE)
    twin = create_twin(settings)
    twin.projects.create("campus")
    app = create_app(settings, twin=twin)  # its lifespan attaches the inference refresher (infer_on_change)
    with TestClient(app) as c:
        c.twin = twin  # type: ignore[attr-defined]
        c.app_ = app  # type: ignore[attr-defined]
        yield c
    twin.close()


def _auth(twin: Twin, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {twin.access.tokens.create('campus', role).secret}"}


def test_list_and_get_module(client):
    r = client.get("/ontologies")
    assert r.status_code == 200
    mods = {m["module"]: m for m in r.json()["modules"]}
    assert mods["bot"]["version"] == "0.3.1" and mods["bot"]["triples"] == 200
    r = client.get("/ontologies/bot")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    assert len(g) == 200
    r = client.get("/ontologies/kgt", params={"format": "ntriples"})
    assert r.headers["content-type"].startswith("application/n-triples") and b"owl#imports" not in r.content
    r = client.get("/ontologies/nope")
    assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_ONTOLOGY_MODULE" and r.json()["ok"] is False


def test_check_report(client, owl_cache):
    from tests.semantic.conftest import seed_cache

    seed_cache(owl_cache, Path(client.twin.settings.data_dir) / "cache")
    r = client.get("/ontologies/check")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["consistent"] is True and body["unsatisfiable"] == []
    assert body["cached"] is True
    assert {m["module"]: m["mode"] for m in body["modules"]}["brick"] == "class-hierarchy extract"


def test_infer_needs_writer_and_rebuilds(client):
    twin = client.twin
    twin.store.load(G36, format="turtle", graph=twin.naming.graph("campus", "hvac"))
    assert client.post("/projects/campus/infer").status_code == 401
    assert client.post("/projects/campus/infer", headers=_auth(twin, "reader")).status_code == 403
    r = client.post("/projects/campus/infer", headers=_auth(twin, "writer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["inferred_triples"] > 0 and body["graph"] == f"{BASE}graph/campus/inferred"
    assert twin.store.graph_size(body["graph"]) == body["inferred_triples"]


@pytest.mark.slow
def test_refresher_installed_by_the_app(client):
    twin = client.twin
    refresher = client.app_.state.inference
    twin.store.load(G36, format="turtle", graph=twin.naming.graph("campus", "hvac"))
    twin.notify("campus")
    twin.notify("campus")  # a burst of changes coalesces into one pending rebuild
    assert refresher.wait_idle(timeout=240)
    assert not refresher.errors
    assert twin.store.graph_size(twin.naming.inferred_graph("campus")) == refresher.last["campus"].inferred_triples > 0

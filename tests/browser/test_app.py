"""The twin app in Debian's chromium (headless, DevTools protocol) against ``kg-twin serve --demo``.

Every test keeps a screenshot under test-artifacts/browser/, checks it is not blank and that the
browser requested no host but the server (the ``page`` fixture)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.browser.cdp import Page
from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.slow

BUILDINGS_WITH_GEOMETRY = """PREFIX geo: <http://www.opengis.net/ont/geosparql#>
SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE { VALUES ?t { <https://w3id.org/bot#Building> <https://brickschema.org/schema/Brick#Building> }
  ?b a ?t ; geo:hasDefaultGeometry/geo:asWKT ?w }"""


def count(server: DemoServer, query: str) -> int:
    with server.client() as c:
        r = c.post("/projects/demo/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
        r.raise_for_status()
        return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_landing_lists_the_demo(page: Page, demo_server: DemoServer) -> None:
    page.goto(demo_server.url + "/")
    page.wait_for("document.querySelector('[data-project=demo] .classes')")
    text = page.text()
    assert "Demo territory" in text and "buildings" in text and "Live points" in text
    buildings = page.eval("document.querySelector('[data-project=demo]').innerText.match(/(\\d+) buildings/)[1]")
    assert int(buildings) == count(demo_server, "SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE { VALUES ?t { <https://w3id.org/bot#Building> <https://brickschema.org/schema/Brick#Building> } ?b a ?t }")
    page.wait_for("document.querySelector('.smallmap').dataset.ready === 'true'", timeout=60)


def _rendered(page: Page, layer: str) -> int:
    return int(page.eval(f"new Set(window.kgTwinMap.queryRenderedFeatures({{layers: ['{layer}']}}).map(f => f.id)).size"))


def test_map_draws_every_building_and_extrudes_them(page: Page, demo_server: DemoServer) -> None:
    expected = count(demo_server, BUILDINGS_WITH_GEOMETRY)
    assert expected > 1000  # the BD TOPO buildings of Olemps
    page.goto(demo_server.url + "/app/map?project=demo", timeout=120)
    # 2D: every building with a geometry is drawn
    page.eval("void document.getElementById('mode-3d').click()")
    page.wait_for("window.kgTwinMap.getPitch() === 0 && window.kgTwinMap.getLayoutProperty('buildings-2d', 'visibility') === 'visible'")
    page.eval("new Promise(r => window.kgTwinMap.once('idle', () => r(true)))", timeout=120)
    assert _rendered(page, "buildings-2d") == expected
    # 3D: the same buildings as fill-extrusions, their height from kgt:height, seen from a pitch
    page.eval("void document.getElementById('mode-3d').click()")
    page.wait_for("window.kgTwinMap.getPitch() > 40")
    page.eval("new Promise(r => window.kgTwinMap.once('idle', () => r(true)))", timeout=120)
    assert page.eval("window.kgTwinMap.getLayer('buildings-3d').type") == "fill-extrusion"
    heights = page.eval("window.kgTwinMap.queryRenderedFeatures({layers: ['buildings-3d']}).map(f => f.properties.height || 0)")
    assert heights and max(heights) > 10
    assert _rendered(page, "buildings-3d") > 0.9 * expected  # the far edge of a pitched view may leave a few out


def test_query_editor_runs_a_query(page: Page, demo_server: DemoServer) -> None:
    page.goto(demo_server.url + "/app/query?project=demo")
    page.wait_for("window.kgTwinYasgui && document.querySelectorAll('#examples button').length > 3")
    page.eval("void window.kgTwinYasgui.getTab().setQuery('SELECT ?b ?label WHERE { ?b a <https://w3id.org/bot#Building> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?b LIMIT 7')")
    page.eval("void window.kgTwinYasgui.getTab().query()")
    page.wait_for("document.querySelectorAll('.yasr table.dataTable tbody tr').length === 7", timeout=60)
    assert "Building BATIMENT" in page.text()
    # a geo:wktLiteral column: the results are also drawn on a map, through format=geojson
    page.eval("void document.querySelector('#examples button[data-query=list-buildings]').click()")
    page.wait_for("window.kgTwinYasgui.getTab().getQuery().includes('footprint')")
    wkt_query = ("PREFIX geo: <http://www.opengis.net/ont/geosparql#> SELECT ?building ?footprint WHERE { "
                 "?building a <https://w3id.org/bot#Building> ; geo:hasDefaultGeometry/geo:asWKT ?footprint } LIMIT 20")
    page.eval(f"void window.kgTwinYasgui.getTab().setQuery({json.dumps(wkt_query)})")
    page.eval("void window.kgTwinYasgui.getTab().query()")
    page.wait_for("document.getElementById('map-note').textContent.includes('20 features')", timeout=90)
    page.wait_for("window.kgTwinResultMap && window.kgTwinResultMap.loaded() && window.kgTwinResultMap.querySourceFeatures('results').length > 0")


def test_entity_page_of_a_building(page: Page, demo_server: DemoServer) -> None:
    with demo_server.client() as c:
        r = c.post("/projects/demo/sparql", data={"query": "SELECT ?b WHERE { ?b a <https://w3id.org/bot#Building> ; <https://w3id.org/kg-twin/ontology#height> ?h FILTER(?h > 10) } ORDER BY ?b LIMIT 1"},
                   headers={"Accept": "application/sparql-results+json"})
        iri = r.json()["results"]["bindings"][0]["b"]["value"]
        port = demo_server.url.rsplit(":", 1)[1]
        assert iri.startswith(f"http://localhost:{port}/id/demo/building/")  # the base IRI defaults to the server's URL
        path = "/" + iri.split("/", 3)[3]  # the minted IRI's path: /id/demo/building/...
        turtle = c.get(path, headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle") and "kg-twin/ontology#height" in turtle.text
    page.goto(demo_server.url + path)
    assert page.eval("document.getElementById('entity-iri').textContent") == iri
    text = page.text()
    assert "bot:Building" in text and "kgt:height" in text  # types and properties
    assert "BATIMENT.zip" in text or "batiment.zip" in text  # provenance: the source file / graph
    assert "ingest of BATIMENT.zip" in text
    page.wait_for("document.getElementById('entity-map').dataset.ready === 'true'")


def test_validation_view_lists_the_results_of_validate(page: Page, demo_server: DemoServer) -> None:
    with demo_server.client() as c:
        summary = c.post("/projects/demo/validate").json()
    page.goto(demo_server.url + "/app/validation?project=demo", ready="document.getElementById('status').dataset.count", timeout=180)
    assert int(page.eval("document.getElementById('status').dataset.count")) == summary["total"]
    rows = json.loads(page.eval("document.getElementById('results').dataset.rows"))
    assert len(rows) == summary["total"]
    assert "does not conform" in page.text() and (summary["conforms"] is False)
    page.eval("document.querySelector('#results details').open = true")


def test_live_value_changes_after_a_reading(page: Page, demo_server: DemoServer) -> None:
    with demo_server.client() as c:
        point = c.get("/projects/demo/points").json()["points"][0]
    page.goto(demo_server.url + "/app/live?project=demo")
    page.wait_for("document.getElementById('stream-state').dataset.connected === 'true'")
    value = 4242.5
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    with demo_server.client(demo_server.writer) as c:
        r = c.post("/projects/demo/observations", json=[{"point": point["id"], "timestamp": now, "value": value}])
        assert r.status_code == 200, r.text
    cell = f"document.querySelector('tr[data-point=\"{point['id']}\"] .value-cell')"
    page.wait_for(f"{cell}.dataset.value === '{value}'", timeout=30)


def test_api_docs_render_offline(page: Page, demo_server: DemoServer) -> None:
    page.goto(demo_server.url + "/docs", ready="document.querySelectorAll('.opblock').length > 20")
    assert "/projects/{project}/sparql" in page.text()


def test_ingest_dry_run_shows_the_mapping(page: Page, demo_server: DemoServer) -> None:
    source = Path(__file__).resolve().parents[2] / "examples" / "building" / "thermostats.csv"
    page.goto(demo_server.url + "/app/ingest?project=demo")
    # the token, entered once in the header form, kept by the browser (never in a URL)
    page.eval(f"void (document.getElementById('token').value = {json.dumps(demo_server.writer)})")
    page.eval("void document.querySelector('#token-form button[type=submit]').click()")
    page.wait_for("document.body.dataset.ready === 'true' && document.getElementById('token-state').textContent === 'token set'")
    assert demo_server.writer not in page.eval("location.href")
    root = page.conn.call("DOM.getDocument")["root"]["nodeId"]
    node = page.conn.call("DOM.querySelector", {"nodeId": root, "selector": "#file"})["nodeId"]
    page.conn.call("DOM.setFileInputFiles", {"files": [str(source)], "nodeId": node})
    page.eval("void (document.getElementById('dry-run').checked = true)")
    page.eval("void document.querySelector('main form button[type=submit]').click()")
    page.wait_for("document.getElementById('mapping')", timeout=60)
    assert "Dry run" in page.text()

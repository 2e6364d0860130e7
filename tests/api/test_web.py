"""The twin app's routes on a live server: pages and assets, the pages' JSON, dereferenceable minted
IRIs (HTML page or RDF by content negotiation), GeoJSON from the SPARQL endpoints."""

from __future__ import annotations

import rdflib
from rdflib.compare import isomorphic

from tests.conftest import LiveServer, auth

GEO = "http://www.opengis.net/ont/geosparql#"


def _territory(server: LiveServer) -> tuple[str, str, str]:
    """A private project with one building (footprint, height) and a site; (project, building IRI, reader token)."""
    p = server.create_project("web")
    b = f"{server.base}id/{p}/building/B1"
    ttl = f"""@prefix geo: <{GEO}> . @prefix bot: <https://w3id.org/bot#> . @prefix kgt: <https://w3id.org/kg-twin/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{b}> a bot:Building ; rdfs:label "Building one" ; kgt:height 12.5 ; geo:hasDefaultGeometry <{b}/geom> ;
   kgt:note [ rdfs:label "a blank node, part of the description" ] .
<{b}/geom> geo:asWKT "POLYGON((2.55 44.34, 2.551 44.34, 2.551 44.341, 2.55 44.34))"^^geo:wktLiteral .
<{server.base}id/{p}/site/S> bot:hasBuilding <{b}> ; rdfs:label "The site" .
"""
    server.put_graph(p, "buildings", ttl)
    return p, b, server.token(p, "reader")


def test_pages_and_assets(live_server: LiveServer) -> None:
    with live_server.client() as c:
        for path in ("/", "/app/map", "/app/query", "/app/entity"):
            r = c.get(path)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        js = c.get("/web/static/api.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        assert c.get("/web/vendor/maplibre-gl/maplibre-gl.mjs").status_code == 200
        assert c.get("/web/vendor/yasgui/yasgui.min.js").status_code == 200
        for bad in ("/web/views.py", "/web/static/../views.py", "/web/%2e%2e/views.py", "/app/nope"):
            r = c.get(bad)
            assert r.status_code == 404 and r.json()["ok"] is False, bad


def test_overview_features_entity(live_server: LiveServer) -> None:
    p, b, tok = _territory(live_server)
    with live_server.client() as anon:
        assert anon.get(f"/projects/{p}/overview").status_code == 401  # private
    with live_server.client(tok) as c:
        o = c.get(f"/projects/{p}/overview").json()
        assert o["buildings"] == 1 and o["extent"] == [2.55, 44.34, 2.551, 44.341]
        assert {"class": "https://w3id.org/bot#Building", "count": 1} in o["classes"]
        fc = c.get(f"/projects/{p}/features")
        assert fc.headers["content-type"] == "application/geo+json"
        [f] = fc.json()["features"]
        assert f["properties"]["building"] is True and f["properties"]["height"] == 12.5
        assert f["properties"]["kind"] == "building" and f["geometry"]["type"] == "Polygon"
        e = c.get(f"/projects/{p}/entity", params={"iri": b}).json()
        assert e["types"] == ["https://w3id.org/bot#Building"] and e["labels"][0]["value"] == "Building one"
        assert e["incoming"][0]["s"]["value"].endswith("/site/S") and e["names"][e["incoming"][0]["s"]["value"]] == "The site"
        assert e["geometry"]["type"] == "Polygon"
        assert e["provenance"][0]["graph"].endswith("/buildings")
        same = c.get(f"/projects/{p}/entity", params={"path": f"/id/{p}/building/B1"}).json()
        assert same["iri"] == b
        missing = c.get(f"/projects/{p}/entity", params={"iri": "http://example.org/nothing"})
        assert missing.status_code == 404 and missing.json()["code"] == "RESOURCE_NOT_FOUND"


def test_minted_iri_dereferences(live_server: LiveServer) -> None:
    p, b, tok = _territory(live_server)
    path = f"/id/{p}/building/B1"
    with live_server.client(tok) as c:
        html = c.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        ttl = c.get(path, headers={"Accept": "text/turtle"})
        assert ttl.status_code == 200 and ttl.headers["content-type"].startswith("text/turtle")
        got = rdflib.Graph().parse(data=ttl.text, format="turtle")
        nt = c.get(path, params={"format": "ntriples"})
        assert isomorphic(got, rdflib.Graph().parse(data=nt.text, format="nt"))
        # the CBD: the building's own triples and its blank node's, not the geometry's nor the site's
        assert len(got) == 6  # type, label, height, geometry link, note + the blank node's label
        assert rdflib.Literal("a blank node, part of the description") in set(got.objects())
        assert (rdflib.URIRef(b), rdflib.URIRef(GEO + "hasDefaultGeometry"), rdflib.URIRef(b + "/geom")) in got
        assert not list(got.triples((rdflib.URIRef(b + "/geom"), None, None)))
        assert c.get(f"/id/{p}/building/nope", headers={"Accept": "text/turtle"}).status_code == 404
    with live_server.client() as anon:
        assert anon.get(path, headers={"Accept": "text/turtle"}).status_code == 401  # the data needs the token
        assert anon.get(path, headers={"Accept": "text/html"}).status_code == 200  # the page shell does not


def test_sparql_geojson_and_browser_redirect(live_server: LiveServer) -> None:
    p, b, tok = _territory(live_server)
    q = f"PREFIX geo: <{GEO}> SELECT ?f ?wkt WHERE {{ ?f geo:hasDefaultGeometry/geo:asWKT ?wkt }}"
    with live_server.client(tok) as c:
        r = c.post(f"/projects/{p}/sparql", data={"query": q}, headers={"Accept": "application/geo+json"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        [f] = r.json()["features"]
        assert f["id"] == b and f["geometry"]["type"] == "Polygon"
        r2 = c.get(f"/projects/{p}/sparql", params={"query": q, "format": "geojson"})
        assert r2.json() == r.json()
        no_geo = c.get(f"/projects/{p}/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", "format": "geojson"})
        assert no_geo.status_code == 406 and no_geo.text.startswith("NO_GEOMETRY")
        page = c.get(f"/projects/{p}/sparql", headers={"Accept": "text/html,*/*"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == f"/app/query?project={p}"
        sd = c.get(f"/projects/{p}/sparql", headers={"Accept": "text/turtle"})
        assert sd.status_code == 200 and "sd:Service" in sd.text

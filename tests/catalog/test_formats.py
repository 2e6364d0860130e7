"""Answer formats: SPARQL JSON/XML/CSV/TSV, GeoJSON for WKT results, RDF for CONSTRUCT; by
Accept header or ?format=."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from .conftest import EX

AREA = "POLYGON((5.7595 45.1895, 5.7650 45.1895, 5.7650 45.1920, 5.7595 45.1920, 5.7595 45.1895))"


@pytest.fixture(scope="module")
def auth(twin: object) -> dict[str, str]:
    return {"Authorization": "Bearer " + twin.access.tokens.create("campus", "reader").secret}  # type: ignore[attr-defined]


def get(client: object, auth: dict[str, str], name: str, accept: str | None = None, **params: str) -> object:
    h = dict(auth)
    if accept:
        h["Accept"] = accept
    return client.get(f"/projects/campus/queries/{name}", params=params, headers=h)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "accept,fmt,media",
    [
        (None, None, "application/sparql-results+json"),
        ("application/sparql-results+json", None, "application/sparql-results+json"),
        ("application/json", None, "application/sparql-results+json"),
        ("text/csv", None, "text/csv"),
        ("text/tab-separated-values", None, "text/tab-separated-values"),
        ("application/sparql-results+xml", None, "application/sparql-results+xml"),
        ("application/geo+json", None, "application/geo+json"),
        ("text/html,application/geo+json;q=0.9", None, "application/geo+json"),
        ("text/csv", "json", "application/sparql-results+json"),
        (None, "geojson", "application/geo+json"),
        (None, "csv", "text/csv"),
        (None, "tsv", "text/tab-separated-values"),
        (None, "xml", "application/sparql-results+xml"),
    ],
)
def test_negotiation(client: object, auth: dict[str, str], accept: str | None, fmt: str | None, media: str) -> None:
    params = {"area": AREA}
    if fmt:
        params["format"] = fmt
    r = get(client, auth, "find-buildings-in-area", accept, **params)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"].split(";")[0] == media  # type: ignore[attr-defined]
    assert r.headers["x-kg-twin-rows"] == "2"  # type: ignore[attr-defined]
    body = r.content  # type: ignore[attr-defined]
    if media == "text/csv":
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        assert {r["building"] for r in rows} == {EX + "building-A", EX + "building-B"}
    elif media == "text/tab-separated-values":
        lines = body.decode().splitlines()
        assert lines[0].startswith("?building\t?label")
        assert f"<{EX}building-A>" in body.decode()
    elif media == "application/sparql-results+xml":
        root = ET.fromstring(body)
        assert len(root.findall(".//{http://www.w3.org/2005/sparql-results#}result")) == 2
    elif media == "application/sparql-results+json":
        assert len(json.loads(body)["results"]["bindings"]) == 2


def test_not_acceptable(client: object, auth: dict[str, str]) -> None:
    r = get(client, auth, "find-buildings-in-area", "image/png", area=AREA)
    assert r.status_code == 406  # type: ignore[attr-defined]
    assert r.json()["code"] == "NOT_ACCEPTABLE"  # type: ignore[attr-defined]


def test_geojson_feature_collection(client: object, auth: dict[str, str]) -> None:
    r = get(client, auth, "list-buildings", format="geojson")
    assert r.status_code == 200  # type: ignore[attr-defined]
    fc = r.json()  # type: ignore[attr-defined]
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2
    a = next(f for f in fc["features"] if f["id"] == EX + "building-A")
    assert a["type"] == "Feature"
    assert a["geometry"]["type"] == "Polygon"
    ring = a["geometry"]["coordinates"][0]
    assert ring[0] == [5.76, 45.19] and ring[0] == ring[-1] and len(ring) == 5
    assert a["properties"] == {"building": EX + "building-A", "label": "Building A - Library", "identifier": "BAT-A"}
    # parameters are not feature properties; numbers are typed
    r = get(client, auth, "find-features-near-point", format="geojson", point="POINT(5.7607 45.1901)")
    fc = r.json()  # type: ignore[attr-defined]
    props = fc["features"][0]["properties"]
    assert set(props) == {"feature", "label", "distance"}
    assert isinstance(props["distance"], float)
    assert {f["geometry"]["type"] for f in fc["features"]} == {"Polygon", "Point"}
    # shapely reads it back, QGIS/Leaflet-style
    import shapely.geometry

    assert shapely.geometry.shape(a["geometry"]).is_valid


def test_geojson_needs_geometries(client: object, auth: dict[str, str]) -> None:
    r = get(client, auth, "list-points-of-equipment", format="geojson", equipment=EX + "AHU-1")
    assert r.status_code == 406  # type: ignore[attr-defined]
    assert r.json()["code"] == "NO_GEOMETRY"  # type: ignore[attr-defined]
    # an empty answer is an empty collection
    r = get(client, auth, "find-features-near-point", format="geojson", point="POINT(0 0)")
    assert r.json() == {"type": "FeatureCollection", "features": []}  # type: ignore[attr-defined]


def test_geojson_reprojects_other_crs() -> None:
    from kg_twin.catalog.run import to_geojson

    doc = {
        "head": {"vars": ["f", "g"]},
        "results": {"bindings": [{"f": {"type": "uri", "value": "http://x/f"}, "g": {"type": "literal", "datatype": "http://www.opengis.net/ont/geosparql#wktLiteral",
                                                                                 "value": "<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(652469.02 6862035.26)"}}]},
    }
    fc = json.loads(to_geojson(doc))
    lon, lat = fc["features"][0]["geometry"]["coordinates"]
    assert abs(lon - 2.3522) < 0.001 and abs(lat - 48.8566) < 0.001  # Paris, Lambert-93 -> CRS84


def test_construct_project_query(client: object, twin: object) -> None:
    tok = twin.access.tokens.create("campus", "admin").secret  # type: ignore[attr-defined]
    h = {"Authorization": f"Bearer {tok}"}
    text = """#+ summary: Footprints of buildings as a small graph
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
CONSTRUCT { ?b geo:asWKT ?w } WHERE { ?b geo:hasDefaultGeometry/geo:asWKT ?w }"""
    r = client.put("/projects/campus/queries/footprint-graph", content=text, headers={**h, "Content-Type": "application/sparql-query"})  # type: ignore[attr-defined]
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    r = client.get("/projects/campus/queries/footprint-graph", headers={**h, "Accept": "text/turtle"})  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")  # type: ignore[attr-defined]
    import rdflib

    g = rdflib.Graph().parse(data=r.text, format="turtle")  # type: ignore[attr-defined]
    assert len(g) == 2
    r = client.get("/projects/campus/queries/footprint-graph", params={"format": "ntriples"}, headers=h)  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("application/n-triples")  # type: ignore[attr-defined]
    r = client.get("/projects/campus/queries/footprint-graph", params={"format": "csv"}, headers=h)  # type: ignore[attr-defined]
    assert r.status_code == 415 or r.status_code == 406  # type: ignore[attr-defined]
    client.delete("/projects/campus/queries/footprint-graph", headers=h)  # type: ignore[attr-defined]

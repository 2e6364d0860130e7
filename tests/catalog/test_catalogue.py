"""Every catalogue query parses, is documented, maps to an OpenAPI operation with typed
parameters, and returns the expected (non-empty) answer on the fixture territory."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from kg_twin.catalog.catalog import BUILTIN_DIR, Catalog, default_catalog
from kg_twin.catalog.spec import check, parse

from .conftest import EX

QUERY_FILES = sorted(BUILTIN_DIR.glob("*.rq"))
BRICK = "https://brickschema.org/schema/Brick#"
SH = "http://www.w3.org/ns/shacl#"


def test_catalogue_folder_has_queries() -> None:
    assert len(QUERY_FILES) >= 10
    assert default_catalog().invalid == {}


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_query_file_parses_and_is_documented(path: Path) -> None:
    import pyoxigraph as ox

    text = path.read_text(encoding="utf-8")
    ox.Store().query(text, substitutions={}) if "?_" not in text else None  # parameter-free: parses as is
    spec = check(parse(path.stem, text))
    assert spec.summary, "every query needs '#+ summary:'"
    assert spec.form in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
    # declared parameters are exactly the ?_ / ?__ variables of the text
    import re

    vars_in_text = {m.group(1) for m in re.finditer(r"[?$](_[A-Za-z0-9_]+)", text)}
    assert {p.variable for p in spec.parameters} == vars_in_text
    for p in spec.parameters:
        assert p.variable in spec.variables, f"?{p.variable} must be projected to be bound"


def test_openapi_has_one_operation_per_query(client: object) -> None:
    doc = client.get("/openapi.json").json()  # type: ignore[attr-defined]
    ops = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ops[op.get("operationId")] = (path, method, op)
    for spec in default_catalog().list():
        assert spec.name in ops, f"no OpenAPI operation {spec.name}"
        path, method, op = ops[spec.name]
        assert path == f"/projects/{{project}}/queries/{spec.name}" and method == "get"
        assert op["summary"] == spec.summary
        params = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
        for p in spec.parameters:
            assert p.name in params
            assert params[p.name]["required"] == (p.required and p.default is None)
        assert "format" in params and "timeout" in params
    # typed parameters
    _, _, op = ops["find-features-near-point"]
    q = {p["name"]: p for p in op["parameters"]}
    assert q["point"]["required"] is True and q["point"]["schema"]["format"] == "wkt"
    assert q["metres"]["schema"]["type"] == "number" and q["metres"]["schema"]["default"] == 100
    assert q["metres"]["description"] == "Search radius in metres (xsd:decimal)"
    _, _, op = ops["find-stale-sensors"]
    assert {p["name"]: p for p in op["parameters"]}["since"]["schema"] == {"type": "string", "format": "date-time"}
    _, _, op = ops["list-points-of-equipment"]
    assert {p["name"]: p for p in op["parameters"]}["equipment"]["schema"]["format"] == "uri"
    _, _, op = ops["count-validation-issues-by-class"]
    assert {p["name"]: p for p in op["parameters"]}["severity"]["schema"]["enum"][0] == SH + "Violation"
    _, _, op = ops["list-spaces-by-storey"]
    assert "page" in {p["name"] for p in op["parameters"]}


def test_catalogue_endpoint_lists_operations(client: object) -> None:
    r = client.get("/queries")  # type: ignore[attr-defined]
    assert r.status_code == 200
    body = r.json()
    names = [q["name"] for q in body["queries"]]
    assert names == sorted(p.stem for p in QUERY_FILES)
    q = next(q for q in body["queries"] if q["name"] == "find-features-near-point")
    assert q["summary"] and q["parameters"][0]["name"] == "point"
    assert q["example"].startswith("/projects/{project}/queries/find-features-near-point?point=POINT")
    assert "geojson" in q["formats"]
    one = client.get("/queries/list-buildings").json()  # type: ignore[attr-defined]
    assert "SELECT" in one["sparql"]
    assert client.get("/queries/nope").status_code == 404  # type: ignore[attr-defined]


def _rows(client: object, name: str, params: dict[str, str], token: str) -> list[dict[str, str]]:
    r = client.get(f"/projects/campus/queries/{name}", params={**params, "format": "csv"}, headers={"Authorization": f"Bearer {token}"})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def col(rows: list[dict[str, str]], name: str) -> set[str]:
    return {r[name] for r in rows}


# name -> (parameters, check on the CSV rows); every expected answer is non-empty
EXPECTED = {
    "list-buildings": ({}, lambda rows: col(rows, "building") == {EX + "building-A", EX + "building-B"} and all(r["footprint"].startswith("POLYGON") for r in rows)),
    "find-buildings-in-area": (
        {"area": "POLYGON((5.7595 45.1895, 5.7610 45.1895, 5.7610 45.1906, 5.7595 45.1906, 5.7595 45.1895))"},
        lambda rows: col(rows, "building") == {EX + "building-A"},
    ),
    "find-buildings-in-bbox": (
        {"west": "5.7595", "south": "45.1895", "east": "5.7650", "north": "45.1920"},
        lambda rows: col(rows, "building") == {EX + "building-A", EX + "building-B"},
    ),
    "list-spaces-by-storey": (
        {"building": EX + "building-A"},
        lambda rows: [r["space"] for r in rows] == [EX + "A-001", EX + "A-002", EX + "A-B01", EX + "A-101"]
        and [r["storeyLabel"] for r in rows] == ["A ground floor"] * 3 + ["A first floor"],
    ),
    "list-points-of-equipment": (
        {"equipment": EX + "AHU-1"},
        lambda rows: {r["point"]: r["value"] for r in rows} == {EX + "AHU-1-SAT": "18.4", EX + "AHU-1-RAT": "22.9", EX + "AHU-1-SF-CMD": "true"},
    ),
    "find-stale-sensors": (
        {"since": "2026-11-24T00:00:00Z"},
        lambda rows: col(rows, "sensor") == {EX + "AHU-1-RAT", EX + "ZT-A-101", EX + "EM-A-POWER"},
    ),
    "find-assets-missing-documents": (
        {"class": BRICK + "AHU", "kind": "manual"},
        lambda rows: col(rows, "asset") == {EX + "AHU-2"},
    ),
    "find-features-near-point": (
        {"point": "POINT(5.7607 45.1901)", "metres": "50"},
        lambda rows: col(rows, "feature") == {EX + "building-A", EX + "ev-charger-1"} and all(float(r["distance"]) < 10 for r in rows),
    ),
    "list-energy-meters-by-building": (
        {},
        lambda rows: {(r["building"], r["meter"]) for r in rows} == {(EX + "building-A", EX + "EM-A"), (EX + "building-B", EX + "EM-B")}
        and {r["point"]: r["value"] for r in rows if r["point"]} == {EX + "EM-A-ENERGY": "183402.5"},
    ),
    "count-validation-issues-by-class": (
        {},
        lambda rows: {(r["class"], r["severity"], r["issues"]) for r in rows}
        == {(BRICK + "AHU", SH + "Violation", "1"), (BRICK + "AHU", SH + "Warning", "1"), (BRICK + "Zone_Air_Temperature_Sensor", SH + "Warning", "1")},
    ),
    "show-entity-provenance": (
        {"entity": EX + "building-A"},
        lambda rows: len(rows) == 1
        and rows[0]["fileName"] == "buildings.geojson"
        and rows[0]["activity"] == EX + "ingest-1"
        and rows[0]["ended"] == "2026-11-20T09:14:05Z"
        and rows[0]["origin"] == "feature 1",
    ),
}


def test_every_query_has_an_expectation() -> None:
    assert set(EXPECTED) == {p.stem for p in QUERY_FILES}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_query_answer_on_fixture(client: object, admin_token: str, name: str) -> None:
    params, ok = EXPECTED[name]
    rows = _rows(client, name, params, admin_token)
    assert rows, f"{name} returned nothing"
    assert ok(rows), json.dumps(rows, indent=1)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_catalogue_example_runs(client: object, admin_token: str, name: str) -> None:
    """The example URL the catalogue advertises works as given."""
    spec = default_catalog().get(name)
    assert spec is not None
    url = spec.to_dict(project="campus")["example"]
    assert "{" not in url, f"{name}: example has unfilled required parameters: {url}"
    r = client.get(url, headers={"Authorization": f"Bearer {admin_token}", "Accept": "application/sparql-results+json"})  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    if name not in DEMO_EXAMPLES:
        assert r.json()["results"]["bindings"], f"{name}: example returns nothing"


# examples placed in the demo territory (Olemps), not in this fixture (Grenoble): that they find
# buildings there is checked against the demo by tests/browser/test_examples.py
DEMO_EXAMPLES = {"find-buildings-in-area", "find-buildings-in-bbox", "find-features-near-point"}


def test_filters_really_filter(client: object, admin_token: str) -> None:
    within = _rows(client, "find-buildings-in-area", {"area": "POLYGON((5.7602 45.1899, 5.7610 45.1899, 5.7610 45.1906, 5.7602 45.1906, 5.7602 45.1899))", "mode": "within"}, admin_token)
    assert within == []
    inter = _rows(client, "find-buildings-in-area", {"area": "POLYGON((5.7602 45.1899, 5.7610 45.1899, 5.7610 45.1906, 5.7602 45.1906, 5.7602 45.1899))"}, admin_token)
    assert col(inter, "building") == {EX + "building-A"}
    near = _rows(client, "find-features-near-point", {"point": "POINT(5.7607 45.1901)", "metres": "5"}, admin_token)
    assert near == []
    far = _rows(client, "find-features-near-point", {"point": "POINT(5.7607 45.1901)", "metres": "2000"}, admin_token)
    assert EX + "tree-17" in col(far, "feature") and EX + "building-B" in col(far, "feature")
    assert [float(r["distance"]) for r in far] == sorted(float(r["distance"]) for r in far)
    stale_later = _rows(client, "find-stale-sensors", {"since": "2026-11-26T00:00:00Z"}, admin_token)
    assert EX + "AHU-1-SAT" in col(stale_later, "sensor")
    stale_default = _rows(client, "find-stale-sensors", {}, admin_token)  # last 24 h before now
    assert EX + "ZT-A-101" in col(stale_default, "sensor")
    viol = _rows(client, "count-validation-issues-by-class", {"severity": SH + "Violation"}, admin_token)
    assert {r["severity"] for r in viol} == {SH + "Violation"}
    any_doc = _rows(client, "find-assets-missing-documents", {"class": BRICK + "AHU"}, admin_token)
    assert col(any_doc, "asset") == {EX + "AHU-2"}
    no_drawing = _rows(client, "find-assets-missing-documents", {"class": BRICK + "AHU", "kind": "drawing"}, admin_token)
    assert col(no_drawing, "asset") == {EX + "AHU-1", EX + "AHU-2"}
    prov = _rows(client, "show-entity-provenance", {"entity": EX + "AHU-1"}, admin_token)  # the pipeline's spelling
    assert [(r["fileName"], r["mappingVersion"], r["status"], r["origin"]) for r in prov] == [("points.csv", "40723137fdf5962b", "published", "row 2")]
    b = _rows(client, "list-energy-meters-by-building", {"building": EX + "building-B"}, admin_token)
    assert col(b, "meter") == {EX + "EM-B"}


def test_pagination_pages_and_links(client: object, admin_token: str, twin: object) -> None:
    from kg_twin.catalog.catalog import ProjectQueries
    from kg_twin.limits import Limits

    text = (BUILTIN_DIR / "list-spaces-by-storey.rq").read_text().replace("#+ pagination: 100", "#+ pagination: 3")
    empty = Catalog({})
    pq = ProjectQueries(twin.store, twin.naming, lambda: empty, limits=Limits.of(twin.settings))  # a separate registry: the paged copy is a project query
    pq.put("campus", "spaces-paged", text)
    from kg_twin.catalog.run import run

    spec = pq.get("campus", "spaces-paged")
    p1 = run(twin, "campus", spec, [("building", EX + "building-A"), ("format", "csv")], base_url="http://t/q")
    p2 = run(twin, "campus", spec, [("building", EX + "building-A"), ("format", "csv"), ("page", "2")], base_url="http://t/q")
    r1 = list(csv.DictReader(io.StringIO(p1.body.decode())))
    r2 = list(csv.DictReader(io.StringIO(p2.body.decode())))
    assert [r["space"] for r in r1 + r2] == [EX + "A-001", EX + "A-002", EX + "A-B01", EX + "A-101"]
    assert 'rel="next"' in p1.headers["Link"] and "page=2" in p1.headers["Link"]
    assert 'rel="next"' not in p2.headers["Link"] and 'rel="prev"' in p2.headers["Link"]
    pq.delete("campus", "spaces-paged")


def test_broken_files_are_listed_not_served(tmp_path: Path) -> None:
    (tmp_path / "good-one.rq").write_text("#+ summary: ok\nSELECT ?s WHERE { ?s ?p ?o }\n")
    (tmp_path / "no-summary.rq").write_text("SELECT ?s WHERE { ?s ?p ?o }\n")
    (tmp_path / "bad-syntax.rq").write_text("#+ summary: x\nSELECT ?s WHERE {\n  ?s ?p ?o\n")
    (tmp_path / "Bad Name.rq").write_text("#+ summary: x\nSELECT ?s WHERE { ?s ?p ?o }\n")
    cat = Catalog.from_directory(tmp_path)
    assert cat.names() == ["good-one"]
    assert cat.invalid["no-summary"]["code"] == "MISSING_SUMMARY"
    assert cat.invalid["bad-syntax"]["code"] == "SPARQL_SYNTAX" and cat.invalid["bad-syntax"]["where"]["line"] == 4  # end of file: the brace is never closed
    assert cat.invalid["Bad Name"]["code"] == "BAD_QUERY_NAME"
    from kg_twin.api.routers.queries import build_router

    paths = {r.path for r in build_router(cat).routes}  # type: ignore[attr-defined]
    assert "/projects/{project}/queries/good-one" in paths
    assert not any("no-summary" in p for p in paths)
    with pytest.raises(Exception):
        Catalog.from_directory(tmp_path, strict=True)


def test_docs_list_every_query() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "queries.md").read_text()
    missing = [p.stem for p in QUERY_FILES if f"`{p.stem}`" not in text]
    assert missing == []

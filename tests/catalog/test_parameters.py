"""Parameter values: typed, validated, bound (never pasted). Injection attempts on every
parameter type are rejected with a 400 naming the parameter, or bound as inert values; the
store is unchanged afterwards."""

from __future__ import annotations

import pytest

from kg_twin.catalog.params import Parameter, check_iri, check_literal
from kg_twin.errors import InputError

from .conftest import EX

BRICK = "https://brickschema.org/schema/Brick#"
XSD = "http://www.w3.org/2001/XMLSchema#"
INJECT = '> } ; DROP ALL ; #'

TYPED_QUERY = """#+ summary: Echo typed parameters (test)
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?s ?_n_xsd_integer ?__d_xsd_date ?__b_xsd_boolean ?__label_en ?__x_number ?__t_xsd_dateTime ?__u_iri ?__name WHERE {
  VALUES ?s { <https://data.example.org/campus/AHU-1> }
}
"""


@pytest.fixture(scope="module")
def auth(twin: object) -> dict[str, str]:
    tok = twin.access.tokens.create("campus", "admin").secret  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture(scope="module")
def typed(client: object, auth: dict[str, str]) -> str:
    r = client.put("/projects/campus/queries/echo-typed", content=TYPED_QUERY, headers={**auth, "Content-Type": "application/sparql-query"})  # type: ignore[attr-defined]
    assert r.status_code in (200, 201), r.text
    return "/projects/campus/queries/echo-typed"


def snapshot(twin: object) -> tuple[int, list[bytes]]:
    inference = getattr(twin, "inference", None)  # background inference may still be writing: let it finish
    if inference is not None:
        assert inference.wait_idle(timeout=60)
    st = twin.store  # type: ignore[attr-defined]
    return st.generation, sorted(st.dump_bytes(format="nquads").splitlines())


def call(client: object, auth: dict[str, str], path: str, **params: str) -> object:
    return client.get(path, params=params, headers={**auth, "Accept": "application/sparql-results+json"})  # type: ignore[attr-defined]


def assert_400(r: object, name: str) -> None:
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["ok"] is False and body["status"] == 400
    assert f"'{name}'" in body["error"] or name in body["error"], body
    assert any(e.get("parameter") == name for e in body["errors"]), body


def first(r: object) -> dict[str, dict[str, str]]:
    return r.json()["results"]["bindings"][0]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ names
@pytest.mark.parametrize(
    "var,name,required,kind,datatype,lang",
    [
        ("_zone_iri", "zone", True, "iri", None, None),
        ("__since_xsd_date", "since", False, "literal", XSD + "date", None),
        ("_name", "name", True, "literal", XSD + "string", None),
        ("_n_xsd_integer", "n", True, "literal", XSD + "integer", None),
        ("_n_integer", "n", True, "literal", XSD + "integer", None),
        ("__label_en", "label", False, "literal", None, "en"),
        ("_area_geo_wktLiteral", "area", True, "literal", "http://www.opengis.net/ont/geosparql#wktLiteral", None),
        ("_x_number", "x", True, "number", None, None),
        ("_s_literal", "s", True, "literal", XSD + "string", None),
        ("_t_dateTime", "t", True, "literal", XSD + "dateTime", None),
    ],
)
def test_basil_names(var: str, name: str, required: bool, kind: str, datatype: str | None, lang: str | None) -> None:
    p = Parameter.from_variable(var, {})
    assert (p.name, p.required, p.kind, p.datatype, p.lang) == (name, required, kind, datatype, lang)


@pytest.mark.parametrize("var", ["_", "__", "_1abc", "_format", "__page", "_x_nope_thing", "_x_wat", "_x_xsd_nodate", "_a_b_c_d"])
def test_bad_parameter_names(var: str) -> None:
    with pytest.raises(InputError):
        Parameter.from_variable(var, {})


# ------------------------------------------------------------------ values
@pytest.mark.parametrize(
    "value,ok",
    [
        ("https://example.org/a", True),
        ("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", True),
        ("https://example.org/a b", False),
        ("https://example.org/a>", False),
        ("<https://example.org/a>", False),
        ('https://example.org/"x"', False),
        ("https://example.org/{x}", False),
        ("https://example.org/a|b", False),
        ("https://example.org/a^b", False),
        ("https://example.org/a`b", False),
        ("https://example.org/a\\b", False),
        ("https://example.org/a\nb", False),
        ("relative/path", False),
        ("https://", False),
        ("", False),
    ],
)
def test_iri_values(value: str, ok: bool) -> None:
    assert (check_iri(value) is None) is ok


@pytest.mark.parametrize(
    "value,dt,ok",
    [
        ("42", "integer", True), ("+42", "integer", True), ("-0", "integer", True), ("4.2", "integer", False), ("1e3", "integer", False), ("", "integer", False),
        ("300", "byte", False), ("-1", "nonNegativeInteger", False), ("0", "positiveInteger", False),
        ("12.5", "decimal", True), (".5", "decimal", True), ("1e3", "decimal", False), ("12,5", "decimal", False),
        ("1.2E3", "double", True), ("INF", "double", True), ("abc", "double", False),
        ("true", "boolean", True), ("0", "boolean", True), ("yes", "boolean", False), ("TRUE", "boolean", False),
        ("2024-02-29", "date", True), ("2023-02-29", "date", False), ("2024-13-01", "date", False), ("2024-01-01Z", "date", True), ("2024-1-1", "date", False),
        ("2024-05-31T08:00:00Z", "dateTime", True), ("2024-05-31T08:00:00.123+02:00", "dateTime", True), ("2024-05-31T25:00:00", "dateTime", False),
        ("2024-05-31 08:00:00", "dateTime", False), ("2024-05-31T24:00:00", "dateTime", True),
        ("2024-05-31T08:00:00", "dateTimeStamp", False), ("08:30:00", "time", True), ("8:30", "time", False),
        ("2024", "gYear", True), ("24", "gYear", False), ("P1D", "duration", True), ("PT2H30M", "dayTimeDuration", True), ("P1Y", "dayTimeDuration", False),
        ("P", "duration", False), ("P1Y2M", "yearMonthDuration", True),
    ],
)
def test_literal_values(value: str, dt: str, ok: bool) -> None:
    assert check_literal(value, dt) is ok


def test_number_and_wkt_values() -> None:
    n = Parameter.from_variable("_x_number", {})
    assert n.to_term("42").datatype == XSD + "integer"
    assert n.to_term("4.5").datatype == XSD + "decimal"
    assert n.to_term("4.5e1").datatype == XSD + "double"
    for bad in ("NaN", "INF", "4,5", "1 ; DROP ALL"):
        with pytest.raises(InputError):
            n.to_term(bad)
    w = Parameter.from_variable("_a_geo_wktLiteral", {})
    assert w.to_term(" POINT(1 2) ").value == "POINT(1 2)"
    assert w.to_term("<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(652000 6862000)").datatype.endswith("wktLiteral")
    for bad in ("POINT(1)", "POLYGON((0 0, 1 1))", "<http://www.opengis.net/def/crs/EPSG/0/99999999> POINT(1 2)", "POINT EMPTY", 'POINT(1 2)"^^<x> } ; DROP ALL ; #'):
        with pytest.raises(InputError):
            w.to_term(bad)


# ------------------------------------------------------------------ over HTTP
def test_missing_unknown_repeated(client: object, auth: dict[str, str]) -> None:
    r = call(client, auth, "/projects/campus/queries/list-points-of-equipment")
    assert_400(r, "equipment")
    assert r.json()["code"] == "MISSING_PARAMETER"  # type: ignore[attr-defined]
    r = call(client, auth, "/projects/campus/queries/list-points-of-equipment", equipment=EX + "AHU-1", equipmnt="x")
    assert_400(r, "equipmnt")
    assert r.json()["code"] == "UNKNOWN_PARAMETER"  # type: ignore[attr-defined]
    r = client.get("/projects/campus/queries/list-points-of-equipment?equipment=https://a/b&equipment=https://a/c", headers=auth)  # type: ignore[attr-defined]
    assert_400(r, "equipment")
    r = call(client, auth, "/projects/campus/queries/list-points-of-equipment", equipment=EX + "AHU-1", page="2")
    assert_400(r, "page")
    r = call(client, auth, "/projects/campus/queries/list-spaces-by-storey", building=EX + "building-A", page="0")
    assert_400(r, "page")
    r = call(client, auth, "/projects/campus/queries/list-spaces-by-storey", building=EX + "building-A", page="1; DROP ALL")
    assert_400(r, "page")
    r = call(client, auth, "/projects/campus/queries/list-buildings", timeout="soon")
    assert_400(r, "timeout")
    r = call(client, auth, "/projects/campus/queries/list-buildings", format="pdf")
    assert_400(r, "format")


INJECTIONS = [
    # (path, fixed params, parameter under attack, payloads)
    ("/projects/campus/queries/list-points-of-equipment", {}, "equipment",
     [EX + "AHU-1" + INJECT, EX + "AHU-1>", "<" + EX + "AHU-1>", EX + "AHU-1 } ; DROP ALL", EX + 'AHU-1"', EX + "AHU-1\nDROP ALL", "AHU-1"]),
    ("/projects/campus/queries/find-stale-sensors", {}, "since",
     ['2026-11-24T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> ) } ; DROP ALL ; #', "2026-11-24T00:00:00Z\n} DROP ALL", "yesterday", "2026-11-24"]),
    ("/projects/campus/queries/find-features-near-point", {"point": "POINT(5.7607 45.1901)"}, "metres",
     ["100) } ; DROP ALL ; #", "100 || true", '100"', "1e9", "NaN", "-"]),
    ("/projects/campus/queries/find-buildings-in-bbox", {"south": "45", "east": "6", "north": "46"}, "west",
     ['5.7 45, 6 45)) " ) } ; DROP ALL ; #', "5.7,45", "5.7\n1"]),
    ("/projects/campus/queries/find-features-near-point", {}, "point",
     ['POINT(5.7607 45.1901)"^^<http://www.opengis.net/ont/geosparql#wktLiteral> ) } ; DROP ALL ; #', "POINT(5.7607 45.1901) } ; DROP ALL", "POINT(a b)", "<not a crs> POINT(1 2)"]),
    ("/projects/campus/queries/find-buildings-in-area", {"area": "POLYGON((5 45, 6 45, 6 46, 5 46, 5 45))"}, "mode",
     ['within" || true || "', "within\nx", "WITHIN"]),
    ("/projects/campus/queries/count-validation-issues-by-class", {}, "severity",
     ["http://www.w3.org/ns/shacl#Violation> } ; DROP ALL ; #", "http://www.w3.org/ns/shacl#Info2"]),
]


@pytest.mark.parametrize("path,fixed,name,payloads", INJECTIONS, ids=[f"{i[2]}" for i in INJECTIONS])
def test_injection_rejected_with_parameter_named(client: object, auth: dict[str, str], twin: object, path: str, fixed: dict[str, str], name: str, payloads: list[str]) -> None:
    before = snapshot(twin)
    for payload in payloads:
        r = call(client, auth, path, **fixed, **{name: payload})
        assert_400(r, name)
    assert snapshot(twin) == before


def test_string_payloads_are_bound_verbatim(client: object, auth: dict[str, str], twin: object) -> None:
    """A plain-literal parameter accepts quotes, braces and SPARQL keywords as plain text."""
    before = snapshot(twin)
    for payload in ['manual" ) } ; DROP ALL ; #', "O'Brien's manual", "}}}} DELETE WHERE { ?s ?p ?o }", "<http://x> .", "\\u0022 \\\" \\n"]:
        r = call(client, auth, "/projects/campus/queries/find-assets-missing-documents", **{"class": BRICK + "AHU", "kind": payload})
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        rows = r.json()["results"]["bindings"]  # type: ignore[attr-defined]
        assert {b["asset"]["value"] for b in rows} == {EX + "AHU-1", EX + "AHU-2"}  # no document matches that text
        assert all(b["__kind"]["value"] == payload for b in rows)  # the value arrived unchanged, as one literal
    assert snapshot(twin) == before


def test_typed_values_are_bound_as_terms(client: object, auth: dict[str, str], typed: str, twin: object) -> None:
    before = snapshot(twin)
    r = call(client, auth, typed, n="42", d="2024-02-29", b="true", label='Salle "A" } ; DROP ALL', x="4.5", t="2024-05-31T08:00:00Z", u="https://example.org/x", name="plain")
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    row = first(r)
    assert row["_n_xsd_integer"] == {"type": "literal", "datatype": XSD + "integer", "value": "42"}
    assert row["__d_xsd_date"] == {"type": "literal", "datatype": XSD + "date", "value": "2024-02-29"}
    assert row["__b_xsd_boolean"] == {"type": "literal", "datatype": XSD + "boolean", "value": "true"}
    assert row["__label_en"] == {"type": "literal", "xml:lang": "en", "value": 'Salle "A" } ; DROP ALL'}
    assert row["__x_number"] == {"type": "literal", "datatype": XSD + "decimal", "value": "4.5"}
    assert row["__t_xsd_dateTime"]["value"] == "2024-05-31T08:00:00Z"
    assert row["__u_iri"] == {"type": "uri", "value": "https://example.org/x"}
    assert row["__name"] == {"type": "literal", "value": "plain"}
    # optional parameters left out stay unbound
    r = call(client, auth, typed, n="7")
    row = first(r)
    assert set(row) == {"s", "_n_xsd_integer"}
    # an empty optional value counts as absent; an empty required one is missing
    assert set(first(call(client, auth, typed, n="7", d=""))) == {"s", "_n_xsd_integer"}
    assert_400(call(client, auth, typed, n=""), "n")
    assert snapshot(twin) == before


@pytest.mark.parametrize(
    "name,payload",
    [
        ("n", "42 } ; DROP ALL ; #"), ("n", "42.0"), ("n", '42"'),
        ("d", "2024-02-30"), ("d", '2024-02-29"^^<x>'), ("d", "2024-02-29\n1"),
        ("b", "true || 1"), ("b", "yes"),
        ("label", "line\nbreak"), ("label", "a\x00b"),
        ("x", "4.5 ; DROP ALL"),
        ("t", "2024-05-31T08:00:00Z } ; DROP ALL"),
        ("u", "https://example.org/x> ?p ?o } ; DROP ALL ; #"), ("u", "https://example.org/a b"), ("u", "x"),
        ("name", "two\nlines"),
    ],
)
def test_typed_injection_rejected(client: object, auth: dict[str, str], typed: str, twin: object, name: str, payload: str) -> None:
    before = snapshot(twin)
    params = {"n": "1", name: payload}
    r = call(client, auth, typed, **params)
    assert_400(r, name)
    assert snapshot(twin) == before


def test_store_untouched_and_still_answering(client: object, auth: dict[str, str], twin: object) -> None:
    r = client.get("/projects/campus/queries/list-buildings", params={"format": "json"}, headers=auth)  # type: ignore[attr-defined]
    assert len(r.json()["results"]["bindings"]) == 2

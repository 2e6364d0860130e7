"""Link specifications (the YAML checks), the measures and the matcher, on small inputs."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from kg_twin.errors import InputError
from kg_twin.links import measures as M
from kg_twin.links.engine import Entities, block, match
from kg_twin.links.spec import OWL, SKOS, parse_spec


def spec(extra: str = "", measures: str = "[{type: id}]", relation: str = "owl:sameAs") -> str:
    return f"name: t\nsource: {{}}\ntarget: {{}}\nmeasures: {measures}\nrelation: {relation}\n{extra}"


@pytest.mark.parametrize("text,code", [
    ("name: [\n", "LINK_SPEC_YAML"),
    ("- a\n- b\n", "LINK_SPEC_YAML"),
    (spec().replace("name: t", "name: 'a b'"), "LINK_SPEC_NAME"),
    (spec("colour: red\n"), "LINK_SPEC_KEY"),
    (spec(measures="[{type: soundex}]"), "LINK_SPEC_MEASURE"),
    (spec(measures="[]"), "LINK_SPEC_MEASURE"),
    (spec(measures="[{type: label}]"), "LINK_SPEC_IDENTITY"),
    (spec(measures="[{type: contains}]"), "LINK_SPEC_IDENTITY"),
    (spec(relation="foo:bar"), "LINK_SPEC_PREFIX"),
    (spec("accept: 0.5\nreview: 0.7\n"), "LINK_SPEC_VALUE"),
    (spec("accept: 2\n"), "LINK_SPEC_VALUE"),
    (spec("match: some\n"), "LINK_SPEC_VALUE"),
    (spec(measures="[{type: id, block: false}]"), "LINK_SPEC_BLOCKING"),
    (spec(measures="[{type: class}]"), "LINK_SPEC_VALUE"),
    (spec().replace("source: {}", "source: {endpoint: 'file:///etc/passwd'}"), "LINK_SPEC_ENDPOINT"),
    (spec().replace("source: {}", "source: {project: a, endpoint: 'http://x/'}"), "LINK_SPEC_SIDE"),
    # a property path is rebuilt from checked IRIs: no SPARQL can be smuggled in
    (spec().replace("source: {}", "source: {id: 'dcterms:identifier } ; DROP ALL ; {'}"), "LINK_SPEC_TERM"),
    (spec().replace("source: {}", "source: {id: '<http://x/a> ?o . ?s'}"), "LINK_SPEC_TERM"),
    # values of the wrong shape
    (spec("prefixes: [a, b]\n"), "LINK_SPEC_VALUE"),
    (spec().replace("source: {}", "source: {graphs: 5}"), "LINK_SPEC_VALUE"),
    (spec().replace("source: {}", "source: [1]"), "LINK_SPEC_SIDE"),
    (spec("accept: yes\n"), "LINK_SPEC_VALUE"),
])
def test_bad_specifications_are_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(InputError) as e:
        parse_spec(text)
    assert e.value.code == code and e.value.status == 400 and e.value.hint


def test_paths_and_defaults() -> None:
    s = parse_spec(spec(measures="[{type: id, normalise: globalid}, {type: class, compatible: [[brick:Space, bot:Space]]}]").replace(
        "source: {}", "source: {id: 'ref:hasExternalReference/ref:ifcGlobalID', class: [brick:Space, brick:Room]}"))
    assert s.source.id == "<https://brickschema.org/schema/Brick/ref#hasExternalReference>/<https://brickschema.org/schema/Brick/ref#ifcGlobalID>"
    assert s.source.classes == ("https://brickschema.org/schema/Brick#Space", "https://brickschema.org/schema/Brick#Room")
    assert (s.relation, s.fallback, s.accept, s.review, s.match) == (OWL + "sameAs", SKOS + "closeMatch", 0.9, 0.6, "one_to_one")
    assert parse_spec(s.to_yaml()) == s


def test_globalid_forms_and_labels() -> None:
    gid = "0BTBFw6f90Nfh9rP1dlXr2"
    forms = {M.normalise_id(x, "globalid") for x in (gid, "0b74b3fa1a92405e9ac9d59067be1d42", "{0B74B3FA-1A92-405E-9AC9-D59067BE1D42}")}
    assert forms == {gid}
    assert M.normalise_id("0btbfw6f90nfh9rp1dlxr2", "globalid") != gid  # GlobalIds are case-sensitive
    assert M.label_score(["Salle de réunion"], ["SALLE DE REUNION"]) == 1.0
    assert M.label_score(["Bâtiment A"], ["Parking"]) < 0.5


def _sq(x: float, y: float, s: float = 10.0) -> shapely.Polygon:
    return shapely.box(x, y, x + s, y + s)


def test_spatial_blocking_and_one_to_one() -> None:
    sp = parse_spec(spec(measures="[{type: iou}]", extra="accept: 0.8\nreview: 0.3\n"))
    src = Entities.of([("s1", (), (), (), _sq(0, 0)), ("s2", (), (), (), _sq(50, 0)), ("s3", (), (), (), None)])
    tgt = Entities.of([("t1", (), (), (), _sq(1, 0)), ("t2", (), (), (), _sq(4, 0)), ("t3", (), (), (), _sq(500, 500))])
    si, ti = block(sp, src, tgt)
    assert sorted(zip(si.tolist(), ti.tolist())) == [(0, 0), (0, 1)]  # only intersecting footprints are scored
    out = match(sp, src, tgt)
    assert [(c.source, c.target, c.status) for c in out] == [("s1", "t1", "accepted")]
    assert out[0].score == pytest.approx(90 / 110)
    # once a person rejects s1-t1, the next best candidate (IoU 60/140) goes to review
    again = match(sp, src, tgt, rejected={("s1", "t1")})
    assert [(c.source, c.target, c.status) for c in again] == [("s1", "t2", "review")]


def test_identity_threshold_and_ties() -> None:
    sp = parse_spec(spec(measures="[{type: iou}]", extra="identity: 0.95\naccept: 0.8\nreview: 0.3\n"))
    out = match(sp, Entities.of([("s", (), (), (), _sq(0, 0))]), Entities.of([("t", (), (), (), _sq(1, 0))]))
    assert out[0].status == "accepted" and out[0].predicate == SKOS + "closeMatch"  # 0.82: a close match, not identity
    rooms = parse_spec(spec(measures="[{type: room}]", relation="brick:hasLocation", extra="match: best_per_source\naccept: 0.9\nreview: 0.6\n"))
    pts = Entities.of([("p1", (), ("RM101 ZN-T",), (), None), ("p2", (), ("ROOM B101 CO2",), (), None)])
    spaces = Entities.of([("A101", (), ("A101 Foyer",), (), None), ("B101", (), ("B101 Foyer",), (), None)])
    got = {(c.source, c.target, c.status) for c in match(rooms, pts, spaces)}
    # "RM101" fits A101 and B101 equally: both are kept for review; "B101" is certain
    assert got == {("p1", "A101", "review"), ("p1", "B101", "review"), ("p2", "B101", "accepted")}


def test_metric_measures() -> None:
    a = np.array([_sq(0, 0, 100)], dtype=object)
    b = np.array([_sq(10, 10, 20)], dtype=object)
    assert M.contains(a, b)[0] == 1.0 and M.contains(b, a)[0] == pytest.approx(0.04)
    assert M.iou(a, b)[0] == pytest.approx(0.04)
    assert M.distance_score(a, b, 100.0)[0] == pytest.approx(1 - np.hypot(30, 30) / 100)


def test_reprojection_follows_the_crs_axis_order() -> None:
    import pyproj

    from kg_twin.links.sources import _to_crs84, to_metric, unreadable

    wkts = [None, "POINT(2.5 44.3)", "<http://www.opengis.net/def/crs/EPSG/0/4326> POINT(44.3 2.5)",
            "<http://www.opengis.net/def/crs/EPSG/0/2154> POINT(660108.226 6355790.395)", "POINT(1 2"]
    g = _to_crs84(wkts)
    assert g[0] is None and unreadable(wkts, g) == 1  # the malformed literal is counted, not hidden
    m = to_metric(g, pyproj.CRS.from_epsg(2154))
    for k in (1, 2, 3):  # CRS84 lon/lat, EPSG:4326 lat/lon, Lambert-93: the same place
        assert (m[k].x, m[k].y) == pytest.approx((660108.226, 6355790.395), abs=0.01)

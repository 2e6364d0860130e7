"""Coordinates vs. the declared CRS's area of use and the project's extent (kg_twin/ingest/extent.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapefile  # pyshp: an independent reader of the test data
from pyproj import Transformer

from kg_twin.ingest.extent import check_crs_extent, check_project_extent, distance_km
from kg_twin.ingest.pipeline import IngestOptions, ingest
from kg_twin.service import create_twin
from kg_twin.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "geo"


def _commune_xy() -> list[tuple[float, float]]:
    """Lambert-93 vertices of the BD TOPO COMMUNE of Olemps, as pyshp reads them."""
    with shapefile.Reader(str(DATA / "COMMUNE.shp")) as r:
        return [tuple(p) for s in r.shapes() for p in s.points][:500]


def test_real_coordinates_in_their_crs_pass() -> None:
    assert check_crs_extent(_commune_xy(), "EPSG:2154") == []


def test_swapped_axes_are_named() -> None:
    f = check_crs_extent([(y, x) for x, y in _commune_xy()], "EPSG:2154")
    assert f and f[0]["code"] == "OUTSIDE_CRS_AREA" and f[0]["outside"] == f[0]["checked"]
    assert "swapped" in f[0]["message"] and "axis order" in f[0]["hint"]


def test_wrong_epsg_is_reported() -> None:
    # Lambert-93 numbers declared as the Dutch RD New grid: far outside the Netherlands
    f = check_crs_extent(_commune_xy(), "EPSG:28992")
    assert f and f[0]["code"] == "OUTSIDE_CRS_AREA" and "--crs" in f[0]["hint"]


def test_degrees_declared_as_projected_and_metres_declared_as_degrees() -> None:
    t = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    lonlat = [t.transform(x, y) for x, y in _commune_xy()[:50]]
    f = check_crs_extent(lonlat, "EPSG:2154")
    assert f and "degrees" in f[0]["message"] and "EPSG:4326" in f[0]["hint"]
    f = check_crs_extent(_commune_xy()[:50], "EPSG:4326")
    assert f and "projected" in f[0]["message"]
    assert check_crs_extent(lonlat, "EPSG:4326") == []


def test_far_from_the_project() -> None:
    olemps, lyon = (2.50, 44.32, 2.60, 44.38), (4.80, 45.70, 4.90, 45.80)
    assert 200 < distance_km(olemps, lyon) < 260  # Olemps - Lyon, as the crow flies
    assert check_project_extent(olemps, olemps) == []
    f = check_project_extent(lyon, olemps)
    assert f and f[0]["code"] == "FAR_FROM_PROJECT" and f[0]["distance_km"] > 200


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("extent"), base_iri="http://twin.test/"))
    t.projects.create("x")
    yield t
    t.close()


def test_ingest_reports_coordinates_outside_the_declared_crs(twin, tmp_path: Path) -> None:
    """A GeoJSON in degrees ingested with a projected --crs: the report says so, with the hint."""
    t = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    feats = [{"type": "Feature", "id": i, "properties": {"id": i}, "geometry": {"type": "Point", "coordinates": list(t.transform(x, y))}}
             for i, (x, y) in enumerate(_commune_xy()[:5])]
    p = tmp_path / "points.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    rep = ingest(twin, "x", p, IngestOptions(dry_run=True, options={"crs": "EPSG:3035"}))
    assert [w["code"] for w in rep.warnings] == ["OUTSIDE_CRS_AREA"], rep.warnings
    assert "degrees" in rep.warnings[0]["message"]
    rep = ingest(twin, "x", p, IngestOptions(dry_run=True))
    assert rep.warnings == []


def test_ingest_reports_a_layer_far_from_the_project(tmp_path_factory, tmp_path: Path) -> None:
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("far"), base_iri="http://twin.test/"))
    t.projects.create("olemps")
    try:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            (tmp_path / f"COMMUNE.{ext}").write_bytes((DATA / f"COMMUNE.{ext}").read_bytes())
        rep = ingest(t, "olemps", tmp_path / "COMMUNE.shp", IngestOptions(accept="violations"))
        assert rep.status == "published" and rep.warnings == []
        lyon = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": 1}, "geometry": {"type": "Point", "coordinates": [4.85, 45.76]}}]}
        p = tmp_path / "lyon.geojson"
        p.write_text(json.dumps(lyon), encoding="utf-8")
        rep = ingest(t, "olemps", p, IngestOptions(dry_run=True))
        assert [w["code"] for w in rep.warnings] == ["FAR_FROM_PROJECT"] and 200 < rep.warnings[0]["distance_km"] < 260
        near = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": 1}, "geometry": {"type": "Point", "coordinates": [2.55, 44.35]}}]}
        p.write_text(json.dumps(near), encoding="utf-8")
        assert ingest(t, "olemps", p, IngestOptions(dry_run=True)).warnings == []
    finally:
        t.close()

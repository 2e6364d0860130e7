"""Low-confidence point classes go to a review list; a person's corrections are kept and re-applied
on every re-ingest of the source (kg_twin/ingest/corrections.py, `kg-twin review`, /projects/{p}/review)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kg_twin.api.app import create_app
from kg_twin.cli.main import app as cli_app
from kg_twin.errors import InputError
from kg_twin.ingest.corrections import load_corrections, review_list, save_corrections
from kg_twin.ingest.pipeline import IngestOptions, ingest
from kg_twin.service import create_twin
from kg_twin.settings import Settings
from kg_twin.terms import BRICK

BASE = "http://twin.test/"
POINTS = "Point Name,Description\nAHU-1 SA-TEMP,supply air temp\nXQZ-77,mystery\nAHU-1 RA-TEMP,return air temp\n"


def _classes(twin, graph: str) -> dict[str, str]:
    rows = twin.store.select(f"SELECT ?n ?c WHERE {{ GRAPH <{graph}> {{ ?p <http://www.w3.org/2000/01/rdf-schema#label> ?n ; a ?c . FILTER(STRSTARTS(STR(?c), '{BRICK}')) }} }}")
    return {str(r["n"]): str(r["c"])[len(BRICK):] for r in rows}


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("review"), base_iri=BASE))
    t.projects.create("r")
    yield t
    t.close()


def test_corrections_are_kept_and_reapplied_on_reingest(twin, tmp_path: Path) -> None:
    p = tmp_path / "points.csv"
    p.write_text(POINTS, encoding="utf-8")
    rep = ingest(twin, "r", p, IngestOptions(accept="violations"))
    assert _classes(twin, rep.graph)["XQZ-77"] == "Point"
    items = review_list(twin.store, rep.graph)
    assert [i["name"] for i in items] == ["XQZ-77"] and items[0]["class"] == "brick:Point"
    with pytest.raises(InputError) as e:
        save_corrections(twin.settings.data_dir, "r", "points.csv", {"XQZ-77": "brick:No_Such_Class"})
    assert e.value.code == "BAD_CORRECTION"
    save_corrections(twin.settings.data_dir, "r", "points.csv", {"XQZ-77": "brick:Damper_Position_Sensor"})
    assert load_corrections(twin.settings.data_dir, "r", "points.csv") == {"XQZ-77": "brick:Damper_Position_Sensor"}
    rep = ingest(twin, "r", p, IngestOptions(accept="violations"))
    got = _classes(twin, rep.graph)
    assert got["XQZ-77"] == "Damper_Position_Sensor" and got["AHU-1 SA-TEMP"] == "Supply_Air_Temperature_Sensor"
    assert review_list(twin.store, rep.graph) == []
    assert rep.mapping["entity"]["class"]["corrections"] == {"XQZ-77": "brick:Damper_Position_Sensor"}


def test_api_review_roundtrip(tmp_path_factory, tmp_path: Path) -> None:
    settings = Settings(store="memory", data_dir=tmp_path_factory.mktemp("review-api"), base_iri=BASE)
    t = create_twin(settings)
    t.projects.create("a")
    p = tmp_path / "points.csv"
    p.write_text(POINTS, encoding="utf-8")
    with TestClient(create_app(settings, twin=t)) as c:
        c.headers["Authorization"] = f"Bearer {t.access.tokens.create('a', 'writer', 'w').secret}"
        assert c.post("/projects/a/ingest", files=[("file", ("points.csv", p.read_bytes(), "text/csv"))], params={"accept": "violations"}).status_code == 200
        r = c.get("/projects/a/review/points.csv")
        assert r.status_code == 200 and [i["name"] for i in r.json()["items"]] == ["XQZ-77"]
        bad = c.post("/projects/a/review/points.csv", json={"corrections": {"XQZ-77": "brick:Nope"}})
        assert bad.status_code == 400 and bad.json()["code"] == "BAD_CORRECTION"
        ok = c.post("/projects/a/review/points.csv", json={"corrections": {"XQZ-77": "brick:CO2_Sensor"}})
        assert ok.status_code == 200 and ok.json()["corrections"] == {"XQZ-77": "brick:CO2_Sensor"}
        assert c.post("/projects/a/ingest", files=[("file", ("points.csv", p.read_bytes(), "text/csv"))], params={"accept": "violations"}).status_code == 200
        r = c.get("/projects/a/review/points.csv").json()
        assert r["items"] == [] and r["corrections"] == {"XQZ-77": "brick:CO2_Sensor"}
        assert c.get("/projects/a/review/..%2Fx").status_code in (400, 404)
    t.close()


def test_cli_ingest_review_and_set(tmp_path_factory, tmp_path: Path) -> None:
    data_dir = tmp_path_factory.mktemp("review-cli")
    env = {"KG_TWIN_DATA_DIR": str(data_dir), "KG_TWIN_BASE_IRI": BASE}
    runner = CliRunner()
    assert runner.invoke(cli_app, ["project", "create", "c"], env=env).exit_code == 0
    p = tmp_path / "points.csv"
    p.write_text(POINTS, encoding="utf-8")
    r = runner.invoke(cli_app, ["ingest", str(p), "-p", "c", "--review", "--accept-violations"], env=env)
    assert r.exit_code == 0, r.output
    assert "1 point class(es) wait for review" in r.output and "kg-twin review -p c points.csv" in r.output
    r = runner.invoke(cli_app, ["review", "-p", "c", "points.csv", "--set", "XQZ-77=brick:CO2_Sensor"], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["review", "-p", "c", "points.csv", "--set", "XQZ-77"], env=env)
    assert r.exit_code == 2 and "BAD_CORRECTION" in r.output
    r = runner.invoke(cli_app, ["ingest", str(p), "-p", "c", "--review", "--accept-violations"], env=env)
    assert r.exit_code == 0 and "0 point class(es) wait for review" in r.output, r.output

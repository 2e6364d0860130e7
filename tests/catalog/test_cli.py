"""`kg-twin queries ...`: list, show, run, check, put, delete (real processes, real data dir)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg_twin.service import create_twin
from kg_twin.settings import Settings

from .conftest import EX, populate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    t = create_twin(Settings(data_dir=d))
    populate(t)
    t.close()
    return d


def kg(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_TWIN_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "kg_twin", "queries", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_list_show(data_dir: Path, tmp_path: Path) -> None:
    r = kg(data_dir, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ok\t") == len(list((ROOT / "queries").glob("*.rq")))
    bad = tmp_path / "broken-query.rq"
    bad.write_text("#+ summary: broken\nSELECT ?s WHERE { ?s ?p ?_x_iri }\n")
    r = kg(data_dir, "check", str(bad))
    assert r.returncode == 1 and "PARAMETER_NOT_PROJECTED" in r.stdout
    r = kg(data_dir, "list")
    assert r.returncode == 0 and "find-features-near-point\tcatalogue\tpoint [metres]" in r.stdout
    r = kg(data_dir, "show", "list-points-of-equipment")
    assert r.returncode == 0 and json.loads(r.stdout)["parameters"][0]["name"] == "equipment"


def test_run(data_dir: Path) -> None:
    r = kg(data_dir, "run", "list-points-of-equipment", "-p", "campus", "-a", f"equipment={EX}AHU-1", "-f", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {x["point"] for x in rows} == {EX + "AHU-1-SAT", EX + "AHU-1-RAT", EX + "AHU-1-SF-CMD"}
    r = kg(data_dir, "run", "list-buildings", "-p", "campus", "-f", "geojson")
    assert r.returncode == 0 and len(json.loads(r.stdout)["features"]) == 2
    r = kg(data_dir, "run", "list-buildings", "-p", "campus")
    assert r.returncode == 0 and "Building A - Library" in r.stdout
    r = kg(data_dir, "run", "list-points-of-equipment", "-p", "campus", "-a", "equipment=not an iri")
    assert r.returncode == 2 and "equipment" in r.stderr
    r = kg(data_dir, "run", "list-points-of-equipment", "-p", "campus")
    assert r.returncode == 2 and "MISSING_PARAMETER" in r.stderr
    r = kg(data_dir, "run", "list-points-of-equipment", "-p", "campus", "-a", "equipment")
    assert r.returncode == 2 and "name=value" in r.stderr


def test_put_delete(data_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "q.rq"
    f.write_text("#+ summary: Spaces of a storey\nPREFIX bot: <https://w3id.org/bot#>\nSELECT ?space ?_storey_iri WHERE { ?_storey_iri bot:hasSpace ?space }\n")
    r = kg(data_dir, "put", "spaces-of-storey", str(f), "-p", "campus")
    assert r.returncode == 0, r.stderr
    r = kg(data_dir, "run", "spaces-of-storey", "-p", "campus", "-a", f"storey={EX}A-01", "-f", "csv")
    assert r.returncode == 0 and EX + "A-101" in r.stdout
    r = kg(data_dir, "list", "-p", "campus")
    assert "spaces-of-storey\tproject" in r.stdout
    assert kg(data_dir, "delete", "spaces-of-storey", "-p", "campus").returncode == 0
    assert kg(data_dir, "delete", "spaces-of-storey", "-p", "campus").returncode == 2

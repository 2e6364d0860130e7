"""`kg-twin link` as a subprocess on a temporary data dir: run, review list, accept, run again by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import kg
from tests.links.test_api import CADASTRE, SPEC, SURVEY


@pytest.mark.slow  # eight `kg-twin` processes (~2 s each)
def test_link_cli_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert kg(data, "project", "create", "p").returncode == 0
    for name, ttl in (("cadastre", CADASTRE), ("survey", SURVEY)):
        f = tmp_path / f"{name}.ttl"
        f.write_text(ttl)
        r = kg(data, "load", str(f), "--project", "p", "--graph", name)
        assert r.returncode == 0, r.stderr
    spec = tmp_path / "buildings.yml"
    spec.write_text(SPEC)
    r = kg(data, "link", "run", str(spec), "--project", "p")
    assert r.returncode == 0, r.stderr
    assert (json.loads(r.stdout)["accepted"], json.loads(r.stdout)["review"]) == (1, 1)
    r = kg(data, "link", "review", "list", "--project", "p", "--json")
    items = json.loads(r.stdout)
    assert r.returncode == 0 and len(items) == 1 and items[0]["target"].endswith("/b2")
    r = kg(data, "link", "review", "accept", items[0]["id"], "--project", "p")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "accepted"
    r = kg(data, "link", "run", "--name", "buildings", "--project", "p")
    assert r.returncode == 0 and (json.loads(r.stdout)["accepted"], json.loads(r.stdout)["review"]) == (2, 0)
    # errors: exit 2 with the code on stderr, nothing on stdout
    bad = tmp_path / "bad.yml"
    bad.write_text(SPEC.replace("iou", "contains"))
    r = kg(data, "link", "run", str(bad), "--project", "p")
    assert r.returncode == 2 and "LINK_SPEC_IDENTITY" in r.stderr and r.stdout == ""
    r = kg(data, "link", "review", "accept", "0123456789abcdef", "--project", "p")
    assert r.returncode == 2 and "LINK_NOT_FOUND" in r.stderr

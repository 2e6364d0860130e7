"""``kg-twin classify`` (registered on a typer app the way main.py does)."""

from __future__ import annotations

import json
import typer
from typer.testing import CliRunner

from kg_twin.cli import points



def app() -> typer.Typer:
    a = typer.Typer()
    points.register(a)

    @a.callback()
    def _root() -> None:  # keep sub-command names (typer collapses a single command)
        pass

    return a


def test_classify_names_and_json():
    r = CliRunner().invoke(app(), ["classify", "AHU-1 SA-TEMP", "RM101 CO2", "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert rows[0]["class"].endswith("#Supply_Air_Temperature_Sensor") and rows[0]["equipment"][0]["token"] == "AHU-1"
    assert rows[1]["room"] == "RM101"


def test_classify_strict_flags_unknown_names(tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("ZN-T\nXQZ-77\n")
    r = CliRunner().invoke(app(), ["classify", "--file", str(f), "--strict"])
    assert r.exit_code == 1
    assert "XQZ-77" in r.stdout and "REVIEW" in r.stdout
    assert CliRunner().invoke(app(), ["classify", "ZN-T", "--strict"]).exit_code == 0


def test_classify_without_names_is_a_usage_error():
    r = CliRunner().invoke(app(), ["classify"])
    assert r.exit_code == 2


def test_classify_with_corrections(tmp_path):
    fix = tmp_path / "fix.yml"
    fix.write_text("VAV-1 DPRPOS: brick:Damper_Position_Setpoint\n")
    r = CliRunner().invoke(app(), ["classify", "VAV-4 DPRPOS", "--json", "--corrections", str(fix)])
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout)
    assert row["class"].endswith("#Damper_Position_Setpoint") and "same pattern" in row["why"]
    bad = tmp_path / "bad.yml"
    bad.write_text("VAV-1 DPRPOS: brick:Nope\n")
    r = CliRunner().invoke(app(), ["classify", "VAV-4 DPRPOS", "--corrections", str(bad)])
    assert r.exit_code == 2 and "BAD_CORRECTION" in r.output

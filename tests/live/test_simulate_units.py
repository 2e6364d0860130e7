"""The simulator end to end (CLI against the live server) and the small parsers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg_twin.errors import InputError
from kg_twin.live.points import normalize_unit
from kg_twin.live.readings import BadTime, parse_batch, parse_duration, parse_time, parse_value
from kg_twin.live.rules import parse_rule

ROOT = Path(__file__).resolve().parents[2]


def test_simulate_cli_against_server(server, campus):
    p = campus["project"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "kg_twin", "simulate", "--project", p, "--minutes", "120", "--step", "300", "--url", server.url, "--token", campus["writer"]],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    n_points = 10  # points of tests/data/live/campus.ttl (the meter itself is equipment)
    assert res["points"] == n_points and res["rejected"] == 0 and res["accepted"] == n_points * 24
    with server.client(campus["reader"]) as c:
        energy = c.get(f"/projects/{p}/points/energy/observations", params={"limit": 1000}).json()["rows"]
        co2 = c.get(f"/projects/{p}/points/co2_101/observations").json()["rows"]
        occ = c.get(f"/projects/{p}/points/occ_101/observations").json()["rows"]
    values = [r["value"] for r in energy]
    assert len(values) == 24 and all(b >= a for a, b in zip(values, values[1:]))  # a meter counter never goes down
    assert all(300 < r["value"] < 2000 for r in co2)
    assert {r["value"] for r in occ} <= {0.0, 1.0}
    # a reader may not simulate
    bad = subprocess.run([sys.executable, "-m", "kg_twin", "simulate", "-p", p, "--minutes", "1", "--url", server.url, "--token", campus["reader"]],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "403" in bad.stderr


def test_parse_time():
    assert parse_time("2024-05-01T10:00:00Z") == 1714557600000
    assert parse_time("2024-05-01T12:00:00+02:00") == 1714557600000
    assert parse_time("2024-05-01T10:00:00.250Z") == 1714557600250
    for bad in ("2024-05-01T10:00:00", "yesterday", 1714557600, None, "2024-13-01T00:00:00Z"):
        with pytest.raises(BadTime):
            parse_time(bad)


def test_parse_duration():
    assert parse_duration("15min") == 900_000
    assert parse_duration("PT1H30M") == 5_400_000
    assert parse_duration("P1DT12H") == 129_600_000
    for bad in ("", "P", "PT", "0s", "fortnight", "-PT1H"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_parse_value_and_units():
    assert parse_value("21.5", False) == 21.5
    assert parse_value("on", True) == 1.0 and parse_value(False, True) == 0.0
    for v, b in (("NaN", False), ("abc", False), (True, False), (0.5, True), (None, False)):
        with pytest.raises(ValueError):
            parse_value(v, b)
    assert normalize_unit("ppm") == normalize_unit("unit:PPM") == "http://qudt.org/vocab/unit/PPM"


def test_parse_batch_shapes():
    rs = parse_batch(b'{"observations": [{"point": "a", "timestamp": "2024-05-01T10:00:00Z", "value": 1}]}', "application/json")
    assert rs[0].point == "a" and rs[0].value == 1
    with pytest.raises(InputError):
        parse_batch(b'{"point": "a"}', "application/json")
    rs = parse_batch("id,time,result\nx,2024-05-01T10:00:00Z,3\n".encode(), "text/csv; charset=utf-8")
    assert (rs[0].point, rs[0].value) == ("x", "3")


def test_rule_hysteresis_unit():
    r = parse_rule({"id": "r", "class": "brick:CO2_Sensor", "op": ">", "value": 1000, "clear": 950})
    states, active = [], False
    for v in (900, 1001, 990, 960, 950, 949, 1000, 1000.5):
        active = r.is_active(v, active)
        states.append(active)
    assert states == [False, True, True, True, False, False, False, True]
    low = parse_rule({"id": "l", "points": ["t1"], "op": "<", "value": 5, "clear": 7})
    assert low.is_active(4, False) and low.is_active(6, True) and not low.is_active(7, True)

"""Batch parsing: timestamps, the fast (msgspec) and generic (json) JSON paths give the same result."""

from __future__ import annotations

import calendar
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kg_twin.live.readings import BadTime, JsonReading, RawReading, parse_batch, parse_time
from kg_twin.live.service import LiveService
from kg_twin.service import create_twin
from kg_twin.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "live"
NS = "http://example.org/campus#"
JSON = "application/json"


def epoch_ms(y: int, mo: int, d: int, h: int, mi: int, s: int, ms: int = 0, offset_min: int = 0) -> int:
    return (calendar.timegm((y, mo, d, h, mi, s)) - offset_min * 60) * 1000 + ms


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-01T10:00:00Z", epoch_ms(2024, 5, 1, 10, 0, 0)),
        ("2024-05-01T10:00:00+00:00", epoch_ms(2024, 5, 1, 10, 0, 0)),
        ("2024-05-01T12:00:00+02:00", epoch_ms(2024, 5, 1, 12, 0, 0, offset_min=120)),
        ("2024-05-01T06:30:00-03:30", epoch_ms(2024, 5, 1, 6, 30, 0, offset_min=-210)),
        ("2024-05-01T10:00:00.123Z", epoch_ms(2024, 5, 1, 10, 0, 0, 123)),
        ("2024-05-01T10:00:00.5+01:00", epoch_ms(2024, 5, 1, 10, 0, 0, 500, offset_min=60)),
        ("2024-12-31T23:59:59.999Z", epoch_ms(2024, 12, 31, 23, 59, 59, 999)),
        (" 2024-05-01T10:00:00Z ", epoch_ms(2024, 5, 1, 10, 0, 0)),
    ],
)
def test_parse_time_accepts_iso_8601_with_a_timezone(text: str, expected: int) -> None:
    assert parse_time(text) == expected
    assert parse_time(text) == expected  # second call answered from the cache


@pytest.mark.parametrize(
    "value, reason",
    [
        ("2024-05-01T10:00:00", "no timezone"),
        ("2024-05-01", "no timezone"),
        ("2024-05-01T10:00:00.250", "no timezone"),
        ("yesterday", "invalid timestamp"),
        ("2024-13-01T10:00:00Z", "invalid timestamp"),
        (1714557600000, "not a number"),
        (None, "missing"),
        (True, "missing"),
    ],
)
def test_parse_time_rejects_with_a_reason(value: Any, reason: str) -> None:
    with pytest.raises(BadTime, match=reason):
        parse_time(value)


def _fields(readings: Any) -> list[tuple[Any, ...]]:
    return [(r.point, r.timestamp, r.value, type(r.value).__name__, r.unit, r.quality) for r in readings]


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _mixed_batch() -> list[dict[str, Any]]:
    """The usual shape only (the fast path takes it), with every kind of reject in it."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    t = [_iso(now - timedelta(minutes=k)) for k in range(4)]
    return [
        {"point": "co2_101", "timestamp": t[3], "value": 640, "unit": "PPM"},  # ok, int value
        {"point": NS + "temp_101", "timestamp": t[2], "value": "21.5", "unit": "°C"},  # ok: IRI, string number, unit alias
        {"point": "temp_101", "timestamp": (now - timedelta(minutes=1)).isoformat(timespec="milliseconds"), "value": 21.75},  # ok: offset form, fraction
        {"point": "nope_999", "timestamp": t[0], "value": 1},  # unknown point
        {"point": "", "timestamp": t[0], "value": 1},  # missing point
        {"point": "co2_102", "timestamp": "2024-05-01T10:00:00", "value": 500},  # no timezone
        {"point": "co2_102", "timestamp": "not a time", "value": 500},  # bad timestamp
        {"point": "co2_102", "timestamp": _iso(now + timedelta(days=3)), "value": 500},  # future
        {"point": "co2_103", "timestamp": t[0], "value": "high"},  # not a number
        {"point": "co2_103", "timestamp": t[1], "value": True},  # boolean for a numeric point
        {"point": "temp_102", "timestamp": t[0], "value": 70, "unit": "DEG_F"},  # wrong unit
        {"point": "occ_101", "timestamp": t[0], "value": "on"},  # ok: state
        {"point": "occ_102", "timestamp": t[0], "value": 0.5},  # not a state
        {"point": "occ_102", "timestamp": t[1], "value": True, "quality": "good"},  # ok: boolean state, quality
        {"point": "occ_102", "timestamp": t[2], "value": 2},  # not a state (int)
        {"point": "energy", "timestamp": "2024-05-01T12:00:00+02:00", "value": 1234.5, "extra": {"ignored": [1, 2]}},  # ok, unknown field ignored
        {"point": "co2_101", "timestamp": t[0], "value": 123456789012345678901234567890},  # ok: big int
        {"point": "room101", "timestamp": t[0], "value": 1},  # a room is not a point
    ]


def _twin(path: Path) -> Twin:
    twin = create_twin(Settings(store="memory", data_dir=path, base_iri="http://twin.test/"))
    twin.projects.create("c")
    twin.store.load((DATA / "campus.ttl").read_bytes(), format="turtle", graph=twin.naming.graph("c", "model"))
    return twin


def _ingest(path: Path, readings: Any) -> tuple[dict[str, Any], list[Any]]:
    """Ingest into a fresh twin; the result and every stored history row."""
    twin = _twin(path)
    live = LiveService(twin, start=False)
    try:
        res = live.ingest("c", readings).to_dict()
        rows = []
        for s in live.history.find_series(project="c"):
            rows += [(s.point, *r) for r in live.history.raw(s.id, -(2**62), 2**62, 1000)]
        return res, sorted(rows)
    finally:
        live.close()
        twin.close()


def test_fast_and_generic_json_paths_give_the_same_result(tmp_path: Path) -> None:
    batch = _mixed_batch()
    fast = parse_batch(json.dumps(batch).encode(), JSON)
    generic = parse_batch(json.dumps({"observations": batch}).encode(), JSON)  # a wrapping object takes the generic path
    assert all(type(r) is JsonReading for r in fast)
    assert all(type(r) is RawReading for r in generic)
    assert _fields(fast) == _fields(generic)

    res_fast, rows_fast = _ingest(tmp_path / "fast", fast)
    res_generic, rows_generic = _ingest(tmp_path / "generic", generic)
    assert res_fast == res_generic
    assert rows_fast == rows_generic
    assert (res_fast["accepted"], res_fast["rejected"]) == (7, 11)
    codes = {r["index"]: r["code"] for r in res_fast["rejects"]}
    assert codes == {
        3: "UNKNOWN_POINT", 4: "MISSING_POINT", 5: "BAD_TIMESTAMP", 6: "BAD_TIMESTAMP", 7: "FUTURE_TIMESTAMP",
        8: "BAD_VALUE", 9: "BAD_VALUE", 10: "UNIT_MISMATCH", 12: "BAD_VALUE", 14: "BAD_VALUE", 17: "UNKNOWN_POINT",
    }
    assert len(rows_fast) == 7 and (NS + "occ_102", epoch_ms(*datetime.fromisoformat(batch[13]["timestamp"]).utctimetuple()[:6]), 1.0, "good") in rows_fast


@pytest.mark.parametrize(
    "element, expected",
    [
        # field aliases and nulls: the generic reader resolves them
        ({"id": "co2_101", "time": "2024-05-01T10:00:00Z", "result": 5}, ("co2_101", "2024-05-01T10:00:00Z", 5, "int", None, None)),
        ({"point": "co2_101", "timestamp": None, "phenomenonTime": "2024-05-01T10:00:00Z", "value": None, "result": 6.5},
         ("co2_101", "2024-05-01T10:00:00Z", 6.5, "float", None, None)),
        ({"point": "co2_101", "timestamp": "2024-05-01T10:00:00Z", "value": 1, "quality": 3}, ("co2_101", "2024-05-01T10:00:00Z", 1, "int", None, "3")),
        ({"point": "co2_101", "timestamp": 1714557600000, "value": 1}, ("co2_101", 1714557600000, 1, "int", None, None)),
        ({"point": 7, "timestamp": "2024-05-01T10:00:00Z", "value": 1}, ("", "2024-05-01T10:00:00Z", 1, "int", None, None)),
        ("not an object", ("", None, None, "NoneType", None, None)),
    ],
)
def test_other_shapes_take_the_generic_path(element: Any, expected: tuple[Any, ...]) -> None:
    ok = {"point": "co2_101", "timestamp": "2024-05-01T09:00:00Z", "value": 1}
    readings = parse_batch(json.dumps([ok, element]).encode(), JSON)
    assert all(type(r) is RawReading for r in readings)
    assert _fields(readings) == [("co2_101", "2024-05-01T09:00:00Z", 1, "int", None, None), expected]


def test_non_finite_numbers_are_rejected_per_reading(tmp_path: Path) -> None:
    now = _iso(datetime.now(timezone.utc).replace(microsecond=0))
    body = ('[{"point": "co2_101", "timestamp": "%s", "value": NaN}, {"point": "co2_101", "timestamp": "%s", "value": 1e400},'
            ' {"point": "co2_102", "timestamp": "%s", "value": 410}]' % (now, now, now)).encode()
    res, rows = _ingest(tmp_path, parse_batch(body, JSON))
    assert (res["accepted"], res["rejected"]) == (1, 2)
    assert [(r["index"], r["code"]) for r in res["rejects"]] == [(0, "BAD_VALUE"), (1, "BAD_VALUE")]
    assert [r[0] for r in rows] == [NS + "co2_102"]


def test_csv_and_json_give_the_same_readings() -> None:
    csv_body = "point,timestamp,value,unit,quality\nco2_101,2024-05-01T10:00:00Z,612,PPM,good\n\ntemp_101,2024-05-01T12:00:00+02:00,21.5,,\n"
    js = [{"point": "co2_101", "timestamp": "2024-05-01T10:00:00Z", "value": "612", "unit": "PPM", "quality": "good"},
          {"point": "temp_101", "timestamp": "2024-05-01T12:00:00+02:00", "value": "21.5"}]
    assert _fields(parse_batch(csv_body.encode(), "text/csv")) == _fields(parse_batch(json.dumps(js).encode(), JSON))

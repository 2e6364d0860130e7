"""The TimeSeriesStore contract on both history backends: the embedded SQLite file and a real
PostgreSQL server on 127.0.0.1 (tests/engines.py), selected the way KG_TWIN_TIMESERIES selects them."""

from __future__ import annotations

import pytest

from kg_twin.errors import InputError
from kg_twin.live.timeseries import TimeSeriesStore, open_history

MIN = 60_000


@pytest.fixture
def ts(timeseries_url, tmp_path):
    st = open_history(tmp_path, url=timeseries_url)
    yield st
    st.close()


def test_series_are_per_scope_and_point(ts: TimeSeriesStore):
    a = ts.ensure_series("urn:g:a", "urn:p", ts_id="p", project="a", unit="unit:DEG_C")
    b = ts.ensure_series("urn:g:b", "urn:p", ts_id="p", project="b")
    assert a != b and ts.ensure_series("urn:g:a", "urn:p", ts_id="p", project="a") == a
    many = ts.ensure_many("urn:g:a", "a", [("urn:p", "p", "unit:DEG_C"), ("urn:q", "q", None)])
    assert many["urn:p"] == a and set(many) == {"urn:p", "urn:q"}
    assert [(s.project, s.point, s.unit) for s in ts.find_series(project="a")] == [("a", "urn:p", "unit:DEG_C"), ("a", "urn:q", None)]
    assert [s.id for s in ts.find_series(scopes=["urn:g:b"])] == [b] and ts.find_series(scopes=[]) == []
    assert [s.id for s in ts.find_series(project="a", ts_id="q")] == [many["urn:q"]]


def test_append_replaces_and_aggregates_align_to_the_epoch(ts: TimeSeriesStore):
    sid = ts.ensure_series("urn:g", "urn:p", ts_id="p", project="x")
    readings = [(sid, 0, 1.0, None), (sid, MIN, 3.0, None), (sid, 2 * MIN, 8.0, "est"), (sid, 61 * MIN, 4.0, None)]
    assert ts.append(readings) == 4
    assert ts.append([(sid, 2 * MIN, 5.0, None)]) == 1  # same (series, ts): replaced
    assert ts.count() == 4
    hour = 60 * MIN
    assert ts.aggregate(sid, 0, 2 * hour, hour, "avg") == [(0, 3.0, 3), (hour, 4.0, 1)]
    assert ts.aggregate(sid, 0, 2 * hour, hour, "first") == [(0, 1.0, 3), (hour, 4.0, 1)]
    assert ts.aggregate(sid, 0, 2 * hour, hour, "last") == [(0, 5.0, 3), (hour, 4.0, 1)]
    assert ts.aggregate(sid, MIN, 2 * hour, None, "sum") == [(MIN, 12.0, 3)]
    assert ts.aggregate(sid, 0, 2 * hour, None, "count") == [(0, 4, 4)]
    assert [(b, v) for b, v, _ in ts.aggregate(sid, 0, 2 * hour, 30 * MIN, "max")] == [(0, 5.0), (60 * MIN, 4.0)]
    assert ts.raw(sid, MIN, hour, 10) == [(MIN, 3.0, None), (2 * MIN, 5.0, None)]
    assert ts.latest(sid) == (61 * MIN, 4.0, None) and ts.latest_times([sid]) == {sid: 61 * MIN}
    with pytest.raises(InputError):
        ts.aggregate(sid, 0, hour, hour, "median")


def test_delete_project_leaves_other_projects(ts: TimeSeriesStore):
    a = ts.ensure_series("urn:g:a", "urn:p", ts_id="p", project="a")
    b = ts.ensure_series("urn:g:b", "urn:p", ts_id="p", project="b")
    ts.append([(a, 0, 1.0, None), (b, 0, 2.0, None)])
    ts.delete_project("a")
    assert ts.find_series(project="a") == [] and ts.count() == 1 and ts.latest(b) == (0, 2.0, None)


def test_a_read_only_store_sees_the_writer(timeseries_url, tmp_path):
    w = open_history(tmp_path, url=timeseries_url)
    sid = w.ensure_series("urn:g", "urn:p", ts_id="p", project="x")
    w.append([(sid, 0, 1.5, None)])
    r = open_history(tmp_path, url=timeseries_url, read_only=True)
    try:
        assert r.latest(sid) == (0, 1.5, None)
    finally:
        r.close()
        w.close()

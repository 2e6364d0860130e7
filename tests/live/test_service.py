"""LiveService on an in-memory store: state flush details and restarts (no server)."""

from __future__ import annotations

from pathlib import Path


from kg_twin.live.readings import RawReading
from kg_twin.live.service import LiveService
from kg_twin.store import Dataset

DATA = Path(__file__).resolve().parents[1] / "data" / "live"
B = "https://brickschema.org/schema/Brick#"
NS = "http://example.org/campus#"


def _setup(twin):
    twin.projects.create("c")
    twin.store.load((DATA / "campus.ttl").read_bytes(), format="turtle", graph=twin.naming.graph("c", "model"))
    twin.store.load((DATA / "air_quality_sensor_example.ttl").read_bytes(), format="turtle", graph=twin.naming.graph("c", "aq"))


def _values(twin, point):
    rows = twin.store.select(f"SELECT ?v ?t WHERE {{ <{point}> <{B}lastKnownValue> ?n . ?n <{B}value> ?v ; <{B}timestamp> ?t }}",
                             dataset=Dataset((twin.naming.graph("c", "state"),), ()))
    return sorted((r["v"].toPython(), r["t"].toPython().isoformat()) for r in rows)


def test_state_flush_and_restart(twin):
    _setup(twin)
    live = LiveService(twin, start=False)
    r = live.ingest("c", [RawReading("co2_101", "2024-05-01T10:00:00Z", 600), RawReading("co2_101", "2024-05-01T10:01:00Z", 610),
                          RawReading("http://example.com#co2_sensor", "2024-05-01T10:00:00Z", 420, "ppm")])
    assert (r.accepted, r.rejected) == (3, 0)
    assert live.flush() == 2  # coalesced: one state per point
    state = twin.naming.graph("c", "state")
    size1 = twin.store.graph_size(state)
    assert _values(twin, NS + "co2_101") == [(610.0, "2024-05-01T10:01:00+00:00")]
    live.ingest("c", [RawReading("co2_101", "2024-05-01T10:02:00Z", 620)])
    live.flush()
    assert twin.store.graph_size(state) == size1  # values replaced, nothing added
    live.close()
    # a new service (restart): old values of unknown origin are replaced by pattern
    live2 = LiveService(twin, start=False)
    live2.ingest("c", [RawReading("co2_101", "2024-05-01T10:03:00Z", 630), RawReading("co2_101", "2024-05-01T09:00:00Z", 1)])
    live2.flush()
    assert _values(twin, NS + "co2_101") == [(630.0, "2024-05-01T10:03:00+00:00")]
    assert twin.store.graph_size(state) == size1
    # the Brick example's points (another namespace) are points of the project too
    assert _values(twin, "http://example.com#co2_sensor") == [(420.0, "2024-05-01T10:00:00+00:00")]
    live2.close()


def test_rule_state_survives_restart(twin):
    _setup(twin)
    live = LiveService(twin, start=False)
    live.add_rule("c", {"id": "hi", "class": "brick:CO2_Sensor", "value": 1000, "clear": 950})
    assert live.ingest("c", [RawReading("co2_101", "2024-05-01T10:00:00Z", 1200)]).alerts == 1
    live.close()
    live2 = LiveService(twin, start=False)
    assert live2.ingest("c", [RawReading("co2_101", "2024-05-01T10:01:00Z", 1300)]).alerts == 0  # still raised: no new alert
    assert live2.ingest("c", [RawReading("co2_101", "2024-05-01T10:02:00Z", 900)]).alerts == 1  # cleared
    live2.flush()
    n = twin.store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a a <https://w3id.org/kg-twin/ontology#Alert> }}", dataset=Dataset((twin.naming.graph("c", "events"),), ()))
    assert int(n[0]["n"]) == 2
    live2.close()


def test_new_point_without_restart(twin):
    _setup(twin)
    live = LiveService(twin, start=False)
    assert live.ingest("c", [RawReading("co2_104", "2024-05-01T10:00:00Z", 600)]).rejected == 1
    twin.store.load(f"<{NS}co2_104> a <{B}CO2_Level_Sensor> .".encode(), format="turtle", graph=twin.naming.graph("c", "model"))
    twin.notify("c")
    assert live.ingest("c", [RawReading("co2_104", "2024-05-01T10:00:00Z", 600)]).accepted == 1
    live.close()


def test_deleted_project_leaves_no_history(twin):
    _setup(twin)
    live = LiveService(twin, start=False)
    live.add_rule("c", {"id": "hi", "class": "brick:CO2_Sensor", "value": 1000})
    live.ingest("c", [RawReading("co2_101", "2024-05-01T10:00:00Z", 1200)])
    live.flush()
    assert live.history.find_series(project="c")
    twin.projects.delete("c")
    assert live.history.find_series(project="c") == [] and live.rules.list("c") == []
    _setup(twin)  # the same id again: starts empty
    assert live.points("c") and all("last_time" not in p for p in live.points("c"))
    assert live.ingest("c", [RawReading("co2_101", "2024-05-01T09:00:00Z", 1)]).alerts == 0
    live.close()


def test_state_replaces_values_with_quality_and_status_points(twin):
    """Each flush removes exactly what the previous one wrote, escaped quality strings included."""
    _setup(twin)
    live = LiveService(twin, start=False)
    state = twin.naming.graph("c", "state")
    q = f"SELECT ?q WHERE {{ ?n <{B}value> ?v . OPTIONAL {{ ?n <https://w3id.org/kg-twin/ontology#quality> ?q }} }}"
    live.ingest("c", [RawReading("co2_101", "2024-05-01T10:00:00Z", 600, None, 'sensor said "ok"\nthen \\ retried'), RawReading("occ_101", "2024-05-01T10:00:00Z", "on")])
    live.flush()
    size1 = twin.store.graph_size(state)
    qualities = [r["q"].toPython() for r in twin.store.select(q, dataset=Dataset((state,), ())) if r.get("q") is not None]
    assert qualities == ['sensor said "ok"\nthen \\ retried']
    live.ingest("c", [RawReading("co2_101", "2024-05-01T10:01:00Z", 610), RawReading("occ_101", "2024-05-01T10:01:00Z", "off")])
    live.flush()
    assert twin.store.graph_size(state) == size1 - 1  # the quality triple went with its value
    assert _values(twin, NS + "co2_101") == [(610.0, "2024-05-01T10:01:00+00:00")]
    assert _values(twin, NS + "occ_101") == [(False, "2024-05-01T10:01:00+00:00")]
    live.close()

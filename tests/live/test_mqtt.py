"""Readings over MQTT through a real Mosquitto broker into the live server."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import paho.mqtt.client as mqtt
import pytest

from kg_twin.live.mqtt import parse_url
from tests.live.test_ingest import iso, select


def _client(url: str) -> mqtt.Client:
    cfg = parse_url(url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{time.monotonic_ns()}")
    c.connect(cfg["host"], cfg["port"])
    c.loop_start()
    return c


def test_mqtt_readings_accepted_rejected_and_visible(server, campus, mosquitto):
    p, ns = campus["project"], campus["ns"]
    rejects: list[dict] = []
    got_sub = threading.Event()
    sub = _client(mosquitto)
    sub.on_message = lambda c, u, m: rejects.append(json.loads(m.payload))
    sub.on_subscribe = lambda *a: got_sub.set()
    sub.subscribe(f"twin-rejects/{p}", qos=1)
    assert got_sub.wait(5)
    pub = _client(mosquitto)
    try:
        now = datetime.now(timezone.utc)
        t = [iso(now - timedelta(minutes=10 - i)) for i in range(10)]
        msgs = [
            (f"twin/{p}/co2_103", {"value": 700, "timestamp": t[0], "unit": "ppm"}),
            (f"twin/{p}/co2_103", [{"value": 710, "timestamp": t[1]}, {"value": 720, "timestamp": t[2]}]),  # array
            (f"twin/{p}/temp_103", {"value": 22.5, "timestamp": t[3]}),
            (f"twin/{p}/temp_103", {"value": "warm", "timestamp": t[4]}),  # rejected: not a number
            (f"twin/{p}/nope", {"value": 1, "timestamp": t[5]}),  # rejected: unknown point
            (f"twin/{p}/co2_103", {"value": 730, "timestamp": "2024-05-01T10:00:00"}),  # rejected: no timezone
            (f"twin/{p}/occ_101", "on"),  # bare value: arrival time
            (f"twin/{p}/temp_103", {"value": 72, "timestamp": t[6], "unit": "DEG_F"}),  # rejected: unit
        ]
        for topic, body in msgs:
            pub.publish(topic, json.dumps(body) if not isinstance(body, str) else body, qos=1).wait_for_publish(5)
        q = f"""PREFIX brick: <https://brickschema.org/schema/Brick#>
        SELECT ?pt ?v WHERE {{ VALUES ?pt {{ <{ns}co2_103> <{ns}temp_103> <{ns}occ_101> }} ?pt brick:lastKnownValue/brick:value ?v }}"""
        deadline = time.monotonic() + 5
        while True:
            rows = {r["pt"].rsplit("#", 1)[1]: r["v"] for r in select(server, p, campus["reader"], q)}
            if len(rows) == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert float(rows["co2_103"]) == 720 and float(rows["temp_103"]) == 22.5 and rows["occ_101"] == "true"
        with server.client(campus["reader"]) as c:
            obs = c.get(f"/projects/{p}/points/co2_103/observations", params={"start": iso(now - timedelta(hours=1))}).json()["rows"]
        assert [r["value"] for r in obs] == [700, 710, 720]
        deadline = time.monotonic() + 5
        while sum(r["rejected"] for r in rejects) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        codes = sorted(x["code"] for r in rejects for x in r.get("rejects", []))
        assert codes == ["BAD_TIMESTAMP", "BAD_VALUE", "UNIT_MISMATCH", "UNKNOWN_POINT"]
    finally:
        pub.loop_stop()
        sub.loop_stop()
        pub.disconnect()
        sub.disconnect()


def test_mqtt_unknown_project_is_rejected(server, mosquitto):
    rejects: list[dict] = []
    got_sub = threading.Event()
    sub = _client(mosquitto)
    sub.on_message = lambda c, u, m: rejects.append(json.loads(m.payload))
    sub.on_subscribe = lambda *a: got_sub.set()
    sub.subscribe("twin-rejects/no-such-project", qos=1)
    assert got_sub.wait(5)
    pub = _client(mosquitto)
    try:
        pub.publish("twin/no-such-project/co2", json.dumps({"value": 1, "timestamp": iso(datetime.now(timezone.utc))}), qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 5
        while not rejects and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rejects and rejects[0]["code"] == "PROJECT_NOT_FOUND"
    finally:
        pub.loop_stop()
        sub.loop_stop()


def test_bad_mqtt_url():
    from kg_twin.errors import InputError

    with pytest.raises(InputError):
        parse_url("http://x:1")

"""MQTT in: ``kg-twin serve --mqtt mqtt://host:port`` subscribes to ``twin/{project}/{point}``.

Payload of a message on ``twin/<project>/<point>``:

* a JSON object ``{"value": 21.5, "timestamp": "2024-05-01T10:00:00Z", "unit": "DEG_C", "quality": "good"}``
  (``timestamp`` optional: the arrival time is used when it is absent),
* a JSON array of such objects (several readings of that point), or
* a bare number / ``true`` / ``"on"`` (value only, arrival time).

Messages are batched (every ``BATCH_S`` seconds or ``BATCH_MAX`` messages) and go
through the same :meth:`LiveService.ingest` as REST batches. Rejected readings are
published, with their reasons, to ``twin-rejects/<project>`` (JSON) and counted.
The broker does the authentication of publishers (its ACLs decide who may publish
on ``twin/<project>/#``); kg-twin trusts what the broker delivers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict, deque
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlparse

from kg_twin.errors import InputError, KgTwinError
from kg_twin.live.readings import RawReading

log = logging.getLogger(__name__)

BATCH_S = 0.05
BATCH_MAX = 20_000
REJECT_TOPIC = "twin-rejects/{project}"


def parse_url(url: str) -> dict[str, Any]:
    u = urlparse(url)
    if u.scheme not in ("mqtt", "tcp") or not u.hostname:
        raise InputError("BAD_MQTT_URL", f"cannot use MQTT URL {url!r}", hint="use mqtt://host:port (user:password@ optional)")
    return {"host": u.hostname, "port": u.port or 1883, "username": unquote(u.username) if u.username else None, "password": unquote(u.password) if u.password else None}


class TopicPattern:
    """``twin/{project}/{point}`` -> subscription ``twin/+/+`` and a parser for incoming topics.

    >>> t = TopicPattern("twin/{project}/{point}")
    >>> t.subscription, t.parse("twin/campus/co2_r1")
    ('twin/+/+', ('campus', 'co2_r1'))
    """

    def __init__(self, template: str) -> None:
        self.parts = template.split("/")
        if "{project}" not in self.parts or "{point}" not in self.parts:
            raise InputError("BAD_MQTT_TOPIC", f"topic template {template!r} needs {{project}} and {{point}} levels")
        self.subscription = "/".join("+" if p in ("{project}", "{point}") else p for p in self.parts)
        self.ip, self.pp = self.parts.index("{project}"), self.parts.index("{point}")

    def parse(self, topic: str) -> tuple[str, str] | None:
        levels = topic.split("/")
        if len(levels) != len(self.parts):
            return None
        for a, b in zip(levels, self.parts):
            if not b.startswith("{") and a != b:
                return None
        return levels[self.ip], levels[self.pp]


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def payload_readings(point: str, payload: bytes, arrival: str) -> list[RawReading]:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        text = payload.decode("utf-8", "replace").strip()
        return [RawReading(point, arrival, text)]  # value checked (and maybe rejected) later
    items = data if isinstance(data, list) else [data]
    out = []
    for d in items:
        if isinstance(d, dict):
            out.append(RawReading(point, d.get("timestamp", d.get("time", arrival)), d.get("value", d.get("result")), d.get("unit"), None if d.get("quality") is None else str(d.get("quality"))))
        else:
            out.append(RawReading(point, arrival, d))
    return out


class MqttBridge:
    def __init__(self, live: Any, url: str, *, topic: str = "twin/{project}/{point}", client_id: str | None = None) -> None:
        import paho.mqtt.client as mqtt

        self.live = live
        self.url = url
        self.cfg = parse_url(url)
        self.pattern = TopicPattern(topic)
        self._queue: deque[tuple[str, bytes, str]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.stats = {"messages": 0, "accepted": 0, "rejected": 0, "batches": 0}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"kg-twin-{id(self):x}", clean_session=True)
        if self.cfg["username"]:
            self.client.username_pw_set(self.cfg["username"], self.cfg["password"])
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.max_queued_messages_set(0)
        self._thread: threading.Thread | None = None

    # paho callbacks (network thread): keep them cheap ------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT connection to %s refused: %s", self.url, reason)
            return
        client.subscribe(self.pattern.subscription, qos=1)
        self.connected.set()
        log.info("MQTT: subscribed to %s on %s", self.pattern.subscription, self.url)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any = None) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT: disconnected from %s (%s); reconnecting", self.url, reason)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        self._queue.append((msg.topic, msg.payload, _now_iso()))
        if len(self._queue) >= BATCH_MAX:
            self._wake.set()

    # lifecycle ----------------------------------------------------------------
    def start(self, wait_s: float = 10.0) -> None:
        try:
            self.client.connect(self.cfg["host"], self.cfg["port"], keepalive=30)
        except OSError as e:
            raise KgTwinError("MQTT_UNREACHABLE", f"cannot connect to the MQTT broker at {self.url}: {e}", hint="check --mqtt / KG_TWIN_MQTT_URL and that the broker runs", status=502) from None
        self.client.loop_start()
        self._thread = threading.Thread(target=self._drain_loop, name="kg-twin-mqtt-batcher", daemon=True)
        self._thread.start()
        if not self.connected.wait(wait_s):
            log.warning("MQTT: not subscribed after %.0f s; still trying", wait_s)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    def _drain_loop(self) -> None:
        while True:
            self._wake.wait(BATCH_S)
            self._wake.clear()
            try:
                self.drain()
            except Exception:  # keep consuming; the failed batch is logged with its cause
                log.exception("MQTT batch failed")
            if self._stop.is_set() and not self._queue:
                return

    def drain(self) -> int:
        n = 0
        by_project: dict[str, list[RawReading]] = defaultdict(list)
        q = self._queue
        while q and n < BATCH_MAX * 5:
            topic, payload, arrival = q.popleft()
            n += 1
            parsed = self.pattern.parse(topic)
            if parsed is None:
                continue
            project, point = parsed
            lst = by_project[project]
            lst.extend(payload_readings(point, payload, arrival))
        if not n:
            return 0
        self.stats["messages"] += n
        self.stats["batches"] += 1
        for project, readings in by_project.items():
            try:
                res = self.live.ingest(project, readings)
            except KgTwinError as e:
                self.stats["rejected"] += len(readings)
                self._publish_rejects(project, {"code": e.code, "reason": e.message, "rejected": len(readings)})
                continue
            self.stats["accepted"] += res.accepted
            self.stats["rejected"] += res.rejected
            if res.rejected:
                self._publish_rejects(project, {"rejected": res.rejected, "rejects": res.rejects})
        return n

    def _publish_rejects(self, project: str, body: dict[str, Any]) -> None:
        log.info("MQTT: %s reading(s) rejected for project %s", body.get("rejected"), project)
        try:
            self.client.publish(REJECT_TOPIC.format(project=project), json.dumps(body), qos=0)
        except (ValueError, OSError) as e:
            log.warning("MQTT: could not publish rejects: %s", e)

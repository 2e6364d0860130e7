"""In-process event hub: alerts and point changes fanned out to subscribers (SSE clients).

Publishers are ordinary threads (REST handlers, the MQTT loop, the state flusher);
subscribers are asyncio consumers, each with a bounded queue. A slow subscriber
loses events (counted in ``dropped`` and reported to it), never blocks publishers.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

QUEUE_SIZE = 10_000


@dataclass(eq=False)
class Subscription:
    project: str
    points: frozenset[str] | None  # point IRIs whose changes the subscriber wants (None: alerts only)
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: int = 0

    def _put(self, ev: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(ev)
        except asyncio.QueueFull:
            self.dropped += 1


class EventHub:
    def __init__(self) -> None:
        self._subs: dict[str, list[Subscription]] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.watched: dict[str, set[str]] = {}  # project -> point IRIs some subscriber watches

    def subscribe(self, project: str, points: set[str] | None, loop: asyncio.AbstractEventLoop) -> Subscription:
        s = Subscription(project, frozenset(points) if points else None, loop)
        with self._lock:
            self._subs.setdefault(project, []).append(s)
            self._rewatch(project)
        return s

    def unsubscribe(self, s: Subscription) -> None:
        with self._lock:
            lst = self._subs.get(s.project, [])
            if s in lst:
                lst.remove(s)
            self._rewatch(s.project)

    def _rewatch(self, project: str) -> None:
        w: set[str] = set()
        for s in self._subs.get(project, []):
            if s.points:
                w |= s.points
        self.watched[project] = w

    def subscribers(self, project: str) -> int:
        return len(self._subs.get(project, []))

    def publish(self, project: str, kind: str, data: dict[str, Any], point: str | None = None) -> None:
        subs = self._subs.get(project)
        if not subs:
            return
        ev = {"id": next(self._seq), "event": kind, "data": data}
        for s in list(subs):
            if kind == "reading" and (s.points is None or point not in s.points):
                continue
            try:
                s.loop.call_soon_threadsafe(s._put, ev)
            except RuntimeError:  # the subscriber's loop is closed: it is going away
                self.unsubscribe(s)

    def close(self) -> None:
        with self._lock:
            subs = [s for lst in self._subs.values() for s in lst]
        for s in subs:
            try:
                s.loop.call_soon_threadsafe(s._put, {"id": 0, "event": "_close", "data": {}})
            except RuntimeError:
                pass

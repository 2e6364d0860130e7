"""Synthetic readings for every point of a model: diurnal temperature, occupancy-driven CO2,
occupancy states, humidity, power and monotonically increasing meter counters.

Used by ``kg-twin simulate``, the demo and the benchmark.

>>> sim = Simulator([{"iri": "http://ex/b#co2", "id": "co2", "class": ["CO2_Sensor", "Point"], "unit": None}], seed=1)
>>> batch = list(sim.readings(0, 3_600_000, 600))
>>> len(batch), batch[0]["point"], batch[0]["timestamp"]
(6, 'co2', '1970-01-01T00:00:00.000Z')
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from kg_twin.live.readings import format_time

DAY_S = 86_400.0


def occupancy(t_s: float) -> float:
    """Share of people present (0..1) at epoch second ``t_s`` (UTC used as local time)."""
    day = int(t_s // DAY_S)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    h = (t_s % DAY_S) / 3600.0
    if weekday >= 5:
        return 0.05
    if h < 7.5 or h > 18.5:
        return 0.0
    base = 0.9 if 9 <= h <= 17 else 0.4
    if 12 <= h < 13.5:
        base = 0.45
    return base


@dataclass
class _Gen:
    id: str
    kind: str
    phase: float
    scale: float
    state: float
    last_t: float | None = None


class Simulator:
    def __init__(self, points: list[dict[str, Any]], seed: int = 42) -> None:
        self.rng = random.Random(seed)
        self.gens = [self._gen(p) for p in points]

    def _gen(self, p: dict[str, Any]) -> _Gen:
        cls = set(p.get("class") or [])
        r = self.rng
        if cls & {"Status", "Alarm", "Occupancy_Status"}:
            kind = "state"
        elif any("Temperature" in c for c in cls):
            kind = "outdoor" if any("Outside" in c for c in cls) else "temperature"
        elif "CO2_Sensor" in cls or "CO2_Level_Sensor" in cls:
            kind = "co2"
        elif any("Humidity" in c for c in cls):
            kind = "humidity"
        elif "Energy_Sensor" in cls:
            kind = "counter"
        elif any("Power" in c for c in cls):
            kind = "power"
        else:
            kind = "walk"
        return _Gen(p["id"], kind, r.uniform(-1, 1), r.uniform(0.7, 1.4), r.uniform(1000, 50000) if kind == "counter" else 50.0)

    def value(self, g: _Gen, t_s: float) -> Any:
        r = self.rng
        occ = occupancy(t_s + g.phase * 900)
        h = (t_s % DAY_S) / 3600.0
        if g.kind == "temperature":
            return round(21.0 + 1.8 * math.sin(2 * math.pi * (h - 10) / 24) + 0.8 * occ + r.gauss(0, 0.15), 2)
        if g.kind == "outdoor":
            return round(12.0 + 6.0 * math.sin(2 * math.pi * (h - 9) / 24) + r.gauss(0, 0.3), 2)
        if g.kind == "co2":
            return round(420 + 750 * occ * g.scale + r.gauss(0, 15), 1)
        if g.kind == "humidity":
            return round(45 + 6 * math.sin(2 * math.pi * (h - 4) / 24) + 4 * occ + r.gauss(0, 0.5), 1)
        if g.kind == "state":
            return "on" if r.random() < occ else "off"
        if g.kind == "power":
            return round((15 + 45 * occ) * g.scale + r.gauss(0, 1), 2)
        if g.kind == "counter":  # kWh counter: integrates the building's power
            if g.last_t is not None and t_s > g.last_t:
                g.state += (15 + 45 * occ) * g.scale * (t_s - g.last_t) / 3600.0
            g.last_t = t_s
            return round(g.state, 3)
        g.state += r.gauss(0, 0.5)
        return round(g.state, 2)

    def readings(self, start_ms: int, end_ms: int, step_s: float) -> Iterator[dict[str, Any]]:
        """One reading per point every ``step_s`` seconds in ``[start, end)``, in time order."""
        t = start_ms / 1000.0
        while t * 1000 < end_ms:
            ts = format_time(int(t * 1000))
            for g in self.gens:
                yield {"point": g.id, "timestamp": ts, "value": self.value(g, t)}
            t += step_s

    def live(self, rate: float, duration_s: float | None) -> Iterator[list[dict[str, Any]]]:
        """Batches of readings stamped 'now', paced to ``rate`` readings/s, for ``duration_s`` (None: forever)."""
        start = time.monotonic()
        sent = 0
        i = 0
        while duration_s is None or time.monotonic() - start < duration_s:
            due = int((time.monotonic() - start) * rate) - sent
            if due <= 0:
                time.sleep(min(0.05, 1 / max(rate, 1)))
                continue
            now = time.time()
            ts = format_time(int(now * 1000))
            batch = []
            for _ in range(due):
                g = self.gens[i % len(self.gens)]
                i += 1
                batch.append({"point": g.id, "timestamp": ts, "value": self.value(g, now)})
            sent += len(batch)
            yield batch


def batched(it: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for x in it:
        batch.append(x)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_simulation(
    points: list[dict[str, Any]],
    send: Callable[[list[dict[str, Any]]], dict[str, Any]],
    *,
    minutes: float = 60.0,
    step_s: float = 60.0,
    rate: float | None = None,
    seed: int = 42,
    batch_size: int = 5000,
) -> dict[str, Any]:
    """Backfill ``minutes`` of history ending now (one reading per point per ``step_s``),
    or, with ``rate``, stream live readings at ``rate`` per second for ``minutes``."""
    if not points:
        from kg_twin.errors import InputError

        raise InputError("NO_POINTS", "the project has no points (resources typed with a Brick Point class)", hint="load a Brick model first")
    sim = Simulator(points, seed)
    t0 = time.perf_counter()
    tot = {"sent": 0, "accepted": 0, "rejected": 0, "rejects": []}
    if rate:
        batches: Iterator[list[dict[str, Any]]] = sim.live(rate, minutes * 60)
    else:
        end = int(time.time() * 1000)
        batches = batched(sim.readings(end - int(minutes * 60_000), end, step_s), batch_size)
    for b in batches:
        res = send(b)
        tot["sent"] += len(b)
        tot["accepted"] += res["accepted"]
        tot["rejected"] += res["rejected"]
        tot["rejects"].extend(res.get("rejects", [])[: max(0, 20 - len(tot["rejects"]))])
    tot["seconds"] = round(time.perf_counter() - t0, 3)
    tot["points"] = len(points)
    return tot

"""The points of a project, as the graph describes them: class, unit, time-series id.

A point is any resource typed with a Brick ``Point`` subclass (``brick:CO2_Level_Sensor``,
``brick:Occupancy_Status``...). Readings name a point by its IRI, its
``ref:hasTimeseriesId`` or the local name of its IRI (when that is unique in the project).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from kg_twin.core import Core
from kg_twin.live import brickclasses
from kg_twin.terms import BRICK, REF, UNIT

log = logging.getLogger(__name__)

# common unit spellings -> QUDT unit local names
UNIT_ALIASES = {
    "ppm": "PPM", "°c": "DEG_C", "degc": "DEG_C", "c": "DEG_C", "celsius": "DEG_C", "°f": "DEG_F", "degf": "DEG_F",
    "f": "DEG_F", "k": "K", "%": "PERCENT", "percent": "PERCENT", "%rh": "PERCENT_RH", "kwh": "KiloW-HR", "kw": "KiloW",
    "w": "W", "wh": "W-HR", "mwh": "MegaW-HR", "pa": "PA", "kpa": "KiloPA", "lux": "LUX", "lx": "LUX", "m3": "M3",
    "m3/h": "M3-PER-HR", "l/s": "L-PER-SEC", "v": "V", "a": "A", "hz": "HZ", "µg/m3": "MicroGM-PER-M3", "ug/m3": "MicroGM-PER-M3",
    "ppb": "PPB",
}


def normalize_unit(u: str) -> str:
    """A unit as given in a reading -> QUDT unit IRI (``ppm`` -> ``unit:PPM``).

    >>> normalize_unit("°C"), normalize_unit("unit:PPM")
    ('http://qudt.org/vocab/unit/DEG_C', 'http://qudt.org/vocab/unit/PPM')
    """
    s = u.strip()
    if s.startswith(("http://", "https://")):
        return s
    if s.startswith("unit:"):
        return UNIT + s[5:]
    if s.lower() in UNIT_ALIASES:
        return UNIT + UNIT_ALIASES[s.lower()]
    return UNIT + s


def local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1]


def _safe_id(s: str) -> bool:
    return bool(s) and not any(c in s for c in "/#+ ") and len(s) <= 200


@dataclass
class Point:
    iri: str
    classes: set[str]  # Brick local names, with superclasses
    unit: str | None
    boolean: bool
    ts_id: str
    declared_ts_id: bool  # the model already gives a ref:hasTimeseriesId

    def is_a(self, cls: str) -> bool:
        return brickclasses.local(cls) in self.classes


@dataclass
class Catalog:
    project: str
    points: dict[str, Point] = field(default_factory=dict)  # by IRI
    keys: dict[str, str] = field(default_factory=dict)  # any accepted key -> IRI
    ambiguous: set[str] = field(default_factory=set)
    loaded_at: float = 0.0
    series: dict[str, int] | None = None  # point IRI -> history series id (set by the live service)

    def resolve(self, key: str) -> Point | None:
        iri = self.keys.get(key)
        return self.points.get(iri) if iri else None


class PointCatalogs:
    """Per-project point catalogues, loaded from the project's graphs and refreshed on change."""

    def __init__(self, core: Core, state_graph: Callable[[str], str]) -> None:
        self.core = core
        self.state_graph = state_graph
        self._cats: dict[str, Catalog] = {}
        self._lock = threading.Lock()

    def invalidate(self, project: str | None = None) -> None:
        with self._lock:
            if project is None:
                self._cats.clear()
            else:
                self._cats.pop(project, None)

    def get(self, project: str) -> Catalog:
        cat = self._cats.get(project)
        if cat is None:
            cat = self.load(project)
        return cat

    def refresh_if_stale(self, project: str, min_age_s: float = 2.0) -> Catalog:
        """Reload when the catalogue is older than ``min_age_s`` (used when a reading names an unknown point)."""
        cat = self._cats.get(project)
        if cat is None or time.monotonic() - cat.loaded_at > min_age_s:
            return self.load(project)
        return cat

    def load(self, project: str) -> Catalog:
        ds = self.core.dataset_for([project])
        rows = self.core.store.select(
            f"""SELECT ?p ?type ?unit ?tsid WHERE {{
                ?p a ?type . FILTER(STRSTARTS(STR(?type), "{BRICK}"))
                OPTIONAL {{ ?p <{BRICK}hasUnit> ?unit . FILTER(isIRI(?unit)) }}
                OPTIONAL {{ ?p <{REF}hasExternalReference>|<{REF}hasTimeseriesReference> ?r . ?r <{REF}hasTimeseriesId> ?tsid }}
            }}""",
            dataset=ds,
        )
        acc: dict[str, dict] = {}
        for r in rows:
            p = r["p"]
            if not hasattr(p, "n3") or type(p).__name__ != "URIRef":
                continue
            t = str(r["type"])
            if not brickclasses.is_point_class(t):
                continue
            a = acc.setdefault(str(p), {"classes": set(), "unit": None, "tsids": set()})
            a["classes"].update(brickclasses.superclasses(t))
            if "unit" in r:
                a["unit"] = str(r["unit"])
            if "tsid" in r:
                a["tsids"].add(str(r["tsid"]))
        cat = Catalog(project)
        # kg-twin writes its own ts id into the state graph; a model's declared id wins
        state = self.state_graph(project)
        own = self._own_ts_ids(project, state)
        local_count: dict[str, int] = {}
        for iri in acc:
            ln = local_name(iri)
            local_count[ln] = local_count.get(ln, 0) + 1
        for iri, a in acc.items():
            declared = sorted(a["tsids"] - {own.get(iri, "")})
            ln = local_name(iri)
            if declared:
                ts_id, is_decl = declared[0], True
            elif iri in own:
                ts_id, is_decl = own[iri], False
            elif local_count[ln] == 1 and _safe_id(ln):
                ts_id, is_decl = ln, False
            else:
                ts_id, is_decl = "p-" + hashlib.sha1(iri.encode()).hexdigest()[:16], False
            boolean = any(b in a["classes"] for b in brickclasses.BOOLEAN_ROOTS) and a["unit"] is None
            pt = Point(iri, a["classes"], a["unit"], boolean, ts_id, is_decl)
            cat.points[iri] = pt
        for iri, pt in cat.points.items():
            for key in {iri, pt.ts_id, local_name(iri)}:
                if key in cat.keys and cat.keys[key] != iri:
                    cat.ambiguous.add(key)
                else:
                    cat.keys[key] = iri
        for k in cat.ambiguous:
            cat.keys.pop(k, None)
        cat.loaded_at = time.monotonic()
        with self._lock:
            self._cats[project] = cat
        return cat

    def _own_ts_ids(self, project: str, state: str) -> dict[str, str]:
        from kg_twin.store import Dataset

        rows = self.core.store.select(
            f"SELECT ?p ?id WHERE {{ ?p <{REF}hasExternalReference> ?r . ?r <{REF}hasTimeseriesId> ?id }}",
            dataset=Dataset((state,), ()),
        )
        return {str(r["p"]): str(r["id"]) for r in rows}

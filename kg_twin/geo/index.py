"""The spatial index: one R-tree (shapely ``STRtree``, GEOS) per project over the bounding boxes,
in CRS84, of every geometry literal (``geo:asWKT`` / ``geo:asGML`` objects) in the project's graphs,
the inferred graph included.

It is kept current by the change feed (:class:`kg_twin.core.ChangeFeed`): a write to a project
marks its tree stale, and the next lookup rebuilds it from the store (one ``SELECT DISTINCT`` of the
literals; literals already seen keep their parsed boxes, so a rebuild after a small change parses
only the new literals). Lookups give the N-Triples form of the candidate literals, ready for a
``VALUES`` block (:mod:`kg_twin.geo.prefilter`); the store is a :class:`~kg_twin.store.GraphStore`,
so the index works with every backend.

>>> from kg_twin.settings import Settings
>>> from kg_twin.store import Dataset, open_store
>>> s = open_store(Settings(store="memory"))
>>> _ = s.load(b'<http://x/g1> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(1 1)"^^<http://www.opengis.net/ont/geosparql#wktLiteral> .', format="ntriples", graph="http://g")
>>> idx = SpatialIndex(s, lambda p: Dataset(("http://g",), ()))
>>> idx.candidates(["p"], (0, 0, 2, 2))
['"POINT(1 1)"^^<http://www.opengis.net/ont/geosparql#wktLiteral>']
>>> idx.candidates(["p"], (5, 5, 6, 6))
[]
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import shapely

from kg_twin.errors import KgTwinError
from kg_twin.geo.literals import GML_LITERAL, WKT_LITERAL, parse_literal
from kg_twin.geo.prefilter import Lit, prefilter
from kg_twin.geo.topology import expand
from kg_twin.store import Dataset, GraphStore, QueryRequest

log = logging.getLogger(__name__)

GEO = "http://www.opengis.net/ont/geosparql#"
_QUERY = f"SELECT ?w WHERE {{ ?s <{GEO}asWKT>|<{GEO}asGML> ?w }}"
_ESC = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_ESC_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")


def _unescape(s: str) -> str:
    def sub(m: re.Match[str]) -> str:
        e = m.group(1)
        return chr(int(e[1:], 16)) if e[0] in "uU" and len(e) > 1 else _ESC.get(e, e)

    return _ESC_RE.sub(sub, s) if "\\" in s else s


def literal_bounds(terms: list[str]) -> np.ndarray:
    """CRS84 (xmin, ymin, xmax, ymax) of N-Triples geometry literals; NaN rows where a literal does not parse."""
    out = np.full((len(terms), 4), np.nan)
    plain_idx: list[int] = []
    plain_wkt: list[str] = []
    other: list[tuple[int, str, str]] = []
    for i, t in enumerate(terms):
        k = t.rfind('"^^<')
        if not t.startswith('"') or k < 1 or not t.endswith(">"):
            continue
        lex, dt = _unescape(t[1:k]), t[k + 4 : -1]
        if dt == WKT_LITERAL and not lex.lstrip().startswith("<"):
            plain_idx.append(i)
            plain_wkt.append(lex)
        elif dt in (WKT_LITERAL, GML_LITERAL):
            other.append((i, lex, dt))
    if plain_wkt:  # CRS84 WKT, the common case: one vectorised GEOS call
        geoms = shapely.from_wkt(np.array(plain_wkt, dtype=object), on_invalid="ignore")
        b = shapely.bounds(geoms)
        out[np.array(plain_idx)] = b
    for i, lex, dt in other:
        try:
            out[i] = shapely.bounds(parse_literal(lex, dt).crs84())
        except (ValueError, shapely.errors.GEOSException):
            pass
    return out


@dataclass
class _Tree:
    terms: np.ndarray  # N-Triples literal strings, aligned with the tree's geometries
    tree: shapely.STRtree
    bounds: dict[str, np.ndarray] = field(default_factory=dict)
    built_s: float = 0.0


class SpatialIndex:
    """Per-project R-trees over geometry literals (module doc). ``dataset_of(project)``: the
    project's graphs (every graph its queries may see, inferred graph included). ``settled(project)``:
    False while the project's inferred graph is still being updated in the background; a tree built
    then is rebuilt after the next write to the store."""

    def __init__(self, store: GraphStore, dataset_of: Callable[[str], Dataset], settled: Callable[[str], bool] | None = None) -> None:
        self.store = store
        self.dataset_of = dataset_of
        self.settled = settled
        self._trees: dict[str, _Tree] = {}
        self._stale: set[str] = set()
        self._unsettled: dict[str, int] = {}  # project -> store generation when its tree was built unsettled
        self._lock = threading.Lock()
        self.builds = 0

    # change feed listener
    def invalidate(self, project: str) -> None:
        """The project's data changed: its tree is rebuilt at the next lookup."""
        with self._lock:
            self._stale.add(project)

    def tree(self, project: str) -> _Tree:
        with self._lock:
            t = self._trees.get(project)
            gen = self._unsettled.get(project)
            if t is not None and project not in self._stale and (gen is None or gen == self.store.generation):
                return t
            self._stale.discard(project)
            self._unsettled.pop(project, None)
            if self.settled is not None and not self.settled(project):
                self._unsettled[project] = self.store.generation
            t = self._build(project, t)
            self._trees[project] = t
            return t

    def _build(self, project: str, old: _Tree | None) -> _Tree:
        t0 = time.perf_counter()
        body = self.store.query(QueryRequest(_QUERY, dataset=self.dataset_of(project), result_format="tsv")).body.decode("utf-8")
        terms = sorted({line for line in body.split("\n")[1:] if line.startswith('"')})
        known = old.bounds if old is not None else {}
        new = [t for t in terms if t not in known]
        fresh = literal_bounds(new)
        bounds = {t: known[t] for t in terms if t in known}
        bounds.update(zip(new, fresh))
        keep = [t for t in terms if not np.isnan(bounds[t]).any()]
        arr = np.array([bounds[t] for t in keep]).reshape(-1, 4)
        boxes = shapely.box(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]) if len(keep) else np.array([], dtype=object)
        tree = _Tree(np.array(keep, dtype=object), shapely.STRtree(boxes), {t: bounds[t] for t in keep}, time.perf_counter() - t0)
        self.builds += 1
        log.info("spatial index of %s: %d geometries (%d parsed) in %.3f s", project, len(keep), len(new), tree.built_s)
        return tree

    def candidates(self, projects: Iterable[str], box: tuple[float, float, float, float]) -> list[str]:
        """Literals (N-Triples) whose CRS84 bounding box intersects ``box`` (xmin, ymin, xmax, ymax)."""
        q = shapely.box(*box)
        out: list[str] = []
        for p in projects:
            t = self.tree(p)
            if len(t.terms):
                out.extend(t.terms[t.tree.query(q)].tolist())
        return sorted(set(out)) if len(out) > 1 else out

    def size(self, project: str) -> int:
        return len(self.tree(project).terms)

    # query rewriting --------------------------------------------------------
    @staticmethod
    def applies(text: str) -> bool:
        """Whether :meth:`rewrite` may change ``text`` (a cheap test: no GeoSPARQL name, no work)."""
        return "geosparql" in text or "geof:" in text or "geo:" in text

    def rewrite(self, text: str, projects: list[str], *, bindings: dict[str, Any] | None = None, base: str | None = None) -> str:
        """``text`` with the GeoSPARQL topology rewrite rules applied (:func:`kg_twin.geo.topology.expand`)
        and index-backed ``VALUES`` pre-filters (:func:`kg_twin.geo.prefilter.prefilter`) over the
        R-trees of ``projects``; the text itself when nothing applies."""
        text = expand(text, base)
        dataset = Dataset((), ())

        def fold(select: str) -> Any:
            rows = self.store.select(select, dataset=dataset, bindings=bindings or None)
            term = rows[0].get("__kgt_x") if rows else None
            dt = getattr(term, "datatype", None)
            return None if term is None else Lit(str(term), str(dt) if dt is not None else "")

        try:
            res = prefilter(text, lambda box: self.candidates(projects, box), bindings=bindings, fold=fold, base=base)
        except KgTwinError as e:  # a query the engine will refuse anyway: it reports the error itself
            log.debug("spatial prefilter skipped: %s", e)
            return text
        if res.notes:
            log.debug("spatial prefilter: %s", "; ".join(res.notes))
        return res.text

"""Coordinate reference systems: recognise the CRS of a source, reproject to CRS84.

The twin stores every default geometry in OGC CRS84 (longitude, latitude, WGS 84), the only
CRS the GeoSPARQL engines evaluate, with no CRS IRI in front of the WKT. The source CRS is
kept as metadata (``kgt:sourceCrs``) and, optionally, as a second geometry in the source CRS.

Accepted spellings (``--crs`` / mapping ``crs.value``): ``EPSG:2154``, ``2154``,
``urn:ogc:def:crs:EPSG::2154``, ``http(s)://www.opengis.net/def/crs/EPSG/0/2154``,
``OGC:CRS84`` / the CRS84 IRI, or a WKT / PROJ string.

>>> parse_crs("http://www.opengis.net/def/crs/EPSG/0/2154").to_epsg()
2154
>>> crs_id(parse_crs("urn:ogc:def:crs:EPSG::28992"))
'EPSG:28992'
>>> crs_iri("EPSG:2154")
'http://www.opengis.net/def/crs/EPSG/0/2154'
>>> t = ToCRS84("EPSG:2154")
>>> [round(c, 4) for c in t.point(664275.2, 6360036.3)]
[2.5519, 44.3384]
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError

from kg_twin.errors import InputError

CRS84_IRI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84 = "OGC:CRS84"

_HTTP_RE = re.compile(r"^https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[^/]+/([^/\s]+)$", re.I)
_URN_RE = re.compile(r"^urn:ogc:def:crs:(EPSG|OGC):[^:]*:([^:\s]+)$", re.I)
_CRS_HINT = "pass the source CRS explicitly, e.g. --crs EPSG:2154 (Lambert-93) or --crs EPSG:28992 (RD New); " \
    "in a mapping file set crs.value"


def _normalise(spec: str) -> str:
    s = spec.strip()
    if s.isdigit():
        return f"EPSG:{s}"
    m = _HTTP_RE.match(s) or _URN_RE.match(s)
    if m:
        auth, code = m.group(1).upper(), m.group(2)
        if auth == "OGC" and code.upper() in ("CRS84", "1.3/CRS84"):
            return CRS84
        return f"{auth}:{code}"
    if s.upper() in ("CRS84", "OGC:CRS84", CRS84_IRI.upper()):
        return CRS84
    return s


@lru_cache(maxsize=1)
def _crs84() -> pyproj.CRS:
    return pyproj.CRS(CRS84)


@lru_cache(maxsize=64)
def parse_crs(spec: str) -> pyproj.CRS:
    """A pyproj CRS from any accepted spelling; :class:`InputError` ``BAD_CRS`` otherwise."""
    if not spec or not str(spec).strip():
        raise InputError("BAD_CRS", "empty CRS", hint=_CRS_HINT)
    try:
        return pyproj.CRS.from_user_input(_normalise(str(spec)))
    except CRSError as e:
        raise InputError("BAD_CRS", f"unknown coordinate reference system {str(spec)[:120]!r}: {e}", hint=_CRS_HINT) from e


def identify(crs: pyproj.CRS, min_confidence: int = 70) -> tuple[str | None, float]:
    """Best authority code for a CRS (e.g. from a .prj) and the match confidence (0..1).

    >>> identify(parse_crs("EPSG:2154"))
    ('EPSG:2154', 1.0)
    """
    if crs.is_bound:  # WKT1 with TOWGS84[...]: identify the underlying CRS
        crs = crs.source_crs
    if crs.to_string().upper() in ("OGC:CRS84",) or crs == _crs84():
        return CRS84, 1.0
    for conf in (100, 90, min_confidence):
        auth = crs.to_authority(min_confidence=conf)
        if auth:
            return f"{auth[0]}:{auth[1]}", conf / 100
    return None, 0.0


def crs_id(crs: pyproj.CRS) -> str:
    """A short stable identifier (``EPSG:2154``), or the WKT when the CRS has no authority code."""
    ident, _ = identify(crs)
    return ident or crs.to_wkt()


def crs_iri(spec: str | pyproj.CRS) -> str | None:
    """OGC CRS IRI (``http://www.opengis.net/def/crs/EPSG/0/2154``) or None when there is no code."""
    crs = spec if isinstance(spec, pyproj.CRS) else parse_crs(spec)
    ident, _ = identify(crs)
    if not ident:
        return None
    if ident == CRS84:
        return CRS84_IRI
    auth, _, code = ident.partition(":")
    return f"http://www.opengis.net/def/crs/{auth}/0/{code}"


def is_crs84(crs: pyproj.CRS) -> bool:
    return identify(crs)[0] == CRS84


def from_prj(text: str) -> dict[str, Any]:
    """Read an ESRI ``.prj`` (WKT1, ESRI or OGC flavour): ``{"value", "confidence", "reason"}``.

    ``value`` is an authority code when PROJ can match one, else the WKT itself.
    """
    try:
        crs = pyproj.CRS.from_wkt(text.strip())
    except CRSError as e:
        return {"value": None, "confidence": 0.0, "reason": f".prj not understood by PROJ: {e}"}
    ident, conf = identify(crs)
    if ident:
        return {"value": ident, "confidence": conf, "reason": f".prj matches {ident} ({crs.name})"}
    return {"value": crs.to_wkt(), "confidence": 0.6, "reason": f".prj parsed ({crs.name}) but has no authority code"}


class ToCRS84:
    """Reprojects shapely geometries (2D) from a source CRS to CRS84 (lon, lat)."""

    def __init__(self, source: str | pyproj.CRS) -> None:
        self.source = source if isinstance(source, pyproj.CRS) else parse_crs(source)
        self.identity = is_crs84(self.source)
        self.geographic = self.source.is_geographic
        self._tr = None if self.identity else pyproj.Transformer.from_crs(self.source, CRS84, always_xy=True)

    def point(self, x: float, y: float) -> tuple[float, float]:
        if self._tr is None:
            return x, y
        return self._tr.transform(x, y)

    def _xy(self, coords: np.ndarray) -> np.ndarray:
        lon, lat = self._tr.transform(coords[:, 0], coords[:, 1])  # type: ignore[union-attr]
        return np.column_stack([lon, lat])

    def geometry(self, geom: shapely.Geometry) -> shapely.Geometry:
        if self._tr is None:
            return shapely.force_2d(geom)
        out = shapely.transform(shapely.force_2d(geom), self._xy)
        return out

    def area_of_use(self) -> tuple[float, float, float, float] | None:
        a = self.source.area_of_use
        return (a.west, a.south, a.east, a.north) if a else None

"""The measures of a link specification, on values (strings, identifiers) and on arrays of
geometries in a metric CRS (vectorised with shapely).

>>> room_codes("RM101 Zone Temp"), room_codes("Space 101"), room_codes("A-101 Foyer"), room_codes("AHU1-SAT"), room_codes("AHU-12 SAT"), room_codes("Bathroom 1")
({'101'}, {'101'}, {'A101'}, set(), set(), set())
>>> room_score({"RM101"}, {"101"}), room_score({"RM A101"}, {"A101 Foyer"}), room_score({"101"}, {"A101"}), room_score({"101"}, {"B205"})
(1.0, 1.0, 0.7, 0.0)
>>> normalise_label("  Salle de Réunion_2 ")
'salle de reunion 2'
>>> normalise_id("0BTBFw6f90Nfh9rP1dlXr2", "globalid") == normalise_id("{0B74B3FA-1A92-405E-9AC9-D59067BE1D42}", "globalid")
True
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

import numpy as np
import shapely
from rapidfuzz import fuzz

_ROOM_WORDS = re.compile(r"\b(?:ROOM|RM|SALLE|LOCAL|BUREAU|PIECE|SPACE|ESPACE|RAUM)[\s._#-]*(?=[A-Z]{0,2}[\s_-]?\d)")
# a wing/floor letter or two and 1-4 digits ("A101", "R3"), or 2-4 digits alone ("101"; a lone digit as in
# "Bathroom 1" or "AHU-1" is no room number); not glued to a word by a hyphen ("AHU-12")
_CODE = re.compile(r"(?<![A-Z0-9])(?<![A-Z0-9]-)(?:([A-Z]{1,2})[-_ ]?(\d{1,4})|()(\d{2,4}))([A-Z]?)(?![A-Z0-9]|\.\d)")
_HEX = re.compile(r"^[0-9a-fA-F]{32}$")
_GLOBALID = re.compile(r"^[0-9A-Za-z_$]{22}$")


def normalise_label(text: str) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", t).split())


def label_score(a: Iterable[str], b: Iterable[str]) -> float:
    """Best normalised similarity (rapidfuzz token-sort ratio, 0..1) between any two labels."""
    best = 0.0
    nb = [normalise_label(y) for y in b]
    for x in a:
        nx = normalise_label(x)
        for ny in nb:
            if nx and ny:
                best = max(best, fuzz.token_sort_ratio(nx, ny) / 100.0)
    return best


def room_codes(text: str) -> set[str]:
    """Room numbers in a label ("RM101" -> 101, "A-101" -> A101); words such as ROOM, RM, SALLE dropped."""
    t = unicodedata.normalize("NFKD", text).upper()
    t = _ROOM_WORDS.sub(" ", t)
    return {f"{m.group(1) or ''}{m.group(2) or m.group(4)}{m.group(5)}" for m in _CODE.finditer(t)}


def _digits(code: str) -> str:
    return re.sub(r"^[A-Z]+", "", code)


def room_score(a: Iterable[str], b: Iterable[str]) -> float:
    """1.0 when two labels share a room code, 0.7 when only the number agrees (one side has a wing or
    floor letter the other lacks: "101" vs "A101"), else 0."""
    ca: set[str] = set().union(*(room_codes(x) for x in a)) if a else set()
    cb: set[str] = set().union(*(room_codes(y) for y in b)) if b else set()
    if ca & cb:
        return 1.0
    for x in ca:
        for y in cb:
            if (x.isdigit() or y.isdigit()) and _digits(x) == _digits(y):
                return 0.7
    return 0.0


def room_keys(labels: Iterable[str]) -> set[str]:
    """Blocking keys of :func:`room_score`: the digits of each room code."""
    return {_digits(c) for x in labels for c in room_codes(x)}


def normalise_id(value: str, how: str = "exact") -> str:
    """``exact`` (spaces trimmed), ``casefold``, or ``globalid``: an IFC GlobalId in its 22-character
    form, whether written compressed or as a UUID (with or without dashes, braces)."""
    v = value.strip()
    if how == "casefold":
        return v.casefold()
    if how == "globalid":
        h = v.strip("{}").replace("-", "")
        if _HEX.match(h):
            from ifcopenshell import guid

            return str(guid.compress(h.lower()))
        if _GLOBALID.match(v):
            return v
        return v.casefold()
    return v


def pair_areas(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Areas of a, of b and of their intersections, pairwise."""
    inter = shapely.area(shapely.intersection(a, b))
    return shapely.area(a), shapely.area(b), inter


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of footprints, pairwise (0 where either is missing or empty)."""
    aa, ab, inter = pair_areas(a, b)
    union = aa + ab - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(out)


def contains(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of b's area inside a (points and lines: 1 if within a), pairwise."""
    aa, ab, inter = pair_areas(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(ab > 0, inter / ab, shapely.covers(a, b).astype(float))
    return np.nan_to_num(out)


def distance_score(a: np.ndarray, b: np.ndarray, max_m: float, of: str = "centroid") -> np.ndarray:
    """1 - d / max (0 beyond max), d in metres between centroids (``of: centroid``) or geometries."""
    if of == "centroid":
        d = shapely.distance(shapely.centroid(a), shapely.centroid(b))
    else:
        d = shapely.distance(a, b)
    d = np.nan_to_num(d, nan=np.inf)
    return np.clip(1.0 - d / max_m, 0.0, 1.0)

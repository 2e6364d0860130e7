"""XSD lexical spaces and language ranges, checked in Python (the store canonicalises literals)."""

from __future__ import annotations

import re

import rdflib
from rdflib import URIRef

XSD_NS = "http://www.w3.org/2001/XMLSchema#"

_INT_RANGES = {
    "integer": (None, None), "long": (-(2**63), 2**63 - 1), "int": (-(2**31), 2**31 - 1),
    "short": (-32768, 32767), "byte": (-128, 127), "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None), "nonPositiveInteger": (None, 0), "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1), "unsignedInt": (0, 2**32 - 1), "unsignedShort": (0, 65535),
    "unsignedByte": (0, 255),
}
_TZ = r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?"
_DATE = r"-?([1-9]\d{3,}|0\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?|24:00:00(\.0+)?)"
_LEXICAL = {
    "boolean": re.compile(r"true|false|1|0"),
    "decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    "double": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN"),
    "float": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN"),
    "date": re.compile(_DATE + _TZ),
    "dateTime": re.compile(_DATE + "T" + _TIME + _TZ),
    "dateTimeStamp": re.compile(_DATE + "T" + _TIME + r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)"),
    "time": re.compile(_TIME + _TZ),
    "gYear": re.compile(r"-?([1-9]\d{3,}|0\d{3})" + _TZ),
    "gYearMonth": re.compile(r"-?([1-9]\d{3,}|0\d{3})-(0[1-9]|1[0-2])" + _TZ),
    "duration": re.compile(r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"),
    "hexBinary": re.compile(r"([0-9a-fA-F]{2})*"),
    "language": re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*"),
}


def xsd_lexical_ok(lex: str, dt: str) -> bool:
    """Is ``lex`` in the lexical space of the XSD datatype ``dt`` (full IRI)?"""
    local = dt[len(XSD_NS):] if dt.startswith(XSD_NS) else None
    if local is None:
        return True
    if local in _INT_RANGES:
        if not re.fullmatch(r"[+-]?\d+", lex):
            return False
        lo, hi = _INT_RANGES[local]
        n = int(lex)
        return (lo is None or n >= lo) and (hi is None or n <= hi)
    rx = _LEXICAL.get(local)
    if rx is not None:
        return rx.fullmatch(lex) is not None
    try:
        return not rdflib.Literal(lex, datatype=URIRef(dt)).ill_typed
    except Exception:  # noqa: BLE001 - rdflib converters raise assorted errors on bad input
        return False


def _lang_matches(lang: str, rng: str) -> bool:
    lang, rng = lang.lower(), rng.lower()
    if rng == "*":
        return bool(lang)
    return lang == rng or lang.startswith(rng + "-")

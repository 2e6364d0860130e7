"""Reviewable mapping files: a handler's proposal as YAML, loaded back and hashed.

A handler's ``propose`` returns a plain dict (every decision with a ``confidence``);
:func:`normalize` turns it into what YAML can hold, :func:`dump_yaml` writes it with a
short header saying how to use it, :func:`load_mapping` reads an edited file back and
:func:`mapping_hash` identifies it (sha256 of its canonical JSON).

The pipeline always maps with the *normalized* mapping (the dict after a YAML round
trip), so a proposal used directly and the same proposal written to a file and passed
back with ``--mapping`` give the same graph.

>>> m = normalize({"handler": "table", "columns": {"Room": {"role": "room", "confidence": 0.9}}, "tags": ("a", "b")})
>>> load_mapping_text(dump_yaml(m)) == m
True
>>> mapping_hash(m) == mapping_hash(load_mapping_text(dump_yaml(m)))
True
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from kg_twin.limits import load_yaml
from kg_twin.errors import InputError

HEADER = """\
# kg-twin ingest mapping (reviewable).
# Generated for {source} by handler '{handler}'.
# Every decision carries a 'confidence' (0..1) and, where the handler gave one, a reason ('why').
# Review and edit the decisions (classes, keys, relations, CRS, units), then ingest with:
#   kg-twin ingest {source} --project {project} --mapping THIS_FILE
# The same file with the same mapping always gives the same graph.
"""


def normalize(value: Any) -> Any:
    """Plain YAML-able data: dict/list/str/int/float/bool/None (tuples -> lists, sets -> sorted lists)."""
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((normalize(v) for v in value), key=lambda x: json.dumps(x, sort_keys=True, default=str))
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)  # IRI and other str subclasses become plain strings
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return normalize(value.model_dump())
    raise InputError(
        "MAPPING_NOT_SERIALIZABLE",
        f"mapping value of type {type(value).__name__} cannot be written to YAML: {value!r}",
        hint="handlers must propose plain data (dicts, lists, strings, numbers, booleans)",
    )


def dump_yaml(mapping: dict[str, Any], *, source: str = "FILE", project: str = "P") -> str:
    head = HEADER.format(source=source, handler=mapping.get("handler", "?"), project=project)
    body = yaml.safe_dump(normalize(mapping), sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)
    return head + body


def load_mapping_text(text: str, *, name: str = "mapping") -> dict[str, Any]:
    try:
        data = load_yaml(text, what=name)  # bounded: nesting, aliases
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where: dict[str, Any] = {"file": name}
        if mark is not None:
            where.update(line=mark.line + 1, column=mark.column + 1)
        raise InputError("MAPPING_SYNTAX", f"{name}: not valid YAML: {getattr(e, 'problem', e)}", where=where, hint="fix the YAML at the given line (indentation, quotes)") from None
    if not isinstance(data, dict):
        raise InputError("MAPPING_SHAPE", f"{name}: a mapping file holds one YAML mapping (key: value), got {type(data).__name__}", where={"file": name}, hint="start from the file `kg-twin ingest --dry-run` prints")
    return normalize(data)


def load_mapping(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("MAPPING_NOT_FOUND", f"no such mapping file: {p}", where={"file": str(p)}, hint="check the path; `kg-twin ingest FILE --dry-run > mapping.yml` writes one") from None
    except UnicodeDecodeError as e:
        raise InputError("MAPPING_ENCODING", f"{p.name}: not UTF-8 ({e})", where={"file": p.name}, hint="save the mapping file as UTF-8") from None
    return load_mapping_text(text, name=p.name)


def roundtrip(mapping: dict[str, Any]) -> dict[str, Any]:
    """The mapping exactly as a reviewer's file would give it back."""
    return load_mapping_text(yaml.safe_dump(normalize(mapping), sort_keys=False, allow_unicode=True))


def mapping_hash(mapping: dict[str, Any]) -> str:
    canon = json.dumps(normalize(mapping), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def confidences(mapping: Any, path: str = "") -> list[tuple[str, float]]:
    """Every ``confidence`` in a mapping with its path (for review summaries), lowest first.

    >>> confidences({"a": {"confidence": 0.4}, "b": [{"confidence": 1.0}]})
    [('a', 0.4), ('b[0]', 1.0)]
    """
    out: list[tuple[str, float]] = []
    if isinstance(mapping, dict):
        c = mapping.get("confidence")
        if isinstance(c, (int, float)) and not isinstance(c, bool):
            out.append((path or "(top)", float(c)))
        for k, v in mapping.items():
            if k != "confidence":
                out.extend(confidences(v, f"{path}.{k}" if path else str(k)))
    elif isinstance(mapping, list):
        for i, v in enumerate(mapping):
            out.extend(confidences(v, f"{path}[{i}]"))
    return sorted(out, key=lambda x: (x[1], x[0]))

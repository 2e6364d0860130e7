"""A person's corrections of classified point names, kept per project and source, re-applied on re-ingest.

The review list of a source is read from its published graph: every point the classifier was not
sure of carries ``kgt:reviewReason`` and ``kgt:confidence`` (:mod:`kg_twin.ingest.mappers.table`).
A person answers with ``{point name: brick:Class}``; :func:`save_corrections` checks the classes
against Brick and keeps them in ``{data_dir}/corrections/{project}/{source}.yml``, and every later
ingest of that source merges them into its mapping's ``entity.class.corrections`` (a correction in a
mapping given by the caller wins), so the same source gives the same graph. A correction also fixes
every name of the same pattern (:class:`kg_twin.ingest.labels.Corrections`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kg_twin.errors import InputError
from kg_twin.ingest.labels import Corrections
from kg_twin.ingest.sources import write_atomic
from kg_twin.terms import BRICK, KGT, RDFS


def corrections_path(data_dir: Path, project: str, source: str) -> Path:
    if "/" in source or source.startswith(".") or not source:
        raise InputError("BAD_SOURCE", f"{source!r} is not a source name of the project", hint="use the graph's short name, as `kg-twin ingest` printed it (-> <.../graph/PROJECT/NAME>)")
    return Path(data_dir) / "corrections" / project / f"{source}.yml"


def load_corrections(data_dir: Path, project: str, source: str) -> dict[str, str]:
    p = corrections_path(data_dir, project, source)
    if not p.exists():
        return {}
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def save_corrections(data_dir: Path, project: str, source: str, fixes: dict[str, str]) -> dict[str, str]:
    """Merge ``fixes`` into the source's kept corrections (checked against Brick first); returns all."""
    Corrections(fixes, source="corrections")  # raises BAD_CORRECTION for a class that is not a Brick point class
    merged = {**load_corrections(data_dir, project, source), **{str(k): str(v) for k, v in fixes.items()}}
    p = corrections_path(data_dir, project, source)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(p, yaml.safe_dump(dict(sorted(merged.items())), allow_unicode=True, sort_keys=True).encode("utf-8"))
    return merged


def with_kept_corrections(mapping: dict[str, Any], kept: dict[str, str]) -> dict[str, Any]:
    """The mapping with the kept corrections under ``entity.class.corrections`` (the mapping's own win)."""
    cls = ((mapping.get("entity") or {}).get("class")) if isinstance(mapping.get("entity"), dict) else None
    if not kept or not isinstance(cls, dict) or "classify" not in cls:
        return mapping
    cls["corrections"] = {**kept, **(cls.get("corrections") or {})}
    return mapping


def review_list(store: Any, graph: str) -> list[dict[str, Any]]:
    """Points of a published graph that wait for a person: name, class given, confidence, reason."""
    rows = store.select(
        f"""SELECT ?p ?name ?cls ?conf ?why WHERE {{ GRAPH <{graph}> {{
              ?p <{KGT}reviewReason> ?why ; <{RDFS}label> ?name ; a ?cls .
              OPTIONAL {{ ?p <{KGT}confidence> ?conf }}
              FILTER(STRSTARTS(STR(?cls), "{BRICK}")) }} }} ORDER BY ?conf ?name"""
    )
    out = []
    for r in rows:
        out.append({
            "point": str(r["p"]),
            "name": str(r["name"]),
            "class": "brick:" + str(r["cls"])[len(BRICK):],
            "confidence": float(r["conf"]) if r.get("conf") is not None else None,
            "reason": str(r["why"]),
        })
    return out

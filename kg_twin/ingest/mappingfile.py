"""Reviewable mapping files: a handler's proposal saved as YAML, edited by a person, loaded back.

>>> text = dump_mapping({"version": 1, "handler": "table", "entity": {"kind": "point", "key": "name"}})
>>> load_mapping_text(text, "m.yml")["entity"]["key"]
'name'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kg_twin.limits import load_yaml
from kg_twin.errors import InputError

HEADER = (
    "# kg-twin mapping (reviewable). Edit roles / classes / properties, keep the structure;\n"
    "# 'confidence' and 'why' explain the proposal and are ignored when mapping.\n"
    "# To correct guessed point classes: entity.class.corrections: {point name: brick:Class};\n"
    "# a correction also applies to names of the same pattern (other zones, other units).\n"
)


def dump_mapping(mapping: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True)


def save_mapping(mapping: dict[str, Any], path: str | Path) -> Path:
    """Write atomically (temp file in the same folder, then replace)."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(dump_mapping(mapping))
    os.replace(tmp, path)
    return path


def load_mapping_text(text: str, name: str = "mapping") -> dict[str, Any]:
    try:
        data = load_yaml(text, what=name)  # bounded: nesting, aliases
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = {"file": name}
        if mark is not None:
            where.update(line=mark.line + 1, column=mark.column + 1)
        raise InputError("BAD_MAPPING", f"{name} is not valid YAML: {getattr(e, 'problem', e)}", where=where, hint="check the indentation near that line") from None
    if not isinstance(data, dict):
        raise InputError("BAD_MAPPING", f"{name} must hold a YAML mapping (key: value), not {type(data).__name__}", where={"file": name})
    if "handler" in data and not isinstance(data["handler"], str):
        raise InputError("BAD_MAPPING", f"{name}: 'handler' must be a handler name", where={"file": name})
    return data


def load_mapping(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("NO_MAPPING", f"mapping file {path} not found", hint="create one from the proposal: kg-twin ingest FILE --project P --dry-run > mapping.yml") from None
    return load_mapping_text(text, path.name)

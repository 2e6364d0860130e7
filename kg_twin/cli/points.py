"""``kg-twin classify``: the point-name classifier on the command line (no store needed).

Prints Brick classes for point names (top-k with scores, equipment / room tokens, why); the
names that need review are listed on stderr. Mapping proposals for whole files come from
``kg-twin ingest FILE --dry-run`` (edit the YAML, pass it back with ``--mapping``).
Exit codes: 0 ok, 1 ``--strict`` and a name needs review, 2 usage or runtime error.
"""

from __future__ import annotations

from types import ModuleType

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from kg_twin.cli import common


def _m() -> ModuleType:
    return common


def classify(
    names: Optional[list[str]] = typer.Argument(None, help="point names, e.g. 'AHU-1 SA-TEMP' 'RM101 CO2'"),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="read names from a file, one per line ('-' = stdin)"),
    top: int = typer.Option(3, "--top", "-k", min=1, max=20, help="candidate classes per name"),
    json_out: bool = typer.Option(False, "--json", help="one JSON object per name (JSON lines)"),
    strict: bool = typer.Option(False, "--strict", help="exit 1 when a name needs review"),
    corrections: Optional[Path] = typer.Option(
        None, "--corrections", "-c", help="YAML of a person's corrections {point name: brick:Class}, or a mapping file with entity.class.corrections"
    ),
) -> None:
    """Classify point names into Brick classes (top-k with scores, equipment, room, why)."""
    from kg_twin.errors import InputError
    from kg_twin.ingest.labels import classify as classify_name
    from kg_twin.ingest.labels import Corrections, format_review, review_report

    todo = list(names or [])
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            _m().fail(InputError("BAD_INPUT", f"cannot read {file}: {e}", hint="give a UTF-8 text file with one name per line"))
        todo += [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not todo:
        _m().fail(InputError("NO_NAMES", "no point names given", hint="kg-twin classify 'AHU-1 SA-TEMP' or --file names.txt"))
    fixes = _load_corrections(corrections) if corrections is not None else Corrections()
    results = [fixes.apply(classify_name(n, k=top)) for n in todo]
    for r in results:
        if json_out:
            sys.stdout.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        else:
            eq = ",".join(e.token for e in r.equipment) or "-"
            flag = "  REVIEW" if r.flagged else ""
            cands = " ".join(f"{c.name}:{c.score:.2f}" for c in r.candidates)
            sys.stdout.write(f"{r.name}\tbrick:{r.point_class.rsplit('#', 1)[-1]}\t{r.confidence:.2f}\tequipment={eq}\troom={r.room or '-'}\t[{cands}]{flag}\n")
    report = review_report(results)
    if report["flagged"]:
        _m().err.print(format_review(report), highlight=False, markup=False)
    if strict and report["flagged"]:
        raise typer.Exit(1)


def _load_corrections(path: Path):
    """{point name: class} from a YAML file, or the corrections of a kg-twin mapping file."""
    from kg_twin.errors import InputError
    from kg_twin.ingest.labels import Corrections
    from kg_twin.ingest.mappingfile import load_mapping

    try:
        data = load_mapping(path)
        if isinstance(data.get("entity"), dict):
            data = (data["entity"].get("class") or {}).get("corrections") or {}
        if not all(isinstance(v, str) for v in data.values()):
            raise InputError("BAD_CORRECTION", f"{path}: expected point name: brick:Class lines", where={"file": str(path)}, hint="e.g. 'VAV-1 DPRPOS: brick:Damper_Position_Setpoint'")
        return Corrections({str(k): v for k, v in data.items()}, source=str(path))
    except InputError as e:
        _m().fail(e)


def review(
    project: str = typer.Option(..., "--project", "-p", help="the project"),
    source: str = typer.Argument(..., help="the source's graph name (as `kg-twin ingest` printed it, e.g. points.csv)"),
    set_: Optional[list[str]] = typer.Option(None, "--set", "-s", help="a correction NAME=brick:Class (repeatable); kept and applied at every ingest of the source"),
    json_out: bool = typer.Option(False, "--json", help="print the review list as JSON"),
    data_dir: Optional[Path] = common.DataDir,
) -> None:
    """Point classes waiting for a person (low confidence), and corrections kept for the next ingest."""
    from kg_twin.errors import InputError, KgTwinError
    from kg_twin.ingest.corrections import review_list, save_corrections

    try:
        if set_:
            fixes = {}
            for item in set_:
                name, sep, cls = item.rpartition("=")
                if not sep or not name.strip() or not cls.strip():
                    raise InputError("BAD_CORRECTION", f"--set {item!r}: expected NAME=brick:Class", hint="e.g. --set 'VAV-1 DPRPOS=brick:Damper_Position_Setpoint'")
                fixes[name.strip()] = cls.strip()
            kept = save_corrections(common.settings_for(data_dir).data_dir, project, source, fixes)
            common.err.print(f"{len(fixes)} correction(s) kept for {source} ({len(kept)} in all); re-ingest the file to apply them", highlight=False, markup=False)
        twin = common.open_twin(data_dir, read_only=True)
        try:
            graph = twin.naming.graph(project, source)
            items = review_list(twin.store, graph) if twin.store.has_graph(graph) else []
        finally:
            twin.close()
    except KgTwinError as e:
        _m().fail(e)
    if json_out:
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    for it in items:
        conf = "-" if it["confidence"] is None else f"{it['confidence']:.2f}"
        sys.stdout.write(f"{it['name']}\t{it['class']}\t{conf}\t{it['reason']}\n")
    common.err.print(f"{len(items)} point(s) of {source} wait for review; correct with --set 'NAME=brick:Class'", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
    app.command("review")(review)

"""``kg-twin classify`` and ``kg-twin propose``: the point-name classifier and mapping proposals.

Neither needs a store: ``classify`` prints Brick classes for point names, ``propose`` prints the
reviewable mapping (YAML) a handler proposes for a source file, to edit and pass back with
``--mapping FILE``. Exit codes: 0 ok, 1 ``classify --strict`` found names needing review,
2 usage or runtime error. Data on stdout, messages on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer


def _m() -> Any:
    from kg_twin.cli import main

    return main


def classify(
    names: Optional[list[str]] = typer.Argument(None, help="point names, e.g. 'AHU-1 SA-TEMP' 'RM101 CO2'"),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="read names from a file, one per line ('-' = stdin)"),
    top: int = typer.Option(3, "--top", "-k", min=1, max=20, help="candidate classes per name"),
    json_out: bool = typer.Option(False, "--json", help="one JSON object per name (JSON lines)"),
    strict: bool = typer.Option(False, "--strict", help="exit 1 when a name needs review"),
) -> None:
    """Classify point names into Brick classes (top-k with scores, equipment, room, why)."""
    from kg_twin.errors import InputError
    from kg_twin.ingest.labels import classify as classify_name
    from kg_twin.ingest.labels import format_review, review_report

    todo = list(names or [])
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            _m().fail(InputError("BAD_INPUT", f"cannot read {file}: {e}", hint="give a UTF-8 text file with one name per line"))
        todo += [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not todo:
        _m().fail(InputError("NO_NAMES", "no point names given", hint="kg-twin classify 'AHU-1 SA-TEMP' or --file names.txt"))
    results = [classify_name(n, k=top) for n in todo]
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


def propose(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="source file (CSV, TSV, XLSX, Haystack JSON, RDF...)"),
    handler: Optional[str] = typer.Option(None, "--handler", help="handler name (default: the one that sniffs the file best)"),
    project: str = typer.Option("demo", "--project", "-p", help="project the IRIs are minted in"),
    base_iri: Optional[str] = typer.Option(None, "--base-iri", help="base IRI (default: KG_TWIN_BASE_IRI)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the mapping here instead of stdout"),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="text encoding of a CSV/TSV (default: UTF-8 or the BOM's)"),
) -> None:
    """Propose a reviewable mapping (YAML, with a confidence and a why per decision) for a source file."""

    def go() -> None:
        import kg_twin.ingest.mappers.haystack  # noqa: F401  (register the handlers)
        import kg_twin.ingest.mappers.rdf  # noqa: F401
        import kg_twin.ingest.mappers.table  # noqa: F401
        from kg_twin.errors import InputError
        from kg_twin.ingest.base import HANDLERS, MapContext
        from kg_twin.ingest.mappingfile import dump_mapping, save_mapping
        from kg_twin.models import Record
        from kg_twin.settings import Settings
        from kg_twin.terms import Naming, check_project_id

        check_project_id(project)
        if handler is not None:
            if handler not in HANDLERS:
                raise InputError("UNKNOWN_HANDLER", f"no handler {handler!r}", hint="handlers: " + ", ".join(sorted(HANDLERS)))
            h = HANDLERS[handler]
        else:
            with open(source, "rb") as fh:
                head = fh.read(8192)
            scored = sorted(((hd.sniff(source, head), name) for name, hd in HANDLERS.items()), reverse=True)
            if not scored or scored[0][0] <= 0:
                raise InputError("UNKNOWN_SOURCE", f"no handler reads {source.name}", hint="pass --handler; handlers: " + ", ".join(sorted(HANDLERS)))
            h = HANDLERS[scored[0][1]]
        naming = Naming(base_iri or Settings().base_iri)
        ctx = MapContext(naming, project, naming.base + f"source/{project}/{source.name}", source.name)
        opts = {"encoding": encoding} if encoding and h.name == "table" else {}
        records = [r for r in h.read(source, **opts) if isinstance(r, Record)]
        mapping = h.propose(records, ctx)
        if encoding and h.name == "table":
            mapping.setdefault("read", {})["encoding"] = encoding  # the pipeline passes 'read:' to the reader
        if output is not None:
            save_mapping(mapping, output)
            _m().err.print(f"mapping for {source.name} ({h.name}) written to {output}")
        else:
            sys.stdout.write(dump_mapping(mapping))

    _m().run(go)


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
    app.command("propose")(propose)

"""``kg-twin ingest FILE... --project P``: files -> validated, published named graphs.

Exit codes: 0 every file published (or dry run), 1 at least one file quarantined (SHACL
violations not accepted), 2 an error (bad input, nothing mapped, removals not accepted, unknown
project, ...), 3 a file no reader structures was stored as a document only (with ``--strict`` it is
refused: exit 2). Messages go to stderr; with ``--json`` the reports go to stdout, with ``--dry-run``
the proposed mapping YAML.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from kg_twin.errors import KgTwinError, ShapeViolation


def register(app: typer.Typer) -> None:
    from kg_twin.cli.common import DataDir, err, open_twin

    from rich.markup import escape

    def say(msg: str, **kw: object) -> None:
        kw.setdefault("highlight", False)
        err.print(msg, soft_wrap=True, **kw)  # type: ignore[arg-type]

    @app.command()
    def ingest(
        files: list[Path] = typer.Argument(..., help="source files: CSV/TSV/XLSX point lists, GeoJSON, shapefiles (.shp with sidecars, or .zip), CityJSON, IFC, Haystack JSON, RDF, documents"),
        project: str = typer.Option(..., "--project", "-p", help="target project"),
        dry_run: bool = typer.Option(False, "--dry-run", help="read the file and print the proposed mapping (YAML) to stdout; store nothing"),
        mapping: Optional[Path] = typer.Option(None, "--mapping", "-m", help="a reviewed mapping file (from --dry-run) to use instead of the proposal"),
        reader: Optional[str] = typer.Option(None, "--reader", "-r", help="reader to use instead of detecting the format (`kg-twin readers` lists them)"),
        accept_violations: bool = typer.Option(False, "--accept-violations", help="publish even when SHACL reports violations"),
        strict: bool = typer.Option(False, "--strict", help="quarantine on SHACL warnings too, and refuse a file no reader structures (instead of storing it as a document only)"),
        accept_removals: bool = typer.Option(False, "--accept-removals", help="publish a re-ingest even when it removes more than 20 % of the entities of the published graph"),
        encoding: Optional[str] = typer.Option(None, "--encoding", help="text encoding of a CSV/TSV source, e.g. latin-1 or cp1252 (works with --dry-run; written to the mapping's read: section)"),
        graph: Optional[str] = typer.Option(None, "--graph", "-g", help="graph name (default: the file name, lowercased)"),
        shapes: Optional[list[Path]] = typer.Option(None, "--shapes", help="validate with these shape files instead of the project's shapes"),
        no_validate: bool = typer.Option(False, "--no-validate", help="skip SHACL validation (recorded in the provenance)"),
        crs: Optional[str] = typer.Option(None, "--crs", help="CRS of GIS files without one, e.g. EPSG:2154"),
        agent: Optional[str] = typer.Option(None, "--agent", help="who runs the ingest (recorded as prov:wasAssociatedWith; default cli:$USER)"),
        json_out: bool = typer.Option(False, "--json", help="print the ingest reports as JSON (one object per file, as a list)"),
        review_out: bool = typer.Option(False, "--review", help="list the point classes that wait for a person (low confidence); correct them with `kg-twin review`"),
        data_dir: Optional[Path] = DataDir,
    ) -> None:
        """Ingest files: detect, read, propose a mapping, map to RDF, validate with SHACL, publish."""
        from kg_twin.ingest.mapping import confidences, dump_yaml, load_mapping
        from kg_twin.ingest.pipeline import IngestOptions, default_agent
        from kg_twin.ingest.pipeline import ingest as run_ingest

        if accept_violations and strict:
            say("[red]error[/red] --accept-violations and --strict exclude each other")
            raise typer.Exit(2)
        try:
            reviewed = load_mapping(mapping) if mapping else None
        except KgTwinError as e:
            say(f"[red]error[/red] {escape(str(e))}")
            raise typer.Exit(2)
        try:
            twin = open_twin(data_dir, read_only=False)
        except KgTwinError as e:
            say(f"[red]error[/red] {escape(str(e))}")
            raise typer.Exit(2)
        failed = quarantined = document_only = False
        reports: list[dict] = []
        yamls: list[str] = []
        try:
            for f in files:
                opts = IngestOptions(
                    reader=reader,
                    mapping=reviewed,
                    dry_run=dry_run,
                    accept="violations" if accept_violations else "none" if strict else "warnings",
                    agent=agent or default_agent(),
                    graph=graph if len(files) == 1 else None,
                    shapes=[str(s) for s in shapes] if shapes else None,
                    validate=not no_validate,
                    options={**({"crs": crs} if crs else {}), **({"read": {"encoding": encoding}} if encoding else {})},
                    accept_removals=accept_removals,
                    structured_only=strict,
                )
                try:
                    rep = run_ingest(twin, project, f, opts, progress=None)
                except ShapeViolation as e:
                    quarantined = True
                    rep = getattr(e, "report", None)
                    say(f"[yellow]quarantined[/yellow] {escape(str(e))}")
                    for line in (rep.validation.results if rep and rep.validation else [])[:20]:
                        say(f"  {line}", markup=False)
                    if rep is not None:
                        reports.append(rep.model_dump(mode="json") | {"quarantine": getattr(e, "quarantine", None)})
                    continue
                except KgTwinError as e:
                    failed = True
                    say(f"[red]error[/red] {escape(str(e))}")
                    reports.append({"source": f.name, "status": "failed", "error": e.to_dict()})
                    continue
                reports.append(rep.model_dump(mode="json"))
                if rep.document_only:
                    document_only = True
                    say(f"{f.name}: stored as a document only: no reader structures this file (exit 3; `kg-twin readers` lists the formats; "
                        "--reader NAME forces one, --reader document catalogues it on purpose, --strict refuses it)", markup=False)
                for w in rep.warnings:
                    say(f"{f.name}: warning [{w['code']}] {w['message']}" + (f" (hint: {w['hint']})" if w.get("hint") else ""), markup=False)
                if rep.diff:
                    d = rep.diff
                    say(f"{f.name}: re-ingest: {d['added']} entities added, {d['removed']} removed, {d['changed']} changed, "
                        f"{d['unchanged']} unchanged (previously {d['previous']})", markup=False)
                if dry_run:
                    yamls.append(dump_yaml(rep.mapping or {}, source=f.name, project=project))
                    low = [f"{p} ({c:.2f})" for p, c in confidences(rep.mapping) if c < 0.75]
                    rv = (rep.mapping or {}).get("review") or {}
                    points = f"; {rv['names']} point names classified, {rv['flagged']} flagged (see review: in the mapping)" if rv else ""
                    say(escape(f"{f.name}: reader {rep.reader}, {rep.records} records ({rep.rejected} unreadable); mapping proposed" + (f"; review: {', '.join(low[:8])}" if low else "") + points))
                else:
                    v = rep.validation
                    if v is None:
                        vtxt = "not validated"
                    else:
                        vtxt = ("conforms" if v.conforms else f"{v.total} SHACL results accepted") + f" [{v.engine}]"
                    say(f"{f.name} -> <{rep.graph}>: {rep.triples} triples, {rep.mapped}/{rep.records} records mapped, {rep.rejected} rejected; {vtxt}", markup=False)
                    for r in rep.rejects[:10]:
                        say(f"  rejected {r.origin.describe()}: [{r.code}] {r.reason}", markup=False)
                    if review_out and rep.graph:
                        from kg_twin.ingest.corrections import review_list

                        slug = rep.graph.rstrip("/").rsplit("/", 1)[-1]
                        items = review_list(twin.store, rep.graph)
                        say(f"{f.name}: {len(items)} point class(es) wait for review" + (f" (correct with: kg-twin review -p {project} {slug} --set 'NAME=brick:Class')" if items else ""), markup=False)
                        for it in items[:200]:
                            conf = "-" if it["confidence"] is None else f"{it['confidence']:.2f}"
                            say(f"  review {it['name']!r}: {it['class']} ({conf}; {it['reason']})", markup=False)
                    if len(rep.rejects) > 10:
                        say(f"  ... {len(rep.rejects) - 10} more in rejects.csv next to the source")
        finally:
            twin.close()
        if dry_run and not json_out:
            sys.stdout.write("---\n".join(yamls))
        if json_out:
            sys.stdout.write(json.dumps(reports, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        raise typer.Exit(2 if failed else 1 if quarantined else 3 if document_only else 0)

    @app.command("readers")
    def readers() -> None:
        """List the ingest readers (source formats) this installation has."""
        from kg_twin.ingest.pipeline import load_handlers, unavailable_handlers

        for name, h in sorted(load_handlers().items()):
            exts = " ".join(getattr(h, "extensions", ()))
            print(f"{name}\t{exts}\t{'passthrough' if getattr(h, 'passthrough', False) else ''}".rstrip())
        for mod, why in unavailable_handlers().items():
            say(f"unavailable: {mod}: {why}", markup=False)

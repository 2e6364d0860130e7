"""Inference at scale: full materialisation, small changes, memory.

    python -m bench.inference                       # 200k and 1M generated triples
    python -m bench.inference --scales 200000,1000000,10000000
    python -m bench.inference --write-docs          # also replace the section in docs/benchmarks.md

Each scale runs in a fresh process on an on-disk store (``bench.generate`` data, one graph):

* baseline: ``store.load`` of the same N-Triples file (the bulk loader), in the same process;
* full: ``infer_project`` (wall, process CPU, peak RSS above the RSS before it started, and the
  ratio of that peak to the store's size on disk);
* change: 100 new triples appended (staged as the GSP does) and inferred with ``apply_change``;
  then the same 100 triples removed again (retraction);
* recomputation: the 100 triples appended again without describing the change, then
  ``infer_project`` over the existing inferred graph (only the difference is written);
* memory: the store's size on disk after the data load, and the RSS once inference is idle.

Wall times on the shared 2-core machine drift with other jobs; every row also shows the ratio
to the bulk load measured in the same process, and the CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench.inference begin -->", "<!-- bench.inference end -->"


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def _change(n: int) -> bytes:
    base = "http://localhost:8000/id/bench/building/B00000/storey/0/space/0"
    lines = []
    i = 0
    while len(lines) < n:
        p = f"<{base}/EXTRA-{i}>"
        lines += [
            f"{p} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://brickschema.org/schema/Brick#Zone_Air_Temperature_Sensor> .",
            f"{p} <https://brickschema.org/schema/Brick#isPointOf> <{base}/VAV> .",
            f"{p} <https://brickschema.org/schema/Brick#hasLocation> <{base}> .",
            f'{p} <http://www.w3.org/2000/01/rdf-schema#label> "extra {i}" .',
        ]
        i += 1
    return ("\n".join(lines[:n]) + "\n").encode()


def one(triples: int, work: Path) -> dict[str, Any]:
    """One scale, in this process (see module doc)."""
    sys.path.insert(0, str(ROOT))
    from bench.generate import write
    from kg_twin.reasoning.infer import Change, apply_change, ensure_profile, infer_project, stage
    from kg_twin.service import create_twin
    from kg_twin.settings import Settings

    src = work / f"d{triples}.nt"
    if not src.exists():
        write(src, triples)
    data_dir = work / f"store-{triples}"
    shutil.rmtree(data_dir, ignore_errors=True)
    twin = create_twin(Settings(data_dir=data_dir, infer_on_change=False))
    out: dict[str, Any] = {"triples": triples}
    try:
        twin.projects.create("s")
        graph = twin.naming.graph("s", "data")
        t0 = time.perf_counter()
        out["asserted"] = twin.store.load(src, format="ntriples", graph=graph)
        out["load_s"] = round(time.perf_counter() - t0, 2)
        out["store_mb"] = round(_du_mb(data_dir), 1)
        t0 = time.perf_counter()
        prof = ensure_profile(twin.store, twin.naming)
        out["profile_s"] = round(time.perf_counter() - t0, 2)
        out["profile_rows"] = prof.rows()
        rss0 = _rss_mb()
        out["rss_before_mb"] = round(rss0, 1)
        w0, c0 = time.perf_counter(), time.process_time()
        st = infer_project(twin.store, twin.naming, "s")
        out["full_s"] = round(time.perf_counter() - w0, 2)
        out["full_cpu_s"] = round(time.process_time() - c0, 2)
        out["full_steps"] = st.seconds
        out["inferred"] = st.inferred_triples
        out["peak_rss_mb"] = round(_peak_mb(), 1)
        out["peak_above_before_mb"] = round(_peak_mb() - rss0, 1)
        out["rss_idle_mb"] = round(_rss_mb(), 1)
        # a change of 100 triples: appended, then removed again
        delta = _change(100)
        w0 = time.perf_counter()
        twin.store.load(delta, format="ntriples", graph=graph)
        out["write100_s"] = round(time.perf_counter() - w0, 3)  # the write itself (the store counts the graph afterwards)
        w0, c0 = time.perf_counter(), time.process_time()
        change = Change(added=[stage(twin.store, twin.naming, "s", delta, format="ntriples")])
        inc = apply_change(twin.store, twin.naming, "s", change)
        out["add100_s"] = round(time.perf_counter() - w0, 3)
        out["add100_cpu_s"] = round(time.process_time() - c0, 3)
        out["add100_inferred"] = twin.store.graph_size(twin.naming.inferred_graph("s")) - st.inferred_triples
        twin.store.update(f"DELETE DATA {{ GRAPH <{graph}> {{ {delta.decode()} }} }}")
        w0, c0 = time.perf_counter(), time.process_time()
        change = Change(removed=[stage(twin.store, twin.naming, "s", delta, format="ntriples")])
        back = apply_change(twin.store, twin.naming, "s", change)
        out["remove100_s"] = round(time.perf_counter() - w0, 3)
        out["remove100_cpu_s"] = round(time.process_time() - c0, 3)
        out["after_remove_equal"] = twin.store.graph_size(twin.naming.inferred_graph("s")) == st.inferred_triples
        out["change_steps"] = [inc.seconds, back.seconds]
        # a write that does not say what it changed: the 100 triples again, then a recomputation
        # of the project over its existing inferred graph (what the refresher queues)
        twin.store.load(delta, format="ntriples", graph=graph)
        w0, c0 = time.perf_counter(), time.process_time()
        again = infer_project(twin.store, twin.naming, "s")
        out["recompute_s"] = round(time.perf_counter() - w0, 2)
        out["recompute_cpu_s"] = round(time.process_time() - c0, 2)
        out["recompute_equal"] = again.inferred_triples == st.inferred_triples + out["add100_inferred"]
        out["recompute_steps"] = again.seconds
        out["peak_rss_end_mb"] = round(_peak_mb(), 1)
    finally:
        twin.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def _row(r: dict[str, Any]) -> str:
    ratio = r["full_s"] / r["load_s"] if r["load_s"] else float("nan")
    return (
        f"| {r['asserted']:,} | {r['load_s']} | {r['full_s']} ({r['full_cpu_s']} CPU) | {ratio:.1f}x | "
        f"{r['full_steps'].get('derive', '')} / {r['full_steps'].get('asserted', '')} | {r['inferred']:,} | "
        f"{r['store_mb']} | {r['peak_above_before_mb']} ({r['peak_above_before_mb'] / r['store_mb']:.1f}x store) | {r['peak_rss_mb']} | {r['rss_before_mb']} → {r['rss_idle_mb']} | "
        f"{r['add100_s']} ({r.get('add100_cpu_s', '?')} CPU) | {r['remove100_s']} ({r.get('remove100_cpu_s', '?')} CPU) | "
        f"{r.get('recompute_s', '')} ({r.get('recompute_cpu_s', '?')} CPU) |"
    )


def render(rows: list[dict[str, Any]], when: str) -> str:
    head = (
        "| asserted triples | bulk load s (baseline) | full inference s | × load | of which derive + bulk load / asserted overlap s | inferred | store MB (data) | inference peak above start MB | process peak RSS MB | RSS before → idle after MB | +100 triples s | −100 triples s | recomputation after +100 s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    return "\n".join(
        [
            BEGIN,
            "## Inference (`python -m bench.inference`)",
            "",
            f"Run {when}; on-disk store, `bench.generate` data in one graph, each scale in a fresh process. "
            "Full = `infer_project` (constructs per class / property used, evaluated by the store and bulk-loaded as they come with "
            "`GraphStore.construct_into`, then the asserted overlap removed); "
            "+100 / −100 = staging the 100 triples in the store and `apply_change`, after appending / deleting them "
            "(the write itself is not counted: the store's `load` counts the graph afterwards, a cost of the write path); "
            "recomputation = the same 100 triples appended again and `infer_project` over the existing inferred graph "
            "(what a write that does not describe its change queues: only the difference is written). "
            "The profile (compiled from the ontology bundle once per version) is loaded before the clock.",
            "",
            head,
            *(_row(r) for r in rows),
            "",
            END,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="200000,1000000", help="comma-separated triple counts")
    ap.add_argument("--work", type=Path, default=None, help="working directory (default: a temporary one)")
    ap.add_argument("--write-docs", action="store_true", help="replace the inference section of docs/benchmarks.md")
    ap.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    work = a.work or Path(tempfile.mkdtemp(prefix="kg-twin-bench-inference-"))
    work.mkdir(parents=True, exist_ok=True)
    if a.one:
        print(json.dumps(one(a.one, work)))
        return 0
    rows = []
    for n in (int(x) for x in a.scales.split(",")):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        res = subprocess.run([sys.executable, "-m", "bench.inference", "--one", str(n), "--work", str(work)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=7200)
        if res.returncode != 0:
            print(res.stderr[-3000:], file=sys.stderr)
            return 2
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(json.dumps(r), flush=True)
        rows.append(r)
    md = render(rows, time.strftime("%Y-%m-%d %H:%M") + f", load average {os.getloadavg()[0]:.1f} at the end, {os.cpu_count()} cores shared with other jobs")
    print(md)
    if a.write_docs:
        text = DOC.read_text(encoding="utf-8")
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + md + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip("\n") + "\n\n" + md + "\n"
        DOC.write_text(text, encoding="utf-8")
    if a.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

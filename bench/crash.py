"""Kill -9 a real kg-twin process in the middle of big writes; count what survives a restart.

    python -m bench.crash --trials 100            # every mode in turn, ~18 MiB N-Triples
    python -m bench.crash --trials 12 --triples 60000 --modes put-new,load-new

Each trial starts a real process - ``kg-twin serve`` (uvicorn) for the Graph Store Protocol modes,
``kg-twin load`` / ``kg-twin ingest`` for the CLI modes - starts one big write, kills the process
with SIGKILL after a random delay, then reopens the store (the same recovery every process runs
when it opens the store) and classifies the target graph:

* ``absent``   - the write left nothing (a new graph is missing; an existing graph is unchanged)
* ``complete`` - the whole write is there
* ``partial``  - anything else (the failure this bench exists to catch)

A trial also checks that every other graph is unchanged, that no hidden staging/pending graph is
left, that the project's history agrees with its data (replaying every recorded version from the
empty project gives exactly the graphs in the store: no version without its data, no data without
its version), and that the next write works; a failed check counts as ``damaged``. Everything stays on
127.0.0.1 and every process started here is killed or stopped before the run ends.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox

from bench.generate import write as generate

PROJECT = "crash"
HIDDEN_PREFIX = "urn:x-kg-twin:staging:"  # hidden staging graphs and the pending marks
SERVER_MODES = ("put-new", "post-new", "post-append", "put-replace")
CLI_MODES = ("load-new", "load-append", "load-replace", "ingest-new")
MODES = SERVER_MODES + CLI_MODES
EXISTING = 500  # triples of the graph an append/replace mode writes to
KEEP = 2_000  # triples of a graph no trial writes to


@dataclass
class Trial:
    mode: str
    delay: float
    outcome: str  # absent | complete | partial
    triples: int
    problems: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _small(prefix: str, n: int) -> bytes:
    return "".join(f'<urn:{prefix}:{i}> <urn:{prefix}:p> "{i}" .\n' for i in range(n)).encode()


class Bench:
    """One data directory, one big N-Triples file, trials of every mode."""

    def __init__(self, root: Path, triples: int, fresh_every: int = 8) -> None:
        self.root = root
        self.nt = root / "big.nt"
        generate(self.nt, triples)
        self.size = self._count(self.nt.read_bytes())
        self.env = {**os.environ, "KG_TWIN_INFER_ON_CHANGE": "false", "KG_TWIN_QUERY_WORKERS": "1", "KG_TWIN_LOG_LEVEL": "warning"}
        self.durations: dict[str, float] = {}
        self.full: dict[str, int] = {}
        self.fresh_every = fresh_every
        self._n = 0
        self._fresh()

    def _fresh(self) -> None:
        """A new data directory: a project, a writer token, a graph no trial writes to."""
        from kg_twin.service import create_twin
        from kg_twin.settings import Settings

        self.data_dir = self.root / f"data{self._n}"
        self.settings = Settings(data_dir=self.data_dir)
        twin = create_twin(self.settings)
        try:
            twin.projects.create(PROJECT, public=False)
            self.token = twin.access.tokens.create(PROJECT, "writer", "crash-bench").secret
            self.keep = twin.naming.graph(PROJECT, "keep")
            twin.store.load(_small("keep", KEEP), format="ntriples", graph=self.keep)
            self.naming = twin.naming
        finally:
            twin.close()
        self._writes = 0

    @staticmethod
    def _count(nt: bytes) -> int:
        return sum(1 for _ in ox.parse(nt, ox.RdfFormat.N_TRIPLES))

    # ------------------------------------------------------------------ store side
    def _open(self) -> Any:
        """The store as every kg-twin process opens it: bulk-write recovery, then history recovery."""
        from kg_twin.history.recorder import RecordingStore
        from kg_twin.store.oxigraph import OxigraphStore
        from kg_twin.terms import Naming

        return RecordingStore(OxigraphStore(self.settings.store_path, settings=self.settings), Naming(self.settings.base_iri))

    def _history_problems(self, store: Any) -> list[str]:
        """Replaying the recorded versions from the empty project must give the stored graphs."""
        from kg_twin.history.patch import Patch, net

        names = store.names
        graphs = [g for g in store.graphs() if names.versioned(g) and self.naming.project_of_graph(g) == PROJECT]
        present = {line for line in store.dump_bytes(format="nquads", graphs=graphs).decode().splitlines() if line.strip()}
        lg = names.log(PROJECT)
        rows = store.select(f"SELECT ?n ?b WHERE {{ GRAPH <{lg}> {{ ?v <https://w3id.org/kg-twin/ontology#seq> ?n OPTIONAL {{ ?v <https://w3id.org/kg-twin/ontology#patch> ?b }} }} }} ORDER BY ?n")
        if any("b" not in r for r in rows):
            return ["a version is still unsealed after recovery"]
        replay = net([Patch.unpack(str(r["b"])) for r in rows])
        out = []
        if replay.removed:
            out.append(f"history removes {len(replay.removed)} quads never added")
        if set(replay.added) != present:
            out.append(f"history and data disagree: {len(present - set(replay.added))} stored quads without a version, {len(set(replay.added) - present)} recorded quads missing")
        return out

    def _digest(self, store: Any) -> dict[str, str]:
        """Every graph -> hash of its sorted N-Triples (the big graphs of earlier trials: their size)."""
        out = {}
        for g in store.graphs():
            if "/_history" in g:
                continue  # the project's history changes with every write: checked by _history_problems
            n = store.graph_size(g)
            if n > 20_000:
                out[g] = f"{n} triples"
                continue
            lines = sorted(store.dump_bytes(format="ntriples", graphs=[g]).splitlines())
            out[g] = hashlib.sha256(b"\n".join(lines)).hexdigest()
        return out

    def _prepare(self, mode: str, target: str) -> dict[str, str]:
        store = self._open()
        try:
            if mode.endswith(("append", "replace")):
                store.load(_small("old", EXISTING), format="ntriples", graph=target)
            before = self._digest(store)
            before.pop(target, None)
            return before
        finally:
            store.close()

    def _expected(self, mode: str) -> tuple[int, int]:
        """(triples when nothing was written, triples when everything was)."""
        if mode.endswith("append"):
            return EXISTING, EXISTING + self.size
        if mode.endswith("replace"):
            return EXISTING, self.size
        return 0, self.full.get(mode, self.size)  # an ingest adds alignment triples (measured by calibrate)

    def _check(self, mode: str, target: str, before: dict[str, str], t: Trial, calibrating: bool = False) -> None:
        """Reopen (recovery runs), classify, compare the other graphs, write again, clean up."""
        store = self._open()
        try:
            graphs = store.graphs()
            n = store.graph_size(target) if target in graphs else 0
            nothing, everything = self._expected(mode)
            t.triples = n
            if calibrating and mode == "ingest-new" and n >= everything:
                self.full[mode] = everything = n  # the file plus the triples the ingest adds
            t.outcome = "absent" if n == nothing else "complete" if n == everything else "partial"
            after = self._digest(store)
            after.pop(target, None)
            for g in before.keys() | after.keys():
                if g == self.naming.graph(PROJECT, "provenance") and t.outcome == "complete":
                    continue  # a published ingest records its provenance
                if before.get(g) != after.get(g):
                    t.problems.append(f"graph <{g}> changed")
            t.problems += self._history_problems(store)
            probe = self.naming.graph(PROJECT, "probe")
            if store.load(_small("probe", 10), format="ntriples", graph=probe) != 10:
                t.problems.append("the next write did not store its triples")
            store.drop_graphs([probe])
            if store.has_graph(probe):
                t.problems.append("the probe graph could not be dropped")
        finally:
            store.close()
        raw = ox.Store.read_only(str(self.settings.store_path))
        hidden = [
            g.value
            for g in raw.named_graphs()
            if isinstance(g, ox.NamedNode)
            and (g.value.startswith(HIDDEN_PREFIX) or any(f"/_history/{k}/" in g.value for k in "sbcd"))  # staging, pending marks, history scratch
            and next(iter(raw.quads_for_pattern(None, None, None, g)), None)
        ]
        del raw
        if hidden:
            t.problems.append(f"hidden graphs left: {hidden}")

    # ------------------------------------------------------------------ process side
    def _serve(self) -> tuple[subprocess.Popen[bytes], str]:
        port = _free_port()
        cmd = [sys.executable, "-m", "kg_twin", "serve", "--data-dir", str(self.data_dir), "--port", str(port)]
        proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"kg-twin serve exited with {proc.returncode}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    return proc, url
            except httpx.HTTPError:
                time.sleep(0.05)
        _kill(proc)
        raise RuntimeError("kg-twin serve did not start within 60 s")

    def _start(self, mode: str, target: str) -> tuple[subprocess.Popen[bytes], threading.Thread | None]:
        if mode in SERVER_MODES:
            proc, url = self._serve()
            method = "PUT" if mode.startswith("put") else "POST"

            def send() -> None:
                try:
                    with open(self.nt, "rb") as fh:
                        httpx.request(method, f"{url}/projects/{PROJECT}/graphs", params={"graph": target}, content=fh,
                                      headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {self.token}"}, timeout=300)
                except httpx.HTTPError:
                    pass  # the server was killed

            th = threading.Thread(target=send, daemon=True)
            th.start()
            return proc, th
        name = target.rsplit("/", 1)[-1]
        if mode == "ingest-new":
            src = self.root / f"{name}.nt"
            if not src.exists():
                os.link(self.nt, src)
            cmd = ["ingest", str(src), "--project", PROJECT, "--graph", name, "--no-validate"]
        else:
            cmd = ["load", str(self.nt), "--project", PROJECT, "--graph", name] + (["--replace"] if mode.endswith("replace") else [])
        proc = subprocess.Popen([sys.executable, "-m", "kg_twin", *cmd, "--data-dir", str(self.data_dir)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, None

    def _target(self, mode: str) -> str:
        if self._writes >= self.fresh_every:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._fresh()
        self._writes += 1
        self._n += 1
        return self.naming.graph(PROJECT, f"t{self._n}" if mode != "ingest-new" else f"src{self._n}")

    def calibrate(self, mode: str) -> float:
        """How long one uninterrupted write of this mode takes (from its start to the process's end)."""
        target = self._target(mode)
        before = self._prepare(mode, target)
        proc, th = self._start(mode, target)
        t0 = time.monotonic()
        if th is not None:
            th.join(timeout=300)
            took = time.monotonic() - t0
            _stop(proc)
        else:
            proc.wait(timeout=300)
            took = time.monotonic() - t0
        t = Trial(mode, took, "", 0)
        self._check(mode, target, before, t, calibrating=True)
        if t.outcome != "complete" or t.problems:
            raise RuntimeError(f"{mode}: an uninterrupted write ended {t.outcome} ({t.triples} triples) {t.problems}")
        return took

    def trial(self, mode: str, rng: random.Random) -> Trial:
        if mode not in self.durations:
            self.durations[mode] = self.calibrate(mode)
        target = self._target(mode)
        before = self._prepare(mode, target)
        delay = rng.uniform(0.05, 1.1) * self.durations[mode]
        proc, th = self._start(mode, target)
        time.sleep(delay)
        _kill(proc)
        if th is not None:
            th.join(timeout=30)
        t = Trial(mode, round(delay, 3), "", 0)
        self._check(mode, target, before, t)
        return t


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill(proc)


def run(trials: int, triples: int, modes: tuple[str, ...], seed: int, root: Path | None = None, say: Any = print) -> list[Trial]:
    """Run ``trials`` kill -9 trials, the modes in turn; return them."""
    tmp = Path(tempfile.mkdtemp(prefix="kgt-crash-", dir=root))
    try:
        bench = Bench(tmp, triples)
        say(f"{bench.size} triples, {bench.nt.stat().st_size / 2**20:.1f} MiB N-Triples, {trials} trials over {', '.join(modes)}")
        rng = random.Random(seed)
        out = []
        for i in range(trials):
            t = bench.trial(modes[i % len(modes)], rng)
            out.append(t)
            say(f"{i + 1:4d} {t.mode:13s} kill after {t.delay:6.2f} s (write takes {bench.durations[t.mode]:.2f} s): {t.outcome:8s} {t.triples:8d} triples {'; '.join(t.problems)}")
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--triples", type=int, default=110_000, help="size of the written file (110,000 triples: ~18 MiB N-Triples)")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {', '.join(MODES)}")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args(argv)
    modes = tuple(m.strip() for m in a.modes.split(",") if m.strip())
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        ap.error(f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}")
    trials = run(a.trials, a.triples, modes, a.seed)
    counts = Counter(t.outcome for t in trials)
    damaged = sum(1 for t in trials if t.problems)
    print(f"\n{len(trials)} trials: partial {counts['partial']}, complete {counts['complete']}, absent {counts['absent']}, damaged {damaged}")
    for m in modes:
        c = Counter(t.outcome for t in trials if t.mode == m)
        print(f"  {m:13s} partial {c['partial']:3d}  complete {c['complete']:3d}  absent {c['absent']:3d}")
    return 1 if counts["partial"] or damaged else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Measure analyze-sos against the decompression floor on the reports bench/generate.py wrote.

Why these three figures: `xz -T1 -dc FILE > /dev/null` is the least any reader of a .tar.xz must
pay, so the analyzer's time is shown as a ratio to it (a multi-block archive can beat the floor
by decompressing blocks in parallel). `tar xJf` + analyzer-on-a-directory is what a support
engineer would do by hand without the tool, the bar the tool must clearly clear. The runs are
interleaved round-robin (every method on every file once per round) so a noisy neighbour or a
thermal drift hits all methods alike; the median of the rounds is reported.

Peak memory: ru_maxrss of the analyzer (GNU time's %M, else wait4: the largest single process of
its tree) and a sampled peak of the whole tree's summed RSS (every 50 ms from /proc), because the
analyzer may run decompressors and workers in parallel and the budget is for all of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MIB = 1 << 20

TARGETS = {"single": 1.15, "many": 1.15, "multi": 0.80, "bundle": 0.80}
OWN_CPU_TARGET = 0.6  # the analyzer's own CPU (its total less xz's) over `xz -T1 -dc`'s CPU
RSS_TARGET_MIB = 300
NOTES_MARKER = "## What was tried"


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        todo += _children(p)
    return total


def timed(cmd, *, shell: bool = False, sample: bool = False, cwd: Optional[str] = None) -> dict:
    """Run cmd; wall seconds, exit status, ru_maxrss (bytes) and, if asked, sampled tree RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    peak = [0]
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            stop.wait(0.05)

    th = threading.Thread(target=sampler, daemon=True) if sample else None
    if th:
        th.start()
    err = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8
    if th:
        stop.set()
        th.join()
    return {"wall": wall, "rc": proc.returncode, "maxrss": ru.ru_maxrss * 1024, "tree_rss": peak[0],
            "cpu": ru.ru_utime + ru.ru_stime,  # the child and its reaped children (xz, workers)
            "stderr": err.decode(errors="replace")[-500:]}


def find_inputs(out: Path) -> list:
    """(kind, path) for every generated archive, single first."""
    found = []
    for kind, pat in (("single", "single/*.tar.xz"), ("many", "many/*.tar.xz"), ("multi", "multi/*.tar.xz"),
                      ("bundle", "bundle/*.tar")):
        found += [(kind, p) for p in sorted(out.glob(pat))]
    return found


def bundle_nodes(bundle: Path, dest: Path) -> list:
    """The node tarballs of a collect bundle, unpacked once (outside the timing) for the floor."""
    nodes = []
    with tarfile.open(bundle) as tf:
        for m in tf.getmembers():
            if m.isfile() and m.name.endswith(".tar.xz"):
                p = dest / Path(m.name).name
                with tf.extractfile(m) as src, open(p, "wb") as dst:
                    shutil.copyfileobj(src, dst, MIB)
                nodes.append(p)
    return nodes


def xz_info(path: Path) -> tuple:
    """(blocks, uncompressed bytes) from `xz --robot -l`."""
    out = subprocess.run(["xz", "--robot", "-l", str(path)], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split("\t")
        if f[0] == "totals":
            return int(f[2]), int(f[4])
    return 0, 0


def floor(kind: str, path: Path, nodes: dict) -> dict:
    files = nodes.get(path, [path]) if kind == "bundle" else [path]
    total, cpu, rc = 0.0, 0.0, 0
    for f in files:
        r = timed(f"xz -T1 -dc '{f}' > /dev/null", shell=True)
        total += r["wall"]
        cpu += r["cpu"]
        rc = rc or r["rc"]
    return {"wall": total, "cpu": cpu, "rc": rc}


def parallel_floor(kind: str, path: Path, nodes: dict, cpus: int) -> float:
    """The least decompression can cost with every core busy: `xz -T0 -dc` (parallel blocks) for a
    report, the bundle's node tarballs decompressed `cpus` at a time (xz -T1 each, xargs -P)."""
    if kind == "bundle":
        files = " ".join(f"'{f}'" for f in nodes.get(path, []))
        return timed(f"printf '%s\\n' {files} | xargs -P {cpus} -n 1 sh -c 'xz -T1 -dc \"$0\" > /dev/null'",
                     shell=True)["wall"]
    return timed(f"xz -T0 -dc '{path}' > /dev/null", shell=True)["wall"]


def piped_floor(kind: str, path: Path, nodes: dict, cpus: int) -> float:
    """The decompressor exactly as the analyzer runs it (`xz -T0`, nodes `cpus` at a time), with the
    cheapest possible reader in another process: `cat`. What a pipe costs before any parsing."""
    if kind == "bundle":
        files = " ".join(f"'{f}'" for f in nodes.get(path, []))
        return timed(f"printf '%s\\n' {files} | xargs -P {cpus} -n 1 sh -c 'xz -T1 -dc \"$0\" | cat > /dev/null'",
                     shell=True)["wall"]
    return timed(f"xz -T0 -dc '{path}' | cat > /dev/null", shell=True)["wall"]


# --archive-layer: the tar walk, member selection and log scanning alone (no parsing, merging or
# rendering), to see which stage the time goes to. Collect bundles are left out in this mode.
ARCHIVE_LAYER = """
import sys
from analyzer.archive import collect, detect
from analyzer.sources.registry import SELECTION
p = sys.argv[1]
c = collect.read_archive("bench", p, detect.sniff_file(p), collect.Limits(), SELECTION)
sys.exit(1 if c.damaged else 0)
"""


def analyze(analyzer: str, path: Path, scratch: Path, archive_layer: bool = False) -> dict:
    """The analyzer on the archive itself. Under GNU time when present: its %M is the analyzer's own
    peak, while wait4 from this Python process also counts the forked child's pre-exec pages."""
    cmd = [analyzer, "--format", "json", "-o", "/dev/null", str(path)]
    if archive_layer:
        cmd = [str(Path(analyzer).with_name("python")), "-c", ARCHIVE_LAYER, str(path)]
    gtime = Path("/usr/bin/time")
    if not gtime.exists():
        return timed(cmd, sample=True)
    out = scratch / "time.out"
    r = timed([str(gtime), "-f", "%M", "-o", str(out)] + cmd, sample=True)
    try:
        r["maxrss"] = int(out.read_text().split()[-1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return r


def naive(kind: str, path: Path, analyzer: str, scratch: Path) -> dict:
    """tar xJf (bundle: tar xf, then tar xJf every node) + the analyzer on the extracted tree."""
    d = Path(tempfile.mkdtemp(dir=scratch))
    try:
        if kind == "bundle":
            script = (f"set -e; cd '{d}'; tar xf '{path}'; for n in */*.tar.xz; do tar xJf \"$n\"; rm \"$n\"; done; "
                      f"rm -rf sos-collector-*; '{analyzer}' --format json -o /dev/null '{d}'")
        else:
            script = f"set -e; tar xJf '{path}' -C '{d}'; '{analyzer}' --format json -o /dev/null '{d}'"
        return timed(["bash", "-c", script])
    finally:
        shutil.rmtree(d, ignore_errors=True)


def fmt_s(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.2f}"


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "out", help="where bench/generate.py wrote")
    ap.add_argument("-n", "--repeats", type=int, default=3)
    ap.add_argument("--analyzer", default=str(ROOT / ".venv" / "bin" / "analyze-sos"))
    ap.add_argument("--no-naive", action="store_true", help="skip the tar xJf + analyzer runs")
    ap.add_argument("--archive-layer", action="store_true",
                    help="time analyzer.archive.collect.read_archive() alone instead of the CLI")
    ap.add_argument("--results", type=Path, help="also write the table (markdown) to this file")
    a = ap.parse_args(argv)

    inputs = find_inputs(a.out)
    if not inputs:
        print(f"no archives under {a.out}: generating them (bench/generate.py, a few minutes)", flush=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--out", str(a.out)], check=True)
        inputs = find_inputs(a.out)

    if a.archive_layer:  # read_archive only lists a bundle's nodes: no comparable figure
        inputs = [(k, p) for k, p in inputs if k != "bundle"]
    scratch = Path(tempfile.mkdtemp(prefix="analyze-sos-bench."))
    try:
        nodes = {}
        for kind, p in inputs:
            if kind == "bundle":
                nd = scratch / ("nodes-" + p.stem)
                nd.mkdir()
                nodes[p] = bundle_nodes(p, nd)
        sizes = {}
        for kind, p in inputs:
            infos = [xz_info(f) for f in (nodes.get(p, []) if kind == "bundle" else [p])]
            sizes[p] = (sum(i[0] for i in infos), sum(i[1] for i in infos))
        res: dict = {(k, p): {"floor": [], "an": [], "naive": [], "maxrss": [], "tree": [], "fail": None,
                              "pfloor": [], "pipe": [], "cpu": [], "xzcpu": []} for k, p in inputs}
        cpus = os.cpu_count() or 1
        for r in range(a.repeats):
            for kind, p in inputs:
                e = res[(kind, p)]
                f = floor(kind, p, nodes)
                e["floor"].append(f["wall"])
                e["xzcpu"].append(f["cpu"])
                e["pfloor"].append(parallel_floor(kind, p, nodes, cpus))
                e["pipe"].append(piped_floor(kind, p, nodes, cpus))
                an = analyze(a.analyzer, p, scratch, a.archive_layer)
                e["cpu"].append(an["cpu"])
                if an["rc"] != 0:
                    e["fail"] = f"rc={an['rc']}: {an['stderr'].strip().splitlines()[-1:] or ''}"
                e["an"].append(an["wall"])
                e["maxrss"].append(an["maxrss"])
                e["tree"].append(an["tree_rss"])
                if not a.no_naive:
                    nv = naive(kind, p, a.analyzer, scratch)
                    e["naive"].append(nv["wall"] if nv["rc"] == 0 else float("nan"))
                print(f"round {r + 1}/{a.repeats} {kind:6} floor {f['wall']:.2f}s parallel floor {e['pfloor'][-1]:.2f}s "
                      f"piped floor {e['pipe'][-1]:.2f}s analyzer {an['wall']:.2f}s (CPU {an['cpu']:.2f}s) "
                      f"(rc {an['rc']})" + ("" if a.no_naive else f" naive {e['naive'][-1]:.2f}s"), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    head = ("| file | kind | size MiB | inside MiB | xz blocks | floor s | analyzer s | ratio | target "
            "| all-cores floor s (ratio) | piped floor s (ratio) | analyzer CPU s | xz CPU s | own CPU / xz CPU "
            "| naive s | analyzer/naive | max RSS MiB (1 proc) | peak tree RSS MiB | RSS target |")
    rows = [head, "|" + "---|" * 19]
    for (kind, p), e in res.items():
        fl = statistics.median(e["floor"])
        an = statistics.median(e["an"])
        nv = statistics.median(e["naive"]) if e["naive"] else None
        ratio = an / fl if fl else float("nan")
        tgt = TARGETS[kind]
        rss1 = max(e["maxrss"]) / MIB
        tree = max(e["tree"]) / MIB
        ok = "ok" if ratio <= tgt else "MISSED"
        rok = "ok" if max(rss1, tree) <= RSS_TARGET_MIB else "MISSED"
        name = p.name
        blocks, inside = sizes[p]
        pf = statistics.median(e["pfloor"])
        cpu = statistics.median(e["cpu"])
        pp = statistics.median(e["pipe"])
        xzc = statistics.median(e["xzcpu"])
        own = (cpu - xzc) / xzc if xzc else float("nan")
        cok = "ok" if own <= OWN_CPU_TARGET else "MISSED"
        rows.append(f"| {name} | {kind} | {p.stat().st_size / MIB:.0f} | {inside / MIB:.0f} | {blocks} | {fl:.2f} | {an:.2f} | {ratio:.2f} | "
                    f"<= {tgt} {ok} | {pf:.2f} ({pf / fl:.2f}) | {pp:.2f} ({pp / fl:.2f}) | {cpu:.2f} | {xzc:.2f} | "
                    f"{own:.2f} (<= {OWN_CPU_TARGET} {cok}) | {fmt_s(nv)} | {fmt_s(an / nv if nv else None)} | {rss1:.0f} | {tree:.0f} | "
                    f"<= {RSS_TARGET_MIB} {rok} |" + (f" FAILED {e['fail']}" if e["fail"] else ""))
    table = "\n".join(rows)
    cpu = os.cpu_count()
    # The results file is committed: name the analyzer relative to the checkout, not this machine.
    shown = os.path.relpath(a.analyzer, ROOT) if a.analyzer.startswith(str(ROOT) + os.sep) else a.analyzer
    what = "archive layer only (read_archive)" if a.archive_layer else f"analyzer {shown}"
    meta = (f"{a.repeats} interleaved rounds, medians; {cpu} CPUs; {what}; all-cores floor: `xz -T0 -dc` "
            f"(bundle: node tarballs {cpu} at a time), the least decompression costs with every core; piped floor: "
            f"the same decompression read by `cat` through a pipe; analyzer CPU: "
            f"user+sys of the analyzer and its children (decompressors, workers), so wall >= CPU / {cpu}; "
            f"own CPU / xz CPU: (analyzer CPU - xz -T1 -dc CPU) / xz -T1 -dc CPU, the analyzer's own work; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print()
    print(table)
    print(meta)
    if a.results:
        # what follows the marker (notes on what was tried) is kept across runs
        notes = ""
        if a.results.exists():
            old = a.results.read_text()
            if NOTES_MARKER in old:
                notes = "\n" + old[old.index(NOTES_MARKER):]
        a.results.write_text(table + "\n\n" + meta + "\n" + notes)
    return 1 if any(e["fail"] for e in res.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

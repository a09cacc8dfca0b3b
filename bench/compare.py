#!/usr/bin/env python3
"""Compare the analyzer at several git revisions on one report, interleaved.

    .venv/bin/python bench/compare.py a919c9b .                  # that revision against this checkout
    .venv/bin/python bench/compare.py -n 15 --input bench/out/multi/*.tar.xz HEAD~3 HEAD .

Each revision is checked out into a temporary git worktree (removed afterwards; `.` is this
checkout as it is, uncommitted changes included) and run as `python -m analyzer --format json -o
/dev/null INPUT` with this checkout's virtualenv. A round runs every revision once, then `xz -dc`
on the same file, so a slow minute of a noisy machine hits all of them alike. Printed: per revision
the medians of wall time, CPU (user+sys with its children) and max RSS, the ratio of the median wall
to xz's, and the median of the per-round ratios to the first revision (with every round's ratio).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _load_run():
    """bench/run.py by path, for its `timed` (bench is no package)."""
    spec = importlib.util.spec_from_file_location("bench_run", HERE / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("revs", nargs="+", help="git revisions; `.` is this checkout as it is")
    ap.add_argument("-n", "--rounds", type=int, default=7)
    ap.add_argument("--input", help="the report (default: the single-block bench report)")
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    a = ap.parse_args(argv)
    timed = _load_run().timed
    if a.input:
        report = Path(a.input)
    else:
        found = sorted((ROOT / "bench" / "out" / "single").glob("*.tar.xz"))
        if not found:
            print("compare.py: no bench report; run bench/generate.py first or give --input", file=sys.stderr)
            return 2
        report = found[0]
    report = report.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="analyze-sos-compare."))
    dirs: dict[str, Path] = {}
    made: list[Path] = []
    try:
        for rev in a.revs:
            if rev == ".":
                dirs[rev] = ROOT
                continue
            d = scratch / ("rev%d" % len(made))
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(d), rev], check=True)
            made.append(d)
            dirs[rev] = d
        runs: dict[str, list[dict]] = {rev: [] for rev in a.revs}
        floor: list[float] = []
        for i in range(a.rounds):
            for rev, d in dirs.items():
                r = timed([a.python, "-m", "analyzer", "--quiet", "--format", "json", "-o", "/dev/null", str(report)],
                          cwd=str(d))
                if r["rc"] != 0:
                    print("compare.py: %s exited %d: %s" % (rev, r["rc"], r["stderr"].strip()), file=sys.stderr)
                    return 1
                runs[rev].append(r)
            floor.append(timed("xz -dc '%s' > /dev/null" % report, shell=True)["wall"])
            print("round %d/%d: %s, xz %.2fs" % (i + 1, a.rounds, ", ".join(
                "%s %.2fs" % (rev, runs[rev][-1]["wall"]) for rev in a.revs), floor[-1]), file=sys.stderr)
        xz = statistics.median(floor)
        first = a.revs[0]
        print("%s, %d interleaved rounds, `xz -dc` median %.2f s" % (report.name, a.rounds, xz))
        print("| revision | wall s | ratio | CPU s | max RSS MiB | wall / %s per round: median (all) |" % first)
        print("|---|---|---|---|---|---|")
        for rev in a.revs:
            rs = runs[rev]
            wall = statistics.median(r["wall"] for r in rs)
            pairs = [r["wall"] / b["wall"] for r, b in zip(rs, runs[first])]
            print("| %s | %.2f | %.2f | %.2f | %.0f | %.3f (%s) |" % (
                rev, wall, wall / xz, statistics.median(r["cpu"] for r in rs),
                statistics.median(r["maxrss"] for r in rs) / (1 << 20), statistics.median(pairs),
                " ".join("%.2f" % p for p in pairs)))
        return 0
    finally:
        for d in made:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(d)], check=False)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

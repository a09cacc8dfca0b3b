#!/usr/bin/env python3
"""analyze-sos-fleet figures: ingest throughput and `where` latency. Prints them; asserts nothing.

1. Ingest: REPORTS generated sosreports (tests/sosbuilder.py: real layout, GUESTS Nova guests
   each and PADDING tiny /proc-like files, xz) into a fresh store on the embedded local Dask
   cluster with 1 and then 2 workers. Wall time, reports/s, CPU per report (this process and
   every child it waited for: the workers and their xz; cluster start and the final compaction
   included), and the scaling ratio (2-worker rate / 1-worker rate).
2. `where` on a store of ROWS report rows: the ingested rows replicated with new sha256s (and,
   for most copies, new instance UUIDs) into one compacted batch, then `where` by UUID, UUID
   prefix, display name and glob: in-process (the query) and as the command a person types.

    .venv/bin/python bench/fleet.py [--reports 200] [--rows 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid as uuidlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def _load_builder():
    spec = importlib.util.spec_from_file_location("sosbuilder", ROOT / "tests" / "sosbuilder.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sosbuilder"] = mod
    spec.loader.exec_module(mod)
    return mod


def generate(out: Path, n: int, guests: int, padding: int) -> list[Path]:
    sb = _load_builder()
    out.mkdir(parents=True, exist_ok=True)
    have = sorted(out.glob("*.tar.xz"))
    if len(have) == n:
        return have
    shutil.rmtree(out)
    out.mkdir(parents=True)
    return [sb.write_tarball(sb.default_host(guests, hostname="fleet-%04d" % i, padding_files=padding,
                                             collected_at="2026-11-%02d 10:00:00" % (1 + i % 28)),
                             out, "xz") for i in range(n)]


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def ingest(inputs: Path, store: Path, jobs: int) -> tuple[float, float, float, int]:
    from analyzer.fleet.ingest import run_ingest
    from analyzer.fleet.store import Store
    if store.exists():
        shutil.rmtree(store)
    c0, t0 = cpu(), time.monotonic()
    s = run_ingest(Store(str(store)), [str(inputs)], jobs=jobs)
    wall, used = time.monotonic() - t0, cpu() - c0
    if s.failed or s.duplicates:
        raise SystemExit("bench: %d failed, %d duplicates: %s" % (s.failed, s.duplicates, s.errors[:3]))
    return wall, used, s.cpu_seconds, s.ingested


def replicate(src: Path, dest: Path, rows: int) -> None:
    """dest: a store of `rows` report rows made from src's by new sha256s (and new UUIDs for
    all but the first ten copies, so some instances are seen many times and most once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from analyzer.fleet.store import TABLES, Store, connect, new_write_id, schema

    con = connect(Store(str(src)))
    base = {t: con.sql("SELECT * FROM %s" % t).to_arrow_table().cast(schema(t)).to_pylist() for t in TABLES}
    n = len(base["reports"])
    copies = -(-rows // n)
    out = {t: [] for t in TABLES}
    for k in range(copies):
        for r in base["reports"][: min(n, rows - k * n)]:
            new = hashlib.sha256(("%s/%d" % (r["sha256"], k)).encode()).hexdigest()
            out["reports"].append(dict(r, sha256=new, path=r["path"] + "#%d" % k))
            for t in ("guests", "events", "findings"):
                for row in (x for x in base[t] if x["sha256"] == r["sha256"]):
                    row = dict(row, sha256=new)
                    if k >= 10 and t != "findings" and row.get("uuid"):
                        row["uuid"] = str(uuidlib.UUID(bytes=hashlib.sha256(
                            ("%s/%d" % (row["uuid"], k)).encode()).digest()[:16], version=4))
                        if row.get("display_name"):
                            row["display_name"] += "-%d" % k
                    out[t].append(row)
    if dest.exists():
        shutil.rmtree(dest)
    store = Store(str(dest))
    store.create()
    stem = "batch-" + new_write_id()
    for t in ("guests", "events", "findings", "errors", "reports"):
        pq.write_table(pa.Table.from_pylist(out[t], schema=schema(t)), str(dest / t / (stem + ".parquet")))


def where_latency(store: Path, terms: list[str], repeat: int = 5) -> list[tuple[str, int, float, float]]:
    from analyzer.fleet import query
    from analyzer.fleet.store import Store
    s = Store(str(store))
    out = []
    for term in terms:
        inproc, cli, hits = [], [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            hits = len(query.where(s, term)["sightings"])
            inproc.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "analyzer.fleet", "where", str(store), term, "--format", "json"],
                           stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)
            cli.append(time.perf_counter() - t0)
        out.append((term, hits, statistics.median(inproc), statistics.median(cli)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--guests", type=int, default=8)
    ap.add_argument("--padding", type=int, default=3000, help="tiny /proc-like files per report")
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--out", default=str(HERE / "out" / "fleet"))
    a = ap.parse_args()
    out = Path(a.out)
    t0 = time.monotonic()
    tars = generate(out / "inputs", a.reports, a.guests, a.padding)
    size = sum(p.stat().st_size for p in tars) / len(tars)
    print("load average: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
    print("inputs: %d generated reports, %d guests and %d padding files each, %.0f KiB each (xz); "
          "generated in %.1f s" % (len(tars), a.guests, a.padding, size / 1024, time.monotonic() - t0))
    rates = {}
    cores = os.cpu_count() or 1
    for jobs in (1, 2):
        wall, used, task_cpu, n = ingest(out / "inputs", out / ("store-%d" % jobs), jobs)
        rates[jobs] = n / wall
        print("ingest, %d local worker%s: %d reports in %.1f s = %.1f reports/s; CPU per report %.3f s "
              "in the tasks, %.3f s all told (cluster start, scheduler, compaction)"
              % (jobs, "" if jobs == 1 else "s", n, wall, n / wall, task_cpu / n, used / n))
        if jobs == 1:
            per = task_cpu / n
    print("scaling ratio (2 workers / 1 worker): %.2f on %d cores; load average before: %s"
          % (rates[2] / rates[1], cores, " ".join("%.1f" % x for x in os.getloadavg())))
    for machines in (1, 10, 100):
        print("from the 1-worker task CPU per report: %d machine%s of %d cores ~ %d reports/day"
              % (machines, "" if machines == 1 else "s", cores, machines * cores * 86400 / per))
    big = out / ("store-%d-rows" % a.rows)
    replicate(out / "store-1", big, a.rows)
    from analyzer.fleet.store import Store, connect
    con = connect(Store(str(big)))
    counts = {t: con.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in ("reports", "guests", "findings")}
    print("where on a store of %d report rows (%d guest rows, %d findings), median of 5:"
          % (counts["reports"], counts["guests"], counts["findings"]))
    uuid0 = con.execute("SELECT uuid FROM guests WHERE display_name = 'vm-1' LIMIT 1").fetchone()[0]
    for term, hits, inproc, cli in where_latency(big, [uuid0, uuid0[:8], "vm-1", "vm-1*"]):
        print("  where %-38s %4d sightings: query %.3f s, command %.3f s" % (term, hits, inproc, cli))


if __name__ == "__main__":
    main()

"""`ingest`: every report of the inputs -> one Dask task each -> rows in the store.

The analysis is the analyzer's own (`analyzer.run.analyze`, `analyzer.findings.find`, the JSON
document of `analyzer.model.Document`): a task turns that document into rows, so the fleet reads
exactly what `analyze-sos --format json` says, and follows its schema as it grows (the events of
`instances[]` when the document has them, an empty events table before).

A task never raises for a bad input: it returns the error rows it wrote. A task lost with its
worker is rerun by Dask (the nanny restarts the worker); one that kills every worker it runs on
is given up after Dask's `allowed-failures` and becomes an error row here.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import tarfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Optional

from analyzer.archive.inputs import expand, named_like_report
from analyzer.fleet.store import CHILDREN, TABLES, TMP, Store, new_write_id, now_utc, stem_of

@dataclass
class Unit:
    """One task: a file (a report or a collect bundle) or an extracted report directory."""

    path: str
    error: Optional[str] = None  # found unusable while listing the inputs


def discover(inputs: list[str]) -> list[Unit]:
    """Inputs -> units, in a stable order, found the way analyze-sos finds them (archive/inputs.py:
    links not followed), except that folders are searched all the way down. A file that looks like a report but is skipped is a unit
    with its reason, so it is said in the store; other files of a folder are not reports."""
    units: list[Unit] = []
    for path in inputs:
        # absolute: the workers of a cluster do not share this process's working directory
        jobs, errors = expand(os.path.abspath(path), max_depth=None)
        units += [Unit(j.path) for j in jobs]
        units += [Unit(e.path, e.reason) for e in errors
                  if e.fatal or named_like_report(os.path.basename(e.path))]
    seen: set = set()
    out = []
    for u in units:
        key = os.path.abspath(u.path)
        if key not in seen:
            seen.add(key)
            out.append(u)
    return out


# ---------------------------------------------------------------------------------------------
# Identity


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def sha256_tree(top: str) -> str:
    """An extracted report's identity: its file names, link targets and file bytes, in order."""
    h = hashlib.sha256(b"analyze-sos-fleet tree v1\0")
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for d in list(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                filenames.append(d)
                dirnames.remove(d)
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, top).encode("utf-8", "surrogateescape")
            try:
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    h.update(b"L" + rel + b"\0" + os.fsencode(os.readlink(full)) + b"\0")
                elif stat.S_ISREG(st.st_mode):
                    h.update(b"F" + rel + b"\0%d\0" % st.st_size + bytes.fromhex(sha256_file(full)))
            except OSError:
                h.update(b"U" + rel + b"\0")
    return h.hexdigest()


def sha256_member(bundle: str, rel: str) -> Optional[str]:
    """The bytes of the report `rel` inside a collect bundle (streamed, never extracted)."""
    try:
        with tarfile.open(bundle, "r|*") as tar:
            for m in tar:
                name = m.name.lstrip("./")
                if m.isfile() and (name == rel or name.endswith("/" + rel)):
                    f = tar.extractfile(m)
                    h = hashlib.sha256()
                    for b in iter(lambda: f.read(1 << 20), b""):
                        h.update(b)
                    return h.hexdigest()
    except (OSError, tarfile.TarError, EOFError, ValueError):
        return None
    return None


def identity(path: str) -> Optional[str]:
    try:
        if os.path.isdir(path):
            return sha256_tree(path)
        return sha256_file(path)
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# Document -> rows


def _utc(stamp: Optional[str], offset: Optional[str]) -> tuple[Optional[str], bool]:
    """ISO 8601 in UTC with Z where the zone is known; the local time as given otherwise.

    >>> _utc("2026-11-24T06:22:13", "+01:00")
    ('2026-11-24T05:22:13Z', True)
    >>> _utc("2026-11-24T06:22:13Z", None)
    ('2026-11-24T06:22:13Z', True)
    >>> _utc("2026-11-24T06:22:13", None)
    ('2026-11-24T06:22:13', False)
    """
    if not stamp:
        return None, False
    text = stamp.strip()
    try:
        dt = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return text, False
    if dt.tzinfo is None and offset:
        try:
            sign = -1 if offset.startswith("-") else 1
            hh, mm = offset.lstrip("+-").split(":")
            dt = dt - sign * timedelta(hours=int(hh), minutes=int(mm))
            return dt.strftime("%Y-%m-%dT%H:%M:%SZ"), True
        except ValueError:
            return text, False
    if dt.tzinfo is None:
        return text, False
    dt = (dt - dt.utcoffset()).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ"), True


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _int(v: Any) -> Optional[int]:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def rows_of(doc: dict[str, Any], sha: str, path: str, write_id: str, ingested_at: str) -> dict[str, list]:
    """One report's document (one report in it) -> rows of reports, guests, events, findings."""
    r = doc["reports"][0]
    pk = r.get("packages") or {}
    collected, is_utc = _utc(r.get("collected_at"), r.get("utc_offset"))
    host = r.get("host") or r.get("hostname")
    report = {"sha256": sha, "path": path, "host": host,
              "collected_at": collected, "collected_at_is_utc": is_utc, "utc_offset": r.get("utc_offset"),
              "sos_version": r.get("sos_version"), "os": r.get("os"),
              "nova_version": pk.get("nova"), "libvirt_version": pk.get("libvirt"),
              "qemu_version": pk.get("qemu"), "nova_compute": r.get("nova_compute"),
              "guest_count": len(doc.get("guests") or []), "problem_count": len(r.get("problems") or []),
              "schema_version": _int(doc.get("schema_version")),
              "analyzer_version": _get(doc, "generated_by", "version"),
              "ingested_at": ingested_at, "write_id": write_id}
    guests = []
    for g in doc.get("guests") or []:
        nova = g.get("nova") or {}
        guests.append({
            "sha256": sha, "uuid": g.get("uuid"), "domain_name": g.get("domain_name"),
            "display_name": g.get("display_name"),
            "project": _get(nova, "owner", "project", "name"), "project_id": _get(nova, "owner", "project", "uuid"),
            "user": _get(nova, "owner", "user", "name"), "user_id": _get(nova, "owner", "user", "uuid"),
            "host": g.get("host") or host, "state": g.get("state"), "state_reason": g.get("state_reason"),
            "persistent": g.get("persistent"), "flavor": _get(nova, "flavor", "name"),
            "vcpus": _int(g.get("vcpus")), "memory_mb": _int(g.get("memory_mb")),
            "nova_version": nova.get("package_version"), "creation_time": nova.get("creation_time"),
            "write_id": write_id})
    events = []
    for inst in doc.get("instances") or []:
        for e in inst.get("events") or []:
            events.append({
                "sha256": sha, "uuid": inst.get("uuid"), "time": e.get("time"),
                "time_is_utc": bool(e.get("time_is_utc")), "host": e.get("host") or host,
                "kind": e.get("kind"), "peer_host": e.get("peer_host"), "message": e.get("message"),
                "evidence_path": _get(e, "evidence", "path"), "evidence_line": _int(_get(e, "evidence", "line")),
                "write_id": write_id})
    findings = []
    for f in doc.get("findings") or []:
        hosts = f.get("hosts") or []
        findings.append({"sha256": sha, "code": f.get("code"), "severity": f.get("severity"),
                         "host": hosts[0] if len(hosts) == 1 else (", ".join(hosts) or host),
                         "guests": list(f.get("guests") or []), "message": f.get("message"),
                         "write_id": write_id})
    return {"reports": [report], "guests": guests, "events": events, "findings": findings}


# ---------------------------------------------------------------------------------------------
# The task


@dataclass
class Done:
    """What one task did (small: it travels back to the client)."""

    unit: str
    reports: list[tuple[str, str]] = field(default_factory=list)  # (sha256, path)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    cpu_seconds: float = 0.0  # the worker's CPU for this task, its xz children included


def _error_row(path: str, sha: Optional[str], reason: str, write_id: str, at: str) -> dict:
    return text_safe({"path": path, "sha256": sha, "reason": reason, "ingested_at": at, "write_id": write_id})


def _write_error(store: Store, path: str, sha: Optional[str], reason: str) -> None:
    wid = new_write_id()
    key = hashlib.sha256(("%s\0%s" % (sha or "", path)).encode("utf-8", "surrogateescape")).hexdigest()
    store.write_table("errors", "part-%s-%s" % (key, wid), [_error_row(path, sha, reason, wid, now_utc())])


def ingest_unit(unit: Unit, store_url: str, limits: tuple) -> Done:
    """Runs on a worker: analyse one unit, write its rows, commit each report. Never raises for
    the input's sake (a bug in the analyzer is an error row too, like analyze-sos reports it)."""
    store = Store(store_url)
    done = Done(unit.path)
    before = _cpu()
    if unit.error:
        # a regular file refused by its content (empty, not a tar, encrypted) is named by its bytes
        regular = os.path.isfile(unit.path) and not os.path.islink(unit.path)
        _write_error(store, unit.path, identity(unit.path) if regular else None, unit.error)
        done.errors.append((unit.path, unit.error))
        return done
    try:
        _ingest(unit, store, limits, done)
    except Exception as e:  # a bug or a store that cannot be written: this unit only
        reason = "internal error while ingesting it: %s: %s" % (e.__class__.__name__, str(e)[:200])
        try:
            _write_error(store, unit.path, identity(unit.path), reason)
        except Exception:
            pass
        done.errors.append((unit.path, reason))
    done.cpu_seconds = _cpu() - before
    return done


def _cpu() -> float:
    import resource
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _ingest(unit: Unit, store: Store, limits: tuple, done: Done) -> None:
    from analyzer import analysis
    from analyzer.archive.collect import Limits
    from analyzer.run import Outcome, analyze

    outcome = analyze([unit.path], Limits(*limits), jobs=1, progress=False)
    unit_sha = identity(unit.path)
    for e in outcome.errors:
        sha = unit_sha if e.path == unit.path else _nested_sha(unit.path, e.path)
        _write_error(store, e.path, sha, e.reason)
        done.errors.append((e.path, e.reason))
    for report in outcome.reports:
        if report.id not in outcome.reads:
            continue  # a duplicate of another report of this unit: its rows are that one's
        one = Outcome([report], {report.id: outcome.reads[report.id]}, [], list(outcome.notes))
        doc = analysis.document(one).to_dict()
        if report.path == unit.path:
            sha = unit_sha
        else:
            sha = _nested_sha(unit.path, report.path)
        if sha is None:
            reason = "could not read its bytes again to identify it (changed or removed while ingesting?)"
            _write_error(store, report.path, None, reason)
            done.errors.append((report.path, reason))
            continue
        write(store, doc, sha, report.path)
        done.reports.append((sha, report.path))


def _nested_sha(unit_path: str, label: str) -> Optional[str]:
    """A report inside a collect bundle: the sha256 of its own bytes where the bundle is one
    level deep; deeper, of the outer bytes and the path inside (stable, but not the report's own)."""
    if not label.startswith(unit_path + "!"):
        return None
    rel = label[len(unit_path) + 1:]
    if "!" not in rel:
        got = sha256_member(unit_path, rel)
        if got:
            return got
    outer = identity(unit_path)
    if outer is None:
        return None
    return hashlib.sha256(("%s!%s" % (outer, rel)).encode("utf-8", "surrogateescape")).hexdigest()


def text_safe(v: Any) -> Any:
    """Values as Parquet can hold them (UTF-8): undecodable bytes of a file name, kept as
    surrogates when it was read, become their `\\udcXX` escape, as analyze-sos writes them.

    >>> text_safe({"path": "inst-" + chr(0xDCFF) + ".xml", "n": [1, "é"]})
    {'path': 'inst-\\\\udcff.xml', 'n': [1, 'é']}
    """
    if isinstance(v, str):
        if v.isascii():
            return v
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            return v.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(v, dict):
        return {k: text_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [text_safe(x) for x in v]
    return v


def write(store: Store, doc: dict, sha: str, path: str) -> str:
    """One report's rows: the children first, the `reports` file last (the commit)."""
    wid = new_write_id()
    rows = text_safe(rows_of(doc, sha, path, wid, now_utc()))
    stem = "part-%s-%s" % (sha, wid)
    for t in CHILDREN:
        store.write_table(t, stem, rows[t])
    store.write_table("reports", stem, rows["reports"])
    return wid


# ---------------------------------------------------------------------------------------------
# The driver


@dataclass
class Summary:
    ingested: int = 0  # distinct reports written by this run
    replaced: int = 0  # of those, already in the store before
    duplicates: int = 0  # the same report bytes given again in this run
    failed: int = 0  # error rows written by this run
    units: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # in the tasks (workers), not the client or the scheduler
    errors: list[tuple[str, str]] = field(default_factory=list)


def run_ingest(store: Store, inputs: list[str], scheduler: Optional[str] = None, jobs: int = 0,
               limits: tuple = (64 << 20, 64 << 30, 3, None), progress: bool = False,
               compact_after: bool = True) -> Summary:
    from dask.distributed import Client, as_completed

    store.create()
    before = existing_reports(store)
    units = discover(inputs)
    summary = Summary(units=len(units))
    start = time.monotonic()
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        from dask.distributed import LocalCluster
        n = jobs if jobs > 0 else (os.cpu_count() or 1)
        # processes: the analysis is CPU-bound Python plus xz children; one thread each
        cluster = LocalCluster(n_workers=max(1, min(n, len(units) or 1)), threads_per_worker=1,
                               processes=True, dashboard_address=None, silence_logs=50)
        client = Client(cluster)
    bar = _Bar(progress, len(units))
    seen: dict[str, str] = {}
    try:
        futures = [client.submit(ingest_unit, u, store.url, limits, key="ingest-%d-%s" % (i, new_write_id()),
                                 pure=False) for i, u in enumerate(units)]
        by_future = {f.key: u for f, u in zip(futures, units)}
        for fut in as_completed(futures):
            unit = by_future[fut.key]
            try:
                done = fut.result()
            except Exception as e:  # KilledWorker: every worker it ran on died
                reason = "its analysis killed the worker each time it ran (%s)" % e.__class__.__name__
                _write_error(store, unit.path, identity(unit.path), reason)
                done = Done(unit.path, errors=[(unit.path, reason)])
            for sha, path in done.reports:
                if sha in seen:
                    summary.duplicates += 1
                    continue
                seen[sha] = path
                summary.ingested += 1
                summary.replaced += sha in before
            summary.failed += len(done.errors)
            summary.cpu_seconds += done.cpu_seconds
            summary.errors += done.errors
            bar.step(unit.path)
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
    if compact_after:
        compact(store)
    summary.seconds = time.monotonic() - start
    return summary


def existing_reports(store: Store) -> set:
    from analyzer.fleet.store import connect
    con = connect(store)
    return {r[0] for r in con.execute("SELECT sha256 FROM reports").fetchall()}


class _Bar:
    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total, self.done = total, 0
        self.draw("")

    def step(self, label: str) -> None:
        self.done += 1
        self.draw(label)

    def draw(self, label: str) -> None:
        if not self.enabled:
            return
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write("\r[%s%s] %d/%d reports  %s\x1b[K" % (
            "#" * filled, "." * (width - filled), self.done, self.total, os.path.basename(label)[-40:]))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# Compaction

STALE = 3600.0  # seconds after which an uncommitted part (its task died) is garbage


def compact(store: Store) -> int:
    """Merge every table's files into one batch file each; returns the files removed.

    Reads the live rows through the views, writes batch-W per table (reports last, as a task
    does), then removes what it merged. Parts written meanwhile by another ingest are left alone,
    and so are children whose report is not committed yet unless they are stale.
    """
    from analyzer.fleet.store import COLUMNS, connect, schema

    listed = {t: store.files(t) for t in TABLES}
    if sum(len(v) for v in listed.values()) <= len(TABLES):
        return 0
    con = connect(store)
    wid = new_write_id()
    stem = "batch-%s" % wid
    committed = {stem_of(p) for p in listed["reports"]}
    for t in CHILDREN + ("errors", "reports"):
        cols = ", ".join('"%s"' % n for n, _ in COLUMNS[t])
        data = _arrow(con.sql("SELECT %s FROM %s ORDER BY %s" % (cols, t, "sha256" if t != "errors" else "path")))
        rows = data.cast(schema(t)).to_pylist() if data.num_rows else []
        store.write_table(t, stem, rows)
    removed = 0
    now = time.time()
    for t, paths in listed.items():
        for p in paths:
            s = stem_of(p)
            if t in CHILDREN and s not in committed:
                try:
                    if now - store.mtime(p) < STALE:
                        continue
                except OSError:
                    continue
            store.remove(p)
            removed += 1
    for name in store.listdir(store.path(TMP)):
        p = store.path(TMP, name)
        try:
            if now - store.mtime(p) > STALE:
                store.remove(p)
        except OSError:
            pass
    return removed


def _arrow(result):
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        fn = getattr(result, name, None)
        if fn is not None:
            return fn()
    raise RuntimeError("this duckdb has no Arrow export")

"""Read every input, in parallel where there are several reports, into reports and guests.

Each report is read by one worker process (`--jobs`, default all cores): a `sos collect` bundle of
twenty hosts keeps every core busy, while one report costs one process plus its decompressor.
Reports found inside a bundle become new jobs as they are discovered. Report ids (r1, r2, ...)
follow input order, not completion order, so output is stable from run to run.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import hashlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from analyzer.archive.collect import Collected, Limits, read_archive, read_tree
from analyzer.archive.inputs import InputError, Job, expand
from analyzer.build import Built, build
from analyzer.model import Guest, Problem, Report
from analyzer.sources.registry import SELECTION

_SOS_TAGS_NOT_REPORT = {"sos_reports/manifest.json", "sos_logs/sos.log"}  # a collect bundle has these too


@dataclass
class JobResult:
    job: Job
    key: tuple
    built: Optional[Built] = None
    nested: list = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # problems of a bundle itself
    error: Optional[str] = None
    same_as: Optional[tuple] = None  # not read: the same bytes as the job with this key

    @property
    def report(self) -> Optional[Report]:
        return self.built.report if self.built is not None else None


@dataclass
class Outcome:
    reports: list[Report]  # every report in input order, duplicates included (duplicate_of set)
    reads: dict[str, Built]  # report id -> what was read from it (duplicates have none)
    errors: list[InputError]  # inputs that could not be read at all (exit status 2)
    notes: list[Problem]  # non-fatal: files of a folder skipped, problems of bundles (not reports themselves)

    @property
    def guests(self) -> list[Guest]:
        return [g for r in self.reports if r.id in self.reads for g in self.reads[r.id].guests]


class _SameBytes:
    """Finds an input whose bytes an earlier one already has, before it is read: only files of
    equal size are hashed, so a case of distinct reports costs nothing."""

    def __init__(self) -> None:
        self._by_size: dict[int, list[tuple[tuple, Job]]] = {}
        self._digests: dict[tuple, str] = {}

    def _digest(self, key: tuple, job: Job) -> str:
        if key not in self._digests:
            h = hashlib.sha256()
            with open(job.path, "rb") as f:
                f.seek(job.offset)
                left = _size_of(job)
                while left > 0:
                    piece = f.read(min(left, 1 << 20))
                    if not piece:
                        break
                    h.update(piece)
                    left -= len(piece)
            self._digests[key] = h.hexdigest()
        return self._digests[key]

    def earlier(self, key: tuple, job: Job) -> Optional[tuple]:
        if job.kind == "dir":
            return None
        size = _size_of(job)
        seen = self._by_size.setdefault(size, [])
        try:
            for k, j in seen:
                if self._digest(k, j) == self._digest(key, job):
                    return k
        except OSError:
            return None  # unreadable: reading it says why
        seen.append((key, job))
        return None


def _size_of(job: Job) -> int:
    if job.length is not None:
        return job.length
    try:
        return os.path.getsize(job.path) - job.offset
    except OSError:
        return -1


def _is_report(c: Collected) -> bool:
    return any(rel not in _SOS_TAGS_NOT_REPORT for rel in c.files) or bool(c.stream_paths)


# Progress of the jobs running in worker processes: input bytes they have read so far, in shared
# memory (set in each worker by _init_worker; None when there is no progress bar).
_LIVE = None


# The collector's full passes over a heap of millions of parsed values find no garbage (the models
# hold no cycles) yet cost a sixth of a big report's CPU: young objects are still collected.
GC_THRESHOLDS = (20000, 100, 100)


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)


def _init_worker(live) -> None:
    global _LIVE
    _LIVE = live
    tune_gc()
    # Ctrl-C reaches the whole process group: the parent stops the run and ends the workers
    # (a worker's own KeyboardInterrupt would print a traceback); SIGTERM from the parent ends
    # a worker at once instead of raising the parent's handler inside it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _count_live(n: int) -> None:
    with _LIVE.get_lock():  # type: ignore[union-attr]
        _LIVE.value += n  # type: ignore[union-attr]


def process(job: Job, key: tuple, limits: Limits, progress: Optional[Callable[[int], None]] = None) -> JobResult:
    """One report (or bundle): runs in a worker process, or in this one. `progress(n)`: n more
    input bytes read (in a worker: added to the shared counter, taken back when the job ends)."""
    taken = [0]
    if progress is None and _LIVE is not None and job.kind != "dir":
        def progress(n: int) -> None:
            taken[0] += n
            _count_live(n)
    try:
        if job.kind == "dir":
            c = read_tree(job.label, job.path, limits, SELECTION)
        else:
            c = read_archive(job.label, job.path, job.kind, limits, SELECTION, job.offset, job.length,
                             progress=progress)
    except OSError as e:
        return JobResult(job, key, error="cannot read: %s" % (e.strerror or e))
    except Exception as e:  # a bug: this input is lost, the other inputs are still analyzed
        return _internal_error(job, key, e)
    finally:
        if taken[0]:
            _count_live(-taken[0])  # the parent counts this job's whole share when it gets the result
    result = JobResult(job, key, nested=c.nested)
    if _is_report(c):
        try:
            result.built = build("?", job.label, c)
        except Exception as e:
            return _internal_error(job, key, e)
        _fold_problems(result.built.report)
    elif c.nested:
        result.notes = [p for p in c.problems]
    else:
        reason = c.damaged or "no sosreport content inside (no version.txt, sos_commands/ or libvirt files)"
        if c.damaged and c.members == 0:
            reason = "not a readable archive: " + c.damaged
        result.error = reason
    return result


MAX_PROBLEMS = 1000  # per report: 150,000 broken files must not make a 20 MB list


def _fold_problems(report: Report) -> None:
    extra = len(report.problems) - MAX_PROBLEMS
    if extra > 0:
        report.problems = report.problems[:MAX_PROBLEMS] + [Problem(
            path="(%d more)" % extra, reason="%d more problems in this report, not listed" % extra)]


def _internal_error(job: Job, key: tuple, e: Exception) -> JobResult:
    if os.environ.get("ANALYZE_SOS_DEBUG"):
        raise e
    return JobResult(job, key, error="internal error while analyzing it: %s: %s (rerun with ANALYZE_SOS_DEBUG=1 "
                                     "for details, and please report it)" % (e.__class__.__name__, str(e)[:200]))


class Progress:
    """A bar on one stderr line, only when stderr is a terminal: input bytes read / total (the
    compressed size of the archives given), and reports done / known so far."""

    INTERVAL = 0.1  # seconds between redraws

    def __init__(self, enabled: bool, total_bytes: int = 0) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = total_bytes
        self.done_bytes = 0  # of finished jobs, and of the job running in this process
        self.live = None  # shared counter of the jobs running in workers
        self.reports = (0, 0)
        self.label = ""
        self._last = 0.0
        self._shown = 0

    def add(self, n: int) -> None:
        """n more input bytes read in this process."""
        self.done_bytes += n
        self.draw()

    def update(self, done: int, total: int, label: str) -> None:
        self.reports = (done, total)
        self.label = label
        self.draw(force=True)

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.INTERVAL:
            return
        self._last = now
        got = self.done_bytes + (self.live.value if self.live is not None else 0)
        got = self._shown = min(max(got, self._shown), self.total) if self.total else 0
        width = 24
        frac = got / self.total if self.total else (self.reports[0] / max(self.reports[1], 1))
        filled = int(width * frac)
        size = " %d/%d MiB" % (got >> 20, self.total >> 20) if self.total else ""
        name = os.path.basename(self.label)[-40:]
        sys.stderr.write("\r[%s%s] %3d%%%s  %d/%d reports  %s\x1b[K" % (
            "#" * filled, "." * (width - filled), int(100 * frac), size, self.reports[0], self.reports[1], name))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def analyze(inputs: list[str], limits: Limits, jobs: int = 0, progress: bool = True) -> Outcome:
    global _SEEN
    _SEEN = _SameBytes()  # per run: the same file in two runs is no duplicate
    errors: list[InputError] = []
    skipped: list[Problem] = []  # files of a folder that are not reports: said, not errors
    pending: list[tuple[tuple, Job]] = []
    for i, path in enumerate(inputs):
        js, errs = expand(path)
        errors += [e for e in errs if e.fatal]
        skipped += [Problem(path=e.path, reason=e.reason) for e in errs if not e.fatal]
        pending += [((i, j), job) for j, job in enumerate(js)]
    spill = tempfile.mkdtemp(prefix="analyze-sos-")
    limits = Limits(limits.max_member, limits.max_total, limits.max_depth, spill)
    results: list[JobResult] = []
    pending = _unseen(pending, results)
    bar = Progress(progress, sum(_share_of(job) for _, job in pending))
    bar.reports = (0, len(pending))
    try:
        workers = jobs if jobs > 0 else (os.cpu_count() or 1)
        if workers == 1:
            _serial(pending, limits, results, bar)
        elif len(pending) == 1:
            # One input: read it here (no pool to start for a single report); if it is a collect
            # bundle, its reports are then read in parallel.
            key, job = pending[0]
            r = _run_here(job, key, limits, bar)
            results.append(r)
            kids, refused = _children(r, limits)
            results += refused
            bar.update(1, 1 + len(kids), job.label)
            if len(kids) == 1:
                _serial(kids, limits, results, bar, done=1)
            elif kids:
                _parallel(kids, limits, results, bar, workers, done=1)
        else:
            _parallel(pending, limits, results, bar, workers)
    finally:
        bar.close()
        shutil.rmtree(spill, ignore_errors=True)

    out = _outcome(results, errors)
    out.notes[:0] = skipped
    return out


_SEEN = _SameBytes()


def _unseen(pending: list[tuple[tuple, Job]], results: list[JobResult]) -> list[tuple[tuple, Job]]:
    """The jobs to read; one whose bytes an earlier job has becomes a result that says so."""
    out = []
    for key, job in pending:
        same = _SEEN.earlier(key, job)
        if same is None:
            out.append((key, job))
        else:
            results.append(JobResult(job, key, same_as=same))
    return out


def _outcome(results: list[JobResult], errors: list[InputError]) -> Outcome:
    results.sort(key=lambda r: r.key)
    reports: list[Report] = []
    reads: dict[str, Built] = {}
    notes: list[Problem] = []
    rid_of: dict[tuple, str] = {}
    for r in results:
        if r.error:
            errors.append(InputError(r.job.label, r.error))
        notes += r.notes
        if r.built is not None or r.same_as is not None:
            rid_of[r.key] = "r%d" % (len(rid_of) + 1)
    by_fingerprint: dict[str, str] = {}
    for r in results:
        rid = rid_of.get(r.key)
        if rid is None:
            continue
        if r.built is None:
            continue
        r.built.report.id = rid
        for g in r.built.guests:
            g.report = rid
        first = by_fingerprint.setdefault(r.built.fingerprint, rid)
        if first != rid:  # read, but its content is an earlier report's (a tarball and its tree)
            r.built.report.duplicate_of = first
        else:
            reads[rid] = r.built
    for r in results:
        rid = rid_of.get(r.key)
        if rid is None:
            continue
        if r.built is not None:
            reports.append(r.built.report)
            continue
        target = next((x for x in results if x.key == r.same_as), None)
        original = target.report if target is not None else None
        dup = Report(id=rid, path=r.job.label, duplicate_of=original.id if original else None)
        if original is not None:
            for name in ("hostname", "sos_version", "collected_at", "os", "utc_offset", "machine_id"):
                setattr(dup, name, getattr(original, name))
        reports.append(dup)
    reports.sort(key=lambda rep: int(rep.id[1:]))
    return Outcome(reports, reads, errors, notes)


_SPILLED: set = set()  # reports copied out of compressed bundles: their bytes were counted there


def _share_of(job: Job) -> int:
    """Input bytes a job reads itself (a directory: none counted)."""
    if job.kind == "dir" or job.path in _SPILLED:
        return 0
    if job.length is not None:
        return job.length
    try:
        return os.path.getsize(job.path)
    except OSError:
        return 0


def _own_share(r: JobResult) -> int:
    """What a finished job read itself: its share, less the reports sliced out of it for others."""
    return max(0, _share_of(r.job) - sum(n.length for n in r.nested if n.path == r.job.path))


def _run_here(job: Job, key: tuple, limits: Limits, bar: Progress) -> JobResult:
    before = bar.done_bytes
    r = process(job, key, limits, bar.add if bar.enabled and job.kind != "dir" else None)
    bar.done_bytes = before + _own_share(r)
    return r


def _children(r: JobResult, limits: Limits) -> tuple[list[tuple[tuple, Job]], list[JobResult]]:
    kids, refused = [], []
    for n, nested in enumerate(r.nested):
        job = Job(label=nested.label, path=nested.path, kind=nested.kind, offset=nested.offset,
                  length=nested.length, depth=r.job.depth + 1)
        key = r.key + (n,)
        if nested.path != r.job.path:
            _SPILLED.add(nested.path)
        if job.depth > limits.max_depth:
            refused.append(JobResult(job, key, error="not read: reports nested more than %d bundles deep"
                                     % limits.max_depth))
        else:
            same = _SEEN.earlier(key, job)
            if same is None:
                kids.append((key, job))
            else:
                refused.append(JobResult(job, key, same_as=same))
    return kids, refused


def _serial(pending, limits, results, bar, done: int = 0) -> None:
    queue = list(pending)
    while queue:
        key, job = queue.pop(0)
        r = _run_here(job, key, limits, bar)
        results.append(r)
        kids, refused = _children(r, limits)
        results += refused
        queue = kids + queue
        done += 1
        bar.update(done, done + len(queue), job.label)


def _parallel(pending, limits, results, bar, workers, done: int = 0) -> None:
    ctx = multiprocessing.get_context("fork")
    live = ctx.Value("q", 0) if bar.enabled else None
    bar.live = live
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                  initargs=(live,))
    try:
        _drive(pool, pending, limits, results, bar, done)
    except BaseException:  # interrupted: end the workers now, not after their current report
        _end_workers(pool)
        raise
    pool.shutdown()
    bar.live = None


def _end_workers(pool: cf.ProcessPoolExecutor) -> None:
    end = getattr(pool, "terminate_workers", None)  # Python 3.14
    if end is not None:
        end()
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        # SIGKILL, not SIGTERM: a worker still starting up has the parent's SIGTERM handler, and
        # would print a traceback. A worker holds nothing to clean up (the spill directory is
        # ours); its xz dies on the broken pipe.
        p.kill()
    for p in procs:
        p.join(5)


def _drive(pool, pending, limits, results, bar, done: int) -> None:
    running = {pool.submit(process, job, key, limits): (key, job) for key, job in pending}
    while running:
        finished, _ = cf.wait(running, timeout=Progress.INTERVAL if bar.enabled else None,
                              return_when=cf.FIRST_COMPLETED)
        if not finished:
            bar.draw()
            continue
        for fut in finished:
            key, job = running.pop(fut)
            try:
                r = fut.result()
            except Exception as e:  # a worker died (killed, out of memory): say so, go on
                r = JobResult(job, key, error="worker failed: %s" % (str(e) or e.__class__.__name__)[:200])
            bar.done_bytes += _own_share(r)
            results.append(r)
            kids, refused = _children(r, limits)
            results += refused
            for k, j in kids:
                running[pool.submit(process, j, k, limits)] = (k, j)
            done += 1
            bar.update(done, done + len(running), job.label)

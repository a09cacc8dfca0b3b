"""Read every input, in parallel where there are several reports, into reports and guests.

Each report is read by one worker process (`--jobs`, default all cores): a `sos collect` bundle of
twenty hosts keeps every core busy, while one report costs one process plus its decompressor.
Reports found inside a bundle become new jobs as they are discovered. Report ids (r1, r2, ...)
follow input order, not completion order, so output is stable from run to run.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from analyzer.archive.collect import Collected, Limits, read_archive, read_tree
from analyzer.archive.inputs import InputError, Job, expand
from analyzer.build import build
from analyzer.model import Guest, Problem, Report

_SOS_TAGS_NOT_REPORT = {"sos_reports/manifest.json"}  # a collect bundle has this too


@dataclass
class JobResult:
    job: Job
    key: tuple
    report: Optional[Report] = None
    guests: list[Guest] = field(default_factory=list)
    nested: list = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # problems of a bundle itself
    error: Optional[str] = None


@dataclass
class Outcome:
    reports: list[Report]
    guests: list[Guest]
    errors: list[InputError]  # inputs that could not be read at all (exit status 2)
    notes: list[Problem]  # non-fatal problems of bundles (which are not reports themselves)


def _is_report(c: Collected) -> bool:
    return any(rel not in _SOS_TAGS_NOT_REPORT for rel in c.files) or bool(c.nova_log_paths or c.qemu_logs)


def process(job: Job, key: tuple, limits: Limits) -> JobResult:
    """One report (or bundle): runs in a worker process."""
    try:
        if job.kind == "dir":
            c = read_tree(job.label, job.path, limits)
        else:
            c = read_archive(job.label, job.path, job.kind, limits, job.offset, job.length)
    except OSError as e:
        return JobResult(job, key, error="cannot read: %s" % (e.strerror or e))
    except Exception as e:  # a bug: this input is lost, the other inputs are still analyzed
        return _internal_error(job, key, e)
    result = JobResult(job, key, nested=c.nested)
    if _is_report(c):
        try:
            result.report, result.guests = build("?", job.label, c)
        except Exception as e:
            return _internal_error(job, key, e)
        _fold_problems(result.report)
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
    """`reports done / total` on one stderr line, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()

    def update(self, done: int, total: int, label: str) -> None:
        if not self.enabled:
            return
        width = 24
        filled = int(width * done / max(total, 1))
        name = os.path.basename(label)[-40:]
        sys.stderr.write("\r[%s%s] %d/%d reports  %s\x1b[K" % ("#" * filled, "." * (width - filled), done, total, name))
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def analyze(inputs: list[str], limits: Limits, jobs: int = 0, progress: bool = True) -> Outcome:
    errors: list[InputError] = []
    pending: list[tuple[tuple, Job]] = []
    for i, path in enumerate(inputs):
        js, errs = expand(path)
        errors += errs
        pending += [((i, j), job) for j, job in enumerate(js)]
    spill = tempfile.mkdtemp(prefix="analyze-sos-")
    limits = Limits(limits.max_member, limits.max_total, limits.max_depth, spill)
    results: list[JobResult] = []
    bar = Progress(progress)
    try:
        workers = jobs if jobs > 0 else (os.cpu_count() or 1)
        if workers == 1 or (len(pending) <= 1 and not _may_hold_reports(pending)):
            _serial(pending, limits, results, bar)
        else:
            _parallel(pending, limits, results, bar, workers)
    finally:
        bar.close()
        shutil.rmtree(spill, ignore_errors=True)

    results.sort(key=lambda r: r.key)
    reports: list[Report] = []
    guests: list[Guest] = []
    notes: list[Problem] = []
    for r in results:
        if r.error:
            errors.append(InputError(r.job.label, r.error))
        notes += r.notes
        if r.report is None:
            continue
        rid = "r%d" % (len(reports) + 1)
        r.report.id = rid
        for g in r.guests:
            g.report = rid
        reports.append(r.report)
        guests += r.guests
    return Outcome(reports, guests, errors, notes)


def _may_hold_reports(pending: list[tuple[tuple, Job]]) -> bool:
    """A single tarball may be a collect bundle: worth a pool only if it is big."""
    return any(j.kind != "dir" and os.path.getsize(j.path) > (64 << 20) for _, j in pending)


def _children(r: JobResult, limits: Limits) -> tuple[list[tuple[tuple, Job]], list[JobResult]]:
    kids, refused = [], []
    for n, nested in enumerate(r.nested):
        job = Job(label=nested.label, path=nested.path, kind=nested.kind, offset=nested.offset,
                  length=nested.length, depth=r.job.depth + 1)
        key = r.key + (n,)
        if job.depth > limits.max_depth:
            refused.append(JobResult(job, key, error="not read: reports nested more than %d bundles deep"
                                     % limits.max_depth))
        else:
            kids.append((key, job))
    return kids, refused


def _serial(pending, limits, results, bar) -> None:
    queue = list(pending)
    done = 0
    while queue:
        key, job = queue.pop(0)
        r = process(job, key, limits)
        results.append(r)
        kids, refused = _children(r, limits)
        results += refused
        queue = kids + queue
        done += 1
        bar.update(done, done + len(queue), job.label)


def _parallel(pending, limits, results, bar, workers) -> None:
    ctx = multiprocessing.get_context("fork")
    done = 0
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        running = {pool.submit(process, job, key, limits): (key, job) for key, job in pending}
        while running:
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                key, job = running.pop(fut)
                try:
                    r = fut.result()
                except Exception as e:  # a worker died (killed, out of memory): say so, go on
                    r = JobResult(job, key, error="worker failed: %s" % (str(e) or e.__class__.__name__)[:200])
                results.append(r)
                kids, refused = _children(r, limits)
                results += refused
                for k, j in kids:
                    running[pool.submit(process, j, k, limits)] = (k, j)
                done += 1
                bar.update(done, done + len(running), job.label)

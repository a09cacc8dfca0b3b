"""What an INPUT on the command line is: a report, a directory of reports, or nothing usable.

    sosreport-compute-1-2026-11-20-abcdefg.tar.xz   a report (xz, gzip, bzip2 or plain tar)
    sosreport-compute-1-2026-11-20-abcdefg/         an extracted report
    sos-collector-case-2026-11-20-xyz.tar           a `sos collect` bundle: its node reports are found
                                                    while it is read (archive/collect.py, nested)
    /cases/01234567/                                a folder holding any of the above

Detection is by content; the file name is never trusted. Anything unusable becomes one line saying
what it is and what to do (decrypt it first, it is empty, ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from analyzer.archive import detect

_REPORT_MARKERS = ("version.txt", "sos_commands", "sos_reports")
_MAX_SCAN_DEPTH = 2  # how deep a folder of reports is searched


@dataclass
class Job:
    label: str  # how people see it: the path, or bundle!member for a report inside a bundle
    path: str  # the file or directory to read
    kind: str  # detect.* kind, or "dir"
    offset: int = 0
    length: Optional[int] = None
    depth: int = 0  # nesting depth inside collect bundles


@dataclass
class InputError:
    path: str
    reason: str


def is_report_dir(path: str) -> bool:
    try:
        names = set(os.listdir(path))
    except OSError:
        return False
    return bool(names & set(_REPORT_MARKERS)) or (
        "etc" in names and os.path.isdir(os.path.join(path, "etc", "libvirt")))


def expand(path: str) -> tuple[list[Job], list[InputError]]:
    """The reports an INPUT holds (bundles are opened later, while they are read)."""
    if not os.path.lexists(path):
        return [], [InputError(path, "no such file or directory")]
    if os.path.isdir(path):
        try:
            os.listdir(path)
        except OSError as e:
            return [], [InputError(path, "cannot read: %s" % (e.strerror or e))]
        return _expand_dir(path)
    return _expand_file(path, path)


def _expand_file(path: str, label: str) -> tuple[list[Job], list[InputError]]:
    if not os.path.isfile(path):
        return [], [InputError(label, "not a regular file (device, FIFO or socket): not read")]
    try:
        kind = detect.sniff_file(path)
    except OSError as e:
        return [], [InputError(label, "cannot read: %s" % (e.strerror or e))]
    if kind in detect.COMPRESSED or kind == detect.TAR:
        return [Job(label=label, path=path, kind=kind)], []
    return [], [InputError(label, detect.explain(kind))]


def _expand_dir(path: str) -> tuple[list[Job], list[InputError]]:
    if is_report_dir(path):
        return [Job(label=path, path=path, kind="dir")], []
    jobs: list[Job] = []
    errors: list[InputError] = []
    base_depth = path.rstrip(os.sep).count(os.sep)

    def unlisted(e: OSError) -> None:
        errors.append(InputError(e.filename or path, "cannot read: %s" % (e.strerror or e)))

    for dirpath, dirnames, filenames in os.walk(path, onerror=unlisted):
        dirnames.sort()
        keep = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                continue
            if is_report_dir(full):
                jobs.append(Job(label=full, path=full, kind="dir"))
            elif full.rstrip(os.sep).count(os.sep) - base_depth < _MAX_SCAN_DEPTH:
                keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            try:
                kind = detect.sniff_file(full)
            except OSError as e:
                errors.append(InputError(full, "cannot read: %s" % (e.strerror or e)))
                continue
            if kind in detect.COMPRESSED or kind == detect.TAR:
                jobs.append(Job(label=full, path=full, kind=kind))
            elif kind == detect.GPG:
                errors.append(InputError(full, detect.explain(kind)))
    if not jobs and not errors:
        errors.append(InputError(path, "no sosreport in this directory (no report tarball, and no "
                                       "version.txt or sos_commands/ inside)"))
    return jobs, errors

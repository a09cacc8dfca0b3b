"""What an INPUT on the command line is: a report, a directory of reports, or nothing usable.

    sosreport-compute-1-2026-11-20-abcdefg.tar.xz   a report (xz, gzip, bzip2 or plain tar)
    sosreport-compute-1-2026-11-20-abcdefg/         an extracted report
    sos-collector-case-2026-11-20-xyz.tar           a `sos collect` bundle: its node reports are found
                                                    while it is read (archive/collect.py, nested)
    /cases/01234567/                                a folder holding any of the above

Detection is by content; the file name is never trusted. Anything unusable becomes one line saying
what it is and what to do (decrypt it first, it is empty, ...). In a folder, a file named like a
report that cannot be read is an error, as it is when given directly; anything else the folder
holds (notes, checksums, links, screenshots) is skipped, and each skip is said with its reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

from analyzer.archive import detect

_REPORT_MARKERS = ("version.txt", "sos_commands", "sos_reports")
_MAX_SCAN_DEPTH = 2  # how deep a folder of reports is searched
# Checksums and signatures sit beside reports in case folders; their names end like this.
_SIDECARS = (".sha256", ".md5", ".sha1", ".sha512", ".asc", ".sig", ".sum")


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
    # False: a file of a folder that is not a report, skipped on purpose: said, but no error
    fatal: bool = True


def named_like_report(name: str) -> bool:
    """Does a file's name say "a sosreport or a collect bundle"? (Its content still decides what
    it is; the name only decides whether failing to read it is an error.)

    >>> [named_like_report(n) for n in ("sosreport-a-2026-01-01-x.tar.xz", "b.tgz", "c.tar",
    ...  "d.tar.gpg", "e.tar.xz.sha256", "notes.txt", "sos-collector-x")]
    [True, True, True, True, False, False, True]
    """
    low = name.lower()
    if low.endswith(_SIDECARS):
        return False
    return (low.endswith((".tar", ".tgz")) or ".tar." in low
            or low.startswith(("sosreport-", "sos-collector-")))


def _skipped(path: str, why: str) -> InputError:
    return InputError(path, "skipped: " + why, fatal=False)


def is_report_dir(path: str) -> bool:
    try:
        names = set(os.listdir(path))
    except OSError:
        return False
    return bool(names & set(_REPORT_MARKERS)) or (
        "etc" in names and os.path.isdir(os.path.join(path, "etc", "libvirt")))


def expand(path: str, max_depth: Optional[int] = _MAX_SCAN_DEPTH) -> tuple[list[Job], list[InputError]]:
    """The reports an INPUT holds (bundles are opened later, while they are read). A folder is
    searched `max_depth` levels down (None: all the way, as the fleet does over an archive)."""
    if not os.path.lexists(path):
        return [], [InputError(path, "no such file or directory")]
    if os.path.isdir(path):
        try:
            os.listdir(path)
        except OSError as e:
            return [], [InputError(path, "cannot read: %s" % (e.strerror or e))]
        return _expand_dir(path, max_depth)
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


def _expand_dir(path: str, max_depth: Optional[int]) -> tuple[list[Job], list[InputError]]:
    if is_report_dir(path):
        return [Job(label=path, path=path, kind="dir")], []
    jobs: list[Job] = []
    errors: list[InputError] = []
    sidecars: list[str] = []
    base_depth = path.rstrip(os.sep).count(os.sep)

    def unlisted(e: OSError) -> None:
        errors.append(InputError(e.filename or path, "cannot read: %s" % (e.strerror or e)))

    for dirpath, dirnames, filenames in os.walk(path, onerror=unlisted):
        dirnames.sort()
        keep = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                errors.append(_skipped(full, "a link to a folder (links are not followed; give its target "
                                             "directly)"))
            elif is_report_dir(full):
                jobs.append(Job(label=full, path=full, kind="dir"))
            elif max_depth is None or full.rstrip(os.sep).count(os.sep) - base_depth < max_depth:
                keep.append(d)
            else:
                errors.append(_skipped(full, "a folder more than %d levels down (give it directly)"
                                       % max_depth))
        dirnames[:] = keep
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            job, error = _folder_file(full, name)
            if job is not None:
                jobs.append(job)
            if error is not None:
                errors.append(error)
            if job is None and error is None:
                sidecars.append(full)
    if sidecars:
        # one line for all of them: beside every report of a case, they would drown what matters
        errors.append(_skipped(path, "%s: %s" % (
            "1 checksum or signature file, not a report" if len(sidecars) == 1 else
            "%d checksum or signature files, not reports" % len(sidecars),
            ", ".join(os.path.relpath(f, path) for f in sidecars))))
    if not jobs and not any(e.fatal for e in errors):
        errors.append(InputError(path, "no sosreport in this directory (no report tarball, and no "
                                       "version.txt or sos_commands/ inside)"))
    return jobs, errors


def _folder_file(full: str, name: str) -> tuple[Optional[Job], Optional[InputError]]:
    """One file met in a folder of reports: a job, an error (a report that cannot be read), a
    skip with its reason, or neither (a checksum or signature file, said with the others)."""
    if os.path.islink(full):
        return None, _skipped(full, "a symbolic link (links are not followed; give its target directly)")
    if not os.path.isfile(full):
        return None, _skipped(full, "not a regular file (device, FIFO or socket)")
    try:
        kind = detect.sniff_file(full)
    except OSError as e:
        return None, InputError(full, "cannot read: %s" % (e.strerror or e))
    if kind in detect.COMPRESSED or kind == detect.TAR:
        return Job(label=full, path=full, kind=kind), None
    if kind == detect.GPG or named_like_report(name):
        return None, InputError(full, detect.explain(kind))
    if name.lower().endswith(_SIDECARS):
        return None, None
    return None, _skipped(full, detect.explain(kind))

"""Collect the members one report needs, from a tar stream or an extracted directory, safely.

Both readers feed the same `Collector`, so the safety rules are written once:
- a member name that is absolute or has a `..` component is never used;
- links are never followed out of the report root (a tar link is never followed at all: the
  analyzer reads the real files sos wrote, not the convenience links at the top of a report);
- devices, FIFOs and sparse files are skipped;
- a kept member over `max_member` bytes, or a report over `max_total` bytes decompressed, stops
  there; every skip lands in `problems` with its reason (the same reason at most a few times in
  full, then counted), so a hostile archive cannot flood the output either.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from analyzer.archive import detect
from analyzer.archive.decompress import consumed, open_stream
from analyzer.archive.select import BYTES, Scanner, Selection
from analyzer.archive.tarstream import (
    DIR, FILE, HARDLINK, SYMLINK, Member, TarDamaged, TarReader)
from analyzer.model import Problem

# What a report's top directory may look like when there is no `sosreport-*` wrapper.
_REPORT_TOP = {"etc", "sos_commands", "sos_reports", "sos_logs", "sos_strings", "version.txt",
               "var", "run", "proc", "sys", "usr", "boot", "lib"}
_ARCHIVE_HINTS = (".tar", ".tgz", ".txz", ".tbz", ".tbz2", ".xz", ".gz", ".bz2")
PROBLEMS_PER_REASON = 20


@dataclass
class Limits:
    max_member: int = 64 << 20  # a member kept in memory (XML, JSON, package lists)
    max_total: int = 64 << 30  # decompressed bytes read from one report
    max_depth: int = 3  # collect bundles inside collect bundles ...
    spill_dir: Optional[str] = None  # where reports inside compressed bundles are spilled


@dataclass
class Nested:
    """A report archive found inside another (a `sos collect` bundle)."""

    label: str  # outer!inner, for people
    path: str  # file to read: the outer file itself (slice) or a spilled temporary file
    kind: str
    offset: int
    length: int


class Problems:
    """Problems of one report, with repeated reasons folded into a count."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self._counts: dict[str, int] = {}

    def add(self, path: str, reason: str, group: Optional[str] = None) -> None:
        key = group or reason
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n <= PROBLEMS_PER_REASON:
            self.items.append(Problem(path=path, reason=reason))

    def finish(self) -> list[Problem]:
        out = list(self.items)
        for key, n in self._counts.items():
            if n > PROBLEMS_PER_REASON:
                out.append(Problem(path="(%d more)" % (n - PROBLEMS_PER_REASON),
                                   reason="%s: %d more members skipped for the same reason"
                                   % (key, n - PROBLEMS_PER_REASON)))
        return out


@dataclass
class Collected:
    """What one report yielded. Picklable: it crosses process boundaries with --jobs."""

    label: str
    root: Optional[str] = None
    files: dict[str, bytes] = field(default_factory=dict)  # BYTES members
    tags: dict[str, str] = field(default_factory=dict)  # rel -> tag, for every member taken
    # STREAM members: tag -> its scanner's result, and the paths it was fed (in archive order)
    streams: dict[str, Any] = field(default_factory=dict)
    stream_paths: dict[str, list[str]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # rel -> target, for wanted links (Wanted.link)
    problems: list[Problem] = field(default_factory=list)
    nested: list[Nested] = field(default_factory=list)
    members: int = 0
    damaged: Optional[str] = None  # why reading stopped early, if it did
    # rel -> what the entry's `prepare` made of a kept member as soon as it arrived (parsed domain
    # XML), while the decompressor went on: that work then costs no time after the stream.
    prepared: dict[str, Any] = field(default_factory=dict)


def _unsafe(name: str) -> Optional[str]:
    if name.startswith("/"):
        return "absolute member name"
    if ".." in name.split("/"):
        return "member name contains '..'"
    return None


class Collector:
    def __init__(self, label: str, limits: Limits, selection: Selection) -> None:
        self.limits = limits
        self.select = selection
        self.out = Collected(label=label)
        self.problems = Problems()
        self._scanners: dict[str, Scanner] = {}
        self._links: set[str] = set()  # relpaths of links seen (for "written through a link")
        self._root_decided = False
        self._switchable = False
        self._prefix = ""

    # --- path handling -------------------------------------------------------------------
    def relpath(self, name: str) -> str:
        """Report-relative path: strip './' and the report's top directory."""
        while name.startswith("./"):
            name = name[2:]
        name = name.rstrip("/")
        # The first member with a usable name decides the report's top directory: a hostile
        # member placed first (absolute, '..', empty) must not hide the report behind it. A
        # stray top-level member is overruled once by a `sosreport-*` directory after it.
        top = name.split("/", 1)[0]
        if not self._root_decided:
            if top and _unsafe(name) is None:
                self._root_decided = True
                self._switchable = not top.startswith("sosreport-")
                if top not in _REPORT_TOP:
                    self._prefix = top + "/"
                    self.out.root = top
        elif (self._switchable and top.startswith("sosreport-") and "/" in name
              and _unsafe(name) is None and top + "/" != self._prefix):
            self._switchable = False
            self._prefix = top + "/"
            self.out.root = top
        if self._prefix:
            if name.startswith(self._prefix):
                return name[len(self._prefix):]
            if name + "/" == self._prefix:
                return ""
        return name

    def _through_link(self, rel: str) -> Optional[str]:
        if not self._links:
            return None
        parts = rel.split("/")
        for i in range(1, len(parts)):
            anc = "/".join(parts[:i])
            if anc in self._links:
                return anc
        return None

    # --- members -------------------------------------------------------------------------
    def member(self, m: Member, rel: str, data: "MemberData") -> None:
        why = _unsafe(m.name)
        if why:
            self.problems.add(m.name, "skipped: " + why, group="unsafe member names")
            return
        if m.type in (SYMLINK, HARDLINK):
            # Never followed. One that points inside the report is harmless (sos makes such
            # convenience links; their targets are read on their own); one that would lead out
            # of it is worth saying when it sits where the analyzer looks.
            self._links.add(rel)
            target = m.linkname
            w = self.select.want(rel)
            if w is not None and w.link and m.type == SYMLINK:
                self._link(rel, w.tag, target)
                return
            if w is not None and (target.startswith("/") or _escapes(rel, target, m.type)):
                self.problems.add(rel, "skipped: %s to %s points outside the report"
                                  % (m.type, _short(target)), group="links")
            return
        if m.type == DIR:
            return
        w = self.select.want(rel)
        if m.type != FILE:
            self.problems.add(rel, "skipped: %s member" % m.type, group="special members")
            return
        if w is None:
            if "/" not in rel and m.size >= 512 and data.can_nest and rel.lower().endswith(_ARCHIVE_HINTS):
                self._maybe_nested(m, rel, data)
            return
        via = self._through_link(rel)
        if via is not None:
            self.problems.add(rel, "skipped: its path passes through the link %s" % via, group="links")
            return
        if w.mode == BYTES:
            if m.size > self.limits.max_member:
                self.problems.add(rel, "skipped: %d bytes is over the %d MiB per-file cap (--max-member-size)"
                                  % (m.size, self.limits.max_member >> 20), group="oversized members")
                return
            kept = self.out.files[rel] = data.read(m.size)
            self.out.tags[rel] = w.tag
            if w.prepare is not None:
                made = w.prepare(rel, kept)
                if made is not None:
                    self.out.prepared[rel] = made
            return
        scanner = self._scanners.get(w.tag)
        if scanner is None:
            scanner = self._scanners[w.tag] = w.scanner()  # type: ignore[misc]
        self.out.tags[rel] = w.tag
        self.out.stream_paths.setdefault(w.tag, []).append(rel)
        scanner.start(rel)
        for piece in data.chunks():
            scanner.feed(piece)
        scanner.finish_member()

    def _link(self, rel: str, tag: str, target: str) -> None:
        """A link whose target is the fact (etc/localtime -> .../zoneinfo/Europe/Paris): kept as
        text, never followed."""
        self.out.links[rel] = target[:4096]
        self.out.tags[rel] = tag

    def _maybe_nested(self, m: Member, rel: str, data: "MemberData") -> None:
        kind = detect.sniff(data.peek(512))
        if kind not in detect.COMPRESSED and kind != detect.TAR:
            return
        label = "%s!%s" % (self.out.label, rel)
        where = data.location()
        if where is not None:
            self.out.nested.append(Nested(label, where[0], kind, where[1], m.size))
            return
        # Inside a compressed bundle the inner report cannot be sliced: spill it to a private
        # temporary file, removed when the run ends.
        fd, tmp = tempfile.mkstemp(prefix="nested-", dir=self.limits.spill_dir)
        with os.fdopen(fd, "wb") as f:
            for piece in data.chunks():
                f.write(piece)
        self.out.nested.append(Nested(label, tmp, kind, 0, m.size))

    def finish(self, members: int, damaged: Optional[str]) -> Collected:
        out = self.out
        out.streams = {tag: sc.result() for tag, sc in self._scanners.items()}
        out.members = members
        out.damaged = damaged
        if damaged:
            self.problems.add(out.label, "stopped reading: " + damaged)
        out.problems = self.problems.finish()
        return out


def _escapes(rel: str, target: str, kind: str) -> bool:
    """Does a relative link target leave the report root?"""
    base = [] if kind == HARDLINK else rel.split("/")[:-1]
    depth = len(base)
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _short(text: str, n: int = 80) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= n else text[:n] + "..."


# --- how the collector reaches a member's data ------------------------------------------

class MemberData:
    """Access to the data of the member being looked at, whatever it comes from."""

    can_nest = False

    def read(self, n: int) -> bytes:
        raise NotImplementedError

    def chunks(self) -> Iterator[bytes]:
        raise NotImplementedError

    def peek(self, n: int) -> bytes:
        return b""

    def location(self) -> Optional[tuple[str, int]]:
        """(file, offset) where the member's bytes sit unmodified on disk, if they do."""
        return None


class _TarData(MemberData):
    can_nest = True

    def __init__(self, reader: TarReader, m: Member, plain_file: Optional[str], base: int) -> None:
        self.reader, self.m, self.plain_file, self.base = reader, m, plain_file, base

    def read(self, n: int) -> bytes:
        return self.reader.read(self.m, n)

    def chunks(self) -> Iterator[bytes]:
        return self.reader.chunks(self.m)

    def peek(self, n: int) -> bytes:
        return self.reader.peek(n)

    def location(self) -> Optional[tuple[str, int]]:
        return None if self.plain_file is None else (self.plain_file, self.base + self.m.offset)


class _FileData(MemberData):
    def __init__(self, f) -> None:
        self.f = f

    def read(self, n: int) -> bytes:
        return self.f.read(n)

    def chunks(self) -> Iterator[bytes]:
        return iter(lambda: self.f.read(1 << 20), b"")


# --- readers -------------------------------------------------------------------------------

def read_archive(label: str, path: str, kind: str, limits: Limits, selection: Selection,
                 offset: int = 0, length: Optional[int] = None,
                 progress: Optional[Callable[[int], None]] = None) -> Collected:
    """Stream one tar (plain or compressed) once, keeping what `selection` wants."""
    col = Collector(label, limits, selection)
    damaged: Optional[str] = None
    tar_damage: Optional[str] = None
    ended = False
    members = 0
    with open_stream(path, kind, offset, length) as (stream, error, seekable):
        reader = TarReader(stream, seekable)
        plain = path if kind == detect.TAR else None
        try:
            reported = mark = 0
            for m in reader:
                members += 1
                col.member(m, col.relpath(m.name), _TarData(reader, m, plain, offset))
                if progress is not None and reader.bytes_read - mark > (4 << 20):
                    # input (compressed) bytes taken, less the nested reports other jobs will read
                    mark = reader.bytes_read
                    now = consumed(stream) - sum(n.length for n in col.out.nested if n.path == path)
                    if now > reported:
                        progress(now - reported)
                        reported = now
                if reader.bytes_read > limits.max_total:
                    damaged = "report is over the %d GiB decompressed-size cap (--max-total-size)" % (
                        limits.max_total >> 30)
                    break
        except TarDamaged as e:
            tar_damage = str(e)
            ended = not reader.peek(1)  # the stream itself ended early (truncated, or corrupt)
        if damaged is None and tar_damage is None:
            damaged = error()
            # The tar ended; whatever the decompressor still has (padding, or anything a hostile
            # archive put after the end marker) is not read: stop it now rather than wait for it.
            stream.close()
        elif not ended:
            # Stopped with data still coming (a cap, a damaged tar header): closing the pipe stops
            # the decompressor now, instead of waiting for it to give up writing.
            stream.close()
    if tar_damage is not None:
        # Asked once the decompressor has exited: a truncated or corrupt compressed file is why the
        # tar stream ended early, and the tool says which.
        tool = error() if ended else None
        damaged = "%s (%s)" % (tar_damage, tool) if tool else tar_damage
    return col.finish(members, damaged)


def read_tree(label: str, root: str, limits: Limits, selection: Selection) -> Collected:
    """Walk an extracted report, descending only where a wanted member can be."""
    col = Collector(label, limits, selection)
    col._root_decided = True
    col.out.root = os.path.basename(os.path.normpath(root))
    real_root = os.path.realpath(root)
    members = 0

    def unlisted(e: OSError) -> None:  # a directory that cannot be listed is said, not skipped silently
        rel = os.path.relpath(e.filename or root, root).replace(os.sep, "/")
        col.problems.add(rel, "skipped: cannot list the directory: %s" % (e.strerror or e),
                         group="unreadable files")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted, followlinks=False):
        reldir = os.path.relpath(dirpath, root)
        reldir = "" if reldir == "." else reldir.replace(os.sep, "/")
        dirnames[:] = sorted(d for d in dirnames if selection.may_contain(_join(reldir, d)))
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                dirnames.remove(d)
        for name in sorted(filenames):
            rel = _join(reldir, name)
            full = os.path.join(dirpath, name)
            if selection.want(rel) is None:
                continue
            members += 1
            try:
                st = os.lstat(full)
            except OSError as e:
                col.problems.add(rel, "skipped: %s" % (e.strerror or e), group="unreadable files")
                continue
            if stat.S_ISLNK(st.st_mode):
                w = selection.want(rel)
                if w is not None and w.link:
                    try:
                        col._link(rel, w.tag, os.readlink(full))
                    except OSError as e:
                        col.problems.add(rel, "skipped: %s" % (e.strerror or e), group="unreadable files")
                    continue
                target = os.path.realpath(full)
                if os.path.commonpath([target, real_root]) != real_root:
                    col.problems.add(rel, "skipped: link to %s points outside the report"
                                     % _short(os.readlink(full)), group="links")
                    continue
                try:
                    st = os.stat(full)
                except OSError as e:
                    col.problems.add(rel, "skipped: %s" % (e.strerror or e), group="unreadable files")
                    continue
            if not stat.S_ISREG(st.st_mode):
                col.problems.add(rel, "skipped: not a regular file", group="special members")
                continue
            m = Member(rel, FILE, st.st_size, "", 0)
            try:
                with open(full, "rb") as f:
                    col.member(m, rel, _FileData(f))
            except OSError as e:
                col.problems.add(rel, "skipped: %s" % (e.strerror or e), group="unreadable files")
                continue
    return col.finish(members, None)


def _join(a: str, b: str) -> str:
    return b if not a else a + "/" + b

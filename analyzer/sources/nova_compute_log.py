"""nova-compute log lines per instance, found in the single streaming pass.

nova-compute tags every instance-related line with `[instance: UUID]` (oslo.log's instance
adapter), whether the service runs on the host or in a TripleO/kolla container:

    2024-03-01 10:00:05.123 12345 ERROR nova.compute.manager [req-9a1c... - - - - -] [instance: 3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f] Instance failed to spawn: libvirt.libvirtError: ...

Logs can be hundreds of MiB, so memory must not grow with their size: each scanner sees the member
in chunks, keeps per UUID a bounded set of lines (the latest few, the first few errors, counts and
times), and caps how many distinct UUIDs it tracks and how long a kept line may be. Lines that name
an instance only in free text (without the tag) are not attributed; a line naming several
instances counts for the first. Rotated files (`.log.1`) are merged by timestamp.

Speed: a big report holds hundreds of thousands of tagged lines, so the per-line Python work is
kept to a minimum. One compiled regex on bytes finds each tag and swallows the rest of its line;
the loop over its matches only finds the line start, counts, and appends the raw line to a bounded
deque. Timestamps are parsed, and bytes decoded, only for the few lines finally kept; ERROR and
CRITICAL lines are found by a separate C-speed search for the level words, checked exactly.

Events: the lines whose message begins with one of `parsers.nova_log`'s phrases (claim, spawn,
lifecycle, migrations, ...) and every ERROR/CRITICAL line of an instance become `LogEvent`s. They
are found by one more compiled search over the same chunk; their line numbers come from counting
newlines between them (C speed). Per instance at most EVENTS_HEAD + EVENTS_TAIL events (earliest
and latest by time) and ERRORS_HEAD + ERRORS_TAIL error events are kept, so a guest that logs the
same error every minute cannot push its migrations out; what is left out is counted. A run of
`Migration running for` progress lines keeps its first and last. The lines of one traceback
(oslo.log repeats the prefix, with the same time, on each line) are one event.

Rotated files may be gzip (`.log.3.gz`): decompressed here, as they stream, in bounded pieces;
a damaged one is a problem of the report, and what it held before the damage is still read.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Optional

from analyzer.archive.select import STREAM, Wanted
from analyzer.model import KIND_NOVA_LOG, ErrorSummary, LogEvent, NovaLog, Observation, Problem, Source
from analyzer.parsers import nova_log
from analyzer.parsers.gzip_stream import MemberText
from analyzer.parsers.line_stream import WholeLines
from analyzer.sources.base import Readout, View

_UUID = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# The searches take any 36 hex digits and dashes (a tenth faster than the UUID's shape); a tag
# that is not a UUID is then never tracked (`_scan`).
_LOOSE_UUID = rb"[0-9a-fA-F-]{36}"
_IS_UUID = re.compile(_UUID)
# The tag, then the rest of its line (so a second tag on the same line is never matched). No phrase
# here: trying the phrases at every tagged line costs more than the event search's own pass.
_TAG_LINE = re.compile(rb"\[instance: (" + _LOOSE_UUID + rb")\][^\n]*")
# An event line: its (first) tag and the phrase its message begins with, then the rest of the line.
_EVENT_LINE = re.compile(rb"\[instance: (" + _LOOSE_UUID + rb")\] (" + nova_log.PHRASES + rb")[^\n]*")
_TIME = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?")
_LEVELS = (b"ERROR", b"CRITICAL")
_LEVEL_FIELD_WITHIN = 120  # the level is the 4th field of the line's first 120 bytes (oslo.log)

KEEP_LINES = 20
KEEP_ERRORS = 5
MAX_UUIDS = 20000
MAX_LINE = 2000  # characters kept of one line
MAX_LINE_BYTES = MAX_LINE * 4  # bytes kept of one line (utf-8: at most 4 per character)
MAX_PENDING = MAX_LINE_BYTES * 2  # head kept of a line whose end is not in sight

EVENTS_HEAD, EVENTS_TAIL = 20, 80  # events kept per instance: its earliest and its latest
ERRORS_HEAD, ERRORS_TAIL = 5, 15  # error events kept per instance, apart
EVENT_LINE_BYTES = 1024  # bytes kept of an event's line
_SLACK = 32  # a list is trimmed to its cap once it is this much over it
_PROGRESS = "migration-progress"
_OSLO_TIME = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")


def _decode(line: bytes) -> str:
    if line.endswith(b"\r"):
        line = line[:-1]
    return line[:MAX_LINE_BYTES].decode("utf-8", "replace")[:MAX_LINE]


def _when(line: bytes) -> bytes:
    m = _TIME.match(line)
    return m.group(0) if m else b""


class _Acc:
    """What is kept for one UUID: counts, a bounded window of lines, the earliest error lines."""

    __slots__ = ("uuid", "total", "n", "recent", "kept", "errors", "first_error", "last_error",
                 "error_lines", "paths", "events", "error_events", "run", "last_error_time", "dropped",
                 "lo", "hi")

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        self.total = 0  # lines in members already finished
        self.n = 0  # lines in the member being read
        self.recent: deque = deque(maxlen=KEEP_LINES)  # raw lines of the member being read
        self.kept: list[tuple[bytes, bytes]] = []  # (time, line) from finished members, <= KEEP_LINES
        self.errors = 0
        self.first_error: Optional[bytes] = None
        self.last_error: Optional[bytes] = None
        self.error_lines: list[tuple[bytes, bytes]] = []  # (time, line), <= 2 * KEEP_ERRORS
        self.paths: set = set()
        # events: (time, member index, line number, phrase group or None, line, message offset)
        self.events: list[tuple] = []
        self.error_events: list[tuple] = []
        self.run = 0  # progress events at the end of `events`, appended one after the other
        self.last_error_time: Optional[bytes] = None  # of the last ERROR line (one traceback = one event)
        self.dropped = 0  # events not kept (over the caps)
        # Once `events` was trimmed: an event strictly later than its HEAD-th earliest time and
        # earlier than its TAIL-th latest can never be kept, and is counted without being built.
        self.lo: Optional[bytes] = None
        self.hi: Optional[bytes] = None

    def error(self, line: bytes) -> None:
        when = _when(line)
        self.errors += 1
        if when:
            if self.first_error is None or when < self.first_error:
                self.first_error = when
            if self.last_error is None or when > self.last_error:
                self.last_error = when
        self.error_lines.append((when, line))
        if len(self.error_lines) > 2 * KEEP_ERRORS:
            self.error_lines.sort(key=_first)
            del self.error_lines[KEEP_ERRORS:]

    def end_member(self, path: str) -> None:
        if not self.n:
            return
        self.total += self.n
        self.n = 0
        self.paths.add(path)
        merged = self.kept + [(_when(line), line) for line in self.recent]
        merged.sort(key=_first)  # stable: equal times keep file order
        self.kept = merged[-KEEP_LINES:]
        self.recent.clear()


def find_end(data: bytes, p: int, end: int) -> int:
    e = data.find(b"\n", p, end)
    return end if e < 0 else e


def _first(t: tuple) -> bytes:
    return t[0]


class NovaLogScanner:
    """Fed every nova-compute log member of one report, in any order, chunk by chunk.

    Per chunk, C-speed work only: `findall` lists the UUID of every tagged line and a Counter
    counts them. The line text is needed only for each UUID's last KEEP_LINES lines, so the last
    few chunks stay in a small ring (RING_BYTES); when a chunk leaves the ring, only the UUIDs
    with fewer than KEEP_LINES lines in the newer chunks have their lines taken out of it (in file
    order, into a bounded deque). For the UUIDs of a busy log that is none at all."""

    RING_BYTES = 16 << 20

    def __init__(self) -> None:
        self._acc: dict[bytes, _Acc] = {}  # uuid as written (any case) -> accumulator
        self._uuids: dict[str, _Acc] = {}  # lower-case uuid -> accumulator
        self._whole = WholeLines(self._scan, MAX_PENDING)
        self._path = ""
        self._ring: deque = deque()  # (data, end, Counter) of the latest chunks, oldest first
        self._ring_bytes = 0
        self._ring_counts: Counter = Counter()  # tagged lines per uuid in the ring
        self.dropped_uuids = 0  # lines naming an instance beyond MAX_UUIDS (not kept)
        self._paths: list[str] = []  # members in the order fed (events name theirs by index)
        self._lines = 0  # lines of the member before the data being scanned
        self._text = MemberText("")
        self._kinds: dict[bytes, str] = {}  # phrase as matched -> event kind
        self.problems: list[tuple[str, str]] = []  # (path, why), e.g. a damaged .gz

    def start(self, path: str) -> None:
        self._path = path
        self._paths.append(path)
        self._whole = WholeLines(self._scan, MAX_PENDING)
        self._lines = 0
        self._text = MemberText(path)

    def feed(self, chunk: bytes) -> None:
        for piece in self._text.feed(chunk):
            self._whole.feed(piece)

    def finish_member(self) -> None:
        why = self._text.finish()
        if why:
            self.problems.append((self._path, why))
        self._whole.finish()
        while self._ring:
            self._evict()
        path = self._path
        for acc in self._uuids.values():
            acc.end_member(path)
            acc.run = 0
            acc.last_error_time = None

    def _error_starts(self, data: bytes, end: int) -> list:
        """Start offsets of the lines in data[:end] whose level field is ERROR or CRITICAL.

        bytes.find (memchr-speed) finds the level words; each candidate line is then checked the
        exact way: its first 120 bytes split on whitespace have the level as the 4th field."""
        starts: list = []
        checked: set = set()
        rfind, find = data.rfind, data.find
        for word in _LEVELS:
            p = find(word, 0, end)
            while p >= 0:
                s = rfind(b"\n", 0, p) + 1
                if p - s < _LEVEL_FIELD_WITHIN and s not in checked:
                    checked.add(s)
                    e = find(b"\n", s, s + _LEVEL_FIELD_WITHIN)
                    head = data[s:e if e >= 0 else s + _LEVEL_FIELD_WITHIN].split(None, 4)
                    if len(head) > 3 and head[3] in _LEVELS:
                        starts.append(s)
                nl = find(b"\n", p, end)  # one candidate per line is enough
                if nl < 0:
                    break
                p = find(word, nl + 1, end)
        starts.sort()  # file order, so equal error times keep it
        return starts

    def _new(self, raw: bytes) -> Optional[_Acc]:
        uuid = raw.decode("ascii").lower()
        acc = self._uuids.get(uuid)
        if acc is None:
            if len(self._uuids) >= MAX_UUIDS:
                return None
            acc = self._uuids[uuid] = _Acc(uuid)
        self._acc[raw] = acc
        return acc

    def _scan(self, data: bytes, end: int) -> None:
        """Count the tagged lines of data[:end] (whole lines), note its error lines and events, ring it."""
        found = _TAG_LINE.findall(data, 0, end)  # the uuid of each tagged line
        if not found:
            self._lines += data.count(b"\n", 0, end)
            return
        counts = Counter(found)
        accs = self._acc
        if len(counts) > len(accs) or not counts.keys() <= accs.keys():
            for raw in list(counts):  # first seen, first kept (MAX_UUIDS)
                if raw in accs:
                    continue
                if _IS_UUID.fullmatch(raw) is None:
                    del counts[raw]  # not an instance tag
                elif self._new(raw) is None:
                    self.dropped_uuids += counts.pop(raw)
        for raw, n in counts.items():
            accs[raw].n += n
        find = data.find
        errs = []  # (line start, uuid as written, tag offset) of each ERROR/CRITICAL line of an instance
        for s in self._error_starts(data, end):
            e = find(b"\n", s, end)
            e = end if e < 0 else e
            m = _TAG_LINE.search(data, s, e)
            if m is not None:
                acc = accs.get(m.group(1))
                if acc is not None:
                    acc.error(data[s:e] if e - s <= MAX_LINE_BYTES else data[s:s + MAX_LINE_BYTES])
                    errs.append((s, m.group(1), m.start()))
        self._events(data, end, errs)
        self._ring.append((data, end, counts))
        self._ring_bytes += end
        self._ring_counts.update(counts)
        while self._ring_bytes > self.RING_BYTES and len(self._ring) > 1:
            self._evict()

    def _events(self, data: bytes, end: int, errs: list) -> None:
        """Keep the events of data[:end] (whole lines) and count its lines.

        One `finditer` over the chunk finds the event lines (a tag, then one of the phrases, then
        the rest of the line): its match gives the tag's offset and the line's end, so per event
        only the line start is looked up. The (few) ERROR lines are merged in; newlines are counted
        from one event to the next, so the chunk is counted once."""
        accs = self._acc
        rfind, count = data.rfind, data.count
        path_i = len(self._paths) - 1
        ln, prev = self._lines, 0
        errs.append((end + 1, None, 0))  # sentinel
        ei = 0
        next_err = errs[0][0]
        head_e, cap_e = EVENTS_HEAD, EVENTS_HEAD + EVENTS_TAIL + _SLACK
        cap_x = ERRORS_HEAD + ERRORS_TAIL + _SLACK
        kinds = self._kinds
        for m in _EVENT_LINE.finditer(data, 0, end):
            p = m.start()
            s = rfind(b"\n", 0, p) + 1
            if rfind(b"[instance: ", s, p) >= 0:  # not the line's first tag: the line is not its event
                continue
            while next_err <= s:
                es, eraw, tag = errs[ei]
                ei += 1
                next_err = errs[ei][0]
                ln += count(b"\n", prev, es)
                prev = es
                acc = accs.get(eraw)
                if es == s:  # the event's own line is at ERROR level: a traceback may follow
                    if acc is not None:
                        acc.last_error_time = data[s:s + 23]
                    continue
                if acc is not None:
                    self._error_event(acc, data, es, tag, end, path_i, ln + 1, cap_x)
            raw, ph = m.groups()
            acc = accs.get(raw)
            if acc is None:
                continue
            kind = kinds.get(ph)
            if kind is None:
                kind = nova_log.kind_of_phrase(ph)
                if len(kinds) < 4096:
                    kinds[ph] = kind
            lo = acc.lo
            if lo is not None and kind != _PROGRESS and lo < data[s:s + 23] < acc.hi:
                acc.dropped += 1
                acc.run = 0
                continue
            ln += count(b"\n", prev, s)
            prev = s
            e = m.end()
            line = data[s:e] if e - s <= EVENT_LINE_BYTES else data[s:s + EVENT_LINE_BYTES]
            kept = acc.events
            if kind == _PROGRESS:
                if acc.run >= 2:  # a run of progress lines keeps its first and its last
                    if lo is not None and kept[-1][0] <= lo:  # it may have been one of the earliest
                        acc.lo = None
                    kept[-1] = (line[:23], path_i, ln + 1, kind, line, p - s + 49)
                    continue
                acc.run += 1
            elif acc.run:
                acc.run = 0
            kept.append((line[:23], path_i, ln + 1, kind, line, p - s + 49))
            if len(kept) > cap_e:
                self._trim(acc, kept, head_e, EVENTS_TAIL)
                acc.run = 0
        while ei < len(errs) - 1:
            es, eraw, tag = errs[ei]
            ei += 1
            ln += count(b"\n", prev, es)
            prev = es
            acc = accs.get(eraw)
            if acc is not None:
                self._error_event(acc, data, es, tag, end, path_i, ln + 1, cap_x)
        self._lines = ln + count(b"\n", prev, end)

    def _error_event(self, acc: _Acc, data: bytes, s: int, tag: int, end: int, path_i: int, ln: int,
                     cap: int) -> None:
        when = data[s:s + 23]  # oslo.log's time; a line without one sorts first
        if acc.last_error_time == when:  # the lines of one traceback: one event
            return
        acc.last_error_time = when
        if data.startswith((b" ", b"\t", b"Traceback"), tag + 49):
            return
        e = find_end(data, tag, end)
        kept = acc.error_events
        kept.append((when, path_i, ln, "error", data[s:min(e, s + EVENT_LINE_BYTES)], tag - s + 49))
        if len(kept) > cap:
            self._trim(acc, kept, ERRORS_HEAD, ERRORS_TAIL)

    def _trim(self, acc: _Acc, kept: list, head: int, tail: int) -> None:
        """Keep the earliest `head` and the latest `tail` events of a list (by time, then file order)."""
        kept.sort()
        n = len(kept) - head - tail
        if n > 0:
            del kept[head:head + n]
            acc.dropped += n
            if kept is acc.events:
                acc.lo, acc.hi = kept[head - 1][0], kept[-tail][0]

    def _evict(self) -> None:
        """Take the oldest chunk out of the ring, keeping the lines that may be among the last."""
        data, end, counts = self._ring.popleft()
        self._ring_bytes -= end
        newer = self._ring_counts
        newer.subtract(counts)
        need = {raw for raw in counts if newer[raw] < KEEP_LINES}
        if not need:
            return
        accs = self._acc
        rfind, find = data.rfind, data.find
        if len(need) > 8:
            for m in _TAG_LINE.finditer(data, 0, end):
                raw = m.group(1)
                if raw in need:
                    s = rfind(b"\n", 0, m.start()) + 1
                    e = m.end()
                    accs[raw].recent.append(data[s:e] if e - s <= MAX_LINE_BYTES else data[s:s + MAX_LINE_BYTES])
            return
        found = []
        for raw in need:  # a few UUIDs: find their tags at memchr speed instead
            tag = b"[instance: " + raw + b"]"
            p = find(tag, 0, end)
            while p >= 0:
                s = rfind(b"\n", 0, p) + 1
                e = find(b"\n", p, end)
                e = end if e < 0 else e
                first = _TAG_LINE.search(data, s, e)
                if first is not None and first.start() == p:  # the line's first tag: it counts
                    found.append((s, raw, e))
                p = find(tag, e, end)
        found.sort()  # file order (one UUID may be written in two cases)
        for s, raw, e in found:
            accs[raw].recent.append(data[s:e] if e - s <= MAX_LINE_BYTES else data[s:s + MAX_LINE_BYTES])

    def results(self) -> dict[str, NovaLog]:
        out: dict[str, NovaLog] = {}
        for uuid, acc in self._uuids.items():
            acc.end_member(self._path)  # a member not finished (reading stopped inside it)
            acc.error_lines.sort(key=_first)
            out[uuid] = NovaLog(
                paths=sorted(acc.paths),
                total=acc.total,
                lines=[_decode(line) for _, line in acc.kept[-KEEP_LINES:]],
                errors=ErrorSummary(
                    count=acc.errors,
                    first_time=acc.first_error.decode("ascii") if acc.first_error else None,
                    last_time=acc.last_error.decode("ascii") if acc.last_error else None,
                    first_lines=[_decode(line) for _, line in acc.error_lines[:KEEP_ERRORS]],
                ),
            )
        return out

    def events(self) -> tuple[list[LogEvent], int, int]:
        """The kept events of every instance (by time, then file order), how many were left out
        and of how many instances."""
        out: list[LogEvent] = []
        dropped = dropped_in = 0
        paths = self._paths
        for uuid, acc in self._uuids.items():
            self._trim(acc, acc.events, EVENTS_HEAD, EVENTS_TAIL)
            self._trim(acc, acc.error_events, ERRORS_HEAD, ERRORS_TAIL)
            if acc.dropped:
                dropped += acc.dropped
                dropped_in += 1
            for when, path_i, ln, kind, line, off in sorted(acc.events + acc.error_events):
                message = _decode(line[off:])
                if _OSLO_TIME.fullmatch(when) is not None:
                    time: Optional[str] = "%sT%s" % (when[:10].decode("ascii"), when[11:].decode("ascii"))
                else:
                    time = nova_log.parse_line(line).time
                out.append(LogEvent(kind, time, "local", message, paths[path_i], ln, uuid, None,
                                    nova_log.peer_of(kind, message)))
        return out, dropped, dropped_in

    def result(self) -> "Scanned":
        events, dropped, dropped_in = self.events()
        return Scanned(self.results(), self.dropped_uuids, events, dropped, dropped_in, list(self.problems))


@dataclass
class Scanned:
    logs: dict[str, NovaLog] = field(default_factory=dict)  # uuid -> its lines
    dropped_uuids: int = 0  # lines naming instances past MAX_UUIDS
    events: list[LogEvent] = field(default_factory=list)
    dropped_events: int = 0  # events over the per-instance caps, not kept
    dropped_event_instances: int = 0  # instances that had such events
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


_DIRS = ("var/log/nova/", "var/log/containers/nova/", "var/log/kolla/nova/")
MEMBERS = (
    Wanted("nova_log", STREAM,
           r"var/log/(?:containers/nova|kolla/nova|nova)/nova-compute\.log(?:(?:\.\d+|-\d{8})(?:\.gz)?)?", _DIRS,
           example="var/log/nova/nova-compute.log.2.gz", scanner=NovaLogScanner),
)


def read(v: View) -> Readout:
    out = Readout()
    scanned: Optional[Scanned] = v.streams.get("nova_log")
    paths = v.stream_paths.get("nova_log", [])
    if scanned is None:
        return out
    out.facts["nova_compute"], out.facts["nova_compute_evidence"] = True, paths[0]
    if scanned.dropped_uuids:
        out.problems.append(Problem(", ".join(paths[:3]), "nova-compute log names more than %d instances; "
                                    "lines of %d were not kept" % (len(scanned.logs), scanned.dropped_uuids)))
    for path, why in scanned.problems:
        out.problems.append(Problem(path, why))
    if scanned.dropped_events:
        out.problems.append(Problem(", ".join(paths[:3]), "%d events of %d instances not kept (at most %d events "
                                    "and %d errors per instance: the earliest and the latest)"
                                    % (scanned.dropped_events, scanned.dropped_event_instances,
                                       EVENTS_HEAD + EVENTS_TAIL, ERRORS_HEAD + ERRORS_TAIL)))
    for uuid, log in scanned.logs.items():
        out.observations.append(Observation(source=Source(KIND_NOVA_LOG, log.paths[0] if log.paths else paths[0]),
                                            uuid=uuid, nova_log=log))
    out.events = scanned.events
    return out

"""The streaming nova-compute scanner gives, whatever the chunking, what a plain line-by-line reading
of the same members gives; memory stays bounded on hostile input (huge lines, many UUIDs)."""

import random
import re

import pytest
from hypothesis import given, settings, strategies as st

from analyzer.sources import nova_compute_log as logs, qemu_log
from analyzer.sources.nova_compute_log import KEEP_ERRORS, KEEP_LINES, NovaLogScanner
from analyzer.sources.qemu_log import QemuTail

U = ["3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
     "deadbeef-0000-4000-8000-00000000cafe"]
TAG = re.compile(rb"\[instance: ([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\]")
TIME = re.compile(rb"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?")


def line(sec: int, level: str, text: str, uuid=None, ms: int = 0) -> str:
    tag = "[instance: %s] " % uuid if uuid else ""
    return "2026-11-20 %02d:%02d:%02d.%03d 2301 %s nova.compute.manager [req-1 - - - - -] %s%s" % (
        sec // 3600 % 24, sec // 60 % 60, sec % 60, ms, level, tag, text)


def scan(members, sizes=None, ring=None):
    """members: [(path, bytes)]; sizes: chunk sizes to cut each member into (cycled)."""
    sc = NovaLogScanner()
    if ring is not None:
        sc.RING_BYTES = ring
    for path, data in members:
        sc.start(path)
        i, k = 0, 0
        while i < len(data):
            n = sizes[k % len(sizes)] if sizes else 1 << 20
            sc.feed(data[i:i + n])
            i += n
            k += 1
        sc.finish_member()
    return sc.results()


def reference(members):
    """The meaning, line by line: every line whose first tag names a UUID counts for it; ERROR and
    CRITICAL by the 4th field; the last KEEP_LINES lines and first KEEP_ERRORS errors by time."""
    acc = {}
    for path, data in members:
        for raw in data.split(b"\n"):
            m = TAG.search(raw)
            if not m:
                continue
            u = m.group(1).decode().lower()
            a = acc.setdefault(u, {"paths": set(), "lines": [], "errors": []})
            t = TIME.match(raw)
            when = t.group(0) if t else b""
            text = raw[:-1] if raw.endswith(b"\r") else raw
            a["paths"].add(path)
            a["lines"].append((when, text))
            head = raw[:120].split(None, 4)
            if len(head) > 3 and head[3] in (b"ERROR", b"CRITICAL"):
                a["errors"].append((when, text))
    out = {}
    for u, a in acc.items():
        lines = sorted(a["lines"], key=lambda x: x[0])
        errs = sorted(a["errors"], key=lambda x: x[0])
        times = [w for w, _ in errs if w]
        out[u] = {"paths": sorted(a["paths"]), "total": len(a["lines"]),
                  "lines": [x.decode("utf-8", "replace")[:logs.MAX_LINE] for _, x in lines[-KEEP_LINES:]],
                  "errors": {"count": len(errs), "first_time": min(times).decode() if times else None,
                             "last_time": max(times).decode() if times else None,
                             "first_lines": [x.decode("utf-8", "replace")[:logs.MAX_LINE]
                                             for _, x in errs[:KEEP_ERRORS]]}}
    return out


def as_dict(results):
    return {u: {"paths": r.paths, "total": r.total, "lines": r.lines,
                "errors": {"count": r.errors.count, "first_time": r.errors.first_time,
                           "last_time": r.errors.last_time, "first_lines": r.errors.first_lines}}
            for u, r in results.items()}


def make_log(rng: random.Random, n: int, start: int, crlf: bool = False) -> bytes:
    out = []
    for i in range(n):
        k = rng.random()
        u = rng.choice(U + [U[0].upper()])
        sec = start + i
        if k < 0.15:
            out.append(line(sec, "DEBUG", "Running periodic task ComputeManager._heal_instance_info_cache"))
        elif k < 0.25:
            out.append(line(sec, rng.choice(["ERROR", "CRITICAL"]), "Instance failed to spawn", u))
        elif k < 0.30:
            out.append(line(sec, "ERROR", "Exception during message handling: no instance here"))
        elif k < 0.35:
            out.append(line(sec, "INFO", "ERROR CRITICAL words in the text do not make an error", u))
        elif k < 0.40:
            out.append(line(sec, "WARNING", "two tags: the line counts for the first [instance: %s]" % U[2], u))
        elif k < 0.42:
            out.append(line(sec, "INFO", "x" * rng.randint(100, 3000) + " long but bounded", u))
        else:
            out.append(line(sec, rng.choice(["INFO", "DEBUG", "WARNING"]), "VM Resumed (Lifecycle Event) é", u))
    eol = "\r\n" if crlf else "\n"
    return (eol.join(out) + (eol if rng.random() < 0.8 else "")).encode()


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10 ** 6), sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=5),
       crlf=st.booleans(), ring=st.sampled_from([100, 2000, 20000, None]))
def test_any_chunking_gives_the_line_by_line_meaning(seed, sizes, crlf, ring):
    rng = random.Random(seed)
    # rotated files fed newest first, as they may sit in a tarball: merged by time
    members = [("var/log/nova/nova-compute.log", make_log(rng, rng.randint(0, 120), 10000, crlf)),
               ("var/log/nova/nova-compute.log.1", make_log(rng, rng.randint(0, 120), 5000, crlf))]
    assert as_dict(scan(members, sizes, ring)) == reference(members)


@pytest.mark.parametrize("ring", [300, 5000, 1 << 20])
def test_ring_eviction_keeps_the_last_lines(monkeypatch, ring):
    """Chunks leave the ring (few lines for a UUID: searched by tag; many: one regex pass)."""
    monkeypatch.setattr(NovaLogScanner, "RING_BYTES", ring)
    rng = random.Random(7)
    many = ["%08x-0000-4000-8000-%012x" % (i, i) for i in range(12)]
    body = []
    for i in range(3000):
        u = many[i % 12] if rng.random() < 0.9 else U[i % 2]
        body.append(line(i, "ERROR" if i % 37 == 0 else "INFO", "n=%d" % i, u))
    members = [("nova-compute.log", ("\n".join(body) + "\n").encode())]
    for sizes in ([997], [64, 4096, 333]):
        assert as_dict(scan(members, sizes)) == reference(members)


def test_a_line_split_across_two_chunks():
    data = (line(1, "ERROR", "Instance failed to spawn", U[0]) + "\n").encode()
    for cut in range(1, len(data)):
        sc = NovaLogScanner()
        sc.start("nova-compute.log")
        sc.feed(data[:cut])
        sc.feed(data[cut:])
        sc.finish_member()
        r = sc.results()[U[0]]
        assert r.total == 1 and r.errors.count == 1, cut
        assert r.lines == [data.decode().rstrip("\n")]
        assert r.errors.first_time == r.errors.last_time == "2026-11-20 00:00:01.000"


def test_crlf_lines_end_without_carriage_return():
    data = (line(1, "INFO", "a", U[0]) + "\r\n" + line(2, "CRITICAL", "b", U[0]) + "\r\n").encode()
    r = scan([("nova-compute.log", data)], [7])[U[0]]
    assert r.total == 2 and r.errors.count == 1
    assert all(not x.endswith("\r") for x in r.lines + r.errors.first_lines)


def test_last_line_without_newline_counts():
    data = (line(1, "INFO", "a", U[0]) + "\n" + line(2, "ERROR", "b", U[0])).encode()
    r = scan([("nova-compute.log", data)], [10])[U[0]]
    assert r.total == 2 and r.errors.count == 1 and r.lines[-1].endswith(" b")


def test_huge_line_without_newline_is_bounded():
    sc = NovaLogScanner()
    sc.start("nova-compute.log")
    sc.feed(line(1, "ERROR", "start of a runaway line", U[0]).encode())
    for _ in range(64):  # 64 MiB, no newline
        sc.feed(b"y" * (1 << 20))
        assert len(sc._whole._rest) <= logs.MAX_PENDING
    sc.feed(b"\n" + (line(3, "INFO", "after it", U[1]) + "\n").encode())
    sc.finish_member()
    r = sc.results()
    assert r[U[0]].total == 1 and r[U[0]].errors.count == 1
    assert len(r[U[0]].lines[0]) <= logs.MAX_LINE
    assert r[U[1]].total == 1 and r[U[1]].lines[0].endswith("after it")


def test_huge_line_with_its_end_in_the_chunk_is_kept_bounded():
    big = (line(1, "ERROR", "z" * (3 << 20), U[0]) + "\n").encode()
    r = scan([("nova-compute.log", big)], [1 << 20])[U[0]]
    assert r.total == 1 and len(r.lines[0]) == logs.MAX_LINE and len(r.errors.first_lines[0]) == logs.MAX_LINE


def test_error_and_critical_counted_by_level_field_only():
    data = "\n".join([
        line(1, "ERROR", "e1", U[0]), line(2, "CRITICAL", "c1", U[0]), line(3, "INFO", "ERROR in text", U[0]),
        line(4, "WARNING", "CRITICAL in text", U[0]), "ERROR at the start [instance: %s] no timestamp" % U[0],
        line(5, "ERROR", "no instance"),
    ]).encode()
    r = scan([("nova-compute.log", data)])[U[0]]
    assert r.total == 5
    assert r.errors.count == 2
    assert r.errors.first_time == "2026-11-20 00:00:01.000" and r.errors.last_time == "2026-11-20 00:00:02.000"
    assert [x.split()[-1] for x in r.errors.first_lines] == ["e1", "c1"]


def test_several_uuids_and_cases():
    data = "\n".join([
        line(1, "INFO", "first [instance: %s] second" % U[1], U[0]),  # counts for U[0] only
        line(2, "INFO", "upper", U[0].upper()),
        line(3, "ERROR", "other", U[1]),
    ]).encode()
    r = scan([("nova-compute.log", data)])
    assert set(r) == {U[0], U[1]}
    assert r[U[0]].total == 2 and r[U[1]].total == 1 and r[U[1]].errors.count == 1


def test_rotated_members_merge_by_time_and_name_their_paths():
    new = "\n".join(line(100 + i, "INFO", "new %d" % i, U[0]) for i in range(30)).encode()
    old = "\n".join(line(i, "ERROR", "old %d" % i, U[0]) for i in range(30)).encode()
    r = scan([("nova-compute.log", new), ("nova-compute.log.1", old)], [333])[U[0]]
    assert r.paths == ["nova-compute.log", "nova-compute.log.1"]
    assert r.total == 60
    assert [x.split()[-1] for x in r.lines] == [str(i) for i in range(10, 30)]
    assert r.errors.count == 30 and [x.split()[-1] for x in r.errors.first_lines] == ["0", "1", "2", "3", "4"]


def test_uuid_cap(monkeypatch):
    monkeypatch.setattr(logs, "MAX_UUIDS", 2)
    data = "\n".join(line(i, "INFO", "x", u) for i, u in enumerate(U * 2)).encode()
    sc = NovaLogScanner()
    sc.start("nova-compute.log")
    sc.feed(data)
    sc.finish_member()
    assert set(sc.results()) == set(U[:2]) and sc.dropped_uuids == 2


def test_memory_does_not_grow_with_log_size():
    """Kept lines per UUID are bounded however long the log: 50,000 lines keep KEEP_LINES each."""
    sc = NovaLogScanner()
    sc.start("nova-compute.log")
    chunk = ("\n".join(line(i, "ERROR", "x", U[i % 3]) for i in range(5000)) + "\n").encode()
    for _ in range(10):
        sc.feed(chunk)
    sc.finish_member()
    for acc in sc._uuids.values():
        assert len(acc.kept) <= KEEP_LINES and len(acc.error_lines) <= 2 * KEEP_ERRORS
    assert sum(r.total for r in sc.results().values()) == 50000


def test_qemu_tail_is_bounded_and_keeps_the_last_lines():
    t = QemuTail("var/log/libvirt/qemu/instance-00000001.log")
    for i in range(20000):
        t.feed(b"line %d\n" % i)
    r = t.result()
    assert qemu_log.domain_name(t.path) == "instance-00000001"
    assert r.tail[-1] == "line 19999" and len(r.tail) == qemu_log.QEMU_TAIL_LINES
    assert len(t._tail) <= qemu_log.QEMU_TAIL_BYTES

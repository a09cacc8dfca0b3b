"""Instance events from the logs of a report: nova-compute (every rotated file, gzip too), the
per-domain qemu log and libvirtd.log, read from real tarballs the way the analyzer reads them.
Each event must carry the time the log wrote, whose clock it is, the logged message, and the
member and line a person can open to check it."""

import gzip
import random

import pytest

import sosbuilder as sb
from analyzer.archive import detect
from analyzer.archive.collect import Limits, read_archive
from analyzer.sources import libvirtd_log, nova_compute_log as ncl, qemu_log
from analyzer.sources.registry import SELECTION, read_all

U = "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"
T0 = sb._epoch("2025-11-19 08:00:00")
PEERS = {"migration-started": "compute-2", "migration-completed": None, "migration-failed": None}


def read_report(tmp_path, host, extra):
    path = sb.write_tarball(host, tmp_path, "xz", extra=extra)
    c = read_archive("r", str(path), detect.XZ, Limits(), SELECTION)
    events, problems = [], []
    for out in read_all(c):
        events += out.events
        problems += out.problems
    return events, problems, c


def host_without_own_log(**kw):
    h = sb.default_host(2, **kw)
    h.qemu_log = False
    return h


def of(events, uuid=U, path=None):
    return sorted((e.kind, e.time, e.message, e.line) for e in events
                  if e.uuid == uuid and (path is None or e.path == path))


def test_every_nova_event_kind_in_current_rotated_and_gzip_files(tmp_path):
    """Three rotated files in three releases' context formats: every event kind found, with the
    right time, clock, message, member and line (of the decompressed text for .gz)."""
    files, want = {}, {}
    for name, ctx, start in (("nova-compute.log", "zed", T0 + 7200), ("nova-compute.log.1", "pike", T0 + 3600),
                             ("nova-compute.log.2.gz", "old", T0)):
        text, expected = sb.nova_event_log(U, start, ctx=ctx)
        path = "var/log/nova/" + name
        files[path] = gzip.compress(text.encode()) if name.endswith(".gz") else text
        want[path] = expected
    events, problems, _ = read_report(tmp_path, host_without_own_log(), files)
    assert not problems
    for path, expected in want.items():
        assert of(events, path=path) == sorted(k[:4] for k in expected), path
    mine = [e for e in events if e.uuid == U]
    assert {e.kind for e in mine} == {k for k, *_ in sb.NOVA_EVENT_LINES}
    assert all(e.clock == "local" and e.domain_name is None for e in mine)
    # the error's traceback lines are the same record: one event, not five
    assert sum(1 for e in mine if e.kind == "error") == 3
    peers = {(e.kind, e.peer_host) for e in mine if e.kind.startswith("migration") or e.kind == "migrated-in"}
    assert ("migration-started", "compute-2") in peers
    assert ("migration-completed", "compute-2") in peers  # "Migrating instance to compute-2 finished ..."
    assert ("migration-failed", "compute-2") in peers  # "Pre live migration failed at compute-2: ..."
    assert ("migrated-in", None) in peers


@pytest.mark.parametrize("ctx", sorted(sb.OSLO_CONTEXTS))
def test_each_oslo_context_variant_in_a_container_log(tmp_path, ctx):
    """TripleO's path and PID 2 in a container, every context form oslo.log has written."""
    text, expected = sb.nova_event_log(U, T0, ctx=ctx, pid=2)
    h = host_without_own_log(containerized=True)
    events, _, _ = read_report(tmp_path, h, {"var/log/containers/nova/nova-compute.log": text})
    assert of(events, path="var/log/containers/nova/nova-compute.log") == sorted(k[:4] for k in expected)


def test_kolla_path_and_date_rotated_name(tmp_path):
    text, expected = sb.nova_event_log(U, T0)
    events, _, _ = read_report(tmp_path, host_without_own_log(),
                               {"var/log/kolla/nova/nova-compute.log-20251119.gz": gzip.compress(text.encode())})
    assert of(events) == sorted(k[:4] for k in expected)


def scan(members, sizes=(1 << 20,)):
    sc = ncl.NovaLogScanner()
    for path, data in members:
        sc.start(path)
        i = k = 0
        while i < len(data):
            n = sizes[k % len(sizes)]
            sc.feed(data[i:i + n])
            i, k = i + n, k + 1
        sc.finish_member()
    return sc.result()


def test_a_tag_that_is_no_uuid_names_no_instance():
    fake = "-" * 36
    lines = [sb.oslo_line(T0, "INFO", "nova.compute.manager", "VM Paused (Lifecycle Event)", instance=fake),
             sb.oslo_line(T0 + 1, "ERROR", "nova.compute.manager", "boom", instance="0" * 36),
             sb.oslo_line(T0 + 2, "INFO", "nova.compute.manager", "VM Resumed (Lifecycle Event)", instance=U)]
    r = scan([("nova-compute.log", ("\n".join(lines) + "\n").encode())])
    assert set(r.logs) == {U} and [(e.kind, e.line) for e in r.events] == [("resumed", 3)]
    assert r.dropped_uuids == 0


@pytest.mark.parametrize("seed", range(6))
def test_chunking_does_not_change_the_events(seed):
    rng = random.Random(seed)
    text, expected = sb.nova_event_log(U, T0, noise=rng.randint(0, 5))
    raw = text.encode()
    members = [("var/log/nova/nova-compute.log", raw.replace(b"\n", b"\r\n") if seed % 2 else raw),
               ("var/log/nova/nova-compute.log.1.gz", gzip.compress(raw))]
    sizes = [rng.randint(1, 700) for _ in range(4)]
    got = scan(members, sizes)
    for path, _ in members:
        assert of(got.events, path=path) == sorted(k[:4] for k in expected), (path, sizes)


def test_a_broken_gzip_is_a_problem_and_the_rest_is_still_read(tmp_path):
    text, expected = sb.nova_event_log(U, T0)
    whole = gzip.compress(text.encode())
    events, problems, c = read_report(tmp_path, host_without_own_log(), {
        "var/log/nova/nova-compute.log": text,
        "var/log/nova/nova-compute.log.1.gz": b"\x1f\x8b\x08\x00garbage, not deflate" * 10,
        "var/log/nova/nova-compute.log.2.gz": whole[:len(whole) // 2]})
    why = {p.path: p.reason for p in problems}
    assert "not a readable gzip file" in why["var/log/nova/nova-compute.log.1.gz"]
    assert "ends early" in why["var/log/nova/nova-compute.log.2.gz"]
    assert of(events, path="var/log/nova/nova-compute.log") == sorted(k[:4] for k in expected)
    # what the truncated file held before its end is read: its first events are there
    early = sorted((e.line, e.kind) for e in events if e.path == "var/log/nova/nova-compute.log.2.gz")
    assert 3 < len(early) < len(expected) and early == [(k[3], k[0]) for k in expected][:len(early)]


def test_huge_lines_are_bounded_and_do_not_hide_the_next_event():
    first = sb.oslo_line(T0, "ERROR", "nova.compute.manager", "Instance failed to spawn: " + "z" * (3 << 20),
                         instance=U)
    runaway = sb.oslo_line(T0 + 1, "INFO", "nova.compute.manager", "Rebooting instance", instance=U) + "y" * (9 << 20)
    after = sb.oslo_line(T0 + 2, "INFO", "nova.compute.manager", "VM Paused (Lifecycle Event)", instance=U)
    r = scan([("nova-compute.log", "\n".join([first, runaway, after, ""]).encode())], [1 << 20])
    kinds = [(e.kind, e.line) for e in r.events]
    assert kinds == [("error", 1), ("rebooted", 2), ("paused", 3)]
    assert all(len(e.message) <= ncl.MAX_LINE for e in r.events)


def test_events_per_instance_are_capped_and_the_rest_counted(tmp_path):
    """A guest that logs thousands of events keeps its earliest and its latest; the report says
    how many were left out; memory held per instance stays bounded while reading."""
    n = 3000
    lines = []
    for i in range(n):
        msg = "VM Paused (Lifecycle Event)" if i % 2 else "VM Resumed (Lifecycle Event)"
        lines.append(sb.oslo_line(T0 + i, "INFO", "nova.compute.manager", msg, instance=U, ctx="none"))
        if i % 3 == 0:
            lines.append(sb.oslo_line(T0 + i, "ERROR", "nova.compute.manager", "Error %d: boom" % i, instance=U))
    data = ("\n".join(lines) + "\n").encode()
    sc = ncl.NovaLogScanner()
    sc.start("var/log/nova/nova-compute.log")
    for i in range(0, len(data), 4096):
        sc.feed(data[i:i + 4096])
        acc = sc._uuids.get(U)
        if acc is not None:
            assert len(acc.events) <= ncl.EVENTS_HEAD + ncl.EVENTS_TAIL + ncl._SLACK
            assert len(acc.error_events) <= ncl.ERRORS_HEAD + ncl.ERRORS_TAIL + ncl._SLACK
    sc.finish_member()
    r = sc.result()
    kept = [e for e in r.events if e.kind != "error"]
    errors = [e for e in r.events if e.kind == "error"]
    assert len(kept) == ncl.EVENTS_HEAD + ncl.EVENTS_TAIL and len(errors) == ncl.ERRORS_HEAD + ncl.ERRORS_TAIL
    assert kept[0].line == 1 and kept[-1].message == "VM Paused (Lifecycle Event)"
    assert kept[-1].time == sb.oslo_line(T0 + n - 1, "INFO", "x", "y")[:23].replace(" ", "T")
    assert r.dropped_events == (n - len(kept)) + (n // 3 - len(errors)) and r.dropped_event_instances == 1
    # and the report says so
    events, problems, _ = read_report(tmp_path, host_without_own_log(), {"var/log/nova/nova-compute.log": data})
    assert len([e for e in events if e.uuid == U]) == len(r.events)
    assert any("%d events of 1 instances not kept" % r.dropped_events in p.reason for p in problems)


@pytest.mark.parametrize("order", ["newest first", "oldest first", "shuffled"])
def test_capped_events_are_the_earliest_and_latest_whatever_the_order_of_the_files(order):
    """Rotated files reach the scanner in archive order (often the newest first): the events kept
    are still the earliest and the latest by time of all of them, and every other one is counted."""
    rng = random.Random(7)
    kinds = {"VM Paused (Lifecycle Event)": "paused", "VM Resumed (Lifecycle Event)": "resumed",
             "Rebooting instance": "rebooted"}
    files, every = [], []
    for f in range(4):  # nova-compute.log.3 (the oldest) .. nova-compute.log
        lines = []
        for i in range(400):
            t = T0 + 100000 * (3 - f) + 60 * i
            msg = rng.choice(sorted(kinds))
            lines.append(sb.oslo_line(t, "INFO", "nova.compute.manager", msg, instance=U, ctx="none"))
            every.append((lines[-1][:23].replace(" ", "T"), kinds[msg]))
        files.append(("var/log/nova/nova-compute.log" + (".%d" % f if f else ""), ("\n".join(lines) + "\n").encode()))
    if order == "oldest first":
        files.reverse()
    elif order == "shuffled":
        rng.shuffle(files)
    r = scan(files, [4096, 70000])
    every.sort()
    want = every[:ncl.EVENTS_HEAD] + every[-ncl.EVENTS_TAIL:]
    assert sorted((e.time, e.kind) for e in r.events) == want
    assert r.dropped_events == len(every) - len(want)


def test_a_run_of_migration_progress_keeps_its_first_and_last():
    lines = [sb.oslo_line(T0, "INFO", "nova.compute.manager",
                          "Took 1.92 seconds for pre_live_migration on destination host compute-2.", instance=U)]
    for i in range(40):
        lines.append(sb.oslo_line(T0 + 30 * (i + 1), "INFO", "nova.virt.libvirt.driver",
                                  "Migration running for %d secs, memory %d%% remaining (bytes processed=1, "
                                  "remaining=1, total=2); disk 0%% remaining (bytes processed=0, remaining=0, "
                                  "total=0)." % (30 * (i + 1), 90 - 2 * i), instance=U))
    lines.append(sb.oslo_line(T0 + 1300, "INFO", "nova.virt.libvirt.driver", "Migration operation has completed",
                              instance=U))
    r = scan([("nova-compute.log", ("\n".join(lines) + "\n").encode())], [333])
    got = [(e.kind, e.line) for e in r.events]
    assert got == [("migration-started", 1), ("migration-progress", 2), ("migration-progress", 41),
                   ("migration-completed", 42)]
    assert r.events[2].message.startswith("Migration running for 1200 secs")


def test_bench_shaped_log_keeps_what_test_logs_expects():
    """The per-UUID NovaLog the scanner gave before is unchanged by the events (lines and counts)."""
    text, _ = sb.nova_event_log(U, T0)
    r = scan([("nova-compute.log", text.encode())])
    log = r.logs[U]
    tagged = [x for x in text.splitlines() if "[instance: %s]" % U in x]
    assert log.total == len(tagged) and log.lines == tagged[-ncl.KEEP_LINES:]


# --- qemu ---------------------------------------------------------------------------------------

def qemu_events(tmp_path, files):
    h = sb.default_host(1)
    h.qemu_log = False
    events, problems, c = read_report(tmp_path, h, files)
    return [e for e in events if e.clock == "utc" and e.path.startswith("var/log/libvirt/qemu/")], problems, c


def test_qemu_log_events_with_the_uuid_of_their_command_line(tmp_path):
    h = sb.default_host(1)
    g = h.guests[0]
    base = "var/log/libvirt/qemu/%s.log" % g.domain_name
    text = (sb.qemu_event_log(g, h, "2025-11-19 08:59:45", incoming=True, stop=None, migrate_out=True)
            + sb.qemu_event_log(g, h, "2025-11-19 12:00:00", signal=True, stop="destroyed"))
    old = sb.qemu_event_log(g, h, "2025-11-18 07:00:00", one_line=True, incoming=True, load_failed=True)
    evs, problems, c = qemu_events(tmp_path, {base: text, base + ".1": old})
    assert not problems
    got = sorted((e.path, e.line, e.kind, e.time, e.message) for e in evs)
    assert all(e.uuid == g.uuid and e.domain_name == g.domain_name for e in evs)
    lines, olds = text.splitlines(), old.splitlines()

    def at(ls, needle, nth=0):  # 1-based line of the nth line holding needle
        return [i + 1 for i, x in enumerate(ls) if needle in x][nth]

    banner = lines[0].split(": ", 1)[1]
    assert banner.startswith("starting up libvirt version: 9.0.0")
    assert got == sorted([
        (base, 1, "qemu-started", "2025-11-19T08:59:45.123", banner + " (-incoming defer)"),
        (base, at(lines, "initiating"), "migration-started", "2025-11-19T09:59:45.701", "initiating migration"),
        (base, at(lines, "reason=migrated"), "qemu-stopped", "2025-11-19T10:00:15.214", "shutting down, reason=migrated"),
        (base, at(lines, "starting up", 1), "qemu-started", "2025-11-19T12:00:00.123", banner),
        (base, at(lines, "terminating"), "qemu-stopped", "2025-11-19T14:00:00.002",
         "terminating on signal 15 from pid 1510 (/usr/sbin/libvirtd)"),
        (base, at(lines, "reason=destroyed"), "qemu-stopped", "2025-11-19T14:00:00.514",
         "shutting down, reason=destroyed"),
        (base + ".1", 1, "qemu-started", "2025-11-18T07:00:00.123", banner + " (-incoming defer)"),
        (base + ".1", 4, "migration-failed", "2025-11-18T07:00:30.771", "load of migration failed: Input/output error"),
        (base + ".1", 5, "qemu-stopped", "2025-11-18T07:00:30.900", "shutting down, reason=failed"),
    ]), got
    assert at(lines, "starting up", 1) == 20 and len(olds) == 5  # the old one-line command line
    # the tail (for the guest's log panel) is the current file's only
    tails = [t.path for t in c.streams["qemu_log"].tails]
    assert tails == [base]


def test_qemu_events_before_any_command_line_get_the_files_one_uuid(tmp_path):
    h = sb.default_host(1)
    g = h.guests[0]
    text = sb.qemu_event_log(g, h, "2025-11-19 08:59:45", stop="shutdown")
    # the file begins after the start (rotated by size): first a stop, then a whole boot
    head = "2025-11-19 08:00:00.001+0000: shutting down, reason=crashed\n"
    evs, _, _ = qemu_events(tmp_path, {"var/log/libvirt/qemu/%s.log" % g.domain_name: head + text})
    n = len(text.splitlines())
    assert [(e.kind, e.line, e.uuid) for e in evs] == [("qemu-stopped", 1, g.uuid), ("qemu-started", 2, g.uuid),
                                                     ("qemu-stopped", n + 1, g.uuid)]


def test_qemu_log_without_uuid_gives_the_domain_name_only(tmp_path):
    evs, _, _ = qemu_events(tmp_path, {"var/log/libvirt/qemu/web-01.log":
                                       "2025-11-19 08:00:00.001+0000: shutting down, reason=destroyed\n"})
    assert [(e.kind, e.uuid, e.domain_name) for e in evs] == [("qemu-stopped", None, "web-01")]


def test_qemu_events_are_capped_per_file():
    t = qemu_log.QemuEvents("var/log/libvirt/qemu/instance-00000001.log")
    t.feed(b"".join(b"2025-11-19 08:00:%02d.001+0000: shutting down, reason=destroyed\n" % (i % 60)
                    for i in range(1000)))
    t.finish()
    evs = t.events()
    assert len(evs) == qemu_log.EVENTS_HEAD + qemu_log.EVENTS_TAIL and t.dropped == 1000 - len(evs)
    assert evs[0].line == 1 and evs[-1].line == 1000


# --- libvirtd -------------------------------------------------------------------------------------

def test_libvirtd_errors_that_name_a_domain(tmp_path):
    t = sb._epoch("2025-11-19 10:02:11") + 0.801
    text = sb.libvirtd_log([
        (t - 5, 1531, "info", "virObjectUnref:340", "OBJECT_UNREF: obj=0x7f"),
        (t, 1534, "error", "qemuProcessReportLogError:2051", "internal error: QEMU unexpectedly closed the monitor "
         "(vm='instance-00000002'): 2025-11-19T10:02:11.771552Z qemu-system-x86_64: load of migration failed"),
        (t + 1, 1533, "error", "qemuMonitorIORead:421", "Unable to read from monitor: Connection reset by peer"),
        (t + 2, 1531, "error", "virDomainObjListFindByUUID:102", "Domain not found: no domain with matching uuid "
         "'%s' (instance-00000001)" % U),
        (t + 3, 1531, "warning", "qemuDomainObjTaint:6120", "Domain id=3 name='instance-00000001' is tainted"),
    ])
    events, _, _ = read_report(tmp_path, host_without_own_log(), {"var/log/libvirt/virtqemud.log": text})
    got = [(e.kind, e.time, e.clock, e.line, e.uuid, e.domain_name, e.path) for e in events
           if e.path.endswith("virtqemud.log")]
    assert got == [("error", "2025-11-19T10:02:11.801", "utc", 2, None, "instance-00000002",
                    "var/log/libvirt/virtqemud.log"),
                   ("error", "2025-11-19T10:02:13.801", "utc", 4, U, "instance-00000001",
                    "var/log/libvirt/virtqemud.log")]


def test_libvirtd_errors_are_capped_per_domain():
    sc = libvirtd_log.LibvirtdLogScanner()
    sc.start("var/log/libvirt/libvirtd.log")
    sc.feed(sb.libvirtd_log([(T0 + i, 1, "error", "f:1", "End of file from qemu monitor (vm='a')")
                             for i in range(500)]).encode())
    sc.finish_member()
    r = sc.result()
    assert len(r.events) == libvirtd_log.ERRORS_HEAD + libvirtd_log.ERRORS_TAIL
    assert r.dropped_events == 500 - len(r.events) and r.events[0].line == 1 and r.events[-1].line == 500


@pytest.mark.parametrize("module", ["analyzer.parsers.nova_log", "analyzer.parsers.qemu_log",
                                    "analyzer.parsers.libvirt_log", "analyzer.parsers.gzip_stream",
                                    "analyzer.sources.qemu_log"])
def test_the_samples_in_the_parsers_docstrings_hold(module):
    import doctest
    import importlib
    m = importlib.import_module(module)
    result = doctest.testmod(m)
    assert result.attempted and not result.failed

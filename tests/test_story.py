"""Each instance's story across hosts: log events in UTC whatever the host's clock, kept once per
host, migrations paired from both sides, and the findings told with them."""

from analyzer import analysis
from analyzer.build import Built
from analyzer.model import Flavor, Guest, LogEvent, NovaMeta, Owner, Person, Report
from analyzer.run import Outcome

U = "3f2b9c1e-0000-4000-8000-00000000aaaa"
NOVA_LOG = "var/log/nova/nova-compute.log"


def _report(rid, host, at, offset):
    return Report(id=rid, path="/cases/%s.tar.xz" % rid, hostname=host, collected_at=at, utc_offset=offset)


def _guest(rid, host, state, name="instance-0000002a"):
    return Guest(uuid=U, domain_name=name, display_name="web-01", host=host, report=rid, state=state,
                 nova=NovaMeta(namespace="n", display_name="web-01", creation_time="2025-11-19T07:00:00Z",
                               flavor=Flavor(name="m1.small"),
                               owner=Owner(user=Person("u1", "alice"), project=Person("p1", "shop"))))


def _nova(kind, time, msg, line, peer=None):
    return LogEvent(kind=kind, time=time, clock="local", message=msg, path=NOVA_LOG, line=line, uuid=U, peer_host=peer)


def _case(*, failed=False, offset_1="+01:00"):
    """compute-1 (UTC+1) migrates web-01 to compute-2 (UTC-5), which logs the arrival; compute-1
    was reported twice and keeps a shut-off copy."""
    r1 = _report("r1", "compute-1", "2025-11-19T08:55:00Z", offset_1)
    r2 = _report("r2", "compute-1", "2025-11-19T09:10:00Z", offset_1)
    r3 = _report("r3", "compute-2", "2025-11-19T09:12:00Z", "-05:00")
    src = [_nova("migration-started", "2025-11-19T09:59:30.100", "Took 1.20 seconds for pre_live_migration on "
                 "destination host compute-2.", 10, "compute-2")]
    if failed:
        src.append(_nova("migration-failed", "2025-11-19T09:59:50.000", "Live Migration failure: operation failed", 11))
    else:
        src.append(_nova("migration-completed", "2025-11-19T09:59:45.500",
                         "Migrating instance to compute-2 finished successfully.", 12, "compute-2"))
    dst = [_nova("migrated-in", "2025-11-19T03:59:44.000", "Post operation of migration started", 7),
           LogEvent(kind="qemu-started", time="2025-11-19T08:59:31.000", clock="utc", message="starting up (-incoming defer)",
                    path="var/log/libvirt/qemu/instance-00000031.log", line=1, domain_name="instance-00000031")]
    reads = {
        "r1": Built(r1, [_guest("r1", "compute-1", "running")], list(src)),
        # the newer report of compute-1 holds the same log lines again, and the shut-off leftover
        "r2": Built(r2, [_guest("r2", "compute-1", "shut off")], list(src)),
        "r3": Built(r3, [_guest("r3", "compute-2", "paused" if failed else "running", "instance-00000031")], dst),
    }
    return analysis.document(Outcome([r1, r2, r3], reads, [], []))


def test_events_are_in_utc_in_order_and_kept_once_per_host():
    (inst,) = _case().instances
    logged = [(e.time, e.host, e.kind) for e in inst.events if e.kind not in ("collected", "created")]
    assert logged == [
        ("2025-11-19T08:59:30.100Z", "compute-1", "migration-started"),
        ("2025-11-19T08:59:31.000Z", "compute-2", "qemu-started"),
        ("2025-11-19T08:59:44.000Z", "compute-2", "migrated-in"),
        ("2025-11-19T08:59:45.500Z", "compute-1", "migration-completed"),
    ]
    assert all(e.time_is_utc and e.time.endswith("Z") for e in inst.events)
    (started,) = [e for e in inst.events if e.kind == "migration-started"]
    assert (started.report, started.evidence.path, started.evidence.line) == ("r1", NOVA_LOG, 10)


def test_a_migration_logged_on_both_sides_is_one_move_with_both_hosts():
    (inst,) = _case().instances
    (m,) = inst.migrations
    assert (m.source, m.destination, m.outcome, m.kind) == ("compute-1", "compute-2", "completed", "live")
    arrivals = [e for e in inst.events if e.kind in ("migrated-in", "qemu-started")]
    assert [e.peer_host for e in arrivals] == ["compute-1", "compute-1"]
    assert sorted((h.host, h.state, h.defined) for h in inst.hosts) == [
        ("compute-1", "shut off", True), ("compute-2", "running", True)]
    assert (inst.project.name, inst.user.name) == ("shop", "alice")


def test_the_leftover_finding_names_the_migration_and_the_host_holding_the_leftover():
    doc = _case()
    (f,) = [f for f in doc.findings if f.code == "uuid-on-multiple-hosts"]
    assert f.severity == "warning"
    assert "migrated from compute-1 to compute-2" in f.message
    assert "the definition on compute-1 is the leftover" in f.message
    assert "leftover of a migration or evacuation?" not in f.message
    assert any(e.path == NOVA_LOG + ":12" for e in f.evidence)


def test_a_failed_migration_says_so_and_where_its_leftover_is():
    doc = _case(failed=True)
    (inst,) = doc.instances
    (m,) = inst.migrations
    assert (m.source, m.destination, m.outcome) == ("compute-1", "compute-2", "failed")
    (f,) = [f for f in doc.findings if f.code == "uuid-on-multiple-hosts"]
    assert "failed" in f.message and "the definition on compute-2 is the leftover" in f.message
    assert "the instance is on compute-1" in f.message


def test_a_host_whose_clock_is_unknown_keeps_local_times_marked_so():
    (inst,) = _case(offset_1=None).instances
    local = [e for e in inst.events if e.host == "compute-1" and e.kind.startswith("migration")]
    assert local and all(not e.time_is_utc and not e.time.endswith("Z") for e in local)


def test_an_instance_only_logs_mention_is_still_an_instance():
    r = _report("r1", "compute-9", "2025-11-19T09:00:00Z", "+00:00")
    other = "77777777-0000-4000-8000-000000000007"
    ev = LogEvent(kind="migration-completed", time="2025-11-19T08:00:00", clock="local", path=NOVA_LOG, line=3,
                  message="Migrating instance to compute-1 finished successfully.", uuid=other, peer_host="compute-1")
    doc = analysis.document(Outcome([r], {"r1": Built(r, [], [ev])}, [], []))
    (inst,) = doc.instances
    assert inst.uuid == other and [(h.host, h.defined, h.state) for h in inst.hosts] == [("compute-9", False, None)]
    assert [e.kind for e in inst.events] == ["migration-completed"]


def test_a_run_of_the_same_event_is_one_entry_that_counts_the_rest():
    r = _report("r1", "compute-1", "2025-11-19T09:00:00Z", "+00:00")
    line = "Instance shutdown by itself. Calling the stop API. Current vm_state: active"
    evs = [_nova("shutdown-by-itself", "2025-11-19T08:%02d:00" % m, line, m) for m in range(10, 15)]
    evs.insert(2, _nova("started", "2025-11-19T08:11:30", "VM Started (Lifecycle Event)", 99))
    doc = analysis.document(Outcome([r], {"r1": Built(r, [_guest("r1", "compute-1", "running")], evs)}, [], []))
    (inst,) = doc.instances
    got = [(e.kind, e.time, e.repeated, e.last_time) for e in inst.events if e.kind not in ("created", "collected")]
    assert got == [("shutdown-by-itself", "2025-11-19T08:10:00Z", 1, "2025-11-19T08:11:00Z"),
                   ("started", "2025-11-19T08:11:30Z", 0, None),
                   ("shutdown-by-itself", "2025-11-19T08:12:00Z", 2, "2025-11-19T08:14:00Z")]

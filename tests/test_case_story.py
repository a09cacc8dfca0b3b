"""End to end: a case of two hosts in different time zones, written the way sos and nova-compute
write them, told as one story per instance (issue acceptance for the case over time)."""

import calendar
import gzip
import json
import os
import shutil
import tempfile
import time

import pytest

from analyzer.cli import main
from tests.sosbuilder import GuestSpec, HostSpec, oslo_line, qemu_event_log, write_tarball

SHOP = ("aaaa0000aaaa0000aaaa0000aaaa0001", "shop")
U1, U2, U3 = ("3f2b9c1e-0000-4000-8000-0000000000%02d" % i for i in (1, 2, 3))
CET, EST = 60, -300


def _utc(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%d %H:%M:%S"))


def _nova(ts_utc, offset, level, logger, msg, uuid, ctx="zed"):
    """A nova-compute line as the host's local clock writes it."""
    return oslo_line(_utc(ts_utc) + 60 * offset, level, logger, msg, instance=uuid, ctx=ctx)


def _log(*lines):
    return "\n".join(lines) + "\n"


def _guest(uuid, name, display, **kw):
    return GuestSpec(uuid=uuid, domain_name=name, display_name=display, project=SHOP, **kw)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("story")
    # compute-1 (CET): web-01 leaves for compute-2; db is paused, then resumed; app reboots after a
    # failed migration. Older lines sit in the rotated .log.1 and .log.2.gz.
    oldest = _log(_nova("2026-11-18 12:00:00", CET, "INFO", "nova.compute.claims", "Claim successful on node compute-1", U1),
                  _nova("2026-11-18 12:00:09", CET, "INFO", "nova.virt.libvirt.driver", "Instance spawned successfully.", U1, "none"))
    older = _log(_nova("2026-11-20 08:40:00", CET, "ERROR", "nova.virt.libvirt.driver",
                       "Live Migration failure: operation failed: Failed to connect to remote libvirt URI "
                       "qemu+tcp://compute-2/system: Connection refused", U3),
                 _nova("2026-11-20 08:41:00", CET, "INFO", "nova.compute.manager", "Rebooting instance", U3))
    current = _log(_nova("2026-11-20 08:50:00", CET, "INFO", "nova.compute.manager", "VM Paused (Lifecycle Event)", U2, "none"),
                   _nova("2026-11-20 08:59:30", CET, "INFO", "nova.compute.manager",
                         "Took 1.20 seconds for pre_live_migration on destination host compute-2.", U1),
                   _nova("2026-11-20 08:59:45", CET, "INFO", "nova.compute.manager",
                         "Migrating instance to compute-2 finished successfully.", U1))
    resumed = current + _log(_nova("2026-11-20 09:03:00", CET, "INFO", "nova.compute.manager",
                                   "VM Resumed (Lifecycle Event)", U2, "none"))
    logs_1 = {"var/log/nova/nova-compute.log.2.gz": gzip.compress(oldest.encode(), mtime=0),
              "var/log/nova/nova-compute.log.1": older}
    leftover = _guest(U1, "instance-00000011", "web-01", state="shut off", state_reason="migrated")
    app = _guest(U3, "instance-00000013", "app-1")
    a1 = HostSpec(hostname="compute-1", collected_at="2026-11-20 10:00:00", utc_offset_minutes=CET, zone="CET",
                  label="before", qemu_log=False, guests=[leftover, _guest(U2, "instance-00000012", "db", state="paused",
                                                           state_reason="user"), app])
    a2 = HostSpec(hostname="compute-1", collected_at="2026-11-20 10:07:00", utc_offset_minutes=CET, zone="CET",
                  label="after", qemu_log=False, guests=[leftover, _guest(U2, "instance-00000012", "db", state="running",
                                                          state_reason="unpaused"), app])
    arrived = _guest(U1, "instance-00000031", "web-01", state="running", state_reason="migrated")
    b = HostSpec(hostname="compute-2", collected_at="2026-11-20 04:05:00", utc_offset_minutes=EST, zone="EST",
                 guests=[arrived])
    paths = {}
    for name, host, extra in (
            ("a1", a1, {**logs_1, "var/log/nova/nova-compute.log": current}),
            ("a2", a2, {**logs_1, "var/log/nova/nova-compute.log": resumed}),
            ("b", b, {"var/log/nova/nova-compute.log": _log(_nova(
                "2026-11-20 08:59:44", EST, "INFO", "nova.compute.manager", "Post operation of migration started", U1)),
                "var/log/libvirt/qemu/instance-00000031.log": qemu_event_log(
                    arrived, b, "2026-11-20 08:59:31", incoming=True, stop=None)})):
        d = tmp / name
        d.mkdir()
        paths[name] = write_tarball(host, d, extra=extra)
    (tmp / "again").mkdir()
    paths["again"] = shutil.copy(paths["a1"], tmp / "again" / "sosreport-copy.tar.xz")
    return paths


def _json(*paths, args=()):
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    rc = main([*map(str, paths), "--format", "json", "-o", out, "-q", *args])
    with open(out, encoding="utf-8") as f:
        return rc, json.load(f)


@pytest.fixture(scope="module")
def doc(case):
    rc, d = _json(case["b"], case["a2"], case["a1"], case["again"])
    assert rc == 0
    return d


def _inst(doc, uuid):
    (i,) = [i for i in doc["instances"] if i["uuid"] == uuid]
    return i


def test_hosts_guests_and_current_states(doc):
    assert [(h["name"], len(h["reports"])) for h in doc["hosts"]] == [("compute-2", 1), ("compute-1", 2)]
    got = sorted((g["host"], g["uuid"], g["state"]) for g in doc["guests"])
    assert got == [("compute-1", U1, "shut off"), ("compute-1", U2, "running"), ("compute-1", U3, "running"),
                   ("compute-2", U1, "running")]


def test_no_duplicate_findings_and_the_leftover_is_explained(doc):
    keys = [(f["code"], tuple(f["guests"]), tuple(f["hosts"])) for f in doc["findings"]]
    assert len(keys) == len(set(keys))
    assert not [f for f in doc["findings"] if f["code"] == "abnormal-state"]  # db was resumed since
    (f,) = [f for f in doc["findings"] if f["code"] == "uuid-on-multiple-hosts"]
    assert f["severity"] == "warning"
    assert "migrated from compute-1 to compute-2 at 2026-11-20T08:59:45" in f["message"]
    assert "the definition on compute-1 is the leftover" in f["message"]
    assert any(e["path"] == "var/log/nova/nova-compute.log:3" for e in f["evidence"])


def test_the_migration_is_in_utc_order_and_paired_from_both_sides(doc):
    web = _inst(doc, U1)
    moves = [(e["time"][:19], e["host"], e["kind"], e["peer_host"]) for e in web["events"]
             if e["kind"].startswith("migra") or e["kind"] == "qemu-started"]
    assert moves == [("2026-11-20T08:59:30", "compute-1", "migration-started", "compute-2"),
                     ("2026-11-20T08:59:31", "compute-2", "qemu-started", "compute-1"),
                     ("2026-11-20T08:59:44", "compute-2", "migrated-in", "compute-1"),
                     ("2026-11-20T08:59:45", "compute-1", "migration-completed", "compute-2")]
    assert [(m["source"], m["destination"], m["outcome"]) for m in web["migrations"]] == [
        ("compute-1", "compute-2", "completed")]
    times = [e["time"] for e in web["events"]]
    assert all(t.endswith("Z") for t in times) and times == sorted(times)


def test_rotated_and_gzipped_logs_are_part_of_the_story(doc):
    web = _inst(doc, U1)
    early = [(e["kind"], e["evidence"]["path"]) for e in web["events"] if e["kind"] in ("claimed", "spawned")]
    assert early == [("claimed", "var/log/nova/nova-compute.log.2.gz"), ("spawned", "var/log/nova/nova-compute.log.2.gz")]
    app = [(e["kind"], e["time"][:19]) for e in _inst(doc, U3)["events"] if e["kind"] in ("migration-failed", "rebooted")]
    assert app == [("migration-failed", "2026-11-20T08:40:00"), ("rebooted", "2026-11-20T08:41:00")]
    (failed,) = _inst(doc, U3)["migrations"]
    assert failed["outcome"] == "failed" and failed["source"] == "compute-1"


def test_a_pause_then_a_resume_and_the_change_between_reports(doc):
    db = [e["kind"] for e in _inst(doc, U2)["events"] if e["kind"] in ("paused", "resumed", "collected")]
    assert db == ["paused", "collected", "resumed", "collected"]
    assert [(c["uuid"], c["field"], c["before"], c["after"]) for c in doc["changes"]] == [
        (U2, "state", "paused", "running")]


def test_each_log_line_counts_once_whichever_reports_hold_it(doc):
    web = _inst(doc, U1)
    kinds = [e["kind"] for e in web["events"] if e["kind"] not in ("collected", "created")]
    assert len(kinds) == len(set(kinds))
    r = {x["path"].rsplit("/", 2)[-2]: x for x in doc["reports"]}
    assert r["again"]["duplicate_of"] == r["a1"]["id"]

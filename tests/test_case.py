"""A case over time: several hosts, each seen in one or more reports, told apart and ordered, with
what changed between a host's reports; the same report given twice counts once."""

import copy
import json
import shutil

import pytest

from analyzer.cli import main
from tests.sosbuilder import GuestSpec, HostSpec, write_tarball

P1 = ("aaaa0000aaaa0000aaaa0000aaaa0001", "shop")
P2 = ("bbbb0000bbbb0000bbbb0000bbbb0002", "billing")


def _u(n):
    return "%08x-1111-4111-8111-%012x" % (n, n)


def _g(n, **kw):
    kw.setdefault("display_name", "vm-%d" % n)
    return GuestSpec(uuid=_u(n), domain_name="instance-%08x" % n, **kw)


def _run(*inputs, args=()):
    import tempfile
    import os
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    rc = main([*map(str, inputs), "--format", "json", "-o", out, "-q", *args])
    with open(out, encoding="utf-8") as f:
        return rc, json.load(f)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("case")
    before = [_g(1, display_name="web-01", project=P1), _g(2, memory_mib=2048),
              _g(3, state="paused", state_reason="user"), _g(6)]
    after = copy.deepcopy(before)
    after[0].state, after[0].state_reason = "shut off", "shutdown"
    after[1].memory_mib = 4096
    after[2].state, after[2].state_reason = "running", "unpaused"
    del after[3]
    after.append(_g(7))
    a1 = HostSpec(hostname="compute-1", guests=before, collected_at="2026-11-20 10:00:00",
                  utc_offset_minutes=60, zone="CET", label="first")
    a2 = HostSpec(hostname="compute-1", guests=after, collected_at="2026-11-20 10:07:00",
                  utc_offset_minutes=60, zone="CET", label="second",
                  packages={"nova": "3:27.2.0-0ubuntu1", "libvirt": "9.0.0-4", "qemu": "1:7.2+dfsg-7"})
    b = HostSpec(hostname="compute-2", guests=[_g(5, display_name="web-01", project=P2)],
                 collected_at="2026-11-20 04:03:00", utc_offset_minutes=-300, zone="EST")
    twin1 = HostSpec(hostname="compute-3", guests=[_g(8)], machine_id="1" * 32, label="x")
    twin2 = HostSpec(hostname="compute-3", guests=[_g(9)], machine_id="2" * 32, label="y")
    paths = {}
    for name, h in (("a2", a2), ("a1", a1), ("b", b), ("t1", twin1), ("t2", twin2)):
        d = tmp / name
        d.mkdir()
        paths[name] = write_tarball(h, d)
    again = tmp / "again"
    again.mkdir()
    paths["a1-again"] = shutil.copy(paths["a1"], again / "copy-of-first.tar.xz")
    return paths


@pytest.fixture(scope="module")
def doc(case):
    rc, d = _run(case["a2"], case["a1"], case["b"], case["a1-again"], case["t1"], case["t2"])
    assert rc == 0
    return d


def test_reports_are_grouped_into_hosts_oldest_first(doc):
    r = {x["path"].rsplit("/", 2)[-2]: x for x in doc["reports"]}
    hosts = {h["name"]: h for h in doc["hosts"]}
    assert sorted(hosts) == ["compute-1", "compute-2", "compute-3 [11111111]", "compute-3 [22222222]"]
    assert hosts["compute-1"]["reports"] == [r["a1"]["id"], r["a2"]["id"]]
    assert hosts["compute-1"]["latest_report"] == r["a2"]["id"]
    assert r["a1"]["host"] == r["a2"]["host"] == "compute-1"
    assert doc["schema_version"] == 2


def test_each_report_says_its_clock_and_collection_time_in_utc(doc):
    r = {x["path"].rsplit("/", 2)[-2]: x for x in doc["reports"]}
    assert (r["a1"]["utc_offset"], r["a1"]["collected_at"]) == ("+01:00", "2026-11-20T09:00:00Z")
    assert (r["b"]["utc_offset"], r["b"]["collected_at"]) == ("-05:00", "2026-11-20T09:03:00Z")


def test_the_same_report_twice_is_read_once_and_said(doc):
    r = {x["path"].rsplit("/", 2)[-2]: x for x in doc["reports"]}
    assert r["again"]["duplicate_of"] == r["a1"]["id"]
    assert r["a1"]["duplicate_of"] is None
    assert r["again"]["id"] not in [i for h in doc["hosts"] for i in h["reports"]]
    assert sorted(g["uuid"] for g in doc["guests"]) == sorted({g["uuid"] for g in doc["guests"]})
    assert doc["total_guests"] == len(doc["guests"]) == 8


def test_one_guest_per_host_and_uuid_from_the_newest_report(doc):
    r = {x["path"].rsplit("/", 2)[-2]: x["id"] for x in doc["reports"]}
    g = {x["uuid"]: x for x in doc["guests"]}
    assert (g[_u(1)]["state"], g[_u(1)]["report"], g[_u(1)]["reports"]) == ("shut off", r["a2"], [r["a1"], r["a2"]])
    assert g[_u(2)]["memory_mb"] == 4096
    assert g[_u(6)]["in_latest_report"] is False and g[_u(6)]["reports"] == [r["a1"]]
    assert g[_u(7)]["in_latest_report"] is True and g[_u(7)]["reports"] == [r["a2"]]
    assert {g[_u(8)]["host"], g[_u(9)]["host"]} == {"compute-3 [11111111]", "compute-3 [22222222]"}


def test_findings_are_about_each_hosts_current_view(doc):
    codes = [(f["code"], tuple(f["guests"])) for f in doc["findings"]]
    assert len(codes) == len(set(codes)), codes  # the duplicate and the older report add nothing
    # paused in the first report, running in the newest: nothing to say
    assert not [f for f in doc["findings"] if f["code"] == "abnormal-state"]
    # one hostname, two machines: nothing is "on several hosts" that is not
    assert not [f for f in doc["findings"] if f["code"] == "uuid-on-multiple-hosts"]


def test_changes_between_the_reports_of_a_host_are_exactly_what_changed(doc):
    r = {x["path"].rsplit("/", 2)[-2]: x["id"] for x in doc["reports"]}
    got = sorted((c["host"], c["from_report"], c["to_report"], c["uuid"] or "", c["field"], json.dumps(c["before"]),
                  json.dumps(c["after"])) for c in doc["changes"])
    a1, a2 = r["a1"], r["a2"]
    want = sorted([
        ("compute-1", a1, a2, "", "packages.nova", '"3:27.1.0-0ubuntu1"', '"3:27.2.0-0ubuntu1"'),
        ("compute-1", a1, a2, _u(1), "state", '"running"', '"shut off"'),
        ("compute-1", a1, a2, _u(2), "memory_mb", "2048", "4096"),
        ("compute-1", a1, a2, _u(3), "state", '"paused"', '"running"'),
        ("compute-1", a1, a2, _u(6), "guest", '"present"', '"absent"'),
        ("compute-1", a1, a2, _u(7), "guest", '"absent"', '"present"'),
    ])
    assert got == want


def test_instances_tell_the_two_web01_apart_by_project(doc):
    webs = [i for i in doc["instances"] if i["display_name"] == "web-01"]
    assert sorted((i["uuid"], i["project"]["name"], [h["host"] for h in i["hosts"]]) for i in webs) == [
        (_u(1), "shop", ["compute-1"]), (_u(5), "billing", ["compute-2"])]
    (one,) = [i for i in webs if i["uuid"] == _u(1)]
    collected = [(e["time"], e["report"]) for e in one["events"] if e["kind"] == "collected"]
    assert [t for t, _ in collected] == ["2026-11-20T09:00:00Z", "2026-11-20T09:07:00Z"]
    assert all(e["time_is_utc"] for e in one["events"])


def test_guest_query_keeps_the_instances_it_matched(case):
    rc, d = _run(case["a2"], case["a1"], case["b"], args=("--guest", "web-01"))
    assert rc == 0
    assert sorted(i["uuid"] for i in d["instances"]) == [_u(1), _u(5)]
    assert all(c["uuid"] in (None, _u(1), _u(5)) for c in d["changes"])

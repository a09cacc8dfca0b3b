"""Findings, both directions: each code fires on the guest that has the problem and on no other;
a healthy guest (flavor matches, running, booted by the installed Nova) gets no finding at all."""

import json

import pytest

from analyzer import findings as F
from analyzer.cli import main
from analyzer.model import Finding, Guest, NovaMeta, Report
from tests.sosbuilder import GuestSpec, HostSpec, write_collect_bundle, write_tarball

NS = "http://openstack.org/xmlns/libvirt/nova/1.1"


def uid(n):
    return "%08d-0000-4000-8000-%012d" % (n, n)


HEALTHY = GuestSpec(uuid=uid(1), domain_name="instance-00000001", display_name="healthy", nova_version="27.1.0")
TRIGGERS = {
    # code: the guest that must trigger it (every other field healthy)
    "nova-version-mismatch": GuestSpec(uuid=uid(2), domain_name="instance-00000002", display_name="old-juno",
                                       nova_version="2014.2.1", nova_ns="1.0", schema="juno"),
    "flavor-resource-mismatch": GuestSpec(uuid=uid(3), domain_name="instance-00000003", display_name="resized",
                                          flavor_memory_mib=4096, flavor_vcpus=4),
    "no-nova-metadata": GuestSpec(uuid=uid(4), domain_name="hand-made", display_name=None),
    "abnormal-state": GuestSpec(uuid=uid(5), domain_name="instance-00000005", display_name="stuck",
                                state="paused", state_reason="ioerror"),
    "nova-log-errors": GuestSpec(uuid=uid(6), domain_name="instance-00000006", display_name="erroring",
                                 nova_log_errors=["Failed to attach volume", "Instance failed to spawn"]),
    "config-drift": GuestSpec(uuid=uid(7), domain_name="instance-00000007", display_name="drifted",
                              live_xml_overrides={"memory_mib": 8192}),
    "transient-nova-guest": GuestSpec(uuid=uid(8), domain_name="instance-00000008", display_name="transient",
                                      persistent=False),
}
DUP_A = GuestSpec(uuid=uid(9), domain_name="instance-00000009", display_name="web-01")
DUP_B = GuestSpec(uuid=uid(10), domain_name="instance-0000000a", display_name="web-01")
MOVED = GuestSpec(uuid=uid(11), domain_name="instance-0000000b", display_name="moved")
MOVED_LEFTOVER = GuestSpec(uuid=uid(11), domain_name="instance-0000000b", display_name="moved", state="shut off",
                           state_reason="migrated")


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    d = tmp_path_factory.mktemp("findings")
    host1 = HostSpec(hostname="compute-1", guests=[HEALTHY, *TRIGGERS.values(), DUP_A, DUP_B, MOVED])
    host2 = HostSpec(hostname="compute-2", guests=[MOVED_LEFTOVER])
    bundle = write_collect_bundle([host1, host2], d / "bundle", compression="none")
    out = d / "out.json"
    assert main(["--format", "json", "-o", str(out), "-q", str(bundle)]) == 0
    return json.loads(out.read_text())


def _codes_for(doc, uuid):
    return sorted(f["code"] for f in doc["findings"] if uuid in f["guests"])


def test_healthy_guest_gets_no_finding(doc):
    assert _codes_for(doc, HEALTHY.uuid) == []


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_code_fires_on_its_guest_and_no_other(doc, code):
    hits = [f for f in doc["findings"] if f["code"] == code]
    assert [f["guests"] for f in hits] == [[TRIGGERS[code].uuid]], hits
    f = hits[0]
    assert f["hosts"] == ["compute-1"] and f["message"].endswith((".", "?"))
    assert f["evidence"] and all("what" in e and "value" in e for e in f["evidence"])
    assert _codes_for(doc, TRIGGERS[code].uuid) == [code]  # and nothing else fires on it


def test_version_mismatch_names_both_versions_and_series(doc):
    (f,) = [f for f in doc["findings"] if f["code"] == "nova-version-mismatch"]
    assert "2014.2.1 (Juno)" in f["message"] and "3:27.1.0-0ubuntu1 (2023.1 Antelope)" in f["message"]
    assert f["severity"] == "warning"


def test_log_errors_give_count_and_lines(doc):
    (f,) = [f for f in doc["findings"] if f["code"] == "nova-log-errors"]
    assert "2 ERROR/CRITICAL" in f["message"]
    assert any("Failed to attach volume" in line for line in f["evidence"][0]["value"])


def test_shared_display_name_lists_every_instance(doc):
    (f,) = [f for f in doc["findings"] if f["code"] == "display-name-shared"]
    assert f["guests"] == sorted([DUP_A.uuid, DUP_B.uuid]) and f["severity"] == "info"


def test_uuid_on_two_hosts_is_a_warning_when_it_runs_on_one(doc):
    (f,) = [f for f in doc["findings"] if f["code"] == "uuid-on-multiple-hosts"]
    assert f["guests"] == [MOVED.uuid] and f["hosts"] == ["compute-1", "compute-2"]
    assert f["severity"] == "warning"


def test_findings_are_ordered_by_severity_then_host(doc):
    rank = {"critical": 0, "warning": 1, "info": 2}
    keys = [(rank[f["severity"]], f["hosts"][0]) for f in doc["findings"]]
    assert keys == sorted(keys)


def _g(uuid, host, state="running", **kw):
    return Guest(uuid=uuid, host=host, report=host, state=state, **kw)


def test_uuid_running_on_two_hosts_is_critical():
    fs = F.find([], [_g(uid(1), "a"), _g(uid(1), "b")])
    assert [(f.code, f.severity) for f in fs] == [("uuid-on-multiple-hosts", "critical")]
    assert "split-brain" in fs[0].message


def test_crashed_is_critical_and_shut_off_is_not_abnormal():
    fs = F.find([], [_g(uid(1), "a", "crashed", state_reason="panicked"), _g(uid(2), "a", "shut off")])
    assert [(f.code, f.severity, f.guests) for f in fs] == [("abnormal-state", "critical", [uid(1)])]
    assert "panicked" in fs[0].message


def test_same_series_point_release_is_info_and_vendor_suffixes_are_equal():
    r = Report(id="a", path="x", hostname="a")
    r.packages.nova = "14.0.3-8.el7ost"
    same = _g(uid(1), "a", nova=NovaMeta(namespace=NS, package_version="14.0.3-8.el7ost"))
    point = _g(uid(2), "a", nova=NovaMeta(namespace=NS, package_version="14.0.2"))
    fs = F.find([r], [same, point])
    assert [(f.code, f.severity, f.guests) for f in fs] == [("nova-version-mismatch", "info", [uid(2)])]


def test_no_metadata_only_on_a_nova_compute_host():
    plain = Report(id="a", path="x", hostname="a", nova_compute=False)
    assert F.find([plain], [_g(uid(1), "a")]) == []
    nova = Report(id="a", path="x", hostname="a", nova_compute=True)
    assert [f.code for f in F.find([nova], [_g(uid(1), "a")])] == ["no-nova-metadata"]


def test_at_or_above():
    w = [Finding(code="x", severity="warning", message="m")]
    assert F.at_or_above(w, "warning") and not F.at_or_above(w, "critical")
    assert not F.at_or_above([], "warning")


def test_fail_on_exit_status(tmp_path):
    sick = HostSpec(hostname="compute-1", guests=[TRIGGERS["abnormal-state"]])
    well = HostSpec(hostname="compute-1", guests=[HEALTHY])
    sick_tar = write_tarball(sick, tmp_path / "sick")
    well_tar = write_tarball(well, tmp_path / "well")
    out = str(tmp_path / "o.json")
    assert main(["--format", "json", "-o", out, "-q", "--fail-on", "warning", str(sick_tar)]) == 3
    assert main(["--format", "json", "-o", out, "-q", "--fail-on", "critical", str(sick_tar)]) == 0
    assert main(["--format", "json", "-o", out, "-q", str(sick_tar)]) == 0  # findings alone never change it
    assert main(["--format", "json", "-o", out, "-q", "--fail-on", "warning", str(well_tar)]) == 0


def test_guest_query_restricts_findings(tmp_path, doc):
    host = HostSpec(hostname="compute-1", guests=[HEALTHY, TRIGGERS["abnormal-state"], TRIGGERS["config-drift"]])
    tar = write_tarball(host, tmp_path / "h")
    out = tmp_path / "o.json"
    assert main(["--format", "json", "-o", str(out), "-q", "--guest", "stuck", str(tar)]) == 0
    got = json.loads(out.read_text())
    assert [f["code"] for f in got["findings"]] == ["abnormal-state"]

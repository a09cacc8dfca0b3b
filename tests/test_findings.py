"""Findings, both directions: each code fires on the guest that has the problem and on no other;
a healthy guest (flavor matches, running, booted by the installed Nova) gets no finding at all.

Unit tests build the model directly; the end-to-end tests go through the CLI on sosreport trees."""

import copy
import dataclasses
import json

import pytest

from analyzer import findings as F
from analyzer import host_findings
from analyzer.cli import main
from analyzer.model import (IP, KIND_PLUGIN_LIVE, KIND_PLUGIN_SUMMARY, KIND_RUN, KIND_VIRSH_LIST,
                            Difference, Disk, ErrorSummary, Finding, Flavor, Guest, GuestLogs, Interface,
                            NovaLog, NovaMeta, Packages, Port, Report, Source)
from analyzer.parsers.domain_xml import parse_domain
from tests.sosbuilder import GuestSpec, HostSpec, write_collect_bundle, write_tarball

NS = "http://openstack.org/xmlns/libvirt/nova/1.1"


def uid(n):
    return "%08d-0000-4000-8000-%012d" % (n, n)


# ---------------------------------------------------------------------------------------------
# Unit tests on the model


def report(host="compute-1", nova="3:27.1.0-0ubuntu1", nova_compute=True):
    return Report(id=host, path="/cases/sosreport-%s.tar.xz" % host, hostname=host,
                  packages=Packages(nova=nova), nova_compute=nova_compute,
                  nova_compute_evidence="sos_commands/process/ps_auxwww")


def port(n):
    return "5e0c9a1e-0000-4000-8000-%012d" % n


def healthy(n=1, host="compute-1", name=None, **kw):
    """A Nova guest with nothing wrong: running, persistent, flavor = domain, booted by the
    installed Nova, its own disk, MAC and Neutron port."""
    uuid = uid(n)
    live = "sos_commands/libvirt_guests/host/domains/%s.live.xml" % uuid
    g = Guest(uuid=uuid, domain_name="instance-%08x" % n, display_name=name or "vm-%d" % n, host=host,
              report=host, state="running", state_reason="booted", persistent=True, memory_mb=2048, vcpus=2,
              disks=[Disk(target="vda", kind="disk", source_type="file",
                          source="/var/lib/nova/instances/%s/disk" % uuid),
                     Disk(target="hda", kind="cdrom", source_type="file", source="/srv/iso/tools.iso")],
              interfaces=[Interface(mac="fa:16:3e:00:00:%02x" % n, type="ethernet", target_dev="tap%d" % n)],
              sources=[Source(KIND_PLUGIN_SUMMARY, "sos_commands/libvirt_guests/summary.json"),
                       Source(KIND_PLUGIN_LIVE, live)],
              nova=NovaMeta(namespace=NS, package_version="27.1.0-0ubuntu1", display_name=name or "vm-%d" % n,
                            flavor=Flavor(name="m1.small", memory_mb=2048, vcpus=2),
                            ports=[Port(uuid=port(n), ips=[IP(address="10.0.0.%d" % n, type="fixed", version=4)])]),
              logs=GuestLogs(nova_compute=NovaLog(paths=["var/log/nova/nova-compute.log"], total=3)),
              xml="<domain/>", xml_source=live)
    for k, v in kw.items():
        setattr(g, k, v)
    return g


def codes(fs, uuid=None):
    return sorted(f.code for f in fs if uuid is None or uuid in f.guests)


def test_healthy_guests_get_no_finding():
    guests = [healthy(1), healthy(2), healthy(3, host="compute-2")]
    assert F.find([report(), report("compute-2")], guests) == []


def _old_nova(g):
    g.nova.package_version = "2014.2.1-1.el7"


def _resized(g):
    g.nova.flavor = Flavor(name="m1.large", memory_mb=8192, vcpus=4)


def _no_nova(g):
    g.nova, g.display_name = None, None


def _crashed(g):
    g.state, g.state_reason = "crashed", "panicked"


def _log_errors(g):
    g.logs.nova_compute.errors = ErrorSummary(count=2, first_time="2026-11-20 09:00:01",
                                              last_time="2026-11-20 09:05:00",
                                              first_lines=["2026-11-20 09:00:01 ERROR nova.compute.manager "
                                                           "[instance: x] Failed to attach volume"])


def _drifted(g):
    g.differences = [Difference("memory_mb", 4096, 2048, live_source="run/libvirt/qemu/i.xml",
                                persistent_source="etc/libvirt/qemu/i.xml")]


def _transient(g):
    g.persistent = False


MUTATIONS = {
    "nova-version-mismatch": _old_nova, "flavor-resource-mismatch": _resized, "no-nova-metadata": _no_nova,
    "abnormal-state": _crashed, "nova-log-errors": _log_errors, "config-drift": _drifted,
    "transient-nova-guest": _transient,
}


@pytest.mark.parametrize("code", sorted(MUTATIONS))
def test_each_per_guest_code_fires_on_its_guest_only(code):
    sick, well = healthy(1), healthy(2)
    MUTATIONS[code](sick)
    fs = F.find([report()], [sick, well])
    assert codes(fs) == [code]
    (f,) = fs
    assert f.guests == [sick.uuid] and f.hosts == ["compute-1"]
    assert f.severity in ("critical", "warning", "info")
    assert sick.uuid in f.message and "compute-1" in f.message and "\n" not in f.message
    assert f.evidence and all(isinstance(e.what, str) and e.what for e in f.evidence)


def test_every_code_has_a_test_here():
    cross_guest = {"uuid-on-multiple-hosts", "display-name-shared", "port-shared", "mac-shared", "disk-shared"}
    host = set(host_findings.CODES)  # tests/test_host.py
    assert set(MUTATIONS) | cross_guest | host == set(F.CODES) and len(set(F.CODES)) == len(F.CHECKS)


def test_each_check_emits_only_the_code_it_is_named_after():
    """CODES (the README's list) is derived from the checks' names: hold every check to its name."""
    guests = []
    for n, mutate in enumerate(MUTATIONS.values(), 1):
        g = healthy(n)
        mutate(g)
        guests.append(g)
    twin = healthy(1, host="compute-2")  # uuid-on-multiple-hosts
    a = [healthy(n) for n in range(60, 64)]
    b = [healthy(n, host="compute-2") for n in range(70, 73)]
    b[0].display_name = b[0].nova.display_name = a[0].display_name  # display-name-shared
    b[1].nova.ports = list(a[1].nova.ports)  # port-shared
    b[2].interfaces = [Interface(mac=a[2].interfaces[0].mac)]  # mac-shared
    disk_b = healthy(74)
    disk_b.disks = [copy.copy(a[3].disks[0])]  # disk-shared (a file path: on the same host)
    guests += [twin] + a + b + [disk_b]
    reports = {r.id: r for r in (report(), report("compute-2"))}
    emitted = {}
    for check in F.CHECKS[:-len(host_findings.CHECKS)]:  # the host checks: tests/test_host.py
        emitted[F.code_of(check)] = {f.code for f in check(reports, guests)}
    assert emitted == {code: {code} for code in F.CODES if code not in host_findings.CODES}


def test_every_code_is_documented_in_the_readme():
    import pathlib
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Findings", 1)[1].split("\n## ", 1)[0]
    assert [c for c in F.CODES if "`%s`" % c not in section] == []


# nova-version-mismatch ------------------------------------------------------------------------

@pytest.mark.parametrize("booted,installed", [
    ("27.1.0-0ubuntu1", "3:27.1.0-0ubuntu1"),
    ("27.1.0", "27.1.0-1.el9ost"),
    ("14.0.3-8.el7ost", "14.0.3-8.el7ost"),
    ("29.0.1", "1:29.0.1-0ubuntu1~cloud0"),
])
def test_same_upstream_version_is_no_finding(booted, installed):
    g = healthy(1)
    g.nova.package_version = booted
    assert F.find([report(nova=installed)], [g]) == []


def test_version_mismatch_names_both_versions_series_and_direction():
    g = healthy(1)
    g.nova.package_version = "2014.2.1-1.el7"
    (f,) = F.find([report(nova="3:27.1.0-0ubuntu1")], [g])
    assert f.severity == "warning"
    assert "2014.2.1-1.el7 (Juno), older than" in f.message
    assert "3:27.1.0-0ubuntu1 (2023.1 Antelope)" in f.message
    assert [e.value for e in f.evidence] == ["2014.2.1-1.el7", "3:27.1.0-0ubuntu1"]
    assert f.evidence[0].path == g.xml_source


def test_version_newer_than_installed_says_so():
    g = healthy(1)
    g.nova.package_version = "29.0.1"
    (f,) = F.find([report(nova="27.1.0")], [g])
    assert "NEWER than" in f.message and f.severity == "warning"


def test_point_release_in_the_same_series_is_info():
    g = healthy(1)
    g.nova.package_version = "14.0.2-1.el7ost"
    (f,) = F.find([report(nova="14.0.3-8.el7ost")], [g])
    assert (f.code, f.severity) == ("nova-version-mismatch", "info")
    assert "(Newton)" in f.message


def test_unknown_installed_or_booted_version_is_no_finding():
    g = healthy(1)
    assert F.find([report(nova=None)], [g]) == []
    g.nova.package_version = None
    assert F.find([report()], [g]) == []


# flavor-resource-mismatch ---------------------------------------------------------------------

def test_flavor_mismatch_gives_both_values():
    g = healthy(1)
    g.memory_mb, g.vcpus = 4096, 2
    (f,) = F.find([report()], [g])
    assert f.code == "flavor-resource-mismatch"
    assert "memory MiB: flavor 2048, domain 4096" in f.message and "vCPUs" not in f.message
    assert {(e.what, e.value) for e in f.evidence} == {("flavor m1.small memory MiB", 2048),
                                                       ("domain memory MiB", 4096)}


def test_vcpu_mismatch_alone():
    g = healthy(1, vcpus=8)
    (f,) = F.find([report()], [g])
    assert "vCPUs: flavor 2, domain 8" in f.message


def test_missing_values_are_not_compared():
    g = healthy(1, memory_mb=None, vcpus=None)
    assert F.find([report()], [g]) == []
    g = healthy(1)
    g.nova.flavor = Flavor(name="m1.small")  # a flavor element without numbers
    assert F.find([report()], [g]) == []


HUGEPAGE_XML = b"""<domain type='kvm' id='7'>
  <name>instance-00000007</name>
  <uuid>00000007-0000-4000-8000-000000000007</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="27.1.0"/>
      <nova:name>dpdk-vnf</nova:name>
      <nova:flavor name="vnf.large">
        <nova:memory>4096</nova:memory><nova:disk>20</nova:disk><nova:swap>0</nova:swap>
        <nova:ephemeral>0</nova:ephemeral><nova:vcpus>4</nova:vcpus>
      </nova:flavor>
    </nova:instance>
  </metadata>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>4194304</currentMemory>
  <memoryBacking><hugepages><page size='1048576' unit='KiB' nodeset='0'/></hugepages></memoryBacking>
  <vcpu placement='static' cpuset='2-5'>4</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='2'/></cputune>
  <numatune><memory mode='strict' nodeset='0'/></numatune>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <cpu><numa><cell id='0' cpus='0-3' memory='4194304' unit='KiB' memAccess='shared'/></numa></cpu>
  <devices/>
</domain>"""


def test_hugepage_guest_with_its_flavor_is_no_false_alarm():
    d = parse_domain(HUGEPAGE_XML, "run/libvirt/qemu/instance-00000007.xml")
    g = Guest(uuid=d.uuid, host="compute-1", report="compute-1", state="running", persistent=True,
              memory_mb=d.memory_mb, vcpus=d.vcpus, nova=d.nova, display_name=d.nova.display_name,
              xml="<domain/>")
    assert (g.memory_mb, g.vcpus) == (4096, 4)
    assert F.find([report(nova="27.1.0")], [g]) == []
    g.vcpus = 6
    assert codes(F.find([report(nova="27.1.0")], [g])) == ["flavor-resource-mismatch"]


# uuid-on-multiple-hosts -----------------------------------------------------------------------

def test_uuid_running_on_two_hosts_is_critical():
    a, b = healthy(1, host="compute-1"), healthy(1, host="compute-2")
    fs = F.find([report(), report("compute-2")], [a, b])
    assert [(f.code, f.severity, f.hosts) for f in fs] == [
        ("uuid-on-multiple-hosts", "critical", ["compute-1", "compute-2"])]
    assert "ACTIVE on compute-1 and compute-2" in fs[0].message
    # the same instance seen twice shares its name, MAC and disk path with itself: nothing else fires


def test_uuid_defined_on_two_hosts_running_on_one_is_a_warning():
    a, b = healthy(1, host="compute-1"), healthy(1, host="compute-2", state="shut off", state_reason="migrated")
    (f,) = F.find([report(), report("compute-2")], [a, b])
    assert (f.code, f.severity) == ("uuid-on-multiple-hosts", "warning")
    assert "compute-1 (running), compute-2 (shut off)" in f.message and "leftover" in f.message
    assert [(e.what, e.value) for e in f.evidence] == [("state on compute-1", "running"),
                                                       ("state on compute-2", "shut off")]


def test_same_host_in_two_reports_is_not_two_hosts():
    a = healthy(1, host="compute-1")
    b = healthy(1, host="compute-1", report="compute-1-later")
    assert F.find([report()], [a, b]) == []


def test_a_guest_in_shutdown_counts_as_active():
    a = healthy(1, host="compute-1")
    b = healthy(1, host="compute-2", state="in shutdown")
    fs = F.find([report(), report("compute-2")], [a, b])
    assert ("uuid-on-multiple-hosts", "critical") in [(f.code, f.severity) for f in fs]


# display-name-shared --------------------------------------------------------------------------

def test_shared_display_name_lists_every_instance():
    a, b, c = healthy(1, name="web-01"), healthy(2, name="web-01", host="compute-2"), healthy(3, name="db")
    (f,) = F.find([report(), report("compute-2")], [a, b, c])
    assert (f.code, f.severity, f.guests) == ("display-name-shared", "info", [uid(1), uid(2)])
    assert f.hosts == ["compute-1", "compute-2"]
    assert "2 different instances are named 'web-01'" in f.message
    assert "%s on compute-1" % uid(1) in f.message and "%s on compute-2" % uid(2) in f.message


def test_one_instance_on_two_hosts_does_not_share_its_name():
    a, b = healthy(1, name="web-01"), healthy(1, name="web-01", host="compute-2", state="shut off")
    assert "display-name-shared" not in codes(F.find([report(), report("compute-2")], [a, b]))


def test_a_long_list_of_namesakes_is_cut_in_the_message_not_in_guests():
    gs = [healthy(n, name="worker") for n in range(1, 31)]
    (f,) = F.find([report()], gs)
    assert len(f.guests) == 30 and "and 20 more" in f.message and len(f.message) < 1500


# no-nova-metadata -----------------------------------------------------------------------------

def test_no_metadata_only_on_a_nova_compute_host():
    g = healthy(1)
    _no_nova(g)
    assert F.find([report(nova_compute=False)], [g]) == []
    assert F.find([report(nova_compute=None)], [g]) == []
    (f,) = F.find([report(nova_compute=True)], [g])
    assert f.code == "no-nova-metadata" and "instance-00000001" in f.message
    assert f.evidence[1].path == "sos_commands/process/ps_auxwww"


def test_no_metadata_needs_a_definition_to_say_so():
    g = Guest(uuid=uid(1), domain_name="instance-00000001", host="compute-1", report="compute-1",
              state="running", sources=[Source(KIND_VIRSH_LIST, "sos_commands/virsh/virsh_-r_list_--all")])
    assert F.find([report()], [g]) == []


# abnormal-state -------------------------------------------------------------------------------

@pytest.mark.parametrize("state,reason,severity", [
    ("crashed", "panicked", "critical"),
    ("paused", "ioerror", "critical"),
    ("paused", "I/O error", "critical"),
    ("paused", "user", "warning"),
    ("paused", "migration", "warning"),
    ("pmsuspended", None, "warning"),
    ("in shutdown", None, "warning"),
    ("blocked", None, "warning"),
])
def test_abnormal_states(state, reason, severity):
    g = healthy(1, state=state, state_reason=reason)
    g.sources.append(Source(KIND_RUN, "run/libvirt/qemu/instance-00000001.xml"))
    (f,) = F.find([report()], [g])
    assert (f.code, f.severity) == ("abnormal-state", severity)
    assert ("(reason: %s)" % reason in f.message) == bool(reason)
    assert f.evidence[0].path == "sos_commands/libvirt_guests/summary.json"


@pytest.mark.parametrize("state", ["running", "shut off", "shutoff", "idle", None])
def test_normal_states_are_not_abnormal(state):
    assert F.find([report()], [healthy(1, state=state)]) == []


# nova-log-errors ------------------------------------------------------------------------------

def test_log_errors_give_count_times_and_first_line():
    g = healthy(1)
    _log_errors(g)
    (f,) = F.find([report()], [g])
    assert "2 ERROR/CRITICAL line(s)" in f.message
    assert "from 2026-11-20 09:00:01 to 2026-11-20 09:05:00" in f.message
    assert "Failed to attach volume" in f.message
    assert f.evidence[0].path == "var/log/nova/nova-compute.log"
    assert any(isinstance(e.value, list) and "Failed to attach volume" in e.value[0] for e in f.evidence)


def test_log_lines_without_errors_are_no_finding():
    g = healthy(1)
    g.logs.nova_compute.lines = ["2026-11-20 INFO nova.compute.manager [instance: x] Took 3 s to spawn"]
    assert F.find([report()], [g]) == []


# config-drift ---------------------------------------------------------------------------------

def test_config_drift_names_fields_and_values():
    g = healthy(1)
    g.differences = [Difference("memory_mb", 4096, 2048, "run/a.xml", "etc/a.xml"),
                     Difference("interfaces", ["fa:16:3e:00:00:01@br-int", "fa:16:3e:00:00:99@br-int"],
                                ["fa:16:3e:00:00:01@br-int"], "run/a.xml", "etc/a.xml")]
    (f,) = F.find([report()], [g])
    assert "memory_mb live 4096, persistent 2048" in f.message and "fa:16:3e:00:00:99" in f.message
    assert {(e.path, e.what) for e in f.evidence} >= {("run/a.xml", "live memory_mb"),
                                                      ("etc/a.xml", "persistent memory_mb")}


# transient-nova-guest -------------------------------------------------------------------------

def test_transient_only_when_known_and_nova():
    assert F.find([report()], [healthy(1, persistent=None)]) == []
    plain = healthy(1, persistent=False)
    _no_nova(plain)
    assert codes(F.find([report(nova_compute=False)], [plain])) == []  # not Nova's: libvirt's business


# mac-shared -----------------------------------------------------------------------------------

def test_mac_shared_on_one_host_is_a_warning():
    a, b = healthy(1), healthy(2)
    b.interfaces = [Interface(mac="FA:16:3E:00:00:01")]  # same MAC, other case
    (f,) = F.find([report()], [a, b])
    assert (f.code, f.severity, f.guests, f.hosts) == ("mac-shared", "warning", [uid(1), uid(2)], ["compute-1"])
    assert "fa:16:3e:00:00:01" in f.message and "vm-1 (%s) on compute-1" % uid(1) in f.message


def test_mac_shared_across_hosts_is_info():
    a, b = healthy(1), healthy(2, host="compute-2")
    b.interfaces = [Interface(mac="fa:16:3e:00:00:01")]
    (f,) = F.find([report(), report("compute-2")], [a, b])
    assert (f.code, f.severity, f.hosts) == ("mac-shared", "info", ["compute-1", "compute-2"])


def test_distinct_macs_and_the_same_instance_twice_are_not_shared():
    assert F.find([report()], [healthy(1), healthy(2)]) == []
    a, b = healthy(1), healthy(1, host="compute-2", state="shut off")
    assert codes(F.find([report(), report("compute-2")], [a, b])) == ["uuid-on-multiple-hosts"]


# port-shared ----------------------------------------------------------------------------------

def test_one_neutron_port_in_two_instances():
    a, b = healthy(1), healthy(2, host="compute-2")
    b.nova.ports = [Port(uuid=port(1).upper())]
    (f,) = F.find([report(), report("compute-2")], [a, b])
    assert (f.code, f.severity, f.guests) == ("port-shared", "warning", [uid(1), uid(2)])
    assert port(1) in f.message and "vm-2 (%s) on compute-2" % uid(2) in f.message


def test_a_shared_port_with_its_mac_is_one_finding_not_two():
    a, b = healthy(1), healthy(2)
    b.nova.ports, b.interfaces = list(a.nova.ports), list(a.interfaces)
    assert codes(F.find([report()], [a, b])) == ["port-shared"]


def test_ports_of_one_instance_on_two_hosts_are_not_shared():
    a, b = healthy(1), healthy(1, host="compute-2", state="shut off")
    assert "port-shared" not in codes(F.find([report(), report("compute-2")], [a, b]))


# disk-shared ----------------------------------------------------------------------------------

def test_one_cinder_volume_on_two_instances():
    a, b = healthy(1), healthy(2, host="compute-2")
    vol = Disk(target="vdb", kind="disk", source_type="block", source="/dev/sdc",
               serial="5b1a7a4e-0000-4000-8000-00000000000c")
    a.disks = a.disks + [vol]
    b.disks = b.disks + [dataclasses.replace(vol, source="/dev/dm-3")]  # another host, another /dev name
    (f,) = F.find([report(), report("compute-2")], [a, b])
    assert (f.code, f.guests) == ("disk-shared", [uid(1), uid(2)])
    assert "volume 5b1a7a4e-0000-4000-8000-00000000000c" in f.message and "multiattach" in f.message


def test_one_image_file_on_two_guests_of_one_host():
    a, b = healthy(1), healthy(2)
    b.disks = [copy.copy(a.disks[0])]
    (f,) = F.find([report()], [a, b])
    assert f.code == "disk-shared" and "two active guests" in f.message


def test_local_device_names_on_two_hosts_and_shared_isos_are_not_shared_disks():
    a, b = healthy(1), healthy(2, host="compute-2")
    a.disks.append(Disk(target="vdb", kind="disk", source_type="block", source="/dev/sdc"))
    b.disks.append(Disk(target="vdb", kind="disk", source_type="block", source="/dev/sdc"))
    # both also have /srv/iso/tools.iso as a cdrom
    assert F.find([report(), report("compute-2")], [a, b]) == []


# order and --fail-on --------------------------------------------------------------------------

def test_order_is_severity_then_host_then_guest_name():
    gs = [healthy(1, host="b", name="omega", state="paused", state_reason="user"),
          healthy(2, host="a", name="zeta", state="paused", state_reason="user"),
          healthy(3, host="a", name="alpha", state="paused", state_reason="user"),
          healthy(4, host="z", state="crashed"),
          healthy(5, host="a", name="web"), healthy(6, host="a", name="web")]
    fs = F.find([report(h) for h in "abz"], gs)
    assert [(f.severity, f.hosts[0], f.guests[0]) for f in fs] == [
        ("critical", "z", uid(4)), ("warning", "a", uid(3)), ("warning", "a", uid(2)),
        ("warning", "b", uid(1)), ("info", "a", uid(5))]


def test_sort_puts_unknown_severities_last():
    fs = [Finding("x", "odd", "m"), Finding("y", "info", "m"), Finding("z", "critical", "m")]
    assert [f.severity for f in F.sort_findings(fs)] == ["critical", "info", "odd"]


def test_at_or_above():
    w = [Finding(code="x", severity="warning", message="m")]
    assert F.at_or_above(w, "warning") and not F.at_or_above(w, "critical")
    assert F.at_or_above([Finding("x", "critical", "m")], "warning")
    assert not F.at_or_above([Finding("x", "info", "m")], "warning")
    assert not F.at_or_above([], "warning")


# ---------------------------------------------------------------------------------------------
# End to end: sosreport trees through the CLI

def spec(uuid, **kw):
    """A builder guest with its own Neutron port (the builder's default port is the same for all)."""
    n = int(uuid[:8])
    return GuestSpec(uuid=uuid, ports=[(port(n), "10.0.0.%d" % n)], **kw)


HEALTHY = spec(uid(1), domain_name="instance-00000001", display_name="healthy", nova_version="27.1.0")
TRIGGERS = {
    # code: the guest that must trigger it (every other field healthy)
    "nova-version-mismatch": spec(uid(2), domain_name="instance-00000002", display_name="old-juno",
                                       nova_version="2014.2.1", nova_ns="1.0", schema="juno"),
    "flavor-resource-mismatch": spec(uid(3), domain_name="instance-00000003", display_name="resized",
                                          flavor_memory_mib=4096, flavor_vcpus=4),
    "no-nova-metadata": spec(uid(4), domain_name="hand-made", display_name=None),
    "abnormal-state": spec(uid(5), domain_name="instance-00000005", display_name="stuck",
                                state="paused", state_reason="user"),
    "nova-log-errors": spec(uid(6), domain_name="instance-00000006", display_name="erroring",
                                 nova_log_errors=["Failed to attach volume", "Instance failed to spawn"]),
    "config-drift": spec(uid(7), domain_name="instance-00000007", display_name="drifted",
                              live_xml_overrides={"memory_mib": 8192}),
    "transient-nova-guest": spec(uid(8), domain_name="instance-00000008", display_name="transient",
                                      persistent=False),
}
DUP_A = spec(uid(9), domain_name="instance-00000009", display_name="web-01")
DUP_B = spec(uid(10), domain_name="instance-0000000a", display_name="web-01")
MOVED = spec(uid(11), domain_name="instance-0000000b", display_name="moved")
MOVED_LEFTOVER = spec(uid(11), domain_name="instance-0000000b", display_name="moved", state="shut off",
                           state_reason="migrated")
CRASHED = spec(uid(12), domain_name="instance-0000000c", display_name="crashed", state="crashed",
                    state_reason="panicked")


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


def test_e2e_healthy_guest_gets_no_finding(doc):
    assert any(g["uuid"] == HEALTHY.uuid for g in doc["guests"])
    assert _codes_for(doc, HEALTHY.uuid) == []


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_e2e_each_code_fires_on_its_guest_and_no_other(doc, code):
    hits = [f for f in doc["findings"] if f["code"] == code]
    assert [f["guests"] for f in hits] == [[TRIGGERS[code].uuid]], hits
    f = hits[0]
    assert f["hosts"] == ["compute-1"] and TRIGGERS[code].uuid in f["message"]
    assert f["evidence"] and all(set(e) == {"path", "what", "value"} for e in f["evidence"])
    assert _codes_for(doc, TRIGGERS[code].uuid) == [code]  # and nothing else fires on it


def test_e2e_version_mismatch_names_both_versions_and_series(doc):
    (f,) = [f for f in doc["findings"] if f["code"] == "nova-version-mismatch"]
    assert "2014.2.1 (Juno), older than" in f["message"]
    assert "3:27.1.0-0ubuntu1 (2023.1 Antelope)" in f["message"]
    assert f["severity"] == "warning"
    # both versions say where they were read: the guest's XML, the host's package list
    assert f["evidence"][0]["path"].endswith(".xml")
    assert f["evidence"][1]["path"] == "sos_commands/dpkg/dpkg_-l"


def test_e2e_log_errors_give_count_and_lines(doc):
    (f,) = [f for f in doc["findings"] if f["code"] == "nova-log-errors"]
    assert "2 ERROR/CRITICAL" in f["message"]
    assert any(isinstance(e["value"], list) and any("Failed to attach volume" in x for x in e["value"])
               for e in f["evidence"])


def test_e2e_shared_name_and_migration_leftover(doc):
    (f,) = [f for f in doc["findings"] if f["code"] == "display-name-shared"]
    assert f["guests"] == sorted([DUP_A.uuid, DUP_B.uuid]) and f["severity"] == "info"
    (f,) = [f for f in doc["findings"] if f["code"] == "uuid-on-multiple-hosts"]
    assert f["guests"] == [MOVED.uuid] and f["hosts"] == ["compute-1", "compute-2"]
    assert f["severity"] == "warning"
    assert _codes_for(doc, MOVED.uuid) == ["uuid-on-multiple-hosts"]  # its MAC and disk are its own


def test_e2e_findings_are_ordered_by_severity_then_host(doc):
    rank = {"critical": 0, "warning": 1, "info": 2}
    keys = [(rank[f["severity"]], f["hosts"][0]) for f in doc["findings"]]
    assert keys == sorted(keys) and len(keys) == len(TRIGGERS) + 2


def test_fail_on_exit_status(tmp_path):
    out = str(tmp_path / "o.json")

    def run(guests, *opts):
        tar = write_tarball(HostSpec(hostname="compute-1", guests=guests), tmp_path / ("t%d" % len(list(tmp_path.iterdir()))))
        return main(["--format", "json", "-o", out, "-q", *opts, str(tar)])

    warn = [HEALTHY, TRIGGERS["abnormal-state"]]
    assert run(warn, "--fail-on", "warning") == 3
    assert run(warn, "--fail-on", "critical") == 0
    assert run(warn) == 0  # findings alone never change the exit status
    assert run([HEALTHY, CRASHED], "--fail-on", "critical") == 3
    assert run([HEALTHY], "--fail-on", "warning") == 0
    assert json.loads(open(out).read())["findings"] == []


def test_guest_query_restricts_findings(tmp_path):
    host = HostSpec(hostname="compute-1", guests=[HEALTHY, TRIGGERS["abnormal-state"], TRIGGERS["config-drift"]])
    tar = write_tarball(host, tmp_path / "h")
    out = tmp_path / "o.json"
    assert main(["--format", "json", "-o", str(out), "-q", str(tar)]) == 0
    assert sorted(f["code"] for f in json.loads(out.read_text())["findings"]) == ["abnormal-state", "config-drift"]
    assert main(["--format", "json", "-o", str(out), "-q", "--guest", "stuck", str(tar)]) == 0
    assert [f["code"] for f in json.loads(out.read_text())["findings"]] == ["abnormal-state"]
    # and a query that is ambiguous still gets only its matches' findings
    assert main(["--format", "json", "-o", str(out), "-q", "--fail-on", "warning", "--guest", "healthy",
                 str(tar)]) == 0


def test_text_output_shows_findings(tmp_path):
    tar = write_tarball(HostSpec(hostname="compute-1", guests=[HEALTHY, CRASHED]), tmp_path / "h")
    out = tmp_path / "o.txt"
    assert main(["--format", "text", "-o", str(out), "-q", str(tar)]) == 0
    text = out.read_text()
    assert "\n1 finding\n" in text
    assert ("[CRITICAL] abnormal-state: crashed (%s) on compute-1 is crashed (reason: panicked)." % CRASHED.uuid
            in " ".join(text.split()))


def test_e2e_one_port_in_two_instances(tmp_path):
    port = [("3f8c8a0e-9a37-4c7e-9a3b-2f1d8f0f6a11", "10.0.0.5")]
    a = GuestSpec(uuid=uid(20), domain_name="instance-00000014", display_name="a", ports=port)
    b = GuestSpec(uuid=uid(21), domain_name="instance-00000015", display_name="b", ports=list(port))
    tar = write_tarball(HostSpec(hostname="compute-1", guests=[HEALTHY, a, b]), tmp_path / "h")
    out = tmp_path / "o.json"
    assert main(["--format", "json", "-o", str(out), "-q", str(tar)]) == 0
    fs = json.loads(out.read_text())["findings"]
    assert [(f["code"], f["guests"]) for f in fs] == [("port-shared", [uid(20), uid(21)])]
    assert all(e["path"] and e["path"].endswith(".xml") for e in fs[0]["evidence"])

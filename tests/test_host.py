"""The host under the guests: parsers on output captured from the rig (tests/data/host/, real
sos 4.0 / 4.9.1 reports of a host with pinned, hugepage-backed and OVS-plugged guests), the host
findings both ways on the model, and a stock report that has none of these files."""

import doctest
import json
from pathlib import Path

import pytest

from analyzer import capacity, host_findings
from analyzer.cli import main
from analyzer.model import (Capacity, Collection, Disk, DiskDevice, Guest, Interface, MultipathInfo, ParseError,
                            NumaNode, OvsPort, Placement, PluginTrouble, Report)
from analyzer.parsers import (cpuset, iscsiadm, ls_recursive, lsblk, lscpu, meminfo, multipath, nova_conf,
                              ovs_vsctl, virsh_capabilities)
from analyzer.sources import block_devices, host_resources, sos_run
from analyzer.sources.base import View
from tests.sosbuilder import GuestSpec, HostSpec, write_tarball, write_tree

DATA = Path(__file__).parent / "data" / "host"
MODULES = (cpuset, ls_recursive, lscpu, meminfo, multipath, nova_conf, ovs_vsctl, capacity, host_findings,
           virsh_capabilities, lsblk, iscsiadm)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    assert doctest.testmod(module).failed == 0


def _text(name):
    return (DATA / name).read_text()


# parsers on real output ---------------------------------------------------------------------

def test_ovs_list_interface_real():
    recs = {r["name"]: r for r in ovs_vsctl.parse_list(_text("ovs-vsctl_list_interface.broken"))}
    assert set(recs) == {"br-int", "tap1301-00", "tap1302-00", "tap1307-00"}
    bad = recs["tap1307-00"]
    assert bad["ofport"] == "-1" and bad["error"] == "tap1307-00: patch type requires valid 'peer' argument"
    assert bad["external_ids"]["vm-id"] == "d13a0000-0000-4000-8000-000000000007"  # libvirt plugged it
    eth = recs["tap1302-00"]["external_ids"]  # the rig plugged it the way os-vif does
    assert eth["vm-uuid"] == "d13a0000-0000-4000-8000-000000000002"
    assert eth["attached-mac"] == "fa:16:3e:13:00:02" and eth["iface-id"].startswith("a13b0000")
    assert recs["tap1301-00"]["error"] is None and recs["tap1301-00"]["ofport"] == "3"


def test_ovs_show_real():
    assert ovs_vsctl.parse_show(_text("ovs-vsctl_show.broken")) == {
        "tap1301-00": "br-int", "tap1307-00": "br-int", "tap1302-00": "br-int", "br-int": "br-int"}


@pytest.mark.parametrize("name", ["ls_-lanR_.dev.broken-4.0", "ls_-alZR_.dev.broken-4.9.1"])
def test_dev_listing_real(name):
    d = ls_recursive.parse_listing(_text(name))
    assert d["/dev/disk/by-id/host13-vol-a"] == ("l", "/dev/loop0")
    assert d["/dev/loop0"][0] == "b" and d["/dev/disk/by-id"][0] == "d"
    assert "/dev/disk/by-id/host13-vol-gone" not in d  # the rig removed it under a running guest
    assert not any(p.endswith(("/.", "/..")) for p in d)


def test_lscpu_meminfo_nodeinfo_real():
    kv = lscpu.parse_colon_pairs(_text("lscpu"))
    assert kv["CPU(s)"] == "2" and lscpu.numa_cpus(kv) == {0: "0,1"}
    m = meminfo.parse_meminfo(_text("meminfo"))
    assert m["MemTotal"] > 0 and m["HugePages_Total"] == 40 and m["Hugepagesize"] == 2048
    n = meminfo.parse_meminfo(_text("node0_meminfo"))
    assert n["MemTotal"] > 0 and n["HugePages_Total"] == 40 and n["HugePages_Free"] == 24
    assert cpuset.parse_cpu_list(_text("node0_cpulist")) == [0, 1]
    ni = lscpu.parse_colon_pairs(_text("virsh_-r_nodeinfo"))
    assert ni["NUMA cell(s)"] == "1" and ni["Memory size"].endswith(" KiB")


def test_nova_conf_keeps_no_secret():
    text = ("[DEFAULT]\ntransport_url = rabbit://nova:rabbitPw-13x@rabbit.example:5672/\n"
            "metadata_proxy_shared_secret = metadataSecret13\ncpu_allocation_ratio = 1.0\n"
            "[compute]\ncpu_dedicated_set = 4-7,^5\n[database]\nconnection = mysql://nova:Sup3rS3cret-db@db/nova\n"
            "[keystone_authtoken]\npassword = Keyst0ne-pw13\n")
    kept = nova_conf.parse_nova_conf(text)
    assert kept == {"cpu_allocation_ratio": "1.0", "cpu_dedicated_set": "4-7,^5"}


def _view(files):
    files = {k: v.encode() for k, v in files.items()}
    return View(files=files, tags={k: "x" for k in files}, prepared={}, streams={}, stream_paths={})


def test_sos_logs_real_postproc_failure_is_a_trouble():
    v = _view({"sos_logs/sos.log": _text("sos.log.broken-4.0"),
               "sos_logs/openstack_nova-plugin-errors.txt": _text("openstack_nova-plugin-errors.txt.broken-4.0")})
    v.tags = {k: "sos_logs" for k in v.files}
    col = sos_run.read(v).facts["collection"]
    assert [(t.plugin, t.what) for t in col.troubles] == [("openstack_nova", "failed")]
    assert "not post-processed" in col.troubles[0].detail


def test_manifest_timeout_and_command_timeout_but_not_exit_127():
    manifest = {"components": {"report": {"plugins": {
        "virsh": {"timeout": 1, "timeout_hit": True, "commands": []},
        "multipath": {"timeout": 300, "timeout_hit": False,
                      "commands": [{"exec": "multipath -ll", "return_code": 127}]},
        "kernel": {"timeout": 1, "timeout_hit": True}}}}}
    log = ("2026-12-02 06:40:01,123 WARNING: [plugin:openvswitch] command 'ovs-vsctl -t 5 show' "
           "timed out after 5s\n")
    v = _view({"sos_reports/manifest.json": json.dumps(manifest), "sos_logs/sos.log": log})
    v.tags = {"sos_reports/manifest.json": "host", "sos_logs/sos.log": "sos_logs"}
    col = sos_run.read(v).facts["collection"]
    # kernel is not read by this analysis; multipath's 127 is a missing tool, not a failed plugin
    assert [(t.plugin, t.what) for t in col.troubles] == [("virsh", "timed out"),
                                                         ("openvswitch", "command timed out")]
    assert col.plugins_run == ["kernel", "multipath", "virsh"]


def test_host_resources_from_real_files():
    files = {"sos_commands/processor/lscpu": _text("lscpu"), "proc/meminfo": _text("meminfo"),
             "sys/devices/system/node/node0/cpulist": _text("node0_cpulist"),
             "sys/devices/system/node/node0/meminfo": _text("node0_meminfo"),
             "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages": "40\n",
             "sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages": "24\n",
             "etc/nova/nova.conf": "[compute]\ncpu_dedicated_set = 1\ncpu_shared_set = 0\n"}
    v = _view(files)
    v.tags = {k: ("numa_node" if k.startswith("sys/") else "nova_conf" if "nova" in k else "cpu_info")
              for k in files}
    cap = host_resources.read(v).facts["capacity"]
    assert cap.cpus == 2 and cap.memory_mb > 0
    assert [(n.id, n.cpus, n.hugepages) for n in cap.numa_nodes] == [(0, [0, 1], {"2048": {"total": 40, "free": 24}})]
    assert cap.cpu_dedicated_set == [1] and cap.cpu_shared_set == [0] and cap.vcpu_pin_set is None


# findings both ways, on the model -------------------------------------------------------------

def _cap(**kw):
    base = dict(cpus=4, memory_mb=16384, numa_nodes=[NumaNode(id=0, cpus=[0, 1, 2, 3],
                                                              hugepages={"2048": {"total": 40, "free": 24}})],
                cpu_dedicated_set=[2, 3], cpu_shared_set=[0, 1], sources={"nova_conf": "etc/nova/nova.conf"})
    base.update(kw)
    return Capacity(**base)


def _report(cap=None, collection=None):
    return {"r1": Report(id="r1", path="x", hostname="c1", capacity=cap or _cap(), collection=collection)}


def _g(name, state="running", **kw):
    return Guest(uuid="u-" + name, domain_name=name, host="c1", report="r1", state=state, vcpus=1,
                 memory_mb=32, **kw)


def _codes(reports, guests):
    return [(f.code, f.severity, f.guests) for check in host_findings.CHECKS for f in check(reports, guests)]


def _ded(*cpus, **kw):
    return Placement(vcpu_pins={i: [c] for i, c in enumerate(cpus)}, cpu_policy="dedicated", **kw)


def test_healthy_host_has_no_host_finding():
    gs = [_g("a", placement=_ded(2)), _g("b", placement=_ded(3)), _g("c"),
          _g("h", placement=Placement(cpu_policy="dedicated", hugepage_kib=2048, numa_nodes=[0]), state="shut off"),
          _g("n", interfaces=[Interface(mac="fa:16:3e:00:00:01", target_dev="tap1", virtualport="openvswitch",
                                        ovs=OvsPort(name="tap1", ofport=3))]),
          _g("d", disks=[Disk(target="vdb", source="/dev/sdb", device=DiskDevice("/dev/sdb", True))])]
    assert _codes(_report(), gs) == []


def test_pinning_overlap_active_and_shut_off():
    a, b = _g("a", placement=_ded(2)), _g("b", placement=_ded(2))
    assert _codes(_report(), [a, b]) == [("cpu-pinning-overlap", "critical", ["u-a", "u-b"])]
    b.state = "shut off"
    assert _codes(_report(), [a, b]) == [("cpu-pinning-overlap", "warning", ["u-a", "u-b"])]
    # two shared guests with explicit pins on one CPU: no dedicated one, nothing promised
    a.placement = Placement(vcpu_pins={0: [0]}, cpu_policy="shared")
    b.placement = Placement(vcpu_pins={0: [0]}, cpu_policy="shared")
    assert _codes(_report(), [a, b]) == []


def test_emulator_pins_of_a_dedicated_guest_count():
    a = _g("a", placement=_ded(2, emulator_pins=[3]))
    b = _g("b", placement=_ded(3))
    assert [c[0] for c in _codes(_report(), [a, b])] == ["cpu-pinning-overlap"]


def test_pinned_outside_sets_and_no_pins_never_outside():
    assert _codes(_report(), [_g("a", placement=_ded(0))]) == [("pinned-outside-cpu-set", "warning", ["u-a"])]
    shared = _g("s", placement=Placement(vcpu_pins={0: [3]}, cpu_policy="shared"))
    assert _codes(_report(), [shared]) == [("pinned-outside-cpu-set", "warning", ["u-s"])]
    nopins = _g("n", placement=Placement(cpu_policy="dedicated", hugepage_kib=None))
    legacy = _report(_cap(cpu_dedicated_set=None, cpu_shared_set=None, vcpu_pin_set=[2, 3]))
    assert _codes(_report(), [nopins]) == [] and _codes(legacy, [_g("a", placement=_ded(3))]) == []
    assert _codes(legacy, [_g("a", placement=_ded(1))]) == [("pinned-outside-cpu-set", "warning", ["u-a"])]


def test_hugepages_short_cannot_start_and_overcommitted():
    running = _g("r", placement=Placement(hugepage_kib=2048, numa_nodes=[0]))  # 16 pages
    off = _g("o", state="shut off", placement=Placement(hugepage_kib=2048, numa_nodes=[0]))
    off.memory_mb = 64  # 32 pages > 24 free
    got = _codes(_report(), [running, off])
    assert ("hugepages-short", "critical", ["u-o"]) in got
    assert ("hugepages-short", "warning", ["u-r", "u-o"]) in got and len(got) == 2
    off.memory_mb = 48  # 24 pages: fits what is free, and 16 + 24 = 40 the node has
    assert _codes(_report(), [running, off]) == []


def test_host_overcommit_only_with_configured_ratios():
    gs = [_g("g%d" % i) for i in range(5)]
    over = _report(_cap(cpu_allocation_ratio=2.0, sources={"nova_conf": "etc/nova/nova.conf",
                                                           "cpu_allocation_ratio": "etc/nova/nova.conf"}))
    (f,) = [f for c in host_findings.CHECKS for f in c(over, gs)]
    assert f.code == "host-overcommit" and f.guests == [] and f.hosts == ["c1"]
    assert "5 shared vCPUs, 2 CPUs x cpu_allocation_ratio 2 allow 4" in f.message
    default = _report(_cap(cpu_allocation_ratio=2.0, sources={"nova_conf": "etc/nova/nova.conf",
                                                              "cpu_allocation_ratio": "Nova 27.1.0 default"}))
    assert _codes(default, gs) == []  # Nova's built-in default is shown, never judged


def test_port_not_plugged_both_ways():
    missing = Interface(mac="fa:16:3e:00:00:02", target_dev="tap2", virtualport="openvswitch",
                        ovs_missing_reason="no OVS interface named tap2")
    broken = Interface(mac="fa:16:3e:00:00:03", target_dev="tap3", virtualport="openvswitch",
                       ovs=OvsPort(name="tap3", ofport=-1, error="tap3: patch type requires valid 'peer' argument"))
    got = _codes(_report(), [_g("m", interfaces=[missing]), _g("b", interfaces=[broken])])
    assert got == [("port-not-plugged", "critical", ["u-m"]), ("port-not-plugged", "critical", ["u-b"])]
    assert _codes(_report(), [_g("m", state="shut off", interfaces=[missing])]) == []


def test_annotate_matches_by_tap_iface_id_and_mac_only_with_ovs_data():
    from analyzer.model import NovaMeta, Port
    ports = [OvsPort(name="qvo1", iface_id="p1", attached_mac="fa:16:3e:00:00:01"),
             OvsPort(name="tap2", ofport=5)]
    g = _g("g", interfaces=[Interface(mac="FA:16:3E:00:00:01", type="bridge", target_dev="tap1", source="qbr1"),
                            Interface(mac="fa:16:3e:00:00:02", type="bridge", target_dev="tap2"),
                            Interface(mac="fa:16:3e:00:00:09", type="bridge", target_dev="tap9")],
           nova=NovaMeta(namespace="n", ports=[Port(uuid="p1")]))
    r = Report(id="r1", path="x")
    capacity.annotate(r, [g], {"ovs": {"path": "x", "ports": ports}})
    assert [i.ovs.name if i.ovs else None for i in g.interfaces] == ["qvo1", "tap2", None]
    assert "tap9" in g.interfaces[2].ovs_missing_reason
    plain = _g("p", interfaces=[Interface(mac="m", type="bridge", target_dev="tap1")], nova=g.nova)
    capacity.annotate(r, [plain], {})  # no OVS data in the report: nothing is expected, nothing missing
    assert plain.interfaces[0].ovs is None and plain.interfaces[0].ovs_missing_reason is None


def test_disk_device_missing_both_ways_and_multipath():
    gone = Disk(target="vdb", source="/dev/disk/by-id/x", device=DiskDevice("/dev/disk/by-id/x", False))
    assert _codes(_report(), [_g("a", disks=[gone])]) == [("disk-device-missing", "critical", ["u-a"])]
    assert _codes(_report(), [_g("a", state="shut off", disks=[gone])]) == [("disk-device-missing", "warning", ["u-a"])]
    dead = Disk(target="vdc", source="/dev/mapper/mpatha",
                device=DiskDevice("/dev/mapper/mpatha", True, MultipathInfo("mpatha", 0, 2)))
    ok = Disk(target="vdd", source="/dev/mapper/mpathb",
              device=DiskDevice("/dev/mapper/mpathb", True, MultipathInfo("mpathb", 1, 2)))
    assert _codes(_report(), [_g("a", disks=[dead, ok])]) == [("disk-device-missing", "critical", ["u-a"])]


def test_annotate_disk_only_with_a_listing():
    g = _g("a", disks=[Disk(target="vdb", source_type="block", source="/dev/sdz"),
                       Disk(target="vda", source_type="file", source="/var/lib/nova/instances/x/disk")])
    capacity.annotate(Report(id="r1", path="x"), [g], {})
    assert [d.device for d in g.disks] == [None, None]
    capacity.annotate(Report(id="r1", path="x"), [g], {"dev": {"path": "l", "entries": {"/dev/sda": ("b", None)}}})
    assert g.disks[0].device.present is False and g.disks[1].device is None


def test_collection_incomplete_only_from_troubles():
    col = Collection(plugins_run=["virsh"], troubles=[PluginTrouble("virsh", "timed out", "1s", "sos_reports/manifest.json")])
    (f,) = [f for c in host_findings.CHECKS for f in c(_report(collection=col), [])]
    assert f.code == "collection-incomplete" and f.guests == [] and "guest list" in f.message
    assert _codes(_report(collection=Collection(plugins_run=["virsh"])), []) == []


# a stock report: none of these files -----------------------------------------------------------

def _run(path, fmt, tmp_path):
    out = tmp_path / ("o." + fmt)
    assert main(["--format", fmt, "-o", str(out), "-q", str(path)]) == 0
    return out.read_text()


def test_stock_report_without_host_files_gives_no_host_finding(tmp_path):
    host = HostSpec(guests=[GuestSpec(uuid="00000001-0000-4000-8000-000000000001", domain_name="instance-1",
                                      display_name="vm-1")])
    doc = json.loads(_run(write_tarball(host, tmp_path / "t"), "json", tmp_path))
    assert [f for f in doc["findings"] if f["code"] in host_findings.CODES] == []
    assert doc["reports"][0]["problems"] == []
    g = doc["guests"][0]
    assert g["placement"] is None and all(i["ovs"] is None and i["ovs_missing_reason"] is None
                                          for i in g["interfaces"])
    assert all(d["device"] is None for d in g["disks"])


def test_nova_conf_secrets_never_in_any_output(tmp_path):
    secrets = ("Sup3rS3cret-db", "rabbitPw-13x", "Keyst0ne-pw13", "metadataSecret13")
    conf = ("[DEFAULT]\ntransport_url = rabbit://nova:%s@rabbit.example:5672/\nmetadata_proxy_shared_secret = %s\n"
            "[compute]\ncpu_dedicated_set = 1\n[database]\nconnection = mysql+pymysql://nova:%s@db/nova\n"
            "[keystone_authtoken]\npassword = %s\n" % (secrets[1], secrets[3], secrets[0], secrets[2]))
    host = HostSpec(guests=[GuestSpec(uuid="00000001-0000-4000-8000-000000000001", domain_name="instance-1",
                                      display_name="vm-1")])
    top = write_tree(host, tmp_path / "tree", extra={"etc/nova/nova.conf": conf})
    for fmt in ("json", "text", "html"):
        out = _run(top, fmt, tmp_path)
        assert not [s for s in secrets if s in out], fmt
    doc = json.loads(_run(top, "json", tmp_path))
    assert doc["reports"][0]["capacity"]["cpu_dedicated_set"] == [1]


# virsh capabilities, lsblk, iSCSI ----------------------------------------------------------------

def test_capabilities_real():
    (cell,) = virsh_capabilities.parse_capabilities((DATA / "virsh_-r_capabilities").read_bytes())
    assert cell.id == 0 and cell.cpus == [0, 1] and cell.memory_kib > 0
    assert cell.hugepages == {"2048": 40, "1048576": 0}  # the 4 KiB system pages are not hugepages


@pytest.mark.parametrize("doc, reason", [
    (b"<!DOCTYPE c [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;'>]><capabilities>&b;</capabilities>", "has a DTD"),
    (b"<capabilities><host>", "malformed XML"),
    (b"<domain/>", "not a libvirt capabilities document"),
])
def test_capabilities_hostile_is_one_parse_error(doc, reason):
    with pytest.raises(ParseError, match=reason):
        virsh_capabilities.parse_capabilities(doc)


def _caps_view(extra):
    files = {"sos_commands/virsh/virsh_-r_capabilities": _text("virsh_-r_capabilities"), **extra}
    v = _view(files)
    v.tags = {k: ("numa_node" if k.startswith("sys/devices") else "sys_hugepages" if k.startswith("sys/kernel")
                  else "cpu_info") for k in files}
    return v


def test_capabilities_fill_nodes_without_sysfs_node_files():
    v = _caps_view({"proc/meminfo": _text("meminfo"),
                    "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages": "40\n",
                    "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages": "24\n"})
    cap = host_resources.read(v).facts["capacity"]
    (n,) = cap.numa_nodes
    # one cell: libvirt's totals, the host-wide free count is that cell's
    assert n.cpus == [0, 1] and n.memory_mb == 5597388 // 1024
    assert n.hugepages == {"2048": {"total": 40, "free": 24}, "1048576": {"total": 0}}
    assert cap.sources["numa_nodes"] == "sos_commands/virsh/virsh_-r_capabilities"
    assert cap.cpus == 2 and cap.sources["cpus"] == "sos_commands/virsh/virsh_-r_capabilities"
    assert cap.memory_mb == meminfo.parse_meminfo(_text("meminfo"))["MemTotal"] // 1024  # meminfo wins


def test_sysfs_and_lscpu_win_over_capabilities():
    sysfs = {"sys/devices/system/node/node0/cpulist": "0\n",
             "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages": "8\n",
             "sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages": "2\n"}
    cap = host_resources.read(_caps_view(sysfs)).facts["capacity"]
    assert [(n.cpus, n.hugepages) for n in cap.numa_nodes] == [([0], {"2048": {"total": 8, "free": 2}})]
    cap = host_resources.read(_caps_view({"sos_commands/processor/lscpu": "CPU(s): 2\nNUMA node0 CPU(s): 1\n"})
                              ).facts["capacity"]
    (n,) = cap.numa_nodes
    assert n.cpus == [1] and n.hugepages["2048"] == {"total": 40}  # CPUs from lscpu, pages from libvirt
    assert cap.sources["numa_nodes"].startswith("sos_commands/processor/lscpu (CPUs)")


def test_bad_capabilities_is_a_problem_and_the_rest_counts():
    v = _view({"sos_commands/virsh/virsh_-r_capabilities": "<capabilities><host>",
               "sos_commands/processor/lscpu": "CPU(s): 2\n"})
    v.tags = {k: "cpu_info" for k in v.files}
    out = host_resources.read(v)
    assert out.facts["capacity"].cpus == 2
    assert [p.path for p in out.problems] == ["sos_commands/virsh/virsh_-r_capabilities"]


def test_hugepages_short_does_not_judge_an_unknown_free_count():
    two = _cap(numa_nodes=[NumaNode(id=0, cpus=[0, 1], hugepages={"2048": {"total": 40}}),
                           NumaNode(id=1, cpus=[2, 3], hugepages={"2048": {"total": 40}})])
    off = _g("o", state="shut off", placement=Placement(hugepage_kib=2048, numa_nodes=[0]))
    assert _codes(_report(two), [off]) == []  # free unknown: nothing said
    off.memory_mb = 128  # 64 pages > the node's 40 in total: that is known
    assert _codes(_report(two), [off]) == [("hugepages-short", "warning", ["u-o"])]


def test_lsblk_real():
    devs = lsblk.parse_lsblk(_text("lsblk"))
    assert [(d.name, d.type, d.maj_min, d.parents) for d in devs.values()] == [
        ("loop0", "loop", "7:0", []), ("zram0", "disk", "253:0", []), ("vda", "disk", "254:0", [])]
    assert devs["zram0"].paths() == ["/dev/zram0"]  # major 253 here is zram, not device-mapper


def test_lsblk_ascii_tree_and_old_dm_names():
    devs = lsblk.parse_lsblk("NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINT\n"
                             "sdg     8:96   0  600G  0 disk\n`-mpathh (dm-13)  253:13 0 600G 0 mpath\n"
                             "sdh     8:112  0  600G  0 disk\n`-mpathh (dm-13)  253:13 0 600G 0 mpath\n"
                             "vda   252:0 0 10G 0 disk\n|-vda1 252:1 0 1G 0 part /boot\n`-vda2 252:2 0 9G 0 part\n"
                             "  |-rhel-root 253:0 0 7G 0 lvm /\n  `-rhel-swap 253:1 0 1G 0 lvm [SWAP]\n")
    assert devs["mpathh"].parents == ["sdg", "sdh"] and devs["mpathh"].paths() == ["/dev/dm-13", "/dev/mapper/mpathh"]
    assert devs["rhel-swap"].parents == ["vda2"] and devs["vda2"].parents == ["vda"]
    assert "/dev/dm-1" in devs["rhel-swap"].paths()


def _block(files):
    v = _view(files)
    v.tags = {k: "iscsi" if "iscsi" in k else "dev_listing" for k in files}
    return block_devices.read(v).host_data


_TREE = ("NAME        MAJ:MIN RM  SIZE RO TYPE  MOUNTPOINTS\nsdb           8:16   0    5G  0 disk\n"
         "└─mpatha    253:2    0    5G  0 mpath\nsdd           8:48   0    5G  0 disk\n"
         "└─mpatha    253:2    0    5G  0 mpath\nsde           8:64   0    5G  0 disk\n")


def test_lsblk_known_device_is_present_without_the_dev_listing():
    hd = _block({"sos_commands/block/lsblk": _TREE})
    g = _g("a", disks=[Disk(target="vdb", source_type="block", source="/dev/sde"),
                       Disk(target="vdc", source_type="block", source="/dev/mapper/mpatha"),
                       Disk(target="vdd", source_type="block", source="/dev/sdz")])
    capacity.annotate(Report(id="r1", path="x"), [g], hd)
    sde, mp, sdz = (d.device for d in g.disks)
    assert sde.present is True and sde.listing == "sos_commands/block/lsblk" and sde.multipath is None
    # no multipath -ll: the map's paths come from lsblk, whose output has no path states
    assert mp.present is True and (mp.multipath.name, mp.multipath.paths, mp.multipath.paths_active) == (
        "mpatha", ["sdb", "sdd"], None)
    assert sdz.present is False
    got = _codes(_report(), [g])
    assert got == [("disk-device-missing", "critical", ["u-a"])]
    (f,) = [f for c in host_findings.CHECKS for f in c(_report(), [g])]
    assert "/dev/sdz is not in the report's lsblk" in f.message and "vdb" not in f.message


def test_listing_absent_entry_but_lsblk_has_it_is_present():
    hd = _block({"sos_commands/block/lsblk": _TREE,
                 "sos_commands/block/ls_-lanR_.dev": "/dev:\nbrw-rw----  1 0 6   8,  16 Dec  2 05:37 sdb\n"})
    g = _g("a", disks=[Disk(target="vdb", source="/dev/dm-2"), Disk(target="vdc", source="/dev/sdb")])
    capacity.annotate(Report(id="r1", path="x"), [g], hd)
    assert [(d.device.present, d.device.listing) for d in g.disks] == [
        (True, "sos_commands/block/lsblk"), (True, "sos_commands/block/ls_-lanR_.dev")]
    assert g.disks[0].device.multipath.name == "mpatha"


def test_no_listing_no_lsblk_no_iscsi_is_no_device():
    g = _g("a", disks=[Disk(target="vdb", source="/dev/sdb")])
    capacity.annotate(Report(id="r1", path="x"), [g], _block({"sos_commands/block/lsblk": "lsblk: failed\n"}))
    assert g.disks[0].device is None


def test_iscsiadm_no_sessions_real_and_iscsid_failure_says_nothing():
    assert _block({block_devices.ISCSI_SESSIONS: "iscsiadm: No active sessions.\n"})["iscsi"]["sessions"] == []
    # what iscsiadm prints when it cannot read the sessions: no account of them, so no absence
    assert "iscsi" not in _block({block_devices.ISCSI_SESSIONS: "iscsiadm: can not connect to iSCSI daemon (111)!\n"})


IQN = "iqn.2010-10.org.openstack:volume-5b0c4d5e-0000-4000-8000-000000000013"
BY_PATH = "/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-%s-lun-1" % IQN


def _session(state="LOGGED_IN", disk_state="running"):
    return ("iSCSI Transport Class version 2.0-870\nversion 2.1.8\nTarget: %s (non-flash)\n"
            "\tCurrent Portal: 192.0.2.10:3260,1\n\tPersistent Portal: 192.0.2.10:3260,1\n"
            "\t\t**********\n\t\tInterface:\n\t\t**********\n\t\tIface Name: default\n\t\tSID: 1\n"
            "\t\tiSCSI Connection State: LOGGED IN\n\t\tiSCSI Session State: %s\n"
            "\t\tInternal iscsid Session State: NO CHANGE\n\t\t************************\n"
            "\t\tAttached SCSI devices:\n\t\t************************\n\t\tHost Number: 3\tState: running\n"
            "\t\tscsi3 Channel 00 Id 0 Lun: 0\n\t\tscsi3 Channel 00 Id 0 Lun: 1\n"
            "\t\t\tAttached scsi disk sdb\t\tState: %s\n" % (IQN, state, disk_state))


def _iscsi_doc(tmp_path, session_text, listing=True):
    host = HostSpec(guests=[GuestSpec(uuid="00000013-0000-4000-8000-000000000001", domain_name="instance-13",
                                      display_name="vol-vm", block_disks=[BY_PATH])])
    extra = {"sos_commands/iscsi/iscsiadm_-m_session_-P_3": session_text}
    if listing:
        extra["sos_commands/block/ls_-lanR_.dev"] = (
            "/dev/disk/by-path:\nlrwxrwxrwx  1 0 0 9 Dec  2 05:37 ip-192.0.2.10:3260-iscsi-%s-lun-1 -> ../../sdb\n" % IQN)
    top = write_tree(host, tmp_path / "tree", extra=extra)
    out = tmp_path / "guest.txt"
    assert main(["--format", "text", "-o", str(out), "-q", "--guest", "vol-vm", str(top)]) == 0
    return json.loads(_run(top, "json", tmp_path)), out.read_text()


def test_iscsi_session_logged_in_no_finding(tmp_path):
    doc, text = _iscsi_doc(tmp_path, _session())
    (disk,) = [d for d in doc["guests"][0]["disks"] if d["target"] == "vdb"]
    assert disk["device"]["iscsi"] == {"target": IQN, "portal": "192.0.2.10:3260", "state": "LOGGED_IN",
                                       "disk": "sdb", "disk_state": "running",
                                       "source": "sos_commands/iscsi/iscsiadm_-m_session_-P_3"}
    assert disk["device"]["present"] is True and disk["device"]["iscsi_missing_reason"] is None
    assert [f for f in doc["findings"] if f["code"] == "disk-device-missing"] == []
    assert "iSCSI %s at 192.0.2.10:3260 LOGGED_IN disk sdb running" % IQN in text


def test_iscsi_session_absent_for_a_running_guest_is_critical_naming_the_iqn(tmp_path):
    doc, text = _iscsi_doc(tmp_path, "iscsiadm: No active sessions.\n", listing=False)
    (disk,) = [d for d in doc["guests"][0]["disks"] if d["target"] == "vdb"]
    assert disk["device"]["iscsi"] is None and disk["device"]["present"] is None
    (f,) = [f for f in doc["findings"] if f["code"] == "disk-device-missing"]
    assert f["severity"] == "critical" and "no iSCSI session to %s" % IQN in f["message"]
    assert "sos_commands/iscsi/iscsiadm_-m_session_-P_3" in {e["path"] for e in f["evidence"]}
    assert "no iSCSI session to %s" % IQN in text


def test_iscsi_session_failed_is_a_finding(tmp_path):
    doc, _ = _iscsi_doc(tmp_path, _session(state="FAILED", disk_state="blocked"))
    (f,) = [f for f in doc["findings"] if f["code"] == "disk-device-missing"]
    assert "is FAILED, not LOGGED_IN" in f["message"]


def test_iscsi_html_shows_the_session(tmp_path):
    host = HostSpec(guests=[GuestSpec(uuid="00000013-0000-4000-8000-000000000001", domain_name="instance-13",
                                      display_name="vol-vm", block_disks=[BY_PATH])])
    top = write_tree(host, tmp_path / "tree", extra={"sos_commands/iscsi/iscsiadm_-m_session_-P_3": _session()})
    page = _run(top, "html", tmp_path)
    assert "LOGGED_IN" in page and IQN in page

"""The host findings on real sos reports (4.0 and 4.9.1) of a real host: libvirtd with pinned,
NUMA-tuned, hugepage-backed guests, Open vSwitch on the dummy datapath, block devices, an
iSCSI by-path disk with no session (open-iscsi, no kernel iSCSI here), a nova.conf with secrets
(tests/rig/hostrig.py). A broken host gets each finding; the same host put
right gets none of them.

Needs root and `make rig` (libvirtd, Open vSwitch, both sos trees): skips without them, fails
under CI. Run it under the rig lock.
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from tests.conftest import ROOT, require
from tests.rig import hostrig, sosrun

VERSIONS = ("4.0", "4.9.1")
HOST_CODES = {"cpu-pinning-overlap", "pinned-outside-cpu-set", "hugepages-short", "host-overcommit",
              "port-not-plugged", "disk-device-missing", "collection-incomplete"}
U = {name: hostrig.uuid(n) for name, (n, _, _) in hostrig.GUESTS.items()}


def _ok(*cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    require(os.geteuid() == 0, "not root: the real host tests need root (make rig)")
    require(_ok("virsh", "-c", "qemu:///system", "version"), "libvirtd is not running (make rig starts it)")
    require(shutil.which("ovs-vsctl") is not None and _ok("ovs-vsctl", "-t", "5", "show"),
            "Open vSwitch is not running (make rig: setup.d/30-openvswitch.sh)")
    for v in VERSIONS:
        require(sosrun.available(v), "sos %s is not prepared (make rig)" % v)
    return hostrig.reports(str(tmp_path_factory.mktemp("host-sos")), VERSIONS)


def _analyze(path, fmt, tmp_path):
    out = tmp_path / ("out." + fmt)
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--format", fmt, "-o", str(out), "-q", str(path)],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return out.read_text()


def _doc(archives, scenario, version, tmp_path):
    return json.loads(_analyze(archives[(scenario, version)], "json", tmp_path))


def _host_findings(doc):
    return [f for f in doc["findings"] if f["code"] in HOST_CODES]


def _by(doc, code):
    return [(f["severity"], sorted(f["guests"])) for f in doc["findings"] if f["code"] == code]


@pytest.mark.parametrize("version", VERSIONS)
def test_broken_host_each_finding(archives, version, tmp_path):
    doc = _doc(archives, "broken", version, tmp_path)
    assert _by(doc, "cpu-pinning-overlap") == [("critical", sorted([U["host13-pin-a"], U["host13-pin-b"]]))]
    assert _by(doc, "pinned-outside-cpu-set") == [("warning", [U["host13-outside"]])]
    assert ("critical", [U["host13-huge-off"]]) in _by(doc, "hugepages-short")
    assert sorted(_by(doc, "port-not-plugged")) == sorted([("critical", [U["host13-noport"]]),
                                                          ("critical", [U["host13-badport"]])])
    assert sorted(_by(doc, "disk-device-missing")) == sorted([("critical", [U["host13-nodisk"]]),
                                                             ("critical", [U["host13-iscsi"]]),
                                                             ("warning", [U["host13-outside"]])])
    (sc,) = [f for f in doc["findings"] if f["code"] == "disk-device-missing" and U["host13-iscsi"] in f["guests"]]
    # sos's iscsi plugin ran the real iscsiadm: "No active sessions."
    assert "no iSCSI session to %s" % hostrig.ISCSI_IQN in sc["message"]
    assert "sos_commands/iscsi/iscsiadm_-m_session_-P_3" in {e["path"] for e in sc["evidence"]}
    (over,) = [f for f in doc["findings"] if f["code"] == "host-overcommit"]
    assert over["guests"] == [] and over["hosts"] == ["compute-13"]
    assert "cpu_dedicated_set" in over["message"] and "cpu_allocation_ratio 1" in over["message"]
    (bad,) = [f for f in doc["findings"] if f["code"] == "port-not-plugged" and U["host13-badport"] in f["guests"]]
    assert "ofport -1" in bad["message"] and "requires valid 'peer' argument" in bad["message"]
    # evidence from both sides: the guest's XML and the host's file
    paths = {e["path"] for e in bad["evidence"]}
    assert "sos_commands/openvswitch/ovs-vsctl_-t_5_list_interface" in paths and len(paths) == 2


@pytest.mark.parametrize("version", VERSIONS)
def test_broken_host_virsh_timeout_is_collection_incomplete(archives, version, tmp_path):
    doc = _doc(archives, "broken", version, tmp_path)
    (f,) = [f for f in doc["findings"] if f["code"] == "collection-incomplete"]
    assert f["guests"] == [] and "virsh timed out" in f["message"] and "guest list" in f["message"]
    assert U["host13-pin-a"] in {g["uuid"] for g in doc["guests"]}  # the plugin still gave every guest


@pytest.mark.parametrize("version", VERSIONS)
def test_capacity_placement_ovs_and_devices_from_the_real_report(archives, version, tmp_path):
    doc = _doc(archives, "healthy", version, tmp_path)
    cap = doc["reports"][0]["capacity"]
    assert cap["cpus"] == os.cpu_count() and cap["memory_mb"] > 0
    node0 = cap["numa_nodes"][0]
    assert node0["id"] == 0 and node0["hugepages"]["2048"]["total"] >= hostrig.HUGEPAGES
    assert cap["cpu_dedicated_set"] == [1] and cap["cpu_shared_set"] == [0] and cap["vcpu_pin_set"] is None
    assert cap["reserved_host_memory_mb"] == 512 and cap["committed"]["pinned_cpus"] == [1]
    assert cap["committed"]["hugepages"] == {"0": {"2048": 16}}
    assert cap["not_collected"] == []
    g = {g["uuid"]: g for g in doc["guests"]}
    a = g[U["host13-pin-a"]]
    assert a["placement"] == {"vcpu_pins": {"0": [1]}, "emulator_pins": [1], "numa_nodes": [0], "hugepage_kib": 2048,
                              "cpu_policy": "dedicated", "mem_page_size": "2MB", "numa_node_count": "1"}
    ovs = a["interfaces"][0]["ovs"]
    assert ovs["name"] == "tap1301-00" and ovs["bridge"] == "br-int" and ovs["ofport"] > 0
    assert ovs["iface_id"] == hostrig.port_id(1) and ovs["vm_uuid"] == U["host13-pin-a"]
    eth = g[U["host13-eth"]]["interfaces"][0]["ovs"]  # plugged the os-vif way: vm-uuid
    assert eth["vm_uuid"] == U["host13-eth"] and eth["attached_mac"] == hostrig.mac(2)
    (disk,) = [d for d in a["disks"] if d["target"] == "vdb"]
    assert disk["device"]["path"] == hostrig.BLOCK_LINK and disk["device"]["present"] is True
    assert disk["device"]["iscsi"] is None and disk["device"]["iscsi_missing_reason"] is None  # not an iSCSI path


def _extracted(archives, scenario, version, tmp_path):
    """The report as a directory, to take files out of it."""
    with tarfile.open(archives[(scenario, version)]) as tar:
        tar.extractall(tmp_path / "x")
    (top,) = (tmp_path / "x").iterdir()
    return top


@pytest.mark.parametrize("version", VERSIONS)
def test_real_report_holds_capabilities_lsblk_and_iscsi(archives, version, tmp_path):
    top = _extracted(archives, "healthy", version, tmp_path)
    assert (top / "sos_commands/virsh/virsh_-r_capabilities").read_text().startswith("<capabilities>")
    assert "TYPE" in (top / "sos_commands/block/lsblk").read_text()
    assert (version == "4.9.1") == (top / "sos_commands/block/lsblk_-O_-P").exists()
    assert (top / "sos_commands/iscsi/iscsiadm_-m_session_-P_3").read_text().strip() == "iscsiadm: No active sessions."


@pytest.mark.parametrize("version", VERSIONS)
def test_capabilities_and_lsblk_stand_in_for_missing_files(archives, version, tmp_path):
    """The real report with the sysfs node files and the /dev listing taken out: NUMA nodes from
    virsh capabilities, a disk named as its /dev/loopN still present by lsblk, still no finding."""
    top = _extracted(archives, "healthy", version, tmp_path)
    shutil.rmtree(top / "sys/devices/system/node")
    for listing in (top / "sos_commands/block").glob("ls_-*R_.dev"):
        listing.unlink()
    doc = json.loads(_analyze(top, "json", tmp_path))
    cap = doc["reports"][0]["capacity"]
    assert "sos_commands/virsh/virsh_-r_capabilities" in cap["sources"]["numa_nodes"]
    (node0,) = cap["numa_nodes"]
    assert node0["cpus"] == list(range(os.cpu_count())) and node0["memory_mb"] > 0
    assert node0["hugepages"]["2048"]["total"] >= hostrig.HUGEPAGES
    assert "free" in node0["hugepages"]["2048"]  # one cell: the host-wide count is its own
    assert cap["committed"]["hugepages"] == {"0": {"2048": 16}}
    g = {g["uuid"]: g for g in doc["guests"]}
    (eth_disk,) = [d for d in g[U["host13-eth"]]["disks"] if d["target"] == "vdb"]
    lsblk_file = "sos_commands/block/lsblk_-O_-P" if version == "4.9.1" else "sos_commands/block/lsblk"
    assert eth_disk["source"].startswith("/dev/loop")
    assert eth_disk["device"]["present"] is True and eth_disk["device"]["listing"] == lsblk_file
    # a by-id link is in no lsblk: without the listing nothing is known of it, and nothing is said
    (pin_disk,) = [d for d in g[U["host13-pin-a"]]["disks"] if d["target"] == "vdb"]
    assert pin_disk["device"] is None
    assert [f for f in _host_findings(doc) if f["code"] != "collection-incomplete"] == []


@pytest.mark.parametrize("version", VERSIONS)
def test_healthy_host_has_no_host_finding(archives, version, tmp_path):
    doc = _doc(archives, "healthy", version, tmp_path)
    left = _host_findings(doc)
    if version == "4.0":
        # Debian's sos 4.0 on Python 3.11: openstack_nova's postproc raises (a regex with a global
        # flag not at the start), so the nova.conf it copied is unmasked; that is a real failure.
        assert [(f["code"], "openstack_nova failed" in f["message"]) for f in left] == [("collection-incomplete", True)]
    else:
        assert left == []


@pytest.mark.parametrize("version", VERSIONS)
def test_nova_conf_secrets_never_in_any_output(archives, version, tmp_path):
    for scenario in ("broken", "healthy"):
        path = archives[(scenario, version)]
        for fmt in ("json", "text", "html"):
            out = _analyze(path, fmt, tmp_path)
            assert [s for s in hostrig.SECRETS if s in out] == [], (scenario, fmt)


def test_sos_40_report_holds_the_secrets_the_outputs_leave_out(archives):
    """The case the secrets test is about: sos 4.0 here leaves nova.conf unmasked."""
    with tarfile.open(archives[("healthy", "4.0")]) as tar:
        (m,) = [m for m in tar.getmembers() if m.name.endswith("/etc/nova/nova.conf")]
        text = tar.extractfile(m).read().decode()
    assert all(s in text for s in hostrig.SECRETS)

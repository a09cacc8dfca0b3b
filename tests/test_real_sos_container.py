"""The plugin's containerized-libvirt path in real sos 4.0 and 4.9.1: a real podman container named
`nova_libvirt` (tests/rig/container.py) whose own virsh reaches the rig's libvirtd, found by the
plugin with `podman ps` and read with `podman exec nova_libvirt virsh -r ...` (sos 4.0's own
container exec quotes the command wrongly; the plugin builds it by hand).

Needs root and `make rig`: skips without them, fails under CI.
"""

import json
import os
import signal
import subprocess
import sys
import tarfile

import pytest

from tests.conftest import ROOT, require
from tests.rig import container
from tests.rig import guests as rig
from tests.rig import sosrun

VERSIONS = ("4.0", "4.9.1")
ALL = {g[0] for g in rig.GUESTS}
PERSISTENT = {g[0] for g in rig.GUESTS if g[4]}
DIR = "sos_commands/libvirt_guests/container_nova_libvirt/"
SUMMARY = "sos_strings/libvirt_guests/summary."  # written through sos's add_string_as_file


def _virsh_ok():
    try:
        return subprocess.run(["virsh", "-c", "qemu:///system", "version"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    require(os.geteuid() == 0, "not root: the real sos/libvirt tests need root (make rig)")
    require(_virsh_ok(), "libvirtd is not running (make rig starts it)")
    require(container.available(), "podman/runc are not installed (make rig installs them)")
    for v in VERSIONS:
        require(sosrun.available(v), "sos %s is not prepared (make rig)" % v)
    rig.define(rig.GUESTS)
    out = tmp_path_factory.mktemp("sos-container")
    try:
        assert set(container.start()) == ALL
        runs = {v: sosrun.run_sos(v, str(out / v), plugins="libvirt_guests")[0] for v in VERSIONS}
        for v in VERSIONS:  # the same with the container regex option excluding it
            runs[v, "excluded"] = sosrun.run_sos(v, str(out / v / "x"), plugins="libvirt_guests", extra_args=[
                "-k", "libvirt_guests.containers=^nova_compute$"])[0]
        yield runs
    finally:
        container.stop()


def _members(path):
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers()
                if m.isfile() and "/" in m.name}


@pytest.mark.parametrize("version", VERSIONS)
def test_container_source_lists_every_guest_with_its_xml(reports, version):
    files = _members(reports[version])
    summary = json.loads(files[SUMMARY + "json"])
    src = {s["name"]: s for s in summary["sources"]}["container_nova_libvirt"]
    assert (src["kind"], src["runtime"], src["container"]) == ("container", "podman", "nova_libvirt")
    assert src["list_command"] == "podman exec nova_libvirt virsh -r list --all --uuid"
    assert src["list_status"] == 0 and src["live_data"] is True and src["error"] is None
    got = {d["uuid"]: d for d in src["domains"]}
    assert set(got) == ALL
    for uuid, name, display, state, persistent, _ns, _v in rig.GUESTS:
        d = got[uuid]
        assert (d["domain_name"], d["state"], d["persistent"]) == (name, state, persistent), uuid
        assert (d["nova"] or {}).get("display_name") == display, uuid
        assert d["files"]["live"] == DIR + "domains/%s.live.xml" % uuid
        assert uuid.encode() in files[DIR + "domains/%s.live.xml" % uuid]
        assert (DIR + "domains/%s.inactive.xml" % uuid in files) == persistent, uuid
    listing = files[DIR + "virsh_-r_list_--all"].decode()
    assert all(g[1] in listing for g in rig.GUESTS)
    table = files[SUMMARY + "txt"].decode()
    assert "container_nova_libvirt (podman exec nova_libvirt): 6 domain(s), live data: yes" in table
    assert not [p for p, data in files.items() if rig.VNC_PASSWORD.encode() in data]


@pytest.mark.parametrize("version", VERSIONS)
def test_analyzer_reads_the_container_source(reports, version, tmp_path):
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--format", "json", "-o", str(out), "-q",
                           reports[version]], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["reports"][0]["problems"] == []
    guests = {g["uuid"]: g for g in doc["guests"]}
    assert set(guests) == ALL and len(doc["guests"]) == len(ALL)  # host + container: no duplicates
    for uuid, _name, display, state, _p, _ns, _v in rig.GUESTS:
        g = guests[uuid]
        assert (g["display_name"], g["state"]) == (display, state), uuid
        assert any(s["path"].startswith(DIR + "domains/") for s in g["sources"]), uuid


@pytest.mark.parametrize("version", VERSIONS)
def test_containers_option_chooses_which_containers(reports, version):
    summary = json.loads(_members(reports[version, "excluded"])[SUMMARY + "json"])
    assert [s["name"] for s in summary["sources"]] == ["host"]


@pytest.mark.parametrize("version", VERSIONS)
def test_container_libvirtd_hung_copies_its_own_files(reports, version, tmp_path):
    """libvirtd not answering (SIGSTOP): the container's virsh is cut off by virsh_timeout, and the
    plugin copies the container's own /etc/libvirt/qemu and /run/libvirt/qemu through `podman exec`
    (where Kolla keeps them, sos's libvirt plugin never looks); the analyzer reads those copies."""
    assert set(container.start()) == ALL
    pid = int(subprocess.run(["pgrep", "-x", "libvirtd"], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout.split()[0])
    os.kill(pid, signal.SIGSTOP)
    try:
        path = sosrun.run_sos(version, str(tmp_path / "hung"), plugins="libvirt_guests",
                              extra_args=["-k", "libvirt_guests.virsh_timeout=3"])[0]
    finally:
        os.kill(pid, signal.SIGCONT)
        container.stop()
    files = _members(path)
    src = {s["name"]: s for s in json.loads(files[SUMMARY + "json"])["sources"]}
    c = src["container_nova_libvirt"]
    assert c["live_data"] is False and c["error"].startswith("virsh timed out after 3 s"), c["error"]
    assert c["error"].endswith("domains listed from the container's /etc/libvirt/qemu and /run/libvirt/qemu")
    got = {d["uuid"]: d for d in c["domains"]}
    assert set(got) == ALL
    for uuid, name, display, state, persistent, _ns, _v in rig.GUESTS:
        d = got[uuid]
        assert (d["domain_name"], d["state"], d["persistent"]) == (name, state, persistent), uuid
        assert (d["nova"] or {}).get("display_name") == display, uuid
        if persistent:
            assert d["files"]["config"] == DIR + "files/etc/%s.xml" % name
            assert uuid.encode() in files[d["files"]["config"]]
    assert not [p for p, data in files.items() if rig.VNC_PASSWORD.encode() in data]

    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--format", "json", "-o", str(out), "-q", path],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    guests = {g["uuid"]: g for g in json.loads(out.read_text())["guests"]}
    assert set(guests) == ALL
    for uuid, name, display, state, persistent, _ns, _v in rig.GUESTS:
        g = guests[uuid]
        assert (g["display_name"], g["state"]) == (display, state), uuid
        if persistent:
            assert {"kind": "container-etc-persistent", "path": DIR + "files/etc/%s.xml" % name} in g["sources"]

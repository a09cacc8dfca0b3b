"""The plugin in the real `sos report` (Debian's 4.0 and trixie's 4.9.1) on a real libvirtd with real
qemu guests (tests/rig/guests.py), then analyze-sos on the archive sos wrote.

Needs root and `make rig` (libvirtd, qemu, both sos trees): skips without them, fails under CI.
"""

import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from tests.conftest import ROOT, require
from tests.rig import container
from tests.rig import guests as rig
from tests.rig import sosrun

VERSIONS = ("4.0", "4.9.1")
PERSISTENT = {g[0] for g in rig.GUESTS if g[4]}
DISPLAY = {g[0]: g[2] for g in rig.GUESTS}
STATES = {g[0]: g[3] for g in rig.GUESTS}
REASONS = {"running": "booted", "paused": "user"}  # how tests/rig/guests.py leaves them
SUMMARY = "sos_strings/libvirt_guests/summary."  # written through sos's add_string_as_file


def _virsh_ok():
    try:
        return subprocess.run(["virsh", "-c", "qemu:///system", "version"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def host():
    require(os.geteuid() == 0, "not root: the real sos/libvirt tests need root (make rig)")
    require(_virsh_ok(), "libvirtd is not running (make rig starts it)")
    for v in VERSIONS:
        require(sosrun.available(v), "sos %s is not prepared (make rig)" % v)
    container.stop()  # a leftover libvirt container would add a second source to every summary
    rig.define(rig.GUESTS)
    return "compute-1"


@pytest.fixture(scope="module")
def reports(host, tmp_path_factory):
    out = tmp_path_factory.mktemp("sos")
    return {v: sosrun.run_sos(v, str(out / v), host=host)[0] for v in VERSIONS}


def _members(path):
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers()
                if m.isfile() and "/" in m.name}


def _analyze(path, tmp_path, *args):
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--format", "json", "-o", str(out), "-q",
                           str(path), *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(out.read_text()) if out.exists() else None


@pytest.mark.parametrize("version", VERSIONS)
def test_archive_holds_every_guest_live_and_inactive_xml(reports, version):
    files = _members(reports[version])
    base = "sos_commands/libvirt_guests/host/domains/"
    for uuid, *_ in rig.GUESTS:
        assert base + uuid + ".live.xml" in files, (version, uuid)
        assert (base + uuid + ".inactive.xml" in files) == (uuid in PERSISTENT), (version, uuid)
        assert uuid.encode() in files[base + uuid + ".live.xml"]
    summary = json.loads(files[SUMMARY + "json"])
    assert summary["sos_version"] == version and summary["schema_version"] == 1
    (src,) = summary["sources"]
    assert src["live_data"] is True and src["list_status"] == 0
    got = {d["uuid"]: d for d in src["domains"]}
    assert set(got) == {g[0] for g in rig.GUESTS}
    for uuid, d in got.items():
        assert (d["nova"] or {}).get("display_name") == DISPLAY[uuid]
        assert d["state"] == STATES[uuid] and d["persistent"] == (uuid in PERSISTENT)
        assert d["state_reason"] == REASONS.get(STATES[uuid], d["state_reason"]), uuid  # virsh domstate --reason
    table = files[SUMMARY + "txt"].decode()
    assert all(name in table for name in DISPLAY.values() if name)


@pytest.mark.parametrize("version", VERSIONS)
def test_manifest_lists_what_the_plugin_collected(reports, version):
    """Collected through sos's own API: every dumpxml is in sos's manifest (and, from 4.1 on, the summary)."""
    files = _members(reports[version])
    plugin = json.loads(files["sos_reports/manifest.json"])["components"]["report"]["plugins"]["libvirt_guests"]
    run = {c["exec"] for c in plugin["commands"]}
    for uuid, *_ in rig.GUESTS:
        assert "virsh -r dumpxml " + uuid in run, (version, uuid)
        assert ("virsh -r dumpxml --inactive " + uuid in run) == (uuid in PERSISTENT), (version, uuid)
    if version != "4.0":  # sos 4.0's manifest has no strings section
        assert {s["path"] for s in plugin["strings"].values()} >= {SUMMARY + "json", SUMMARY + "txt"}


@pytest.mark.parametrize("version", VERSIONS)
def test_no_vnc_password_anywhere_in_the_archive(reports, version):
    files = _members(reports[version])
    assert any(b"passwd=" in data for data in files.values()), "the libvirt plugin copies /run: expected a scrubbed passwd"
    leaks = [p for p, data in files.items() if rig.VNC_PASSWORD.encode() in data]
    assert leaks == []


@pytest.mark.parametrize("version", VERSIONS)
def test_analyzer_inventory_from_the_real_report(reports, version, tmp_path):
    status, doc = _analyze(reports[version], tmp_path)
    assert status == 0
    assert doc["reports"][0]["hostname"] == "compute-1" and doc["reports"][0]["sos_version"] == version
    guests = {g["uuid"]: g for g in doc["guests"]}
    assert set(guests) == {g[0] for g in rig.GUESTS}
    for uuid, g in guests.items():
        assert g["display_name"] == DISPLAY[uuid] and g["state"] == STATES[uuid], uuid
        assert g["persistent"] == (uuid in PERSISTENT), uuid
        kinds = {s["kind"] for s in g["sources"]}
        assert {"plugin-summary", "plugin-live"} <= kinds, uuid
    assert doc["reports"][0]["problems"] == []
    web = [g for g in doc["guests"] if g["display_name"] == "web-01"]
    assert len(web) == 2  # two instances share the name: both are found


def test_analyzer_needs_only_the_plugin_output(reports, tmp_path):
    """--clean-free check that the plugin alone is a full inventory: drop the libvirt plugin's copies."""
    src = reports["4.9.1"]
    only = tmp_path / "only-plugin.tar"
    with tarfile.open(src) as tin, tarfile.open(only, "w") as tout:
        for m in tin.getmembers():
            rel = m.name.split("/", 1)[1] if "/" in m.name else ""
            if rel.startswith(("etc/", "run/", "var/")):
                continue
            tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
    status, doc = _analyze(only, tmp_path)
    assert status == 0
    got = {g["uuid"]: (g["display_name"], g["state"], g["persistent"]) for g in doc["guests"]}
    assert got == {g[0]: (g[2], g[3], g[4]) for g in rig.GUESTS}


@pytest.mark.parametrize("version", VERSIONS)
def test_libvirtd_down_falls_back_to_files(host, version, tmp_path):
    subprocess.run(["pkill", "-x", "libvirtd"], check=False)
    try:
        for _ in range(50):
            if subprocess.run(["pgrep", "-x", "libvirtd"], stdout=subprocess.DEVNULL).returncode != 0:
                break
            time.sleep(0.1)
        path, _log = sosrun.run_sos(version, str(tmp_path / "down"), host=host)
    finally:
        subprocess.run(["libvirtd", "-d"], check=True)
        for _ in range(50):
            if _virsh_ok():
                break
            time.sleep(0.2)
    files = _members(path)
    (src,) = json.loads(files[SUMMARY + "json"])["sources"]
    assert src["live_data"] is False and src["error"].startswith("virsh failed (exit 1)")
    assert "domains listed from /etc/libvirt/qemu and /run/libvirt/qemu" in src["error"]
    assert {d["uuid"] for d in src["domains"]} == {g[0] for g in rig.GUESTS}
    # from /run's <domstatus state= reason=>, in virsh spelling; shut off = persistent without /run
    assert {d["uuid"]: (d["state"], d["state_reason"]) for d in src["domains"]} == {
        g[0]: (g[3], REASONS.get(g[3])) for g in rig.GUESTS}
    status, doc = _analyze(path, tmp_path)
    assert status == 0
    got = {g["uuid"]: (g["display_name"], g["state"]) for g in doc["guests"]}
    assert got == {g[0]: (g[2], g[3]) for g in rig.GUESTS}


@pytest.mark.parametrize("version", VERSIONS)
def test_libvirtd_hung_times_out_and_falls_back_to_files(host, version, tmp_path):
    """libvirtd alive but not answering (SIGSTOP): virsh is cut off by the plugin's timeout option,
    the sos run still finishes quickly and the summary says why live data is missing."""
    pid = int(subprocess.run(["pgrep", "-x", "libvirtd"], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout.split()[0])
    os.kill(pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        path, _log = sosrun.run_sos(version, str(tmp_path / "hung"), host=host,
                                    extra_args=["-k", "libvirt_guests.virsh_timeout=3"])
        took = time.monotonic() - t0
    finally:
        os.kill(pid, signal.SIGCONT)
    assert took < 60, took
    files = _members(path)
    (src,) = json.loads(files[SUMMARY + "json"])["sources"]
    assert src["live_data"] is False
    assert src["error"].startswith("virsh timed out after 3 s"), src["error"]
    assert {d["uuid"] for d in src["domains"]} == {g[0] for g in rig.GUESTS}
    assert "live data: NO (virsh timed out" in files[SUMMARY + "txt"].decode()
    status, doc = _analyze(path, tmp_path)
    assert status == 0
    got = {g["uuid"]: (g["display_name"], g["state"]) for g in doc["guests"]}
    assert got == {g[0]: (g[2], g[3]) for g in rig.GUESTS}


@pytest.mark.parametrize("version", VERSIONS)
def test_plain_sos_report_enables_the_plugin_on_a_libvirt_host(host, version, tmp_path):
    """A customer's plain `sos report` (no -o/-e) collects it: sos lists it as enabled, options too."""
    pylib = sosrun.private_sos(version, str(tmp_path))
    out = subprocess.run(["/usr/bin/python3", sosrun.SOS_TREES[version][1], "report", "--list-plugins"],
                         env=dict(sosrun.CLEAN_ENV, PYTHONPATH=pylib), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, timeout=120).stdout
    enabled = out[out.index("currently enabled"):out.index("currently disabled")]
    assert "\n libvirt_guests " in enabled
    assert "libvirt_guests.virsh_timeout" in out and "libvirt_guests.containers" in out


# Python 3.6 (Ubuntu 18.04's sos, ...) under LANG=C has an ASCII locale: PEP 538/540 came in 3.7.
ASCII_LOCALE = {"LANG": "C", "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}


@pytest.mark.parametrize("version", VERSIONS)
def test_ascii_locale_keeps_non_ascii_display_names(host, version, tmp_path):
    path, log = sosrun.run_sos(version, str(tmp_path / "c"), host=host, plugins="libvirt_guests",
                               env=ASCII_LOCALE)
    assert "summary failed" not in log
    files = _members(path)
    (src,) = json.loads(files[SUMMARY + "json"])["sources"]
    assert {d["uuid"]: (d["nova"] or {}).get("display_name") for d in src["domains"]} == DISPLAY
    table = files[SUMMARY + "txt"].decode("utf-8")
    assert all(name in table for name in DISPLAY.values() if name)


def test_clean_obfuscated_report_is_still_read(host, tmp_path):
    # sos learns the host name to hide from the host plugin's output: run it too, as customers do
    # and a FQDN: sos's cleaner leaves single-label host names alone
    path, log = sosrun.run_sos("4.9.1", str(tmp_path / "clean"), host="compute-1.cloud.example.com",
                               plugins="libvirt_guests,libvirt,host", extra_args=["--clean"])
    assert "obfuscated" in os.path.basename(path), log[-2000:]
    files = _members(path)
    # what the cleaner rewrote: MACs and the Nova port IPs (and, here, even directory names)
    assert not any(b"fa:16:3e:00:00" in data for data in files.values())
    assert not any(b"10.0.0.11" in data for data in files.values())
    status, doc = _analyze(path, tmp_path)
    assert status == 0
    assert doc["reports"][0]["problems"] == []
    assert {g["uuid"] for g in doc["guests"]} == {g[0] for g in rig.GUESTS}
    assert {g["display_name"] for g in doc["guests"]} == set(DISPLAY.values())

"""Two real sosreports of one host taken minutes apart, with guests changed between them by
virsh (stop, start, redefine with other memory): the analyzer lists exactly those changes.

Needs root and `make rig`: skips without them, fails under CI.
"""

import json
import os
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import ROOT, require
from tests.rig import container
from tests.rig import guests as rig
from tests.rig import sosrun
from tests.test_real_sos import _virsh_ok

VERSION = "4.9.1"
WEB, DB, ELEVE = rig.GUESTS[0], rig.GUESTS[1], rig.GUESTS[2]  # running, paused, shut off


def _redefine_memory(guest, mib):
    uuid, name, display, _state, _persistent, ns, version = guest
    xml = rig.domain_xml(uuid, name, display, ns, version, rig.number(uuid)).replace(
        "<memory unit='MiB'>32</memory><currentMemory unit='MiB'>32</currentMemory>",
        "<memory unit='MiB'>%d</memory><currentMemory unit='MiB'>%d</currentMemory>" % (mib, mib))
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(xml)
    try:
        rig.virsh("define", f.name)
    finally:
        os.unlink(f.name)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    require(os.geteuid() == 0, "not root: the real sos/libvirt tests need root (make rig)")
    require(_virsh_ok(), "libvirtd is not running (make rig starts it)")
    require(sosrun.available(VERSION), "sos %s is not prepared (make rig)" % VERSION)
    container.stop()
    rig.define(rig.GUESTS)
    out = tmp_path_factory.mktemp("pair")
    before, _ = sosrun.run_sos(VERSION, str(out / "before"), label="before")
    rig.virsh("destroy", WEB[0])  # running -> shut off
    _redefine_memory(WEB, 64)  # and its definition now asks for 64 MiB
    rig.virsh("start", ELEVE[0])  # shut off -> running
    after, _ = sosrun.run_sos(VERSION, str(out / "after"), label="after")
    rig.define(rig.GUESTS)  # as the other real-sos tests expect the host
    return before, after


def test_the_changes_between_two_real_reports_are_exactly_what_virsh_did(pair, tmp_path):
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--format", "json", "-o", str(out), "-q", *pair],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    (host,) = doc["hosts"]
    ids = {label: r["id"] for r in doc["reports"] for label in ("before", "after")
           if "-%s-" % label in os.path.basename(r["path"])}  # sosreport-compute-1-LABEL-DATE-x
    assert host["reports"] == [ids["before"], ids["after"]]
    got = sorted((c["uuid"], c["field"], c["before"], c["after"]) for c in doc["changes"])
    assert got == sorted([(WEB[0], "state", "running", "shut off"), (WEB[0], "memory_mb", 32, 64),
                          (ELEVE[0], "state", "shut off", "running")])
    web = next(g for g in doc["guests"] if g["uuid"] == WEB[0])
    assert (web["state"], web["memory_mb"], web["reports"]) == ("shut off", 64, [ids["before"], ids["after"]])

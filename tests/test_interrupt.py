"""Ctrl-C or SIGTERM in the middle of a run: one line, no traceback, no temporary file left.

A compressed `sos collect` bundle is the worst moment: its node reports are spilled to a temporary
directory and read by worker processes, each with its own xz. Ctrl-C reaches the whole process
group (as from a terminal); SIGTERM (`timeout`, `kill`) reaches only the analyzer.
"""

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import sosbuilder
from tests.sosbuilder import GuestSpec, HostSpec, write_collect_bundle

ROOT = Path(__file__).resolve().parent.parent
PADDING = 300 << 20  # zeros per node: about a second of xz per node, a few KiB compressed


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, monkeypatch_module):
    def zeros():
        block = bytes(1 << 20)
        for _ in range(PADDING >> 20):
            yield block

    real = sosbuilder.iter_members
    monkeypatch_module.setattr(sosbuilder, "iter_members",
                               lambda h, extra=None: real(h, extra={"var/log/padding.bin": (PADDING, zeros)}))
    hosts = [HostSpec(hostname="compute-%d" % i, guests=[GuestSpec(
        uuid="1e7e1e7e-0000-4000-8000-00000000000%d" % i, domain_name="instance-%d" % i,
        display_name="vm-%d" % i)]) for i in range(2)]
    return write_collect_bundle(hosts, tmp_path_factory.mktemp("interrupt"), compression="xz")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _session(sid: int) -> list:
    out = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # session id; zombies are already gone
            out.append(stat.split("/")[2])
    return out


def _cmdline(pid: str) -> str:
    try:
        return Path("/proc/%s/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return pid


def _workers(pid: int) -> list:
    kids = []
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            text = Path(status).read_text()
        except OSError:
            continue
        if "\nPPid:\t%d\n" % pid in text and text.startswith("Name:\tpython"):
            kids.append(status)
    return kids


@pytest.mark.parametrize("sig,group,status,line", [
    (signal.SIGINT, True, 130, "analyze-sos: interrupted"),
    (signal.SIGTERM, False, 143, "analyze-sos: terminated"),
], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_cleans_up(bundle, tmp_path, sig, group, status, line):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "report.html"
    env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "analyzer", "--jobs", "3", "-o", str(out), str(bundle)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    # Wait for the worst moment: node reports spilled and worker processes reading them.
    while p.poll() is None and time.monotonic() < deadline:
        if glob.glob(str(tmp / "analyze-sos-*" / "*")) and _workers(p.pid):
            break
        time.sleep(0.01)
    assert p.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.2)
    if group:
        os.killpg(p.pid, sig)
    else:
        os.kill(p.pid, sig)
    err = p.communicate(timeout=30)[1].decode()
    assert p.returncode == status, err[-2000:]
    assert err.splitlines() == [line], err[-2000:]
    assert sorted(str(q.relative_to(tmp)) for q in tmp.rglob("*")) == []
    assert not out.exists()
    for _ in range(100):  # workers and their xz are gone too
        if not _session(p.pid):
            break
        time.sleep(0.05)
    assert [_cmdline(q) for q in _session(p.pid)] == []

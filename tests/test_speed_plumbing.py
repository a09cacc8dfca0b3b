"""The plumbing that makes big inputs fast, checked for behaviour (never for time: speed and memory
are measured by bench/run.py, which prints figures): the progress bar appears on a terminal only,
--jobs gives the same result whatever N, bundle members are read in parallel, the decompressor's
pipe is widened and reports how far it has read."""

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzer.archive import detect
from analyzer.archive.decompress import PIPE_SIZE, consumed, open_stream
from tests.sosbuilder import GuestSpec, HostSpec, write_collect_bundle, write_tarball

ROOT = Path(__file__).resolve().parent.parent
F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


def _host(name, n, salt):
    return HostSpec(hostname=name, guests=[
        GuestSpec(uuid="%08x-0000-4000-8000-%012x" % (salt, i), domain_name="instance-%08x" % (salt * 100 + i),
                  display_name="vm-%d" % i, state="running") for i in range(n)])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("plumbing")
    hosts = [_host("compute-%d" % i, 3, i + 1) for i in range(4)]
    return {
        "report": write_tarball(hosts[0], d / "one"),
        "bundle": write_collect_bundle(hosts, d / "bundle", compression="none"),
        "bundle-xz": write_collect_bundle(hosts, d / "bundle-xz", compression="xz"),
    }


def _cli(*args, tty=False):
    """Run the CLI; stderr on a pseudo-terminal when tty. Returns (status, stderr text)."""
    cmd = [sys.executable, "-m", "analyzer", *map(str, args)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if not tty:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT, timeout=120)
        return p.returncode, p.stderr.decode()
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            got = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not got:
            break
        out += got
    os.close(master)
    return p.wait(timeout=60), out.decode(errors="replace")


def _bar_lines(text):
    return [x for x in text.replace("\r\n", "\n").split("\r") if "reports" in x and "MiB" in x]


@pytest.mark.parametrize("which", ["report", "bundle"])
def test_progress_bar_on_a_terminal(inputs, tmp_path, which):
    status, err = _cli(inputs[which], "--format", "json", "-o", tmp_path / "o.json", tty=True)
    assert status == 0
    bars = _bar_lines(err)
    assert bars, err
    assert "\x1b[K" in err and "/" in bars[-1]
    # the line is cleared before the final note, which stays readable
    assert "wrote" in err.rsplit("\r\x1b[K", 1)[-1]


def test_no_progress_bar_with_quiet_even_on_a_terminal(inputs, tmp_path):
    status, err = _cli(inputs["bundle"], "--quiet", "--format", "json", "-o", tmp_path / "o.json", tty=True)
    assert status == 0 and err.strip() == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal(inputs, tmp_path):
    status, err = _cli(inputs["bundle"], "--format", "json", "-o", tmp_path / "o.json")
    assert status == 0
    assert "\r" not in err and "\x1b" not in err and not _bar_lines(err)


@pytest.mark.parametrize("which", ["bundle", "bundle-xz"])
def test_jobs_do_not_change_the_result(inputs, tmp_path, which):
    docs = []
    for n in (1, 2, 3):
        out = tmp_path / ("o%d.json" % n)
        status, _ = _cli(inputs[which], "--jobs", n, "-q", "--format", "json", "-o", out)
        assert status == 0
        doc = json.loads(out.read_text())
        doc.pop("generated_at", None)
        docs.append(doc)
    assert len(docs[0]["reports"]) == 4
    assert docs[0] == docs[1] == docs[2]


def test_bundle_members_are_read_in_worker_processes(inputs, monkeypatch, tmp_path):
    """A single bundle is read here, its node reports in a pool of worker processes."""
    from analyzer import run
    from analyzer.archive.collect import Limits

    log = tmp_path / "who"
    real = run.read_archive

    def spy(label, *args, **kw):  # called inside process(): fork workers inherit it, nothing pickled
        with open(log, "a") as f:
            f.write("%d %s\n" % (os.getpid(), label))
        return real(label, *args, **kw)

    monkeypatch.setattr(run, "read_archive", spy)
    out = run.analyze([str(inputs["bundle"])], Limits(), jobs=2, progress=False)
    assert len(out.reports) == 4 and not out.errors
    seen = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert [label for pid, label in seen if int(pid) == os.getpid()] == [str(inputs["bundle"])]
    assert len({pid for pid, label in seen if int(pid) != os.getpid()}) >= 1
    assert len(seen) == 5


def test_decompressor_pipe_is_widened_and_reports_progress(inputs):
    path = str(inputs["report"])
    size = os.path.getsize(path)
    with open_stream(path, detect.XZ) as (stream, error, seekable):
        assert stream.pipe_capacity() >= min(PIPE_SIZE, _pipe_max())
        while stream.read(1 << 20):
            pass
        assert consumed(stream) == size
        assert error() is None


def test_decompressor_runs_ahead_of_a_slow_reader(tmp_path):
    """While the parser is busy (a stretch of small files), xz goes on decompressing into the
    reader thread's queue instead of waiting on a full 1 MiB pipe."""
    import random
    noise = random.Random(5).randbytes(12 << 20)  # incompressible: 12 MiB in, 12 MiB out
    path = str(write_tarball(_host("compute-ahead", 1, 77), tmp_path, extra={"var/log/noise.bin": noise}))
    size = os.path.getsize(path)
    with open_stream(path, detect.XZ) as (stream, error, seekable):
        assert stream.read(1 << 20)  # one chunk taken, then the reader "works" and takes nothing
        deadline = time.monotonic() + 20
        while consumed(stream) < size and time.monotonic() < deadline:
            time.sleep(0.05)
        assert consumed(stream) == size  # xz read all of its input: nothing made it wait
        while stream.read(1 << 20):
            pass
        assert error() is None


def test_slice_of_a_bundle_reports_its_own_progress(inputs):
    """A node report sliced out of a plain bundle counts only its own bytes."""
    from analyzer.archive.collect import Limits, read_archive

    bundle = read_archive("b", str(inputs["bundle"]), detect.TAR, Limits())
    node = bundle.nested[0]
    got = []
    with open_stream(node.path, node.kind, node.offset, node.length) as (stream, error, _):
        while stream.read(1 << 20):
            got.append(consumed(stream))
        assert error() is None
    assert got and got[-1] == node.length


def _pipe_max():
    try:
        return int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except OSError:
        return 1 << 16


def test_domain_xml_is_parsed_while_the_stream_goes_on(inputs, monkeypatch):
    """Each kept domain document is parsed as it arrives (build.prepare), in time the reader would
    otherwise spend waiting for xz; building the report afterwards parses nothing again, and gives
    what it gives without the head start."""
    import dataclasses
    from analyzer.archive.collect import Limits, read_archive
    from analyzer.build import build, prepare
    from analyzer.parsers import domain_xml

    path = str(inputs["report"])
    early = read_archive("r", path, detect.XZ, Limits(), prepare=prepare)
    late = read_archive("r", path, detect.XZ, Limits())
    assert early.prepared and all(early.tags[rel].endswith(("xml", "domain")) for rel in early.prepared)
    assert late.prepared == {}
    expected = build("r", path, late)

    calls = []
    real = domain_xml.parse_domain
    monkeypatch.setattr(domain_xml, "parse_domain", lambda data, rel: calls.append(rel) or real(data, rel))
    got = build("r", path, early)
    assert calls == []
    assert [dataclasses.asdict(g) for g in got[1]] == [dataclasses.asdict(g) for g in expected[1]]
    assert got[0].problems == expected[0].problems


def test_a_broken_document_prepared_early_holds_nothing_of_its_parser():
    """A report with thousands of broken XML files must not hold thousands of parsers while waiting
    for the build: a kept error must not reach the expat parser's buffers through its traceback."""
    from analyzer.build import prepare
    from analyzer.model import ParseError
    made = prepare("etc_xml", "etc/libvirt/qemu/junk.xml", b"<domain>")
    assert isinstance(made, ParseError) and "malformed XML" in str(made)
    assert made.__traceback__ is None and made.__context__ is None and made.__cause__ is None

"""analyze-sos-fleet end to end: a real Dask scheduler and two real workers on 127.0.0.1, and the
embedded local cluster, ingesting the bundled samples plus generated reports (a collect bundle, a
duplicate, broken and hostile ones); every table checked against what `analyze-sos --format json`
says about each report, a worker SIGKILLed mid-ingest, re-ingest, where/sql/findings.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from analyzer.sources.host import hostname_from_root
from tests.conftest import require
from tests.sosbuilder import GuestSpec, HostSpec, default_host, write_collect_bundle, write_tarball

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FLEET = [sys.executable, "-m", "analyzer.fleet"]

dask_ok = shutil.which("dask", path=str(BIN)) is not None
try:
    import dask.distributed  # noqa: F401
    import duckdb  # noqa: F401
    import pyarrow  # noqa: F401
except ImportError:
    dask_ok = False


@pytest.fixture(autouse=True)
def _need_fleet_extra():
    require(dask_ok, "the fleet extra (dask[distributed], pyarrow, duckdb) and the dask CLI in %s" % BIN)


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def fleet(*args, check=True, cwd=None, timeout=300):
    p = subprocess.run(FLEET + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                       timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if check and p.returncode != 0:
        raise AssertionError("exit %d: %s %s" % (p.returncode, p.stdout, p.stderr))
    return p


def q(store, text):
    """Rows as `sql --format json` prints them (in this process: the CLI is checked on its own)."""
    from analyzer.fleet import query
    from analyzer.fleet.store import Store
    cols, rows = query.sql(Store(str(store)), text)
    return json.loads(query.render(cols, rows, "json"))


# ---------------------------------------------------------------------------------------------
# The inputs

SHARED_UUID = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e01"  # web-01 of the samples, on both sample hosts
MOVER = "7a7a7a7a-1111-4222-8333-444455556666"


def _hostile(dest: Path) -> Path:
    """A report whose tar tries to escape (../, absolute, symlink out) and holds an XML bomb."""
    top = "sosreport-evil-2026-11-20-aaaaaaa"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        def add(name, data=b"", **kw):
            ti = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(ti, k, v)
            if ti.type == tarfile.REGTYPE:
                ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
        add(top + "/version.txt", b"sosreport: 4.9.1\n")
        add(top + "/sos_commands/host/hostname", b"evil\n")
        add(top + "/../../fleet-escape.txt", b"escaped\n")
        add("/tmp/fleet-escape-abs.txt", b"escaped\n")
        add(top + "/etc/libvirt/qemu/link.xml", type=tarfile.SYMTYPE, linkname="/etc/shadow")
        bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10)
                           for i in range(8))
                + b']><domain type="kvm"><name>&i;</name><uuid>aaaaaaaa-0000-4000-8000-00000000bbbb</uuid></domain>')
        add(top + "/etc/libvirt/qemu/bomb.xml", bomb)
    p = dest / (top + ".tar.xz")
    p.write_bytes(subprocess.run(["xz", "-c"], input=buf.getvalue(), capture_output=True, check=True).stdout)
    return p


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("fleet-inputs")
    inputs = d / "cases"
    (inputs / "case-1").mkdir(parents=True)
    (inputs / "case-2").mkdir()
    samples = {}  # host -> its sample report, copied
    for p in sorted((ROOT / "samples").glob("*.tar.xz")):
        shutil.copy(p, inputs / "case-1" / p.name)
        samples[hostname_from_root(p.name)] = inputs / "case-1" / p.name
    assert sorted(samples) == ["compute-1", "compute-2"]
    h3 = default_host(4, hostname="compute-3", packages={"nova": "3:25.2.0-0ubuntu1", "libvirt": "8.0.0-1",
                                                         "qemu": "1:6.2+dfsg-2"})
    h3.guests.append(GuestSpec(uuid=MOVER, domain_name="instance-000000aa", display_name="mover",
                               state="paused", state_reason="user", nova_version="25.2.0"))
    h4 = default_host(3, hostname="compute-4", collected_at="2026-11-21 08:00:00")
    h4.guests.append(GuestSpec(uuid=MOVER, domain_name="instance-000000aa", display_name="mover",
                               state="running", nova_version="27.1.0"))
    t3 = write_tarball(h3, inputs / "case-2", "xz")
    t4 = write_tarball(h4, inputs / "case-2", "gz")
    nodes = d / "nodes"
    hosts = [default_host(2, hostname="compute-5"), default_host(2, hostname="compute-6")]
    node_tars = [write_tarball(h, nodes, "xz") for h in hosts]
    bundle = write_collect_bundle(hosts, inputs / "case-2", "none", node_archives=node_tars)
    dup = inputs / "case-2" / "again" / t3.name.replace("compute-3", "compute-3-copy")
    dup.parent.mkdir()
    shutil.copy(t3, dup)
    hostile = _hostile(inputs / "case-2")
    broken = inputs / "case-2" / "sosreport-broken-2026-11-20-bbbbbbb.tar.xz"
    broken.write_bytes(t3.read_bytes()[:300])
    empty = inputs / "case-2" / "sosreport-empty-2026-11-20-ccccccc.tar.gz"
    empty.write_bytes(b"")
    garbage = inputs / "case-2" / "notes.tar"
    garbage.write_bytes(b"not a tar at all\n" * 64)
    (inputs / "case-2" / "readme.txt").write_text("not named like a report: not an input\n")
    expected = {  # sha256 -> (host, path)
        sha(p): (h, str(p)) for h, p in [
            ("compute-1", samples["compute-1"]), ("compute-2", samples["compute-2"]),
            ("compute-3", t3), ("compute-4", t4), ("evil", hostile), ("compute-3", broken)]}
    for h, n in zip(("compute-5", "compute-6"), node_tars):
        expected[sha(n)] = (h, "%s!%s" % (bundle, n.name))
    return {"dir": inputs, "expected": expected, "errors": {str(empty), str(garbage)},
            "bundle": bundle, "t3": t3, "dup": dup, "hostile": hostile, "broken": broken}


def _analyze_json(path: Path) -> dict:
    """What analyze-sos itself says about one report file: the fleet must say the same."""
    p = subprocess.run([sys.executable, "-m", "analyzer", "--format", "json", "-q", str(path)],
                       capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return json.loads(p.stdout)


# ---------------------------------------------------------------------------------------------
# A real Dask cluster: `dask scheduler` and two `dask worker` processes on 127.0.0.1


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp("dask")
    sched_file = d / "scheduler.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), DASK_DISTRIBUTED__WORKER__DAEMON="False")
    procs = []
    log = open(d / "dask.log", "w")
    try:
        procs.append(subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--no-dashboard", "--scheduler-file", str(sched_file)],
                                      stdout=log, stderr=subprocess.STDOUT, env=env, cwd=d))
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        for name in ("w1", "w2"):
            procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--nworkers", "1", "--name", name,
                                           "--no-dashboard", "--local-directory", str(d / name)],
                                          stdout=log, stderr=subprocess.STDOUT, env=env, cwd=d))
        from dask.distributed import Client
        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs[::-1]:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


# ---------------------------------------------------------------------------------------------
# Checks shared by the cluster run and the embedded run

def check_tables(store: Path, c: dict) -> None:
    exp = c["expected"]
    reports = q(store, "SELECT * FROM reports ORDER BY sha256")
    got = {r["sha256"]: (r["host"], r["path"]) for r in reports}
    # the same bytes at two paths are one report, under one of its paths
    assert got.get(sha(c["dup"])) in ((exp[sha(c["t3"])]), ("compute-3", str(c["dup"])))
    got[sha(c["t3"])] = exp[sha(c["t3"])]
    assert got == exp
    for r in reports:
        assert r["ingested_at"].endswith("Z") and r["ingested_at"][:2] == "20"
        if r["host"] not in ("evil",) and r["sha256"] != sha(c["broken"]):
            assert r["collected_at"][:2] == "20"
        if r["collected_at"]:
            assert r["collected_at"].endswith("Z") == r["collected_at_is_utc"]
    by_host = {r["host"]: r for r in reports if r["sha256"] != sha(c["broken"])}
    broken = [r for r in reports if r["sha256"] == sha(c["broken"])][0]
    # cut short: read as far as it goes, as analyze-sos does (a problem, no guests), not lost
    assert broken["problem_count"] == 1 and broken["guest_count"] == 0
    assert by_host["compute-3"]["nova_version"] == "3:25.2.0-0ubuntu1"
    assert by_host["compute-3"]["libvirt_version"] == "8.0.0-1"
    assert by_host["compute-1"]["sos_version"] == "4.9.1" and by_host["compute-2"]["sos_version"] == "4.0"
    assert by_host["evil"]["problem_count"] > 0  # the escape attempts are problems, not files
    # Every table row by row against analyze-sos's own JSON of the same report.
    for sha256, (host, path) in exp.items():
        if "!" in path:
            continue  # bundle nodes: checked below through the node tarball's host
        doc = _analyze_json(Path(path))
        got = q(store, "SELECT uuid, display_name, state, host, vcpus, memory_mb, nova_version, project, "
                       "flavor, creation_time FROM guests WHERE sha256 = '%s' ORDER BY uuid" % sha256)
        want = sorted(({"uuid": g["uuid"], "display_name": g["display_name"], "state": g["state"],
                        "host": g["host"], "vcpus": g["vcpus"], "memory_mb": g["memory_mb"],
                        "nova_version": (g["nova"] or {}).get("package_version"),
                        "project": (((g["nova"] or {}).get("owner") or {}).get("project") or {}).get("name"),
                        "flavor": ((g["nova"] or {}).get("flavor") or {}).get("name"),
                        "creation_time": (g["nova"] or {}).get("creation_time")}
                       for g in doc["guests"]), key=lambda g: g["uuid"])
        assert got == want, host
        assert len(got) == [r["guest_count"] for r in reports if r["sha256"] == sha256][0]
        got_f = q(store, "SELECT code, severity, guests, message FROM findings WHERE sha256 = '%s' "
                         "ORDER BY code, message" % sha256)
        if len(doc["reports"]) == 1:  # one report alone: its findings are the report's own
            want_f = sorted(({"code": f["code"], "severity": f["severity"], "guests": f["guests"],
                              "message": f["message"]} for f in doc["findings"]),
                            key=lambda f: (f["code"], f["message"]))
            assert got_f == want_f, host
        want_e = sorted((inst["uuid"], e["kind"], e["time"]) for inst in doc.get("instances") or []
                        for e in inst["events"])
        got_e = sorted((e["uuid"], e["kind"], e["time"]) for e in
                       q(store, "SELECT uuid, kind, time FROM events WHERE sha256 = '%s'" % sha256))
        assert got_e == want_e, host
    assert q(store, "SELECT host, count(*) n FROM guests WHERE host IN ('compute-5', 'compute-6') "
                    "GROUP BY host ORDER BY host") == [{"host": "compute-5", "n": 2}, {"host": "compute-6", "n": 2}]
    samples = q(store, "SELECT state FROM guests WHERE uuid = '%s' ORDER BY host" % SHARED_UUID)
    assert [s["state"] for s in samples] == ["running", "shut off"]
    paused = q(store, "SELECT code, severity, host FROM findings WHERE guests = ['8d2e4f60-1b3c-4d5e-9f70-81a2b3c4d502']")
    assert {"code": "abnormal-state", "severity": "warning", "host": "compute-1"} in paused
    # errors: every unreadable file named like a report, never the readme
    errors = q(store, "SELECT path, sha256, reason FROM errors ORDER BY path")
    assert {e["path"] for e in errors} == c["errors"]
    for e in errors:
        assert e["reason"] and e["sha256"] == sha(Path(e["path"]))
    assert "empty" in [e["reason"] for e in errors if e["path"].endswith(".tar.gz")][0]
    # exactly once: one row per report, and one committed write per report
    assert q(store, "SELECT count(*) n, count(DISTINCT sha256) d FROM reports") == [{"n": len(exp), "d": len(exp)}]


def check_nothing_escaped(c: dict) -> None:
    assert not (c["dir"].parent / "fleet-escape.txt").exists()
    assert not (c["dir"] / "fleet-escape.txt").exists()
    assert not Path("/tmp/fleet-escape-abs.txt").exists()


def check_queries(store: Path) -> None:
    # where: the samples' web-01 by UUID prefix; every sighting, oldest first
    p = fleet("where", store, SHARED_UUID[:8], "--format", "json")
    res = json.loads(p.stdout)
    assert res["query"] == SHARED_UUID[:8]
    assert [(s["host"], s["state"]) for s in res["sightings"]] == [("compute-2", "shut off"), ("compute-1", "running")]
    s0 = res["sightings"][0]
    assert set(s0) >= {"uuid", "display_name", "project", "host", "state", "collected_at", "report_path",
                       "report_sha256", "nova_version"}
    assert s0["report_sha256"] == sha(Path(s0["report_path"])) and s0["project"] == "demo"
    assert isinstance(res["events"], list)
    # a display name shared by two instances: both, told apart by UUID
    web = json.loads(fleet("where", store, "web-01", "--format", "json").stdout)
    assert {s["uuid"] for s in web["sightings"]} == {SHARED_UUID, "1a2b3c4d-5e6f-4071-8293-a4b5c6d7e806"}
    # an instance seen on two generated hosts, paused then running on another, by name and by glob
    for term in ("mover", "MOVER", "mov*"):
        m = json.loads(fleet("where", store, term, "--format", "json").stdout)
        assert [(s["host"], s["state"], s["nova_version"]) for s in m["sightings"]] == [
            ("compute-3", "paused", "25.2.0"), ("compute-4", "running", "27.1.0")], term
    text = fleet("where", store, "mover").stdout
    assert MOVER in text and "compute-3" in text and "paused" in text
    miss = fleet("where", store, "no-such-vm", check=False)
    assert miss.returncode == 1 and miss.stderr.count("\n") == 1 and "no instance matches" in miss.stderr
    # sql, three formats
    assert json.loads(fleet("sql", store, "SELECT count(*) AS n FROM reports", "--format", "json").stdout) \
        == [{"n": 8}]
    csv = fleet("sql", store, "SELECT host, guest_count FROM reports WHERE host = 'compute-3' "
                              "ORDER BY guest_count DESC LIMIT 1", "--format", "csv").stdout
    assert csv.splitlines() == ["host,guest_count", "compute-3,5"]
    txt = fleet("sql", store, "SELECT 9 AS n").stdout
    assert txt.split() == ["n", "-", "9"]
    bad = fleet("sql", store, "SELECT * FROM nope", check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    # findings: counted by code, host and nova version
    rows = json.loads(fleet("findings", store, "--format", "json").stdout)
    ab = [r for r in rows if r["code"] == "abnormal-state" and r["host"] == "compute-3"]
    assert ab and ab[0]["nova_version"] == "3:25.2.0-0ubuntu1" and ab[0]["reports"] == 1
    only = json.loads(fleet("findings", store, "--code", "abnormal-state", "--severity", "warning",
                            "--format", "json").stdout)
    assert only and {r["code"] for r in only} == {"abnormal-state"} and {r["severity"] for r in only} == {"warning"}
    total = sum(r["findings"] for r in only)
    assert total == q(store, "SELECT count(*) n FROM findings WHERE code='abnormal-state' "
                             "AND severity='warning'")[0]["n"]
    later = json.loads(fleet("findings", store, "--since", "2026-11-21", "--format", "json").stdout)
    assert later and {r["host"] for r in later} <= {"compute-1", "compute-2", "compute-4"}


def ingest_line(p) -> str:
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1, p.stdout
    return lines[0]


# ---------------------------------------------------------------------------------------------
# The tests

def _ingest_and_check(tmp_path, corpus, *extra):
    store = tmp_path / "store"
    p = fleet("ingest", store, corpus["dir"], *extra, cwd=tmp_path)
    line = ingest_line(p)
    assert line.startswith("8 reports ingested (0 replaced), 1 duplicate, 2 failed"), line
    assert "Traceback" not in p.stderr
    check_tables(store, corpus)
    check_nothing_escaped(corpus)
    assert sorted(os.listdir(tmp_path)) == ["store"]  # nothing else written beside the store
    counts = {t: q(store, "SELECT count(*) n FROM %s" % t)[0]["n"]
              for t in ("reports", "guests", "events", "findings", "errors")}
    # the same inputs again (one of them named twice on the command line): replaced, not added
    p2 = fleet("ingest", store, corpus["dir"], corpus["t3"], *extra, cwd=tmp_path)
    assert ingest_line(p2).startswith("8 reports ingested (8 replaced), 1 duplicate, 2 failed"), p2.stdout
    assert {t: q(store, "SELECT count(*) n FROM %s" % t)[0]["n"] for t in counts} == counts
    check_tables(store, corpus)
    check_queries(store)
    return store


def test_ingest_on_a_real_dask_cluster(tmp_path, corpus, cluster):
    _ingest_and_check(tmp_path, corpus, "--scheduler", cluster)


def test_ingest_embedded_without_scheduler(tmp_path, corpus):
    _ingest_and_check(tmp_path, corpus, "--jobs", "2")


def test_a_worker_killed_mid_ingest_loses_and_doubles_nothing(tmp_path, cluster):
    from dask.distributed import Client

    inputs = tmp_path / "many"
    inputs.mkdir()

    def zeros():  # tens of MiB of zeros: each report takes a visible moment to read
        block = bytes(1 << 20)
        for _ in range(48):
            yield block

    tars = [write_tarball(default_host(3, hostname="node-%02d" % i), inputs, "gz",
                          extra={"var/log/padding.bin": (48 << 20, zeros)}) for i in range(14)]
    store = tmp_path / "store"
    with Client(cluster, timeout="30s") as client:
        pids = client.run(os.getpid)
        proc = subprocess.Popen(FLEET + ["ingest", str(store), str(inputs), "--scheduler", cluster,
                                         "--no-compact"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list((store / "reports").glob("part-*")):
            time.sleep(0.05)
        addr, victim = sorted(pids.items())[0]
        busy = client.processing()[addr]
        assert proc.poll() is None, "ingest ended before a worker could be killed"
        os.kill(victim, signal.SIGKILL)
        assert busy, "the killed worker had no task"
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.strip().startswith("14 reports ingested (0 replaced), 0 failed"), out
        assert "Traceback" not in err
        client.wait_for_workers(2, timeout=60)  # the nanny brought the killed worker back
        assert victim not in client.run(os.getpid).values()
    got = q(store, "SELECT sha256, count(*) n FROM reports GROUP BY sha256")
    assert {r["sha256"] for r in got} == {sha(t) for t in tars} and {r["n"] for r in got} == {1}
    assert q(store, "SELECT count(*) n FROM guests")[0]["n"] == 14 * 3
    assert q(store, "SELECT count(*) n FROM errors")[0]["n"] == 0
    # one committed reports file per report on disk too (a retried task wrote the same rows, once)
    per_sha = {}
    for f in (store / "reports").glob("part-*.parquet"):
        per_sha.setdefault(f.name.split("-")[1], []).append(f)
    assert sorted(per_sha) == sorted(sha(t) for t in tars)
    fleet("compact", store)
    assert len(list((store / "reports").glob("*.parquet"))) == 1
    assert q(store, "SELECT count(*) n, count(DISTINCT sha256) d FROM reports") == [{"n": 14, "d": 14}]
    assert q(store, "SELECT count(*) n FROM guests")[0]["n"] == 14 * 3


def test_an_interrupted_write_leaves_no_rows_and_a_rewrite_replaces(tmp_path, corpus):
    """Children written but no reports file (the task died before its commit): invisible; the
    retry's write is the one seen; a compaction that died after its rename duplicates nothing."""
    from analyzer.fleet import ingest
    from analyzer.fleet.store import Store

    store = Store(str(tmp_path / "store"))
    store.create()
    t3 = corpus["t3"]
    doc = _analyze_json(t3)
    # a task that died after writing its guests and before its commit
    wid = "1000000000000000000deadbeef00"
    rows = ingest.rows_of(doc, sha(t3), str(t3), wid, "2026-01-01T00:00:00Z")
    store.write_table("guests", "part-%s-%s" % (sha(t3), wid), rows["guests"])
    assert q(tmp_path / "store", "SELECT count(*) n FROM guests") == [{"n": 0}]
    ingest.write(store, doc, sha(t3), str(t3))
    ingest.write(store, doc, sha(t3), str(corpus["dup"]))  # the same bytes elsewhere: replaced
    got = q(tmp_path / "store", "SELECT path FROM reports")
    assert got == [{"path": str(corpus["dup"])}]
    assert q(tmp_path / "store", "SELECT count(*) n FROM guests") == [{"n": len(doc["guests"])}]
    # a compaction that stopped after its rename, before removing what it merged
    before = {t: sorted(os.listdir(tmp_path / "store" / t)) for t in ("reports", "guests")}
    real_remove = Store.remove
    Store.remove = lambda self, p: None
    try:
        ingest.compact(store)
    finally:
        Store.remove = real_remove
    assert all(set(before[t]) < set(os.listdir(tmp_path / "store" / t)) for t in before)
    assert q(tmp_path / "store", "SELECT count(*) n FROM reports") == [{"n": 1}]
    assert q(tmp_path / "store", "SELECT count(*) n FROM guests") == [{"n": len(doc["guests"])}]


def test_store_and_usage_errors_are_one_line_exit_2(tmp_path):
    not_store = tmp_path / "case"
    not_store.mkdir()
    (not_store / "notes.txt").write_text("mine\n")
    for args in (["where", tmp_path / "missing", "x"], ["sql", not_store, "SELECT 1"],
                 ["findings", not_store], ["ingest", not_store, ROOT / "samples"],
                 ["findings", tmp_path, "--since", "yesterday"], ["frobnicate"], []):
        p = fleet(*args, check=False)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert p.stderr.count("\n") == 1 and p.stderr.startswith("analyze-sos-fleet: "), p.stderr
    assert sorted(os.listdir(not_store)) == ["notes.txt"]  # refused, not scattered into


def test_a_missing_input_is_an_error_row_and_ingest_still_exits_0(tmp_path):
    store = tmp_path / "store"
    p = fleet("ingest", store, tmp_path / "nope.tar.xz", "--jobs", "1")
    assert ingest_line(p).startswith("0 reports ingested (0 replaced), 1 failed")
    assert q(store, "SELECT path, sha256, reason FROM errors") == [
        {"path": str(tmp_path / "nope.tar.xz"), "sha256": None, "reason": "no such file or directory"}]
    assert fleet("where", store, "anything", check=False).returncode == 1


def test_a_member_name_that_is_not_utf8_is_stored_escaped_and_its_guest_kept(tmp_path):
    """Parquet holds UTF-8 only: a file name's undecodable bytes reach the store as their escape,
    as in analyze-sos's own JSON, and the report is ingested, not failed."""
    from tests.sosbuilder import write_odd_name_tarball
    path = write_odd_name_tarball(tmp_path)
    store = tmp_path / "store"
    p = fleet("ingest", store, path, "--jobs", "1")
    assert ingest_line(p).startswith("1 reports ingested (0 replaced), 0 failed"), p.stdout
    assert q(store, "SELECT host, count(*) n FROM guests GROUP BY host") == [{"host": "odd", "n": 1}]


def test_doctests_of_the_fleet_modules():
    import doctest
    from analyzer.fleet import ingest, query
    for mod in (ingest, query):
        assert doctest.testmod(mod).failed == 0, mod.__name__

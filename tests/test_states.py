"""A libvirt state is spelled the `virsh list` way everywhere, from every source that can say it,
and the reason for it is never lost to a source that has none."""

import json
import re

import pytest

from analyzer.cli import main
from tests.sosbuilder import GuestSpec, HostSpec, status_xml, write_tarball

# What /run/libvirt/qemu/NAME.xml writes (virDomainState's XML names) -> what the user must see.
XML_STATES = {"running": "running", "blocked": "blocked", "paused": "paused", "shutdown": "in shutdown",
              "shutoff": "shut off", "crashed": "crashed", "pmsuspended": "pmsuspended", "nostate": "no state"}


def _uuid(i):
    return "%08d-0000-4000-8000-%012d" % (i, i)


def _stock_host(guests, **kw):
    """What Debian's sos 4.0 collects by default: libvirt's /etc and /run copies, nothing else."""
    return HostSpec(hostname="compute-1", guests=guests, sos_version="4.0", sources={"etc", "run"}, **kw)


def _run(tmp_path, report, *args, fmt="json"):
    out = tmp_path / ("out." + fmt)
    rc = main([str(report), "--format", fmt, "-o", str(out), "-q", *args])
    return rc, out.read_text(encoding="utf-8")


def _run_status(g, state, reason):
    """g's /run status file in the given XML spelling, even one libvirt writes rarely (shutoff)."""
    return status_xml(g).replace("<domstatus state='running' reason='booted'",
                                 "<domstatus state='%s' reason='%s'" % (state, reason), 1)


@pytest.fixture(scope="module")
def every_state(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("states")
    guests, extra = [], {}
    for i, xml_state in enumerate(XML_STATES, 1):
        name = "instance-%08x" % i
        g = GuestSpec(uuid=_uuid(i), domain_name=name, display_name="vm-%d" % i, state="running")
        guests.append(g)
        extra["run/libvirt/qemu/%s.xml" % name] = _run_status(g, xml_state, "unknown")
    return write_tarball(_stock_host(guests), tmp, extra=extra), guests


def test_each_run_status_state_reads_the_virsh_way_in_json(every_state, tmp_path):
    report, guests = every_state
    rc, out = _run(tmp_path, report)
    got = {g["uuid"]: g["state"] for g in json.loads(out)["guests"]}
    assert rc == 0
    assert got == {g.uuid: shown for g, shown in zip(guests, XML_STATES.values())}


def test_each_run_status_state_reads_the_virsh_way_in_text_and_html(every_state, tmp_path):
    report, _ = every_state
    _, text = _run(tmp_path, report, fmt="text")
    _, html = _run(tmp_path, report, fmt="html")
    for shown in XML_STATES.values():
        assert shown in text and shown in html, shown
    html = re.sub(r"domstatus state=&#39;\w+&#39;", "", html)  # the raw XML view shows the file as it is
    for out in (text, html):
        assert not re.search(r"shutoff|nostate|(?<!in )(?<!in-)\bshutdown\b", out), re.findall(r".{30}shut.{30}", out)


def test_stock_sos_report_paused_for_ioerror_is_critical_with_its_reason(tmp_path):
    g = GuestSpec(uuid=_uuid(1), domain_name="instance-00000001", display_name="db-1",
                  state="paused", state_reason="ioerror")
    rc, out = _run(tmp_path, write_tarball(_stock_host([g]), tmp_path))
    doc = json.loads(out)
    (guest,) = doc["guests"]
    assert (guest["state"], guest["state_reason"]) == ("paused", "ioerror")
    (f,) = [f for f in doc["findings"] if f["code"] == "abnormal-state"]
    assert f["severity"] == "critical" and "ioerror" in f["message"] and f["guests"] == [g.uuid]


@pytest.mark.parametrize("sources", [{"etc", "run", "virsh"}, {"etc", "run", "virsh", "plugin"},
                                     {"run", "virsh"}, {"etc", "run"}, {"run", "plugin"}])
def test_the_reason_survives_whichever_sources_are_beside_run(tmp_path, sources):
    """virsh list has no reason column: with it (and the plugin) beside /run, the state and the
    reason still come out whole, and the finding stays critical."""
    g = GuestSpec(uuid=_uuid(2), domain_name="instance-00000002", display_name="db-2",
                  state="paused", state_reason="ioerror")
    host = HostSpec(hostname="compute-1", guests=[g], sources=sources)
    _, out = _run(tmp_path, write_tarball(host, tmp_path))
    doc = json.loads(out)
    (guest,) = doc["guests"]
    assert (guest["state"], guest["state_reason"]) == ("paused", "ioerror")
    assert [f["severity"] for f in doc["findings"] if f["code"] == "abnormal-state"] == ["critical"]


def test_virsh_list_alone_gives_the_state_and_no_made_up_reason(tmp_path):
    g = GuestSpec(uuid=_uuid(3), domain_name="instance-00000003", display_name="w", state="paused",
                  state_reason="user")
    host = HostSpec(hostname="compute-1", guests=[g], sources={"virsh"})
    _, out = _run(tmp_path, write_tarball(host, tmp_path))
    (guest,) = json.loads(out)["guests"]
    assert (guest["state"], guest["state_reason"]) == ("paused", None)


def test_a_reason_given_for_another_state_is_not_borrowed():
    """When sources disagree on the state, the reason comes only from one that says the chosen state."""
    from analyzer.merge import merge
    from analyzer.model import KIND_PLUGIN_SUMMARY, KIND_RUN, DomainDef, Observation, Source
    d = DomainDef(uuid=_uuid(4), name="i4", id=4, status_state="paused", status_reason="ioerror")
    obs = [Observation(Source(KIND_PLUGIN_SUMMARY, "s.json"), uuid=_uuid(4), domain_name="i4",
                       state="running", persistent=True),
           Observation(Source(KIND_RUN, "run/libvirt/qemu/i4.xml"), uuid=_uuid(4), domain_name="i4", live=True,
                       definition=d, state="paused", state_reason="ioerror")]
    (g,), _, _ = merge("r1", "h", obs)
    assert (g.state, g.state_reason) == ("running", None)

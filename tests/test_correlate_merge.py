"""--guest matching and the live/persistent merge: what a support engineer relies on when a user
names a VM."""

import dataclasses

from analyzer.correlate import ambiguities, match
from analyzer.merge import merge
from analyzer.model import (KIND_ETC, KIND_PLUGIN_SUMMARY, KIND_RUN, KIND_VIRSH_LIST, Disk, DomainDef,
                            Guest, Interface, NovaMeta, Observation, Port, Source)

U1 = "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"
U2 = "9a8b7c6d-1111-4222-8333-444455556666"
U3 = "9a8b7c6d-2222-4222-8333-444455556666"


def _g(uuid, name, display, host="compute-1", report="r1"):
    return Guest(uuid=uuid, domain_name=name, display_name=display, host=host, report=report)


GUESTS = [
    _g(U1, "instance-00000001", "web-01"),
    _g(U1, "instance-0000000a", "web-01", host="compute-2", report="r2"),
    _g(U2, "instance-00000002", "Web-02"),
    _g(U3, "instance-00000003", "web-02"),
    _g("00000000-0000-4000-8000-000000000010", "instance-00000010", "web-010"),
]


def test_full_uuid_any_case_and_without_dashes_finds_every_host():
    for term in (U1, U1.upper(), U1.replace("-", "")):
        found, q = match(GUESTS, [term])
        assert [(g.uuid, g.host) for g in found] == [(U1, "compute-1"), (U1, "compute-2")]
        assert q[0].matched_by == "uuid"


def test_uuid_prefix_needs_eight_hex_digits():
    found, q = match(GUESTS, ["9A8B7C6D-1"])
    assert [g.uuid for g in found] == [U2] and q[0].matched_by == "uuid-prefix"
    found, q = match(GUESTS, ["9a8b7c6d"])
    assert {g.uuid for g in found} == {U2, U3}
    found, q = match(GUESTS, ["9a8b7c"])  # too short to be a prefix, and no such name
    assert found == [] and q[0].matched_by is None


def test_display_name_exact_beats_case_insensitive_and_never_a_longer_name():
    found, q = match(GUESTS, ["web-02"])
    assert [g.uuid for g in found] == [U3] and q[0].matched_by == "display-name"
    found, q = match(GUESTS, ["WEB-01"])
    assert {g.uuid for g in found} == {U1} and q[0].matched_by == "display-name-ci"
    found, _ = match(GUESTS, ["web-01"])
    assert "web-010" not in {g.display_name for g in found}


def test_domain_name_and_glob():
    found, q = match(GUESTS, ["instance-00000002"])
    assert [g.uuid for g in found] == [U2] and q[0].matched_by == "domain-name"
    found, q = match(GUESTS, ["web-0?"])
    assert q[0].matched_by == "glob" and len(found) == 4


def test_no_match_offers_nearest_names():
    found, q = match(GUESTS, ["web-1"])
    assert found == [] and q[0].matched_by is None
    assert "web-01" in q[0].suggestions


def test_ambiguities_are_spelled_out():
    _, q = match(GUESTS, ["web-0*"])
    notes = " ".join(ambiguities(dataclasses.asdict(q[0])))
    assert "'web-0*' matches 4 different instances" in notes
    _, q = match(GUESTS, [U1])
    assert ambiguities(dataclasses.asdict(q[0])) == ["UUID %s is defined on 2 hosts: compute-1, compute-2" % U1]
    _, q = match(GUESTS, ["web-02"])
    assert ambiguities(dataclasses.asdict(q[0])) == []  # one instance on one host: nothing to say


def _dom(uuid, name, memory, nics, ports, state=None, id=None):
    return DomainDef(uuid=uuid, name=name, memory_mb=memory, vcpus=2, id=id,
                     disks=[Disk(target="vda", source="/var/lib/nova/instances/%s/disk" % uuid)],
                     interfaces=[Interface(mac=m, source="br-int") for m in nics],
                     nova=NovaMeta(namespace="http://openstack.org/xmlns/libvirt/nova/1.1", display_name="db",
                                   ports=[Port(uuid=p) for p in ports]),
                     status_state=state, status_reason="booted" if state else None)


def test_live_values_win_and_disagreements_are_kept_not_overwritten():
    persistent = Observation(Source(KIND_ETC, "etc/libvirt/qemu/i1.xml"), U1, "i1", live=False,
                             definition=_dom(U1, "i1", 2048, ["fa:16:3e:00:00:01"], ["p1"]), persistent=True)
    live = Observation(Source(KIND_RUN, "run/libvirt/qemu/i1.xml"), U1, "i1", live=True,
                       definition=_dom(U1, "i1", 4096, ["fa:16:3e:00:00:01", "fa:16:3e:00:00:02"], ["p1", "p2"],
                                       state="paused", id=3),
                       state="paused", state_reason="user")
    guests, problems, _ = merge("r1", "compute-1", [persistent, live])
    (g,) = guests
    assert (g.state, g.state_reason, g.persistent, g.memory_mb) == ("paused", "user", True, 4096)
    fields = {d.field: d for d in g.differences}
    assert set(fields) == {"memory_mb", "interfaces", "nova.ports"}
    assert (fields["memory_mb"].live, fields["memory_mb"].persistent) == (4096, 2048)
    assert fields["memory_mb"].persistent_source == "etc/libvirt/qemu/i1.xml"
    assert {s.kind for s in g.sources} == {KIND_ETC, KIND_RUN}


def test_etc_and_run_only_report_gives_state_and_transience():
    shut = Observation(Source(KIND_ETC, "etc/libvirt/qemu/a.xml"), U1, "a", live=False,
                       definition=_dom(U1, "a", 1024, [], []), persistent=True)
    transient = Observation(Source(KIND_RUN, "run/libvirt/qemu/b.xml"), U2, "b", live=True,
                            definition=_dom(U2, "b", 1024, [], [], state="running", id=7),
                            state="running", state_reason="booted")
    guests, _, _ = merge("r1", "h", [shut, transient])
    by = {g.uuid: g for g in guests}
    assert (by[U1].state, by[U1].persistent) == ("shut off", True)
    assert (by[U2].state, by[U2].persistent) == ("running", False)


def test_virsh_list_state_maps_by_name_and_plugin_summary_wins():
    etc = Observation(Source(KIND_ETC, "etc/libvirt/qemu/a.xml"), U1, "a", live=False,
                      definition=_dom(U1, "a", 1024, [], []), persistent=True)
    listed = Observation(Source(KIND_VIRSH_LIST, "sos_commands/virsh/virsh_-r_list_--all"), None, "a",
                         state="crashed")
    guests, _, _ = merge("r1", "h", [etc, listed])
    assert guests[0].state == "crashed"
    summary = Observation(Source(KIND_PLUGIN_SUMMARY, "sos_commands/libvirt_guests/summary.json"), U1, "a",
                          state="pmsuspended", state_reason="unknown", persistent=True)
    guests, _, _ = merge("r1", "h", [etc, listed, summary])
    assert (guests[0].state, guests[0].state_reason) == ("pmsuspended", "unknown")


def test_listed_domain_without_any_xml_is_reported_not_dropped():
    listed = Observation(Source(KIND_VIRSH_LIST, "sos_commands/virsh/virsh_-r_list_--all"), None, "ghost",
                         state="running")
    guests, problems, _ = merge("r1", "h", [listed])
    assert guests == [] and "ghost" in problems[0].reason

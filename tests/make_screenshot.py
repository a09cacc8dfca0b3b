"""Render the HTML report and take a screenshot of it with headless chromium (docs/screenshot.png).

    .venv/bin/python tests/make_screenshot.py                      # the realistic factory document
    analyze-sos samples/ --format json -o doc.json
    .venv/bin/python tests/make_screenshot.py doc.json             # a real analyze-sos JSON output
    .venv/bin/python tests/make_screenshot.py [doc.json] -o out.png --html out.html

Also the Document factory the HTML tests use: small builders over the model dataclasses
(`guest()`, `report()`, `document()`), a realistic multi-host document and a big one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid as uuidlib
from typing import Any, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from analyzer.model import (  # noqa: E402
    IP, Difference, Disk, Document, ErrorSummary, Evidence, Finding, Flavor, Guest, GuestLogs,
    Image, Interface, NovaLog, NovaMeta, Owner, Packages, Person, Port, Problem, QemuLog,
    QueryMatch, Report, Root, Source,
)

NS = "http://openstack.org/xmlns/libvirt/nova/1.1"

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def uid(seed: str) -> str:
    """A stable full UUID from a seed (tests read better with names than with random hex)."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, "analyze-sos-test:" + seed))


def report(rid: str, hostname: Optional[str] = None, problems: Optional[list] = None,
           guest_count: int = 0, **kw: Any) -> Report:
    return Report(
        id=rid, path=kw.pop("path", "/cases/0123/sosreport-%s.tar.xz" % rid),
        hostname=hostname if hostname is not None else rid,
        sos_version=kw.pop("sos_version", "4.9.1"),
        collected_at=kw.pop("collected_at", "2026-11-20T09:41:07+00:00"),
        os=kw.pop("os", "Red Hat Enterprise Linux 9.4 (Plow)"),
        packages=kw.pop("packages", Packages(nova="openstack-nova-compute-27.5.2-17.1.el9ost",
                                             libvirt="libvirt-daemon-9.0.0-10.7.el9_2",
                                             qemu="qemu-kvm-8.2.0-11.el9_4.6")),
        problems=problems or [], nova_compute=kw.pop("nova_compute", True),
        nova_compute_evidence=kw.pop("nova_compute_evidence", "container nova_compute"),
        guest_count=guest_count, **kw)


def guest(name: Optional[str], host: str, seed: Optional[str] = None, state: str = "running",
          domain: str = "instance-00000001", created: Optional[str] = "2026-03-02T14:05:11Z",
          flavor: str = "m1.small", vcpus: int = 2, memory_mb: int = 4096, with_nova: bool = True,
          project: str = "webteam", user: str = "alice", ports: int = 1, report_id: Optional[str] = None,
          volume: bool = False, **kw: Any) -> Guest:
    u = uid(seed if seed is not None else str(name))
    port_ids = [uid("%s-port-%d" % (u, i)) for i in range(ports)]
    nova = None
    if with_nova:
        nova = NovaMeta(
            namespace=NS, package_version="27.5.2-17.1.el9ost", display_name=name, creation_time=created,
            flavor=Flavor(name=flavor, id=uid("flavor-" + flavor), memory_mb=memory_mb, disk_gb=20,
                          swap_mb=0, ephemeral_gb=0, vcpus=vcpus,
                          extra_specs={"hw:cpu_policy": "dedicated", "hw:mem_page_size": "large"}),
            image=None if volume else Image(uuid=uid("image-rhel9"), container_format="bare",
                                            disk_format="qcow2", min_disk=20, min_ram=0,
                                            properties={"hw_machine_type": "q35", "os_distro": "rhel"}),
            owner=Owner(user=Person(uuid=uid("user-" + user), name=user),
                        project=Person(uuid=uid("project-" + project), name=project)),
            root=Root(type="volume" if volume else "image",
                      uuid=uid("vol-" + u) if volume else uid("image-rhel9")),
            ports=[Port(uuid=p, ips=[IP(address="192.168.%d.%d" % (10 + i, 2 + int(u[:6], 16) % 250),
                                        type="fixed", version=4)])
                   for i, p in enumerate(port_ids)],
            extra={"nova:instance/nova:flavor/@unknown": "kept"})
    disks = [Disk(target="vda", bus="virtio", kind="disk",
                  source_type="network" if volume else "file",
                  source=("volumes/volume-" + uid("vol-" + u)) if volume
                  else "/var/lib/nova/instances/%s/disk" % u,
                  driver_type="raw" if volume else "qcow2",
                  serial=uid("vol-" + u) if volume else None)]
    nics = [Interface(mac="fa:16:3e:%s:%s:%02x" % (u[:2], u[2:4], i), type="ethernet",
                      source=None, target_dev="tap" + p[:11], model="virtio")
            for i, p in enumerate(port_ids)]
    logs = GuestLogs(
        qemu=QemuLog(path="var/log/libvirt/qemu/%s.log" % domain,
                     tail=["2026-11-20 08:01:02.345+0000: starting up libvirt version: 9.0.0, qemu version: 8.2.0",
                           "char device redirected to /dev/pts/3 (label charserial0)"]),
        nova_compute=NovaLog(paths=["var/log/containers/nova/nova-compute.log"], total=3,
                             lines=["2026-11-20 08:00:59.101 2 INFO nova.compute.manager [instance: %s] Took 2.31 seconds to spawn the instance on the hypervisor." % u],
                             errors=ErrorSummary()))
    g = Guest(uuid=u, domain_name=domain, display_name=name, host=host, report=report_id or host,
              state=state, state_reason=kw.pop("state_reason", "booted" if state == "running" else None),
              persistent=True, memory_mb=memory_mb, vcpus=vcpus, disks=disks, interfaces=nics,
              sources=[Source("plugin-live", "sos_commands/libvirt_guests/host/domains/%s.live.xml" % u),
                       Source("etc-persistent", "etc/libvirt/qemu/%s.xml" % domain)],
              nova=nova, logs=logs,
              xml="<domain type='kvm'>\n  <name>%s</name>\n  <uuid>%s</uuid>\n</domain>\n" % (domain, u),
              xml_source="sos_commands/libvirt_guests/host/domains/%s.live.xml" % u, **kw)
    return g


def document(reports: list[Report], guests: list[Guest], findings: Optional[list[Finding]] = None,
             query: Optional[list[QueryMatch]] = None, errors: Optional[list[Problem]] = None,
             total: Optional[int] = None) -> dict:
    for r in reports:
        r.guest_count = sum(1 for g in guests if g.report == r.id)
    return Document(generated_by={"name": "analyze-sos", "version": "0.1.0"}, reports=reports,
                    guests=guests, findings=findings or [], query=query,
                    total_guests=len(guests) if total is None else total,
                    errors=errors or []).to_dict()


def realistic_document() -> dict:
    """Three compute hosts of one case: a migration left behind, a crashed guest, a few findings."""
    c0, c1, c2 = "compute-0.overcloud.example", "compute-1.overcloud.example", "compute-2.overcloud.example"
    reps = [report("compute-0", c0), report("compute-1", c1),
            report("compute-2", c2, sos_version="4.5.6", os="Red Hat Enterprise Linux 9.2 (Plow)",
                   packages=Packages(nova="openstack-nova-compute-27.1.1-17.1.el9ost",
                                     libvirt="libvirt-daemon-9.0.0-10.3.el9_2",
                                     qemu="qemu-kvm-7.2.0-14.el9_2.5"),
                   problems=[Problem("etc/libvirt/qemu/instance-0000002a.xml",
                                     "not well-formed XML: unclosed token, line 41"),
                             Problem("var/log/containers/nova/nova-compute.log.3.gz",
                                     "compressed rotated log not read (xz stream inside .gz name)")])]
    gs = []
    names = [("web-01", c0, "running", "m1.large", 4, 8192, "webteam", "alice", "2025-06-11T09:12:40Z"),
             ("web-02", c0, "running", "m1.large", 4, 8192, "webteam", "alice", "2025-06-11T09:13:02Z"),
             ("db-primary", c1, "running", "db.xlarge", 16, 65536, "dbteam", "bob", "2024-11-02T17:44:19Z"),
             ("db-replica", c2, "paused", "db.xlarge", 16, 65536, "dbteam", "bob", "2024-11-02T17:49:51Z"),
             ("ci-runner-17", c2, "crashed", "ci.medium", 2, 4096, "ci", "jenkins", "2026-10-30T03:00:07Z"),
             ("ci-runner-18", c1, "running", "ci.medium", 2, 4096, "ci", "jenkins", "2026-10-30T03:00:09Z"),
             ("kafka-2", c1, "shut off", "m1.xlarge", 8, 16384, "streaming", "carol", "2025-12-24T22:10:00Z"),
             ("bastion", c0, "running", "m1.small", 1, 2048, "infra", "ops", "2023-08-15T11:00:00Z")]
    for i, (n, h, st, fl, cpu, mem, proj, usr, created) in enumerate(names):
        rid = h.split(".")[0]
        gs.append(guest(n, h, state=st, flavor=fl, vcpus=cpu, memory_mb=mem, project=proj, user=usr,
                        created=created, domain="instance-%08x" % (0x1a + i), report_id=rid,
                        volume=n.startswith("db"), ports=2 if n.startswith("web") else 1))
    # web-01 also defined (shut off, persistent only) on compute-1: a migration left behind.
    ghost = guest("web-01", c1, state="shut off", flavor="m1.large", vcpus=4, memory_mb=8192,
                  created="2025-06-11T09:12:40Z", domain="instance-0000001a", report_id="compute-1", ports=2)
    ghost.differences = [Difference("nova.ports", ["(2 ports)"], ["(1 port)"],
                                    "run/libvirt/qemu/instance-0000001a.xml", "etc/libvirt/qemu/instance-0000001a.xml")]
    gs.append(ghost)
    gs.append(guest(None, c2, seed="not-nova", with_nova=False, domain="virt-test-vm",
                    report_id="compute-2", state="running"))
    crashed = gs[4]
    crashed.logs.nova_compute.errors = ErrorSummary(
        count=2, first_time="2026-11-19 22:14:03.117", last_time="2026-11-19 22:14:05.872",
        first_lines=["2026-11-19 22:14:03.117 2 ERROR nova.compute.manager [instance: %s] "
                     "Instance failed to spawn: libvirt.libvirtError: internal error: qemu unexpectedly closed the monitor" % crashed.uuid])
    findings = [
        Finding("uuid-on-several-hosts", "critical",
                "web-01 (%s) is defined on 2 hosts: compute-0 (running), compute-1 (shut off)" % gs[0].uuid,
                guests=[gs[0].uuid], hosts=[c0, c1],
                evidence=[Evidence("sos_commands/libvirt_guests/host/domains/%s.live.xml" % gs[0].uuid, "state on compute-0", "running"),
                          Evidence("etc/libvirt/qemu/instance-0000001a.xml", "state on compute-1", "shut off")]),
        Finding("guest-crashed", "critical", "ci-runner-17 is crashed on compute-2", guests=[crashed.uuid],
                hosts=[c2], evidence=[Evidence("run/libvirt/qemu/instance-0000001e.xml", "domstatus state", "crashed")]),
        Finding("nova-version-skew", "warning", "compute-2 runs nova 27.1.1, the others 27.5.2", hosts=[c2]),
        Finding("guest-paused", "warning", "db-replica is paused on compute-2", guests=[gs[3].uuid], hosts=[c2]),
        Finding("not-nova", "info", "1 guest has no Nova metadata (not managed by Nova)", guests=[gs[-1].uuid], hosts=[c2]),
    ]
    return document(reps, gs, findings,
                    errors=[Problem("/cases/0123/sosreport-controller-0.tar.xz",
                                    "gpg-encrypted report: decrypt it first")])


def big_document(n: int = 2000, hosts: int = 20) -> dict:
    reps = [report("compute-%d" % h) for h in range(hosts)]
    gs = []
    for i in range(n):
        h = "compute-%d" % (i % hosts)
        gs.append(guest("vm-%04d" % i, h, seed="big-%d" % i, domain="instance-%08x" % i,
                        state=("running", "shut off", "paused")[i % 3], vcpus=1 + i % 8,
                        memory_mb=1024 * (1 + i % 16), project="proj-%d" % (i % 37),
                        created="2025-%02d-%02dT10:00:00Z" % (1 + i % 12, 1 + i % 28)))
    return document(reps, gs)


def case_document() -> dict:
    """A case as analyze-sos makes it (`analysis.document`, schema 2): compute-1 (UTC+1) reported
    twice minutes apart with changes between, the first report given twice; compute-2 (UTC-5);
    web-01 of project shop live-migrated compute-1 -> compute-2 (logged on both sides), a failed
    migration of db-01, and another web-01 of project billing; an event of every kind."""
    import copy

    from analyzer import analysis
    from analyzer.build import Built
    from analyzer.model import LogEvent
    from analyzer.run import Outcome

    c1, c2 = "compute-1", "compute-2"
    r1 = report("r1", c1, collected_at="2025-11-19T08:50:00Z", utc_offset="+01:00",
                path="/cases/0042/sosreport-compute-1-first.tar.xz")
    r2 = report("r2", c1, collected_at="2025-11-19T09:10:00Z", utc_offset="+01:00",
                path="/cases/0042/sosreport-compute-1-second.tar.xz",
                packages=Packages(nova="openstack-nova-compute-27.5.3-17.1.el9ost",
                                  libvirt="libvirt-daemon-9.0.0-10.7.el9_2", qemu="qemu-kvm-8.2.0-11.el9_4.6"))
    r3 = report("r3", c2, collected_at="2025-11-19T09:12:00Z", utc_offset="-05:00",
                path="/cases/0042/sosreport-compute-2.tar.xz")
    dup = Report(id="r4", path="/cases/0042/copy/sosreport-compute-1-first.tar.xz", duplicate_of="r1")

    def g(name, host, rid, seed, **kw):
        return guest(name, host, seed=seed, report_id=rid, **kw)

    web_a = dict(seed="web-01-shop", project="shop", user="alice", domain="instance-0000002a", created="2025-11-19T07:00:00Z")
    web_b = dict(seed="web-01-billing", project="billing", user="bob", domain="instance-00000031", created="2025-10-01T12:00:00Z")
    db = dict(seed="db-01", project="shop", user="alice", domain="instance-0000002b", created="2025-09-01T08:00:00Z")
    old = dict(seed="batch-7", project="shop", user="carol", domain="instance-0000002c", created="2025-08-01T08:00:00Z")
    first = [g("web-01", c1, "r1", **web_a), g("db-01", c1, "r1", state="paused", state_reason="user", memory_mb=2048, **db),
             g("batch-7", c1, "r1", **old)]
    second = [g("web-01", c1, "r2", state="shut off", **web_a),
              g("db-01", c1, "r2", memory_mb=4096, **db)]
    third = [g("web-01", c2, "r3", **web_a), g("web-01", c2, "r3", **web_b)]
    U, D, B = first[0].uuid, first[1].uuid, third[1].uuid
    log = "var/log/nova/nova-compute.log"

    def ev(kind, time, msg, line, uuid=U, peer=None, clock="local", path=log):
        return LogEvent(kind=kind, time=time, clock=clock, message=msg, path=path, line=line, uuid=uuid, peer_host=peer)

    src = [ev("claimed", "2025-11-19T08:01:00.000", "Claim successful on node compute-1", 3),
           ev("spawned", "2025-11-19T08:01:30.000", "Took 2.31 seconds to spawn the instance on the hypervisor.", 4),
           ev("paused", "2025-11-19T08:20:00.000", "VM Paused (Lifecycle Event)", 5, uuid=D),
           ev("resumed", "2025-11-19T08:25:00.000", "VM Resumed (Lifecycle Event)", 6, uuid=D),
           ev("rebooted", "2025-11-19T09:30:00.000", "Instance rebooted successfully.", 7),
           ev("volume-attached", "2025-11-19T09:31:00.000", "Attaching volume 0c4e1d7a to /dev/vdb", 8),
           ev("volume-detached", "2025-11-19T09:32:00.000", "Detaching volume 0c4e1d7a from mountpoint /dev/vdb", 9),
           ev("migration-started", "2025-11-19T09:59:30.100", "Took 1.20 seconds for pre_live_migration on destination host compute-2.", 10, peer=c2),
           ev("migration-progress", "2025-11-19T09:59:40.000", "Migration running for 10 secs, memory 40% remaining", 11),
           ev("migration-completed", "2025-11-19T09:59:45.500", "Migrating instance to compute-2 finished successfully.", 12, peer=c2),
           ev("qemu-stopped", "2025-11-19T08:59:46.000", "shutting down, reason=migrated", 40, clock="utc",
              path="var/log/libvirt/qemu/instance-0000002a.log"),
           ev("migration-started", "2025-11-19T09:40:00.000", "Took 0.90 seconds for pre_live_migration on destination host compute-2.", 13, uuid=D, peer=c2),
           ev("migration-failed", "2025-11-19T09:40:20.000", "Live Migration failure: operation failed: migration out job: unexpectedly failed", 14, uuid=D),
           ev("error", "2025-11-19T09:40:21.000", "Live migration failed.: libvirt.libvirtError: operation failed", 15, uuid=D),
           ev("stopped", "2025-11-19T09:05:00.000", "VM Stopped (Lifecycle Event)", 16, uuid=first[2].uuid),
           ev("deleted", "2025-11-19T09:06:00.000", "Took 0.52 seconds to destroy the instance on the hypervisor.", 17, uuid=first[2].uuid)]
    dst = [ev("qemu-started", "2025-11-19T08:59:31.000", "starting up (-incoming defer)", 1, clock="utc",
              path="var/log/libvirt/qemu/instance-0000002a.log"),
           ev("migrated-in", "2025-11-19T03:59:44.000", "Post operation of migration started", 7),
           ev("started", "2025-11-19T03:59:46.000", "VM Started (Lifecycle Event)", 8),
           ev("suspended", "2025-11-19T04:01:00.000", "VM Suspended (Lifecycle Event)", 9, uuid=B),
           ev("shutdown-by-itself", "2025-11-19T04:02:00.000", "Instance shutdown by itself. Calling the stop API.", 10, uuid=B),
           ev("resize", "2025-11-19T04:03:00.000", "Resizing instance to flavor m1.large", 11, uuid=B),
           ev("evacuated", "2025-11-19T04:04:00.000", "Evacuating instance from compute-3", 12, uuid=B, peer="compute-3"),
           ev("rebuilt", "2025-11-19T04:05:00.000", "Rebuilding instance", 13, uuid=B),
           ev("error", "2025-11-19T04:06:00.000", "Instance failed to spawn: libvirt.libvirtError: internal error", 14, uuid=B)]
    reads = {"r1": Built(r1, first, list(src)), "r2": Built(r2, second, list(src)), "r3": Built(r3, third, dst)}
    doc = analysis.document(Outcome([r2, r1, r3, dup], reads, [], [])).to_dict()
    doc["generated_by"] = {"name": "analyze-sos", "version": "0.1.0"}
    return copy.deepcopy(doc)


def render_input(path: Optional[str]) -> dict:
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return realistic_document()


def screenshot(html_path: str, png_path: str, width: int = 1366, height: int = 1100,
               full_page: bool = False) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto("file://" + os.path.abspath(html_path))
            page.screenshot(path=png_path, full_page=full_page)
        finally:
            browser.close()


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json", nargs="?", help="analyze-sos --format json output (default: factory document)")
    ap.add_argument("-o", "--output", default=os.path.join(ROOT, "docs", "screenshot.png"))
    ap.add_argument("--html", default=None, help="also keep the rendered page here")
    ap.add_argument("--height", type=int, default=1500)
    ap.add_argument("--full-page", action="store_true")
    args = ap.parse_args(argv)

    from analyzer.render import html

    page = html.render(render_input(args.json))
    html_path = args.html or os.path.join(ROOT, "test-artifacts", "screenshot-source.html")
    os.makedirs(os.path.dirname(os.path.abspath(html_path)), exist_ok=True)
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(page)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    screenshot(html_path, args.output, height=args.height, full_page=args.full_page)
    print("wrote %s (from %s)" % (args.output, html_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())

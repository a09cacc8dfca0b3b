"""Real libvirt guests carrying Nova metadata exactly as Nova writes it, for the plugin tests.

    python3 tests/rig/guests.py define [--host compute-2]   # (re)define and start them
    python3 tests/rig/guests.py undefine

Guests are TCG (`type='qemu'`) with no disk: they boot to the BIOS and stay running, so they need
no image and no KVM. One per state the support engineer meets: running, paused, shut off,
transient, no Nova metadata at all, an older (1.0, Juno) namespace, and names with spaces,
non-ASCII and markup. `web-01` carries a VNC password that must never reach a report.
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
from xml.sax.saxutils import escape, quoteattr

VNC_PASSWORD = "Pw0rd!x9"  # libvirt refuses VNC passwords longer than 8 characters
NS11 = "http://openstack.org/xmlns/libvirt/nova/1.1"
NS10 = "http://openstack.org/xmlns/libvirt/nova/1.0"

# (uuid, domain name, display name or None, state, persistent, namespace, nova version)
GUESTS = [
    ("3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e01", "instance-00000001", "web-01", "running", True, NS11, "27.1.0"),
    ("8d2e4f60-1b3c-4d5e-9f70-81a2b3c4d502", "instance-00000002", "db server 01", "paused", True, NS11, "27.1.0"),
    ("c47a9b1e-2d3f-4a5b-8c6d-7e8f9a0b1c03", "instance-00000003", "\u00e9l\u00e8ve \u6570\u636e", "shut off", True,
     NS11, "27.1.0"),
    ("5b8e1f2a-3c4d-4e5f-a061-728394a5b604", "instance-00000004", '<b>x & "y"</b>', "running", False, NS11, "27.1.0"),
    ("e6f70819-2a3b-4c4d-9e5f-60718293a405", "plain-vm", None, "running", True, None, None),
    ("1a2b3c4d-5e6f-4071-8293-a4b5c6d7e806", "instance-00000006", "web-01", "running", True, NS10, "2014.2.1"),
]
# compute-2 has its own guest and a copy of web-01's definition (a migration leftover), shut off.
GUESTS_HOST2 = [
    ("3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e01", "instance-00000011", "web-01", "shut off", True, NS11, "27.1.0"),
    ("9c0d1e2f-3a4b-4c5d-b6e7-f8091a2b3c07", "instance-00000007", "batch-7", "running", True, NS11, "27.1.0"),
]


def number(uuid):
    """A guest's number across both hosts: its MAC, port and IP derive from it, so two instances
    never share a port or address (which the analyzer would rightly report), while one instance
    defined on both hosts (web-01, a migration leftover) keeps its own on each."""
    seen = []
    for g in GUESTS + GUESTS_HOST2:
        if g[0] not in seen:
            seen.append(g[0])
    return seen.index(uuid) + 1


def nova_block(uuid, display_name, ns, version, index):
    """The `<nova:instance>` element as nova/virt/libvirt/config.py formats it for this namespace."""
    ports = ""
    if ns == NS11:  # ports arrived with the 1.1 namespace (Wallaby)
        ports = ("<nova:ports><nova:port uuid='5e0c9a1e-0000-4000-8000-%012d'>"
                 "<nova:ip type='fixed' address='10.0.0.%d' ipVersion='4'/></nova:port></nova:ports>"
                 % (index, 10 + index))
    return (
        "<nova:instance xmlns:nova='%s'>"
        "<nova:package version=%s/>"
        "<nova:name>%s</nova:name>"
        "<nova:creationTime>2026-11-%02d 10:00:00</nova:creationTime>"
        "<nova:flavor name='m1.tiny'><nova:memory>32</nova:memory><nova:disk>1</nova:disk>"
        "<nova:swap>0</nova:swap><nova:ephemeral>0</nova:ephemeral><nova:vcpus>1</nova:vcpus></nova:flavor>"
        "<nova:owner><nova:user uuid='c0ffeec0ffeec0ffeec0ffeec0ffee01'>alice</nova:user>"
        "<nova:project uuid='b00cb00cb00cb00cb00cb00cb00cb001'>demo</nova:project></nova:owner>"
        "<nova:root type='image' uuid='6c1a3f5e-7d0b-4c2e-9b8a-1e2f3a4b5c6d'/>"
        "%s</nova:instance>" % (ns, quoteattr(version), escape(display_name), 1 + index, ports))


def domain_xml(uuid, name, display_name, ns, version, index, vnc_password=None):
    meta = "<metadata>%s</metadata>" % nova_block(uuid, display_name, ns, version, index) if ns else ""
    graphics = ("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd=%s/>"
                % quoteattr(vnc_password)) if vnc_password else ""
    return (
        "<domain type='qemu'><name>%s</name><uuid>%s</uuid>%s"
        "<memory unit='MiB'>32</memory><currentMemory unit='MiB'>32</currentMemory>"
        "<vcpu placement='static'>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
        "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
        "<interface type='user'><mac address='fa:16:3e:00:00:%02x'/><model type='virtio'/></interface>"
        "%s</devices></domain>" % (escape(name), uuid, meta, index, graphics))


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-q", "-c", "qemu:///system"] + list(args), check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


QEMU_LOGS = "/var/log/libvirt/qemu"
LIBVIRTD_LOG = "/var/log/libvirt/libvirtd.log"  # the rig's own daemon (setup.d/10-libvirt-sos.sh)


def forget_logs(names):
    """The qemu logs of these domains removed, and the daemon's log emptied: every test run starts
    the guests again, so without this a report's logs (and the events and errors capped in them)
    would depend on how many runs came before. libvirtd appends (O_APPEND): emptying is safe."""
    for name in names:
        for f in glob.glob(os.path.join(QEMU_LOGS, glob.escape(name) + ".log*")):
            os.unlink(f)
    try:
        os.truncate(LIBVIRTD_LOG, 0)
    except OSError:
        pass  # no log yet


def undefine_all():
    out = virsh("list", "--all", "--name", check=False).stdout.split("\n")
    names = [n.strip() for n in out if n.strip()]
    for name in names:
        virsh("destroy", name, check=False)
        virsh("undefine", "--nvram", name, check=False)
        virsh("undefine", name, check=False)
    forget_logs(names + [g[1] for g in GUESTS + GUESTS_HOST2])


def define(guests):
    undefine_all()
    with tempfile.TemporaryDirectory() as tmp:
        for uuid, name, display, state, persistent, ns, version in guests:
            i = number(uuid)
            path = os.path.join(tmp, "%s.xml" % uuid)
            pw = VNC_PASSWORD if display == "web-01" and ns == NS11 else None
            with open(path, "w", encoding="utf-8") as f:
                f.write(domain_xml(uuid, name, display, ns, version, i, pw))
            if not persistent:
                virsh("create", path)
                continue
            virsh("define", path)
            if state in ("running", "paused"):
                virsh("start", uuid)
            if state == "paused":
                virsh("suspend", uuid)


def define_many(n):
    """n persistent Nova guests, shut off, plus the usual running ones: the plugin's timing load."""
    undefine_all()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            uuid = "0b000000-0000-4000-8000-%012d" % i
            path = os.path.join(tmp, "%d.xml" % i)
            with open(path, "w", encoding="utf-8") as f:
                f.write(domain_xml(uuid, "instance-%08x" % (0x100 + i), "load-%03d" % i, NS11, "27.1.0", i % 250))
            virsh("define", path)
            if i < 3:
                virsh("start", uuid)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=("define", "undefine", "many"))
    ap.add_argument("--host", default="compute-1", choices=("compute-1", "compute-2"))
    ap.add_argument("-n", type=int, default=100)
    args = ap.parse_args(argv)
    if args.action == "undefine":
        undefine_all()
    elif args.action == "many":
        define_many(args.n)
    else:
        define(GUESTS if args.host == "compute-1" else GUESTS_HOST2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

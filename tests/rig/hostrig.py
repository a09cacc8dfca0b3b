"""A compute host's own state under real guests: CPU pins, NUMA tuning, hugepages, Open vSwitch
ports, a block device, nova.conf; for the host tests (tests/test_real_host.py).

    python3 tests/rig/hostrig.py broken|healthy|clean
    python3 tests/rig/hostrig.py sos OUTDIR     # both scenarios through sos 4.0 and 4.9.1

Needs root, libvirtd, the Open vSwitch of setup.d/30-openvswitch.sh and open-iscsi (40-iscsi.sh). Every guest is named
`host13-*` with a UUID of its own prefix: only those guests, their OVS ports and the files below
are touched, never another test's guests. Run it under the rig lock.

`broken` sets up one case per host finding; `healthy` the same host with every case put right
(the pinned, hugepage-backed, OVS-plugged, block-backed guest stays).
"""

import os
import subprocess
import sys
import tempfile

PREFIX = "host13-"
NS = "http://openstack.org/xmlns/libvirt/nova/1.1"
PAGE_KIB = 2048
HUGEPAGES = 40  # reserved 2 MiB pages (80 MiB); the pinned guest takes 16 of them
NOVA_CONF = "/etc/nova/nova.conf"
# What the secrets test looks for in every output: none of these may ever appear.
SECRETS = ("Sup3rS3cret-db", "rabbitPw-13x", "Keyst0ne-pw13", "metadataSecret13")
BLOCK_DIR = "/dev/disk/by-id"
BLOCK_LINK = BLOCK_DIR + "/host13-vol-a"
GONE_LINK = BLOCK_DIR + "/host13-vol-gone"
MPATH_MISSING = "/dev/disk/by-id/dm-uuid-mpath-3600140513aa000000000000000000001"
IMAGE = "/var/lib/analyze-sos-rig/host13-vol.img"
IMAGE_B = "/var/lib/analyze-sos-rig/host13-vol-b.img"  # a second loop device, named as /dev/loopN itself
LOOP_B = "loop-b"  # a spec's disk: the second loop device's own /dev/loopN path (known to lsblk)
# Nova's iSCSI volume on a host without multipath: the by-path link udev makes for a session. This
# kernel cannot log in to iSCSI, so the rig points the link at a loop device and removes it once
# the guest runs: the real report then has no session to the IQN and no link.
ISCSI_IQN = "iqn.2010-10.org.openstack:volume-a13c0000-0000-4000-8000-000000000009"
ISCSI_LINK = "/dev/disk/by-path/ip-192.0.2.13:3260-iscsi-%s-lun-1" % ISCSI_IQN


def uuid(n):
    return "d13a0000-0000-4000-8000-%012d" % n


def port_id(n):
    return "a13b0000-0000-4000-8000-%012d" % n


def mac(n):
    return "fa:16:3e:13:00:%02x" % n


# name -> (number, state, spec); spec keys: policy, pins {vcpu: cpuset}, emulator, numa, huge,
# memory_mib, nic ("ovs": libvirt plugs it, "ethernet": a tap the rig adds to OVS like os-vif),
# disk (a block device path)
GUESTS = {
    "host13-pin-a": (1, "running", dict(policy="dedicated", pins={0: "1"}, emulator="1", numa="0",
                                        huge=True, memory_mib=32, nic="ovs", disk=BLOCK_LINK)),
    "host13-eth": (2, "running", dict(nic="ethernet", disk=LOOP_B)),
    # broken only:
    "host13-pin-b": (3, "running", dict(policy="dedicated", pins={0: "1"}, emulator="1")),
    "host13-outside": (4, "shut off", dict(policy="dedicated", pins={0: "0"}, disk=MPATH_MISSING)),
    "host13-huge-off": (5, "shut off", dict(policy="dedicated", huge=True, memory_mib=64, numa="0")),
    "host13-noport": (6, "running", dict(nic="ovs")),
    "host13-badport": (7, "running", dict(nic="ovs")),
    "host13-nodisk": (8, "running", dict(disk=GONE_LINK)),
    "host13-iscsi": (9, "running", dict(disk=ISCSI_LINK)),
}
HEALTHY = ("host13-pin-a", "host13-eth")


def tap(n):
    return "tap13%02x-00" % n


def run(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def virsh(*args, check=True):
    return run("virsh", "-q", "-c", "qemu:///system", *args, check=check)


def nova_block(name, n, spec):
    specs = ""
    if spec.get("policy"):
        specs += "<nova:extraSpec name='hw:cpu_policy'>%s</nova:extraSpec>" % spec["policy"]
    if spec.get("huge"):
        specs += "<nova:extraSpec name='hw:mem_page_size'>2MB</nova:extraSpec>"
    if spec.get("numa"):
        specs += "<nova:extraSpec name='hw:numa_nodes'>1</nova:extraSpec>"
    vcpus = len(spec.get("pins") or {0: None})
    return (
        "<nova:instance xmlns:nova='%s'><nova:package version='27.1.0'/><nova:name>%s</nova:name>"
        "<nova:creationTime>2026-11-13 10:00:00</nova:creationTime>"
        "<nova:flavor name='host13.flavor' id='13'><nova:memory>%d</nova:memory><nova:disk>1</nova:disk>"
        "<nova:swap>0</nova:swap><nova:ephemeral>0</nova:ephemeral><nova:vcpus>%d</nova:vcpus>"
        "<nova:extraSpecs>%s</nova:extraSpecs></nova:flavor>"
        "<nova:owner><nova:user uuid='c0ffeec0ffeec0ffeec0ffeec0ff1301'>alice</nova:user>"
        "<nova:project uuid='b00cb00cb00cb00cb00cb00cb00c1301'>demo</nova:project></nova:owner>"
        "<nova:ports><nova:port uuid='%s'><nova:ip type='fixed' address='10.13.0.%d' ipVersion='4'/>"
        "</nova:port></nova:ports></nova:instance>"
        % (NS, name, spec.get("memory_mib", 32), vcpus, specs, port_id(n), n))


def domain_xml(name, n, spec, devices=None):
    mem = spec.get("memory_mib", 32)
    pins = spec.get("pins") or {}
    vcpus = len(pins) or 1
    cputune = ""
    if pins:
        cputune = "<cputune>%s%s</cputune>" % (
            "".join("<vcpupin vcpu='%d' cpuset='%s'/>" % (v, c) for v, c in sorted(pins.items())),
            "<emulatorpin cpuset='%s'/>" % spec["emulator"] if spec.get("emulator") else "")
    numatune = ("<numatune><memory mode='strict' nodeset='%s'/></numatune>" % spec["numa"]
                if spec.get("numa") else "")
    backing = ("<memoryBacking><hugepages><page size='%d' unit='KiB' nodeset='0'/></hugepages>"
               "</memoryBacking>" % PAGE_KIB if spec.get("huge") else "")
    nic = ""
    if spec.get("nic") == "ovs":
        nic = ("<interface type='bridge'><mac address='%s'/><source bridge='br-int'/>"
               "<virtualport type='openvswitch'><parameters interfaceid='%s'/></virtualport>"
               "<target dev='%s'/><model type='virtio'/></interface>" % (mac(n), port_id(n), tap(n)))
    elif spec.get("nic") == "ethernet":
        nic = ("<interface type='ethernet'><mac address='%s'/><target dev='%s'/><model type='virtio'/>"
               "</interface>" % (mac(n), tap(n)))
    disk = ""
    if spec.get("disk"):
        source = (devices or {}).get(spec["disk"], spec["disk"])
        disk = ("<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='%s'/>"
                "<target dev='vdb' bus='virtio'/><serial>a13c0000-0000-4000-8000-%012d</serial></disk>"
                % (source, n))
    return (
        "<domain type='qemu'><name>%s</name><uuid>%s</uuid><metadata>%s</metadata>"
        "<memory unit='MiB'>%d</memory><currentMemory unit='MiB'>%d</currentMemory>%s"
        "<vcpu placement='static'>%d</vcpu>%s%s"
        "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
        "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>%s%s</devices></domain>"
        % (name, uuid(n), nova_block(name, n, spec), mem, mem, backing, vcpus, cputune, numatune, disk, nic))


def hugepages_possible():
    """Reserve the 2 MiB pages and mount hugetlbfs where libvirt looks; False if this host can't."""
    try:
        with open("/proc/sys/vm/nr_hugepages") as f:
            have = int(f.read())
        if have < HUGEPAGES:
            with open("/proc/sys/vm/nr_hugepages", "w") as f:
                f.write(str(HUGEPAGES))
        with open("/proc/sys/vm/nr_hugepages") as f:
            if int(f.read()) < HUGEPAGES:
                return False
    except OSError:
        return False
    if run("mountpoint", "-q", "/dev/hugepages", check=False).returncode != 0:
        os.makedirs("/dev/hugepages", exist_ok=True)
        if run("mount", "-t", "hugetlbfs", "hugetlbfs", "/dev/hugepages", check=False).returncode != 0:
            return False
        restart_libvirtd()  # libvirt finds hugetlbfs mounts when it starts
    return True


def restart_libvirtd():
    """Running guests survive: qemu processes outlive libvirtd, which reconnects to them."""
    pid = run("pgrep", "-x", "libvirtd", check=False).stdout.split()
    if pid:
        run("kill", pid[0], check=False)
        for _ in range(50):
            if run("pgrep", "-x", "libvirtd", check=False).returncode != 0:
                break
            run("sleep", "0.2")
    run("libvirtd", "-d")
    for _ in range(50):
        if virsh("version", check=False).returncode == 0:
            return
        run("sleep", "0.2")


def loop_device(image):
    """The loop device over `image` (a small file), attached once."""
    os.makedirs(os.path.dirname(image), exist_ok=True)
    if not os.path.exists(image):
        with open(image, "wb") as f:
            f.truncate(1 << 20)
    out = run("losetup", "-j", image, check=False).stdout.strip()
    return out.split(":")[0] if out else run("losetup", "--show", "-f", image).stdout.strip()


def block_device():
    """Two loop devices: the first's by-id and by-path links are what most guests' disks name, the
    second is named as itself. Returns {spec disk name: the path the domain XML gets}."""
    dev = loop_device(IMAGE)
    for link in (BLOCK_LINK, GONE_LINK, ISCSI_LINK):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(dev, link)
    return {LOOP_B: loop_device(IMAGE_B)}


def write_nova_conf(broken):
    os.makedirs(os.path.dirname(NOVA_CONF), exist_ok=True)
    ratio = "cpu_allocation_ratio = 1.0\n" if broken else ""
    with open(NOVA_CONF, "w") as f:
        f.write(
            "[DEFAULT]\n"
            "transport_url = rabbit://nova:%s@rabbit.example:5672/\n"
            "metadata_proxy_shared_secret = %s\n"
            "%s"
            "reserved_host_memory_mb = 512\n"
            "\n[compute]\n"
            "cpu_dedicated_set = 1\n"
            "cpu_shared_set = 0\n"
            "\n[database]\n"
            "connection = mysql+pymysql://nova:%s@db.example/nova\n"
            "\n[keystone_authtoken]\n"
            "password = %s\n"
            % (SECRETS[1], SECRETS[3], ratio, SECRETS[0], SECRETS[2]))


def clean():
    try:
        from tests.rig import guests as rig_guests
    except ImportError:  # run as a script: tests/rig is on the path (see main)
        import guests as rig_guests
    out = virsh("list", "--all", "--name", check=False).stdout.split()
    for name in out:
        if name.startswith(PREFIX):
            virsh("destroy", name, check=False)
            virsh("undefine", name, check=False)
    rig_guests.forget_logs(GUESTS)
    for n, _, _ in GUESTS.values():
        run("ovs-vsctl", "--if-exists", "del-port", "br-int", tap(n), check=False)
        run("ip", "link", "del", tap(n), check=False)
    for link in (BLOCK_LINK, GONE_LINK, ISCSI_LINK):
        if os.path.islink(link):
            os.unlink(link)
    if os.path.exists(NOVA_CONF):
        os.unlink(NOVA_CONF)


def setup(broken):
    """Define and start the guests of one scenario; returns {name: state it ended in}."""
    clean()
    huge = hugepages_possible()
    devices = block_device()
    write_nova_conf(broken)
    states = {}
    names = list(GUESTS) if broken else list(HEALTHY)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            n, state, spec = GUESTS[name]
            path = os.path.join(tmp, name + ".xml")
            with open(path, "w") as f:
                f.write(domain_xml(name, n, spec, devices))
            virsh("define", path)
            if state != "running" or (spec.get("huge") and not huge):
                states[name] = "shut off"
                continue
            virsh("start", name)
            states[name] = "running"
            if spec.get("nic") == "ethernet":
                # what os-vif does for an ethernet port: the tap into br-int with Nova's ids
                run("ovs-vsctl", "--may-exist", "add-port", "br-int", tap(n), "--", "set", "interface", tap(n),
                    "external_ids:iface-id=%s" % port_id(n), "external_ids:attached-mac=%s" % mac(n),
                    "external_ids:vm-uuid=%s" % uuid(n), "external_ids:iface-status=active")
    if broken:
        run("ovs-vsctl", "del-port", "br-int", tap(GUESTS["host13-noport"][0]))
        run("ovs-vsctl", "set", "interface", tap(GUESTS["host13-badport"][0]), "type=patch")
        os.unlink(GONE_LINK)
        os.unlink(ISCSI_LINK)
    return states


PLUGINS = ("libvirt_guests,libvirt,virsh,openvswitch,processor,memory,numa,block,multipath,"
           "openstack_nova,iscsi")
# A plugin timeout the broken run provokes: virsh runs a dozen commands per domain and network,
# several seconds here (the guest list still comes from libvirt_guests and /etc, /run).
TIMEOUT_ARGS = ("-k", "virsh.timeout=1")


def reports(outdir, versions=("4.0", "4.9.1")):
    """Both scenarios through real sos: {(scenario, version): archive}; cleans up after itself."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sosrun
    out = {}
    try:
        for scenario in ("broken", "healthy"):
            setup(scenario == "broken")
            for v in versions:
                args = TIMEOUT_ARGS if scenario == "broken" else ()
                out[(scenario, v)] = sosrun.run_sos(v, os.path.join(outdir, scenario, v), host="compute-13",
                                                    plugins=PLUGINS, extra_args=args)[0]
    finally:
        clean()
    return out


def main(argv):
    if not argv or argv[0] not in ("broken", "healthy", "clean", "sos"):
        print("usage: hostrig.py broken|healthy|clean|sos OUTDIR", file=sys.stderr)
        return 2
    if argv[0] == "clean":
        clean()
    elif argv[0] == "sos":
        for k, path in reports(argv[1]).items():
            print(k[0], k[1], path)
    else:
        print(setup(argv[0] == "broken"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

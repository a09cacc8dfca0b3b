#!/usr/bin/env python3
"""Write large, realistic compute-host sosreports into bench/out/ for bench/run.py.

Why generated and not real: a real 600 MiB report from a busy compute host cannot be shipped, and
the speed questions (issue 7) are about its SHAPE: hundreds of guests with full Nova XML in every
source, a few hundred MiB of logs the analyzer must stream or skip, and tens of thousands of tiny
/proc and /sys members whose tar headers dominate a naive reader's cost. The layout and XML come
from tests/sosbuilder.py, so the bench reads the same format as the test suite.

Outputs (scale 1):
  out/single/sosreport-<host>-...tar.xz   one xz block (sos 4.2+: tarfile/lzma preset 3)
  out/multi/sosreport-<host>-...tar.xz    many xz blocks (sos 4.0/4.1: `xz -2 -T2`)
  out/bundle/sos-collector-...tar         plain tar of 20 smaller single-block node reports
The single and multi archives hold the same tar stream: it is generated once and fed to both
compressors. Nothing is held in memory beyond one member's chunk: logs are generated as they are
written. Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import importlib.util
import random
import subprocess
import sys
import time
import uuid as uuidlib
from pathlib import Path
from typing import Iterator, Optional

HERE = Path(__file__).resolve().parent
MIB = 1 << 20


def _load_builder():
    """tests/sosbuilder.py by path: bench must work without the test package on sys.path."""
    spec = importlib.util.spec_from_file_location("sosbuilder", HERE.parent / "tests" / "sosbuilder.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sosbuilder"] = mod  # dataclasses need the module registered while executing it
    spec.loader.exec_module(mod)
    return mod


sb = _load_builder()


# ---------------------------------------------------------------------------------------------
# Log line generators: a pool of message bodies per log, timestamps advanced line by line.


def _u(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, n: int = 32) -> str:
    return "%0*x" % (n, rng.getrandbits(4 * n))


def _nova_bodies(rng: random.Random, uuids: list, host: str, n: int) -> list:
    """oslo.log bodies (everything after 'TIMESTAMP.mmm PID '), a realistic nova-compute mix."""
    user, proj = _hex(rng), _hex(rng)
    site = "/usr/lib/python3/dist-packages"

    def ctx() -> str:
        return f"[None req-\x00 {user} {proj} - - default default]"

    out = []
    for _ in range(n):
        u = rng.choice(uuids) if uuids else _u(rng)
        k = rng.random()
        if k < 0.30:
            out.append(f"DEBUG oslo_concurrency.lockutils [-] Lock \"compute_resources\" acquired by "
                       f"\"nova.compute.resource_tracker.ResourceTracker._update_available_resource\" :: "
                       f"waited 0.000s inner {site}/oslo_concurrency/lockutils.py:386")
        elif k < 0.45:
            task = rng.choice(["_poll_rebooting_instances", "_poll_volume_usage", "_instance_usage_audit",
                               "_heal_instance_info_cache", "update_available_resource",
                               "_sync_power_states", "_reclaim_queued_deletes"])
            out.append(f"DEBUG oslo_service.periodic_task [None req-\x00 - - - - - -] Running "
                       f"periodic task ComputeManager.{task} run_periodic_tasks "
                       f"{site}/oslo_service/periodic_task.py:210")
        elif k < 0.60:
            out.append(f"DEBUG nova.compute.manager {ctx()} [instance: {u}] Checking state _get_power_state "
                       f"{site}/nova/compute/manager.py:1782")
        elif k < 0.68:
            out.append(f"DEBUG nova.network.neutron {ctx()} [instance: {u}] Updating instance_info_cache with "
                       f"network_info: [{{\"id\": \"{_u(rng)}\", \"address\": \"fa:16:3e:{rng.getrandbits(8):02x}:"
                       f"{rng.getrandbits(8):02x}:{rng.getrandbits(8):02x}\", \"network\": {{\"id\": \"{_u(rng)}\", "
                       f"\"bridge\": \"br-int\", \"label\": \"private\", \"subnets\": [{{\"cidr\": \"10.0.0.0/16\", "
                       f"\"dns\": [], \"gateway\": {{\"address\": \"10.0.0.1\", \"type\": \"gateway\", "
                       f"\"version\": 4}}}}]}}, \"type\": \"ovs\", \"devname\": \"tap{_hex(rng, 8)}-{_hex(rng, 2)}\", "
                       f"\"active\": true}}] update_instance_cache_with_nw_info "
                       f"{site}/nova/network/neutron.py:117")
        elif k < 0.76:
            out.append(f"INFO nova.compute.resource_tracker [None req-\x00 - - - - - -] "
                       f"Final resource view: name={host} phys_ram=515700MB used_ram={rng.randint(100000, 400000)}MB "
                       f"phys_disk=1788GB used_disk={rng.randint(100, 1700)}GB total_vcpus=128 "
                       f"used_vcpus={rng.randint(100, 500)} pci_stats=[]")
        elif k < 0.82:
            out.append(f"INFO nova.compute.manager {ctx()} [instance: {u}] During sync_power_state the "
                       f"instance has a pending task (spawning). Skip.")
        elif k < 0.86:
            out.append(f"INFO nova.virt.libvirt.driver {ctx()} [instance: {u}] Instance spawned successfully.")
        elif k < 0.89:
            out.append(f"INFO nova.compute.manager {ctx()} [instance: {u}] Took {rng.uniform(2, 40):.2f} "
                       f"seconds to spawn the instance on the hypervisor.")
        elif k < 0.92:
            out.append(f"WARNING nova.compute.manager {ctx()} [instance: {u}] Instance shutdown by itself. "
                       f"Calling the stop API. Current vm_state: active, current task_state: None, original "
                       f"DB power_state: 1, current VM power_state: 4")
        elif k < 0.94:
            out.append(f"WARNING nova.virt.libvirt.driver {ctx()} [instance: {u}] Timeout waiting for "
                       f"[('network-vif-plugged', '{_u(rng)}')] for instance with vm_state building and "
                       f"task_state spawning. Event states are: network-vif-plugged-{_u(rng)}: timed out "
                       f"after 300.00 seconds")
        elif k < 0.96:
            out.append(f"ERROR nova.compute.manager {ctx()} [instance: {u}] Failed to allocate network(s): "
                       f"nova.exception.VirtualInterfaceCreateException: Virtual Interface creation failed")
        elif k < 0.97:
            out.append(f"ERROR nova.compute.manager {ctx()} [instance: {u}] Instance failed to spawn: "
                       f"libvirt.libvirtError: internal error: qemu unexpectedly closed the monitor: "
                       f"qemu-system-x86_64: -device vfio-pci,host=0000:3b:02.{rng.randint(0, 7)}: vfio "
                       f"0000:3b:02.{rng.randint(0, 7)}: failed to open /dev/vfio/{rng.randint(20, 90)}: "
                       f"Device or resource busy")
        elif k < 0.98:
            out.append(f"ERROR oslo_messaging.rpc.server {ctx()} Exception during message handling: "
                       f"oslo_messaging.exceptions.MessagingTimeout: Timed out waiting for a reply to "
                       f"message ID {_hex(rng)}")
        else:
            out.append(f"INFO nova.compute.manager {ctx()} [instance: {u}] VM Resumed (Lifecycle Event)")
    return out


def _generic_bodies(kind: str, rng: random.Random, uuids: list, host: str, n: int) -> list:
    out = []
    for _ in range(n):
        u = rng.choice(uuids) if uuids else _u(rng)
        k = rng.random()
        tap = f"tap{u[:11]}"
        if kind == "journal" or kind == "syslog":
            if k < 0.3:
                out.append(f"{host} kernel: [{rng.uniform(1, 900000):12.6f}] br-int: port {rng.randint(1, 900)}"
                           f"({tap}) entered forwarding state")
            elif k < 0.5:
                out.append(f"{host} libvirtd[1510]: internal error: End of file while reading data: "
                           f"Input/output error")
            elif k < 0.7:
                out.append(f"{host} ovs-vsctl[{rng.randint(1000, 99999)}]: ovs|00001|vsctl|INFO|Called as "
                           f"ovs-vsctl --timeout=120 -- --if-exists del-port br-int {tap}")
            elif k < 0.85:
                out.append(f"{host} systemd[1]: Started libpod-conmon-\x00.scope.")
            else:
                out.append(f"{host} nova-compute[2301]: {_nova_bodies(rng, uuids, host, 1)[0][:300]}")
        elif kind == "ovs":
            out.append(f"{rng.randint(1, 99999):05d}|{rng.choice(['bridge', 'connmgr', 'ofproto_dpif_xlate', 'netdev_linux'])}"
                       f"|{rng.choice(['INFO', 'INFO', 'INFO', 'WARN', 'DBG'])}|"
                       + rng.choice([f"bridge br-int: added interface {tap} on port {rng.randint(1, 900)}",
                                     f"br-int<->unix#{rng.randint(1, 9999)}: {rng.randint(1, 50)} flow_mods "
                                     f"in the last 0 s ({rng.randint(1, 50)} adds)",
                                     f"ioctl(SIOCGIFINDEX) on {tap} device failed: No such device",
                                     f"Dropped {rng.randint(1, 900)} log messages in last 60 seconds "
                                     f"(most recently, 1 seconds ago) due to excessive rate"]))
        else:  # neutron openvswitch agent
            out.append(f"INFO neutron.agent.common.ovs_lib [None req-\x00 - - - - - -] Port {u} not "
                       f"present in bridge br-int" if k < 0.4 else
                       f"DEBUG neutron.plugins.ml2.drivers.openvswitch.agent.ovs_neutron_agent [None "
                       f"req-\x00 - - - - - -] Agent rpc_loop - iteration:{rng.randint(1, 999999)} "
                       f"completed. Processed ports statistics: {{'regular': {{'added': 0, 'updated': 0, "
                       f"'removed': 0}}}}. Elapsed:0.{rng.randint(1, 999):03d} loop_count_and_wait "
                       f"/usr/lib/python3/dist-packages/neutron/plugins/ml2/drivers/openvswitch/agent/"
                       f"ovs_neutron_agent.py:2741")
    return out


def log_member(kind: str, size: int, seed: int, t_start: int, t_end: int, uuids: list, host: str) -> tuple:
    """(size, chunks) for one log file of exactly `size` bytes: a Member.data the builder streams."""

    def chunks() -> Iterator[bytes]:
        rng = random.Random(seed)
        bodies = (_nova_bodies(rng, uuids, host, 16384) if kind == "nova"
                  else _generic_bodies(kind, rng, uuids, host, 16384))
        bodies = [tuple(x.split("\x00", 1)) if "\x00" in x else (x, None) for x in bodies]
        # Lines per second chosen so the timestamps span [t_start, t_end] for this size.
        prefix = {"nova": 29, "neutron": 29, "ovs": 25}.get(kind, 16)
        avg = sum(len(a) + (len(b) + 36 if b is not None else 0) for a, b in bodies) / len(bodies) + prefix + 1
        step = max(1e-6, (t_end - t_start) / max(1.0, size / avg))
        written = 0
        t = float(t_start)
        while written < size:
            lines = []
            for _ in range(2000):
                sec = int(min(t, t_end))
                ms = int((t - sec) * 1000)
                a, b = bodies[rng.getrandbits(14)]
                if b is None:
                    body = a
                else:  # every request gets a fresh id: the entropy real logs have
                    h = "%032x" % rng.getrandbits(128)
                    body = f"{a}{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}{b}"
                if kind == "nova" or kind == "neutron":
                    ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))
                    lines.append(f"{ts}.{ms:03d} {2301 if kind == 'nova' else 3112} {body}\n")
                elif kind == "ovs":
                    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
                    lines.append(f"{ts}.{ms:03d}Z|{body}\n")
                else:
                    ts = time.strftime("%b %d %H:%M:%S", time.gmtime(sec))
                    lines.append(f"{ts} {body}\n")
                t += step
            data = "".join(lines).encode("ascii", "replace")
            if written + len(data) >= size:
                data = data[: size - written - 1] + b"\n"
            written += len(data)
            yield data

    return (size, chunks)


# ---------------------------------------------------------------------------------------------
# Hosts


def make_host(hostname: str, n_guests: int, members: int, seed: int, sos_version: str) -> "sb.HostSpec":
    """A busy compute host: mostly running guests, some shut off/paused/transient, config drift."""
    rng = random.Random(seed)
    guests = []
    for i in range(1, n_guests + 1):
        g = sb.make_guest(i + seed % 1000 * 4096, seed=f"{hostname}-{seed}")
        k = rng.random()
        if k < 0.10:
            g.state, g.state_reason = "shut off", rng.choice(["shutdown", "destroyed", "crashed"])
        elif k < 0.13:
            g.state, g.state_reason = "paused", rng.choice(["user", "ioerror", "migration"])
        elif k < 0.14:
            g.persistent = False
        if rng.random() < 0.05:
            g.live_xml_overrides = {"memory_mib": g.memory_mib * 2}
        if rng.random() < 0.2:
            g.nova_ns, g.schema, g.nova_version = "1.0", "juno", "21.2.3"
        elif rng.random() < 0.1:
            g.schema = "2025.2"
        g.memory_mib = rng.choice([1024, 2048, 4096, 8192, 16384])
        g.vcpus = rng.choice([1, 2, 4, 8])
        g.flavor_name = f"m1.{ {1024: 'tiny', 2048: 'small', 4096: 'medium', 8192: 'large', 16384: 'xlarge'}[g.memory_mib]}"
        n_ports = rng.choice([1, 1, 1, 2, 3])
        g.ports = [(_u(rng), f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}")
                   for _ in range(n_ports)]
        guests.append(g)
    host = sb.HostSpec(hostname=hostname, guests=guests, sos_version=sos_version, padding_files=0,
                       collected_at="2026-11-20 10:00:00", virsh_dumpxml_all=True)
    # Padding brings the member count (files, directories and links) close to `members`.
    base = len(sb.iter_members(host)) + 8  # + the streamed logs and their directories
    host.padding_files = max(0, int((members - base) / 1.2))
    return host


def host_logs(host: "sb.HostSpec", log_bytes: int, seed: int) -> dict:
    """Big logs as streamed members: rotated nova-compute logs (half), journal, syslog, OVS, neutron."""
    uuids = [g.uuid for g in host.guests]
    end = sb._epoch(host.collected_at)
    day = 86400
    extra: dict = {}
    nova_total = log_bytes // 2
    n_rot = max(1, min(6, nova_total // (50 * MIB) or 1))
    per = nova_total // n_rot
    # Nova's own per-instance lines (spawn times, claims) start 3 days back (sosbuilder's clock):
    # they open the rotated file covering that day, and its generated lines follow them in time.
    head = sb._nova_compute_log(host).encode()
    head_rot = min(2, n_rot - 1)
    head_end = end - 3 * day + 41 * len(host.guests) + 180
    for r in range(n_rot):
        name = "var/log/nova/nova-compute.log" + (f".{r}" if r else "")
        lo, hi = end - (r + 1) * day, end - r * day
        if r == head_rot:
            lo = max(lo, head_end)
            size, chunks = log_member("nova", per - len(head), seed * 100 + r, lo, hi, uuids, host.hostname)

            def with_head(chunks=chunks, head=head):
                yield head
                yield from chunks()

            extra[name] = (size + len(head), with_head)
        else:
            extra[name] = log_member("nova", per, seed * 100 + r, lo, hi, uuids, host.hostname)
    rest = log_bytes - nova_total
    for k, (path, kind, frac) in enumerate([("sos_commands/logs/journalctl_--no-pager", "journal", 0.45),
                                            ("var/log/syslog", "syslog", 0.2),
                                            ("var/log/openvswitch/ovs-vswitchd.log", "ovs", 0.15),
                                            ("var/log/neutron/neutron-openvswitch-agent.log", "neutron", 0.2)]):
        extra[path] = log_member(kind, int(rest * frac), seed * 100 + 50 + k, end - 3 * day, end, uuids,
                                 host.hostname)
    return extra


# ---------------------------------------------------------------------------------------------
# Writing


class _Tee:
    """Feed one tar stream to several compressors at once (single- and multi-block xz)."""

    def __init__(self, files: list):
        self.files = files

    def write(self, b) -> int:
        for f in self.files:
            f.write(b)
        return len(b)

    def flush(self) -> None:
        for f in self.files:
            f.flush()


def _sha256_beside(path: Path) -> None:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MIB), b""):
            h.update(b)
    Path(str(path) + ".sha256").write_text(h.hexdigest() + "\n")


def write_big(out: Path, scale: float, seed: int, guests: int, log_mib: float, members: int,
              kinds: set, hostname: str = "compute-big-1") -> list:
    """One big report, written through every requested compressor in one pass."""
    host = make_host(hostname, max(1, int(guests * scale)), max(100, int(members * scale)), seed,
                     "4.9.1")
    extra = host_logs(host, int(log_mib * scale * MIB), seed)
    mem = sb.iter_members(host, extra=extra)
    top = sb.report_name(host)
    procs, paths = [], []
    for kind, sub, comp in (("single", "single", "xz"), ("multi", "multi", "xz-multiblock"), ("many", "many", "xz")):
        if kind not in kinds:
            continue
        d = out / sub
        d.mkdir(parents=True, exist_ok=True)
        p = d / (top + ".tar.xz")
        cmd = sb.compress_command(comp)
        if comp == "xz-multiblock" and scale < 0.1:
            cmd = sb.compress_command(comp, block_size=MIB)  # still several blocks at toy scale
        f = open(p, "wb")
        procs.append((subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=f), f))
        paths.append(p)
    if not procs:
        return []
    try:
        n = sb.write_tar_stream(mem, top, _Tee([pr.stdin for pr, _ in procs]))
    finally:
        for pr, f in procs:
            pr.stdin.close()
            pr.wait()
            f.close()
    for pr, _ in procs:
        if pr.returncode:
            raise SystemExit(f"compressor failed with {pr.returncode}")
    for p in paths:
        _sha256_beside(p)
    print(f"  {top}: {n / MIB:.0f} MiB tar, {len(mem)} members, {len(host.guests)} guests", flush=True)
    return paths


def _write_node(args: tuple) -> str:
    i, out, scale, seed, node_mib, node_members, node_guests = args
    host = make_host(f"compute-{i:02d}", node_guests, node_members, seed + 1000 + i,
                     "4.9.1" if i % 3 else "4.5.6")
    extra = host_logs(host, int(node_mib * MIB), seed + 1000 + i)
    return str(sb.write_tarball(host, out, "xz", extra=extra))


def write_bundle(out: Path, scale: float, seed: int, nodes: int, node_mib: float, node_members: int,
                 node_guests: int, jobs: int) -> Path:
    """A `sos collect` bundle (plain tar, sos 4.10+) of single-block node reports, nodes in parallel."""
    d = out / "bundle"
    work = d / "nodes.tmp"
    work.mkdir(parents=True, exist_ok=True)
    args = [(i, work, scale, seed, node_mib * scale, max(100, int(node_members * scale)),
             max(1, int(node_guests * scale))) for i in range(1, nodes + 1)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as ex:
        paths = list(ex.map(_write_node, args))
    hosts = [make_host(f"compute-{i:02d}", 1, 100, seed + 1000 + i, "4.10.0") for i in range(1, nodes + 1)]
    for old in d.glob("sos-collector-*"):
        old.unlink()
    bundle = sb.write_collect_bundle(hosts, d, "none", node_archives=paths, label="bench")
    for p in paths:
        Path(p).unlink()
        Path(p + ".sha256").unlink(missing_ok=True)
    work.rmdir()
    print(f"  {bundle.name}: {nodes} nodes", flush=True)
    return bundle


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiplies guests, log sizes and member counts (0.01 for a quick try)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--guests", type=int, default=300)
    ap.add_argument("--log-mib", type=float, default=540,
                    help="total log bytes in the big report (half of it rotated nova-compute logs)")
    ap.add_argument("--members", type=int, default=50000, help="approximate member count of the big report")
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--node-mib", type=float, default=28, help="log MiB per bundle node")
    ap.add_argument("--node-members", type=int, default=2500)
    ap.add_argument("--node-guests", type=int, default=15)
    ap.add_argument("--many-guests", type=int, default=800, help="guests of the many-guests report")
    ap.add_argument("--only", choices=["single", "multi", "bundle", "many"], action="append",
                    help="generate only these (repeatable); default all")
    ap.add_argument("--jobs", type=int, default=2, help="bundle nodes written in parallel")
    a = ap.parse_args(argv)
    kinds = set(a.only or ["single", "multi", "bundle", "many"])
    t0 = time.time()
    a.out.mkdir(parents=True, exist_ok=True)
    if kinds & {"single", "multi"}:
        print("big report:", flush=True)
        write_big(a.out, a.scale, a.seed, a.guests, a.log_mib, a.members, kinds & {"single", "multi"})
    if "many" in kinds:  # many guests, so many more `[instance: ...]` lines per MiB of log
        print("many-guests report:", flush=True)
        write_big(a.out, a.scale, a.seed + 1, a.many_guests, a.log_mib, a.members, {"many"}, "compute-big-2")
    if "bundle" in kinds:
        print("collect bundle:", flush=True)
        write_bundle(a.out, a.scale, a.seed, a.nodes, a.node_mib, a.node_members, a.node_guests, a.jobs)
    print(f"done in {time.time() - t0:.0f} s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

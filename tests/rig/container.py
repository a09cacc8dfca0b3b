"""A real podman container named like TripleO's `nova_libvirt`, whose own virsh reaches the rig's
libvirtd, so the plugin's container path (`podman exec NAME virsh -r ...`) runs for real.

    python3 tests/rig/container.py start | stop

The container's root file system is the host's virsh binary plus the shared libraries it links
(found with ldd), `sleep` to keep it alive, `ls` and `cat` (the plugin copies the container's own
files with them when its virsh fails), and like TripleO's, /run/libvirt and /etc/libvirt/qemu
bind-mounted: no image, no registry.

One adaptation to this machine, not to what is tested: the sandbox refuses setrlimit during
container init (`crun`/`runc`: "setrlimit RLIMIT_NOFILE: Operation not permitted"), so podman is
given a runtime wrapper that deletes `process.rlimits` from the OCI spec and then runs the real
runc. podman records the runtime per container, so plain `podman ps` / `podman exec` (what the
plugin runs) use it too.
"""

import os
import re
import shutil
import subprocess
import sys

NAME = "nova_libvirt"
CACHE = os.environ.get("ANALYZE_SOS_RIG_CACHE", "/var/cache/analyze-sos-rig")
ROOTFS = os.path.join(CACHE, "nova_libvirt-rootfs")
RUNTIME = os.path.join(CACHE, "runtime", "runc")  # named runc: podman picks flags by runtime name
LABEL = "analyze-sos-rig=1"

_WRAPPER = r"""#!/bin/sh
# runc without rlimits (bundle config.json, exec --process file): see tests/rig/container.py
prev=""
for a in "$@"; do
  f=""
  case "$prev" in --bundle|-b) f="$a/config.json";; --process|-p) f="$a";; esac
  case "$a" in --bundle=*) f="${a#--bundle=}/config.json";; --process=*) f="${a#--process=}";; esac
  if [ -n "$f" ] && [ -f "$f" ]; then
    /usr/bin/python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); (c.get("process") or c).pop("rlimits",None); json.dump(c,open(p,"w"))' "$f"
  fi
  prev="$a"
done
exec %s "$@"
"""


def available():
    return shutil.which("podman") is not None and _runc() is not None


def _runc():
    for p in ("/usr/sbin/runc", "/usr/bin/runc"):
        if os.access(p, os.X_OK):
            return p
    return None


def _podman(*args, check=True, timeout=120):
    return subprocess.run(["podman", "--runtime", RUNTIME, "--cgroup-manager", "cgroupfs"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=check, timeout=timeout)


def _build_rootfs():
    if os.path.isdir(ROOTFS):
        shutil.rmtree(ROOTFS)
    binaries = [shutil.which(b) for b in ("virsh", "sleep", "sh", "ls", "cat")]
    for d in ("usr/bin", "run/libvirt", "var", "etc/libvirt/qemu", "proc", "sys", "dev", "tmp"):
        os.makedirs(os.path.join(ROOTFS, d))
    os.symlink("usr/bin", os.path.join(ROOTFS, "bin"))
    os.symlink("../run", os.path.join(ROOTFS, "var", "run"))
    libs = set()
    for b in binaries:
        shutil.copy(os.path.realpath(b), os.path.join(ROOTFS, "usr/bin", os.path.basename(b)))
        out = subprocess.run(["ldd", b], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
        libs.update(re.findall(r"(/\S+)", out))
    for lib in libs:
        dest = os.path.join(ROOTFS, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(os.path.realpath(lib), dest)
    os.makedirs(os.path.dirname(RUNTIME), exist_ok=True)
    with open(RUNTIME, "w") as f:
        f.write(_WRAPPER % _runc())
    os.chmod(RUNTIME, 0o755)


def stop():
    """Remove the rig's container, and only it (by its label): never someone's real nova_libvirt."""
    if not shutil.which("podman"):
        return
    ids = subprocess.run(["podman", "ps", "-a", "-q", "--filter", "label=" + LABEL,
                          "--filter", "name=^%s$" % NAME], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True, timeout=120).stdout.split()
    for cid in ids:
        subprocess.run(["podman", "rm", "-f", "-t", "0", cid], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)


def start():
    """Start `nova_libvirt` and wait until its virsh lists the host's domains."""
    stop()
    _build_rootfs()
    _podman("run", "-d", "--name", NAME, "--label", LABEL, "--network", "host",
            "-v", "/run/libvirt:/run/libvirt", "-v", "/etc/libvirt/qemu:/etc/libvirt/qemu:ro",
            "--rootfs", ROOTFS, "/usr/bin/sleep", "infinity")
    res = subprocess.run(["podman", "exec", NAME, "virsh", "-r", "list", "--all", "--uuid"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError("virsh in container %s failed: %s" % (NAME, res.stdout.strip()))
    return res.stdout.split()


def main(argv):
    if argv[:1] == ["start"]:
        print("\n".join(start()))
    elif argv[:1] == ["stop"]:
        stop()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run the real `sos report` (Debian's 4.0, trixie's 4.9.1) with this project's plugin.

The plugin goes into a PRIVATE copy of each sos tree (never into the system's sos), and sos runs
with a clean environment in its own UTS namespace so each report carries the host name we choose.

    python3 tests/rig/sosrun.py 4.9.1 OUTDIR [--host compute-1] [--plugins libvirt_guests,libvirt]
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("ANALYZE_SOS_RIG_CACHE", "/var/cache/analyze-sos-rig")
SOS_TREES = {
    "4.0": ("/usr/lib/python3/dist-packages", "/usr/bin/sos"),
    "4.9.1": (CACHE + "/sos-4.9.1/usr/lib/python3/dist-packages", CACHE + "/sos-4.9.1/usr/bin/sos"),
}
PLUGIN = os.path.join(ROOT, "sos_plugin", "libvirt_guests.py")
CLEAN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}


def available(version):
    lib, launcher = SOS_TREES[version]
    return os.path.isfile(os.path.join(lib, "sos", "__init__.py")) and os.path.isfile(launcher)


def private_sos(version, dest):
    """A copy of that sos with the plugin installed by our own installer; returns PYTHONPATH."""
    lib, _ = SOS_TREES[version]
    pylib = os.path.join(dest, "sos-%s" % version)
    if not os.path.isdir(os.path.join(pylib, "sos")):
        shutil.copytree(os.path.join(lib, "sos"), os.path.join(pylib, "sos"))
    env = dict(CLEAN_ENV, PYTHONPATH=pylib)
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "sos_plugin", "install.py"),
                    "--python", "/usr/bin/python3"], env=env, check=True, stdout=subprocess.DEVNULL)
    return pylib


def run_sos(version, outdir, host="compute-1", plugins="libvirt_guests,libvirt", label=None,
            extra_args=(), timeout=300, env=None):
    """Run `sos report --batch -o PLUGINS` and return the path of the archive it wrote.

    `env` adds to (or replaces) the clean environment sos runs in, e.g. a locale."""
    os.makedirs(outdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sos-", dir=outdir)
    pylib = private_sos(version, work)
    _, launcher = SOS_TREES[version]
    args = ["/usr/bin/python3", launcher, "report", "--batch", "-o", plugins, "--tmp-dir", work]
    if label:
        args += ["--label", label]
    args += list(extra_args)
    script = "hostname %s && exec %s" % (host, " ".join("'%s'" % a for a in args))
    proc = subprocess.run(["unshare", "--uts", "sh", "-c", script], env=dict(CLEAN_ENV, PYTHONPATH=pylib, **(env or {})),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout)
    found = sorted(glob.glob(os.path.join(work, "sosreport-*.tar.*")))
    found = [f for f in found if not f.endswith((".md5", ".sha256"))]
    if proc.returncode != 0 or not found:
        raise RuntimeError("sos %s failed (exit %d):\n%s" % (version, proc.returncode, proc.stdout[-3000:]))
    # --clean leaves the original and the obfuscated archive: the obfuscated one is what is sent
    obf = [f for f in found if "obfuscated" in f]
    result = os.path.join(outdir, os.path.basename((obf or found)[-1]))
    shutil.move((obf or found)[-1], result)
    shutil.rmtree(work, ignore_errors=True)
    return result, proc.stdout


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("version", choices=sorted(SOS_TREES))
    ap.add_argument("outdir")
    ap.add_argument("--host", default="compute-1")
    ap.add_argument("--plugins", default="libvirt_guests,libvirt")
    args = ap.parse_args(argv)
    path, _ = run_sos(args.version, args.outdir, host=args.host, plugins=args.plugins)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

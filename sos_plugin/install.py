#!/usr/bin/env python3
"""Put the libvirt_guests plugin into the sos that runs on this host (or take it out).

    python3 sos_plugin/install.py              # install (as root)
    python3 sos_plugin/install.py --dry-run    # say where it would go, change nothing
    python3 sos_plugin/install.py --uninstall

sos loads plugins only from the `sos/report/plugins/` directory of the sos it runs, so the target is
found through the python that runs sos (`--python`, default the interpreter of /usr/sbin/sos or
/usr/bin/sos, else /usr/bin/python3). No pip, no network: one file is copied. Python 3.6+.
"""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN = os.path.join(HERE, "libvirt_guests.py")
FIND = "import os, sos.report.plugins as p; print(os.path.dirname(p.__file__))"


def sos_python():
    """The interpreter named on the sos launcher's #! line: that is the python whose sos runs."""
    for launcher in ("/usr/sbin/sos", "/usr/bin/sos", "/usr/sbin/sosreport", "/usr/bin/sosreport"):
        try:
            with open(launcher, "rb") as f:
                first = f.readline().decode("utf-8", "replace").strip()
        except (IOError, OSError):
            continue
        if first.startswith("#!"):
            parts = first[2:].split()
            if parts and os.path.basename(parts[0]) == "env" and len(parts) > 1:
                return shutil.which(parts[1]) or parts[1]
            if parts:
                return parts[0]
    return "/usr/bin/python3"


def plugins_dir(python):
    try:
        out = subprocess.run([python, "-c", FIND], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SystemExit("install.py: cannot run %s: %s" % (python, e))
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        raise SystemExit("install.py: sos is not importable by %s (%s); is sos installed? "
                         "Use --python to name the interpreter that runs sos." % (python, last))
    return out.stdout.strip()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Install the libvirt_guests sos plugin into this host's sos.")
    ap.add_argument("--python", help="the python that runs sos (default: from the sos launcher)")
    ap.add_argument("--dry-run", action="store_true", help="print what would be done, change nothing")
    ap.add_argument("--uninstall", action="store_true", help="remove the plugin")
    args = ap.parse_args(argv)

    target_dir = plugins_dir(args.python or sos_python())
    target = os.path.join(target_dir, "libvirt_guests.py")
    if args.uninstall:
        if not os.path.exists(target):
            print("not installed: %s" % target)
            return 0
        print("%sremove %s" % ("would " if args.dry_run else "", target))
        if not args.dry_run:
            os.remove(target)
            cache = os.path.join(target_dir, "__pycache__")
            for n in os.listdir(cache) if os.path.isdir(cache) else []:
                if n.startswith("libvirt_guests."):
                    os.remove(os.path.join(cache, n))
        return 0
    if os.path.exists(target) and filecmp.cmp(PLUGIN, target, shallow=False):
        print("already installed: %s" % target)
        return 0
    print("%scopy %s -> %s" % ("would " if args.dry_run else "", PLUGIN, target))
    if not args.dry_run:
        try:
            shutil.copyfile(PLUGIN, target)
            os.chmod(target, 0o644)
        except (IOError, OSError) as e:
            raise SystemExit("install.py: cannot write %s: %s (run as root)" % (target, e))
        print("run: sos report -o libvirt_guests,libvirt   (or add -e libvirt_guests to your usual command)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

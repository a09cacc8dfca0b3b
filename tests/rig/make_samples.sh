#!/usr/bin/env bash
# Regenerate samples/ from the real rig (root, after `make rig`): two small real sosreports.
#   compute-1: sos 4.9.1, the six test guests (running, paused, shut off, transient, no Nova
#              metadata, an old Juno guest sharing the display name web-01)
#   compute-2: sos 4.0, its own guest plus a shut-off copy of web-01's UUID (a migration leftover)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$root/tests/rig/guests.py" define --host compute-2
python3 "$root/tests/rig/sosrun.py" 4.0 "$out" --host compute-2 --plugins libvirt_guests,libvirt,host,release,dpkg,date,process
python3 "$root/tests/rig/guests.py" define --host compute-1
python3 "$root/tests/rig/sosrun.py" 4.9.1 "$out" --host compute-1 --plugins libvirt_guests,libvirt,host,release,dpkg,date,process
rm -f "$root"/samples/sosreport-*.tar.xz
cp "$out"/sosreport-*.tar.xz "$root/samples/" && chmod 644 "$root"/samples/*.tar.xz
ls -la "$root/samples/"

#!/usr/bin/env bash
# Real components for the plugin tests: Debian's sos 4.0 (bookworm, the system's), sos 4.9.1
# (trixie, unpacked into a private cache, never installed), libvirtd + qemu with virtlogd, podman
# and runc for a libvirt container (tests/rig/container.py starts it when a test needs it).
# Idempotent: a second run only checks and (re)starts the daemons.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
CACHE=${ANALYZE_SOS_RIG_CACHE:-/var/cache/analyze-sos-rig}
mkdir -p "$CACHE"

. "$(dirname "$0")/../packages.sh"
ensure_packages sosreport libvirt-daemon-system libvirt-clients qemu-system-x86 xz-utils util-linux \
    podman runc

# sos 4.9.1 from Debian trixie: an apt source derived from this machine's own (same mirror), used
# only for `apt-get download`, then unpacked with dpkg -x.
SOS491="$CACHE/sos-4.9.1"
if [ ! -f "$SOS491/usr/lib/python3/dist-packages/sos/__init__.py" ]; then
    echo "rig: fetching sos 4.9.1 from trixie" >&2
    work="$CACHE/trixie-apt"
    rm -rf "$work" && mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/archives/partial"
    src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ]; then
        # deb822: keep the first stanza (the main archive), suite -> trixie
        awk 'BEGIN{RS=""; ORS="\n\n"} NR==1' "$src" | sed -E 's/^Suites:.*/Suites: trixie/' \
            > "$work/sources.list.d/trixie.sources"
    else
        mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
        echo "deb $mirror trixie main" > "$work/sources.list.d/trixie.list"
    fi
    opts=(-o Dir::Etc::SourceParts="$work/sources.list.d" -o Dir::Etc::SourceList=/dev/null
          -o Dir::State::Lists="$work/lists" -o Dir::Cache::Archives="$work/archives"
          -o APT::Get::List-Cleanup=0)
    apt-get "${opts[@]}" update -qq
    (cd "$work" && apt-get "${opts[@]}" download -qq "sos=4.9.1*")
    mkdir -p "$SOS491.tmp"
    dpkg -x "$work"/sos_4.9.1*.deb "$SOS491.tmp"
    rm -rf "$SOS491" && mv "$SOS491.tmp" "$SOS491"
    rm -rf "$work"
fi

# qemu as root: /dev/kvm is root-only here and the default user makes every define take 30 s+.
conf=/etc/libvirt/qemu.conf
if ! grep -q '^user = "root"' "$conf"; then
    printf '\nuser = "root"\ngroup = "root"\n' >> "$conf"
    pkill -x libvirtd 2>/dev/null && sleep 1 || true
fi
pgrep -x virtlogd >/dev/null || virtlogd -d
pgrep -x libvirtd >/dev/null || libvirtd -d
for i in $(seq 1 50); do
    virsh -c qemu:///system version >/dev/null 2>&1 && break
    sleep 0.2
done
virsh -c qemu:///system version >/dev/null
echo "rig: libvirtd up, sos 4.0 at /usr/lib/python3/dist-packages, sos 4.9.1 at $SOS491" >&2

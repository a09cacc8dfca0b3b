#!/usr/bin/env bash
# Real Open vSwitch for the host tests: Debian's openvswitch-switch, its database and ovs-vswitchd
# on the userspace "dummy" datapath (no kernel module on these machines; ports still get real
# ofport numbers). No systemd here, so the daemons are started by hand. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

. "$(dirname "$0")/../packages.sh"
ensure_packages openvswitch-switch

# Daemons must not inherit a caller's descriptors: run under `flock LOCK make rig`, an inherited
# lock descriptor would keep the rig lock held for as long as the daemon lives.
detached() {
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
        done
        exec "$@"
    )
}

mkdir -p /etc/openvswitch /var/run/openvswitch /var/log/openvswitch
db=/etc/openvswitch/conf.db
[ -f "$db" ] || ovsdb-tool create "$db" /usr/share/openvswitch/vswitch.ovsschema
if ! pgrep -x ovsdb-server >/dev/null; then
    detached ovsdb-server "$db" --remote=punix:/var/run/openvswitch/db.sock \
        --remote=db:Open_vSwitch,Open_vSwitch,manager_options --pidfile --detach --log-file
fi
ovs-vsctl --no-wait init
if ! pgrep -x ovs-vswitchd >/dev/null; then
    detached ovs-vswitchd --enable-dummy=override --disable-system --pidfile --detach --log-file
fi
ovs-vsctl --may-exist add-br br-int
# libvirt asks the kernel for the bridge's MTU before plugging a guest's port: with the dummy
# datapath there is no kernel br-int, so a tap device of that name stands in for it.
ip link show br-int >/dev/null 2>&1 || ip tuntap add br-int mode tap
ip link set br-int up
ovs-vsctl -t 5 show >/dev/null
echo "rig: ovsdb-server and ovs-vswitchd (dummy datapath) up, br-int present" >&2

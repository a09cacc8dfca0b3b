"""`iscsiadm -m session -P 3` (sos's iscsi plugin: sos_commands/iscsi/iscsiadm_-m_session_-P_3, in
sos 4.0 and 4.9.1): each iSCSI session, its target, portal, state and the SCSI disks it gives.

What is real here and what is not: this machine's kernel has no iscsi_tcp, so iscsid cannot run
and no session can be made. Real captures (open-iscsi 2.1.8, Debian 12, a tgtd target on
127.0.0.1, its node record added with `iscsiadm -m node -o new`):

    $ iscsiadm -m session -P 3          (exit 21)
    iscsiadm: No active sessions.
    $ iscsiadm -m node -P 1
    Target: iqn.2026-12.org.example:host13-vol
    	Portal: 127.0.0.1:3260,-1
    		Iface Name: default

The shape of a logged-in session below is NOT a capture: it is written from the format strings
in this machine's real iscsiadm binary (`strings /usr/sbin/iscsiadm`: "%sTarget: %s (%s)",
"%s\\tCurrent Portal: %s:%i,%i", "%s\\t\\tiSCSI Session State: %s", "%s\\t\\tscsi%d Channel 00 Id
%d Lun: %d", "%s\\t\\t\\tAttached scsi disk %s\\t\\t" then "State: %s") and public `-P 3` output of
the same shape (insights-core's parser test data, open-iscsi users' posts); addresses and names
are ours. Tabs indent; the Timeouts, CHAP and negotiated-parameter blocks are cut here:

    iSCSI Transport Class version 2.0-870
    version 2.1.8
    Target: iqn.2010-10.org.openstack:volume-5b0c4d5e-0000-4000-8000-000000000013 (non-flash)
    	Current Portal: 192.0.2.10:3260,1
    	Persistent Portal: 192.0.2.10:3260,1
    		**********
    		Interface:
    		**********
    		Iface Name: default
    		Iface Transport: tcp
    		Iface Initiatorname: iqn.1993-08.org.debian:01:da467110fda2
    		SID: 1
    		iSCSI Connection State: LOGGED IN
    		iSCSI Session State: LOGGED_IN
    		Internal iscsid Session State: NO CHANGE
    		************************
    		Attached SCSI devices:
    		************************
    		Host Number: 3	State: running
    		scsi3 Channel 00 Id 0 Lun: 1
    			Attached scsi disk sdb		State: running

One `Target:` line heads every session to that target (one per portal, each with its own
`Current Portal:`). Session states are the kernel's: LOGGED_IN, FAILED, FREE.

>>> s = parse_sessions("Target: iqn.2010-10.org.openstack:volume-1 (non-flash)\\n"
...     "\\tCurrent Portal: 192.0.2.10:3260,1\\n\\tPersistent Portal: 192.0.2.10:3260,1\\n"
...     "\\t\\tSID: 1\\n\\t\\tiSCSI Connection State: LOGGED IN\\n\\t\\tiSCSI Session State: LOGGED_IN\\n"
...     "\\t\\tHost Number: 3\\tState: running\\n\\t\\tscsi3 Channel 00 Id 0 Lun: 1\\n"
...     "\\t\\t\\tAttached scsi disk sdb\\t\\tState: running\\n")
>>> [(x.target, x.portal, x.state, x.luns) for x in s]
[('iqn.2010-10.org.openstack:volume-1', '192.0.2.10:3260', 'LOGGED_IN', {1: ('sdb', 'running')})]
>>> parse_sessions("iscsiadm: No active sessions.\\n")
[]
>>> parse_by_path("/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2010-10.org.openstack:volume-1-lun-1")
('192.0.2.10:3260', 'iqn.2010-10.org.openstack:volume-1', 1)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

_TARGET = re.compile(r"^\s*Target:\s+(?P<iqn>\S+)(?:\s+\((?P<kind>[^)]*)\))?\s*$")
_PORTAL = re.compile(r"^\s*(?P<which>Current|Persistent) Portal:\s+(?P<addr>\S+?)(?:,(?P<tpgt>-?\d+))?\s*$")
_KV = re.compile(r"^\s*(?P<key>SID|iSCSI Session State|iSCSI Connection State):\s*(?P<value>.*?)\s*$")
_LUN = re.compile(r"^\s*scsi\d+ Channel \d+ Id \d+ Lun: (?P<lun>\d{1,9})\s*$")
_DISK = re.compile(r"^\s*Attached scsi disk (?P<disk>\S+)\s+State: (?P<state>\S.*?)\s*$")
# udev's path_id and os-brick: ip-ADDR:PORT-iscsi-IQN-lun-N, after a pci-... prefix for an offload NIC
_BY_PATH = re.compile(r"/dev/disk/by-path/(?:\S*-)?ip-(?P<portal>\S+?:\d{1,5})-iscsi-(?P<iqn>\S+)-lun-(?P<lun>\d{1,9})")


@dataclass
class Session:
    target: str
    portal: Optional[str] = None  # current portal, ADDR:PORT (no tpgt)
    persistent_portal: Optional[str] = None
    sid: Optional[str] = None
    state: Optional[str] = None  # iSCSI Session State: LOGGED_IN, FAILED, FREE
    connection_state: Optional[str] = None
    luns: dict[int, tuple[str, str]] = field(default_factory=dict)  # LUN -> (sdX, its state)


def parse_sessions(text: str) -> list[Session]:
    """Every session of `iscsiadm -m session -P 1..3` output; [] for "No active sessions"."""
    out: list[Session] = []
    target: Optional[str] = None
    lun: Optional[int] = None
    for line in text.splitlines():
        m = _TARGET.match(line)
        if m:
            target, lun = m.group("iqn"), None
            continue
        if target is None:
            continue
        m = _PORTAL.match(line)
        if m and m.group("which") == "Current":
            out.append(Session(target=target, portal=m.group("addr")))
            lun = None
            continue
        if m and out and out[-1].target == target:
            out[-1].persistent_portal = m.group("addr")
            continue
        if not out or out[-1].target != target:
            continue
        s = out[-1]
        m = _KV.match(line)
        if m:
            key, value = m.group("key"), m.group("value")
            if key == "SID":
                s.sid = value
            elif key == "iSCSI Session State":
                s.state = value
            else:
                s.connection_state = value
            continue
        m = _LUN.match(line)
        if m:
            lun = int(m.group("lun"))
            continue
        m = _DISK.match(line)
        if m and lun is not None:
            s.luns[lun] = (m.group("disk"), m.group("state"))
    return out


def parse_by_path(path: str) -> Optional[tuple[str, str, int]]:
    """(portal, IQN, LUN) of an iSCSI /dev/disk/by-path/ link; None for any other path."""
    m = _BY_PATH.fullmatch(path)
    return (m.group("portal"), m.group("iqn"), int(m.group("lun"))) if m else None

"""Which block devices the host has: the recursive /dev listing, lsblk, multipath maps, iSCSI sessions.

    sos_commands/block/ls_-lanR_.dev     sos 4.0 .. 4.8 (`ls -lanR /dev`; `ls_-lanR_dev` in some)
    sos_commands/block/ls_-alZR_.dev     sos 4.9 (`ls -alZR /dev`, through add_dir_listing)
    sos_commands/block/lsblk_-O_-P       sos 4.9.1 (`lsblk -O -P`: names, types, parents)
    sos_commands/block/lsblk             sos 4.0 and 4.9.1 (`lsblk`: the same as a tree)
    sos_commands/multipath/multipath_-ll
    sos_commands/iscsi/iscsiadm_-m_session_-P_3   sos's iscsi plugin (where open-iscsi is installed)

(formats in analyzer/parsers/ls_recursive.py, lsblk.py, multipath.py and iscsiadm.py). A guest
disk whose `/dev/...` source is in neither the listing nor lsblk has lost its device (a volume
detached under it, a SAN path gone); an iSCSI by-path disk with no session to its target too.
A report without these files says nothing either way.
"""

from __future__ import annotations

from analyzer.archive.select import BYTES, Wanted
from analyzer.parsers import iscsiadm, ls_recursive, lsblk, multipath
from analyzer.sources.base import Readout, View

LISTINGS = ("sos_commands/block/ls_-alZR_.dev", "sos_commands/block/ls_-lanR_.dev", "sos_commands/block/ls_-lanR_dev")
LSBLK = ("sos_commands/block/lsblk_-O_-P", "sos_commands/block/lsblk")  # the more complete first
MULTIPATH = "sos_commands/multipath/multipath_-ll"
ISCSI_SESSIONS = "sos_commands/iscsi/iscsiadm_-m_session_-P_3"
MEMBERS = (
    Wanted("dev_listing", BYTES, r"sos_commands/block/ls_-alZR_\.dev|sos_commands/block/ls_-lanR_\.?dev"
           r"|sos_commands/block/lsblk(?:_-O_-P)?"
           r"|sos_commands/multipath/multipath_-ll", ("sos_commands/block/", "sos_commands/multipath/"),
           example="sos_commands/block/ls_-lanR_.dev"),
    Wanted("iscsi", BYTES, r"sos_commands/iscsi/iscsiadm_-m_session_-P_3", ("sos_commands/iscsi/",),
           example="sos_commands/iscsi/iscsiadm_-m_session_-P_3"),
)


def _text(v: View, rel: str) -> str:
    return v.files[rel].decode("utf-8", "replace")


def read(v: View) -> Readout:
    out = Readout()
    path = next((p for p in LISTINGS if p in v.files), None)
    if path is not None and v.files[path].strip():
        out.host_data["dev"] = {"path": path, "entries": ls_recursive.parse_listing(_text(v, path))}
    path = next((p for p in LSBLK if p in v.files and v.files[p].strip()), None)
    if path is not None:
        devices = lsblk.parse_lsblk(_text(v, path))
        if devices:  # an lsblk that printed only an error names no device: it proves no absence
            out.host_data["lsblk"] = {"path": path, "devices": devices}
    if MULTIPATH in v.files:
        out.host_data["multipath"] = {"path": MULTIPATH, "maps": multipath.parse_multipath(_text(v, MULTIPATH))}
    if ISCSI_SESSIONS in v.files:
        text = _text(v, ISCSI_SESSIONS)
        sessions = iscsiadm.parse_sessions(text)
        # iscsiadm's own failure (no iscsid, "can not connect") is no account of the sessions
        if sessions or "No active sessions" in text:
            out.host_data["iscsi"] = {"path": ISCSI_SESSIONS, "sessions": sessions}
    return out

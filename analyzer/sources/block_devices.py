"""Which block devices the host has: the recursive /dev listing and multipath maps.

    sos_commands/block/ls_-lanR_.dev     sos 4.0 .. 4.8 (`ls -lanR /dev`; `ls_-lanR_dev` in some)
    sos_commands/block/ls_-alZR_.dev     sos 4.9 (`ls -alZR /dev`, through add_dir_listing)
    sos_commands/multipath/multipath_-ll

(formats in analyzer/parsers/ls_recursive.py and multipath.py). A guest disk whose `/dev/...`
source is not in the listing has lost its device (a volume detached under it, a SAN path gone).
"""

from __future__ import annotations

from analyzer.archive.select import BYTES, Wanted
from analyzer.parsers import ls_recursive, multipath
from analyzer.sources.base import Readout, View

LISTINGS = ("sos_commands/block/ls_-alZR_.dev", "sos_commands/block/ls_-lanR_.dev", "sos_commands/block/ls_-lanR_dev")
MULTIPATH = "sos_commands/multipath/multipath_-ll"
MEMBERS = (
    Wanted("dev_listing", BYTES, r"sos_commands/block/ls_-alZR_\.dev|sos_commands/block/ls_-lanR_\.?dev"
           r"|sos_commands/multipath/multipath_-ll", ("sos_commands/block/", "sos_commands/multipath/"),
           example="sos_commands/block/ls_-lanR_.dev"),
)


def read(v: View) -> Readout:
    out = Readout()
    path = next((p for p in LISTINGS if p in v.files), None)
    if path is not None and v.files[path].strip():
        out.host_data["dev"] = {"path": path,
                                "entries": ls_recursive.parse_listing(v.files[path].decode("utf-8", "replace"))}
    if MULTIPATH in v.files:
        out.host_data["multipath"] = {"path": MULTIPATH,
                                      "maps": multipath.parse_multipath(v.files[MULTIPATH].decode("utf-8", "replace"))}
    return out

"""sos's own account of its run: which plugins ran, which timed out or failed.

    sos_reports/manifest.json (sos 4.x; read through the `host` source's member):
    {"components": {"report": {"enabled_plugins": [...],
        "plugins": {"openvswitch": {"timeout": 300, "timeout_hit": false, "commands": [...]}, ...}}}}
    sos_logs/sos.log:
    2026-12-02 06:40:01,123 INFO: Plugin processor timed out
    2026-12-02 06:40:01,123 WARNING: [plugin:virsh] command 'virsh -r dumpxml x' timed out after 1s
    2026-12-02 06:40:01,123 ERROR: caught exception in plugin method "block.setup()"
    sos_logs/block-plugin-errors.txt     the traceback of that exception

A command that exits non-zero (127: not installed) is not a failed plugin; a plugin that did not
run at all is "not collected", never a trouble.
"""

from __future__ import annotations

import json
import re

from analyzer.archive.select import BYTES, Wanted
from analyzer.model import Collection, PluginTrouble
from analyzer.sources.base import Readout, View

MANIFEST = "sos_reports/manifest.json"
LOG = "sos_logs/sos.log"
MEMBERS = (
    Wanted("sos_logs", BYTES, r"sos_logs/sos\.log|sos_logs/[A-Za-z0-9_]{1,64}-plugin-errors\.txt", ("sos_logs/",),
           example="sos_logs/sos.log"),
)
SHARED_TAGS = ("host",)  # the manifest is the host source's member; read here too
# Plugins whose output this analysis reads.
FEEDING = ("libvirt", "virsh", "libvirt_guests", "openstack_nova", "openvswitch", "processor", "memory",
           "numa", "block", "multipath", "iscsi")
_TIMED_OUT = re.compile(r"Plugin (?P<p>\w+) timed out")
_CMD_TIMED_OUT = re.compile(r"\[plugin:(?P<p>\w+)\] command '(?P<cmd>.{0,200}?)' timed out after (?P<s>\d+)s")
_EXCEPTION = re.compile(r'caught exception in plugin method "(?P<p>\w+)\.(?P<m>\w+)\(\)"')
_ERRFILE = re.compile(r"sos_logs/(?P<p>\w+)-plugin-errors\.txt")


def read(v: View) -> Readout:
    out = Readout()
    col = Collection()
    seen: set[tuple[str, str]] = set()

    def trouble(plugin: str, what: str, detail: str, path: str) -> None:
        if plugin in FEEDING and (plugin, what) not in seen:
            seen.add((plugin, what))
            col.troubles.append(PluginTrouble(plugin=plugin, what=what, detail=detail, path=path))

    manifest = None
    if MANIFEST in v.files:
        try:
            manifest = json.loads(v.files[MANIFEST].decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            manifest = None
    report = manifest.get("components", {}).get("report") if isinstance(manifest, dict) else None
    plugins = report.get("plugins") if isinstance(report, dict) else None
    if isinstance(plugins, dict):
        col.plugins_run = sorted(p for p in plugins if isinstance(p, str))
        for name in col.plugins_run:
            info = plugins[name]
            if isinstance(info, dict) and info.get("timeout_hit") is True:
                trouble(name, "timed out", "the plugin hit its %ss timeout" % info.get("timeout", "?"), MANIFEST)
    log = v.files.get(LOG, b"").decode("utf-8", "replace")
    for line in log.splitlines():
        m = _TIMED_OUT.search(line)
        if m:
            trouble(m.group("p"), "timed out", line.strip()[-300:], LOG)
        m = _CMD_TIMED_OUT.search(line)
        if m:
            trouble(m.group("p"), "command timed out", "%s (after %ss)" % (m.group("cmd"), m.group("s")), LOG)
        m = _EXCEPTION.search(line)
        if m:
            detail = "exception in %s.%s()" % (m.group("p"), m.group("m"))
            if m.group("m") == "postproc":  # collected, but its copies were not scrubbed
                detail += ": its files were collected but not post-processed (secrets not masked)"
            trouble(m.group("p"), "failed", detail, LOG)
    for rel in v.paths("sos_logs"):
        m = _ERRFILE.fullmatch(rel)
        if m:
            last = [ln for ln in v.files[rel].decode("utf-8", "replace").splitlines() if ln.strip()]
            trouble(m.group("p"), "failed", (last[-1].strip() if last else "plugin raised")[:300], rel)
    if col.plugins_run or col.troubles:
        out.facts["collection"] = col
    return out

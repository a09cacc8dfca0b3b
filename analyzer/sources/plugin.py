"""This project's own sos plugin, `libvirt_guests` (sos_plugin/libvirt_guests.py).

    sos_commands/libvirt_guests/summary.json            per libvirt (host or container): how it
                                                         was reached, and every domain's uuid, name,
                                                         state, persistence and Nova fields
    sos_commands/libvirt_guests/host/domains/<UUID>.live.xml       virsh -r dumpxml UUID
    sos_commands/libvirt_guests/host/domains/<UUID>.inactive.xml   virsh -r dumpxml --inactive UUID

The summary alone is a full inventory (it survives even when the XML files were not collected);
the XML files are parsed like any other source and cross-checked with it in `merge`. The file layout
and the summary schema are in HACKING.md.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from analyzer.archive.select import BYTES, Wanted
from analyzer.model import (KIND_PLUGIN_INACTIVE, KIND_PLUGIN_LIVE, KIND_PLUGIN_SUMMARY, IP, Flavor,
                            Image, NovaMeta, Observation, Owner, Person, Port, Problem,
                            Root, Source)
from analyzer.parsers import domain_xml
from analyzer.parsers.libvirt_state import normalize
from analyzer.sources.base import Readout, View, domain

_DIRS = ("sos_commands/libvirt_guests/", "sos_strings/libvirt_guests/")
MEMBERS = (
    Wanted("plugin_summary", BYTES, r"(?:sos_commands|sos_strings)/libvirt_guests/summary\.json", _DIRS,
           example="sos_commands/libvirt_guests/summary.json"),
    Wanted("plugin_domain", BYTES, r"sos_commands/libvirt_guests/[^/]+/domains/[^/]+\.(?:live|inactive)\.xml",
           _DIRS, deep=True, prepare=domain_xml.prepare,
           example="sos_commands/libvirt_guests/host/domains/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e01.live.xml"),
)

_DOMAIN_FILE = re.compile(r".*/domains/(?P<uuid>[^/]+)\.(?P<which>live|inactive)\.xml$")


def _s(v: Any) -> Optional[str]:
    return v if isinstance(v, str) else None


def _i(v: Any) -> Optional[int]:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _d(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _person(v: Any) -> Optional[Person]:
    v = _d(v)
    return Person(uuid=_s(v.get("uuid")), name=_s(v.get("name"))) if v else None


def nova_from_dict(v: Any) -> Optional[NovaMeta]:
    """The summary's `nova` object (same field names as NovaMeta), defensively: it is data."""
    if not isinstance(v, dict):
        return None
    fl = _d(v.get("flavor"))
    im = _d(v.get("image"))
    ow = _d(v.get("owner"))
    ro = _d(v.get("root"))
    return NovaMeta(
        namespace=_s(v.get("namespace")) or "",
        package_version=_s(v.get("package_version")),
        display_name=_s(v.get("display_name")),
        creation_time=_s(v.get("creation_time")),
        flavor=Flavor(name=_s(fl.get("name")), id=_s(fl.get("id")), memory_mb=_i(fl.get("memory_mb")),
                      disk_gb=_i(fl.get("disk_gb")), swap_mb=_i(fl.get("swap_mb")),
                      ephemeral_gb=_i(fl.get("ephemeral_gb")), vcpus=_i(fl.get("vcpus")),
                      extra_specs={str(k): str(x) for k, x in _d(fl.get("extra_specs")).items()}) if fl else None,
        image=Image(uuid=_s(im.get("uuid")), container_format=_s(im.get("container_format")),
                    disk_format=_s(im.get("disk_format")), min_disk=_i(im.get("min_disk")),
                    min_ram=_i(im.get("min_ram")),
                    properties={str(k): str(x) for k, x in _d(im.get("properties")).items()}) if im else None,
        owner=Owner(user=_person(ow.get("user")), project=_person(ow.get("project"))) if ow else None,
        root=Root(type=_s(ro.get("type")), uuid=_s(ro.get("uuid")) or None) if ro else None,
        ports=[Port(uuid=_s(p.get("uuid")),
                    ips=[IP(address=_s(ip.get("address")), type=_s(ip.get("type")), version=_i(ip.get("version")))
                         for ip in p.get("ips", []) if isinstance(ip, dict)])
               for p in v.get("ports", []) if isinstance(p, dict)] if isinstance(v.get("ports"), list) else [],
    )


def read(v: View) -> Readout:
    out = Readout()
    for rel in v.paths("plugin_summary"):
        try:
            summary = json.loads(v.files[rel].decode("utf-8"))
            if not isinstance(summary, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            out.problems.append(Problem(path=rel, reason="unreadable plugin summary: %s" % str(e)[:120]))
            continue
        obs, out.facts["plugin"] = _summary(rel, summary)
        out.observations += obs
    for rel in v.paths("plugin_domain"):
        m = _DOMAIN_FILE.match(rel)
        if not m:
            continue
        live = m.group("which") == "live"
        d = domain(v, rel, out)
        if d is None:
            continue
        # A live dumpxml of a shut-off domain is its inactive config: only an id makes it live.
        out.observations.append(Observation(
            source=Source(KIND_PLUGIN_LIVE if live else KIND_PLUGIN_INACTIVE, rel),
            uuid=d.uuid, domain_name=d.name, live=live and d.id is not None, definition=d,
            persistent=True if not live else None, xml=v.files[rel]))
    return out


def _summary(rel: str, summary: dict) -> tuple[list[Observation], dict[str, Any]]:
    observations = []
    sources_info = []
    for src in summary.get("sources", []) if isinstance(summary.get("sources"), list) else []:
        if not isinstance(src, dict):
            continue
        domains = src.get("domains") if isinstance(src.get("domains"), list) else []
        info = {k: src.get(k) for k in ("name", "kind", "runtime", "container", "list_command",
                                         "list_status", "live_data", "error")}
        info["domains"] = len(domains)
        sources_info.append(info)
        for dom in domains:
            if not isinstance(dom, dict) or not _s(dom.get("uuid")):
                continue
            persistent = dom.get("persistent")
            observations.append(Observation(
                source=Source(KIND_PLUGIN_SUMMARY, rel), uuid=dom["uuid"].lower(),
                domain_name=_s(dom.get("domain_name")), state=normalize(_s(dom.get("state"))),
                state_reason=_s(dom.get("state_reason")),
                persistent=persistent if isinstance(persistent, bool) else None,
                definition=None, live=None, summary_nova=nova_from_dict(dom.get("nova"))))
    info = {"path": rel, "schema_version": summary.get("schema_version"),
            "plugin_version": summary.get("plugin_version"), "sos_version": summary.get("sos_version"),
            "sources": sources_info}
    return observations, info

# Copyright: the analyze-sos authors. Licensed under the GPL v2, like sos itself.
"""sos plugin `libvirt_guests`: every libvirt guest's XML and a Nova metadata summary.

Runs inside the host's own sos (4.0 through current): stdlib and sos only, Python 3.6 syntax.
For the host's libvirt and each libvirt container: `virsh -r list --all` and each domain's dumpxml
(live; --inactive when persistent) in sos_commands/libvirt_guests/<source>/, keyed by UUID (a name
may hold any character), and sos_strings/libvirt_guests/summary.{json,txt} (schema: HACKING.md).
When virsh fails or hangs, every call is bounded by `virsh_timeout` and the summary comes from
libvirt's own files, saying why; a container's are copied through its runtime (Kolla keeps them in
a volume sos's libvirt plugin never sees). States are spelled as `virsh list` prints them. `virsh -r`
prints no secrets, and `passwd=` is scrubbed anyway. Nothing here may fail the sos run.
"""

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from shlex import quote

import sos
from sos.report.plugins import (DebianPlugin, IndependentPlugin, Plugin, RedHatPlugin,
                                UbuntuPlugin)

try:  # sos 4.3+ takes PluginOpt objects only; 4.0-4.2 take tuples
    from sos.report.plugins import PluginOpt
except ImportError:  # pragma: no cover - depends on the host's sos
    PluginOpt = None

PLUGIN_VERSION = "1.2.0"  # 1.2: summary in sos_strings/, states in virsh spelling
SUMMARY_SCHEMA_VERSION = 1
NOVA_NS_PREFIX = "http://openstack.org/xmlns/libvirt/nova/"
DEFAULT_CONTAINERS = r"^(nova_libvirt|nova_virtqemud|libvirt.*)$"
STATES = ("running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended",
          "blocked", "no state")
XML_STATES = {"shutdown": "in shutdown", "shutoff": "shut off", "nostate": "no state"}
PASSWD_RE = re.compile(r"""(passwd\s*=\s*)(['"])[^'"]*\2""")
PASSWD_MASK = r"\1\2********\2"
UUID_RE = re.compile(r"^[0-9a-f-]{32,36}$")
FLAVOR = {"memory": "memory_mb", "disk": "disk_gb", "swap": "swap_mb", "ephemeral": "ephemeral_gb",
          "vcpus": "vcpus"}
IMAGE = {"containerFormat": "container_format", "diskFormat": "disk_format", "minDisk": "min_disk",
         "minRam": "min_ram"}


def _option(name, desc, default):
    return PluginOpt(name, default=default, desc=desc) if PluginOpt else (name, desc, "fast", default)


def scrub(text):
    """Hide VNC/SPICE passwords: passwd='secret' -> passwd='********'."""
    return PASSWD_RE.sub(PASSWD_MASK, text)


def virsh_state(text):
    """'shutoff' (XML) or 'paused (ioerror)' (domstate --reason) -> (state in virsh spelling, reason)."""
    m = re.match(r"^\s*(.*?)\s*(?:\((.*)\))?\s*$", text or "")
    state = " ".join(m.group(1).split()).lower()
    return XML_STATES.get(state, state) or None, (m.group(2) or "").strip() or None


def parse_list_table(text):
    """`virsh list --all` table -> {domain name: state}; names may hold spaces."""
    row = re.compile(r"^\s*(?:\d+|-)\s+(.+?)\s+(%s)\s*$" % "|".join(STATES))
    return {m.group(1): m.group(2) for m in map(row.match, text.splitlines()) if m}


def _tag(el):
    """An element's (namespace URI, local name)."""
    tag = el.tag if isinstance(el.tag, str) else ""
    return tuple(tag[1:].split("}", 1)) if tag.startswith("{") else ("", tag)


def _int(text):
    text = (text or "").strip()
    return int(text) if re.match(r"^[+-]?\d+$", text) else None


def _ns_version(el):
    return [_int(p) or 0 for p in _tag(el)[0][len(NOVA_NS_PREFIX):].strip("/").split(".")]


def _fields(el, keys, ints, named):
    """Children named in `keys` -> {field: text, int() for `ints`}; `named` child -> {name: text}."""
    out = {keys[_tag(c)[1]]: (_int(c.text) if keys[_tag(c)[1]] in ints else c.text)
           for c in el if _tag(c)[1] in keys}
    out[named[1]] = {s.get("name"): s.text or "" for c in el if _tag(c)[1] == named[0]
                     for s in c if s.get("name") is not None}
    return out


def nova_fields(instance):
    """A `nova:instance` element -> the analyzer's `nova` object (same field names)."""
    nova = {"namespace": _tag(instance)[0], "package_version": None, "display_name": None,
            "creation_time": None, "flavor": None, "image": None, "owner": None, "root": None,
            "ports": []}
    for el in instance:
        tag = _tag(el)[1]
        if tag == "package":
            nova["package_version"] = el.get("version")
        elif tag == "name":
            nova["display_name"] = el.text or ""
        elif tag == "creationTime":
            t = (el.text or "").strip()
            nova["creation_time"] = (t.replace(" ", "T") + "Z") if re.match(
                r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", t) else t or None
        elif tag == "flavor":
            nova["flavor"] = dict(_fields(el, FLAVOR, FLAVOR.values(), ("extraSpecs", "extra_specs")),
                                  name=el.get("name"), id=el.get("id"))
        elif tag == "image":
            nova["image"] = dict(_fields(el, IMAGE, ("min_disk", "min_ram"), ("properties", "properties")),
                                 uuid=el.get("uuid") or None)
        elif tag == "owner":
            nova["owner"] = {_tag(c)[1]: {"uuid": c.get("uuid"), "name": c.text}
                             for c in el if _tag(c)[1] in ("user", "project")}
        elif tag == "root":
            nova["root"] = {"type": el.get("type"), "uuid": el.get("uuid") or None}
        elif tag == "ports":
            nova["ports"] += [{"uuid": p.get("uuid"), "ips": [
                {"address": ip.get("address"), "type": ip.get("type"), "version": _int(ip.get("ipVersion"))}
                for ip in p if _tag(ip)[1] == "ip"]} for p in el if _tag(p)[1] == "port"]
    return nova


def domain_facts(xml_text):
    """Domain XML (plain, or /run's <domstatus>) -> uuid, name, id, state, reason, nova; or ValueError."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as e:
        raise ValueError("unreadable XML: %s" % e)
    facts = {"state": None, "state_reason": None}
    if root.tag == "domstatus":
        facts["state"], facts["state_reason"] = virsh_state(root.get("state"))[0], root.get("reason")
        root = root.find("domain")
        if root is None:
            raise ValueError("domstatus without a domain")
    if root.tag != "domain":
        raise ValueError("not a domain document")
    nova = [el for el in root.findall("metadata/*")
            if _tag(el)[1] == "instance" and _tag(el)[0].startswith(NOVA_NS_PREFIX)]
    facts.update(uuid=(root.findtext("uuid") or "").strip().lower() or None,
                 domain_name=root.findtext("name"), id=_int(root.get("id")),
                 nova=nova_fields(max(nova, key=_ns_version)) if nova else None)
    return facts


def summary_table(summary):
    """summary.json -> the plain-text table a person reads in the report."""
    lines = ["libvirt_guests %s (sos %s)" % (summary.get("plugin_version"), summary.get("sos_version"))]
    row = "%-36s  %-11s  %-4s  %-20s  %-8s  %s"
    for src in summary["sources"]:
        how = src["name"] if src["kind"] == "host" else "%s (%s exec %s)" % (
            src["name"], src["runtime"], src["container"])
        lines += ["", "== %s: %d domain(s), live data: %s%s" % (
            how, len(src["domains"]), "yes" if src["live_data"] else "NO",
            " (%s)" % src["error"] if src["error"] else ""),
            row % ("UUID", "STATE", "PERS", "DOMAIN", "NOVA", "DISPLAY NAME")]
        for d in src["domains"]:
            nova = d.get("nova") or {}
            lines.append(row % (
                d["uuid"], d.get("state") or "?", {True: "yes", False: "no"}.get(d.get("persistent"), "?"),
                d.get("domain_name") or "", nova.get("package_version") or "-",
                nova.get("display_name") if nova.get("display_name") is not None else "-"))
    return "\n".join(lines) + "\n"


class Source(object):
    """One libvirt the plugin talks to: the host's, or a container's through its runtime."""

    FIELDS = ("name", "kind", "runtime", "container", "list_command", "list_status", "live_data",
              "error", "domains")

    def __init__(self, name, kind="host", runtime=None, container=None):
        self.name, self.kind, self.runtime, self.container = name, kind, runtime, container
        # By hand: sos 4.0's fmt_container_cmd / exec_cmd(container=) quote the whole command
        # (`podman exec c 'virsh -r list'` exits 127), and exec_cmd runs on the host if c is gone.
        self.prefix = "%s exec %s " % (runtime, container) if container else ""
        self.list_command = self.prefix + "virsh -r list --all --uuid"
        self.list_status, self.live_data, self.error, self.domains = None, False, None, []
        self.hung = False  # virsh timed out once: no more virsh calls here

    def as_dict(self):
        return {k: getattr(self, k) for k in self.FIELDS}


def _domain(uuid, persistent=False):
    return {"uuid": uuid, "domain_name": None, "state": None, "state_reason": None,
            "persistent": persistent, "nova": None, "files": {}}


def _merge(dom, facts, live):
    """Fill a summary domain from one document's facts; live Nova fields win over persistent ones."""
    dom["domain_name"] = dom["domain_name"] or facts["domain_name"]
    dom["nova"] = (facts["nova"] or dom["nova"]) if live else (dom["nova"] or facts["nova"])
    if facts["state"]:
        dom["state"], dom["state_reason"] = facts["state"], facts["state_reason"]


class LibvirtGuests(Plugin, IndependentPlugin, RedHatPlugin, DebianPlugin, UbuntuPlugin):
    """libvirt guests: live and persistent XML of every domain, and a Nova metadata summary"""

    short_desc = "libvirt guests: every domain's XML and a Nova metadata summary"
    plugin_name = "libvirt_guests"
    profiles = ("virt", "openstack", "openstack_compute")
    packages = ("libvirt-daemon", "libvirt-daemon-system", "libvirt-client", "libvirt-clients",
                "libvirt-daemon-kvm", "libvirt-daemon-driver-qemu")
    files = ("/etc/libvirt/qemu", "/run/libvirt/qemu", "/usr/bin/virsh")
    option_list = [
        _option("virsh_timeout", "seconds allowed for each virsh call", 30),
        _option("containers", "regex of libvirt container names to reach with podman/docker exec",
                DEFAULT_CONTAINERS),
    ]

    def _timeout(self):
        value = str(self.get_option("virsh_timeout")).strip()
        return max(1, int(value)) if value.isdigit() else 30

    def _libvirt_containers(self):
        try:
            rx = re.compile(self.get_option("containers") or DEFAULT_CONTAINERS)
        except re.error:
            rx = re.compile(DEFAULT_CONTAINERS)
        return [(runtime, name) for runtime in ("podman", "docker")
                for _id, name in self.get_containers(runtime=runtime) if rx.search(name)]

    def check_enabled(self):
        # The `containers` trigger attribute arrived in sos 4.2, and it could not read our option.
        try:
            return Plugin.check_enabled(self) or bool(self._libvirt_containers())
        except Exception:  # enablement must never break sos
            return False

    # Everything is collected in setup(): the summary needs the output, and add_string_as_file
    # takes it before sos's collection step starts.
    def setup(self):
        sources, error = [], None
        try:
            self._deadline = time.monotonic() + (self.timeout or 300)
            sources.append(Source("host"))
            sources += [Source("container_" + re.sub(r"[^A-Za-z0-9_.-]", "_", name), "container", rt, name)
                        for rt, name in self._libvirt_containers()]
            for src in sources:
                self._collect_source(src)
        except Exception as e:  # never fail the sos run; say why in the summary
            self._log_warn("libvirt_guests: setup failed: %s" % e)
            error = str(e)
        try:
            summary = {"schema_version": SUMMARY_SCHEMA_VERSION, "plugin_version": PLUGIN_VERSION,
                       "sos_version": getattr(sos, "__version__", None),
                       "sources": [s.as_dict() for s in sources]}
            if error:
                summary["error"] = error
            self.add_string_as_file(scrub(json.dumps(summary, indent=1, sort_keys=True)), "summary.json")
            self.add_string_as_file(scrub(summary_table(summary)), "summary.txt")
        except Exception as e:  # never fail the sos run
            self._log_warn("libvirt_guests: summary failed: %s" % e)

    def postproc(self):
        self.do_cmd_output_sub("", PASSWD_RE, PASSWD_MASK)  # "": every command this plugin ran

    def _run(self, src, args, name=None, subdir=None):
        """One command in `src`, bounded by virsh_timeout; with `name`, kept in the report as that."""
        if time.monotonic() > self._deadline:  # setup() runs outside sos's plugin timeout: keep to it
            src.hung, src.error = True, src.error or "stopped at sos's plugin timeout (%s s)" % self.timeout
            return {"status": None, "output": ""}
        timeout, kept = self._timeout(), {"suggest_filename": name, "subdir": subdir} if name else {}
        res = (self.collect_cmd_output if name else self.exec_cmd)(src.prefix + args, timeout=timeout, **kept)
        res = res or {"status": None, "output": ""}  # sos 4.0 returns None once the plugin timed out
        if res.get("filename"):  # where sos put it, after its own renaming
            res["rel"] = os.path.relpath(res["filename"], self.archive.get_archive_path())
        if res.get("status") == 124 and args.startswith("virsh") and not src.hung:
            src.hung = True
            src.error = src.error or "virsh timed out after %d s (libvirtd hung?)" % timeout
        return res

    def _collect_source(self, src):
        res = self._run(src, "virsh -r list --all --uuid")
        src.list_status = res.get("status")
        if src.list_status == 0:
            return self._collect_live(src, res["output"].lower().split())
        if src.list_status in (126, 127):
            src.error = "virsh is not installed (exit %s)" % src.list_status
        elif not src.hung:
            src.error = "virsh failed (exit %s): %s" % (
                src.list_status, " ".join(res.get("output", "").split())[:200] or "libvirtd not reachable")
        docs = list(self._libvirt_files(src))
        if docs or not src.container:
            self._from_files(src, docs, ("the container's " if src.container else "") +
                             "/etc/libvirt/qemu and /run/libvirt/qemu")

    def _collect_live(self, src, uuids):
        src.live_data = True
        pers = self._run(src, "virsh -r list --all --persistent --uuid")
        persistent = set(pers["output"].lower().split()) if pers.get("status") == 0 else set()
        table = self._run(src, "virsh -r list --all", "virsh_-r_list_--all", src.name)
        states = parse_list_table(table["output"]) if table.get("status") == 0 else {}
        for uuid in uuids:
            dom = _domain(uuid, persistent=uuid in persistent)
            src.domains.append(dom)
            if src.hung or not UUID_RE.match(uuid):  # a UUID goes into a command line
                continue
            st = self._run(src, "virsh -r domstate --reason " + uuid)
            if st.get("status") == 0:
                dom["state"], dom["state_reason"] = virsh_state(st["output"])
            for which in ("live", "inactive") if dom["persistent"] else ("live",):
                name = "%s.%s.xml" % (uuid, which)
                res = {} if src.hung else self._run(
                    src, "virsh -r dumpxml %s%s" % ("--inactive " if which == "inactive" else "", uuid),
                    name, src.name + "/domains")
                if res.get("status") == 0:
                    dom["files"][which] = res.get("rel")
                    try:
                        _merge(dom, domain_facts(res["output"]), which == "live")
                    except ValueError:
                        pass
            dom["state"] = dom["state"] or states.get(dom["domain_name"])

    def _libvirt_files(self, src):
        """libvirt's own domain files; a container's are kept in the report (nothing else copies them)."""
        for where, sub in (("/etc/libvirt/qemu", "etc"), ("/run/libvirt/qemu", "run")):
            res = self._run(src, "ls -1 " + where)
            for n in sorted(res["output"].splitlines()) if res.get("status") == 0 else []:
                keep = (n, "%s/files/%s" % (src.name, sub)) if src.container else ()
                got = self._run(src, "cat " + quote(where + "/" + n), *keep) if n.endswith(".xml") else {}
                if got.get("status") == 0:
                    yield sub, got["output"], got.get("rel") or where[1:] + "/" + n

    def _from_files(self, src, docs, origin):
        """No live data: every domain libvirt keeps a file for, with its state from /run."""
        by_uuid = {}
        for sub, text, rel in docs:
            try:
                facts = domain_facts(text)
            except ValueError:
                continue
            if facts["uuid"]:
                dom = by_uuid.setdefault(facts["uuid"], _domain(facts["uuid"]))
                dom["files"]["config" if sub == "etc" else "status"] = rel
                dom["persistent"] = dom["persistent"] or sub == "etc"
                _merge(dom, facts, live=sub == "run")
        for uuid in sorted(by_uuid):
            dom = by_uuid[uuid]
            if dom["state"] is None and dom["persistent"]:
                dom["state"] = "shut off"
            src.domains.append(dom)
        src.error = (src.error or "no live data") + "; domains listed from " + origin

# vim: set et ts=4 sw=4 :

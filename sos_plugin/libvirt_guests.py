# Copyright: the analyze-sos authors. Licensed under the GPL v2, like sos itself.
"""sos plugin `libvirt_guests`: every libvirt guest's XML and a Nova metadata summary.

Runs inside the host's own sos (4.0 through current): stdlib and sos only, Python 3.6 syntax.
Install with `python3 sos_plugin/install.py`; run with `sos report -o libvirt_guests,libvirt`.

What lands in the report (HACKING.md has the summary schema):

    sos_commands/libvirt_guests/summary.json      per libvirt (host, each libvirt container): how it
                                                  was reached and every domain with its Nova fields
    sos_commands/libvirt_guests/summary.txt       the same as a table
    sos_commands/libvirt_guests/<source>/virsh_-r_list_--all
    sos_commands/libvirt_guests/<source>/domains/<UUID>.live.xml       virsh -r dumpxml UUID
    sos_commands/libvirt_guests/<source>/domains/<UUID>.inactive.xml   ... --inactive (persistent)
    sos_commands/libvirt_guests/container_<name>/files/{etc,run}/NAME.xml  only when virsh failed
                                                  in a container: its own libvirt files

Files are keyed by UUID because a domain name may hold any character. Every file is read and
written as UTF-8 whatever the locale (Python 3.6 under LANG=C would otherwise mangle non-ASCII
display names). `virsh -r` never prints secrets (no --security-info); `passwd=` is still scrubbed
from everything this plugin writes. When virsh fails or hangs (libvirtd down is a classic support
case), every call is bounded by the `virsh_timeout` option and the summary is built from
/etc/libvirt/qemu and /run/libvirt/qemu instead, saying why live data is missing. A container's
files are copied through the runtime (`podman exec NAME cat ...`): they may live only inside it
(Kolla keeps /etc/libvirt/qemu in a named volume), where sos's libvirt plugin never looks. Nothing
here may fail the sos run.
"""

import json
import os
import re
import xml.etree.ElementTree as ET

from sos.report.plugins import (DebianPlugin, IndependentPlugin, Plugin, RedHatPlugin,
                                UbuntuPlugin)

try:  # sos 4.3+ takes PluginOpt objects only; 4.0-4.2 take tuples
    from sos.report.plugins import PluginOpt
except ImportError:  # pragma: no cover - depends on the host's sos
    PluginOpt = None

PLUGIN_VERSION = "1.1.0"  # 1.1: a failed container's own libvirt files
SUMMARY_SCHEMA_VERSION = 1
NOVA_NS_PREFIX = "http://openstack.org/xmlns/libvirt/nova/"
DEFAULT_CONTAINERS = r"^(nova_libvirt|nova_virtqemud|libvirt.*)$"
STATES = ("running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended",
          "blocked")
PASSWD_RE = re.compile(r"""(passwd\s*=\s*)(['"])[^'"]*\2""")


def _option(name, desc, default):
    if PluginOpt is not None:
        return PluginOpt(name, default=default, desc=desc)
    return (name, desc, "fast", default)


# ---- pure helpers (no sos, no I/O): what the tests exercise directly ----------------------

def scrub(text):
    """Hide VNC/SPICE passwords: passwd='secret' -> passwd='********'."""
    return PASSWD_RE.sub(lambda m: m.group(1) + m.group(2) + "********" + m.group(2), text)


def parse_list_table(text):
    """`virsh list --all` table -> {domain name: state}; names may hold spaces."""
    row = re.compile(r"^\s*(?:\d+|-)\s+(.+?)\s+(%s)\s*$" % "|".join(STATES))
    out = {}
    for line in text.splitlines():
        m = row.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(tag):
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _int(text):
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def _ns_version(uri):
    try:
        return tuple(int(p) for p in uri[len(NOVA_NS_PREFIX):].strip("/").split("."))
    except ValueError:
        return (-1,)


def nova_fields(instance):
    """A `nova:instance` element -> the analyzer's `nova` object (same field names)."""
    nova = {"namespace": _ns(instance.tag), "package_version": None, "display_name": None,
            "creation_time": None, "flavor": None, "image": None, "owner": None, "root": None,
            "ports": []}
    for el in instance:
        tag = _local(el.tag)
        if tag == "package":
            nova["package_version"] = el.get("version")
        elif tag == "name":
            nova["display_name"] = el.text or ""
        elif tag == "creationTime":
            t = (el.text or "").strip()
            nova["creation_time"] = (t.replace(" ", "T") + "Z") if re.match(
                r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", t) else t or None
        elif tag == "flavor":
            fl = {"name": el.get("name"), "id": el.get("id"), "extra_specs": {}}
            keys = {"memory": "memory_mb", "disk": "disk_gb", "swap": "swap_mb",
                    "ephemeral": "ephemeral_gb", "vcpus": "vcpus"}
            for c in el:
                if _local(c.tag) in keys:
                    fl[keys[_local(c.tag)]] = _int(c.text)
                elif _local(c.tag) == "extraSpecs":
                    for s in c:
                        if s.get("name") is not None:
                            fl["extra_specs"][s.get("name")] = s.text or ""
            nova["flavor"] = fl
        elif tag == "image":
            im = {"uuid": el.get("uuid") or None, "properties": {}}
            keys = {"containerFormat": "container_format", "diskFormat": "disk_format"}
            for c in el:
                name = _local(c.tag)
                if name in keys:
                    im[keys[name]] = c.text
                elif name in ("minDisk", "minRam"):
                    im["min_disk" if name == "minDisk" else "min_ram"] = _int(c.text)
                elif name == "properties":
                    for p in c:
                        if p.get("name") is not None:
                            im["properties"][p.get("name")] = p.text or ""
            nova["image"] = im
        elif tag == "owner":
            owner = {}
            for c in el:
                if _local(c.tag) in ("user", "project"):
                    owner[_local(c.tag)] = {"uuid": c.get("uuid"), "name": c.text}
            nova["owner"] = owner
        elif tag == "root":
            nova["root"] = {"type": el.get("type"), "uuid": el.get("uuid") or None}
        elif tag == "ports":
            for p in el:
                if _local(p.tag) == "port":
                    nova["ports"].append({"uuid": p.get("uuid"), "ips": [
                        {"address": ip.get("address"), "type": ip.get("type"),
                         "version": _int(ip.get("ipVersion"))}
                        for ip in p if _local(ip.tag) == "ip"]})
    return nova


def domain_facts(xml_text):
    """Domain XML (plain, or /run's <domstatus>) -> dict of uuid, name, id, state, reason, nova.

    Raises ValueError for anything that is not a readable domain document.
    """
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as e:
        raise ValueError("unreadable XML: %s" % e)
    facts = {"state": None, "state_reason": None}
    if root.tag == "domstatus":
        facts["state"], facts["state_reason"] = root.get("state"), root.get("reason")
        root = root.find("domain")
        if root is None:
            raise ValueError("domstatus without a domain")
    if root.tag != "domain":
        raise ValueError("not a domain document")
    facts["uuid"] = (root.findtext("uuid") or "").strip().lower() or None
    facts["domain_name"] = root.findtext("name")
    facts["id"] = _int(root.get("id"))
    facts["nova"] = None
    best = None
    metadata = root.find("metadata")
    for el in (metadata if metadata is not None else []):
        uri = _ns(el.tag)
        if uri.startswith(NOVA_NS_PREFIX) and _local(el.tag) == "instance":
            if best is None or _ns_version(uri) > _ns_version(_ns(best.tag)):
                best = el
    if best is not None:
        facts["nova"] = nova_fields(best)
    return facts


def summary_table(summary):
    """summary.json -> the plain-text table a person reads in the report."""
    lines = ["libvirt_guests %s (sos %s)" % (summary.get("plugin_version"), summary.get("sos_version"))]
    for src in summary["sources"]:
        lines.append("")
        how = src["name"] if src["kind"] == "host" else "%s (%s exec %s)" % (
            src["name"], src["runtime"], src["container"])
        lines.append("== %s: %d domain(s), live data: %s%s" % (
            how, len(src["domains"]), "yes" if src["live_data"] else "NO",
            "" if not src["error"] else " (%s)" % src["error"]))
        lines.append("%-36s  %-11s  %-4s  %-20s  %-8s  %s" % (
            "UUID", "STATE", "PERS", "DOMAIN", "NOVA", "DISPLAY NAME"))
        for d in src["domains"]:
            nova = d.get("nova") or {}
            lines.append("%-36s  %-11s  %-4s  %-20s  %-8s  %s" % (
                d["uuid"], d.get("state") or "?",
                {True: "yes", False: "no"}.get(d.get("persistent"), "?"),
                d.get("domain_name") or "", nova.get("package_version") or "-",
                nova.get("display_name") if nova.get("display_name") is not None else "-"))
    return "\n".join(lines) + "\n"


def _one_line(text, limit=200):
    text = " ".join((text or "").split())
    return text[:limit] or None


# ---- the plugin -----------------------------------------------------------------------------

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

    # -- discovery

    def _timeout(self):
        try:
            return max(1, int(self.get_option("virsh_timeout")))
        except (TypeError, ValueError):
            return 30

    def _runtimes(self):
        found = []
        for runtime in ("podman", "docker"):
            for d in ("/usr/bin", "/usr/local/bin", "/bin"):
                if os.access(self._host_path(d, runtime), os.X_OK):
                    found.append(runtime)
                    break
        return found

    def _host_path(self, *parts):
        # sos 4.0 has no Plugin.path_join (and 4.x's must not be overridden): join under sysroot.
        path = os.path.join(*parts)
        root = getattr(self, "sysroot", None) or "/"
        return os.path.join(root, path.lstrip("/")) if root != "/" else path

    def _libvirt_containers(self):
        if getattr(self, "_containers_cache", None) is not None:
            return self._containers_cache
        found = []
        try:
            rx = re.compile(self.get_option("containers") or DEFAULT_CONTAINERS)
        except re.error:
            rx = re.compile(DEFAULT_CONTAINERS)
        for runtime in self._runtimes():
            res = self.exec_cmd("%s ps --format {{.Names}}" % runtime, timeout=self._timeout())
            if res.get("status") != 0:
                continue
            for name in res.get("output", "").split():
                if rx.search(name) and (runtime, name) not in found:
                    found.append((runtime, name))
        self._containers_cache = found
        return found

    def check_enabled(self):
        if Plugin.check_enabled(self):
            return True
        try:
            return bool(self._libvirt_containers())
        except Exception:  # enablement must never break sos
            return False

    # -- collection

    def setup(self):
        self._sources = []
        try:
            self._setup_source("host", "host", None, None, "")
            for runtime, name in self._libvirt_containers():
                safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
                self._setup_source("container_" + safe, "container", runtime, name,
                                   "%s exec %s " % (runtime, name))
        except Exception as e:  # never fail the sos run; say why in the summary
            self._log_warn("libvirt_guests: setup failed: %s" % e)
            self._setup_error = str(e)

    def _setup_source(self, name, kind, runtime, container, prefix):
        timeout = self._timeout()
        virsh = prefix + "virsh -r "
        src = {"name": name, "kind": kind, "runtime": runtime, "container": container,
               "list_command": virsh + "list --all --uuid", "list_status": None,
               "live_data": False, "error": None, "domains": [], "_uuids": [],
               "_persistent": set(), "_reasons": {}, "_copies": []}
        self._sources.append(src)
        if kind == "host" and not any(os.access(self._host_path(d, "virsh"), os.X_OK)
                                      for d in ("/usr/bin", "/bin", "/usr/sbin")):
            src["error"] = "virsh is not installed on the host"
            return
        res = self.exec_cmd(src["list_command"], timeout=timeout)
        status = res.get("status")
        src["list_status"] = status
        if status != 0:
            src["error"] = ("virsh timed out after %d s (libvirtd hung?)" % timeout
                            if status == 124 else
                            "virsh failed (exit %s): %s" % (status, _one_line(res.get("output"))
                                                             or "libvirtd not reachable"))
            if kind == "container":
                self._copy_container_files(src, prefix, timeout)
            return
        uuids = [u.strip().lower() for u in res.get("output", "").splitlines() if u.strip()]
        pers = self.exec_cmd(virsh + "list --all --persistent --uuid", timeout=timeout)
        if pers.get("status") == 0:
            src["_persistent"] = set(u.strip().lower() for u in pers["output"].splitlines() if u.strip())
        src["_uuids"] = uuids
        src["live_data"] = True
        self.add_cmd_output(virsh + "list --all", suggest_filename="virsh_-r_list_--all",
                            subdir=name, timeout=timeout)
        for uuid in uuids:
            if not re.match(r"^[0-9a-f-]{32,36}$", uuid):
                continue
            st = self.exec_cmd(virsh + "domstate --reason " + uuid, timeout=timeout)
            if st.get("status") == 0:
                src["_reasons"][uuid] = st["output"].strip()
            elif st.get("status") == 124:  # libvirtd stopped answering: no more per-domain calls
                src["error"] = "virsh timed out after %d s during domstate" % timeout
                break
            self.add_cmd_output(virsh + "dumpxml " + uuid, suggest_filename=uuid + ".live.xml",
                                subdir=name + "/domains", timeout=timeout)
            if uuid in src["_persistent"]:
                self.add_cmd_output(virsh + "dumpxml --inactive " + uuid,
                                    suggest_filename=uuid + ".inactive.xml",
                                    subdir=name + "/domains", timeout=timeout)

    def _copy_container_files(self, src, prefix, timeout):
        """virsh failed in a container: collect the domain files it keeps, through the runtime."""
        for where, sub in (("/etc/libvirt/qemu", "etc"), ("/run/libvirt/qemu", "run")):
            res = self.exec_cmd(prefix + "ls -1 " + where, timeout=timeout)
            if res.get("status") != 0:
                continue
            for n in sorted(res.get("output", "").split()):
                if not re.match(r"^[A-Za-z0-9_.+-]+\.xml$", n):  # names go into a command line
                    continue
                self.add_cmd_output(prefix + "cat %s/%s" % (where, n), suggest_filename=n,
                                    subdir="%s/files/%s" % (src["name"], sub), timeout=timeout)
                src["_copies"].append((sub, n))

    # -- the summary, written after every plugin has collected

    def postproc(self):
        try:
            self._write_summary()
        except Exception as e:  # never fail the sos run
            self._log_warn("libvirt_guests: summary failed: %s" % e)

    def _archive_root(self):
        return self.archive.get_tmp_dir()

    def _rel(self, *parts):
        return "/".join(("sos_commands", "libvirt_guests") + parts)

    def _read(self, rel):
        path = os.path.join(self._archive_root(), rel)
        try:
            with open(path, "r", encoding="utf-8", errors="replace") as f:
                return f.read()
        except (IOError, OSError):
            return None

    def _write_summary(self):
        import sos
        summary = {"schema_version": SUMMARY_SCHEMA_VERSION, "plugin_version": PLUGIN_VERSION,
                   "sos_version": getattr(sos, "__version__", None), "sources": []}
        for src in getattr(self, "_sources", []):
            if src["live_data"]:
                self._live_domains(src)
            elif src["kind"] == "host":
                self._file_domains(src, self._host_files(), "/etc/libvirt/qemu and /run/libvirt/qemu")
            elif src["_copies"]:
                self._file_domains(src, self._container_files(src),
                                   "the container's /etc/libvirt/qemu and /run/libvirt/qemu")
            if src["kind"] == "host":
                for d in src["domains"]:
                    self._add_copied_files(d)
            summary["sources"].append({k: v for k, v in src.items() if not k.startswith("_")})
        if getattr(self, "_setup_error", None):
            summary["error"] = self._setup_error
        out = self.get_cmd_output_path(make=False)  # sos 4.0's make=True fails if it exists
        if not os.path.isdir(out):
            os.makedirs(out)
        self._scrub_tree(out)
        with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
        with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as f:
            f.write(summary_table(summary))

    def _live_domains(self, src):
        table = parse_list_table(self._read(self._rel(src["name"], "virsh_-r_list_--all")) or "")
        for uuid in src["_uuids"]:
            dom = {"uuid": uuid, "domain_name": None, "state": None, "state_reason": None,
                   "persistent": uuid in src["_persistent"], "nova": None, "files": {}}
            for which in ("live", "inactive"):
                rel = self._rel(src["name"], "domains", "%s.%s.xml" % (uuid, which))
                text = self._read(rel)
                if not text:
                    continue
                dom["files"][which] = rel
                try:
                    facts = domain_facts(text)
                except ValueError:
                    continue
                dom["domain_name"] = dom["domain_name"] or facts["domain_name"]
                if dom["nova"] is None or which == "live":
                    dom["nova"] = facts["nova"] or dom["nova"]
            reason = src["_reasons"].get(uuid)
            if reason:
                m = re.match(r"^(.*?)\s*\((.*)\)\s*$", reason)
                dom["state"], dom["state_reason"] = (m.group(1), m.group(2)) if m else (reason, None)
            elif dom["domain_name"] in table:
                dom["state"] = table[dom["domain_name"]]
            src["domains"].append(dom)

    def _host_files(self):
        for where, kind in (("/etc/libvirt/qemu", "config"), ("/run/libvirt/qemu", "status")):
            directory = self._host_path(where)
            try:
                names = sorted(n for n in os.listdir(directory) if n.endswith(".xml"))
            except OSError:
                continue
            for n in names:
                try:
                    with open(os.path.join(directory, n), "r", encoding="utf-8", errors="replace") as f:
                        yield kind, n, f.read(), None
                except (IOError, OSError):
                    continue

    def _container_files(self, src):
        for sub, n in src["_copies"]:
            rel = self._rel(src["name"], "files", sub, n)
            text = self._read(rel)
            if text:
                yield ("config" if sub == "etc" else "status"), n, text, rel

    def _file_domains(self, src, docs, origin):
        """virsh gave nothing: every domain libvirt keeps a file for, with its state from /run."""
        by_uuid = {}
        for kind, n, text, rel in docs:
            try:
                facts = domain_facts(text)
            except ValueError:
                continue
            if not facts["uuid"]:
                continue
            dom = by_uuid.setdefault(facts["uuid"], {
                "uuid": facts["uuid"], "domain_name": facts["domain_name"], "state": None,
                "state_reason": None, "persistent": False, "nova": None, "files": {}, "_file": n})
            if rel:
                dom["files"][kind] = rel
            if kind == "config":
                dom["persistent"] = True
                dom["nova"] = dom["nova"] or facts["nova"]
            else:
                dom["state"], dom["state_reason"] = facts["state"], facts["state_reason"]
                dom["nova"] = facts["nova"] or dom["nova"]
        for dom in by_uuid.values():
            if dom["state"] is None and dom["persistent"]:
                dom["state"] = "shut off"
            if src["kind"] != "host":
                dom.pop("_file", None)
            src["domains"].append(dom)
        src["domains"].sort(key=lambda d: d["uuid"])
        if src["error"] is None:
            src["error"] = "no live data"
        src["error"] += "; domains listed from " + origin

    def _add_copied_files(self, dom):
        """Point at libvirt's own files when another plugin (sos's `libvirt`) copied them."""
        name = dom.pop("_file", None) or ("%s.xml" % dom["domain_name"] if dom["domain_name"] else None)
        if not name:
            return
        for key, rel in (("config", "etc/libvirt/qemu/" + name), ("status", "run/libvirt/qemu/" + name)):
            if os.path.exists(os.path.join(self._archive_root(), rel)):
                dom["files"][key] = rel

    def _scrub_tree(self, top):
        for dirpath, _dirs, files in os.walk(top):
            for n in files:
                path = os.path.join(dirpath, n)
                try:
                    with open(path, "r", encoding="utf-8", errors="surrogateescape") as f:
                        text = f.read()
                    clean = scrub(text)
                    if clean != text:
                        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                            f.write(clean)
                except (IOError, OSError):
                    continue

# vim: set et ts=4 sw=4 :

"""A libvirt domain XML document, in any of the shapes a sosreport holds it.

    <domain type='kvm' id='1'>                       virsh dumpxml (live: has an id), /etc copy
      <name>instance-00000001</name>                 (persistent: no id, starts with a WARNING
      <uuid>3f0c4d5e-...</uuid>                       comment)
      <metadata><nova:instance ...>...</nova:instance></metadata>
      <memory unit='KiB'>2097152</memory>
      <vcpu placement='static'>2</vcpu>
      <devices>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
          <source file='/var/lib/nova/instances/3f0c.../disk'/><target dev='vda' bus='virtio'/></disk>
        <interface type='bridge'><mac address='fa:16:3e:11:22:33'/><source bridge='qbr1234'/>
          <target dev='tap1234'/><model type='virtio'/></interface>
      ...
    <domstatus state='running' reason='booted' pid='4242'>   /run/libvirt/qemu/NAME.xml
      <domain type='kvm' id='1'> ... </domain> ...
    </domstatus>

Every byte comes from a customer's machine. The document is parsed by the stdlib's C parser with
a tree builder that refuses any DTD the moment expat meets `<!DOCTYPE` (before its internal
subset is read): entity declarations (billion laughs) and external references (XXE) can only come
from a DTD, so none is ever expanded or fetched. That is defusedxml's `forbid_dtd`; defusedxml
itself runs the pure-Python parser (1,200 domain documents: 0.52 s, here 0.36 s; issue 7), so it
is kept only as the tests' oracle (tests/test_parsers.py: whatever defusedxml
refuses, this parser refuses). Nesting and element count are bounded; any failure is one
`ParseError` with a reason a person can read. The file then becomes a report `problem`; the rest
of the report goes on.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Mapping, Optional

# The C parser by name: it calls `target.doctype()` as `<!DOCTYPE` starts. (The pure-Python
# fallback of ET.XMLParser would read the DTD first.)
from _elementtree import XMLParser as _CXMLParser

from analyzer.bounds import MAX_VALUE, clip
from analyzer.model import Disk, DomainDef, Interface, ParseError
from analyzer.parsers import cpuset, libvirt_state
from analyzer.parsers.nova import find_nova, split_tag

# libvirt's deepest real documents are ~10 levels; 64 leaves room for odd metadata and stops
# 200,000-deep nesting from costing memory or recursion later.
MAX_DEPTH = 64
# A domain with a hundred disks and NICs has a few thousand elements; a 64 MiB file of `<a/>` has
# sixteen million, a tree of over a GiB.
MAX_ELEMENTS = 100_000
# Values are cut while parsing only in documents above this size (real domain XML is 5-50 KiB),
# where holding a value twice would cost memory; smaller ones are cut after (bounds.py), which
# costs nothing per element.
CLIP_ABOVE = 64 << 10
assert CLIP_ABOVE // 4 < MAX_ELEMENTS  # parse_xml builds documents this small without counting

_UNITS_TO_BYTES = {
    "b": 1, "bytes": 1,
    "kb": 1000, "k": 1024, "kib": 1024,
    "mb": 1000 ** 2, "m": 1024 ** 2, "mib": 1024 ** 2,
    "gb": 1000 ** 3, "g": 1024 ** 3, "gib": 1024 ** 3,
    "tb": 1000 ** 4, "t": 1024 ** 4, "tib": 1024 ** 4,
    "pb": 1000 ** 5, "p": 1024 ** 5, "pib": 1024 ** 5,
    "eb": 1000 ** 6, "e": 1024 ** 6, "eib": 1024 ** 6,
}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


class _Refused(Exception):
    """Raised inside the parser's callbacks: expat stops at once."""


class _NoDTDBuilder(ET.TreeBuilder):
    """The C tree builder, refusing DTDs: elements are built without a Python call each."""

    def doctype(self, name, pubid, system):  # called by the C XMLParser at `<!DOCTYPE`
        raise _Refused("the document has a DTD (DTDs, entities and external references are refused)")


class _BoundedBuilder(_NoDTDBuilder):
    """For a document over CLIP_ABOVE bytes: refuses DTDs; bounds nesting and size as it builds;
    cuts over-long values as it builds (listed in `clipped`)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.elements = 0
        self.clipped: list[tuple[str, int]] = []

    def start(self, tag, attrs):  # type: ignore[override]
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise _Refused("XML nested deeper than %d elements" % MAX_DEPTH)
        if self.elements > MAX_ELEMENTS:
            raise _Refused("more than %s XML elements" % format(MAX_ELEMENTS, ","))
        return super().start(tag, attrs)

    def end(self, tag):  # type: ignore[override]
        self.depth -= 1
        el = super().end(tag)
        local = split_tag(el.tag)[1]
        if el.text is not None and len(el.text) > MAX_VALUE:
            self.clipped.append((local, len(el.text)))
            el.text = clip(el.text)
        for k, v in list(el.attrib.items()):
            if len(v) > MAX_VALUE:
                self.clipped.append(("%s@%s" % (local, split_tag(k)[1]), len(v)))
                el.attrib[k] = clip(v)
        return el


def _check_depth(root: ET.Element) -> None:
    """Refuse a tree deeper than MAX_DEPTH, walked a level at a time (no recursion)."""
    level, depth = [root], 1
    while level:
        if depth > MAX_DEPTH:
            raise _Refused("XML nested deeper than %d elements" % MAX_DEPTH)
        level = [child for el in level for child in el]
        depth += 1


def parse_xml(data: bytes, clipped: Optional[list[tuple[str, int]]] = None) -> ET.Element:
    """Bytes -> root element, safely. Raises ParseError only.

    In a document bigger than CLIP_ABOVE bytes, a value longer than bounds.MAX_VALUE is cut as
    the tree is built (an 8 MiB display name is never held twice) and listed in `clipped`; in
    smaller ones bounds.py cuts it afterwards.

    A document of at most CLIP_ABOVE bytes cannot hold MAX_ELEMENTS elements (each takes 4 bytes
    or more, `<a/>`): it is built by the C builder alone, with no Python call per element, and its
    depth is checked after, level by level. A bigger one is bounded element by element as it is
    built.
    """
    if not data.strip():
        raise ParseError("empty file")
    small = len(data) <= CLIP_ABOVE
    builder = _NoDTDBuilder() if small else _BoundedBuilder()
    parser = _CXMLParser(target=builder)
    try:
        parser.feed(data)
        root = parser.close()
        if small:
            _check_depth(root)
        elif clipped is not None:
            clipped += builder.clipped  # type: ignore[attr-defined]
        return root
    except _Refused as e:
        raise ParseError("rejected: %s" % e) from None
    except ET.ParseError as e:
        raise ParseError("malformed XML: %s" % e) from None
    except (ValueError, LookupError, UnicodeError) as e:  # unknown declared encoding and the like
        raise ParseError("unreadable XML: %s" % str(e)[:200]) from None


def canonical_uuid(text: Optional[str]) -> Optional[str]:
    """libvirt accepts a UUID with or without dashes, in any case; the model uses one form."""
    if text is None:
        return None
    t = text.strip()
    if _UUID.match(t):
        h = t.replace("-", "").lower()
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
    return t or None


def to_mib(value: Optional[str], unit: Optional[str]) -> Optional[int]:
    """A libvirt memory size in any unit (default KiB) -> whole MiB."""
    if value is None:
        return None
    v = value.strip()
    if not v.isdigit():
        return None
    factor = _UNITS_TO_BYTES.get((unit or "KiB").strip().lower())
    if factor is None:
        return None
    return int(round(int(v) * factor / 1024 ** 2))


def _int(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    t = text.strip()
    return int(t) if re.fullmatch(r"-?\d{1,18}", t) else None


def _child(el: ET.Element, name: str) -> Optional[ET.Element]:
    """First child with this local name and no namespace (libvirt's own elements)."""
    for c in el:
        if c.tag == name:
            return c
    return None


def _disk(el: ET.Element) -> Disk:
    d = Disk(kind=el.get("device"), source_type=el.get("type"))
    for c in el:
        if c.tag == "target":
            d.target, d.bus = c.get("dev"), c.get("bus")
        elif c.tag == "driver":
            d.driver_type = c.get("type")
        elif c.tag == "serial":
            d.serial = (c.text or "").strip() or None
        elif c.tag == "source" and d.source is None:
            d.source = _disk_source(c, d.source_type)
    return d


def _disk_source(src: ET.Element, source_type: Optional[str]) -> Optional[str]:
    if source_type == "volume" or (src.get("pool") and src.get("volume")):
        return "%s/%s" % (src.get("pool") or "", src.get("volume") or "")
    if source_type == "network" or src.get("protocol"):
        name = src.get("name") or ""
        proto = src.get("protocol")
        return "%s:%s" % (proto, name) if proto else name or None
    for attr in ("file", "dev", "dir", "name"):
        if src.get(attr):
            return src.get(attr)
    return None


def _interface(el: ET.Element) -> Interface:
    i = Interface(type=el.get("type"))
    for c in el:
        if c.tag == "mac":
            i.mac = c.get("address")
        elif c.tag == "target":
            i.target_dev = c.get("dev")
        elif c.tag == "model":
            i.model = c.get("type")
        elif c.tag == "source" and i.source is None:
            i.source = _interface_source(c)
        elif c.tag == "virtualport":
            i.virtualport = c.get("type")
            params = _child(c, "parameters")
            i.interface_id = params.get("interfaceid") if params is not None else None
    return i


def _cpus(text: Optional[str]) -> Optional[list[int]]:
    """A cpuset attribute; None when absent or unreadable (a bad pin is no pin, not a crash)."""
    if text is None:
        return None
    try:
        return cpuset.parse_cpu_list(text)
    except ParseError:
        return None


def _placement(result: DomainDef, c: ET.Element) -> None:
    """<cputune> pins, <numatune> memory nodes, <memoryBacking> hugepages."""
    if c.tag == "cputune":
        for pin in c:
            if pin.tag == "vcpupin" and _int(pin.get("vcpu")) is not None:
                cpus = _cpus(pin.get("cpuset"))
                if cpus is not None:
                    result.vcpu_pins[_int(pin.get("vcpu"))] = cpus  # type: ignore[index]
            elif pin.tag == "emulatorpin":
                result.emulator_pins = _cpus(pin.get("cpuset"))
    elif c.tag == "numatune":
        mem = _child(c, "memory")
        if mem is not None:
            result.numa_nodes = _cpus(mem.get("nodeset"))
    elif c.tag == "memoryBacking":
        huge = _child(c, "hugepages")
        if huge is not None:
            page = _child(huge, "page")
            size = page.get("size") if page is not None else None
            if size is None:
                result.hugepage_kib = 0  # the host's default hugepage size
            else:
                mib = _UNITS_TO_BYTES.get((page.get("unit") or "KiB").strip().lower())  # type: ignore[union-attr]
                n = _int(size)
                result.hugepage_kib = n * mib // 1024 if n is not None and mib else None


def _interface_source(src: ET.Element) -> Optional[str]:
    for attr in ("bridge", "network", "dev", "path", "name"):
        if src.get(attr):
            return src.get(attr)
    addr = _child(src, "address")
    if addr is not None and addr.get("bus") is not None:  # hostdev / SR-IOV: a PCI address
        try:
            return "%04x:%02x:%02x.%x" % tuple(int(addr.get(k) or "0", 0)
                                               for k in ("domain", "bus", "slot", "function"))
        except ValueError:
            return None
    return None


def parse_domain(data: bytes, path: str) -> DomainDef:
    """One document (`<domain>` or `<domstatus>`) -> DomainDef. Raises ParseError only.

    `path` is only for messages; the caller turns the error into a problem for that path.
    """
    clipped: list[tuple[str, int]] = []
    root = parse_xml(data, clipped)
    try:
        result = _domain(root)
        result.clipped = clipped
        return result
    except ParseError:
        raise
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as e:
        # Well-formed XML of an unexpected shape: still this file's problem, never a crash.
        raise ParseError("unexpected domain XML structure (%s: %s)" % (e.__class__.__name__, str(e)[:120])) from None


def prepare(rel: str, data: bytes) -> Optional[object]:
    """Parse a domain document the moment the archive layer keeps it (the decompressor goes on
    meanwhile); readers then take the result through `parse_kept`."""
    if not data.strip():
        return None
    try:
        return parse_domain(data, rel)
    except ParseError as e:
        # A fresh error with the same reason: the raised one holds a traceback and a context
        # whose frames keep the expat parser and its buffers alive until the report is built.
        return ParseError(str(e))


def parse_kept(files: Mapping[str, bytes], prepared: Optional[Mapping[str, object]], rel: str) -> DomainDef:
    """The document `rel`, parsed when it arrived (build.prepare) or now. Raises ParseError only."""
    made = prepared.get(rel) if prepared else None
    if isinstance(made, DomainDef):
        return made
    if isinstance(made, ParseError):
        raise made
    return parse_domain(files[rel], rel)


def _domain(root: ET.Element) -> DomainDef:
    result = DomainDef()
    dom = root
    if root.tag == "domstatus":
        result.status_state = libvirt_state.normalize(root.get("state"))
        result.status_reason = root.get("reason")
        result.status_pid = _int(root.get("pid"))
        dom = _child(root, "domain")
        if dom is None:
            raise ParseError("a <domstatus> file without a <domain> inside")
    elif root.tag != "domain":
        raise ParseError("not a libvirt domain: the root element is <%s>" % split_tag(root.tag)[1][:80])

    result.domain_type = dom.get("type")
    dom_id = _int(dom.get("id"))
    result.id = dom_id if dom_id is not None and dom_id >= 0 else None
    for c in dom:
        tag = c.tag
        if tag == "name":
            result.name = c.text or ""
        elif tag == "uuid":
            result.uuid = canonical_uuid(c.text)
        elif tag == "memory":
            result.memory_mb = to_mib(c.text, c.get("unit"))
        elif tag == "currentMemory":
            result.current_memory_mb = to_mib(c.text, c.get("unit"))
        elif tag == "vcpu":
            result.vcpus = _int(c.text)
        elif tag == "metadata":
            result.nova, result.other_metadata = find_nova(c)
        elif tag in ("cputune", "numatune", "memoryBacking"):
            _placement(result, c)
        elif tag == "devices":
            for dev in c:
                if dev.tag == "disk":
                    result.disks.append(_disk(dev))
                elif dev.tag == "interface":
                    result.interfaces.append(_interface(dev))
    return result

"""Nova's `<nova:instance>` block inside a libvirt domain's `<metadata>`.

The block as a Zed (25.1.0) compute writes it, namespace 1.1 (tests/data/zed-ns1.1-ports-sriov.xml):

    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="25.1.0"/>
      <nova:name>sriov-probe</nova:name>
      <nova:creationTime>2023-05-08 07:30:46</nova:creationTime>
      <nova:flavor name="vf.tiny">
        <nova:memory>128</nova:memory> <nova:disk>1</nova:disk> <nova:swap>0</nova:swap>
        <nova:ephemeral>0</nova:ephemeral> <nova:vcpus>1</nova:vcpus>
      </nova:flavor>
      <nova:owner>
        <nova:user uuid="6a6c13918aa146b69eccd393d55dd7a7">netops</nova:user>
        <nova:project uuid="ac5e3a8673ae499ba58cc54dc6d7f19e">radio</nova:project>
      </nova:owner>
      <nova:root type="image" uuid="5e2b8c71-0f4a-4d93-b6e8-27a1c9d0f4b2"/>
      <nova:ports>
        <nova:port uuid="e8c41b27-3a5d-4f60-9b1e-7d2c6a0f8e93">
          <nova:ip type="fixed" address="10.20.30.44" ipVersion="4"/>
        </nova:port>
      </nova:ports>
    </nova:instance>

The namespace is matched by URI prefix, never by the `nova:` prefix: 1.0 (Juno..Victoria), 1.1
(Wallaby on) and whatever comes next must all parse. Every element is optional (Nova added `ports`
in Wallaby, `flavor@id`, `extraSpecs` and `image` details in 2025.2, and boot-from-volume had no
`root` before 2024.2). Anything this parser does not know goes to `extra`, never dropped: the
support engineer may need exactly the field a newer Nova added.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Optional
from xml.etree.ElementTree import Element

from analyzer.model import IP, Flavor, Image, NovaMeta, Owner, Person, Port, Root

NOVA_NS_PREFIX = "http://openstack.org/xmlns/libvirt/nova/"

_NS_TAG = re.compile(r"^\{(?P<ns>[^}]*)\}(?P<local>.*)$")


def split_tag(tag: Any) -> tuple[str, str]:
    """`{uri}local` -> (uri, local); a tag without namespace -> ("", tag)."""
    if not isinstance(tag, str):  # comments / processing instructions
        return "", ""
    m = _NS_TAG.match(tag)
    return (m.group("ns"), m.group("local")) if m else ("", tag)


def is_nova_namespace(uri: str) -> bool:
    return uri.startswith(NOVA_NS_PREFIX)


def nova_version_of(uri: str) -> tuple[int, ...]:
    """Version tuple of a Nova namespace URI, for picking the newest block: `.../nova/1.1` -> (1, 1).

    An unparseable tail sorts lowest, so a well-formed block always wins over a strange one.
    """
    tail = uri[len(NOVA_NS_PREFIX):].strip("/") if is_nova_namespace(uri) else ""
    parts = tail.split(".")
    if not tail or not all(p.isdigit() for p in parts):
        return (-1,)
    return tuple(int(p) for p in parts)


def _local(el: Element) -> str:
    return split_tag(el.tag)[1]


def _text(el: Optional[Element]) -> Optional[str]:
    if el is None:
        return None
    return el.text if el.text is not None else ""


def _generic(el: Element) -> Any:
    """Any unknown element as plain JSON-able data: text, or a dict of @attributes and children."""
    children = [c for c in el if isinstance(c.tag, str)]
    attrs = {"@" + split_tag(k)[1]: v for k, v in el.attrib.items()}
    if not children and not attrs:
        return (el.text or "").strip()
    out: dict[str, Any] = dict(attrs)
    text = (el.text or "").strip()
    if text:
        out["#text"] = text
    grouped: dict[str, list[Any]] = {}
    for c in children:
        grouped.setdefault(_local(c), []).append(_generic(c))
    for key, values in grouped.items():
        out[key] = values[0] if len(values) == 1 else values
    return out


def _int(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    t = text.strip()
    if re.fullmatch(r"[+-]?\d{1,18}", t):
        return int(t)
    return None


def _iso_time(text: str) -> Optional[str]:
    """Nova writes `YYYY-MM-DD HH:MM:SS` in UTC; the contract is ISO 8601 with a `Z`."""
    t = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            dt = datetime.datetime.strptime(t, fmt)
        except ValueError:
            continue
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return None


class _Extra:
    """Collects what the parser did not recognise, keyed by its path inside `nova:instance`."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def attrs(self, el: Element, path: str, known: tuple[str, ...]) -> None:
        for k, v in el.attrib.items():
            name = split_tag(k)[1]
            if name not in known:
                self.data["%s@%s" % (path, name) if path else "@" + name] = v

    def element(self, el: Element, path: str) -> None:
        key = "%s/%s" % (path, _local(el)) if path else _local(el)
        value = _generic(el)
        if key in self.data:
            prev = self.data[key]
            self.data[key] = (prev if isinstance(prev, list) else [prev]) + [value]
        else:
            self.data[key] = value


def _ints(el: Element, path: str, names: dict[str, str], extra: _Extra) -> dict[str, Optional[int]]:
    """Integer children by local name; non-integer text is kept in `extra`, not guessed at."""
    out: dict[str, Optional[int]] = {}
    for c in el:
        if not isinstance(c.tag, str):
            continue
        local = _local(c)
        if local in names:
            value = _int(c.text)
            if value is None:
                extra.data["%s/%s" % (path, local)] = c.text or ""
            out[names[local]] = value
    return out


def _flavor(el: Element, extra: _Extra) -> Flavor:
    extra.attrs(el, "flavor", ("name", "id"))
    f = Flavor(name=el.get("name"), id=el.get("id"))
    nums = _ints(el, "flavor", {"memory": "memory_mb", "disk": "disk_gb", "swap": "swap_mb",
                                "ephemeral": "ephemeral_gb", "vcpus": "vcpus"}, extra)
    for k, v in nums.items():
        setattr(f, k, v)
    for c in el:
        if not isinstance(c.tag, str):
            continue
        local = _local(c)
        if local in ("memory", "disk", "swap", "ephemeral", "vcpus"):
            continue
        if local == "extraSpecs":
            for spec in c:
                if isinstance(spec.tag, str) and _local(spec) == "extraSpec" and spec.get("name") is not None:
                    f.extra_specs[spec.get("name")] = spec.text or ""
                elif isinstance(spec.tag, str):
                    extra.element(spec, "flavor/extraSpecs")
        else:
            extra.element(c, "flavor")
    return f


def _image(el: Element, extra: _Extra) -> Image:
    extra.attrs(el, "image", ("uuid",))
    im = Image(uuid=el.get("uuid") or None)
    nums = _ints(el, "image", {"minDisk": "min_disk", "minRam": "min_ram"}, extra)
    im.min_disk, im.min_ram = nums.get("min_disk"), nums.get("min_ram")
    for c in el:
        if not isinstance(c.tag, str):
            continue
        local = _local(c)
        if local == "containerFormat":
            im.container_format = _text(c)
        elif local == "diskFormat":
            im.disk_format = _text(c)
        elif local == "properties":
            for p in c:
                if isinstance(p.tag, str) and _local(p) == "property" and p.get("name") is not None:
                    im.properties[p.get("name")] = p.text or ""
                elif isinstance(p.tag, str):
                    extra.element(p, "image/properties")
        elif local not in ("minDisk", "minRam"):
            extra.element(c, "image")
    return im


def _owner(el: Element, extra: _Extra) -> Owner:
    extra.attrs(el, "owner", ())
    owner = Owner()
    for c in el:
        if not isinstance(c.tag, str):
            continue
        local = _local(c)
        if local in ("user", "project"):
            extra.attrs(c, "owner/" + local, ("uuid",))
            setattr(owner, local, Person(uuid=c.get("uuid"), name=_text(c)))
        else:
            extra.element(c, "owner")
    return owner


def _ports(el: Element, extra: _Extra) -> list[Port]:
    extra.attrs(el, "ports", ())
    ports = []
    for p in el:
        if not isinstance(p.tag, str):
            continue
        if _local(p) != "port":
            extra.element(p, "ports")
            continue
        extra.attrs(p, "ports/port", ("uuid",))
        port = Port(uuid=p.get("uuid"))
        for ip in p:
            if not isinstance(ip.tag, str):
                continue
            if _local(ip) != "ip":
                extra.element(ip, "ports/port")
                continue
            extra.attrs(ip, "ports/port/ip", ("type", "address", "ipVersion"))
            port.ips.append(IP(address=ip.get("address"), type=ip.get("type"), version=_int(ip.get("ipVersion"))))
        ports.append(port)
    return ports


def parse_nova(instance: Element) -> NovaMeta:
    """One `<nova:instance>` element -> NovaMeta. Never raises on odd content: it goes to `extra`."""
    uri = split_tag(instance.tag)[0]
    extra = _Extra()
    extra.attrs(instance, "", ())
    meta = NovaMeta(namespace=uri)
    for c in instance:
        if not isinstance(c.tag, str):
            continue
        local = _local(c)
        if local == "package":
            extra.attrs(c, "package", ("version",))
            meta.package_version = c.get("version")
        elif local == "name":
            meta.display_name = _text(c)
        elif local == "creationTime":
            raw = _text(c) or ""
            meta.creation_time = _iso_time(raw)
            if meta.creation_time is None:
                extra.data["creationTime"] = raw
        elif local == "flavor":
            meta.flavor = _flavor(c, extra)
        elif local == "image":
            meta.image = _image(c, extra)
        elif local == "owner":
            meta.owner = _owner(c, extra)
        elif local == "root":
            extra.attrs(c, "root", ("type", "uuid"))
            meta.root = Root(type=c.get("type"), uuid=c.get("uuid") or None)
        elif local == "ports":
            meta.ports = _ports(c, extra)
        else:
            extra.element(c, "")
    meta.extra = extra.data
    return meta


def find_nova(metadata: Element) -> tuple[Optional[NovaMeta], list[str]]:
    """The newest Nova block under `<metadata>` and the namespace URIs of every other block.

    Two Nova blocks (1.0 and 1.1) can coexist after an upgrade; the newest namespace is what the
    running Nova wrote last.
    """
    best: Optional[Element] = None
    others: list[str] = []
    for child in metadata:
        if not isinstance(child.tag, str):
            continue
        uri, local = split_tag(child.tag)
        if is_nova_namespace(uri) and local == "instance":
            if best is None or nova_version_of(uri) > nova_version_of(split_tag(best.tag)[0]):
                best = child
        elif uri and uri not in others:
            others.append(uri)
    return (parse_nova(best) if best is not None else None), others

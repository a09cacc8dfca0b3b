"""`virsh -r capabilities` (sos's virsh plugin: sos_commands/virsh/virsh_-r_capabilities in sos
4.0 and 4.9.1): the host's NUMA cells, their CPUs, memory and hugepages as libvirt sees them.

    Real capture (the rig's libvirtd 9.0.0, `virsh -r capabilities`, 40 pages of 2 MiB reserved;
    trimmed: the CPU model and features, <guest> elements and secmodels left out):
    <capabilities>
      <host>
        <uuid>6a824bee-a567-418b-b339-a3fc9014d0ae</uuid>
        <cpu>
          <arch>x86_64</arch>
          <topology sockets='1' dies='1' cores='2' threads='1'/>
          <pages unit='KiB' size='4'/>
          <pages unit='KiB' size='2048'/>
          <pages unit='KiB' size='1048576'/>
        </cpu>
        <topology>
          <cells num='1'>
            <cell id='0'>
              <memory unit='KiB'>5597388</memory>
              <pages unit='KiB' size='4'>1378867</pages>
              <pages unit='KiB' size='2048'>40</pages>
              <pages unit='KiB' size='1048576'>0</pages>
              <distances>
                <sibling id='0' value='10'/>
              </distances>
              <cpus num='2'>
                <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>
                <cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1'/>
              </cpus>
            </cell>
          </cells>
        </topology>
      </host>
    </capabilities>

A cell's `<pages>` are page counts per size, the system page size first (libvirt lists it first
under `<host><cpu>` too): that one is ordinary memory, not hugepages, and is left out. libvirt
gives totals only; what is free is in the sysfs node files. The document goes through
domain_xml.parse_xml (no DTD, bounded nesting and size), so entity tricks are refused the same way.

>>> cells = parse_capabilities(b"<capabilities><host><cpu><pages unit='KiB' size='4'/>"
...     b"<pages unit='KiB' size='2048'/></cpu><topology><cells num='1'><cell id='0'>"
...     b"<memory unit='KiB'>5597388</memory><pages unit='KiB' size='4'>1378867</pages>"
...     b"<pages unit='KiB' size='2048'>40</pages><pages unit='KiB' size='1048576'>0</pages>"
...     b"<cpus num='2'><cpu id='0' socket_id='0' core_id='0' siblings='0'/>"
...     b"<cpu id='1' socket_id='0' core_id='1' siblings='1'/></cpus></cell></cells></topology>"
...     b"</host></capabilities>")
>>> [(c.id, c.cpus, c.memory_kib, c.hugepages) for c in cells]
[(0, [0, 1], 5597388, {'2048': 40, '1048576': 0})]
>>> parse_capabilities(b"<!DOCTYPE x [<!ENTITY a 'b'>]><capabilities/>")
Traceback (most recent call last):
...
analyzer.model.ParseError: rejected: the document has a DTD (DTDs, entities and external references are refused)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from analyzer.model import ParseError
from analyzer.parsers.domain_xml import _UNITS_TO_BYTES, parse_xml

_NUMBER = re.compile(r"\d{1,18}")


@dataclass
class Cell:
    id: int
    cpus: list[int] = field(default_factory=list)
    memory_kib: Optional[int] = None
    hugepages: dict[str, int] = field(default_factory=dict)  # PAGE_KIB -> total pages


def _kib(value: Optional[str], unit: Optional[str]) -> Optional[int]:
    v = (value or "").strip()
    factor = _UNITS_TO_BYTES.get((unit or "KiB").strip().lower())
    if not _NUMBER.fullmatch(v) or factor is None:
        return None
    return int(v) * factor // 1024


def parse_capabilities(data: bytes) -> list[Cell]:
    """The host's NUMA cells in id order; [] when the document has no topology. Raises ParseError."""
    root = parse_xml(data)
    if root.tag != "capabilities":
        raise ParseError("not a libvirt capabilities document (root <%s>)" % str(root.tag)[:40])
    host = root.find("host")
    if host is None:
        return []
    base = None  # the system page size: the first <pages> libvirt lists for the host CPU
    for p in host.findall("cpu/pages"):
        base = _kib(p.get("size"), p.get("unit"))
        break
    cells: dict[int, Cell] = {}
    for el in host.findall("topology/cells/cell"):
        cid = (el.get("id") or "").strip()
        if not _NUMBER.fullmatch(cid) or int(cid) in cells:
            continue
        cell = cells[int(cid)] = Cell(id=int(cid))
        mem = el.find("memory")
        if mem is not None:
            cell.memory_kib = _kib(mem.text, mem.get("unit"))
        sizes = []
        for p in el.findall("pages"):
            size, count = _kib(p.get("size"), p.get("unit")), (p.text or "").strip()
            if size and _NUMBER.fullmatch(count):
                sizes.append((size, int(count)))
        cell_base = base if base is not None else min((s for s, _ in sizes), default=None)
        cell.hugepages = {str(s): n for s, n in sizes if s != cell_base}
        cell.cpus = sorted({int(c.get("id", "")) for c in el.findall("cpus/cpu")
                            if _NUMBER.fullmatch(c.get("id", "").strip())})
    return [cells[i] for i in sorted(cells)]

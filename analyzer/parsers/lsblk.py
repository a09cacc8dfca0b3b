"""`lsblk` as sos's block plugin writes it: the block devices, their types and what sits on what.

    sos_commands/block/lsblk        sos 4.0 and 4.9.1 (`lsblk`: a tree)
    sos_commands/block/lsblk_-O_-P  sos 4.9.1 only (`lsblk -O -P`: every column, KEY="value" pairs)

(sos also writes `lsblk -t`, `lsblk -D` and `lsblk -f -a -l`; they add nothing this analysis
needs.) Real capture, this machine (util-linux 2.38.1, a loop device attached; the container
has no partition table, no device-mapper, no SAN):

    NAME  MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS
    loop0   7:0    0    8M  0 loop
    zram0 253:0    0    0B  0 disk
    vda   254:0    0  256G  0 disk /

    `lsblk -O -P` of the same loop device (trimmed to the columns read here):
    KNAME="loop0" MAJ:MIN="7:0" NAME="loop0" PATH="/dev/loop0" PKNAME="" TYPE="loop"

A child is printed under each of its parents, indented two columns a level: a multipath map
(TYPE mpath) appears once under every path device, so its parents are its paths. sos 4.0 runs
commands with LC_ALL=C (ASCII branches `|-`, `` `- ``), sos 4.9.1 with C.UTF-8 (`├─`, `└─`,
`│`); lsblk before util-linux 2.23 printed a device-mapper device as `NAME (dm-N)`. The tree
below has that shape (as public lsblk output on a multipath host shows it; written here, not a
capture: this machine has no multipath).

>>> devs = parse_lsblk("NAME        MAJ:MIN RM  SIZE RO TYPE  MOUNTPOINTS\\n"
...     "sda           8:0    0   20G  0 disk\\n├─sda1        8:1    0    1G  0 part  /boot\\n"
...     "└─sda2        8:2    0   19G  0 part\\n  └─rl-root 253:0    0   17G  0 lvm   /\\n"
...     "sdb           8:16   0    5G  0 disk\\n└─mpatha    253:2    0    5G  0 mpath\\n"
...     "sdd           8:48   0    5G  0 disk\\n`-mpatha    253:2    0    5G  0 mpath\\n")
>>> [(d.name, d.type, d.parents) for d in devs.values()]  # doctest: +NORMALIZE_WHITESPACE
[('sda', 'disk', []), ('sda1', 'part', ['sda']), ('sda2', 'part', ['sda']),
 ('rl-root', 'lvm', ['sda2']), ('sdb', 'disk', []), ('mpatha', 'mpath', ['sdb', 'sdd']), ('sdd', 'disk', [])]
>>> sorted(devs["mpatha"].paths())
['/dev/dm-2', '/dev/mapper/mpatha']
>>> d = parse_lsblk('KNAME="loop0" MAJ:MIN="7:0" NAME="loop0" PATH="/dev/loop0" PKNAME="" TYPE="loop"\\n')
>>> d["loop0"].type, d["loop0"].paths()
('loop', ['/dev/loop0'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

# device-mapper types: the node is /dev/dm-MINOR, the name /dev/mapper/NAME
DM_TYPES = frozenset({"mpath", "lvm", "crypt", "dm", "raid0", "raid1", "raid4", "raid5", "raid6", "raid10"})
_PAIR = re.compile(r'([A-Z][A-Z0-9:%_-]*)="((?:[^"\\]|\\.)*)"')
_BRANCH = re.compile(r"^[\s|`│├└─-]*")
_OLD_DM = re.compile(r"^\((dm-\d+)\)$")
_MAJ_MIN = re.compile(r"\d{1,4}:\d{1,7}")
MAX_DEPTH = 32  # deeper than any real stack (disk > part > crypt > lvm > ...): a bad file, not a tree


@dataclass
class BlockDev:
    name: str
    type: Optional[str] = None  # disk, part, loop, rom, mpath, lvm, crypt, ...
    maj_min: Optional[str] = None
    kname: Optional[str] = None  # dm-2 for a device-mapper device (when lsblk says)
    path: Optional[str] = None  # the device node lsblk -O -P names
    parents: list[str] = field(default_factory=list)  # what it sits on: an mpath map's paths

    def paths(self) -> list[str]:
        """The /dev paths this device is known by."""
        out = {self.path} if self.path else set()
        if self.type in DM_TYPES or (self.kname or "").startswith("dm-"):
            out.add("/dev/mapper/" + self.name)
            if self.kname:
                out.add("/dev/" + self.kname)
            elif self.maj_min:
                out.add("/dev/dm-" + self.maj_min.split(":")[1])  # the kernel names dm-MINOR
        else:
            out.add("/dev/" + (self.kname or self.name))
        return sorted(out)


def _add(out: dict[str, BlockDev], dev: BlockDev, parent: Optional[str]) -> None:
    have = out.setdefault(dev.name, dev)
    for attr in ("type", "maj_min", "kname", "path"):
        if getattr(have, attr) is None:
            setattr(have, attr, getattr(dev, attr))
    if parent and parent != dev.name and parent not in have.parents:
        have.parents.append(parent)


def parse_lsblk(text: str) -> dict[str, BlockDev]:
    """Name -> device, in the order lsblk first printed each; either output shape."""
    out: dict[str, BlockDev] = {}
    header: list[str] = []
    stack: list[str] = []
    for line in text.splitlines():
        if '="' in line:
            kv = dict(_PAIR.findall(line))
            name = kv.get("NAME")
            if name:
                _add(out, BlockDev(name=name, type=kv.get("TYPE") or None, maj_min=kv.get("MAJ:MIN") or None,
                                   kname=kv.get("KNAME") or None, path=kv.get("PATH") or None),
                     kv.get("PKNAME") or None)
            continue
        if not line.strip():
            continue
        if line.startswith("NAME"):
            header = line.split()
            stack = []
            continue
        if not header:
            continue  # no NAME header yet: an error message, not a device
        prefix = _BRANCH.match(line).group(0)  # type: ignore[union-attr]
        cols = line[len(prefix):].split()
        if not cols:
            continue
        depth = min(len(prefix) // 2, MAX_DEPTH)
        name, rest = cols[0], cols[1:]
        kname = None
        if rest and _OLD_DM.match(rest[0]):
            kname, rest = _OLD_DM.match(rest[0]).group(1), rest[1:]  # type: ignore[union-attr]
        values = dict(zip(header[1:], rest))
        maj_min = values.get("MAJ:MIN") if _MAJ_MIN.fullmatch(values.get("MAJ:MIN", "")) else None
        del stack[depth:]
        parent = stack[-1] if stack and depth else None
        _add(out, BlockDev(name=name, type=values.get("TYPE"), maj_min=maj_min, kname=kname), parent)
        stack.append(name)
    return out

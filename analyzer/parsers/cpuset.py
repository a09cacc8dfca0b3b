"""A CPU list as the kernel and Nova write it.

    sys/devices/system/node/node0/cpulist:   0-1
    nova.conf [compute] cpu_dedicated_set:   4-12,^8,15
    <vcpupin vcpu='0' cpuset='1'/>           libvirt's cpuset: the same grammar

Ranges, single CPUs, commas, and `^N` / `^N-M` to take CPUs out again (Nova and libvirt). A list
that does not parse raises ParseError: a wrong set would give wrong findings.

>>> parse_cpu_list("0-1")
[0, 1]
>>> parse_cpu_list("4-12,^8,15")
[4, 5, 6, 7, 9, 10, 11, 12, 15]
>>> parse_cpu_list("")
[]
>>> parse_cpu_list("3-x")
Traceback (most recent call last):
...
analyzer.model.ParseError: not a CPU list: '3-x'
>>> format_cpu_list([0, 1, 2, 5, 7, 8])
'0-2,5,7-8'
"""

from __future__ import annotations

import re

from analyzer.model import ParseError

_PART = re.compile(r"\^?\d{1,5}(?:-\d{1,5})?")
MAX_CPU = 65535  # no host has more; a hostile "0-999999999" must not build a huge list


def parse_cpu_list(text: str) -> list[int]:
    """Sorted CPUs of a kernel/Nova/libvirt CPU list; [] for an empty one."""
    take: set[int] = set()
    drop: set[int] = set()
    for raw in text.strip().split(","):
        part = raw.strip()
        if not part:
            continue
        if not _PART.fullmatch(part):
            raise ParseError("not a CPU list: %r" % text.strip()[:80])
        target = drop if part.startswith("^") else take
        lo, _, hi = part.lstrip("^").partition("-")
        a, b = int(lo), int(hi or lo)
        if a > b or b > MAX_CPU:
            raise ParseError("not a CPU list: %r" % text.strip()[:80])
        target.update(range(a, b + 1))
    return sorted(take - drop)


def format_cpu_list(cpus: list[int]) -> str:
    """The short form of a CPU list, for people."""
    out: list[str] = []
    run: list[int] = []
    for c in sorted(set(cpus)):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else "%d-%d" % (run[0], run[-1]))
        run = [c]
    if run:
        out.append(str(run[0]) if len(run) == 1 else "%d-%d" % (run[0], run[-1]))
    return ",".join(out)

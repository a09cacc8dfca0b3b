"""Nova versions as packagers write them, reduced to what a support engineer compares.

`nova:package` records the version string of the Nova that booted a guest, vendor suffix included
(`14.0.3-8.el7ost`); the host's package list says what is installed now (`3:27.1.0-0ubuntu1`).
Both are reduced to the upstream version before comparing:

    >>> upstream("3:27.1.0-0ubuntu1")
    '27.1.0'
    >>> same_upstream("2014.2.1-1.el7", "27.1.0")
    False
    >>> series("27.1.0")
    '2023.1 Antelope'
"""

from __future__ import annotations

import re
from typing import Optional

# Nova's major version -> OpenStack release series (from the openstack/releases deliverables).
_SERIES = {
    12: "Liberty", 13: "Mitaka", 14: "Newton", 15: "Ocata", 16: "Pike", 17: "Queens", 18: "Rocky",
    19: "Stein", 20: "Train", 21: "Ussuri", 22: "Victoria", 23: "Wallaby", 24: "Xena", 25: "Yoga",
    26: "Zed", 27: "2023.1 Antelope", 28: "2023.2 Bobcat", 29: "2024.1 Caracal",
    30: "2024.2 Dalmatian", 31: "2025.1 Epoxy", 32: "2025.2 Flamingo", 33: "2026.1 Gazpacho",
}
# Before Liberty, Nova used date versions: 2014.2.x is Juno.
_DATED = {"2012.1": "Essex", "2012.2": "Folsom", "2013.1": "Grizzly", "2013.2": "Havana",
          "2014.1": "Icehouse", "2014.2": "Juno", "2015.1": "Kilo"}

_EPOCH = re.compile(r"^\d+:")
_NUMERIC = re.compile(r"^\d+(?:\.\d+)*")


def upstream(version: Optional[str]) -> Optional[str]:
    """Drop the epoch (`3:`), the distribution release (`-0ubuntu1`, `-8.el7ost`) and
    `+dfsg`/`~cloud0`-style suffixes; what is left is the version the Nova project released."""
    if not version:
        return None
    v = _EPOCH.sub("", version.strip())
    v = v.split("-", 1)[0]
    v = re.split(r"[+~]", v, maxsplit=1)[0]
    return v or None


def same_upstream(a: Optional[str], b: Optional[str]) -> bool:
    ua, ub = upstream(a), upstream(b)
    return ua is not None and ua == ub


def series(version: Optional[str]) -> Optional[str]:
    """The release series name of a Nova version, or None when it is not one we know."""
    v = upstream(version)
    if not v:
        return None
    m = _NUMERIC.match(v)
    if not m:
        return None
    parts = m.group(0).split(".")
    if parts[0].isdigit() and int(parts[0]) >= 2000 and len(parts) >= 2:
        return _DATED.get("%s.%s" % (parts[0], parts[1]))
    return _SERIES.get(int(parts[0]))


def describe(version: Optional[str]) -> str:
    """`27.1.0 (2023.1 Antelope)`, or the bare version when its series is unknown."""
    s = series(version)
    return "%s (%s)" % (version, s) if s else str(version)

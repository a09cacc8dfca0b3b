"""Nova versions as packagers write them, reduced to what a support engineer compares.

`nova:package` records the version string of the Nova that booted a guest, vendor suffix included
(`14.0.3-8.el7ost`); the host's package list says what is installed now (`3:27.1.0-0ubuntu1`).
Both are reduced to the upstream version before comparing:

    >>> upstream("3:27.1.0-0ubuntu1")
    '27.1.0'
    >>> same_upstream("2014.2.1-1.el7", "27.1.0")
    False
    >>> same_upstream("14.0.3-8.el7ost", "14.0.3-8.el7ost")
    True
    >>> compare("2:26.2.1-0ubuntu1~cloud0", "27.1.0")
    -1
    >>> series("27.1.0")
    '2023.1 Antelope'
    >>> describe("14.0.3-8.el7ost")
    '14.0.3-8.el7ost (Newton)'
"""

from __future__ import annotations

import re
from typing import Optional

# Nova's first version number -> OpenStack release series. Checked against openstack/releases
# (deliverables/<series>/nova.yaml: first nova release of each series, and data/series_status.yaml
# for the 2023.1+ release ids). A later major (2026.2 Hibiscus on) is shown as a bare version
# rather than guessed.
_SERIES = {
    12: "Liberty", 13: "Mitaka", 14: "Newton", 15: "Ocata", 16: "Pike", 17: "Queens", 18: "Rocky",
    19: "Stein", 20: "Train", 21: "Ussuri", 22: "Victoria", 23: "Wallaby", 24: "Xena", 25: "Yoga",
    26: "Zed", 27: "2023.1 Antelope", 28: "2023.2 Bobcat", 29: "2024.1 Caracal",
    30: "2024.2 Dalmatian", 31: "2025.1 Epoxy", 32: "2025.2 Flamingo", 33: "2026.1 Gazpacho",
}
# Before Liberty, Nova used date versions (year.release): 2014.2.x is Juno.
_DATED = {"2010.1": "Austin", "2011.1": "Bexar", "2011.2": "Cactus", "2011.3": "Diablo",
          "2012.1": "Essex", "2012.2": "Folsom", "2013.1": "Grizzly", "2013.2": "Havana",
          "2014.1": "Icehouse", "2014.2": "Juno", "2015.1": "Kilo"}

_EPOCH = re.compile(r"^\d+:")
_NUMERIC = re.compile(r"^\d+(?:\.\d+)*")
# What may follow the numbers in an upstream version: a pre-release (pbr `27.0.0.0rc1`, `.0b2`,
# `.dev12`; Debian spells it `27.0.0~rc1`).
_PRE = re.compile(r"^[.~]?(a|alpha|b|beta|rc|dev)\.?(\d*)", re.I)
_PRE_RANK = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "rc": 3}


def upstream(version: Optional[str]) -> Optional[str]:
    """The version the Nova project released: without the epoch (`3:`), the distribution release
    (`-0ubuntu1`, `-8.el7ost`, `-1.el7`, `-0ubuntu1~cloud0`) and `+dfsg`/`+git...` repack suffixes.
    A Debian pre-release mark (`~rc1`) is part of the upstream version and kept.

    >>> upstream("1:29.0.1-0ubuntu1~cloud0")
    '29.0.1'
    >>> upstream("2:30.0.0+git2024010101.abc-0ubuntu2")
    '30.0.0'
    >>> upstream("27.0.0~rc1-0ubuntu1")
    '27.0.0~rc1'
    >>> upstream("  ") is None
    True
    """
    if not version or not version.strip():
        return None
    v = _EPOCH.sub("", version.strip())
    v = v.split("-", 1)[0]
    v = v.split("+", 1)[0]
    return v or None


def key(version: Optional[str]) -> Optional[tuple]:
    """A sort key for the upstream version, or None when it does not start with a number.
    Trailing `.0`s do not count (`27.1` == `27.1.0`), and a pre-release sorts before its release
    whichever way it is spelt (`27.0.0.0rc1` == `27.0.0~rc1` < `27.0.0`).

    >>> key("27.0.0.0rc1") == key("27.0.0~rc1") < key("27.0.0")
    True
    >>> key("3:27.1-1") == key("27.1.0")
    True
    >>> key("banana") is None
    True
    """
    v = upstream(version)
    if v is None:
        return None
    m = _NUMERIC.match(v)
    if not m:
        return None
    nums = [int(p) for p in m.group(0).split(".")]
    rest = v[m.end():]
    pre: tuple = (9, 0)  # a final release sorts after any pre-release of it
    if rest:
        p = _PRE.match(rest)
        if p:
            pre = (_PRE_RANK[p.group(1).lower()], int(p.group(2) or 0))
            rest = rest[p.end():]
        if rest:
            pre = pre + (rest,)
    era = 0 if nums[0] >= 2000 else 1  # date versions (2014.2) came before 12.0.0 (Liberty)
    while len(nums) > 1 and nums[-1] == 0:
        nums.pop()
    return (era, tuple(nums), pre)


def compare(a: Optional[str], b: Optional[str]) -> Optional[int]:
    """-1, 0 or 1 as the upstream version of `a` is older than, the same as or newer than `b`'s;
    None when either is missing or not a version.

    >>> compare("14.0.3-8.el7ost", "14.0.3-8.el7ost")
    0
    >>> compare("2014.2.1-1.el7", "27.1.0")
    -1
    >>> compare("27.1.0", None) is None
    True
    """
    ka, kb = key(a), key(b)
    if ka is None or kb is None:
        return None
    return (ka > kb) - (ka < kb)


def same_upstream(a: Optional[str], b: Optional[str]) -> bool:
    """True when both name the same upstream release; vendor suffixes, epochs and spelling of
    pre-releases do not matter. Strings that are not versions are equal only when identical.

    >>> same_upstream("3:27.1.0-0ubuntu1", "27.1.0")
    True
    >>> same_upstream("27.1.0", "27.2.0")
    False
    """
    c = compare(a, b)
    if c is not None:
        return c == 0
    ua, ub = upstream(a), upstream(b)
    return ua is not None and ua == ub


def series(version: Optional[str]) -> Optional[str]:
    """The release series name of a Nova version, or None when it is not one we know.

    >>> series("2014.2.1-1.el7"), series("14.0.3-8.el7ost"), series("32.0.0")
    ('Juno', 'Newton', '2025.2 Flamingo')
    >>> series("99.0.0") is None
    True
    """
    k = key(version)
    if k is None:
        return None
    nums = list(k[1]) + [0]
    if nums[0] >= 2000:
        return _DATED.get("%d.%d" % (nums[0], nums[1]))
    return _SERIES.get(nums[0])


def describe(version: Optional[str]) -> str:
    """The version as written, with its series when known.

    >>> describe("3:27.1.0-0ubuntu1")
    '3:27.1.0-0ubuntu1 (2023.1 Antelope)'
    >>> describe("99.1")
    '99.1'
    """
    if not version:
        return "unknown"
    s = series(version)
    return "%s (%s)" % (version, s) if s else version

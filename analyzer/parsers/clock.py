"""A host's clock: the time a report was taken, and the host's offset from UTC.

sos runs `date` and `date --utc` in the C locale (sos_commands/date/):

    date        Wed Nov 19 09:59:45 CET 2025
    date_--utc  Wed Nov 19 08:59:45 UTC 2025

The two were taken a moment apart, so their difference, rounded to a quarter of an hour, is the
offset. Where one is missing, `timedatectl` says the zone and offset outright:

                    Time zone: Europe/Paris (CET, +0100)

and `etc/localtime` is a link into the zoneinfo database (`/usr/share/zoneinfo/Europe/Paris`).

>>> parse_date("Wed Nov 19 09:59:45 CET 2025")
(datetime.datetime(2025, 11, 19, 9, 59, 45), 'CET')
>>> offset_between(parse_date("Wed Nov 19 09:59:45 CET 2025")[0], parse_date("Wed Nov 19 08:59:46 UTC 2025")[0])
60
>>> format_offset(60), format_offset(-330), format_offset(0)
('+01:00', '-05:30', '+00:00')
>>> timedatectl_offset("      Time zone: America/New_York (EST, -0500)")
-300
>>> zone_of_link("../usr/share/zoneinfo/Asia/Kolkata")
'Asia/Kolkata'
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional

_DATE = re.compile(r"\w{3} (\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\S+) (\d{4})")
_TIMEDATECTL = re.compile(r"Time zone:\s*\S+ \([^,)]*, ([+-])(\d\d)(\d\d)\)")
_ZONEINFO = re.compile(r"zoneinfo/(?:posix/|right/)?([A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*)$")


def parse_date(text: str) -> Optional[tuple[datetime, str]]:
    """(naive time, zone abbreviation) of `date` output in the C locale."""
    m = _DATE.search(text)
    if not m:
        return None
    try:
        return datetime.strptime(" ".join(m.group(1, 2, 3, 5)), "%b %d %H:%M:%S %Y"), m.group(4)
    except ValueError:
        return None


def offset_between(local: datetime, utc: datetime) -> Optional[int]:
    """Minutes east of UTC, or None when the two readings are too far apart to be one moment."""
    minutes = (local - utc).total_seconds() / 60
    quarter = round(minutes / 15) * 15
    if abs(minutes - quarter) > 5 or abs(quarter) > 14 * 60:
        return None
    return int(quarter)


def timedatectl_offset(text: str) -> Optional[int]:
    m = _TIMEDATECTL.search(text)
    if not m:
        return None
    n = int(m.group(2)) * 60 + int(m.group(3))
    return -n if m.group(1) == "-" else n


def zone_of_link(target: str) -> Optional[str]:
    m = _ZONEINFO.search(target)
    return m.group(1) if m else None


def zone_offset(zone: str, at: datetime) -> Optional[int]:
    """The offset of a zoneinfo zone at a (local) time, when this machine knows the zone."""
    try:
        from zoneinfo import ZoneInfo
        off = at.replace(tzinfo=ZoneInfo(zone)).utcoffset()
    except (ImportError, ValueError, KeyError, OSError):  # unknown zone or no tz database here
        return None
    return None if off is None else int(off.total_seconds() // 60)


def format_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)


def to_utc(local: datetime, minutes: int) -> datetime:
    return local - timedelta(minutes=minutes)


def iso_z(t: datetime) -> str:
    """ISO 8601 in UTC, the way every time is shown.

    >>> iso_z(datetime(2025, 11, 19, 8, 59, 45))
    '2025-11-19T08:59:45Z'
    """
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "Z"

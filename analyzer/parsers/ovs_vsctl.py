"""Open vSwitch's database as `ovs-vsctl` prints it (sos's openvswitch plugin).

    sos_commands/openvswitch/ovs-vsctl_-t_5_list_interface (real ovs-vswitchd 3.1, dummy datapath;
    one record per interface, blank line between records, most columns left out here):
    _uuid               : 0d1c54b6-5f0e-4c3a-9d9e-1f7a3c2b4e10
    error               : "tap1307-00: patch type requires valid 'peer' argument"
    external_ids        : {attached-mac="fa:16:3e:13:00:07", iface-id="a13b0000-0000-4000-8000-000000000007", iface-status=active, vm-id="d13a0000-0000-4000-8000-000000000007"}
    name                : tap1307-00
    ofport              : -1
    type                : patch

    sos_commands/openvswitch/ovs-vsctl_-t_5_show:
    6a3c2e9e-8f1b-4f7d-9a51-0d0b3e6c9a12
        Bridge br-int
            Port tap1301-00
                Interface tap1301-00
            Port br-int
                Interface br-int
                    type: internal
        ovs_version: "3.1.0"

>>> rec = parse_list('name                : tap1\\nofport              : -1\\n'
...                  'error               : "tap1: patch type requires valid \\'peer\\' argument"\\n'
...                  'external_ids        : {attached-mac="fa:16:3e:00:00:01", iface-id="p1", vm-uuid="u1"}\\n'
...                  'mac_in_use          : []\\n\\nname                : br-int\\nofport              : 65534\\n')
>>> rec[0]["name"], rec[0]["ofport"], rec[0]["error"], rec[0]["external_ids"]["iface-id"], rec[0]["mac_in_use"]
('tap1', '-1', "tap1: patch type requires valid 'peer' argument", 'p1', None)
>>> parse_show("6a3c\\n    Bridge br-int\\n        Port tap1\\n            Interface tap1\\n    ovs_version: \\"3.1.0\\"\\n")
{'tap1': 'br-int'}
"""

from __future__ import annotations

import re
from typing import Any, Optional

_FIELD = re.compile(r"^(?P<key>[a-z_][a-z0-9_]{0,63})\s*:\s?(?P<value>.*)$")
_PAIR = re.compile(r'\s*(?P<k>"(?:[^"\\]|\\.)*"|[^=,\s]+)=(?P<v>"(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)')


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"':
        return re.sub(r'\\(.)', r"\1", s[1:-1])
    return s


def _value(raw: str) -> Any:
    """`[]` -> None, `"x"` -> x, `{a=b}` -> {a: b}, `[1, 2]` -> ["1", "2"], anything else as text."""
    v = raw.strip()
    if v in ("[]", ""):
        return None
    if v.startswith("{") and v.endswith("}"):
        return {_unquote(m.group("k")): _unquote(m.group("v")) for m in _PAIR.finditer(v[1:-1])}
    if v.startswith("[") and v.endswith("]"):
        return [_unquote(x) for x in v[1:-1].split(",") if x.strip()]
    return _unquote(v)


def parse_list(text: str) -> list[dict[str, Any]]:
    """`ovs-vsctl list TABLE`: one dict per record (column -> value)."""
    records: list[dict[str, Any]] = []
    cur: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            if cur:
                records.append(cur)
                cur = {}
            continue
        m = _FIELD.match(line)
        if m:
            cur[m.group("key")] = _value(m.group("value"))
    if cur:
        records.append(cur)
    return records


def parse_show(text: str) -> dict[str, str]:
    """`ovs-vsctl show`: interface name -> the bridge it is on."""
    out: dict[str, str] = {}
    bridge: Optional[str] = None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Bridge "):
            bridge = _unquote(s[7:])
        elif s.startswith("Interface ") and bridge is not None:
            out.setdefault(_unquote(s[10:]), bridge)
    return out

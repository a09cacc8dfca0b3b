"""Open vSwitch interfaces (sos's openvswitch plugin), for matching each guest NIC to its port.

    sos_commands/openvswitch/ovs-vsctl_-t_5_list_interface   every Interface record
    sos_commands/openvswitch/ovs-vsctl_-t_5_show             which bridge each interface is on

(formats in analyzer/parsers/ovs_vsctl.py). libvirt writes `external_ids:vm-id` when it plugs a
`<virtualport type='openvswitch'>` NIC itself; os-vif writes `vm-uuid`; both write iface-id (the
Neutron port) and attached-mac.
"""

from __future__ import annotations

import re

from analyzer.archive.select import BYTES, Wanted
from analyzer.model import OvsPort
from analyzer.parsers import ovs_vsctl
from analyzer.sources.base import Readout, View

LIST = "sos_commands/openvswitch/ovs-vsctl_-t_5_list_interface"
SHOW = "sos_commands/openvswitch/ovs-vsctl_-t_5_show"
MEMBERS = (
    Wanted("ovs_vsctl", BYTES, re.escape(LIST) + "|" + re.escape(SHOW), ("sos_commands/openvswitch/",),
           example=LIST),
)


def read(v: View) -> Readout:
    out = Readout()
    if LIST not in v.files:
        return out
    bridges = ovs_vsctl.parse_show(v.files[SHOW].decode("utf-8", "replace")) if SHOW in v.files else {}
    ports = []
    for rec in ovs_vsctl.parse_list(v.files[LIST].decode("utf-8", "replace")):
        name = rec.get("name")
        if not isinstance(name, str):
            continue
        ids = rec.get("external_ids") if isinstance(rec.get("external_ids"), dict) else {}
        ofport = rec.get("ofport")
        ports.append(OvsPort(
            name=name, ofport=int(ofport) if isinstance(ofport, str) and re.fullmatch(r"-?\d{1,9}", ofport) else None,
            error=rec.get("error") if isinstance(rec.get("error"), str) else None,
            iface_id=ids.get("iface-id"), attached_mac=(ids.get("attached-mac") or "").lower() or None,
            bridge=bridges.get(name), vm_uuid=ids.get("vm-uuid") or ids.get("vm-id")))
    out.host_data["ovs"] = {"path": LIST, "ports": ports}
    return out

"""libvirt domain states, spelled once: the way `virsh list` prints them.

Sources spell a state two ways. `virsh list` and `virsh domstate` print words with spaces;
the status file libvirt keeps for an active domain (`/run/libvirt/qemu/NAME.xml`) uses the XML
names of the same enum:

    <domstatus state='paused' reason='ioerror' pid='4242'>

Everything the analyzer shows uses the virsh spelling, so the normalisation happens where a state
is read.

>>> [normalize(s) for s in ("running", "shutdown", "shutoff", "nostate", "Paused", " shut off ")]
['running', 'in shutdown', 'shut off', 'no state', 'paused', 'shut off']
>>> normalize(None), normalize("")
(None, None)
"""

from __future__ import annotations

from typing import Optional

STATES = ("running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended", "blocked",
          "no state")
# The XML (virDomainState) names that differ from virsh's words.
_XML_NAMES = {"shutdown": "in shutdown", "shutoff": "shut off", "nostate": "no state"}


def normalize(state: Optional[str]) -> Optional[str]:
    """A state in `virsh list` spelling; an unknown word is kept (lower-cased), never dropped."""
    if state is None:
        return None
    s = " ".join(state.split()).lower()
    if not s:
        return None
    return _XML_NAMES.get(s, s)

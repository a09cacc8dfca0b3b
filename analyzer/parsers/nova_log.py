"""nova-compute's log lines (oslo.log): the line prefix and the catalogue of instance events.

An oslo.log line is `TIME PID LEVEL LOGGER [CONTEXT] [instance: UUID] MESSAGE`. TIME is the local
time of the nova process with no zone; PID is 2 inside a container; CONTEXT changed between
releases (Zed+ `[None req-X USER PROJECT - default default]`, Pike..Yoga `[req-X USER PROJECT -
default default]`, older `[req-X USER PROJECT - - -]`, periodic tasks `[req-X - - - - -]`, no request
`[-]`):

>>> line = (b"2025-11-19 09:59:40.877 2 INFO nova.compute.manager [None req-5e0f1c2a-8d6b-4f3e-9a7c-"
...         b"2b1d0e9f8a71 7b2fd4a6c7e94a0e8b1f0c38ab6a21f3 4c1e5f5a0f9b4f2c8e2e2a9d8b3c1a77 - default "
...         b"default] [instance: 3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f] Migrating instance to "
...         b"compute-1 finished successfully.")
>>> p = parse_line(line)
>>> p.time, p.level, p.logger, p.uuid
('2025-11-19T09:59:40.877', 'INFO', 'nova.compute.manager', '3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f')
>>> p.message
'Migrating instance to compute-1 finished successfully.'
>>> m = EVENT_RX.search(line); kind_of(m), peer_of(kind_of(m), p.message)
('migration-completed', 'compute-1')
>>> parse_line(b"2017-06-02 11:20:01.123 31042 WARNING nova.compute.manager [req-0c8d1b6e-2f3a-4b5c-8d"
...            b"9e-0f1a2b3c4d5e - - - - -] [instance: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d] Instance "
...            b"shutdown by itself. Calling the stop API.").message
'Instance shutdown by itself. Calling the stop API.'
>>> kind_of(EVENT_RX.search(b"2025-11-19 09:58:02.004 2 INFO nova.compute.manager [-] [instance: "
...     b"3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f] VM Paused (Lifecycle Event)"))
'paused'
>>> peer_of("migration-started", "Took 2.41 seconds for pre_live_migration on destination host compute-1.")
'compute-1'

EVENT_RX only matches a message that begins with one of the phrases below, right after the
instance tag, so one C-speed search over a whole chunk finds the few event lines among the many
ordinary ones (`Checking state`, network cache updates). ERROR and CRITICAL lines are found
apart (every one is an `error` event); a line matching a phrase keeps the phrase's kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

UUID = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# (kind, phrases the message begins with). A kind may appear twice: each entry becomes one
# named group "kind__N", since a regex group name is unique.
CATALOGUE: tuple[tuple[str, bytes], ...] = (
    ("claimed", rb"Claim successful"),
    ("spawned", rb"Instance spawned successfully"),
    ("started", rb"VM Started \(Lifecycle Event\)"),
    ("stopped", rb"VM Stopped \(Lifecycle Event\)"),
    ("paused", rb"VM Paused \(Lifecycle Event\)"),
    ("resumed", rb"VM Resumed \(Lifecycle Event\)"),
    ("suspended", rb"VM Suspended \(Lifecycle Event\)"),
    ("shutdown-by-itself", rb"Instance shutdown by itself"),
    # The request, not the driver's "rebooted successfully": power-on logs that one too.
    ("rebooted", rb"Rebooting instance"),
    ("stopped", rb"Instance shutdown successfully|Instance failed to shutdown in "),
    ("volume-attached", rb"Attaching volume "),
    ("volume-detached", rb"Detaching volume "),
    # There is no "starting live migration" message: the source's first line naming the
    # destination is the end of pre_live_migration there.
    ("migration-started", rb"Took [0-9.]+ seconds for pre_live_migration on destination host "),
    ("migration-progress", rb"Migration running for "),
    ("migration-completed", rb"Migrating instance to \S+ finished successfully|Migration operation has completed"),
    ("migration-failed", rb"Live Migration failure: |Migration operation has aborted|Migration operation was "
                         rb"cancelled|Pre live migration failed at |Post live migration at destination \S+ "
                         rb"failed|Live migration failed"),
    ("migrated-in", rb"Post operation of migration started"),
    # Cold migration and resize: the bare word, nothing after it.
    ("resize", rb"Migrating(?=\r?\n)"),
    ("evacuated", rb"Evacuating instance|Destroying instance as it has been evacuated from this host"),
    ("rebuilt", rb"Rebuilding instance"),
    # _shutdown_instance on a delete; "Deleting instance files" also follows a migration away.
    ("deleted", rb"Terminating instance"),
)

_GROUPS: dict[str, str] = {}
_alts = []
for _i, (_kind, _rx) in enumerate(CATALOGUE):
    _name = "%s__%d" % (_kind.replace("-", "_"), _i)
    _GROUPS[_name] = _kind
    _alts.append(b"(?P<" + _name.encode() + b">" + _rx + b")")
# Any phrase, no group of its own: a scanner puts it inside its own pattern.
PHRASES = b"(?:" + b"|".join(b"(?:" + rx + b")" for _, rx in CATALOGUE) + b")"
_NAMED = b"(?:" + b"|".join(_alts) + b")"
EVENT_RX = re.compile(rb"\[instance: (" + UUID + rb")\] " + _NAMED)
_PHRASE_RX = re.compile(_NAMED)
del _i, _kind, _rx, _name, _alts
_phrase_kinds: dict[bytes, str] = {}

_PREFIX = re.compile(rb"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?) +\d+ +([A-Z]+) +(\S+) +")
_CONTEXT = re.compile(rb"\[[^\]\n]*\] +")
_TAG = re.compile(rb"\[instance: (" + UUID + rb")\] ?")
_PEER = {
    "migration-started": re.compile(r"on destination host (\S+?)\.?$"),
    "migration-completed": re.compile(r"^Migrating instance to (\S+) finished"),
    "migration-failed": re.compile(r"^(?:Pre live migration failed at|Post live migration at destination) "
                                   r"(\S+?)[.:]?(?:\s|$)"),
}

LEVELS = (b"ERROR", b"CRITICAL")


@dataclass
class NovaLine:
    time: Optional[str]  # "YYYY-MM-DDTHH:MM:SS[.fff]", no zone (the nova process's local time)
    level: Optional[str]
    logger: Optional[str]
    uuid: Optional[str]  # lower case
    message: str  # after the prefix, the context and the instance tag


def kind_of(m: "re.Match[bytes]") -> str:
    """The event kind of an EVENT_RX match."""
    return _GROUPS[m.lastgroup]  # type: ignore[index]


def kind_of_phrase(phrase: bytes) -> str:
    """The event kind of the text PHRASES matched (a message's beginning).

    >>> kind_of_phrase(b"VM Resumed (Lifecycle Event)"), kind_of_phrase(b"Migrating")
    ('resumed', 'resize')
    """
    kind = _phrase_kinds.get(phrase)
    if kind is None:
        m = _PHRASE_RX.match(phrase + b"\n")
        kind = _GROUPS[m.lastgroup] if m else "error"  # type: ignore[index]
        if len(_phrase_kinds) < 4096:  # "Took N seconds ..." varies: a bounded cache
            _phrase_kinds[phrase] = kind
    return kind


def peer_of(kind: str, message: str) -> Optional[str]:
    """The other host a migration message names, if it names one.

    >>> peer_of("migration-failed", "Pre live migration failed at compute-3: Timeout")
    'compute-3'
    >>> peer_of("migration-failed", "Live Migration failure: operation failed") is None
    True
    """
    rx = _PEER.get(kind)
    m = rx.search(message) if rx else None
    return m.group(1) if m else None


def normal_time(day: bytes, clock: bytes) -> str:
    """oslo.log's `2025-11-19 09:59:40.877` as `2025-11-19T09:59:40.877`.

    >>> normal_time(b"2025-11-19", b"09:59:40.877123")
    '2025-11-19T09:59:40.877'
    """
    c = clock.decode("ascii")
    if "." in c:
        whole, frac = c.split(".", 1)
        c = whole + "." + frac[:3].ljust(3, "0")
    return day.decode("ascii") + "T" + c


def parse_line(line: bytes, max_chars: int = 2000) -> NovaLine:
    """One oslo.log line; fields it does not have are None (the message is then the whole line).

    >>> parse_line(b"no prefix here").message
    'no prefix here'
    """
    if line.endswith(b"\r"):
        line = line[:-1]
    m = _PREFIX.match(line)
    if m is None:
        return NovaLine(None, None, None, None, _text(line, max_chars))
    pos = m.end()
    c = _CONTEXT.match(line, pos)
    if c is not None:
        pos = c.end()
    uuid = None
    t = _TAG.match(line, pos)
    if t is not None:
        uuid = t.group(1).decode("ascii").lower()
        pos = t.end()
    return NovaLine(normal_time(m.group(1), m.group(2)), m.group(3).decode("ascii"), m.group(4).decode("ascii",
                    "replace"), uuid, _text(line[pos:], max_chars))


def is_traceback(message: str) -> bool:
    """A continuation of an exception's traceback (oslo.log repeats the prefix on each line).

    >>> is_traceback("Traceback (most recent call last):"), is_traceback('  File "x.py", line 1'), is_traceback("x")
    (True, True, False)
    """
    return message.startswith(("Traceback (most recent call last)", " ", "\t")) or not message


def _text(b: bytes, max_chars: int) -> str:
    return b[:max_chars * 4].decode("utf-8", "replace")[:max_chars]

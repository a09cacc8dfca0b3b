"""Caps on the size of any one value taken from a report, applied once to every observation.

A value is copied many times on its way out: the guest table, the findings that name it, the search
index, the JSON, the HTML attributes, so one display name megabytes long becomes an output and a
memory footprint many times that. Nothing real comes close to the caps: Nova limits a display name to 255
characters, libvirt names and paths are short, and a domain XML document is tens of KiB. So a longer
value is cut, marked as cut in the value itself, and the cut is listed as a problem of the report:
never silent, and the full text is still in the sosreport at the path given.

This runs on the readers' output (build.py), so each reader stays simple and no reader can forget it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from analyzer.model import Observation, Problem, Report, compile_per_class, field_annotations

MAX_VALUE = 4096  # characters of one field (names, paths, metadata values)
MAX_XML = 1 << 20  # bytes of one raw XML document kept for the report's "raw XML" view


def clip(text: str, limit: int = MAX_VALUE) -> str:
    """`text` if short enough, else its start and a marker saying how long it was (`limit` in all)."""
    if len(text) <= limit:
        return text
    marker = "… [cut by analyze-sos: %s characters]" % format(len(text), ",")
    return text[:max(0, limit - len(marker))] + marker


def xml_text(data: bytes) -> tuple[str, bool]:
    """A raw document for the "raw XML" view: decoded, at most MAX_XML characters; True if cut.

    Only the document a guest shows is decoded (merge), so the others cost nothing.
    """
    if len(data) <= MAX_XML:
        return data.decode("utf-8", "replace"), False
    text = data[:MAX_XML].decode("utf-8", "ignore")
    return text + "\n<!-- cut by analyze-sos: the document is %s bytes -->\n" % format(len(data), ","), True


_CHECKERS: dict[type, Any] = {}
_STR = {"str", "Optional[str]"}
_NUMBER = {"int", "bool", "float", "Optional[int]", "Optional[bool]", "Optional[float]"}


def _checker(cls: type) -> Any:
    """`_too_long` for one dataclass, made once: fields annotated as numbers are skipped, strings
    measured in place, only the rest walked (most of an observation is short strings and numbers)."""
    parts = []
    for name, ann in field_annotations(cls):
        if ann in _NUMBER:
            continue
        if ann in _STR:
            parts.append("len(d[%r] or '') > MAX_VALUE" % name)
        else:
            parts.append("_too_long(d[%r])" % name)
    return compile_per_class(" or ".join(parts) or "False", {"_too_long": _too_long, "MAX_VALUE": MAX_VALUE})


def _too_long(v: Any) -> bool:
    """Is any string inside `v` over MAX_VALUE? The common answer, no, found without building
    the field paths a cut needs.

    >>> _too_long(Problem(path="p", reason="r")), _too_long({"k": ["x" * (MAX_VALUE + 1)]})
    (False, True)
    """
    cls = type(v)
    if cls is str:
        return len(v) > MAX_VALUE
    if v is None or cls is int or cls is float or cls is bool or cls is bytes:
        return False
    check = _CHECKERS.get(cls)
    if check is not None:
        return check(v)
    if isinstance(v, str):
        return len(v) > MAX_VALUE
    if isinstance(v, (int, float, bytes)):
        return False
    if isinstance(v, (list, tuple)):
        return any(_too_long(x) for x in v)
    if isinstance(v, dict):
        return any(_too_long(k) or _too_long(x) for k, x in v.items())
    if not dataclasses.is_dataclass(cls):
        return False
    check = _CHECKERS[cls] = _checker(cls)
    return check(v)


class _Clipper:
    def __init__(self) -> None:
        self.cut: list[tuple[str, int]] = []  # (field path, original length)

    def value(self, v: Any, where: str) -> Any:
        if isinstance(v, str):
            if len(v) > MAX_VALUE:
                self.cut.append((where, len(v)))
                return clip(v)
            return v
        if isinstance(v, list):
            new = [self.value(x, where) for x in v]
            return v if all(a is b for a, b in zip(new, v)) else new
        if isinstance(v, dict):
            items = [(self.value(k, where) if isinstance(k, str) else k, self.value(x, "%s.%s" % (where, str(k)[:80])))
                     for k, x in v.items()]
            return v if all(a is k and b is x for (a, b), (k, x) in zip(items, v.items())) else dict(items)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            for f in dataclasses.fields(v):
                old = getattr(v, f.name)
                if old is None or isinstance(old, (int, float, bool)):
                    continue
                new = self.value(old, "%s.%s" % (where, f.name) if where else f.name)
                if new is not old:
                    setattr(v, f.name, new)
            return v
        return v


def bound_report(report: Report) -> Optional[Problem]:
    """Cut the host facts' over-long values (hostname, OS, package versions, plugin summary info)."""
    c = _Clipper()
    problems, report.problems = report.problems, []
    c.value(report, "")
    report.problems = problems
    if not c.cut:
        return None
    return Problem(path="(host facts)", reason=clip("over-long values cut: " + ", ".join(
        "%s (%s characters, %s kept)" % (w.rsplit(".", 1)[-1][:80], format(n, ","), format(MAX_VALUE, ","))
        for w, n in c.cut), 1000))


def _checked_part(obs: Observation) -> Any:
    """What of an observation may be over the cap: a log sighting's lines are cut by its scanner
    (nova_compute_log.MAX_LINE), so only its names and paths are looked at."""
    if not obs.is_log:
        return obs
    logs = [obs.nova_log.paths if obs.nova_log else None, obs.qemu_log.path if obs.qemu_log else None]
    return [obs.source, obs.uuid, obs.domain_name, logs]


def bound_observation(obs: Observation) -> Optional[Problem]:
    """Cut this observation's over-long values in place; a problem naming them, or None."""
    c = _Clipper()
    if obs.definition is not None:
        c.cut += obs.definition.clipped  # cut while parsing (big documents, domain_xml.py)
    if _too_long(_checked_part(obs)):
        c.value(obs, "")
    longest: dict[str, int] = {}
    for where, n in c.cut:
        name = where.rsplit(".", 1)[-1][:80]
        longest[name] = max(n, longest.get(name, 0))
    parts = ["%s (%s characters, %s kept)" % (k, format(n, ","), format(MAX_VALUE, ","))
             for k, n in sorted(longest.items())]
    if obs.xml is not None and len(obs.xml) > MAX_XML:
        parts.append("raw XML view (%s bytes, %s kept)" % (format(len(obs.xml), ","), format(MAX_XML, ",")))
    if not parts:
        return None
    return Problem(path=obs.source.path, reason=clip("over-long values cut: " + ", ".join(parts), 1000))

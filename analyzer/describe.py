"""How findings name a guest, its host and the file that shows it: one wording everywhere."""

from __future__ import annotations

from typing import Optional

from analyzer.model import Guest


def name(g: Guest) -> str:
    """The guest as a finding names it.

    >>> name(Guest(uuid="u1", display_name="web-01"))
    'web-01 (u1)'
    """
    return "%s (%s)" % (g.display_name or g.domain_name or "?", g.uuid)


def host(g: Guest) -> str:
    return g.host or "?"


def source(g: Guest) -> Optional[str]:
    """The domain document the guest was read from, else its first source."""
    return g.xml_source or (g.sources[0].path if g.sources else None)

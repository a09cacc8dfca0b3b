"""The JSON output: `Document.to_dict()` as is. Its schema is the README's "Output schema"."""

from __future__ import annotations

import json
from typing import Any


def render(doc: dict[str, Any], indent: bool = False) -> str:
    """One line for a file or a pipe (the stdlib's C encoder: several times faster than indenting,
    which only the pure-Python one does); indented for a person at a terminal.

    ensure_ascii=False keeps display names readable; json still escapes every control character.

    >>> render({"a": [1, "é"]})
    '{"a":[1,"é"]}\\n'
    """
    if indent:
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"

"""The JSON output: `Document.to_dict()` as is. Its schema is the README's "Output schema"."""

from __future__ import annotations

import json
from typing import Any


def render(doc: dict[str, Any]) -> str:
    # ensure_ascii=False keeps display names readable; json still escapes every control character.
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"

"""The JSON output: `Document.to_dict()` as is. Its schema is the README's "Output schema"."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

try:  # the `fast` extra: several times the stdlib's speed on a big case
    import orjson
except ImportError:  # pragma: no cover - the stdlib then does it all
    orjson = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from analyzer.model import Document


def render(doc: dict[str, Any]) -> str:
    """Indented, for a person at a terminal (a file or a pipe gets render_document's one line,
    from the stdlib's C encoder or orjson: indenting is the pure-Python encoder's, several times
    slower). ensure_ascii=False keeps display names readable; control characters are escaped.

    >>> render({"a": [1, "é"]})
    '{\\n  "a": [\\n    1,\\n    "é"\\n  ]\\n}\\n'
    """
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_document(doc: "Document") -> list[str]:
    """The document on one line, in pieces made one list item at a time: the dicts of one guest
    or instance live only while it is encoded, never the whole case's at once, and the caller
    writes the pieces without joining them (the text of a big case is tens of MB).

    >>> from analyzer.model import Document, Problem
    >>> d = Document(generated_by={"name": "x"}, errors=[Problem(path="p", reason="r")])
    >>> "".join(render_document(d)) == json.dumps(d.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\\n"
    True
    """
    from analyzer.model import plain

    encode = encoder()
    out = []
    for i, (key, value) in enumerate(doc.sections()):
        out.append(("{" if i == 0 else ",") + encode(key) + ":")
        if isinstance(value, list):
            out.append("[")
            for j, item in enumerate(value):
                out.append(("," if j else "") + encode(plain(item)))
            out.append("]")
        else:
            out.append(encode(plain(value)))
    out.append("}\n")
    return out


def encoder(use_orjson: bool = True) -> Callable[[Any], str]:
    """One value -> compact JSON text: orjson where it is installed, else (and for what orjson
    refuses: a lone surrogate from an undecodable file name, an integer over 64 bits) the stdlib.

    >>> [encoder(u)({"a": [1, 2.5, None], 3: "é"}) for u in (True, False)]
    ['{"a":[1,2.5,null],"3":"é"}', '{"a":[1,2.5,null],"3":"é"}']
    >>> odd = "name" + chr(0xDCFF)  # what orjson refuses, the stdlib writes
    >>> encoder()(odd) == encoder(False)(odd)
    True
    """
    std = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    if orjson is None or not use_orjson:
        return std
    dumps, option = orjson.dumps, orjson.OPT_NON_STR_KEYS

    def encode(value: Any) -> str:
        try:
            return dumps(value, option=option).decode("utf-8")
        except TypeError:  # orjson.JSONEncodeError is one
            return std(value)

    return encode

"""Whole lines out of a stream of chunks, for the log scanners: each scan sees only complete
lines, and a line with no end in sight is kept to a bounded head (the rest of it is dropped).

>>> got = []
>>> w = WholeLines(lambda data, end: got.append(data[:end]), max_pending=8)
>>> for piece in (b"one\\ntw", b"o\\nthree", b"-and-a-very-long-line-without-end", b"\\nfour"):
...     w.feed(piece)
>>> w.finish()
>>> got
[b'one\\n', b'two\\n', b'three-an\\n', b'four\\n']
"""

from __future__ import annotations

from typing import Callable


class WholeLines:
    def __init__(self, scan: Callable[[bytes, int], None], max_pending: int) -> None:
        self._scan = scan  # scan(data, end): data[:end] is whole lines
        self._max = max_pending
        self._rest = b""
        self._skipping = False  # inside an overlong line: drop bytes until its end

    def feed(self, chunk: bytes) -> None:
        if self._skipping:
            nl = chunk.find(b"\n")
            if nl < 0:
                return
            self._skipping = False
            head = self._rest + b"\n"
            self._scan(head, len(head))
            self._rest = b""
            chunk = chunk[nl + 1:]
        data = self._rest + chunk if self._rest else chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            self._scan(data, cut)
        rest = data[cut:]
        if len(rest) > self._max:
            rest = rest[:self._max]
            self._skipping = True
        self._rest = rest

    def finish(self) -> None:
        """The member ended: its last line, even without a newline."""
        if self._rest:
            data = self._rest + b"\n"
            self._scan(data, len(data))
        self._rest = b""
        self._skipping = False

"""A gzip member (`nova-compute.log.3.gz`) decompressed while it streams, in bounded pieces.

logrotate writes one gzip stream; some tools concatenate several (each one is read in turn). What
comes out is handed on in pieces of at most PIECE bytes, so a small file that inflates to many
GiB costs time, never memory, and stops at `limit` decompressed bytes. A damaged or truncated file
is said in `problem` (one line); what was decompressed before the damage is kept.

>>> import gzip
>>> g = GunzipStream()
>>> out = b"".join(p for c in (gzip.compress(b"line 1\\n" * 3)[i:i + 5] for i in range(0, 40, 5)) for p in g.feed(c))
>>> out, g.finish()
(b'line 1\\nline 1\\nline 1\\n', None)
>>> g = GunzipStream()
>>> list(g.feed(b"not gzip at all")), g.finish()
([], 'not a readable gzip file (incorrect header check); 0 bytes decompressed before it')
>>> g = GunzipStream()
>>> len(b"".join(g.feed(gzip.compress(b"x" * 1000)[:-8]))), g.finish()
(1000, 'the gzip file ends early (truncated?); 1000 bytes decompressed before it')
"""

from __future__ import annotations

import zlib
from typing import Iterator, Optional

PIECE = 1 << 20
LIMIT = 16 << 30


class GunzipStream:
    def __init__(self, limit: int = LIMIT) -> None:
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.limit = limit
        self.out = 0  # decompressed bytes handed on
        self.problem: Optional[str] = None
        self._started = False  # a gzip stream has begun and not ended

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The decompressed pieces of one more compressed chunk."""
        data, more = chunk, False
        while (data or more) and self.problem is None:
            self._started = True
            try:
                piece = self._d.decompress(data, PIECE)
            except zlib.error as e:
                self.problem = "not a readable gzip file (%s); %d bytes decompressed before it" % (
                    _why(e), self.out)
                return
            more = len(piece) == PIECE  # output may be pending inside zlib though no input is
            if piece:
                if self.out + len(piece) > self.limit:
                    piece = piece[:self.limit - self.out]
                    self.problem = "decompressed past %d GiB; the rest was not read" % (self.limit >> 30)
                self.out += len(piece)
                yield piece
            if self._d.eof:
                data = self._d.unused_data.lstrip(b"\0")  # padding after a stream happens
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._started = bool(data)
                more = False
            else:
                data = self._d.unconsumed_tail

    def finish(self) -> Optional[str]:
        """Why the file was not read to its end, or None."""
        if self.problem is None and self._started and not self._d.eof:
            self.problem = "the gzip file ends early (truncated?); %d bytes decompressed before it" % self.out
        return self.problem


def _why(e: zlib.error) -> str:
    s = str(e)
    return s.split(": ", 1)[1] if s.startswith("Error -3 while decompressing data: ") else s


class MemberText:
    """A log member's text as it streams: gunzipped when its name ends in `.gz`, else as it comes.
    The log scanners feed what `feed` gives to their line splitter, and report `finish()`.

    >>> import gzip
    >>> t = MemberText("var/log/nova/nova-compute.log.2.gz")
    >>> b"".join(t.feed(gzip.compress(b"a\\nb\\n"))), t.finish()
    (b'a\\nb\\n', None)
    >>> list(MemberText("nova-compute.log").feed(b"as is")), MemberText("x.log").finish()
    ([b'as is'], None)
    """

    def __init__(self, path: str) -> None:
        self._gz = GunzipStream() if path.endswith(".gz") else None

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if self._gz is None:
            return iter((chunk,))
        return self._gz.feed(chunk)

    def finish(self) -> Optional[str]:
        """Why the member was not read to its end (a damaged .gz), or None."""
        return None if self._gz is None else self._gz.finish()

"""A decompressed byte stream for a file, or for a slice of one, as cheaply as the machine allows.

Why external programs: Python's `lzma` decodes on the same core that parses the tar, and cannot use
the several xz blocks sos 4.0/4.1 write. `xz -dc -T0` runs on another core (and on all of them for a
multi-block file), so the analyzer costs little more than decompression itself. When `xz`, `gzip` or
`bzip2` is missing, the standard library does the same job, only slower.

A slice (offset, length) is a report stored inside a plain-tar `sos collect` bundle: it is fed to the
decompressor straight from the bundle with `os.sendfile`, never copied to a temporary file.

The pipe from the decompressor is enlarged to 1 MiB (F_SETPIPE_SZ, Linux): with the default 64 KiB
the decompressor stalls whenever the analyzer spends a few milliseconds on one chunk, so the two
processes take turns instead of running side by side. A pipe is still too small for the way a
sosreport alternates: a run of thousands of small /proc files costs the parser more per byte than
xz, a big log the analyzer scans (nova-compute's) costs it more. So a reader thread (`_PipeReader`)
drains the pipe into a queue of up to 96 MiB, and xz runs ahead while the analyzer is slower than
it, then the analyzer finds that data waiting where it is faster than xz; the
thread reads in large pieces (it naps 2 ms after a short read, so xz fills the pipe without waking
it for every 8 KiB it writes). On the single-block bench report 32 MiB took 10-15% off the wall
time, 96 MiB another 8 % (bench/RESULTS.md), for at most 96 MiB more memory. Every stream also carries `consumed()`: how
many bytes of the INPUT (compressed) slice have been taken so far, for the progress bar.
"""

from __future__ import annotations

import bz2
import contextlib
import fcntl
import gzip
import io
import lzma
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from typing import BinaryIO, Callable, Iterator, Optional

from analyzer.archive import detect

_PROGRAMS = {
    detect.XZ: ("xz", "-dc", "-q"),
    detect.GZIP: ("gzip", "-dc", "-q"),
    detect.BZIP2: ("bzip2", "-dc", "-q"),
}
_PY_OPENERS = {detect.XZ: lzma.open, detect.GZIP: gzip.open, detect.BZIP2: bz2.open}
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux; the constant is in fcntl from 3.10
PIPE_SIZE = 1 << 20  # the unprivileged maximum by default (/proc/sys/fs/pipe-max-size)


def _widen(fd: int) -> None:
    """Make a pipe hold PIPE_SIZE bytes where the system allows it; harmless where it does not."""
    try:
        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_SIZE)
    except (OSError, ValueError):
        pass


def consumed(stream) -> int:
    """Bytes of the input slice taken so far by the stream from open_stream (0 if unknown)."""
    fn = getattr(stream, "consumed", None)
    try:
        return fn() if fn is not None else 0
    except (OSError, ValueError):
        return 0


class SliceReader(io.RawIOBase):
    """A read-only, seekable window [offset, offset+length) of a file."""

    def __init__(self, f: BinaryIO, offset: int, length: int) -> None:
        self._f = f
        self._start = offset
        self._end = offset + length
        self._pos = offset
        f.seek(offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        n = min(len(b), self._end - self._pos)
        if n <= 0:
            return 0
        self._f.seek(self._pos)
        got = self._f.readinto(memoryview(b)[:n])  # type: ignore[attr-defined]
        self._pos += got or 0
        return got or 0

    def seek(self, off: int, whence: int = 0) -> int:
        base = {0: self._start, 1: self._pos, 2: self._end}[whence]
        self._pos = min(max(base + off, self._start), self._end)
        return self._pos - self._start

    def tell(self) -> int:
        return self._pos - self._start


def _feed(src_fd: int, dst_fd: int, offset: int, length: int, done: list) -> None:
    """Copy a slice of a file into a pipe in the kernel; stops quietly when the reader goes away.
    done[0] counts the bytes sent."""
    try:
        while length > 0:
            sent = os.sendfile(dst_fd, src_fd, offset, min(length, 1 << 22))
            if sent == 0:
                break
            offset += sent
            length -= sent
            done[0] += sent
    except OSError:
        pass  # the decompressor exited (corrupt data, or we stopped reading): it reports that
    finally:
        with contextlib.suppress(OSError):
            os.close(dst_fd)


@contextlib.contextmanager
def open_stream(
    path: str, kind: str, offset: int = 0, length: Optional[int] = None
) -> Iterator[tuple[BinaryIO, Callable[[], Optional[str]], bool]]:
    """Yield (stream, error, seekable) for the decompressed content of path[offset:offset+length].

    `error()` is called after reading: it returns the decompressor's complaint (corrupt data,
    truncated input) as one line, or None.
    """
    if length is not None and length < 0:
        raise ValueError("negative length")
    size = os.path.getsize(path)
    if length is None:
        length = size - offset
    with open(path, "rb") as f:
        if kind == detect.TAR:
            plain = SliceReader(f, offset, length)
            plain.consumed = plain.tell  # type: ignore[attr-defined]
            yield plain, lambda: None, True  # type: ignore[misc]
            return
        prog = _PROGRAMS.get(kind)
        if prog is None:
            raise ValueError("not a compressed archive: %s" % kind)
        exe = shutil.which(prog[0])
        if exe is None:
            with _python_stream(f, kind, offset, length) as (stream, err):
                yield stream, err, False
            return
        args = [exe, *prog[1:]]
        if kind == detect.XZ:
            args.append("-T0")  # multi-block reports (sos 4.0/4.1) decompress on every core
        with _process_stream(args, f, offset, length) as (stream, err):
            yield stream, err, False


@contextlib.contextmanager
def _process_stream(args, f, offset, length):
    whole = offset == 0 and length == os.fstat(f.fileno()).st_size
    feeder = None
    if whole:
        proc = subprocess.Popen(args, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        # The child shares the file's offset with us: it says how far it has read.
        where = lambda: min(os.lseek(f.fileno(), 0, os.SEEK_CUR), length)  # noqa: E731
    else:
        r, w = os.pipe()
        _widen(w)
        proc = subprocess.Popen(args, stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        os.close(r)
        sent = [0]
        feeder = threading.Thread(target=_feed, args=(f.fileno(), w, offset, length, sent), daemon=True)
        feeder.start()
        where = lambda: sent[0]  # noqa: E731
    _widen(proc.stdout.fileno())
    stream = _PipeReader(proc.stdout, where)
    stderr_chunks: list[bytes] = []
    drain = threading.Thread(
        target=lambda: stderr_chunks.extend(iter(lambda: proc.stderr.read(4096), b"")), daemon=True
    )
    drain.start()

    def error() -> Optional[str]:
        rc = proc.poll()
        if rc is None:
            # Asked while it still runs: usually it is just finishing (the data ended, or it is
            # about to complain). Give it a moment rather than lose its verdict to a race.
            try:
                rc = proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                return None
        if rc == 0:
            return None
        drain.join(timeout=5)
        msg = b"".join(stderr_chunks).decode("utf-8", "replace").strip().splitlines()
        text = msg[-1] if msg else "exit status %d" % rc
        prog = os.path.basename(args[0])
        for prefix in (args[0] + ": ", prog + ": ", "(stdin): ", "stdin: "):  # "/usr/bin/xz: (stdin): ..."
            if text.startswith(prefix):
                text = text[len(prefix):]
        return "%s: %s" % (prog, text)

    try:
        yield stream, error
        # Reap so error() sees the exit status; the stream was read to its end (or abandoned).
        try:
            proc.wait(timeout=0.5 if stream.closed else 5)
        except subprocess.TimeoutExpired:
            pass
    finally:
        stream.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        stream.join()
        drain.join(timeout=5)
        proc.stderr.close()
        if feeder is not None:
            feeder.join(timeout=5)


class _PipeReader:
    """The decompressor's stdout, drained by a thread into a bounded queue (see the module doc).

    The thread owns the pipe: it alone reads and closes it, so a close() from the consumer never
    races a read in progress. close() asks it to stop; it closes the pipe, and the decompressor,
    if still writing, gets EPIPE and exits.
    """

    DEPTH = 96  # chunks of at most 1 MiB
    NAP = 0.002  # after a read shorter than SHORT
    SHORT = 256 << 10

    def __init__(self, pipe: BinaryIO, consumed: Callable[[], int]) -> None:
        self.consumed = consumed
        self._pipe = pipe
        self._queue: "queue.Queue[bytes]" = queue.Queue(self.DEPTH)
        self._stop = threading.Event()
        self._left = b""
        self._eof = False
        self.closed = False
        # A 1 ms switch interval lets the thread take the GIL back soon after its read returns,
        # while the parser holds it (the default 5 ms would let the pipe fill and xz wait).
        if sys.getswitchinterval() > 0.001:
            sys.setswitchinterval(0.001)
        self._thread = threading.Thread(target=self._run, name="pipe-reader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fd = self._pipe.fileno()
        try:
            while not self._stop.is_set():
                try:
                    data = os.read(fd, PIPE_SIZE)
                except OSError:
                    data = b""
                while not self._stop.is_set():
                    try:
                        self._queue.put(data, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if not data:
                    return
                if len(data) < self.SHORT:
                    time.sleep(self.NAP)
        finally:
            self._pipe.close()

    def read(self, n: int = -1) -> bytes:
        """Up to the next queued chunk (at least one byte unless the stream ended)."""
        if self._left:
            data, self._left = self._left, b""
        elif self._eof or self.closed:
            return b""
        else:
            while True:
                try:
                    data = self._queue.get(timeout=0.5)
                    break
                except queue.Empty:
                    if not self._thread.is_alive() and self._queue.empty():  # it died: stream over
                        data = b""
                        break
            if not data:
                self._eof = True
                return b""
        if 0 <= n < len(data):
            data, self._left = data[:n], data[n:]
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def pipe_capacity(self) -> int:
        """Bytes the pipe from the decompressor holds (F_GETPIPE_SZ; 0 if unknown)."""
        try:
            return fcntl.fcntl(self._pipe.fileno(), _F_SETPIPE_SZ + 1)  # F_GETPIPE_SZ
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        self.closed = True
        self._stop.set()

    def join(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class _PyStream(io.RawIOBase):
    """Wrap a stdlib decompressor file so that read() reports corruption via error()."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.failure: Optional[str] = None

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self.failure:
            return 0
        try:
            data = self._inner.read(len(b))
        except (EOFError, OSError, lzma.LZMAError, ValueError) as e:
            self.failure = str(e) or e.__class__.__name__
            return 0
        n = len(data)
        b[:n] = data
        return n


@contextlib.contextmanager
def _python_stream(f, kind, offset, length):
    window = SliceReader(f, offset, length)
    inner = _PY_OPENERS[kind](window, "rb")
    stream = _PyStream(inner)
    buffered = io.BufferedReader(stream, 1 << 20)
    buffered.consumed = window.tell  # type: ignore[attr-defined]
    try:
        yield buffered, lambda: stream.failure and "%s: %s" % (kind, stream.failure)
    finally:
        inner.close()

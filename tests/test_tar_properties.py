"""Property tests of the archive layer on hostile bytes.

The tar reader may only ever raise TarDamaged, whatever it is fed: random bytes, a real archive with
bytes flipped, cut or spliced, and (the mutations that reach past the header checksum) headers whose
fields were rewritten and whose checksum was then fixed up. The collector on top of it never raises
at all, never keeps a member under an unsafe name, and never holds more than its caps; detection
never raises and rarely takes random bytes for gpg. (The XML and Nova metadata parsers have their own
property tests in tests/test_parsers.py.)
"""

import io
import lzma
import os
import random
import tarfile
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.archive import detect
from analyzer.archive.collect import Collector, Limits, read_archive
from analyzer.archive.tarstream import BLOCK, Member, TarDamaged, TarReader, _pax
from analyzer.sources.registry import SELECTION

TOP = "sosreport-h-2026-01-01-abcdefg"
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _archive(fmt=tarfile.PAX_FORMAT):
    """A small report with every kind of member the reader knows."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        def add(name, kind="file", data=b"", link="", pax=None):
            ti = tarfile.TarInfo("%s/%s" % (TOP, name) if name else TOP)
            ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                       "hard": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE}[kind]
            ti.linkname = link
            ti.size = len(data) if kind == "file" else 0
            if pax and fmt == tarfile.PAX_FORMAT:
                ti.pax_headers = pax
            try:
                ti.tobuf(fmt, "utf-8", "surrogateescape")
            except ValueError:  # a name ustar cannot hold
                return
            t.addfile(ti, io.BytesIO(data) if kind == "file" else None)
        add("", "dir")
        add("version.txt", data=b"sosreport: 4.9.1\n")
        add("etc/libvirt/qemu/instance-1.xml", data=b"<domain><name>a</name></domain>\n" * 40)
        add("sos_commands/virsh/virsh_-r_dumpxml_" + "x" * 150, data=b"<domain/>")
        add("sos_commands/host/hostname", data=b"h\n")
        add("hostname", "sym", link="sos_commands/host/hostname")
        add("etc/libvirt/qemu/hard.xml", "hard", link=TOP + "/etc/libvirt/qemu/instance-1.xml")
        add("var/log/nova/nova-compute.log",
            data=b"2024-01-01 00:00:00.000 1 ERROR nova [instance: 11111111-1111-4111-8111-111111111111] x\n" * 30)
        add("run/fifo", "fifo")
        add("etc/libvirt/qemu/caf\u00e9.xml", data=b"<domain/>", pax={"comment": "x" * 300})
    return buf.getvalue()


ARCHIVES = {fmt: _archive(fmt) for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT)}
HEADER_OFFSETS = {fmt: [m.offset for m in tarfile.open(fileobj=io.BytesIO(a)).getmembers()]
                  for fmt, a in ARCHIVES.items()}


def _drain(data: bytes, seekable: bool = False, read_limit: int = 1 << 16) -> list:
    """Read everything as the collector would; only TarDamaged may come out."""
    seen = []
    reader = TarReader(io.BytesIO(data), seekable)
    try:
        for m in reader:
            assert isinstance(m, Member) and m.size >= 0
            seen.append(m.name)
            if m.type == "file" and m.size <= read_limit:
                if len(seen) % 2:
                    reader.read(m, m.size)
                else:
                    for _ in reader.chunks(m):
                        pass
    except TarDamaged:
        pass
    return seen


def _fix_checksum(block: bytearray) -> None:
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\x00 " % sum(block)


# --- the reader ------------------------------------------------------------------------------

@PROPS
@given(st.binary(max_size=8192), st.booleans())
def test_random_bytes_only_ever_raise_tardamaged(data, seekable):
    _drain(data, seekable)


@PROPS
@given(st.sampled_from(sorted(ARCHIVES)), st.data(), st.booleans())
def test_flipped_cut_and_spliced_archives_only_ever_raise_tardamaged(fmt, data, seekable):
    raw = bytearray(ARCHIVES[fmt])
    how = data.draw(st.sampled_from(["flip", "cut", "splice", "duplicate", "zero"]))
    if how == "flip":
        for _ in range(data.draw(st.integers(1, 20))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= data.draw(st.integers(1, 255))
    elif how == "cut":
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    elif how == "splice":
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i] = data.draw(st.binary(max_size=2048))
    elif how == "duplicate":
        i = data.draw(st.integers(0, len(raw) // BLOCK - 1)) * BLOCK
        raw[i:i] = raw[i:i + BLOCK] * data.draw(st.integers(1, 4))
    else:
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i + 1024] = bytes(min(1024, len(raw) - i))
    _drain(bytes(raw), seekable)


_FIELDS = {"name": (0, 100), "mode": (100, 8), "size": (124, 12), "type": (156, 1), "link": (157, 100),
           "magic": (257, 8), "prefix": (345, 155)}


@PROPS
@given(st.sampled_from(sorted(ARCHIVES)), st.data(), st.booleans())
def test_rewritten_headers_with_a_valid_checksum_only_ever_raise_tardamaged(fmt, data, seekable):
    """Mutations that pass the checksum: the reader has to cope with what the fields then say."""
    raw = bytearray(ARCHIVES[fmt])
    at = data.draw(st.sampled_from(HEADER_OFFSETS[fmt]))
    block = bytearray(raw[at:at + BLOCK])
    for _ in range(data.draw(st.integers(1, 3))):
        field = data.draw(st.sampled_from(sorted(_FIELDS)))
        start, width = _FIELDS[field]
        if field == "size":
            value = data.draw(st.one_of(
                st.integers(0, 8 ** 11 - 1).map(lambda n: b"%011o\x00" % n),
                st.integers(0, 2 ** 88 - 1).map(lambda n: bytes([0x80]) + n.to_bytes(11, "big")),  # GNU base-256
                st.just(b"\xff" * 12), st.binary(min_size=12, max_size=12)))
        elif field == "type":
            value = data.draw(st.sampled_from([b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"S", b"L", b"K",
                                               b"x", b"g", b"\x00", b"Z", b"V", b"M"]))
        else:
            value = data.draw(st.binary(min_size=width, max_size=width))
        block[start:start + width] = value[:width].ljust(width, b"\x00")
    _fix_checksum(block)
    raw[at:at + BLOCK] = block
    _drain(bytes(raw), seekable)


@PROPS
@given(st.lists(st.tuples(st.sampled_from(["path", "linkpath", "size", "comment", "x" * 3]),
                          st.text(max_size=40) | st.integers(-5, 10 ** 30).map(str)), max_size=5),
       st.binary(max_size=200))
def test_pax_records_of_any_shape_only_ever_raise_tardamaged(records, noise):
    body = b"".join(_pax_record(k, v) for k, v in records)
    for data in (body, noise, body + noise):
        try:
            out = _pax(data)
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in out.items())
        except TarDamaged:
            pass
        # ... and as an `x` header in front of a member
        hdr = tarfile.TarInfo("././@PaxHeader")
        hdr.type = tarfile.XHDTYPE
        hdr.size = len(data)
        blob = hdr.tobuf(tarfile.USTAR_FORMAT) + data + bytes(-len(data) % BLOCK)
        member = tarfile.TarInfo(TOP + "/version.txt")
        member.size = 3
        blob += member.tobuf(tarfile.USTAR_FORMAT) + b"abc" + bytes(BLOCK - 3) + bytes(1024)
        _drain(blob)


def _pax_record(key: str, value: str) -> bytes:
    rec = (" %s=%s\n" % (key, value)).encode("utf-8", "surrogatepass")
    n = len(rec) + 1
    while len(str(n)) + len(rec) != n:
        n = len(str(n)) + len(rec)
    return str(n).encode() + rec


def test_pax_record_helper_writes_what_tarfile_reads():
    assert _pax(_pax_record("path", "a/b") + _pax_record("size", "12")) == {"path": "a/b", "size": "12"}


def test_a_negative_or_absurd_pax_size_is_damage():
    for size in ("-5", "-1", "1e3", "0x10", " 7", ""):
        hdr = tarfile.TarInfo("././@PaxHeader")
        hdr.type = tarfile.XHDTYPE
        rec = _pax_record("size", size)
        hdr.size = len(rec)
        blob = hdr.tobuf(tarfile.USTAR_FORMAT) + rec + bytes(-len(rec) % BLOCK)
        member = tarfile.TarInfo(TOP + "/version.txt")
        member.size = 3
        blob += member.tobuf(tarfile.USTAR_FORMAT) + b"abc" + bytes(BLOCK - 3) + bytes(1024)
        sizes = []
        try:
            for m in TarReader(io.BytesIO(blob)):
                sizes.append(m.size)
        except TarDamaged:
            pass
        assert all(n >= 0 for n in sizes), (size, sizes)


def test_a_signed_or_decorated_octal_size_is_damage():
    for field in (b"-0000000017\x00", b"+0000000017\x00", b"0o000000017\x00", b"00000_00017\x00"):
        ti = tarfile.TarInfo(TOP + "/version.txt")
        block = bytearray(ti.tobuf(tarfile.USTAR_FORMAT))
        block[124:136] = field
        _fix_checksum(block)
        sizes = []
        try:
            for m in TarReader(io.BytesIO(bytes(block) + bytes(2048))):
                sizes.append(m.size)
        except TarDamaged:
            pass
        assert sizes == [], (field, sizes)


def test_a_member_claiming_a_huge_size_is_damage_not_an_allocation():
    """GNU base-256 lets a header claim 2**86 bytes: skipping it must fail cleanly, not allocate."""
    ti = tarfile.TarInfo(TOP + "/etc/libvirt/qemu/huge.xml")
    ti.size = 1
    block = bytearray(ti.tobuf(tarfile.GNU_FORMAT))
    block[124:136] = bytes([0x80]) + (2 ** 86).to_bytes(11, "big")
    _fix_checksum(block)
    data = bytes(block) + b"x" * BLOCK + bytes(1024)
    for seekable in (False, True):
        reader = TarReader(io.BytesIO(data), seekable)
        try:
            for m in reader:
                assert m.size == 2 ** 86
        except TarDamaged as e:
            assert "truncated" in str(e)
        else:
            raise AssertionError("a 2**86-byte member in 2 KiB was not called damage")


# --- the collector on top of it ---------------------------------------------------------------

def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def _check_collected(c):
    assert not c.nested or all(n.length >= 0 for n in c.nested)
    for rel, data in c.files.items():
        parts = rel.split("/")
        assert not rel.startswith("/") and ".." not in parts, rel
        assert SELECTION.want(rel) is not None, rel
        assert len(data) <= LIMITS.max_member
    for p in c.problems:
        assert isinstance(p.path, str) and isinstance(p.reason, str)


LIMITS = Limits(max_member=4096, max_total=1 << 30, max_depth=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(ARCHIVES)), st.sampled_from(["tar", "xz", "gzip"]), st.data())
def test_read_archive_never_raises_on_mutated_archives(tmp_path, fmt, compression, data):
    raw = bytearray(ARCHIVES[fmt])
    for _ in range(data.draw(st.integers(0, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    payload = bytes(raw)
    if compression == "xz":
        payload = lzma.compress(payload)
    elif compression == "gzip":
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        payload = c.compress(payload) + c.flush()
    if compression != "tar":  # damage the compressed bytes too, now and then
        payload = bytearray(payload)
        for _ in range(data.draw(st.integers(0, 3))):
            i = data.draw(st.integers(0, len(payload) - 1))
            payload[i] ^= data.draw(st.integers(1, 255))
        payload = bytes(payload)
    path = _write(tmp_path, "r.bin", payload)
    kind = detect.sniff_file(path)
    if kind not in detect.COMPRESSED and kind != detect.TAR:
        return  # inputs.py refuses it before any reading: tested in test_hostile
    c = read_archive("r", path, kind, LIMITS, SELECTION)
    _check_collected(c)


_NAMES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(["..", ".", "", "etc", "libvirt", "qemu", "x.xml", "sos_commands", "virsh",
                              "virsh_-r_dumpxml_a", TOP, "/", "\x1b[2J", "sosreport-other"]),
             max_size=8).map("/".join),
)
_KINDS = st.sampled_from(["file", "dir", "symlink", "hardlink", "char device", "block device", "fifo",
                          "sparse file", "other"])


@PROPS
@given(st.lists(st.tuples(_NAMES, _KINDS, _NAMES, st.integers(0, 9000)), min_size=1, max_size=30))
def test_collector_never_keeps_an_unsafe_name_whatever_the_members(members):
    """Any names, types and link targets in any order: nothing raises, nothing unsafe is kept, the
    kept bytes are the member's own."""
    col = Collector("r", LIMITS, SELECTION)

    class Data:
        can_nest = False

        def __init__(self, size):
            self.size = size

        def read(self, n):
            return b"d" * min(n, self.size)

        def chunks(self):
            yield b"d" * self.size

        def peek(self, n):
            return b""

        def location(self):
            return None

    for name, kind, link, size in members:
        m = Member(name, kind, size, link, 0)
        col.member(m, col.relpath(name), Data(size))
    c = col.finish(len(members), None)
    _check_collected(c)
    assert len(c.problems) <= 4 * 20 + 8  # folded per reason: a flood of bad members stays short


def test_a_hostile_first_member_does_not_hide_the_report():
    """The first member decides the report's top directory, unless its name is unusable."""
    for first in ("../../evil", "/etc/passwd", "./", "", TOP + "/../../x", "stray-file"):
        col = Collector("r", LIMITS, SELECTION)
        col.relpath(first)
        assert col.relpath(TOP + "/etc/libvirt/qemu/a.xml") == "etc/libvirt/qemu/a.xml", first
    # a report without a top directory keeps its paths, also after a sosreport-* member
    col = Collector("r", LIMITS, SELECTION)
    assert col.relpath("etc/libvirt/qemu/a.xml") == "etc/libvirt/qemu/a.xml"
    col.relpath(TOP + "/x")
    assert col.relpath("etc/libvirt/qemu/b.xml") == "etc/libvirt/qemu/b.xml"
    # a collect bundle's node tarballs at its top keep their names
    col = Collector("r", LIMITS, SELECTION)
    col.relpath("sos_logs/")
    assert col.relpath("sosreport-node1-2026.tar.xz") == "sosreport-node1-2026.tar.xz"


# --- detection ---------------------------------------------------------------------------------

@PROPS
@given(st.binary(max_size=1024))
def test_detection_never_raises(head):
    assert detect.sniff(head) in (detect.XZ, detect.GZIP, detect.BZIP2, detect.TAR, detect.ZSTD, detect.GPG,
                                  detect.EMPTY, detect.UNKNOWN)
    detect.explain(detect.sniff(head))


def test_random_bytes_are_rarely_taken_for_gpg():
    rng = random.Random(6)
    as_gpg = sum(detect.sniff(rng.randbytes(512)) == detect.GPG for _ in range(20000))
    assert as_gpg < 20  # the tag byte alone would take ~4% (800 of these) for gpg


def test_what_gpg_writes_is_gpg():
    for head in (bytes.fromhex("8c0d04090302") + os.urandom(20),  # gpg -c (AES-256, iterated S2K)
                 bytes.fromhex("85018c03a2cc05d1a3845470010bff54"),  # gpg -e, RSA 3072
                 bytes.fromhex("845e03") + os.urandom(20),  # gpg -e, cv25519
                 bytes.fromhex("c30d04090302") + os.urandom(20),  # new-format tag 3
                 b"-----BEGIN PGP MESSAGE-----\n"):
        assert detect.sniff(head) == detect.GPG, head[:8]

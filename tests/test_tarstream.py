"""The hand-rolled tar reader agrees with tarfile on every format sos and people produce, and
fails loudly (TarDamaged) rather than wrongly on damage."""

import io
import lzma
import os
import tarfile

import pytest
from hypothesis import given, settings, strategies as st

from analyzer.archive import detect
from analyzer.archive.decompress import open_stream
from analyzer.archive.tarstream import TarDamaged, TarReader


def _tar(fmt, entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
                t.addfile(ti)
    return buf.getvalue()


ENTRIES = [
    ("sosreport-h-2026-01-01-abc", "dir", None),
    ("sosreport-h-2026-01-01-abc/version.txt", "file", b"sosreport: 4.0\n"),
    ("sosreport-h-2026-01-01-abc/" + "d" * 120 + "/long-name-over-100-chars.xml", "file", b"<domain/>"),
    ("sosreport-h-2026-01-01-abc/etc/libvirt/qemu/inst\u00e9.xml", "file", b"x" * 5000),
    ("sosreport-h-2026-01-01-abc/hostname", "symlink", "sos_commands/host/hostname"),
    ("sosreport-h-2026-01-01-abc/fifo", "fifo", None),
    ("sosreport-h-2026-01-01-abc/empty", "file", b""),
]


def _read_all(data, seekable=False):
    out = []
    reader = TarReader(io.BytesIO(data), seekable)
    for m in reader:
        body = reader.read(m, m.size) if m.type == "file" else None
        out.append((m.name.rstrip("/"), m.type, body, m.linkname or None))
    return out


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("seekable", [False, True])
def test_same_members_and_bytes_as_tarfile(fmt, seekable):
    entries = ENTRIES if fmt != tarfile.USTAR_FORMAT else [e for e in ENTRIES if "\u00e9" not in e[0]]
    data = _tar(fmt, entries)
    got = _read_all(data, seekable)
    expected = []
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for ti in t:
            body = t.extractfile(ti).read() if ti.isfile() else None
            kind = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.FIFOTYPE: "fifo"}.get(ti.type, "file")
            expected.append((ti.name, kind, body, ti.linkname or None))
    assert got == expected


def test_unread_members_are_skipped_without_reading_them():
    data = _tar(tarfile.GNU_FORMAT, ENTRIES)
    reader = TarReader(io.BytesIO(data))
    names = [m.name for m in reader]  # never read any data
    assert len(names) == len(ENTRIES)


def test_truncated_archive_raises_after_the_members_before_it():
    data = _tar(tarfile.GNU_FORMAT, ENTRIES)
    cut = data[: len(data) // 2]
    reader = TarReader(io.BytesIO(cut))
    seen = []
    with pytest.raises(TarDamaged, match="truncated"):
        for m in reader:
            seen.append(m.name)
    assert any(n.endswith("version.txt") for n in seen)


def test_bad_checksum_is_damage_not_garbage():
    data = bytearray(_tar(tarfile.GNU_FORMAT, ENTRIES))
    data[512 + 10] ^= 0xFF  # inside the second header (version.txt) name
    with pytest.raises(TarDamaged, match="checksum"):
        list(TarReader(io.BytesIO(bytes(data))))


def test_empty_stream_is_damage():
    with pytest.raises(TarDamaged, match="empty"):
        list(TarReader(io.BytesIO(b"")))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=0, max_value=3000))
def test_random_and_mutated_input_only_ever_raises_tardamaged(noise, where):
    base = bytearray(_tar(tarfile.PAX_FORMAT, ENTRIES))
    base[where:where + len(noise)] = noise
    for data in (bytes(base), noise):
        reader = TarReader(io.BytesIO(data))
        try:
            for m in reader:
                if m.type == "file" and m.size < 10000:
                    reader.read(m, m.size)
        except TarDamaged:
            pass


def test_decompressed_stream_through_xz_process_and_python_fallback(tmp_path, monkeypatch):
    data = _tar(tarfile.PAX_FORMAT, ENTRIES)
    p = tmp_path / "r.tar.xz"
    p.write_bytes(lzma.compress(data))
    assert detect.sniff_file(str(p)) == detect.XZ
    with open_stream(str(p), detect.XZ) as (s, err, seekable):
        names = [m.name for m in TarReader(s, seekable)]
        assert err() is None
    monkeypatch.setattr("shutil.which", lambda name: None)  # no xz binary: stdlib lzma
    with open_stream(str(p), detect.XZ) as (s, err, seekable):
        assert [m.name for m in TarReader(s, seekable)] == names


def test_corrupt_xz_is_reported_by_the_decompressor(tmp_path):
    raw = bytearray(lzma.compress(_tar(tarfile.PAX_FORMAT, ENTRIES * 50)))
    for i in range(200, len(raw) - 100, 97):
        raw[i] ^= 0x55
    p = tmp_path / "bad.tar.xz"
    p.write_bytes(bytes(raw))
    with open_stream(str(p), detect.XZ) as (s, err, seekable):
        with pytest.raises(TarDamaged):
            list(TarReader(s, seekable))
        assert err() is not None and "xz" in err()


@pytest.mark.parametrize("head,kind", [
    (b"\xfd7zXZ\x00rest", detect.XZ), (b"\x1f\x8b\x08", detect.GZIP), (b"BZh91AY", detect.BZIP2),
    (b"\x28\xb5\x2f\xfd", detect.ZSTD), (b"", detect.EMPTY), (b"-----BEGIN PGP MESSAGE-----", detect.GPG),
    (b"\x85\x01\x0c\x03", detect.GPG), (b"\x84\x5e\x03", detect.GPG), (os.urandom(0) + b"hello world", detect.UNKNOWN),
])
def test_detection_by_magic_bytes(head, kind):
    assert detect.sniff(head) == kind


def test_plain_tar_detected_by_content_whatever_its_name():
    assert detect.sniff(_tar(tarfile.GNU_FORMAT, ENTRIES)[:512]) == detect.TAR

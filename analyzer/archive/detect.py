"""What is this file? Decided by its first bytes, never by its name.

Customers rename files, mail clients append `.txt`, and `sos clean` adds `-obfuscated`: the name is a
hint for people, the magic bytes are the truth. The answer is one of the KIND_* strings; anything
the analyzer cannot read gets a one-line explanation that says what to do instead.
"""

from __future__ import annotations

XZ = "xz"
GZIP = "gzip"
BZIP2 = "bzip2"
TAR = "tar"
ZSTD = "zstd"
GPG = "gpg"
EMPTY = "empty"
UNKNOWN = "unknown"

COMPRESSED = (XZ, GZIP, BZIP2)

_HEAD = 512  # a tar header is one 512-byte block; "ustar" sits at offset 257


def sniff(head: bytes) -> str:
    """Classify a file (or a tar member) from its first 512 bytes."""
    if not head:
        return EMPTY
    if head.startswith(b"\xfd7zXZ\x00"):
        return XZ
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4].isdigit():
        return BZIP2
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return ZSTD
    if len(head) >= 263 and head[257:262] == b"ustar":
        return TAR
    if head.startswith(b"-----BEGIN PGP"):
        return GPG
    if _looks_like_openpgp_packet(head):
        return GPG
    if len(head) >= 512 and _is_v7_tar_header(head[:512]):
        return TAR
    return UNKNOWN


def sniff_file(path: str) -> str:
    with open(path, "rb") as f:
        return sniff(f.read(_HEAD))


def explain(kind: str) -> str:
    """Why a file of this kind cannot be analyzed, and what to do about it."""
    return {
        EMPTY: "the file is empty (an interrupted download or copy?)",
        GPG: "the report is encrypted with gpg; decrypt it first: gpg -o report.tar.xz -d FILE",
        ZSTD: "zstd-compressed archives are not produced by sos; decompress with zstd -d first",
        UNKNOWN: "not a sosreport: neither a tar archive nor xz/gzip/bzip2-compressed tar",
    }.get(kind, "cannot read a %s file" % kind)


def _looks_like_openpgp_packet(head: bytes) -> bool:
    """Binary OpenPGP as gpg writes an encrypted file: a public-key (tag 1) or symmetric-key (tag 3)
    encrypted session key packet, old or new format. Checked after every archive magic, so it cannot
    shadow one. The tag alone would take one random file in 25 for gpg: the packet's length and
    version (and for tag 3 the cipher and S2K type) must be plausible too.

        85 01 8c 03 ...   gpg -e: tag 1, two-byte length 396, version 3
        8c 0d 04 09 03    gpg -c: tag 3, length 13, version 4, AES-256, iterated+salted S2K
    """
    b = head[0]
    if not b & 0x80:
        return False
    if b & 0x40:  # new format: one-, two- or five-octet length (partial lengths are not allowed here)
        tag = b & 0x3F
        if len(head) < 2:
            return False
        first = head[1]
        if first < 192:
            length, pos = first, 2
        elif first < 224:
            if len(head) < 3:
                return False
            length, pos = ((first - 192) << 8) + head[2] + 192, 3
        elif first == 255:
            if len(head) < 6:
                return False
            length, pos = int.from_bytes(head[2:6], "big"), 6
        else:
            return False
    else:
        tag = (b >> 2) & 0x0F
        width = {0: 1, 1: 2, 2: 4}.get(b & 3)
        if width is None or len(head) < 1 + width:
            return False
        length, pos = int.from_bytes(head[1:1 + width], "big"), 1 + width
    if tag not in (1, 3) or len(head) <= pos:
        return False
    version = head[pos]
    if tag == 1:
        return version in (3, 6) and 10 <= length <= 4096
    if version not in (4, 5, 6) or not 4 <= length <= 512:
        return False
    if version == 4 and len(head) > pos + 2:
        return 1 <= head[pos + 1] <= 13 and head[pos + 2] in (0, 1, 3)
    return True


def _is_v7_tar_header(block: bytes) -> bool:
    """Pre-POSIX tar has no magic: accept it only when the header checksum is right."""
    try:
        stored = int(block[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:])
    return stored == computed and block[0:1] not in (b"\x00", b"")

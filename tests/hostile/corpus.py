"""The hostile-input corpus, generated at test time (nothing large is committed).

Every case is an INPUT for the real CLI plus what a correct run looks like: the exit statuses
allowed, the problem (or the one stderr line) that must say what was skipped, the paths an
extraction-style attack would have written to, and the strings that must never reach any output
(the other guest smuggled in through the attack, /etc/passwd). Where the attack sits inside a report,
the report also holds one ordinary guest, SURVIVOR, that must still be reported.

    python tests/hostile/corpus.py DEST [CASE...]    build cases into DEST and list them

Archives are written member by member (`Raw`), so a case can hold what no honest tar tool writes:
`..` names, absolute names, links out of the report, devices, a 4 GiB member. The 4 GiB all-zero
member is never held anywhere: one xz stream of 64 MiB of zeros is written 64 times in a row (xz
decodes concatenated streams as one), so the file stays under 1 MiB and costs a second to build.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.sosbuilder import (  # noqa: E402
    GuestSpec, HostSpec, domain_xml, iter_members, persistent_file_xml, report_name,
    write_collect_bundle, write_tarball, write_tree)

SURVIVOR = GuestSpec(uuid="5afe5afe-0000-4000-8000-000000000001", domain_name="instance-5afe0001",
                     display_name="survivor-ok")
# A guest that only an attack could bring in (through a link, an absolute name, an entity ...):
# it must never be reported.
EVIL_UUID = "e7e1e7e1-0000-4000-8000-00000000e7e1"
EVIL = GuestSpec(uuid=EVIL_UUID, domain_name="instance-e7e1", display_name="smuggled-evil")
XI_UUID = "0c1c0c1c-0000-4000-8000-000000000001"
HOST = HostSpec(hostname="compute-hostile", guests=[SURVIVOR])
# Lines of /etc/passwd that must never show up in any output.
SECRETS = ("root:x:0:0", "daemon:x:1:1", "/usr/sbin/nologin")
# Markup and terminal sequences used as names.
HTML_NAMES = ('<script>alert("xss")</script>', '"><img src=x onerror=alert(1)>')
HTML_RAW = ("<script>alert", "<img src=x")  # must never appear unescaped in the HTML
ZERO_SIZE = 4 << 30
_ZERO_PIECE = 64 << 20


@dataclass
class Case:
    name: str
    inputs: list  # INPUT paths for the CLI
    exits: tuple = (0,)  # allowed exit statuses
    survivor: bool = True  # SURVIVOR must be in the report
    problem: Optional[str] = None  # regex one of the JSON problems/errors must match
    stderr: Optional[str] = None  # regex the single stderr line must match (exit 2)
    targets: list = field(default_factory=list)  # absolute paths that must not exist afterwards
    rel_targets: list = field(default_factory=list)  # names an extraction would write, relative
    forbidden: tuple = ()  # strings never allowed in any output (SECRETS and EVIL's name always)
    absent_guests: tuple = ()  # UUIDs that must not be reported (EVIL_UUID always)
    formats: tuple = ("json", "text", "html")
    user: Optional[str] = None  # run as this user (root reads every file: unreadable needs another)
    args: tuple = ()
    expect_guests: tuple = ()  # other UUIDs that must be reported
    max_seconds: float = 60.0  # set tighter where a case guards against a slowness seen before
    max_output: Optional[int] = None  # bytes: the output must not be a copy of a huge value


# ---------------------------------------------------------------------------------------------
# Writing archives member by member


@dataclass
class Raw:
    """One tar member exactly as given: name, type and link target are not checked."""

    name: str
    data: Union[bytes, tuple] = b""  # bytes, or (size, chunks callable)
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    fmt: int = tarfile.PAX_FORMAT
    pax: Optional[dict] = None
    dev: tuple = (0, 0)
    mode: int = 0o644

    @property
    def size(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else self.data[0]

    def header(self) -> bytes:
        ti = tarfile.TarInfo(self.name)
        ti.type = self.type
        ti.linkname = self.linkname
        ti.mode = self.mode
        ti.mtime = 1795000000
        ti.uname = ti.gname = "root"
        ti.devmajor, ti.devminor = self.dev
        ti.size = self.size if self.type in (tarfile.REGTYPE, tarfile.AREGTYPE, b"Z") else 0
        if self.pax:
            ti.pax_headers = dict(self.pax)
        return ti.tobuf(self.fmt, "utf-8", "surrogateescape")

    def chunks(self) -> Iterator[bytes]:
        if isinstance(self.data, bytes):
            if self.data:
                yield self.data
        else:
            yield from self.data[1]()

    def blocks(self) -> Iterator[bytes]:
        yield self.header()
        if self.type in (tarfile.REGTYPE, tarfile.AREGTYPE, b"Z"):
            yield from self.chunks()
            if self.size % 512:
                yield bytes(512 - self.size % 512)


def report_raws(host: HostSpec = HOST, extra: Optional[dict] = None) -> tuple[str, list]:
    """The report's top directory name and its members as Raws, sorted like sos writes them."""
    top = report_name(host)
    raws = [Raw(top + "/", type=tarfile.DIRTYPE, mode=0o700)]
    for m in iter_members(host, extra=extra):
        name = "%s/%s" % (top, m.path.rstrip("/"))
        if m.is_dir:
            raws.append(Raw(name + "/", type=tarfile.DIRTYPE, mode=0o755))
        elif m.link is not None:
            raws.append(Raw(name, type=tarfile.SYMTYPE, linkname=m.link, mode=0o777))
        else:
            raws.append(Raw(name, m.data if isinstance(m.data, (bytes, tuple)) else b"", mode=m.mode))
    return top, raws


def tar_chunks(raws: Iterable[Raw], end: bool = True) -> Iterator[bytes]:
    for r in raws:
        yield from r.blocks()
    if end:
        yield bytes(1024)


def _compress(chunks: Iterable[bytes], out, compression: str) -> None:
    cmd = {"xz": ["xz", "-1", "-T1", "-c"], "gz": ["gzip", "-1", "-n", "-c"]}.get(compression)
    if cmd is None:
        for c in chunks:
            out.write(c)
        return
    out.flush()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out)
    try:
        for c in chunks:
            proc.stdin.write(c)
    finally:
        proc.stdin.close()
        if proc.wait():
            raise RuntimeError("%s failed" % cmd[0])


def write_raw(path: Path, raws: Iterable[Raw], compression: str = "xz") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        _compress(tar_chunks(raws), out, compression)
    return path


def _rng(name: str) -> random.Random:
    return random.Random("hostile-" + name)


def _insert_sorted(raws: list, extra: list) -> list:
    """Hostile members placed among the report's own, in name order (after the top directory)."""
    return [raws[0]] + sorted(raws[1:] + extra, key=lambda r: r.name.rstrip("/"))


# ---------------------------------------------------------------------------------------------
# The cases


class Corpus:
    """Builds cases on demand into `root` (each once), so a test run builds only what it uses."""

    def __init__(self, root: Union[str, Path], token: Optional[str] = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.token = token or "hostile-" + uuidlib.uuid4().hex[:12]
        # Cases run as another user live here: pytest's own temporary directory is root's alone.
        self.public = Path("/tmp") / ("%s-public" % self.token)
        self._cases: dict = {}
        self._survivor_tar: Optional[Path] = None

    def get(self, name: str) -> Case:
        if name not in self._cases:
            d = self.root / name
            d.mkdir(parents=True, exist_ok=True)
            self._cases[name] = getattr(self, "case_" + name.replace("-", "_"))(d)
        return self._cases[name]

    def survivor_tar(self) -> Path:
        if self._survivor_tar is None:
            self._survivor_tar = write_tarball(HOST, self.root / "_survivor", "xz")
        return self._survivor_tar

    def _with(self, d: Path, extra: list, compression: str = "xz", fname: str = "",
              first: Optional[list] = None) -> Path:
        top, raws = report_raws()
        raws = (first or []) + _insert_sorted(raws, [Raw(top + "/" + r.name if not r.name.startswith("@") else
                                                         r.name[1:], r.data, r.type, r.linkname, r.fmt, r.pax,
                                                         r.dev, r.mode) for r in extra])
        ext = {"xz": ".tar.xz", "gz": ".tar.gz", "none": ".tar"}[compression]
        return write_raw(d / (fname or top + ext), raws, compression)

    # --- names and links inside a tarball -------------------------------------------------
    def case_traversal(self, d: Path) -> Case:
        t = self.token
        evil = domain_xml(EVIL, live=False).encode()
        first = [Raw("../../%s-first" % t, b"written before the report\n")]
        extra = [
            Raw("../../../%s-trav" % t, b"x\n"),
            Raw("etc/libvirt/qemu/../../../../../%s-wanted.xml" % t, evil),
            Raw("etc/libvirt/qemu/../qemu/instance-e7e1.xml", evil),  # '..' that stays inside
            Raw("etc/libvirt/qemu/../../../%s-\x1b]0;pwned\x07<b>x</b>" % t, b"x\n"),
            Raw("etc/libvirt/qemu/benign-e7e1.xml", evil, pax={"path": "../../%s-pax.xml" % t}),
            Raw("@" + "../" * 30 + "tmp/%s-deep" % t, b"x\n", fmt=tarfile.GNU_FORMAT),
            Raw("etc/libvirt/qemu/" + "a" * 120 + "/../../../../../../%s-gnu-long" % t, b"x\n",
                fmt=tarfile.GNU_FORMAT),
        ]
        p = self._with(d, extra, first=first)
        rel = ["../../%s-first" % t, "../../../%s-trav" % t, "../../%s-pax.xml" % t,
               "../../../../%s-wanted.xml" % t, "../%s-gnu-long" % t, "%s-first" % t]
        return Case("traversal", [str(p)], problem=r"skipped: member name contains '\.\.'",
                    rel_targets=rel, targets=["/tmp/%s-deep" % t])

    def case_absolute(self, d: Path) -> Case:
        t = self.token
        evil = domain_xml(EVIL, live=False).encode()
        first = [Raw("/tmp/%s-abs-first" % t, b"x\n")]
        extra = [Raw("@/tmp/%s/abs" % t, b"x\n"),
                 Raw("@/etc/libvirt/qemu/instance-e7e1.xml", evil),
                 Raw("@//tmp/%s-double" % t, b"x\n"),
                 Raw("@/run/libvirt/qemu/instance-e7e1.xml", evil, fmt=tarfile.GNU_FORMAT)]
        p = self._with(d, extra, first=first)
        return Case("absolute", [str(p)], problem="skipped: absolute member name",
                    targets=["/tmp/%s-abs-first" % t, "/tmp/%s" % t, "/tmp/%s-double" % t])

    def case_symlinks_out(self, d: Path) -> Case:
        t = self.token
        extra = [Raw("etc/libvirt/qemu/instance-e7e1.xml", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
                 Raw("etc/libvirt/qemu/rel-e7e1.xml", type=tarfile.SYMTYPE,
                     linkname="../../../../../../../etc/passwd"),
                 Raw("etc/hostname", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
                 Raw("sos_commands/virsh/virsh_-r_dumpxml_instance-e7e1", type=tarfile.SYMTYPE,
                     linkname="/tmp/%s-link-target" % t),
                 Raw("evil-link", type=tarfile.SYMTYPE, linkname="/tmp/%s-top-link" % t)]
        p = self._with(d, extra)
        return Case("symlinks-out", [str(p)], problem="skipped: symlink to /etc/passwd points outside the report",
                    targets=["/tmp/%s-link-target" % t, "/tmp/%s-top-link" % t])

    def case_hardlinks_out(self, d: Path) -> Case:
        extra = [Raw("etc/libvirt/qemu/instance-e7e1.xml", type=tarfile.LNKTYPE, linkname="/etc/passwd"),
                 Raw("run/libvirt/qemu/instance-e7e1.xml", type=tarfile.LNKTYPE, linkname="../../../etc/passwd"),
                 Raw("sos_commands/host/hostname.1", type=tarfile.LNKTYPE, linkname="/etc/shadow"),
                 Raw("etc/libvirt/qemu/inside.xml", type=tarfile.LNKTYPE, linkname="etc/passwd")]
        p = self._with(d, extra)
        return Case("hardlinks-out", [str(p)], problem="skipped: hardlink to /etc/passwd points outside the report")

    def case_symlinked_dir(self, d: Path) -> Case:
        """A directory that is a link out of the report, then files written through it."""
        t = self.token
        evil = domain_xml(EVIL, live=False).encode()
        lib = "var/lib/config-data/puppet-generated/nova_libvirt/etc/libvirt/qemu"
        extra = [Raw(lib, type=tarfile.SYMTYPE, linkname="/tmp/%s-linkdir" % t),
                 Raw(lib + "/instance-e7e1.xml", evil),
                 Raw("sos_commands/libvirt_guests/evil", type=tarfile.SYMTYPE, linkname="../../../../tmp/%s-ld2" % t),
                 Raw("sos_commands/libvirt_guests/evil/domains/%s.live.xml" % EVIL_UUID,
                     domain_xml(EVIL, live=True).encode()),
                 Raw("sos_commands/libvirt_guests/evil/../../../../tmp/%s-ld2/x" % t, b"x\n")]
        p = self._with(d, extra)
        return Case("symlinked-dir", [str(p)], problem="skipped: its path passes through the link",
                    targets=["/tmp/%s-linkdir" % t, "/tmp/%s-ld2" % t])

    def case_devices(self, d: Path) -> Case:
        extra = [Raw("etc/libvirt/qemu/instance-e7e1.xml", type=tarfile.CHRTYPE, dev=(1, 5)),
                 Raw("run/libvirt/qemu/instance-e7e1.xml", type=tarfile.BLKTYPE, dev=(8, 0)),
                 Raw("sos_commands/virsh/virsh_-r_dumpxml_instance-e7e1", type=tarfile.FIFOTYPE),
                 Raw("var/log/nova/nova-compute.log.1", type=tarfile.FIFOTYPE),
                 Raw("sos_commands/virsh/virsh_-r_dumpxml_unknown", b"<domain/>" * 100, type=b"Z"),
                 Raw("dev/null", type=tarfile.CHRTYPE, dev=(1, 3))]
        p = self._with(d, extra)
        return Case("devices", [str(p)], problem="skipped: (char device|fifo|block device) member")

    # --- the same attacks in an extracted directory -----------------------------------------
    def case_tree_links(self, d: Path) -> Case:
        top = write_tree(HOST, d / "tree")
        outside = d / "outside"
        outside.mkdir()
        (outside / "instance-e7e1.xml").write_text(persistent_file_xml(EVIL))
        (outside / ("%s.live.xml" % EVIL_UUID)).write_text(domain_xml(EVIL, live=True))
        q = top / "etc/libvirt/qemu"
        os.symlink("/etc/passwd", q / "instance-e7e1.xml")
        os.symlink("../../../../../../../../../etc/passwd", q / "rel-e7e1.xml")
        os.symlink(str(outside / "instance-e7e1.xml"), top / "run/libvirt/qemu/instance-e7e1.xml")
        (top / "etc/hostname").unlink(missing_ok=True)
        os.symlink("/etc/passwd", top / "etc/hostname")
        lib = top / "var/lib/config-data/puppet-generated/nova_libvirt/etc/libvirt"
        lib.mkdir(parents=True)
        os.symlink(str(outside), lib / "qemu")
        os.symlink(str(outside), top / "sos_commands/libvirt_guests/evil")
        os.symlink("../../" + "../" * 10 + str(outside).lstrip("/"), top / "sos_commands/virsh/evil")
        return Case("tree-links", [str(top)], problem="points outside the report")

    def case_tree_specials(self, d: Path) -> Case:
        top = write_tree(HOST, d / "tree")
        os.mkfifo(top / "etc/libvirt/qemu/instance-e7e1.xml")
        os.mkfifo(top / "var/log/nova/nova-compute.log.1")
        try:
            os.mknod(top / "run/libvirt/qemu/instance-e7e1.xml", 0o644 | stat.S_IFCHR, os.makedev(1, 5))
        except (PermissionError, OSError):
            pass  # no CAP_MKNOD here: the FIFOs still make the case
        s = socket.socket(socket.AF_UNIX)
        try:
            s.bind(str(top / "sos_commands/virsh/virsh_-r_dumpxml_instance-e7e1"))
        except OSError:
            pass
        finally:
            s.close()
        return Case("tree-specials", [str(top)], problem="skipped: not a regular file")

    # --- unreadable inputs: root reads anything, so these run as nobody ----------------------
    def _world(self, d: Path) -> Path:
        """A directory nobody can reach: pytest's base temp directory is private to root."""
        self.public.mkdir(exist_ok=True)
        os.chmod(self.public, 0o755)
        return self.public

    def case_unreadable_file(self, d: Path) -> Case:
        pub = self._world(d) / "unreadable-file"
        pub.mkdir(exist_ok=True)
        os.chmod(pub, 0o755)
        p = pub / self.survivor_tar().name
        shutil.copy(self.survivor_tar(), p)
        os.chmod(p, 0)
        return Case("unreadable-file", [str(p)], exits=(2,), survivor=False, user="nobody",
                    stderr=r"cannot read: Permission denied")

    def case_tree_unreadable(self, d: Path) -> Case:
        pub = self._world(d) / "tree-unreadable"
        top = write_tree(HOST, pub)
        for dirpath, dirnames, filenames in os.walk(pub):
            os.chmod(dirpath, 0o755)
            for f in filenames:
                os.chmod(os.path.join(dirpath, f), 0o644)
        os.chmod(pub.parent, 0o755)
        secret = top / "etc/libvirt/qemu/instance-e7e1.xml"
        secret.write_text(persistent_file_xml(EVIL))
        os.chmod(secret, 0)
        hidden = top / "sos_commands/libvirt_guests/hidden"
        (hidden / "domains").mkdir(parents=True)
        (hidden / "domains" / ("%s.live.xml" % EVIL_UUID)).write_text(domain_xml(EVIL, live=True))
        os.chmod(hidden, 0)
        return Case("tree-unreadable", [str(top)], user="nobody", problem="Permission denied")

    def case_unreadable_dir(self, d: Path) -> Case:
        top = write_tree(HOST, self._world(d) / "unreadable-dir")
        os.chmod(top.parent, 0o755)
        os.chmod(top, 0)
        return Case("unreadable-dir", [str(top)], exits=(2,), survivor=False, user="nobody",
                    stderr=r"cannot read: Permission denied", formats=("json",))

    # --- XML ---------------------------------------------------------------------------------
    def _xml_case(self, d: Path, name: str, payload: bytes, problem: Optional[str], **kw) -> Case:
        extra = [Raw("etc/libvirt/qemu/instance-e7e1.xml", payload),
                 Raw("run/libvirt/qemu/instance-e7e1.xml", payload),
                 Raw("sos_commands/virsh/virsh_-r_dumpxml_instance-e7e1", payload),
                 Raw("sos_commands/libvirt_guests/host/domains/%s.live.xml" % EVIL_UUID, payload)]
        p = self._with(d, extra)
        return Case(name, [str(p)], problem=problem, **kw)

    def case_billion_laughs(self, d: Path) -> Case:
        ents = ['<!ENTITY lol "lol">'] + ['<!ENTITY lol%d "%s">' % (i, ("&lol%s;" % ("" if i == 1 else i - 1)) * 10)
                                         for i in range(1, 10)]
        x = ('<?xml version="1.0"?>\n<!DOCTYPE domain [\n%s\n]>\n<domain type="kvm"><name>&lol9;</name>'
             "<uuid>%s</uuid></domain>\n" % ("\n".join(ents), EVIL_UUID))
        return self._xml_case(d, "billion-laughs", x.encode(), r"rejected: .*(DTD|entit)")

    def case_xxe(self, d: Path) -> Case:
        x = ('<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
             '<domain type="kvm"><name>&xxe;</name><uuid>%s</uuid><metadata>'
             '<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1"><nova:name>&xxe;'
             "</nova:name></nova:instance></metadata></domain>\n" % EVIL_UUID)
        case = self._xml_case(d, "xxe", x.encode(), r"rejected: .*(DTD|entit|external)", expect_guests=(XI_UUID,))
        # The other doors to a file: a parameter entity, an external DTD, XInclude.
        more = [
            '<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY %% p SYSTEM "file:///etc/passwd"> %%p;]>\n'
            "<domain><uuid>%s</uuid></domain>" % EVIL_UUID,
            '<?xml version="1.0"?>\n<!DOCTYPE domain SYSTEM "file:///etc/passwd">\n<domain><uuid>%s</uuid></domain>'
            % EVIL_UUID,
            # well-formed, and a domain: XInclude must stay an unknown element, never an inclusion
            '<domain xmlns:xi="http://www.w3.org/2001/XInclude"><name><xi:include href="file:///etc/passwd" '
            'parse="text"/></name><uuid>%s</uuid></domain>' % XI_UUID,
        ]
        top, raws = report_raws()
        extra = [Raw("%s/etc/libvirt/qemu/instance-x%d.xml" % (top, i), m.encode()) for i, m in enumerate(more)]
        write_raw(Path(case.inputs[0]), _insert_sorted(raws, extra + [
            Raw("%s/%s" % (top, r), x.encode()) for r in ("etc/libvirt/qemu/instance-e7e1.xml",
                                                         "sos_commands/virsh/virsh_-r_dumpxml_instance-e7e1")]))
        return case

    def case_deep_nesting(self, d: Path) -> Case:
        n = 200_000
        x = b"<domain><uuid>" + EVIL_UUID.encode() + b"</uuid>" + b"<a>" * n + b"</a>" * n + b"</domain>"
        case = self._xml_case(d, "deep-nesting", x, r"nested deeper than")
        return case

    def case_deep_json(self, d: Path) -> Case:
        """The plugin's summary.json nested 200,000 deep (json recursion), and random bytes."""
        deep = b"[" * 200_000 + b"]" * 200_000
        extra = [Raw("sos_commands/libvirt_guests/summary.json", deep),
                 Raw("sos_reports/manifest.json", b'{"a":' * 100_000 + b"1" + b"}" * 100_000)]
        top, raws = report_raws()
        raws = [r for r in raws if not r.name.endswith(("libvirt_guests/summary.json", "sos_reports/manifest.json"))]
        p = write_raw(d / (top + ".tar.xz"), _insert_sorted(raws, [Raw(top + "/" + e.name, e.data) for e in extra]))
        return Case("deep-json", [str(p)], problem="unreadable plugin summary")

    def case_malformed_xml(self, d: Path) -> Case:
        top, raws = report_raws()
        docs = {
            "malformed": b"<domain><name>x</nam></domain>",
            "empty": b"",
            "blank": b"   \n\t\n",
            "latin1-undeclared": ("<domain><name>caf\xe9</name><uuid>%s</uuid></domain>" % EVIL_UUID).encode("latin-1"),
            "random": _rng("xml").randbytes(4096),
            "nul": b"<domain>\x00</domain>",
            "bad-encoding": b'<?xml version="1.0" encoding="x-no-such"?><domain/>',
            "utf16-bom": "<domain><uuid>0f160f16</uuid></domain>",
            "not-domain": b"<network><name>default</name></network>",
            "truncated": domain_xml(EVIL, live=True).encode()[:300],
        }
        extra = []
        for k, v in docs.items():
            data = v.encode("utf-16") if isinstance(v, str) else v
            extra.append(Raw("%s/etc/libvirt/qemu/instance-%s.xml" % (top, k), data))
            extra.append(Raw("%s/sos_commands/virsh/virsh_-r_dumpxml_instance-%s" % (top, k), data))
        p = write_raw(d / (top + ".tar.xz"), _insert_sorted(raws, extra))
        return Case("malformed-xml", [str(p)], problem="malformed XML|empty")

    def case_latin1_declared(self, d: Path) -> Case:
        g = GuestSpec(uuid="1a71a71a-0000-4000-8000-000000000001", domain_name="instance-1a71",
                      display_name="caf\u00e9-latin1")
        x = persistent_file_xml(g).replace("<domain", '<?xml version="1.0" encoding="ISO-8859-1"?>\n<domain', 1)
        x = x[x.index("<?xml"):]
        p = self._with(d, [Raw("etc/libvirt/qemu/instance-1a71.xml", x.encode("latin-1"))])
        return Case("latin1-declared", [str(p)], expect_guests=(g.uuid,))

    # --- names -------------------------------------------------------------------------------
    def case_huge_name(self, d: Path) -> Case:
        name = "huge-" + ("abcdefghij\u00e9\u6570<&>" * (1 << 20))[:8 << 20]
        g = GuestSpec(uuid="b16b16b1-0000-4000-8000-000000000001", domain_name="instance-b16", display_name=name)
        host = HostSpec(hostname="compute-hostile", guests=[SURVIVOR, g])
        top, raws = report_raws(host)
        p = write_raw(d / (top + ".tar.xz"), raws)
        # Cut to 4,096 characters where it is read (analyzer/bounds.py): uncut, every copy of the
        # name in the output would be as big as the name.
        return Case("huge-name", [str(p)], expect_guests=(g.uuid,), max_output=4 << 20,
                    problem=r"over-long values cut: display_name \(8,388,613 characters")

    def case_escape_names(self, d: Path) -> Case:
        esc = "\x1b[2J\x1b]0;pwned\x07\x1b[31m"
        c1 = "c1-\x9b31m\x85\u2028\u202eevil\x9b0m"
        gs = [GuestSpec(uuid="0e5c0e5c-0000-4000-8000-00000000000%d" % i, domain_name="instance-e5c%d" % i,
                        display_name=n) for i, n in enumerate(HTML_NAMES + (c1, "{{7*7}}${7*7}<%= 7 %>"), 1)]
        gs.append(GuestSpec(uuid="0e5c0e5c-0000-4000-8000-000000000009", domain_name="instance-e5c\x9b9",
                            display_name="esc-json"))
        host = HostSpec(hostname="compute-hostile", guests=[SURVIVOR] + gs)
        top, raws = report_raws(host)
        for r in raws:
            if r.name.endswith("libvirt_guests/summary.json"):  # JSON can carry ESC itself; XML cannot
                r.data = r.data.replace(b'"esc-json"', b'"esc-json' + esc.encode("unicode_escape").replace(
                    b"\\x", b"\\u00") + b'"')
            elif r.name.endswith("sos_commands/host/hostname"):
                r.data = ("compute-hostile" + esc + "\n").encode()
            elif r.name.endswith("sos_commands/virsh/virsh_-r_list_--all"):
                r.data = r.data + (" 99   instance-" + esc + "<script>alert(1)</script>   running\n").encode()
        extra = [Raw("%s/etc/libvirt/qemu/%s<script>x</script>.xml" % (top, esc), b"<domain>"),
                 Raw("%s/etc/libvirt/qemu/\u202e\x9blmx.xml" % top, b"</domain>")]
        p = write_raw(d / (top + ".tar.xz"), _insert_sorted(raws, extra))
        return Case("escape-names", [str(p)], expect_guests=tuple(g.uuid for g in gs))

    # --- size --------------------------------------------------------------------------------
    def case_zero_4g(self, d: Path) -> Case:
        """A 4 GiB all-zero member at a path the analyzer keeps, with the report on both sides."""
        top, raws = report_raws()
        bomb = Raw(top + "/etc/libvirt/qemu/instance-zzzz.xml", (ZERO_SIZE, lambda: iter(())))
        raws = _insert_sorted(raws, [bomb])
        i = raws.index(bomb)
        p = d / (top + ".tar.xz")
        piece = subprocess.run(["xz", "-9", "-T1", "-c"], input=bytes(_ZERO_PIECE), stdout=subprocess.PIPE,
                               check=True).stdout
        # Three xz streams: the members before with the bomb's header, 64 x 64 MiB of zeros, the rest.
        with open(p, "wb") as out:
            _compress(iter([b"".join(tar_chunks(raws[:i], end=False)) + bomb.header()]), out, "xz")
            out.flush()
            out.seek(0, 2)
            for _ in range(ZERO_SIZE // _ZERO_PIECE):
                out.write(piece)
            out.flush()
            _compress(tar_chunks(raws[i + 1:]), out, "xz")
        assert p.stat().st_size < (1 << 20), p.stat().st_size
        return Case("zero-4g", [str(p)], problem=r"over the 64 MiB per-file cap", formats=("json",))

    def case_members_150k(self, d: Path) -> Case:
        top, raws = report_raws()
        extra = []
        for i in range(150_000):
            if i % 15 == 0:  # 10,000 of them where the analyzer looks, each broken
                extra.append(Raw("%s/etc/libvirt/qemu/junk-%06d.xml" % (top, i), b"<domain>"))
            else:
                extra.append(Raw("%s/proc/%d/status" % (top, i), b"Name:\tx\n"))
        p = write_raw(d / (top + ".tar.xz"), _insert_sorted(raws, extra))
        return Case("members-150k", [str(p)], problem="malformed XML")

    def case_nested_12(self, d: Path) -> Case:
        deep = GuestSpec(uuid="deeddeed-0000-4000-8000-000000000012", domain_name="instance-dee",
                         display_name="twelve-deep")
        inner = write_tarball(HostSpec(hostname="compute-deep", guests=[deep]), d / "level-12", "xz")
        for level in range(11, 0, -1):
            nodes = [inner] + ([self.survivor_tar()] if level == 1 else [])
            inner = write_collect_bundle([HostSpec(hostname="level-%d" % level)], d / ("level-%d" % level),
                                         compression="xz" if level == 1 else "none", node_archives=nodes)
        return Case("nested-12", [str(inner)], exits=(2,), stderr=r"nested more than 3 bundles deep",
                    absent_guests=(deep.uuid,), forbidden=(deep.display_name,))

    def case_nested_12_allowed(self, d: Path) -> Case:
        case = self.get("nested-12")
        return Case("nested-12-allowed", case.inputs, args=("--max-depth", "12"),
                    expect_guests=("deeddeed-0000-4000-8000-000000000012",), formats=("json",))

    def case_folder_mix(self, d: Path) -> Case:
        """Several attacked reports in one folder: read in parallel worker processes."""
        folder = d / "case-0000"
        folder.mkdir()
        for name in ("traversal", "absolute", "symlinks-out", "symlinked-dir", "devices", "billion-laughs",
                     "xxe", "deep-nesting", "escape-names", "xz-truncated", "bad-header"):
            src = Path(self.get(name).inputs[0])
            shutil.copy(src, folder / ("%s-%s" % (name, src.name)))
        return Case("folder-mix", [str(folder)], problem=r"skipped: member name contains")

    # --- damaged and not-a-report files -----------------------------------------------------
    def _padded(self, d: Path, name: str) -> Path:
        pad = Raw("zzzz-padding/random.bin", _rng(name).randbytes(3 << 20))
        return self._with(d, [pad])

    def case_xz_truncated(self, d: Path) -> Case:
        p = self._padded(d, "trunc")
        data = p.read_bytes()
        p.write_bytes(data[: len(data) - (1 << 20)])
        return Case("xz-truncated", [str(p)], problem=r"stopped reading: archive is truncated at byte \d+ \(xz: Unexpected end of input\)$")

    def case_trailing_data(self, d: Path) -> Case:
        """256 MiB of zeros after the tar's end marker, inside the xz stream: nothing of it is
        needed, and the analyzer must not sit waiting for xz to decompress it."""
        top, raws = report_raws()

        def chunks():
            yield from tar_chunks(raws)
            block = bytes(1 << 20)
            for _ in range(256):
                yield block
        p = d / (top + ".tar.xz")
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "wb") as out:
            _compress(chunks(), out, "xz")
        return Case("trailing-data", [str(p)], max_seconds=3.0)

    def case_xz_corrupt(self, d: Path) -> Case:
        p = self._padded(d, "corrupt")
        data = bytearray(p.read_bytes())
        for i in range(len(data) - (1 << 20), len(data) - 4096, 4099):
            data[i] ^= 0x5A
        p.write_bytes(bytes(data))
        return Case("xz-corrupt", [str(p)], problem=r"stopped reading")

    def case_bad_header(self, d: Path) -> Case:
        """A damaged tar header in the middle of a well-compressed stream, with megabytes after it."""
        top, raws = report_raws()
        rng = _rng("bad-header")
        body = b"".join(tar_chunks(raws, end=False)) + rng.randbytes(512) + rng.randbytes(4 << 20)
        p = d / (top + ".tar.xz")
        with open(p, "wb") as out:
            _compress(iter([body]), out, "xz")
        # The decompressor is stopped at once, not waited for while it has 4 MiB left to write.
        return Case("bad-header", [str(p)], problem=r"stopped reading: corrupt tar header", max_seconds=4.5)

    def case_xz_corrupt_head(self, d: Path) -> Case:
        p = self._padded(d, "corrupt-head")
        data = bytearray(p.read_bytes())
        for i in range(12, 200):
            data[i] ^= 0xA5
        p.write_bytes(bytes(data))
        return Case("xz-corrupt-head", [str(p)], exits=(2,), survivor=False, stderr=r"not a readable archive: .*\(xz: Compressed data is corrupt\)$")

    def case_random_tar_xz(self, d: Path) -> Case:
        p = d / "sosreport-random-2026-01-01-abcdefg.tar.xz"
        p.write_bytes(_rng("random").randbytes(1 << 20))
        q = d / "sosreport-magic-2026-01-01-abcdefg.tar.xz"
        q.write_bytes(b"\xfd7zXZ\x00" + _rng("magic").randbytes(1 << 20))
        return Case("random-tar-xz", [str(p)], exits=(2,), survivor=False, stderr=r"not a sosreport")

    def case_random_xz_magic(self, d: Path) -> Case:
        q = d / "sosreport-magic-2026-01-01-abcdefg.tar.xz"
        q.write_bytes(b"\xfd7zXZ\x00" + _rng("magic").randbytes(1 << 20))
        return Case("random-xz-magic", [str(q)], exits=(2,), survivor=False, stderr=r"not a readable archive")

    def case_random_plain_tar(self, d: Path) -> Case:
        """A valid tar header, then garbage: a plain tar is read by seeking, not by a decompressor."""
        top, raws = report_raws()
        data = b"".join(tar_chunks(raws[:1], end=False)) + _rng("plain").randbytes(1 << 20)
        p = d / (top + ".tar")
        p.write_bytes(data)
        return Case("random-plain-tar", [str(p)], exits=(2,), survivor=False, stderr=r"corrupt tar header|not a")

    def case_empty_file(self, d: Path) -> Case:
        p = d / "sosreport-empty-2026-01-01-abcdefg.tar.xz"
        p.write_bytes(b"")
        return Case("empty-file", [str(p)], exits=(2,), survivor=False, stderr=r"the file is empty")

    def case_gpg(self, d: Path) -> Case:
        src = self.survivor_tar()
        p = d / (src.name + ".gpg")
        home = d / "gnupg"
        home.mkdir(mode=0o700)
        try:
            subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes", "--pinentry-mode", "loopback",
                            "--passphrase", "not-a-secret", "--symmetric", "-o", str(p), str(src)],
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            # No gpg here: a symmetric-key packet header as gpg writes it (tag 3, old format).
            p.write_bytes(b"\x8c\x0d\x04\x09\x03\x02" + _rng("gpg").randbytes(4096))
        finally:
            shutil.rmtree(home, ignore_errors=True)
        armored = d / "report.tar.xz.asc"
        armored.write_bytes(b"-----BEGIN PGP MESSAGE-----\n\njA0ECQMC" + b"A" * 64 + b"\n-----END PGP MESSAGE-----\n")
        return Case("gpg", [str(p)], exits=(2,), survivor=False, stderr=r"encrypted with gpg")

    def case_no_report_dir(self, d: Path) -> Case:
        top = d / "case-01234567"
        (top / "notes").mkdir(parents=True)
        (top / "README.txt").write_text("customer upload\n")
        (top / "notes" / "call.log").write_text("nothing here\n")
        os.mkfifo(top / "waiting.tar.xz")
        os.symlink("/etc/passwd", top / "passwd.tar.xz")
        return Case("no-report-dir", [str(top)], exits=(2,), survivor=False, stderr=r"no sosreport in this directory")

    def case_input_fifo(self, d: Path) -> Case:
        p = d / "sosreport-fifo-2026-01-01-abcdefg.tar.xz"
        os.mkfifo(p)
        return Case("input-fifo", [str(p)], exits=(2,), survivor=False, stderr=r"not a regular file")

    def case_input_link_passwd(self, d: Path) -> Case:
        p = d / "sosreport-passwd-2026-01-01-abcdefg.tar.xz"
        os.symlink("/etc/passwd", p)
        return Case("input-link-passwd", [str(p)], exits=(2,), survivor=False, stderr=r"not a sosreport")


def all_names() -> list:
    return [n[len("case_"):].replace("_", "-") for n in dir(Corpus) if n.startswith("case_")]


def main(argv: list) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-6])
        return 2
    corpus = Corpus(argv[0])
    for name in argv[1:] or all_names():
        c = corpus.get(name)
        print("%-20s %s" % (name, " ".join(c.inputs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

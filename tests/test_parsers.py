"""The domain XML and Nova metadata parsers, on real documents and on hostile ones."""

import pathlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.model import ParseError
from analyzer.parsers.domain_xml import MAX_DEPTH, parse_domain, parse_xml, to_mib
from analyzer.parsers.nova import find_nova, nova_version_of
from tests.conftest import SHARED

REAL = pathlib.Path(SHARED) / "real-world-xml"
NS = "http://openstack.org/xmlns/libvirt/nova/"


def _real(prefix):
    return next(REAL.glob(prefix + "*.xml")).read_bytes()


def test_every_real_world_domain_parses():
    files = sorted(p for p in REAL.glob("*.xml") if not p.name.startswith("9"))
    assert len(files) >= 6
    for p in files:
        d = parse_domain(p.read_bytes(), p.name)
        assert d.name and d.uuid and d.nova is not None, p.name
        assert d.nova.display_name and d.nova.flavor and d.nova.flavor.memory_mb, p.name


def test_every_generated_nova_head_block_parses():
    for p in sorted(REAL.glob("9*.xml")):
        meta, _ = find_nova(parse_xml(p.read_bytes()))
        assert meta is not None and meta.display_name == "web-01", p.name
        assert meta.flavor.id == "2" and meta.owner.user.name == "alice"
        assert meta.extra == {}, "a known HEAD element landed in extra: %s" % meta.extra


def test_run_status_file_gives_state_and_live_domain():
    d = parse_domain(_real("01_"), "run/libvirt/qemu/instance-00000001.xml")
    assert (d.status_state, d.status_reason) == ("running", "migrated")
    assert d.id is not None and d.uuid == "d1d75e2f-ada4-49bc-a963-528d89dfda25"
    assert d.disks[0].source == "rbd:nova/d1d75e2f-ada4-49bc-a963-528d89dfda25_disk"
    assert d.nova.creation_time == "2022-02-10T16:14:27Z"


def test_zed_namespace_1_1_with_ports_and_sriov():
    d = parse_domain(_real("06_"), "x")
    n = d.nova
    assert n.namespace == NS + "1.1" and n.package_version == "25.1.0"
    assert n.ports[0].uuid == "77c1dc00-af39-4463-bea0-12808f4bc340"
    assert (n.ports[0].ips[0].address, n.ports[0].ips[0].version) == ("172.1.1.43", 4)
    assert n.owner.project.uuid == "512866f9994f4ad8916d8539a7cdeec9"
    assert d.memory_mb == 64 and d.vcpus == 1
    assert d.interfaces[0].type == "hostdev" and d.interfaces[0].source == "0000:01:00.5"


def test_iscsi_volume_disk_keeps_cinder_serial():
    d = parse_domain(_real("04_"), "x")
    assert d.disks[0].serial == "9bdce751-6bd2-495a-abc0-cfedbdfdc8be"
    assert d.disks[0].source_type == "block"


def test_vendor_package_version_kept_verbatim():
    d = parse_domain(_real("03_"), "x")
    assert d.nova.package_version.endswith("el7ost")


def test_boot_from_volume_2024_2_root_has_no_uuid():
    meta, _ = find_nova(parse_xml(_real("92_")))
    assert meta.root.type == "volume" and meta.root.uuid is None


@pytest.mark.parametrize("value,unit,mib", [
    ("2097152", None, 2048), ("2097152", "KiB", 2048), ("2097152", "k", 2048), ("2048", "MiB", 2048),
    ("2", "GiB", 2048), ("2", "G", 2048), ("2147483648", "bytes", 2048), ("2147483648", "b", 2048),
    ("2000", "MB", 1907), ("1", "TiB", 1048576), ("x", "KiB", None), ("1", "parsec", None),
])
def test_memory_in_any_unit_becomes_mib(value, unit, mib):
    assert to_mib(value, unit) == mib


def _domain(metadata="", extra=""):
    return ("<domain type='kvm'><name>i-1</name><uuid>AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE</uuid>"
            "<metadata>%s</metadata><memory unit='GiB'>4</memory><vcpu>2</vcpu>%s</domain>"
            % (metadata, extra)).encode()


def _nova(version, body):
    return "<n:instance xmlns:n='%s%s'>%s</n:instance>" % (NS, version, body)


def test_uuid_canonical_lower_case():
    assert parse_domain(_domain(), "x").uuid == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    no_dash = _domain().replace(b"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", b"AAAAAAAABBBB4CCC8DDDEEEEEEEEEEEE")
    assert parse_domain(no_dash, "x").uuid == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def test_newest_nova_namespace_wins_and_others_are_listed():
    md = (_nova("1.0", "<n:name>old</n:name>") + _nova("1.1", "<n:name>new</n:name>")
          + "<o:vm xmlns:o='http://ovirt.org/vm/1.0'/>")
    d = parse_domain(_domain(md), "x")
    assert d.nova.display_name == "new" and d.nova.namespace == NS + "1.1"
    assert d.other_metadata == ["http://ovirt.org/vm/1.0"]
    md2 = _nova("2.0", "<n:name>future</n:name>") + _nova("1.1", "<n:name>new</n:name>")
    assert parse_domain(_domain(md2), "x").nova.display_name == "future"


def test_any_prefix_any_later_version_and_unknown_fields_kept():
    body = ("<zz:name>web 01</zz:name><zz:flavor name='m1' id='7'><zz:memory>512</zz:memory>"
            "<zz:vcpus>many</zz:vcpus><zz:pci count='2'>x</zz:pci></zz:flavor>"
            "<zz:shareFS tag='t'/><zz:creationTime>yesterday</zz:creationTime>")
    md = "<zz:instance xmlns:zz='%s1.7' since='x'>%s</zz:instance>" % (NS, body)
    n = parse_domain(_domain(md), "x").nova
    assert n.display_name == "web 01" and n.flavor.memory_mb == 512 and n.flavor.vcpus is None
    assert n.extra["flavor/vcpus"] == "many"
    assert n.extra["flavor/pci"] == {"@count": "2", "#text": "x"}
    assert n.extra["shareFS"] == {"@tag": "t"} and n.extra["@since"] == "x"
    assert n.creation_time is None and n.extra["creationTime"] == "yesterday"
    assert nova_version_of(NS + "1.7") == (1, 7) and nova_version_of(NS + "beta") == (-1,)


def test_domain_without_any_metadata():
    d = parse_domain(b"<domain type='qemu'><name>plain</name><uuid>x</uuid></domain>", "x")
    assert d.nova is None and d.uuid == "x" and d.memory_mb is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<domain><name>&lol3;</name></domain>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<domain><name>&x;</name></domain>"""


@pytest.mark.parametrize("data,reason", [
    (BILLION_LAUGHS, "rejected"), (XXE, "rejected"),
    (b"<!DOCTYPE domain><domain/>", "DTD"),
    (XXE.decode().encode("utf-16"), "DTD"),  # no b"<!" in the bytes: expat still sees the DTD
    (b'<!DOCTYPE d SYSTEM "http://198.51.100.1/x.dtd"><domain/>', "DTD"),
    (b'<!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><domain/>', "DTD"),
    (b"<domain>" * 200000, "deeper than %d" % MAX_DEPTH),
    (b"<domain>" + b"<a/>" * 200_000 + b"</domain>", "more than 100,000 XML elements"),
    (b"", "empty"), (b"   \n", "empty"),
    (b"<domain><name>caf\xe9</name></domain>", "malformed"),
    (b"<domain><name>x</name>", "malformed"),
    (b"\x00\xff\xfe garbage", "malformed"),
    (b"<metadata/>", "not a libvirt domain"),
    (b"<domstatus state='running'/>", "without a <domain>"),
])
def test_hostile_documents_are_one_parse_error(data, reason):
    with pytest.raises(ParseError) as e:
        parse_domain(data, "etc/libvirt/qemu/x.xml")
    assert reason in str(e.value)
    assert "root:" not in str(e.value)  # /etc/passwd never leaks into the message


# defusedxml is the oracle: whatever it refuses (it runs the slow pure-Python parser, so the
# analyzer does not use it), the analyzer's parser refuses too.
_DTD_PIECES = [b'<!DOCTYPE domain>', b'<!DOCTYPE d [<!ENTITY x "y">]>', b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
               b'<!DOCTYPE d SYSTEM "x.dtd">', b'<!DOCTYPE d PUBLIC "-//x//y" "http://x/y">',
               b'<!DOCTYPE d [<!ENTITY % p "x">]>', b'<!DOCTYPE d [<!ATTLIST domain a CDATA "v">]>',
               b'<!DOCTYPE d [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "x" NDATA n>]>']


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_DTD_PIECES), st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "latin-1"]),
       st.booleans(), st.sampled_from([b"", b"&x;", b"&lol;", b"<!-- c -->", b"<![CDATA[<!DOCTYPE x>]]>"]))
def test_whatever_defusedxml_refuses_is_refused(dtd, encoding, declare, body):
    import defusedxml
    import defusedxml.ElementTree as DET
    head = ('<?xml version="1.0" encoding="%s"?>\n' % encoding).encode() if declare else b""
    text = (head + dtd + b"<domain><name>n" + body + b"</name></domain>").decode("latin-1")
    data = text.encode(encoding)
    if encoding.startswith("utf-16") and encoding != "utf-16" and not declare:
        data = ("\ufeff" + text).encode(encoding)
    try:
        DET.fromstring(data, forbid_dtd=True)
        refused = False
    except (defusedxml.DefusedXmlException, Exception):
        refused = True
    assert refused  # every sample holds a DTD
    with pytest.raises(ParseError):
        parse_domain(data, "x")


def test_declared_latin1_document_is_valid_xml():
    d = parse_domain(b"<?xml version='1.0' encoding='ISO-8859-1'?><domain><name>caf\xe9</name></domain>", "x")
    assert d.name == "caf\u00e9"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise_anything_but_parse_error(data):
    try:
        parse_domain(data, "x")
    except ParseError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(REAL.glob("*.xml"))), st.data())
def test_mutated_real_documents_never_raise_anything_but_parse_error(path, data):
    doc = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(("flip", "cut", "dup", "insert")))
        i = data.draw(st.integers(0, max(0, len(doc) - 1)))
        if op == "flip" and doc:
            doc[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del doc[i:i + data.draw(st.integers(1, 200))]
        elif op == "dup":
            doc[i:i] = doc[i:i + data.draw(st.integers(1, 200))]
        else:
            doc[i:i] = data.draw(st.sampled_from([b"<", b">", b"&", b"'", b"<x>", b"</domain>", b"&lol;",
                                                  b"<memory unit='EiB'>99999999999999999999</memory>",
                                                  b"<vcpu>-1</vcpu>", b"<uuid/>", b"<!DOCTYPE x>"]))
    try:
        parse_domain(bytes(doc), "x")
    except ParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_display_name_round_trips(name):
    from xml.sax.saxutils import escape
    clean = "".join(c for c in name if c in "\t\n" or (0x20 <= ord(c) < 0xd800) or 0xe000 <= ord(c) < 0xfffe)
    clean = clean.replace("\r", "")
    d = parse_domain(_domain(_nova("1.1", "<n:name>%s</n:name>" % escape(clean))), "x")
    assert d.nova.display_name == clean


def test_each_real_world_file_gives_what_sources_md_describes():
    d = parse_domain(_real("01_"), "x")
    assert d.id == 2 and d.nova.package_version == "21.2.3" and d.nova.namespace == NS + "1.0"
    assert parse_domain(_real("02_"), "x").id is None  # persistent: no id

    d = parse_domain(_real("03_"), "x")
    assert d.nova.package_version == "14.0.3-8.el7ost"
    assert d.uuid == "601da52c-450f-4d8e-b502-503431536fa69"  # malformed in the source: kept verbatim
    assert len([k for k in d.disks if k.device == "disk"]) >= 2  # the extra Cinder multipath disk

    d = parse_domain(_real("04_"), "x")
    assert d.nova.package_version == "15.0.4-1.el7" and d.nova.flavor.swap_mb == 1024
    assert d.nova.root.type == "image" and any(k.device == "cdrom" for k in d.disks)

    d = parse_domain(_real("05_"), "x")
    assert d.id == 3 and d.nova.package_version == "15.0.4"

    meta, _ = find_nova(parse_xml(_real("90_")))
    assert meta.flavor.extra_specs and meta.image.uuid and meta.image.properties
    assert meta.root.type == "image" and meta.ports and meta.ports[0].ips
    meta, _ = find_nova(parse_xml(_real("91_")))
    assert meta.image.uuid is None and meta.image.properties == {"os_distro": "ubuntu"}
    assert meta.image.min_disk == 1 and meta.image.disk_format == "raw"
    assert len(meta.ports[0].ips) == 3 and {ip.version for ip in meta.ports[0].ips} == {4, 6}
    meta, _ = find_nova(parse_xml(_real("92_")))
    assert meta.image.uuid is None and meta.image.properties == {}

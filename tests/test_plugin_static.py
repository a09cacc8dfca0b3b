"""The plugin file itself: it must load in every sos it meets, and its helpers must be right.

The helpers are imported with the REAL sos (the system's 4.0, linked into a private path) when it is
present; the plugin cannot be imported without sos at all.
"""

import ast
import importlib
import os
import subprocess
import sys

import pytest

from tests.conftest import DATA, ROOT, require

PLUGIN = os.path.join(ROOT, "sos_plugin", "libvirt_guests.py")
INSTALLER = os.path.join(ROOT, "sos_plugin", "install.py")
SYSTEM_SOS = "/usr/lib/python3/dist-packages/sos"


def test_plugin_and_installer_parse_as_python_3_6():
    for path in (PLUGIN, INSTALLER):
        with open(path, encoding="utf-8") as f:
            ast.parse(f.read(), path, feature_version=(3, 6))


def test_plugin_is_tagged_for_every_distribution_sos_4_0_loads():
    tree = ast.parse(open(PLUGIN, encoding="utf-8").read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "LibvirtGuests")
    bases = {b.id for b in cls.bases if isinstance(b, ast.Name)}
    assert {"Plugin", "IndependentPlugin", "RedHatPlugin", "DebianPlugin", "UbuntuPlugin"} <= bases
    assert "collect" not in {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    doc = ast.get_docstring(tree, clean=False)
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not [s for s in strings if "--security-info" in s and s != doc]  # secrets stay out


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    require(os.path.isdir(SYSTEM_SOS), "sos is not installed (make rig installs Debian's sosreport)")
    d = tmp_path_factory.mktemp("sospath")
    os.symlink(SYSTEM_SOS, d / "sos")
    sys.path.insert(0, str(d))
    try:
        spec = importlib.util.spec_from_file_location("libvirt_guests_under_test", PLUGIN)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.path.remove(str(d))


def _data(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def test_summary_nova_fields_match_the_analyzer(plugin):
    """The summary's `nova` object must read back through the analyzer as the XML parser reads it."""
    import dataclasses

    from analyzer.parsers.domain_xml import parse_domain
    from analyzer.sources.plugin import nova_from_dict
    for name in ("ussuri-run-domstatus.xml", "ussuri-etc-persistent.xml",
                 "ocata-rdo-iscsi-root-swap-configdrive.xml", "zed-ns1.1-ports-sriov.xml"):
        xml = _data(name)
        facts = plugin.domain_facts(xml)
        expected = parse_domain(xml.encode(), name).nova
        got = nova_from_dict(facts["nova"])
        assert dataclasses.replace(got, extra={}) == dataclasses.replace(expected, extra={}), name


def test_run_status_gives_state_and_reason(plugin):
    facts = plugin.domain_facts(_data("ussuri-run-domstatus.xml"))
    assert (facts["state"], facts["state_reason"]) == ("running", "booted")
    assert facts["uuid"] == "972b2c48-f957-4284-9f27-87425af93850" and facts["id"] == 7


# libvirt's <domstatus state=...> spelling -> what `virsh list` prints (and the summary says)
XML_TO_VIRSH = {"nostate": "no state", "running": "running", "blocked": "blocked", "paused": "paused",
                "shutdown": "in shutdown", "shutoff": "shut off", "crashed": "crashed",
                "pmsuspended": "pmsuspended"}


@pytest.mark.parametrize("xml_state", sorted(XML_TO_VIRSH))
def test_run_status_state_in_virsh_spelling_with_its_reason(plugin, xml_state):
    doc = ("<domstatus state='%s' reason='ioerror' pid='7'><domain type='qemu'><name>a</name>"
           "<uuid>D1D75E2F-ADA4-49BC-A963-528D89DFDA25</uuid></domain></domstatus>" % xml_state)
    facts = plugin.domain_facts(doc)
    assert (facts["state"], facts["state_reason"]) == (XML_TO_VIRSH[xml_state], "ioerror")
    assert facts["uuid"] == "d1d75e2f-ada4-49bc-a963-528d89dfda25"


@pytest.mark.parametrize("out, expected", [
    ("paused (ioerror)\n\n", ("paused", "ioerror")), ("shut off (destroyed)\n", ("shut off", "destroyed")),
    ("in shutdown (user)", ("in shutdown", "user")), ("running", ("running", None)),
    ("no state (unknown)", ("no state", "unknown")), ("", (None, None))])
def test_domstate_reason_output(plugin, out, expected):
    assert plugin.virsh_state(out) == expected


def test_scrub_hides_every_password_form(plugin):
    text = "<graphics type='vnc' passwd='s3cret'/><graphics type=\"spice\" passwd=\"x y\"/>"
    out = plugin.scrub(text)
    assert "s3cret" not in out and "x y" not in out and out.count("********") == 2


def test_list_table_with_spaces_in_names(plugin):
    table = " Id   Name            State\n----\n 1    my vm  one      running\n -    other   shut off\n"
    assert plugin.parse_list_table(table) == {"my vm  one": "running", "other": "shut off"}


def _fake_sos(tmp_path):
    plugins = tmp_path / "lib" / "sos" / "report" / "plugins"
    plugins.mkdir(parents=True)
    for d in (tmp_path / "lib" / "sos", tmp_path / "lib" / "sos" / "report", plugins):
        (d / "__init__.py").write_text("")
    return plugins


def _installer(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "lib"))
    return subprocess.run([sys.executable, INSTALLER, "--python", sys.executable, *args], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def test_installer_dry_run_install_uninstall(tmp_path):
    plugins = _fake_sos(tmp_path)
    target = plugins / "libvirt_guests.py"
    out = _installer(tmp_path, "--dry-run")
    assert out.returncode == 0 and "would copy" in out.stdout and not target.exists()
    out = _installer(tmp_path)
    assert out.returncode == 0 and target.read_bytes() == open(PLUGIN, "rb").read()
    assert "already installed" in _installer(tmp_path).stdout
    out = _installer(tmp_path, "--uninstall", "--dry-run")
    assert "would remove" in out.stdout and target.exists()
    assert _installer(tmp_path, "--uninstall").returncode == 0 and not target.exists()


def test_installer_without_sos_says_so(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run([sys.executable, "-S", INSTALLER, "--python", sys.executable], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert out.returncode != 0 and "sos is not importable" in out.stderr
    assert "Traceback" not in out.stderr


def _python36():
    import glob
    import shutil
    for cand in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.6*/bin/python3.6"))) + [
            "/usr/bin/python3.6", "/usr/local/bin/python3.6", shutil.which("python3.6") or ""]:
        if cand and "/shims/" not in cand and os.access(cand, os.X_OK):
            return cand
    return None


def test_plugin_imports_and_runs_its_helpers_under_python_3_6(tmp_path):
    """Not only the syntax: a real Python 3.6 (RHEL 8's platform Python) loads the plugin under the
    real sos 4.0 and runs its XML and summary helpers on a Zed-shaped Nova domain."""
    py36 = _python36()
    if py36 is None:
        pytest.skip("no Python 3.6 interpreter on this machine (the rig does not install one)")
    require(os.path.isdir(SYSTEM_SOS), "the system sos 4.0 is not installed (make rig)")
    (tmp_path / "sos").symlink_to(SYSTEM_SOS)
    code = (
        "import sys, json, importlib.util\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "spec = importlib.util.spec_from_file_location('libvirt_guests', sys.argv[2])\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "facts = m.domain_facts(open(sys.argv[3], encoding='utf-8').read())\n"
        "summary = {'sources': [{'name': 'host', 'kind': 'host', 'live_data': True, 'error': None,\n"
        "            'list_command': 'virsh -r list --all --uuid', 'domains': [dict(facts, state='running',\n"
        "            state_reason='booted', persistent=True, files={})]}]}\n"
        "print(json.dumps({'version': sys.version_info[:2], 'name': facts['nova']['display_name'],\n"
        "                  'table': m.summary_table(summary)}))\n")
    out = subprocess.run([py36, "-c", code, str(tmp_path), PLUGIN, os.path.join(DATA, "zed-ns1.1-ports-sriov.xml")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    got = __import__("json").loads(out.stdout)
    assert got["version"] == [3, 6]
    assert got["name"] == "sriov-probe"
    assert "sriov-probe" in got["table"]

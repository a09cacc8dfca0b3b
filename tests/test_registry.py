"""The registry is the one place a source is declared: every entry has a reader and an example it
matches, every reader module is registered, and the archive layer depends on none of them."""

import ast
import pkgutil
from pathlib import Path

import pytest

import analyzer.sources
from analyzer.archive.select import BYTES, STREAM
from analyzer.sources.registry import SELECTION, SOURCES

ROOT = Path(__file__).resolve().parent.parent
_NOT_SOURCES = {"base", "registry"}


def test_every_module_in_sources_is_registered_and_every_registered_one_reads_something():
    modules = {m.name for m in pkgutil.iter_modules(analyzer.sources.__path__)} - _NOT_SOURCES
    assert modules == {s.__name__.rsplit(".", 1)[1] for s in SOURCES}
    for s in SOURCES:
        assert callable(getattr(s, "read", None)), s.__name__
        assert s.MEMBERS, "%s declares no member: a reader with no pattern" % s.__name__


@pytest.mark.parametrize("w", list(SELECTION.wanted.values()), ids=lambda w: w.tag)
def test_each_entry_matches_its_example_and_no_other_entry_claims_it(w):
    assert w.example, "%s: give a real example path" % w.tag
    assert SELECTION.want(w.example) is w
    assert w.mode in (BYTES, STREAM)
    # a tree walk reaches it: every ancestor directory may hold a wanted member
    parts = w.example.split("/")[:-1]
    assert all(SELECTION.may_contain("/".join(parts[:i])) for i in range(1, len(parts) + 1)), w.example


def _tags_asked_for(tree):
    """Tags a reader names: view.paths("x"), view.streams.get("x"), view.stream_paths.get("x")."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            continue
        owner = node.func.value
        if node.func.attr == "paths" or (node.func.attr == "get" and isinstance(owner, ast.Attribute)
                                         and owner.attr in ("streams", "stream_paths")):
            yield node.args[0].value


def test_every_reader_reads_only_tags_it_declares():
    """A reader asking for a tag it did not declare would silently get nothing."""
    for s in SOURCES:
        used = set(_tags_asked_for(ast.parse(Path(s.__file__).read_text())))
        assert used <= {w.tag for w in s.MEMBERS}, (s.__name__, used)


def test_the_archive_layer_imports_nothing_from_the_sources():
    for f in (ROOT / "analyzer" / "archive").glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.startswith("analyzer.sources") for n in names), f.name


def test_unwanted_members_and_directories_are_passed_over():
    assert SELECTION.want("etc/passwd") is None
    assert SELECTION.want("var/log/nova/nova-api.log") is None
    assert not SELECTION.may_contain("usr/share") and not SELECTION.may_contain("var/lib/docker")

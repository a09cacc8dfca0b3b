"""Version comparison the way a support engineer reads package versions."""

import doctest

import pytest

from analyzer import versions
from analyzer.versions import compare, describe, key, same_upstream, series, upstream


@pytest.mark.parametrize("a,b,same", [
    ("3:27.1.0-0ubuntu1", "27.1.0", True),
    ("2014.2.1-1.el7", "27.1.0", False),
    ("14.0.3-8.el7ost", "14.0.3-8.el7ost", True),
    ("14.0.3-8.el7ost", "14.0.3", True),
    ("1:29.0.1-0ubuntu1~cloud0", "29.0.1", True),
    ("2:30.0.0+git2024010101.abc-0ubuntu2", "30.0.0", True),
    ("27.1", "27.1.0", True),
    ("27.0.0.0rc1", "27.0.0~rc1-0ubuntu1", True),
    ("27.0.0~rc1-0ubuntu1", "27.0.0-0ubuntu1", False),
    ("27.1.0", "27.2.0", False),
    ("27.1.0", "27.1.0.1", False),
    ("27.1.1.dev12", "27.1.1", False),
    ("", "27.1.0", False),
    (None, None, False),
    ("unknown", "unknown", True),
    ("unknown", "27.1.0", False),
])
def test_same_upstream(a, b, same):
    assert same_upstream(a, b) is same
    assert same_upstream(b, a) is same


@pytest.mark.parametrize("older,newer", [
    ("2014.2.1-1.el7", "12.0.0"),        # date versions came before Liberty's 12.0.0
    ("2015.1.4", "3:27.1.0-0ubuntu1"),
    ("14.0.3-8.el7ost", "14.0.10-1.el7ost"),  # numbers, not strings: 3 < 10
    ("27.0.0.0b2", "27.0.0.0rc1"),
    ("27.0.0~rc1", "27.0.0"),
    ("27.1.1.dev12", "27.1.1"),
    ("9:21.2.4", "22.0.0"),              # the epoch says nothing about upstream
])
def test_compare_order(older, newer):
    assert compare(older, newer) == -1 and compare(newer, older) == 1
    assert compare(older, older) == 0


def test_compare_unknowns():
    assert compare(None, "27.1.0") is None and compare("banana", "27.1.0") is None
    assert key("") is None


@pytest.mark.parametrize("version,name", [
    ("2011.3", "Diablo"), ("2014.2.1", "Juno"), ("2015.1.0-1.el7", "Kilo"), ("12.0.0", "Liberty"),
    ("13.1.4", "Mitaka"), ("14.0.3-8.el7ost", "Newton"), ("15.0.4-1.el7", "Ocata"), ("16.1.8", "Pike"),
    ("17.0.13-1.el7ost", "Queens"), ("18.3.0", "Rocky"), ("19.3.2", "Stein"), ("20.6.2-2.el8ost", "Train"),
    ("21.2.3", "Ussuri"), ("22.4.0", "Victoria"), ("23.0.0", "Wallaby"), ("24.2.1", "Xena"), ("25.1.0", "Yoga"),
    ("26.2.2", "Zed"), ("3:27.1.0-0ubuntu1", "2023.1 Antelope"), ("28.0.1", "2023.2 Bobcat"),
    ("2:29.0.1-0ubuntu1~cloud0", "2024.1 Caracal"), ("30.0.0", "2024.2 Dalmatian"),
    ("31.0.0.0rc1", "2025.1 Epoxy"), ("32.1.0", "2025.2 Flamingo"), ("33.0.0", "2026.1 Gazpacho"),
    ("34.0.0", None), ("99.0.0", None), ("2016.1", None), ("banana", None), (None, None),
])
def test_series(version, name):
    assert series(version) == name


def test_upstream_and_describe():
    assert upstream("2:30.0.0+git2024-0ubuntu2") == "30.0.0"
    assert upstream("1:7.2+dfsg-7") == "7.2"
    assert describe("21.2.3") == "21.2.3 (Ussuri)" and describe("99.1") == "99.1"
    assert describe(None) == "unknown"


def test_docstring_examples_hold():
    assert doctest.testmod(versions).failed == 0

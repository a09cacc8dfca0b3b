"""Version comparison the way a support engineer reads package versions."""

import pytest

from analyzer.versions import describe, same_upstream, series, upstream


@pytest.mark.parametrize("a,b,same", [
    ("3:27.1.0-0ubuntu1", "27.1.0", True),
    ("2014.2.1-1.el7", "27.1.0", False),
    ("14.0.3-8.el7ost", "14.0.3-8.el7ost", True),
    ("1:29.0.1-0ubuntu1~cloud0", "29.0.1", True),
    ("27.1.0", "27.2.0", False),
    ("", "27.1.0", False),
    (None, None, False),
])
def test_same_upstream(a, b, same):
    assert same_upstream(a, b) is same


@pytest.mark.parametrize("version,name", [
    ("2014.2.1", "Juno"), ("14.0.3-8.el7ost", "Newton"), ("15.0.4-1.el7", "Ocata"), ("21.2.3", "Ussuri"),
    ("23.0.0", "Wallaby"), ("25.1.0", "Yoga"), ("3:27.1.0-0ubuntu1", "2023.1 Antelope"),
    ("32.1.0", "2025.2 Flamingo"), ("99.0.0", None), ("banana", None),
])
def test_series(version, name):
    assert series(version) == name


def test_upstream_and_describe():
    assert upstream("2:30.0.0+git2024-0ubuntu2") == "30.0.0"
    assert describe("21.2.3") == "21.2.3 (Ussuri)" and describe("99.1") == "99.1"

"""Shared pytest fixtures and the rule for real-component tests."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Test helpers import each other both as `tests.x` and as `x`: make both work from any cwd.
for _p in (ROOT, os.path.join(ROOT, "tests")):
    if _p not in sys.path:
        sys.path.insert(0, _p)
# Domain XML written for the tests (see tests/data/README.md).
DATA = os.path.join(ROOT, "tests", "data")
IN_CI = os.environ.get("CI") == "true"


def require(condition: bool, reason: str) -> None:
    """Skip a real-component test when its component is missing, but fail under CI.

    CI installs every component through tests/rig/setup.sh, so a missing one there is a bug in
    the set-up, not a reason to skip.
    """
    if condition:
        return
    if IN_CI:
        pytest.fail("CI=true but " + reason)
    pytest.skip(reason)

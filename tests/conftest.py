"""Shared pytest fixtures and the rule for real-component tests."""

import os
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
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

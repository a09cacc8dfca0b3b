#!/usr/bin/env bash
# Real open-iscsi for sos's iscsi plugin (it runs only where the package is installed): its
# iscsiadm answers "No active sessions." here, since these machines' kernels have no iscsi_tcp
# (no session can be made; tests/test_real_host.py asserts on what sos writes of that). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

. "$(dirname "$0")/../packages.sh"
ensure_packages open-iscsi
command -v iscsiadm >/dev/null
echo "rig: open-iscsi installed (iscsiadm $(iscsiadm --version 2>/dev/null | awk '{print $3}'))" >&2

#!/usr/bin/env bash
# Real open-iscsi for sos's iscsi plugin (it runs only where the package is installed): its
# iscsiadm answers "No active sessions." here, since these machines' kernels have no iscsi_tcp
# (no session can be made; tests/test_real_host.py asserts on what sos writes of that). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if ! dpkg-query -W -f='${Status}' open-iscsi 2>/dev/null | grep -q "install ok installed"; then
    echo "rig: installing open-iscsi" >&2
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends open-iscsi >/dev/null
fi
command -v iscsiadm >/dev/null
echo "rig: open-iscsi installed (iscsiadm $(iscsiadm --version 2>/dev/null | awk '{print $3}'))" >&2

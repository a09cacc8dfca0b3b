#!/usr/bin/env bash
# Installs and starts the real components the test suite uses. Each piece is one script in
# setup.d/, run in name order. Without root nothing is installed: the tests that need a piece
# skip with a reason (under CI=true they fail instead, so a missing install step cannot hide).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "rig: not root, skipping system set-up (real-component tests will skip)" >&2
    exit 0
fi
for step in "$here"/setup.d/*.sh; do
    [ -e "$step" ] || continue
    echo "rig: $(basename "$step")" >&2
    bash "$step"
done

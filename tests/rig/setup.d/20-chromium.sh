#!/usr/bin/env bash
# Debian's chromium for tests/test_browser.py and tests/make_screenshot.py. Playwright's Python
# API drives it through executable_path=/usr/bin/chromium: no browser download, ever.
# Idempotent and quiet: does nothing when chromium is already installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "rig: 20-chromium: no apt-get here; install chromium by hand (browser tests skip, fail under CI)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# fonts-dejavu-core: the page's fallback fonts, so screenshots show text, not boxes.
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null

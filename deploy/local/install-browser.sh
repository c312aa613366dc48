#!/usr/bin/env bash
# Installs Debian's Chromium, which the web tests drive headless through Playwright
# (tests/browser.py). Playwright cannot download its own browser build here, so it is
# pointed at /usr/bin/chromium instead. Idempotent: when chromium is on PATH it only
# prints its version.
set -euo pipefail

say() { echo "install-browser: $*"; }

if command -v chromium >/dev/null 2>&1; then
  say "already installed: $(chromium --version 2>/dev/null || echo chromium)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: cannot install here (needs root and apt-get). Install with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi
say "installing chromium from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || {
  apt-get update -qq
  apt-get install -y --no-install-recommends chromium
}
say "installed: $(chromium --version 2>/dev/null || echo chromium)"

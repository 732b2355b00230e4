#!/usr/bin/env bash
# Debian's Chromium and its ChromeDriver for the dashboard's browser tests (tests/e2e/test_dashboard.py), installed
# once like PostgreSQL. Sourced by .ci/run. Browsers that download themselves (Playwright's) do not work here.
set -euo pipefail

if ! [ -x /usr/bin/chromedriver ] || ! [ -x /usr/bin/chromium ]; then
    echo "installing Chromium and ChromeDriver (Debian packages chromium, chromium-driver)…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
fi
echo "$(/usr/bin/chromium --version 2>/dev/null | head -n 1)"

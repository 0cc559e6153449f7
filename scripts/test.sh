#!/usr/bin/env bash
# Install everything the tests need, then run them: bash scripts/test.sh [pytest args]
#   - Debian packages redis-server, memcached, postgresql, chromium, firefox-esr,
#     webkit2gtk-driver, xvfb and wrk (real Redis, memcached and PostgreSQL servers,
#     real browsers in three engines, a virtual display
#     for WebKitGTK, the bench's load generator), when missing
#     and this user can install them (root, or sudo without a password);
#   - a virtual environment in .venv with requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v wrk >/dev/null || missing+=(wrk)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v memcached >/dev/null || missing+=(memcached)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt=(apt-get); elif sudo -n true 2>/dev/null; then apt=(sudo -n apt-get)
  else apt=(); fi
  if [ ${#apt[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} from Debian's packages"
    "${apt[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "Cannot install ${missing[*]} (not root): the tests that need them will be skipped." >&2
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
# Lint first (config in pyproject.toml): a failing check stops here, before any test runs.
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"

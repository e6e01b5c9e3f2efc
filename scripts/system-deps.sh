#!/usr/bin/env bash
# Install the system packages the test suite needs (PostgreSQL server, Chromium) when they are missing.
set -euo pipefail

missing=()
pg_bindir=$(pg_config --bindir 2>/dev/null || true)
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && [ ! -x "${pg_bindir}/pg_ctl" ]; then
  missing+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

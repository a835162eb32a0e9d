#!/usr/bin/env bash
# The official Python SDK (`daytona` from PyPI, pinned to the release of the TypeScript SDK this
# package follows) in a venv under the checkout, for __test__/serve-python-sdk.test.js. Idempotent:
# when the venv already holds the pinned version it returns at once. Prints the venv's python path
# on stdout; one summary line on stderr.
#
#   DAYTONA_PYTHON_SDK_VENV   where the venv lives (default <repo>/.services/python-sdk)
#   DAYTONA_PYTHON            the host python3 to make it with (default: the first with venv+ensurepip)
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES_DIR=${DAYTONA_SERVICES_DIR:-$REPO_DIR/.services}
VENV=${DAYTONA_PYTHON_SDK_VENV:-$SERVICES_DIR/python-sdk}
PIN=daytona==0.218.0
LOG_DIR=$SERVICES_DIR/logs
SCRIPT_NAME=python-sdk
# shellcheck source=lib/shell.sh
source "$REPO_DIR/scripts/lib/shell.sh"

mkdir -p "$SERVICES_DIR" "$LOG_DIR"
exec 8>"$SERVICES_DIR/.python-sdk.lock"
flock 8

t0=$(now_ms)
if [ "$(cat "$VENV/.installed" 2>/dev/null)" = "$PIN" ] && "$VENV/bin/python" -c 'import daytona' 2>/dev/null; then
  say "$PIN already in $VENV"
  echo "$VENV/bin/python"
  exit 0
fi

host_python() {
  local p
  for p in ${DAYTONA_PYTHON:-} /usr/bin/python3 python3; do
    command -v "$p" >/dev/null && "$p" -c 'import venv, ensurepip' >/dev/null 2>&1 && { echo "$p"; return; }
  done
  apt_install python3 python3-venv
  echo /usr/bin/python3
}

log=$LOG_DIR/python-sdk.log
py=$(host_python)
rm -rf "$VENV"
logged "$log" "$py" -m venv "$VENV"
logged "$log" "$VENV/bin/pip" install -q --disable-pip-version-check "$PIN"
logged "$log" "$VENV/bin/python" -c 'import daytona'
echo "$PIN" >"$VENV/.installed"
say "installed $PIN in $VENV in $(since "$t0")"
echo "$VENV/bin/python"

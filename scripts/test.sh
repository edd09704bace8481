#!/usr/bin/env bash
# The full test suite: installs dependencies, builds, runs every test suite
# (unit, BPF packet tests, namespace tests with real clients) and ends with
# one line "N passed, N failed". Needs root (BPF, network namespaces).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VNET_BUILD_DIR:-$top/build}

if [ "$(id -u)" -ne 0 ]; then
  echo "vnet: the test suite needs root (BPF programs, network namespaces)" >&2
  exit 1
fi
"$top/scripts/build.sh"

set +e
meson test -C "$build" --print-errorlogs "$@"
status=$?
set -e

# meson's own summary has Ok/Expected Fail/Fail/Unexpected Pass/Skipped/Timeout.
log="$build/meson-logs/testlog.txt"
summary=$(sed -n '/^Ok:/,/^Timeout:/p' "$log" 2>/dev/null | tail -n 6)
ok=$(awk '/^Ok:/{print $2}' <<<"$summary")
fail=$(awk '/^Fail:/{print $2}' <<<"$summary")
unexpected=$(awk '/^Unexpected Pass:/{print $3}' <<<"$summary")
timeout=$(awk '/^Timeout:/{print $2}' <<<"$summary")
skipped=$(awk '/^Skipped:/{print $2}' <<<"$summary")
failed=$(( ${fail:-0} + ${unexpected:-0} + ${timeout:-0} ))
[ -n "$ok" ] || { ok=0; failed=$(( failed > 0 ? failed : 1 )); }
echo "${ok} passed, ${failed} failed, ${skipped:-0} skipped"
exit $status

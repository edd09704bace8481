#!/usr/bin/env bash
# Installs the Debian packages vnet needs, then configures and builds it in
# ./build (or $VNET_BUILD_DIR). Prints nothing but progress and errors.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VNET_BUILD_DIR:-$top/build}

"$top/scripts/install-deps.sh"
if [ ! -f "$build/build.ninja" ]; then
  echo "vnet: configuring $build" >&2
  meson setup "$build" "$top" >/dev/null
fi
echo "vnet: building" >&2
ninja -C "$build" >/dev/null

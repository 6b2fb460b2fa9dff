#!/usr/bin/env bash
# The main job: the one-million-flows experiment on dtcp. One source address,
# IP_BIND_ADDRESS_NO_PORT, 1,000,000 concurrent connections held open, then
# the report (RESULT line last). Extra arguments go to dtcp-flows, e.g.
# `./dtcp.sh run --backend kernel` (root: it makes its own network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
builddir=${DTCP_BUILDDIR:-build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
ninja -C "$builddir" >/dev/null
exec "$builddir/apps/dtcp-flows" --no-port "$@"

#!/usr/bin/env bash
# The main job. Until dtcp-flows lands, it is the port-selection experiment:
# dtcp and the kernel side by side (kernel side in private network namespaces,
# root needed; without root only dtcp runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
builddir=${DTCP_BUILDDIR:-build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
ninja -C "$builddir" >/dev/null
if [ "$(id -u)" -eq 0 ]; then
	RUNS=${RUNS:-3} exec bash bench/port-select.sh
fi
echo "not root: dtcp side only (fill %, ns per port selection)"
exec "$builddir/bench/port_select_dtcp" "${RUNS:-3}"

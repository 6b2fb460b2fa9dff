#!/usr/bin/env bash
# Builds dtcp and runs every test binary; ends with "N passed, N failed",
# counting the Criterion test cases of all binaries.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh || exit 1
builddir=${DTCP_BUILDDIR:-build}
if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir" >/dev/null || exit 1
fi
ninja -C "$builddir" >/dev/null || { ninja -C "$builddir"; exit 1; }

meson test -C "$builddir" --print-errorlogs --num-processes 1
status=$?
python3 scripts/count-tests.py "$builddir/meson-logs/testlog.json"
count_status=$?
[ $status -eq 0 ] && [ $count_status -eq 0 ]

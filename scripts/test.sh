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

# The public API through pkg-config, uninstalled, as a user's build sees it.
pc_out=$(mktemp -d)
if ! PKG_CONFIG_PATH="$builddir/meson-uninstalled" cc -o "$pc_out/noport" examples/noport.c \
	$(PKG_CONFIG_PATH="$builddir/meson-uninstalled" pkg-config --cflags --libs dtcp) ||
   ! LD_LIBRARY_PATH="$builddir" "$pc_out/noport" >/dev/null; then
	echo "pkg-config build of examples/noport.c failed"
	rm -rf "$pc_out"
	echo "0 passed, 1 failed"
	exit 1
fi
# ... and as a meson subproject: dependency('dtcp') resolves to the override.
mkdir -p "$pc_out/sub/subprojects"
ln -s "$PWD" "$pc_out/sub/subprojects/dtcp"
cp examples/noport.c "$pc_out/sub/"
cat > "$pc_out/sub/meson.build" <<'MB'
project('dtcp-user', 'c')
executable('noport', 'noport.c', dependencies : dependency('dtcp'))
MB
if ! (meson setup "$pc_out/sub/build" "$pc_out/sub" -Ddtcp:tests=false >/dev/null &&
      ninja -C "$pc_out/sub/build" >/dev/null && "$pc_out/sub/build/noport" >/dev/null); then
	echo "subproject build of examples/noport.c failed"
	rm -rf "$pc_out"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -rf "$pc_out"

meson test -C "$builddir" --suite unit --suite conformance --suite dpdk --suite apps --suite interop --print-errorlogs --num-processes 1
status=$?
python3 scripts/count-tests.py "$builddir/meson-logs/testlog.json"
count_status=$?
[ $status -eq 0 ] && [ $count_status -eq 0 ]

#!/usr/bin/env bash
# The two entry points: "run" (the main job) and "test" (every test).
set -euo pipefail
cd "$(dirname "$0")"
case "${1:-}" in
test)
	exec bash scripts/test.sh
	;;
run)
	shift
	exec bash scripts/run.sh "$@"
	;;
*)
	echo "usage: $0 run|test" >&2
	exit 2
	;;
esac

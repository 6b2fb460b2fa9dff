# Shared by the bench/*.sh scripts: sourced after `cd` to the repository.
# bench_setup: RUNS (default $1), --record, the build; sets runs, record,
# builddir. bench_record NAME TEXT: TEXT (which starts with
# <!-- NAME:begin --> and ends with <!-- NAME:end -->) replaces that section
# of bench/RESULTS.md, or is appended.

bench_setup() {
	runs=${RUNS:-$1}
	record=0
	[ "${2:-}" = "--record" ] && record=1
	builddir=${DTCP_BUILDDIR:-build}
	bash scripts/deps.sh
	[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
	ninja -C "$builddir" >/dev/null
}

bench_record() {
	touch bench/RESULTS.md
	python3 - "$1" "$2" <<'PY'
import re, sys
path, name, sec = "bench/RESULTS.md", sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
if begin in text:
    text = re.sub(re.escape(begin) + ".*" + re.escape(end), lambda m: sec, text, flags=re.S)
else:
    if not text.strip():
        text = "# Benchmark results\n\nEvery table says the command that made it. Figures are medians of several runs on the project machine.\n"
    text = text.rstrip() + "\n\n" + sec + "\n"
open(path, "w").write(text)
PY
}

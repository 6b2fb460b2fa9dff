#!/usr/bin/env bash
# The one-million-flows experiment as a benchmark: dtcp-flows on the kernel,
# on dtcp (one stack, its loopback), on dpdk (the embedded default: two dtcp
# stacks over a net_ring pair) and on Debian's lwIP (its loopback, for
# comparison), side by side in one run, at 10,000, 100,000 and 1,000,000
# flows with IP_BIND_ADDRESS_NO_PORT (IPv4; IPv6 at 1,000,000), plus one IPv4
# row without the option (1,000,000 requested: shows where each backend
# stops). lwIP has no IP_BIND_ADDRESS_NO_PORT: in the rows with the option it
# stops at flow 1 with ENOPROTOOPT, as its held column says; without it, it
# runs out of its 16,384 ports after about 150 s a run (its PCB lists are
# searched linearly). Medians of RUNS runs (default 3) per cell;
# KERNEL_1M_RUNS (default RUNS) caps the kernel's 1,000,000-flow runs, which
# take about 40-70 s each. dtcp and dpdk keep 64 non-blocking connects in
# flight (dtcp-flows' --batch default); the kernel runs both with --batch 64
# and (as "kernel1") with --batch 1, blocking connects one at a time, and its
# column takes the faster of the two; lwIP connects one at a time.
# BACKENDS (default "kernel kernel1 dtcp dpdk lwip") runs a subset; the
# others' columns say "not run". Writes bench/flows.dat, draws bench/flows.png
# (gnuplot) and, with --record, rewrites the flows section of
# bench/RESULTS.md. The kernel backend needs root (it makes its own network
# namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_setup 3 "${1:-}"
kruns_1m=${KERNEL_1M_RUNS:-$runs}
flows="$builddir/apps/dtcp-flows"
# RAW=file: re-summarise the per-run lines of an earlier run (its path is
# printed) without measuring again.
measure=1
if [ -n "${RAW:-}" ]; then raw=$RAW; measure=0; else raw=$(mktemp /tmp/dtcp-flows-raw.XXXXXX); fi
echo "per-run lines: $raw" >&2

# kernel1: the kernel with --batch 1 (blocking connects, one at a time)
# beside its --batch 64 run; its column shows the faster of the two.
all_backends=(kernel kernel1 dtcp dpdk lwip)
read -r -a backends <<<"${BACKENDS:-${all_backends[*]}}"
# N family option
cells=("10000 4 no-port" "100000 4 no-port" "1000000 4 no-port" "1000000 6 no-port" "1000000 4 bind")

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

echo "flows: ${backends[*]}, medians of $runs runs (kernel 1,000,000: $kruns_1m)" >&2
for run in $(seq 1 "$runs"); do
	[ $measure -eq 1 ] || break
	# Each backend runs its cells in a block, after a run that is not
	# counted, so that no counted run follows another backend's: a run
	# that follows the kernel's 1,000,000 flows (which give back some 7 GB)
	# starts on memory the system has just reclaimed, and on this machine
	# measured up to 15 % slower (30 % at 10,000 flows) than the same run a
	# little later.
	for b in "${backends[@]}"; do
		# One 10,000-flow run first, not counted: the block's first run
		# would otherwise carry the reclaim after the block before.
		wargs=(--backend "$b" --num-flows 10000)
		[ "$b" = kernel1 ] && wargs=(--backend kernel --batch 1 --num-flows 10000)
		[ "$b" = lwip ] || wargs+=(--no-port)
		"$flows" "${wargs[@]}" >/dev/null 2>&1 </dev/null || true
		for cell in "${cells[@]}"; do
			read -r n fam opt <<<"$cell"
			args=(--num-flows "$n")
			[ "$opt" = no-port ] && args+=(--no-port)
			[ "$fam" = 6 ] && args+=(--ipv6)
			case $b in kernel*)
				if [ "$n" -ge 1000000 ] && [ "$run" -gt "$kruns_1m" ]; then continue; fi
			esac
			bargs=(--backend "$b")
			if [ "$b" = kernel1 ]; then
				# where the run ends without the option does not depend on it
				[ "$opt" = no-port ] || continue
				bargs=(--backend kernel --batch 1)
			fi
			# exit status 1 is expected when not all flows are held (no option)
			out=$("$flows" "${bargs[@]}" "${args[@]}" 2>&1 </dev/null || true)
			line=$(grep '^RESULT' <<<"$out" | tail -n1 || true)
			# lwIP refuses the option (ENOPROTOOPT at flow 1): expected, not a failure
			if [ "$opt" = no-port ] && [ "$b" != lwip ] && ! grep -q 'first_error=none' <<<"$line"; then
				# a run that should have held every flow: keep what it said
				{ echo "== run $run: $b $cell"; grep '^dtcp-flows: ' <<<"$out" | tail -n5 || true; } >>"$raw.err"
				echo "run $run: $b $cell failed; its messages are in $raw.err" >&2
			fi
			if [ -z "$line" ]; then
				echo "run $run: $b $cell: no RESULT line" >&2
				continue
			fi
			held=$(field flows "$line"); held=${held%/*}
			printf '%s %s %s %s %s %s %s %s %s\n' "$n" "$fam" "$opt" "$b" "$run" \
				"$(field connects_per_s "$line")" "$(field bytes_per_flow "$line")" \
				"$held" "$(field first_error "$line")" >>"$raw"
			echo "run $run: $b $cell: $line" >&2
		done
	done
done

# Medians per cell and backend -> bench/flows.dat, one row per cell:
# N family option, then per backend (kernel dtcp dpdk lwip): connects/s, bytes per
# flow, flows held (median), flows held min, flows held max, first error, runs
# counted, runs left out (run:error@flows; a run that ended unlike the others);
# then the kernel's two modes' connects/s: --batch 64, --batch 1 ("nan": not run).
# The kernel's figures are those of its faster mode in the cell.
python3 - "$raw" "${cells[@]}" >bench/flows.dat <<'PY'
import sys, statistics
raw, cells = sys.argv[1], sys.argv[2:]
rows = [l.split() for l in open(raw) if l.strip()]
print("# N family option | per backend kernel,dtcp,dpdk,lwip: connects_per_s bytes_per_flow held held_min held_max first_error runs excluded_runs | kernel_batch64_cps kernel_batch1_cps")
def summary(n, fam, opt, b):
    rs = [r for r in rows if r[0] == n and r[1] == fam and r[2] == opt and r[3] == b]
    if not rs:
        return None
    # medians over the runs that ended the usual way for this cell (the
    # most common first_error); the others are named, not averaged in
    errs = [r[8] for r in rs]
    usual = max(sorted(set(errs)), key=errs.count)
    odd = [r for r in rs if r[8] != usual]
    rs = [r for r in rs if r[8] == usual]
    med = lambda i: statistics.median(float(r[i]) for r in rs)
    held = [int(r[7]) for r in rs]
    excl = ",".join("run%s:%s@%s" % (r[4], r[8], r[7]) for r in odd) or "-"
    return ["%.0f" % med(5), "%.0f" % med(6), "%.0f" % statistics.median(held),
            str(min(held)), str(max(held)), usual, str(len(rs)), excl]
for cell in cells:
    n, fam, opt = cell.split()
    out = [n, fam, opt]
    modes = [summary(n, fam, opt, "kernel"), summary(n, fam, opt, "kernel1")]
    for b in ("kernel", "dtcp", "dpdk", "lwip"):
        s = summary(n, fam, opt, b)
        if b == "kernel":
            # the faster mode that held at least as many flows
            cand = [m for m in modes if m]
            s = max(cand, key=lambda m: (float(m[2]), float(m[0]))) if cand else None
        out += s if s else ["nan", "nan", "nan", "nan", "nan", "-", "0", "-"]
    out += [m[0] if m else "nan" for m in modes]
    print(" ".join(out))
PY

table=$(python3 - <<'PY'
def c(x):
    return "n/a" if x == "nan" else "{:,}".format(int(float(x)))
print("| N | family | option | kernel connects/s (--batch 64 / 1) | dtcp connects/s | dpdk connects/s | lwip connects/s | dtcp / kernel | bytes per flow kernel / dtcp / dpdk / lwip | held kernel | held dtcp | held dpdk | held lwip |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for line in open("bench/flows.dat"):
    if line.startswith("#"):
        continue
    f = line.split()
    n, fam, opt = f[0], f[1], f[2]
    be = [f[3 + 8 * i: 11 + 8 * i] for i in range(4)]
    k64, k1 = (f[35], f[36]) if len(f) > 36 else ("nan", "nan")
    def held(b):
        cps, bpf, h, hmin, hmax, err, nr, excl = b
        if h == "nan":
            return "not run"
        s = c(h) if hmin == hmax else "%s (%s..%s)" % (c(h), c(hmin), c(hmax))
        s += "/" + c(n)
        if err != "none":
            s += " " + err
        if excl != "-":
            for e in excl.split(","):
                run, rest = e.split(":")
                what, at = rest.split("@")
                s += " (%s failed: %s at %s flows; left out)" % (run.replace("run", "run "), what, c(at))
        return s
    # a backend that failed within its first 1,000 flows has no rate or size
    def ok(b):
        return b[0] != "nan" and float(b[2]) >= 1000
    def cps(b):
        return c(b[0]) if ok(b) else ("n/a" if b[0] == "nan" else "fails")
    def bpf(b):
        return c(b[1]) if ok(b) else ("n/a" if b[1] == "nan" else "fails")
    ratio = "n/a"
    if ok(be[0]) and ok(be[1]) and float(be[0][0]) > 0:
        r = float(be[1][0]) / float(be[0][0])
        ratio = ("%.1fx" if r < 10 else "%.0fx") % r
    # the kernel's faster mode is its figure; both are shown
    kcell = cps(be[0])
    if ok(be[0]) and k64 != "nan" and k1 != "nan":
        kcell = "%s (%s / %s)" % (kcell, c(k64), c(k1))
    print("| %s | IPv%s | %s | %s | %s | %s | %s | %s | %s / %s / %s / %s | %s | %s | %s | %s |" % (
        c(n), fam, "--no-port" if opt == "no-port" else "none (bind)",
        kcell, cps(be[1]), cps(be[2]), cps(be[3]), ratio,
        bpf(be[0]), bpf(be[1]), bpf(be[2]), bpf(be[3]),
        held(be[0]), held(be[1]), held(be[2]), held(be[3])))
PY
)
echo "$table"

gnuplot <<'GP'
set terminal pngcairo size 1000,460 noenhanced font 'DejaVu Sans,10'
set output 'bench/flows.png'
set multiplot layout 1,2 title "dtcp-flows: N concurrent flows from one source address, IP_BIND_ADDRESS_NO_PORT (filled: IPv4; open: IPv6 at 1,000,000)\nlwip has no IP_BIND_ADDRESS_NO_PORT: its one point is the row without it, drawn at the flows it held"
set logscale x
set xrange [5000:2000000]
set xtics ('10k' 10000, '100k' 100000, '1M' 1000000)
set xlabel 'number of flows (log scale)'
set grid
set key top left
# A backend's held column: 6, 14, 22 or 30 (kernel, dtcp, dpdk, lwip); no
# point where it failed within 1,000 flows (lwip with the option)
held(col) = column(6 + 8 * int((col - 4) / 8))
sel(col) = (strcol(3) eq 'no-port' && $2 == 4 && held(col) >= 1000) ? column(col) : 1/0
sel6(col) = (strcol(3) eq 'no-port' && $2 == 6 && held(col) >= 1000) ? column(col) : 1/0
# lwip: the IPv4 row without the option, at x = the flows it held
bindx(col) = (strcol(3) eq 'bind' && $2 == 4 && held(col) >= 1000) ? held(col) : 1/0
set title 'connects per second (log scale)'
set logscale y
set yrange [100:10000000]
set format y '%.0s%c'
plot 'bench/flows.dat' using 1:(sel(4))  with linespoints lw 2 pt 7 lc 1 title 'kernel', \
     'bench/flows.dat' using 1:(sel(12)) with linespoints lw 2 pt 5 lc 2 title 'dtcp (one stack, loopback)', \
     'bench/flows.dat' using 1:(sel(20)) with linespoints lw 2 pt 9 lc 3 title 'dpdk (two stacks, net_ring)', \
     'bench/flows.dat' using 1:(sel6(4))  with points pt 6 ps 1.6 lc 1 notitle, \
     'bench/flows.dat' using 1:(sel6(12)) with points pt 4 ps 1.6 lc 2 notitle, \
     'bench/flows.dat' using 1:(sel6(20)) with points pt 8 ps 1.6 lc 3 notitle, \
     'bench/flows.dat' using (bindx(28)):28 with points pt 13 ps 1.8 lc 4 title 'lwip (no option, at the flows held)'
set title 'bytes per flow, both endpoints (dtcp and dpdk coincide)'
unset logscale y
set format y '%g'
set yrange [0:8000]
set key center right
plot 'bench/flows.dat' using 1:(sel(5))  with linespoints lw 2 pt 7 lc 1 title 'kernel (slab growth)', \
     'bench/flows.dat' using 1:(sel(13)) with linespoints lw 4 pt 5 ps 1.4 lc 2 title 'dtcp', \
     'bench/flows.dat' using 1:(sel(21)) with linespoints lw 2 dt 2 pt 9 lc 3 title 'dpdk', \
     'bench/flows.dat' using 1:(sel6(5))  with points pt 6 ps 1.6 lc 1 notitle, \
     'bench/flows.dat' using 1:(sel6(13)) with points pt 4 ps 1.6 lc 2 notitle, \
     'bench/flows.dat' using 1:(sel6(21)) with points pt 8 ps 1.6 lc 3 notitle, \
     'bench/flows.dat' using (bindx(29)):29 with points pt 13 ps 1.8 lc 4 title 'lwip (heap growth; no option, at the flows held)'
unset multiplot
GP

if [ $record -eq 1 ]; then
	kernel=$(uname -r)
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
	ncpu=$(nproc)
	kr=$(awk '!/^#/ && $1 == 1000000 && $3 == "no-port" && $2 == 4 { print $10 }' bench/flows.dat)
	cmd="RUNS=$runs bash bench/flows.sh --record"
	[ "$kruns_1m" != "$runs" ] && cmd="RUNS=$runs KERNEL_1M_RUNS=$kruns_1m bash bench/flows.sh --record"
	resum=""
	[ $measure -eq 0 ] && resum=" The figures were summarised again from that run's per-run lines (\`RAW=$raw\`)."
	section=$(cat <<MD
<!-- flows:begin -->
## One source address, many flows (dtcp-flows)

Command: \`$cmd\` (root; $(date -u +%Y-%m-%d), Linux $kernel, $cpu, $ncpu vCPU).$resum
\`build/apps/dtcp-flows --backend B --num-flows N [--no-port] [--ipv6]\`: N
concurrent TCP connections, each socket -> (IP_BIND_ADDRESS_NO_PORT) ->
bind(src, 0) -> connect, to destinations on port 44983, all held open until
the report. kernel: real sockets in a private network namespace; dtcp: one
dtcp stack, client and server on its loopback; dpdk: the embedded default,
two dtcp stacks over a DPDK net_ring pair in one process (no NIC, no
hugepages); lwip: Debian's liblwip 2.1.3 in the process, client and server
on its loopback. dtcp and dpdk keep 64 non-blocking connects in flight
(\`--batch 64\`, the default), as a load generator does; the kernel was run
both that way and with \`--batch 1\` (blocking connects, one at a time),
and its column gives the faster median of the two, both in brackets: the
ratio is against the kernel's better mode. lwIP connects one at a time.
The dtcp stacks map their connection, address-bucket and descriptor tables
when they are created (\`prefault\`, sized for the run), as the kernel's hash
tables are mapped since boot; the sockets' own memory is mapped as the run
grows, inside the timed phase, as the kernel's slabs grow inside its.
In each run every backend runs its cells in a block (kernel, kernel
--batch 1, dtcp, dpdk, lwIP): on this virtual machine a run that follows
the kernel's 1,000,000-flow run (which gives back some 7 GB) starts on
memory the system has just reclaimed and was measured up to 15 % slower
than the same run a little later (30 % at 10,000 flows), so each block
starts with a 10,000-flow run that is not counted, and no counted run
follows another backend's.
Each figure is the median of $runs runs per cell (kernel at
1,000,000 IPv4: ${kr:-0} runs); bytes per flow count both endpoints (kernel:
slab growth over the run, /proc/slabinfo; lwip: heap growth, mallinfo2). "held" is flows established / requested,
with the first error when the run stopped early; the last row, without the
option, shows where each backend runs out of ports. "fails": the backend
stopped within its first 1,000 flows (its error is in its held column), so
it has no rate or size. A run that ended unlike the cell's other runs (a
different first error) is left out of the medians and named in its held column.
lwIP has no IP_BIND_ADDRESS_NO_PORT: in the rows with the option its
setsockopt() fails with ENOPROTOOPT and it stops at flow 1 ("fails", 0 held);
the row without the option shows where it runs out, and is its one point in
the picture, drawn at the number of flows it held.

$table

![connects per second and bytes per flow against the number of flows](flows.png)
<!-- flows:end -->
MD
)
	bench_record flows "$section"
fi

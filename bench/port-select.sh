#!/usr/bin/env bash
# Port selection, dtcp beside the kernel in one run: a no-port connect()
# towards one destination in a 16,384-port range filled to 0/50/90/99/100 %.
# Medians of RUNS runs (default 5). Writes bench/port-select.dat, draws
# bench/port-select.png (gnuplot) and, with --record, rewrites the
# port-selection section of bench/RESULTS.md. The kernel side needs root (it
# makes its own network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_setup 5 "${1:-}"

echo "port selection: kernel and dtcp, 16,384-port range, one destination, medians of $runs runs" >&2
kern=$("$builddir/bench/port_select_kernel" "$runs")
dtcp=$("$builddir/bench/port_select_dtcp" "$runs")
join <(echo "$kern") <(echo "$dtcp") > bench/port-select.dat

table=$(awk 'BEGIN { print "| fill | kernel connect() | dtcp port selection | kernel / dtcp |"; print "|---|---|---|---|" }
	{ k = $2; d = $3; label = ($1 == 100) ? "100 % (fails)" : $1 " %";
	  printf "| %s | %.1f us | %.3f us | %.0fx |\n", label, k / 1000, d / 1000, k / d }' bench/port-select.dat)
echo "$table"

gnuplot <<'GP'
set terminal pngcairo size 800,500 noenhanced
set output 'bench/port-select.png'
set title 'connect() port selection towards one destination, 16,384-port range'
set xlabel 'range fill (%; 100 = full, the connect() fails)'
set ylabel 'time per connect (microseconds, log scale)'
set logscale y
set key center right
set grid
set xrange [-0.3:4.3]
set yrange [0.01:10000]
plot 'bench/port-select.dat' using 0:($2/1000):xtic(1) with linespoints lw 2 pt 7 title 'Linux connect() (includes loopback handshake)', \
     'bench/port-select.dat' using 0:($3/1000) with linespoints lw 2 pt 5 title 'dtcp port selection (port-table half of connect)'
GP

if [ $record -eq 1 ]; then
	kernel=$(uname -r)
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
	section=$(cat <<MD
<!-- port-select:begin -->
## Port selection (connect() towards one destination)

Command: \`RUNS=$runs bash bench/port-select.sh --record\` (root; $(date -u +%Y-%m-%d), Linux $kernel, $cpu, 2 vCPU).
No-port sockets bound to 127.0.0.1 connect to 127.0.0.2:5000; the range
(16,384 ports) is first filled to the given level towards that destination,
then 128 more connects are timed; each figure is the median of $runs runs.
Kernel: \`connect()\` in a private network namespace (on loopback it includes
the handshake; at 100 % it fails with EADDRNOTAVAIL after the whole search).
dtcp: the port-table half of connect() (route, port search, established-table
insert), which is everything dtcp's connect() does before its SYN.

$table

![time per connect against fill](port-select.png)
<!-- port-select:end -->
MD
)
	bench_record port-select "$section"
fi

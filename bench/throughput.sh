#!/usr/bin/env bash
# One connection's bulk throughput and small-segment rate: dtcp to dtcp over
# DPDK net_ring and net_memif (one process, no NIC, no hugepages) beside Linux
# TCP over loopback, in one run, every mode single-threaded. Medians of RUNS
# runs (default 3). With --record, rewrites the throughput section of
# bench/RESULTS.md. Needs root (EAL, and the kernel1500 mode's namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_setup 3 "${1:-}"
bin="$builddir/bench/throughput"

# median of the field $2 over RUNS runs of: throughput $1 MIB MSG
median() {
	local field=$1; shift
	for i in $(seq "$runs"); do
		"$bin" "$@" | sed -n "s/.* $field=\([0-9.]*\).*/\1/p"
	done | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rows=""
for mode in kernel kernel1500 ring memif; do
	echo "throughput: $mode" >&2
	bulk=$(median gbps "$mode" 512 65536)
	small_gbps=$(median gbps "$mode" 16 64)
	small_segs=$(median segs_per_s "$mode" 16 64)
	rows+="$mode $bulk $small_gbps $small_segs"$'\n'
done
kb=$(echo "$rows" | awk '$1 == "kernel1500" { print $2 }')
table=$(echo "$rows" | awk -v kb="$kb" 'NF == 4 {
	name["kernel"] = "Linux TCP, loopback (MTU 65,536, GSO)"
	name["kernel1500"] = "Linux TCP, loopback at MTU 1,500 (GSO/GRO still on)"
	name["ring"] = "dtcp to dtcp, net_ring pair (MTU 1,500, software checksums)"
	name["memif"] = "dtcp to dtcp, net_memif pair (MTU 1,500, software checksums)"
	printf "| %s | %.2f | %.2fx | %.3f | %.0f |\n", name[$1], $2, $2 / kb, $3, $4 }')
header="| path | bulk Gbit/s (512 MiB, 64 KiB writes) | bulk / Linux at MTU 1,500 | 64-byte writes Gbit/s (TCP_NODELAY) | segments/s on the link, both ways |
|---|---|---|---|---|"
printf '%s\n%s\n' "$header" "$table"

if [ $record -eq 1 ]; then
	kernel=$(uname -r)
	cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
	section=$(cat <<MD
<!-- throughput:begin -->
## One connection: bulk throughput and small segments

Command: \`RUNS=$runs bash bench/throughput.sh --record\` (root; $(date -u +%Y-%m-%d), Linux $kernel, $cpu, 2 vCPU).
\`build/bench/throughput MODE MIB MSG\`: MIB mebibytes from A to B in writes of
MSG bytes, every byte checked, in one thread whatever the mode (dtcp: both
stacks polled in turn; Linux: non-blocking sockets, the kernel doing its
loopback work inside the calls). Medians of $runs runs. dtcp's links here have
no offloads (net_ring and memif offer none), so dtcp computes and checks every
TCP checksum and moves 1,448-byte segments, while Linux's loopback skips
checksums and moves 64 KiB GSO segments even at MTU 1,500; the segment rate
is what the link carried (dtcp: the ports' counters; Linux: TcpOutSegs).
For 64-byte writes both stacks coalesce what queues up between sends.

$header
$table
<!-- throughput:end -->
MD
)
	bench_record throughput "$section"
fi

/* dtcp-flows end to end: runs the built binary (path in DTCP_FLOWS) and
 * checks its RESULT line. dtcp at 20,000 flows, IPv4 and IPv6, with the
 * option (every flow held) and without it (bind() runs out near the range
 * size); dpdk (two stacks over a net_ring pair) at 20,000 flows with the
 * option, IPv4 and IPv6; the kernel at 5,000 flows in its private namespace
 * (root only); Debian's lwIP (scripts/deps.sh installs liblwip-dev) at 500
 * flows without the option, and with it, which lwIP refuses at once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct flows_result {
	char backend[16];
	int family;
	long flows, total;
	char first_error[32];
	double connects_per_s;
	long bytes_per_flow, distinct_src_ports, max_flows_per_port;
	double wall_s;
	int exit_status;               /* -1: did not exit normally */
	bool has_result;
};

/* Run dtcp-flows with `args`; stdout is parsed, stderr passes through. */
static struct flows_result run_flows(const char *args)
{
	const char *bin = getenv("DTCP_FLOWS");
	struct flows_result r = { .exit_status = -1 };
	char cmd[1024], line[1024];
	FILE *p;
	int st;

	cr_assert_not_null(bin, "DTCP_FLOWS is not set (meson sets it)");
	snprintf(cmd, sizeof(cmd), "'%s' %s", bin, args);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	for (int k = 0; k < 10000 && fgets(line, sizeof(line), p); k++) {
		if (strncmp(line, "RESULT ", 7))
			continue;
		r.has_result = sscanf(line,
		                      "RESULT backend=%15s family=%d flows=%ld/%ld first_error=%31s "
		                      "connects_per_s=%lf bytes_per_flow=%ld distinct_src_ports=%ld "
		                      "max_flows_per_port=%ld wall_s=%lf",
		                      r.backend, &r.family, &r.flows, &r.total, r.first_error, &r.connects_per_s,
		                      &r.bytes_per_flow, &r.distinct_src_ports, &r.max_flows_per_port, &r.wall_s) == 10;
		cr_assert(r.has_result, "unparsable: %s", line);
	}
	st = pclose(p);
	if (st != -1 && WIFEXITED(st))
		r.exit_status = WEXITSTATUS(st);
	cr_assert(r.has_result, "no RESULT line from: %s", cmd);
	return r;
}

/* The test command runs as root (README); without root the kernel backend
 * cannot make its namespace, which is a failure of the run, not a skip. */
static void need_root(void)
{
	cr_assert_eq(geteuid(), 0, "the kernel backend needs root (private network namespace)");
}

/* Every flow held; the run's result for further checks. */
static struct flows_result check_all_held(const char *args, const char *backend, int family, long n)
{
	struct flows_result r = run_flows(args);

	cr_assert_eq(r.exit_status, 0, "%s: exit status %d", args, r.exit_status);
	cr_assert_str_eq(r.backend, backend);
	cr_assert_eq(r.family, family);
	cr_assert_eq(r.flows, n, "%s: flows=%ld/%ld", args, r.flows, r.total);
	cr_assert_eq(r.total, n);
	cr_assert_str_eq(r.first_error, "none");
	cr_assert_gt(r.connects_per_s, 0);
	cr_assert_gt(r.bytes_per_flow, 0);
	cr_assert_gt(r.distinct_src_ports, 0);
	cr_assert_leq(r.distinct_src_ports, n);
	cr_assert_geq(r.max_flows_per_port, 1);
	cr_assert_gt(r.wall_s, 0);
	return r;
}

/* Plain bind(src, 0): the 1,000-port range runs out. */
static struct flows_result check_bind_runs_out(const char *args, int family)
{
	struct flows_result r = run_flows(args);

	cr_assert_neq(r.exit_status, 0, "%s: a failed run exits non-zero", args);
	cr_assert_eq(r.family, family);
	cr_assert_str_eq(r.first_error, "EADDRINUSE", "%s: first_error=%s", args, r.first_error);
	cr_assert_eq(r.total, 20000);
	cr_assert(r.flows >= 950 && r.flows <= 1000, "%s: flows=%ld, near the 1,000 ports of the range", args,
	          r.flows);
	cr_assert_eq(r.distinct_src_ports, r.flows, "one port per flow without the option");
	cr_assert_eq(r.max_flows_per_port, 1);
	return r;
}

Test(flows, dtcp_ipv4_no_port_holds_every_flow)
{
	check_all_held("--backend dtcp --num-flows 20000 --no-port", "dtcp", 4, 20000);
}

Test(flows, dtcp_ipv6_no_port_holds_every_flow)
{
	check_all_held("--backend dtcp --num-flows 20000 --no-port --ipv6", "dtcp", 6, 20000);
}

/* One connect at a time (blocking on dtcp) and odd batch sizes (the last
 * batch short) hold every flow too, on the same ports. */
Test(flows, dtcp_batch_sizes_hold_every_flow)
{
	struct flows_result one, odd;

	one = check_all_held("--backend dtcp --num-flows 5000 --no-port --batch 1", "dtcp", 4, 5000);
	odd = check_all_held("--backend dtcp --num-flows 5000 --no-port --batch 999", "dtcp", 4, 5000);
	cr_assert_eq(one.distinct_src_ports, odd.distinct_src_ports);
	cr_assert_eq(one.max_flows_per_port, odd.max_flows_per_port);
}

/* A batch that bind() cuts short: flows before the failing one are held,
 * none after it, whatever the batch size. */
Test(flows, dtcp_bind_runs_out_mid_batch)
{
	struct flows_result a, b;

	a = check_bind_runs_out("--backend dtcp --num-flows 20000 --range 40000-40999 --batch 1", 4);
	b = check_bind_runs_out("--backend dtcp --num-flows 20000 --range 40000-40999 --batch 300", 4);
	cr_assert_eq(a.flows, b.flows, "batch 1 held %ld, batch 300 %ld", a.flows, b.flows);
}

Test(flows, dtcp_ipv4_ports_are_shared)
{
	struct flows_result r = run_flows("--backend dtcp --num-flows 20000 --no-port --num-dsts 20");

	cr_assert_eq(r.exit_status, 0);
	cr_assert_eq(r.flows, 20000);
	cr_assert_lt(r.distinct_src_ports, 20000, "fewer ports than flows");
	cr_assert_gt(r.max_flows_per_port, 1, "one port serves several destinations");
	cr_assert_leq(r.max_flows_per_port, 20, "at most one flow per destination on a port");
}

Test(flows, dtcp_ipv4_no_bind_holds_every_flow)
{
	check_all_held("--backend dtcp --num-flows 20000 --no-bind", "dtcp", 4, 20000);
}

Test(flows, dtcp_ipv4_bind_runs_out_of_ports)
{
	check_bind_runs_out("--backend dtcp --num-flows 20000 --range 40000-40999", 4);
}

Test(flows, dtcp_ipv6_bind_runs_out_of_ports)
{
	check_bind_runs_out("--backend dtcp --num-flows 20000 --range 40000-40999 --ipv6", 6);
}

Test(flows, kernel_ipv4_no_port_holds_every_flow)
{
	need_root();
	check_all_held("--backend kernel --num-flows 5000 --no-port", "kernel", 4, 5000);
}

/* The kernel one connect at a time (blocking), and with connects in flight
 * over IPv6 (poll() for their ends). */
Test(flows, kernel_blocking_and_ipv6_batches_hold_every_flow)
{
	need_root();
	check_all_held("--backend kernel --num-flows 3000 --no-port --batch 1", "kernel", 4, 3000);
	check_all_held("--backend kernel --num-flows 3000 --no-port --batch 100 --ipv6", "kernel", 6, 3000);
}

Test(flows, dtcp_stops_where_the_kernel_stops)
{
	struct flows_result k, d;

	need_root();
	k = check_bind_runs_out("--backend kernel --num-flows 20000 --range 40000-40999", 4);
	d = check_bind_runs_out("--backend dtcp --num-flows 20000 --range 40000-40999", 4);
	cr_assert_eq(d.flows, k.flows, "dtcp held %ld, the kernel %ld", d.flows, k.flows);
}

/* Two dtcp stacks over a DPDK net_ring pair (EAL without hugepages or
 * PCI): the embedded default, as the README's run command runs it. */
Test(flows, dpdk_ipv4_no_port_holds_every_flow)
{
	check_all_held("--backend dpdk --num-flows 20000 --no-port", "dpdk", 4, 20000);
}

Test(flows, dpdk_ipv6_no_port_holds_every_flow)
{
	check_all_held("--backend dpdk --num-flows 20000 --no-port --ipv6", "dpdk", 6, 20000);
}

Test(flows, dpdk_one_connect_at_a_time_holds_every_flow)
{
	check_all_held("--backend dpdk --num-flows 3000 --no-port --batch 1", "dpdk", 4, 3000);
}

Test(flows, batch_out_of_range_refused)
{
	cr_assert_eq(WEXITSTATUS(system("\"$DTCP_FLOWS\" --backend dtcp --batch 0 >/dev/null 2>&1")), 2);
	cr_assert_eq(WEXITSTATUS(system("\"$DTCP_FLOWS\" --backend dtcp --batch 1025 >/dev/null 2>&1")), 2);
}

/* lwIP without the option: one port per flow, every flow held. */
static void check_lwip_held(const char *args, int family)
{
	struct flows_result r = check_all_held(args, "lwip", family, 500);

	cr_assert_eq(r.distinct_src_ports, 500, "%s: one port per flow", args);
	cr_assert_eq(r.max_flows_per_port, 1);
}

Test(flows, lwip_ipv4_bind_holds_every_flow)
{
	check_lwip_held("--backend lwip --num-flows 500", 4);
}

Test(flows, lwip_ipv6_bind_holds_every_flow)
{
	check_lwip_held("--backend lwip --num-flows 500 --ipv6", 6);
}

/* lwIP has no IP_BIND_ADDRESS_NO_PORT: the first flow's setsockopt fails
 * and the run stops there. */
Test(flows, lwip_no_port_stops_at_the_first_flow)
{
	struct flows_result r = run_flows("--backend lwip --num-flows 500 --no-port");

	cr_assert_eq(r.exit_status, 1, "a failed run exits 1, not %d", r.exit_status);
	cr_assert_str_eq(r.backend, "lwip");
	cr_assert_eq(r.flows, 0);
	cr_assert_eq(r.total, 500);
	cr_assert_str_eq(r.first_error, "ENOPROTOOPT");
	cr_assert_eq(r.distinct_src_ports, 0);
}

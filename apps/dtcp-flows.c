/* dtcp-flows: the one-million-flows experiment. N concurrent TCP connections
 * from one source address (socket -> [IP_BIND_ADDRESS_NO_PORT] -> [bind(src,
 * 0)] -> connect) to K destination addresses on port 44983, accepted by a
 * listener as they come and all kept open until the report is printed; on
 * the kernel (private network namespace), on dtcp (one stack's loopback),
 * on dpdk (two dtcp stacks over a DPDK device pair, the default) or, for
 * comparison, on Debian's lwIP (its loopback, in this process).
 * On dtcp and dpdk, --batch K (default 64) connects are issued non-blocking
 * before their handshakes are waited for, as a load generator keeps many
 * in flight; the kernel and lwIP connect one at a time (blocking: on
 * loopback the kernel completes the handshake inside connect()).
 * Single-threaded; the backends live in flows/.
 *
 * The RESULT line's figures:
 *   flows=E/N           flows established (connect() returned 0) of those asked for
 *   first_error         errno name of the first failed call ("none"); the call
 *                       itself is named on stderr
 *   connects_per_s      E / (establish time - parking time); the establish time
 *                       runs from the first socket() to the last accept and
 *                       includes getsockname() and the accepts
 *   bytes_per_flow      memory for both endpoints of a flow, grown over the run,
 *                       divided by E. dtcp, dpdk: the stack's (both stacks') pools (in_use x obj_size,
 *                       dtcp_stack_pools); hash-table arrays, sized at creation,
 *                       are not counted (the process RSS growth is printed
 *                       beside). kernel: active_objs x objsize growth in
 *                       /proc/slabinfo of TCP, TCPv6, sock_inode_cache,
 *                       request_sock_TCP(v6) and tcp_bind(2)_bucket where they
 *                       have lines; filp and dentry are printed, not counted.
 *                       lwip: the heap's growth (mallinfo2, every arena).
 *   distinct_src_ports, max_flows_per_port   from getsockname() of each flow
 *   wall_s              the whole run: set-up, establishing, report, release
 * Default destinations: K = ceil(2 N / range size), so that each destination
 * uses at most half the local port range (connect()'s port walk grows long as
 * a destination fills up, on the kernel quadratically). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dtcp/diag.h>

#include "flows/flows.h"

#define SS_ROWS 10
#define V4_MAX_DSTS ((1u << 24) - 3)   /* 127.0.0.2 .. 127.255.255.254 */
#define V6_MAX_DSTS 65536u
#define DEFAULT_OPS (flows_dpdk_built ? &flows_dpdk_ops : &flows_dtcp_ops)

struct run {
	struct flows_config cfg;
	const struct flows_backend_ops *ops;
	struct flows_backend *be;
	union flows_addr src;
	union flows_addr *dsts;
	uint16_t *sport;               /* source port of each flow */
	uint32_t *per_port;            /* flows on each source port */
	uint64_t established;
	uint64_t other_src;            /* flows whose local address was not src */
	union flows_addr first_local;
	struct flows_error err;
	uint64_t err_flow;             /* 1-based flow the error hit; 0: not a flow */
	unsigned range_lo, range_hi;
	const char *ss_expr;           /* --ss: print this ss filter's table after the run */
	uint64_t ss_rows;
	double t_start, t_est, est_s, release_s;
	double park_s;                 /* copied from the backend before it goes */
	uint64_t parked, park_msgs, accepted;
	uint32_t distinct_ports, max_per_port, busiest_port;
	struct flows_mem mem;
};

const char *flows_errno_name(int err)
{
	static char buf[16];
	const char *n;

	if (!err)
		return "none";
	n = strerrorname_np(err);
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

int flows_fail(struct flows_error *err, const char *call, int e)
{
	err->call = call;
	err->err = e ? e : EIO;
	return -err->err;
}

double flows_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: dtcp-flows [options]\n"
	        "  --num-flows N     connections to open and hold (default 1000000)\n"
	        "  --no-port         set IP_BIND_ADDRESS_NO_PORT before bind(src, 0)\n"
	        "  --no-bind         no bind(): connect() picks address and port\n"
	        "  --ipv6            IPv6 (default IPv4). Addresses: kernel and dtcp: %s,\n"
	        "                    IPv6 %s; dpdk: %s,\n"
	        "                    IPv6 %s\n"
	        "  --num-dsts K      destination addresses (default ceil(2 N / range size): each\n"
	        "                    destination uses at most half the local port range)\n"
	        "  --range LO-HI     net.ipv4.ip_local_port_range for the run\n"
	        "  --backend B       dpdk: two dtcp stacks over a DPDK net_ring pair in this process\n"
	        "                    (EAL with --no-huge --no-pci; no NIC, no hugepages)%s;\n"
	        "                    dtcp: one dtcp stack, its loopback; kernel: private netns, root;\n"
	        "                    lwip: Debian's liblwip, its loopback, for comparison: no\n"
	        "                    IP_BIND_ADDRESS_NO_PORT, a fixed socket table%s;\n"
	        "                    addresses %s, IPv6 %s\n"
	        "  --batch K         dtcp, dpdk: K non-blocking connects issued before their handshakes\n"
	        "                    are waited for, as a load generator keeps many in flight\n"
	        "                    (default %d; 1: one connect at a time, blocking on dtcp).\n"
	        "                    kernel, lwip: one blocking connect at a time (on loopback the\n"
	        "                    kernel's handshake completes within connect())\n"
	        "  --ss EXPR         after the run, before teardown, print `ss -tan EXPR` of the\n"
	        "                    client side (dtcp: the one stack; dpdk: the client stack; kernel:\n"
	        "                    the real ss in the namespace). EXPR: state S, src ADDR[:PORT],\n"
	        "                    dst ADDR[:PORT], sport = :P, dport = :P; \"\" for all\n"
	        "  --ss-rows N       at most N rows of that table (default 1000)\n"
	        "Exit status: 0 when all N flows were established, 1 when a call failed\n"
	        "(first_error in the RESULT line), 2 on bad usage.\n",
	        flows_loopback_plan.text_v4, flows_loopback_plan.text_v6, flows_dpdk_ops.addrs->text_v4,
	        flows_dpdk_ops.addrs->text_v6,
	        flows_dpdk_built ? " (default)" : ", not in this build (no DPDK); default dtcp",
	        flows_lwip_built ? "" : ", not in this build (no liblwip-dev)", flows_lwip_ops.addrs->text_v4,
	        flows_lwip_ops.addrs->text_v6, FLOWS_BATCH_DEFAULT);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(struct run *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "num-flows", required_argument, NULL, 'n' }, { "no-port", no_argument, NULL, 'p' },
		{ "no-bind", no_argument, NULL, 'b' },         { "ipv6", no_argument, NULL, '6' },
		{ "num-dsts", required_argument, NULL, 'k' },  { "range", required_argument, NULL, 'r' },
		{ "backend", required_argument, NULL, 'B' },   { "help", no_argument, NULL, 'h' },
		{ "ss", required_argument, NULL, 's' },        { "ss-rows", required_argument, NULL, 'R' },
		{ "batch", required_argument, NULL, 'K' },     { NULL, 0, NULL, 0 },
	};
	uint64_t v, lo, hi;
	uint32_t max;
	char *dash;
	int c, li = 0;

	r->cfg.num_flows = 1000000;
	r->cfg.family = AF_INET;
	r->ops = DEFAULT_OPS;
	r->ss_rows = 1000;
	r->cfg.batch = FLOWS_BATCH_DEFAULT;
	while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, 1, 100000000, &r->cfg.num_flows) < 0)
				goto bad;
			break;
		case 'p':
			r->cfg.no_port = true;
			break;
		case 'b':
			r->cfg.no_bind = true;
			break;
		case '6':
			r->cfg.family = AF_INET6;
			break;
		case 'k':
			if (parse_u64(optarg, 1, V4_MAX_DSTS, &v) < 0)
				goto bad;
			r->cfg.num_dsts = (uint32_t)v;
			break;
		case 'r':
			dash = strchr(optarg, '-');
			if (!dash)
				goto bad;
			*dash = '\0';
			v = parse_u64(optarg, 1, 65535, &lo) < 0 || parse_u64(dash + 1, 1, 65535, &hi) < 0 || lo > hi;
			*dash = '-';
			if (v)
				goto bad;
			r->cfg.has_range = true;
			r->cfg.range_lo = (uint16_t)lo;
			r->cfg.range_hi = (uint16_t)hi;
			break;
		case 'B':
			if (!strcmp(optarg, "kernel")) {
				r->ops = &flows_kernel_ops;
			} else if (!strcmp(optarg, "dtcp")) {
				r->ops = &flows_dtcp_ops;
			} else if (!strcmp(optarg, "dpdk")) {
				r->ops = &flows_dpdk_ops;
			} else if (!strcmp(optarg, "lwip")) {
				r->ops = &flows_lwip_ops;
			} else {
				goto bad;
			}
			break;
		case 's':
			r->ss_expr = optarg;
			break;
		case 'R':
			if (parse_u64(optarg, 0, 100000000, &r->ss_rows) < 0)
				goto bad;
			break;
		case 'K':
			if (parse_u64(optarg, 1, FLOWS_BATCH_MAX, &v) < 0)
				goto bad;
			r->cfg.batch = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad_quiet;
		}
	}
	if (optind != argc)
		goto bad_quiet;
	if (r->ss_expr && r->ops != &flows_kernel_ops) {
		struct dtcp_sock_filter f;
		char why[160];

		if (dtcp_sock_filter_parse(r->ss_expr, &f, why, sizeof(why)) < 0) {
			fprintf(stderr, "dtcp-flows: bad value for --ss: %s: %s\n", r->ss_expr, why);
			return -1;
		}
	}
	max = r->cfg.family == AF_INET6 ? r->ops->addrs->max_dsts_v6 : r->ops->addrs->max_dsts_v4;
	if (r->cfg.num_dsts > max) {
		fprintf(stderr, "dtcp-flows: --num-dsts is at most %u on the %s backend%s\n", max, r->ops->name,
		        r->cfg.family == AF_INET6 ? " with --ipv6" : "");
		return -1;
	}
	return 0;

bad:
	fprintf(stderr, "dtcp-flows: bad value for --%s: %s\n", opts[li].name, optarg);
bad_quiet:
	usage(stderr);
	return -1;
}

/* Destination i: IPv4 127.0.0.2 + i; IPv6 ::1 for i = 0, else 2001:db8::i. */
void flows_loopback_dst(int family, uint32_t i, union flows_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET6) {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_port = htons(FLOWS_DST_PORT);
		if (i == 0) {
			a->v6.sin6_addr = in6addr_loopback;
		} else {
			uint32_t be = htonl(i);

			a->v6.sin6_addr.s6_addr[0] = 0x20;
			a->v6.sin6_addr.s6_addr[1] = 0x01;
			a->v6.sin6_addr.s6_addr[2] = 0x0d;
			a->v6.sin6_addr.s6_addr[3] = 0xb8;
			memcpy(&a->v6.sin6_addr.s6_addr[12], &be, 4);
		}
	} else {
		a->v4.sin_family = AF_INET;
		a->v4.sin_port = htons(FLOWS_DST_PORT);
		a->v4.sin_addr.s_addr = htonl(0x7f000002u + i);
	}
}

void flows_loopback_src(int family, union flows_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET6) {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_addr = in6addr_loopback;
	} else {
		a->v4.sin_family = AF_INET;
		a->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
}

const struct flows_addr_plan flows_loopback_plan = {
	.src = flows_loopback_src,
	.dst = flows_loopback_dst,
	.max_dsts_v4 = V4_MAX_DSTS,
	.max_dsts_v6 = V6_MAX_DSTS,
	.text_v4 = "127.0.0.1 -> 127.0.0.2..",
	.text_v6 = "::1 -> ::1, 2001:db8::1..",
};

/* "127.0.0.1:40000" or "[::1]:40000". */
static const char *addr_text(const union flows_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->v6.sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a->v6.sin6_port));
	} else {
		inet_ntop(AF_INET, &a->v4.sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a->v4.sin_port));
	}
	return buf;
}

static uint16_t addr_port(const union flows_addr *a)
{
	return ntohs(a->sa.sa_family == AF_INET6 ? a->v6.sin6_port : a->v4.sin_port);
}

static void addr_set_port(union flows_addr *a, uint16_t port)
{
	if (a->sa.sa_family == AF_INET6)
		a->v6.sin6_port = htons(port);
	else
		a->v4.sin_port = htons(port);
}

static bool same_ip(const union flows_addr *a, const union flows_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET6)
		return !memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, sizeof(a->v6.sin6_addr));
	return a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

static void progress(const struct run *r, uint64_t done, bool last)
{
	double el = flows_now_s() - r->t_est;

	if (last)
		fprintf(stderr, "\r\033[K");
	else
		fprintf(stderr, "\r%s: %" PRIu64 "/%" PRIu64 " flows (%.0f%%), %.0f connects/s   ", r->ops->name, done,
		        r->cfg.num_flows, 100.0 * (double)done / (double)r->cfg.num_flows,
		        el > 0 ? (double)done / el : 0.0);
	fflush(stderr);
}

/* Flow i established with local address *local. */
static void flow_done(struct run *r, uint64_t i, const union flows_addr *local)
{
	uint16_t port = addr_port(local);

	if (i == 0)
		r->first_local = *local;
	else if (!same_ip(local, &r->first_local))
		r->other_src++;
	r->sport[i] = port;
	r->per_port[port]++;
	r->established++;
}

/* Flows i .. i + n - 1, one at a time or in one batch; how many were
 * established (fewer than n: the next one failed, r->err says how). */
static uint64_t open_some(struct run *r, uint64_t i, uint32_t n)
{
	const union flows_addr *dst[FLOWS_BATCH_MAX];
	union flows_addr local[FLOWS_BATCH_MAX];
	const uint32_t k = r->cfg.num_dsts;
	int64_t got;

	if (n == 1 || !r->ops->open_batch) {
		for (uint32_t j = 0; j < n; j++) {
			if (r->ops->open_flow(r->be, &r->src, &r->dsts[(i + j) % k], &local[0], &r->err) < 0)
				return j;
			flow_done(r, i + j, &local[0]);
		}
		return n;
	}
	for (uint32_t j = 0; j < n; j++)
		dst[j] = &r->dsts[(i + j) % k];
	got = r->ops->open_batch(r->be, &r->src, dst, n, local, &r->err);
	for (int64_t j = 0; j < got; j++)
		flow_done(r, i + (uint64_t)j, &local[j]);
	return got < 0 ? 0 : (uint64_t)got;
}

/* Open the flows (--batch at a time where the backend can), accepting as
 * we go; stop at the first error. */
static void establish(struct run *r)
{
	const uint64_t n = r->cfg.num_flows;
	const uint32_t batch = r->ops->open_batch ? r->cfg.batch : 1;
	bool tty = isatty(STDERR_FILENO);
	double last = flows_now_s();
	uint64_t i = 0, since_accept = 0;

	while (i < n) {
		uint32_t want = n - i < batch ? (uint32_t)(n - i) : batch;
		uint64_t got = open_some(r, i, want);

		i += got;
		since_accept += got;
		if (got < want) {
			r->err_flow = i + 1;
			break;
		}
		if (since_accept >= FLOWS_ACCEPT_EVERY) {
			since_accept = 0;
			if (r->ops->accept_ready(r->be, &r->err) < 0)
				break;
		}
		if (tty && flows_now_s() - last >= 0.2) {
			last = flows_now_s();
			progress(r, i, false);
		}
	}
	if (tty)
		progress(r, r->established, true);
	if (!r->err.err)
		r->ops->settle(r->be, r->established, &r->err);
	else
		(void)r->ops->settle(r->be, r->established, &(struct flows_error){ 0 });
}

/* The `ss -t src :PORT` view of the busiest source port, from the
 * addresses our own sockets reported (getsockname) and the destinations
 * they connected to. */
static void report_ports(struct run *r)
{
	uint32_t busiest = 0, distinct = 0, max = 0, shown = 0;
	union flows_addr local = r->first_local;
	char a[64], b[64];

	for (uint32_t p = 0; p < 65536; p++) {
		if (!r->per_port[p])
			continue;
		distinct++;
		if (r->per_port[p] > max) {
			max = r->per_port[p];
			busiest = p;
		}
	}
	r->distinct_ports = distinct;
	r->max_per_port = max;
	r->busiest_port = busiest;
	if (!r->established)
		return;
	addr_set_port(&local, (uint16_t)busiest);
	printf("\n$ ss -t src :%u    (computed from our own sockets: first %u of %u)\n", busiest,
	       max < SS_ROWS ? max : SS_ROWS, max);
	printf("%-6s %-6s %-6s %30s %30s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port");
	for (uint64_t i = 0; i < r->established && shown < SS_ROWS; i++) {
		if (r->sport[i] != busiest)
			continue;
		printf("%-6s %-6d %-6d %30s %30s\n", "ESTAB", 0, 0, addr_text(&local, a, sizeof(a)),
		       addr_text(&r->dsts[i % r->cfg.num_dsts], b, sizeof(b)));
		shown++;
	}
	printf("\nsource ports: %u distinct, at most %u flows on one port (:%u)", distinct, max, busiest);
	if (r->other_src)
		printf("; %" PRIu64 " flows had another source address", r->other_src);
	printf("\n");
}


/* Backend, port range, destinations, the memory mark. */
static int setup(struct run *r)
{
	struct flows_config *cfg = &r->cfg;
	const struct flows_addr_plan *plan = r->ops->addrs;
	uint64_t range, k, max;
	char a[64], b[64], c[64];

	if (r->ops->create(r->ops, cfg, &r->be, &r->err) < 0)
		return -1;
	if (r->ops->port_range(r->be, &r->range_lo, &r->range_hi, &r->err) < 0)
		return -1;
	range = r->range_hi >= r->range_lo ? r->range_hi - r->range_lo + 1u : 1u;
	if (!cfg->num_dsts) {
		/* One destination port: each destination holds at most half the
		 * range, so connect()'s port walk stays short on both stacks. */
		k = (2 * cfg->num_flows + range - 1) / range;
		max = cfg->family == AF_INET6 ? plan->max_dsts_v6 : plan->max_dsts_v4;
		cfg->num_dsts = (uint32_t)(k > max ? max : k);
	}
	r->dsts = calloc(cfg->num_dsts, sizeof(*r->dsts));
	if (!r->dsts)
		return flows_fail(&r->err, "calloc", ENOMEM);
	for (uint32_t i = 0; i < cfg->num_dsts; i++)
		plan->dst(cfg->family, i, &r->dsts[i]);
	plan->src(cfg->family, &r->src);
	if (r->ops->add_dsts(r->be, r->dsts, cfg->num_dsts, &r->err) < 0)
		return -1;
	printf("dtcp-flows: backend %s, IPv%d, %" PRIu64 " flows from %s (%s) to %u destination%s %s .. %s, "
	       "local port range %u-%u\n",
	       r->ops->name, cfg->family == AF_INET6 ? 6 : 4, cfg->num_flows, addr_text(&r->src, a, sizeof(a)),
	       cfg->no_bind   ? "no bind"
	       : cfg->no_port ? "IP_BIND_ADDRESS_NO_PORT, bind"
	                      : "bind",
	       cfg->num_dsts, cfg->num_dsts == 1 ? "" : "s", addr_text(&r->dsts[0], b, sizeof(b)),
	       addr_text(&r->dsts[cfg->num_dsts - 1], c, sizeof(c)), r->range_lo, r->range_hi);
	r->ops->mem_mark(r->be);
	return 0;
}

static void report_error(const struct run *r)
{
	char a[64], b[64];

	if (!r->err.err)
		return;
	if (r->err_flow)
		fprintf(stderr, "dtcp-flows: flow %" PRIu64 " of %" PRIu64 " (%s -> %s): %s: %s (%s)\n", r->err_flow,
		        r->cfg.num_flows, r->cfg.no_bind ? "unbound" : addr_text(&r->src, b, sizeof(b)),
		        addr_text(&r->dsts[(r->err_flow - 1) % r->cfg.num_dsts], a, sizeof(a)), r->err.call,
		        flows_errno_name(r->err.err), strerror(r->err.err));
	else
		fprintf(stderr, "dtcp-flows: %s: %s (%s)\n", r->err.call, flows_errno_name(r->err.err),
		        strerror(r->err.err));
}

/* Rate and memory; the backend is still alive. */
static void report_figures(struct run *r)
{
	double conn_s = r->est_s - r->park_s;
	double rate = conn_s > 0 ? (double)r->established / conn_s : 0.0;

	printf("rate: %" PRIu64 " connects in %.3f s = %.0f connects/s (socket, option, bind, connect, getsockname; "
	       "accepts included",
	       r->established, conn_s, rate);
	if (r->parked)
		printf("; parking excluded: %.3f s for %" PRIu64 " descriptors in %" PRIu64 " SCM_RIGHTS messages",
		       r->park_s, r->parked, r->park_msgs);
	printf(")\n");
	r->ops->mem_report(r->be, &r->mem);
	printf("memory: %" PRIu64 " bytes per flow, both endpoints (%.1f MiB for %" PRIu64 " flows)\n",
	       r->established ? r->mem.bytes / r->established : 0, (double)r->mem.bytes / 1048576.0, r->established);
	printf("  counted: %s\n", r->mem.what);
	if (r->mem.extra[0])
		printf("  %s\n", r->mem.extra);
}

long flows_rss_pages(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, rss = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss;
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	double t0, conn_s;
	bool ok;

	if (parse_args(&r, argc, argv) < 0)
		return 2;
	r.t_start = flows_now_s();
	r.sport = malloc(r.cfg.num_flows * sizeof(*r.sport));
	r.per_port = calloc(65536, sizeof(*r.per_port));
	if (!r.sport || !r.per_port) {
		flows_fail(&r.err, "malloc", ENOMEM);
		goto out;
	}
	/* Touch the records now, so the memory mark already holds them. */
	memset(r.sport, 0, r.cfg.num_flows * sizeof(*r.sport));
	if (setup(&r) < 0)
		goto out;
	t0 = r.t_est = flows_now_s();
	establish(&r);
	r.est_s = flows_now_s() - t0;
	r.park_s = r.be->park_s;
	r.parked = r.be->parked;
	r.park_msgs = r.be->park_msgs;
	r.accepted = r.be->accepted;
	printf("established %" PRIu64 " of %" PRIu64 " flows, %" PRIu64 " accepted, in %.3f s\n\n", r.established,
	       r.cfg.num_flows, r.accepted, r.est_s);
	r.ops->sockstat(r.be, stdout);
	report_ports(&r);
	report_figures(&r);
	if (r.ss_expr && r.ops->ss) {
		struct flows_error e = { 0 };

		printf("\n$ ss -tan %s    (%s)\n", r.ss_expr, r.ops == &flows_dtcp_ops ? "the stack holds both ends"
		                                             : r.ops == &flows_dpdk_ops ? "the client stack"
		                                                                          : "the real ss, in the namespace");
		if (r.ops->ss(r.be, r.ss_expr, stdout, (long)r.ss_rows, &e) < 0)
			fprintf(stderr, "dtcp-flows: --ss: %s: %s\n", e.call, strerror(e.err));
	}
out:
	report_error(&r);
	if (r.be) {
		t0 = flows_now_s();
		r.ops->destroy(r.be);
		r.release_s = flows_now_s() - t0;
		printf("released: every socket closed in %.3f s\n", r.release_s);
	}
	conn_s = r.est_s - r.park_s;
	ok = !r.err.err && r.established == r.cfg.num_flows;
	printf("RESULT backend=%s family=%d flows=%" PRIu64 "/%" PRIu64 " first_error=%s connects_per_s=%.0f "
	       "bytes_per_flow=%" PRIu64 " distinct_src_ports=%u max_flows_per_port=%u wall_s=%.3f\n",
	       r.ops->name, r.cfg.family == AF_INET6 ? 6 : 4, r.established, r.cfg.num_flows,
	       flows_errno_name(r.err.err), conn_s > 0 ? (double)r.established / conn_s : 0.0,
	       r.established ? r.mem.bytes / r.established : 0, r.distinct_ports, r.max_per_port,
	       flows_now_s() - r.t_start);
	free(r.dsts);
	free(r.per_port);
	free(r.sport);
	return ok ? 0 : 1;
}

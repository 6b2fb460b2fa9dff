/* dtcp-flows on dpdk: two dtcp stacks, client and server, each with its own
 * "eth0" over one end of a DPDK net_ring pair in this process (EAL without
 * hugepages or PCI: no NIC needed), Ethernet with ARP / neighbour discovery
 * between them. Both stacks are polled from the one thread of the program.
 *
 * Only the ring pair is wired up now. Another device pair (two --vdev
 * devices, e.g. memif server and client) would take dtcp_dpdk_port_lookup()
 * and dtcp_dpdk_port_open() on each name, then dtcp_dpdk_port_link_wait(),
 * in place of dtcp_dpdk_ring_pair_open() in dpdk_ports_open(). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>

#include "flows.h"
#include "ss/ss.h"

/* mbufs in the pair's shared pool. The flows are opened one at a time, so
 * a handful are in flight; the rest is room for bursts (the rings hold
 * 1,024 each way, the stacks' transmit queues their share). */
#define DPDK_POOL_MBUFS 65536u
/* EAL memory in MB: the pool (~2.3 KB an mbuf with its dtcp_pkt, ~150 MB),
 * the rings and EAL's own heap, with room to spare (-m 16 fails a small pool). */
#define DPDK_EAL_MB "512"
/* How long one handshake (with ARP or ND on the first flow to a
 * destination) may take before the flow counts as failed. */
/* The client's and the server's first addresses: RFC 2544's benchmarking
 * prefix 198.18.0.0/15 and RFC 3849's documentation prefix. */
#define DPDK_V4_NET 0xc6120000u        /* 198.18.0.0 */
#define DPDK_V4_PREFIX 15
#define DPDK_V6_PREFIX 64
#define DPDK_SRC_HOST 1u               /* .1, ::1 in the prefix */
#define DPDK_DST_HOST 2u               /* destination i is host 2 + i */

struct flows_dpdk {
	struct flows_backend base;
	struct dtcp_dpdk_port *ports[2]; /* [0] the client's, [1] the server's */
	struct dtcp_stack *cli, *srv;
	int lfd;
	struct flows_dtcp_mark mark[2];  /* client, server */
	long rss_mark;                 /* resident pages at the mark */
};

static struct flows_dpdk *pself(struct flows_backend *b)
{
	return (struct flows_dpdk *)b;
}

/* Host h of the run's prefix: 198.18.0.0/15 + h, 2001:db8::/64 + h. */
static void dpdk_host(int family, uint32_t h, union flows_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET6) {
		uint32_t be = htonl(h);

		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_addr.s6_addr[0] = 0x20;
		a->v6.sin6_addr.s6_addr[1] = 0x01;
		a->v6.sin6_addr.s6_addr[2] = 0x0d;
		a->v6.sin6_addr.s6_addr[3] = 0xb8;
		memcpy(&a->v6.sin6_addr.s6_addr[12], &be, 4);
	} else {
		a->v4.sin_family = AF_INET;
		a->v4.sin_addr.s_addr = htonl(DPDK_V4_NET + h);
	}
}

static void dpdk_src(int family, union flows_addr *a)
{
	dpdk_host(family, DPDK_SRC_HOST, a);
}

static void dpdk_dst(int family, uint32_t i, union flows_addr *a)
{
	dpdk_host(family, DPDK_DST_HOST + i, a);
	if (family == AF_INET6)
		a->v6.sin6_port = htons(FLOWS_DST_PORT);
	else
		a->v4.sin_port = htons(FLOWS_DST_PORT);
}

static const struct flows_addr_plan dpdk_plan = {
	.src = dpdk_src,
	.dst = dpdk_dst,
	/* 198.18.0.2 .. 198.19.255.254: the /15 less network, source, broadcast. */
	.max_dsts_v4 = (1u << (32 - DPDK_V4_PREFIX)) - 3,
	.max_dsts_v6 = 65536,
	.text_v4 = "198.18.0.1 -> 198.18.0.2.. (/15)",
	.text_v6 = "2001:db8::1 -> 2001:db8::2.. (/64)",
};

/* "198.18.0.5/15" for host h. */
static void host_cidr(int family, uint32_t h, int prefix, char *buf, size_t len)
{
	union flows_addr a;
	char ip[INET6_ADDRSTRLEN];

	dpdk_host(family, h, &a);
	if (family == AF_INET6)
		inet_ntop(AF_INET6, &a.v6.sin6_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET, &a.v4.sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s/%d", ip, prefix);
}

/* Drive both stacks once; the packets and timers they processed. */
static int pump(struct flows_dpdk *p)
{
	return dtcp_stack_poll(p->cli) + dtcp_stack_poll(p->srv);
}

static int eal_start(struct flows_error *err)
{
	char *argv[] = { "dtcp-flows", "--no-huge", "--no-pci", "-m", DPDK_EAL_MB, "--no-shconf",
		         "--no-telemetry", "--log-level=error", NULL };

	if (dtcp_dpdk_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return flows_fail(err, "dtcp_dpdk_eal_init", errno);
	return 0;
}

/* The device pair: a net_ring pair sharing one mbuf pool. */
static int dpdk_ports_open(struct flows_dpdk *p, struct flows_error *err)
{
	struct dtcp_dpdk_port_conf conf = { .pool_size = DPDK_POOL_MBUFS };

	if (dtcp_dpdk_ring_pair_open("dtcp_flows", &conf, p->ports) < 0)
		return flows_fail(err, "dtcp_dpdk_ring_pair_open", errno);
	return 0;
}

/* A stack for one end: its eth0 on the port, its socket limit. */
static int stack_open(struct dtcp_dpdk_port *port, uint32_t max_sockets, struct dtcp_stack **out,
                      struct flows_error *err)
{
	/* The tables mapped up front, as the kernel's are since boot. */
	struct dtcp_stack_config sc = { .max_sockets = max_sockets, .prefault = true };
	struct dtcp_netdev_info info;
	struct dtcp_stack *st;

	if (dtcp_dpdk_port_info(port, &info) < 0)
		return flows_fail(err, "dtcp_dpdk_port_info", errno);
	st = dtcp_stack_new_config(&sc);
	if (!st)
		return flows_fail(err, "dtcp_stack_new_config", errno);
	if (dtcp_netdev_attach(st, "eth0", dtcp_dpdk_netdev_ops(), dtcp_dpdk_port_netdev(port, 0), &info) < 0) {
		int e = errno;

		dtcp_stack_free(st);
		return flows_fail(err, "dtcp_netdev_attach", e);
	}
	*out = st;
	return 0;
}

/* Sysctls, the client's source address, the server's listener. */
static int stacks_configure(struct flows_dpdk *p, struct flows_error *err)
{
	const struct flows_config *cfg = p->base.cfg;
	char buf[64];

	snprintf(buf, sizeof(buf), "%d", FLOWS_BACKLOG);
	if (dtcp_sysctl_set(p->srv, "net.core.somaxconn", buf) < 0)
		return flows_fail(err, "dtcp_sysctl_set(net.core.somaxconn)", errno);
	if (cfg->has_range) {
		snprintf(buf, sizeof(buf), "%u %u", cfg->range_lo, cfg->range_hi);
		if (dtcp_sysctl_set(p->cli, "net.ipv4.ip_local_port_range", buf) < 0)
			return flows_fail(err, "dtcp_sysctl_set(net.ipv4.ip_local_port_range)", errno);
	}
	host_cidr(cfg->family, DPDK_SRC_HOST, cfg->family == AF_INET6 ? DPDK_V6_PREFIX : DPDK_V4_PREFIX, buf,
	          sizeof(buf));
	if (dtcp_addr_add(p->cli, "eth0", buf) < 0)
		return flows_fail(err, "dtcp_addr_add(client eth0)", errno);
	/* dtcp-ss can read the client stack while the run polls it. */
	if (dtcp_dpdk_telemetry_register(p->cli) < 0)
		fprintf(stderr, "dtcp-flows: telemetry for the client stack: %s\n", strerror(errno));
	return flows_dtcp_listener(p->srv, p->base.cfg->family, &p->lfd, err);
}

static void dpdk_teardown(struct flows_dpdk *p)
{
	/* The stacks first: they hold mbufs of the pool, which the second
	 * port's close frees only once every mbuf is back. */
	if (p->cli)
		(void)dtcp_dpdk_telemetry_unregister(p->cli);
	dtcp_stack_free(p->cli);
	dtcp_stack_free(p->srv);
	for (int i = 0; i < 2; i++)
		if (p->ports[i] && dtcp_dpdk_port_close(p->ports[i]) < 0)
			fprintf(stderr, "dtcp-flows: dtcp_dpdk_port_close(port %d): %s\n", i, strerror(errno));
	if (dtcp_dpdk_eal_cleanup() < 0)
		fprintf(stderr, "dtcp-flows: dtcp_dpdk_eal_cleanup: %s\n", strerror(errno));
	free(p);
}

static int dpdk_create(const struct flows_backend_ops *ops, const struct flows_config *cfg,
                       struct flows_backend **out, struct flows_error *err)
{
	struct flows_dpdk *p = calloc(1, sizeof(*p));
	/* One endpoint of every flow per stack, the listener, and some slack. */
	uint64_t socks = cfg->num_flows + 64;
	uint32_t max_sockets = socks > (1u << 30) ? 1u << 30 : (uint32_t)socks;
	int r;

	if (!p)
		return flows_fail(err, "calloc", ENOMEM);
	p->base.ops = ops;
	p->base.cfg = cfg;
	p->lfd = -1;
	r = eal_start(err);
	if (r < 0)
		goto err_free;
	r = dpdk_ports_open(p, err);
	if (r < 0)
		goto err_eal;
	r = stack_open(p->ports[0], max_sockets, &p->cli, err);
	if (r < 0)
		goto err_teardown;
	r = stack_open(p->ports[1], max_sockets, &p->srv, err);
	if (r < 0)
		goto err_teardown;
	r = stacks_configure(p, err);
	if (r < 0)
		goto err_teardown;
	*out = &p->base;
	return 0;

err_teardown:
	dpdk_teardown(p);
	return r;
err_eal:
	dtcp_dpdk_eal_cleanup();
err_free:
	free(p);
	return r;
}

static int dpdk_port_range(struct flows_backend *self, unsigned *lo, unsigned *hi, struct flows_error *err)
{
	return flows_dtcp_port_range(pself(self)->cli, lo, hi, err);
}

/* The destinations go on the server's eth0, on-link for the client: the
 * first with the prefix (the server's route back to the source), the others
 * as secondary host addresses. The client resolves each by ARP or ND on
 * its first flow there, one neighbour entry each. */
static int dpdk_add_dsts(struct flows_backend *self, const union flows_addr *dsts, uint32_t n,
                         struct flows_error *err)
{
	struct flows_dpdk *p = pself(self);
	int family = self->cfg->family;
	int host_len = family == AF_INET6 ? 128 : 32;
	int prefix = family == AF_INET6 ? DPDK_V6_PREFIX : DPDK_V4_PREFIX;
	char text[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN];

	for (uint32_t i = 0; i < n; i++) {
		if (family == AF_INET6)
			inet_ntop(AF_INET6, &dsts[i].v6.sin6_addr, ip, sizeof(ip));
		else
			inet_ntop(AF_INET, &dsts[i].v4.sin_addr, ip, sizeof(ip));
		snprintf(text, sizeof(text), "%s/%d", ip, i == 0 ? prefix : host_len);
		if (dtcp_addr_add(p->srv, "eth0", text) < 0 && errno != EEXIST)
			return flows_fail(err, "dtcp_addr_add(server eth0)", errno);
	}
	return 0;
}

static void dpdk_mem_mark(struct flows_backend *self)
{
	struct flows_dpdk *p = pself(self);

	flows_dtcp_mark(p->cli, &p->mark[0]);
	flows_dtcp_mark(p->srv, &p->mark[1]);
	p->rss_mark = flows_rss_pages();
}

/* The handshakes need the server's stack to run too, so a blocking
 * connect() (which drives the client's stack only) cannot be used: the
 * connects are non-blocking, and both stacks are polled until they end. */
static int pump_arg(void *arg)
{
	return pump(arg);
}

static int64_t dpdk_open_batch(struct flows_backend *self, const union flows_addr *src,
                               const union flows_addr *const *dst, uint32_t n, union flows_addr *local,
                               struct flows_error *err)
{
	struct flows_dpdk *p = pself(self);

	return flows_dtcp_open_batch(p->cli, self->cfg, pump_arg, p, src, dst, n, local, err);
}

static int dpdk_open_flow(struct flows_backend *self, const union flows_addr *src, const union flows_addr *dst,
                          union flows_addr *local, struct flows_error *err)
{
	return dpdk_open_batch(self, src, &dst, 1, local, err) == 1 ? 0 : -err->err;
}

static int64_t dpdk_accept_ready(struct flows_backend *self, struct flows_error *err)
{
	struct flows_dpdk *p = pself(self);
	int64_t n;

	/* The last flow's ACK may still be in the ring. */
	pump(p);
	n = flows_dtcp_accept_ready(p->srv, p->lfd, err);
	if (n > 0)
		self->accepted += (uint64_t)n;
	return n;
}

static int dpdk_settle(struct flows_backend *self, uint64_t expected, struct flows_error *err)
{
	struct flows_dpdk *p = pself(self);

	/* Poll both stacks until idle, accept, and repeat while that still
	 * brings connections in. */
	for (int round = 0; round < 1000 && self->accepted < expected; round++) {
		int64_t got;

		for (int k = 0; k < 100000 && pump(p) > 0; k++)
			;
		got = dpdk_accept_ready(self, err);
		if (got < 0)
			return (int)got;
		if (got == 0 && round > 10)
			break;
	}
	if (self->accepted < expected)
		return flows_fail(err, "accept4", ETIMEDOUT);
	return 0;
}

/* As /proc/net/sockstat of a host holding both ends: the two stacks'
 * socket pools together. Neither keeps orphans, TIME_WAIT or queued data
 * while every flow is open. */
static void dpdk_sockstat(struct flows_backend *self, FILE *out)
{
	struct flows_dpdk *p = pself(self);
	unsigned long long c = flows_dtcp_sockets(p->cli), s = flows_dtcp_sockets(p->srv);
	struct dtcp_dpdk_port_stats a, b;

	fprintf(out, "%s: inuse %llu orphan 0 tw 0 alloc %llu mem 0   (dtcp socket pools: client %llu, server %llu)\n",
	        self->cfg->family == AF_INET6 ? "TCP6" : "TCP", c + s, c + s, c, s);
	if (dtcp_dpdk_port_stats(p->ports[0], &a) == 0 && dtcp_dpdk_port_stats(p->ports[1], &b) == 0)
		fprintf(out, "net_ring pair: client tx %llu rx %llu, server tx %llu rx %llu packets; mbufs %u of %u "
		             "in use; tx_full %llu alloc_fail %llu\n",
		        (unsigned long long)a.tx_pkts, (unsigned long long)a.rx_pkts, (unsigned long long)b.tx_pkts,
		        (unsigned long long)b.rx_pkts, a.pool_in_use, a.pool_size,
		        (unsigned long long)(a.tx_full + b.tx_full), (unsigned long long)(a.alloc_fail + b.alloc_fail));
}

/* The client stack's table (the server's sockets live in the other stack). */
static int dpdk_ss(struct flows_backend *self, const char *expr, FILE *out, long max_rows, struct flows_error *err)
{
	if (dtcp_ss_print(pself(self)->cli, expr, out, max_rows) < 0)
		return flows_fail(err, "dtcp_ss_print", errno);
	return 0;
}

static void dpdk_mem_report(struct flows_backend *self, struct flows_mem *m)
{
	struct flows_dpdk *p = pself(self);
	size_t off = 0;
	long rss = flows_rss_pages();

	m->bytes = 0;
	m->what[0] = m->extra[0] = '\0';
	off += (size_t)snprintf(m->what, sizeof(m->what), "dtcp pools in use (in_use x obj_size):");
	flows_dtcp_mem_add(p->cli, &p->mark[0], "client", m, &off);
	flows_dtcp_mem_add(p->srv, &p->mark[1], "server", m, &off);
	if (off < sizeof(m->what))
		snprintf(m->what + off, sizeof(m->what) - off, "; hash-table arrays not counted");
	if (rss >= 0 && p->rss_mark >= 0)
		snprintf(m->extra, sizeof(m->extra),
		         "process RSS grew %.1f MiB; the %u-mbuf pool is fixed at start and not counted",
		         (double)(rss - p->rss_mark) * (double)sysconf(_SC_PAGESIZE) / 1048576.0, DPDK_POOL_MBUFS);
}

static void dpdk_destroy(struct flows_backend *self)
{
	/* dtcp_stack_free() closes every socket of both ends and the listener. */
	dpdk_teardown(pself(self));
}

const bool flows_dpdk_built = true;

const struct flows_backend_ops flows_dpdk_ops = {
	.name = "dpdk",
	.addrs = &dpdk_plan,
	.create = dpdk_create,
	.port_range = dpdk_port_range,
	.add_dsts = dpdk_add_dsts,
	.mem_mark = dpdk_mem_mark,
	.open_flow = dpdk_open_flow,
	.open_batch = dpdk_open_batch,
	.accept_ready = dpdk_accept_ready,
	.settle = dpdk_settle,
	.sockstat = dpdk_sockstat,
	.ss = dpdk_ss,
	.mem_report = dpdk_mem_report,
	.destroy = dpdk_destroy,
};

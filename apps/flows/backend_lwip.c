/* dtcp-flows on lwIP: Debian's liblwip in this process (lwip-glue), client
 * and server sides on its loopback, through the lwip_* socket calls. The
 * calls run on this thread; lwIP's tcpip thread handles the segments, and
 * its blocking connect() waits for it. lwIP has no IP_BIND_ADDRESS_NO_PORT
 * (setsockopt gives ENOPROTOOPT) and its socket table is fixed at build time
 * (NUM_SOCKETS = MEMP_NUM_NETCONN, 4 in Debian's build: MEMP_MEM_MALLOC
 * lifts the pool limits, not the table), so a run stops where lwIP stops.
 * Memory is the heap's growth: Debian's build allocates everything with
 * malloc (MEM_LIBC_MALLOC, MEMP_MEM_MALLOC). */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flows.h"
#include "lwip_glue.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* lwIP's ephemeral ports (TCP_LOCAL_PORT_RANGE_START/END in its tcp.c,
 * fixed at build time), searched one after the other. */
#define LWIP_PORT_LO 0xc000u
#define LWIP_PORT_HI 0xffffu
/* A listener's accept mailbox in Debian's build holds 127 connections: the
 * 128th is reset once its handshake is done, after the client's connect()
 * has returned 0 (measured). The driver accepts every FLOWS_ACCEPT_EVERY
 * (256) connects, so open_flow() accepts too, once this many wait. */
#define LWIP_ACCEPT_EVERY 64
/* settle(): rounds of (drain the loopback, accept), and how long each waits
 * for the listener when nothing is queued. */
#define SETTLE_ROUNDS 200
#define SETTLE_WAIT_MS 10

struct flows_lwip {
	struct flows_backend base;
	struct lwip_glue *g;
	const struct lwip_glue_api *api;
	int lfd;
	int *fds;                      /* every flow's socket, both sides */
	uint64_t nfds, cap;
	uint64_t connected;            /* flows whose connect() returned 0 */
	size_t heap_mark;              /* bytes allocated at the mark */
	long rss_mark;                 /* resident pages at the mark */
};

static struct flows_lwip *lself(struct flows_backend *b)
{
	return (struct flows_lwip *)b;
}

/* Bytes allocated with malloc, in every arena (lwIP allocates on its tcpip
 * thread, in an arena of its own). */
static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void track(struct flows_lwip *l, int fd)
{
	if (l->nfds < l->cap)
		l->fds[l->nfds++] = fd;
}

static int lwip_listener(struct flows_lwip *l, struct flows_error *err)
{
	const struct lwip_glue_api *api = l->api;
	union flows_addr any = { 0 };
	socklen_t len;
	int one = 1;

	l->lfd = api->lwip_socket(l->base.cfg->family, SOCK_STREAM, 0);
	if (l->lfd < 0)
		return flows_fail(err, "lwip_socket(listener)", errno);
	if (l->base.cfg->family == AF_INET6) {
		any.v6.sin6_family = AF_INET6;
		any.v6.sin6_port = htons(FLOWS_DST_PORT);
		len = sizeof(any.v6);
		if (api->lwip_setsockopt(l->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			return flows_fail(err, "lwip_setsockopt(IPV6_V6ONLY)", errno);
	} else {
		any.v4.sin_family = AF_INET;
		any.v4.sin_port = htons(FLOWS_DST_PORT);
		len = sizeof(any.v4);
	}
	/* The wildcard address: one listener for every destination address. */
	if (api->lwip_bind(l->lfd, &any.sa, len) < 0)
		return flows_fail(err, "lwip_bind(listener)", errno);
	if (api->lwip_listen(l->lfd, FLOWS_BACKLOG) < 0)
		return flows_fail(err, "lwip_listen", errno);
	return 0;
}

static int lwip_create(const struct flows_backend_ops *ops, const struct flows_config *cfg,
                       struct flows_backend **out, struct flows_error *err)
{
	struct flows_lwip *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return flows_fail(err, "calloc", ENOMEM);
	l->base.ops = ops;
	l->base.cfg = cfg;
	l->lfd = -1;
	/* lwIP has no sysctls: its port range is fixed at build time. */
	if (cfg->has_range) {
		r = flows_fail(err, "--range (lwIP's port range is fixed at build time)", EOPNOTSUPP);
		goto err_free;
	}
	/* Both endpoints of every flow, taken now so the records are not
	 * counted as the flows' memory. */
	l->cap = 2 * cfg->num_flows;
	l->fds = malloc(l->cap * sizeof(*l->fds));
	if (!l->fds) {
		r = flows_fail(err, "malloc", ENOMEM);
		goto err_free;
	}
	r = lwip_glue_create(&l->g);
	if (r < 0) {
		r = flows_fail(err, "lwip_glue_create (liblwip.so.0, its tcpip thread)", -r);
		goto err_free;
	}
	l->api = &l->g->api;
	r = lwip_listener(l, err);
	if (r < 0)
		goto err_free;
	*out = &l->base;
	return 0;

err_free:
	/* An lwIP once started stays: only our records go. */
	if (l->lfd >= 0)
		l->api->lwip_close(l->lfd);
	free(l->fds);
	free(l);
	return r;
}

static int lwip_port_range(struct flows_backend *self, unsigned *lo, unsigned *hi, struct flows_error *err)
{
	(void)self;
	(void)err;
	*lo = LWIP_PORT_LO;
	*hi = LWIP_PORT_HI;
	return 0;
}

/* lwIP accepts an IPv4 packet only for an address of one of its netifs:
 * each destination beyond 127.0.0.1 gets one (at most
 * LWIP_GLUE_MAX_ALIASES, the plan's max_dsts_v4). IPv6: ::1 only, which is
 * on lo already. */
static int lwip_add_dsts(struct flows_backend *self, const union flows_addr *dsts, uint32_t n,
                         struct flows_error *err)
{
	struct flows_lwip *l = lself(self);

	for (uint32_t i = 0; i < n; i++) {
		int r;

		if (dsts[i].sa.sa_family != AF_INET)
			continue;
		r = lwip_glue_local_ensure(l->g, ntohl(dsts[i].v4.sin_addr.s_addr));
		if (r < 0)
			return flows_fail(err, "netif_add (a netif per destination address)", -r);
	}
	return 0;
}

static void lwip_mem_mark(struct flows_backend *self)
{
	struct flows_lwip *l = lself(self);

	lwip_glue_settle(l->g);
	l->heap_mark = heap_bytes();
	l->rss_mark = flows_rss_pages();
}

/* Accept what is queued now; waits up to wait_ms for the first one. */
static int64_t lwip_accept_wait(struct flows_lwip *l, int wait_ms, struct flows_error *err)
{
	const struct lwip_glue_api *api = l->api;
	int64_t n = 0;

	lwip_glue_settle(l->g);
	for (int k = 0; k <= FLOWS_BACKLOG; k++) {
		struct pollfd p = { .fd = l->lfd, .events = POLLIN };
		int fd, r = api->lwip_poll(&p, 1, n ? 0 : wait_ms);

		if (r < 0)
			return flows_fail(err, "poll", errno);
		if (r == 0)
			break;
		fd = api->lwip_accept(l->lfd, NULL, NULL);
		if (fd < 0)
			return flows_fail(err, "accept", errno);
		track(l, fd);
		n++;
	}
	l->base.accepted += (uint64_t)n;
	return n;
}

static int lwip_open_flow(struct flows_backend *self, const union flows_addr *src, const union flows_addr *dst,
                          union flows_addr *local, struct flows_error *err)
{
	struct flows_lwip *l = lself(self);
	const struct lwip_glue_api *api = l->api;
	const struct flows_config *cfg = self->cfg;
	socklen_t len = cfg->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = api->lwip_socket(cfg->family, SOCK_STREAM, 0), one = 1, r;

	if (fd < 0)
		return flows_fail(err, "socket", errno);
	/* lwIP does not know the option: ENOPROTOOPT, the run's first error. */
	if (cfg->no_port && api->lwip_setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0) {
		r = flows_fail(err, "setsockopt(IP_BIND_ADDRESS_NO_PORT)", errno);
		goto err_close;
	}
	if (!cfg->no_bind && api->lwip_bind(fd, &src->sa, len) < 0) {
		r = flows_fail(err, "bind", errno);
		goto err_close;
	}
	/* Blocks until the handshake is done (the tcpip thread runs it). */
	if (api->lwip_connect(fd, &dst->sa, len) < 0) {
		r = flows_fail(err, "connect", errno);
		goto err_close;
	}
	if (api->lwip_getsockname(fd, &local->sa, &len) < 0) {
		r = flows_fail(err, "getsockname", errno);
		goto err_close;
	}
	track(l, fd);
	l->connected++;
	if (l->connected - self->accepted >= LWIP_ACCEPT_EVERY && lwip_accept_wait(l, 0, err) < 0)
		return -err->err;
	return 0;

err_close:
	api->lwip_close(fd);
	return r;
}

static int64_t lwip_accept_ready(struct flows_backend *self, struct flows_error *err)
{
	return lwip_accept_wait(lself(self), 0, err);
}

static int lwip_settle(struct flows_backend *self, uint64_t expected, struct flows_error *err)
{
	for (int round = 0; round < SETTLE_ROUNDS && self->accepted < expected; round++) {
		int64_t got = lwip_accept_wait(lself(self), SETTLE_WAIT_MS, err);

		if (got < 0)
			return (int)got;
	}
	if (self->accepted < expected)
		return flows_fail(err, "accept", ETIMEDOUT);
	return 0;
}

/* Debian's lwIP keeps no statistics (LWIP_STATS 0): the sockets this
 * process holds, the listener included. */
static void lwip_sockstat(struct flows_backend *self, FILE *out)
{
	struct flows_lwip *l = lself(self);
	unsigned long long inuse = l->nfds + (l->lfd >= 0);

	fprintf(out, "%s: inuse %llu orphan 0 tw 0 alloc %llu mem 0   (lwip sockets held by this process)\n",
	        self->cfg->family == AF_INET6 ? "TCP6" : "TCP", inuse, inuse);
}

static void lwip_mem_report(struct flows_backend *self, struct flows_mem *m)
{
	struct flows_lwip *l = lself(self);
	size_t heap;
	long rss;

	lwip_glue_settle(l->g);
	heap = heap_bytes();
	rss = flows_rss_pages();
	m->bytes = heap > l->heap_mark ? heap - l->heap_mark : 0;
	snprintf(m->what, sizeof(m->what),
	         "heap growth over the run, mallinfo2() uordblks + hblkhd of every arena (Debian's lwIP "
	         "mallocs its netconns, pcbs and pbufs: MEM_LIBC_MALLOC, MEMP_MEM_MALLOC)");
	m->extra[0] = '\0';
	if (rss >= 0 && l->rss_mark >= 0)
		snprintf(m->extra, sizeof(m->extra), "process RSS grew %.1f MiB",
		         (double)(rss - l->rss_mark) * (double)sysconf(_SC_PAGESIZE) / 1048576.0);
}

static void lwip_destroy(struct flows_backend *self)
{
	struct flows_lwip *l = lself(self);

	for (uint64_t i = 0; i < l->nfds; i++)
		l->api->lwip_close(l->fds[i]);
	if (l->lfd >= 0)
		l->api->lwip_close(l->lfd);
	lwip_glue_settle(l->g);
	free(l->fds);
	free(l);
}

/* 127.0.0.1 -> 127.0.0.2.., one netif each; ::1 -> ::1 only (lwIP's
 * loopback has ::1 and no other IPv6 address). */
static const struct flows_addr_plan lwip_plan = {
	.src = flows_loopback_src,
	.dst = flows_loopback_dst,
	.max_dsts_v4 = LWIP_GLUE_MAX_ALIASES,
	.max_dsts_v6 = 1,
	.text_v4 = "127.0.0.1 -> 127.0.0.2.. (at most 250)",
	.text_v6 = "::1 -> ::1",
};

const bool flows_lwip_built = true;

const struct flows_backend_ops flows_lwip_ops = {
	.name = "lwip",
	.addrs = &lwip_plan,
	.create = lwip_create,
	.port_range = lwip_port_range,
	.add_dsts = lwip_add_dsts,
	.mem_mark = lwip_mem_mark,
	.open_flow = lwip_open_flow,
	.accept_ready = lwip_accept_ready,
	.settle = lwip_settle,
	.sockstat = lwip_sockstat,
	.mem_report = lwip_mem_report,
	.destroy = lwip_destroy,
};

/* dtcp-flows on dtcp: one stack on its loopback, client and server sides in
 * this process, through the public API only. Blocking connect() drives the
 * stack's poll loop; memory is what the stack's pools hold. Single thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dtcp/dtcp.h>

#include "flows.h"
#include "ss/ss.h"

#define DTCP_MAX_POOLS 32

struct flows_dtcp {
	struct flows_backend base;
	struct dtcp_stack *st;
	int lfd;
	uint64_t pool_mark[DTCP_MAX_POOLS];
	long rss_mark;                 /* resident pages at the mark */
};

static struct flows_dtcp *dself(struct flows_backend *b)
{
	return (struct flows_dtcp *)b;
}

int flows_dtcp_listener(struct dtcp_stack *st, int family, int *lfd, struct flows_error *err)
{
	union flows_addr any = { 0 };
	socklen_t len;
	int one = 1;

	*lfd = dtcp_socket(st, family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (*lfd < 0)
		return flows_fail(err, "dtcp_socket(listener)", errno);
	if (family == AF_INET6) {
		any.v6.sin6_family = AF_INET6;
		any.v6.sin6_port = htons(FLOWS_DST_PORT);
		len = sizeof(any.v6);
		if (dtcp_setsockopt(st, *lfd, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			return flows_fail(err, "dtcp_setsockopt(IPV6_V6ONLY)", errno);
	} else {
		any.v4.sin_family = AF_INET;
		any.v4.sin_port = htons(FLOWS_DST_PORT);
		len = sizeof(any.v4);
	}
	/* The wildcard address: one listener for every destination address. */
	if (dtcp_bind(st, *lfd, &any.sa, len) < 0)
		return flows_fail(err, "dtcp_bind(listener)", errno);
	if (dtcp_listen(st, *lfd, FLOWS_BACKLOG) < 0)
		return flows_fail(err, "dtcp_listen", errno);
	return 0;
}

static int dtcp_create(const struct flows_backend_ops *ops, const struct flows_config *cfg,
                       struct flows_backend **out, struct flows_error *err)
{
	struct flows_dtcp *d = calloc(1, sizeof(*d));
	/* Both endpoints of every flow, the listener, and some slack. */
	uint64_t socks = 2 * cfg->num_flows + 64;
	struct dtcp_stack_config sc = { .max_sockets = socks > (1u << 30) ? 1u << 30 : (uint32_t)socks };
	char buf[32];
	int r;

	if (!d)
		return flows_fail(err, "calloc", ENOMEM);
	d->base.ops = ops;
	d->base.cfg = cfg;
	d->lfd = -1;
	d->st = dtcp_stack_new_config(&sc);
	if (!d->st) {
		r = flows_fail(err, "dtcp_stack_new_config", errno);
		goto err_free;
	}
	snprintf(buf, sizeof(buf), "%d", FLOWS_BACKLOG);
	if (dtcp_sysctl_set(d->st, "net.core.somaxconn", buf) < 0) {
		r = flows_fail(err, "dtcp_sysctl_set(net.core.somaxconn)", errno);
		goto err_stack;
	}
	if (cfg->has_range) {
		snprintf(buf, sizeof(buf), "%u %u", cfg->range_lo, cfg->range_hi);
		if (dtcp_sysctl_set(d->st, "net.ipv4.ip_local_port_range", buf) < 0) {
			r = flows_fail(err, "dtcp_sysctl_set(net.ipv4.ip_local_port_range)", errno);
			goto err_stack;
		}
	}
	r = flows_dtcp_listener(d->st, d->base.cfg->family, &d->lfd, err);
	if (r < 0)
		goto err_stack;
	*out = &d->base;
	return 0;

err_stack:
	dtcp_stack_free(d->st);
err_free:
	free(d);
	return r;
}

static int dtcp_port_range(struct flows_backend *self, unsigned *lo, unsigned *hi, struct flows_error *err)
{
	char buf[64];

	if (dtcp_sysctl_get(dself(self)->st, "net.ipv4.ip_local_port_range", buf, sizeof(buf)) < 0)
		return flows_fail(err, "dtcp_sysctl_get(net.ipv4.ip_local_port_range)", errno);
	if (sscanf(buf, "%u %u", lo, hi) != 2)
		return flows_fail(err, "dtcp_sysctl_get(net.ipv4.ip_local_port_range)", EINVAL);
	return 0;
}

/* 127.0.0.0/8 and ::1 are local on the stack's lo already; the IPv6
 * destinations beyond ::1 are added one /128 each (as on Linux, a prefix on
 * lo makes only IPv4 prefixes wholly local). */
static int dtcp_add_dsts(struct flows_backend *self, const union flows_addr *dsts, uint32_t n,
                         struct flows_error *err)
{
	struct flows_dtcp *d = dself(self);
	char text[INET6_ADDRSTRLEN + 8];

	for (uint32_t i = 0; i < n; i++) {
		if (dsts[i].sa.sa_family != AF_INET6 || IN6_IS_ADDR_LOOPBACK(&dsts[i].v6.sin6_addr))
			continue;
		inet_ntop(AF_INET6, &dsts[i].v6.sin6_addr, text, sizeof(text));
		strcat(text, "/128");
		if (dtcp_addr_add(d->st, "lo", text) < 0 && errno != EEXIST)
			return flows_fail(err, "dtcp_addr_add", errno);
	}
	return 0;
}

static int pools_read(struct flows_dtcp *d, struct dtcp_pool_stats *ps)
{
	int n = dtcp_stack_pools(d->st, ps, DTCP_MAX_POOLS);

	return n > DTCP_MAX_POOLS ? DTCP_MAX_POOLS : n;
}

static void dtcp_mem_mark(struct flows_backend *self)
{
	struct flows_dtcp *d = dself(self);
	struct dtcp_pool_stats ps[DTCP_MAX_POOLS];
	int n = pools_read(d, ps);

	for (int i = 0; i < n; i++)
		d->pool_mark[i] = ps[i].in_use;
	d->rss_mark = flows_rss_pages();
}

static int dtcp_open_flow(struct flows_backend *self, const union flows_addr *src, const union flows_addr *dst,
                          union flows_addr *local, struct flows_error *err)
{
	struct flows_dtcp *d = dself(self);
	const struct flows_config *cfg = self->cfg;
	socklen_t len = cfg->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = dtcp_socket(d->st, cfg->family, SOCK_STREAM, 0), one = 1, r;

	if (fd < 0)
		return flows_fail(err, "socket", errno);
	if (cfg->no_port && dtcp_setsockopt(d->st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0) {
		r = flows_fail(err, "setsockopt(IP_BIND_ADDRESS_NO_PORT)", errno);
		goto err_close;
	}
	if (!cfg->no_bind && dtcp_bind(d->st, fd, &src->sa, len) < 0) {
		r = flows_fail(err, "bind", errno);
		goto err_close;
	}
	if (dtcp_connect(d->st, fd, &dst->sa, len) < 0) {
		r = flows_fail(err, "connect", errno);
		goto err_close;
	}
	if (dtcp_getsockname(d->st, fd, &local->sa, &len) < 0) {
		r = flows_fail(err, "getsockname", errno);
		goto err_close;
	}
	return 0;

err_close:
	dtcp_close(d->st, fd);
	return r;
}

static int64_t dtcp_accept_ready(struct flows_backend *self, struct flows_error *err)
{
	struct flows_dtcp *d = dself(self);
	int64_t n = 0;

	/* Bounded by the backlog: the queue cannot hold more. */
	for (int k = 0; k <= FLOWS_BACKLOG; k++) {
		int fd = dtcp_accept4(d->st, d->lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EAGAIN)
				break;
			return flows_fail(err, "accept4", errno);
		}
		n++;
	}
	self->accepted += (uint64_t)n;
	return n;
}

static int dtcp_settle(struct flows_backend *self, uint64_t expected, struct flows_error *err)
{
	struct flows_dtcp *d = dself(self);

	/* The loopback delivers on poll: poll until idle, accept, and repeat
	 * while that still brings connections in. */
	for (int round = 0; round < 1000 && self->accepted < expected; round++) {
		int64_t got;

		for (int k = 0; k < 100000 && dtcp_stack_poll(d->st) > 0; k++)
			;
		got = dtcp_accept_ready(self, err);
		if (got < 0)
			return (int)got;
		if (got == 0 && round > 10)
			break;
	}
	if (self->accepted < expected)
		return flows_fail(err, "accept4", ETIMEDOUT);
	return 0;
}

static int pool_find(const struct dtcp_pool_stats *ps, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(ps[i].name, name))
			return i;
	return -1;
}

/* The stack keeps no orphans or TIME_WAIT sockets while every flow is open,
 * and queues no data: every socket in the pool is in use. */
static void dtcp_sockstat(struct flows_backend *self, FILE *out)
{
	struct dtcp_pool_stats ps[DTCP_MAX_POOLS];
	int n = pools_read(dself(self), ps), i = pool_find(ps, n, "socket");
	unsigned long long inuse = i >= 0 ? (unsigned long long)ps[i].in_use : 0;

	fprintf(out, "%s: inuse %llu orphan 0 tw 0 alloc %llu mem 0   (dtcp socket pool)\n",
	        self->cfg->family == AF_INET6 ? "TCP6" : "TCP", inuse, inuse);
}

/* One stack holds both ends: the table shows the client and server sockets. */
static int dtcp_ss(struct flows_backend *self, const char *expr, FILE *out, long max_rows, struct flows_error *err)
{
	if (dtcp_ss_print(dself(self)->st, expr, out, max_rows) < 0)
		return flows_fail(err, "dtcp_ss_print", errno);
	return 0;
}

static void dtcp_mem_report(struct flows_backend *self, struct flows_mem *m)
{
	struct flows_dtcp *d = dself(self);
	struct dtcp_pool_stats ps[DTCP_MAX_POOLS];
	int n = pools_read(d, ps);
	size_t off = 0;
	long rss = flows_rss_pages();

	m->bytes = 0;
	m->what[0] = m->extra[0] = '\0';
	off += (size_t)snprintf(m->what, sizeof(m->what), "dtcp pools in use (in_use x obj_size):");
	for (int i = 0; i < n; i++) {
		int64_t delta = (int64_t)ps[i].in_use - (int64_t)d->pool_mark[i];

		if (delta <= 0)
			continue;
		m->bytes += (uint64_t)delta * ps[i].obj_size;
		if (off < sizeof(m->what))
			off += (size_t)snprintf(m->what + off, sizeof(m->what) - off, " %s %lld x %u", ps[i].name,
			                        (long long)delta, ps[i].obj_size);
	}
	if (off < sizeof(m->what))
		snprintf(m->what + off, sizeof(m->what) - off, "; hash-table arrays not counted");
	if (rss >= 0 && d->rss_mark >= 0)
		snprintf(m->extra, sizeof(m->extra),
		         "process RSS grew %.1f MiB (pool slabs, hash-table pages touched, malloc overhead)",
		         (double)(rss - d->rss_mark) * (double)sysconf(_SC_PAGESIZE) / 1048576.0);
}

static void dtcp_destroy(struct flows_backend *self)
{
	struct flows_dtcp *d = dself(self);

	/* Closes every socket (both sides, the listener) and frees the pools. */
	dtcp_stack_free(d->st);
	free(d);
}

const struct flows_backend_ops flows_dtcp_ops = {
	.name = "dtcp",
	.addrs = &flows_loopback_plan,
	.create = dtcp_create,
	.port_range = dtcp_port_range,
	.add_dsts = dtcp_add_dsts,
	.mem_mark = dtcp_mem_mark,
	.open_flow = dtcp_open_flow,
	.accept_ready = dtcp_accept_ready,
	.settle = dtcp_settle,
	.sockstat = dtcp_sockstat,
	.ss = dtcp_ss,
	.mem_report = dtcp_mem_report,
	.destroy = dtcp_destroy,
};

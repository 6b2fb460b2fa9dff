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

struct flows_dtcp {
	struct flows_backend base;
	struct dtcp_stack *st;
	int lfd;
	struct flows_dtcp_mark mark;
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
	/* The tables mapped up front, as the kernel's are since boot. */
	struct dtcp_stack_config sc = { .max_sockets = socks > (1u << 30) ? 1u << 30 : (uint32_t)socks,
	                                .prefault = true };
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

int flows_dtcp_port_range(struct dtcp_stack *st, unsigned *lo, unsigned *hi, struct flows_error *err)
{
	char buf[64];

	if (dtcp_sysctl_get(st, "net.ipv4.ip_local_port_range", buf, sizeof(buf)) < 0)
		return flows_fail(err, "dtcp_sysctl_get(net.ipv4.ip_local_port_range)", errno);
	if (sscanf(buf, "%u %u", lo, hi) != 2)
		return flows_fail(err, "dtcp_sysctl_get(net.ipv4.ip_local_port_range)", EINVAL);
	return 0;
}

static int dtcp_port_range(struct flows_backend *self, unsigned *lo, unsigned *hi, struct flows_error *err)
{
	return flows_dtcp_port_range(dself(self)->st, lo, hi, err);
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

int flows_dtcp_pools(struct dtcp_stack *st, struct dtcp_pool_stats *ps)
{
	int n = dtcp_stack_pools(st, ps, FLOWS_DTCP_MAX_POOLS);

	return n > FLOWS_DTCP_MAX_POOLS ? FLOWS_DTCP_MAX_POOLS : n;
}

uint64_t flows_dtcp_sockets(struct dtcp_stack *st)
{
	struct dtcp_pool_stats ps[FLOWS_DTCP_MAX_POOLS];
	int n = flows_dtcp_pools(st, ps);

	for (int i = 0; i < n; i++)
		if (!strcmp(ps[i].name, "socket"))
			return ps[i].in_use;
	return 0;
}

void flows_dtcp_mark(struct dtcp_stack *st, struct flows_dtcp_mark *mk)
{
	struct dtcp_pool_stats ps[FLOWS_DTCP_MAX_POOLS];
	int n = flows_dtcp_pools(st, ps);

	memset(mk, 0, sizeof(*mk));
	for (int i = 0; i < n; i++)
		mk->in_use[i] = ps[i].in_use;
}

void flows_dtcp_mem_add(struct dtcp_stack *st, const struct flows_dtcp_mark *mk, const char *label,
                        struct flows_mem *m, size_t *off)
{
	struct dtcp_pool_stats ps[FLOWS_DTCP_MAX_POOLS];
	int n = flows_dtcp_pools(st, ps);

	if (label && *off < sizeof(m->what))
		*off += (size_t)snprintf(m->what + *off, sizeof(m->what) - *off, " %s", label);
	for (int i = 0; i < n; i++) {
		int64_t delta = (int64_t)ps[i].in_use - (int64_t)mk->in_use[i];

		if (delta <= 0)
			continue;
		m->bytes += (uint64_t)delta * ps[i].obj_size;
		if (*off < sizeof(m->what))
			*off += (size_t)snprintf(m->what + *off, sizeof(m->what) - *off, " %s %lld x %u", ps[i].name,
			                         (long long)delta, ps[i].obj_size);
	}
}

static void dtcp_mem_mark(struct flows_backend *self)
{
	struct flows_dtcp *d = dself(self);

	flows_dtcp_mark(d->st, &d->mark);
	d->rss_mark = flows_rss_pages();
}

int flows_dtcp_flow_open(struct dtcp_stack *st, const struct flows_config *cfg, int sock_flags,
                         const union flows_addr *src, const union flows_addr *dst, int *fd,
                         struct flows_error *err)
{
	socklen_t len = cfg->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int one = 1, r;

	*fd = dtcp_socket(st, cfg->family, SOCK_STREAM | sock_flags, 0);
	if (*fd < 0)
		return flows_fail(err, "socket", errno);
	if (cfg->no_port && dtcp_setsockopt(st, *fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0) {
		r = flows_fail(err, "setsockopt(IP_BIND_ADDRESS_NO_PORT)", errno);
		goto err_close;
	}
	if (!cfg->no_bind && dtcp_bind(st, *fd, &src->sa, len) < 0) {
		r = flows_fail(err, "bind", errno);
		goto err_close;
	}
	if (dtcp_connect(st, *fd, &dst->sa, len) < 0 && !((sock_flags & SOCK_NONBLOCK) && errno == EINPROGRESS)) {
		r = flows_fail(err, "connect", errno);
		goto err_close;
	}
	return 0;

err_close:
	dtcp_close(st, *fd);
	*fd = -1;
	return r;
}

int flows_dtcp_flow_local(struct dtcp_stack *st, int fd, int family, union flows_addr *local,
                          struct flows_error *err)
{
	socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int r;

	if (dtcp_getsockname(st, fd, &local->sa, &len) < 0) {
		r = flows_fail(err, "getsockname", errno);
		dtcp_close(st, fd);
		return r;
	}
	return 0;
}

static int dtcp_open_flow(struct flows_backend *self, const union flows_addr *src, const union flows_addr *dst,
                          union flows_addr *local, struct flows_error *err)
{
	struct flows_dtcp *d = dself(self);
	int fd, r = flows_dtcp_flow_open(d->st, self->cfg, 0, src, dst, &fd, err);

	/* A blocking connect(): the stack's own poll loop ran the handshake. */
	return r < 0 ? r : flows_dtcp_flow_local(d->st, fd, self->cfg->family, local, err);
}

/* Where a started connect() stands: 1 established, 0 still handshaking,
 * -errno failed (a second connect() answers as on Linux: EALREADY while
 * handshaking, 0 or EISCONN once done, the pending error after a failure). */
static int connect_state(struct dtcp_stack *st, int fd, const union flows_addr *dst, socklen_t len)
{
	if (dtcp_connect(st, fd, &dst->sa, len) == 0 || errno == EISCONN)
		return 1;
	return errno == EALREADY ? 0 : -errno;
}

int64_t flows_dtcp_open_batch(struct dtcp_stack *st, const struct flows_config *cfg, int (*pump)(void *arg),
                              void *arg, const union flows_addr *src, const union flows_addr *const *dst,
                              uint32_t n, union flows_addr *local, struct flows_error *err)
{
	socklen_t len = cfg->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fds[FLOWS_BATCH_MAX];
	struct flows_error open_err = { 0 };
	uint32_t started = 0, done = 0;
	double deadline = 0;
	int r = 0;

	if (n > FLOWS_BATCH_MAX)
		n = FLOWS_BATCH_MAX;
	while (started < n && flows_dtcp_flow_open(st, cfg, SOCK_NONBLOCK, src, dst[started], &fds[started],
	                                           &open_err) == 0)
		started++;
	/* Handshakes end in order on these links; the first unfinished one is
	 * all a round needs to look at. The clock is read only once they are
	 * slow (a retransmitted SYN). */
	for (unsigned long k = 0; done < started && k < 100000000ul; k++) {
		while (done < started && (r = connect_state(st, fds[done], dst[done], len)) == 1)
			done++;
		if (r < 0 || done == started)
			break;
		pump(arg);
		if (k % 1024 == 1023) {
			if (!deadline)
				deadline = flows_now_s() + FLOWS_HANDSHAKE_TIMEOUT_S;
			else if (flows_now_s() > deadline)
				break;
		}
	}
	if (done < started) {
		/* This flow failed or timed out: it and the ones after it close. */
		flows_fail(err, "connect", r < 0 ? -r : ETIMEDOUT);
		for (uint32_t j = done; j < started; j++)
			dtcp_close(st, fds[j]);
		started = done;
	} else if (open_err.err) {
		*err = open_err;
	}
	for (uint32_t j = 0; j < started; j++)
		if (flows_dtcp_flow_local(st, fds[j], cfg->family, &local[j], err) < 0) {
			for (uint32_t m = j + 1; m < started; m++)
				dtcp_close(st, fds[m]);
			return j;
		}
	return started;
}

int64_t flows_dtcp_accept_ready(struct dtcp_stack *st, int lfd, struct flows_error *err)
{
	int64_t n = 0;

	/* Bounded by the backlog: the queue cannot hold more. */
	for (int k = 0; k <= FLOWS_BACKLOG; k++) {
		int fd = dtcp_accept4(st, lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EAGAIN)
				break;
			return flows_fail(err, "accept4", errno);
		}
		n++;
	}
	return n;
}

static int dtcp_pump(void *arg)
{
	int n = dtcp_stack_poll(arg);

	return n < 0 ? 0 : n;
}

static int64_t dtcp_open_batch(struct flows_backend *self, const union flows_addr *src,
                               const union flows_addr *const *dst, uint32_t n, union flows_addr *local,
                               struct flows_error *err)
{
	struct flows_dtcp *d = dself(self);

	return flows_dtcp_open_batch(d->st, self->cfg, dtcp_pump, d->st, src, dst, n, local, err);
}

static int64_t dtcp_accept_ready(struct flows_backend *self, struct flows_error *err)
{
	struct flows_dtcp *d = dself(self);
	int64_t n = flows_dtcp_accept_ready(d->st, d->lfd, err);

	if (n > 0)
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

/* The stack keeps no orphans or TIME_WAIT sockets while every flow is open,
 * and queues no data: every socket in the pool is in use. */
static void dtcp_sockstat(struct flows_backend *self, FILE *out)
{
	unsigned long long inuse = flows_dtcp_sockets(dself(self)->st);

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
	size_t off = 0;
	long rss = flows_rss_pages();

	m->bytes = 0;
	m->what[0] = m->extra[0] = '\0';
	off += (size_t)snprintf(m->what, sizeof(m->what), "dtcp pools in use (in_use x obj_size):");
	flows_dtcp_mem_add(d->st, &d->mark, NULL, m, &off);
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
	.open_batch = dtcp_open_batch,
	.accept_ready = dtcp_accept_ready,
	.settle = dtcp_settle,
	.sockstat = dtcp_sockstat,
	.ss = dtcp_ss,
	.mem_report = dtcp_mem_report,
	.destroy = dtcp_destroy,
};

/* The lwIP backend, for comparison only: Debian's liblwip (2.1.3, the GNU
 * Hurd port: NO_SYS=0, a tcpip thread with core locking, the lwip_* socket
 * calls). One lwIP per process, started by lwip-glue on the first create, so
 * run one case per process (the runner and the report fork one per run).
 * Socket calls are made from the case's thread; segments travel through
 * lwip-glue's loopback netifs and lwIP's own timers run on its thread in
 * real time.
 *
 * Its results never fail the suite (conf_ops.compare_only). */
#include "backend.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip_glue.h"

/* How long accept() waits for a connection that the loopback is still
 * completing, where the kernel would block for good. */
#define ACCEPT_WAIT_MS 1000
#define LWIP_MAX_FDS 1024

/* An IPv4 prefix of "lo" that counts as local, as Linux's local routes. */
struct lw_prefix {
	uint32_t addr;             /* host order */
	unsigned len;
};

struct lw_env {
	struct conf_env base;
	struct lwip_glue *g;       /* the loopback and its aliases */
	struct lw_prefix prefix[8];
	int nprefixes;
	int fds[LWIP_MAX_FDS];     /* descriptors to close on destroy */
	int nfds;
};

/* The lwIP calls, from the one lwip_glue of the process (lw_create). */
static const struct lwip_glue_api *L;

static struct lw_env *lenv(struct conf_env *self)
{
	return (struct lw_env *)self;
}

/* lwIP reports errors through errno with the C library's values (Debian's
 * build includes <errno.h>, LWIP_ERRNO_STDINCLUDE), and its err_t codes are
 * mapped to that set by err_to_errno() before they reach the socket calls:
 * nothing to translate, only -1/errno to -errno. */
static int ret(int r)
{
	return r < 0 ? -errno : r;
}

static void track(struct lw_env *e, int fd)
{
	if (fd >= 0 && e->nfds < LWIP_MAX_FDS)
		e->fds[e->nfds++] = fd;
}

static void untrack(struct lw_env *e, int fd)
{
	for (int i = 0; i < e->nfds; i++)
		if (e->fds[i] == fd) {
			e->fds[i] = e->fds[--e->nfds];
			return;
		}
}

static bool prefix_has(const struct lw_env *e, uint32_t addr)
{
	for (int i = 0; i < e->nprefixes; i++) {
		uint32_t mask = e->prefix[i].len ? ~0u << (32 - e->prefix[i].len) : 0;

		if ((addr & mask) == (e->prefix[i].addr & mask))
			return true;
	}
	return false;
}

/* The IPv4 address of a sockaddr (v4-mapped IPv6 included); false if none. */
static bool sa_ipv4(const struct sockaddr *sa, socklen_t len, uint32_t *addr)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		*addr = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (!IN6_IS_ADDR_V4MAPPED(a6))
			return false;
		memcpy(addr, &a6->s6_addr[12], 4);
		*addr = ntohl(*addr);
		return true;
	}
	return false;
}

/* The environment's lo owns 127.0.0.0/8 (or what addr_add/addr_del left of
 * it), as on Linux. lwIP has one IPv4 address per netif and accepts only
 * those, so each local address that a case binds to or connects to gets a
 * netif (lwip_glue_local_ensure) the first time it is named. An address outside the
 * local prefixes is left alone: lwIP then drops what is sent to it. */
static void local_ensure(struct lw_env *e, const struct sockaddr *sa, socklen_t len)
{
	uint32_t addr;

	if (!sa || !sa_ipv4(sa, len, &addr) || !prefix_has(e, addr))
		return;
	lwip_glue_local_ensure(e->g, addr);
}

static void settle(struct lw_env *e)
{
	lwip_glue_settle(e->g);
}

static int ret_settled(struct lw_env *e, int r)
{
	int err = errno;

	settle(e);
	errno = err;
	return ret(r);
}

/* ---- environment ---- */

/* One lwIP, and so one environment, per process (lwip_glue_create gives
 * -EBUSY the second time). */
static int lw_create(const struct conf_ops *self, struct conf_env **envp)
{
	struct lw_env *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->base.ops = self;
	r = lwip_glue_create(&e->g);
	if (r) {
		free(e);
		return r;
	}
	L = &e->g->api;
	e->prefix[e->nprefixes++] = (struct lw_prefix){ INADDR_LOOPBACK, 8 };
	*envp = &e->base;
	return 0;
}

/* The sockets are closed; the tcpip thread lives until the process ends. */
static void lw_destroy(struct conf_env *self)
{
	struct lw_env *e = lenv(self);

	for (int i = 0; i < e->nfds; i++)
		L->lwip_close(e->fds[i]);
	settle(e);
	free(e);
}

static int lw_socket(struct conf_env *self, int family, int type)
{
	int fd = ret(L->lwip_socket(family, type, 0));

	track(lenv(self), fd);
	return fd;
}

static int lw_bind(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	local_ensure(lenv(self), sa, len);
	return ret(L->lwip_bind(fd, sa, len));
}

/* lwip_connect() blocks until the handshake ends (or SYN retries give up). */
static int lw_connect(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	local_ensure(lenv(self), sa, len);
	return ret_settled(lenv(self), L->lwip_connect(fd, sa, len));
}

static int lw_listen(struct conf_env *self, int fd, int backlog)
{
	(void)self;
	return ret(L->lwip_listen(fd, backlog));
}

/* accept() waits up to ACCEPT_WAIT_MS for a connection, then gives EAGAIN
 * (a recorded failure) where the kernel would block for good. */
static int lw_accept(struct conf_env *self, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	settle(lenv(self));
	r = L->lwip_poll(&p, 1, ACCEPT_WAIT_MS);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EAGAIN;
	r = ret_settled(lenv(self), L->lwip_accept(fd, NULL, NULL));
	track(lenv(self), r);
	return r;
}

static int lw_close(struct conf_env *self, int fd)
{
	int r = L->lwip_close(fd);

	if (r == 0)
		untrack(lenv(self), fd);
	return ret_settled(lenv(self), r);
}

static int lw_setsockopt(struct conf_env *self, int fd, int level, int name,
                         const void *val, socklen_t len)
{
	(void)self;
	return ret(L->lwip_setsockopt(fd, level, name, val, len));
}

static int lw_getsockopt(struct conf_env *self, int fd, int level, int name,
                         void *val, socklen_t *len)
{
	(void)self;
	return ret(L->lwip_getsockopt(fd, level, name, val, len));
}

static int lw_getsockname(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	(void)self;
	return ret(L->lwip_getsockname(fd, sa, len));
}

static int lw_getpeername(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	(void)self;
	return ret(L->lwip_getpeername(fd, sa, len));
}

static int lw_sendto(struct conf_env *self, int fd, const void *buf, size_t n, int flags,
                     const struct sockaddr *sa, socklen_t len)
{
	local_ensure(lenv(self), sa, len);
	return ret_settled(lenv(self), (int)L->lwip_sendto(fd, buf, n, flags, sa, len));
}

static ssize_t lw_sendmsg(struct conf_env *self, int fd, const struct msghdr *m, int flags)
{
	ssize_t r;
	int err;

	local_ensure(lenv(self), m->msg_name, m->msg_namelen);
	r = L->lwip_sendmsg(fd, m, flags);
	err = errno;
	settle(lenv(self));
	return r < 0 ? -err : r;
}

static ssize_t lw_recvmsg(struct conf_env *self, int fd, struct msghdr *m, int flags)
{
	ssize_t r;
	int err;

	settle(lenv(self));
	r = L->lwip_recvmsg(fd, m, flags);
	err = errno;
	settle(lenv(self));
	return r < 0 ? -err : r;
}

/* lwIP has no sysctls: its tunables are compile-time (lwipopts.h), fixed in
 * Debian's build. Every name is ENOENT (no such /proc/sys file):
 * ip_local_port_range (lwIP's ephemeral range is 49152-65535, searched
 * sequentially), ip_local_reserved_ports, ip_nonlocal_bind,
 * ip_unprivileged_port_start, ip_autobind_reuse, tcp_tw_reuse(_delay),
 * tcp_rmem, tcp_wmem. */
static int lw_sysctl_write(struct conf_env *self, const char *name, const char *value)
{
	(void)self;
	(void)name;
	(void)value;
	return -ENOENT;
}

/* "a.b.c.d/len" */
static int cidr_parse(const char *cidr, uint32_t *addr, unsigned *len)
{
	char a[INET_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	struct in_addr in;
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);

	if (n >= sizeof(a) || strchr(cidr, ':'))
		return -EAFNOSUPPORT;
	memcpy(a, cidr, n);
	a[n] = '\0';
	if (inet_pton(AF_INET, a, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	*len = slash ? (unsigned)atoi(slash + 1) : 32;
	return *len > 32 ? -EINVAL : 0;
}

/* An address on lo: its prefix becomes local (the address itself gets a
 * netif when a case names it, local_ensure). EEXIST as Linux for a prefix
 * already there. */
static int lw_addr_add(struct conf_env *self, const char *cidr)
{
	struct lw_env *e = lenv(self);
	unsigned len;
	uint32_t addr;
	int r = cidr_parse(cidr, &addr, &len);

	if (r)
		return r;
	for (int i = 0; i < e->nprefixes; i++)
		if (e->prefix[i].addr == addr && e->prefix[i].len == len)
			return -EEXIST;
	if (e->nprefixes == (int)(sizeof(e->prefix) / sizeof(e->prefix[0])))
		return -ENOBUFS;
	e->prefix[e->nprefixes++] = (struct lw_prefix){ addr, len };
	return 0;
}

/* Removing a prefix takes down the netifs of the addresses it alone made
 * local (lo's own 127.0.0.1 stays: lwIP accepts it on any netif anyway). */
static int lw_addr_del(struct conf_env *self, const char *cidr)
{
	struct lw_env *e = lenv(self);
	unsigned len;
	uint32_t addr;
	int r = cidr_parse(cidr, &addr, &len);

	if (r)
		return r;
	for (int i = 0; i < e->nprefixes; i++) {
		if (e->prefix[i].addr != addr || e->prefix[i].len != len)
			continue;
		e->prefix[i] = e->prefix[--e->nprefixes];
		L->sys_lock_tcpip_core();
		for (int k = 0; k < e->g->naliases; k++) {
			struct netif *n = &e->g->alias[k];
			uint32_t a = ntohl(ip4_addr_get_u32(netif_ip4_addr(n)));

			if (netif_is_up(n) && !prefix_has(e, a))
				L->netif_set_down(n);
		}
		L->sys_unlock_tcpip_core();
		return 0;
	}
	return -EADDRNOTAVAIL;
}

/* lwIP runs no credential checks (no privileged ports, no SO_REUSEPORT
 * owner rule): cases that change credentials need CONF_CREDS, which this
 * backend lacks, so they are not run on it. */
static int lw_cred_set(struct conf_env *self, uid_t uid, bool keep_bind_service)
{
	(void)self;
	(void)uid;
	(void)keep_bind_service;
	return -EOPNOTSUPP;
}

/* Real time: lwIP's timers run on its own thread. */
static void lw_wait_ms(struct conf_env *self, unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	settle(lenv(self));
}

const struct conf_ops conf_lwip_ops = {
	.name = "lwip",
	.has = CONF_ENGINE | CONF_UDP | CONF_PEERNAME,
	.compare_only = true,
	.run_timeout_s = 5,
	.create = lw_create,
	.destroy = lw_destroy,
	.socket = lw_socket,
	.bind = lw_bind,
	.connect = lw_connect,
	.listen = lw_listen,
	.accept = lw_accept,
	.close = lw_close,
	.setsockopt = lw_setsockopt,
	.getsockopt = lw_getsockopt,
	.getsockname = lw_getsockname,
	.getpeername = lw_getpeername,
	.sendto = lw_sendto,
	.sendmsg = lw_sendmsg,
	.recvmsg = lw_recvmsg,
	.sysctl_write = lw_sysctl_write,
	.addr_add = lw_addr_add,
	.addr_del = lw_addr_del,
	.cred_set = lw_cred_set,
	.wait_ms = lw_wait_ms,
};

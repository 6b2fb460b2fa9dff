/* The lwIP backend, for comparison only: Debian's liblwip (2.1.3, the GNU
 * Hurd port: NO_SYS=0, a tcpip thread with core locking, the lwip_* socket
 * calls). One lwIP per process: tcpip_init() on the first create, so run one
 * case per process (the runner and the report fork one per run). Socket calls
 * are made from the case's thread; segments travel through this file's
 * loopback netif and lwIP's own timers run on its thread in real time.
 *
 * Its results never fail the suite (conf_ops.compare_only). */
#include "backend.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lwip/ip4_addr.h>
#include <lwip/ip6_addr.h>
#include <lwip/netif.h>
#include <lwip/sockets.h>
#include <lwip/tcpip.h>

/* Most 127.x addresses a case can name (each gets its own netif, see
 * local_ensure). */
#define LWIP_MAX_ALIASES 64
/* Rounds of the tcpip thread's queue one settle() waits for at most. */
#define SETTLE_MAX_ROUNDS 64
/* How long accept() waits for a connection that the loopback is still
 * completing, where the kernel would block for good. */
#define ACCEPT_WAIT_MS 1000
#define LWIP_MAX_FDS 1024

/* An IPv4 prefix of "lo" that counts as local, as Linux's local routes. */
struct lw_prefix {
	uint32_t addr;             /* host order */
	unsigned len;
};

/* The lwIP calls this file makes. liblwip is not linked: it defines
 * tcp_close(), tcp_bind(), ... as dtcp's core does, and the program's own
 * definitions would win over the library's for the library's internal calls.
 * It is loaded with RTLD_DEEPBIND, so that it binds to itself first, and
 * these entry points are taken from it. */
#define LWIP_API(X) \
	X(tcpip_init) X(tcpip_input) X(tcpip_callback_wait) \
	X(sys_lock_tcpip_core) X(sys_unlock_tcpip_core) \
	X(netif_add) X(netif_add_ip6_address) X(netif_ip6_addr_set_state) X(netif_set_default) \
	X(netif_set_up) X(netif_set_down) X(netif_set_link_up) X(netif_set_link_down) \
	X(netif_loop_output) \
	X(lwip_socket) X(lwip_bind) X(lwip_connect) X(lwip_listen) X(lwip_accept) X(lwip_close) \
	X(lwip_setsockopt) X(lwip_getsockopt) X(lwip_getsockname) X(lwip_getpeername) \
	X(lwip_sendto) X(lwip_sendmsg) X(lwip_recvmsg) X(lwip_poll)

#define LWIP_API_FIELD(f) __typeof__(f) *f;
static struct {
	LWIP_API(LWIP_API_FIELD)
} L;

/* Debian's soname of liblwip. */
#define LWIP_SONAME "liblwip.so.0"

static int lwip_load(void)
{
	void *h = dlopen(LWIP_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
	const char *missing = NULL;

	if (!h) {
		fprintf(stderr, "lwip backend: %s\n", dlerror());
		return -ENOENT;
	}
#define LWIP_API_LOAD(f) \
	L.f = (__typeof__(f) *)dlsym(h, #f); \
	missing = missing ? missing : L.f ? NULL : #f;
	LWIP_API(LWIP_API_LOAD)
#undef LWIP_API_LOAD
	if (missing) {
		fprintf(stderr, "lwip backend: no %s in %s\n", missing, LWIP_SONAME);
		return -ENOENT;
	}
	return 0;
}

struct lw_env {
	struct conf_env base;
	struct netif lo;           /* 127.0.0.1/8 and ::1, the default netif */
	struct netif alias[LWIP_MAX_ALIASES];
	int naliases;
	struct lw_prefix prefix[8];
	int nprefixes;
	int fds[LWIP_MAX_FDS];     /* descriptors to close on destroy */
	int nfds;
};

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

/* ---- the loopback ----
 * lwIP loops a packet back by itself only when it is sent to the sending
 * netif's own address (and, for IPv6, to ::1); anything else goes to the
 * netif's output function. These output functions send everything back in
 * through netif_loop_output(), which queues a copy and has the tcpip thread
 * feed it to ip_input(), so every packet the stack sends to a 127.x or ::1
 * destination comes back to it. On input, lwIP accepts an IPv4 packet only
 * for an address of one of its netifs (or exactly 127.0.0.1), not the whole
 * 127.0.0.0/8 that Linux's lo owns: see local_ensure(). */

static err_t lo_output4(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)dst;
	return L.netif_loop_output(netif, p);
}

static err_t lo_output6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dst)
{
	(void)dst;
	return L.netif_loop_output(netif, p);
}

static err_t lo_init(struct netif *netif)
{
	netif->name[0] = 'l';
	netif->name[1] = 'o';
	netif->mtu = 65535 - 40;   /* pbuf lengths are 16 bits */
	netif->output = lo_output4;
	netif->output_ip6 = lo_output6;
	netif->flags = 0;          /* no ARP, no broadcast, no MLD: a loopback */
	return ERR_OK;
}

/* An extra IPv4 address: a netif of its own that is up, so ip4_input()
 * accepts packets to it, with its link down, so ip4_route() never picks it
 * and every 127.x packet leaves through lo with lo's source address, as
 * Linux's local route "src 127.0.0.1" does. Caller holds the core lock. */
static int alias_add(struct lw_env *e, uint32_t addr)
{
	ip4_addr_t a, m, gw;
	struct netif *n;

	if (e->naliases == LWIP_MAX_ALIASES)
		return -ENOBUFS;
	n = &e->alias[e->naliases];
	ip4_addr_set_u32(&a, htonl(addr));
	ip4_addr_set_u32(&m, 0xffffffffu);
	ip4_addr_set_zero(&gw);
	if (!L.netif_add(n, &a, &m, &gw, NULL, lo_init, L.tcpip_input))
		return -ENOMEM;
	L.netif_set_link_down(n);
	L.netif_set_up(n);
	e->naliases++;
	return 0;
}

static struct netif *alias_lookup(struct lw_env *e, uint32_t addr)
{
	for (int i = 0; i < e->naliases; i++)
		if (netif_is_up(&e->alias[i]) && ip4_addr_get_u32(netif_ip4_addr(&e->alias[i])) == htonl(addr))
			return &e->alias[i];
	return NULL;
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
 * netif (alias_add) the first time it is named. An address outside the
 * local prefixes is left alone: lwIP then drops what is sent to it. */
static void local_ensure(struct lw_env *e, const struct sockaddr *sa, socklen_t len)
{
	uint32_t addr;

	if (!sa || !sa_ipv4(sa, len, &addr) || addr == INADDR_LOOPBACK || addr == INADDR_ANY)
		return;
	if (!prefix_has(e, addr))
		return;
	L.sys_lock_tcpip_core();
	if (!alias_lookup(e, addr))
		alias_add(e, addr);
	L.sys_unlock_tcpip_core();
}

static void settle_noop(void *arg)
{
	(void)arg;
}

static bool loop_pending(struct lw_env *e)
{
	bool pending = e->lo.loop_first != NULL;

	for (int i = 0; i < e->naliases; i++)
		pending |= e->alias[i].loop_first != NULL;
	return pending;
}

/* Wait until the packets in flight on the loopback have been handled: the
 * tcpip thread runs its queue in order, so once a no-op posted behind the
 * loopback's poll has run, what was queued before it is done; repeat while
 * handling it queued more. */
static void settle(struct lw_env *e)
{
	bool pending = true;

	for (int i = 0; i < SETTLE_MAX_ROUNDS && pending; i++) {
		L.tcpip_callback_wait(settle_noop, NULL);
		L.sys_lock_tcpip_core();
		pending = loop_pending(e);
		L.sys_unlock_tcpip_core();
	}
}

static int ret_settled(struct lw_env *e, int r)
{
	int err = errno;

	settle(e);
	errno = err;
	return ret(r);
}

/* ---- environment ---- */

static void tcpip_ready(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
}

static int lw_create(const struct conf_ops *self, struct conf_env **envp)
{
	static atomic_int ready;
	static bool started;
	struct lw_env *e;
	ip4_addr_t a, m, gw;
	ip6_addr_t a6;
	s8_t idx;

	int r;

	if (started)
		return -EBUSY;     /* one lwIP, and so one environment, per process */
	started = true;
	r = lwip_load();
	if (r)
		return r;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->base.ops = self;
	L.tcpip_init(tcpip_ready, &ready);
	while (!atomic_load(&ready))
		usleep(100);

	IP4_ADDR(&a, 127, 0, 0, 1);
	IP4_ADDR(&m, 255, 0, 0, 0);
	ip4_addr_set_zero(&gw);
	e->prefix[e->nprefixes++] = (struct lw_prefix){ INADDR_LOOPBACK, 8 };
	L.sys_lock_tcpip_core();
	if (!L.netif_add(&e->lo, &a, &m, &gw, NULL, lo_init, L.tcpip_input)) {
		L.sys_unlock_tcpip_core();
		free(e);
		return -ENOMEM;
	}
	/* ::1 as an address lwIP uses at once: no duplicate detection. */
	ip6_addr_set_loopback(&a6);
	if (L.netif_add_ip6_address(&e->lo, &a6, &idx) == ERR_OK)
		L.netif_ip6_addr_set_state(&e->lo, idx, IP6_ADDR_PREFERRED);
	L.netif_set_default(&e->lo);
	L.netif_set_link_up(&e->lo);
	L.netif_set_up(&e->lo);
	L.sys_unlock_tcpip_core();
	*envp = &e->base;
	return 0;
}

/* The sockets are closed; the tcpip thread lives until the process ends. */
static void lw_destroy(struct conf_env *self)
{
	struct lw_env *e = lenv(self);

	for (int i = 0; i < e->nfds; i++)
		L.lwip_close(e->fds[i]);
	settle(e);
	free(e);
}

static int lw_socket(struct conf_env *self, int family, int type)
{
	int fd = ret(L.lwip_socket(family, type, 0));

	track(lenv(self), fd);
	return fd;
}

static int lw_bind(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	local_ensure(lenv(self), sa, len);
	return ret(L.lwip_bind(fd, sa, len));
}

/* lwip_connect() blocks until the handshake ends (or SYN retries give up). */
static int lw_connect(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	local_ensure(lenv(self), sa, len);
	return ret_settled(lenv(self), L.lwip_connect(fd, sa, len));
}

static int lw_listen(struct conf_env *self, int fd, int backlog)
{
	(void)self;
	return ret(L.lwip_listen(fd, backlog));
}

/* accept() waits up to ACCEPT_WAIT_MS for a connection, then gives EAGAIN
 * (a recorded failure) where the kernel would block for good. */
static int lw_accept(struct conf_env *self, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	settle(lenv(self));
	r = L.lwip_poll(&p, 1, ACCEPT_WAIT_MS);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EAGAIN;
	r = ret_settled(lenv(self), L.lwip_accept(fd, NULL, NULL));
	track(lenv(self), r);
	return r;
}

static int lw_close(struct conf_env *self, int fd)
{
	int r = L.lwip_close(fd);

	if (r == 0)
		untrack(lenv(self), fd);
	return ret_settled(lenv(self), r);
}

static int lw_setsockopt(struct conf_env *self, int fd, int level, int name,
                         const void *val, socklen_t len)
{
	(void)self;
	return ret(L.lwip_setsockopt(fd, level, name, val, len));
}

static int lw_getsockopt(struct conf_env *self, int fd, int level, int name,
                         void *val, socklen_t *len)
{
	(void)self;
	return ret(L.lwip_getsockopt(fd, level, name, val, len));
}

static int lw_getsockname(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	(void)self;
	return ret(L.lwip_getsockname(fd, sa, len));
}

static int lw_getpeername(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	(void)self;
	return ret(L.lwip_getpeername(fd, sa, len));
}

static int lw_sendto(struct conf_env *self, int fd, const void *buf, size_t n, int flags,
                     const struct sockaddr *sa, socklen_t len)
{
	local_ensure(lenv(self), sa, len);
	return ret_settled(lenv(self), (int)L.lwip_sendto(fd, buf, n, flags, sa, len));
}

static ssize_t lw_sendmsg(struct conf_env *self, int fd, const struct msghdr *m, int flags)
{
	ssize_t r;
	int err;

	local_ensure(lenv(self), m->msg_name, m->msg_namelen);
	r = L.lwip_sendmsg(fd, m, flags);
	err = errno;
	settle(lenv(self));
	return r < 0 ? -err : r;
}

static ssize_t lw_recvmsg(struct conf_env *self, int fd, struct msghdr *m, int flags)
{
	ssize_t r;
	int err;

	settle(lenv(self));
	r = L.lwip_recvmsg(fd, m, flags);
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
		L.sys_lock_tcpip_core();
		for (int k = 0; k < e->naliases; k++) {
			uint32_t a = ntohl(ip4_addr_get_u32(netif_ip4_addr(&e->alias[k])));

			if (netif_is_up(&e->alias[k]) && !prefix_has(e, a))
				L.netif_set_down(&e->alias[k]);
		}
		L.sys_unlock_tcpip_core();
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

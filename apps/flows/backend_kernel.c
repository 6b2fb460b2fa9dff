/* dtcp-flows on the kernel: real sockets in a private network namespace that
 * the process unshares for itself (root needed), lo up, sysctls written
 * there. ulimit -n cannot be raised past 20,000, so every socket, client or
 * accepted, is parked: its descriptor goes in an SCM_RIGHTS message on an
 * AF_UNIX socket pair that nobody reads, and our copy is closed; the socket
 * stays open until the pair is closed. Memory is the growth of the TCP
 * slab caches. Single thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flows.h"
#include "hostnet.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* SCM_MAX_FD: the most descriptors one SCM_RIGHTS message carries. */
#define PARK_BATCH 253

/* Slab caches whose growth is the flows' memory: the sockets themselves
 * (TCP, TCPv6: struct tcp_sock / tcp6_sock), struct socket with its inode
 * (sock_inode_cache), and the connect/bind buckets and request socks when
 * the kernel keeps them in caches of their own (on many kernels they are
 * merged into a kmalloc-like cache and have no line; then they are not
 * counted). */
static const char *const slab_counted[] = {
	"TCP", "TCPv6", "sock_inode_cache", "request_sock_TCP", "request_sock_TCPv6",
	"tcp_bind_bucket", "tcp_bind2_bucket",
};
/* Caches every socket also takes one object from (struct file, dentry),
 * shown but not counted: the whole system allocates from them, so their
 * growth is noisy. */
static const char *const slab_shown[] = { "filp", "dentry" };

#define SLAB_COUNTED (sizeof(slab_counted) / sizeof(slab_counted[0]))
#define SLAB_SHOWN (sizeof(slab_shown) / sizeof(slab_shown[0]))
#define SLAB_ALL (SLAB_COUNTED + SLAB_SHOWN)

struct flows_kernel {
	struct flows_backend base;
	int lfd;
	int park[2];                   /* the socket pair; park[1] is never read */
	int pending[PARK_BATCH];       /* descriptors waiting for the next message */
	int npending;
	int64_t slab_mark[SLAB_ALL];   /* bytes (active objects x size) at the mark; -1: no line */
};

static struct flows_kernel *kself(struct flows_backend *b)
{
	return (struct flows_kernel *)b;
}

/* Write a sysctl of the namespace the process is in. */
static int sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
	size_t len = strlen(value);

	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		r = -errno;
	close(fd);
	return r;
}

/* Send the pending descriptors in one SCM_RIGHTS message, then close our
 * copies. The message's one data byte is what carries them. */
static int park_flush(struct flows_kernel *k, struct flows_error *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PARK_BATCH)];
		struct cmsghdr align;
	} ctl;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf };
	struct cmsghdr *cm;
	size_t n = (size_t)k->npending;
	double t0;

	if (!n)
		return 0;
	t0 = flows_now_s();
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), k->pending, sizeof(int) * n);
	if (sendmsg(k->park[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
		return flows_fail(err, "sendmsg(SCM_RIGHTS)", errno);
	for (size_t i = 0; i < n; i++)
		close(k->pending[i]);
	k->npending = 0;
	k->base.parked += n;
	k->base.park_msgs++;
	k->base.park_s += flows_now_s() - t0;
	return 0;
}

static int park_fd(struct flows_kernel *k, int fd, struct flows_error *err)
{
	k->pending[k->npending++] = fd;
	return k->npending == PARK_BATCH ? park_flush(k, err) : 0;
}

static int kern_listener(struct flows_kernel *k, struct flows_error *err)
{
	union flows_addr any = { 0 };
	socklen_t len;
	int one = 1;

	k->lfd = socket(k->base.cfg->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->lfd < 0)
		return flows_fail(err, "socket(listener)", errno);
	if (k->base.cfg->family == AF_INET6) {
		any.v6.sin6_family = AF_INET6;
		any.v6.sin6_port = htons(FLOWS_DST_PORT);
		len = sizeof(any.v6);
		if (setsockopt(k->lfd, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
			return flows_fail(err, "setsockopt(IPV6_V6ONLY)", errno);
	} else {
		any.v4.sin_family = AF_INET;
		any.v4.sin_port = htons(FLOWS_DST_PORT);
		len = sizeof(any.v4);
	}
	if (bind(k->lfd, &any.sa, len) < 0)
		return flows_fail(err, "bind(listener)", errno);
	if (listen(k->lfd, FLOWS_BACKLOG) < 0)
		return flows_fail(err, "listen", errno);
	return 0;
}

static void kern_close_all(struct flows_kernel *k)
{
	for (int i = 0; i < k->npending; i++)
		close(k->pending[i]);
	k->npending = 0;
	if (k->lfd >= 0)
		close(k->lfd);
	/* Closing the pair drops the unread messages, and with them the last
	 * references to the parked sockets. */
	if (k->park[0] >= 0)
		close(k->park[0]);
	if (k->park[1] >= 0)
		close(k->park[1]);
}

static int kern_create(const struct flows_backend_ops *ops, const struct flows_config *cfg,
                       struct flows_backend **out, struct flows_error *err)
{
	struct flows_kernel *k = calloc(1, sizeof(*k));
	char buf[32];
	const char *what;
	int big = 1 << 30, r;

	if (!k)
		return flows_fail(err, "calloc", ENOMEM);
	k->base.ops = ops;
	k->base.cfg = cfg;
	k->lfd = k->park[0] = k->park[1] = -1;
	r = hostnet_private_lo(0, &what);
	if (r < 0) {
		flows_fail(err, what, -r);
		goto err_free;
	}
	snprintf(buf, sizeof(buf), "%d", FLOWS_BACKLOG);
	r = sysctl_write("/proc/sys/net/core/somaxconn", buf);
	if (r < 0) {
		flows_fail(err, "write(net.core.somaxconn)", -r);
		goto err_free;
	}
	if (cfg->has_range) {
		snprintf(buf, sizeof(buf), "%u %u", cfg->range_lo, cfg->range_hi);
		r = sysctl_write("/proc/sys/net/ipv4/ip_local_port_range", buf);
		if (r < 0) {
			flows_fail(err, "write(net.ipv4.ip_local_port_range)", -r);
			goto err_free;
		}
	}
	/* Nobody reads the pair: the send buffer must hold every message. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, k->park) < 0) {
		r = flows_fail(err, "socketpair(AF_UNIX)", errno);
		goto err_close;
	}
	if (setsockopt(k->park[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0) {
		r = flows_fail(err, "setsockopt(SO_SNDBUFFORCE)", errno);
		goto err_close;
	}
	r = kern_listener(k, err);
	if (r < 0)
		goto err_close;
	*out = &k->base;
	return 0;

err_close:
	kern_close_all(k);
err_free:
	free(k);
	return r;
}

static int kern_port_range(struct flows_backend *self, unsigned *lo, unsigned *hi, struct flows_error *err)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int n;

	(void)self;
	if (!f)
		return flows_fail(err, "open(net.ipv4.ip_local_port_range)", errno);
	n = fscanf(f, "%u %u", lo, hi);
	fclose(f);
	return n == 2 ? 0 : flows_fail(err, "read(net.ipv4.ip_local_port_range)", EINVAL);
}

/* RTM_NEWADDR for one IPv6 /128 on lo, no duplicate address detection;
 * waits for the kernel's acknowledgement. */
static int nl_addr6_add(int nl, int ifindex, const struct in6_addr *a, uint32_t seq)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[2 * RTA_SPACE(sizeof(struct in6_addr))];
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr e;
		char more[256];
	} ack;
	struct rtattr *rta;
	ssize_t got;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	req.nh.nlmsg_seq = seq;
	req.ifa.ifa_family = AF_INET6;
	req.ifa.ifa_prefixlen = 128;
	req.ifa.ifa_flags = IFA_F_NODAD;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = (unsigned)ifindex;
	for (int t = 0; t < 2; t++) {
		rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = t ? IFA_ADDRESS : IFA_LOCAL;
		rta->rta_len = RTA_LENGTH(sizeof(*a));
		memcpy(RTA_DATA(rta), a, sizeof(*a));
		req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}
	if (send(nl, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	got = recv(nl, &ack, sizeof(ack), 0);
	if (got < 0)
		return -errno;
	if ((size_t)got < NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ack.nh.nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ack.e.error;
}

/* A new IPv6 address on lo takes a moment, after the kernel acknowledged
 * it, before segments to it are delivered (its set-up ends on a work queue;
 * the address binds and routes already): a connect() in that moment fails
 * ENETUNREACH about a second later (about 1 run in 3 at the first flow to
 * it). So each destination is first tried as the flows will use it, a
 * connection from [::1] to a throw-away listener, until one gets through
 * (each try bounded to 100 ms, at most 50 tries); it is then reset, leaving
 * no TIME_WAIT and no port behind. */
static int wait_reachable6(const union flows_addr *dsts, uint32_t n, struct flows_error *err)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 }, name;
	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct timeval tmo = { .tv_usec = 100000 };
	struct linger rst = { 1, 0 };
	socklen_t len = sizeof(name);
	int l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

	if (l < 0 || bind(l, (struct sockaddr *)&any, sizeof(any)) < 0 || listen(l, 16) < 0 ||
	    getsockname(l, (struct sockaddr *)&name, &len) < 0) {
		r = flows_fail(err, "probe listener", errno);
		goto out;
	}
	for (uint32_t i = 0; i < n && !r; i++) {
		struct sockaddr_in6 d;
		int tries = 0;

		if (dsts[i].sa.sa_family != AF_INET6)
			continue;
		d = dsts[i].v6;
		d.sin6_port = name.sin6_port;
		for (;; tries++) {
			int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), rc, e, a;

			if (fd < 0) {
				r = flows_fail(err, "socket(probe)", errno);
				break;
			}
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
			rc = bind(fd, (struct sockaddr *)&lo, sizeof(lo));
			if (!rc)
				rc = connect(fd, (struct sockaddr *)&d, sizeof(d));
			e = errno;
			if (!rc) {
				a = accept(l, NULL, NULL);
				if (a >= 0) {
					setsockopt(a, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
					close(a);
				}
			}
			close(fd);
			if (!rc)
				break;
			if ((e != ENETUNREACH && e != EINPROGRESS && e != EAGAIN) || tries >= 50) {
				r = flows_fail(err, "connect(probe of a destination)", e);
				break;
			}
			usleep(10000);
		}
	}
out:
	if (l >= 0)
		close(l);
	return r;
}

static int kern_add_dsts(struct flows_backend *self, const union flows_addr *dsts, uint32_t n,
                         struct flows_error *err)
{
	int nl = -1, ifindex = (int)if_nametoindex("lo"), r = 0;

	(void)self;
	for (uint32_t i = 0; i < n && !r; i++) {
		if (dsts[i].sa.sa_family != AF_INET6 || IN6_IS_ADDR_LOOPBACK(&dsts[i].v6.sin6_addr))
			continue;
		if (nl < 0) {
			nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
			if (nl < 0)
				return flows_fail(err, "socket(AF_NETLINK)", errno);
		}
		r = nl_addr6_add(nl, ifindex, &dsts[i].v6.sin6_addr, i + 1);
		if (r < 0 && r != -EEXIST)
			flows_fail(err, "netlink(RTM_NEWADDR)", -r);
		else
			r = 0;
	}
	if (nl >= 0)
		close(nl);
	if (!r && n && dsts[0].sa.sa_family == AF_INET6)
		r = wait_reachable6(dsts, n, err);
	return r;
}

/* Bytes (active objects x object size) of each cache of interest, from
 * /proc/slabinfo; -1 for a cache without a line. */
static void slab_read(int64_t *bytes)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512], name[64];
	unsigned long long active, num, size;

	for (size_t i = 0; i < SLAB_ALL; i++)
		bytes[i] = -1;
	if (!f)
		return;
	for (int k = 0; k < 100000 && fgets(line, sizeof(line), f); k++) {
		if (sscanf(line, "%63s %llu %llu %llu", name, &active, &num, &size) != 4)
			continue;
		for (size_t i = 0; i < SLAB_ALL; i++) {
			const char *want = i < SLAB_COUNTED ? slab_counted[i] : slab_shown[i - SLAB_COUNTED];

			if (!strcmp(name, want))
				bytes[i] = (int64_t)(active * size);
		}
	}
	fclose(f);
}

static void kern_mem_mark(struct flows_backend *self)
{
	slab_read(kself(self)->slab_mark);
}

/* socket (with sock_flags) -> [IP_BIND_ADDRESS_NO_PORT] -> [bind(src, 0)] ->
 * connect(dst); a non-blocking connect's EINPROGRESS is no failure. */
static int kern_flow_start(struct flows_backend *self, int sock_flags, const union flows_addr *src,
                           const union flows_addr *dst, int *out, struct flows_error *err)
{
	const struct flows_config *cfg = self->cfg;
	socklen_t len = cfg->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(cfg->family, SOCK_STREAM | SOCK_CLOEXEC | sock_flags, 0), one = 1, r;

	if (fd < 0)
		return flows_fail(err, "socket", errno);
	if (cfg->no_port && setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0) {
		r = flows_fail(err, "setsockopt(IP_BIND_ADDRESS_NO_PORT)", errno);
		goto err_close;
	}
	if (!cfg->no_bind && bind(fd, &src->sa, len) < 0) {
		r = flows_fail(err, "bind", errno);
		goto err_close;
	}
	if (connect(fd, &dst->sa, len) < 0 && !((sock_flags & SOCK_NONBLOCK) && errno == EINPROGRESS)) {
		r = flows_fail(err, "connect", errno);
		goto err_close;
	}
	*out = fd;
	return 0;

err_close:
	close(fd);
	return r;
}

/* getsockname() of an established flow, then the descriptor is parked. */
static int kern_flow_finish(struct flows_kernel *k, int fd, union flows_addr *local, struct flows_error *err)
{
	socklen_t len = sizeof(*local);

	if (getsockname(fd, &local->sa, &len) < 0) {
		int r = flows_fail(err, "getsockname", errno);

		close(fd);
		return r;
	}
	return park_fd(k, fd, err);
}

static int kern_open_flow(struct flows_backend *self, const union flows_addr *src, const union flows_addr *dst,
                          union flows_addr *local, struct flows_error *err)
{
	int fd, r = kern_flow_start(self, 0, src, dst, &fd, err);

	return r < 0 ? r : kern_flow_finish(kself(self), fd, local, err);
}

/* --batch on the kernel: the same non-blocking connects in flight as on
 * dtcp, their ends waited for with poll() (on loopback the kernel has
 * mostly finished each handshake before connect() returns). */
static int64_t kern_open_batch(struct flows_backend *self, const union flows_addr *src,
                               const union flows_addr *const *dst, uint32_t n, union flows_addr *local,
                               struct flows_error *err)
{
	struct flows_kernel *k = kself(self);
	struct pollfd pfd[FLOWS_BATCH_MAX];
	int fds[FLOWS_BATCH_MAX];
	struct flows_error open_err = { 0 };
	uint32_t started = 0, left, j;
	double t0;
	int so_err = 0, poll_err = 0;
	socklen_t sl = sizeof(so_err);

	if (n > FLOWS_BATCH_MAX)
		n = FLOWS_BATCH_MAX;
	while (started < n && kern_flow_start(self, SOCK_NONBLOCK, src, dst[started], &fds[started], &open_err) == 0) {
		pfd[started].fd = fds[started];
		pfd[started].events = POLLOUT;
		pfd[started].revents = 0;
		started++;
	}
	t0 = flows_now_s();
	for (left = started; left > 0;) {
		int r, ms = (int)((FLOWS_HANDSHAKE_TIMEOUT_S - (flows_now_s() - t0)) * 1000);

		if (ms <= 0)
			break;
		r = poll(pfd, started, ms);
		if (r < 0 && errno != EINTR) {
			poll_err = errno;
			break;
		}
		for (j = 0; r > 0 && j < started; j++)
			if (pfd[j].fd >= 0 && pfd[j].revents) {
				pfd[j].fd = -1;   /* ended: no longer polled */
				left--;
			}
	}
	/* In order: the first that did not end well stops the count. */
	for (j = 0; j < started; j++) {
		if (pfd[j].fd >= 0) {
			if (poll_err)
				flows_fail(err, "poll", poll_err);
			else
				flows_fail(err, "connect", ETIMEDOUT);
			break;
		}
		if (getsockopt(fds[j], SOL_SOCKET, SO_ERROR, &so_err, &sl) < 0 || so_err) {
			flows_fail(err, "connect", so_err ? so_err : errno);
			break;
		}
	}
	if (j == started && open_err.err)
		*err = open_err;
	for (uint32_t m = j; m < started; m++)
		close(fds[m]);
	for (uint32_t m = 0; m < j; m++)
		if (kern_flow_finish(k, fds[m], &local[m], err) < 0) {
			for (uint32_t q = m + 1; q < j; q++)
				close(fds[q]);
			return m;
		}
	return j;
}

static int64_t kern_accept_ready(struct flows_backend *self, struct flows_error *err)
{
	struct flows_kernel *k = kself(self);
	int64_t n = 0;

	for (int i = 0; i <= FLOWS_BACKLOG; i++) {
		int fd = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return flows_fail(err, "accept4", errno);
		}
		n++;
		self->accepted++;
		if (park_fd(k, fd, err) < 0)
			return -err->err;
	}
	return n;
}

static int kern_settle(struct flows_backend *self, uint64_t expected, struct flows_error *err)
{
	struct flows_kernel *k = kself(self);
	struct pollfd p = { .fd = k->lfd, .events = POLLIN };
	int idle = 0;

	/* On lo the handshake ends inside connect(); what is not queued yet
	 * comes within a few polls. Give up after 5 s without progress. */
	for (int round = 0; round < 100000 && self->accepted < expected && idle < 50; round++) {
		int64_t got = kern_accept_ready(self, err);

		if (got < 0)
			return (int)got;
		idle = got ? 0 : idle + 1;
		if (self->accepted < expected && poll(&p, 1, 100) < 0 && errno != EINTR)
			return flows_fail(err, "poll", errno);
	}
	if (park_flush(k, err) < 0)
		return -err->err;
	if (self->accepted < expected)
		return flows_fail(err, "accept4", ETIMEDOUT);
	return 0;
}

static void print_lines(const char *path, const char *prefix, FILE *out)
{
	FILE *f = fopen(path, "r");
	char line[256];

	if (!f)
		return;
	for (int k = 0; k < 64 && fgets(line, sizeof(line), f); k++)
		if (!strncmp(line, prefix, strlen(prefix)))
			fputs(line, out);
	fclose(f);
}

/* /proc/net is the namespace's own: its counts are our sockets only
 * ("mem" is the system's TCP buffer pages). */
static void kern_sockstat(struct flows_backend *self, FILE *out)
{
	print_lines("/proc/net/sockstat", "TCP:", out);
	if (self->cfg->family == AF_INET6)
		print_lines("/proc/net/sockstat6", "TCP6:", out);
}

/* The real ss, run in our namespace (the child inherits it): `ss -tan`
 * with the expression's words as its filter. ss has no row limit; its
 * output goes to out through a pipe, cut after max_rows rows. */
static int kern_ss(struct flows_backend *self, const char *expr, FILE *out, long max_rows, struct flows_error *err)
{
	char *argv[64] = { "ss", "-tan" }, *copy = strdup(expr ? expr : ""), *save = NULL, line[512];
	int argc = 2, pfd[2], status;
	long rows = -1;   /* the header is not a row */
	FILE *in;
	pid_t pid;

	(void)self;
	if (!copy)
		return flows_fail(err, "strdup", ENOMEM);
	for (char *w = strtok_r(copy, " \t", &save); w && argc < 63; w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	if (pipe(pfd) < 0) {
		free(copy);
		return flows_fail(err, "pipe", errno);
	}
	fflush(out);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		free(copy);
		return flows_fail(err, "fork", errno);
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execvp("ss", argv);
		_exit(127);
	}
	close(pfd[1]);
	in = fdopen(pfd[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		if (max_rows < 0 || rows < max_rows)
			fputs(line, out);
		rows++;
	}
	if (in)
		fclose(in);
	else
		close(pfd[0]);
	free(copy);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return flows_fail(err, "ss (iproute2)", WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ENOENT : EINVAL);
	if (max_rows >= 0 && rows > max_rows)
		fprintf(out, "(%ld of %ld sockets shown)\n", max_rows, rows);
	return 0;
}

static void kern_mem_report(struct flows_backend *self, struct flows_mem *m)
{
	struct flows_kernel *k = kself(self);
	int64_t now[SLAB_ALL];
	size_t off = 0, xoff = 0;

	slab_read(now);
	m->bytes = 0;
	m->what[0] = m->extra[0] = '\0';
	off += (size_t)snprintf(m->what, sizeof(m->what), "slab growth (active objs x objsize):");
	for (size_t i = 0; i < SLAB_COUNTED; i++) {
		int64_t delta = now[i] - k->slab_mark[i];

		if (now[i] < 0 || k->slab_mark[i] < 0 || delta <= 0)
			continue;
		m->bytes += (uint64_t)delta;
		if (off < sizeof(m->what))
			off += (size_t)snprintf(m->what + off, sizeof(m->what) - off, " %s %.1f MiB", slab_counted[i],
			                        (double)delta / 1048576.0);
	}
	xoff += (size_t)snprintf(m->extra, sizeof(m->extra), "not counted (system-wide, noisy):");
	for (size_t i = 0; i < SLAB_SHOWN; i++) {
		size_t j = SLAB_COUNTED + i;

		if (now[j] >= 0 && k->slab_mark[j] >= 0 && xoff < sizeof(m->extra))
			xoff += (size_t)snprintf(m->extra + xoff, sizeof(m->extra) - xoff, " %s %+.1f MiB", slab_shown[i],
			                         (double)(now[j] - k->slab_mark[j]) / 1048576.0);
	}
}

static void kern_destroy(struct flows_backend *self)
{
	struct flows_kernel *k = kself(self);

	kern_close_all(k);
	free(k);
}

const struct flows_backend_ops flows_kernel_ops = {
	.name = "kernel",
	.addrs = &flows_loopback_plan,
	.create = kern_create,
	.port_range = kern_port_range,
	.add_dsts = kern_add_dsts,
	.mem_mark = kern_mem_mark,
	.open_flow = kern_open_flow,
	.open_batch = kern_open_batch,
	.accept_ready = kern_accept_ready,
	.settle = kern_settle,
	.sockstat = kern_sockstat,
	.ss = kern_ss,
	.mem_report = kern_mem_report,
	.destroy = kern_destroy,
};

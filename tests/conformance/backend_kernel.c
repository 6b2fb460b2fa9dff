/* The kernel backend: real syscalls in a network namespace that the calling
 * process unshares for itself (root needed), with lo brought up and sysctls
 * written under that namespace's /proc/sys/net. The process stays in the
 * namespace: run one case per process (Criterion forks one per test, the
 * report forks one per run). */
#include "backend.h"
#include "hostnet.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KERN_MAX_FDS 256

struct kern_env {
	struct conf_env base;
	uid_t uid;                 /* credentials the case asked for */
	bool keep_bind_service;
	int fds[KERN_MAX_FDS];     /* descriptors to close on destroy */
	int nfds;
};

static struct kern_env *kenv(struct conf_env *self)
{
	return (struct kern_env *)self;
}

static int neg_errno(int r)
{
	return r < 0 ? -errno : r;
}

static void track(struct kern_env *e, int fd)
{
	if (fd >= 0 && e->nfds < KERN_MAX_FDS)
		e->fds[e->nfds++] = fd;
}

static void untrack(struct kern_env *e, int fd)
{
	for (int i = 0; i < e->nfds; i++)
		if (e->fds[i] == fd) {
			e->fds[i] = e->fds[--e->nfds];
			return;
		}
}

/* Become euid uid; effective capabilities: all of the permitted set for uid
 * 0, none otherwise, then CAP_NET_BIND_SERVICE added or removed. The real and
 * saved uids stay 0, so the permitted set is kept and the way back to root
 * stays open. */
static int cred_apply(uid_t uid, bool keep_bind_service)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const unsigned bit = CAP_NET_BIND_SERVICE % 32, word = CAP_NET_BIND_SERVICE / 32;

	if (seteuid(0) < 0 || (uid != 0 && seteuid(uid) < 0))
		return -errno;
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (unsigned i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		data[i].effective = uid == 0 ? data[i].permitted : 0;
	if (keep_bind_service)
		data[word].effective |= 1u << bit;
	else
		data[word].effective &= ~(1u << bit);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

/* Administrative writes (sysctl, addresses) are made as root, whatever
 * credentials the case's socket calls use. */
static int as_root_begin(struct kern_env *e)
{
	return (e->uid || !e->keep_bind_service) ? cred_apply(0, true) : 0;
}

static int as_root_end(struct kern_env *e, int r)
{
	int r2 = (e->uid || !e->keep_bind_service) ? cred_apply(e->uid, e->keep_bind_service) : 0;

	return r < 0 ? r : r2;
}

static int kern_create(const struct conf_ops *self, struct conf_env **envp)
{
	struct kern_env *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->base.ops = self;
	e->keep_bind_service = true;
	r = hostnet_private_lo(0, NULL);   /* a private netns and its sysctls need root */
	if (r < 0)
		goto err_free;
	*envp = &e->base;
	return 0;

err_free:
	free(e);
	return r;
}

static void kern_destroy(struct conf_env *self)
{
	struct kern_env *e = kenv(self);

	cred_apply(0, true);
	for (int i = 0; i < e->nfds; i++)
		close(e->fds[i]);
	free(e);
}

static int kern_socket(struct conf_env *self, int family, int type)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	track(kenv(self), fd);
	return fd;
}

static int kern_bind(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)self;
	return neg_errno(bind(fd, sa, len));
}

static int kern_connect(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)self;
	return neg_errno(connect(fd, sa, len));
}

static int kern_listen(struct conf_env *self, int fd, int backlog)
{
	(void)self;
	return neg_errno(listen(fd, backlog));
}

static int kern_accept(struct conf_env *self, int fd)
{
	int nfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (nfd < 0)
		return -errno;
	track(kenv(self), nfd);
	return nfd;
}

static int kern_close(struct conf_env *self, int fd)
{
	untrack(kenv(self), fd);
	return neg_errno(close(fd));
}

static int kern_setsockopt(struct conf_env *self, int fd, int level, int name,
                           const void *val, socklen_t len)
{
	(void)self;
	return neg_errno(setsockopt(fd, level, name, val, len));
}

static int kern_getsockopt(struct conf_env *self, int fd, int level, int name,
                           void *val, socklen_t *len)
{
	(void)self;
	return neg_errno(getsockopt(fd, level, name, val, len));
}

static int kern_getsockname(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	(void)self;
	return neg_errno(getsockname(fd, sa, len));
}

static int kern_getpeername(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	(void)self;
	return neg_errno(getpeername(fd, sa, len));
}

static int kern_sendto(struct conf_env *self, int fd, const void *buf, size_t n, int flags,
                       const struct sockaddr *sa, socklen_t len)
{
	ssize_t r = sendto(fd, buf, n, flags, sa, len);

	(void)self;
	return r < 0 ? -errno : (int)r;
}

static ssize_t kern_sendmsg(struct conf_env *self, int fd, const struct msghdr *m, int flags)
{
	ssize_t r = sendmsg(fd, m, flags | MSG_NOSIGNAL);

	(void)self;
	return r < 0 ? -errno : r;
}

static ssize_t kern_recvmsg(struct conf_env *self, int fd, struct msghdr *m, int flags)
{
	ssize_t r = recvmsg(fd, m, flags);

	(void)self;
	return r < 0 ? -errno : r;
}

static int sysctl_write(const char *name, const char *value)
{
	char path[256];
	int fd, r = 0;
	size_t n = strlen(value);

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r;
}

static int kern_sysctl_write(struct conf_env *self, const char *name, const char *value)
{
	struct kern_env *e = kenv(self);
	int r = as_root_begin(e);

	if (!r)
		r = sysctl_write(name, value);
	return as_root_end(e, r);
}

/* iproute2 on lo, inside this process's namespace (system() forks from it). */
static int ip_addr(struct kern_env *e, const char *verb, const char *cidr)
{
	char cmd[160];
	int r = as_root_begin(e), st;

	if (r)
		return r;
	snprintf(cmd, sizeof(cmd), "ip addr %s %s dev lo >/dev/null 2>&1", verb, cidr);
	st = system(cmd);
	if (st == -1)
		r = -errno;
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		r = -EINVAL;
	return as_root_end(e, r);
}

static int kern_addr_add(struct conf_env *self, const char *cidr)
{
	return ip_addr(kenv(self), "add", cidr);
}

static int kern_addr_del(struct conf_env *self, const char *cidr)
{
	return ip_addr(kenv(self), "del", cidr);
}

static int kern_cred_set(struct conf_env *self, uid_t uid, bool keep_bind_service)
{
	struct kern_env *e = kenv(self);
	int r = cred_apply(uid, keep_bind_service);

	if (!r) {
		e->uid = uid;
		e->keep_bind_service = keep_bind_service;
	}
	return r;
}

static void kern_wait_ms(struct conf_env *self, unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	(void)self;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const struct conf_ops conf_kernel_ops = {
	.name = "kernel",
	.has = CONF_ENGINE | CONF_UDP | CONF_PEERNAME | CONF_CREDS,
	.create = kern_create,
	.destroy = kern_destroy,
	.socket = kern_socket,
	.bind = kern_bind,
	.connect = kern_connect,
	.listen = kern_listen,
	.accept = kern_accept,
	.close = kern_close,
	.setsockopt = kern_setsockopt,
	.getsockopt = kern_getsockopt,
	.getsockname = kern_getsockname,
	.getpeername = kern_getpeername,
	.sendto = kern_sendto,
	.sendmsg = kern_sendmsg,
	.recvmsg = kern_recvmsg,
	.sysctl_write = kern_sysctl_write,
	.addr_add = kern_addr_add,
	.addr_del = kern_addr_del,
	.cred_set = kern_cred_set,
	.wait_ms = kern_wait_ms,
};

/* The dtcp backend: one in-process stack per environment, client and server
 * over its own loopback, driven through <dtcp/dtcp.h>. The one use of dtcp
 * internals is stack_create() with this file's stack_env: a virtual clock, so
 * that wait_ms() is instant and exact, and real randomness. */
#include "backend.h"

#include <dtcp/dtcp.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>

#include "stack.h"

/* The virtual clock's start: an arbitrary, non-zero monotonic time. */
#define VCLOCK_START_NS (UINT64_C(1000) * 1000000000u)
#define NS_PER_MS 1000000u
/* Most dtcp_stack_poll() calls one settle() makes; loopback traffic of a
 * case settles in a handful. */
#define SETTLE_MAX_POLLS 1000
/* Clock reads within one op before the clock starts to move on its own. */
#define STALL_READS 1000000u

struct dtcp_env {
	struct conf_env base;
	struct dtcp_stack *st;
	uint64_t now_ns;           /* the virtual clock */
	uint32_t reads;            /* clock reads since the current op began */
};

static struct dtcp_env *denv(struct conf_env *self)
{
	return (struct dtcp_env *)self;
}

/* Every op starts here: the environment's stack, with the stall count
 * (see vclock_now) restarted. */
static struct dtcp_stack *op_begin(struct conf_env *self)
{
	denv(self)->reads = 0;
	return denv(self)->st;
}

/* The clock stands still unless wait_ms() moves it. A blocking call that the
 * loopback alone cannot finish (a lost segment: a dtcp bug) would spin on a
 * frozen clock until the test's timeout; after STALL_READS reads within one
 * op each read lets 1 ms pass, so the stack's own timers (RTO, SYN retries)
 * end the call as they would on the kernel. */
static uint64_t vclock_now(void *arg)
{
	struct dtcp_env *e = arg;

	if (e->reads < STALL_READS)
		e->reads++;
	else
		e->now_ns += NS_PER_MS;
	return e->now_ns;
}

/* Real randomness (as stack_env_system), so port offsets and ISNs vary. */
static void real_random_bytes(void *arg, void *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

/* Let the stack process what is in flight on its loopback and the timers due
 * now, until a poll finds nothing to do (bounded). */
static void settle(struct dtcp_stack *st)
{
	for (int i = 0; i < SETTLE_MAX_POLLS && dtcp_stack_poll(st) > 0; i++)
		;
}

/* The public API's -1/errno, back to the ops' -errno. */
static int ret(int r)
{
	return r < 0 ? -errno : r;
}

/* ret() for a call after which segments may be in flight. */
static int ret_settled(struct dtcp_stack *st, int r)
{
	int err = errno;

	settle(st);
	errno = err;
	return ret(r);
}

static int dt_create(const struct conf_ops *self, struct conf_env **envp)
{
	/* Small tables: a case opens a few dozen sockets at most. */
	const struct dtcp_stack_config cfg = { .max_sockets = 1024 };
	struct dtcp_env *e = calloc(1, sizeof(*e));
	struct stack_env env = { .now_ns = vclock_now, .random_bytes = real_random_bytes };

	if (!e)
		return -ENOMEM;
	e->base.ops = self;
	e->now_ns = VCLOCK_START_NS;
	env.arg = e;
	e->st = stack_create(&cfg, &env);
	if (!e->st) {
		int r = -errno;

		free(e);
		return r;
	}
	*envp = &e->base;
	return 0;
}

static void dt_destroy(struct conf_env *self)
{
	dtcp_stack_free(op_begin(self));
	free(self);
}

static int dt_socket(struct conf_env *self, int family, int type)
{
	return ret(dtcp_socket(op_begin(self), family, type, 0));
}

static int dt_bind(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	return ret(dtcp_bind(op_begin(self), fd, sa, len));
}

/* A blocking connect(): dtcp_connect() polls the stack until the handshake
 * ends; the settle lets the server side see the final ACK. */
static int dt_connect(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct dtcp_stack *st = op_begin(self);

	return ret_settled(st, dtcp_connect(st, fd, sa, len));
}

static int dt_listen(struct conf_env *self, int fd, int backlog)
{
	return ret(dtcp_listen(op_begin(self), fd, backlog));
}

/* accept() of what the loopback has delivered: the listener is made
 * non-blocking for the call, so an empty queue gives EAGAIN (a recorded
 * failure) where the kernel would block for good. */
static int dt_accept(struct conf_env *self, int fd)
{
	struct dtcp_stack *st = op_begin(self);
	int fl, r, err;

	settle(st);
	fl = dtcp_fcntl(st, fd, F_GETFL, 0);
	if (fl < 0)
		return -errno;
	if (dtcp_fcntl(st, fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	r = dtcp_accept4(st, fd, NULL, NULL, 0);
	err = errno;
	dtcp_fcntl(st, fd, F_SETFL, fl);
	errno = err;
	return ret_settled(st, r);
}

static int dt_close(struct conf_env *self, int fd)
{
	struct dtcp_stack *st = op_begin(self);

	return ret_settled(st, dtcp_close(st, fd));
}

static int dt_setsockopt(struct conf_env *self, int fd, int level, int name,
                         const void *val, socklen_t len)
{
	return ret(dtcp_setsockopt(op_begin(self), fd, level, name, val, len));
}

static int dt_getsockopt(struct conf_env *self, int fd, int level, int name,
                         void *val, socklen_t *len)
{
	return ret(dtcp_getsockopt(op_begin(self), fd, level, name, val, len));
}

static int dt_getsockname(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	return ret(dtcp_getsockname(op_begin(self), fd, sa, len));
}

static int dt_getpeername(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	return ret(dtcp_getpeername(op_begin(self), fd, sa, len));
}

/* dtcp has no sendto(); on TCP, Linux's tcp_sendmsg() never reads the address
 * (outside TCP Fast Open): an unconnected socket gets EPIPE, a connected one
 * sends to its peer. dtcp_send() does both, so sa is dropped here. */
static int dt_sendto(struct conf_env *self, int fd, const void *buf, size_t n, int flags,
                     const struct sockaddr *sa, socklen_t len)
{
	struct dtcp_stack *st = op_begin(self);

	(void)sa;
	(void)len;
	return ret_settled(st, (int)dtcp_send(st, fd, buf, n, flags));
}

static ssize_t dt_sendmsg(struct conf_env *self, int fd, const struct msghdr *m, int flags)
{
	struct dtcp_stack *st = op_begin(self);
	ssize_t r = dtcp_sendmsg(st, fd, m, flags);
	int err = errno;

	settle(st);
	return r < 0 ? -err : r;
}

static ssize_t dt_recvmsg(struct conf_env *self, int fd, struct msghdr *m, int flags)
{
	struct dtcp_stack *st = op_begin(self);
	ssize_t r = dtcp_recvmsg(st, fd, m, flags);
	int err = errno;

	settle(st);
	return r < 0 ? -err : r;
}

static int dt_sysctl_write(struct conf_env *self, const char *name, const char *value)
{
	return ret(dtcp_sysctl_set(op_begin(self), name, value));
}

static int dt_addr_add(struct conf_env *self, const char *cidr)
{
	return ret(dtcp_addr_add(op_begin(self), "lo", cidr));
}

static int dt_addr_del(struct conf_env *self, const char *cidr)
{
	return ret(dtcp_addr_del(op_begin(self), "lo", cidr));
}

/* The kernel backend's credential switch, in dtcp's terms: uid 0 keeps every
 * capability, another uid keeps none, CAP_NET_BIND_SERVICE as asked. */
static int dt_cred_set(struct conf_env *self, uid_t uid, bool keep_bind_service)
{
	uint32_t caps = uid == 0 ? DTCP_CAP_ALL : 0;

	if (keep_bind_service)
		caps |= DTCP_CAP_NET_BIND_SERVICE;
	else
		caps &= ~DTCP_CAP_NET_BIND_SERVICE;
	dtcp_cred_set(op_begin(self), uid, caps);
	return 0;
}

/* Time passes 1 ms at a time, the stack settling after each step, so every
 * timer fires at its own millisecond and what it sends is handled before the
 * next one is due. */
static void dt_wait_ms(struct conf_env *self, unsigned ms)
{
	struct dtcp_stack *st = op_begin(self);

	for (unsigned i = 0; i < ms; i++) {
		denv(self)->now_ns += NS_PER_MS;
		denv(self)->reads = 0;
		settle(st);
	}
}

const struct conf_ops conf_dtcp_ops = {
	.name = "dtcp",
	.has = CONF_ENGINE | CONF_PEERNAME | CONF_CREDS,
	.create = dt_create,
	.destroy = dt_destroy,
	.socket = dt_socket,
	.bind = dt_bind,
	.connect = dt_connect,
	.listen = dt_listen,
	.accept = dt_accept,
	.close = dt_close,
	.setsockopt = dt_setsockopt,
	.getsockopt = dt_getsockopt,
	.getsockname = dt_getsockname,
	.getpeername = dt_getpeername,
	.sendto = dt_sendto,
	.sendmsg = dt_sendmsg,
	.recvmsg = dt_recvmsg,
	.sysctl_write = dt_sysctl_write,
	.addr_add = dt_addr_add,
	.addr_del = dt_addr_del,
	.cred_set = dt_cred_set,
	.wait_ms = dt_wait_ms,
};

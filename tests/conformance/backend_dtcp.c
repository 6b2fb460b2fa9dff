/* The dtcp backend: one in-process stack per environment, driven through the
 * public API of <dtcp/dtcp.h>. The one exception is connect(), which has no
 * public entry before the TCP engine lands (dt_connect below).
 * Without an engine it lacks accept(), send, TIME_WAIT production and
 * getpeername(); cases needing them are skipped for this backend. */
#include "backend.h"

#include <dtcp/dtcp.h>
#include <errno.h>
#include <stdlib.h>

#include "inet/inet_ops.h"
#include "sock/socket_table.h"
#include "stack.h"

struct dtcp_env {
	struct conf_env base;
	struct dtcp_stack *st;
};

static struct dtcp_stack *stk(struct conf_env *self)
{
	return ((struct dtcp_env *)self)->st;
}

/* The public API's -1/errno, back to the ops' -errno. */
static int ret(int r)
{
	return r < 0 ? -errno : r;
}

static int dt_create(const struct conf_ops *self, struct conf_env **envp)
{
	/* Small tables: a case opens a few dozen sockets at most. */
	const struct dtcp_stack_config cfg = { .max_sockets = 1024 };
	struct dtcp_env *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->base.ops = self;
	e->st = dtcp_stack_new_config(&cfg);
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
	dtcp_stack_free(stk(self));
	free(self);
}

static int dt_socket(struct conf_env *self, int family, int type)
{
	return ret(dtcp_socket(stk(self), family, type, 0));
}

static int dt_bind(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	return ret(dtcp_bind(stk(self), fd, sa, len));
}

/* connect() up to SYN_SENT: every check, the source address and the port
 * selection, and nothing of the handshake. The one use of dtcp internals:
 * this function becomes a call to dtcp_connect() when the TCP engine lands. */
static int dt_connect(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct dtcp_stack *st = stk(self);
	struct inet_sock *sk = socket_table_get(&st->socks, fd);

	if (!sk)
		return -EBADF;
	return inet_connect(st, sk, sa, len);
}

static int dt_listen(struct conf_env *self, int fd, int backlog)
{
	return ret(dtcp_listen(stk(self), fd, backlog));
}

static int dt_close(struct conf_env *self, int fd)
{
	return ret(dtcp_close(stk(self), fd));
}

static int dt_setsockopt(struct conf_env *self, int fd, int level, int name,
                         const void *val, socklen_t len)
{
	return ret(dtcp_setsockopt(stk(self), fd, level, name, val, len));
}

static int dt_getsockopt(struct conf_env *self, int fd, int level, int name,
                         void *val, socklen_t *len)
{
	return ret(dtcp_getsockopt(stk(self), fd, level, name, val, len));
}

static int dt_getsockname(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len)
{
	return ret(dtcp_getsockname(stk(self), fd, sa, len));
}

static int dt_sysctl_write(struct conf_env *self, const char *name, const char *value)
{
	return ret(dtcp_sysctl_set(stk(self), name, value));
}

static int dt_addr_add(struct conf_env *self, const char *cidr)
{
	return ret(dtcp_addr_add(stk(self), "lo", cidr));
}

static int dt_addr_del(struct conf_env *self, const char *cidr)
{
	return ret(dtcp_addr_del(stk(self), "lo", cidr));
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
	dtcp_cred_set(stk(self), uid, caps);
	return 0;
}

const struct conf_ops conf_dtcp_ops = {
	.name = "dtcp",
	.has = 0,
	.create = dt_create,
	.destroy = dt_destroy,
	.socket = dt_socket,
	.bind = dt_bind,
	.connect = dt_connect,
	.listen = dt_listen,
	.close = dt_close,
	.setsockopt = dt_setsockopt,
	.getsockopt = dt_getsockopt,
	.getsockname = dt_getsockname,
	.sysctl_write = dt_sysctl_write,
	.addr_add = dt_addr_add,
	.addr_del = dt_addr_del,
	.cred_set = dt_cred_set,
};

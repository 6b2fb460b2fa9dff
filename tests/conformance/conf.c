/* Running one case on one backend: the context, the helpers case bodies call
 * and the checks that record what they observe (see conf.h). One case at a
 * time per process. */
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct conf_ctx {
	const struct conf_case *cs;
	const struct conf_ops *ops;
	struct conf_env *env;
	struct conf_result *res;
	char text[8][INET6_ADDRSTRLEN + 16];  /* ring for conf_addr()/conf_name() */
	unsigned text_next;
};

const struct conf_ops *const conf_backends[] = {
	&conf_kernel_ops,
	&conf_dtcp_ops,
#ifdef CONF_HAVE_LWIP
	&conf_lwip_ops,
#endif
};
const size_t conf_nbackends = sizeof(conf_backends) / sizeof(conf_backends[0]);

const struct conf_case *conf_case_lookup(const char *name)
{
	for (size_t i = 0; i < conf_ncases; i++)
		if (!strcmp(conf_cases[i].name, name))
			return &conf_cases[i];
	return NULL;
}

const struct conf_ops *conf_backend_lookup(const char *name)
{
	for (size_t i = 0; i < conf_nbackends; i++)
		if (!strcmp(conf_backends[i]->name, name))
			return conf_backends[i];
	return NULL;
}

unsigned conf_missing(const struct conf_case *cs, const struct conf_ops *ops)
{
	return cs->needs & ~ops->has;
}

const char *conf_feature_names(unsigned bits, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ CONF_ENGINE, "engine" }, { CONF_UDP, "udp" }, { CONF_PEERNAME, "getpeername" },
		{ CONF_CREDS, "credentials" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bits & names[i].bit)
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s",
			                        off ? ", " : "", names[i].name);
	return buf;
}

const char *conf_errno_name(int err)
{
	static __thread char buf[16];
	const char *n;

	if (err == 0)
		return "0";
	n = err > 0 ? strerrorname_np(err) : NULL;
	if (n)
		return n;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* ---- recording ---- */

static void text_append(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_append(char *buf, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= CONF_TEXT_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, CONF_TEXT_MAX - used, fmt, ap);
	va_end(ap);
}

static const char *base_name(const char *file)
{
	const char *s = strrchr(file, '/');

	return s ? s + 1 : file;
}

void conf_observe(struct conf_ctx *c, const char *fmt, ...)
{
	char v[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	text_append(c->res->obs, "%s%s", c->res->obs[0] ? " " : "", v);
}

static void record_fail(struct conf_ctx *c, const char *file, int line, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	c->res->failed++;
	text_append(c->res->fail, "%s:%d: %s\n", base_name(file), line, msg);
}

static void check_failed(struct conf_ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void check_failed(struct conf_ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_fail(c, file, line, fmt, ap);
	va_end(ap);
}

/* A failure outside the checks counts as a failed check of its own. */
void conf_fail(struct conf_ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	c->res->checks++;
	va_start(ap, fmt);
	record_fail(c, file, line, fmt, ap);
	va_end(ap);
}

static bool check(struct conf_ctx *c, bool ok)
{
	c->res->checks++;
	return ok;
}

bool conf_expect_err(struct conf_ctx *c, const char *file, int line, const char *expr, int got, int want)
{
	conf_observe(c, "%s", conf_errno_name(got));
	if (check(c, got == want))
		return true;
	check_failed(c, file, line, "%s = %s, want %s", expr, conf_errno_name(got), conf_errno_name(want));
	return false;
}

bool conf_expect_eq(struct conf_ctx *c, const char *file, int line, const char *expr, long got, long want)
{
	conf_observe(c, "%ld", got);
	if (check(c, got == want))
		return true;
	check_failed(c, file, line, "%s = %ld, want %ld", expr, got, want);
	return false;
}

bool conf_expect_str(struct conf_ctx *c, const char *file, int line, const char *expr,
                     const char *got, const char *want)
{
	conf_observe(c, "%s", got);
	if (check(c, !strcmp(got, want)))
		return true;
	check_failed(c, file, line, "%s = %s, want %s", expr, got, want);
	return false;
}

bool conf_expect_true(struct conf_ctx *c, const char *file, int line, const char *expr, bool ok, long v)
{
	conf_observe(c, "%ld", v);
	if (check(c, ok))
		return true;
	check_failed(c, file, line, "%s is false (value %ld)", expr, v);
	return false;
}

/* A helper's own call failed where the case did not expect it to. */
#define HELPER_FAIL(c, ...) conf_fail((c), __FILE__, __LINE__, __VA_ARGS__)

/* ---- running ---- */

int conf_run(const struct conf_case *cs, const struct conf_ops *ops, struct conf_result *res)
{
	struct conf_ctx c = { .cs = cs, .ops = ops, .res = res };
	int r;

	memset(res, 0, sizeof(*res));
	r = ops->create(ops, &c.env);
	if (r < 0) {
		HELPER_FAIL(&c, "%s backend: cannot create the environment: %s", ops->name,
		            conf_errno_name(-r));
		return res->failed;
	}
	cs->run(&c);
	ops->destroy(c.env);
	return res->failed;
}

/* Read exactly len bytes; false on a short read. */
static bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

pid_t conf_run_start(const struct conf_case *cs, const struct conf_ops *ops, int *rfd)
{
	static struct conf_result res;
	int pfd[2];
	pid_t pid;

	if (pipe(pfd) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		/* SIGALRM's default action ends the child, whatever its threads do. */
		signal(SIGALRM, SIG_DFL);
		alarm(ops->run_timeout_s ? ops->run_timeout_s : CONF_RUN_TIMEOUT_S);
		conf_run(cs, ops, &res);
		write_all(pfd[1], &res, sizeof(res));
		_exit(0);
	}
	close(pfd[1]);
	*rfd = pfd[0];
	return pid;
}

bool conf_run_finish(pid_t pid, int rfd, struct conf_result *res, char *why, size_t whylen)
{
	int status = 0;
	bool got = read_all(rfd, res, sizeof(*res));

	close(rfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got)
		return true;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(why, whylen, "TIMEOUT");
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "CRASH (%s)", strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "exited with status %d", WEXITSTATUS(status));
	return false;
}

bool conf_run_isolated(const struct conf_case *cs, const struct conf_ops *ops,
                       struct conf_result *res, char *why, size_t whylen)
{
	int rfd;
	pid_t pid = conf_run_start(cs, ops, &rfd);

	if (pid < 0) {
		snprintf(why, whylen, "fork failed: %s", conf_errno_name(errno));
		return false;
	}
	return conf_run_finish(pid, rfd, res, why, whylen);
}

const void *conf_arg(const struct conf_ctx *c)
{
	return c->cs->arg;
}

/* ---- helpers ---- */

socklen_t conf_sockaddr(const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return 0;
		return sizeof(*sin6);
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return 0;
	return sizeof(*sin);
}

static socklen_t make_addr(struct conf_ctx *c, const char *addr, int port, struct sockaddr_storage *ss)
{
	socklen_t len = conf_sockaddr(addr, port, ss);

	if (!len)
		HELPER_FAIL(c, "bad address text \"%s\" in the case", addr);
	return len;
}

static int pos(int r)
{
	return r < 0 ? -r : 0;
}

int conf_socket_type(struct conf_ctx *c, int family, int type, const char *opts)
{
	int fd = c->ops->socket(c->env, family, type);

	if (fd < 0) {
		HELPER_FAIL(c, "socket(%s, %d): %s", family == AF_INET ? "AF_INET" : "AF_INET6", type,
		            conf_errno_name(-fd));
		return -1;
	}
	for (const char *o = opts ? opts : ""; *o; o++) {
		int level, name, r;

		switch (*o) {
		case 'r': level = SOL_SOCKET; name = SO_REUSEADDR; break;
		case 'p': level = SOL_SOCKET; name = SO_REUSEPORT; break;
		case 'n': level = SOL_IP; name = IP_BIND_ADDRESS_NO_PORT; break;
		case '6': level = SOL_IPV6; name = IPV6_V6ONLY; break;
		case 'f': level = SOL_IP; name = IP_FREEBIND; break;
		default:
			HELPER_FAIL(c, "unknown socket option letter '%c' in the case", *o);
			continue;
		}
		r = conf_setsockopt_int(c, fd, level, name, 1);
		if (r)
			HELPER_FAIL(c, "socket option '%c': %s", *o, conf_errno_name(r));
	}
	return fd;
}

int conf_socket(struct conf_ctx *c, int family, const char *opts)
{
	return conf_socket_type(c, family, SOCK_STREAM, opts);
}

int conf_bind(struct conf_ctx *c, int fd, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c, addr, port, &ss);

	return conf_bind_sa(c, fd, &ss, len);
}

int conf_connect(struct conf_ctx *c, int fd, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c, addr, port, &ss);

	return conf_connect_sa(c, fd, &ss, len);
}

int conf_bind_sa(struct conf_ctx *c, int fd, const void *sa, socklen_t len)
{
	return pos(c->ops->bind(c->env, fd, sa, len));
}

int conf_connect_sa(struct conf_ctx *c, int fd, const void *sa, socklen_t len)
{
	return pos(c->ops->connect(c->env, fd, sa, len));
}

int conf_listen(struct conf_ctx *c, int fd)
{
	return pos(c->ops->listen(c->env, fd, 4096));
}

int conf_close(struct conf_ctx *c, int fd)
{
	return pos(c->ops->close(c->env, fd));
}

int conf_setsockopt(struct conf_ctx *c, int fd, int level, int name, const void *val, socklen_t len)
{
	return pos(c->ops->setsockopt(c->env, fd, level, name, val, len));
}

int conf_setsockopt_int(struct conf_ctx *c, int fd, int level, int name, int val)
{
	return conf_setsockopt(c, fd, level, name, &val, sizeof(val));
}

int conf_getsockopt(struct conf_ctx *c, int fd, int level, int name, void *val, socklen_t *len)
{
	return pos(c->ops->getsockopt(c->env, fd, level, name, val, len));
}

int conf_getsockopt_int(struct conf_ctx *c, int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);
	int r = conf_getsockopt(c, fd, level, name, &v, &len);

	if (r) {
		HELPER_FAIL(c, "getsockopt(%d, %d): %s", level, name, conf_errno_name(r));
		return -1;
	}
	return v;
}

int conf_getsockname(struct conf_ctx *c, int fd, void *sa, socklen_t *len)
{
	return pos(c->ops->getsockname(c->env, fd, sa, len));
}

int conf_getpeername(struct conf_ctx *c, int fd, void *sa, socklen_t *len)
{
	if (!c->ops->getpeername)
		return ENOSYS;
	return pos(c->ops->getpeername(c->env, fd, sa, len));
}

int conf_sendto(struct conf_ctx *c, int fd, const char *addr, int port, int flags)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(c, addr, port, &ss);
	static const char byte = 'x';

	if (!c->ops->sendto)
		return ENOSYS;
	return pos(c->ops->sendto(c->env, fd, &byte, 1, flags, (struct sockaddr *)&ss, len));
}

int conf_sendmsg(struct conf_ctx *c, int fd, const struct msghdr *m, int flags, ssize_t *n)
{
	ssize_t r = c->ops->sendmsg ? c->ops->sendmsg(c->env, fd, m, flags) : -ENOSYS;

	*n = r < 0 ? -1 : r;
	return r < 0 ? (int)-r : 0;
}

int conf_recvmsg(struct conf_ctx *c, int fd, struct msghdr *m, int flags, ssize_t *n)
{
	ssize_t r = c->ops->recvmsg ? c->ops->recvmsg(c->env, fd, m, flags) : -ENOSYS;

	*n = r < 0 ? -1 : r;
	return r < 0 ? (int)-r : 0;
}

int conf_sysctl_try(struct conf_ctx *c, const char *name, const char *value)
{
	return pos(c->ops->sysctl_write(c->env, name, value));
}

static char *text_slot(struct conf_ctx *c)
{
	return c->text[c->text_next++ % (sizeof(c->text) / sizeof(c->text[0]))];
}

/* Address text and port of a sockaddr; false for an unknown family. */
static bool sa_text(const struct sockaddr_storage *ss, char *buf, size_t len, int *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len);
		*port = ntohs(sin->sin_port);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t)len);
		*port = ntohs(sin6->sin6_port);
		return true;
	}
	return false;
}

static bool sockname(struct conf_ctx *c, int fd, char *buf, size_t len, int *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int r = conf_getsockname(c, fd, &ss, &sl);

	if (r || !sa_text(&ss, buf, len, port)) {
		HELPER_FAIL(c, "getsockname(%d): %s", fd, r ? conf_errno_name(r) : "unknown family");
		return false;
	}
	return true;
}

int conf_port(struct conf_ctx *c, int fd)
{
	char buf[INET6_ADDRSTRLEN];
	int port;

	return sockname(c, fd, buf, sizeof(buf), &port) ? port : -1;
}

const char *conf_addr(struct conf_ctx *c, int fd)
{
	char *buf = text_slot(c);
	int port;

	if (!sockname(c, fd, buf, INET6_ADDRSTRLEN, &port))
		strcpy(buf, "?");
	return buf;
}

const char *conf_name(struct conf_ctx *c, int fd)
{
	char *buf = text_slot(c), a[INET6_ADDRSTRLEN];
	int port;

	if (!sockname(c, fd, a, sizeof(a), &port))
		return strcpy(buf, "?");
	snprintf(buf, INET6_ADDRSTRLEN + 16, strchr(a, ':') ? "[%s]:%d" : "%s:%d", a, port);
	return buf;
}

const char *conf_peer_addr(struct conf_ctx *c, int fd)
{
	char *buf = text_slot(c);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int port, r = conf_getpeername(c, fd, &ss, &sl);

	if (r || !sa_text(&ss, buf, INET6_ADDRSTRLEN, &port)) {
		HELPER_FAIL(c, "getpeername(%d): %s", fd, r ? conf_errno_name(r) : "unknown family");
		strcpy(buf, "?");
	}
	return buf;
}

void conf_sysctl(struct conf_ctx *c, const char *name, const char *value)
{
	int r = conf_sysctl_try(c, name, value);

	if (r)
		HELPER_FAIL(c, "sysctl %s=\"%s\": %s", name, value, conf_errno_name(r));
}

void conf_port_range(struct conf_ctx *c, int lo, int hi)
{
	char v[32];

	snprintf(v, sizeof(v), "%d %d", lo, hi);
	conf_sysctl(c, "net.ipv4.ip_local_port_range", v);
}

int conf_listener(struct conf_ctx *c, const char *addr, int port)
{
	int fd = conf_socket(c, strchr(addr, ':') ? AF_INET6 : AF_INET, NULL), r;

	r = conf_bind(c, fd, addr, port);
	if (!r)
		r = conf_listen(c, fd);
	if (r)
		HELPER_FAIL(c, "listener %s:%d: %s", addr, port, conf_errno_name(r));
	return fd;
}

void conf_addr_add(struct conf_ctx *c, const char *cidr)
{
	int r = pos(c->ops->addr_add(c->env, cidr));

	if (r)
		HELPER_FAIL(c, "add %s to lo: %s", cidr, conf_errno_name(r));
}

void conf_addr_del(struct conf_ctx *c, const char *cidr)
{
	int r = pos(c->ops->addr_del(c->env, cidr));

	if (r)
		HELPER_FAIL(c, "remove %s from lo: %s", cidr, conf_errno_name(r));
}

void conf_cred(struct conf_ctx *c, uid_t uid, bool keep_bind_service)
{
	int r = pos(c->ops->cred_set(c->env, uid, keep_bind_service));

	if (r)
		HELPER_FAIL(c, "credentials uid %u: %s", (unsigned)uid, conf_errno_name(r));
}

int conf_accept(struct conf_ctx *c, int fd)
{
	int r = c->ops->accept ? c->ops->accept(c->env, fd) : -ENOSYS;

	if (r < 0) {
		HELPER_FAIL(c, "accept(%d): %s", fd, conf_errno_name(-r));
		return -1;
	}
	return r;
}

void conf_wait_ms(struct conf_ctx *c, unsigned ms)
{
	if (c->ops->wait_ms)
		c->ops->wait_ms(c->env, ms);
	else
		HELPER_FAIL(c, "the %s backend cannot let time pass", c->ops->name);
}

int conf_noport_connect(struct conf_ctx *c, const char *src, const char *opts,
                        const char *dst, int dport, int *err)
{
	char o[8];
	int fd, r;

	snprintf(o, sizeof(o), "n%s", opts ? opts : "");
	fd = conf_socket(c, strchr(dst, ':') ? AF_INET6 : AF_INET, o);
	if (src && (r = conf_bind(c, fd, src, 0)))
		HELPER_FAIL(c, "no-port bind %s: %s", src, conf_errno_name(r));
	*err = conf_connect(c, fd, dst, dport);
	return fd;
}

/* The conformance cases and what they are written with: the case table
 * (cases.c), a context that runs one case on one backend, and helpers that
 * call the backend's ops and record what they observe. A case sees only what
 * the socket API shows. A failed check is recorded and the case goes on, so
 * one run lists every difference. */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "backend.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

struct conf_ctx;

struct conf_case {
	const char *name;         /* spec section 8's name, or wildcard_<first>_<second> */
	const char *spec;         /* where the expectation comes from: "8.2", "bind_wildcard" */
	unsigned needs;           /* enum conf_feature bits the case cannot run without */
	void (*run)(struct conf_ctx *c);
	const void *arg;          /* for table-driven cases: conf_arg() */
};

extern const struct conf_case conf_cases[];
extern const size_t conf_ncases;

const struct conf_case *conf_case_lookup(const char *name);
const struct conf_ops *conf_backend_lookup(const char *name);
/* Features the case needs that the backend lacks (0: it can run). */
unsigned conf_missing(const struct conf_case *cs, const struct conf_ops *ops);
/* "engine, getpeername": the names of the feature bits. */
const char *conf_feature_names(unsigned bits, char *buf, size_t len);

#define CONF_TEXT_MAX 2048

struct conf_result {
	int checks;               /* checks made */
	int failed;               /* checks that failed */
	char fail[CONF_TEXT_MAX]; /* one line per failed check */
	char obs[CONF_TEXT_MAX];  /* the value each check observed, in order */
};

/* Run one case on one backend in the calling process (which it may change for
 * good: a kernel environment unshares the network namespace). Returns the
 * number of failed checks; a backend that cannot create its environment
 * counts as one. */
int conf_run(const struct conf_case *cs, const struct conf_ops *ops, struct conf_result *res);

/* Seconds a run in its own process may take unless its backend says
 * otherwise (conf_ops.run_timeout_s). */
#define CONF_RUN_TIMEOUT_S 20

/* conf_run() in a child process, so that a crash, a hang (killed after the
 * backend's timeout) or a changed namespace cannot touch the caller. false:
 * no result; *why says "TIMEOUT", "CRASH (signal)" or how it ended.
 * conf_run_start() forks and returns the child (-1: errno) and the pipe its
 * result comes on; conf_run_finish() waits for both, so several runs can be
 * under way at once. */
bool conf_run_isolated(const struct conf_case *cs, const struct conf_ops *ops,
                       struct conf_result *res, char *why, size_t whylen);
pid_t conf_run_start(const struct conf_case *cs, const struct conf_ops *ops, int *rfd);
bool conf_run_finish(pid_t pid, int rfd, struct conf_result *res, char *why, size_t whylen);

/* The running case's arg. */
const void *conf_arg(const struct conf_ctx *c);

/* ---- helpers for case bodies ----
 * Addresses are text; a ':' makes them IPv6 ("::ffff:127.0.0.1" included).
 * Calls that a case does not check themselves (socket(), set-up sysctls,
 * listeners) record a failure when they fail. */

/* A SOCK_STREAM socket with options: 'r' SO_REUSEADDR, 'p' SO_REUSEPORT,
 * 'n' IP_BIND_ADDRESS_NO_PORT, '6' IPV6_V6ONLY, 'f' IP_FREEBIND. */
int conf_socket(struct conf_ctx *c, int family, const char *opts);
int conf_socket_type(struct conf_ctx *c, int family, int type, const char *opts);

/* These return 0 or the errno (positive), for CONF_EXPECT_ERR. */
int conf_bind(struct conf_ctx *c, int fd, const char *addr, int port);
int conf_connect(struct conf_ctx *c, int fd, const char *addr, int port);
int conf_bind_sa(struct conf_ctx *c, int fd, const void *sa, socklen_t len);
int conf_connect_sa(struct conf_ctx *c, int fd, const void *sa, socklen_t len);
int conf_listen(struct conf_ctx *c, int fd);
int conf_close(struct conf_ctx *c, int fd);
int conf_setsockopt(struct conf_ctx *c, int fd, int level, int name, const void *val, socklen_t len);
int conf_setsockopt_int(struct conf_ctx *c, int fd, int level, int name, int val);
int conf_getsockopt(struct conf_ctx *c, int fd, int level, int name, void *val, socklen_t *len);
int conf_getsockname(struct conf_ctx *c, int fd, void *sa, socklen_t *len);
int conf_getpeername(struct conf_ctx *c, int fd, void *sa, socklen_t *len);
int conf_sendto(struct conf_ctx *c, int fd, const char *addr, int port, int flags);
int conf_sysctl_try(struct conf_ctx *c, const char *name, const char *value);
/* sendmsg()/recvmsg(): 0 or the errno; the byte count goes to *n. */
int conf_sendmsg(struct conf_ctx *c, int fd, const struct msghdr *m, int flags, ssize_t *n);
int conf_recvmsg(struct conf_ctx *c, int fd, struct msghdr *m, int flags, ssize_t *n);

/* The option's int value (getsockopt failure recorded, -1 returned). */
int conf_getsockopt_int(struct conf_ctx *c, int fd, int level, int name);
/* getsockname()'s port (-1 on failure) and address as text ("?"), and both
 * as "127.0.0.1:40000" / "[::1]:0". Text lives until a few calls later. */
int conf_port(struct conf_ctx *c, int fd);
const char *conf_addr(struct conf_ctx *c, int fd);
const char *conf_name(struct conf_ctx *c, int fd);
/* getpeername()'s address as text. */
const char *conf_peer_addr(struct conf_ctx *c, int fd);
/* A sockaddr from text, as the helpers build it; returns its length. */
socklen_t conf_sockaddr(const char *addr, int port, struct sockaddr_storage *ss);

/* Set-up that must succeed (failure recorded). */
void conf_sysctl(struct conf_ctx *c, const char *name, const char *value);
void conf_port_range(struct conf_ctx *c, int lo, int hi);
int conf_listener(struct conf_ctx *c, const char *addr, int port);
void conf_addr_add(struct conf_ctx *c, const char *cidr);
void conf_addr_del(struct conf_ctx *c, const char *cidr);
void conf_cred(struct conf_ctx *c, uid_t uid, bool keep_bind_service);
int conf_accept(struct conf_ctx *c, int fd);
void conf_wait_ms(struct conf_ctx *c, unsigned ms);
/* A no-port socket ('n' plus opts) bound to src:0 (NULL: left unbound),
 * connected to dst:dport; the connect() result goes to *err. */
int conf_noport_connect(struct conf_ctx *c, const char *src, const char *opts,
                        const char *dst, int dport, int *err);

/* Checks. Each records the value it observed; a failure records
 * "file:line: expression = observed, want expected". */
#define CONF_EXPECT_ERR(c, expr, want) \
	conf_expect_err((c), __FILE__, __LINE__, #expr, (expr), (want))
#define CONF_EXPECT_EQ(c, expr, want) \
	conf_expect_eq((c), __FILE__, __LINE__, #expr, (long)(expr), (long)(want))
#define CONF_EXPECT_STR(c, expr, want) \
	conf_expect_str((c), __FILE__, __LINE__, #expr, (expr), (want))
/* A property of an observed value v, printed with %ld. */
#define CONF_EXPECT_TRUE(c, cond, v) \
	conf_expect_true((c), __FILE__, __LINE__, #cond, !!(cond), (long)(v))

bool conf_expect_err(struct conf_ctx *c, const char *file, int line, const char *expr, int got, int want);
bool conf_expect_eq(struct conf_ctx *c, const char *file, int line, const char *expr, long got, long want);
bool conf_expect_str(struct conf_ctx *c, const char *file, int line, const char *expr,
                     const char *got, const char *want);
bool conf_expect_true(struct conf_ctx *c, const char *file, int line, const char *expr, bool ok, long v);
/* Record an observed value that no check records itself. */
void conf_observe(struct conf_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a failure that no single check expresses (counts as a check). */
void conf_fail(struct conf_ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "EADDRINUSE", or "0" for success. */
const char *conf_errno_name(int err);

#endif

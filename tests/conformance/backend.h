/* The conformance suite's backend interface: the socket calls and the
 * environment set-up a case may use, as one const ops table per backend
 * (backend_kernel.c, backend_dtcp.c, backend_lwip.c). Every op takes the environment as
 * `self` and returns 0 (or a descriptor) or -errno. One environment serves
 * one case, in one process, on one thread. */
#ifndef CONF_BACKEND_H
#define CONF_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* What a backend can do beyond bind()/connect()'s port tables. A case lists
 * the features it needs; where a backend lacks one, the case is reported as
 * skipped for that backend, never run. */
enum conf_feature {
	CONF_ENGINE   = 1u << 0,  /* a TCP engine: handshakes complete, accept(), RST
	                             (ECONNREFUSED), close sequences, TIME_WAIT, send */
	CONF_UDP      = 1u << 1,  /* SOCK_DGRAM sockets */
	CONF_PEERNAME = 1u << 2,  /* getpeername() */
	CONF_CREDS    = 1u << 3,  /* cred_set(): uids and CAP_NET_BIND_SERVICE checked */
};

/* Base of every backend's environment; backends embed it first. */
struct conf_env {
	const struct conf_ops *ops;
};

struct conf_ops {
	const char *name;
	unsigned has;             /* enum conf_feature bits */
	/* Reported for comparison only: its runs never fail the suite. */
	bool compare_only;
	/* Seconds one case may take before its run is killed (0: the default). */
	unsigned run_timeout_s;

	/* A fresh environment: loopback up with 127.0.0.1/8 and ::1, default
	 * sysctls, acting as uid 0 with every capability. */
	int (*create)(const struct conf_ops *self, struct conf_env **envp);
	void (*destroy)(struct conf_env *self);

	int (*socket)(struct conf_env *self, int family, int type);
	int (*bind)(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len);
	/* Returns when the connection is established or has failed. */
	int (*connect)(struct conf_env *self, int fd, const struct sockaddr *sa, socklen_t len);
	int (*listen)(struct conf_env *self, int fd, int backlog);
	int (*accept)(struct conf_env *self, int fd);                       /* CONF_ENGINE */
	int (*close)(struct conf_env *self, int fd);
	int (*setsockopt)(struct conf_env *self, int fd, int level, int name,
	                  const void *val, socklen_t len);
	int (*getsockopt)(struct conf_env *self, int fd, int level, int name,
	                  void *val, socklen_t *len);
	int (*getsockname)(struct conf_env *self, int fd, struct sockaddr *sa, socklen_t *len);
	int (*getpeername)(struct conf_env *self, int fd, struct sockaddr *sa,
	                   socklen_t *len);                                 /* CONF_PEERNAME */
	int (*sendto)(struct conf_env *self, int fd, const void *buf, size_t n, int flags,
	              const struct sockaddr *sa, socklen_t len);           /* CONF_ENGINE */
	/* Byte counts, or -errno; a blocking call returns once it can. */
	ssize_t (*sendmsg)(struct conf_env *self, int fd, const struct msghdr *m, int flags); /* CONF_ENGINE */
	ssize_t (*recvmsg)(struct conf_env *self, int fd, struct msghdr *m, int flags);       /* CONF_ENGINE */

	/* "net.ipv4.ip_local_port_range", "40000 40000": as a write to /proc/sys. */
	int (*sysctl_write)(struct conf_env *self, const char *name, const char *value);
	/* Addresses of the loopback interface, "127.0.0.1/32". */
	int (*addr_add)(struct conf_env *self, const char *cidr);
	int (*addr_del)(struct conf_env *self, const char *cidr);
	/* Later calls act as euid uid, with CAP_NET_BIND_SERVICE only if
	 * keep_bind_service, and every capability for uid 0 with it kept. */   /* CONF_CREDS */
	int (*cred_set)(struct conf_env *self, uid_t uid, bool keep_bind_service);
	/* Let ms milliseconds pass for the stack's timers. */
	void (*wait_ms)(struct conf_env *self, unsigned ms);                /* CONF_ENGINE */
};

extern const struct conf_ops conf_kernel_ops;
extern const struct conf_ops conf_dtcp_ops;
#ifdef CONF_HAVE_LWIP
extern const struct conf_ops conf_lwip_ops;
#endif

/* Every backend, in report order. */
extern const struct conf_ops *const conf_backends[];
extern const size_t conf_nbackends;

#endif

/* The conformance cases: spec/kernel-bind-connect.md section 8 (names as
 * there) and the bind_wildcard selftest matrix, each written once against
 * the helpers of conf.h and run unchanged on every backend. The table at the
 * end is the list; adding a case is one entry there (see README.md).
 *
 * Exact ports are asserted only where the algorithm makes them
 * deterministic; otherwise the properties of section 8 (range, parity,
 * sharing, deltas, errno). Listeners exist for every connect() so that it
 * completes: connect() returns once the handshake has ended. */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/time.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

#define NO_PORT SOL_IP, IP_BIND_ADDRESS_NO_PORT
#define LPR SOL_IP, IP_LOCAL_PORT_RANGE
#define V6ONLY SOL_IPV6, IPV6_V6ONLY

/* The default ip_local_port_range. */
#define RANGE_LO 32768
#define RANGE_HI 60999

static bool in_default_range(int p)
{
	return p >= RANGE_LO && p <= RANGE_HI;
}

static bool is_odd(int p)
{
	return p > 0 && (p & 1);
}

static bool is_even(int p)
{
	return p > 0 && !(p & 1);
}

/* IP_LOCAL_PORT_RANGE's value: lo in the low 16 bits, hi in the high. */
static int lpr(unsigned lo, unsigned hi)
{
	return (int)(lo | hi << 16);
}

/* A socket of the address's family with opts, bound to addr:port; the
 * bind() result to *err. */
static int bound(struct conf_ctx *c, const char *addr, int port, const char *opts, int *err)
{
	int fd = conf_socket(c, strchr(addr, ':') ? AF_INET6 : AF_INET, opts);

	*err = conf_bind(c, fd, addr, port);
	return fd;
}

/* ---- 8.1 option handling ---- */

static void opt_default_zero(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL), v = -1;
	socklen_t len = sizeof(v);

	CONF_EXPECT_ERR(c, conf_getsockopt(c, fd, NO_PORT, &v, &len), 0);
	CONF_EXPECT_EQ(c, v, 0);
	CONF_EXPECT_EQ(c, len, 4);
}

static void opt_set_get(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL);

	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 1), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 1);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 0), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 0);
}

static void opt_nonzero_normalised(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL);

	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 42), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 1);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 0), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, -1), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 1);
}

static void opt_short_optlen(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL), one = 1;
	unsigned char b1 = 1, b2[2] = { 0, 1 };

	CONF_EXPECT_ERR(c, conf_setsockopt(c, fd, NO_PORT, &b1, 1), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 1);
	/* Only the first byte counts: {0, 1} clears. */
	CONF_EXPECT_ERR(c, conf_setsockopt(c, fd, NO_PORT, b2, 2), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 0);
	/* optlen 0 reads as 0: clears, no EINVAL. */
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 1), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt(c, fd, NO_PORT, &one, 0), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 0);
}

static void opt_getsockopt_lengths(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL), v;
	unsigned char buf[8];
	socklen_t len;

	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 1), 0);
	memset(buf, 0xaa, sizeof(buf));
	len = 1;
	CONF_EXPECT_ERR(c, conf_getsockopt(c, fd, NO_PORT, buf, &len), 0);
	CONF_EXPECT_EQ(c, len, 1);
	CONF_EXPECT_EQ(c, buf[0], 1);
	memset(buf, 0xaa, sizeof(buf));
	len = 0;
	CONF_EXPECT_ERR(c, conf_getsockopt(c, fd, NO_PORT, buf, &len), 0);
	CONF_EXPECT_EQ(c, len, 0);
	CONF_EXPECT_EQ(c, buf[0], 0xaa);
	len = 8;
	CONF_EXPECT_ERR(c, conf_getsockopt(c, fd, NO_PORT, buf, &len), 0);
	CONF_EXPECT_EQ(c, len, 4);
	memcpy(&v, buf, sizeof(v));
	CONF_EXPECT_EQ(c, v, 1);
	len = (socklen_t)-1;
	CONF_EXPECT_ERR(c, conf_getsockopt(c, fd, NO_PORT, buf, &len), EINVAL);
}

static void opt_v6_sol_ip(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET6, NULL);

	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 1), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 1);
	/* Optname 24 at SOL_IPV6 is IPV6_MTU, another option. */
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, SOL_IPV6, IPV6_MTU, 1), EINVAL);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, NO_PORT), 1);
}

static void opt_set_after_bind_no_effect(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL), p;

	conf_listener(c, "127.0.0.2", 5000);
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.1", 0), 0);
	p = conf_port(c, fd);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, NO_PORT, 1), 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), p);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), p);
}

static void opt_explicit_port_unaffected(struct conf_ctx *c)
{
	int a = conf_socket(c, AF_INET, "n"), b = conf_socket(c, AF_INET, NULL);

	CONF_EXPECT_ERR(c, conf_bind(c, a, "127.0.0.1", 5000), 0);
	CONF_EXPECT_EQ(c, conf_port(c, a), 5000);
	CONF_EXPECT_ERR(c, conf_bind(c, b, "127.0.0.1", 5000), EADDRINUSE);
}

static void opt_udp_also_defers(struct conf_ctx *c)
{
	int fd = conf_socket_type(c, AF_INET, SOCK_DGRAM, "n"), p;

	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.1", 0), 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 0);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, in_default_range(p), p);
}

/* ---- 8.2 bind(0) without the option, ranges, sysctls ---- */

static void bind0_odd_in_range(struct conf_ctx *c)
{
	for (int i = 0; i < 32; i++) {
		int fd = conf_socket(c, AF_INET, NULL), p;

		CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.1", 0), 0);
		p = conf_port(c, fd);
		CONF_EXPECT_TRUE(c, is_odd(p) && in_default_range(p), p);
	}
}

static void bind0_reuseaddr_lower_half(struct conf_ctx *c)
{
	for (int i = 0; i < 32; i++) {
		int fd = conf_socket(c, AF_INET, "r"), p;

		CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.1", 0), 0);
		p = conf_port(c, fd);
		/* lower part: [lo, lo + 2 * floor((hi + 1 - lo) / 4)) = [32768, 46884) */
		CONF_EXPECT_TRUE(c, is_odd(p) && p >= RANGE_LO && p < 46884, p);
	}
}

static void bind0_exhaustion(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	fd = bound(c, "127.0.0.2", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	bound(c, "0.0.0.0", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void bind0_wildcard_blocks_specific(struct conf_ctx *c)
{
	int a, err;

	conf_port_range(c, 40000, 40000);
	a = bound(c, "0.0.0.0", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, a), 40000);
	bound(c, "127.0.0.5", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void autobind_reuse_sysctl(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	bound(c, "127.0.0.1", 0, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "127.0.0.1", 0, "r", &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	conf_sysctl(c, "net.ipv4.ip_autobind_reuse", "1");
	fd = bound(c, "127.0.0.1", 0, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
}

static void reserved_ports(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40003);
	conf_sysctl(c, "net.ipv4.ip_local_reserved_ports", "40000-40002");
	conf_listener(c, "127.0.0.2", 5000);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40003);
	for (int i = 0; i < 3; i++) {
		conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
		CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	}
	fd = bound(c, "127.0.0.9", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40003);
	/* An explicit bind to a reserved port is allowed. */
	bound(c, "127.0.0.1", 40001, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void sysctl_range_validation(struct conf_ctx *c)
{
	static const char range[] = "net.ipv4.ip_local_port_range";

	CONF_EXPECT_ERR(c, conf_sysctl_try(c, range, "40001 40000"), EINVAL);
	/* lo below ip_unprivileged_port_start (1024) */
	CONF_EXPECT_ERR(c, conf_sysctl_try(c, range, "1000 2000"), EINVAL);
	CONF_EXPECT_ERR(c, conf_sysctl_try(c, range, "1024 1024"), 0);
	CONF_EXPECT_ERR(c, conf_sysctl_try(c, range, "0 100"), EINVAL);
}

/* tcp_init_sock(): a TCP socket's buffers start at tcp_rmem[1] and
 * tcp_wmem[1] (read when the socket is made); SO_RCVBUF / SO_SNDBUF store
 * twice what they are given; tcp_rmem takes three values, each at least 1. */
static void socket_buffers_follow_tcp_rmem_wmem(struct conf_ctx *c)
{
	int fd4, fd6, fd;

	conf_sysctl(c, "net.ipv4.tcp_rmem", "4096 65536 6291456");
	conf_sysctl(c, "net.ipv4.tcp_wmem", "4096 32768 4194304");
	fd4 = conf_socket(c, AF_INET, "");
	fd6 = conf_socket(c, AF_INET6, "");
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd4, SOL_SOCKET, SO_RCVBUF), 65536);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd4, SOL_SOCKET, SO_SNDBUF), 32768);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd6, SOL_SOCKET, SO_RCVBUF), 65536);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd6, SOL_SOCKET, SO_SNDBUF), 32768);
	conf_sysctl(c, "net.ipv4.tcp_rmem", "4096 100000 6291456");
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd4, SOL_SOCKET, SO_RCVBUF), 65536);   /* not retroactive */
	fd = conf_socket(c, AF_INET, "");
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, SOL_SOCKET, SO_RCVBUF), 100000);
	CONF_EXPECT_ERR(c, conf_sysctl_try(c, "net.ipv4.tcp_rmem", "0 65536 6291456"), EINVAL);
	CONF_EXPECT_ERR(c, conf_sysctl_try(c, "net.ipv4.tcp_wmem", "4096 x"), EINVAL);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, SOL_SOCKET, SO_RCVBUF, 10000), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, SOL_SOCKET, SO_RCVBUF), 20000);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, SOL_SOCKET, SO_SNDBUF, 10000), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, SOL_SOCKET, SO_SNDBUF), 20000);
}

static void odd_sized_range_bind0(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40002);
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40001);
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void capacity_bind0(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40003);
	for (int i = 0; i < 3; i++)
		conf_listener(c, "127.0.0.2", 5000 + i);
	for (int i = 0; i < 4; i++) {
		fd = bound(c, "127.0.0.1", 0, NULL, &err);
		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000 + i % 3), 0);
	}
	bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

/* ---- 8.3 bind() with the option ---- */

static void noport_getsockname_zero(struct conf_ctx *c)
{
	int fd, err;

	fd = bound(c, "127.0.0.1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_STR(c, conf_name(c, fd), "127.0.0.1:0");
}

static void noport_holds_no_port(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	bound(c, "127.0.0.1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	bound(c, "0.0.0.0", 40001, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void noport_rebind_allowed(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, "n");

	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.1", 0), 0);
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.2", 0), 0);
	CONF_EXPECT_STR(c, conf_name(c, fd), "127.0.0.2:0");
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.3", 5000), 0);
	CONF_EXPECT_STR(c, conf_name(c, fd), "127.0.0.3:5000");
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.4", 0), EINVAL);
}

static void noport_wildcard(struct conf_ctx *c)
{
	int fd, err, p;

	conf_listener(c, "127.0.0.2", 5000);
	fd = bound(c, "0.0.0.0", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_STR(c, conf_name(c, fd), "0.0.0.0:0");
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	CONF_EXPECT_STR(c, conf_addr(c, fd), "127.0.0.1");
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_even(p), p);
}

static void v6_noport_getsockname(struct conf_ctx *c)
{
	struct sockaddr_in6 sin6;
	socklen_t len = sizeof(struct sockaddr_storage);
	struct sockaddr_storage ss;
	char text[INET6_ADDRSTRLEN];
	int fd, err;

	fd = bound(c, "::1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_getsockname(c, fd, &ss, &len), 0);
	CONF_EXPECT_EQ(c, len, sizeof(struct sockaddr_in6));
	memcpy(&sin6, &ss, sizeof(sin6));
	CONF_EXPECT_EQ(c, sin6.sin6_family, AF_INET6);
	CONF_EXPECT_STR(c, inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text)), "::1");
	CONF_EXPECT_EQ(c, ntohs(sin6.sin6_port), 0);
	CONF_EXPECT_EQ(c, sin6.sin6_scope_id, 0);
}

static void v6_specific_bind_sets_v6only(struct conf_ctx *c)
{
	int lo, any, mapped, np, err;

	lo = bound(c, "::1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, lo, V6ONLY), 1);
	any = bound(c, "::", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, any, V6ONLY), 0);
	mapped = bound(c, "::ffff:127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, mapped, V6ONLY), 0);
	/* Holding a port freezes the option. */
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, lo, V6ONLY, 0), EINVAL);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, any, V6ONLY, 1), EINVAL);
	/* A no-port bind sets it too, but holds no port: still writable. */
	np = bound(c, "::1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, np, V6ONLY), 1);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, np, V6ONLY, 0), 0);
}

/* ---- 8.4 bind() errors and conflicts ---- */

static void bind_double_einval(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL);

	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.1", 0), 0);
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.1", 0), EINVAL);
}

static void bind_addrlen_and_family(struct conf_ctx *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = conf_socket(c, AF_INET, NULL);

	CONF_EXPECT_ERR(c, conf_bind_sa(c, fd, &sin, sizeof(sin) - 1), EINVAL);
	sin.sin_family = AF_INET6;
	CONF_EXPECT_ERR(c, conf_bind_sa(c, fd, &sin, sizeof(sin)), EAFNOSUPPORT);
	/* AF_UNSPEC passes only with INADDR_ANY. */
	sin.sin_family = AF_UNSPEC;
	CONF_EXPECT_ERR(c, conf_bind_sa(c, fd, &sin, sizeof(sin)), EAFNOSUPPORT);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	CONF_EXPECT_ERR(c, conf_bind_sa(c, fd, &sin, sizeof(sin)), 0);
}

/* lo carries 127.0.0.1/32 instead of 127.0.0.1/8. */
static void lo_only_127_0_0_1(struct conf_ctx *c)
{
	conf_addr_del(c, "127.0.0.1/8");
	conf_addr_add(c, "127.0.0.1/32");
}

static void bind_nonlocal(struct conf_ctx *c)
{
	int fd, err;

	lo_only_127_0_0_1(c);
	bound(c, "127.0.0.2", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	/* The address check comes before the already-bound check. */
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.3", 0), EADDRNOTAVAIL);
	bound(c, "127.0.0.2", 0, "f", &err);
	CONF_EXPECT_ERR(c, err, 0);
	conf_sysctl(c, "net.ipv4.ip_nonlocal_bind", "1");
	bound(c, "127.0.0.2", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void bind_privileged_port(struct conf_ctx *c)
{
	int err;

	conf_cred(c, 1000, false);
	bound(c, "127.0.0.1", 80, NULL, &err);
	CONF_EXPECT_ERR(c, err, EACCES);
	bound(c, "127.0.0.1", 1024, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	conf_sysctl(c, "net.ipv4.ip_unprivileged_port_start", "80");
	bound(c, "127.0.0.1", 80, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void bind_port_in_use(struct conf_ctx *c)
{
	int err;

	bound(c, "127.0.0.1", 5000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "127.0.0.1", 5000, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	bound(c, "127.0.0.2", 5000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void bind_wildcard_specific(struct conf_ctx *c)
{
	int err;

	bound(c, "0.0.0.0", 5000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "127.0.0.1", 5000, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	bound(c, "127.0.0.1", 5001, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "0.0.0.0", 5001, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void bind_reuseaddr_rules(struct conf_ctx *c)
{
	int a, b, err;

	a = bound(c, "127.0.0.1", 5000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	b = bound(c, "127.0.0.1", 5000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_listen(c, a), 0);
	CONF_EXPECT_ERR(c, conf_listen(c, b), EADDRINUSE);
	/* onto a listener's port */
	bound(c, "127.0.0.1", 5000, "r", &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	/* only the new socket has SO_REUSEADDR */
	bound(c, "127.0.0.1", 5001, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "127.0.0.1", 5001, "r", &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	bound(c, "0.0.0.0", 5000, "r", &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void bind_reuseport_uid(struct conf_ctx *c)
{
	int a, b, other, err;

	a = bound(c, "127.0.0.1", 5000, "p", &err);
	CONF_EXPECT_ERR(c, err, 0);
	b = bound(c, "127.0.0.1", 5000, "p", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_listen(c, a), 0);
	CONF_EXPECT_ERR(c, conf_listen(c, b), 0);
	/* The socket's uid is its creator's. */
	conf_cred(c, 1000, true);
	other = conf_socket(c, AF_INET, "p");
	conf_cred(c, 0, true);
	CONF_EXPECT_ERR(c, conf_bind(c, other, "127.0.0.1", 5000), EADDRINUSE);
}

/* A TIME_WAIT on fd's local address: fd connects to dst:dport (served by
 * listener), closes first, the accepted socket 20 ms later, then 50 ms pass. */
static void make_timewait(struct conf_ctx *c, int fd, const char *dst, int dport, int listener)
{
	int s;

	CONF_EXPECT_ERR(c, conf_connect(c, fd, dst, dport), 0);
	s = conf_accept(c, listener);
	conf_close(c, fd);
	conf_wait_ms(c, 20);
	conf_close(c, s);
	conf_wait_ms(c, 50);
}

/* A connected pair over loopback: *cl connected to 127.0.0.2:5000, *sv
 * the accepted end. */
static void stream_pair(struct conf_ctx *c, int *cl, int *sv)
{
	int l = conf_listener(c, "127.0.0.2", 5000);

	*cl = conf_socket(c, AF_INET, NULL);
	CONF_EXPECT_ERR(c, conf_connect(c, *cl, "127.0.0.2", 5000), 0);
	*sv = conf_accept(c, l);
}

/* sk_clone_lock(): an accepted socket starts with its listener's options:
 * TCP_NODELAY, SO_KEEPALIVE, SO_RCVBUF / SO_SNDBUF (and their locks: no
 * growth), SO_LINGER, SO_RCVTIMEO. */
static void accept_inherits_options(struct conf_ctx *c)
{
	int l = conf_socket(c, AF_INET, NULL), cl, sv, one = 1, v = 10000;
	struct linger lg = { 1, 5 }, got_lg;
	struct timeval tv = { 2, 0 }, got_tv;
	socklen_t len;

	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, l, IPPROTO_TCP, TCP_NODELAY, one), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, l, SOL_SOCKET, SO_KEEPALIVE, one), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, l, SOL_SOCKET, SO_RCVBUF, v), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, l, SOL_SOCKET, SO_SNDBUF, 2 * v), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt(c, l, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt(c, l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	CONF_EXPECT_ERR(c, conf_bind(c, l, "127.0.0.2", 5000), 0);
	CONF_EXPECT_ERR(c, conf_listen(c, l), 0);
	cl = conf_socket(c, AF_INET, NULL);
	CONF_EXPECT_ERR(c, conf_connect(c, cl, "127.0.0.2", 5000), 0);
	sv = conf_accept(c, l);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, sv, IPPROTO_TCP, TCP_NODELAY), 1);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, sv, SOL_SOCKET, SO_KEEPALIVE), 1);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, sv, SOL_SOCKET, SO_RCVBUF), 2 * v);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, sv, SOL_SOCKET, SO_SNDBUF), 4 * v);
	len = sizeof(got_lg);
	CONF_EXPECT_ERR(c, conf_getsockopt(c, sv, SOL_SOCKET, SO_LINGER, &got_lg, &len), 0);
	CONF_EXPECT_EQ(c, got_lg.l_onoff, 1);
	CONF_EXPECT_EQ(c, got_lg.l_linger, 5);
	len = sizeof(got_tv);
	CONF_EXPECT_ERR(c, conf_getsockopt(c, sv, SOL_SOCKET, SO_RCVTIMEO, &got_tv, &len), 0);
	CONF_EXPECT_EQ(c, got_tv.tv_sec, 2);
	/* The connecting side keeps its own defaults. */
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, cl, IPPROTO_TCP, TCP_NODELAY), 0);
}

/* sendmsg() gathers and recvmsg() scatters; on a stream socket recvmsg()
 * names no sender and passes no ancillary data: msg_namelen, msg_controllen
 * and msg_flags come back 0. */
static void sendmsg_recvmsg_iov(struct conf_ctx *c)
{
	char a[] = "abc", b[] = "defgh", r1[3], r2[16], name[128], ctl[64];
	struct iovec out[3] = { { a, 3 }, { NULL, 0 }, { b, 5 } };
	struct iovec in[2] = { { r1, sizeof(r1) }, { r2, sizeof(r2) } };
	struct msghdr m = { .msg_iov = out, .msg_iovlen = 3 };
	int cl, sv;
	ssize_t n;

	stream_pair(c, &cl, &sv);
	CONF_EXPECT_ERR(c, conf_sendmsg(c, cl, &m, 0, &n), 0);
	CONF_EXPECT_EQ(c, n, 8);
	memset(&m, 0, sizeof(m));
	m.msg_iov = in;
	m.msg_iovlen = 2;
	m.msg_name = name;
	m.msg_namelen = sizeof(name);
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	m.msg_flags = 0x7fff;
	CONF_EXPECT_ERR(c, conf_recvmsg(c, sv, &m, 0, &n), 0);
	CONF_EXPECT_EQ(c, n, 8);
	CONF_EXPECT_EQ(c, memcmp(r1, "abc", 3), 0);
	CONF_EXPECT_EQ(c, memcmp(r2, "defgh", 5), 0);
	CONF_EXPECT_EQ(c, m.msg_namelen, 0);
	CONF_EXPECT_EQ(c, m.msg_controllen, 0);
	CONF_EXPECT_EQ(c, m.msg_flags, 0);
}

/* recv flags on TCP: MSG_PEEK|MSG_WAITALL waits for the whole request and
 * consumes nothing; MSG_TRUNC drops bytes without copying them; MSG_OOB
 * with no urgent data is EINVAL; MSG_WAITALL reads exactly the request. */
static void recv_flags_on_stream(struct conf_ctx *c)
{
	char data[] = "0123456789", buf[16];
	struct iovec io = { data, 10 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };
	int cl, sv;
	ssize_t n;

	stream_pair(c, &cl, &sv);
	CONF_EXPECT_ERR(c, conf_sendmsg(c, cl, &m, 0, &n), 0);
	io.iov_base = buf;
	io.iov_len = 10;
	CONF_EXPECT_ERR(c, conf_recvmsg(c, sv, &m, MSG_PEEK | MSG_WAITALL, &n), 0);
	CONF_EXPECT_EQ(c, n, 10);
	CONF_EXPECT_EQ(c, memcmp(buf, "0123456789", 10), 0);
	memset(buf, 'z', sizeof(buf));
	io.iov_len = 4;
	CONF_EXPECT_ERR(c, conf_recvmsg(c, sv, &m, MSG_TRUNC, &n), 0);
	CONF_EXPECT_EQ(c, n, 4);
	CONF_EXPECT_EQ(c, buf[0], 'z');
	CONF_EXPECT_ERR(c, conf_recvmsg(c, sv, &m, MSG_OOB, &n), EINVAL);
	io.iov_len = 6;
	CONF_EXPECT_ERR(c, conf_recvmsg(c, sv, &m, MSG_WAITALL, &n), 0);
	CONF_EXPECT_EQ(c, n, 6);
	CONF_EXPECT_EQ(c, memcmp(buf, "456789", 6), 0);
	CONF_EXPECT_ERR(c, conf_recvmsg(c, sv, &m, MSG_DONTWAIT, &n), EAGAIN);
}

/* The iovec checks of sendmsg()/recvmsg(): more than UIO_MAXIOV (1024)
 * entries is EMSGSIZE, a length that is negative as a ssize_t EINVAL, a
 * NULL base with a length EFAULT; an empty vector sends nothing. */
static void msg_iovec_errors(struct conf_ctx *c)
{
	static struct iovec many[1025];
	char byte = 'x';
	struct iovec bad[2] = { { &byte, 1 }, { &byte, (size_t)-1 } };
	struct iovec null_base[2] = { { &byte, 1 }, { NULL, 5 } };
	struct msghdr m = { .msg_iov = many, .msg_iovlen = 1025 };
	int cl, sv;
	ssize_t n;

	stream_pair(c, &cl, &sv);
	for (int i = 0; i < 1025; i++)
		many[i] = (struct iovec){ &byte, 1 };
	CONF_EXPECT_ERR(c, conf_sendmsg(c, cl, &m, 0, &n), EMSGSIZE);
	CONF_EXPECT_ERR(c, conf_recvmsg(c, sv, &m, MSG_DONTWAIT, &n), EMSGSIZE);
	m.msg_iovlen = 1024;
	CONF_EXPECT_ERR(c, conf_sendmsg(c, cl, &m, 0, &n), 0);
	CONF_EXPECT_EQ(c, n, 1024);
	m.msg_iov = bad;
	m.msg_iovlen = 2;
	CONF_EXPECT_ERR(c, conf_sendmsg(c, cl, &m, 0, &n), EINVAL);
	m.msg_iov = null_base;
	CONF_EXPECT_ERR(c, conf_sendmsg(c, cl, &m, 0, &n), EFAULT);
	m.msg_iov = NULL;
	m.msg_iovlen = 0;
	CONF_EXPECT_ERR(c, conf_sendmsg(c, cl, &m, 0, &n), 0);
	CONF_EXPECT_EQ(c, n, 0);
}

static void bind_over_timewait(struct conf_ctx *c)
{
	int l = conf_listener(c, "127.0.0.2", 5000), fd, err;

	fd = bound(c, "127.0.0.1", 40000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	make_timewait(c, fd, "127.0.0.2", 5000, l);
	bound(c, "127.0.0.1", 40000, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	bound(c, "127.0.0.1", 40000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	/* The TIME_WAIT remembers that its owner lacked SO_REUSEADDR. */
	fd = bound(c, "127.0.0.1", 40002, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	make_timewait(c, fd, "127.0.0.2", 5000, l);
	bound(c, "127.0.0.1", 40002, "r", &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	bound(c, "0.0.0.0", 40002, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void bind_active_socket_einval(struct conf_ctx *c)
{
	int a = conf_socket(c, AF_INET, NULL), b = conf_socket(c, AF_INET, NULL);

	conf_listener(c, "127.0.0.2", 5000);
	CONF_EXPECT_ERR(c, conf_connect(c, a, "127.0.0.2", 5000), 0);
	CONF_EXPECT_ERR(c, conf_bind(c, a, "127.0.0.1", 0), EINVAL);
	CONF_EXPECT_ERR(c, conf_listen(c, b), 0);
	CONF_EXPECT_ERR(c, conf_bind(c, b, "127.0.0.1", 0), EINVAL);
}

static void v6_bind_addrlen(struct conf_ctx *c)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = conf_socket(c, AF_INET6, NULL);

	/* 24 is RFC 2133's size, without sin6_scope_id. */
	CONF_EXPECT_ERR(c, conf_bind_sa(c, fd, &sin6, 23), EINVAL);
	CONF_EXPECT_ERR(c, conf_bind_sa(c, fd, &sin6, 24), 0);
}

static void v6_double_bind_order(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET6, NULL);

	lo_only_127_0_0_1(c);
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "::1", 0), 0);
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "::1", 0), EINVAL);
	/* The state check comes before the (failing) address check. */
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "::ffff:127.0.0.2", 0), EINVAL);
}

static void v6_nonlocal(struct conf_ctx *c)
{
	int err;

	lo_only_127_0_0_1(c);
	bound(c, "::ffff:127.0.0.2", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	bound(c, "::2", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
}

static void v6_v6only_mapped(struct conf_ctx *c)
{
	int err;

	bound(c, "::ffff:127.0.0.1", 0, "6", &err);
	CONF_EXPECT_ERR(c, err, EINVAL);
}

static void v6_dualstack_conflicts(struct conf_ctx *c)
{
	int err;

	bound(c, "::", 5000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "0.0.0.0", 5000, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	bound(c, "::", 5001, "6", &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "0.0.0.0", 5001, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "::ffff:127.0.0.1", 5002, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "127.0.0.1", 5002, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	bound(c, "::1", 5002, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

/* ---- 8.5 connect() port selection ---- */

static void connect_noport_even(struct conf_ctx *c)
{
	for (int i = 0; i < 16; i++)
		conf_listener(c, "127.0.0.2", 5000 + i);
	for (int i = 0; i < 16; i++) {
		int err, fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000 + i, &err), p;

		CONF_EXPECT_ERR(c, err, 0);
		p = conf_port(c, fd);
		CONF_EXPECT_TRUE(c, is_even(p) && in_default_range(p), p);
	}
}

static void connect_unbound_autobind(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL), p;

	conf_listener(c, "127.0.0.5", 5000);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.5", 5000), 0);
	CONF_EXPECT_STR(c, conf_addr(c, fd), "127.0.0.1");
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_even(p), p);
}

static void connect_bind0_keeps_port(struct conf_ctx *c)
{
	int fd, err, p;

	conf_listener(c, "127.0.0.2", 5000);
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_odd(p), p);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), p);
}

static void connect_noport_shares_port(struct conf_ctx *c)
{
	static const struct { const char *addr; int port; } dst[] = {
		{ "127.0.0.2", 5000 }, { "127.0.0.3", 5000 }, { "127.0.0.2", 5001 },
	};
	int fd, err;

	conf_port_range(c, 40000, 40000);
	for (size_t i = 0; i < 3; i++)
		conf_listener(c, dst[i].addr, dst[i].port);
	for (size_t i = 0; i < 3; i++) {
		fd = conf_noport_connect(c, "127.0.0.1", NULL, dst[i].addr, dst[i].port, &err);
		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	}
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 0);
}

static void connect_unbound_shares_port(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	conf_listener(c, "127.0.0.2", 5000);
	conf_listener(c, "127.0.0.2", 5001);
	for (int i = 0; i < 2; i++) {
		fd = conf_noport_connect(c, NULL, NULL, "127.0.0.2", 5000 + i, &err);
		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	}
	conf_noport_connect(c, NULL, NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
}

static void capacity_noport(struct conf_ctx *c)
{
	int err;

	conf_port_range(c, 40000, 40003);
	for (int i = 0; i < 3; i++)
		conf_listener(c, "127.0.0.2", 5000 + i);
	for (int i = 0; i < 12; i++) {
		conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000 + i % 3, &err);
		CONF_EXPECT_ERR(c, err, 0);
	}
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
}

static void bind0_ports_unusable_by_connect(struct conf_ctx *c)
{
	int err;

	conf_port_range(c, 40000, 40003);
	conf_listener(c, "127.0.0.2", 5000);
	for (int i = 0; i < 4; i++) {
		bound(c, "127.0.0.1", 0, NULL, &err);
		CONF_EXPECT_ERR(c, err, 0);
	}
	conf_noport_connect(c, "127.0.0.10", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
}

static void odd_sized_range_last_port_unused(struct conf_ctx *c)
{
	static const int want_connect[] = { 40000, 40001 }, want_bind[] = { 40001, 40000 };
	int fd, err;

	conf_port_range(c, 40000, 40002);
	conf_listener(c, "127.0.0.2", 5000);
	for (int i = 0; i < 2; i++) {
		fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_EQ(c, conf_port(c, fd), want_connect[i]);
	}
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	/* A specific-address bind(0) may take connect-owned ports. */
	for (int i = 0; i < 2; i++) {
		fd = bound(c, "127.0.0.20", 0, NULL, &err);
		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_EQ(c, conf_port(c, fd), want_bind[i]);
	}
	bound(c, "127.0.0.20", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void connect_skips_bind_owned_port(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40001);
	conf_listener(c, "127.0.0.2", 5000);
	conf_listener(c, "127.0.0.2", 5001);
	bound(c, "127.0.0.9", 40000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40001);
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5001, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40001);
}

/* Linux 6.18 behaviour (d57f4b874946); 6.12 gives EADDRNOTAVAIL at the end. */
static void connect_port_reusable_after_binder_gone(struct conf_ctx *c)
{
	int fd, binder, err;

	conf_port_range(c, 40000, 40000);
	for (int i = 0; i < 3; i++)
		conf_listener(c, "127.0.0.2", 5000 + i);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	binder = bound(c, "127.0.0.7", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, binder), 40000);
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5001, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	CONF_EXPECT_ERR(c, conf_close(c, binder), 0);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5002, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
}

static void connect_owned_port_explicit_bind(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	conf_listener(c, "127.0.0.2", 5000);
	conf_listener(c, "127.0.0.2", 5001);
	fd = conf_noport_connect(c, "127.0.0.1", "r", "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	bound(c, "127.0.0.1", 40000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	bound(c, "127.0.0.1", 40000, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
	/* The explicit bind made the port bind-owned. */
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5001, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
}

static void connect_exhaustion_errno(struct conf_ctx *c)
{
	static const int want[] = { 40000, 40001 };
	int fd, err;

	conf_port_range(c, 40000, 40001);
	conf_listener(c, "127.0.0.2", 5000);
	for (int i = 0; i < 2; i++) {
		fd = conf_noport_connect(c, NULL, NULL, "127.0.0.2", 5000, &err);
		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_EQ(c, conf_port(c, fd), want[i]);
	}
	fd = conf_noport_connect(c, NULL, NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 0);
}

static void connect_explicit_port_4tuple(struct conf_ctx *c)
{
	int a, b, err;

	conf_listener(c, "127.0.0.2", 5000);
	conf_listener(c, "127.0.0.2", 5001);
	a = bound(c, "127.0.0.1", 40000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	b = bound(c, "127.0.0.1", 40000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_connect(c, a, "127.0.0.2", 5000), 0);
	CONF_EXPECT_ERR(c, conf_connect(c, b, "127.0.0.2", 5000), EADDRNOTAVAIL);
	CONF_EXPECT_ERR(c, conf_connect(c, b, "127.0.0.2", 5001), 0);
}

/* 20 no-port connect()s to dst:dport (listener made here): every step from
 * one chosen port to the next is even and within [2, 16] (the start moves
 * by 2..16 per connection when nothing collides). Steps are taken modulo
 * the default range's size so that a wrap past its end counts as the step
 * it is. A 10-second re-salting of the offset hash may fall inside the run:
 * one retry, on the next destination port. */
static void same_dest_increments(struct conf_ctx *c, const char *src, const char *dst, int dport)
{
	const int n = (RANGE_HI + 1 - RANGE_LO) & ~1;
	char steps[20 * 4] = "";
	int bad = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		int prev = -1, fd, err;

		conf_listener(c, dst, dport + attempt);
		bad = 0;
		steps[0] = '\0';
		for (int i = 0; i < 20 && !bad; i++) {
			int p, step;

			fd = conf_noport_connect(c, src, NULL, dst, dport + attempt, &err);
			if (err) {
				CONF_EXPECT_ERR(c, err, 0);
				return;
			}
			p = conf_port(c, fd);
			step = (p - prev + n) % n;
			if (prev >= 0) {
				snprintf(steps + strlen(steps), sizeof(steps) - strlen(steps), " %d", step);
				if (step & 1 || step < 2 || step > 16)
					bad = step;
			}
			prev = p;
		}
		if (!bad)
			break;
	}
	conf_observe(c, "steps%s:", steps);
	CONF_EXPECT_TRUE(c, bad == 0, bad);
}

static void connect_same_dest_increments(struct conf_ctx *c)
{
	/* A destination no other case uses: the kernel's perturbation table
	 * is shared by every namespace, and cases run in parallel. */
	same_dest_increments(c, "127.0.0.1", "127.0.0.77", 5077);
}

static void connect_v4_any_is_loopback(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL);

	conf_listener(c, "127.0.0.1", 5000);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "0.0.0.0", 5000), 0);
	CONF_EXPECT_STR(c, conf_peer_addr(c, fd), "127.0.0.1");
}

static void lpr_get_set(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET, NULL);
	uint16_t v16 = 40000;
	uint64_t v64 = (uint32_t)lpr(40000, 40001);

	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, LPR), 0);
	CONF_EXPECT_ERR(c, conf_setsockopt(c, fd, LPR, &v16, sizeof(v16)), EINVAL);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, LPR, lpr(40001, 40000)), EINVAL);
	CONF_EXPECT_ERR(c, conf_setsockopt(c, fd, LPR, &v64, sizeof(v64)), EINVAL);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, LPR, lpr(50000, 0)), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, LPR), 50000);
	CONF_EXPECT_ERR(c, conf_setsockopt_int(c, fd, LPR, 0), 0);
	CONF_EXPECT_EQ(c, conf_getsockopt_int(c, fd, LPR), 0);
}

/* A socket with IP_LOCAL_PORT_RANGE lo-hi and opts, bound to src:0. */
static int lpr_bound(struct conf_ctx *c, const char *src, unsigned lo, unsigned hi, const char *opts, int *err)
{
	int fd = conf_socket(c, strchr(src, ':') ? AF_INET6 : AF_INET, opts);
	int r = conf_setsockopt_int(c, fd, LPR, lpr(lo, hi));

	if (r)
		conf_fail(c, __FILE__, __LINE__, "IP_LOCAL_PORT_RANGE %u-%u: %s", lo, hi, conf_errno_name(r));
	*err = conf_bind(c, fd, src, 0);
	return fd;
}

static void lpr_connect_both_parities(struct conf_ctx *c)
{
	int odd = 0, even = 0;

	conf_listener(c, "127.0.0.2", 5000);
	for (int i = 0; i < 24; i++) {
		int err, fd = lpr_bound(c, "127.0.0.1", 40100, 40199, "n", &err), p;

		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
		p = conf_port(c, fd);
		CONF_EXPECT_TRUE(c, p >= 40100 && p <= 40199, p);
		odd += p & 1;
		even += !(p & 1);
	}
	CONF_EXPECT_TRUE(c, odd > 0 && even > 0, odd);
}

static void lpr_clamping(struct conf_ctx *c)
{
	int fd, err, p;

	conf_port_range(c, 40000, 49999);
	/* Entirely outside the netns range: ignored. */
	fd = lpr_bound(c, "127.0.0.1", 30000, 39999, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, p >= 40000 && p <= 49999, p);
	fd = lpr_bound(c, "127.0.0.1", 45000, 45000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 45000);
	/* 0 leaves that end to the netns range. */
	fd = lpr_bound(c, "127.0.0.1", 0, 40000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	fd = lpr_bound(c, "127.0.0.1", 49999, 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 49999);
}

static void lpr_odd_sized(struct conf_ctx *c)
{
	unsigned seen = 0;
	int err;

	conf_listener(c, "127.0.0.2", 5000);
	/* connect(): step 1, every port of the socket range */
	for (int i = 0; i < 3; i++) {
		int fd = lpr_bound(c, "127.0.0.1", 40000, 40002, "n", &err), p;

		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
		p = conf_port(c, fd);
		if (p >= 40000 && p <= 40002)
			seen |= 1u << (p - 40000);
	}
	CONF_EXPECT_EQ(c, seen, 7);
	/* bind(0) keeps its parity passes: one port unused */
	for (int i = 0; i < 2; i++) {
		lpr_bound(c, "127.0.0.1", 40010, 40012, NULL, &err);
		CONF_EXPECT_ERR(c, err, 0);
	}
	lpr_bound(c, "127.0.0.1", 40010, 40012, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void lpr_does_not_share_bind_owned(struct conf_ctx *c)
{
	int fd, err;

	conf_listener(c, "127.0.0.2", 5000);
	bound(c, "127.0.0.9", 40000, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	fd = lpr_bound(c, "127.0.0.1", 40000, 40001, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40001);
	fd = lpr_bound(c, "127.0.0.1", 40000, 40001, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), EADDRNOTAVAIL);
}

static void lpr_exhaust_8_v6(struct conf_ctx *c)
{
	unsigned seen = 0;
	int err;

	for (int i = 0; i < 8; i++) {
		int fd = lpr_bound(c, "::1", 40000, 40007, NULL, &err), p;

		CONF_EXPECT_ERR(c, err, 0);
		p = conf_port(c, fd);
		if (p >= 40000 && p <= 40007)
			seen |= 1u << (p - 40000);
	}
	CONF_EXPECT_EQ(c, seen, 0xff);
	lpr_bound(c, "::1", 40000, 40007, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

static void v6_connect_noport(struct conf_ctx *c)
{
	for (int i = 0; i < 8; i++)
		conf_listener(c, "::1", 5000 + i);
	for (int i = 0; i < 8; i++) {
		int err, fd = conf_noport_connect(c, "::1", NULL, "::1", 5000 + i, &err), p;

		CONF_EXPECT_ERR(c, err, 0);
		p = conf_port(c, fd);
		CONF_EXPECT_TRUE(c, is_even(p) && in_default_range(p), p);
	}
}

static void v6_connect_shares_port(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	conf_listener(c, "::1", 5000);
	conf_listener(c, "::1", 5001);
	for (int i = 0; i < 2; i++) {
		fd = conf_noport_connect(c, "::1", NULL, "::1", 5000 + i, &err);
		CONF_EXPECT_ERR(c, err, 0);
		CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	}
	conf_noport_connect(c, "::1", NULL, "::1", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
}

static void v6_mapped_connect(struct conf_ctx *c)
{
	int fd, err, p;

	conf_listener(c, "127.0.0.2", 5000);
	fd = conf_noport_connect(c, "::ffff:127.0.0.1", NULL, "::ffff:127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_STR(c, conf_addr(c, fd), "::ffff:127.0.0.1");
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_even(p), p);
	fd = conf_socket(c, AF_INET6, "6");
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "::ffff:127.0.0.2", 5000), ENETUNREACH);
}

static void v6_unbound_connect(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET6, NULL), p;

	conf_listener(c, "::1", 5000);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "::1", 5000), 0);
	CONF_EXPECT_STR(c, conf_addr(c, fd), "::1");
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_even(p), p);
}

static void v6_connect_any_is_loopback(struct conf_ctx *c)
{
	int fd = conf_socket(c, AF_INET6, NULL);

	conf_listener(c, "::1", 5000);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "::", 5000), 0);
	CONF_EXPECT_STR(c, conf_peer_addr(c, fd), "::1");
}

static void v6_same_dest_increments(struct conf_ctx *c)
{
	same_dest_increments(c, "::1", "::1", 5078);
}

static void v4_v6_share_port_space(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	conf_listener(c, "127.0.0.2", 5000);
	conf_listener(c, "::1", 5000);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	fd = conf_noport_connect(c, "::1", NULL, "::1", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	bound(c, "::1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, EADDRINUSE);
}

/* ---- 8.6 TIME_WAIT ---- */

/* A TIME_WAIT from a no-port 127.0.0.1 socket connected to
 * 127.0.0.2:5000, with the port range 40000-40000: the TIME_WAIT holds
 * 127.0.0.1:40000 -> 127.0.0.2:5000. Returns the listener. */
static int noport_timewait(struct conf_ctx *c)
{
	int l, fd, err;

	conf_port_range(c, 40000, 40000);
	l = conf_listener(c, "127.0.0.2", 5000);
	fd = bound(c, "127.0.0.1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	make_timewait(c, fd, "127.0.0.2", 5000, l);
	return l;
}

static void connect_tw_reuse_loopback(struct conf_ctx *c)
{
	int err;

	noport_timewait(c);
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	conf_wait_ms(c, 1100);
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void connect_tw_reuse_off(struct conf_ctx *c)
{
	int err;

	conf_sysctl(c, "net.ipv4.tcp_tw_reuse", "0");
	noport_timewait(c);
	conf_wait_ms(c, 1100);
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	conf_sysctl(c, "net.ipv4.tcp_tw_reuse", "1");
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void connect_tw_reuse_delay(struct conf_ctx *c)
{
	int err;

	conf_sysctl(c, "net.ipv4.tcp_tw_reuse_delay", "500");
	noport_timewait(c);
	/* ~70 ms after the TIME_WAIT began */
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, EADDRNOTAVAIL);
	conf_wait_ms(c, 600);
	conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
}

static void connect_explicit_port_bypasses_tw(struct conf_ctx *c)
{
	int l, fd, err;

	conf_sysctl(c, "net.ipv4.tcp_tw_reuse", "0");
	l = conf_listener(c, "127.0.0.2", 5000);
	fd = bound(c, "127.0.0.1", 40000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	make_timewait(c, fd, "127.0.0.2", 5000, l);
	fd = bound(c, "127.0.0.1", 40000, "r", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
}

/* ---- 8.7 failure, retry, listen, misc ---- */

/* 127.0.0.1:1 has no listener: connect() gets a RST. */
#define REFUSING "127.0.0.1", 1

static void connect_refused_state(struct conf_ctx *c)
{
	int fd, b, err;

	conf_port_range(c, 40000, 40001);
	conf_listener(c, "127.0.0.2", 5000);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, REFUSING, &err);
	CONF_EXPECT_ERR(c, err, ECONNREFUSED);
	/* getsockname() keeps the released port */
	CONF_EXPECT_STR(c, conf_name(c, fd), "127.0.0.1:40000");
	b = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, b), 40001);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	CONF_EXPECT_STR(c, conf_name(c, fd), "127.0.0.1:40000");
}

static void refused_port_released(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, REFUSING, &err);
	CONF_EXPECT_ERR(c, err, ECONNREFUSED);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
}

static void rebind_after_refused(struct conf_ctx *c)
{
	int fd, err;

	fd = conf_noport_connect(c, "127.0.0.1", NULL, REFUSING, &err);
	CONF_EXPECT_ERR(c, err, ECONNREFUSED);
	CONF_EXPECT_ERR(c, conf_bind(c, fd, "127.0.0.3", 0), 0);
	CONF_EXPECT_STR(c, conf_name(c, fd), "127.0.0.3:0");
}

static void bind0_port_released_on_failed_connect(struct conf_ctx *c)
{
	int fd, p, err;

	conf_listener(c, "127.0.0.2", 5000);
	fd = bound(c, "127.0.0.1", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_odd(p), p);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, REFUSING), ECONNREFUSED);
	/* bind(0) does not lock the port: the failure released it */
	bound(c, "127.0.0.1", p, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_even(p), p);
}

static void connect_second_eisconn(struct conf_ctx *c)
{
	int l = conf_listener(c, "127.0.0.2", 5000), fd = conf_socket(c, AF_INET, NULL);

	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), EISCONN);
	CONF_EXPECT_ERR(c, conf_connect(c, l, "127.0.0.2", 5000), EISCONN);
}

static void connect_unspec_disconnect(struct conf_ctx *c)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	int fd, p, p2, err;

	conf_listener(c, "127.0.0.2", 5000);
	fd = conf_noport_connect(c, "127.0.0.1", NULL, "127.0.0.2", 5000, &err);
	CONF_EXPECT_ERR(c, err, 0);
	p = conf_port(c, fd);
	CONF_EXPECT_ERR(c, conf_connect_sa(c, fd, &unspec, sizeof(unspec)), 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), p);
	CONF_EXPECT_ERR(c, conf_connect(c, fd, "127.0.0.2", 5000), 0);
	p2 = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, p2 != p && in_default_range(p2), p2);
}

static void connect_args(struct conf_ctx *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5000),
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(5000),
	                             .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = conf_socket(c, AF_INET, NULL);

	conf_listener(c, "127.0.0.1", 5000);
	CONF_EXPECT_ERR(c, conf_connect_sa(c, fd, &sin, sizeof(sin) - 1), EINVAL);
	CONF_EXPECT_ERR(c, conf_connect_sa(c, fd, &sin6, sizeof(sin6)), EAFNOSUPPORT);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 0);
}

/* connect_args' getpeername() part. */
static void connect_args_getpeername(struct conf_ctx *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = conf_socket(c, AF_INET, NULL);

	CONF_EXPECT_ERR(c, conf_getpeername(c, fd, &ss, &len), ENOTCONN);
}

static void listen_noport_bound(struct conf_ctx *c)
{
	int fd, err, p;

	fd = bound(c, "127.0.0.1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_listen(c, fd), 0);
	CONF_EXPECT_STR(c, conf_addr(c, fd), "127.0.0.1");
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_odd(p) && in_default_range(p), p);
	fd = conf_socket(c, AF_INET, NULL);
	CONF_EXPECT_ERR(c, conf_listen(c, fd), 0);
	CONF_EXPECT_STR(c, conf_addr(c, fd), "0.0.0.0");
	p = conf_port(c, fd);
	CONF_EXPECT_TRUE(c, is_odd(p) && in_default_range(p), p);
}

static void listen_noport_exhausted(struct conf_ctx *c)
{
	int fd, err;

	conf_port_range(c, 40000, 40000);
	fd = bound(c, "0.0.0.0", 0, NULL, &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 40000);
	fd = bound(c, "127.0.0.1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_listen(c, fd), EADDRINUSE);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 0);
}

static void sendto_unconnected(struct conf_ctx *c)
{
	int fd, err;

	fd = bound(c, "127.0.0.1", 0, "n", &err);
	CONF_EXPECT_ERR(c, err, 0);
	CONF_EXPECT_ERR(c, conf_sendto(c, fd, "127.0.0.2", 5000, MSG_NOSIGNAL), EPIPE);
	CONF_EXPECT_EQ(c, conf_port(c, fd), 0);
}

/* ---- the bind_wildcard matrix ----
 * Restates the kernel selftest's design: bind a first socket to an address
 * with port 0, a second one to another address on the same port, then six
 * sockets without options to each canonical address on that port, keeping
 * every socket that succeeded. Three modes: no options, and SO_REUSEADDR or
 * SO_REUSEPORT on the first two sockets. Expectations were derived from the
 * conflict rule of spec 3.6 and agree with Linux 6.18.44: one letter per
 * bind() in that order, '0' success, 'U' EADDRINUSE ('?' shows any other
 * errno). */

enum wc_addr { V4_ANY, V4_LO, V6_ANY, V6_ANY_ONLY, V6_LO, MAPPED_ANY, MAPPED_LO };

static const struct {
	const char *addr;
	bool v6only;   /* IPV6_V6ONLY set before bind() */
} wc_addrs[] = {
	[V4_ANY] = { "0.0.0.0", false },
	[V4_LO] = { "127.0.0.1", false },
	[V6_ANY] = { "::", false },
	[V6_ANY_ONLY] = { "::", true },
	[V6_LO] = { "::1", false },
	[MAPPED_ANY] = { "::ffff:0.0.0.0", false },
	[MAPPED_LO] = { "::ffff:127.0.0.1", false },
};

static const enum wc_addr wc_canonical[6] = { V4_ANY, V4_LO, V6_ANY, V6_LO, MAPPED_ANY, MAPPED_LO };

struct wc_row {
	enum wc_addr first, second;
	const char *plain;   /* 8 results without options */
	const char *reuse;   /* 8 results with SO_REUSEADDR, and with SO_REUSEPORT */
};

static char wc_letter(int err)
{
	return err == 0 ? '0' : err == EADDRINUSE ? 'U' : '?';
}

static void bind_wildcard(struct conf_ctx *c)
{
	static const struct { const char *name, *opt; } modes[] = {
		{ "plain", "" }, { "reuseaddr", "r" }, { "reuseport", "p" },
	};
	const struct wc_row *w = conf_arg(c);

	for (size_t m = 0; m < 3; m++) {
		char got[9] = "";
		int fds[8], port = 0;

		for (int i = 0; i < 8; i++) {
			enum wc_addr a = i == 0 ? w->first : i == 1 ? w->second : wc_canonical[i - 2];
			const char *addr = wc_addrs[a].addr;
			char opts[4] = "";
			int err;

			if (i < 2) {
				strcat(opts, modes[m].opt);
				if (wc_addrs[a].v6only)
					strcat(opts, "6");
			}
			fds[i] = conf_socket(c, strchr(addr, ':') ? AF_INET6 : AF_INET, opts);
			err = conf_bind(c, fds[i], addr, port);
			got[i] = wc_letter(err);
			if (got[i] == '?')
				conf_fail(c, __FILE__, __LINE__, "%s: bind #%d %s: %s", modes[m].name, i, addr,
				          conf_errno_name(err));
			if (i == 0)
				port = conf_port(c, fds[0]);
		}
		conf_expect_str(c, __FILE__, __LINE__, modes[m].name, got, m ? w->reuse : w->plain);
		for (int i = 0; i < 8; i++)
			conf_close(c, fds[i]);
	}
}

/* ---- the table ---- */

#define CASE(fn, spec, needs) { #fn, spec, needs, fn, NULL }
#define WILDCARD(a, b, plain, reuse) \
	{ "wildcard_" #a "_" #b, "bind_wildcard", 0, bind_wildcard, \
	  &(const struct wc_row){ WC_##a, WC_##b, plain, reuse } }

/* The matrix's spellings of enum wc_addr. */
#define WC_v4_any V4_ANY
#define WC_v4_lo V4_LO
#define WC_v6_any V6_ANY
#define WC_v6_any_only V6_ANY_ONLY
#define WC_v6_lo V6_LO
#define WC_mapped_any MAPPED_ANY
#define WC_mapped_lo MAPPED_LO

const struct conf_case conf_cases[] = {
	/* 8.1 option handling */
	CASE(opt_default_zero, "8.1", 0),
	CASE(opt_set_get, "8.1", 0),
	CASE(opt_nonzero_normalised, "8.1", 0),
	CASE(opt_short_optlen, "8.1", 0),
	CASE(opt_getsockopt_lengths, "8.1", 0),
	CASE(opt_v6_sol_ip, "8.1", 0),
	CASE(opt_set_after_bind_no_effect, "8.1", 0),
	CASE(opt_explicit_port_unaffected, "8.1", 0),
	CASE(opt_udp_also_defers, "8.1", CONF_UDP),
	/* 8.2 bind(0) without the option, ranges, sysctls */
	CASE(bind0_odd_in_range, "8.2", 0),
	CASE(bind0_reuseaddr_lower_half, "8.2", 0),
	CASE(bind0_exhaustion, "8.2", 0),
	CASE(bind0_wildcard_blocks_specific, "8.2", 0),
	CASE(autobind_reuse_sysctl, "8.2", 0),
	CASE(reserved_ports, "8.2", 0),
	CASE(sysctl_range_validation, "8.2", 0),
	CASE(socket_buffers_follow_tcp_rmem_wmem, "8.2", 0),
	CASE(odd_sized_range_bind0, "8.2", 0),
	CASE(capacity_bind0, "8.2", 0),
	/* 8.3 bind() with the option */
	CASE(noport_getsockname_zero, "8.3", 0),
	CASE(noport_holds_no_port, "8.3", 0),
	CASE(noport_rebind_allowed, "8.3", 0),
	CASE(noport_wildcard, "8.3", 0),
	CASE(v6_noport_getsockname, "8.3", 0),
	CASE(v6_specific_bind_sets_v6only, "8.3", 0),
	/* 8.4 bind() errors and conflicts */
	CASE(bind_double_einval, "8.4", 0),
	CASE(bind_addrlen_and_family, "8.4", 0),
	CASE(bind_nonlocal, "8.4", 0),
	CASE(bind_privileged_port, "8.4", CONF_CREDS),
	CASE(bind_port_in_use, "8.4", 0),
	CASE(bind_wildcard_specific, "8.4", 0),
	CASE(bind_reuseaddr_rules, "8.4", 0),
	CASE(bind_reuseport_uid, "8.4", CONF_CREDS),
	CASE(bind_over_timewait, "8.4", CONF_ENGINE),
	CASE(bind_active_socket_einval, "8.4", CONF_ENGINE),
	CASE(v6_bind_addrlen, "8.4", 0),
	CASE(v6_double_bind_order, "8.4", 0),
	CASE(v6_nonlocal, "8.4", 0),
	CASE(v6_v6only_mapped, "8.4", 0),
	CASE(v6_dualstack_conflicts, "8.4", 0),
	/* 8.5 connect() port selection */
	CASE(connect_noport_even, "8.5", 0),
	CASE(connect_unbound_autobind, "8.5", 0),
	CASE(connect_bind0_keeps_port, "8.5", 0),
	CASE(connect_noport_shares_port, "8.5", 0),
	CASE(connect_unbound_shares_port, "8.5", 0),
	CASE(capacity_noport, "8.5", 0),
	CASE(bind0_ports_unusable_by_connect, "8.5", 0),
	CASE(odd_sized_range_last_port_unused, "8.5", 0),
	CASE(connect_skips_bind_owned_port, "8.5", 0),
	CASE(connect_port_reusable_after_binder_gone, "8.5", 0),
	CASE(connect_owned_port_explicit_bind, "8.5", 0),
	CASE(connect_exhaustion_errno, "8.5", 0),
	CASE(connect_explicit_port_4tuple, "8.5", 0),
	CASE(connect_same_dest_increments, "8.5", 0),
	CASE(connect_v4_any_is_loopback, "8.5", CONF_PEERNAME),
	CASE(lpr_get_set, "8.5", 0),
	CASE(lpr_connect_both_parities, "8.5", 0),
	CASE(lpr_clamping, "8.5", 0),
	CASE(lpr_odd_sized, "8.5", 0),
	CASE(lpr_does_not_share_bind_owned, "8.5", 0),
	CASE(lpr_exhaust_8_v6, "8.5", 0),
	CASE(v6_connect_noport, "8.5", 0),
	CASE(v6_connect_shares_port, "8.5", 0),
	CASE(v6_mapped_connect, "8.5", 0),
	CASE(v6_unbound_connect, "8.5", 0),
	CASE(v6_connect_any_is_loopback, "8.5", CONF_PEERNAME),
	CASE(v6_same_dest_increments, "8.5", 0),
	CASE(v4_v6_share_port_space, "8.5", 0),
	/* 8.6 TIME_WAIT */
	CASE(connect_tw_reuse_loopback, "8.6", CONF_ENGINE),
	CASE(connect_tw_reuse_off, "8.6", CONF_ENGINE),
	CASE(connect_tw_reuse_delay, "8.6", CONF_ENGINE),
	CASE(connect_explicit_port_bypasses_tw, "8.6", CONF_ENGINE),
	/* 8.7 failure, retry, listen, misc */
	CASE(connect_refused_state, "8.7", CONF_ENGINE),
	CASE(refused_port_released, "8.7", CONF_ENGINE),
	CASE(rebind_after_refused, "8.7", CONF_ENGINE),
	CASE(bind0_port_released_on_failed_connect, "8.7", CONF_ENGINE),
	CASE(connect_second_eisconn, "8.7", CONF_ENGINE),
	CASE(connect_unspec_disconnect, "8.7", CONF_ENGINE),
	CASE(connect_args, "8.7", 0),
	CASE(connect_args_getpeername, "8.7", CONF_PEERNAME),
	CASE(listen_noport_bound, "8.7", 0),
	CASE(listen_noport_exhausted, "8.7", 0),
	CASE(sendto_unconnected, "8.7", CONF_ENGINE),
	/* data calls */
	CASE(accept_inherits_options, "io", CONF_ENGINE),
	CASE(sendmsg_recvmsg_iov, "io", CONF_ENGINE),
	CASE(recv_flags_on_stream, "io", CONF_ENGINE),
	CASE(msg_iovec_errors, "io", CONF_ENGINE),
	/* bind_wildcard: first, second, plain, reuse */
	WILDCARD(v4_any, v4_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v4_any, v4_lo, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v4_any, v6_any, "0UUUU0UU", "00UUUUUU"),
	WILDCARD(v4_any, v6_any_only, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v4_any, v6_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v4_any, mapped_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v4_any, mapped_lo, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v4_lo, v4_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v4_lo, v4_lo, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v4_lo, v6_any, "0UUUU0UU", "00UUUUUU"),
	WILDCARD(v4_lo, v6_any_only, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v4_lo, v6_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v4_lo, mapped_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v4_lo, mapped_lo, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(v6_any, v4_any, "0UUUUUUU", "00UUUUUU"),
	WILDCARD(v6_any, v4_lo, "0UUUUUUU", "00UUUUUU"),
	WILDCARD(v6_any, v6_any, "0UUUUUUU", "00UUUUUU"),
	WILDCARD(v6_any, v6_any_only, "0UUUUUUU", "00UUUUUU"),
	WILDCARD(v6_any, v6_lo, "0UUUUUUU", "00UUUUUU"),
	WILDCARD(v6_any, mapped_any, "0UUUUUUU", "00UUUUUU"),
	WILDCARD(v6_any, mapped_lo, "0UUUUUUU", "00UUUUUU"),
	WILDCARD(v6_any_only, v4_any, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v6_any_only, v4_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v6_any_only, v6_any, "0U0UUUUU", "00UUUUUU"),
	WILDCARD(v6_any_only, v6_any_only, "0U0UUUUU", "000UUUUU"),
	WILDCARD(v6_any_only, v6_lo, "0U0UUUUU", "000UUUUU"),
	WILDCARD(v6_any_only, mapped_any, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v6_any_only, mapped_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v6_lo, v4_any, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v6_lo, v4_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v6_lo, v6_any, "0U0UUUUU", "00UUUUUU"),
	WILDCARD(v6_lo, v6_any_only, "0U0UUUUU", "000UUUUU"),
	WILDCARD(v6_lo, v6_lo, "0U0UUUUU", "000UUUUU"),
	WILDCARD(v6_lo, mapped_any, "00UUUUUU", "00UUUUUU"),
	WILDCARD(v6_lo, mapped_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(mapped_any, v4_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(mapped_any, v4_lo, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(mapped_any, v6_any, "0UUUU0UU", "00UUUUUU"),
	WILDCARD(mapped_any, v6_any_only, "00UUUUUU", "00UUUUUU"),
	WILDCARD(mapped_any, v6_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(mapped_any, mapped_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(mapped_any, mapped_lo, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(mapped_lo, v4_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(mapped_lo, v4_lo, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(mapped_lo, v6_any, "0UUUU0UU", "00UUUUUU"),
	WILDCARD(mapped_lo, v6_any_only, "00UUUUUU", "00UUUUUU"),
	WILDCARD(mapped_lo, v6_lo, "00UUUUUU", "00UUUUUU"),
	WILDCARD(mapped_lo, mapped_any, "0UUUU0UU", "00UUU0UU"),
	WILDCARD(mapped_lo, mapped_lo, "0UUUU0UU", "00UUU0UU"),
};

const size_t conf_ncases = sizeof(conf_cases) / sizeof(conf_cases[0]);

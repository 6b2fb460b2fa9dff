/* bind() and listen(): argument checks, conflict rules, the bind(0) search
 * and IP_BIND_ADDRESS_NO_PORT (spec sections 3, 4 and 6; cases of 8.2-8.4). */
#include "harness.h"

TestSuite(bind, .init = th_setup, .fini = th_teardown);

Test(bind, double_bind_einval)
{
	int fd = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), EINVAL);
}

Test(bind, addrlen_and_family)
{
	int fd = th_socket(AF_INET, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&sin, 15), -1);
	cr_assert_eq(errno, EINVAL);
	sin.sin_family = AF_INET6;
	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&sin, 16), -1);
	cr_assert_eq(errno, EAFNOSUPPORT);
	sin.sin_family = AF_UNSPEC;
	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&sin, 16), -1);
	cr_assert_eq(errno, EAFNOSUPPORT);
	sin.sin_addr.s_addr = 0;
	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&sin, 16), 0);
	cr_assert_eq(dtcp_bind(st, 999, (struct sockaddr *)&sin, 16), -1);
	cr_assert_eq(errno, EBADF);
}

Test(bind, nonlocal)
{
	int a, b, c, d;

	cr_assert_eq(dtcp_addr_del(st, "lo", "127.0.0.1/8"), 0);
	cr_assert_eq(dtcp_addr_add(st, "lo", "127.0.0.1/32"), 0);
	a = th_socket(AF_INET, NULL);
	cr_assert_eq(th_bind(a, "127.0.0.2", 0), EADDRNOTAVAIL);
	b = th_socket(AF_INET, NULL);
	cr_assert_eq(dtcp_setsockopt(st, b, SOL_IP, IP_FREEBIND, &(int){ 1 }, sizeof(int)), 0);
	cr_assert_eq(th_bind(b, "127.0.0.2", 0), 0);
	c = th_socket(AF_INET, NULL);
	cr_assert_eq(th_bind(c, "127.0.0.1", 0), 0);
	/* The address check precedes the double-bind check on IPv4. */
	cr_assert_eq(th_bind(c, "127.0.0.3", 0), EADDRNOTAVAIL);
	th_sysctl("net.ipv4.ip_nonlocal_bind", "1");
	d = th_socket(AF_INET, NULL);
	cr_assert_eq(th_bind(d, "127.0.0.2", 0), 0);
	/* 198.18.0.0/15 on a non-loopback prefix: only the address itself is local. */
	cr_assert_eq(dtcp_addr_add(st, "lo", "198.18.0.1/32"), 0);
}

Test(bind, whole_loopback_prefix_is_local)
{
	int fd = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(fd, "127.1.2.3", 0), 0);
	cr_assert_str_eq(th_addr(fd), "127.1.2.3");
}

Test(bind, privileged_port)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	dtcp_cred_set(st, 1000, 0);
	cr_assert_eq(th_bind(a, "0.0.0.0", 80), EACCES);
	cr_assert_eq(th_bind(b, "0.0.0.0", 1024), 0);
	th_sysctl("net.ipv4.ip_unprivileged_port_start", "80");
	cr_assert_eq(th_bind(a, "0.0.0.0", 80), 0);
	dtcp_cred_set(st, 0, DTCP_CAP_NET_BIND_SERVICE);
	cr_assert_eq(th_bind(c, "0.0.0.0", 22), 0);
}

Test(bind, port_in_use)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(a, "127.0.0.1", 5000), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 5000), EADDRINUSE);
	cr_assert_eq(th_port(b), 0, "a failed bind leaves no port");
	cr_assert_str_eq(th_addr(b), "0.0.0.0", "a failed bind leaves no address");
	cr_assert_eq(th_bind(c, "127.0.0.2", 5000), 0);
}

Test(bind, wildcard_specific)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL);
	int c = th_socket(AF_INET, NULL), d = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(a, "0.0.0.0", 5000), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 5000), EADDRINUSE);
	cr_assert_eq(th_bind(c, "127.0.0.1", 5001), 0);
	cr_assert_eq(th_bind(d, "0.0.0.0", 5001), EADDRINUSE);
}

Test(bind, reuseaddr_rules)
{
	int a = th_socket(AF_INET, "r"), b = th_socket(AF_INET, "r"), c = th_socket(AF_INET, "r");
	int d = th_socket(AF_INET, NULL), e = th_socket(AF_INET, "r"), f = th_socket(AF_INET, "r");

	cr_assert_eq(th_bind(a, "127.0.0.1", 5000), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 5000), 0);
	cr_assert_eq(th_listen(a), 0);
	cr_assert_eq(th_listen(b), EADDRINUSE);
	cr_assert_eq(th_sk(b)->state, INET_CLOSE, "a failed listen goes back to CLOSE");
	cr_assert_eq(th_bind(c, "127.0.0.1", 5000), EADDRINUSE, "onto a listener's port");
	cr_assert_eq(th_bind(d, "127.0.0.1", 5001), 0);
	cr_assert_eq(th_bind(e, "127.0.0.1", 5001), EADDRINUSE, "only the new socket has SO_REUSEADDR");
	cr_assert_eq(th_bind(f, "0.0.0.0", 5000), EADDRINUSE);
}

Test(bind, reuseport_uid)
{
	int a = th_socket(AF_INET, "p"), b = th_socket(AF_INET, "p"), c;

	cr_assert_eq(th_bind(a, "127.0.0.1", 5000), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 5000), 0);
	cr_assert_eq(th_listen(a), 0);
	cr_assert_eq(th_listen(b), 0);
	dtcp_cred_set(st, 1000, DTCP_CAP_ALL);
	c = th_socket(AF_INET, "p");
	cr_assert_eq(th_bind(c, "127.0.0.1", 5000), EADDRINUSE);
}

Test(bind, over_timewait)
{
	int a = th_socket(AF_INET, "r"), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, "r");
	int l = th_listener("127.0.0.2", 5000), tw1, tw2, d;

	(void)l;
	tw1 = th_socket(AF_INET, "r");
	cr_assert_eq(th_bind(tw1, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_connect(tw1, "127.0.0.2", 5000), 0);
	th_timewait(tw1, true);
	cr_assert_eq(th_bind(b, "127.0.0.1", 40000), EADDRINUSE);
	cr_assert_eq(th_bind(a, "127.0.0.1", 40000), 0);
	tw2 = th_socket(AF_INET, NULL);
	cr_assert_eq(th_bind(tw2, "127.0.0.1", 40002), 0);
	cr_assert_eq(th_connect(tw2, "127.0.0.2", 5000), 0);
	th_timewait(tw2, true);
	cr_assert_eq(th_bind(c, "127.0.0.1", 40002), EADDRINUSE);
	d = th_socket(AF_INET, NULL);
	cr_assert_eq(th_bind(d, "0.0.0.0", 40002), EADDRINUSE);
}

Test(bind, reuseport_over_timewait_ignores_uid)
{
	int l = th_listener("127.0.0.2", 5000), tw = th_socket(AF_INET, "p"), e;

	(void)l;
	cr_assert_eq(th_bind(tw, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_connect(tw, "127.0.0.2", 5000), 0);
	th_timewait(tw, true);
	dtcp_cred_set(st, 1000, DTCP_CAP_ALL);
	e = th_socket(AF_INET, "p");
	cr_assert_eq(th_bind(e, "127.0.0.1", 40000), 0);
}

Test(bind, active_socket_einval)
{
	int l = th_listener("127.0.0.2", 5000), c = th_socket(AF_INET, NULL), ls = th_socket(AF_INET, NULL);

	(void)l;
	cr_assert_eq(th_connect(c, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_bind(c, "127.0.0.1", 0), EINVAL);
	cr_assert_eq(th_listen(ls), 0);
	cr_assert_eq(th_bind(ls, "127.0.0.1", 0), EINVAL);
}

/* ---- IPv6 ---- */

Test(bind, v6_addrlen)
{
	int fd = th_socket(AF_INET6, NULL);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&sin6, 23), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&sin6, 24), 0);
}

Test(bind, v6_family_and_multicast)
{
	int fd = th_socket(AF_INET6, NULL);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET };

	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&sin6, sizeof(sin6)), -1);
	cr_assert_eq(errno, EAFNOSUPPORT);
	cr_assert_eq(th_bind(fd, "ff02::1", 0), EINVAL);
	cr_assert_eq(th_bind(fd, "fe80::1", 0), EINVAL, "link-local without a device");
}

Test(bind, v6_double_bind_order)
{
	int fd;

	cr_assert_eq(dtcp_addr_del(st, "lo", "127.0.0.1/8"), 0);
	cr_assert_eq(dtcp_addr_add(st, "lo", "127.0.0.1/32"), 0);
	fd = th_socket(AF_INET6, NULL);
	cr_assert_eq(th_bind(fd, "::1", 0), 0);
	cr_assert_eq(th_bind(fd, "::1", 0), EINVAL);
	cr_assert_eq(th_bind(fd, "::ffff:127.0.0.2", 0), EINVAL, "state check before the address check");
}

Test(bind, v6_nonlocal)
{
	int a, b;

	cr_assert_eq(dtcp_addr_del(st, "lo", "127.0.0.1/8"), 0);
	cr_assert_eq(dtcp_addr_add(st, "lo", "127.0.0.1/32"), 0);
	a = th_socket(AF_INET6, NULL);
	b = th_socket(AF_INET6, NULL);
	cr_assert_eq(th_bind(a, "::ffff:127.0.0.2", 0), EADDRNOTAVAIL);
	cr_assert_eq(th_bind(b, "::2", 0), EADDRNOTAVAIL);
	th_sysctl("net.ipv6.ip_nonlocal_bind", "1");
	cr_assert_eq(th_bind(b, "::2", 0), 0);
}

Test(bind, v6_v6only_mapped)
{
	int fd = th_socket(AF_INET6, "6");

	cr_assert_eq(th_bind(fd, "::ffff:127.0.0.1", 0), EINVAL);
}

static int v6only(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_IPV6, IPV6_V6ONLY, &v, &len), 0);
	return v;
}

Test(bind, v6_specific_bind_sets_v6only)
{
	int a = th_socket(AF_INET6, NULL), b = th_socket(AF_INET6, NULL), c = th_socket(AF_INET6, NULL);
	int d = th_socket(AF_INET6, "n");

	cr_assert_eq(th_bind(a, "::1", 0), 0);
	cr_assert_eq(v6only(a), 1);
	cr_assert_eq(th_bind(b, "::", 0), 0);
	cr_assert_eq(v6only(b), 0);
	cr_assert_eq(th_bind(c, "::ffff:127.0.0.1", 0), 0);
	cr_assert_eq(v6only(c), 0);
	cr_assert_eq(dtcp_setsockopt(st, a, SOL_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int)), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(th_bind(d, "::1", 0), 0);
	cr_assert_eq(v6only(d), 1);
	cr_assert_eq(dtcp_setsockopt(st, d, SOL_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int)), 0,
	             "no port held: still writable");
}

Test(bind, v6_failed_bind_restores_v6only)
{
	int a = th_socket(AF_INET6, NULL), b = th_socket(AF_INET6, NULL);

	cr_assert_eq(th_bind(a, "::1", 5000), 0);
	cr_assert_eq(th_bind(b, "::1", 5000), EADDRINUSE);
	cr_assert_eq(v6only(b), 0);
}

Test(bind, v6_dualstack_conflicts)
{
	int a = th_socket(AF_INET6, NULL), b = th_socket(AF_INET, NULL);
	int c = th_socket(AF_INET6, "6"), d = th_socket(AF_INET, NULL);
	int e = th_socket(AF_INET6, NULL), f = th_socket(AF_INET, NULL), g = th_socket(AF_INET6, NULL);

	cr_assert_eq(th_bind(a, "::", 5000), 0);
	cr_assert_eq(th_bind(b, "0.0.0.0", 5000), EADDRINUSE);
	cr_assert_eq(th_bind(c, "::", 5001), 0);
	cr_assert_eq(th_bind(d, "0.0.0.0", 5001), 0);
	cr_assert_eq(th_bind(e, "::ffff:127.0.0.1", 5002), 0);
	cr_assert_eq(th_bind(f, "127.0.0.1", 5002), EADDRINUSE);
	cr_assert_eq(th_bind(g, "::1", 5002), 0);
}

/* The bind_wildcard selftest's matrix, restated: after one socket holds
 * port P on the first address, binding the second address gets the errno. */
struct wc_case {
	int fam1;
	const char *a1;
	bool v6only1;
	int fam2;
	const char *a2;
	int expect;
};

static const struct wc_case wildcard_matrix[] = {
	{ AF_INET, "0.0.0.0", 0, AF_INET, "127.0.0.1", EADDRINUSE },
	{ AF_INET, "0.0.0.0", 0, AF_INET6, "::", EADDRINUSE },
	{ AF_INET, "0.0.0.0", 0, AF_INET6, "::ffff:0.0.0.0", EADDRINUSE },
	{ AF_INET, "0.0.0.0", 0, AF_INET6, "::ffff:127.0.0.1", EADDRINUSE },
	{ AF_INET, "0.0.0.0", 0, AF_INET6, "::1", 0 },
	{ AF_INET, "127.0.0.1", 0, AF_INET6, "::", EADDRINUSE },
	{ AF_INET, "127.0.0.1", 0, AF_INET6, "::1", 0 },
	{ AF_INET, "127.0.0.1", 0, AF_INET6, "::ffff:0.0.0.0", EADDRINUSE },
	{ AF_INET, "127.0.0.1", 0, AF_INET6, "::ffff:127.0.0.1", EADDRINUSE },
	{ AF_INET6, "::", 0, AF_INET, "127.0.0.1", EADDRINUSE },
	{ AF_INET6, "::", 1, AF_INET, "0.0.0.0", 0 },
	{ AF_INET6, "::", 1, AF_INET, "127.0.0.1", 0 },
	{ AF_INET6, "::", 1, AF_INET6, "::1", EADDRINUSE },
	{ AF_INET6, "::", 1, AF_INET6, "::ffff:127.0.0.1", 0 },
	{ AF_INET6, "::", 0, AF_INET6, "::ffff:0.0.0.0", EADDRINUSE },
	{ AF_INET6, "::ffff:0.0.0.0", 0, AF_INET, "127.0.0.1", EADDRINUSE },
	{ AF_INET6, "::ffff:0.0.0.0", 0, AF_INET6, "::1", 0 },
	{ AF_INET6, "::ffff:0.0.0.0", 0, AF_INET6, "::", EADDRINUSE },
	{ AF_INET6, "::ffff:127.0.0.1", 0, AF_INET6, "::1", 0 },
	{ AF_INET6, "::ffff:127.0.0.1", 0, AF_INET, "0.0.0.0", EADDRINUSE },
	{ AF_INET6, "::1", 0, AF_INET, "0.0.0.0", 0 },
	{ AF_INET6, "::1", 0, AF_INET6, "::", EADDRINUSE },
	{ AF_INET6, "::1", 0, AF_INET6, "::ffff:0.0.0.0", 0 },
};

Test(bind, wildcard_matrix)
{
	for (size_t i = 0; i < sizeof(wildcard_matrix) / sizeof(wildcard_matrix[0]); i++) {
		const struct wc_case *c = &wildcard_matrix[i];
		int port = 6000 + (int)i;
		int a = th_socket(c->fam1, c->v6only1 ? "6" : NULL), b = th_socket(c->fam2, NULL);

		cr_assert_eq(th_bind(a, c->a1, port), 0, "case %zu: first bind", i);
		cr_expect_eq(th_bind(b, c->a2, port), c->expect, "case %zu: %s then %s", i, c->a1, c->a2);
		dtcp_close(st, a);
		dtcp_close(st, b);
	}
}

/* ---- bind(0) ---- */

Test(bind, bind0_odd_in_range)
{
	for (int i = 0; i < 32; i++) {
		int fd = th_socket(AF_INET, NULL), p;

		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		p = th_port(fd);
		cr_assert(p >= 32768 && p <= 60999 && (p & 1), "port %d", p);
	}
}

Test(bind, bind0_reuseaddr_lower_half)
{
	for (int i = 0; i < 32; i++) {
		int fd = th_socket(AF_INET, "r"), p;

		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		p = th_port(fd);
		cr_assert(p >= 32768 && p < 46884 && (p & 1), "port %d", p);
	}
}

Test(bind, bind0_exhaustion)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL);
	int c = th_socket(AF_INET, NULL), d = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(a), 40000);
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), EADDRINUSE);
	cr_assert_eq(th_bind(c, "127.0.0.2", 0), 0);
	cr_assert_eq(th_port(c), 40000);
	cr_assert_eq(th_bind(d, "0.0.0.0", 0), EADDRINUSE);
}

Test(bind, bind0_wildcard_blocks_specific)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(a, "0.0.0.0", 0), 0);
	cr_assert_eq(th_port(a), 40000);
	cr_assert_eq(th_bind(b, "127.0.0.5", 0), EADDRINUSE);
}

Test(bind, autobind_reuse_sysctl)
{
	int a = th_socket(AF_INET, "r"), b = th_socket(AF_INET, "r"), c = th_socket(AF_INET, "r");

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), EADDRINUSE);
	th_sysctl("net.ipv4.ip_autobind_reuse", "1");
	cr_assert_eq(th_bind(c, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(c), 40000);
}

/* reuseaddr_ports_exhausted: with ip_autobind_reuse, two SO_REUSEADDR
 * sockets share a port unless both also have SO_REUSEPORT with one uid. */
Test(bind, reuseaddr_ports_exhausted)
{
	static const char *const opts[][2] = {
		{ "r", "r" }, { "rp", "r" }, { "r", "rp" }, { "rp", "rp" },
		{ "", "r" }, { "r", "" }, { "p", "p" }, { "rp", "p" },
	};
	static const int expect[] = { 0, 0, 0, EADDRINUSE, EADDRINUSE, EADDRINUSE, EADDRINUSE, EADDRINUSE };

	th_sysctl("net.ipv4.ip_local_port_range", "32768 32768");
	th_sysctl("net.ipv4.ip_autobind_reuse", "1");
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		int a = th_socket(AF_INET, opts[i][0]), b = th_socket(AF_INET, opts[i][1]);

		cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
		cr_expect_eq(th_bind(b, "127.0.0.1", 0), expect[i], "case %zu: %s / %s", i, opts[i][0], opts[i][1]);
		dtcp_close(st, a);
		dtcp_close(st, b);
	}
	/* Different uids, both SO_REUSEADDR and SO_REUSEPORT: bind(0) shares the
	 * port, but only one of them may listen. */
	int a = th_socket(AF_INET, "rp"), b;

	dtcp_cred_set(st, 1000, DTCP_CAP_ALL);
	b = th_socket(AF_INET, "rp");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0);
	cr_assert_eq(th_listen(a), 0);
	cr_assert_eq(th_listen(b), EADDRINUSE);
}

Test(bind, odd_sized_range_bind0)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40002");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(a), 40001);
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(b), 40000);
	cr_assert_eq(th_bind(c, "127.0.0.1", 0), EADDRINUSE);
}

Test(bind, reserved_ports_skipped_by_bind0)
{
	th_sysctl("net.ipv4.ip_local_port_range", "40000 40003");
	th_sysctl("net.ipv4.ip_local_reserved_ports", "40000-40002");
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(a, "127.0.0.9", 0), 0);
	cr_assert_eq(th_port(a), 40003);
	cr_assert_eq(th_bind(b, "127.0.0.9", 0), EADDRINUSE);
	cr_assert_eq(th_bind(c, "127.0.0.1", 40001), 0, "an explicit bind may use a reserved port");
}

Test(bind, bind0_exact_port_pinned)
{
	/* With the random source at zero the bind(0) offset is 0|1: the first
	 * port probed is lo + 1, then lo + 3, ... */
	th_sysctl("net.ipv4.ip_local_port_range", "40000 40009");
	th_zero_random = 1;
	st->rnd_pos = sizeof(st->rnd_buf);
	for (int i = 0; i < 5; i++) {
		int fd = th_socket(AF_INET, NULL);

		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		cr_assert_eq(th_port(fd), 40001 + 2 * i);
	}
	for (int i = 0; i < 5; i++) {
		int fd = th_socket(AF_INET, NULL);

		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		cr_assert_eq(th_port(fd), 40000 + 2 * i, "second pass: the other parity");
	}
}

/* ---- IP_BIND_ADDRESS_NO_PORT ---- */

Test(bind, noport_getsockname_zero)
{
	int fd = th_socket(AF_INET, "n");

	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_str_eq(th_addr(fd), "127.0.0.1");
	cr_assert_eq(th_port(fd), 0);
	cr_assert_eq(st->bt.tb2_count, 0, "no bucket taken");
	cr_assert_eq(st->bt.tb_pool.in_use, 0, "no bucket taken");
}

Test(bind, noport_holds_no_port)
{
	int n = th_socket(AF_INET, "n"), a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(n, "127.0.0.1", 0), 0);
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(a), 40000);
	cr_assert_eq(th_bind(b, "0.0.0.0", 40001), 0);
}

Test(bind, noport_rebind_allowed)
{
	int fd = th_socket(AF_INET, "n");

	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(th_bind(fd, "127.0.0.2", 0), 0);
	cr_assert_str_eq(th_addr(fd), "127.0.0.2");
	cr_assert_eq(th_bind(fd, "127.0.0.3", 5000), 0);
	cr_assert_str_eq(th_addr(fd), "127.0.0.3");
	cr_assert_eq(th_port(fd), 5000);
	cr_assert_eq(th_bind(fd, "127.0.0.4", 0), EINVAL);
}

Test(bind, opt_explicit_port_unaffected)
{
	int a = th_socket(AF_INET, "n"), b = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(a, "127.0.0.1", 5000), 0);
	cr_assert_eq(th_port(a), 5000);
	cr_assert_eq(th_bind(b, "127.0.0.1", 5000), EADDRINUSE);
}

Test(bind, v6_noport_getsockname)
{
	int fd = th_socket(AF_INET6, "n");
	struct sockaddr_in6 sin6;
	socklen_t len = sizeof(sin6);

	cr_assert_eq(th_bind(fd, "::1", 0), 0);
	cr_assert_eq(dtcp_getsockname(st, fd, (struct sockaddr *)&sin6, &len), 0);
	cr_assert_eq(len, 28);
	cr_assert_eq(sin6.sin6_port, 0);
	cr_assert_eq(sin6.sin6_scope_id, 0);
	cr_assert(IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr));
}

Test(bind, noport_close_leaves_no_trace)
{
	int fd = th_socket(AF_INET, "n");

	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(dtcp_close(st, fd), 0);
	cr_assert_eq(dtcp_close(st, fd), -1);
	cr_assert_eq(errno, EBADF);
}

/* ---- listen() ---- */

Test(bind, listen_noport_bound)
{
	int a = th_socket(AF_INET, "n"), b = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_listen(a), 0);
	cr_assert_str_eq(th_addr(a), "127.0.0.1");
	cr_assert(th_port(a) & 1, "listen autobind is the bind(0) search: odd");
	cr_assert_eq(th_listen(b), 0);
	cr_assert_str_eq(th_addr(b), "0.0.0.0");
	cr_assert(th_port(b) & 1);
	cr_assert_eq(lhash_lookup(&st->lh, &th_sk(a)->rcv_saddr, (uint16_t)th_port(a)), th_sk(a));
}

Test(bind, listen_noport_exhausted)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, "n");

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(a, "0.0.0.0", 0), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0);
	cr_assert_eq(th_listen(b), EADDRINUSE);
	cr_assert_eq(th_port(b), 0);
	cr_assert_eq(th_sk(b)->state, INET_CLOSE);
}

Test(bind, listen_twice_changes_backlog_only)
{
	int a = th_socket(AF_INET, NULL);
	int port;

	cr_assert_eq(th_listen(a), 0);
	port = th_port(a);
	cr_assert_eq(dtcp_listen(st, a, 10), 0);
	cr_assert_eq(th_port(a), port);
	cr_assert_eq(th_sk(a)->backlog, 10);
	cr_assert_eq(dtcp_listen(st, a, -1), 0);
	cr_assert_eq(th_sk(a)->backlog, 4096, "backlog clamped to somaxconn");
}

Test(bind, listen_on_connected_einval)
{
	int l = th_listener("127.0.0.2", 5000), c = th_socket(AF_INET, NULL);

	(void)l;
	cr_assert_eq(th_connect(c, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_listen(c), EINVAL);
}

Test(bind, v6_link_local_scope)
{
	int a = th_socket(AF_INET6, NULL), b = th_socket(AF_INET6, NULL), c = th_socket(AF_INET6, NULL);
	int d = th_socket(AF_INET6, NULL);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	cr_assert_eq(dtcp_addr_add(st, "lo", "fe80::1/64"), 0);
	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	sin6.sin6_scope_id = 99;
	cr_assert_eq(dtcp_bind(st, a, (struct sockaddr *)&sin6, sizeof(sin6)), -1);
	cr_assert_eq(errno, ENODEV, "scope of a missing interface");
	sin6.sin6_scope_id = 1;
	cr_assert_eq(dtcp_bind(st, d, (struct sockaddr *)&sin6, 24), -1);
	cr_assert_eq(errno, EINVAL, "the scope is read only from a 28-byte address");
	cr_assert_eq(dtcp_bind(st, b, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	/* A link-local destination with another scope than the bound device. */
	sin6.sin6_scope_id = 2;
	sin6.sin6_port = htons(5000);
	cr_assert_eq(inet_connect(st, th_sk(b), (struct sockaddr *)&sin6, sizeof(sin6)), -EINVAL);
	cr_assert_eq(inet_connect(st, th_sk(c), (struct sockaddr *)&sin6, 24), -EINVAL, "no scope, no device");
}

/* The scope of a link-local address becomes the bound device even when it
 * names no interface; later binds then fail the device lookup. */
Test(bind, v6_bad_scope_sticks)
{
	int a = th_socket(AF_INET6, NULL), b = th_socket(AF_INET6, NULL);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_scope_id = 99 };

	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	cr_assert_eq(dtcp_bind(st, a, (struct sockaddr *)&sin6, sizeof(sin6)), -1);
	cr_assert_eq(errno, ENODEV);
	cr_assert_eq(th_bind(a, "::1", 0), ENODEV);
	cr_assert_eq(th_bind(a, "::ffff:127.0.0.1", 0), ENODEV);
	cr_assert_eq(th_bind(b, "::1", 0), 0);
}

Test(bind, addrlen_over_sockaddr_storage)
{
	int fd = th_socket(AF_INET, NULL);
	struct sockaddr_storage ss = { .ss_family = AF_INET };

	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&ss, sizeof(ss) + 1), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&ss, sizeof(ss)), 0);
}

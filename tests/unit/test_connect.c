/* connect() port selection (spec section 5; cases of 8.5-8.7 that need no
 * handshake: connect() here runs the port-table half, up to SYN_SENT). */
#include "harness.h"

#include <string.h>

TestSuite(connect, .init = th_setup, .fini = th_teardown);

static int noport(const char *src, const char *dst, int dport, int *err)
{
	int port;

	th_noport_connect(src, dst, dport, &port, err);
	return port;
}

Test(connect, noport_even)
{
	for (int i = 0; i < 16; i++) {
		int err, p = noport("127.0.0.1", "127.0.0.2", 5000 + i, &err);

		cr_assert_eq(err, 0);
		cr_assert(p >= 32768 && p <= 60999 && !(p & 1), "port %d", p);
	}
}

Test(connect, unbound_autobind)
{
	int fd = th_socket(AF_INET, NULL);

	cr_assert_eq(th_connect(fd, "127.0.0.5", 5000), 0);
	cr_assert_str_eq(th_addr(fd), "127.0.0.1");
	cr_assert(!(th_port(fd) & 1));
	cr_assert_eq(th_sk(fd)->state, INET_SYN_SENT);
	cr_assert_eq(ehash_lookup(&st->eh, &th_sk(fd)->rcv_saddr, (uint16_t)th_port(fd), &th_sk(fd)->daddr, 5000),
	             th_sk(fd));
}

/* dtcp_connect() puts a searched port's socket into the established table
 * and among its port bucket's owners after its SYN is out
 * (inet_connect_defer): by the time it returns, the socket is in the table
 * and counted in its buckets; its link into the owners' list may wait
 * (bind_table.link_pending), but whatever reads that list sees it: a bind()
 * to the same address and port conflicts with it. */
Test(connect, public_connect_inserts_before_returning)
{
	int fd = dtcp_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1, fd2;
	struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET, .sin_port = htons(5000) };
	struct inet_sock *sk;

	cr_assert_geq(fd, 0);
	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)), 0);
	s.sin_addr.s_addr = inet_addr("127.0.0.1");
	cr_assert_eq(dtcp_bind(st, fd, (struct sockaddr *)&s, sizeof(s)), 0);
	d.sin_addr.s_addr = inet_addr("127.0.0.9");
	cr_assert_eq(dtcp_connect(st, fd, (struct sockaddr *)&d, sizeof(d)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	sk = th_sk(fd);
	cr_assert_eq(sk->state, INET_SYN_SENT);
	cr_assert_neq(sk->num, 0);
	cr_assert_eq(ehash_lookup(&st->eh, &sk->rcv_saddr, sk->num, &sk->daddr, sk->dport), sk);
	cr_assert_not_null(sk->tb2, "the port's accounting is done");
	cr_assert_eq(sk->tb2->nowners, 1);
	cr_assert_eq(sk->tb2->tb, bind_table_port(&st->bt, sk->num));
	cr_assert_null(st->connect_insert, "nothing left pending but the link");
	/* A bind() to the same address and port walks the owners: it finds
	 * the socket (the kernel's EADDRINUSE), linked by then. */
	fd2 = th_socket(AF_INET, NULL);
	cr_assert_eq(th_bind(fd2, "127.0.0.1", sk->num), EADDRINUSE);
	cr_assert_null(st->bt.link_pending);
	cr_assert_eq(sk->tb2->owners.first, &sk->bind_node, "linked among its bucket's owners");
	cr_assert_eq(sk->bind_node.pprev, &sk->tb2->owners.first);
	/* And the port goes back whole on close. */
	cr_assert_eq(dtcp_close(st, fd2), 0);
	cr_assert_eq(dtcp_close(st, fd), 0);
	cr_assert_eq(st->bt.tb2_count, 0);
	cr_assert_eq(st->bt.tb_pool.in_use, 0);
}

/* Two connects on one port and address (a one-port range, two peers): the
 * first is linked when the second takes the port's bucket, the second
 * waits; closing either, in either order, keeps the bucket for the other
 * and frees it with the last. */
static void two_on_one_port(bool close_last_first)
{
	int fd[2];
	struct inet_bind2_bucket *tb2;

	cr_assert_eq(dtcp_sysctl_set(st, "net.ipv4.ip_local_port_range", "40000 40000"), 0);
	for (int i = 0; i < 2; i++) {
		int one = 1;
		struct sockaddr_in s = { .sin_family = AF_INET }, d = { .sin_family = AF_INET, .sin_port = htons(5000) };

		fd[i] = dtcp_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		cr_assert_geq(fd[i], 0);
		cr_assert_eq(dtcp_setsockopt(st, fd[i], SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)), 0);
		s.sin_addr.s_addr = inet_addr("127.0.0.1");
		cr_assert_eq(dtcp_bind(st, fd[i], (struct sockaddr *)&s, sizeof(s)), 0);
		d.sin_addr.s_addr = i ? inet_addr("127.0.0.9") : inet_addr("127.0.0.8");
		cr_assert_eq(dtcp_connect(st, fd[i], (struct sockaddr *)&d, sizeof(d)), -1);
		cr_assert_eq(errno, EINPROGRESS);
		cr_assert_eq(th_port(fd[i]), 40000);
	}
	tb2 = th_sk(fd[0])->tb2;
	cr_assert_eq(th_sk(fd[1])->tb2, tb2, "one address bucket");
	cr_assert_eq(tb2->nowners, 2);
	cr_assert_eq(tb2->owners.first, &th_sk(fd[0])->bind_node, "the first linked by the second's connect");
	cr_assert_eq(st->bt.link_pending, th_sk(fd[1]));
	cr_assert_eq(dtcp_close(st, fd[close_last_first ? 1 : 0]), 0);
	cr_assert_eq(st->bt.tb2_count, 1, "the other still holds the port");
	cr_assert_eq(tb2->nowners, 1);
	cr_assert_not_null(tb2->owners.first);
	cr_assert_eq(dtcp_close(st, fd[close_last_first ? 0 : 1]), 0);
	cr_assert_eq(st->bt.tb2_count, 0);
	cr_assert_eq(st->bt.tb_pool.in_use, 0);
	cr_assert_null(st->bt.link_pending);
}

Test(connect, two_on_one_port_close_first_first)
{
	two_on_one_port(false);
}

Test(connect, two_on_one_port_close_last_first)
{
	two_on_one_port(true);
}

Test(connect, bind0_keeps_port)
{
	int fd = th_socket(AF_INET, NULL), p;

	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	p = th_port(fd);
	cr_assert(p & 1);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(fd), p);
}

Test(connect, wildcard_bind0_moves_address_bucket)
{
	int fd = th_socket(AF_INET, NULL), p;
	struct in6_addr lo;

	cr_assert_eq(th_bind(fd, "0.0.0.0", 0), 0);
	p = th_port(fd);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
	cr_assert_str_eq(th_addr(fd), "127.0.0.1");
	addr_set_mapped(&lo, htonl(INADDR_LOOPBACK));
	cr_assert_not_null(bind_table_find2(&st->bt, (uint16_t)p, &lo));
	addr_set_mapped(&lo, 0);
	cr_assert_null(bind_table_find2(&st->bt, (uint16_t)p, &lo));
}

Test(connect, noport_shares_port)
{
	int err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40000);
	cr_assert_eq(err, 0);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.3", 5000, &err), 40000);
	cr_assert_eq(err, 0);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5001, &err), 40000);
	cr_assert_eq(err, 0);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 0);
	cr_assert_eq(err, EADDRNOTAVAIL);
	cr_assert_eq(st->bt.tb_pool.in_use, 1, "one port bucket for all of them");
}

Test(connect, unbound_shares_port)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_connect(b, "127.0.0.2", 5001), 0);
	cr_assert_eq(th_port(a), 40000);
	cr_assert_eq(th_port(b), 40000);
	cr_assert_eq(th_connect(c, "127.0.0.2", 5000), EADDRNOTAVAIL);
	cr_assert_eq(th_port(c), 0);
	cr_assert_str_eq(th_addr(c), "0.0.0.0", "the source address is reset");
	cr_assert_eq(th_sk(c)->state, INET_CLOSE);
}

Test(connect, capacity_noport)
{
	int err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40003");
	for (int d = 0; d < 3; d++)
		for (int i = 0; i < 4; i++) {
			noport("127.0.0.1", "127.0.0.2", 5000 + d, &err);
			cr_assert_eq(err, 0);
		}
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
}

Test(connect, capacity_bind0)
{
	th_sysctl("net.ipv4.ip_local_port_range", "40000 40003");
	for (int i = 0; i < 4; i++) {
		int fd = th_socket(AF_INET, NULL);

		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		cr_assert_eq(th_connect(fd, "127.0.0.2", 5000 + i % 3), 0);
	}
	cr_assert_eq(th_bind(th_socket(AF_INET, NULL), "127.0.0.1", 0), EADDRINUSE);
}

Test(connect, bind0_ports_unusable_by_connect)
{
	int err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40003");
	for (int i = 0; i < 4; i++)
		cr_assert_eq(th_bind(th_socket(AF_INET, NULL), "127.0.0.1", 0), 0);
	noport("127.0.0.10", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
}

Test(connect, odd_sized_range_last_port_unused)
{
	int err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40002");
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40000);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40001);
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	/* bind(0) of another address takes connect-owned ports. */
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(a, "127.0.0.20", 0), 0);
	cr_assert_eq(th_port(a), 40001);
	cr_assert_eq(th_bind(b, "127.0.0.20", 0), 0);
	cr_assert_eq(th_port(b), 40000);
	cr_assert_eq(th_bind(c, "127.0.0.20", 0), EADDRINUSE);
}

Test(connect, skips_bind_owned_port)
{
	int b = th_socket(AF_INET, NULL), err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40001");
	cr_assert_eq(th_bind(b, "127.0.0.9", 40000), 0);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40001);
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5001, &err), 40001);
}

Test(connect, port_reusable_after_binder_gone)
{
	int b = th_socket(AF_INET, NULL), err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40000);
	cr_assert_eq(th_bind(b, "127.0.0.7", 0), 0);
	cr_assert_eq(th_port(b), 40000);
	noport("127.0.0.1", "127.0.0.2", 5001, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	dtcp_close(st, b);
	/* 6.18: the port is connect-owned again. */
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5002, &err), 40000);
	cr_assert_eq(err, 0);
}

Test(connect, owned_port_explicit_bind)
{
	int a = th_socket(AF_INET, "rn"), b = th_socket(AF_INET, "r"), c = th_socket(AF_INET, NULL), err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(a), 40000);
	cr_assert_eq(th_bind(b, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_bind(c, "127.0.0.1", 40000), EADDRINUSE);
	noport("127.0.0.1", "127.0.0.3", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
}

/* tcp_port_share: a disconnected connect-bound socket that then binds the
 * port explicitly keeps blocking it, even after another bind/close there. */
Test(connect, port_block_after_disconnect)
{
	int a = th_socket(AF_INET, "rn"), b = th_socket(AF_INET, "r"), err;
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(inet_connect(st, th_sk(a), &sa, sizeof(sa)), 0);
	cr_assert_eq(th_bind(a, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 40000), 0);
	dtcp_close(st, b);
	noport("127.0.0.1", "127.0.0.3", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
}

Test(connect, exhaustion_errno)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40001");
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(a), 40000);
	cr_assert_eq(th_connect(b, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(b), 40001);
	cr_assert_eq(th_connect(c, "127.0.0.2", 5000), EADDRNOTAVAIL);
	cr_assert_eq(th_port(c), 0);
	cr_assert_eq(st->cnt.connect_search_fail, 1);
}

Test(connect, explicit_port_4tuple)
{
	int a = th_socket(AF_INET, "r"), b = th_socket(AF_INET, "r");

	cr_assert_eq(th_bind(a, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_connect(b, "127.0.0.2", 5000), EADDRNOTAVAIL);
	cr_assert_eq(th_port(b), 40000, "an explicit port is kept after the failure");
	cr_assert_eq(th_connect(b, "127.0.0.2", 5001), 0);
}

Test(connect, same_dest_increments)
{
	int prev = -1, err;

	for (int i = 0; i < 20; i++) {
		int p = noport("127.0.0.1", "127.0.0.2", 5000, &err);

		cr_assert_eq(err, 0);
		if (prev >= 0) {
			int d = p - prev;

			cr_assert(d >= 2 && d <= 16 && !(d & 1), "delta %d", d);
		}
		prev = p;
	}
}

Test(connect, time_seed_resalts_every_10s)
{
	struct in6_addr s, d;
	uint64_t a, b, c;

	addr_set_mapped(&s, htonl(0x7f000001));
	addr_set_mapped(&d, htonl(0x7f000002));
	th_now_ns = UINT64_C(20000000000);
	a = inet_port_offset(st, &s, &d, 5000);
	th_sleep_ms(9999);
	b = inet_port_offset(st, &s, &d, 5000);
	th_sleep_ms(1);
	c = inet_port_offset(st, &s, &d, 5000);
	cr_assert_eq(a, b);
	cr_assert_neq(a, c);
	cr_assert_neq(inet_port_offset(st, &s, &d, 5001), c, "the remote port is an input");
}

Test(connect, v4_any_is_loopback)
{
	int fd = th_socket(AF_INET, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5000) };

	cr_assert_eq(inet_connect(st, th_sk(fd), (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(addr_v4(&th_sk(fd)->daddr), htonl(INADDR_LOOPBACK));
	cr_assert_str_eq(th_addr(fd), "127.0.0.1");
}

Test(connect, args)
{
	int fd = th_socket(AF_INET, "n");
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5000) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(inet_connect(st, th_sk(fd), (struct sockaddr *)&sin, 15), -EINVAL);
	cr_assert_eq(inet_connect(st, th_sk(fd), (struct sockaddr *)&sin, 1), -EINVAL);
	cr_assert_eq(inet_connect(st, th_sk(fd), (struct sockaddr *)&sin6, sizeof(sin6)), -EAFNOSUPPORT);
	cr_assert_eq(th_port(fd), 0);
	cr_assert_eq(th_connect(fd, "224.0.0.1", 5000), ENETUNREACH);
	cr_assert_eq(th_connect(fd, "255.255.255.255", 5000), ENETUNREACH);
	cr_assert_eq(th_connect(fd, "203.0.113.1", 5000), ENETUNREACH, "no route");
	cr_assert_eq(th_port(fd), 0);
}

Test(connect, second_eisconn_and_ealready)
{
	int a = th_socket(AF_INET, NULL), l = th_socket(AF_INET, NULL);

	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), EALREADY, "in progress");
	th_sk(a)->ss = INET_SS_CONNECTED;
	th_sk(a)->state = INET_ESTABLISHED;
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), EISCONN);
	cr_assert_eq(th_listen(l), 0);
	cr_assert_eq(th_connect(l, "127.0.0.2", 5000), EISCONN);
}

/* 5.9: a later failure (RST, timeout) releases a connect-chosen port but
 * getsockname() keeps showing it. */
Test(connect, refused_state)
{
	int a = th_socket(AF_INET, "n"), b = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40001");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "127.0.0.1", 1), 0);
	cr_assert_eq(th_port(a), 40000);
	inet_disconnect(st, th_sk(a));
	cr_assert_str_eq(th_addr(a), "127.0.0.1");
	cr_assert_eq(th_port(a), 40000, "stale sport");
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(b), 40001);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(a), 40000);
}

Test(connect, refused_port_released)
{
	int a = th_socket(AF_INET, "n"), b = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "127.0.0.1", 1), 0);
	inet_disconnect(st, th_sk(a));
	cr_assert_eq(th_port(a), 40000);
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(b), 40000);
}

Test(connect, rebind_after_refused)
{
	int a = th_socket(AF_INET, "n");

	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "127.0.0.1", 1), 0);
	inet_disconnect(st, th_sk(a));
	cr_assert_eq(th_bind(a, "127.0.0.3", 0), 0);
	cr_assert_str_eq(th_addr(a), "127.0.0.3");
	cr_assert_eq(th_port(a), 0);
}

Test(connect, bind0_port_released_on_failed_connect)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), p;

	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	p = th_port(a);
	cr_assert(p & 1);
	cr_assert_eq(th_connect(a, "127.0.0.1", 1), 0);
	inet_disconnect(st, th_sk(a));
	cr_assert_eq(th_bind(b, "127.0.0.1", p), 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert(!(th_port(a) & 1), "the retry runs the connect() search");
}

Test(connect, unspec_disconnect)
{
	int a = th_socket(AF_INET, "n"), old;
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	old = th_port(a);
	cr_assert_eq(inet_connect(st, th_sk(a), &sa, sizeof(sa)), 0);
	cr_assert_eq(th_port(a), old);
	cr_assert_eq(th_sk(a)->num, 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_neq(th_port(a), old, "same destination, same 10 s window: the perturbation moved on");
}

Test(connect, reserved_ports)
{
	int err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40003");
	th_sysctl("net.ipv4.ip_local_reserved_ports", "40000-40002");
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40003);
	for (int i = 0; i < 3; i++) {
		noport("127.0.0.1", "127.0.0.2", 5000, &err);
		cr_assert_eq(err, EADDRNOTAVAIL);
	}
	int b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(b, "127.0.0.9", 0), 0);
	cr_assert_eq(th_port(b), 40003);
	cr_assert_eq(th_bind(c, "127.0.0.1", 40001), 0);
}

/* ---- IP_LOCAL_PORT_RANGE ---- */

static int lpr_socket(int family, int lo, int hi)
{
	int fd = th_socket(family, "n");
	uint32_t v = (uint32_t)lo | (uint32_t)hi << 16;

	cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)), 0);
	return fd;
}

Test(connect, lpr_connect_both_parities)
{
	int odd = 0, even = 0;

	for (int i = 0; i < 24; i++) {
		int fd = lpr_socket(AF_INET, 40100, 40199), p;

		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
		p = th_port(fd);
		cr_assert(p >= 40100 && p <= 40199);
		if (p & 1)
			odd++;
		else
			even++;
	}
	cr_assert(odd && even);
}

Test(connect, lpr_clamping)
{
	static const int r[][2] = { { 30000, 39999 }, { 45000, 45000 }, { 0, 40000 }, { 49999, 0 } };
	int fd, p;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 49999");
	fd = lpr_socket(AF_INET, r[0][0], r[0][1]);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
	p = th_port(fd);
	cr_assert(p >= 40000 && p <= 49999);
	/* Each end is replaced only by a value inside the stack's range. */
	static const int expect[] = { 0, 45000, 40000, 49999 };
	for (int i = 1; i < 4; i++) {
		uint32_t v = (uint32_t)r[i][0] | (uint32_t)r[i][1] << 16;

		fd = th_socket(AF_INET, NULL);
		cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)), 0);
		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		cr_assert_eq(th_port(fd), expect[i], "range %d-%d", r[i][0], r[i][1]);
	}
}

Test(connect, lpr_odd_sized)
{
	int seen = 0;

	for (int i = 0; i < 3; i++) {
		int fd = lpr_socket(AF_INET, 40000, 40002);

		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
		cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
		seen |= 1 << (th_port(fd) - 40000);
	}
	cr_assert_eq(seen, 7, "all three ports");
	/* bind(0) keeps its parity passes: one port of three is never tried. */
	for (int i = 0; i < 3; i++) {
		uint32_t v = 40010u | 40012u << 16;
		int fd = th_socket(AF_INET, NULL);

		cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)), 0);
		cr_assert_eq(th_bind(fd, "127.0.0.1", 0), i < 2 ? 0 : EADDRINUSE);
	}
}

Test(connect, lpr_does_not_share_bind_owned)
{
	int b = th_socket(AF_INET, NULL), fd;

	cr_assert_eq(th_bind(b, "127.0.0.9", 40000), 0);
	fd = lpr_socket(AF_INET, 40000, 40001);
	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(fd), 40001);
	fd = lpr_socket(AF_INET, 40000, 40001);
	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), EADDRNOTAVAIL);
}

Test(connect, lpr_exhaust_8_v6)
{
	int seen = 0;

	for (int i = 0; i < 9; i++) {
		uint32_t v = 40000u | 40007u << 16;
		int fd = th_socket(AF_INET6, NULL);

		cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)), 0);
		if (i < 8) {
			cr_assert_eq(th_bind(fd, "::1", 0), 0);
			seen |= 1 << (th_port(fd) - 40000);
		} else {
			cr_assert_eq(th_bind(fd, "::1", 0), EADDRINUSE);
		}
	}
	cr_assert_eq(seen, 0xff);
}

/* late_bind: a no-port socket shows port 0, and after connect() the port is
 * inside the socket's range. */
Test(connect, lpr_late_bind)
{
	int fd = lpr_socket(AF_INET6, 40100, 40109);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 49999");
	cr_assert_eq(th_bind(fd, "::1", 0), 0);
	cr_assert_eq(th_port(fd), 0);
	cr_assert_eq(th_connect(fd, "::1", 5000), 0);
	cr_assert(th_port(fd) >= 40100 && th_port(fd) <= 40109);
}

/* ---- IPv6 ---- */

Test(connect, v6_noport_even)
{
	for (int i = 0; i < 8; i++) {
		int err, p = noport("::1", "::1", 5000 + i, &err);

		cr_assert_eq(err, 0);
		cr_assert(!(p & 1) && p >= 32768 && p <= 60999);
	}
}

Test(connect, v6_shares_port)
{
	int err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(noport("::1", "::1", 5000, &err), 40000);
	cr_assert_eq(noport("::1", "::1", 5001, &err), 40000);
	noport("::1", "::1", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
}

Test(connect, v6_mapped_connect)
{
	int a = th_socket(AF_INET6, "n"), b = th_socket(AF_INET6, "6");

	cr_assert_eq(th_bind(a, "::ffff:127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "::ffff:127.0.0.2", 5000), 0);
	cr_assert_str_eq(th_addr(a), "::ffff:127.0.0.1");
	cr_assert(!(th_port(a) & 1));
	cr_assert_eq(th_connect(b, "::ffff:127.0.0.2", 5000), ENETUNREACH);
}

Test(connect, v6_unbound_connect)
{
	int a = th_socket(AF_INET6, NULL), b = th_socket(AF_INET6, NULL);

	cr_assert_eq(th_connect(a, "::1", 5000), 0);
	cr_assert_str_eq(th_addr(a), "::1");
	cr_assert(!(th_port(a) & 1));
	cr_assert_eq(th_connect(b, "::ffff:127.0.0.2", 5000), 0);
	cr_assert_str_eq(th_addr(b), "::ffff:127.0.0.1");
}

Test(connect, v6_any_is_loopback)
{
	int a = th_socket(AF_INET6, NULL);

	cr_assert_eq(th_connect(a, "::", 5000), 0);
	cr_assert(IN6_IS_ADDR_LOOPBACK(&th_sk(a)->daddr));
}

Test(connect, v6_args)
{
	int a = th_socket(AF_INET6, NULL);

	cr_assert_eq(th_connect(a, "ff02::1", 5000), ENETUNREACH);
	cr_assert_eq(th_connect(a, "fe80::1", 5000), EINVAL);
	cr_assert_eq(th_connect(a, "2001:db8::1", 5000), ENETUNREACH);
	cr_assert_eq(dtcp_addr_add(st, "lo", "2001:db8::1/64"), 0);
	cr_assert_eq(th_connect(a, "2001:db8::2", 5000), 0);
	cr_assert_str_eq(th_addr(a), "2001:db8::1");
}

Test(connect, v6_same_dest_increments)
{
	int prev = -1, err;

	for (int i = 0; i < 20; i++) {
		int p = noport("::1", "::1", 5000, &err);

		cr_assert_eq(err, 0);
		if (prev >= 0)
			cr_assert(p - prev >= 2 && p - prev <= 16 && !((p - prev) & 1), "delta %d", p - prev);
		prev = p;
	}
}

Test(connect, v4_v6_share_port_space)
{
	int err, b = th_socket(AF_INET6, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40000);
	cr_assert_eq(noport("::1", "::1", 5000, &err), 40000);
	cr_assert_eq(th_bind(b, "::1", 0), EADDRINUSE);
}

/* ---- TIME_WAIT (5.6) ---- */

static int tw_setup(void)
{
	int fd = th_socket(AF_INET, "n");

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_port(fd), 40000);
	th_timewait(fd, true);
	return fd;
}

Test(connect, tw_reuse_loopback)
{
	int err;

	tw_setup();
	th_sleep_ms(70);
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	th_sleep_ms(1030);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5000, &err), 40000);
	cr_assert_eq(err, 0);
	cr_assert_eq(st->cnt.tw_recycled, 1);
}

Test(connect, tw_reuse_off)
{
	int err;

	tw_setup();
	th_sysctl("net.ipv4.tcp_tw_reuse", "0");
	th_sleep_ms(1100);
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	th_sysctl("net.ipv4.tcp_tw_reuse", "1");
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, 0);
}

Test(connect, tw_reuse_delay)
{
	int err;

	th_sysctl("net.ipv4.tcp_tw_reuse_delay", "500");
	tw_setup();
	th_sleep_ms(70);
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	th_sleep_ms(600);
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, 0);
}

Test(connect, tw_without_timestamps_never_recycled)
{
	int fd = th_socket(AF_INET, "n"), err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(fd, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(fd, "127.0.0.2", 5000), 0);
	th_timewait(fd, false);
	th_sleep_ms(5000);
	noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	/* Another destination shares the port. */
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5001, &err), 40000);
}

Test(connect, tw_reuse_2_is_loopback_only)
{
	int fd = th_socket(AF_INET, "n"), err;

	cr_assert_eq(dtcp_addr_add(st, "lo", "198.18.0.1/15"), 0);
	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(fd, "198.18.0.1", 0), 0);
	cr_assert_eq(th_connect(fd, "198.18.0.2", 5000), 0);
	th_timewait(fd, true);
	th_sleep_ms(2000);
	noport("198.18.0.1", "198.18.0.2", 5000, &err);
	cr_assert_eq(err, EADDRNOTAVAIL);
	th_sysctl("net.ipv4.tcp_tw_reuse", "1");
	noport("198.18.0.1", "198.18.0.2", 5000, &err);
	cr_assert_eq(err, 0);
}

Test(connect, explicit_port_bypasses_tw)
{
	int a = th_socket(AF_INET, "r"), b = th_socket(AF_INET, "r");

	th_sysctl("net.ipv4.tcp_tw_reuse", "0");
	cr_assert_eq(th_bind(a, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	th_timewait(a, true);
	cr_assert_eq(th_bind(b, "127.0.0.1", 40000), 0);
	cr_assert_eq(th_connect(b, "127.0.0.2", 5000), 0);
	cr_assert_eq(st->cnt.tw_recycled, 1);
}

/* ---- exact ports under a fixed secret ---- */

Test(connect, exact_port_pinned)
{
	static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct in6_addr s, d;
	uint64_t off;
	uint32_t *perturb, idx, start, before;
	int err, p;

	stack_set_secret(st, key);
	th_sysctl("net.ipv4.ip_local_port_range", "40000 40999");
	addr_set_mapped(&s, htonl(0x7f000001));
	addr_set_mapped(&d, htonl(0x7f000002));
	off = inet_port_offset(st, &s, &d, 5000);
	perturb = inet_perturb_table(st);
	idx = (uint32_t)(off & 0xffff);
	before = perturb[idx];
	/* The kernel's start: (perturb[idx] + (off >> 32)) mod n, even. */
	start = 40000 + (((before + (uint32_t)(off >> 32)) % 1000) & ~1u);
	p = noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(err, 0);
	cr_assert_eq(p, (int)start);
	/* The table entry moved by max(0, 2 * rand(0..7)) + 2: an even step in [2, 16]. */
	cr_assert(perturb[idx] - before >= 2 && perturb[idx] - before <= 16 && !((perturb[idx] - before) & 1));
	/* Occupy the next even port: the search steps over it, as the kernel's loop. */
	start = 40000 + (((perturb[idx] + (uint32_t)(off >> 32)) % 1000) & ~1u);
	int blocker = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(blocker, "127.0.0.50", (int)start), 0);
	before = perturb[idx];
	p = noport("127.0.0.1", "127.0.0.2", 5000, &err);
	cr_assert_eq(p, (int)(start + 2 > 40999 ? 40000 : start + 2));
	/* i was 2 (one port skipped): the increment is at least 2 + 2. */
	cr_assert(perturb[idx] - before >= 4, "increment %u", perturb[idx] - before);
}

Test(connect, exact_port_zero_random)
{
	/* Zero randomness: perturbation 0 and increments max(i, 0) + 2. */
	struct in6_addr s, d;
	uint64_t off;
	uint32_t start;

	th_zero_random = 1;
	st->rnd_pos = sizeof(st->rnd_buf);
	th_sysctl("net.ipv4.ip_local_port_range", "40000 40099");
	addr_set_mapped(&s, htonl(0x7f000001));
	addr_set_mapped(&d, htonl(0x7f000002));
	off = inet_port_offset(st, &s, &d, 5000);
	start = (uint32_t)(off >> 32) % 100 & ~1u;
	for (uint32_t k = 0; k < 5; k++) {
		int err, p = noport("127.0.0.1", "127.0.0.2", 5000, &err);

		cr_assert_eq(err, 0);
		cr_assert_eq(p, (int)(40000 + (start + 2 * k) % 100), "connect %u", k);
	}
}

/* ---- the search against a literal model of the kernel's loop ---- */

/* The kernel's __inet_hash_connect() walk, one probe per port, read-only:
 * the port it would take, or 0. */
static int model_search(struct inet_sock *sk, uint64_t port_offset)
{
	int low, high;
	bool local = inet_sk_port_range(st, sk, &low, &high);
	uint32_t step = local ? 1 : 2, remaining, offset;
	uint32_t *perturb = inet_perturb_table(st);

	high++;
	remaining = (uint32_t)(high - low);
	if (!local && remaining > 1)
		remaining &= ~1u;
	offset = (perturb[port_offset & 0xffff] + (uint32_t)(port_offset >> 32)) % remaining;
	if (!local)
		offset &= ~1u;
again:
	for (uint32_t i = 0, port = (uint32_t)low + offset; i < remaining; i += step, port += step) {
		struct inet_bind_bucket *tb;
		struct inet_sock *o;

		if (port >= (uint32_t)high)
			port -= remaining;
		if (sysctl_port_reserved(&st->sysctl, port))
			continue;
		tb = bind_table_port(&st->bt, (uint16_t)port);
		if (!tb)
			return (int)port;
		if (inet_bucket_bind_owned(tb))
			continue;
		o = ehash_lookup(&st->eh, &sk->rcv_saddr, (uint16_t)port, &sk->daddr, sk->dport);
		if (!o || (o->state == INET_TIME_WAIT && inet_tw_recyclable(st, o, false)))
			return (int)port;
	}
	if (!local) {
		offset++;
		if ((offset & 1) && remaining > 1)
			goto again;
	}
	return 0;
}

static uint64_t model_rng = 7;

static uint32_t model_rand(uint32_t n)
{
	model_rng ^= model_rng << 13;
	model_rng ^= model_rng >> 7;
	model_rng ^= model_rng << 17;
	return (uint32_t)(model_rng % n);
}

static void model_run(const char *range)
{
	static const char *const srcs[] = { "127.0.0.1", "127.0.0.9" };
	static const char *const dsts[] = { "127.0.0.2", "127.0.0.3", "198.18.0.2" };
	int conns[4096], nconn = 0, binds[256], nbind = 0, checked = 0, failures = 0;

	cr_assert_eq(dtcp_addr_add(st, "lo", "198.18.0.1/15"), 0);
	th_sysctl("net.ipv4.ip_local_port_range", range);
	th_sysctl("net.ipv4.ip_local_reserved_ports", "40010-40013,40100");
	th_sysctl("net.ipv4.tcp_tw_reuse", "1");
	for (int step = 0; step < 6000; step++) {
		uint32_t what = model_rand(100);

		if (what < 55 && nconn < 4096) {
			/* A no-port connect, sometimes with a per-socket range. */
			int fam = model_rand(4) == 0 ? AF_INET6 : AF_INET;
			int fd = th_socket(fam, "n"), dport = 5000 + (int)model_rand(3), predicted, err;
			const char *src = srcs[model_rand(2)], *dst = dsts[model_rand(3)];
			char s6[64], d6[64];
			struct sockaddr_in6 tmp;
			struct inet_sock *sk = th_sk(fd);

			if (model_rand(5) == 0) {
				uint32_t lo = 40000 + model_rand(100), v = lo | (lo + model_rand(40)) << 16;

				cr_assert_eq(dtcp_setsockopt(st, fd, SOL_IP, IP_LOCAL_PORT_RANGE, &v, sizeof(v)), 0);
			}
			if (!strncmp(dst, "198", 3))
				src = "198.18.0.1";
			snprintf(s6, sizeof(s6), "::ffff:%s", src);
			snprintf(d6, sizeof(d6), "::ffff:%s", dst);
			cr_assert_eq(th_bind(fd, fam == AF_INET6 ? s6 : src, 0), 0);
			/* Predict with the model from the same state. */
			inet_pton(AF_INET6, d6, &tmp.sin6_addr);
			sk->daddr = tmp.sin6_addr;
			sk->dport = (uint16_t)dport;
			predicted = model_search(sk, inet_port_offset(st, &sk->rcv_saddr, &sk->daddr, sk->dport));
			addr_set_any(&sk->daddr, fam);
			sk->dport = 0;
			err = th_connect(fd, fam == AF_INET6 ? d6 : dst, dport);
			if (predicted) {
				cr_assert_eq(err, 0, "step %d: model took %d, dtcp failed %d", step, predicted, err);
				cr_assert_eq(th_port(fd), predicted, "step %d", step);
				conns[nconn++] = fd;
			} else {
				cr_assert_eq(err, EADDRNOTAVAIL, "step %d: model failed, dtcp got %d (port %d)", step, err,
				             th_port(fd));
				failures++;
				dtcp_close(st, fd);
			}
			checked++;
		} else if (what < 70 && nconn) {
			int k = (int)model_rand((uint32_t)nconn);

			dtcp_close(st, conns[k]);
			conns[k] = conns[--nconn];
		} else if (what < 80 && nconn) {
			int k = (int)model_rand((uint32_t)nconn);

			th_timewait(conns[k], model_rand(4) != 0);
			conns[k] = conns[--nconn];
		} else if (what < 88 && nbind < 256) {
			int fd = th_socket(AF_INET, model_rand(2) ? "r" : NULL);

			if (th_bind(fd, model_rand(2) ? "127.0.0.1" : "127.0.0.77", 40000 + (int)model_rand(128)))
				dtcp_close(st, fd);
			else
				binds[nbind++] = fd;
		} else if (what < 95 && nbind) {
			int k = (int)model_rand((uint32_t)nbind);

			dtcp_close(st, binds[k]);
			binds[k] = binds[--nbind];
		} else {
			th_sleep_ms(model_rand(1500));
		}
	}
	cr_assert_gt(checked, 3000);
	cr_assert_gt(failures, 10, "the range was driven to exhaustion too");
	cr_assert_gt(st->dt.dense_pool.high_water, 0, "dense destinations were exercised");
	cr_assert_gt(st->cnt.tw_recycled, 0, "TIME_WAIT recycling was exercised");
}

Test(connect, matches_kernel_loop_model, .timeout = 120)
{
	model_run("40000 40127");
}

Test(connect, matches_kernel_loop_model_odd_range, .timeout = 120)
{
	model_run("40000 40126");
}

/* An odd-sized range loses one end port only when it has three ports: with
 * five, the even pass from an offset of 2 or more reaches hi, not lo. */
Test(connect, odd_sized_range_uses_hi)
{
	int used_hi = 0, err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40004");
	for (int d = 0; d < 64; d++)
		for (int k = 0; k < 6; k++) {
			int p = noport("127.0.0.1", "127.0.0.2", 5000 + d, &err);

			if (err)
				break;
			used_hi += p == 40004;
		}
	cr_assert_gt(used_hi, 0);
}

/* A bound-port connect() that fails gives back a bind(0) port (no
 * BINDPORT_LOCK), as tcp_set_state(CLOSE) does. */
Test(connect, failed_connect_releases_bind0_port)
{
	int a = th_socket(AF_INET, "r"), b = th_socket(AF_INET, "r"), c = th_socket(AF_INET, NULL);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	th_sysctl("net.ipv4.ip_autobind_reuse", "1");
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(b), 40000);
	cr_assert_eq(th_connect(a, "127.0.0.2", 5000), 0);
	cr_assert_eq(th_connect(b, "127.0.0.2", 5000), EADDRNOTAVAIL);
	cr_assert_eq(th_sk(b)->num, 0, "the port went back");
	cr_assert_eq(th_port(b), 40000, "getsockname keeps showing it");
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0, "the socket may bind again");
	cr_assert_eq(th_bind(c, "127.0.0.5", 40000), 0);
}

/* connect(AF_UNSPEC) on a socket that is already CLOSE changes nothing. */
Test(connect, unspec_on_close_keeps_port)
{
	int a = th_socket(AF_INET, NULL), b = th_socket(AF_INET, NULL), p;
	struct sockaddr sa = { .sa_family = AF_UNSPEC };

	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	p = th_port(a);
	cr_assert_eq(inet_connect(st, th_sk(a), &sa, sizeof(sa)), 0);
	cr_assert_eq(th_bind(b, "127.0.0.1", p), EADDRINUSE);
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), EINVAL);
}

/* 6.18 keeps the state per address bucket: a binder that moves into a
 * connect-owned address bucket (wildcard bind, then connect) leaves it
 * connect-owned, so the port turns connect-owned when the last connect
 * socket leaves. The binder's own 4-tuple must still be refused. */
Test(connect, binder_in_connect_owned_address_bucket)
{
	int c1 = th_socket(AF_INET, "rn"), b = th_socket(AF_INET, "r"), err;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	cr_assert_eq(th_bind(c1, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(c1, "127.0.0.2", 5001), 0);
	cr_assert_eq(th_port(c1), 40000);
	cr_assert_eq(th_bind(b, "0.0.0.0", 40000), 0);
	cr_assert_eq(th_connect(b, "127.0.0.2", 5002), 0);
	noport("127.0.0.1", "127.0.0.2", 5003, &err);
	cr_assert_eq(err, EADDRNOTAVAIL, "bind-owned while c1 is there");
	dtcp_close(st, c1);
	cr_assert_eq(noport("127.0.0.1", "127.0.0.2", 5003, &err), 40000);
	cr_assert_eq(err, 0);
	noport("127.0.0.1", "127.0.0.2", 5002, &err);
	cr_assert_eq(err, EADDRNOTAVAIL, "b holds 127.0.0.1:40000 -> 127.0.0.2:5002");
}

Test(connect, v6_mapped_bound_to_native)
{
	int a = th_socket(AF_INET6, NULL), b = th_socket(AF_INET6, "n");

	cr_assert_eq(th_bind(a, "::ffff:127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(a, "::1", 5000), EAFNOSUPPORT);
	cr_assert_eq(th_bind(b, "::ffff:0.0.0.0", 0), 0);
	cr_assert_eq(th_connect(b, "::1", 5000), EAFNOSUPPORT);
}

Test(connect, v6_native_bound_v6only_cleared_to_mapped)
{
	int a = th_socket(AF_INET6, "n");

	cr_assert_eq(th_bind(a, "::1", 0), 0);
	cr_assert_eq(dtcp_setsockopt(st, a, SOL_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int)), 0);
	cr_assert_eq(th_connect(a, "::ffff:127.0.0.1", 5000), 0);
	cr_assert_str_eq(th_addr(a), "::ffff:127.0.0.6", "the kernel's IPv4 placeholder source");
}

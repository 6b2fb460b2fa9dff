/* Routes beyond the connected prefixes: "ip route add DST [via GW] dev IF".
 * Two stacks on the in-memory link: A reaches an address of B that is on
 * none of A's prefixes only through a route via B, and A resolves the
 * gateway, not the destination, on the link. */
#include "harness.h"

#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "ip/neigh.h"
#include "link/link.h"
#include "tcp/tcp_sock.h"

TestSuite(route, .init = th_setup, .fini = th_teardown);

static struct link_pair *lp;
static struct dtcp_stack *b;

/* A (the test's stack) and B on one link: 198.18.0.1/24 and 198.18.0.2/24,
 * 2001:db8::1/64 and 2001:db8::2/64; B also owns 198.19.5.5/32 and
 * 2001:db8:5::5/128 on the link, which A has no prefix for. */
static void two_stacks(void)
{
	struct link_pair_cfg cfg = { .delay_ns = 10000, .queue_limit = 1024, .pool_limit = 4096 };
	struct dtcp_stack_config sc = { .max_sockets = 64 };
	struct dtcp_netdev_info ia = { .mtu = 1500, .mac = { 2, 0, 0, 0, 0, 1 } };
	struct dtcp_netdev_info ib = { .mtu = 1500, .mac = { 2, 0, 0, 0, 0, 2 } };

	lp = link_pair_create(&cfg, &th_link_env);
	b = stack_create(&sc, &th_link_env);
	cr_assert_not_null(lp);
	cr_assert_not_null(b);
	cr_assert_eq(dtcp_netdev_attach(st, "eth0", &link_pair_ops, link_pair_end(lp, 0), &ia), 2);
	cr_assert_eq(dtcp_netdev_attach(b, "eth0", &link_pair_ops, link_pair_end(lp, 1), &ib), 2);
	cr_assert_eq(dtcp_addr_add(st, "eth0", "198.18.0.1/24"), 0);
	cr_assert_eq(dtcp_addr_add(st, "eth0", "2001:db8::1/64"), 0);
	cr_assert_eq(dtcp_addr_add(b, "eth0", "198.18.0.2/24"), 0);
	cr_assert_eq(dtcp_addr_add(b, "eth0", "2001:db8::2/64"), 0);
	cr_assert_eq(dtcp_addr_add(b, "eth0", "198.19.5.5/32"), 0);
	cr_assert_eq(dtcp_addr_add(b, "eth0", "2001:db8:5::5/128"), 0);
}

/* Let the closes finish and TIME_WAIT run out (a little over 60 s). */
static void drain(void)
{
	for (int i = 0; i < 20000 && (st->eh.count || b->eh.count); i++) {
		int w = dtcp_stack_poll(st) + dtcp_stack_poll(b);

		th_now_ns += w ? 1000 : 5000000;
	}
	cr_assert_eq(st->eh.count + b->eh.count, 0, "every connection ended");
	cr_assert_lt(th_now_ns, 1000000000ull * 1000 + 70000000000ull, "within TIME_WAIT and a little");
}

static void two_stacks_end(void)
{
	struct dtcp_pool_stats ps[16];

	drain();
	neigh_flush(b, &b->nt);
	for (int i = 0, n = dtcp_stack_pools(b, ps, 16); i < n; i++)
		cr_assert_eq(ps[i].in_use, 0, "stack B pool %s", ps[i].name);
	dtcp_stack_free(b);
	neigh_flush(st, &st->nt);
	link_pair_destroy(lp);
	st->ifs.ifs[1].ops = NULL;
}

static socklen_t sa_of(const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		cr_assert_eq(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	cr_assert_eq(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	return sizeof(*s4);
}

/* A connects to dst:7000 on B; the connect()'s errno (0: established). */
static int connect_to(const char *dst, int *fd_out, int *acc_out)
{
	bool v6 = strchr(dst, ':') != NULL;
	struct sockaddr_storage ss;
	socklen_t len = sa_of(dst, 7000, &ss);
	int l = dtcp_socket(b, v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int fd = dtcp_socket(st, v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int acc = -1, err;
	socklen_t el = sizeof(err);

	cr_assert_eq(dtcp_bind(b, l, (struct sockaddr *)&ss, len), 0);
	cr_assert_eq(dtcp_listen(b, l, 4), 0);
	*fd_out = fd;
	if (dtcp_connect(st, fd, (struct sockaddr *)&ss, len) == 0 || errno != EINPROGRESS) {
		err = errno;
		dtcp_close(b, l);
		return err;
	}
	for (int i = 0; i < 1000 && acc < 0; i++) {
		dtcp_stack_poll(st);
		dtcp_stack_poll(b);
		th_now_ns += 100000;
		acc = dtcp_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
	}
	for (int i = 0; i < 10; i++) {
		dtcp_stack_poll(st);
		dtcp_stack_poll(b);
	}
	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	*acc_out = acc;
	dtcp_close(b, l);
	return acc >= 0 ? err : (err ? err : ETIMEDOUT);
}

static void routed_connect(const char *dst, const char *gw, const char *want_src)
{
	struct sockaddr_storage name, g;
	socklen_t len = sizeof(name);
	char text[INET6_ADDRSTRLEN];
	struct in6_addr gw6, dst6;
	int fd, acc;
	bool v6 = strchr(dst, ':') != NULL;

	two_stacks();
	cr_assert_eq(connect_to(dst, &fd, &acc), ENETUNREACH, "no route yet");
	dtcp_close(st, fd);
	cr_assert_eq(dtcp_route_add(st, "default", gw, "eth0"), 0);
	cr_assert_eq(connect_to(dst, &fd, &acc), 0, "through the gateway");
	cr_assert_eq(dtcp_getsockname(st, fd, (struct sockaddr *)&name, &len), 0);
	if (v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&name)->sin6_addr, text, sizeof(text));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&name)->sin_addr, text, sizeof(text));
	cr_assert_str_eq(text, want_src, "the source is the interface's address");
	/* The link-layer next hop is the gateway: its neighbour entry exists,
	 * the destination's does not. */
	sa_of(gw, 0, &g);
	if (v6) {
		gw6 = ((struct sockaddr_in6 *)&g)->sin6_addr;
		cr_assert_eq(inet_pton(AF_INET6, dst, &dst6), 1);
	} else {
		addr_set_mapped(&gw6, ((struct sockaddr_in *)&g)->sin_addr.s_addr);
		addr_set_mapped(&dst6, inet_addr(dst));
	}
	cr_assert_not_null(neigh_lookup(&st->nt, 2, &gw6));
	cr_assert_null(neigh_lookup(&st->nt, 2, &dst6));
	cr_assert_eq(dtcp_send(st, fd, "ping", 4, MSG_DONTWAIT), 4);
	for (int i = 0; i < 10; i++) {
		dtcp_stack_poll(st);
		dtcp_stack_poll(b);
		th_now_ns += 100000;
	}
	char buf[8];
	cr_assert_eq(dtcp_recv(b, acc, buf, sizeof(buf), MSG_DONTWAIT), 4);
	cr_assert_eq(memcmp(buf, "ping", 4), 0);
	dtcp_close(st, fd);
	dtcp_close(b, acc);
	drain();
	cr_assert_eq(dtcp_route_del(st, v6 ? "::/0" : "default"), 0);
	cr_assert_eq(dtcp_route_del(st, v6 ? "::/0" : "default"), -1);
	cr_assert_eq(errno, ESRCH);
	two_stacks_end();
}

Test(route, default_route_v4)
{
	routed_connect("198.19.5.5", "198.18.0.2", "198.18.0.1");
}

Test(route, default_route_v6)
{
	routed_connect("2001:db8:5::5", "2001:db8::2", "2001:db8::1");
}

Test(route, add_and_del_errors)
{
	struct in6_addr d, nh;

	two_stacks();
	cr_assert_eq(dtcp_route_add(st, "default", "198.18.0.2", "eth9"), -1);
	cr_assert_eq(errno, ENODEV);
	cr_assert_eq(dtcp_route_add(st, "default", "198.20.0.2", "eth0"), -1);
	cr_assert_eq(errno, ENETUNREACH, "the gateway must be on-link");
	cr_assert_eq(dtcp_route_add(st, "default", "2001:db8::2/64", "eth0"), -1);
	cr_assert_eq(errno, EINVAL, "a gateway is an address");
	cr_assert_eq(dtcp_route_add(st, "10.0.0.1/8", "198.18.0.2", "eth0"), -1);
	cr_assert_eq(errno, EINVAL, "host bits set");
	cr_assert_eq(dtcp_route_add(st, "2001:db8:9::/48", "198.18.0.2", "eth0"), -1);
	cr_assert_eq(errno, EINVAL, "families differ");
	cr_assert_eq(dtcp_route_add(st, "10.0.0.0", "198.18.0.2", "eth0"), -1);
	cr_assert_eq(errno, EINVAL, "a destination needs its prefix length");
	cr_assert_eq(dtcp_route_add(st, "10.0.0.0/8", "198.18.0.2", "eth0"), 0);
	cr_assert_eq(dtcp_route_add(st, "10.0.0.0/8", "198.18.0.3", "eth0"), -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_eq(dtcp_route_add(st, "10.1.0.0/16", NULL, "eth0"), 0, "a device route");
	cr_assert_eq(dtcp_route_add(st, "::/0", "fe80::1", "eth0"), 0, "a link-local gateway is on-link");
	/* Longest prefix: 10.1.2.3 is on-link (the /16), 10.2.0.1 via the /8's gateway. */
	addr_set_mapped(&d, inet_addr("10.1.2.3"));
	cr_assert_eq(ifaddr_route_nh(&st->ifs, &d, &nh), &st->ifs.ifs[1]);
	cr_assert(addr_eq(&nh, &d));
	addr_set_mapped(&d, inet_addr("10.2.0.1"));
	cr_assert_eq(ifaddr_route_nh(&st->ifs, &d, &nh), &st->ifs.ifs[1]);
	cr_assert_eq(addr_v4(&nh), inet_addr("198.18.0.2"));
	addr_set_mapped(&d, inet_addr("11.0.0.1"));
	cr_assert_null(ifaddr_route_nh(&st->ifs, &d, &nh), "no default route for IPv4");
	/* A connected prefix is longer than the routes: on-link. */
	addr_set_mapped(&d, inet_addr("198.18.0.77"));
	cr_assert_eq(ifaddr_route_nh(&st->ifs, &d, &nh), &st->ifs.ifs[1]);
	cr_assert(addr_eq(&nh, &d));
	cr_assert_eq(dtcp_route_del(st, "10.0.0.0/8"), 0);
	cr_assert_eq(dtcp_route_del(st, "10.0.0.0/8"), -1);
	cr_assert_eq(errno, ESRCH);
	cr_assert_eq(dtcp_route_del(st, "junk"), -1);
	cr_assert_eq(errno, EINVAL);
	two_stacks_end();
}

/* The lookups' cache never outlives a change: each answer below was
 * cached by the lookup before the change that must alter it. */
Test(route, cached_answers_follow_changes)
{
	struct in6_addr d, nh;

	two_stacks();
	addr_set_mapped(&d, inet_addr("10.2.0.1"));
	cr_assert_null(ifaddr_route_nh(&st->ifs, &d, &nh), "no route yet");
	cr_assert_null(ifaddr_route_nh(&st->ifs, &d, &nh), "no route yet (cached)");
	cr_assert_eq(dtcp_route_add(st, "10.0.0.0/8", "198.18.0.2", "eth0"), 0);
	cr_assert_eq(ifaddr_route_nh(&st->ifs, &d, &nh), &st->ifs.ifs[1], "the new route is seen");
	cr_assert_eq(addr_v4(&nh), inet_addr("198.18.0.2"));
	cr_assert_eq(dtcp_route_add(st, "10.2.0.0/16", "198.18.0.3", "eth0"), 0);
	cr_assert_eq(ifaddr_route_nh(&st->ifs, &d, &nh), &st->ifs.ifs[1]);
	cr_assert_eq(addr_v4(&nh), inet_addr("198.18.0.3"), "a longer prefix added later wins");
	cr_assert_eq(dtcp_route_del(st, "10.2.0.0/16"), 0);
	cr_assert_eq(ifaddr_route_nh(&st->ifs, &d, &nh), &st->ifs.ifs[1]);
	cr_assert_eq(addr_v4(&nh), inet_addr("198.18.0.2"), "back to the /8 once the /16 is gone");
	cr_assert_eq(ifaddr_v4_class(&st->ifs, inet_addr("10.2.0.1")), V4_OTHER);
	cr_assert_eq(dtcp_addr_add(st, "eth0", "10.2.0.1/32"), 0);
	cr_assert_eq(ifaddr_v4_class(&st->ifs, inet_addr("10.2.0.1")), V4_LOCAL, "an address added is local at once");
	cr_assert_eq(ifaddr_route_nh(&st->ifs, &d, &nh), &st->ifs.ifs[0], "and reached over lo");
	cr_assert_eq(dtcp_addr_del(st, "eth0", "10.2.0.1/32"), 0);
	cr_assert_eq(ifaddr_v4_class(&st->ifs, inet_addr("10.2.0.1")), V4_OTHER, "and no longer once removed");
	cr_assert_eq(dtcp_route_del(st, "10.0.0.0/8"), 0);
	cr_assert_null(ifaddr_route_nh(&st->ifs, &d, &nh), "no route again");
	two_stacks_end();
}

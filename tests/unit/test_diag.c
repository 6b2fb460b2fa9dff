/* The observation API: the socket walk sees every socket the stack holds,
 * in every state, with ss's queues; the port filter visits that port only;
 * the counters follow the traffic. Loopback connections plus a raw-IP link
 * pair whose far end is the test (a SYN that is never completed). */
#include "harness.h"

#include <dtcp/diag.h>

#include "ip/csum.h"
#include "ip/ip_hdr.h"
#include "link/link.h"
#include "pkt.h"
#include "tcp/tcp_hdr.h"

static struct link_pair *lp;
static void *peer;

static void setup(void)
{
	th_link_setup(NULL);
	lp = th_lp;
	peer = th_peer;
	cr_assert_eq(dtcp_addr_add(st, "eth0", "198.18.0.1/15"), 0);
}

static void teardown(void)
{
	th_link_teardown();
}

TestSuite(diag, .init = setup, .fini = teardown);

static void poll_n(int n)
{
	for (int i = 0; i < n; i++)
		dtcp_stack_poll(st);
}

/* Let the delayed ACKs go (the ACK of a FIN is owed, not forced). */
static void settle(void)
{
	poll_n(4);
	th_sleep_ms(100);
	poll_n(4);
}

/* A SYN from 198.18.0.2:sport to 198.18.0.1:dport, into the stack. */
static void syn_in(uint16_t sport, uint16_t dport)
{
	struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
	uint8_t *d = pkt_append(p, 40);
	struct tcp_hdr *th;
	uint64_t ph;

	cr_assert_not_null(d);
	th = (struct tcp_hdr *)(d + 20);
	ph = th_ipv4_header(d, inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), IPPROTO_TCP, 20);
	memset(th, 0, 20);
	th->sport = htons(sport);
	th->dport = htons(dport);
	th->seq = htonl(1000);
	tcp_hdr_set_doff(th, 20);
	tcp_hdr_set_flags(th, TCP_FLAG_SYN);
	th->window = htons(65535);
	th->csum = csum_finish(csum_add_buf(ph, th, 20, false));
	cr_assert_eq(link_pair_ops.tx_burst(peer, &p, 1), 1);
	dtcp_stack_poll(st);
}

#define ROWS_MAX 1024

struct rows {
	struct dtcp_sock_info r[ROWS_MAX];
	int n;
	int stop_after;   /* 0: never */
};

static int collect(const struct dtcp_sock_info *si, void *arg)
{
	struct rows *rs = arg;

	cr_assert_lt(rs->n, ROWS_MAX);
	rs->r[rs->n++] = *si;
	return rs->stop_after && rs->n >= rs->stop_after;
}

static uint16_t lport(const struct dtcp_sock_info *si)
{
	return ntohs(((const struct sockaddr_in *)&si->local)->sin_port);
}

static uint16_t pport(const struct dtcp_sock_info *si)
{
	return ntohs(((const struct sockaddr_in *)&si->peer)->sin_port);
}

/* The one row with this state and ports (0: any); fails if not exactly one. */
static const struct dtcp_sock_info *find(const struct rows *rs, int state, uint16_t lp_, uint16_t pp)
{
	const struct dtcp_sock_info *hit = NULL;
	int n = 0;

	for (int i = 0; i < rs->n; i++) {
		const struct dtcp_sock_info *si = &rs->r[i];

		if (si->state == state && (!lp_ || lport(si) == lp_) && (!pp || pport(si) == pp)) {
			hit = si;
			n++;
		}
	}
	cr_assert_eq(n, 1, "%d rows in %s with ports %u -> %u", n, dtcp_tcp_state_name(state), lp_, pp);
	return hit;
}

static int connect_to(uint16_t port)
{
	int fd = th_socket(AF_INET, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
		                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	cr_assert_eq(dtcp_connect(st, fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "%s", strerror(errno));
	cr_assert_eq(th_sk(fd)->state, INET_ESTABLISHED);
	return fd;
}

static int accept_one(int l)
{
	int fd = dtcp_accept4(st, l, NULL, NULL, 0);

	cr_assert_geq(fd, 0, "accept: %s", strerror(errno));
	return fd;
}

Test(diag, every_state_with_its_queues)
{
	int l = th_listener("0.0.0.0", 8000);
	int c1, c2, s2, c3, s3, c4, s4, c5, s5, u;
	uint16_t p1, p2, p3, p4, p5;
	struct rows *rs = calloc(1, sizeof(*rs));
	struct dtcp_pool_stats ps[16];
	const struct dtcp_sock_info *si;
	char buf[100] = { 0 };
	long visited;

	/* c2 <-> s2: 100 bytes unread at s2, 50 unacknowledged from s2. */
	c2 = connect_to(8000);
	s2 = accept_one(l);
	cr_assert_eq(dtcp_send(st, c2, buf, 100, 0), 100);
	poll_n(4);
	/* c3 closed: an orphan in FIN_WAIT2; s3 in CLOSE_WAIT. */
	c3 = connect_to(8000);
	s3 = accept_one(l);
	/* c4 and s4 closed, c4 first: c4 in TIME_WAIT, s4 gone. */
	c4 = connect_to(8000);
	s4 = accept_one(l);
	c5 = connect_to(8000);
	s5 = accept_one(l);
	/* c1: established, its child waits in the accept queue. */
	c1 = connect_to(8000);
	p1 = (uint16_t)th_port(c1);
	p2 = (uint16_t)th_port(c2);
	p3 = (uint16_t)th_port(c3);
	p4 = (uint16_t)th_port(c4);
	p5 = (uint16_t)th_port(c5);
	cr_assert_eq(dtcp_close(st, c3), 0);
	cr_assert_eq(dtcp_close(st, c4), 0);
	settle();
	cr_assert_eq(dtcp_close(st, s4), 0);
	settle();
	/* A child in SYN_RECV: its SYN-ACK goes to the test, which never answers. */
	syn_in(5555, 8000);
	/* An unconnected socket; c5 closed and not polled: FIN_WAIT1, its FIN in
	 * flight; s2's 50 bytes not acknowledged yet. */
	u = th_socket(AF_INET, NULL);
	cr_assert_eq(dtcp_close(st, c5), 0);
	cr_assert_eq(dtcp_send(st, s2, buf, 50, MSG_DONTWAIT), 50);

	visited = dtcp_sock_walk(st, NULL, collect, rs);
	cr_assert_eq(visited, rs->n, "a walk with no filter reports every socket it visits");
	cr_assert_eq(dtcp_stack_pools(st, ps, 16) > 0, true);
	cr_assert_str_eq(ps[0].name, "socket");
	cr_assert_eq((uint64_t)rs->n, ps[0].in_use, "the walk saw %d sockets, the pool holds %llu", rs->n,
	             (unsigned long long)ps[0].in_use);

	si = find(rs, DTCP_TCP_LISTEN, 8000, 0);
	cr_assert_eq(si->fd, l);
	cr_assert_eq(si->recv_q, 1, "one child waits for accept()");
	cr_assert_eq(si->send_q, 4096, "the backlog");
	cr_assert_str_eq(si->state_name, "LISTEN");

	si = find(rs, DTCP_TCP_ESTABLISHED, p1, 8000);
	cr_assert_eq(si->fd, c1);
	si = find(rs, DTCP_TCP_ESTABLISHED, 8000, p1);
	cr_assert_eq(si->fd, -1, "not accepted yet");

	si = find(rs, DTCP_TCP_ESTABLISHED, 8000, p2);
	cr_assert_eq(si->fd, s2);
	cr_assert_eq(si->recv_q, 100);
	cr_assert_eq(si->send_q, 50);
	cr_assert_gt(si->snd_mss, 0);
	cr_assert_gt(si->snd_cwnd, 0);
	cr_assert_gt(si->rto_us, 0);
	si = find(rs, DTCP_TCP_ESTABLISHED, p2, 8000);
	cr_assert_eq(si->recv_q, 0);
	cr_assert_eq(si->send_q, 0, "the 100 bytes were acknowledged");

	si = find(rs, DTCP_TCP_FIN_WAIT2, p3, 8000);
	cr_assert_eq(si->fd, -1, "an orphan");
	cr_assert_str_eq(si->state_name, "FIN-WAIT-2");
	si = find(rs, DTCP_TCP_CLOSE_WAIT, 8000, p3);
	cr_assert_eq(si->fd, s3);

	si = find(rs, DTCP_TCP_TIME_WAIT, p4, 8000);
	cr_assert_eq(si->fd, -1);
	cr_assert_eq(si->recv_q + si->send_q, 0);

	si = find(rs, DTCP_TCP_FIN_WAIT1, p5, 8000);
	cr_assert_eq(si->fd, -1);
	cr_assert_eq(si->send_q, 1, "the FIN in flight counts one, as on Linux");
	si = find(rs, DTCP_TCP_ESTABLISHED, 8000, p5);
	cr_assert_eq(si->fd, s5);

	si = find(rs, DTCP_TCP_SYN_RECV, 8000, 5555);
	cr_assert_eq(si->fd, -1);
	cr_assert_eq(((const struct sockaddr_in *)&si->local)->sin_addr.s_addr, inet_addr("198.18.0.1"));
	cr_assert_eq(((const struct sockaddr_in *)&si->peer)->sin_addr.s_addr, inet_addr("198.18.0.2"));

	si = find(rs, DTCP_TCP_CLOSE, 0, 0);
	cr_assert_eq(si->fd, u);
	cr_assert_str_eq(si->state_name, "UNCONN");
	cr_assert_eq(rs->n, 12);

	/* A callback that stops ends the walk there. */
	memset(rs, 0, sizeof(*rs));
	rs->stop_after = 3;
	cr_assert_eq(dtcp_sock_walk(st, NULL, collect, rs), 3);
	cr_assert_eq(rs->n, 3);
	free(rs);
}

static int count_rows(const struct dtcp_sock_info *si, void *arg)
{
	(void)si;
	(*(int *)arg)++;
	return 0;
}

Test(diag, port_filter_visits_that_port_only)
{
	struct dtcp_sock_filter f = { .flags = DTCP_SF_SPORT, .sport = 40000 };
	struct rows *rs = calloc(1, sizeof(*rs));
	int l, rows = 0;
	long visited;

	/* 300 listeners on other ports, and 3 connections to port 40000. */
	for (int i = 0; i < 300; i++)
		th_listener("127.0.0.1", 20000 + i);
	l = th_listener("127.0.0.1", 40000);
	for (int i = 0; i < 3; i++) {
		connect_to(40000);
		accept_one(l);
	}
	visited = dtcp_sock_walk(st, &f, collect, rs);
	cr_assert_eq(rs->n, 4, "the listener and its 3 accepted connections");
	cr_assert_eq(visited, 4, "only the port's sockets are visited, not %ld", visited);
	for (int i = 0; i < rs->n; i++)
		cr_assert_eq(lport(&rs->r[i]), 40000);
	find(rs, DTCP_TCP_LISTEN, 40000, 0);

	/* With a state too: fewer rows, the same (small) visit. */
	f.states = DTCP_SS_BIT(DTCP_TCP_LISTEN);
	cr_assert_eq(dtcp_sock_walk(st, &f, count_rows, &rows), 4);
	cr_assert_eq(rows, 1);

	/* No filter: everything is visited (300 + 1 listeners, 6 connections). */
	rows = 0;
	cr_assert_eq(dtcp_sock_walk(st, NULL, count_rows, &rows), 307);
	cr_assert_eq(rows, 307);

	/* A port nobody holds: nothing visited. */
	f.sport = 40001;
	f.states = 0;
	rows = 0;
	cr_assert_eq(dtcp_sock_walk(st, &f, count_rows, &rows), 0);
	cr_assert_eq(rows, 0);
	free(rs);
}

Test(diag, peer_address_and_state_groups)
{
	struct dtcp_sock_filter f = { 0 };
	int l = th_listener("0.0.0.0", 8000), c, rows = 0;

	c = connect_to(8000);
	accept_one(l);
	syn_in(6000, 8000);

	/* dst 198.18.0.0/16: the SYN_RECV child only. */
	f.flags = DTCP_SF_DADDR;
	addr_set_mapped(&f.daddr, inet_addr("198.18.0.0"));
	f.daddr_plen = 96 + 16;
	cr_assert_eq(dtcp_sock_walk(st, &f, count_rows, &rows), 4, "no port filter: every socket visited");
	cr_assert_eq(rows, 1);

	/* dport = :8000: the client only. */
	f = (struct dtcp_sock_filter){ .flags = DTCP_SF_DPORT, .dport = 8000 };
	rows = 0;
	dtcp_sock_walk(st, &f, count_rows, &rows);
	cr_assert_eq(rows, 1);

	/* connected: the two ends of the connection (not LISTEN, not SYN_RECV). */
	f = (struct dtcp_sock_filter){ .states = DTCP_SS_CONNECTED };
	rows = 0;
	dtcp_sock_walk(st, &f, count_rows, &rows);
	cr_assert_eq(rows, 2);
	f.states = DTCP_SS_BIT(DTCP_TCP_SYN_RECV) | DTCP_SS_BIT(DTCP_TCP_LISTEN);
	rows = 0;
	dtcp_sock_walk(st, &f, count_rows, &rows);
	cr_assert_eq(rows, 2);

	f.saddr_plen = 129;
	errno = 0;
	cr_assert_eq(dtcp_sock_walk(st, &f, count_rows, &rows), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_sock_walk(st, NULL, NULL, NULL), -1);
	(void)c;
}

static uint64_t counter(const char *name)
{
	struct dtcp_counter cs[DTCP_COUNTERS_MAX];
	int n = dtcp_stack_counters(st, cs, DTCP_COUNTERS_MAX);

	cr_assert_gt(n, 0);
	cr_assert_leq(n, DTCP_COUNTERS_MAX);
	for (int i = 0; i < n; i++)
		if (!strcmp(cs[i].name, name))
			return cs[i].value;
	cr_assert_fail("no counter %s", name);
	return 0;
}

Test(diag, counters_follow_the_traffic)
{
	struct dtcp_counter cs[DTCP_COUNTERS_MAX], few[3];
	const char *need[] = { "TcpActiveOpens", "TcpPassiveOpens", "TcpAttemptFails", "TcpEstabResets",
		               "TcpCurrEstab", "TcpInSegs", "TcpOutSegs", "TcpRetransSegs", "TcpInErrs",
		               "TcpOutRsts", "TcpInCsumErrors", "TcpExtListenOverflows", "TcpExtListenDrops",
		               "TcpExtTCPChallengeACK", "TcpExtTCPAbortOnData", "TcpExtTCPOFOQueue", "TcpExtTW",
		               "TcpExtDelayedACKs", "TcpExtOutOfWindowIcmps", "IpInReceives", "IpOutRequests",
		               "IcmpInMsgs", "IcmpOutRateLimitGlobal", "Ip6InReceives", "Icmp6OutMsgs" };
	int n = dtcp_stack_counters(st, cs, DTCP_COUNTERS_MAX), l, c[3], s0;
	uint64_t active = counter("TcpActiveOpens"), outsegs = counter("TcpOutSegs");

	for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
		counter(need[k]);
	for (int i = 0; i < n; i++) {
		cr_assert(!strncmp(cs[i].name, "Ip", 2) || !strncmp(cs[i].name, "Icmp", 4) ||
		          !strncmp(cs[i].name, "Tcp", 3), "%s is not an nstat name", cs[i].name);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(cs[i].name, cs[j].name);
	}
	/* A short array: filled as far as it goes, the full count returned. */
	cr_assert_eq(dtcp_stack_counters(st, few, 3), n);
	cr_assert_str_eq(few[0].name, cs[0].name);
	cr_assert_eq(dtcp_stack_counters(st, NULL, 0), n);
	cr_assert_eq(dtcp_stack_counters(NULL, cs, 1), -1);

	cr_assert_eq(counter("TcpCurrEstab"), 0);
	l = th_listener("127.0.0.1", 8000);
	for (int i = 0; i < 3; i++) {
		c[i] = connect_to(8000);
		cr_assert_eq(counter("TcpActiveOpens"), active + 1 + (uint64_t)i, "one per connect()");
	}
	cr_assert_eq(counter("TcpPassiveOpens"), 3);
	cr_assert_eq(counter("TcpCurrEstab"), 6, "both ends of 3 connections");
	cr_assert_geq(counter("TcpOutSegs"), outsegs + 9, "SYN, SYN-ACK, ACK each");
	s0 = accept_one(l);
	/* The client closes: its end goes to FIN_WAIT, the server's stays in
	 * CLOSE_WAIT, which still counts. */
	dtcp_close(st, c[0]);
	settle();
	cr_assert_eq(counter("TcpCurrEstab"), 5);
	dtcp_close(st, s0);
	settle();
	cr_assert_eq(counter("TcpCurrEstab"), 4);
	cr_assert_eq(counter("TcpExtTW"), 1);
}

static void hook(struct dtcp_stack *s, void *arg)
{
	cr_assert_eq(s, st);
	(*(int *)arg)++;
}

static void other_hook(struct dtcp_stack *s, void *arg)
{
	(void)s;
	(void)arg;
}

Test(diag, poll_hook_runs_at_each_poll)
{
	int calls = 0;

	cr_assert_eq(dtcp_stack_poll_hook(st, hook, &calls), 0);
	poll_n(3);
	cr_assert_eq(calls, 3);
	cr_assert_eq(dtcp_stack_poll_hook(st, other_hook, NULL), -1);
	cr_assert_eq(errno, EBUSY);
	cr_assert_eq(dtcp_stack_poll_hook(st, NULL, NULL), 0);
	poll_n(2);
	cr_assert_eq(calls, 3, "removed");
	cr_assert_eq(dtcp_stack_poll_hook(NULL, hook, &calls), -1);
}

static struct dtcp_sock_filter parse_ok(const char *expr)
{
	struct dtcp_sock_filter f;
	char err[128];

	cr_assert_eq(dtcp_sock_filter_parse(expr, &f, err, sizeof(err)), 0, "%s: %s", expr, err);
	return f;
}

static void parse_bad(const char *expr, const char *why)
{
	struct dtcp_sock_filter f;
	char err[128];

	errno = 0;
	cr_assert_eq(dtcp_sock_filter_parse(expr, &f, err, sizeof(err)), -1, "%s was accepted", expr);
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(err, why), "%s: the reason \"%s\" does not say \"%s\"", expr, err, why);
	cr_assert_eq(f.flags | f.states, 0, "a failed parse leaves the empty filter");
}

Test(diag_filter, ss_forms)
{
	struct dtcp_sock_filter f;
	struct in6_addr a;

	f = parse_ok("src :40000");
	cr_assert_eq(f.flags, DTCP_SF_SPORT);
	cr_assert_eq(f.sport, 40000);
	f = parse_ok("sport = :40000");
	cr_assert_eq(f.flags, DTCP_SF_SPORT);
	cr_assert_eq(f.sport, 40000);
	f = parse_ok("dport == 443 and state established");
	cr_assert_eq(f.flags, DTCP_SF_DPORT);
	cr_assert_eq(f.dport, 443);
	cr_assert_eq(f.states, DTCP_SS_BIT(DTCP_TCP_ESTABLISHED));
	f = parse_ok("  src 127.0.0.1:8000   dst 10.0.0.0/8 ");
	cr_assert_eq(f.flags, DTCP_SF_SADDR | DTCP_SF_SPORT | DTCP_SF_DADDR);
	addr_set_mapped(&a, inet_addr("127.0.0.1"));
	cr_assert(addr_eq(&f.saddr, &a));
	cr_assert_eq(f.saddr_plen, 128);
	cr_assert_eq(f.daddr_plen, 96 + 8);
	f = parse_ok("dst [2001:db8::1]:80");
	cr_assert_eq(f.flags, DTCP_SF_DADDR | DTCP_SF_DPORT);
	inet_pton(AF_INET6, "2001:db8::1", &a);
	cr_assert(addr_eq(&f.daddr, &a));
	cr_assert_eq(f.dport, 80);
	f = parse_ok("src ::1");
	cr_assert_eq(f.flags, DTCP_SF_SADDR);
	cr_assert_eq(f.saddr_plen, 128);
	f = parse_ok("src *:*");
	cr_assert_eq(f.flags, 0);
	f = parse_ok("state time-wait state syn-recv");
	cr_assert_eq(f.states, DTCP_SS_BIT(DTCP_TCP_TIME_WAIT) | DTCP_SS_BIT(DTCP_TCP_SYN_RECV));
	cr_assert_eq(parse_ok("state connected").states, DTCP_SS_CONNECTED);
	cr_assert_eq(parse_ok("state synchronized").states & DTCP_SS_BIT(DTCP_TCP_SYN_SENT), 0);
	cr_assert_eq(parse_ok("state all").states, DTCP_SS_ALL);
	cr_assert_eq(parse_ok("state listening").states, DTCP_SS_BIT(DTCP_TCP_LISTEN));
	cr_assert_eq(parse_ok("state close").states, DTCP_SS_BIT(DTCP_TCP_CLOSE));
	const char *each[] = { "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait",
		               "close", "close-wait", "last-ack", "listening", "closing" };
	for (int i = 0; i < 11; i++) {
		char e[64];

		snprintf(e, sizeof(e), "state %s", each[i]);
		cr_assert_eq(parse_ok(e).states, DTCP_SS_BIT(i + 1), "%s", e);
	}
	cr_assert_eq(parse_ok("").flags, 0);
	cr_assert_eq(parse_ok(NULL).states, 0);
}

Test(diag_filter, junk_is_rejected_with_a_reason)
{
	parse_bad("state bogus", "unknown state: bogus");
	parse_bad("state", "a state name must follow");
	parse_bad("src", "must follow");
	parse_bad("src 1.2.3.4.5", "bad address");
	parse_bad("src :70000", "bad address");
	parse_bad("src 10.0.0.0/33", "bad address");
	parse_bad("dst [::1", "bad address");
	parse_bad("sport > :80", "unsupported port operator");
	parse_bad("sport = :http", "bad port");
	parse_bad("src :1 or dst :2", "not supported");
	parse_bad("( src :1 )", "not supported");
	parse_bad("hello", "unknown word: hello");
	parse_bad("src :1 sport = :2", "two different ports");
	parse_bad("src 1.1.1.1 src 2.2.2.2", "given twice");
	cr_assert_eq(dtcp_sock_filter_parse("src :1", NULL, NULL, 0), -1);
}

Test(diag_filter, parsed_filter_selects_rows)
{
	int l, rows = 0;
	struct dtcp_sock_filter f;

	th_setup();
	l = th_listener("127.0.0.1", 8000);
	connect_to(8000);
	accept_one(l);
	f = parse_ok("src 127.0.0.1:8000 state established");
	dtcp_sock_walk(st, &f, count_rows, &rows);
	cr_assert_eq(rows, 1, "the accepted end only");
	rows = 0;
	f = parse_ok("dst 127.0.0.1:8000");
	dtcp_sock_walk(st, &f, count_rows, &rows);
	cr_assert_eq(rows, 1, "the client only");
	rows = 0;
	f = parse_ok("src 127.0.0.2");
	dtcp_sock_walk(st, &f, count_rows, &rows);
	cr_assert_eq(rows, 0);
	th_teardown();
}

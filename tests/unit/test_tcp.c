/* The TCP engine end to end on one stack's loopback: opens, data both ways,
 * every close sequence, resets, TIME_WAIT on the virtual clock, and the
 * port sharing that IP_BIND_ADDRESS_NO_PORT makes possible. */
#include "harness.h"

#include <fcntl.h>
#include <string.h>

#include "tcp/tcp_sock.h"

TestSuite(tcp, .init = th_setup, .fini = th_teardown);

static void poll_n(int n)
{
	for (int i = 0; i < n; i++)
		dtcp_stack_poll(st);
}

static int state_of(int fd)
{
	return th_sk(fd)->state;
}

/* A connected pair over lo: *cfd the client, returns the accepted fd. */
static int pair(int family, const char *addr, int port, int *cfd, int *lfd_out)
{
	int l = th_listener(addr, port), c = th_socket(family, NULL), a;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	cr_assert_eq(dtcp_fcntl(st, c, F_SETFL, O_NONBLOCK), 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof(*sin6);
	}
	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&ss, len), -1);
	cr_assert_eq(errno, EINPROGRESS);
	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&ss, len), -1);
	cr_assert_eq(errno, EALREADY);
	poll_n(4);
	a = dtcp_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
	cr_assert_geq(a, 3, "accept: %s", strerror(errno));
	*cfd = c;
	if (lfd_out)
		*lfd_out = l;
	return a;
}

Test(tcp, handshake_v4)
{
	int c, l, a, err = -1;
	socklen_t len = sizeof(err);
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);

	a = pair(AF_INET, "127.0.0.1", 5000, &c, &l);
	cr_assert_eq(state_of(c), INET_ESTABLISHED);
	cr_assert_eq(state_of(a), INET_ESTABLISHED);
	cr_assert_eq(dtcp_getsockopt(st, c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	cr_assert_eq(err, 0);
	cr_assert_eq(dtcp_getpeername(st, a, (struct sockaddr *)&peer, &plen), 0);
	cr_assert_eq(ntohs(peer.sin_port), th_port(c), "the server sees the client's port");
	plen = sizeof(peer);
	cr_assert_eq(dtcp_getpeername(st, c, (struct sockaddr *)&peer, &plen), 0);
	cr_assert_eq(ntohs(peer.sin_port), 5000);
	cr_assert_eq(th_port(a), 5000);
	cr_assert_eq(st->tcpc.TcpActiveOpens, 1);
	cr_assert_eq(st->tcpc.TcpPassiveOpens, 1);
	cr_assert(tcp_sk(th_sk(c))->ts_ok && tcp_sk(th_sk(c))->sack_ok && tcp_sk(th_sk(c))->ws_ok,
	          "options negotiated");
	cr_assert_eq(tcp_sk(th_sk(c))->mss, 1460);
	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&peer, sizeof(peer)), 0,
	             "the first connect() after the handshake reports success");
	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&peer, sizeof(peer)), -1);
	cr_assert_eq(errno, EISCONN);
	cr_assert_eq(dtcp_accept4(st, l, NULL, NULL, 0x4000), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_fcntl(st, l, F_SETFL, O_NONBLOCK), 0);
	cr_assert_eq(dtcp_accept4(st, l, NULL, NULL, 0), -1);
	cr_assert_eq(errno, EAGAIN);
}

Test(tcp, handshake_v6_blocking)
{
	int l = th_listener("::1", 6000), c = th_socket(AF_INET6, NULL), a;
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(6000),
	                             .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&sin6, sizeof(sin6)), 0, "%s", strerror(errno));
	a = dtcp_accept4(st, l, NULL, NULL, 0);
	cr_assert_geq(a, 3);
	cr_assert_eq(state_of(c), INET_ESTABLISHED);
	cr_assert_eq(tcp_sk(th_sk(c))->mss, 1440);
}

Test(tcp, refused_blocking_and_nonblocking)
{
	int a = th_socket(AF_INET, "n"), b = th_socket(AF_INET, NULL), c = th_socket(AF_INET, NULL), err = -1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1) };
	socklen_t len = sizeof(err);

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40001");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(th_bind(a, "127.0.0.1", 0), 0);
	cr_assert_eq(dtcp_connect(st, a, (struct sockaddr *)&sin, sizeof(sin)), -1);
	cr_assert_eq(errno, ECONNREFUSED);
	/* connect_refused_state: the stale port stays visible, and it is free. */
	cr_assert_eq(th_port(a), 40000);
	cr_assert_str_eq(th_addr(a), "127.0.0.1");
	cr_assert_eq(th_bind(b, "127.0.0.1", 0), 0);
	cr_assert_eq(th_port(b), 40001);
	cr_assert_eq(dtcp_fcntl(st, c, F_SETFL, O_NONBLOCK), 0);
	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&sin, sizeof(sin)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	poll_n(4);
	cr_assert_eq(dtcp_getsockopt(st, c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	cr_assert_eq(err, ECONNREFUSED);
	cr_assert_eq(st->tcpc.TcpAttemptFails, 2);
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

/* Move n bytes from fd `from` to fd `to`, both non-blocking. */
static void transfer(int from, int to, size_t n, uint32_t seed)
{
	static uint8_t out[1 << 20], in[1 << 20];
	size_t sent = 0, got = 0;

	cr_assert_leq(n, sizeof(out));
	fill(out, n, seed);
	for (int guard = 0; got < n && guard < 1000000; guard++) {
		size_t before = sent + got;

		if (sent < n) {
			ssize_t k = dtcp_send(st, from, out + sent, n - sent, MSG_DONTWAIT);

			if (k > 0)
				sent += (size_t)k;
			else
				cr_assert_eq(errno, EAGAIN);
		}
		dtcp_stack_poll(st);
		ssize_t r = dtcp_recv(st, to, in + got, n - got, MSG_DONTWAIT);

		if (r > 0)
			got += (size_t)r;
		else
			cr_assert(r < 0 && errno == EAGAIN, "recv %zd: %s", r, strerror(errno));
		/* Nothing moved: let the clock run (a delayed ACK that a Nagle-held
		 * tail waits for comes after 40 ms, as on Linux). */
		if (sent + got == before)
			th_now_ns += 1000000u;
	}
	if (got != n) {
		struct tcp_sock *f = tcp_sk(th_sk(from)), *t = tcp_sk(th_sk(to));

		fprintf(stderr, "stall: sent %zu got %zu; from: state %d una %u nxt %u wnd %u sndlen %u mss %u; "
		        "to: state %d rcv_nxt %u adv %u rcvq %u\n", sent, got, f->inet.state, f->snd_una - f->iss,
		        f->snd_nxt - f->iss, f->snd_wnd, f->snd_len, f->mss, t->inet.state, t->rcv_nxt - t->irs,
		        t->rcv_adv - t->irs, t->rcvq_bytes);
	}
	cr_assert_eq(got, n);
	cr_assert_eq(memcmp(in, out, n), 0, "byte-exact");
}

Test(tcp, data_both_ways)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);

	transfer(c, a, 1 << 20, 1);
	transfer(a, c, 777777, 2);
	transfer(c, a, 1, 3);
	th_sleep_ms(TCP_DELACK_MS);
	poll_n(2);   /* the last ACK, delayed */
	cr_assert_null(tcp_sk(th_sk(c))->snd_data, "the send buffer went back once drained");
}

Test(tcp, peek_and_partial_reads)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	char buf[16];

	cr_assert_eq(dtcp_send(st, c, "hello world", 11, 0), 11);
	poll_n(4);
	cr_assert_eq(dtcp_recv(st, a, buf, 5, MSG_PEEK), 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	cr_assert_eq(dtcp_recv(st, a, buf, 5, 0), 5);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), 0), 6);
	cr_assert_eq(memcmp(buf, " world", 6), 0);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
}

Test(tcp, client_closes_first)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	struct inet_sock *csk = th_sk(c);
	char buf[4];

	cr_assert_eq(dtcp_close(st, c), 0);
	poll_n(4);
	cr_assert_eq(state_of(a), INET_CLOSE_WAIT);
	cr_assert_eq(csk->state, INET_FIN_WAIT1, "the peer owes the FIN's ACK (delayed, as Linux)");
	th_sleep_ms(TCP_DELACK_MS);
	poll_n(2);
	cr_assert_eq(csk->state, INET_FIN_WAIT2);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), 0), 0, "end of stream");
	cr_assert_eq(dtcp_close(st, a), 0);
	poll_n(4);
	cr_assert_eq(csk->state, INET_TIME_WAIT, "the side that closed first waits");
	cr_assert_eq(st->eh.count, 1, "only the TIME_WAIT is left");
	th_sleep_ms(TCP_MSL_TW_MS + 1);
	poll_n(2);
	cr_assert_eq(st->eh.count, 0);
	cr_assert_eq(st->sock_pool.in_use, 1, "only the listener");
}

Test(tcp, simultaneous_close)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	struct inet_sock *csk = th_sk(c), *ask = th_sk(a);

	cr_assert_eq(dtcp_close(st, c), 0);
	cr_assert_eq(dtcp_close(st, a), 0);
	poll_n(6);
	cr_assert_eq(csk->state, INET_TIME_WAIT);
	cr_assert_eq(ask->state, INET_TIME_WAIT);
	th_sleep_ms(TCP_MSL_TW_MS + 1);
	poll_n(2);
	cr_assert_eq(st->eh.count, 0);
}

Test(tcp, unread_data_close_resets)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	char buf[8];

	cr_assert_eq(dtcp_send(st, c, "data", 4, 0), 4);
	poll_n(4);
	cr_assert_eq(dtcp_close(st, a), 0, "closing with unread data");
	poll_n(4);
	cr_assert_eq(st->tcpc.TcpExtTCPAbortOnData, 1);
	cr_assert_eq(dtcp_recv(st, c, buf, sizeof(buf), 0), -1);
	cr_assert_eq(errno, ECONNRESET);
	cr_assert_eq(dtcp_send(st, c, "x", 1, 0), -1);
	cr_assert_eq(errno, EPIPE);
	cr_assert_eq(st->eh.count, 0, "no TIME_WAIT after a reset");
}

Test(tcp, listener_close_resets_children)
{
	int l = th_listener("127.0.0.1", 5000), c = th_socket(AF_INET, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5000) };
	char b;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	poll_n(2);   /* the handshake's last ACK reaches the listener */
	cr_assert_eq(tcp_sk(th_sk(l))->acceptq_len, 1);
	cr_assert_eq(dtcp_close(st, l), 0);
	poll_n(4);
	cr_assert_eq(dtcp_recv(st, c, &b, 1, 0), -1);
	cr_assert_eq(errno, ECONNRESET);
}

Test(tcp, backlog_overflow_counted)
{
	int l = th_socket(AF_INET, NULL);

	cr_assert_eq(th_bind(l, "127.0.0.1", 5000), 0);
	cr_assert_eq(dtcp_listen(st, l, 2), 0);
	for (int i = 0; i < 5; i++) {
		int c = th_socket(AF_INET, NULL);
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5000) };

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_eq(dtcp_fcntl(st, c, F_SETFL, O_NONBLOCK), 0);
		dtcp_connect(st, c, (struct sockaddr *)&sin, sizeof(sin));
		poll_n(4);
	}
	cr_assert_eq(tcp_sk(th_sk(l))->acceptq_len, 3, "the kernel admits backlog + 1");
	cr_assert_gt(st->tcpc.TcpExtListenOverflows, 0);
}

/* The point of it all: one source address, one port, many connections,
 * each 4-tuple unique; the server side accepts them all. */
Test(tcp, noport_connections_share_one_port)
{
	int lfd[4], n = 200, accepted = 0;

	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	for (int i = 0; i < 4; i++) {
		lfd[i] = th_listener("0.0.0.0", 5000 + i);
		cr_assert_eq(dtcp_fcntl(st, lfd[i], F_SETFL, O_NONBLOCK), 0);
	}
	for (int i = 0; i < n; i++) {
		int c = th_socket(AF_INET, "n");
		char dst[32];

		snprintf(dst, sizeof(dst), "127.1.0.%d", 1 + i / 4);
		cr_assert_eq(th_bind(c, "127.0.0.1", 0), 0);
		cr_assert_eq(th_port(c), 0);
		cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)&(struct sockaddr_in){
		                                     .sin_family = AF_INET, .sin_port = htons((uint16_t)(5000 + i % 4)),
		                                     .sin_addr.s_addr = inet_addr(dst) },
		                          sizeof(struct sockaddr_in)), 0, "connect %d: %s", i, strerror(errno));
		cr_assert_eq(th_port(c), 40000);
		cr_assert_eq(state_of(c), INET_ESTABLISHED);
	}
	poll_n(4);
	for (int i = 0; i < 4; i++)
		while (dtcp_accept4(st, lfd[i], NULL, NULL, 0) >= 0)
			accepted++;
	cr_assert_eq(accepted, n);
	cr_assert_eq(st->bt.tb_pool.in_use, 5, "port 40000 and the four listening ports");
	/* One more to an existing 4-tuple is refused by the port search. */
	int extra = th_socket(AF_INET, "n");

	cr_assert_eq(th_bind(extra, "127.0.0.1", 0), 0);
	cr_assert_eq(th_connect(extra, "127.1.0.1", 5000), EADDRNOTAVAIL);
}

Test(tcp, nagle_and_nodelay)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL), one = 1;
	uint64_t before;
	char buf[8];

	cr_assert_eq(dtcp_send(st, c, "a", 1, 0), 1);
	before = st->tcpc.TcpOutSegs;
	cr_assert_eq(dtcp_send(st, c, "b", 1, 0), 1);
	cr_assert_eq(st->tcpc.TcpOutSegs, before, "Nagle holds a short segment while one is unacknowledged");
	poll_n(4);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), 0), 2, "released by the ACK");
	cr_assert_eq(dtcp_setsockopt(st, c, SOL_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	cr_assert_eq(dtcp_send(st, c, "c", 1, 0), 1);
	before = st->tcpc.TcpOutSegs;
	cr_assert_eq(dtcp_send(st, c, "d", 1, 0), 1);
	cr_assert_eq(st->tcpc.TcpOutSegs, before + 1, "TCP_NODELAY sends at once");
}

Test(tcp, shutdown_write_then_read_eof)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	char buf[8];

	cr_assert_eq(dtcp_send(st, c, "bye", 3, 0), 3);
	cr_assert_eq(dtcp_shutdown(st, c, SHUT_WR), 0);
	poll_n(4);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), 0), 3);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), 0), 0, "EOF after the FIN");
	cr_assert_eq(dtcp_send(st, c, "x", 1, 0), -1);
	cr_assert_eq(errno, EPIPE);
	cr_assert_eq(dtcp_send(st, a, "ok", 2, 0), 2, "the other direction still works");
	poll_n(4);
	cr_assert_eq(dtcp_recv(st, c, buf, sizeof(buf), 0), 2);
	cr_assert_eq(dtcp_shutdown(st, c, 7), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_shutdown(st, th_socket(AF_INET, NULL), SHUT_WR), -1);
	cr_assert_eq(errno, ENOTCONN);
}

Test(tcp, linger_zero_resets)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	struct linger lg = { 1, 0 };
	char b;

	cr_assert_eq(dtcp_setsockopt(st, c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	cr_assert_eq(dtcp_close(st, c), 0);
	poll_n(4);
	cr_assert_eq(dtcp_recv(st, a, &b, 1, 0), -1);
	cr_assert_eq(errno, ECONNRESET);
	cr_assert_eq(st->eh.count, 0, "no TIME_WAIT after an abort");
}

/* SO_LINGER with a timeout: close() sends the FIN and returns once the peer
 * has acknowledged it (here after the peer's delayed ACK), not before. */
Test(tcp, linger_waits_for_the_fin_ack)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	struct linger lg = { 1, 5 };
	struct inet_sock *csk = th_sk(c);
	char buf[128];
	uint64_t t0;

	cr_assert_eq(dtcp_setsockopt(st, c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	cr_assert_eq(dtcp_send(st, c, buf, 100, MSG_DONTWAIT), 100);
	th_tick_ns = 100000;
	t0 = th_now_ns;
	cr_assert_eq(dtcp_close(st, c), 0);
	th_tick_ns = 0;
	cr_assert_eq(csk->state, INET_FIN_WAIT2, "close() returned with the FIN acknowledged");
	cr_assert_geq(th_now_ns - t0, TCP_DELACK_MS * 1000000ull, "it waited for the peer's (delayed) ACK");
	cr_assert_lt(th_now_ns - t0, 1000000000ull);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), 0), 100);
	cr_assert_eq(dtcp_recv(st, a, buf, sizeof(buf), 0), 0, "then the end of the stream");
}

Test(tcp, buffer_sizes_and_info)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL), v = 10000;
	socklen_t len = sizeof(v);
	struct tcp_info ti;

	cr_assert_eq(dtcp_setsockopt(st, c, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	cr_assert_eq(dtcp_getsockopt(st, c, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	cr_assert_eq(v, 20000, "Linux doubles the value");
	v = 1 << 30;
	cr_assert_eq(dtcp_setsockopt(st, c, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
	cr_assert_eq(dtcp_getsockopt(st, c, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	cr_assert_eq(v, 2 * 212992, "capped by net.core.wmem_max");
	len = sizeof(ti);
	cr_assert_eq(dtcp_getsockopt(st, a, SOL_TCP, TCP_INFO, &ti, &len), 0);
	cr_assert_eq(ti.tcpi_state, INET_ESTABLISHED);
	cr_assert_eq(ti.tcpi_snd_mss, 1448);
	cr_assert(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	cr_assert_eq(ti.tcpi_rcv_wscale, 7);
	v = 0;
	len = sizeof(v);
	cr_assert_eq(dtcp_getsockopt(st, c, SOL_TCP, TCP_MAXSEG, &v, &len), 0);
	cr_assert_eq(v, 1448);
	v = 50;
	cr_assert_eq(dtcp_setsockopt(st, c, SOL_TCP, TCP_MAXSEG, &v, sizeof(v)), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(tcp, recv_timeout)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 1000 };
	char b;

	uint64_t t0;

	(void)c;
	tv.tv_usec = 5000;
	cr_assert_eq(dtcp_setsockopt(st, a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	/* A blocking recv drives the stack while the virtual clock ticks. */
	cr_assert_eq(dtcp_fcntl(st, a, F_SETFL, 0), 0);
	cr_assert_eq(dtcp_fcntl(st, a, F_GETFL, 0) & O_NONBLOCK, 0);
	th_tick_ns = 100000;
	t0 = th_now_ns;
	cr_assert_eq(dtcp_recv(st, a, &b, 1, 0), -1);
	cr_assert_eq(errno, EAGAIN);
	cr_assert_geq(th_now_ns - t0, 5000000u, "it waited the 5 ms");
	cr_assert_lt(th_now_ns - t0, 50000000u);
	th_tick_ns = 0;
	cr_assert_eq(dtcp_setsockopt(st, a, SOL_SOCKET, SO_RCVTIMEO, &tv, 3), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_recv(st, a, &b, 1, MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
}

Test(tcp, poll_events)
{
	int c, l, a = pair(AF_INET, "127.0.0.1", 5000, &c, &l);
	struct pollfd p[3] = { { .fd = a, .events = POLLIN | POLLOUT }, { .fd = l, .events = POLLIN }, { .fd = 999 } };

	cr_assert_eq(dtcp_poll(st, p, 3, 0), 2);
	cr_assert_eq(p[0].revents, POLLOUT, "writable, nothing to read");
	cr_assert_eq(p[1].revents, 0, "nothing to accept");
	cr_assert_eq(p[2].revents, POLLNVAL);
	cr_assert_eq(dtcp_send(st, c, "x", 1, 0), 1);
	p[0].events = POLLIN;
	cr_assert_eq(dtcp_poll(st, p, 1, 100), 1, "the wait drives the stack");
	cr_assert(p[0].revents & POLLIN);
	cr_assert_eq(dtcp_shutdown(st, c, SHUT_WR), 0);
	poll_n(4);
	p[0].events = POLLIN | POLLRDHUP;
	cr_assert_eq(dtcp_poll(st, p, 1, 0), 1);
	cr_assert(p[0].revents & POLLRDHUP);
}

Test(tcp, epoll_level_edge_oneshot)
{
	int c, l, a = pair(AF_INET, "127.0.0.1", 5000, &c, &l), ep = dtcp_epoll_create1(st, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 }, out[4];
	char buf[4];

	cr_assert_geq(ep, 0);
	cr_assert_eq(dtcp_epoll_ctl(st, ep, EPOLL_CTL_ADD, a, &ev), 0);
	cr_assert_eq(dtcp_epoll_ctl(st, ep, EPOLL_CTL_ADD, a, &ev), -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), 0, "nothing yet");
	cr_assert_eq(dtcp_send(st, c, "ab", 2, 0), 2);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 100), 1);
	cr_assert_eq(out[0].data.u64, 42);
	cr_assert(out[0].events & EPOLLIN);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), 1, "level-triggered: still readable");
	cr_assert_eq(dtcp_recv(st, a, buf, 1, 0), 1);
	ev.events = EPOLLIN | EPOLLET;
	cr_assert_eq(dtcp_epoll_ctl(st, ep, EPOLL_CTL_MOD, a, &ev), 0);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), 1);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), 0, "edge-triggered: reported once");
	cr_assert_eq(dtcp_send(st, c, "c", 1, 0), 1);
	poll_n(4);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), 1, "a new edge");
	ev.events = EPOLLIN | EPOLLONESHOT;
	cr_assert_eq(dtcp_epoll_ctl(st, ep, EPOLL_CTL_MOD, a, &ev), 0);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), 1);
	cr_assert_eq(dtcp_send(st, c, "d", 1, 0), 1);
	poll_n(4);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), 0, "one-shot: disabled until MOD");
	/* A listener becomes readable when a connection waits. */
	ev.events = EPOLLIN;
	ev.data.u64 = 7;
	cr_assert_eq(dtcp_epoll_ctl(st, ep, EPOLL_CTL_DEL, a, NULL), 0);
	cr_assert_eq(dtcp_epoll_ctl(st, ep, EPOLL_CTL_DEL, a, NULL), -1);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(dtcp_epoll_ctl(st, ep, EPOLL_CTL_ADD, l, &ev), 0);
	int c2 = th_socket(AF_INET, NULL);

	cr_assert_eq(dtcp_connect(st, c2, (struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET,
	                                      .sin_port = htons(5000), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
	                          sizeof(struct sockaddr_in)), 0);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 100), 1);
	cr_assert_eq(out[0].data.u64, 7);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 0, 0), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(dtcp_close(st, ep), 0);
	cr_assert_eq(dtcp_epoll_wait(st, ep, out, 4, 0), -1);
	cr_assert_eq(errno, EBADF);
}

Test(tcp, keepalive_probes_then_timeout)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL), one = 1, v = 10;
	uint64_t before;
	char b;

	cr_assert_eq(dtcp_setsockopt(st, c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
	cr_assert_eq(dtcp_setsockopt(st, c, SOL_TCP, TCP_KEEPIDLE, &v, sizeof(v)), 0);
	v = 2;
	cr_assert_eq(dtcp_setsockopt(st, c, SOL_TCP, TCP_KEEPINTVL, &v, sizeof(v)), 0);
	v = 3;
	cr_assert_eq(dtcp_setsockopt(st, c, SOL_TCP, TCP_KEEPCNT, &v, sizeof(v)), 0);
	v = 0;
	cr_assert_eq(dtcp_setsockopt(st, c, SOL_TCP, TCP_KEEPCNT, &v, sizeof(v)), -1);
	cr_assert_eq(errno, EINVAL);
	/* An answering peer: probes go out and are answered; the connection lives. */
	before = st->tcpc.TcpOutSegs;
	for (int i = 0; i < 30; i++) {
		th_sleep_ms(1000);
		poll_n(3);
	}
	cr_assert_gt(st->tcpc.TcpOutSegs, before + 2, "probes and their answers");
	cr_assert_eq(state_of(c), INET_ESTABLISHED);
	/* A silent peer: take the server away without a word. */
	struct inet_sock *ask = th_sk(a);

	socket_table_release(&st->socks, a);
	ask->fd = -1;
	inet_release(st, ask);
	sock_destroy(st, ask);
	for (int i = 0; i < 40; i++) {
		th_sleep_ms(1000);
		poll_n(3);
	}
	cr_assert_eq(dtcp_recv(st, c, &b, 1, MSG_DONTWAIT), -1);
	cr_assert(errno == ETIMEDOUT || errno == ECONNRESET, "%s", strerror(errno));
}

/* A no-port client on 127.0.0.1 with a one-port range (40000), connected
 * to a listener on 127.0.0.2:5000 and accepted: the client's descriptor;
 * *l the listener's, *a the accepted one's, *dst the listener's address. */
static int one_port_flow(int *l, int *a, struct sockaddr_in *dst)
{
	int c;

	*l = th_listener("127.0.0.2", 5000);
	c = th_socket(AF_INET, "n");
	*dst = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(5000) };
	th_sysctl("net.ipv4.ip_local_port_range", "40000 40000");
	dst->sin_addr.s_addr = inet_addr("127.0.0.2");
	cr_assert_eq(th_bind(c, "127.0.0.1", 0), 0);
	cr_assert_eq(dtcp_connect(st, c, (struct sockaddr *)dst, sizeof(*dst)), 0);
	poll_n(2);
	*a = dtcp_accept4(st, *l, NULL, NULL, 0);
	cr_assert_geq(*a, 3);
	return c;
}

/* A second client to *dst, past the reuse delay: it takes the TIME_WAIT's
 * 4-tuple (port 40000) over. Its descriptor. */
static int take_over(const struct sockaddr_in *dst)
{
	int c2 = th_socket(AF_INET, "n");

	cr_assert_eq(th_bind(c2, "127.0.0.1", 0), 0);
	cr_assert_eq(dtcp_connect(st, c2, (const struct sockaddr *)dst, sizeof(*dst)), 0, "%s", strerror(errno));
	cr_assert_eq(th_port(c2), 40000);
	cr_assert_eq(st->cnt.tw_recycled, 1);
	return c2;
}

/* connect_tw_reuse_loopback with a real TIME_WAIT: the new connection takes
 * the 4-tuple over and starts its sequence space past the old one. */
Test(tcp, time_wait_taken_over_by_connect)
{
	struct sockaddr_in dst;
	int l, a, c = one_port_flow(&l, &a, &dst), c2;
	struct inet_sock *csk = th_sk(c);
	uint32_t old_nxt;

	cr_assert_eq(dtcp_close(st, c), 0);
	poll_n(4);
	cr_assert_eq(dtcp_close(st, a), 0);
	poll_n(4);
	cr_assert_eq(csk->state, INET_TIME_WAIT);
	old_nxt = csk->tw_snd_nxt;
	c2 = th_socket(AF_INET, "n");
	cr_assert_eq(th_bind(c2, "127.0.0.1", 0), 0);
	cr_assert_eq(dtcp_connect(st, c2, (struct sockaddr *)&dst, sizeof(dst)), -1, "within the reuse delay");
	cr_assert_eq(errno, EADDRNOTAVAIL);
	th_sleep_ms(1100);
	c2 = take_over(&dst);
	cr_assert_eq(tcp_sk(th_sk(c2))->iss, old_nxt + 65537);
	poll_n(2);
	cr_assert_geq(dtcp_accept4(st, l, NULL, NULL, 0), 3, "the server accepts the new connection");
}

/* As above, but the TIME_WAIT socket's descriptor is still open (shutdown,
 * not close): the takeover ends the TIME_WAIT as its timer would, and the
 * application's descriptor stays its own, on a closed socket, until it
 * closes it (Linux: the full socket is closed, only the timewait sock goes). */
Test(tcp, time_wait_with_descriptor_taken_over)
{
	struct sockaddr_in dst;
	int l, a, c = one_port_flow(&l, &a, &dst), c2, fresh, err = -1;
	socklen_t len = sizeof(err);
	struct inet_sock *csk = th_sk(c);

	cr_assert_eq(dtcp_shutdown(st, c, SHUT_RDWR), 0);
	poll_n(4);
	cr_assert_eq(dtcp_close(st, a), 0);
	poll_n(4);
	cr_assert_eq(csk->state, INET_TIME_WAIT);
	cr_assert_eq(th_sk(c), csk, "the descriptor still holds it");
	th_sleep_ms(1100);
	c2 = take_over(&dst);
	cr_assert_eq(th_sk(c), csk, "the old descriptor is still the old socket");
	cr_assert_eq(csk->state, INET_CLOSE);
	cr_assert_eq(dtcp_getsockopt(st, c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	cr_assert_eq(err, 0);
	fresh = th_socket(AF_INET, NULL);
	cr_assert_neq(fresh, c, "its number is not handed out again");
	poll_n(2);
	cr_assert_geq(dtcp_accept4(st, l, NULL, NULL, 0), 3, "the server accepts the new connection");
	cr_assert_eq(dtcp_close(st, c), 0);
	cr_assert_eq(th_sk(c2)->state, INET_ESTABLISHED, "closing the old one leaves the new one alone");
}

/* shutdown(SHUT_WR), then the peer's data and FIN arrive before the
 * application reads: TIME_WAIT must not take the unread data with it. */
Test(tcp, time_wait_keeps_unread_data)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL);
	static char big[100000], got[100000];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	cr_assert_eq(dtcp_shutdown(st, c, SHUT_WR), 0);
	poll_n(4);
	for (size_t sent = 0; sent < sizeof(big);) {
		ssize_t k = dtcp_send(st, a, big + sent, sizeof(big) - sent, MSG_DONTWAIT);

		if (k > 0)
			sent += (size_t)k;
		poll_n(2);
	}
	cr_assert_eq(dtcp_close(st, a), 0);
	poll_n(8);
	cr_assert_eq(state_of(c), INET_TIME_WAIT);
	for (;;) {
		ssize_t r = dtcp_recv(st, c, got + n, sizeof(got) - n, MSG_DONTWAIT);

		if (r <= 0) {
			cr_assert_eq(r, 0, "EOF after the data, not an error");
			break;
		}
		n += (size_t)r;
	}
	cr_assert_eq(n, sizeof(big), "every byte sent before the FIN is read");
	cr_assert_eq(memcmp(got, big, n), 0);
}

/* tcp_sndbuf_expand(): a connected socket's send buffer holds two
 * congestion windows (ten segments at least) and grows as a writer keeps it
 * full, up to tcp_wmem[2]; SO_SNDBUF fixes it. */
Test(tcp, send_buffer_grows_unless_fixed)
{
	int c, a = pair(AF_INET, "127.0.0.1", 5000, &c, NULL), v, fixed = 20000;
	socklen_t len = sizeof(v);
	int c2;

	cr_assert_eq(dtcp_getsockopt(st, c, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	cr_assert_eq(v, 2 * 10 * 1448, "ten segments of 1,448 bytes, twice: %d", v);
	transfer(c, a, 1 << 20, 5);
	cr_assert_eq(dtcp_getsockopt(st, c, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	cr_assert_gt(v, 2 * 10 * 1448, "grew with the window: %d", v);
	cr_assert_leq(v, 4194304, "within tcp_wmem[2]");
	/* Fixed by SO_SNDBUF before the connect: it stays. */
	th_sysctl("net.ipv4.tcp_wmem", "4096 16384 30000");
	c2 = th_socket(AF_INET, NULL);
	cr_assert_eq(dtcp_setsockopt(st, c2, SOL_SOCKET, SO_SNDBUF, &fixed, sizeof(fixed)), 0);
	cr_assert_eq(dtcp_getsockopt(st, c2, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	cr_assert_eq(v, 40000);
	cr_assert_eq(th_connect(c2, "127.0.0.1", 5000), 0);
	poll_n(4);
	cr_assert_eq(dtcp_getsockopt(st, c2, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	cr_assert_eq(v, 40000, "SO_SNDBUF holds");
	/* Unfixed, the growth stops at tcp_wmem[2]. */
	transfer(a, c, 1 << 20, 6);
	cr_assert_eq(dtcp_getsockopt(st, a, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	cr_assert_eq(v, 30000, "capped by tcp_wmem[2]: %d", v);
}

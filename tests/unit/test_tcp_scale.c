/* One stack on its loopback holds 100,000 established connections from one
 * source address with IP_BIND_ADDRESS_NO_PORT (client and server sides),
 * then closes them all; once TIME_WAIT has run out on the virtual clock
 * every pool is back to zero. */
#include "harness.h"

#include <fcntl.h>

#include "tcp/tcp_sock.h"

#define FLOWS 100000

static uint64_t now_ns = UINT64_C(1000) * 1000000000u;
static uint64_t rng = 3;

static uint64_t clk(void *arg)
{
	(void)arg;
	return now_ns;
}

static void rnd(void *arg, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)arg;
	while (len--) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		*p++ = (uint8_t)(rng >> 11);
	}
}

/* Poll until the loopback is idle. */
static void drain(struct dtcp_stack *s)
{
	for (int k = 0; k < 100000 && dtcp_stack_poll(s) > 0; k++)
		;
}

Test(tcp_scale, hundred_thousand_flows_one_source, .timeout = 300)
{
	static const struct stack_env env = { .now_ns = clk, .random_bytes = rnd };
	struct dtcp_stack_config cfg = { .max_sockets = 1 << 18 };
	struct dtcp_stack *s = stack_create(&cfg, &env);
	static int cfd[FLOWS];
	int lfd[4], accepted = 0, one = 1, max_per_port = 0;
	struct dtcp_pool_stats ps[16];
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };

	cr_assert_not_null(s);
	src.sin_addr.s_addr = inet_addr("127.0.0.1");
	dst.sin_addr.s_addr = inet_addr("127.0.0.2");
	for (int i = 0; i < 4; i++) {
		struct sockaddr_in l = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(44983 + i)) };

		lfd[i] = dtcp_socket(s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		cr_assert_eq(dtcp_bind(s, lfd[i], (struct sockaddr *)&l, sizeof(l)), 0);
		cr_assert_eq(dtcp_listen(s, lfd[i], 65535), 0);
	}
	cr_assert_eq(dtcp_sysctl_set(s, "net.core.somaxconn", "65535"), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(dtcp_listen(s, lfd[i], 65535), 0);
	for (int i = 0; i < FLOWS; i++) {
		int fd = dtcp_socket(s, AF_INET, SOCK_STREAM, 0);

		cr_assert_geq(fd, 0);
		cr_assert_eq(dtcp_setsockopt(s, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)), 0);
		cr_assert_eq(dtcp_bind(s, fd, (struct sockaddr *)&src, sizeof(src)), 0);
		dst.sin_port = htons((uint16_t)(44983 + i % 4));
		cr_assert_eq(dtcp_connect(s, fd, (struct sockaddr *)&dst, sizeof(dst)), 0, "flow %d: %s", i,
		             strerror(errno));
		cfd[i] = fd;
		/* Keep the accept queues short, as a server would. */
		if (i % 1024 == 1023)
			for (int k = 0; k < 4; k++)
				while (dtcp_accept4(s, lfd[k], NULL, NULL, 0) >= 0)
					accepted++;
	}
	drain(s);
	for (int k = 0; k < 4; k++)
		while (dtcp_accept4(s, lfd[k], NULL, NULL, 0) >= 0)
			accepted++;
	cr_assert_eq(accepted, FLOWS, "every connection reached accept()");
	cr_assert_eq(s->eh.count, 2u * FLOWS, "client and server sides established");
	/* Ports in use on the client side: a handful, each shared by many flows. */
	for (int p = 32768; p <= 60999; p++) {
		struct inet_bind_bucket *tb = bind_table_port(&s->bt, (uint16_t)p);

		if (tb && (int)tb->nowners > max_per_port)
			max_per_port = (int)tb->nowners;
	}
	cr_assert_geq(max_per_port, 2, "source ports are shared across destinations");
	/* Close everything: clients first, then servers; TIME_WAIT on the clients. */
	for (int i = 0; i < FLOWS; i++) {
		cr_assert_eq(dtcp_close(s, cfd[i]), 0);
		if (i % 512 == 511)
			drain(s);
	}
	drain(s);
	for (uint32_t i = 0, n = 0; i < s->socks.max && s->socks.count > 4; i++) {
		struct inet_sock *sk = s->socks.fds[i];

		if (sk && sk->state != INET_LISTEN) {
			dtcp_close(s, sk->fd);
			if (++n % 512 == 0)
				drain(s);
		}
	}
	drain(s);
	cr_assert_eq(s->ipc.LinkTxDrops, 0, "lo never dropped");
	cr_assert_eq(s->eh.count, FLOWS, "the clients wait in TIME_WAIT");
	now_ns += (uint64_t)(TCP_MSL_TW_MS + 1) * 1000000u;
	for (int k = 0; k < 50 && s->eh.count; k++)
		dtcp_stack_poll(s);
	cr_assert_eq(s->eh.count, 0);
	for (int i = 0; i < 4; i++)
		dtcp_close(s, lfd[i]);
	for (int i = 0, n = dtcp_stack_pools(s, ps, 16); i < n; i++)
		cr_assert_eq(ps[i].in_use, 0, "pool %s: %llu in use", ps[i].name, (unsigned long long)ps[i].in_use);
	dtcp_stack_free(s);
}

/* A connection costs one struct tcp_sock (socket and PCB together; table
 * links are inside it): dtcp-flows' one-eighth-of-the-kernel memory target
 * (bench/flows.sh: 786 bytes per flow for both endpoints, the kernel 6,399)
 * holds only while it stays within 392 bytes (64-bit pointers; smaller
 * pointers only shrink it). */
Test(tcp_scale, socket_size_budget)
{
	cr_assert_leq(sizeof(struct tcp_sock), 384u, "struct tcp_sock grew to %zu bytes", sizeof(struct tcp_sock));
	cr_assert_leq(sizeof(struct inet_sock), 112u, "struct inet_sock grew to %zu bytes", sizeof(struct inet_sock));
}

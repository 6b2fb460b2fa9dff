/* Two dtcp stacks over a DPDK ring pair (net_ring, one process, no NIC, no
 * hugepages): ARP, the handshake, 4 MiB each way byte-exact, the close, and
 * every mbuf back in the pool. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>

#define XFER (4u << 20)

static void eal(void)
{
	char *argv[] = { "test", "--no-huge", "--no-pci", "-m", "512", "--no-shconf", "--log-level=error", NULL };

	cr_assert_geq(dtcp_dpdk_eal_init(7, argv), 0, "EAL: %s", strerror(errno));
}

static void gen(uint32_t *seed, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(*seed >> 16);
	}
}

struct end {
	struct dtcp_stack *st;
	int fd;
	size_t sent, got;
	uint32_t out_seed, in_seed;
	bool bad;
};

static void pump(struct end *e)
{
	static uint8_t buf[65536], want[65536];

	while (e->sent < XFER) {
		size_t n = XFER - e->sent < sizeof(buf) ? XFER - e->sent : sizeof(buf);
		uint32_t seed = e->out_seed;
		ssize_t k;

		gen(&seed, buf, n);
		k = dtcp_send(e->st, e->fd, buf, n, MSG_DONTWAIT);
		if (k <= 0)
			break;
		gen(&e->out_seed, buf, (size_t)k);
		e->sent += (size_t)k;
	}
	for (;;) {
		ssize_t r = dtcp_recv(e->st, e->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r <= 0)
			break;
		gen(&e->in_seed, want, (size_t)r);
		e->bad |= memcmp(buf, want, (size_t)r) != 0;
		e->got += (size_t)r;
	}
}

Test(dpdk_stack, two_stacks_over_net_ring, .timeout = 120)
{
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_dpdk_port_conf conf = { .pool_size = 16384 };
	struct dtcp_netdev_info ia, ib;
	struct dtcp_dpdk_port_stats ps;
	struct dtcp_stack_config sc = { .max_sockets = 1024 };
	struct dtcp_stack *a, *b;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000) };
	struct end A = { .out_seed = 1, .in_seed = 2 }, B = { .out_seed = 2, .in_seed = 1 };
	int l;

	eal();
	cr_assert_eq(dtcp_dpdk_ring_pair_open("dtcp_ring", &conf, ports), 0, "%s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_info(ports[0], &ia), 0);
	cr_assert_eq(dtcp_dpdk_port_info(ports[1], &ib), 0);
	a = dtcp_stack_new_config(&sc);
	b = dtcp_stack_new_config(&sc);
	cr_assert(a && b);
	cr_assert_geq(dtcp_netdev_attach(a, "eth0", dtcp_dpdk_netdev_ops(), dtcp_dpdk_port_netdev(ports[0], 0), &ia), 2);
	cr_assert_geq(dtcp_netdev_attach(b, "eth0", dtcp_dpdk_netdev_ops(), dtcp_dpdk_port_netdev(ports[1], 0), &ib), 2);
	cr_assert_eq(dtcp_addr_add(a, "eth0", "198.18.0.1/15"), 0);
	cr_assert_eq(dtcp_addr_add(b, "eth0", "198.18.0.2/15"), 0);
	l = dtcp_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sin.sin_addr.s_addr = inet_addr("198.18.0.2");
	cr_assert_eq(dtcp_bind(b, l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(dtcp_listen(b, l, 16), 0);
	A.st = a;
	B.st = b;
	A.fd = dtcp_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(dtcp_connect(a, A.fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	B.fd = -1;
	for (long i = 0; (A.got < XFER || B.got < XFER) && i < 20000000; i++) {
		dtcp_stack_poll(a);
		dtcp_stack_poll(b);
		if (B.fd < 0)
			B.fd = dtcp_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
		pump(&A);
		if (B.fd >= 0)
			pump(&B);
	}
	cr_assert_eq(A.got, XFER);
	cr_assert_eq(B.got, XFER);
	cr_assert(!A.bad && !B.bad, "byte-exact both ways");
	dtcp_close(a, A.fd);
	dtcp_close(b, B.fd);
	dtcp_close(b, l);
	for (int i = 0; i < 100000; i++) {
		dtcp_stack_poll(a);
		dtcp_stack_poll(b);
	}
	dtcp_stack_free(a);
	dtcp_stack_free(b);
	cr_assert_eq(dtcp_dpdk_port_stats(ports[0], &ps), 0);
	cr_assert_gt(ps.tx_pkts, XFER / 1500, "the data went through the ring");
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0, "every mbuf is back: %s", strerror(errno));
	dtcp_dpdk_eal_cleanup();
}

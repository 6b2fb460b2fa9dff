/* Bulk throughput of one TCP connection, and small-segment packet rate,
 * single-threaded in every mode so that the figures compare like with like:
 *
 *   throughput ring   MIB MSG   two dtcp stacks over a DPDK net_ring pair
 *   throughput memif  MIB MSG   two dtcp stacks over a net_memif pair (one process)
 *   throughput kernel MIB MSG   Linux TCP over loopback (one thread, non-blocking)
 *   throughput kernel1500 ...   the same in a private network namespace whose
 *                               lo has the 1500-byte MTU the dtcp links use
 *
 * MIB mebibytes go from A to B in writes of MSG bytes (TCP_NODELAY when MSG
 * is below 1 KiB, so each write is a segment); B checks every byte. One line:
 *   RESULT mode=M bytes=N seconds=S gbps=G segs_per_s=P
 * segs_per_s: packets the device carried per second, both directions (dtcp
 * modes, from the port counters); for the kernel, the segments TcpOutSegs
 * counted (both directions, loopback) per second. Exits non-zero, saying why,
 * when anything fails. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>

#include "hostnet.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "throughput: %s: %s\n", what, strerror(err));
	exit(1);
}

/* The stream: byte off is ref[off % PERIOD], a period prime to every
 * segment size, so a misplaced segment never matches by chance. Sending
 * reads straight from ref; checking is a memcmp against it (the benchmark's
 * own work stays small beside the stacks'). */
#define PERIOD 65521u
static uint8_t ref[PERIOD + 65536];

static void ref_init(void)
{
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < sizeof(ref); i++) {
		if (i < PERIOD) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			ref[i] = (uint8_t)x;
		} else {
			ref[i] = ref[i - PERIOD];
		}
	}
}

static const uint8_t *stream_at(uint64_t off)
{
	return ref + off % PERIOD;
}

static bool check(const uint8_t *b, uint64_t off, size_t n)
{
	return memcmp(b, stream_at(off), n) == 0;
}

/* TcpOutSegs from /proc/net/snmp (the kernel mode's segment count). */
static unsigned long long tcp_out_segs(void)
{
	char line[4096], names[4096] = "";
	FILE *f = fopen("/proc/net/snmp", "r");
	unsigned long long v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Tcp:", 4))
			continue;
		if (!names[0]) {
			strcpy(names, line);
			continue;
		}
		char *sn, *sv, *n = strtok_r(names, " \n", &sn), *x = strtok_r(line, " \n", &sv);

		while (n && x) {
			if (!strcmp(n, "OutSegs"))
				v = strtoull(x, NULL, 10);
			n = strtok_r(NULL, " \n", &sn);
			x = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	fclose(f);
	return v;
}

static int run_kernel(const char *mode, uint64_t total, size_t msg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0), a, b, one = 1;
	static uint8_t in[1 << 16];
	uint64_t sent = 0, got = 0;
	unsigned long long segs0;
	double t0, dt;

	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sin, &len))
		die("kernel listener", errno);
	a = socket(AF_INET, SOCK_STREAM, 0);
	if (a < 0 || connect(a, (struct sockaddr *)&sin, sizeof(sin)))
		die("kernel connect", errno);
	b = accept(l, NULL, NULL);
	if (b < 0)
		die("kernel accept", errno);
	if (msg < 1024)
		setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	segs0 = tcp_out_segs();
	t0 = now_s();
	while (got < total) {
		while (sent < total) {
			size_t n = total - sent < msg ? (size_t)(total - sent) : msg;
			ssize_t k;

			k = send(a, stream_at(sent), n, MSG_DONTWAIT);
			if (k < 0) {
				if (errno != EAGAIN)
					die("kernel send", errno);
				break;
			}
			sent += (uint64_t)k;
		}
		for (;;) {
			ssize_t r = recv(b, in, sizeof(in), MSG_DONTWAIT);

			if (r < 0) {
				if (errno != EAGAIN)
					die("kernel recv", errno);
				break;
			}
			if (r == 0)
				die("kernel recv: early end of stream", EPROTO);
			if (!check(in, got, (size_t)r))
				die("kernel: wrong bytes received", EPROTO);
			got += (uint64_t)r;
		}
	}
	dt = now_s() - t0;
	printf("RESULT mode=%s bytes=%llu seconds=%.4f gbps=%.3f segs_per_s=%.0f\n", mode, (unsigned long long)got, dt,
	       (double)got * 8 / dt / 1e9, (double)(tcp_out_segs() - segs0) / dt);
	close(a);
	close(b);
	close(l);
	return 0;
}

static void eal(const char *mode)
{
	static char *ring_argv[] = { "throughput", "--no-huge", "--no-pci", "-m", "512", "--no-shconf",
	                             "--log-level=error", NULL };
	static char sock[64];
	static char vdev0[160], vdev1[160];
	static char *memif_argv[] = { "throughput", "--no-huge", "--no-pci", "-m", "512", "--no-shconf",
	                              "--log-level=error", vdev0, vdev1, NULL };
	char **argv = ring_argv;
	int argc = 7;

	if (!strcmp(mode, "memif")) {
		snprintf(sock, sizeof(sock), "/run/dtcp-tput-%d.sock", (int)getpid());
		snprintf(vdev0, sizeof(vdev0), "--vdev=net_memif0,role=server,id=0,socket=%s", sock);
		snprintf(vdev1, sizeof(vdev1), "--vdev=net_memif1,role=client,id=0,socket=%s", sock);
		argv = memif_argv;
		argc = 9;
	}
	if (dtcp_dpdk_eal_init(argc, argv) < 0)
		die("EAL", errno);
}

static void open_ports(const char *mode, struct dtcp_dpdk_port *p[2])
{
	struct dtcp_dpdk_port_conf conf = { .pool_size = 32768 };

	if (!strcmp(mode, "ring")) {
		if (dtcp_dpdk_ring_pair_open("tput", &conf, p))
			die("ring pair", errno);
		return;
	}
	for (int i = 0; i < 2; i++) {
		char name[16];
		uint16_t id;

		snprintf(name, sizeof(name), "net_memif%d", i);
		if (dtcp_dpdk_port_lookup(name, &id))
			die(name, errno);
		if (dtcp_dpdk_port_open(id, &conf, &p[i]))
			die("port open", errno);
	}
	for (int i = 0; i < 2; i++)
		if (dtcp_dpdk_port_link_wait(p[i], 5000))
			die("memif link", errno);
}

static int run_dtcp(const char *mode, uint64_t total, size_t msg)
{
	struct dtcp_dpdk_port *p[2];
	struct dtcp_netdev_info ia, ib;
	struct dtcp_dpdk_port_stats s0, s1, e0, e1;
	struct dtcp_stack_config sc = { .max_sockets = 64 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000) };
	static uint8_t in[1 << 16];
	uint64_t sent = 0, got = 0;
	struct dtcp_stack *a, *b;
	int l, fa, fb = -1, one = 1;
	double t0, dt;

	eal(mode);
	open_ports(mode, p);
	dtcp_dpdk_port_info(p[0], &ia);
	dtcp_dpdk_port_info(p[1], &ib);
	a = dtcp_stack_new_config(&sc);
	b = dtcp_stack_new_config(&sc);
	if (!a || !b)
		die("stack", errno);
	if (dtcp_netdev_attach(a, "eth0", dtcp_dpdk_netdev_ops(), dtcp_dpdk_port_netdev(p[0], 0), &ia) < 0 ||
	    dtcp_netdev_attach(b, "eth0", dtcp_dpdk_netdev_ops(), dtcp_dpdk_port_netdev(p[1], 0), &ib) < 0 ||
	    dtcp_addr_add(a, "eth0", "198.18.0.1/24") || dtcp_addr_add(b, "eth0", "198.18.0.2/24"))
		die("stack set-up", errno);
	/* The send buffer grows by itself (to tcp_wmem[2]); the receive
	 * buffer does not (dtcp has no receive autotuning), so B starts with
	 * what Linux's would grow to. */
	dtcp_sysctl_set(b, "net.ipv4.tcp_rmem", "4096 6291456 6291456");
	l = dtcp_socket(b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sin.sin_addr.s_addr = inet_addr("198.18.0.2");
	if (l < 0 || dtcp_bind(b, l, (struct sockaddr *)&sin, sizeof(sin)) || dtcp_listen(b, l, 4))
		die("listener", errno);
	fa = dtcp_socket(a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (msg < 1024)
		dtcp_setsockopt(a, fa, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (dtcp_connect(a, fa, (struct sockaddr *)&sin, sizeof(sin)) == 0 || errno != EINPROGRESS)
		die("connect", errno);
	/* Time-bounded: a memif link may refuse the first frames for a moment
	 * after it reports up; ARP's retry (1 s) then gets through. */
	for (double t = now_s(); fb < 0 && now_s() - t < 10;) {
		dtcp_stack_poll(a);
		dtcp_stack_poll(b);
		fb = dtcp_accept4(b, l, NULL, NULL, SOCK_NONBLOCK);
	}
	if (fb < 0)
		die("accept (no handshake within 10 s)", ETIMEDOUT);
	dtcp_dpdk_port_stats(p[0], &s0);
	dtcp_dpdk_port_stats(p[1], &s1);
	t0 = now_s();
	while (got < total) {
		dtcp_stack_poll(a);
		while (sent < total) {
			size_t n = total - sent < msg ? (size_t)(total - sent) : msg;
			ssize_t k;

			k = dtcp_send(a, fa, stream_at(sent), n, MSG_DONTWAIT);
			if (k < 0) {
				if (errno != EAGAIN)
					die("dtcp send", errno);
				break;
			}
			sent += (uint64_t)k;
		}
		dtcp_stack_poll(b);
		for (;;) {
			ssize_t r = dtcp_recv(b, fb, in, sizeof(in), MSG_DONTWAIT);

			if (r < 0) {
				if (errno != EAGAIN)
					die("dtcp recv", errno);
				break;
			}
			if (r == 0)
				die("dtcp recv: early end of stream", EPROTO);
			if (!check(in, got, (size_t)r))
				die("dtcp: wrong bytes received", EPROTO);
			got += (uint64_t)r;
		}
		if (now_s() - t0 > 120)
			die("stalled", ETIMEDOUT);
	}
	dt = now_s() - t0;
	dtcp_dpdk_port_stats(p[0], &e0);
	dtcp_dpdk_port_stats(p[1], &e1);
	printf("RESULT mode=%s bytes=%llu seconds=%.4f gbps=%.3f segs_per_s=%.0f\n", mode, (unsigned long long)got, dt,
	       (double)got * 8 / dt / 1e9, (double)(e0.tx_pkts - s0.tx_pkts + e1.tx_pkts - s1.tx_pkts) / dt);
	dtcp_close(a, fa);
	dtcp_close(b, fb);
	dtcp_close(b, l);
	dtcp_stack_free(a);
	dtcp_stack_free(b);
	dtcp_dpdk_port_close(p[0]);
	dtcp_dpdk_port_close(p[1]);
	dtcp_dpdk_eal_cleanup();
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t mib;
	size_t msg;

	if (argc != 4 || (strcmp(argv[1], "ring") && strcmp(argv[1], "memif") && strcmp(argv[1], "kernel") &&
	                  strcmp(argv[1], "kernel1500"))) {
		fprintf(stderr, "usage: throughput ring|memif|kernel|kernel1500 MIB MSG_BYTES\n");
		return 2;
	}
	ref_init();
	mib = strtoull(argv[2], NULL, 10);
	msg = strtoul(argv[3], NULL, 10);
	if (!mib || !msg || msg > 65536) {
		fprintf(stderr, "throughput: MIB > 0 and 0 < MSG_BYTES <= 65536\n");
		return 2;
	}
	if (!strcmp(argv[1], "kernel1500")) {
		const char *what;
		int r = hostnet_private_lo(1500, &what);

		if (r < 0)
			die(what, -r);
	}
	if (!strncmp(argv[1], "kernel", 6))
		return run_kernel(argv[1], mib << 20, msg);
	return run_dtcp(argv[1], mib << 20, msg);
}

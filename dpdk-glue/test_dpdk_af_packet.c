/* dtcp on net_af_packet over a veth pair <-> Linux TCP. The test makes a
 * private network namespace and a veth pair: one end stays in the root
 * namespace, up but with no address (and IPv6 off), and dtcp owns it
 * through --vdev=net_af_packet0,iface=...; the other end is moved into the
 * namespace with 198.18.0.1/15. With no address of the kernel's on dtcp's
 * end, the kernel ignores the TCP that af_packet shows it too (no resets).
 * dtcp (198.18.0.2) connects to a Linux echo server in the namespace,
 * sends 1 MiB, reads it back byte for byte, and both close; the namespace's
 * neighbour table must then hold dtcp's MAC (its ARP answer). .fini removes
 * the namespace and the pair even when the test fails. Needs root. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>

#define XFER (1u << 20)
#define LINUX_IP "198.18.0.1"
#define DTCP_IP "198.18.0.2"
#define ECHO_PORT 5011

static struct {
	char ns[32], ifa[16], ifb[16];
	bool eal_up;
	struct dtcp_dpdk_port *port;
	struct dtcp_stack *st;
	pid_t echo;
} T;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

#define SH(...) cr_assert_eq(sh(__VA_ARGS__), 0, "command failed")

static uint8_t stream_byte(size_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

/* The Linux side, in a forked child inside the namespace: accept one
 * connection and echo it until EOF, then close. Exit status 0 if so. */
static void __attribute__((noreturn)) echo_server(int ready_fd)
{
	char path[64], buf[65536];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	int nsfd, l, c, one = 1;
	ssize_t r;

	alarm(30);
	snprintf(path, sizeof(path), "/run/netns/%s", T.ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
		_exit(10);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, LINUX_IP, &sin.sin_addr);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(l, 1) < 0)
		_exit(11);
	if (write(ready_fd, "r", 1) != 1)
		_exit(12);
	c = accept(l, NULL, NULL);
	if (c < 0)
		_exit(13);
	while ((r = read(c, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(c, buf + off, (size_t)(r - off));

			if (w <= 0)
				_exit(14);
			off += w;
		}
	if (r < 0)
		_exit(15);
	close(c);
	_exit(0);
}

static void setup(void)
{
	char vdev[64];
	char *argv[] = { "af_packet", "--no-huge", "--no-pci", "-m", "512", "--no-shconf",
			 "--no-telemetry", "--log-level=error", vdev, NULL };
	struct dtcp_dpdk_port_conf conf = { .pool_size = 8192 };
	struct dtcp_stack_config sc = { .max_sockets = 64 };
	struct dtcp_netdev_info info;
	uint16_t id;

	memset(&T, 0, sizeof(T));
	cr_assert_eq(geteuid(), 0, "needs root");
	snprintf(T.ns, sizeof(T.ns), "dtcp-ap-%d", (int)getpid());
	snprintf(T.ifa, sizeof(T.ifa), "dap%da", (int)getpid());
	snprintf(T.ifb, sizeof(T.ifb), "dap%db", (int)getpid());
	SH("ip netns add %s", T.ns);
	SH("ip link add %s type veth peer name %s", T.ifa, T.ifb);
	/* dtcp's end: up, no IPv4 address, no IPv6 (no router or neighbour
	 * solicitations of the kernel's on dtcp's link). */
	SH("sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 && ip link set %s up", T.ifa, T.ifa);
	SH("ip link set %s netns %s", T.ifb, T.ns);
	/* The kernel's end sends whole checksummed frames: af_packet hands dtcp
	 * the frames as they are, and a veth would otherwise pass TSO super-
	 * frames and partial checksums. */
	SH("ip netns exec %1$s sh -c 'ip link set lo up && ip link set %2$s up && "
	   "ip addr add " LINUX_IP "/15 dev %2$s && ethtool -K %2$s tx off tso off gso off >/dev/null'",
	   T.ns, T.ifb);

	snprintf(vdev, sizeof(vdev), "--vdev=net_af_packet0,iface=%s", T.ifa);
	cr_assert_geq(dtcp_dpdk_eal_init(9, argv), 0, "EAL: %s", strerror(errno));
	T.eal_up = true;
	cr_assert_eq(dtcp_dpdk_port_lookup("net_af_packet0", &id), 0, "%s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_open(id, &conf, &T.port), 0, "port open: %s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_link_wait(T.port, 5000), 0, "link: %s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_info(T.port, &info), 0);
	T.st = dtcp_stack_new_config(&sc);
	cr_assert_not_null(T.st);
	cr_assert_geq(dtcp_netdev_attach(T.st, "eth0", dtcp_dpdk_netdev_ops(),
					 dtcp_dpdk_port_netdev(T.port, 0), &info), 2);
	cr_assert_eq(dtcp_addr_add(T.st, "eth0", DTCP_IP "/15"), 0);
}

static void fini(void)
{
	if (T.echo > 0) {
		kill(T.echo, SIGKILL);
		waitpid(T.echo, NULL, 0);
	}
	if (T.st)
		dtcp_stack_free(T.st);
	if (T.port)
		dtcp_dpdk_port_close(T.port);
	if (T.eal_up)
		dtcp_dpdk_eal_cleanup();
	/* Deleting the namespace deletes its end, and a veth goes in pairs;
	 * the explicit delete covers a failure before the move. */
	sh("ip netns del %s 2>/dev/null", T.ns);
	sh("ip link del %s 2>/dev/null", T.ifa);
}

TestSuite(dpdk_af_packet, .init = setup, .fini = fini, .timeout = 60);

Test(dpdk_af_packet, tcp_with_linux_over_veth)
{
	static uint8_t buf[65536];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	struct dtcp_dpdk_port_stats ps;
	size_t sent = 0, got = 0;
	bool shut = false, eof = false;
	int p[2], fd, status;
	char c, neigh[256];
	FILE *f;
	double end;

	cr_assert_eq(pipe(p), 0);
	T.echo = fork();
	cr_assert_geq(T.echo, 0);
	if (T.echo == 0)
		echo_server(p[1]);
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "echo server did not start");
	close(p[0]);

	fd = dtcp_socket(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	inet_pton(AF_INET, LINUX_IP, &sin.sin_addr);
	cr_assert_eq(dtcp_connect(T.st, fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	end = now() + 30;
	while (!eof) {
		cr_assert_lt(now(), end, "timed out: sent %zu, got %zu", sent, got);
		dtcp_stack_poll(T.st);
		while (sent < XFER) {
			size_t n = XFER - sent < sizeof(buf) ? XFER - sent : sizeof(buf);
			ssize_t k;

			for (size_t i = 0; i < n; i++)
				buf[i] = stream_byte(sent + i);
			k = dtcp_send(T.st, fd, buf, n, MSG_DONTWAIT);
			if (k < 0)
				cr_assert(errno == EAGAIN || errno == ENOTCONN, "send: %s", strerror(errno));
			if (k <= 0)
				break;
			sent += (size_t)k;
		}
		if (sent == XFER && !shut) {
			cr_assert_eq(dtcp_shutdown(T.st, fd, SHUT_WR), 0, "%s", strerror(errno));
			shut = true;
		}
		for (;;) {
			ssize_t r = dtcp_recv(T.st, fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (r == 0)
				eof = true;
			if (r <= 0) {
				cr_assert(r == 0 || errno == EAGAIN || errno == ENOTCONN, "recv: %s", strerror(errno));
				break;
			}
			for (ssize_t i = 0; i < r; i++)
				cr_assert_eq(buf[i], stream_byte(got + (size_t)i), "byte %zu", got + (size_t)i);
			got += (size_t)r;
		}
	}
	cr_assert_eq(got, XFER, "the echo came back whole");
	cr_assert_eq(dtcp_close(T.st, fd), 0);
	/* The echo server's exit says it saw our FIN and closed cleanly;
	 * poll meanwhile so the last ACKs go out. */
	end = now() + 10;
	while (waitpid(T.echo, &status, WNOHANG) == 0) {
		cr_assert_lt(now(), end, "echo server did not finish");
		dtcp_stack_poll(T.st);
	}
	T.echo = 0;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "echo server status %d", status);
	for (int i = 0; i < 10000; i++)
		dtcp_stack_poll(T.st);

	/* ARP: the kernel learnt dtcp's MAC from dtcp's own answer. */
	snprintf(neigh, sizeof(neigh), "ip netns exec %s ip neigh show " DTCP_IP " dev %s", T.ns, T.ifb);
	f = popen(neigh, "r");
	cr_assert_not_null(f);
	memset(neigh, 0, sizeof(neigh));
	cr_assert_not_null(fgets(neigh, sizeof(neigh), f), "no neighbour entry for dtcp");
	pclose(f);
	cr_assert(strstr(neigh, "lladdr") != NULL, "resolved: %s", neigh);
	cr_assert_eq(dtcp_dpdk_port_stats(T.port, &ps), 0);
	cr_assert_gt(ps.rx_pkts, XFER / 1500, "the echo came in through af_packet");
}

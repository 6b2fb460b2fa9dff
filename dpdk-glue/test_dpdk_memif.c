/* dtcp over net_memif between two processes: the test forks a memif server
 * and a memif client, each with its own EAL (--no-shconf, its own
 * --file-prefix, no telemetry), its own port and its own dtcp stack; the
 * client connects to the server, 4 MiB go each way, checked byte for byte
 * and by hash, both close, and both processes shut down and exit 0.
 *
 * Shutdown order. net_memif in DPDK 22.11 unmaps a connection's rings from
 * its interrupt thread when the peer leaves, while a thread may be inside
 * rx_burst on them: a side that still polls when the other closes its port
 * can crash (seen here: the server, in rx_burst, 1 run in 40; and at exit in
 * EAL's interrupt thread in an earlier experiment). So, once both sides are
 * done with TCP, both stop polling; then the client closes its port and
 * exits; then the server waits for its link to go down (its interrupt thread
 * has handled the disconnect; a memif port reports no packets once
 * disconnected) before it closes its port and cleans up EAL. The parent only
 * forks, sequences these steps and reports how each child ended: a crash is
 * a failure naming the signal, with a backtrace on stderr. */
#include <criterion/criterion.h>
#include <execinfo.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>

#define XFER (4u << 20)
#define TCP_PORT 7002
#define SERVER_IP "198.18.0.1"
#define CLIENT_IP "198.18.0.2"

/* What a child tells the parent, one message per line on its pipe. */
struct child {
	pid_t pid;
	int to_parent;     /* the parent's read end */
	int from_parent;   /* the parent's write end */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Byte i of the stream a side sends (side 0: the server). */
static uint8_t stream_byte(int side, size_t i)
{
	uint64_t x = (i >> 3) * 0x9E3779B97F4A7C15ull + (uint64_t)side * 0xBF58476D1CE4E5B9ull;

	x ^= x >> 29;
	x *= 0x94D049BB133111EBull;
	return (uint8_t)(x >> (8 * (i & 7)));
}

static uint64_t fnv(uint64_t h, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* ---- the children ----------------------------------------------------- */

static int out_fd;

/* Report a failure to the parent and exit. */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	if (write(out_fd, "FAIL ", 5) < 0 || write(out_fd, msg, (size_t)n) < 0)
		_exit(3);
	_exit(2);
}

static void say(const char *line)
{
	if (write(out_fd, line, strlen(line)) < 0)
		_exit(3);
}

/* A child that crashes says so, with where (thread and stack), on stderr
 * and to the parent, then dies of the same signal. */
static void on_crash(int sig)
{
	void *frames[32];
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "FAIL crashed: signal %d in thread %d\n", sig, (int)gettid());

	if (write(out_fd, msg, (size_t)n) < 0 || write(2, msg, (size_t)n) < 0)
		_exit(4);
	backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Run one side: server (side 0) or client (side 1). in_fd is read for the
 * parent's go-ahead. Exits the process. */
static void __attribute__((noreturn)) side_run(int side, const char *sock, int in_fd)
{
	char vdev[128], prefix[64];
	char *argv[] = { side ? "memif-client" : "memif-server", "--no-huge", "--no-pci", "-m", "256",
			 "--no-shconf", "--no-telemetry", "--log-level=error", prefix, vdev, NULL };
	struct dtcp_dpdk_port_conf conf = { .pool_size = 8192 };
	struct dtcp_stack_config sc = { .max_sockets = 64 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
	struct dtcp_netdev_info info;
	struct dtcp_dpdk_port *port;
	struct dtcp_stack *st;
	static uint8_t buf[65536];
	uint64_t hash = FNV_INIT, want_hash = FNV_INIT;
	size_t sent = 0, got = 0;
	bool shut = false, eof = false;
	int l = -1, fd = -1;
	uint16_t id;
	char go;
	double end;

	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGABRT, on_crash);
	snprintf(prefix, sizeof(prefix), "--file-prefix=dtcp-memif-%c%d", side ? 'c' : 's', (int)getppid());
	snprintf(vdev, sizeof(vdev), "--vdev=net_memif0,role=%s,id=0,socket=%s",
		 side ? "client" : "server", sock);
	if (dtcp_dpdk_eal_init(10, argv) < 0)
		die("EAL: %s", strerror(errno));
	if (dtcp_dpdk_port_lookup("net_memif0", &id) < 0)
		die("lookup: %s", strerror(errno));
	if (dtcp_dpdk_port_open(id, &conf, &port) < 0)
		die("port open: %s", strerror(errno));
	say("READY\n");
	if (dtcp_dpdk_port_link_wait(port, 10000) < 0)
		die("memif link: %s", strerror(errno));
	dtcp_dpdk_port_info(port, &info);
	st = dtcp_stack_new_config(&sc);
	if (!st || dtcp_netdev_attach(st, "eth0", dtcp_dpdk_netdev_ops(),
				      dtcp_dpdk_port_netdev(port, 0), &info) < 0 ||
	    dtcp_addr_add(st, "eth0", side ? CLIENT_IP "/15" : SERVER_IP "/15") < 0)
		die("stack: %s", strerror(errno));
	sin.sin_addr.s_addr = inet_addr(SERVER_IP);
	if (side == 0) {
		l = dtcp_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (dtcp_bind(st, l, (struct sockaddr *)&sin, sizeof(sin)) < 0 || dtcp_listen(st, l, 4) < 0)
			die("listen: %s", strerror(errno));
	} else {
		fd = dtcp_socket(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (dtcp_connect(st, fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 || errno != EINPROGRESS)
			die("connect: %s", strerror(errno));
	}

	end = now() + 20;
	while (!(eof && shut)) {
		if (now() > end) {
			struct dtcp_dpdk_port_stats ps;
			struct dtcp_counter cnt[DTCP_COUNTERS_MAX];
			int nc = dtcp_stack_counters(st, cnt, DTCP_COUNTERS_MAX);
			char dbg[2048] = "";

			for (int i = 0; i < nc && i < DTCP_COUNTERS_MAX; i++)
				if (!strncmp(cnt[i].name, "Tcp", 3) && cnt[i].value)
					snprintf(dbg + strlen(dbg), sizeof(dbg) - strlen(dbg), " %s=%llu", cnt[i].name,
					         (unsigned long long)cnt[i].value);
			fprintf(stderr, "side %d counters:%s\n", side, dbg);
			dtcp_dpdk_port_stats(port, &ps);
			die("timed out: fd %d, sent %zu, got %zu, eof %d; port rx %llu tx %llu tx_full %llu alloc_fail %llu in use %u",
			    fd, sent, got, eof, (unsigned long long)ps.rx_pkts, (unsigned long long)ps.tx_pkts,
			    (unsigned long long)ps.tx_full, (unsigned long long)ps.alloc_fail, ps.pool_in_use);
		}
		dtcp_stack_poll(st);
		if (fd < 0) {
			fd = dtcp_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
			if (fd < 0)
				continue;
		}
		while (sent < XFER) {
			size_t n = XFER - sent < sizeof(buf) ? XFER - sent : sizeof(buf);
			ssize_t k;

			for (size_t i = 0; i < n; i++)
				buf[i] = stream_byte(side, sent + i);
			k = dtcp_send(st, fd, buf, n, MSG_DONTWAIT);
			if (k <= 0)
				break;
			sent += (size_t)k;
		}
		if (sent == XFER && !shut) {
			if (dtcp_shutdown(st, fd, SHUT_WR) < 0)
				die("shutdown: %s", strerror(errno));
			shut = true;
		}
		for (;;) {
			ssize_t r = dtcp_recv(st, fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (r == 0)
				eof = true;
			if (r <= 0) {
				if (r < 0 && errno != EAGAIN)
					die("recv: %s", strerror(errno));
				break;
			}
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != stream_byte(!side, got + (size_t)i))
					die("byte %zu differs", got + (size_t)i);
			hash = fnv(hash, buf, (size_t)r);
			got += (size_t)r;
		}
	}
	for (size_t off = 0; off < XFER; off += sizeof(buf)) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = stream_byte(!side, off + i);
		want_hash = fnv(want_hash, buf, sizeof(buf));
	}
	if (got != XFER || hash != want_hash)
		die("got %zu bytes, hash %016llx, want %016llx", got, (unsigned long long)hash,
		    (unsigned long long)want_hash);
	dtcp_close(st, fd);
	if (l >= 0)
		dtcp_close(st, l);
	say("DONE\n");

	/* Keep the stack answering (the last ACKs of the close) until the
	 * parent says both sides are done; then stop polling the port. */
	for (;;) {
		struct pollfd p = { .fd = in_fd, .events = POLLIN };

		dtcp_stack_poll(st);
		if (poll(&p, 1, 0) > 0)
			break;
	}
	if (read(in_fd, &go, 1) != 1)
		die("parent gone");
	say("QUIET\n");
	if (read(in_fd, &go, 1) != 1)
		die("parent gone");
	if (side == 0) {
		/* The server goes second: wait (bounded) for the link to drop,
		 * the sign that its interrupt thread has handled the client's
		 * disconnect. */
		end = now() + 10;
		while (dtcp_dpdk_port_link_wait(port, 1) == 0) {
			if (now() > end)
				die("the link stayed up after the client left");
		}
	}
	dtcp_stack_free(st);
	if (dtcp_dpdk_port_close(port) < 0)
		die("port close: %s", strerror(errno));
	if (dtcp_dpdk_eal_cleanup() < 0)
		die("EAL cleanup: %s", strerror(errno));
	say("EXIT\n");
	_exit(0);
}

/* ---- the parent ------------------------------------------------------- */

static struct child kids[2];

static struct child spawn(int side, const char *sock)
{
	int up[2], down[2];
	struct child c;

	cr_assert_eq(pipe(up), 0);
	cr_assert_eq(pipe(down), 0);
	c.pid = fork();
	cr_assert_geq(c.pid, 0);
	if (c.pid == 0) {
		close(up[0]);
		close(down[1]);
		out_fd = up[1];
		side_run(side, sock, down[0]);
	}
	close(up[1]);
	close(down[0]);
	c.to_parent = up[0];
	c.from_parent = down[1];
	return c;
}

/* Read lines from a child until one starts with want. A FAIL line or EOF
 * (the child died) fails the test with what happened. */
static void expect(struct child *c, const char *who, const char *want, double timeout)
{
	char line[512];
	size_t used = 0;
	double end = now() + timeout;

	for (;;) {
		struct pollfd p = { .fd = c->to_parent, .events = POLLIN };
		ssize_t r;
		char *nl;

		cr_assert_lt(now(), end, "%s: no %s within %.0f s", who, want, timeout);
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(c->to_parent, line + used, sizeof(line) - 1 - used);
		if (r <= 0) {
			int status = 0;

			waitpid(c->pid, &status, 0);
			c->pid = 0;
			cr_assert_fail("%s died before %s: %s %d", who, want,
				       WIFSIGNALED(status) ? "signal" : "exit status",
				       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		}
		used += (size_t)r;
		line[used] = '\0';
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			cr_assert(strncmp(line, "FAIL", 4) != 0, "%s: %s", who, line);
			if (strncmp(line, want, strlen(want)) == 0) {
				memmove(line, nl + 1, used - (size_t)(nl + 1 - line) + 1);
				return;
			}
			used -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, used + 1);
		}
	}
}

static void reap(struct child *c, const char *who)
{
	int status = 0;
	double end = now() + 20;

	while (waitpid(c->pid, &status, WNOHANG) == 0) {
		cr_assert_lt(now(), end, "%s did not exit", who);
		usleep(10000);
	}
	c->pid = 0;
	cr_assert(!WIFSIGNALED(status), "%s crashed at exit: signal %d (%s)", who, WTERMSIG(status),
		  strsignal(WTERMSIG(status)));
	cr_assert_eq(WEXITSTATUS(status), 0, "%s exit status %d", who, WEXITSTATUS(status));
}

static void kill_kids(void)
{
	char dir[64];

	for (int i = 0; i < 2; i++) {
		if (kids[i].pid > 0) {
			kill(kids[i].pid, SIGKILL);
			waitpid(kids[i].pid, NULL, 0);
		}
		/* EAL makes a run directory per file prefix, even with
		 * --no-shconf; it is empty then. */
		snprintf(dir, sizeof(dir), "/var/run/dpdk/dtcp-memif-%c%d", i ? 'c' : 's', (int)getpid());
		rmdir(dir);
	}
}

TestSuite(dpdk_memif, .fini = kill_kids);

Test(dpdk_memif, tcp_between_two_processes, .timeout = 90)
{
	char sock[64];

	/* A child that died is reported by expect(), not by a SIGPIPE here. */
	signal(SIGPIPE, SIG_IGN);
	snprintf(sock, sizeof(sock), "/run/dtcp-memif-%d.sock", (int)getpid());
	kids[0] = spawn(0, sock);
	expect(&kids[0], "server", "READY", 20);
	kids[1] = spawn(1, sock);
	/* The children give up after 20 s and say why. */
	expect(&kids[1], "client", "DONE", 40);
	expect(&kids[0], "server", "DONE", 40);
	/* Both stop polling, then the client leaves first; see the file's
	 * head comment. */
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(write(kids[i].from_parent, "q", 1), 1, "%s gone", i ? "client" : "server");
		expect(&kids[i], i ? "client" : "server", "QUIET", 10);
	}
	cr_assert_eq(write(kids[1].from_parent, "x", 1), 1, "client gone: %s", strerror(errno));
	expect(&kids[1], "client", "EXIT", 20);
	reap(&kids[1], "client");
	if (write(kids[0].from_parent, "x", 1) != 1)
		expect(&kids[0], "server", "EXIT", 1);   /* says how it died */
	expect(&kids[0], "server", "EXIT", 20);
	reap(&kids[0], "server");
}

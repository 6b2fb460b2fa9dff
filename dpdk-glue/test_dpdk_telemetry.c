/* DPDK telemetry: a dtcp stack over a net_ring pair, registered, answers
 * /dtcp/counters, /dtcp/ss (paged) and /dtcp/pools on the real telemetry
 * socket, read by the dtcp-ss program (path in DTCP_SS) in a child process
 * and by a raw client on a second thread, while this thread polls; an
 * unpolled stack's request times out with an error. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>

#define FLOWS 5
#define UNCONN 300

static char prefix[64], sock_path[100];

static void eal(void)
{
	char *argv[] = { "test", "--no-huge", "--no-pci", "-m", "512", "--no-shconf", "--file-prefix", prefix,
		         "--log-level=error", NULL };

	snprintf(prefix, sizeof(prefix), "dtcp-tel-%d", (int)getpid());
	snprintf(sock_path, sizeof(sock_path), "/var/run/dpdk/%s/dpdk_telemetry.v2", prefix);
	cr_assert_geq(dtcp_dpdk_eal_init(9, argv), 0, "EAL: %s", strerror(errno));
	cr_assert_eq(access(sock_path, F_OK), 0, "EAL opened no telemetry socket at %s", sock_path);
}

static void eal_done(void)
{
	char dir[128];

	dtcp_dpdk_eal_cleanup();
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	rmdir(dir);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A raw telemetry client: connect, skip the greeting. */
static int tel_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[1024];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
	cr_assert_gt(recv(fd, buf, sizeof(buf), 0), 0, "greeting");
	return fd;
}

static ssize_t tel_ask(int fd, const char *req, char *buf, size_t len)
{
	ssize_t n;

	if (send(fd, req, strlen(req), 0) < 0)
		return -1;
	n = recv(fd, buf, len - 1, 0);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

struct ends {
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_stack *a, *b;
};

static void poll_both(struct ends *e)
{
	dtcp_stack_poll(e->a);
	dtcp_stack_poll(e->b);
}

static void two_stacks(struct ends *e)
{
	struct dtcp_dpdk_port_conf conf = { .pool_size = 8192 };
	struct dtcp_netdev_info ia, ib;
	struct dtcp_stack_config sc = { .max_sockets = 1024 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7000) };
	int l, fds[FLOWS], accepted = 0;

	cr_assert_eq(dtcp_dpdk_ring_pair_open("dtcp_tel", &conf, e->ports), 0, "%s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_info(e->ports[0], &ia), 0);
	cr_assert_eq(dtcp_dpdk_port_info(e->ports[1], &ib), 0);
	e->a = dtcp_stack_new_config(&sc);
	e->b = dtcp_stack_new_config(&sc);
	cr_assert(e->a && e->b);
	cr_assert_geq(dtcp_netdev_attach(e->a, "eth0", dtcp_dpdk_netdev_ops(), dtcp_dpdk_port_netdev(e->ports[0], 0), &ia), 2);
	cr_assert_geq(dtcp_netdev_attach(e->b, "eth0", dtcp_dpdk_netdev_ops(), dtcp_dpdk_port_netdev(e->ports[1], 0), &ib), 2);
	cr_assert_eq(dtcp_addr_add(e->a, "eth0", "198.18.0.1/15"), 0);
	cr_assert_eq(dtcp_addr_add(e->b, "eth0", "198.18.0.2/15"), 0);
	l = dtcp_socket(e->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sin.sin_addr.s_addr = inet_addr("198.18.0.2");
	cr_assert_eq(dtcp_bind(e->b, l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(dtcp_listen(e->b, l, 64), 0);
	for (int i = 0; i < FLOWS; i++) {
		fds[i] = dtcp_socket(e->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		cr_assert_eq(dtcp_connect(e->a, fds[i], (struct sockaddr *)&sin, sizeof(sin)), -1);
		cr_assert_eq(errno, EINPROGRESS);
	}
	/* SYNs held back by ARP resolution go again after the RTO (1 s). */
	for (double t0 = now_s(); accepted < FLOWS && now_s() - t0 < 20.0;) {
		poll_both(e);
		if (dtcp_accept4(e->b, l, NULL, NULL, SOCK_NONBLOCK) >= 0)
			accepted++;
	}
	cr_assert_eq(accepted, FLOWS);
	for (int i = 0; i < 1000; i++)
		poll_both(e);
	/* Sockets never connected: more than one /dtcp/ss page of them. */
	for (int i = 0; i < UNCONN; i++)
		cr_assert_geq(dtcp_socket(e->a, AF_INET, SOCK_STREAM, 0), 0);
}

static void two_stacks_free(struct ends *e)
{
	cr_assert_eq(dtcp_dpdk_telemetry_unregister(e->a), 0);
	dtcp_stack_free(e->a);
	dtcp_stack_free(e->b);
	dtcp_dpdk_port_close(e->ports[0]);
	dtcp_dpdk_port_close(e->ports[1]);
}

/* Run dtcp-ss with args in a child while this thread polls; its stdout. */
static char *run_dtcp_ss(struct ends *e, const char *const *args, int *status)
{
	const char *bin = getenv("DTCP_SS");
	static char out[1 << 20];
	size_t got = 0;
	int pfd[2];
	pid_t pid;
	double t0 = now_s();
	char *argv[16] = { "dtcp-ss", "--file-prefix", prefix };
	int argc = 3;

	cr_assert_not_null(bin, "DTCP_SS is not set (meson sets it)");
	for (int i = 0; args[i] && argc < 15; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	cr_assert_eq(pipe(pfd), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execv(bin, argv);
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = read(pfd[0], out + got, sizeof(out) - 1 - got);

		if (n > 0)
			got += (size_t)n;
		if (n == 0)
			break;
		poll_both(e);
		cr_assert_lt(now_s() - t0, 30.0, "dtcp-ss did not finish");
	}
	close(pfd[0]);
	cr_assert_eq(waitpid(pid, status, 0), pid);
	out[got] = '\0';
	return out;
}

static int count_lines(const char *s, const char *starting)
{
	int n = 0;

	for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += !strncmp(p, starting, strlen(starting));
	return n;
}

struct raw_q {
	char counters[65536], pools[65536], bad[4096];
	volatile int done;
};

static void *raw_client(void *arg)
{
	struct raw_q *q = arg;
	int fd = tel_connect();

	tel_ask(fd, "/dtcp/counters", q->counters, sizeof(q->counters));
	tel_ask(fd, "/dtcp/pools", q->pools, sizeof(q->pools));
	tel_ask(fd, "/dtcp/ss,state bogus", q->bad, sizeof(q->bad));
	close(fd);
	q->done = 1;
	return NULL;
}

Test(dpdk_telemetry, counters_ss_and_pools_over_the_socket, .timeout = 120)
{
	static struct raw_q q;
	struct ends e = { 0 };
	const char *counters[] = { "--counters", NULL }, *ss[] = { "dst", "198.18.0.2:7000", NULL },
	           *unconn[] = { "state", "close", NULL }, *capped[] = { "--max-rows", "7", "state", "close", NULL },
	           *bad[] = { "state", "bogus", NULL };
	pthread_t t;
	char *out;
	int status;
	char line[128];

	eal();
	two_stacks(&e);
	cr_assert_eq(dtcp_dpdk_telemetry_register(e.a), 0, "%s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_telemetry_register(e.b), -1, "one stack per process");
	cr_assert_eq(errno, EBUSY);

	/* A raw client on a second thread, served by this thread's polls. */
	cr_assert_eq(pthread_create(&t, NULL, raw_client, &q), 0);
	for (double t0 = now_s(); !q.done && now_s() - t0 < 30.0;)
		poll_both(&e);
	pthread_join(t, NULL);
	snprintf(line, sizeof(line), "\"TcpActiveOpens\":%d", FLOWS);
	cr_assert(strstr(q.counters, "{\"/dtcp/counters\":{"), "%s", q.counters);
	cr_assert(strstr(q.counters, line), "%s", q.counters);
	snprintf(line, sizeof(line), "\"TcpCurrEstab\":%d", FLOWS);
	cr_assert(strstr(q.counters, line), "%s", q.counters);
	cr_assert(strstr(q.pools, "\"socket\":{\"in_use\":"), "%s", q.pools);
	cr_assert(strstr(q.bad, "unknown state: bogus"), "%s", q.bad);

	/* dtcp-ss in another process. */
	out = run_dtcp_ss(&e, counters, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(line, sizeof(line), "\nTcpActiveOpens                   %d\n", FLOWS);
	cr_assert(strstr(out, line), "%s", out);

	out = run_dtcp_ss(&e, ss, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(count_lines(out, "State"), 1, "%s", out);
	cr_assert_eq(count_lines(out, "ESTAB"), FLOWS, "%s", out);
	cr_assert(strstr(out, "198.18.0.2:7000"), "%s", out);

	/* More rows than one reply holds: dtcp-ss pages through them. */
	out = run_dtcp_ss(&e, unconn, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(count_lines(out, "UNCONN"), UNCONN, "%d rows", count_lines(out, "UNCONN"));
	cr_assert(UNCONN > DTCP_TELEMETRY_SS_ROWS);
	out = run_dtcp_ss(&e, capped, &status);
	cr_assert_eq(count_lines(out, "UNCONN"), 7);
	cr_assert(strstr(out, "(7 of 300 sockets shown)"), "%s", out);

	out = run_dtcp_ss(&e, bad, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "an error reply is a failure");

	two_stacks_free(&e);
	eal_done();
}

Test(dpdk_telemetry, unpolled_stack_times_out, .timeout = 60)
{
	struct dtcp_stack *st;
	char buf[4096];
	double t0, dt;
	int fd;

	eal();
	st = dtcp_stack_new_config(&(struct dtcp_stack_config){ .max_sockets = 64 });
	cr_assert_not_null(st);
	cr_assert_eq(dtcp_dpdk_telemetry_register(st), 0);
	fd = tel_connect();
	/* Registered but nobody polls: the request gives up after the timeout. */
	t0 = now_s();
	cr_assert_gt(tel_ask(fd, "/dtcp/counters", buf, sizeof(buf)), 0);
	dt = now_s() - t0;
	cr_assert(strstr(buf, "timed out"), "%s", buf);
	cr_assert_geq(dt, DTCP_TELEMETRY_TIMEOUT_MS / 1000.0 - 0.05);
	cr_assert_lt(dt, DTCP_TELEMETRY_TIMEOUT_MS / 1000.0 + 2.0);
	/* The stale request is withdrawn: a poll now finds nothing to do. */
	cr_assert_geq(dtcp_stack_poll(st), 0);
	cr_assert_eq(dtcp_dpdk_telemetry_unregister(st), 0);
	cr_assert_eq(dtcp_dpdk_telemetry_unregister(st), -1);
	/* Nothing registered any more: an error at once. */
	t0 = now_s();
	cr_assert_gt(tel_ask(fd, "/dtcp/counters", buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "no dtcp stack is registered"), "%s", buf);
	cr_assert_lt(now_s() - t0, 0.5);
	close(fd);
	dtcp_stack_free(st);
	eal_done();
}

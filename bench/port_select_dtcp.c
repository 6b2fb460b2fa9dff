/* Port selection cost in dtcp: no-port connect()s from 127.0.0.1 towards one
 * destination (127.0.0.2:5000) in a 16,384-port range filled to 0, 50, 90,
 * 99 and 100 %. Times the port-table half of connect() (route, search,
 * established-table insert), which is what dtcp's connect() runs before its
 * SYN. Prints "fill_pct ns_per_connect" lines, medians of --runs runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dtcp/dtcp.h>

#include "inet/inet_ops.h"
#include "stack.h"

#define RANGE_LO 40000
#define RANGE_N 16384
#define BATCH 128

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int noport_socket(struct dtcp_stack *st)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	int one = 1, fd = dtcp_socket(st, AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || dtcp_setsockopt(st, fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) ||
	    dtcp_bind(st, fd, (struct sockaddr *)&src, sizeof(src))) {
		perror("socket setup");
		exit(1);
	}
	return fd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One run at one fill level: ns per connect over BATCH connects. */
static double measure(int fill_pct)
{
	/* Sized for the experiment, as an operator would size a stack. */
	struct dtcp_stack_config cfg = { .max_sockets = 65536 };
	struct dtcp_stack *st = dtcp_stack_new_config(&cfg);
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(5000) };
	int fill = fill_pct == 100 ? RANGE_N : RANGE_N * fill_pct / 100;
	int batch[BATCH], ok = 0;
	char range[32];
	double t0, t1;

	dst.sin_addr.s_addr = htonl(0x7f000002);
	snprintf(range, sizeof(range), "%d %d", RANGE_LO, RANGE_LO + RANGE_N - 1);
	if (!st || dtcp_sysctl_set(st, "net.ipv4.ip_local_port_range", range)) {
		perror("stack");
		exit(1);
	}
	/* Warm up: touch the tables' pages once (a running stack has), with
	 * connects to another destination that are given back at once. */
	for (int i = 0; i < 20000; i++) {
		struct sockaddr_in other = dst;
		int fd = noport_socket(st);
		struct inet_sock *sk = socket_table_get(&st->socks, fd);

		other.sin_port = htons((uint16_t)(6000 + i % 1000));
		if (inet_connect(st, sk, (struct sockaddr *)&other, sizeof(other))) {
			fprintf(stderr, "warm-up connect failed\n");
			exit(1);
		}
		inet_disconnect(st, sk);
		dtcp_close(st, fd);
	}
	for (int i = 0; i < fill; i++) {
		int fd = noport_socket(st);

		if (inet_connect(st, socket_table_get(&st->socks, fd), (struct sockaddr *)&dst, sizeof(dst))) {
			fprintf(stderr, "fill connect %d failed\n", i);
			exit(1);
		}
	}
	for (int i = 0; i < BATCH; i++)
		batch[i] = noport_socket(st);
	/* Warm up: the first connect fills the perturbation table. */
	if (fill_pct < 100) {
		struct inet_sock *sk = socket_table_get(&st->socks, batch[0]);

		inet_connect(st, sk, (struct sockaddr *)&dst, sizeof(dst));
		inet_disconnect(st, sk);
	}
	t0 = now_s();
	for (int i = 0; i < BATCH; i++) {
		struct inet_sock *sk = socket_table_get(&st->socks, batch[i]);

		ok += inet_connect(st, sk, (struct sockaddr *)&dst, sizeof(dst)) == 0;
		/* Keep the fill level: give the port straight back. */
		inet_disconnect(st, sk);
	}
	t1 = now_s();
	if ((fill_pct == 100) != (ok == 0)) {
		fprintf(stderr, "fill %d%%: %d of %d connects succeeded\n", fill_pct, ok, BATCH);
		exit(1);
	}
	dtcp_stack_free(st);
	return (t1 - t0) * 1e9 / BATCH;
}

int main(int argc, char **argv)
{
	static const int fills[] = { 0, 50, 90, 99, 100 };
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	double v[64];

	if (runs < 1 || runs > 64)
		runs = 5;
	for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		for (int r = 0; r < runs; r++)
			v[r] = measure(fills[f]);
		qsort(v, (size_t)runs, sizeof(v[0]), cmp_double);
		printf("%d %.0f\n", fills[f], v[runs / 2]);
		fflush(stdout);
	}
	return 0;
}

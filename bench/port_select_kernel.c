/* The kernel's own cost of the same experiment as port_select_dtcp: no-port
 * connect()s from 127.0.0.1 to 127.0.0.2:5000 in a 16,384-port range filled
 * to 0, 50, 90, 99 and 100 %, each run in a private network namespace made
 * here (root needed). Times connect() (which on loopback includes the
 * handshake); a full range fails with EADDRNOTAVAIL after the whole search.
 * Prints "fill_pct ns_per_connect", medians of the given number of runs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RANGE_LO 40000
#define RANGE_N 16384
#define BATCH 128

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		die(path);
	close(fd);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A new network namespace with lo up and the range set. */
static void fresh_netns(void)
{
	struct ifreq ifr;
	int s;
	char range[32];

	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET)");
	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS");
	close(s);
	snprintf(range, sizeof(range), "%d %d", RANGE_LO, RANGE_LO + RANGE_N - 1);
	write_file("/proc/sys/net/ipv4/ip_local_port_range", range);
	write_file("/proc/sys/net/core/somaxconn", "65535");
}

static int noport_socket(void)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	struct linger lg = { 1, 0 };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	/* linger 0: close() sends RST and frees the port at once (no TIME_WAIT). */
	if (fd < 0 || setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)))
		die("socket setup");
	return fd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double measure(int fill_pct)
{
	static int fds[RANGE_N];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(5000) };
	int fill = fill_pct == 100 ? RANGE_N : RANGE_N * fill_pct / 100;
	int lfd, ok = 0;
	double t = 0;

	fresh_netns();
	dst.sin_addr.s_addr = htonl(0x7f000002);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&dst, sizeof(dst)) || listen(lfd, 65535))
		die("listener");
	for (int i = 0; i < fill; i++) {
		fds[i] = noport_socket();
		if (connect(fds[i], (struct sockaddr *)&dst, sizeof(dst)))
			die("fill connect");
	}
	for (int i = 0; i < BATCH; i++) {
		int fd = noport_socket();
		double t0 = now_s();

		ok += connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0;
		t += now_s() - t0;
		close(fd);
	}
	if ((fill_pct == 100) != (ok == 0)) {
		fprintf(stderr, "fill %d%%: %d of %d connects succeeded\n", fill_pct, ok, BATCH);
		exit(1);
	}
	for (int i = 0; i < fill; i++)
		close(fds[i]);
	close(lfd);
	return t * 1e9 / BATCH;
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

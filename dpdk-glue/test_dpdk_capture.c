/* pcapng capture on a DPDK port (dtcp_dpdk_port_conf.capture_path): two
 * dtcp stacks over a ring pair, capture on the first port, a short TCP
 * exchange, then the file read back by tshark (handshake, data both ways
 * byte for byte, FINs, directions, checksums, timestamps); and a capture
 * whose writes fail (RLIMIT_FSIZE) counts its losses while traffic goes on. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <dtcp/dpdk.h>
#include <dtcp/dtcp.h>

#define A_BYTES 3000u     /* a -> b: two full segments and a short one */
#define B_BYTES 700u      /* b -> a */
#define PORT 7001

static void eal(void)
{
	char *argv[] = { "test", "--no-huge", "--no-pci", "-m", "512", "--no-shconf", "--log-level=error", NULL };

	cr_assert_geq(dtcp_dpdk_eal_init(7, argv), 0, "EAL: %s", strerror(errno));
}

static uint8_t byte_at(int side, size_t i)
{
	return (uint8_t)(side ? 0x80 + i % 97 : 0x20 + i % 89);
}

/* One end of the exchange: sends its bytes, then shuts down writing; reads
 * to EOF, checking each byte; closes when both are done. */
struct end {
	struct dtcp_stack *st;
	int fd, side;
	size_t sent, got, want;
	bool bad, eof, shut, closed;
};

static void end_step(struct end *e, size_t total)
{
	uint8_t buf[4096];

	if (e->fd < 0 || e->closed)
		return;
	while (e->sent < total) {
		size_t n = total - e->sent < sizeof(buf) ? total - e->sent : sizeof(buf);
		ssize_t k;

		for (size_t i = 0; i < n; i++)
			buf[i] = byte_at(e->side, e->sent + i);
		k = dtcp_send(e->st, e->fd, buf, n, MSG_DONTWAIT);
		if (k <= 0)
			break;
		e->sent += (size_t)k;
	}
	if (e->sent == total && !e->shut) {
		cr_assert_eq(dtcp_shutdown(e->st, e->fd, SHUT_WR), 0, "%s", strerror(errno));
		e->shut = true;
	}
	for (;;) {
		ssize_t r = dtcp_recv(e->st, e->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r == 0)
			e->eof = true;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			e->bad |= buf[i] != byte_at(!e->side, e->got + (size_t)i);
		e->got += (size_t)r;
	}
	if (e->eof && e->shut) {
		dtcp_close(e->st, e->fd);
		e->closed = true;
	}
}

struct pair {
	struct dtcp_dpdk_port *ports[2];
	struct dtcp_stack *st[2];
	struct end a, b;
};

/* Ring pair with conf (capture on ports[0]), a stack on each port, a
 * connection from 198.18.0.1 to 198.18.0.2:PORT, the exchange and both
 * closes, then the stacks freed and the ports closed. */
static int run_exchange(const struct dtcp_dpdk_port_conf *conf, struct dtcp_dpdk_port_stats *st0)
{
	struct pair P = { .a = { .fd = -1, .side = 0 }, .b = { .fd = -1, .side = 1 } };
	struct dtcp_stack_config sc = { .max_sockets = 64 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int l, id;

	cr_assert_eq(dtcp_dpdk_ring_pair_open("dtcp_cap", conf, P.ports), 0, "%s", strerror(errno));
	for (int s = 0; s < 2; s++) {
		struct dtcp_netdev_info info;

		cr_assert_eq(dtcp_dpdk_port_info(P.ports[s], &info), 0);
		P.st[s] = dtcp_stack_new_config(&sc);
		cr_assert_not_null(P.st[s]);
		cr_assert_geq(dtcp_netdev_attach(P.st[s], "eth0", dtcp_dpdk_netdev_ops(),
						 dtcp_dpdk_port_netdev(P.ports[s], 0), &info), 2);
		cr_assert_eq(dtcp_addr_add(P.st[s], "eth0", s ? "198.18.0.2/15" : "198.18.0.1/15"), 0);
	}
	P.a.st = P.st[0];
	P.b.st = P.st[1];
	l = dtcp_socket(P.st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sin.sin_addr.s_addr = inet_addr("198.18.0.2");
	cr_assert_eq(dtcp_bind(P.st[1], l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(dtcp_listen(P.st[1], l, 4), 0);
	P.a.fd = dtcp_socket(P.st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(dtcp_connect(P.st[0], P.a.fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	cr_assert_eq(errno, EINPROGRESS);
	for (long i = 0; (!P.a.closed || !P.b.closed) && i < 2000000; i++) {
		dtcp_stack_poll(P.st[0]);
		dtcp_stack_poll(P.st[1]);
		if (P.b.fd < 0)
			P.b.fd = dtcp_accept4(P.st[1], l, NULL, NULL, SOCK_NONBLOCK);
		end_step(&P.a, A_BYTES);
		end_step(&P.b, B_BYTES);
	}
	cr_assert(P.a.closed && P.b.closed, "exchange done: a %zu/%u, b %zu/%u", P.b.got, A_BYTES,
		  P.a.got, B_BYTES);
	cr_assert_eq(P.b.got, A_BYTES);
	cr_assert_eq(P.a.got, B_BYTES);
	cr_assert(!P.a.bad && !P.b.bad, "byte-exact both ways");
	dtcp_close(P.st[1], l);
	/* The last ACK of the close. */
	for (int i = 0; i < 1000; i++) {
		dtcp_stack_poll(P.st[0]);
		dtcp_stack_poll(P.st[1]);
	}
	dtcp_stack_free(P.st[0]);
	dtcp_stack_free(P.st[1]);
	cr_assert_eq(dtcp_dpdk_port_stats(P.ports[0], st0), 0);
	id = dtcp_dpdk_port_id(P.ports[0]);
	cr_assert_eq(dtcp_dpdk_port_close(P.ports[0]), 0, "%s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_close(P.ports[1]), 0, "every mbuf back: %s", strerror(errno));
	return id;
}

/* One TCP packet of the capture as tshark reads it. */
struct row {
	int dir;              /* pcapng EPB flags direction: 1 in, 2 out */
	int ifid;
	double t;
	char src[16];
	char ifname[32];
	unsigned int flags;
	unsigned int len;
	int ip_ck, tcp_ck;    /* tshark's checksum status: 1 = good */
	char payload[2 * A_BYTES + 1];
};

#define MAX_ROWS 64

static int tshark_rows(const char *path, struct row *rows, int max)
{
	char cmd[1024], line[2 * A_BYTES + 512];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -n -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
		 "-Y tcp -T fields -E separator=/t -E occurrence=f "
		 "-e frame.packet_flags_direction -e frame.interface_id -e frame.time_epoch "
		 "-e ip.src -e tcp.flags -e tcp.len -e ip.checksum.status -e tcp.checksum.status "
		 "-e frame.interface_name -e tcp.payload 2>/dev/null", path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	while (n < max && fgets(line, sizeof(line), f)) {
		struct row *r = &rows[n];
		char *fld[10], *p = line;
		int k = 0;

		line[strcspn(line, "\n")] = '\0';
		memset(r, 0, sizeof(*r));
		/* strsep keeps empty fields (no payload). */
		while (k < 10 && (fld[k] = strsep(&p, "\t")) != NULL)
			k++;
		cr_assert_geq(k, 9, "tshark line: %s", line);
		r->dir = (int)strtol(fld[0], NULL, 0);
		r->ifid = atoi(fld[1]);
		r->t = atof(fld[2]);
		snprintf(r->src, sizeof(r->src), "%s", fld[3]);
		r->flags = (unsigned int)strtoul(fld[4], NULL, 0);
		r->len = (unsigned int)atoi(fld[5]);
		r->ip_ck = atoi(fld[6]);
		r->tcp_ck = atoi(fld[7]);
		snprintf(r->ifname, sizeof(r->ifname), "%s", fld[8]);
		if (k > 9)
			snprintf(r->payload, sizeof(r->payload), "%s", fld[9]);
		n++;
	}
	cr_assert_eq(pclose(f), 0, "tshark failed");
	return n;
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_ACK 0x10

/* The hex of side's bytes [off, off + len), as tshark prints tcp.payload. */
static bool payload_is(const char *hex, int side, size_t off, size_t len)
{
	char want[3];

	if (strlen(hex) != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++) {
		snprintf(want, sizeof(want), "%02x", byte_at(side, off + i));
		if (memcmp(hex + 2 * i, want, 2))
			return false;
	}
	return true;
}

Test(dpdk_capture, tcp_exchange_read_back_by_tshark, .timeout = 60)
{
	char path[] = "/tmp/dtcp-capture-XXXXXX";
	struct dtcp_dpdk_port_conf conf = { .nb_rxd = 256, .nb_txd = 256, .pool_size = 4096,
					    .capture_path = path };
	struct dtcp_dpdk_port_stats st;
	static struct row rows[MAX_ROWS];
	size_t off[2] = { 0, 0 };
	double t0, t1;
	char ifname[32];
	int id, n, fd, syn = -1, synack = -1, fin[2] = { -1, -1 }, last_data[2] = { -1, -1 };

	cr_assert_eq(system("command -v tshark >/dev/null"), 0, "tshark is missing: run scripts/deps.sh");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	eal();
	t0 = (double)time(NULL);
	id = run_exchange(&conf, &st);
	snprintf(ifname, sizeof(ifname), "dpdk:%d", id);
	t1 = (double)time(NULL);
	cr_assert_eq(st.capture_fail, 0);
	n = tshark_rows(path, rows, MAX_ROWS);
	cr_assert_geq(n, 7, "at least SYN, SYN-ACK, ACK, data both ways, two FINs: %d rows", n);
	for (int i = 0; i < n; i++) {
		struct row *r = &rows[i];
		/* out: sent by a (198.18.0.1), in: sent by b. */
		int side = r->dir == 2 ? 0 : 1;

		cr_assert(r->dir == 1 || r->dir == 2, "row %d: direction %d", i, r->dir);
		cr_assert_str_eq(r->src, side ? "198.18.0.2" : "198.18.0.1", "row %d: direction matches source", i);
		/* The file has an interface block per port (both of the
		 * pair); the packets name the captured port's. */
		cr_assert_str_eq(r->ifname, ifname, "row %d: the captured port's interface", i);
		cr_assert_eq(r->ip_ck, 1, "row %d: IP checksum good", i);
		cr_assert_eq(r->tcp_ck, 1, "row %d: TCP checksum good", i);
		cr_assert(r->t > t0 - 1 && r->t < t1 + 1, "row %d: a timestamp of the test's run: %f", i, r->t);
		if (i)
			cr_assert_geq(r->t, rows[i - 1].t, "timestamps in order");
		if ((r->flags & (F_SYN | F_ACK)) == F_SYN && syn < 0)
			syn = i;
		if ((r->flags & (F_SYN | F_ACK)) == (F_SYN | F_ACK) && synack < 0)
			synack = i;
		if (r->len) {
			cr_assert(payload_is(r->payload, side, off[side], r->len),
				  "row %d: side %d bytes %zu+%u as sent", i, side, off[side], r->len);
			off[side] += r->len;
			last_data[side] = i;
		}
		if ((r->flags & F_FIN) && fin[side] < 0)
			fin[side] = i;
	}
	cr_assert_eq(syn, 0, "the SYN (out) comes first");
	cr_assert_eq(rows[syn].dir, 2);
	cr_assert_eq(synack, 1, "then the SYN-ACK (in)");
	cr_assert_eq(rows[synack].dir, 1);
	cr_assert_eq(off[0], A_BYTES, "every byte a sent is in the file, once");
	cr_assert_eq(off[1], B_BYTES, "every byte b sent is in the file, once");
	cr_assert(fin[0] > synack && fin[1] > synack, "a FIN each way");
	cr_assert_geq(fin[0], last_data[0], "a's FIN after its data");
	cr_assert_geq(fin[1], last_data[1], "b's FIN after its data");
	cr_assert_eq(rows[n - 1].flags & (F_SYN | F_FIN), 0, "the last ACK of the close");
	cr_assert_eq(rows[n - 1].flags & F_ACK, F_ACK);
	dtcp_dpdk_eal_cleanup();
	unlink(path);
}

Test(dpdk_capture, write_failures_are_counted_and_traffic_goes_on, .timeout = 60)
{
	char path[] = "/tmp/dtcp-capture-XXXXXX";
	struct dtcp_dpdk_port_conf conf = { .nb_rxd = 256, .nb_txd = 256, .pool_size = 4096,
					    .capture_path = path, .capture_snaplen = 128 };
	/* Room for the file's header blocks, not for every packet: later
	 * writes fail with EFBIG (SIGXFSZ ignored). */
	struct rlimit rl = { .rlim_cur = 2048, .rlim_max = RLIM_INFINITY };
	struct dtcp_dpdk_port_stats st;
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	eal();
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	run_exchange(&conf, &st);
	cr_assert_gt(st.capture_fail, 0, "lost writes counted (%lu of %lu)", (unsigned long)st.capture_fail, (unsigned long)(st.rx_pkts + st.tx_pkts));
	cr_assert_lt(st.capture_fail, st.rx_pkts + st.tx_pkts);
	rl.rlim_cur = RLIM_INFINITY;
	setrlimit(RLIMIT_FSIZE, &rl);
	dtcp_dpdk_eal_cleanup();
	unlink(path);
}

Test(dpdk_capture, bad_path_fails_the_open, .timeout = 30)
{
	struct dtcp_dpdk_port_conf conf = { .capture_path = "/nonexistent-dir/x.pcapng" };
	struct dtcp_dpdk_port *ports[2];

	eal();
	cr_assert_eq(dtcp_dpdk_ring_pair_open("dtcp_bad", &conf, ports), -1);
	cr_assert_eq(errno, ENOENT);
	conf.capture_path = NULL;
	cr_assert_eq(dtcp_dpdk_ring_pair_open("dtcp_bad", &conf, ports), 0, "nothing left behind: %s", strerror(errno));
	cr_assert_eq(dtcp_dpdk_port_close(ports[0]), 0);
	cr_assert_eq(dtcp_dpdk_port_close(ports[1]), 0);
	dtcp_dpdk_eal_cleanup();
}

/* The TCP state machine against a scripted peer (RFC 9293 3.10, RFC 5961,
 * RFC 6298, RFC 7323, RFC 2018): the test is the far end of a raw-IP link
 * pair, sends crafted segments and checks every segment the stack sends
 * back, and what the socket API shows, on the virtual clock. */
#include "harness.h"

#include <fcntl.h>
#include <string.h>

#include "ip/csum.h"
#include "ip/ip_hdr.h"
#include "link/link.h"
#include "pkt.h"
#include "tcp/tcp_hdr.h"
#include "tcp/tcp_opts.h"
#include "tcp/tcp_sock.h"

/* The peer's initial sequence number, close to the wrap of 2^32 so that the
 * connections cross it (RFC 9293 3.4). */
#define PEER_ISS 0xfffff000u
#define RCV_WND_SCALED (TCP_DEFAULT_RCVBUF >> 7)   /* 128 KiB at a shift of 7 */

static struct link_pair *lp;
static void *peer;
static uint16_t next_port;

/* ---- what the stack sent --------------------------------------------- */

struct out {
	bool v6;
	uint16_t sport, dport, wnd;
	uint32_t seq, ack, len, optlen;
	uint8_t flags;
	struct tcp_opts o;   /* parsed as on a SYN, so every option shows */
	uint8_t data[1500];
};

#define QMAX 512
static struct out outq[QMAX];
static int q_head, q_tail;

static void decode(struct dtcp_pkt *p, struct out *o)
{
	const uint8_t *d = dtcp_pkt_data(p);
	const struct tcp_hdr *th;
	uint32_t iplen, tlen, doff;
	uint64_t ph;

	cr_assert_eq(p->nb_segs, 1);
	memset(o, 0, sizeof(*o));
	if ((d[0] >> 4) == 6) {
		const struct ipv6_hdr *ip = (const struct ipv6_hdr *)d;
		struct in6_addr a, b;

		inet_pton(AF_INET6, "2001:db8::1", &a);
		inet_pton(AF_INET6, "2001:db8::2", &b);
		cr_assert_eq(ip->nexthdr, IPPROTO_TCP);
		cr_assert_eq(memcmp(d + 8, &a, 16), 0, "from the stack's address");
		cr_assert_eq(memcmp(d + 24, &b, 16), 0, "to the peer");
		iplen = 40;
		tlen = ntohs(ip->payload_len);
		ph = csum_pseudo_v6(&a, &b, IPPROTO_TCP, tlen);
		o->v6 = true;
	} else {
		const struct ipv4_hdr *ip = (const struct ipv4_hdr *)d;

		cr_assert_eq(ip->ver_ihl >> 4, 4);
		iplen = (ip->ver_ihl & 15u) * 4u;
		cr_assert_eq(ip->protocol, IPPROTO_TCP);
		cr_assert_eq(ip->saddr, inet_addr("198.18.0.1"));
		cr_assert_eq(ip->daddr, inet_addr("198.18.0.2"));
		cr_assert_eq(csum_fold(csum_add_buf(0, ip, iplen, false)), 0xffff, "IPv4 header checksum");
		tlen = ntohs(ip->tot_len) - iplen;
		ph = csum_pseudo_v4(ip->saddr, ip->daddr, IPPROTO_TCP, tlen);
	}
	cr_assert_eq(p->pkt_len, iplen + tlen);
	th = (const struct tcp_hdr *)(d + iplen);
	cr_assert_eq(csum_fold(csum_add_buf(ph, th, tlen, false)), 0xffff, "TCP checksum");
	doff = tcp_hdr_doff(th);
	cr_assert(doff >= 20 && doff <= tlen, "data offset %u", doff);
	o->sport = ntohs(th->sport);
	o->dport = ntohs(th->dport);
	o->seq = ntohl(th->seq);
	o->ack = ntohl(th->ack);
	o->wnd = ntohs(th->window);
	o->flags = tcp_hdr_flags(th);
	o->optlen = doff - 20;
	cr_assert_eq(tcp_opts_parse((const uint8_t *)(th + 1), o->optlen, true, &o->o), 0, "well-formed options");
	o->len = tlen - doff;
	cr_assert_leq(o->len, sizeof(o->data));
	memcpy(o->data, (const uint8_t *)th + doff, o->len);
}

static void collect(void)
{
	struct dtcp_pkt *p;

	while (link_pair_ops.rx_burst(peer, &p, 1) == 1) {
		cr_assert_lt(q_tail, QMAX, "too many segments out");
		decode(p, &outq[q_tail++]);
		link_pair_ops.pkt_free(peer, p);
	}
}

/* Segments sent and not taken yet. */
static int pending(void)
{
	collect();
	return q_tail - q_head;
}

/* The oldest segment not taken yet; the queue must hold one. */
static struct out take(void)
{
	struct out o;

	collect();
	cr_assert_lt(q_head, q_tail, "a segment was sent");
	o = outq[q_head++];
	if (q_head == q_tail)
		q_head = q_tail = 0;
	return o;
}

static void drop_all(void)
{
	collect();
	q_head = q_tail = 0;
}

static void setup(void)
{
	th_link_setup(NULL);
	lp = th_lp;
	peer = th_peer;
	q_head = q_tail = 0;
	next_port = 40000;
	cr_assert_eq(dtcp_addr_add(st, "eth0", "198.18.0.1/15"), 0);
	cr_assert_eq(dtcp_addr_add(st, "eth0", "2001:db8::1/64"), 0);
}

static void teardown(void)
{
	drop_all();
	th_link_teardown();
}

TestSuite(tcp_states, .init = setup, .fini = teardown);

/* ---- the peer ---------------------------------------------------------- */

struct conn {
	bool v6;
	int fd, lfd;
	uint16_t lport;      /* the stack's port */
	uint16_t pport;      /* the peer's port */
	uint32_t iss;        /* the stack's ISS */
	uint32_t irs;        /* the peer's ISS */
	uint32_t snd;        /* the peer's SND.NXT */
	uint16_t wnd;        /* the window field the peer sends */
	bool ts;             /* timestamps negotiated: the peer sends them on every segment */
	uint32_t tsval, tsecr;
	uint32_t app;        /* bytes the application has written */
};

static uint8_t pat(uint32_t off)
{
	return (uint8_t)(off * 7u + 3u);
}

static void conn_init(struct conn *c, bool v6)
{
	memset(c, 0, sizeof(*c));
	c->v6 = v6;
	c->fd = c->lfd = -1;
	c->pport = next_port++;
	c->irs = PEER_ISS;
	c->snd = PEER_ISS + 1;
	c->wnd = 65535;
	c->tsval = 5000;
}

/* Inject one segment from the peer; its payload is the peer's byte pattern
 * at the offset seq names. Timestamps are added when negotiated. */
static void seg_in(struct conn *c, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, const struct tcp_opts *opts)
{
	struct tcp_opts o = opts ? *opts : (struct tcp_opts){ 0 };
	struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
	uint8_t obuf[TCP_OPTS_MAX_LEN];
	uint32_t olen, ip_len = c->v6 ? 40 : 20, tlen;
	struct tcp_hdr *th;
	uint8_t *d;
	uint64_t ph;

	cr_assert_not_null(p);
	if (c->ts && !(flags & TCP_FLAG_RST) && !(o.present & TCP_OPTS_TS)) {
		o.present |= TCP_OPTS_TS;
		o.tsval = c->tsval++;
		o.tsecr = c->tsecr;
	}
	olen = tcp_opts_build(obuf, sizeof(obuf), &o);
	tlen = 20u + olen + len;
	d = pkt_append(p, (uint16_t)(ip_len + tlen));
	cr_assert_not_null(d);
	memset(d, 0, ip_len + tlen);
	th = (struct tcp_hdr *)(d + ip_len);
	if (c->v6) {
		struct in6_addr a, b;

		inet_pton(AF_INET6, "2001:db8::2", &a);
		inet_pton(AF_INET6, "2001:db8::1", &b);
		ph = th_ipv6_header(d, &a, &b, IPPROTO_TCP, tlen);
	} else {
		ph = th_ipv4_header(d, inet_addr("198.18.0.2"), inet_addr("198.18.0.1"), IPPROTO_TCP, tlen);
	}
	th->sport = htons(c->pport);
	th->dport = htons(c->lport);
	th->seq = htonl(seq);
	th->ack = htonl(ack);
	tcp_hdr_set_doff(th, 20u + olen);
	tcp_hdr_set_flags(th, flags);
	th->window = htons(c->wnd);
	memcpy(th + 1, obuf, olen);
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)(th + 1))[olen + i] = pat(seq - (c->irs + 1) + i);
	th->csum = csum_finish(csum_add_buf(ph, th, tlen, false));
	cr_assert_eq(link_pair_ops.tx_burst(peer, &p, 1), 1);
	dtcp_stack_poll(st);
}

/* The options of a SYN or SYN-ACK from the peer; ws < 0: no window scale. */
static struct tcp_opts syn_opts(struct conn *c, uint16_t mss, int ws, bool sack, bool ts)
{
	struct tcp_opts o = { 0 };

	if (mss) {
		o.present |= TCP_OPTS_MSS;
		o.mss = mss;
	}
	if (ws >= 0) {
		o.present |= TCP_OPTS_WSCALE;
		o.wscale = (uint8_t)ws;
	}
	if (sack)
		o.present |= TCP_OPTS_SACK_PERM;
	if (ts) {
		o.present |= TCP_OPTS_TS;
		o.tsval = c->tsval++;
		o.tsecr = c->tsecr;
	}
	return o;
}

/* The next segment, exactly one pending; remembers its timestamp. */
static struct out take1(struct conn *c)
{
	struct out o;

	int n = pending();

	for (int i = 0; n != 1 && i < n; i++)
		cr_log_error("segment %d of %d: flags %#x seq %u ack %u len %u sack %u", i + 1, n, outq[q_head + i].flags,
		             outq[q_head + i].seq, outq[q_head + i].ack, outq[q_head + i].len, outq[q_head + i].o.nr_sack);
	cr_assert_eq(n, 1, "exactly one segment out (%d)", n);
	o = take();
	cr_assert_eq(o.sport, c->lport);
	cr_assert_eq(o.dport, c->pport);
	cr_assert_eq(o.v6, c->v6);
	if (o.o.present & TCP_OPTS_TS)
		c->tsecr = o.o.tsval;
	return o;
}

/* A bare ACK from the stack: flags, seq, ack. */
static void check_ack(const struct out *o, uint32_t seq, uint32_t ack)
{
	cr_assert_eq(o->flags, TCP_FLAG_ACK, "a bare ACK (flags %#x)", o->flags);
	cr_assert_eq(o->seq, seq, "seq %u, expected %u", o->seq, seq);
	cr_assert_eq(o->ack, ack, "ack %u, expected %u", o->ack, ack);
	cr_assert_eq(o->len, 0);
}

/* The payload of a data segment is the application's bytes at its offset. */
static void check_payload(const struct conn *c, const struct out *o)
{
	uint32_t off = o->seq - (c->iss + 1);

	for (uint32_t i = 0; i < o->len; i++)
		cr_assert_eq(o->data[i], pat(off + i), "byte %u of the stream", off + i);
}

static void expect_none(const char *why)
{
	int n = pending();

	if (n) {
		struct out o = outq[q_head];

		cr_assert_eq(n, 0, "%s: nothing sent, got %d (first: flags %#x seq %u ack %u len %u)", why, n, o.flags,
		             o.seq, o.ack, o.len);
	}
}

/* Let ms pass, polling every millisecond. */
static void adv_ms(uint64_t ms)
{
	while (ms--) {
		th_now_ns += 1000000u;
		dtcp_stack_poll(st);
	}
}

/* Let time pass 1 ms at a time until the stack sends something: the ms
 * waited, or -1 if nothing came within max_ms. */
static int64_t wait_out(uint64_t max_ms)
{
	for (uint64_t i = 1; i <= max_ms; i++) {
		th_now_ns += 1000000u;
		dtcp_stack_poll(st);
		if (pending())
			return (int64_t)i;
	}
	return -1;
}

static int state_of(int fd)
{
	return th_sk(fd)->state;
}

static int so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	cr_assert_eq(dtcp_getsockopt(st, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err;
}

static socklen_t peer_addr(const struct conn *c, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (c->v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->pport);
		inet_pton(AF_INET6, "2001:db8::2", &s6->sin6_addr);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(c->pport);
	s4->sin_addr.s_addr = inet_addr("198.18.0.2");
	return sizeof(*s4);
}

static int connect_again(const struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = peer_addr(c, &ss);

	return dtcp_connect(st, c->fd, (struct sockaddr *)&ss, len) ? errno : 0;
}

static void app_send(struct conn *c, uint32_t n)
{
	static uint8_t buf[65536];

	cr_assert_leq(n, sizeof(buf));
	for (uint32_t i = 0; i < n; i++)
		buf[i] = pat(c->app + i);
	cr_assert_eq(dtcp_send(st, c->fd, buf, n, MSG_DONTWAIT), (ssize_t)n, "send: %s", strerror(errno));
	c->app += n;
}

/* recv() gives exactly n bytes, the peer's pattern from offset off. */
static void app_recv(struct conn *c, uint32_t off, uint32_t n)
{
	static uint8_t buf[65536];
	ssize_t r = dtcp_recv(st, c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	cr_assert_eq(r, (ssize_t)n, "recv %zd bytes, expected %u (%s)", r, n, r < 0 ? strerror(errno) : "");
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(buf[i], pat(off + i), "received byte %u", off + i);
}

/* Reading may open the window enough for an update (RFC 9293 3.8.6.2.2):
 * whatever was sent is a bare ACK <SEQ=seq><ACK=ack>. */
static void drain_window_updates(uint32_t seq, uint32_t ack)
{
	while (pending()) {
		struct out o = take();

		check_ack(&o, seq, ack);
	}
}

static void expect_recv_eagain(struct conn *c)
{
	uint8_t buf[64];

	cr_assert_eq(dtcp_recv(st, c->fd, buf, sizeof(buf), MSG_DONTWAIT), -1, "nothing to read");
	cr_assert_eq(errno, EAGAIN);
}

/* socket + non-blocking connect; returns the SYN. */
static struct out connect_syn(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = peer_addr(c, &ss);
	struct out o;

	c->fd = dtcp_socket(st, c->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(c->fd, 0);
	cr_assert_eq(dtcp_connect(st, c->fd, (struct sockaddr *)&ss, len), -1);
	cr_assert_eq(errno, EINPROGRESS);
	cr_assert_eq(pending(), 1, "the SYN");
	o = take();
	c->lport = o.sport;
	cr_assert_eq(o.dport, c->pport);
	cr_assert_eq(o.flags, TCP_FLAG_SYN);
	c->iss = o.seq;
	if (o.o.present & TCP_OPTS_TS)
		c->tsecr = o.o.tsval;
	return o;
}

static void synack_in(struct conn *c, const struct tcp_opts *o)
{
	seg_in(c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->irs, c->iss + 1, 0, o);
	c->snd = c->irs + 1;
	c->ts = o && (o->present & TCP_OPTS_TS);
}

/* A bare ACK from the peer for everything up to ack. */
static void ack_in(struct conn *c, uint32_t ack)
{
	seg_in(c, TCP_FLAG_ACK, c->snd, ack, 0, NULL);
}

/* Peer data at stream offset off (from its ISS + 1). */
static void data_in(struct conn *c, uint32_t off, uint32_t len, uint32_t ack)
{
	seg_in(c, TCP_FLAG_ACK | TCP_FLAG_PSH, c->irs + 1 + off, ack, len, NULL);
}

/* An established active open of an initialised conn; synack: the peer's
 * SYN-ACK options. */
static void active_open(struct conn *c, bool v6, const struct tcp_opts *synack)
{
	struct out o;

	c->v6 = v6;
	connect_syn(c);
	synack_in(c, synack);
	o = take1(c);
	check_ack(&o, c->iss + 1, c->irs + 1);
	cr_assert_eq(state_of(c->fd), INET_ESTABLISHED);
}

/* Full options from the peer: MSS 1000, window scale 2, SACK, timestamps. */
static void active_open_full(struct conn *c, bool v6)
{
	struct tcp_opts o;

	conn_init(c, v6);
	o = syn_opts(c, 1000, 2, true, true);
	active_open(c, v6, &o);
}

static int listener(bool v6)
{
	int l = th_listener(v6 ? "::" : "0.0.0.0", 80);

	cr_assert_eq(dtcp_fcntl(st, l, F_SETFL, O_NONBLOCK), 0);
	return l;
}

/* The peer's SYN to the listener l; returns the SYN-ACK. */
static struct out syn_to_listener(struct conn *c, int l, const struct tcp_opts *o)
{
	struct out sa;

	c->lfd = l;
	c->lport = 80;
	seg_in(c, TCP_FLAG_SYN, c->irs, 0, 0, o);
	c->snd = c->irs + 1;
	c->ts = o && (o->present & TCP_OPTS_TS);
	sa = take1(c);
	cr_assert_eq(sa.flags, TCP_FLAG_SYN | TCP_FLAG_ACK, "a SYN-ACK (flags %#x)", sa.flags);
	cr_assert_eq(sa.ack, c->irs + 1);
	c->iss = sa.seq;
	return sa;
}

/* A passive open completed and accepted; returns the SYN-ACK. */
static struct out passive_open(struct conn *c, int l, const struct tcp_opts *o)
{
	struct out sa = syn_to_listener(c, l, o);

	ack_in(c, c->iss + 1);
	expect_none("the final ACK is not answered");
	c->fd = dtcp_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
	cr_assert_geq(c->fd, 0, "accept: %s", strerror(errno));
	cr_assert_eq(state_of(c->fd), INET_ESTABLISHED);
	return sa;
}

/* ---- active open -------------------------------------------------------- */

static void check_active_open(bool v6)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct tcp_opts so;
	struct conn c;
	struct out o;

	conn_init(&c, v6);
	o = connect_syn(&c);
	/* RFC 9293 3.7.1, RFC 7323 2.2 and 3.2, RFC 2018 2: the SYN offers
	 * every option; its window is never scaled. */
	cr_assert_eq(o.ack, 0, "no ACK field in a SYN");
	cr_assert_eq(o.len, 0);
	cr_assert_eq(o.wnd, 65535);
	cr_assert_eq(o.o.present, TCP_OPTS_MSS | TCP_OPTS_WSCALE | TCP_OPTS_SACK_PERM | TCP_OPTS_TS);
	cr_assert_eq(o.o.mss, v6 ? 1440 : 1460, "MTU 1500 less the headers");
	cr_assert_eq(o.o.wscale, 7);
	cr_assert_eq(o.o.tsecr, 0, "nothing to echo yet (RFC 7323 3.2)");
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	cr_assert_eq(dtcp_getpeername(st, c.fd, (struct sockaddr *)&ss, &len), -1, "no peer before the handshake");
	cr_assert_eq(errno, ENOTCONN);
	cr_assert_eq(st->tcpc.TcpActiveOpens, 1);

	/* SYN-ACK with everything: MSS 1000, shift 2, SACK, timestamps. */
	so = syn_opts(&c, 1000, 2, true, true);
	synack_in(&c, &so);
	o = take1(&c);
	check_ack(&o, c.iss + 1, c.irs + 1);
	/* After the SYN only timestamps go on every segment (RFC 7323 3.2),
	 * echoing the peer's; the window is scaled by the shift we offered. */
	cr_assert_eq(o.o.present, TCP_OPTS_TS, "options %#x", o.o.present);
	cr_assert_eq(o.o.tsecr, so.tsval);
	cr_assert_eq(o.wnd, RCV_WND_SCALED);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	cr_assert_eq(so_error(c.fd), 0);
	len = sizeof(ss);
	cr_assert_eq(dtcp_getpeername(st, c.fd, (struct sockaddr *)&ss, &len), 0);
	cr_assert_eq(ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port),
	             c.pport);

	/* The peer's window of 1000 << 2 and MSS of 1000 (less 12 bytes of
	 * timestamps) are used: four full segments fit (unscaled, one would). */
	c.wnd = 1000;
	ack_in(&c, c.iss + 1);
	expect_none("a window update is not answered");
	app_send(&c, 4 * 988);
	cr_assert_eq(pending(), 4, "4000 bytes of window hold four segments of 988 (got %d)", pending());
	for (int i = 0; i < 4; i++) {
		o = take();
		cr_assert_eq(o.seq, c.iss + 1 + (uint32_t)i * 988);
		cr_assert_eq(o.len, 988, "payload = MSS - 12 (RFC 7323 3.2)");
		cr_assert(o.flags & TCP_FLAG_ACK);
		cr_assert_eq(o.flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST), 0);
		cr_assert_eq(o.ack, c.irs + 1);
		cr_assert_eq(o.o.present, TCP_OPTS_TS);
		check_payload(&c, &o);
	}
}

Test(tcp_states, active_open_v4)
{
	check_active_open(false);
}

Test(tcp_states, active_open_v6)
{
	check_active_open(true);
}

/* RFC 9293 3.8.6.2.1 (MUST-38), Linux tcp_snd_wnd_test(): the sender
 * avoids silly windows. With 48 bytes of window left, 988 bytes queued and
 * a largest window of 64 KiB seen, no 48-byte sliver goes out: none of
 * "a full segment fits", "all queued data fits" or "half the largest
 * window fits" holds. */
Test(tcp_states, sender_sws_avoidance)
{
	struct conn c;
	struct out o;

	active_open_full(&c, false);
	c.wnd = 1000;
	ack_in(&c, c.iss + 1);
	expect_none("a window update is not answered");
	app_send(&c, 5 * 988);
	cr_assert_geq(pending(), 4);
	for (int i = 0; i < 4; i++) {
		o = take();
		cr_assert_eq(o.len, 988);
		check_payload(&c, &o);
	}
	if (pending()) {
		o = take();
		cr_assert_fail("a sliver of %u bytes went into the last 48 bytes of the window", o.len);
	}
	/* Once the window opens, the rest goes as one full segment. */
	ack_in(&c, c.iss + 1 + 4 * 988);
	o = take1(&c);
	cr_assert_eq(o.seq, c.iss + 1 + 4 * 988);
	cr_assert_eq(o.len, 988);
	check_payload(&c, &o);
}

/* A peer that offers no option at all: no window scaling, no SACK, no
 * timestamps, and the default MSS of 536 (RFC 9293 3.7.1). */
Test(tcp_states, active_open_peer_without_options)
{
	struct conn c;
	struct out o;

	conn_init(&c, false);
	active_open(&c, false, NULL);
	drop_all();
	/* The handshake ACK of active_open carried no option. */
	app_send(&c, 2 * 536);
	cr_assert_eq(pending(), 2);
	for (int i = 0; i < 2; i++) {
		o = take();
		cr_assert_eq(o.len, 536, "the default MSS");
		cr_assert_eq(o.optlen, 0, "no options when none were negotiated (RFC 7323 1.3, 3.2)");
		cr_assert_eq(o.wnd, 65535, "our window is not scaled: 64 KiB - 1 of 128 KiB");
		check_payload(&c, &o);
	}
	/* The peer's window is not scaled either: 1072 bytes are two segments. */
	c.wnd = 1072;
	ack_in(&c, c.iss + 1 + 2 * 536);
	expect_none("an ACK with no news");
	app_send(&c, 3 * 536);
	cr_assert_eq(pending(), 2, "the peer's unscaled window of 1072 (got %d)", pending());
	drop_all();
	/* Data past a hole is ACKed without SACK blocks (RFC 2018 2). */
	data_in(&c, 100, 50, c.iss + 1 + 2 * 536);
	o = take1(&c);
	check_ack(&o, c.iss + 1 + 4 * 536, c.irs + 1);
	cr_assert_eq(o.optlen, 0, "no SACK without SACK-permitted");
	cr_assert_eq(o.wnd, 65535);
}

/* RFC 6298 2.1 and 5.5, Linux tcp_syn_retries = 6: the SYN goes again after
 * 1, 2, 4, 8, 16 and 32 s, and the connect fails 64 s after the last. */
Test(tcp_states, syn_retransmit_backoff_then_etimedout)
{
	static const int64_t gap[] = { 1000, 2000, 4000, 8000, 16000, 32000 };
	struct conn c;
	struct out syn, o;

	conn_init(&c, false);
	syn = connect_syn(&c);
	for (unsigned i = 0; i < sizeof(gap) / sizeof(gap[0]); i++) {
		cr_assert_eq(wait_out(gap[i] + 10), gap[i], "retransmission %u after %lld ms", i + 1, (long long)gap[i]);
		o = take1(&c);
		cr_assert_eq(o.flags, TCP_FLAG_SYN);
		cr_assert_eq(o.seq, c.iss, "the same ISS");
		cr_assert_eq(o.o.present, syn.o.present, "the same options");
		cr_assert_eq(o.o.mss, syn.o.mss);
		cr_assert_eq(st->tcpc.TcpRetransSegs, i + 1);
		cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	}
	cr_assert_eq(wait_out(63999), -1, "no seventh SYN");
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT, "still trying 127 s - 1 ms after connect");
	adv_ms(1);
	expect_none("the attempt ends silently");
	cr_assert_eq(state_of(c.fd), INET_CLOSE, "given up at 127 s");
	cr_assert_eq(st->tcpc.TcpAttemptFails, 1);
	cr_assert_eq(so_error(c.fd), ETIMEDOUT);
	cr_assert_eq(so_error(c.fd), 0, "SO_ERROR reads the error once");
	adv_ms(10000);
	expect_none("nothing after the end");
}

/* Linux __inet_stream_connect(): a non-blocking connect() called again
 * once the handshake is done returns 0 (the socket goes SS_CONNECTING ->
 * SS_CONNECTED there), and only later calls give EISCONN. */
Test(tcp_states, connect_again_after_handshake_returns_0)
{
	struct conn c;
	int r;

	active_open_full(&c, false);
	r = connect_again(&c);

	cr_expect_eq(r, 0, "the first connect() after completion reports success (got %s)", strerror(r));
	cr_assert_eq(connect_again(&c), EISCONN);
}

/* Linux __inet_stream_connect(): a connect() called again after the attempt
 * failed reports the failure (sock_error) and sends nothing. */
Test(tcp_states, connect_again_after_refusal_reports_error)
{
	struct conn c;
	int r;

	conn_init(&c, false);
	connect_syn(&c);
	seg_in(&c, TCP_FLAG_RST | TCP_FLAG_ACK, 0, c.iss + 1, 0, NULL);
	expect_none("a reset is not answered");
	r = connect_again(&c);
	cr_expect_eq(r, ECONNREFUSED, "connect() after the reset reports it (got %s)", strerror(r));
	cr_expect_eq(pending(), 0, "and does not start a new attempt");
}

/* ---- passive open ------------------------------------------------------- */

Test(tcp_states, passive_open_synack_echoes_offered_options)
{
	int l = listener(false);
	struct conn a, b, z;
	struct tcp_opts o;
	struct out sa;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	/* MSS, window scale and timestamps, no SACK-permitted. */
	conn_init(&a, false);
	o = syn_opts(&a, 1200, 5, false, true);
	sa = syn_to_listener(&a, l, &o);
	cr_assert_eq(sa.len, 0);
	cr_assert_eq(sa.wnd, 65535, "a SYN-ACK's window is not scaled");
	cr_assert_eq(sa.o.present, TCP_OPTS_MSS | TCP_OPTS_WSCALE | TCP_OPTS_TS,
	             "only what the SYN offered is echoed (RFC 7323 2.2, 3.2; RFC 2018 2): %#x", sa.o.present);
	cr_assert_eq(sa.o.mss, 1460);
	cr_assert_eq(sa.o.wscale, 7);
	cr_assert_eq(sa.o.tsecr, o.tsval);
	cr_assert_eq(st->tcpc.TcpPassiveOpens, 1);

	/* SACK-permitted alone, no MSS. */
	conn_init(&b, false);
	o = syn_opts(&b, 0, -1, true, false);
	sa = syn_to_listener(&b, l, &o);
	cr_assert_eq(sa.o.present, TCP_OPTS_MSS | TCP_OPTS_SACK_PERM, "%#x", sa.o.present);

	/* Nothing offered: the MSS alone. */
	conn_init(&z, false);
	sa = syn_to_listener(&z, l, NULL);
	cr_assert_eq(sa.o.present, TCP_OPTS_MSS, "%#x", sa.o.present);
	cr_assert_eq(sa.wnd, 65535);

	/* Not established, nothing to accept. */
	cr_assert_eq(dtcp_accept4(st, l, NULL, NULL, 0), -1);
	cr_assert_eq(errno, EAGAIN);
	/* The final ACK moves the child to the accept queue. */
	ack_in(&a, a.iss + 1);
	expect_none("the final ACK is not answered");
	a.fd = dtcp_accept4(st, l, (struct sockaddr *)&sin, &len, SOCK_NONBLOCK);
	cr_assert_geq(a.fd, 0, "accept: %s", strerror(errno));
	cr_assert_eq(ntohs(sin.sin_port), a.pport);
	cr_assert_eq(sin.sin_addr.s_addr, inet_addr("198.18.0.2"));
	cr_assert_eq(state_of(a.fd), INET_ESTABLISHED);
	cr_assert_eq(dtcp_accept4(st, l, NULL, NULL, 0), -1, "the others are still in SYN_RECV");
	cr_assert_eq(errno, EAGAIN);
	/* The peer's MSS of 1200 less 12 bytes of timestamps; our window scaled by 7. */
	app_send(&a, 2 * 1188);
	cr_assert_eq(pending(), 2);
	for (int i = 0; i < 2; i++) {
		sa = take();
		cr_assert_eq(sa.len, 1188);
		cr_assert_eq(sa.wnd, RCV_WND_SCALED);
		cr_assert_eq(sa.o.present, TCP_OPTS_TS);
		check_payload(&a, &sa);
	}
}

Test(tcp_states, passive_open_v6_data_both_ways)
{
	int l = listener(true);
	struct tcp_opts o;
	struct conn c;
	struct out s;

	conn_init(&c, true);
	o = syn_opts(&c, 1400, 7, true, true);
	s = passive_open(&c, l, &o);
	cr_assert_eq(s.o.present, TCP_OPTS_MSS | TCP_OPTS_WSCALE | TCP_OPTS_SACK_PERM | TCP_OPTS_TS);
	cr_assert_eq(s.o.mss, 1440);
	cr_assert_eq(s.o.tsecr, o.tsval);
	data_in(&c, 0, 300, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 301);
	app_recv(&c, 0, 300);
	app_send(&c, 200);
	s = take1(&c);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.len, 200);
	check_payload(&c, &s);
}

/* Linux tcp_synack_retries = 5: the SYN-ACK goes again after 1, 2, 4, 8 and
 * 16 s (RFC 6298 2.1 and 5.5), and the child is dropped 32 s later. */
Test(tcp_states, synack_retransmit_backoff_then_dropped)
{
	static const int64_t gap[] = { 1000, 2000, 4000, 8000, 16000 };
	int l = listener(false);
	struct conn c;
	struct out o;

	conn_init(&c, false);
	syn_to_listener(&c, l, NULL);
	for (unsigned i = 0; i < sizeof(gap) / sizeof(gap[0]); i++) {
		cr_assert_eq(wait_out(gap[i] + 10), gap[i], "SYN-ACK retransmission %u", i + 1);
		o = take1(&c);
		cr_assert_eq(o.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
		cr_assert_eq(o.seq, c.iss);
		cr_assert_eq(o.ack, c.irs + 1);
		cr_assert_eq(o.o.present, TCP_OPTS_MSS);
	}
	cr_assert_eq(wait_out(31999), -1);
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 1, "still half-open 63 s - 1 ms after the SYN");
	adv_ms(1);
	expect_none("the child goes silently");
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 0, "dropped at 63 s");
	cr_assert_eq(st->eh.count, 0);
	/* A late ACK reaches the listener: <SEQ=SEG.ACK><CTL=RST> (RFC 9293 3.10.7.2). */
	ack_in(&c, c.iss + 1);
	o = take1(&c);
	cr_assert_eq(o.flags, TCP_FLAG_RST);
	cr_assert_eq(o.seq, c.iss + 1);
	cr_assert_eq(dtcp_accept4(st, l, NULL, NULL, 0), -1);
	cr_assert_eq(errno, EAGAIN);
}

/* RFC 9293 3.10.7.4, SYN-RECEIVED: an unacceptable ACK gets
 * <SEQ=SEG.ACK><CTL=RST> and the half-open connection stays. */
Test(tcp_states, syn_recv_bad_ack_gets_rst)
{
	int l = listener(false);
	struct conn c;
	struct out o;

	conn_init(&c, false);
	syn_to_listener(&c, l, NULL);
	ack_in(&c, c.iss + 101);
	o = take1(&c);
	cr_assert_eq(o.flags, TCP_FLAG_RST, "flags %#x", o.flags);
	cr_assert_eq(o.seq, c.iss + 101);
	ack_in(&c, c.iss);
	o = take1(&c);
	cr_assert_eq(o.flags, TCP_FLAG_RST, "an ACK that does not cover the SYN");
	cr_assert_eq(o.seq, c.iss);
	cr_assert_eq(dtcp_accept4(st, l, NULL, NULL, 0), -1);
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 1, "the child stays");
	/* The right ACK still completes it. */
	ack_in(&c, c.iss + 1);
	expect_none("the final ACK");
	c.fd = dtcp_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
	cr_assert_geq(c.fd, 0);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
}

/* RFC 9293 3.10.7.4, SYN-RECEIVED with RFC 5961 3.2: an in-window RST
 * that is not exact gets a challenge ACK; the exact one ends the half-open
 * connection silently (a passive open goes back to the listener). */
Test(tcp_states, syn_recv_rst_challenge_then_exact)
{
	int l = listener(false);
	struct conn c;
	struct out o;

	conn_init(&c, false);
	syn_to_listener(&c, l, NULL);
	seg_in(&c, TCP_FLAG_RST, c.irs + 100, 0, 0, NULL);
	o = take1(&c);
	check_ack(&o, c.iss + 1, c.irs + 1);
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 1, "the child stays");
	seg_in(&c, TCP_FLAG_RST, c.irs + 1, 0, 0, NULL);
	expect_none("a reset is not answered");
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 0, "the child is gone");
	cr_assert_eq(st->eh.count, 0);
	cr_assert_eq(wait_out(5000), -1, "no SYN-ACK retransmission for it");
	cr_assert_eq(state_of(l), INET_LISTEN);
}

/* The final ACK may carry data (RFC 9293 3.10.7.4: processing continues
 * in ESTABLISHED): it is acknowledged and readable after accept(). */
Test(tcp_states, passive_open_final_ack_with_data)
{
	int l = listener(false);
	struct tcp_opts so;
	struct conn c;
	struct out o;

	conn_init(&c, false);
	so = syn_opts(&c, 1460, 7, true, true);
	syn_to_listener(&c, l, &so);
	data_in(&c, 0, 100, c.iss + 1);
	o = take1(&c);
	check_ack(&o, c.iss + 1, c.irs + 101);
	c.fd = dtcp_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
	cr_assert_geq(c.fd, 0, "accept: %s", strerror(errno));
	app_recv(&c, 0, 100);
}

/* RFC 9293 3.10.7.3 fourth step and figure 8: a SYN without ACK in
 * SYN_SENT gets <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; the peer's SYN-ACK
 * then establishes the connection (figure 8 line 6; Linux accepts this
 * SYN-ACK in tcp_validate_incoming()). */
Test(tcp_states, simultaneous_open)
{
	struct tcp_opts o;
	struct conn c;
	struct out s;

	conn_init(&c, false);
	connect_syn(&c);
	o = syn_opts(&c, 1000, 3, false, true);
	seg_in(&c, TCP_FLAG_SYN, c.irs, 0, 0, &o);
	c.snd = c.irs + 1;
	c.ts = true;
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_SYN | TCP_FLAG_ACK, "flags %#x", s.flags);
	cr_assert_eq(s.seq, c.iss, "the same ISS");
	cr_assert_eq(s.ack, c.irs + 1);
	cr_assert_eq(s.o.present, TCP_OPTS_MSS | TCP_OPTS_WSCALE | TCP_OPTS_TS, "no SACK-permitted: not offered (%#x)",
	             s.o.present);
	cr_assert_eq(s.o.tsecr, o.tsval);
	cr_assert_eq(state_of(c.fd), INET_SYN_RECV);
	/* The peer's SYN-ACK (it got our SYN in SYN_SENT too). */
	o = syn_opts(&c, 1000, 3, false, true);
	seg_in(&c, TCP_FLAG_SYN | TCP_FLAG_ACK, c.irs, c.iss + 1, 0, &o);
	while (pending()) {
		s = take();
		cr_assert_eq(s.flags & (TCP_FLAG_RST | TCP_FLAG_SYN), 0, "no reset, no new SYN (flags %#x)", s.flags);
		cr_assert_eq(s.seq, c.iss + 1);
		cr_assert_eq(s.ack, c.irs + 1);
	}
	cr_expect_eq(state_of(c.fd), INET_ESTABLISHED, "the SYN-ACK in SYN_RECV establishes (RFC 9293 figure 8)");
	/* Data flows both ways. */
	data_in(&c, 0, 100, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 101);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	app_recv(&c, 0, 100);
	cr_assert_eq(so_error(c.fd), 0);
	app_send(&c, 100);
	s = take1(&c);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.len, 100);
}

/* ---- resets in SYN_SENT (RFC 9293 3.10.7.3) ----------------------------- */

Test(tcp_states, synsent_rst_with_acceptable_ack_refuses)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct conn c;

	conn_init(&c, false);
	connect_syn(&c);
	seg_in(&c, TCP_FLAG_RST | TCP_FLAG_ACK, 0, c.iss + 1, 0, NULL);
	expect_none("a reset is not answered");
	cr_assert_eq(state_of(c.fd), INET_CLOSE);
	cr_assert_eq(so_error(c.fd), ECONNREFUSED);
	cr_assert_eq(st->tcpc.TcpAttemptFails, 1);
	cr_assert_eq(dtcp_getpeername(st, c.fd, (struct sockaddr *)&ss, &len), -1);
	cr_assert_eq(errno, ENOTCONN);
	cr_assert_eq(wait_out(10000), -1, "no SYN retransmission after the reset");
}

Test(tcp_states, synsent_rst_without_ack_ignored)
{
	struct tcp_opts o;
	struct conn c;
	struct out s;

	conn_init(&c, false);
	connect_syn(&c);
	/* No ACK: "drop the segment and return". */
	seg_in(&c, TCP_FLAG_RST, 0, 0, 0, NULL);
	expect_none("a reset is not answered");
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	/* An RST whose ACK is unacceptable: dropped too (first check, "unless
	 * the RST bit is set"). */
	seg_in(&c, TCP_FLAG_RST | TCP_FLAG_ACK, 0, c.iss, 0, NULL);
	seg_in(&c, TCP_FLAG_RST | TCP_FLAG_ACK, 0, c.iss + 2, 0, NULL);
	expect_none("a reset is not answered");
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	cr_assert_eq(so_error(c.fd), 0);
	cr_assert_eq(wait_out(1010), 1000, "the SYN still goes again after 1 s");
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_SYN);
	o = syn_opts(&c, 1460, 7, true, true);
	synack_in(&c, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
}

Test(tcp_states, synsent_unacceptable_ack_gets_rst)
{
	struct tcp_opts o;
	struct conn c;
	struct out s;

	conn_init(&c, false);
	connect_syn(&c);
	/* SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>. */
	seg_in(&c, TCP_FLAG_ACK, c.irs, c.iss + 1000, 0, NULL);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_RST, "flags %#x", s.flags);
	cr_assert_eq(s.seq, c.iss + 1000);
	/* SEG.ACK =< ISS, on a SYN-ACK. */
	o = syn_opts(&c, 1460, 7, true, true);
	seg_in(&c, TCP_FLAG_SYN | TCP_FLAG_ACK, c.irs, c.iss, 0, &o);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_RST);
	cr_assert_eq(s.seq, c.iss);
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	/* Acceptable ACK, neither SYN nor RST: dropped (fifth step). */
	seg_in(&c, TCP_FLAG_ACK, c.irs, c.iss + 1, 0, NULL);
	expect_none("neither SYN nor RST");
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	o = syn_opts(&c, 1460, 7, true, true);
	synack_in(&c, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
}

/* ---- resets and SYNs in ESTABLISHED (RFC 9293 3.10.7.4, RFC 5961) -------- */

Test(tcp_states, established_rst_exact_resets)
{
	uint8_t buf[16];
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	seg_in(&c, TCP_FLAG_RST, c.snd, 0, 0, NULL);
	expect_none("a reset is not answered");
	cr_assert_eq(state_of(c.fd), INET_CLOSE);
	cr_assert_eq(st->tcpc.TcpEstabResets, 1);
	cr_assert_eq(dtcp_recv(st, c.fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, ECONNRESET);
	cr_assert_eq(dtcp_recv(st, c.fd, buf, sizeof(buf), MSG_DONTWAIT), 0, "then end of stream");
	cr_assert_eq(dtcp_send(st, c.fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EPIPE);
	expect_none("nothing sent");
	/* The connection is gone: the peer's next segment gets a reset. */
	ack_in(&c, c.iss + 1);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_RST);
	cr_assert_eq(s.seq, c.iss + 1);
}

/* RFC 5961 3.2: an in-window RST that is not exactly RCV.NXT gets a
 * challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and nothing changes. */
Test(tcp_states, established_rst_in_window_challenge_ack)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	seg_in(&c, TCP_FLAG_RST, c.snd + 1000, 0, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.snd);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	cr_assert_eq(st->tcpc.TcpExtTCPChallengeACK, 1);
	/* The last byte of the window, with ACK set. */
	seg_in(&c, TCP_FLAG_RST | TCP_FLAG_ACK, c.snd + TCP_DEFAULT_RCVBUF - 1, c.iss + 1, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.snd);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	cr_assert_eq(so_error(c.fd), 0);
	/* Still a working connection. */
	data_in(&c, 0, 10, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 11);
	app_recv(&c, 0, 10);
	c.snd += 10;
	/* And the peer's exact reset, sent in answer to the challenge, works. */
	seg_in(&c, TCP_FLAG_RST, c.snd, 0, 0, NULL);
	expect_none("a reset is not answered");
	cr_assert_eq(state_of(c.fd), INET_CLOSE);
}

/* RFC 9293 3.10.7.4 first check: an unacceptable RST is dropped silently. */
Test(tcp_states, established_rst_out_of_window_ignored)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	seg_in(&c, TCP_FLAG_RST, c.snd - 1, 0, 0, NULL);
	seg_in(&c, TCP_FLAG_RST, c.snd + TCP_DEFAULT_RCVBUF, 0, 0, NULL);
	seg_in(&c, TCP_FLAG_RST | TCP_FLAG_ACK, c.snd + 0x40000000u, c.iss + 1, 0, NULL);
	expect_none("out-of-window resets are dropped without an answer");
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	cr_assert_eq(st->tcpc.TcpExtTCPChallengeACK, 0);
	data_in(&c, 0, 10, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 11);
}

/* RFC 5961 4.2 / RFC 9293 3.10.7.4 fourth check: a SYN in a synchronized
 * state, whatever its sequence number, gets a challenge ACK. */
Test(tcp_states, established_syn_challenge_ack)
{
	struct tcp_opts o;
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	o = syn_opts(&c, 1000, 2, true, true);
	seg_in(&c, TCP_FLAG_SYN, c.snd + 10, 0, 0, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.snd);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	o = syn_opts(&c, 1000, 2, true, true);
	seg_in(&c, TCP_FLAG_SYN, c.snd + 0x30000000u, 0, 0, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.snd);
	/* A SYN carrying data: the data is not taken. */
	o = syn_opts(&c, 1000, 2, true, true);
	seg_in(&c, TCP_FLAG_SYN | TCP_FLAG_ACK, c.snd, c.iss + 1, 20, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.snd);
	expect_recv_eagain(&c);
	/* A retransmitted SYN-ACK (our ACK was lost) is answered with the ACK. */
	o = syn_opts(&c, 1000, 2, true, true);
	seg_in(&c, TCP_FLAG_SYN | TCP_FLAG_ACK, c.irs, c.iss + 1, 0, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.snd);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	cr_assert_eq(st->tcpc.TcpEstabResets, 0);
	cr_assert_eq(st->tcpc.TcpOutRsts, 0);
}

/* ---- the receive side ----------------------------------------------------- */

/* RFC 9293 3.10.7.4 first check: an unacceptable segment gets an ACK and is
 * dropped; old bytes are trimmed. */
Test(tcp_states, out_of_window_data_dup_ack_not_queued)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	/* Beyond the right edge of the 128 KiB window. */
	data_in(&c, TCP_DEFAULT_RCVBUF, 100, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1);
	cr_assert_eq(s.o.present & TCP_OPTS_SACK, 0, "not queued, so not SACKed");
	expect_recv_eagain(&c);
	data_in(&c, 0, 200, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 201);
	/* Entirely old: a duplicate ACK, and not delivered twice. */
	data_in(&c, 0, 100, c.iss + 1);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_ACK);
	cr_assert_eq(s.ack, c.irs + 201);
	/* Half old: the new half only. */
	data_in(&c, 150, 100, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 251);
	app_recv(&c, 0, 250);
	expect_recv_eagain(&c);
}

static void check_sack(const struct out *o, int n, const uint32_t (*blk)[2], uint32_t base)
{
	cr_assert_eq(o->o.nr_sack, n, "%d SACK blocks, expected %d", o->o.nr_sack, n);
	cr_assert_eq(!!(o->o.present & TCP_OPTS_SACK), n > 0);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(o->o.sack[i].start, base + blk[i][0], "block %d starts at +%u, expected +%u", i,
		             o->o.sack[i].start - base, blk[i][0]);
		cr_assert_eq(o->o.sack[i].end, base + blk[i][1], "block %d ends at +%u, expected +%u", i,
		             o->o.sack[i].end - base, blk[i][1]);
	}
}

/* RFC 2018 3 and 4: data past a hole is ACKed at once with SACK blocks, the
 * one holding the newest segment first, at most 3 beside timestamps; it is
 * delivered in order once the holes fill. */
Test(tcp_states, sack_blocks_and_in_order_delivery)
{
	struct conn c;
	struct out s;
	uint32_t base, ack;

	active_open_full(&c, false);
	base = c.irs + 1;
	ack = c.iss + 1;
	data_in(&c, 1000, 500, ack);
	s = take1(&c);
	check_ack(&s, ack, base);
	check_sack(&s, 1, (const uint32_t[][2]){ { 1000, 1500 } }, base);
	data_in(&c, 2000, 500, ack);
	s = take1(&c);
	check_ack(&s, ack, base);
	check_sack(&s, 2, (const uint32_t[][2]){ { 2000, 2500 }, { 1000, 1500 } }, base);
	data_in(&c, 3000, 500, ack);
	s = take1(&c);
	check_sack(&s, 3, (const uint32_t[][2]){ { 3000, 3500 }, { 2000, 2500 }, { 1000, 1500 } }, base);
	data_in(&c, 4000, 500, ack);
	s = take1(&c);
	check_ack(&s, ack, base);
	check_sack(&s, 3, (const uint32_t[][2]){ { 4000, 4500 }, { 3000, 3500 }, { 2000, 2500 } }, base);
	expect_recv_eagain(&c);
	/* Joining two blocks: the joined block comes first. */
	data_in(&c, 1500, 500, ack);
	s = take1(&c);
	check_ack(&s, ack, base);
	check_sack(&s, 3, (const uint32_t[][2]){ { 1000, 2500 }, { 4000, 4500 }, { 3000, 3500 } }, base);
	/* The first hole fills: everything up to 2500 is acknowledged and readable. */
	data_in(&c, 0, 1000, ack);
	s = take1(&c);
	check_ack(&s, ack, base + 2500);
	check_sack(&s, 2, (const uint32_t[][2]){ { 4000, 4500 }, { 3000, 3500 } }, base);
	app_recv(&c, 0, 2500);
	drain_window_updates(ack, base + 2500);
	data_in(&c, 2500, 500, ack);
	s = take1(&c);
	check_ack(&s, ack, base + 3500);
	check_sack(&s, 1, (const uint32_t[][2]){ { 4000, 4500 } }, base);
	data_in(&c, 3500, 500, ack);
	s = take1(&c);
	check_ack(&s, ack, base + 4500);
	check_sack(&s, 0, NULL, base);
	cr_assert_eq(s.o.present, TCP_OPTS_TS);
	app_recv(&c, 2500, 2000);
}

/* RFC 9293 3.10.7.4 fifth check: "If the ACK acknowledges something not
 * yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and
 * return." */
Test(tcp_states, ack_of_unsent_data_acked_and_dropped)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	app_send(&c, 100);
	s = take1(&c);
	cr_assert_eq(s.len, 100);
	data_in(&c, 0, 50, c.iss + 1 + 500);
	s = take1(&c);
	check_ack(&s, c.iss + 101, c.irs + 1);
	expect_recv_eagain(&c);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	/* The 100 bytes are still unacknowledged: the timer sends them again. */
	cr_assert_gt(wait_out(5000), 0, "a retransmission");
	s = take1(&c);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.len, 100);
	check_payload(&c, &s);
}

/* ---- the send side: zero window, RTO, fast retransmit --------------------- */

/* RFC 9293 3.8.6.1: with the peer's window at zero the sender stops and
 * probes on the retransmission timer, backing off (Linux tcp_probe_timer);
 * it resumes at once when the window opens. */
Test(tcp_states, zero_window_probes_then_resumes)
{
	static const int64_t gap[] = { 200, 400, 800 };
	struct tcp_opts o;
	struct conn c;
	struct out s;
	uint32_t una;

	conn_init(&c, false);
	c.wnd = 1000;
	o = syn_opts(&c, 512, 0, true, true);
	active_open(&c, false, &o);
	app_send(&c, 3000);
	cr_assert_eq(pending(), 2, "the window of 1000 holds two segments of 500");
	drop_all();
	una = c.iss + 1001;
	c.wnd = 0;
	ack_in(&c, una);
	expect_none("the window is closed");
	/* RTO 200 ms (samples of 0 ms, RFC 6298 2.4 with Linux's minimum). */
	for (unsigned i = 0; i < sizeof(gap) / sizeof(gap[0]); i++) {
		cr_assert_eq(wait_out(gap[i] + 10), gap[i], "probe %u after %lld ms", i + 1, (long long)gap[i]);
		s = take1(&c);
		cr_assert(s.flags & TCP_FLAG_ACK);
		cr_assert_eq(s.ack, c.snd);
		cr_assert((s.len == 0 && s.seq == una - 1) || (s.len == 1 && s.seq == una),
		          "a probe: seq %u len %u (una %u)", s.seq, s.len, una);
		ack_in(&c, una);
		expect_none("the probe's answer keeps the window closed");
	}
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	/* The window opens: the rest goes at once. */
	c.wnd = 2000;
	ack_in(&c, una);
	cr_assert_eq(pending(), 4, "2000 bytes in four segments (got %d)", pending());
	for (int i = 0; i < 4; i++) {
		s = take();
		cr_assert_eq(s.seq, una + (uint32_t)i * 500);
		cr_assert_eq(s.len, 500);
		check_payload(&c, &s);
	}
	c.wnd = 65535;
	ack_in(&c, c.iss + 3001);
	cr_assert_eq(wait_out(5000), -1, "all acknowledged: no more probes");
}

/* RFC 6298 2.2, 2.4 (Linux's 200 ms minimum), 5.5: a first sample of
 * 100 ms gives RTO = 100 + 4 * 50 = 300 ms; a lost segment goes again
 * after 300 ms, then 600, then 1200. */
Test(tcp_states, rto_from_rtt_sample_then_doubling)
{
	static const int64_t gap[] = { 300, 600, 1200 };
	struct tcp_opts o;
	struct conn c;
	struct out s;

	conn_init(&c, false);
	connect_syn(&c);
	adv_ms(100);
	o = syn_opts(&c, 1000, 2, true, false);
	synack_in(&c, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1);
	app_send(&c, 500);
	s = take1(&c);
	cr_assert_eq(s.len, 500);
	for (unsigned i = 0; i < sizeof(gap) / sizeof(gap[0]); i++) {
		cr_assert_eq(wait_out(gap[i] + 10), gap[i], "retransmission %u after %lld ms", i + 1, (long long)gap[i]);
		s = take1(&c);
		cr_assert_eq(s.seq, c.iss + 1);
		cr_assert_eq(s.len, 500);
		check_payload(&c, &s);
		cr_assert_eq(st->tcpc.TcpRetransSegs, i + 1);
	}
	ack_in(&c, c.iss + 501);
	cr_assert_eq(wait_out(10000), -1, "acknowledged: the timer stops");
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
}

/* RFC 6298 5.7: "If the timer expires awaiting the ACK of a SYN segment and
 * the TCP implementation is using an RTO less than 3 seconds, the RTO MUST
 * be re-initialized to 3 seconds when data transmission begins" (Linux
 * tcp_init_transfer(): TCP_TIMEOUT_FALLBACK). */
Test(tcp_states, rto_3s_after_syn_retransmission)
{
	struct tcp_opts o;
	struct conn c;
	struct out s;
	int64_t rto;

	conn_init(&c, false);
	connect_syn(&c);
	cr_assert_eq(wait_out(1010), 1000);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_SYN);
	adv_ms(50);
	/* No sample: the SYN was sent twice (Karn). */
	o = syn_opts(&c, 1000, 2, true, false);
	synack_in(&c, &o);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1);
	app_send(&c, 500);
	s = take1(&c);
	rto = wait_out(5000);
	cr_assert_eq(rto, 3000, "the first data RTO after a SYN timeout is 3 s (it was %lld ms)", (long long)rto);
}

/* The SYN-ACK's round trip is a valid first sample (RFC 6298 2.2; Linux
 * tcp_synack_rtt_meas()): 100 ms gives an RTO of 300 ms for the first data. */
Test(tcp_states, rto_from_synack_rtt_on_passive_open)
{
	int l = listener(false);
	struct tcp_opts o;
	struct conn c;
	struct out s;
	int64_t rto;

	conn_init(&c, false);
	o = syn_opts(&c, 1000, 2, true, false);
	syn_to_listener(&c, l, &o);
	adv_ms(100);
	ack_in(&c, c.iss + 1);
	expect_none("the final ACK");
	c.fd = dtcp_accept4(st, l, NULL, NULL, SOCK_NONBLOCK);
	cr_assert_geq(c.fd, 0);
	app_send(&c, 500);
	s = take1(&c);
	cr_assert_eq(s.len, 500);
	rto = wait_out(5000);
	cr_assert_eq(rto, 300, "RTO from the 100 ms handshake sample (it was %lld ms)", (long long)rto);
}

/* RFC 5681 3.2: the third duplicate ACK retransmits the missing segment at
 * once, without waiting for the timer. */
Test(tcp_states, fast_retransmit_on_third_dupack)
{
	struct tcp_opts o;
	struct conn c;
	struct out s;
	uint32_t una;

	conn_init(&c, false);
	o = syn_opts(&c, 1000, 7, false, true);
	active_open(&c, false, &o);
	app_send(&c, 5 * 988);
	cr_assert_eq(pending(), 5, "the initial window (RFC 6928) holds five segments");
	drop_all();
	una = c.iss + 1 + 988;
	ack_in(&c, una);
	expect_none("nothing new to send");
	ack_in(&c, una);
	expect_none("first duplicate");
	ack_in(&c, una);
	expect_none("second duplicate");
	ack_in(&c, una);
	s = take1(&c);
	cr_assert_eq(s.seq, una, "the segment at SND.UNA");
	cr_assert_eq(s.len, 988);
	check_payload(&c, &s);
	cr_assert_eq(st->tcpc.TcpRetransSegs, 1);
	ack_in(&c, una);
	expect_none("a fourth duplicate does not resend again");
	ack_in(&c, c.iss + 1 + 5 * 988);
	cr_assert_eq(wait_out(5000), -1, "all acknowledged: no timeout retransmission");
	cr_assert_eq(st->tcpc.TcpRetransSegs, 1);
}

/* ---- closing ---------------------------------------------------------------- */

/* RFC 9293 3.6 case 1: FIN_WAIT1 -> FIN_WAIT2 -> TIME_WAIT, then CLOSED
 * 2 MSL (Linux: 60 s) later. */
static void check_active_close(bool v6)
{
	struct conn c;
	struct out s;
	uint8_t buf[8];

	active_open_full(&c, v6);
	cr_assert_eq(dtcp_shutdown(st, c.fd, SHUT_WR), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK, "flags %#x", s.flags);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.ack, c.snd);
	cr_assert_eq(state_of(c.fd), INET_FIN_WAIT1);
	ack_in(&c, c.iss + 2);
	expect_none("the ACK of our FIN");
	cr_assert_eq(state_of(c.fd), INET_FIN_WAIT2);
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 2, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 2, c.snd + 1);
	cr_assert_eq(state_of(c.fd), INET_TIME_WAIT);
	cr_assert_eq(dtcp_recv(st, c.fd, buf, sizeof(buf), MSG_DONTWAIT), 0, "end of stream");
	cr_assert_eq(st->eh.count, 1);
	cr_assert_eq(wait_out(59999), -1, "TIME_WAIT is silent");
	cr_assert_eq(st->eh.count, 1, "still in TIME_WAIT after 60 s - 1 ms");
	adv_ms(1);
	cr_assert_eq(st->eh.count, 0, "gone after 60 s");
	cr_assert_eq(state_of(c.fd), INET_CLOSE);
	expect_none("the end is silent");
	/* Now a segment of the old connection meets no socket. */
	ack_in(&c, c.iss + 2);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_RST);
	cr_assert_eq(s.seq, c.iss + 2);
}

Test(tcp_states, active_close_v4)
{
	check_active_close(false);
}

Test(tcp_states, active_close_v6)
{
	check_active_close(true);
}

/* close(): the orphan goes the same way; a FIN retransmitted in TIME_WAIT
 * is acknowledged again and restarts the 2 MSL wait (RFC 9293 3.10.7.4,
 * TIME-WAIT: "Acknowledge it, and restart the 2 MSL timeout"). */
Test(tcp_states, close_time_wait_reacks_retransmitted_fin)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	cr_assert_eq(dtcp_close(st, c.fd), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	cr_assert_eq(s.seq, c.iss + 1);
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 2, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 2, c.snd + 1);
	cr_assert_eq(st->eh.count, 1);
	cr_assert_eq(wait_out(30000), -1);
	/* Our ACK was lost: the peer sends its FIN again. */
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 2, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 2, c.snd + 1);
	cr_assert_eq(wait_out(59999), -1);
	cr_assert_eq(st->eh.count, 1, "the wait restarted at the second FIN");
	adv_ms(1);
	cr_assert_eq(st->eh.count, 0, "gone 60 s after the second FIN");
}

/* A reset ends a TIME_WAIT only at exactly rcv_nxt (Linux's in-window
 * test for TIME_WAIT, tcp_rfc1337 = 0); any other reset is ignored. */
Test(tcp_states, time_wait_ends_on_exact_reset_only)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	cr_assert_eq(dtcp_close(st, c.fd), 0);
	s = take1(&c);
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 2, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 2, c.snd + 1);
	cr_assert_eq(st->eh.count, 1);
	seg_in(&c, TCP_FLAG_RST, c.snd + 1 + 1000, 0, 0, NULL);
	seg_in(&c, TCP_FLAG_RST, c.snd, 0, 0, NULL);
	expect_none("resets are never answered");
	cr_assert_eq(st->eh.count, 1, "inexact resets leave it");
	seg_in(&c, TCP_FLAG_RST, c.snd + 1, 0, 0, NULL);
	cr_assert_eq(st->eh.count, 0, "the exact one ends it");
	cr_assert_eq(st->sock_pool.in_use, 0);
}

/* RFC 9293 3.6 case 2: the peer closes first: CLOSE_WAIT, then our close
 * sends the FIN (LAST_ACK), and its ACK ends the connection, no TIME_WAIT. */
Test(tcp_states, passive_close)
{
	uint8_t buf[8];
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 1, 0, NULL);
	/* tcp_fin(): the ACK of a FIN is owed, not forced: it goes after the
	 * delayed-ACK timeout unless something else carries it first. */
	expect_none("the FIN's ACK is delayed");
	cr_assert_eq(state_of(c.fd), INET_CLOSE_WAIT);
	cr_assert_eq(wait_out(TCP_DELACK_MS + 10), TCP_DELACK_MS, "the delayed ACK");
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.snd + 1);
	cr_assert_eq(st->tcpc.TcpExtDelayedACKs, 1);
	cr_assert_eq(dtcp_recv(st, c.fd, buf, sizeof(buf), MSG_DONTWAIT), 0, "end of stream");
	/* The half-closed connection still sends. */
	app_send(&c, 100);
	s = take1(&c);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.len, 100);
	cr_assert_eq(s.ack, c.snd + 1);
	c.snd++;
	ack_in(&c, c.iss + 101);
	expect_none("the ACK of our data");
	cr_assert_eq(dtcp_shutdown(st, c.fd, SHUT_WR), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	cr_assert_eq(s.seq, c.iss + 101);
	cr_assert_eq(s.ack, c.snd);
	cr_assert_eq(state_of(c.fd), INET_LAST_ACK);
	ack_in(&c, c.iss + 102);
	expect_none("the last ACK is not answered");
	cr_assert_eq(state_of(c.fd), INET_CLOSE);
	cr_assert_eq(st->eh.count, 0, "no TIME_WAIT for the side that closed second");
	cr_assert_eq(st->tcpc.TcpExtTW, 0);
}

/* The same through close(): the orphan is freed at the last ACK. */
Test(tcp_states, passive_close_orphan_freed)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 1, 0, NULL);
	expect_none("the FIN's ACK waits for the application");
	c.snd++;
	cr_assert_eq(dtcp_close(st, c.fd), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.ack, c.snd);
	cr_assert_eq(st->socks.count, 0);
	cr_assert_eq(st->sock_pool.in_use, 1, "the orphan lives in LAST_ACK");
	ack_in(&c, c.iss + 2);
	expect_none("the last ACK");
	cr_assert_eq(st->eh.count, 0);
	cr_assert_eq(st->sock_pool.in_use, 0, "freed");
}

/* RFC 9293 3.6 case 3 (figure 13): FINs cross: FIN_WAIT1 -> CLOSING ->
 * TIME_WAIT. */
Test(tcp_states, simultaneous_close)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	cr_assert_eq(dtcp_shutdown(st, c.fd, SHUT_WR), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	/* The peer's FIN, sent before ours arrived: it does not ACK our FIN. */
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 1, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 2, c.snd + 1);
	cr_assert_eq(state_of(c.fd), INET_CLOSING);
	c.snd++;
	ack_in(&c, c.iss + 2);
	expect_none("the ACK of our FIN");
	cr_assert_eq(state_of(c.fd), INET_TIME_WAIT);
	cr_assert_eq(st->tcpc.TcpExtTW, 1);
	adv_ms(60000);
	cr_assert_eq(st->eh.count, 0);
}

/* FIN_WAIT1: a FIN that also acknowledges ours goes straight to TIME_WAIT. */
Test(tcp_states, fin_wait1_fin_ack_to_time_wait)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	cr_assert_eq(dtcp_shutdown(st, c.fd, SHUT_WR), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	seg_in(&c, TCP_FLAG_FIN | TCP_FLAG_ACK, c.snd, c.iss + 2, 0, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 2, c.snd + 1);
	cr_assert_eq(state_of(c.fd), INET_TIME_WAIT);
}

/* Our FIN is lost: it goes again on the RTO, backing off (RFC 6298 5.4,
 * 5.5), in FIN_WAIT1 and in LAST_ACK. */
Test(tcp_states, lost_fin_retransmitted)
{
	static const int64_t gap[] = { 200, 400, 800 };
	struct conn c, d;
	struct out s;

	active_open_full(&c, false);
	cr_assert_eq(dtcp_shutdown(st, c.fd, SHUT_WR), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	for (unsigned i = 0; i < sizeof(gap) / sizeof(gap[0]); i++) {
		cr_assert_eq(wait_out(gap[i] + 10), gap[i], "FIN retransmission %u", i + 1);
		s = take1(&c);
		cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
		cr_assert_eq(s.seq, c.iss + 1, "the same FIN");
		cr_assert_eq(s.ack, c.snd);
		cr_assert_eq(state_of(c.fd), INET_FIN_WAIT1);
	}
	cr_assert_eq(st->tcpc.TcpRetransSegs, 3);
	ack_in(&c, c.iss + 2);
	cr_assert_eq(wait_out(5000), -1, "acknowledged: no more");
	cr_assert_eq(state_of(c.fd), INET_FIN_WAIT2);

	/* LAST_ACK. */
	active_open_full(&d, false);
	seg_in(&d, TCP_FLAG_FIN | TCP_FLAG_ACK, d.snd, d.iss + 1, 0, NULL);
	expect_none("the FIN's ACK goes with ours");
	d.snd++;
	cr_assert_eq(dtcp_close(st, d.fd), 0);
	s = take1(&d);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	cr_assert_eq(wait_out(210), 200);
	s = take1(&d);
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	cr_assert_eq(s.seq, d.iss + 1);
	cr_assert_eq(s.ack, d.snd);
	ack_in(&d, d.iss + 2);
	cr_assert_eq(wait_out(5000), -1);
	cr_assert_eq(st->eh.count, 1, "only c, in FIN_WAIT2, is left");
}

/* RFC 2525 2.17, Linux tcp_close(): close() with unread data aborts with a
 * reset <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, and no FIN. */
Test(tcp_states, close_with_unread_data_sends_rst)
{
	struct conn c;
	struct out s;

	active_open_full(&c, false);
	data_in(&c, 0, 100, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 101);
	c.snd += 100;
	cr_assert_eq(dtcp_close(st, c.fd), 0);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_RST | TCP_FLAG_ACK, "flags %#x", s.flags);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.ack, c.snd);
	cr_assert_eq(st->tcpc.TcpExtTCPAbortOnData, 1);
	cr_assert_eq(st->eh.count, 0, "the connection is gone");
	cr_assert_eq(wait_out(5000), -1, "no FIN, nothing more");
	/* The peer's next segment meets no connection. */
	data_in(&c, 100, 10, c.iss + 1);
	s = take1(&c);
	cr_assert_eq(s.flags, TCP_FLAG_RST);
	cr_assert_eq(s.seq, c.iss + 1);
}

/* ---- ICMP errors (tcp_v4_err, tcp_v6_err) ------------------------------- */

/* An ICMP (or ICMPv6) error from a router, quoting the IP header and first
 * 8 bytes of a segment of ours with sequence number seq. */
/* An ICMP or ICMPv6 message from a router quoting our segment <seq>; info
 * is the 32-bit field after the checksum (the MTU of "packet too big", the
 * next-hop MTU in the low 16 bits of "fragmentation needed"). */
static void icmp_msg_in(struct conn *c, uint8_t type, uint8_t code, uint32_t info, uint32_t seq)
{
	struct dtcp_pkt *p = link_pair_ops.pkt_alloc(peer);
	uint32_t ip_len = c->v6 ? 40 : 20, qlen = ip_len + 8, ilen = 8 + qlen;
	uint8_t *d, *ic, *q;
	uint16_t ck;

	cr_assert_not_null(p);
	d = pkt_append(p, (uint16_t)(ip_len + ilen));
	cr_assert_not_null(d);
	memset(d, 0, ip_len + ilen);
	ic = d + ip_len;
	q = ic + 8;
	ic[0] = type;
	ic[1] = code;
	ic[4] = (uint8_t)(info >> 24);
	ic[5] = (uint8_t)(info >> 16);
	ic[6] = (uint8_t)(info >> 8);
	ic[7] = (uint8_t)info;
	if (c->v6) {
		struct ipv6_hdr *ip = (struct ipv6_hdr *)d, *qip = (struct ipv6_hdr *)q;
		struct in6_addr router, us, them;

		inet_pton(AF_INET6, "2001:db8::3", &router);
		inet_pton(AF_INET6, "2001:db8::1", &us);
		inet_pton(AF_INET6, "2001:db8::2", &them);
		ip->ver_tc_flow = htonl(6u << 28);
		ip->payload_len = htons((uint16_t)ilen);
		ip->nexthdr = IPPROTO_ICMPV6;
		ip->hop_limit = 64;
		memcpy(d + 8, &router, 16);
		memcpy(d + 24, &us, 16);
		qip->ver_tc_flow = htonl(6u << 28);
		qip->payload_len = htons(20);
		qip->nexthdr = IPPROTO_TCP;
		qip->hop_limit = 1;
		memcpy(q + 8, &us, 16);
		memcpy(q + 24, &them, 16);
	} else {
		struct ipv4_hdr *ip = (struct ipv4_hdr *)d, *qip = (struct ipv4_hdr *)q;

		ip->ver_ihl = 0x45;
		ip->tot_len = htons((uint16_t)(20 + ilen));
		ip->ttl = 64;
		ip->protocol = IPPROTO_ICMP;
		ip->saddr = inet_addr("198.18.0.3");
		ip->daddr = inet_addr("198.18.0.1");
		ip->check = csum_finish(csum_add_buf(0, ip, 20, false));
		qip->ver_ihl = 0x45;
		qip->tot_len = htons(40);
		qip->ttl = 1;
		qip->protocol = IPPROTO_TCP;
		qip->saddr = inet_addr("198.18.0.1");
		qip->daddr = inet_addr("198.18.0.2");
	}
	q[ip_len] = (uint8_t)(c->lport >> 8);
	q[ip_len + 1] = (uint8_t)c->lport;
	q[ip_len + 2] = (uint8_t)(c->pport >> 8);
	q[ip_len + 3] = (uint8_t)c->pport;
	q[ip_len + 4] = (uint8_t)(seq >> 24);
	q[ip_len + 5] = (uint8_t)(seq >> 16);
	q[ip_len + 6] = (uint8_t)(seq >> 8);
	q[ip_len + 7] = (uint8_t)seq;
	if (c->v6) {
		struct in6_addr router, us;

		inet_pton(AF_INET6, "2001:db8::3", &router);
		inet_pton(AF_INET6, "2001:db8::1", &us);
		ck = csum_finish(csum_add_buf(csum_pseudo_v6(&router, &us, IPPROTO_ICMPV6, ilen), ic, ilen, false));
	} else {
		ck = csum_finish(csum_add_buf(0, ic, ilen, false));
	}
	memcpy(ic + 2, &ck, 2);
	cr_assert_eq(link_pair_ops.tx_burst(peer, &p, 1), 1);
	dtcp_stack_poll(st);
}

static void icmp_err_in(struct conn *c, uint8_t type, uint8_t code, uint32_t seq)
{
	icmp_msg_in(c, type, code, 0, seq);
}

/* A connection being opened fails at once with the error's errno. */
Test(tcp_states, icmp_port_unreachable_fails_connect)
{
	struct conn c;

	conn_init(&c, false);
	connect_syn(&c);
	icmp_err_in(&c, 3, 3, c.iss);
	expect_none("nothing answers an ICMP error");
	cr_assert_eq(state_of(c.fd), INET_CLOSE);
	cr_assert_eq(so_error(c.fd), ECONNREFUSED);
	cr_assert_eq(st->tcpc.TcpAttemptFails, 1);
	cr_assert_eq(st->ipc.IcmpInDestUnreachs, 1);
}

/* The quoted sequence number must be one in flight (RFC 5927 4.1). */
Test(tcp_states, icmp_error_out_of_window_ignored)
{
	struct conn c;

	conn_init(&c, false);
	connect_syn(&c);
	icmp_err_in(&c, 3, 1, c.iss + 1000);
	icmp_err_in(&c, 3, 1, c.iss - 1);
	cr_assert_eq(st->tcpc.TcpExtOutOfWindowIcmps, 2);
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	/* Fragmentation needed is a path-MTU signal, not an error. */
	icmp_err_in(&c, 3, 4, c.iss);
	cr_assert_eq(state_of(c.fd), INET_SYN_SENT);
	icmp_err_in(&c, 3, 1, c.iss);
	cr_assert_eq(state_of(c.fd), INET_CLOSE);
	cr_assert_eq(so_error(c.fd), EHOSTUNREACH);
	/* About a connection that is gone: an input error. */
	icmp_err_in(&c, 3, 1, c.iss);
	cr_assert_eq(st->ipc.IcmpInErrors, 1);
}

Test(tcp_states, icmpv6_errors_fail_connect)
{
	/* icmpv6_err_convert(): type, code, errno. */
	static const struct {
		uint8_t type, code;
		int err;
	} cases[] = {
		{ 1, 0, ENETUNREACH },    /* no route to destination */
		{ 1, 1, EACCES },         /* administratively prohibited */
		{ 1, 3, EHOSTUNREACH },   /* address unreachable */
		{ 1, 4, ECONNREFUSED },   /* port unreachable */
		{ 4, 0, EPROTO },         /* parameter problem */
	};
	struct conn c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conn_init(&c, true);
		connect_syn(&c);
		icmp_err_in(&c, cases[i].type, cases[i].code, c.iss);
		cr_assert_eq(state_of(c.fd), INET_CLOSE, "case %zu", i);
		cr_assert_eq(so_error(c.fd), cases[i].err, "case %zu", i);
	}
}

/* An established connection only keeps the error: it is what the
 * application sees if the connection then times out (tcp_write_err()),
 * instead of ETIMEDOUT. */
static void soft_error_then_timeout(bool v6, uint8_t type, uint8_t code, int want)
{
	struct conn c;
	int i;

	active_open_full(&c, v6);
	app_send(&c, 100);
	drop_all();
	icmp_err_in(&c, type, code, c.iss + 1);
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED, "a soft error does not abort");
	/* SO_ERROR shows it once (sk_err_soft), as Linux; it is kept again by
	 * the next error. */
	cr_assert_eq(so_error(c.fd), want);
	cr_assert_eq(so_error(c.fd), 0);
	icmp_err_in(&c, type, code, c.iss + 1);
	for (i = 0; i < 20 && state_of(c.fd) != INET_CLOSE; i++) {
		wait_out(130000);
		drop_all();
	}
	cr_assert_eq(state_of(c.fd), INET_CLOSE, "given up after the retries");
	cr_assert_eq(so_error(c.fd), want);
}

Test(tcp_states, icmp_host_unreachable_reported_on_timeout)
{
	soft_error_then_timeout(false, 3, 1, EHOSTUNREACH);
}

Test(tcp_states, icmpv6_time_exceeded_reported_on_timeout)
{
	soft_error_then_timeout(true, 3, 0, EHOSTUNREACH);
}

/* A listener's child in SYN_RECV (tcp_req_err()): dropped only by net or
 * host unreachable, time exceeded or parameter problem quoting its ISS;
 * the listener is untouched. */
Test(tcp_states, icmp_error_drops_half_open_child)
{
	int l = listener(false);
	struct conn c;

	conn_init(&c, false);
	syn_to_listener(&c, l, NULL);
	icmp_err_in(&c, 3, 3, c.iss);   /* port unreachable: kept */
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 1);
	icmp_err_in(&c, 3, 1, c.iss + 1);   /* not the ISS: kept */
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 1);
	cr_assert_eq(st->tcpc.TcpExtOutOfWindowIcmps, 1);
	icmp_err_in(&c, 11, 0, c.iss);   /* time exceeded: dropped */
	cr_assert_eq(tcp_sk(th_sk(l))->synq_len, 0);
	cr_assert_eq(st->tcpc.TcpExtListenDrops, 1);
	cr_assert_eq(th_sk(l)->state, INET_LISTEN);
	cr_assert_eq(so_error(l), 0);
	expect_none("nothing sent");
}

/* Delayed ACKs (RFC 1122 4.2.3.2, RFC 5681 4.2) as Linux sends them. A new
 * connection is in quick-ACK mode: each of its first TCP_MAX_QUICKACKS data
 * segments is acknowledged at once. Returns the stream offset reached. */
static uint32_t use_quick_acks(struct conn *c)
{
	uint32_t off = 0;

	for (unsigned i = 0; i < TCP_MAX_QUICKACKS; i++) {
		struct out s;

		data_in(c, off, 100, c->iss + 1);
		off += 100;
		s = take1(c);
		check_ack(&s, c->iss + 1, c->irs + 1 + off);
	}
	return off;
}

Test(tcp_states, delayed_ack_after_quick_acks)
{
	struct conn c;
	struct out s;
	uint32_t off;

	active_open_full(&c, false);
	off = use_quick_acks(&c);
	/* A lone segment: its ACK waits for the delayed-ACK timeout. */
	data_in(&c, off, 100, c.iss + 1);
	off += 100;
	expect_none("a lone segment's ACK is delayed");
	cr_assert_eq(wait_out(TCP_DELACK_MS + 10), TCP_DELACK_MS, "acknowledged after the timeout");
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1 + off);
	cr_assert_eq(st->tcpc.TcpExtDelayedACKs, 1);
	/* Two segments: the second is acknowledged at once, both together. */
	data_in(&c, off, 100, c.iss + 1);
	off += 100;
	adv_ms(10);
	expect_none("the first of two waits");
	data_in(&c, off, 100, c.iss + 1);
	off += 100;
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1 + off);
	cr_assert_eq(wait_out(TCP_DELACK_MS + 10), -1, "nothing is owed any more");
	cr_assert_eq(st->tcpc.TcpExtDelayedACKs, 1);
	app_recv(&c, 0, off);
}

/* An owed ACK rides on the application's reply: no bare ACK at all. */
Test(tcp_states, delayed_ack_rides_on_reply)
{
	struct conn c;
	struct out s;
	uint32_t off;

	active_open_full(&c, true);
	off = use_quick_acks(&c);
	app_recv(&c, 0, off);
	drain_window_updates(c.iss + 1, c.irs + 1 + off);
	data_in(&c, off, 100, c.iss + 1);
	off += 100;
	adv_ms(5);
	expect_none("the request's ACK is delayed");
	app_recv(&c, off - 100, 100);
	app_send(&c, 50);
	s = take1(&c);
	cr_assert_eq(s.len, 50, "the reply");
	cr_assert_eq(s.ack, c.irs + 1 + off, "carries the owed ACK");
	check_payload(&c, &s);
	cr_assert_eq(wait_out(TCP_DELACK_MS + 10), -1, "no bare ACK follows");
	cr_assert_eq(st->tcpc.TcpExtDelayedACKs, 0);
}

/* Out of order or duplicate data is acknowledged at once whatever the
 * mode (RFC 5681 4.2: "an immediate ACK ... when an out-of-order segment
 * arrives", and when a segment fills a hole). */
Test(tcp_states, ooo_and_duplicate_acked_at_once)
{
	struct conn c;
	struct out s;
	uint32_t off;

	active_open_full(&c, false);
	off = use_quick_acks(&c);
	data_in(&c, off + 100, 100, c.iss + 1);   /* a hole of 100 */
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1 + off);
	cr_assert_eq(s.o.nr_sack, 1, "the block beyond the hole");
	data_in(&c, off, 100, c.iss + 1);         /* fills it */
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1 + off + 200);
	off += 200;
	data_in(&c, off - 100, 100, c.iss + 1);   /* a duplicate */
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1 + off);
	app_recv(&c, 0, off);
}

/* One wheel timer carries both deadlines: a delayed ACK owed while data is
 * in flight goes at its own time, and the retransmission still comes at the
 * RTO counted from the original send. */
Test(tcp_states, delayed_ack_and_retransmission_share_the_timer)
{
	struct conn c;
	struct out s;
	uint32_t off, rto;

	active_open_full(&c, false);
	off = use_quick_acks(&c);
	rto = tcp_rto_ms(tcp_sk(th_sk(c.fd)));
	cr_assert_gt(rto, 2 * TCP_DELACK_MS);
	app_send(&c, 100);
	s = take1(&c);
	cr_assert_eq(s.len, 100);
	adv_ms(5);
	data_in(&c, off, 100, c.iss + 1);   /* acknowledges none of ours */
	off += 100;
	expect_none("delayed");
	cr_assert_eq(wait_out(TCP_DELACK_MS + 10), TCP_DELACK_MS);
	s = take1(&c);
	check_ack(&s, c.iss + 101, c.irs + 1 + off);
	cr_assert_eq(wait_out(rto), (int64_t)(rto - 5 - TCP_DELACK_MS), "the retransmission keeps its time");
	s = take1(&c);
	cr_assert_eq(s.seq, c.iss + 1);
	cr_assert_eq(s.len, 100);
	cr_assert_eq(s.ack, c.irs + 1 + off);
	cr_assert_eq(st->tcpc.TcpRetransSegs, 1);
}

/* MSG_MORE corks: full segments go, a short last one waits for the next
 * send without the flag, even with nothing in flight or TCP_NODELAY. */
Test(tcp_states, msg_more_holds_the_short_tail)
{
	static uint8_t buf[2510];
	struct conn c;
	struct out s;
	int one = 1;

	active_open_full(&c, false);
	cr_assert_eq(dtcp_setsockopt(st, c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	for (uint32_t i = 0; i < sizeof(buf); i++)
		buf[i] = pat(i);
	/* MSS 1000 less 12 bytes of timestamps: two full segments, 524 held. */
	cr_assert_eq(dtcp_send(st, c.fd, buf, 2500, MSG_MORE | MSG_DONTWAIT), 2500);
	for (int i = 0; i < 2; i++) {
		s = take();
		cr_assert_eq(s.len, 988);
		check_payload(&c, &s);
	}
	expect_none("the short tail waits");
	adv_ms(50);
	expect_none("still corked");
	cr_assert_eq(dtcp_send(st, c.fd, buf, 0, 0), 0);
	expect_none("an empty send pushes nothing (tcp_sendmsg copies nothing)");
	cr_assert_eq(dtcp_send(st, c.fd, buf + 2500, 10, 0), 10);
	s = take1(&c);
	cr_assert_eq(s.len, 534, "uncorked by a send without MSG_MORE");
	check_payload(&c, &s);
	cr_assert_eq(dtcp_send(st, c.fd, buf, 1, MSG_OOB), -1);
	cr_assert_eq(errno, EOPNOTSUPP, "no urgent data");
}

/* SO_LINGER with a timeout and a silent peer: close() gives up after
 * l_linger seconds, returns 0, and the connection goes on closing. */
Test(tcp_states, linger_timeout_then_close_goes_on)
{
	struct linger lg = { 1, 2 };
	struct inet_sock *sk;
	struct conn c;
	struct out s;
	uint64_t t0;

	active_open_full(&c, false);
	sk = th_sk(c.fd);
	cr_assert_eq(dtcp_setsockopt(st, c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	cr_assert_eq(dtcp_fcntl(st, c.fd, F_SETFL, O_NONBLOCK), 0);
	app_send(&c, 100);
	s = take1(&c);
	cr_assert_eq(s.len, 100);
	th_tick_ns = 1000000;
	t0 = th_now_ns;
	cr_assert_eq(dtcp_close(st, c.fd), 0, "O_NONBLOCK does not shorten the linger");
	th_tick_ns = 0;
	cr_assert_geq(th_now_ns - t0, 2000000000ull, "it lingered 2 s");
	cr_assert_lt(th_now_ns - t0, 2500000000ull);
	cr_assert_eq(sk->state, INET_FIN_WAIT1, "the FIN is still unacknowledged");
	cr_assert_eq(st->socks.count, 0, "the descriptor is gone");
	s = take();
	cr_assert_eq(s.flags, TCP_FLAG_FIN | TCP_FLAG_ACK, "the FIN went at once");
	cr_assert_geq(st->tcpc.TcpRetransSegs, 2, "and the data and FIN were retransmitted meanwhile");
	drop_all();
	ack_in(&c, c.iss + 102);
	cr_assert_eq(sk->state, INET_FIN_WAIT2);
}

/* Path MTU discovery (RFC 1191 / RFC 8201): "fragmentation needed" or
 * "packet too big" quoting data in flight lowers the MSS at once and the
 * data goes again at the new size; the destination's path MTU is kept for
 * the next connection; reports that quote nothing in flight, raise the MTU
 * or (IPv6) go below 1280 change nothing. */
static void pmtu_discovery(bool v6)
{
	struct conn c, d;
	struct out s;
	uint8_t type = v6 ? 2 : 3, code = v6 ? 0 : 4;
	uint32_t small = v6 ? 1280 : 576, hdrs = v6 ? 60 : 40;

	struct tcp_opts o;

	conn_init(&c, v6);
	o = syn_opts(&c, 1440, 2, true, true);
	active_open(&c, v6, &o);
	cr_assert_eq(tcp_sk(th_sk(c.fd))->mss, 1440);
	app_send(&c, 4000);
	drop_all();
	icmp_msg_in(&c, type, code, small, c.iss + 1);
	/* The MSS is now small - headers, less 12 bytes of timestamps. */
	s = take();
	cr_assert_eq(s.seq, c.iss + 1, "resent from the first unacknowledged byte");
	cr_assert_eq(s.len, small - hdrs - 12);
	check_payload(&c, &s);
	cr_assert_eq(tcp_sk(th_sk(c.fd))->mss, small - hdrs);
	cr_assert_eq(st->tcpc.TcpExtPMTUReductions, 1);
	cr_assert_geq(st->tcpc.TcpRetransSegs, 1);
	drop_all();
	/* Quoting nothing in flight: out of window, ignored. */
	icmp_msg_in(&c, type, code, small - 100, c.iss + 100000);
	cr_assert_eq(st->tcpc.TcpExtOutOfWindowIcmps, 1);
	cr_assert_eq(tcp_sk(th_sk(c.fd))->mss, small - hdrs);
	/* A larger MTU does not raise it. */
	icmp_msg_in(&c, type, code, 1400, c.iss + 1);
	cr_assert_eq(tcp_sk(th_sk(c.fd))->mss, small - hdrs);
	if (v6) {
		icmp_msg_in(&c, type, code, 1000, c.iss + 1);
		cr_assert_eq(tcp_sk(th_sk(c.fd))->mss, small - hdrs, "below 1280: ignored");
	}
	drop_all();
	/* The next connection to the same destination starts at the path MTU. */
	conn_init(&d, v6);
	o = syn_opts(&d, 1440, 2, true, true);
	active_open(&d, v6, &o);
	cr_assert_eq(tcp_sk(th_sk(d.fd))->mss, small - hdrs);
}

Test(tcp_states, pmtu_discovery_v4)
{
	pmtu_discovery(false);
}

Test(tcp_states, pmtu_discovery_v6)
{
	pmtu_discovery(true);
}

/* IPv4 next-hop MTUs below net.ipv4.route.min_pmtu (552), and the zero of
 * old routers, are taken as 552. */
Test(tcp_states, pmtu_v4_floor)
{
	struct conn c;

	active_open_full(&c, false);
	app_send(&c, 100);
	drop_all();
	icmp_msg_in(&c, 3, 4, 0, c.iss + 1);
	cr_assert_eq(tcp_sk(th_sk(c.fd))->mss, 552 - 40);
	drop_all();
}

/* After a timeout resends from snd_una (go-back-N), a pure ACK still
 * carries the highest sequence sent (RFC 9293's SND.NXT): numbered from the
 * resend point it would be below the peer's RCV.NXT, unacceptable to it,
 * and two such ends would trade ACKs for ever. */
Test(tcp_states, pure_ack_after_timeout_carries_highest_seq)
{
	struct conn c;
	struct out s;
	uint32_t rto;

	active_open_full(&c, false);
	app_send(&c, 3 * 988);
	for (int i = 0; i < 3; i++) {
		s = take();
		cr_assert_eq(s.len, 988);
	}
	rto = tcp_rto_ms(tcp_sk(th_sk(c.fd)));
	cr_assert_geq(wait_out(rto + 10), 1);
	s = take1(&c);
	cr_assert_eq(s.seq, c.iss + 1, "the timeout resends the first segment");
	cr_assert_eq(s.len, 988);
	data_in(&c, 0, 100, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1 + 3 * 988, c.irs + 101);
}

/* A FIN that arrives past a hole is kept and taken when the hole fills, as
 * Linux's out-of-order queue keeps it: the peer need not send it again. */
Test(tcp_states, fin_past_a_hole_taken_when_it_fills)
{
	struct conn c;
	struct out s;
	uint8_t buf[16];

	active_open_full(&c, false);
	seg_in(&c, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN, c.irs + 1 + 100, c.iss + 1, 100, NULL);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1);
	cr_assert_eq(s.o.nr_sack, 1, "the data and FIN beyond the hole");
	cr_assert_eq(state_of(c.fd), INET_ESTABLISHED);
	data_in(&c, 0, 100, c.iss + 1);
	s = take1(&c);
	check_ack(&s, c.iss + 1, c.irs + 1 + 200 + 1);
	cr_assert_eq(state_of(c.fd), INET_CLOSE_WAIT, "the kept FIN was taken");
	app_recv(&c, 0, 200);
	cr_assert_eq(dtcp_recv(st, c.fd, buf, sizeof(buf), MSG_DONTWAIT), 0, "then the end of the stream");
	cr_assert_null(tcp_sk(th_sk(c.fd))->ooo, "the reassembly queue went back");
}

/* Test harness (see harness.h). */
#include "harness.h"

#include "ip/csum.h"
#include "ip/ip_hdr.h"
#include "link/link.h"

#include <string.h>

struct dtcp_stack *st;
uint64_t th_now_ns;
uint64_t th_tick_ns;
int th_zero_random;
static uint64_t rng_state;

static uint64_t link_now(void *arg)
{
	(void)arg;
	return th_now_ns;
}

static void link_random(void *arg, void *buf, size_t len)
{
	(void)arg;
	memset(buf, 0, len);
}

const struct stack_env th_link_env = { .now_ns = link_now, .random_bytes = link_random };

uint64_t th_ipv4_header(void *d, uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t plen)
{
	struct ipv4_hdr *ip = d;

	memset(ip, 0, sizeof(*ip));
	ip->ver_ihl = 0x45;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + plen));
	ip->ttl = 64;
	ip->protocol = proto;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = csum_finish(csum_add_buf(0, ip, sizeof(*ip), false));
	return csum_pseudo_v4(saddr, daddr, proto, plen);
}

uint64_t th_ipv6_header(void *d, const struct in6_addr *saddr, const struct in6_addr *daddr, uint8_t proto,
                        uint32_t plen)
{
	struct ipv6_hdr *ip = d;

	memset(ip, 0, sizeof(*ip));
	ip->ver_tc_flow = htonl(6u << 28);
	ip->payload_len = htons((uint16_t)plen);
	ip->nexthdr = proto;
	ip->hop_limit = 64;
	memcpy(&ip->saddr, saddr, 16);
	memcpy(&ip->daddr, daddr, 16);
	return csum_pseudo_v6(saddr, daddr, proto, plen);
}

struct link_pair *th_lp;
void *th_peer;

void th_link_setup(const struct dtcp_netdev_info *info)
{
	static const struct link_pair_cfg cfg;
	const struct dtcp_netdev_info raw = { .mtu = 1500, .capa = DTCP_NETDEV_RAW_IP };

	th_setup();
	th_lp = link_pair_create(&cfg, &th_link_env);
	cr_assert_not_null(th_lp);
	th_peer = link_pair_end(th_lp, 1);
	cr_assert_eq(dtcp_netdev_attach(st, "eth0", &link_pair_ops, link_pair_end(th_lp, 0), info ? info : &raw), 2);
}

void th_link_teardown(void)
{
	struct dtcp_pkt *p;

	th_teardown();
	while (link_pair_ops.rx_burst(th_peer, &p, 1) == 1)
		link_pair_ops.pkt_free(th_peer, p);
	cr_expect_eq(link_pair_pkts_in_use(th_lp), 0, "every buffer came back");
	link_pair_destroy(th_lp);
	th_lp = NULL;
}

static uint64_t test_now(void *arg)
{
	(void)arg;
	th_now_ns += th_tick_ns;
	return th_now_ns;
}

/* splitmix64: a fixed stream, so every run sees the same "random" bytes. */
static void test_random(void *arg, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)arg;
	while (len) {
		uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
		size_t n = len < 8 ? len : 8;

		z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
		z ^= z >> 31;
		if (th_zero_random)
			z = 0;
		memcpy(p, &z, n);
		p += n;
		len -= n;
	}
}

static const struct stack_env test_env = { .now_ns = test_now, .random_bytes = test_random };

void th_setup(void)
{
	struct dtcp_stack_config cfg = { .max_sockets = 1 << 16 };

	th_now_ns = UINT64_C(1000) * 1000000000u;
	th_tick_ns = 0;
	th_zero_random = 0;
	rng_state = 42;
	st = stack_create(&cfg, &test_env);
	cr_assert_not_null(st);
}

void th_teardown(void)
{
	struct dtcp_pool_stats ps[16];
	int n;

	if (!st)
		return;
	for (uint32_t i = 0; i < st->socks.max && st->socks.count; i++)
		if (st->socks.fds[i])
			dtcp_close(st, st->socks.fds[i]->fd);
	ehash_flush(&st->eh);
	for (uint64_t i = 0; i < ehash_slots(&st->eh) && st->eh.count; i++) {
		struct inet_sock *sk = ehash_at(&st->eh, i);

		if (sk) {
			inet_release(st, sk);
			sock_destroy(st, sk);
		}
	}
	neigh_flush(st, &st->nt);
	n = dtcp_stack_pools(st, ps, 16);
	for (int i = 0; i < n; i++)
		cr_expect_eq(ps[i].in_use, 0, "pool %s still has %llu objects in use", ps[i].name,
		             (unsigned long long)ps[i].in_use);
	dtcp_stack_free(st);
	st = NULL;
}

static int setopt(int fd, int level, int name, int val)
{
	return dtcp_setsockopt(st, fd, level, name, &val, sizeof(val));
}

int th_socket(int family, const char *opts)
{
	int fd = dtcp_socket(st, family, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	for (const char *o = opts ? opts : ""; *o; o++) {
		int r = -1;

		switch (*o) {
		case 'r': r = setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1); break;
		case 'p': r = setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1); break;
		case 'n': r = setopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1); break;
		case '6': r = setopt(fd, SOL_IPV6, IPV6_V6ONLY, 1); break;
		}
		cr_assert_eq(r, 0, "option %c: %s", *o, strerror(errno));
	}
	return fd;
}

struct inet_sock *th_sk(int fd)
{
	return socket_table_get(&st->socks, fd);
}

static socklen_t make_addr(int family, const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		cr_assert_eq(inet_pton(AF_INET, addr, &sin->sin_addr), 1, "bad address %s", addr);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	cr_assert_eq(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1, "bad address %s", addr);
	return sizeof(*sin6);
}

int th_bind(int fd, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(th_sk(fd)->family, addr, port, &ss);

	return dtcp_bind(st, fd, (struct sockaddr *)&ss, len) ? errno : 0;
}

int th_connect(int fd, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(th_sk(fd)->family, addr, port, &ss);
	int r = inet_connect(st, th_sk(fd), (struct sockaddr *)&ss, len);

	return r < 0 ? -r : 0;
}

int th_listen(int fd)
{
	return dtcp_listen(st, fd, 4096) ? errno : 0;
}

int th_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	cr_assert_eq(dtcp_getsockname(st, fd, (struct sockaddr *)&ss, &len), 0);
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
	                               : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

const char *th_addr(int fd)
{
	static char buf[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	cr_assert_eq(dtcp_getsockname(st, fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof(buf));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof(buf));
	return buf;
}

void th_sysctl(const char *name, const char *value)
{
	cr_assert_eq(dtcp_sysctl_set(st, name, value), 0, "sysctl %s=%s: %s", name, value, strerror(errno));
}

int th_listener(const char *addr, int port)
{
	int fd = th_socket(strchr(addr, ':') ? AF_INET6 : AF_INET, NULL);

	cr_assert_eq(th_bind(fd, addr, port), 0);
	cr_assert_eq(th_listen(fd), 0);
	return fd;
}

void th_sleep_ms(uint64_t ms)
{
	th_now_ns += ms * 1000000u;
}

void th_timewait(int fd, bool peer_ts)
{
	struct inet_sock *sk = th_sk(fd);

	cr_assert_not_null(sk);
	sk->state = INET_ESTABLISHED;
	inet_enter_timewait(st, sk, peer_ts, false);
	socket_table_release(&st->socks, fd);
	sk->fd = -1;
}

int th_noport_connect(const char *src, const char *dst, int dport, int *port, int *err)
{
	int fam = strchr(dst, ':') ? AF_INET6 : AF_INET;
	int fd = th_socket(fam, "n");

	if (src)
		cr_assert_eq(th_bind(fd, src, 0), 0);
	*err = th_connect(fd, dst, dport);
	*port = th_port(fd);
	return fd;
}

/* Observation of a stack (see dtcp/diag.h): the nstat counters, the socket
 * walk behind dtcp-ss, and the poll hook observers are served from. Reads
 * only; stack thread only. */
#include <dtcp/diag.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "stack.h"
#include "tcp/tcp_sock.h"

static int api_ret(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/* The counter tables: nstat's name and where the value lives. The structs
 * name their fields after nstat where they can; the few dtcp-only fields
 * (Link*, TcpExtTCPNoEngineDrops) are left out, and IcmpOutRateLimited is
 * the one limiter Linux counts as IcmpOutRateLimitGlobal for both ICMPs. */
#define IPC(f) { #f, offsetof(struct ip_counters, f) }
#define IPC_AS(name, f) { name, offsetof(struct ip_counters, f) }
#define TCPC(f) { #f, offsetof(struct tcp_counters, f) }

struct counter_def {
	const char *name;
	size_t off;
};

static const struct counter_def ip_defs[] = {
	IPC(IpInReceives), IPC(IpInHdrErrors), IPC(IpInAddrErrors), IPC(IpInUnknownProtos),
	IPC(IpInDiscards), IPC(IpInDelivers), IPC(IpOutRequests), IPC(IpOutDiscards),
	IPC(IpOutNoRoutes), IPC(IpReasmFails),
	IPC(IcmpInMsgs), IPC(IcmpInErrors), IPC(IcmpInCsumErrors), IPC(IcmpInDestUnreachs),
	IPC(IcmpInEchos), IPC(IcmpInEchoReps), IPC(IcmpOutMsgs),
	IPC_AS("IcmpOutRateLimitGlobal", IcmpOutRateLimited),
	IPC(IcmpOutDestUnreachs), IPC(IcmpOutEchoReps),
	IPC(IpExtInTruncatedPkts), IPC(IpExtInCsumErrors),
	IPC(Ip6InReceives), IPC(Ip6InHdrErrors), IPC(Ip6InAddrErrors), IPC(Ip6InUnknownProtos),
	IPC(Ip6InTruncatedPkts), IPC(Ip6InDelivers), IPC(Ip6OutRequests), IPC(Ip6OutDiscards),
	IPC(Ip6OutNoRoutes), IPC(Ip6ReasmFails),
	IPC(Icmp6InMsgs), IPC(Icmp6InErrors), IPC(Icmp6InCsumErrors), IPC(Icmp6OutMsgs),
	IPC(Icmp6OutErrors), IPC(Icmp6InEchos), IPC(Icmp6InEchoReplies), IPC(Icmp6OutEchoReplies),
};

static const struct counter_def tcp_defs[] = {
	TCPC(TcpActiveOpens), TCPC(TcpPassiveOpens), TCPC(TcpAttemptFails), TCPC(TcpEstabResets),
	/* TcpCurrEstab goes here (a gauge, kept by inet_state_set()) */
	TCPC(TcpInSegs), TCPC(TcpOutSegs), TCPC(TcpRetransSegs), TCPC(TcpInErrs), TCPC(TcpOutRsts),
	TCPC(TcpInCsumErrors),
	TCPC(TcpExtTW), TCPC(TcpExtDelayedACKs), TCPC(TcpExtListenOverflows), TCPC(TcpExtListenDrops),
	TCPC(TcpExtTCPOFOQueue), TCPC(TcpExtTCPAbortOnData), TCPC(TcpExtTCPChallengeACK),
	TCPC(TcpExtOutOfWindowIcmps),
};

#define N_IP (sizeof(ip_defs) / sizeof(ip_defs[0]))
#define N_TCP (sizeof(tcp_defs) / sizeof(tcp_defs[0]))
#define TCP_CURR_ESTAB_AT 4   /* index in tcp_defs before which TcpCurrEstab is shown */
_Static_assert(N_IP + N_TCP + 1 <= DTCP_COUNTERS_MAX, "DTCP_COUNTERS_MAX too small");

int dtcp_stack_counters(struct dtcp_stack *st, struct dtcp_counter *out, int n)
{
	int i = 0;

	if (!st || (!out && n > 0))
		return api_ret(-EINVAL);
	for (size_t k = 0; k < N_IP; k++, i++)
		if (i < n)
			out[i] = (struct dtcp_counter){ ip_defs[k].name,
			                                *(const uint64_t *)((const char *)&st->ipc + ip_defs[k].off) };
	for (size_t k = 0; k < N_TCP; k++, i++) {
		if (k == TCP_CURR_ESTAB_AT) {
			if (i < n)
				out[i] = (struct dtcp_counter){ "TcpCurrEstab", st->tcpc.TcpCurrEstab };
			i++;
		}
		if (i < n)
			out[i] = (struct dtcp_counter){ tcp_defs[k].name,
			                                *(const uint64_t *)((const char *)&st->tcpc + tcp_defs[k].off) };
	}
	return i;
}

const char *dtcp_tcp_state_name(int state)
{
	static const char *const names[] = {
		[INET_ESTABLISHED] = "ESTAB",     [INET_SYN_SENT] = "SYN-SENT",
		[INET_SYN_RECV] = "SYN-RECV",     [INET_FIN_WAIT1] = "FIN-WAIT-1",
		[INET_FIN_WAIT2] = "FIN-WAIT-2",  [INET_TIME_WAIT] = "TIME-WAIT",
		[INET_CLOSE] = "UNCONN",          [INET_CLOSE_WAIT] = "CLOSE-WAIT",
		[INET_LAST_ACK] = "LAST-ACK",     [INET_LISTEN] = "LISTEN",
		[INET_CLOSING] = "CLOSING",
	};

	if (state < INET_ESTABLISHED || state > INET_CLOSING)
		return "UNKNOWN";
	return names[state];
}

int dtcp_stack_poll_hook(struct dtcp_stack *st, void (*fn)(struct dtcp_stack *st, void *arg), void *arg)
{
	if (!st)
		return api_ret(-EINVAL);
	if (fn && st->poll_hook && (st->poll_hook != fn || st->poll_hook_arg != arg))
		return api_ret(-EBUSY);
	st->poll_hook = fn;
	st->poll_hook_arg = fn ? arg : NULL;
	return 0;
}

/* The walk. */

static bool prefix_match(const struct in6_addr *a, const struct in6_addr *p, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(a->s6_addr, p->s6_addr, full))
		return false;
	if (!rest)
		return true;
	return ((a->s6_addr[full] ^ p->s6_addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

/* The local port ss shows: the one held in the bind tables. */
static uint16_t sk_lport(const struct inet_sock *sk)
{
	return sk->num;
}

static bool sk_match(const struct inet_sock *sk, const struct dtcp_sock_filter *f)
{
	if (!f)
		return true;
	if (f->states && !(f->states & DTCP_SS_BIT(sk->state)))
		return false;
	if ((f->flags & DTCP_SF_SPORT) && sk_lport(sk) != f->sport)
		return false;
	if ((f->flags & DTCP_SF_DPORT) && sk->dport != f->dport)
		return false;
	if ((f->flags & DTCP_SF_SADDR) && !prefix_match(&sk->rcv_saddr, &f->saddr, f->saddr_plen))
		return false;
	if ((f->flags & DTCP_SF_DADDR) && !prefix_match(&sk->daddr, &f->daddr, f->daddr_plen))
		return false;
	return true;
}

static void sa_fill(struct sockaddr_storage *ss, int family, const struct in6_addr *a, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = addr_v4(a);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = *a;
	}
}

/* ss's queues (see struct dtcp_sock_info), from what the control block
 * already keeps. */
static void sk_queues(const struct tcp_sock *tp, struct dtcp_sock_info *si)
{
	const struct inet_sock *sk = &tp->inet;

	switch (sk->state) {
	case INET_LISTEN:
		si->recv_q = tp->acceptq_len;
		si->send_q = (uint32_t)sk->backlog;
		return;
	case INET_TIME_WAIT:
	case INET_CLOSE:
		return;
	case INET_SYN_SENT:
		si->send_q = 1;   /* the SYN */
		return;
	case INET_SYN_RECV:
		if (tp->parent)
			return;   /* the kernel's request sock: no queues */
		si->send_q = 1;
		return;
	case INET_FIN_WAIT1:
	case INET_CLOSING:
	case INET_LAST_ACK:
		si->send_q = tp->fin_queued ? 1 : 0;   /* the FIN, not acknowledged yet */
		break;
	default:
		break;
	}
	si->recv_q = tp->rcvq_bytes;
	si->send_q += tp->snd_len;
}

static void sk_info(const struct inet_sock *sk, struct dtcp_sock_info *si)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	memset(si, 0, sizeof(*si));
	si->family = sk->family;
	si->state = sk->state;
	si->state_name = dtcp_tcp_state_name(sk->state);
	sa_fill(&si->local, sk->family, &sk->rcv_saddr, sk_lport(sk));
	sa_fill(&si->peer, sk->family, &sk->daddr, sk->dport);
	si->fd = sk->fd;
	sk_queues(tp, si);
	if (sk->state == INET_LISTEN || sk->state == INET_CLOSE || sk->state == INET_TIME_WAIT)
		return;
	si->rto_us = tp->rtt.rto_us;
	if (tp->rtt.has_srtt) {
		si->srtt_us = tp->rtt.srtt8 / 8;
		si->rttvar_us = tp->rtt.rttvar8 / 8;
	}
	si->snd_mss = tp->mss;
	si->snd_cwnd = tp->cc.smss ? tp->cc.cwnd / tp->cc.smss : 0;
	si->retransmits = tp->retries;
	si->total_retrans = tp->total_retrans;
}

struct walk {
	const struct dtcp_sock_filter *f;
	dtcp_sock_walk_fn *fn;
	void *arg;
	long visited;
	bool stop;
};

static void walk_one(struct walk *w, const struct inet_sock *sk)
{
	struct dtcp_sock_info si;

	w->visited++;
	if (!sk_match(sk, w->f))
		return;
	sk_info(sk, &si);
	if (w->fn(&si, w->arg))
		w->stop = true;
}

/* Every socket holding a port: the owners of its address buckets.
 * with_fd: also those with a descriptor (else they were reported by the
 * descriptor walk). */
static void walk_port(struct walk *w, const struct inet_bind_bucket *tb, bool with_fd)
{
	const struct hnode *n, *o;

	hlist_for_each(n, &tb->bhash2) {
		const struct inet_bind2_bucket *tb2 = DTCP_CONTAINER_OF(n, struct inet_bind2_bucket, port_node);

		hlist_for_each(o, &tb2->owners) {
			const struct inet_sock *sk = DTCP_CONTAINER_OF(o, struct inet_sock, bind_node);

			if (!with_fd && sk->fd >= 0)
				continue;
			walk_one(w, sk);
			if (w->stop)
				return;
		}
	}
}

long dtcp_sock_walk(struct dtcp_stack *st, const struct dtcp_sock_filter *f, dtcp_sock_walk_fn *fn, void *arg)
{
	struct walk w = { .f = f, .fn = fn, .arg = arg };
	const struct socket_table *t;

	if (!st || !fn || (f && (f->saddr_plen > 128 || f->daddr_plen > 128)))
		return api_ret(-EINVAL);
	bind_table_flush(&st->bt);
	if (f && (f->flags & DTCP_SF_SPORT)) {
		const struct inet_bind_bucket *tb = bind_table_port(&st->bt, f->sport);

		if (tb)
			walk_port(&w, tb, true);
		return w.visited;
	}
	/* Sockets with a descriptor, whatever their state; then those without
	 * one, all of which hold a port until they are freed (children,
	 * orphans, TIME_WAIT). */
	t = &st->socks;
	for (uint32_t wd = 0, seen = 0; wd < (t->max + 63) / 64 && seen < t->count && !w.stop; wd++) {
		for (uint64_t bits = t->used[wd]; bits && !w.stop; bits &= bits - 1) {
			uint32_t i = wd * 64 + (uint32_t)__builtin_ctzll(bits);

			seen++;
			walk_one(&w, t->fds[i]);
		}
	}
	for (uint32_t port = 0; port < 65536 && !w.stop; port++) {
		const struct inet_bind_bucket *tb = bind_table_port(&st->bt, (uint16_t)port);

		if (tb)
			walk_port(&w, tb, false);
	}
	return w.visited;
}

/* The filter parser (ss's expression subset, see dtcp/diag.h). */

static const struct {
	const char *name;
	uint32_t states;
} state_names[] = {
	{ "established", DTCP_SS_BIT(INET_ESTABLISHED) },
	{ "syn-sent", DTCP_SS_BIT(INET_SYN_SENT) },
	{ "syn-recv", DTCP_SS_BIT(INET_SYN_RECV) },
	{ "fin-wait-1", DTCP_SS_BIT(INET_FIN_WAIT1) },
	{ "fin-wait-2", DTCP_SS_BIT(INET_FIN_WAIT2) },
	{ "time-wait", DTCP_SS_BIT(INET_TIME_WAIT) },
	{ "close", DTCP_SS_BIT(INET_CLOSE) },
	{ "closed", DTCP_SS_BIT(INET_CLOSE) },
	{ "close-wait", DTCP_SS_BIT(INET_CLOSE_WAIT) },
	{ "last-ack", DTCP_SS_BIT(INET_LAST_ACK) },
	{ "listening", DTCP_SS_BIT(INET_LISTEN) },
	{ "listen", DTCP_SS_BIT(INET_LISTEN) },
	{ "closing", DTCP_SS_BIT(INET_CLOSING) },
	{ "all", DTCP_SS_ALL },
	{ "connected", DTCP_SS_CONNECTED },
	{ "synchronized", DTCP_SS_SYNCHRONIZED },
	{ "bucket", DTCP_SS_BIT(INET_SYN_RECV) | DTCP_SS_BIT(INET_TIME_WAIT) },
	{ "big", DTCP_SS_ALL & ~(DTCP_SS_BIT(INET_SYN_RECV) | DTCP_SS_BIT(INET_TIME_WAIT)) },
};

#define WORD_MAX 80

static int parse_fail(char *err, size_t errlen, const char *fmt, const char *word)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, word);
	return -EINVAL;
}

/* The next blank-separated word into w; false at the end. */
static bool next_word(const char **p, char *w, size_t len, bool *too_long)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (!*s)
		return false;
	while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
		if (n + 1 < len)
			w[n++] = *s;
		else
			*too_long = true;
		s++;
	}
	w[n] = '\0';
	*p = s;
	return true;
}

/* "80", "*" (any: *set false). */
static int parse_port(const char *s, uint16_t *port, bool *set)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "*")) {
		*set = false;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	*set = true;
	return 0;
}

/* ADDR[/PLEN] (IPv4 kept mapped), or "*" / "" for any (*set false). */
static int parse_addr(char *s, struct in6_addr *a, uint8_t *plen, bool *set)
{
	char *slash = strchr(s, '/');
	unsigned long v = 0, max;
	struct in_addr v4;
	bool is_v4;

	if (!*s || !strcmp(s, "*")) {
		*set = false;
		return 0;
	}
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, s, &v4) == 1) {
		addr_set_mapped(a, v4.s_addr);
		is_v4 = true;
	} else if (inet_pton(AF_INET6, s, a) == 1) {
		is_v4 = false;
	} else {
		return -EINVAL;
	}
	max = is_v4 ? 32 : 128;
	if (slash) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		v = strtoul(slash + 1, &end, 10);
		if (*end || v > max)
			return -EINVAL;
	} else {
		v = max;
	}
	*plen = (uint8_t)(is_v4 ? v + 96 : v);
	*set = true;
	return 0;
}

/* src/dst's argument: ADDR[/PLEN][:PORT], :PORT, [IPV6][/PLEN][:PORT], IPV6. */
static int parse_endpoint(char *w, struct in6_addr *a, uint8_t *plen, bool *aset, uint16_t *port, bool *pset)
{
	char *colon = NULL;

	*aset = *pset = false;
	if (w[0] == '[') {
		char *close = strchr(w, ']');

		if (!close)
			return -EINVAL;
		*close = '\0';
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1])
			return -EINVAL;
		if (parse_addr(w + 1, a, plen, aset) < 0)
			return -EINVAL;
		return colon ? parse_port(colon + 1, port, pset) : 0;
	}
	colon = strchr(w, ':');
	if (colon && strchr(colon + 1, ':'))
		return parse_addr(w, a, plen, aset);   /* a bare IPv6 address: no port */
	if (colon)
		*colon = '\0';
	if (parse_addr(w, a, plen, aset) < 0)
		return -EINVAL;
	return colon ? parse_port(colon + 1, port, pset) : 0;
}

static int filter_parse(const char *expr, struct dtcp_sock_filter *f, char *err, size_t errlen)
{
	char w[WORD_MAX], arg[WORD_MAX];
	const char *p = expr ? expr : "";
	bool too_long = false;

	memset(f, 0, sizeof(*f));
	while (next_word(&p, w, sizeof(w), &too_long)) {
		bool is_src = !strcmp(w, "src"), is_dst = !strcmp(w, "dst");
		bool is_sport = !strcmp(w, "sport"), is_dport = !strcmp(w, "dport");

		if (too_long)
			return parse_fail(err, errlen, "word too long: %s...", w);
		if (!strcmp(w, "and") || !strcmp(w, "&&"))
			continue;
		if (!strcmp(w, "state")) {
			size_t i;

			if (!next_word(&p, arg, sizeof(arg), &too_long) || too_long)
				return parse_fail(err, errlen, "%s: a state name must follow", w);
			for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
				if (!strcmp(arg, state_names[i].name))
					break;
			if (i == sizeof(state_names) / sizeof(state_names[0]))
				return parse_fail(err, errlen, "unknown state: %s", arg);
			f->states |= state_names[i].states;
		} else if (is_src || is_dst) {
			uint32_t aflag = is_src ? DTCP_SF_SADDR : DTCP_SF_DADDR;
			uint32_t pflag = is_src ? DTCP_SF_SPORT : DTCP_SF_DPORT;
			bool aset, pset;
			uint16_t port;

			if (!next_word(&p, arg, sizeof(arg), &too_long) || too_long)
				return parse_fail(err, errlen, "%s: an address or :port must follow", w);
			if (f->flags & aflag)
				return parse_fail(err, errlen, "%s given twice", w);
			if (parse_endpoint(arg, is_src ? &f->saddr : &f->daddr, is_src ? &f->saddr_plen : &f->daddr_plen,
			                   &aset, &port, &pset) < 0)
				return parse_fail(err, errlen, "bad address[:port]: %s", arg);
			if (aset)
				f->flags |= aflag;
			if (pset) {
				if ((f->flags & pflag) && (is_src ? f->sport : f->dport) != port)
					return parse_fail(err, errlen, "two different ports for %s", w);
				f->flags |= pflag;
				*(is_src ? &f->sport : &f->dport) = port;
			}
		} else if (is_sport || is_dport) {
			uint32_t pflag = is_sport ? DTCP_SF_SPORT : DTCP_SF_DPORT;
			const char *ps;
			uint16_t port;
			bool pset;

			if (!next_word(&p, arg, sizeof(arg), &too_long) || too_long)
				return parse_fail(err, errlen, "%s: an operator must follow", w);
			if (strcmp(arg, "=") && strcmp(arg, "==") && strcmp(arg, "eq"))
				return parse_fail(err, errlen, "unsupported port operator: %s (only =, ==, eq)", arg);
			if (!next_word(&p, arg, sizeof(arg), &too_long) || too_long)
				return parse_fail(err, errlen, "%s: a :port must follow", w);
			ps = arg[0] == ':' ? arg + 1 : arg;
			if (parse_port(ps, &port, &pset) < 0)
				return parse_fail(err, errlen, "bad port: %s", arg);
			if (!pset)
				continue;
			if ((f->flags & pflag) && (is_sport ? f->sport : f->dport) != port)
				return parse_fail(err, errlen, "two different ports for %s", w);
			f->flags |= pflag;
			*(is_sport ? &f->sport : &f->dport) = port;
		} else if (!strcmp(w, "or") || !strcmp(w, "||") || !strcmp(w, "not") || !strcmp(w, "!") ||
		           !strcmp(w, "exclude") || !strcmp(w, "excl") || w[0] == '(' || w[0] == ')') {
			return parse_fail(err, errlen, "not supported here: %s", w);
		} else {
			return parse_fail(err, errlen, "unknown word: %s (expected state, src, dst, sport, dport)", w);
		}
	}
	return 0;
}

int dtcp_sock_filter_parse(const char *expr, struct dtcp_sock_filter *f, char *err, size_t errlen)
{
	int r;

	if (!f)
		return api_ret(-EINVAL);
	if (err && errlen)
		err[0] = '\0';
	r = filter_parse(expr, f, err, errlen);
	if (r < 0)
		memset(f, 0, sizeof(*f));
	return api_ret(r);
}

/* dtcp-ss's shared part (see ss.h): the table as `ss -tan` prints it. */
#include "ss.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <dtcp/dtcp.h>

const char *ss_endpoint_join(int family, const char *addr, unsigned port, char *buf, size_t len)
{
	char p[12];

	if (port)
		snprintf(p, sizeof(p), "%u", port);
	else
		snprintf(p, sizeof(p), "*");
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%s", addr, p);
	else
		snprintf(buf, len, "%s:%s", addr, p);
	return buf;
}

const char *ss_endpoint_text(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		return ss_endpoint_join(AF_INET6, ip, ntohs(s6->sin6_port), buf, len);
	}
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

	inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
	return ss_endpoint_join(AF_INET, ip, ntohs(s4->sin_port), buf, len);
}

void ss_print_header(FILE *out)
{
	fprintf(out, "%-10s %-6s %-6s %-47s %s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port",
	        "Peer Address:Port");
}

void ss_print_row(FILE *out, const char *state, uint32_t recv_q, uint32_t send_q, const char *local,
                  const char *peer)
{
	fprintf(out, "%-10s %-6u %-6u %-47s %s\n", state, recv_q, send_q, local, peer);
}

struct print_ctx {
	FILE *out;
	long max_rows, matched;
};

static int print_one(const struct dtcp_sock_info *si, void *arg)
{
	struct print_ctx *c = arg;
	char l[64], p[64];

	if (c->max_rows < 0 || c->matched < c->max_rows)
		ss_print_row(c->out, si->state_name, si->recv_q, si->send_q, ss_endpoint_text(&si->local, l, sizeof(l)),
		             ss_endpoint_text(&si->peer, p, sizeof(p)));
	c->matched++;
	return 0;
}

long dtcp_ss_print(struct dtcp_stack *st, const char *filter_expr, FILE *out, long max_rows)
{
	struct print_ctx c = { .out = out, .max_rows = max_rows };
	struct dtcp_sock_filter f;
	char err[160];

	if (!st || !out) {
		errno = EINVAL;
		return -1;
	}
	if (dtcp_sock_filter_parse(filter_expr, &f, err, sizeof(err)) < 0) {
		fprintf(stderr, "dtcp-ss: bad filter \"%s\": %s\n", filter_expr, err);
		errno = EINVAL;
		return -1;
	}
	ss_print_header(out);
	if (dtcp_sock_walk(st, &f, print_one, &c) < 0)
		return -1;
	if (max_rows >= 0 && c.matched > max_rows)
		fprintf(out, "(%ld of %ld sockets shown)\n", max_rows, c.matched);
	return c.matched;
}

/* dtcp-ss's shared part: the `ss -tan` table of a dtcp stack, printed in
 * process (dtcp-flows --ss) or from rows a telemetry reply carried (the
 * dtcp-ss program). Runs on the thread that polls the stack. */
#ifndef DTCP_APPS_SS_H
#define DTCP_APPS_SS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct dtcp_stack;
struct dtcp_sock_info;

/* "127.0.0.1:40000", "[::1]:80", "0.0.0.0:*" (port 0 is "*"), as ss prints. */
const char *ss_endpoint_text(const struct sockaddr_storage *sa, char *buf, size_t len);
/* The same from an address in text and a port. */
const char *ss_endpoint_join(int family, const char *addr, unsigned port, char *buf, size_t len);

/* ss's header line: State Recv-Q Send-Q Local Address:Port Peer Address:Port. */
void ss_print_header(FILE *out);
/* One row; local and peer as ss_endpoint_text() makes them. */
void ss_print_row(FILE *out, const char *state, uint32_t recv_q, uint32_t send_q, const char *local,
                  const char *peer);

/* Print the sockets of st that match filter_expr (dtcp_sock_filter_parse()'s
 * syntax; NULL or "" for all), at most max_rows of them (< 0: no limit),
 * then, if rows were left out, a line saying how many matched in all.
 * Returns the number of matching sockets, or -1 with errno EINVAL (bad
 * expression: the reason is printed on stderr). */
long dtcp_ss_print(struct dtcp_stack *st, const char *filter_expr, FILE *out, long max_rows);

#endif

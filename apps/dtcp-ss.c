/* dtcp-ss: the socket table (as `ss -tan`), the nstat counters or the pools
 * of a dtcp stack running in another process, read through that process's
 * DPDK telemetry socket (/var/run/dpdk/<file-prefix>/dpdk_telemetry.v2) with
 * the /dtcp/ss, /dtcp/counters and /dtcp/pools commands. The process must
 * have registered its stack (dtcp_dpdk_telemetry_register()) and keep
 * polling it. Single-threaded. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ss/json.h"
#include "ss/ss.h"

#define REPLY_MAX (1u << 20)

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: dtcp-ss [--file-prefix P | --socket PATH] [--counters | --pools] [--max-rows N] [FILTER...]\n"
	        "  Print a running dtcp process's sockets like `ss -tan FILTER`, read through its DPDK\n"
	        "  telemetry socket (default /var/run/dpdk/rte/dpdk_telemetry.v2; --file-prefix P reads\n"
	        "  /var/run/dpdk/P/dpdk_telemetry.v2, P being the process's EAL --file-prefix).\n"
	        "  FILTER: state S, src ADDR[:PORT], dst ADDR[:PORT], sport = :P, dport = :P (ANDed).\n"
	        "  --counters   the nstat counters instead (name value, as nstat -az)\n"
	        "  --pools      the memory pools instead\n"
	        "  --max-rows N at most N sockets (default: all, fetched in pages)\n"
	        "Exit status: 0 done, 1 no answer or an error answer, 2 bad usage.\n");
}

/* Send one command and parse the reply; the value under the command's name. */
static struct json *ask(int fd, const char *cmd, const char *params, char *buf, const struct json **val)
{
	char req[1024];
	ssize_t n;
	struct json *j;
	int len = params ? snprintf(req, sizeof(req), "%s,%s", cmd, params) : snprintf(req, sizeof(req), "%s", cmd);

	if (len < 0 || (size_t)len >= sizeof(req)) {
		fprintf(stderr, "dtcp-ss: the filter is too long\n");
		return NULL;
	}
	if (send(fd, req, (size_t)len, 0) < 0) {
		fprintf(stderr, "dtcp-ss: send: %s\n", strerror(errno));
		return NULL;
	}
	n = recv(fd, buf, REPLY_MAX - 1, 0);
	if (n <= 0) {
		fprintf(stderr, "dtcp-ss: no reply to %s: %s\n", cmd, n < 0 ? strerror(errno) : "connection closed");
		return NULL;
	}
	buf[n] = '\0';
	j = json_parse(buf);
	*val = json_get(j, cmd);
	if (!*val || (*val)->type == JSON_NULL) {
		fprintf(stderr, "dtcp-ss: %s: no answer (is the command known to this process? reply: %.200s)\n", cmd,
		        buf);
		json_free(j);
		return NULL;
	}
	if (json_get(*val, "error") && json_get(*val, "error")->type == JSON_STR) {
		fprintf(stderr, "dtcp-ss: %s\n", json_get(*val, "error")->str);
		json_free(j);
		return NULL;
	}
	return j;
}

static int print_counters(int fd, char *buf)
{
	const struct json *v;
	struct json *j = ask(fd, "/dtcp/counters", NULL, buf, &v);

	if (!j)
		return 1;
	for (int i = 0; v->type == JSON_OBJ && i < v->n; i++)
		printf("%-32s %lld\n", v->keys[i], v->items[i]->num);
	json_free(j);
	return 0;
}

static int print_pools(int fd, char *buf)
{
	const struct json *v;
	struct json *j = ask(fd, "/dtcp/pools", NULL, buf, &v);

	if (!j)
		return 1;
	printf("%-16s %12s %12s %10s %12s %8s\n", "pool", "in_use", "high_water", "failures", "limit", "obj_size");
	for (int i = 0; v->type == JSON_OBJ && i < v->n; i++) {
		const struct json *p = v->items[i];
		const char *f[] = { "in_use", "high_water", "failures", "limit", "obj_size" };
		long long x[5];

		for (int k = 0; k < 5; k++)
			x[k] = json_get(p, f[k]) ? json_get(p, f[k])->num : -1;
		printf("%-16s %12lld %12lld %10lld %12lld %8lld\n", v->keys[i], x[0], x[1], x[2], x[3], x[4]);
	}
	json_free(j);
	return 0;
}

/* One row string: "STATE RECV-Q SEND-Q LOCAL PEER". */
static void print_row(const char *row)
{
	char state[32], local[128], peer[128];
	unsigned rq, sq;

	if (sscanf(row, "%31s %u %u %127s %127s", state, &rq, &sq, local, peer) == 5)
		ss_print_row(stdout, state, rq, sq, local, peer);
	else
		printf("%s\n", row);
}

static int print_ss(int fd, char *buf, const char *expr, long max_rows)
{
	long long shown = 0, matched = 0;
	char params[1024];

	ss_print_header(stdout);
	for (;;) {
		const struct json *v, *rows, *trunc;
		struct json *j;
		int n;

		snprintf(params, sizeof(params), "@%lld %s", shown, expr);
		j = ask(fd, "/dtcp/ss", params, buf, &v);
		if (!j)
			return 1;
		rows = json_get(v, "rows");
		trunc = json_get(v, "truncated");
		matched = json_get(v, "matched") ? json_get(v, "matched")->num : 0;
		n = rows && rows->type == JSON_ARR ? rows->n : 0;
		for (int i = 0; i < n && (max_rows < 0 || shown < max_rows); i++, shown++)
			print_row(rows->items[i]->type == JSON_STR ? rows->items[i]->str : "?");
		json_free(j);
		/* The table changes between pages: a page may repeat or miss a
		 * socket, as ss itself can while the kernel's tables change. */
		if (!trunc || !trunc->num || !n || (max_rows >= 0 && shown >= max_rows))
			break;
	}
	if (matched > shown)
		printf("(%lld of %lld sockets shown)\n", shown, matched);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file-prefix", required_argument, NULL, 'f' }, { "socket", required_argument, NULL, 's' },
		{ "counters", no_argument, NULL, 'c' },         { "pools", no_argument, NULL, 'p' },
		{ "max-rows", required_argument, NULL, 'm' },   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[sizeof(sun.sun_path)] = "/var/run/dpdk/rte/dpdk_telemetry.v2", expr[900] = "", *buf, *end;
	int c, fd, what = 's', rc;
	long max_rows = -1;
	ssize_t n;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!optarg[0] || strchr(optarg, '/') ||
			    snprintf(path, sizeof(path), "/var/run/dpdk/%s/dpdk_telemetry.v2", optarg) >= (int)sizeof(path))
				goto bad;
			break;
		case 's':
			if (snprintf(path, sizeof(path), "%s", optarg) >= (int)sizeof(path))
				goto bad;
			break;
		case 'c':
		case 'p':
			what = c;
			break;
		case 'm':
			max_rows = strtol(optarg, &end, 10);
			if (*end || max_rows < 0)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	for (int i = optind; i < argc; i++) {
		size_t l = strlen(expr);

		if (snprintf(expr + l, sizeof(expr) - l, "%s%s", l ? " " : "", argv[i]) >= (int)(sizeof(expr) - l))
			goto bad;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	memcpy(sun.sun_path, path, sizeof(path));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "dtcp-ss: cannot connect to %s: %s (is the process running, with telemetry?)\n", path,
		        strerror(errno));
		return 1;
	}
	buf = malloc(REPLY_MAX);
	/* DPDK greets with {"version": ..., "pid": ..., "max_output_len": ...}. */
	n = buf ? recv(fd, buf, REPLY_MAX - 1, 0) : -1;
	if (n <= 0) {
		fprintf(stderr, "dtcp-ss: no greeting from %s\n", path);
		free(buf);
		close(fd);
		return 1;
	}
	rc = what == 'c' ? print_counters(fd, buf) : what == 'p' ? print_pools(fd, buf) : print_ss(fd, buf, expr, max_rows);
	free(buf);
	close(fd);
	return rc;
bad:
	usage(stderr);
	return 2;
}

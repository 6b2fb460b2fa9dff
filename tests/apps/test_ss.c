/* dtcp-flows --ss: the `ss -tan` table printed after a run, before the
 * teardown, lists the flows of the filtered port and nothing else, on the
 * dtcp, dpdk and kernel backends; a bad expression is refused at start.
 * Runs the built binary (path in DTCP_FLOWS). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ROWS 4096

struct ss_out {
	char rows[MAX_ROWS][512];
	int n;                 /* table rows after the header */
	bool header;
	bool section;          /* the "$ ss -tan" line was seen */
	int exit_status;
	char err[1024];        /* stderr's first line */
};

static struct ss_out *run(const char *args)
{
	const char *bin = getenv("DTCP_FLOWS");
	struct ss_out *o = calloc(1, sizeof(*o));
	char cmd[1024], line[512], errf[] = "/tmp/dtcp-ss-test-XXXXXX";
	int fd = mkstemp(errf), st;
	bool in = false;
	FILE *p, *e;

	cr_assert_not_null(bin, "DTCP_FLOWS is not set (meson sets it)");
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>%s", bin, args, errf);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	o->exit_status = -1;
	while (fgets(line, sizeof(line), p)) {
		if (!strncmp(line, "$ ss -tan", 9)) {
			in = o->section = true;
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, "released:", 9) || !strncmp(line, "RESULT", 6)) {
			in = false;
			continue;
		}
		if (!strncmp(line, "State", 5)) {
			o->header = strstr(line, "Recv-Q") && strstr(line, "Send-Q") &&
			            strstr(line, "Local Address:Port") && strstr(line, "Peer Address:Port");
			continue;
		}
		cr_assert_lt(o->n, MAX_ROWS);
		snprintf(o->rows[o->n++], sizeof(o->rows[0]), "%s", line);
	}
	st = pclose(p);
	if (st != -1 && WIFEXITED(st))
		o->exit_status = WEXITSTATUS(st);
	e = fopen(errf, "r");
	if (e) {
		if (!fgets(o->err, sizeof(o->err), e))
			o->err[0] = '\0';
		fclose(e);
	}
	unlink(errf);
	return o;
}

/* n ESTAB rows, local `local`, each peer port 44983, peers all different. */
static void check_rows(const struct ss_out *o, long n, const char *local)
{
	static char peers[MAX_ROWS][80];

	cr_assert(o->section, "no ss section");
	cr_assert(o->header, "no ss header line");
	cr_assert_eq(o->n, n, "%d rows, expected %ld", o->n, n);
	for (int i = 0; i < o->n; i++) {
		char state[32], l[80], peer[80];
		unsigned rq, sq;

		cr_assert_eq(sscanf(o->rows[i], "%31s %u %u %79s %79s", state, &rq, &sq, l, peer), 5, "row: %s",
		             o->rows[i]);
		cr_assert_str_eq(state, "ESTAB");
		cr_assert_eq(rq + sq, 0);
		cr_assert_str_eq(l, local);
		cr_assert(strlen(peer) > 6 && !strcmp(peer + strlen(peer) - 6, ":44983"), "peer %s", peer);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(peers[j], peer, "peer %s twice", peer);
		snprintf(peers[i], sizeof(peers[i]), "%s", peer);
	}
}

Test(flows_ss, dtcp_src_port, .timeout = 120)
{
	struct ss_out *o = run("--backend dtcp --num-flows 200 --no-port --range 40000-40000 --ss 'src :40000'");

	cr_assert_eq(o->exit_status, 0);
	check_rows(o, 200, "127.0.0.1:40000");
	free(o);
}

Test(flows_ss, dtcp_ipv6_brackets, .timeout = 120)
{
	struct ss_out *o = run("--backend dtcp --ipv6 --num-flows 50 --no-port --range 40000-40000 "
	                       "--ss 'src [::1]:40000 state established'");

	cr_assert_eq(o->exit_status, 0);
	check_rows(o, 50, "[::1]:40000");
	free(o);
}

Test(flows_ss, dtcp_listener_and_row_cap, .timeout = 120)
{
	struct ss_out *o = run("--backend dtcp --num-flows 200 --no-port --range 40000-40000 "
	                       "--ss 'state listening'");
	char state[32];
	unsigned rq, sq;

	cr_assert_eq(o->exit_status, 0);
	cr_assert_eq(o->n, 1, "one listener");
	cr_assert_eq(sscanf(o->rows[0], "%31s %u %u", state, &rq, &sq), 3);
	cr_assert_str_eq(state, "LISTEN");
	cr_assert_eq(rq, 0, "everything was accepted");
	cr_assert_eq(sq, 65535, "the backlog");
	free(o);
	o = run("--backend dtcp --num-flows 200 --no-port --range 40000-40000 --ss 'dport = :44983' --ss-rows 5");
	cr_assert_eq(o->n, 6, "5 rows and the count line");
	cr_assert(strstr(o->rows[5], "5 of 200"), "%s", o->rows[5]);
	free(o);
}

Test(flows_ss, dpdk_client_stack, .timeout = 180)
{
	struct ss_out *o = run("--backend dpdk --num-flows 200 --no-port --range 40000-40000 --ss 'src :40000'");

	cr_assert_eq(o->exit_status, 0, "%s", o->err);
	check_rows(o, 200, "198.18.0.1:40000");
	free(o);
}

Test(flows_ss, kernel_runs_the_real_ss, .timeout = 180)
{
	struct ss_out *o;

	cr_assert_eq(geteuid(), 0, "the kernel backend needs root (private network namespace)");
	o = run("--backend kernel --num-flows 200 --no-port --range 40000-40000 --ss 'src :40000'");
	cr_assert_eq(o->exit_status, 0, "%s", o->err);
	check_rows(o, 200, "127.0.0.1:40000");
	free(o);
}

Test(flows_ss, bad_expression_refused, .timeout = 60)
{
	struct ss_out *o = run("--backend dtcp --num-flows 10 --ss 'state bogus'");

	cr_assert_eq(o->exit_status, 2);
	cr_assert(!o->section, "nothing ran");
	cr_assert(strstr(o->err, "unknown state: bogus"), "stderr: %s", o->err);
	free(o);
}

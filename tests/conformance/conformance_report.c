/* conformance-report: run every case on every backend, each run in its own
 * child process, and print a markdown table (case | spec | kernel | dtcp)
 * with PASS/FAIL and what was observed, then totals.
 *
 *   conformance-report [case ...]     (default: every case)
 *
 * Exit status 1 if a run failed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

#define RUN_TIMEOUT_S 20
#define CELL_MAX 160   /* characters of observation shown per cell */

enum outcome { OUT_PASS, OUT_FAIL, OUT_SKIP };

struct tally {
	int pass, fail, skip;
};

/* Read exactly len bytes; false on a short read. */
static bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Run in a child: the kernel backend leaves the process in its namespace,
 * and a crash or hang must not take the report with it. false: the child
 * died or timed out (*why says how). */
static bool run_isolated(const struct conf_case *cs, const struct conf_ops *ops,
                         struct conf_result *res, char *why, size_t whylen)
{
	int pfd[2], status;
	pid_t pid;
	bool got;

	if (pipe(pfd) < 0) {
		snprintf(why, whylen, "pipe failed");
		return false;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork failed");
		close(pfd[0]);
		close(pfd[1]);
		return false;
	}
	if (pid == 0) {
		close(pfd[0]);
		alarm(RUN_TIMEOUT_S);
		conf_run(cs, ops, res);
		write_all(pfd[1], res, sizeof(*res));
		_exit(0);
	}
	close(pfd[1]);
	got = read_all(pfd[0], res, sizeof(*res));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (got)
		return true;
	if (WIFSIGNALED(status))
		snprintf(why, whylen, "%s", WTERMSIG(status) == SIGALRM ? "timed out" : strsignal(WTERMSIG(status)));
	else
		snprintf(why, whylen, "exited with status %d", WEXITSTATUS(status));
	return false;
}

/* Markdown-safe copy of s, at most max characters (then "…"). */
static void cell_text(char *out, size_t outlen, const char *s, size_t max)
{
	size_t o = 0, n = 0;

	for (; *s && o + 8 < outlen; s++) {
		if (n == max) {
			o += (size_t)snprintf(out + o, outlen - o, "…");
			break;
		}
		if (*s == '|')
			out[o++] = '\\';
		out[o++] = *s == '\n' ? ' ' : *s;
		n++;
	}
	out[o] = '\0';
}

static enum outcome run_cell(const struct conf_case *cs, const struct conf_ops *ops,
                             char *cell, size_t len)
{
	static struct conf_result res;
	char needs[64], why[64], text[CONF_TEXT_MAX + 64];
	unsigned missing = conf_missing(cs, ops);
	char *nl;

	if (missing) {
		snprintf(cell, len, "SKIP (needs %s)", conf_feature_names(missing, needs, sizeof(needs)));
		return OUT_SKIP;
	}
	if (!run_isolated(cs, ops, &res, why, sizeof(why))) {
		snprintf(cell, len, "FAIL: %s", why);
		return OUT_FAIL;
	}
	if (res.failed == 0) {
		cell_text(text, sizeof(text), res.obs, CELL_MAX);
		snprintf(cell, len, "PASS: %s", text);
		return OUT_PASS;
	}
	nl = strchr(res.fail, '\n');
	if (nl)
		*nl = '\0';
	cell_text(text, sizeof(text), res.fail, 2 * CELL_MAX);
	snprintf(cell, len, "FAIL (%d of %d checks): %s", res.failed, res.checks, text);
	return OUT_FAIL;
}

int main(int argc, char *argv[])
{
	struct tally tally[8] = { 0 };
	struct utsname u;
	char cell[CONF_TEXT_MAX + 128];
	int failed = 0;

	if (uname(&u) < 0)
		strcpy(u.release, "?");
	printf("# dtcp conformance report\n\n");
	printf("Kernel backend: Linux %s (%s), each case in a fresh network namespace.\n", u.release, u.machine);
	printf("dtcp backend: an in-process stack per case, client and server over its own loopback, on a virtual clock.\n\n");
	printf("Cells: PASS with the values the checks observed, in order (cut after %d characters), "
	       "or FAIL with the first failed check; SKIP names the feature the backend lacks.\n\n", CELL_MAX);
	printf("| case | spec |");
	for (size_t b = 0; b < conf_nbackends; b++)
		printf(" %s |", conf_backends[b]->name);
	printf("\n|---|---|");
	for (size_t b = 0; b < conf_nbackends; b++)
		printf("---|");
	printf("\n");

	for (size_t i = 0; i < conf_ncases; i++) {
		const struct conf_case *cs = &conf_cases[i];
		bool wanted = argc < 2;

		for (int a = 1; a < argc; a++)
			wanted |= !strcmp(argv[a], cs->name);
		if (!wanted)
			continue;
		printf("| `%s` | %s |", cs->name, cs->spec);
		for (size_t b = 0; b < conf_nbackends && b < 8; b++) {
			switch (run_cell(cs, conf_backends[b], cell, sizeof(cell))) {
			case OUT_PASS: tally[b].pass++; break;
			case OUT_FAIL: tally[b].fail++; failed = 1; break;
			case OUT_SKIP: tally[b].skip++; break;
			}
			printf(" %s |", cell);
		}
		printf("\n");
	}

	printf("\n| backend | passed | failed | skipped |\n|---|---|---|---|\n");
	for (size_t b = 0; b < conf_nbackends && b < 8; b++)
		printf("| %s | %d | %d | %d |\n", conf_backends[b]->name, tally[b].pass, tally[b].fail,
		       tally[b].skip);
	return failed;
}

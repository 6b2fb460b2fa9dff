/* conformance-report: run every case on every backend, each run in its own
 * child process, and print a markdown table (case | spec | kernel | dtcp |
 * lwip) with PASS/FAIL and what was observed, then totals, then for each
 * comparison-only backend (lwip) its section of differences.md, the reason
 * for each case it fails.
 *
 *   conformance-report [case ...]     (default: every case)
 *
 * Exit status 1 if a run failed on a backend that is not comparison-only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

#define CELL_MAX 160   /* characters of observation shown per cell */

enum outcome { OUT_PASS, OUT_FAIL, OUT_SKIP };

struct tally {
	int pass, fail, skip;
};

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
		snprintf(cell, len, "n/a (needs %s)", conf_feature_names(missing, needs, sizeof(needs)));
		return OUT_SKIP;
	}
	if (!conf_run_isolated(cs, ops, &res, why, sizeof(why))) {
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

/* The reasons file (differences.md, one "- `case`, `case`: reason" line per
 * cause) as the report's section for backend name, then every case that
 * failed there and that no line of the file names. */
static void print_differences(const char *name, char failed_cases[][64], int nfailed)
{
	char path[512], line[8192];
	FILE *f;
	bool in_section = false;
	int missing = 0;

	snprintf(path, sizeof(path), "%s/differences.md", CONF_SOURCE_DIR);
	f = fopen(path, "r");
	printf("\n");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "## ", 3))
			in_section = strcasestr(line, name) != NULL;
		if (in_section)
			fputs(line, stdout);
	}
	for (int i = 0; i < nfailed; i++) {
		char quoted[80];
		bool named = false;

		snprintf(quoted, sizeof(quoted), "`%s`", failed_cases[i]);
		if (f) {
			rewind(f);
			in_section = false;
			while (fgets(line, sizeof(line), f)) {
				if (!strncmp(line, "## ", 3))
					in_section = strcasestr(line, name) != NULL;
				named |= in_section && strstr(line, quoted) != NULL;
			}
		}
		if (!named)
			printf("%s- %s: differs, no reason recorded yet\n", missing++ ? "" : "\n", quoted);
	}
	if (f)
		fclose(f);
}

int main(int argc, char *argv[])
{
	struct tally tally[8] = { 0 };
	static char failed_cases[8][512][64];
	struct utsname u;
	char cell[CONF_TEXT_MAX + 128];
	int failed = 0;

	if (uname(&u) < 0)
		strcpy(u.release, "?");
	printf("# dtcp conformance report\n\n");
	printf("Kernel backend: Linux %s (%s), each case in a fresh network namespace.\n", u.release, u.machine);
	printf("dtcp backend: an in-process stack per case, client and server over its own loopback, on a virtual clock.\n");
	for (size_t b = 0; b < conf_nbackends; b++)
		if (!strcmp(conf_backends[b]->name, "lwip"))
			printf("lwip backend (comparison only, never fails the suite): Debian's liblwip 2.1.3, "
			       "a tcpip thread per case process, client and server over a loopback netif, "
			       "real time, each run killed after %u s.\n", conf_backends[b]->run_timeout_s);
	printf("\nCells: PASS with the values the checks observed, in order (cut after %d characters), "
	       "or FAIL with the first failed check (TIMEOUT / CRASH: the run was killed or died); "
	       "n/a names the feature the backend lacks.\n\n", CELL_MAX);
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
			case OUT_FAIL:
				if (tally[b].fail < 512)
					snprintf(failed_cases[b][tally[b].fail], 64, "%s", cs->name);
				tally[b].fail++;
				/* A comparison backend's failures are what it shows. */
				if (!conf_backends[b]->compare_only)
					failed = 1;
				break;
			case OUT_SKIP: tally[b].skip++; break;
			}
			printf(" %s |", cell);
		}
		printf("\n");
	}

	printf("\n| backend | passed | failed | n/a |\n|---|---|---|---|\n");
	for (size_t b = 0; b < conf_nbackends && b < 8; b++)
		printf("| %s%s | %d | %d | %d |\n", conf_backends[b]->name,
		       conf_backends[b]->compare_only ? " (comparison only)" : "", tally[b].pass, tally[b].fail,
		       tally[b].skip);
	for (size_t b = 0; b < conf_nbackends && b < 8; b++)
		if (conf_backends[b]->compare_only)
			print_differences(conf_backends[b]->name, failed_cases[b],
			                  tally[b].fail < 512 ? tally[b].fail : 512);
	return failed;
}

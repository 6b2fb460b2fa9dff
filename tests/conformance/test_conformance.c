/* The Criterion runner: one test per (case, backend), registered at start-up
 * from the case table, named <backend>::<case> so that a failure names both.
 * Criterion runs each test in its own process, which the kernel backend
 * needs (it unshares the network namespace). A case needing a feature the
 * backend lacks is not registered, and named on stderr.
 *
 * A comparison-only backend (lwip) gets one test instead, <backend>::column:
 * every case in a child process of its own (killed after the backend's
 * timeout), each outcome logged. Its cases' failures, crashes and timeouts
 * are what the column shows and do not fail the test; only a column that
 * could not be produced (fork failed) does.
 *
 * Tests are registered by hand (criterion_register_test) because the case
 * list is data; the trampoline below does what Criterion's Test() macro
 * generates around a test body. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define CONF_TEST_TIMEOUT_S 20.0
/* Runs of a comparison backend under way at once: they mostly wait (on
 * their stack's thread, on timers), so more than the cores. */
#define COLUMN_PARALLEL 8
#define COLUMN_TIMEOUT_S 300.0

static void conf_test_body(void)
{
	const struct conf_case *cs = conf_case_lookup(criterion_current_test->name);
	const struct conf_ops *ops = conf_backend_lookup(criterion_current_test->category);
	struct conf_result res;

	cr_assert(cs && ops, "no case %s for backend %s", criterion_current_test->name,
	          criterion_current_test->category);
	if (conf_run(cs, ops, &res) == 0)
		return;
	for (char *line = strtok(res.fail, "\n"); line; line = strtok(NULL, "\n"))
		cr_log_error("%s::%s: %s", ops->name, cs->name, line);
	cr_assert_fail("%s::%s (spec %s): %d of %d checks failed; observed: %s", ops->name,
	               cs->name, cs->spec, res.failed, res.checks, res.obs);
}

static void column_log(const struct conf_ops *ops, const struct conf_case *cs, bool ran,
                       const struct conf_result *res, const char *why, int *npass, int *nfail)
{
	char first[256];
	size_t n;

	if (ran && res->failed == 0) {
		(*npass)++;
		cr_log_info("%s::%s: PASS: %s", ops->name, cs->name, res->obs);
		return;
	}
	(*nfail)++;
	if (!ran) {
		cr_log_info("%s::%s: FAIL: %s", ops->name, cs->name, why);
		return;
	}
	n = strcspn(res->fail, "\n");
	snprintf(first, sizeof(first), "%.*s", (int)n, res->fail);
	cr_log_info("%s::%s: FAIL (%d of %d checks): %s", ops->name, cs->name, res->failed, res->checks,
	            first);
}

static void conf_column_body(void)
{
	const struct conf_ops *ops = conf_backend_lookup(criterion_current_test->category);
	static struct conf_result res;
	struct { const struct conf_case *cs; pid_t pid; int rfd; } run[COLUMN_PARALLEL];
	int head = 0, busy = 0, npass = 0, nfail = 0, nna = 0, broken = 0;
	char why[64];

	cr_assert(ops, "no backend %s", criterion_current_test->category);
	for (size_t i = 0; i <= conf_ncases; i++) {
		/* Finish the oldest run when the window is full or at the end. */
		while (busy && (busy == COLUMN_PARALLEL || i == conf_ncases)) {
			bool ran = conf_run_finish(run[head].pid, run[head].rfd, &res, why, sizeof(why));

			column_log(ops, run[head].cs, ran, &res, why, &npass, &nfail);
			head = (head + 1) % COLUMN_PARALLEL;
			busy--;
		}
		if (i == conf_ncases)
			break;
		if (conf_missing(&conf_cases[i], ops)) {
			nna++;
			continue;
		}
		int slot = (head + busy) % COLUMN_PARALLEL;

		run[slot].cs = &conf_cases[i];
		run[slot].pid = conf_run_start(&conf_cases[i], ops, &run[slot].rfd);
		if (run[slot].pid < 0) {
			cr_log_error("%s::%s: cannot fork", ops->name, conf_cases[i].name);
			broken++;
			continue;
		}
		busy++;
	}
	cr_log_info("%s column (comparison only): %d PASS, %d FAIL, %d n/a", ops->name, npass, nfail, nna);
	cr_assert_eq(broken, 0, "%d %s runs could not be started", broken, ops->name);
}

static void conf_test_trampoline(void)
{
	criterion_internal_test_setup();
	criterion_internal_test_main(conf_test_body);
	criterion_internal_test_teardown();
}

static void conf_column_trampoline(void)
{
	criterion_internal_test_setup();
	criterion_internal_test_main(conf_column_body);
	criterion_internal_test_teardown();
}

/* The one test of a comparison-only backend (see the top of the file). */
static void column_register(struct criterion_test_set *set, const struct conf_ops *ops,
                            struct criterion_test *t, struct criterion_test_extra_data *x)
{
	char *id;

	/* Criterion's --filter matches "<suite>/<test>". */
	if (asprintf(&id, "%s/column", ops->name) < 0)
		id = NULL;
	*x = (struct criterion_test_extra_data){
		.compiler_ = CR_COMPILER_,
		.lang_ = CR_LANG,
		.kind_ = CR_TEST_NORMAL,
		.identifier_ = id,
		.file_ = "cases.c",
		.line_ = 0,
		.timeout = COLUMN_TIMEOUT_S,
	};
	*t = (struct criterion_test){
		.name = "column",
		.category = ops->name,
		.test = conf_column_trampoline,
		.data = x,
	};
	criterion_register_test(set, t);
}

int main(int argc, char *argv[])
{
	struct criterion_test_set *set = criterion_initialize();
	size_t n = conf_ncases * conf_nbackends;
	struct criterion_test *tests = calloc(n, sizeof(*tests));
	struct criterion_test_extra_data *extra = calloc(n, sizeof(*extra));
	int result = 0;

	if (!tests || !extra) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (size_t b = 0; b < conf_nbackends; b++) {
		if (conf_backends[b]->compare_only) {
			column_register(set, conf_backends[b], &tests[b * conf_ncases], &extra[b * conf_ncases]);
			continue;
		}
		for (size_t i = 0; i < conf_ncases; i++) {
			size_t k = b * conf_ncases + i;
			unsigned missing = conf_missing(&conf_cases[i], conf_backends[b]);
			char *id, needs[64];

			/* A case about something the backend does not have (dtcp has
			 * no UDP) is not a test of it: not registered, and said. */
			if (missing) {
				fprintf(stderr, "conformance: %s/%s not applicable (needs %s)\n", conf_backends[b]->name,
				        conf_cases[i].name, conf_feature_names(missing, needs, sizeof(needs)));
				continue;
			}

			/* Criterion's --filter matches "<suite>/<test>". */
			if (asprintf(&id, "%s/%s", conf_backends[b]->name, conf_cases[i].name) < 0) {
				fprintf(stderr, "out of memory\n");
				return 1;
			}
			extra[k] = (struct criterion_test_extra_data){
				.compiler_ = CR_COMPILER_,
				.lang_ = CR_LANG,
				.kind_ = CR_TEST_NORMAL,
				.identifier_ = id,
				.file_ = "cases.c",
				.line_ = 0,
				.timeout = CONF_TEST_TIMEOUT_S,
			};
			tests[k] = (struct criterion_test){
				.name = conf_cases[i].name,
				.category = conf_backends[b]->name,
				.test = conf_test_trampoline,
				.data = &extra[k],
			};
			criterion_register_test(set, &tests[k]);
		}
	}
	if (criterion_handle_args(argc, argv, true))
		result = !criterion_run_all_tests(set);
	criterion_finalize(set);
	for (size_t k = 0; k < n; k++)
		free((char *)extra[k].identifier_);
	free(extra);
	free(tests);
	return result;
}

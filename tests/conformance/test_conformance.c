/* The Criterion runner: one test per (case, backend), registered at start-up
 * from the case table, named <backend>::<case> so that a failure names both.
 * Criterion runs each test in its own process, which the kernel backend
 * needs (it unshares the network namespace). A case needing a feature the
 * backend lacks is reported as skipped.
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

static void conf_test_trampoline(void)
{
	criterion_internal_test_setup();
	criterion_internal_test_main(conf_test_body);
	criterion_internal_test_teardown();
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

/*
 * The unit-test runner: one Check SRunner over every suite of one link group (core or io), so
 * each group prints one Check summary line. SUITES names a generated header listing
 * PLUMB_SUITE(name) for every tests/<module>/test_<name>.c; each such file defines
 * `Suite *<name>_suite(void)`. CK_RUN_SUITE / CK_RUN_CASE narrow a run as Check documents.
 */
#include <check.h>
#include <stdlib.h>

#define PLUMB_SUITE(name) Suite *name##_suite(void);
#include SUITES
#undef PLUMB_SUITE

int main(void)
{
	SRunner *sr = srunner_create(NULL);
#define PLUMB_SUITE(name) srunner_add_suite(sr, name##_suite());
#include SUITES
#undef PLUMB_SUITE
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Shared helpers for the unit tests. */
#ifndef PLUMB_TESTS_TEST_H
#define PLUMB_TESTS_TEST_H

#include <check.h>
#include <stdlib.h>

/* prototypes of every suite in this link group (see unit_main.c) */
#ifdef SUITES
#define PLUMB_SUITE(name) Suite *name##_suite(void);
#include SUITES
#undef PLUMB_SUITE
#endif

/* Path of a file in the repository, from PLUMB_REPO (set by the Makefile) or "..". */
static inline const char *test_repo(void)
{
	const char *r = getenv("PLUMB_REPO");
	return r ? r : "..";
}

#endif

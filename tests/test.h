/* Shared helpers for the unit tests. */
#ifndef PLUMB_TESTS_TEST_H
#define PLUMB_TESTS_TEST_H

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The JSON value at a path of object keys and [n] indexes ("A.B[0].C"), or NULL. */
static inline json_t *test_json_path(json_t *v, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf; v && *p;) {
		if (*p == '[') {
			char *end;
			long i = strtol(p + 1, &end, 10);
			v = json_array_get(v, (size_t)i);
			p = *end ? end + 1 : end;
		} else {
			size_t n = strcspn(p, ".[");
			char save = p[n];
			p[n] = '\0';
			v = json_object_get(v, p);
			p[n] = save;
			p += n;
		}
		if (*p == '.')
			p++;
	}
	return v;
}

#endif

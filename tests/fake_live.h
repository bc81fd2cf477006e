/* Test support: manifests/examples loaded, and a fake live side made from desired resources
 * (tests/fake_live.c). Shared by the diff and export suites. */
#ifndef PLUMB_TESTS_FAKE_LIVE_H
#define PLUMB_TESTS_FAKE_LIVE_H

#include "diff/diff.h"
#include "manifest/manifest.h"

/* the account and region every fake reply is made in */
#define PLUMB_TEST_ACCT "123456789012"
#define PLUMB_TEST_REGION "us-east-1"

/* set's diagnostics as one text ("\n  file:line: path: msg" each), in a static buffer */
char *plumb_test_diags_text(const struct plumb_manifest_set *set);

/* set initialised and loaded from manifests/examples; fails the test on any error */
void plumb_test_load_examples(struct plumb_manifest_set *set);

/* kind/name of set; fails the test when it is not there */
struct plumb_resource *plumb_test_res(const struct plumb_manifest_set *set, enum plumb_kind k,
				      const char *name);

/* physical name of the scalable target a scaling policy depends on, or NULL */
const char *plumb_test_policy_parent(const struct plumb_resource *r);

/* a new observed resource in PLUMB_TEST_REGION, added to have (live and tags are taken) */
struct plumb_observed *plumb_test_add_observed(struct plumb_observed_set *have, enum plumb_kind k,
					       const char *name, const char *parent, json_t *live,
					       json_t *tags);

/* The reply AWS gives for r once it exists, added to have with r's tags under owner. */
struct plumb_observed *plumb_test_fake_reply(const struct plumb_manifest_set *set,
					     struct plumb_observed_set *have,
					     const struct plumb_resource *r, const char *owner);

/* Every resource of set live as AWS describes it, owned by owner. */
void plumb_test_converge(const struct plumb_manifest_set *set, struct plumb_observed_set *have,
			 const char *owner);

#endif

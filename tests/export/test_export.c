/* pkg/export: live resources back into manifests. The live side is made from real manifests:
 * plumb_test_fake_reply() (tests/fake_live.c, shared with tests/diff) turns a desired resource
 * into the reply AWS gives once it exists (the members the service fills in added, tags as plumb
 * writes them); the export is then read back through the manifest parser and diffed against the
 * same live set. */
#include "diff/diff.h"
#include "export/export.h"
#include "fake_live.h"
#include "manifest/manifest.h"
#include "test.h"

#include <string.h>

#define OWNER "team-a"
#define ACCT PLUMB_TEST_ACCT
#define REGION PLUMB_TEST_REGION

/* ------------------------------------------------------------------ helpers */

static const char *const ALL[] = { NULL };

static void build(struct plumb_export *x, const struct plumb_observed_set *have,
		  const char *const *eps, size_t n)
{
	struct plumb_export_opts o = { .region = REGION, .account = ACCT, .endpoints = eps,
				       .nendpoints = n };
	struct plumb_err err;
	plumb_err_clear(&err);
	plumb_export_init(x);
	int rc = plumb_export_build(x, have, &o, &err);
	ck_assert_msg(rc == 0, "export: %s", err.msg);
}

/* Parses the export's files back into set (every file under one directory). */
static void read_back(const struct plumb_export *x, struct plumb_manifest_set *set)
{
	plumb_manifest_init(set);
	for (size_t i = 0; i < x->files.len; i++) {
		const struct plumb_export_file *f = x->files.items[i];
		char path[300];
		snprintf(path, sizeof(path), "out/%s", f->name);
		ck_assert_int_eq(plumb_manifest_add(set, path, f->yaml, f->len), 0);
	}
	ck_assert_int_eq(plumb_manifest_finish(set), 0);
	ck_assert_msg(plumb_manifest_errors(set) == 0, "export does not validate:%s",
		      plumb_test_diags_text(set));
}

static const char *file_text(const struct plumb_export *x, const char *name)
{
	for (size_t i = 0; i < x->files.len; i++) {
		const struct plumb_export_file *f = x->files.items[i];
		if (strcmp(f->name, name) == 0)
			return f->yaml;
	}
	ck_abort_msg("no file %s", name);
	return NULL;
}

static char *warnings_text(const struct plumb_export *x)
{
	static char buf[8192];
	buf[0] = '\0';
	for (size_t i = 0; i < x->warnings.len; i++) {
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "\n  %s", (const char *)x->warnings.items[i]);
	}
	return buf;
}

/* The diff of set against have finds nothing to do. */
static void assert_no_changes(const struct plumb_manifest_set *set,
			      const struct plumb_observed_set *have, const char *owner)
{
	struct plumb_diff d;
	plumb_diff_init(&d);
	struct plumb_diff_opts o = { .owner = owner, .account = ACCT, .prune = 0 };
	ck_assert_int_eq(plumb_diff_compute(&d, &set->resources, have, &o, NULL), 0);
	for (size_t i = 0; i < d.changes.len; i++) {
		const struct plumb_change *c = d.changes.items[i];
		ck_assert_msg(c->type == PLUMB_CHANGE_NONE || c->type == PLUMB_CHANGE_ORPHAN,
			      "%s %s/%s: %s (%zu deltas%s%s)", plumb_change_type_name(c->type),
			      plumb_kind_name(c->kind), c->name, c->reason ? c->reason : "",
			      c->deltas.len, c->deltas.len ? ", first " : "",
			      c->deltas.len ? ((struct plumb_delta *)c->deltas.items[0])->path : "");
	}
	plumb_diff_release(&d);
}

/* ------------------------------------------------------------------ tests */

/* SNS as the emulator answers: attributes as they were sent (real SNS may re-space JSON
 * policies; then only a re-tag of the topic remains, see topic_policy_respaced). */
static void echo_topic_attributes(const struct plumb_manifest_set *want,
				  struct plumb_observed_set *have)
{
	for (size_t i = 0; i < want->resources.len; i++) {
		const struct plumb_resource *r = want->resources.items[i];
		if (r->kind != PLUMB_KIND_TOPIC)
			continue;
		struct plumb_observed *o = plumb_observed_find(have, r->kind, REGION, r->physical,
							       NULL);
		json_object_update(o->live, json_object_get(r->spec, "Attributes"));
	}
}

START_TEST(examples_round_trip)
{
	struct plumb_manifest_set want, back;
	plumb_test_load_examples(&want);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&want, &have, OWNER);
	echo_topic_attributes(&want, &have);
	struct plumb_export x;
	build(&x, &have, ALL, 0);
	ck_assert_msg(x.warnings.len == 0, "warnings:%s", warnings_text(&x));
	ck_assert_uint_eq(x.counts[PLUMB_KIND_ENDPOINT], 6);
	/* a deployment config AWS reports (LastDeploymentConfig) comes back, alarms by reference */
	const char *bg = file_text(&x, "fraud-scorer.yaml");
	ck_assert_ptr_nonnull(strstr(bg, "alarmRef: fraud-scorer-5xx"));
	ck_assert_ptr_nonnull(strstr(bg, "terminationWaitInSeconds: 900"));
	read_back(&x, &back);
	/* every resource: same physical name and spec hash as the one that made the live one */
	for (size_t i = 0; i < want.resources.len; i++) {
		const struct plumb_resource *w = want.resources.items[i];
		const struct plumb_resource *b = plumb_manifest_find(&back, w->kind, w->name);
		ck_assert_msg(b != NULL, "%s/%s not exported", plumb_kind_name(w->kind), w->name);
		ck_assert_str_eq(b->physical, w->physical);
		if (w->kind != PLUMB_KIND_SCALING_POLICY)
			ck_assert_msg(strcmp(b->hash, w->hash) == 0, "%s/%s hash differs",
				      plumb_kind_name(w->kind), w->name);
	}
	ck_assert_uint_eq(back.resources.len, want.resources.len);
	ck_assert_str_eq(back.owner, OWNER);
	assert_no_changes(&back, &have, OWNER);
	plumb_manifest_release(&back);
	plumb_export_release(&x);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&want);
}
END_TEST

START_TEST(refs_defaults_and_tags)
{
	struct plumb_manifest_set want;
	plumb_test_load_examples(&want);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&want, &have, OWNER);
	echo_topic_attributes(&want, &have);
	/* a tag of one resource only stays in its metadata; aws:* and plumb:* never appear */
	struct plumb_observed *m = plumb_observed_find(&have, PLUMB_KIND_ENDPOINT, REGION,
						       "product-ranker", NULL);
	json_object_set_new(m->tags, "oncall", json_string("ranking"));
	json_object_set_new(m->tags, "aws:cloudformation:stack-name", json_string("x"));
	const char *eps[] = { "product-ranker" };
	struct plumb_export x;
	build(&x, &have, eps, 1);
	ck_assert_uint_eq(x.files.len, 2);
	const char *d = file_text(&x, "defaults.yaml");
	ck_assert_ptr_nonnull(strstr(d, "owner: " OWNER));
	ck_assert_ptr_nonnull(strstr(d, "region: " REGION));
	ck_assert_ptr_nonnull(strstr(d, "accountId: \"" ACCT "\""));
	ck_assert_ptr_nonnull(strstr(d, "team: ml-platform"));
	const char *t = file_text(&x, "product-ranker.yaml");
	static const char *const present[] = {
		"modelRef: product-ranker", "endpointConfigRef: product-ranker",
		"endpointRef: product-ranker", "variantName: primary",
		"{policyRef: product-ranker/latency-step}", "{topicRef: realtime-alerts}",
		"oncall: ranking", "name: latency-step", "scaleInCooldown: 600",
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(present); i++)
		ck_assert_msg(strstr(t, present[i]) != NULL, "missing %s in\n%s", present[i], t);
	static const char *const absent[] = {
		"plumb:", "aws:cloudformation", "arn:aws:sns", "modelName", "endpointConfigName:",
		"initialVariantWeight", "scalableDimension", "roleARN", "suspendedState",
		"__default_policy_ID", "enableCapture", "actionsEnabled", "insufficientDataActions",
		"team: ml-platform", "resourceId", "EndpointName",
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(absent); i++)
		ck_assert_msg(strstr(t, absent[i]) == NULL, "unexpected %s in\n%s", absent[i], t);
	/* durations stay numbers: 1m period is 60 */
	ck_assert_ptr_nonnull(strstr(t, "period: 60"));
	plumb_export_release(&x);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&want);
}
END_TEST

/* SNS handing back a JSON policy with other spacing: the spec hash cannot be matched, the
 * export says so, and the only change left is a re-tag of that topic. */
START_TEST(topic_policy_respaced)
{
	struct plumb_manifest_set want, back;
	plumb_test_load_examples(&want);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&want, &have, OWNER);
	const char *eps[] = { "product-ranker" };
	struct plumb_export x;
	build(&x, &have, eps, 1);
	ck_assert_uint_eq(x.warnings.len, 1);
	ck_assert_ptr_nonnull(strstr(x.warnings.items[0], "Topic realtime-alerts"));
	read_back(&x, &back);
	struct plumb_diff d;
	plumb_diff_init(&d);
	struct plumb_diff_opts o = { .owner = OWNER, .account = ACCT, .prune = 0 };
	ck_assert_int_eq(plumb_diff_compute(&d, &back.resources, &have, &o, NULL), 0);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_TAG], 1);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_UPDATE] + d.counts[PLUMB_CHANGE_CREATE] +
				  d.counts[PLUMB_CHANGE_REPLACE] + d.counts[PLUMB_CHANGE_CONFLICT],
			  0);
	plumb_diff_release(&d);
	plumb_manifest_release(&back);
	plumb_export_release(&x);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&want);
}
END_TEST

static json_t *model_live(const char *name)
{
	return json_pack("{ss ss s{ss s{ss}} ss sf}", "ModelName", name, "ExecutionRoleArn",
			 "arn:aws:iam::" ACCT ":role/exec", "PrimaryContainer", "Image",
			 ACCT ".dkr.ecr.us-east-1.amazonaws.com/legacy:1", "Environment", "A", "1",
			 "ModelArn", "arn:aws:sagemaker:x", "CreationTime", 1795529582.9);
}

/* A stack nobody tagged: names SageMaker holds exactly are pinned, or recovered. */
START_TEST(untagged_names_pinned_or_recovered)
{
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	/* a model named as plumb would name it from this very spec: no pin needed */
	json_t *probe = model_live("x");
	json_object_del(probe, "ModelName");
	json_object_del(probe, "ModelArn");
	json_object_del(probe, "CreationTime");
	char h[65], suffixed[64];
	ck_assert_int_eq(plumb_spec_hash(PLUMB_KIND_MODEL, probe, h), 0);
	json_decref(probe);
	snprintf(suffixed, sizeof(suffixed), "scorer-%.8s", h);
	plumb_test_add_observed(&have, PLUMB_KIND_MODEL, "legacy-model", NULL, model_live("legacy-model"),
		     json_pack("{ss}", "team", "old"));
	plumb_test_add_observed(&have, PLUMB_KIND_MODEL, suffixed, NULL, model_live(suffixed), json_object());
	plumb_test_add_observed(&have, PLUMB_KIND_ENDPOINT_CONFIG, "legacy-config", NULL,
		     json_pack("{s[{ss ss ss si sf} {ss ss ss si sf}] ss}", "ProductionVariants",
			       "VariantName", "a", "ModelName", "legacy-model", "InstanceType",
			       "ml.m5.large", "InitialInstanceCount", 1, "InitialVariantWeight", 1.0,
			       "VariantName", "b", "ModelName", suffixed, "InstanceType",
			       "ml.m5.large", "InitialInstanceCount", 1, "InitialVariantWeight", 1.0,
			       "EndpointConfigName", "legacy-config"),
		     json_object());
	plumb_test_add_observed(&have, PLUMB_KIND_ENDPOINT, "legacy", NULL,
		     json_pack("{ss ss ss}", "EndpointName", "legacy", "EndpointConfigName",
			       "legacy-config", "EndpointStatus", "InService"),
		     json_object());
	const char *eps[] = { "legacy" };
	struct plumb_export x;
	build(&x, &have, eps, 1);
	ck_assert_msg(x.warnings.len == 0, "warnings:%s", warnings_text(&x));
	const char *t = file_text(&x, "legacy.yaml");
	ck_assert_ptr_nonnull(strstr(t, "plumb/physical-name: legacy-model"));
	ck_assert_ptr_nonnull(strstr(t, "plumb/physical-name: legacy-config"));
	ck_assert_ptr_nonnull(strstr(t, "name: scorer\n"));
	ck_assert_ptr_nonnull(strstr(t, "modelRef: scorer"));
	ck_assert_ptr_nonnull(strstr(t, "modelRef: legacy-model"));
	ck_assert_ptr_nonnull(strstr(t, "team: old"));
	ck_assert_ptr_null(strstr(file_text(&x, "defaults.yaml"), "owner:"));
	struct plumb_manifest_set back;
	read_back(&x, &back);
	ck_assert_str_eq(plumb_manifest_find(&back, PLUMB_KIND_MODEL, "legacy-model")->physical,
			 "legacy-model");
	ck_assert_str_eq(plumb_manifest_find(&back, PLUMB_KIND_MODEL, "scorer")->physical,
			 suffixed);
	ck_assert_str_eq(
		plumb_manifest_find(&back, PLUMB_KIND_ENDPOINT_CONFIG, "legacy-config")->physical,
		"legacy-config");
	plumb_manifest_release(&back);
	plumb_export_release(&x);
	plumb_observed_set_release(&have);
}
END_TEST

/* The pin holds only for the spec it was taken from: a changed spec gets a plumb name. */
START_TEST(pin_ends_when_the_spec_changes)
{
	static const char doc[] =
		"apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: legacy\n  annotations:\n"
		"    plumb/physical-name: LegacyModel\n    plumb/spec-hash: \"%s\"\n"
		"spec:\n  executionRoleArn: arn:aws:iam::123456789012:role/exec\n"
		"  primaryContainer: {image: \"%s\"}\n";
	json_t *spec = json_pack("{ss s{ss}}", "ExecutionRoleArn", "arn:aws:iam::" ACCT ":role/exec",
				 "PrimaryContainer", "Image", "img:1");
	char h[65], text[1024];
	ck_assert_int_eq(plumb_spec_hash(PLUMB_KIND_MODEL, spec, h), 0);
	json_decref(spec);
	for (int changed = 0; changed < 2; changed++) {
		snprintf(text, sizeof(text), doc, h, changed ? "img:2" : "img:1");
		struct plumb_manifest_set set;
		plumb_manifest_init(&set);
		ck_assert_int_eq(plumb_manifest_add(&set, "m.yaml", text, strlen(text)), 0);
		ck_assert_int_eq(plumb_manifest_finish(&set), 0);
		ck_assert_msg(plumb_manifest_errors(&set) == 0, "%s", plumb_test_diags_text(&set));
		const struct plumb_resource *r = plumb_manifest_find(&set, PLUMB_KIND_MODEL, "legacy");
		if (!changed) {
			ck_assert_str_eq(r->physical, "LegacyModel");
		} else {
			char want[64];
			snprintf(want, sizeof(want), "legacy-%.8s", r->hash);
			ck_assert_str_eq(r->physical, want);
		}
		plumb_manifest_release(&set);
	}
}
END_TEST

/* An endpoint's deploymentConfig never reaches AWS at create: it is not in its spec hash, so an
 * endpoint exported without it (DescribeEndpoint does not show it) reads back the same. */
START_TEST(endpoint_hash_leaves_out_deployment_config)
{
	static const char *const docs[] = {
		"apiVersion: plumb/v1\nkind: Endpoint\nmetadata: {name: e}\n"
		"spec: {endpointConfigName: c-1}\n",
		"apiVersion: plumb/v1\nkind: Endpoint\nmetadata: {name: e}\n"
		"spec:\n  endpointConfigName: c-1\n  deploymentConfig:\n"
		"    rollingUpdatePolicy:\n      maximumBatchSize: {type: INSTANCE_COUNT, value: 1}\n"
		"      waitIntervalInSeconds: 5m\n",
	};
	char hashes[2][65];
	for (int i = 0; i < 2; i++) {
		struct plumb_manifest_set set;
		plumb_manifest_init(&set);
		ck_assert_int_eq(plumb_manifest_add(&set, "e.yaml", docs[i], strlen(docs[i])), 0);
		ck_assert_int_eq(plumb_manifest_finish(&set), 0);
		ck_assert_msg(plumb_manifest_errors(&set) == 0, "%s", plumb_test_diags_text(&set));
		const struct plumb_resource *r = plumb_manifest_find(&set, PLUMB_KIND_ENDPOINT, "e");
		memcpy(hashes[i], r->hash, 65);
		/* the deployment config itself stays in the spec: UpdateEndpoint sends it */
		ck_assert(!i || json_object_get(r->spec, "DeploymentConfig"));
		plumb_manifest_release(&set);
	}
	ck_assert_str_eq(hashes[0], hashes[1]);
}
END_TEST

START_TEST(unknown_endpoint_and_select)
{
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	/* only listed: the closure asks for it to be described */
	plumb_test_add_observed(&have, PLUMB_KIND_ENDPOINT, "listed", NULL, NULL, NULL);
	plumb_test_add_observed(&have, PLUMB_KIND_ALARM, "some-alarm", NULL, NULL, NULL);
	plumb_test_add_observed(&have, PLUMB_KIND_ALARM, "TargetTracking-endpoint/x-AlarmHigh-1", NULL, NULL,
		     NULL);
	struct plumb_export x;
	plumb_export_init(&x);
	const char *eps[] = { "listed", "nope" };
	struct plumb_export_opts o = { .region = REGION, .account = ACCT, .endpoints = eps,
				       .nendpoints = 2 };
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_export_select(&x, &have, &o, &err), 0);
	ck_assert(!x.complete);
	ck_assert_uint_eq(x.missing.len, 1);
	ck_assert_str_eq(x.missing.items[0], "nope");
	bool ep = false, alarm = false, tt = false;
	for (size_t i = 0; i < x.needs.len; i++) {
		const struct plumb_export_need *n = x.needs.items[i];
		ep |= n->kind == PLUMB_KIND_ENDPOINT && strcmp(n->name, "listed") == 0;
		alarm |= n->kind == PLUMB_KIND_ALARM && strcmp(n->name, "some-alarm") == 0;
		tt |= strncmp(n->name, "TargetTracking-", 15) == 0;
	}
	ck_assert(ep && !tt);
	(void)alarm; /* alarms are wanted once an endpoint is described */
	ck_assert_int_eq(plumb_export_build(&x, &have, &o, &err), PLUMB_ENOENT);
	/* a config whose model is gone: exported with the name as written, and a warning */
	plumb_test_add_observed(&have, PLUMB_KIND_ENDPOINT, "orphaned", NULL,
		     json_pack("{ss ss}", "EndpointName", "orphaned", "EndpointConfigName", "cfg"),
		     json_object());
	plumb_test_add_observed(&have, PLUMB_KIND_ENDPOINT_CONFIG, "cfg", NULL,
		     json_pack("{s[{ss ss ss si}]}", "ProductionVariants", "VariantName", "a",
			       "ModelName", "deleted-model", "InstanceType", "ml.m5.large",
			       "InitialInstanceCount", 1),
		     json_object());
	const char *one[] = { "orphaned" };
	struct plumb_export y;
	build(&y, &have, one, 1);
	ck_assert(y.complete);
	ck_assert_uint_eq(y.warnings.len, 1);
	ck_assert_ptr_nonnull(strstr(y.warnings.items[0], "Model deleted-model is used by orphaned"));
	ck_assert_ptr_nonnull(strstr(file_text(&y, "orphaned.yaml"), "modelName: deleted-model"));
	plumb_export_release(&y);
	ck_assert_ptr_nonnull(strstr(err.msg, "no endpoint named nope in " REGION));
	o.region = NULL;
	ck_assert_int_eq(plumb_export_build(&x, &have, &o, &err), PLUMB_EINVAL);
	plumb_export_release(&x);
	plumb_observed_set_release(&have);
}
END_TEST

Suite *export_suite(void)
{
	Suite *s = suite_create("export");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, examples_round_trip);
	tcase_add_test(tc, refs_defaults_and_tags);
	tcase_add_test(tc, topic_policy_respaced);
	tcase_add_test(tc, untagged_names_pinned_or_recovered);
	tcase_add_test(tc, pin_ends_when_the_spec_changes);
	tcase_add_test(tc, endpoint_hash_leaves_out_deployment_config);
	tcase_add_test(tc, unknown_endpoint_and_select);
	suite_add_tcase(s, tc);
	return s;
}

/* pkg/diff: desired × observed. Desired resources come from the real manifest parser over inline
 * YAML (and over manifests/examples); live resources are Describe replies written the way the
 * emulator and AWS answer, either by hand or by plumb_test_fake_reply() (tests/fake_live.c),
 * which turns a desired resource into the reply AWS would give once it exists (adding the members
 * the service fills in). */
#include "diff/diff.h"
#include "fake_live.h"
#include "manifest/manifest.h"
#include "test.h"

#include <string.h>

#define OWNER "team-a"
#define ACCT PLUMB_TEST_ACCT
#define REGION PLUMB_TEST_REGION
#define SLR                                                                                \
	"arn:aws:iam::" ACCT ":role/aws-service-role/sagemaker.application-autoscaling."   \
	"amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"

/* ------------------------------------------------------------------ desired side */

#define DEFAULTS                                                                           \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: Defaults\n"                                                                 \
	"metadata: {name: d}\n"                                                            \
	"spec:\n"                                                                          \
	"  region: " REGION "\n"                                                           \
	"  accountId: \"" ACCT "\"\n"                                                      \
	"  owner: " OWNER "\n"                                                             \
	"  tags: {team: a}\n"                                                              \
	"---\n"

#define MODEL(image)                                                                       \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: Model\n"                                                                    \
	"metadata: {name: ranker}\n"                                                       \
	"spec:\n"                                                                          \
	"  executionRoleArn: arn:aws:iam::" ACCT ":role/exec\n"                            \
	"  primaryContainer:\n"                                                            \
	"    image: " ACCT ".dkr.ecr.us-east-1.amazonaws.com/ranker:" image "\n"           \
	"    environment: {LOG_LEVEL: info}\n"                                             \
	"---\n"

#define CONFIG                                                                             \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: EndpointConfig\n"                                                           \
	"metadata: {name: ranker}\n"                                                       \
	"spec:\n"                                                                          \
	"  productionVariants:\n"                                                          \
	"    - variantName: primary\n"                                                     \
	"      modelRef: ranker\n"                                                         \
	"      instanceType: ml.c5.xlarge\n"                                               \
	"      initialInstanceCount: 2\n"                                                  \
	"  asyncInferenceConfig:\n"                                                        \
	"    outputConfig:\n"                                                              \
	"      s3OutputPath: s3://bucket/out/\n"                                           \
	"      notificationConfig:\n"                                                      \
	"        successTopicRef: alerts\n"                                                \
	"---\n"

#define ENDPOINT                                                                           \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: Endpoint\n"                                                                 \
	"metadata: {name: ranker}\n"                                                       \
	"spec:\n"                                                                          \
	"  endpointConfigRef: ranker\n"                                                    \
	"---\n"

#define TARGET                                                                             \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: ScalableTarget\n"                                                           \
	"metadata: {name: ranker}\n"                                                       \
	"spec:\n"                                                                          \
	"  endpointRef: ranker\n"                                                          \
	"  variantName: primary\n"                                                         \
	"  minCapacity: 1\n"                                                               \
	"  maxCapacity: 4\n"                                                               \
	"  policies:\n"                                                                    \
	"    - name: step\n"                                                               \
	"      policyType: StepScaling\n"                                                  \
	"      stepScalingPolicyConfiguration:\n"                                          \
	"        adjustmentType: ChangeInCapacity\n"                                       \
	"        stepAdjustments:\n"                                                       \
	"          - {metricIntervalLowerBound: 0, scalingAdjustment: 1}\n"                \
	"    - name: backlog\n"                                                            \
	"      expression: \"ApproximateBacklogSizePerInstance average = 5\"\n"            \
	"---\n"

#define ALARM(extra)                                                                       \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: Alarm\n"                                                                    \
	"metadata: {name: latency}\n"                                                      \
	"spec:\n"                                                                          \
	"  endpointRef: ranker\n"                                                          \
	"  variantName: primary\n"                                                         \
	"  expression: \"ModelLatency average > 500000\"\n"                                \
	"  period: 1m\n"                                                                   \
	"  evaluationPeriods: 3\n"                                                         \
	"  alarmActions:\n"                                                                \
	"    - policyRef: ranker/step\n"                                                   \
	"    - topicRef: alerts\n" extra "---\n"

#define TOPIC(extra)                                                                       \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: Topic\n"                                                                    \
	"metadata: {name: alerts}\n"                                                       \
	"spec:\n"                                                                          \
	"  attributes:\n"                                                                  \
	"    DisplayName: ranker alerts\n"                                                 \
	"    DeliveryPolicy: '{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":5,"  \
	"\"minDelayTarget\":20,\"maxDelayTarget\":20}}}'\n" extra "---\n"

#define STACK DEFAULTS MODEL("1.0") CONFIG ENDPOINT TARGET ALARM("") TOPIC("")

static const char *diags_text(const struct plumb_manifest_set *set)
{
	static char buf[4096];
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < set->diags.len && off < sizeof(buf) - 1; i++) {
		const struct plumb_diag *d = set->diags.items[i];
		int n = snprintf(buf + off, sizeof(buf) - off, "\n  %u:%u %s: %s", d->loc.line,
				 d->loc.col, d->path, d->msg);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

static void load(struct plumb_manifest_set *set, const char *yaml)
{
	plumb_manifest_init(set);
	ck_assert_int_eq(plumb_manifest_add(set, "test.yaml", yaml, strlen(yaml)), 0);
	ck_assert_int_eq(plumb_manifest_finish(set), 0);
	ck_assert_msg(plumb_manifest_errors(set) == 0, "manifest errors:%s", diags_text(set));
}

static struct plumb_observed *live_of(const struct plumb_observed_set *have,
				      const struct plumb_resource *r)
{
	const char *parent =
		r->kind == PLUMB_KIND_SCALING_POLICY ? plumb_test_policy_parent(r) : NULL;
	struct plumb_observed *o = plumb_observed_find(have, r->kind, r->region, r->physical,
						       parent);
	ck_assert_ptr_nonnull(o);
	return o;
}

/* ------------------------------------------------------------------ running a diff */

static struct plumb_diff_opts opts(void)
{
	return (struct plumb_diff_opts){ .owner = OWNER, .account = ACCT, .prune = 0 };
}

static void run(struct plumb_diff *d, const struct plumb_manifest_set *set,
		const struct plumb_observed_set *have, struct plumb_diff_opts o)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	plumb_diff_init(d);
	int rc = plumb_diff_compute(d, &set->resources, have, &o, &err);
	ck_assert_msg(rc == 0, "diff failed: %s", err.msg);
}

static const char *describe(const struct plumb_diff *d)
{
	static char buf[16384];
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < d->changes.len && off < sizeof(buf) - 1; i++) {
		const struct plumb_change *c = d->changes.items[i];
		int n = snprintf(buf + off, sizeof(buf) - off, "\n  %s %s %s (%s)",
				 plumb_change_type_name(c->type), plumb_kind_name(c->kind),
				 c->name, c->reason ? c->reason : "");
		for (size_t j = 0; n > 0 && j < c->deltas.len; j++) {
			off += (size_t)n;
			const struct plumb_delta *dl = c->deltas.items[j];
			char *o = dl->old ? json_dumps(dl->old, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
			char *w = dl->new ? json_dumps(dl->new, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
			n = off < sizeof(buf) ? snprintf(buf + off, sizeof(buf) - off,
							 "\n    %s%s %s: %s -> %s",
							 dl->info ? "(info) " : "",
							 dl->forces_replace ? "(replace)" : "", dl->path,
							 o ? o : "-", w ? w : "-")
					      : 0;
			free(o);
			free(w);
		}
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

static const struct plumb_change *change(const struct plumb_diff *d, enum plumb_kind k,
					 const char *name)
{
	for (size_t i = 0; i < d->changes.len; i++) {
		const struct plumb_change *c = d->changes.items[i];
		if (c->kind == k && strcmp(c->name, name) == 0)
			return c;
	}
	ck_abort_msg("no change for %s/%s in:%s", plumb_kind_name(k), name, describe(d));
	return NULL;
}

static const struct plumb_delta *delta(const struct plumb_change *c, const char *path)
{
	for (size_t i = 0; i < c->deltas.len; i++) {
		const struct plumb_delta *dl = c->deltas.items[i];
		if (strcmp(dl->path, path) == 0)
			return dl;
	}
	return NULL;
}

static void expect_type(const struct plumb_diff *d, enum plumb_kind k, const char *name,
			enum plumb_change_type t)
{
	const struct plumb_change *c = change(d, k, name);
	ck_assert_msg(c->type == t, "%s/%s is %s, want %s:%s", plumb_kind_name(k), name,
		      plumb_change_type_name(c->type), plumb_change_type_name(t), describe(d));
}

static void expect_only(const struct plumb_diff *d, enum plumb_change_type t)
{
	for (size_t i = 0; i < d->changes.len; i++) {
		const struct plumb_change *c = d->changes.items[i];
		ck_assert_msg(c->type == t, "%s %s is %s, want all %s:%s", plumb_kind_name(c->kind),
			      c->name, plumb_change_type_name(c->type), plumb_change_type_name(t),
			      describe(d));
	}
}

static size_t n_desired(const struct plumb_manifest_set *set)
{
	size_t n = 0;
	for (size_t i = 0; i < set->resources.len; i++)
		n += ((const struct plumb_resource *)set->resources.items[i])->kind !=
		     PLUMB_KIND_DEFAULTS;
	return n;
}

static bool json_text_is(const json_t *v, const char *text)
{
	json_t *x = json_loads(text, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(x);
	bool eq = v && (json_is_number(v) && json_is_number(x)
				? json_number_value(v) == json_number_value(x)
				: json_equal((json_t *)v, x));
	json_decref(x);
	return eq;
}

/* One field delta at path, with old and new given as JSON text ("-" = absent). */
static void expect_delta(const struct plumb_change *c, const char *path, const char *aws_path,
			 const char *old, const char *new, bool info, bool replace)
{
	const struct plumb_delta *dl = delta(c, path);
	ck_assert_msg(dl != NULL, "no delta at %s", path);
	ck_assert_str_eq(dl->aws_path, aws_path);
	if (strcmp(old, "-") == 0)
		ck_assert_ptr_null(dl->old);
	else
		ck_assert_msg(json_text_is(dl->old, old), "%s: old is not %s", path, old);
	if (strcmp(new, "-") == 0)
		ck_assert_ptr_null(dl->new);
	else
		ck_assert_msg(json_text_is(dl->new, new), "%s: new is not %s", path, new);
	ck_assert_int_eq(dl->info, info);
	ck_assert_int_eq(dl->forces_replace, replace);
}

/* ------------------------------------------------------------------ tests */

START_TEST(empty_account_creates_everything)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	struct plumb_diff d;
	run(&d, &set, &have, opts());
	ck_assert_uint_eq(d.changes.len, n_desired(&set));
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_CREATE], n_desired(&set));
	expect_only(&d, PLUMB_CHANGE_CREATE);
	ck_assert(plumb_diff_has_changes(&d));
	/* desired order is kept */
	size_t j = 0;
	for (size_t i = 0; i < set.resources.len; i++) {
		const struct plumb_resource *r = set.resources.items[i];
		if (r->kind == PLUMB_KIND_DEFAULTS)
			continue;
		const struct plumb_change *c = d.changes.items[j++];
		ck_assert_ptr_eq(c->want, r);
		ck_assert_ptr_null(c->have);
		ck_assert_uint_eq(c->deltas.len, 0);
		ck_assert_str_eq(c->region, REGION);
		ck_assert_str_eq(c->physical, r->physical);
		if (r->kind == PLUMB_KIND_SCALING_POLICY) {
			ck_assert_ptr_null(c->tags);
			ck_assert_str_eq(c->parent, "endpoint/ranker/variant/primary");
		} else {
			ck_assert_str_eq(json_string_value(json_object_get(c->tags, "plumb:owner")),
					 OWNER);
			ck_assert_str_eq(json_string_value(json_object_get(c->tags, "plumb:spec-hash")),
					 r->hash);
			ck_assert_str_eq(json_string_value(json_object_get(c->tags, "team")), "a");
			ck_assert_ptr_null(c->parent);
		}
	}
	/* the topic reference is resolved even before the topic exists (its ARN is known) */
	const struct plumb_change *cfg = change(&d, PLUMB_KIND_ENDPOINT_CONFIG, "ranker");
	json_t *succ = json_object_get(
		json_object_get(json_object_get(json_object_get(cfg->spec, "AsyncInferenceConfig"),
						"OutputConfig"),
				"NotificationConfig"),
		"SuccessTopic");
	ck_assert_str_eq(json_string_value(succ), "arn:aws:sns:us-east-1:123456789012:alerts");
	/* the policy reference cannot be: the marker stays */
	const struct plumb_change *al = change(&d, PLUMB_KIND_ALARM, "latency");
	json_t *acts = json_object_get(al->spec, "AlarmActions");
	ck_assert_str_eq(plumb_ref_marker_target(json_array_get(acts, 0)),
			 "ScalingPolicy/ranker/step");
	ck_assert_str_eq(json_string_value(json_array_get(acts, 1)),
			 "arn:aws:sns:us-east-1:123456789012:alerts");
	plumb_diff_release(&d);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(converged_stack_has_no_changes)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	struct plumb_diff d;
	run(&d, &set, &have, opts());
	ck_assert_uint_eq(d.changes.len, n_desired(&set));
	expect_only(&d, PLUMB_CHANGE_NONE);
	for (size_t i = 0; i < d.changes.len; i++)
		ck_assert_uint_eq(((struct plumb_change *)d.changes.items[i])->deltas.len, 0);
	ck_assert(!plumb_diff_has_changes(&d));
	/* the policy reference now resolves to the live ARN */
	const struct plumb_change *al = change(&d, PLUMB_KIND_ALARM, "latency");
	const char *arn = json_string_value(json_array_get(json_object_get(al->spec, "AlarmActions"), 0));
	ck_assert_ptr_nonnull(arn);
	ck_assert_ptr_nonnull(strstr(arn, ":policyName/step"));
	plumb_diff_release(&d);

	/* with show_info the unmanaged live fields appear, as info only */
	struct plumb_diff_opts o = opts();
	o.show_info = true;
	run(&d, &set, &have, o);
	expect_only(&d, PLUMB_CHANGE_NONE);
	size_t infos = 0;
	for (size_t i = 0; i < d.changes.len; i++) {
		const struct plumb_change *c = d.changes.items[i];
		for (size_t j = 0; j < c->deltas.len; j++) {
			const struct plumb_delta *dl = c->deltas.items[j];
			ck_assert_msg(dl->info, "not info: %s", dl->path);
			infos++;
		}
	}
	ck_assert_uint_gt(infos, 0);
	const struct plumb_change *t = change(&d, PLUMB_KIND_TOPIC, "alerts");
	ck_assert_ptr_nonnull(delta(t, "attributes.Policy"));
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(examples_converged_do_not_diff)
{
	struct plumb_manifest_set set;
	plumb_test_load_examples(&set);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, set.owner);
	struct plumb_diff_opts o = { .owner = set.owner, .account = set.account, .prune = 1 };
	struct plumb_diff d;
	run(&d, &set, &have, o);
	ck_assert_uint_eq(d.changes.len, n_desired(&set));
	expect_only(&d, PLUMB_CHANGE_NONE);
	for (size_t i = 0; i < d.changes.len; i++) {
		const struct plumb_change *c = d.changes.items[i];
		ck_assert_msg(c->deltas.len == 0, "deltas:%s", describe(&d));
		/* every reference resolves once everything is live */
		char *text = json_dumps(c->spec, JSON_COMPACT);
		ck_assert_msg(!strstr(text, "plumb:ref"), "unresolved: %s", text);
		free(text);
	}
	ck_assert(!plumb_diff_has_changes(&d));
	plumb_diff_release(&d);

	/* the comparison itself finds nothing on the immutable kinds (not even info), so the
	 * spec-hash tag is not what keeps them quiet */
	o.show_info = true;
	run(&d, &set, &have, o);
	for (size_t i = 0; i < d.changes.len; i++) {
		const struct plumb_change *c = d.changes.items[i];
		if (c->kind != PLUMB_KIND_TOPIC)
			ck_assert_msg(c->deltas.len == 0, "%s %s:%s", plumb_kind_name(c->kind),
				      c->name, describe(&d));
	}
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

/* One field of one live reply changed by hand, and what the diff must say. */
struct field_case {
	const char *name;           /* what the case shows */
	enum plumb_kind kind;       /* which resource of STACK */
	const char *res;            /* its manifest name */
	const char *set;            /* path into its live reply, "A.B[0].C" */
	const char *value;          /* JSON text to put there, NULL = delete the member */
	enum plumb_change_type want; /* the change type */
	const char *path;           /* the delta, or NULL for none at all */
	const char *aws_path;
	const char *old, *new;      /* JSON text, "-" = absent */
	bool info, replace;
	bool hand_made;             /* live without our plumb:spec-hash tag (made by hand) */
};

static const struct field_case field_cases[] = {
	{ "scalar", PLUMB_KIND_ALARM, "latency", "Threshold", "400000.0", PLUMB_CHANGE_UPDATE,
	  "threshold", "Threshold", "400000.0", "500000.0", false, false, false },
	{ "1 == 1.0", PLUMB_KIND_ALARM, "latency", "Threshold", "500000", PLUMB_CHANGE_NONE, NULL,
	  NULL, NULL, NULL, false, false, false },
	{ "integer as real", PLUMB_KIND_SCALABLE_TARGET, "ranker", "MaxCapacity", "4.0",
	  PLUMB_CHANGE_NONE, NULL, NULL, NULL, NULL, false, false, false },
	{ "nested, moved from default", PLUMB_KIND_SCALABLE_TARGET, "ranker",
	  "SuspendedState.DynamicScalingInSuspended", "true", PLUMB_CHANGE_UPDATE,
	  "suspendedState.dynamicScalingInSuspended", "SuspendedState.DynamicScalingInSuspended",
	  "true", "false", false, false, false },
	{ "default absent live", PLUMB_KIND_ALARM, "latency", "ActionsEnabled", NULL,
	  PLUMB_CHANGE_NONE, NULL, NULL, NULL, NULL, false, false, false },
	{ "moved from default", PLUMB_KIND_ALARM, "latency", "ActionsEnabled", "false",
	  PLUMB_CHANGE_UPDATE, "actionsEnabled", "ActionsEnabled", "false", "true", false, false, false },
	{ "treatMissingData default", PLUMB_KIND_ALARM, "latency", "TreatMissingData",
	  "\"breaching\"", PLUMB_CHANGE_UPDATE, "treatMissingData", "TreatMissingData",
	  "\"breaching\"", "\"missing\"", false, false, false },
	{ "empty list == absent", PLUMB_KIND_ALARM, "latency", "OKActions", NULL,
	  PLUMB_CHANGE_NONE, NULL, NULL, NULL, NULL, false, false, false },
	{ "unmanaged list", PLUMB_KIND_ALARM, "latency", "OKActions", "[\"arn:aws:sns:x\"]",
	  PLUMB_CHANGE_NONE, "okActions", "OKActions", "[\"arn:aws:sns:x\"]", "-", true, false, false },
	{ "unmanaged scalar", PLUMB_KIND_ALARM, "latency", "Unit", "\"Microseconds\"",
	  PLUMB_CHANGE_NONE, "unit", "Unit", "\"Microseconds\"", "-", true, false, false },
	{ "set order ignored", PLUMB_KIND_ALARM, "latency", "Dimensions",
	  "[{\"Name\":\"VariantName\",\"Value\":\"primary\"},"
	  "{\"Name\":\"EndpointName\",\"Value\":\"ranker\"}]",
	  PLUMB_CHANGE_NONE, NULL, NULL, NULL, NULL, false, false, false },
	{ "set member changed", PLUMB_KIND_ALARM, "latency", "Dimensions",
	  "[{\"Name\":\"EndpointName\",\"Value\":\"other\"},"
	  "{\"Name\":\"VariantName\",\"Value\":\"primary\"}]",
	  PLUMB_CHANGE_UPDATE, "dimensions", "Dimensions",
	  "[{\"Name\":\"EndpointName\",\"Value\":\"other\"},"
	  "{\"Name\":\"VariantName\",\"Value\":\"primary\"}]",
	  "[{\"Name\":\"EndpointName\",\"Value\":\"ranker\"},"
	  "{\"Name\":\"VariantName\",\"Value\":\"primary\"}]",
	  false, false, false },
	{ "list item (immutable)", PLUMB_KIND_ENDPOINT_CONFIG, "ranker",
	  "ProductionVariants[0].InstanceType", "\"ml.c5.2xlarge\"", PLUMB_CHANGE_REPLACE,
	  "productionVariants[0].instanceType", "ProductionVariants[0].InstanceType",
	  "\"ml.c5.2xlarge\"", "\"ml.c5.xlarge\"", false, true, true },
	{ "service default weight", PLUMB_KIND_ENDPOINT_CONFIG, "ranker",
	  "ProductionVariants[0].InitialVariantWeight", "1", PLUMB_CHANGE_NONE, NULL, NULL, NULL,
	  NULL, false, false, false },
	{ "extra list item", PLUMB_KIND_ENDPOINT_CONFIG, "ranker", "ProductionVariants[1]",
	  "{\"VariantName\":\"b\",\"ModelName\":\"m\"}", PLUMB_CHANGE_REPLACE,
	  "productionVariants[1]", "ProductionVariants[1]",
	  "{\"VariantName\":\"b\",\"ModelName\":\"m\"}", "-", false, true, true },
	{ "map entry added live", PLUMB_KIND_MODEL, "ranker", "PrimaryContainer.Environment.DEBUG",
	  "\"1\"", PLUMB_CHANGE_REPLACE, "primaryContainer.environment.DEBUG",
	  "PrimaryContainer.Environment.DEBUG", "\"1\"", "-", false, true, true },
	{ "map entry changed", PLUMB_KIND_MODEL, "ranker", "PrimaryContainer.Environment.LOG_LEVEL",
	  "\"debug\"", PLUMB_CHANGE_REPLACE, "primaryContainer.environment.LOG_LEVEL",
	  "PrimaryContainer.Environment.LOG_LEVEL", "\"debug\"", "\"info\"", false, true, true },
	{ "immutable made from this spec", PLUMB_KIND_MODEL, "ranker",
	  "PrimaryContainer.Environment.LOG_LEVEL", "\"debug\"", PLUMB_CHANGE_NONE,
	  "primaryContainer.environment.LOG_LEVEL", "PrimaryContainer.Environment.LOG_LEVEL",
	  "\"debug\"", "\"info\"", true, false, false },
	{ "unmanaged model member", PLUMB_KIND_MODEL, "ranker", "VpcConfig",
	  "{\"SecurityGroupIds\":[\"sg-1\"],\"Subnets\":[\"subnet-1\"]}", PLUMB_CHANGE_NONE,
	  "vpcConfig.securityGroupIds", "VpcConfig.SecurityGroupIds", "[\"sg-1\"]", "-", true,
	  false, false },
	{ "endpoint config switch", PLUMB_KIND_ENDPOINT, "ranker", "EndpointConfigName",
	  "\"ranker-00000000\"", PLUMB_CHANGE_UPDATE, "endpointConfigName", "EndpointConfigName",
	  "\"ranker-00000000\"", NULL, false, false, false },
	{ "endpoint counts never compared", PLUMB_KIND_ENDPOINT, "ranker",
	  "ProductionVariants[0].DesiredInstanceCount", "7", PLUMB_CHANGE_NONE, NULL, NULL, NULL,
	  NULL, false, false, false },
	{ "topic attribute", PLUMB_KIND_TOPIC, "alerts", "DisplayName", "\"other\"",
	  PLUMB_CHANGE_UPDATE, "attributes.DisplayName", "Attributes.DisplayName", "\"other\"",
	  "\"ranker alerts\"", false, false, false },
	{ "topic JSON attribute reformatted", PLUMB_KIND_TOPIC, "alerts", "DeliveryPolicy",
	  "\"{ \\\"http\\\": {\\\"defaultHealthyRetryPolicy\\\": {\\\"maxDelayTarget\\\": 20.0, "
	  "\\\"minDelayTarget\\\": 20, \\\"numRetries\\\": 5}}}\"",
	  PLUMB_CHANGE_NONE, NULL, NULL, NULL, NULL, false, false, false },
	{ "topic JSON attribute changed", PLUMB_KIND_TOPIC, "alerts", "DeliveryPolicy",
	  "\"{\\\"http\\\":{\\\"defaultHealthyRetryPolicy\\\":{\\\"numRetries\\\":3}}}\"",
	  PLUMB_CHANGE_UPDATE, "attributes.DeliveryPolicy", "Attributes.DeliveryPolicy",
	  "\"{\\\"http\\\":{\\\"defaultHealthyRetryPolicy\\\":{\\\"numRetries\\\":3}}}\"", NULL,
	  false, false, false },
	{ "topic unset attribute is info", PLUMB_KIND_TOPIC, "alerts", "KmsMasterKeyId",
	  "\"alias/aws/sns\"", PLUMB_CHANGE_NONE, "attributes.KmsMasterKeyId",
	  "Attributes.KmsMasterKeyId", "\"alias/aws/sns\"", "-", true, false, false },
	{ "topic FIFO forces replace", PLUMB_KIND_TOPIC, "alerts", "FifoTopic", "\"true\"",
	  PLUMB_CHANGE_REPLACE, "attributes.FifoTopic", "Attributes.FifoTopic", "\"true\"",
	  "\"false\"", false, true, false },
	{ "topic FIFO default", PLUMB_KIND_TOPIC, "alerts", "FifoTopic", "\"false\"",
	  PLUMB_CHANGE_NONE, NULL, NULL, NULL, NULL, false, false, false },
	{ "target dimension forces replace", PLUMB_KIND_SCALABLE_TARGET, "ranker",
	  "ScalableDimension", "\"sagemaker:variant:DesiredProvisionedConcurrency\"",
	  PLUMB_CHANGE_REPLACE, "scalableDimension", "ScalableDimension",
	  "\"sagemaker:variant:DesiredProvisionedConcurrency\"",
	  "\"sagemaker:variant:DesiredInstanceCount\"", false, true, false },
	{ "target role substituted", PLUMB_KIND_SCALABLE_TARGET, "ranker", "RoleARN",
	  "\"arn:aws:iam::123456789012:role/aws-service-role/x/y\"", PLUMB_CHANGE_NONE, NULL, NULL,
	  NULL, NULL, false, false, false },
	{ "policy nested", PLUMB_KIND_SCALING_POLICY, "ranker/backlog",
	  "TargetTrackingScalingPolicyConfiguration.TargetValue", "4", PLUMB_CHANGE_UPDATE,
	  "targetTrackingScalingPolicyConfiguration.targetValue",
	  "TargetTrackingScalingPolicyConfiguration.TargetValue", "4", "5", false, false, false },
	{ "policy list item", PLUMB_KIND_SCALING_POLICY, "ranker/step",
	  "StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment", "2",
	  PLUMB_CHANGE_UPDATE, "stepScalingPolicyConfiguration.stepAdjustments[0].scalingAdjustment",
	  "StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment", "2", "1", false,
	  false, false },
	{ "policy default aggregation", PLUMB_KIND_SCALING_POLICY, "ranker/step",
	  "StepScalingPolicyConfiguration.MetricAggregationType", "\"Average\"", PLUMB_CHANGE_NONE,
	  NULL, NULL, NULL, NULL, false, false, false },
};

/* Sets (or with value NULL deletes) the member at path "A.B[0].C" of v. */
static void jset(json_t *v, const char *path, const char *value)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	char *last = strrchr(buf, '.');
	char *lb = strrchr(buf, '[');
	json_t *parent = v;
	char *leaf = buf;
	bool index = lb && (!last || lb > last);
	char *cut = index ? lb : last;
	if (cut) {
		*cut = '\0';
		leaf = cut + 1;
		parent = test_json_path(v, buf);
	}
	ck_assert_msg(parent != NULL, "no parent for %s", path);
	json_t *x = value ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
	ck_assert(!value || x);
	if (index) {
		size_t i = strtoul(leaf, NULL, 10);
		if (i < json_array_size(parent))
			json_array_set_new(parent, i, x);
		else
			json_array_append_new(parent, x);
	} else if (x) {
		json_object_set_new(parent, leaf, x);
	} else {
		json_object_del(parent, leaf);
	}
}

START_TEST(field_changes)
{
	const struct field_case *fc = &field_cases[_i];
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	struct plumb_observed *o = live_of(&have, plumb_test_res(&set, fc->kind, fc->res));
	jset(o->live, fc->set, fc->value);
	if (fc->hand_made)
		json_object_del(o->tags, PLUMB_TAG_HASH);
	struct plumb_diff_opts op = opts();
	op.show_info = true;
	struct plumb_diff d;
	run(&d, &set, &have, op);
	const struct plumb_change *c = change(&d, fc->kind, fc->res);
	ck_assert_msg(c->type == fc->want, "%s: %s, want %s:%s", fc->name,
		      plumb_change_type_name(c->type), plumb_change_type_name(fc->want),
		      describe(&d));
	size_t managed = 0;
	for (size_t i = 0; i < c->deltas.len; i++) {
		const struct plumb_delta *dl = c->deltas.items[i];
		managed += !dl->info && strncmp(dl->path, "tags.", 5) != 0;
	}
	if (fc->path) {
		char expect_new[512];
		const char *nw = fc->new;
		if (!nw) { /* the wanted value: the desired physical name */
			snprintf(expect_new, sizeof(expect_new), "\"%s\"",
				 fc->kind == PLUMB_KIND_ENDPOINT
					 ? plumb_test_res(&set, PLUMB_KIND_ENDPOINT_CONFIG, "ranker")->physical
					 : "");
			nw = fc->kind == PLUMB_KIND_ENDPOINT ? expect_new : NULL;
		}
		if (nw) {
			expect_delta(c, fc->path, fc->aws_path, fc->old, nw, fc->info, fc->replace);
		} else {
			const struct plumb_delta *dl = delta(c, fc->path);
			ck_assert_msg(dl != NULL, "%s: no delta at %s:%s", fc->name, fc->path,
				      describe(&d));
			ck_assert_str_eq(dl->aws_path, fc->aws_path);
			ck_assert(json_text_is(dl->old, fc->old));
			ck_assert_ptr_nonnull(dl->new);
		}
		ck_assert_msg(managed == (fc->info ? 0u : 1u), "%s: %zu managed deltas:%s", fc->name,
			      managed, describe(&d));
	} else {
		ck_assert_msg(managed == 0, "%s: managed deltas:%s", fc->name, describe(&d));
	}
	/* the rest of the stack is untouched */
	for (size_t i = 0; i < d.changes.len; i++) {
		const struct plumb_change *x = d.changes.items[i];
		if (x != c)
			ck_assert_msg(x->type == PLUMB_CHANGE_NONE, "%s: %s %s changed:%s", fc->name,
				      plumb_kind_name(x->kind), x->name, describe(&d));
	}
	plumb_diff_release(&d);
	/* without show_info an unchanged resource carries no deltas at all */
	run(&d, &set, &have, opts());
	c = change(&d, fc->kind, fc->res);
	if (c->type == PLUMB_CHANGE_NONE)
		ck_assert_msg(c->deltas.len == 0, "%s: deltas without show_info:%s", fc->name,
			      describe(&d));
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(tags_only_is_tag)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	struct plumb_observed *m = live_of(&have, plumb_test_res(&set, PLUMB_KIND_MODEL, "ranker"));
	json_object_set_new(m->tags, "team", json_string("b"));
	json_object_set_new(m->tags, "stray", json_string("x"));
	json_object_set_new(m->tags, "aws:cloudformation:stack-name", json_string("s"));
	struct plumb_observed *t = live_of(&have, plumb_test_res(&set, PLUMB_KIND_TOPIC, "alerts"));
	json_object_del(t->tags, PLUMB_TAG_HASH);
	struct plumb_diff d;
	run(&d, &set, &have, opts());
	/* a tag change on an immutable model is a tag call, never a replacement */
	expect_type(&d, PLUMB_KIND_MODEL, "ranker", PLUMB_CHANGE_TAG);
	const struct plumb_change *c = change(&d, PLUMB_KIND_MODEL, "ranker");
	ck_assert_uint_eq(c->deltas.len, 2);
	expect_delta(c, "tags.team", "Tags.team", "\"b\"", "\"a\"", false, false);
	expect_delta(c, "tags.stray", "Tags.stray", "\"x\"", "-", false, false);
	expect_type(&d, PLUMB_KIND_TOPIC, "alerts", PLUMB_CHANGE_TAG);
	c = change(&d, PLUMB_KIND_TOPIC, "alerts");
	char hash[80];
	snprintf(hash, sizeof(hash), "\"%s\"", plumb_test_res(&set, PLUMB_KIND_TOPIC, "alerts")->hash);
	expect_delta(c, "tags.plumb:spec-hash", "Tags.plumb:spec-hash", "-", hash, false, false);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_TAG], 2);
	ck_assert(plumb_diff_has_changes(&d));
	plumb_diff_release(&d);

	/* a field change and a tag change together: UPDATE with both deltas, spec first */
	struct plumb_observed *al = live_of(&have, plumb_test_res(&set, PLUMB_KIND_ALARM, "latency"));
	json_object_set_new(al->live, "EvaluationPeriods", json_integer(5));
	json_object_set_new(al->tags, "team", json_string("b"));
	run(&d, &set, &have, opts());
	expect_type(&d, PLUMB_KIND_ALARM, "latency", PLUMB_CHANGE_UPDATE);
	c = change(&d, PLUMB_KIND_ALARM, "latency");
	ck_assert_uint_eq(c->deltas.len, 2);
	ck_assert_str_eq(((struct plumb_delta *)c->deltas.items[0])->path, "evaluationPeriods");
	ck_assert_str_eq(((struct plumb_delta *)c->deltas.items[1])->path, "tags.team");
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(untagged_conflicts_or_adopts)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	struct plumb_observed *ep = live_of(&have, plumb_test_res(&set, PLUMB_KIND_ENDPOINT, "ranker"));
	json_decref(ep->tags);
	ep->tags = NULL;
	struct plumb_observed *t = live_of(&have, plumb_test_res(&set, PLUMB_KIND_SCALABLE_TARGET, "ranker"));
	json_decref(t->tags);
	t->tags = json_pack("{ss}", "team", "a"); /* tagged, but not by plumb */
	struct plumb_diff d;
	run(&d, &set, &have, opts());
	expect_type(&d, PLUMB_KIND_ENDPOINT, "ranker", PLUMB_CHANGE_CONFLICT);
	const struct plumb_change *c = change(&d, PLUMB_KIND_ENDPOINT, "ranker");
	ck_assert_ptr_nonnull(strstr(c->reason, "--adopt"));
	ck_assert_uint_eq(c->deltas.len, 0);
	expect_type(&d, PLUMB_KIND_SCALABLE_TARGET, "ranker", PLUMB_CHANGE_CONFLICT);
	/* policies follow their target */
	expect_type(&d, PLUMB_KIND_SCALING_POLICY, "ranker/step", PLUMB_CHANGE_CONFLICT);
	expect_type(&d, PLUMB_KIND_SCALING_POLICY, "ranker/backlog", PLUMB_CHANGE_CONFLICT);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_CONFLICT], 4);
	ck_assert(plumb_diff_has_changes(&d));
	plumb_diff_release(&d);

	struct plumb_diff_opts o = opts();
	o.adopt = true;
	run(&d, &set, &have, o);
	expect_type(&d, PLUMB_KIND_ENDPOINT, "ranker", PLUMB_CHANGE_ADOPT);
	c = change(&d, PLUMB_KIND_ENDPOINT, "ranker");
	ck_assert_ptr_nonnull(delta(c, "tags.plumb:owner"));
	ck_assert_ptr_nonnull(delta(c, "tags.plumb:id"));
	ck_assert_ptr_null(delta(c, "endpointConfigName"));
	expect_type(&d, PLUMB_KIND_SCALABLE_TARGET, "ranker", PLUMB_CHANGE_ADOPT);
	expect_type(&d, PLUMB_KIND_SCALING_POLICY, "ranker/step", PLUMB_CHANGE_ADOPT);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_ADOPT], 4);
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(other_owner_conflicts)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, "team-b");
	struct plumb_diff_opts o = opts();
	o.adopt = true; /* never takes what another owner holds */
	o.prune = 1;
	struct plumb_diff d;
	run(&d, &set, &have, o);
	ck_assert_uint_eq(d.changes.len, n_desired(&set));
	expect_only(&d, PLUMB_CHANGE_CONFLICT);
	const struct plumb_change *c = change(&d, PLUMB_KIND_MODEL, "ranker");
	ck_assert_ptr_nonnull(strstr(c->reason, "owned by plumb owner team-b"));
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(orphans_follow_prune)
{
	struct plumb_manifest_set full, less;
	load(&full, STACK);
	load(&less, DEFAULTS MODEL("1.0") CONFIG ENDPOINT TOPIC(""));
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&full, &have, OWNER);
	/* someone else's alarm and a listed-only unknown one: never reported */
	plumb_test_add_observed(&have, PLUMB_KIND_ALARM, "theirs", NULL, json_object(),
		     json_pack("{ss}", PLUMB_TAG_OWNER, "team-b"));
	plumb_test_add_observed(&have, PLUMB_KIND_ALARM, "unknown", NULL, NULL, NULL);
	/* a target-tracking alarm that even carries our tag stays AWS's */
	plumb_test_add_observed(&have, PLUMB_KIND_ALARM, "TargetTracking-endpoint/x-AlarmHigh-1", NULL,
		     json_object(), json_pack("{ss}", PLUMB_TAG_OWNER, OWNER));

	struct plumb_diff d;
	run(&d, &less, &have, opts());
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_NONE], n_desired(&less));
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_ORPHAN], 4); /* alarm, 2 policies, target */
	ck_assert(!plumb_diff_has_changes(&d));
	/* leftovers come after the desired ones, alarms first, targets last */
	const struct plumb_change *c = d.changes.items[n_desired(&less)];
	ck_assert_int_eq(c->kind, PLUMB_KIND_ALARM);
	ck_assert_str_eq(c->name, "latency");
	ck_assert_ptr_null(c->want);
	ck_assert_ptr_nonnull(c->have);
	ck_assert_ptr_null(c->spec);
	ck_assert_ptr_nonnull(strstr(c->reason, "no manifest names it"));
	c = d.changes.items[n_desired(&less) + 1];
	ck_assert_int_eq(c->kind, PLUMB_KIND_SCALING_POLICY);
	ck_assert_str_eq(c->name, "ranker/backlog");
	ck_assert_str_eq(c->parent, "endpoint/ranker/variant/primary");
	c = d.changes.items[n_desired(&less) + 2];
	ck_assert_str_eq(c->name, "ranker/step");
	c = d.changes.items[n_desired(&less) + 3];
	ck_assert_int_eq(c->kind, PLUMB_KIND_SCALABLE_TARGET);
	ck_assert_str_eq(c->physical, "endpoint/ranker/variant/primary");
	ck_assert_str_eq(c->name, "ranker");
	ck_assert_uint_eq(d.changes.len, n_desired(&less) + 4);
	plumb_diff_release(&d);

	struct plumb_diff_opts o = opts();
	o.prune = 1;
	run(&d, &less, &have, o);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_DELETE], 4);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_ORPHAN], 0);
	ck_assert(plumb_diff_has_changes(&d));
	for (size_t i = n_desired(&less); i < d.changes.len; i++)
		ck_assert(!((struct plumb_change *)d.changes.items[i])->superseded);
	plumb_diff_release(&d);

	/* -1: the top-level Defaults decides for orphans */
	o.prune = -1;
	o.default_prune = true;
	run(&d, &less, &have, o);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_DELETE], 4);
	plumb_diff_release(&d);
	o.default_prune = false;
	run(&d, &less, &have, o);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_ORPHAN], 4);
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&full);
	plumb_manifest_release(&less);
}
END_TEST

START_TEST(orphan_policy_under_wanted_target)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	plumb_test_add_observed(&have, PLUMB_KIND_SCALING_POLICY, "old-policy",
		     "endpoint/ranker/variant/primary",
		     json_pack("{ss ss}", "PolicyName", "old-policy", "PolicyType", "StepScaling"),
		     NULL);
	/* a policy under someone else's target is not ours */
	plumb_test_add_observed(&have, PLUMB_KIND_SCALABLE_TARGET, "endpoint/x/variant/v", NULL,
		     json_object(), json_pack("{ss}", PLUMB_TAG_OWNER, "team-b"));
	plumb_test_add_observed(&have, PLUMB_KIND_SCALING_POLICY, "p", "endpoint/x/variant/v",
		     json_object(), NULL);
	struct plumb_diff_opts o = opts();
	o.prune = -1; /* the target's Defaults (prune unset: false) decides */
	o.default_prune = true;
	struct plumb_diff d;
	run(&d, &set, &have, o);
	expect_type(&d, PLUMB_KIND_SCALING_POLICY, "ranker/old-policy", PLUMB_CHANGE_ORPHAN);
	ck_assert_uint_eq(d.changes.len, n_desired(&set) + 1);
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(rollover_supersedes_old_versions)
{
	struct plumb_manifest_set v1, v2;
	load(&v1, STACK);
	load(&v2, DEFAULTS MODEL("2.0") CONFIG ENDPOINT TARGET ALARM("") TOPIC(""));
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&v1, &have, OWNER);
	struct plumb_diff d;
	run(&d, &v2, &have, opts()); /* prune off: superseded versions go anyway */
	const struct plumb_resource *m1 = plumb_test_res(&v1, PLUMB_KIND_MODEL, "ranker");
	const struct plumb_resource *m2 = plumb_test_res(&v2, PLUMB_KIND_MODEL, "ranker");
	const struct plumb_resource *c1 = plumb_test_res(&v1, PLUMB_KIND_ENDPOINT_CONFIG, "ranker");
	const struct plumb_resource *c2 = plumb_test_res(&v2, PLUMB_KIND_ENDPOINT_CONFIG, "ranker");
	ck_assert_str_ne(m1->physical, m2->physical);
	ck_assert_str_ne(c1->physical, c2->physical);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_CREATE], 2);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_UPDATE], 1);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_DELETE], 2);
	ck_assert_uint_eq(d.counts[PLUMB_CHANGE_ORPHAN], 0);
	const struct plumb_change *ep = change(&d, PLUMB_KIND_ENDPOINT, "ranker");
	ck_assert_int_eq(ep->type, PLUMB_CHANGE_UPDATE);
	char o1[100], o2[100];
	snprintf(o1, sizeof(o1), "\"%s\"", c1->physical);
	snprintf(o2, sizeof(o2), "\"%s\"", c2->physical);
	expect_delta(ep, "endpointConfigName", "EndpointConfigName", o1, o2, false, false);
	/* the deletes: config before model (reverse dependency order) */
	size_t n = n_desired(&v2);
	ck_assert_uint_eq(d.changes.len, n + 2);
	const struct plumb_change *dc = d.changes.items[n], *dm = d.changes.items[n + 1];
	ck_assert_int_eq(dc->kind, PLUMB_KIND_ENDPOINT_CONFIG);
	ck_assert_int_eq(dc->type, PLUMB_CHANGE_DELETE);
	ck_assert(dc->superseded);
	ck_assert_str_eq(dc->physical, c1->physical);
	ck_assert_str_eq(dc->superseded_by, c2->physical);
	ck_assert_str_eq(dc->name, "ranker");
	ck_assert_int_eq(dm->kind, PLUMB_KIND_MODEL);
	ck_assert(dm->superseded);
	ck_assert_str_eq(dm->physical, m1->physical);
	ck_assert_str_eq(dm->superseded_by, m2->physical);
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&v1);
	plumb_manifest_release(&v2);
}
END_TEST

START_TEST(policy_reference_unresolved_is_a_change)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have, partial;
	plumb_observed_set_init(&have);
	plumb_observed_set_init(&partial);
	plumb_test_converge(&set, &have, OWNER);
	/* the same account without the step policy: the alarm's action cannot resolve */
	const struct plumb_resource *step = plumb_test_res(&set, PLUMB_KIND_SCALING_POLICY, "ranker/step");
	for (size_t i = 0; i < have.items.len; i++) {
		const struct plumb_observed *o = have.items.items[i];
		if (o->kind == step->kind && strcmp(o->name, step->physical) == 0)
			continue;
		plumb_observed_set_add(&partial, plumb_observed_dup(o));
	}
	struct plumb_diff d;
	run(&d, &set, &partial, opts());
	expect_type(&d, PLUMB_KIND_SCALING_POLICY, "ranker/step", PLUMB_CHANGE_CREATE);
	expect_type(&d, PLUMB_KIND_ALARM, "latency", PLUMB_CHANGE_UPDATE);
	const struct plumb_change *c = change(&d, PLUMB_KIND_ALARM, "latency");
	const struct plumb_delta *dl = delta(c, "alarmActions");
	ck_assert_ptr_nonnull(dl);
	ck_assert_str_eq(dl->aws_path, "AlarmActions");
	ck_assert_str_eq(plumb_ref_marker_target(json_array_get(dl->new, 0)),
			 "ScalingPolicy/ranker/step");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(dl->old, 0)),
				     "policyName/step"));
	ck_assert_str_eq(plumb_ref_marker_target(
				 json_array_get(json_object_get(c->spec, "AlarmActions"), 0)),
			 "ScalingPolicy/ranker/step");
	plumb_diff_release(&d);

	/* resolved: the live ARN, in another order, is no change */
	struct plumb_observed *al = live_of(&have, plumb_test_res(&set, PLUMB_KIND_ALARM, "latency"));
	json_t *acts = json_object_get(al->live, "AlarmActions");
	json_t *first = json_incref(json_array_get(acts, 0));
	json_array_remove(acts, 0);
	json_array_append_new(acts, first);
	run(&d, &set, &have, opts());
	expect_type(&d, PLUMB_KIND_ALARM, "latency", PLUMB_CHANGE_NONE);
	plumb_diff_release(&d);
	plumb_observed_set_release(&partial);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(topic_reference_resolved)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	/* the live config notifies another topic: immutable, so a replacement */
	struct plumb_observed *cfg = live_of(&have, plumb_test_res(&set, PLUMB_KIND_ENDPOINT_CONFIG, "ranker"));
	jset(cfg->live, "AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic",
	     "\"arn:aws:sns:us-east-1:123456789012:other\"");
	json_object_set_new(cfg->tags, PLUMB_TAG_HASH, json_string("0123"));
	struct plumb_diff d;
	run(&d, &set, &have, opts());
	expect_type(&d, PLUMB_KIND_ENDPOINT_CONFIG, "ranker", PLUMB_CHANGE_REPLACE);
	const struct plumb_change *c = change(&d, PLUMB_KIND_ENDPOINT_CONFIG, "ranker");
	expect_delta(c, "asyncInferenceConfig.outputConfig.notificationConfig.successTopic",
		     "AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic",
		     "\"arn:aws:sns:us-east-1:123456789012:other\"",
		     "\"arn:aws:sns:us-east-1:123456789012:alerts\"", false, true);
	ck_assert_ptr_nonnull(strstr(c->reason, "cannot be changed in place"));
	/* the alarm's topic action resolves too */
	c = change(&d, PLUMB_KIND_ALARM, "latency");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c->spec, "AlarmActions"), 1)),
			 "arn:aws:sns:us-east-1:123456789012:alerts");
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(target_tracking_alarms_never_reported)
{
	struct plumb_manifest_set set;
	load(&set, STACK);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	size_t tt = 0;
	for (size_t i = 0; i < have.items.len; i++) {
		const struct plumb_observed *o = have.items.items[i];
		tt += strncmp(o->name, "TargetTracking-", 15) == 0;
	}
	ck_assert_uint_eq(tt, 2);
	struct plumb_diff_opts o = opts();
	o.prune = 1;
	o.adopt = true;
	struct plumb_diff d;
	run(&d, &set, &have, o);
	for (size_t i = 0; i < d.changes.len; i++) {
		const struct plumb_change *c = d.changes.items[i];
		ck_assert(strncmp(c->physical, "TargetTracking-", 15) != 0);
	}
	ck_assert_uint_eq(d.changes.len, n_desired(&set));
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(live_spec_projection)
{
	struct plumb_observed *o = plumb_observed_new(PLUMB_KIND_SCALABLE_TARGET, REGION,
						      "endpoint/ep/variant/v", NULL);
	o->live = json_loads(
		"{\"ServiceNamespace\":\"sagemaker\",\"ResourceId\":\"endpoint/ep/variant/v\","
		"\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\",\"CreationTime\":"
		"1795529583.455,\"RoleARN\":\"" SLR "\",\"ScalableTargetARN\":\"arn:x\","
		"\"SuspendedState\":{\"DynamicScalingInSuspended\":false},\"MinCapacity\":2,"
		"\"MaxCapacity\":8}",
		0, NULL);
	json_t *s = plumb_diff_live_spec(o);
	json_t *want = json_loads("{\"ResourceId\":\"endpoint/ep/variant/v\",\"ScalableDimension\":"
				  "\"sagemaker:variant:DesiredInstanceCount\",\"RoleARN\":\"" SLR
				  "\",\"SuspendedState\":{\"DynamicScalingInSuspended\":false},"
				  "\"MinCapacity\":2,\"MaxCapacity\":8}",
				  0, NULL);
	ck_assert(json_equal(s, want));
	json_decref(s);
	json_decref(want);
	plumb_observed_free(o);

	o = plumb_observed_new(PLUMB_KIND_ENDPOINT, REGION, "ep", NULL);
	o->live = json_loads("{\"EndpointName\":\"ep\",\"EndpointConfigName\":\"c-1\","
			     "\"EndpointStatus\":\"InService\",\"ProductionVariants\":[{\"VariantName"
			     "\":\"v\",\"CurrentInstanceCount\":2}],\"LastDeploymentConfig\":{}}",
			     0, NULL);
	s = plumb_diff_live_spec(o);
	want = json_pack("{ss}", "EndpointConfigName", "c-1");
	ck_assert(json_equal(s, want));
	json_decref(s);
	json_decref(want);
	plumb_observed_free(o);

	o = plumb_observed_new(PLUMB_KIND_TOPIC, REGION, "t", NULL);
	o->live = json_pack("{ss ss ss ss ss ss}", "TopicArn", "arn:aws:sns:us-east-1:1:t", "Owner",
			    "1", "SubscriptionsPending", "0", "EffectiveDeliveryPolicy", "{}",
			    "DisplayName", "d", "Policy", "{}");
	s = plumb_diff_live_spec(o);
	want = json_pack("{s{ss ss}}", "Attributes", "DisplayName", "d", "Policy", "{}");
	ck_assert(json_equal(s, want));
	json_decref(s);
	json_decref(want);
	plumb_observed_free(o);

	o = plumb_observed_new(PLUMB_KIND_SCALING_POLICY, REGION, "p", "endpoint/ep/variant/v");
	o->live = json_loads("{\"PolicyARN\":\"arn\",\"PolicyName\":\"p\",\"ServiceNamespace\":"
			     "\"sagemaker\",\"ResourceId\":\"endpoint/ep/variant/v\","
			     "\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\","
			     "\"PolicyType\":\"StepScaling\",\"StepScalingPolicyConfiguration\":{"
			     "\"AdjustmentType\":\"ChangeInCapacity\",\"StepAdjustments\":[{"
			     "\"MetricIntervalLowerBound\":0.0,\"ScalingAdjustment\":1}]},"
			     "\"Alarms\":[{\"AlarmName\":\"a\"}],\"CreationTime\":1.5}",
			     0, NULL);
	s = plumb_diff_live_spec(o);
	want = json_loads("{\"PolicyType\":\"StepScaling\",\"StepScalingPolicyConfiguration\":{"
			  "\"AdjustmentType\":\"ChangeInCapacity\",\"StepAdjustments\":[{"
			  "\"MetricIntervalLowerBound\":0.0,\"ScalingAdjustment\":1}]}}",
			  0, NULL);
	ck_assert(json_equal(s, want));
	json_decref(s);
	json_decref(want);
	/* listed, not described: nothing to project */
	json_decref(o->live);
	o->live = NULL;
	ck_assert_ptr_null(plumb_diff_live_spec(o));
	plumb_observed_free(o);

	o = plumb_observed_new(PLUMB_KIND_ALARM, REGION, "a", NULL);
	o->live = json_loads("{\"AlarmName\":\"a\",\"AlarmArn\":\"arn\",\"StateValue\":\"OK\","
			     "\"AlarmConfigurationUpdatedTimestamp\":\"2026-11-24T14:13:03.464Z\","
			     "\"OKActions\":[],\"Period\":60,\"Threshold\":1.0}",
			     0, NULL);
	s = plumb_diff_live_spec(o);
	want = json_loads("{\"OKActions\":[],\"Period\":60,\"Threshold\":1.0}", 0, NULL);
	ck_assert(json_equal(s, want));
	json_decref(s);
	json_decref(want);
	plumb_observed_free(o);
}
END_TEST

START_TEST(role_given_in_manifest_is_substituted)
{
	struct plumb_manifest_set set;
	load(&set, DEFAULTS MODEL("1.0") CONFIG ENDPOINT TOPIC("")
		   "apiVersion: plumb/v1\n"
		   "kind: ScalableTarget\n"
		   "metadata: {name: ranker}\n"
		   "spec:\n"
		   "  endpointRef: ranker\n"
		   "  variantName: primary\n"
		   "  minCapacity: 1\n"
		   "  maxCapacity: 4\n"
		   "  roleARN: arn:aws:iam::123456789012:role/custom\n");
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	struct plumb_observed *t = live_of(&have, plumb_test_res(&set, PLUMB_KIND_SCALABLE_TARGET, "ranker"));
	ck_assert_str_eq(json_string_value(json_object_get(t->live, "RoleARN")), SLR);
	struct plumb_diff d;
	run(&d, &set, &have, opts());
	expect_only(&d, PLUMB_CHANGE_NONE);
	plumb_diff_release(&d);
	/* a role that is not the service-linked one is compared */
	json_object_set_new(t->live, "RoleARN", json_string("arn:aws:iam::123456789012:role/x"));
	run(&d, &set, &have, opts());
	expect_type(&d, PLUMB_KIND_SCALABLE_TARGET, "ranker", PLUMB_CHANGE_UPDATE);
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(deployment_config_never_compared)
{
	struct plumb_manifest_set set;
	load(&set, DEFAULTS MODEL("1.0") CONFIG TOPIC("")
		   "apiVersion: plumb/v1\n"
		   "kind: Endpoint\n"
		   "metadata: {name: ranker}\n"
		   "spec:\n"
		   "  endpointConfigRef: ranker\n"
		   "  deploymentConfig:\n"
		   "    rollingUpdatePolicy:\n"
		   "      maximumBatchSize: {type: INSTANCE_COUNT, value: 1}\n"
		   "      waitIntervalInSeconds: 5m\n");
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	plumb_test_converge(&set, &have, OWNER);
	struct plumb_observed *e = live_of(&have, plumb_test_res(&set, PLUMB_KIND_ENDPOINT, "ranker"));
	json_object_del(e->live, "LastDeploymentConfig");
	struct plumb_diff_opts o = opts();
	o.show_info = true;
	struct plumb_diff d;
	run(&d, &set, &have, o);
	expect_only(&d, PLUMB_CHANGE_NONE);
	ck_assert_uint_eq(change(&d, PLUMB_KIND_ENDPOINT, "ranker")->deltas.len, 0);
	plumb_diff_release(&d);
	plumb_observed_set_release(&have);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(missing_region_or_owner_is_einval)
{
	struct plumb_manifest_set set;
	load(&set, MODEL("1.0"));
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	struct plumb_diff d;
	plumb_diff_init(&d);
	struct plumb_diff_opts o = opts();
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_ptr_null(plumb_test_res(&set, PLUMB_KIND_MODEL, "ranker")->region);
	ck_assert_int_eq(plumb_diff_compute(&d, &set.resources, &have, &o, &err), PLUMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "region"));
	plumb_diff_release(&d);
	plumb_diff_init(&d);
	o.owner = NULL;
	ck_assert_int_eq(plumb_diff_compute(&d, &set.resources, &have, &o, NULL), PLUMB_EINVAL);
	plumb_diff_release(&d);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(type_names)
{
	ck_assert_str_eq(plumb_change_type_name(PLUMB_CHANGE_NONE), "none");
	ck_assert_str_eq(plumb_change_type_name(PLUMB_CHANGE_CREATE), "create");
	ck_assert_str_eq(plumb_change_type_name(PLUMB_CHANGE_REPLACE), "replace");
	ck_assert_str_eq(plumb_change_type_name(PLUMB_CHANGE_ORPHAN), "orphan");
	ck_assert_str_eq(plumb_change_type_name(PLUMB_CHANGE_CONFLICT), "conflict");
}
END_TEST

Suite *diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("diff");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, empty_account_creates_everything);
	tcase_add_test(tc, converged_stack_has_no_changes);
	tcase_add_test(tc, examples_converged_do_not_diff);
	tcase_add_loop_test(tc, field_changes, 0, (int)PLUMB_ARRAY_LEN(field_cases));
	tcase_add_test(tc, tags_only_is_tag);
	tcase_add_test(tc, untagged_conflicts_or_adopts);
	tcase_add_test(tc, other_owner_conflicts);
	tcase_add_test(tc, orphans_follow_prune);
	tcase_add_test(tc, orphan_policy_under_wanted_target);
	tcase_add_test(tc, rollover_supersedes_old_versions);
	tcase_add_test(tc, policy_reference_unresolved_is_a_change);
	tcase_add_test(tc, topic_reference_resolved);
	tcase_add_test(tc, target_tracking_alarms_never_reported);
	tcase_add_test(tc, live_spec_projection);
	tcase_add_test(tc, role_given_in_manifest_is_substituted);
	tcase_add_test(tc, deployment_config_never_compared);
	tcase_add_test(tc, missing_region_or_owner_is_einval);
	tcase_add_test(tc, type_names);
	suite_add_tcase(s, tc);
	return s;
}

/* pkg/manifest: YAML to the desired set — hash stability, diagnostics, expansion, Defaults,
 * lints, order and the two reports. Every manifest is inline; tests/fixtures is exercised
 * elsewhere. */
#include "manifest/manifest.h"
#include "test.h"

#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <yaml.h>

/* ------------------------------------------------------------------ helpers */

static void load_n(struct plumb_manifest_set *set, const char *yaml, size_t len)
{
	plumb_manifest_init(set);
	ck_assert_int_eq(plumb_manifest_add(set, "test.yaml", yaml, len), 0);
	ck_assert_int_eq(plumb_manifest_finish(set), 0);
}

static void load(struct plumb_manifest_set *set, const char *yaml)
{
	load_n(set, yaml, strlen(yaml));
}

/* All diagnostics as text, for failure messages; static buffer. */
static const char *diags_text(const struct plumb_manifest_set *set)
{
	static char buf[8192];
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

static const struct plumb_diag *diag_with(const struct plumb_manifest_set *set, const char *sub)
{
	for (size_t i = 0; i < set->diags.len; i++) {
		const struct plumb_diag *d = set->diags.items[i];
		if (strstr(d->msg, sub))
			return d;
	}
	return NULL;
}

static void expect_diag(const struct plumb_manifest_set *set, unsigned line, unsigned col,
			const char *path, const char *sub)
{
	const struct plumb_diag *d = diag_with(set, sub);
	ck_assert_msg(d != NULL, "no diagnostic containing \"%s\"; got:%s", sub, diags_text(set));
	ck_assert_int_eq(d->sev, PLUMB_SEV_ERROR);
	ck_assert_str_eq(d->loc.file, "test.yaml");
	ck_assert_msg(d->loc.line == line && d->loc.col == col,
		      "\"%s\" at %u:%u, want %u:%u", sub, d->loc.line, d->loc.col, line, col);
	ck_assert_str_eq(d->path, path);
}

static void expect_clean(const struct plumb_manifest_set *set)
{
	ck_assert_msg(set->diags.len == 0, "unexpected diagnostics:%s", diags_text(set));
}

static struct plumb_resource *must_find(const struct plumb_manifest_set *set, enum plumb_kind k,
					const char *name)
{
	struct plumb_resource *r = plumb_manifest_find(set, k, name);
	ck_assert_msg(r != NULL, "%s/%s not in the set", plumb_kind_name(k), name);
	return r;
}

/* A JSON value at a path of object keys and [n] indexes ("A.B[0].C"). */
static json_t *jget(json_t *v, const char *path)
{
	return test_json_path(v, path);
}

static const char *jstr(json_t *v, const char *path)
{
	const char *s = json_string_value(jget(v, path));
	ck_assert_msg(s != NULL, "no string at %s", path);
	return s;
}

static void expect_physical_hashed(const struct plumb_resource *r, const char *base)
{
	size_t n = strlen(base);
	ck_assert_ptr_nonnull(r->physical);
	ck_assert_msg(strncmp(r->physical, base, n) == 0 && r->physical[n] == '-',
		      "physical %s does not start with %s-", r->physical, base);
	ck_assert_uint_eq(strlen(r->physical), n + 9);
	ck_assert_msg(strncmp(r->physical + n + 1, r->hash, 8) == 0,
		      "physical %s does not end with the hash %.8s", r->physical, r->hash);
	ck_assert_uint_eq(strlen(r->hash), 64);
}

/* ------------------------------------------------------------------ documents */

#define ROLE "arn:aws:iam::123456789012:role/sagemaker-execution"
#define IMAGE "123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1.0.0"

#define MODEL_DOC                                                                          \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: Model\n"                                                                    \
	"metadata:\n"                                                                      \
	"  name: ranker\n"                                                                 \
	"spec:\n"                                                                          \
	"  executionRoleArn: " ROLE "\n"                                                   \
	"  primaryContainer:\n"                                                            \
	"    image: " IMAGE "\n"

#define CONFIG_DOC(extra)                                                                  \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: EndpointConfig\n"                                                           \
	"metadata:\n"                                                                      \
	"  name: ranker\n"                                                                 \
	"spec:\n"                                                                          \
	"  productionVariants:\n"                                                          \
	"    - variantName: primary\n"                                                     \
	"      modelRef: ranker\n"                                                         \
	"      instanceType: ml.c5.large\n"                                                \
	"      initialInstanceCount: 2\n" extra

#define ASYNC                                                                              \
	"  asyncInferenceConfig:\n"                                                        \
	"    outputConfig:\n"                                                              \
	"      s3OutputPath: s3://bucket-123/out/\n"

#define ENDPOINT_DOC                                                                       \
	"apiVersion: plumb/v1\n"                                                           \
	"kind: Endpoint\n"                                                                 \
	"metadata:\n"                                                                      \
	"  name: ranker\n"                                                                 \
	"spec:\n"                                                                          \
	"  endpointConfigRef: ranker\n"

#define REALTIME_STACK MODEL_DOC "---\n" CONFIG_DOC("") "---\n" ENDPOINT_DOC
#define ASYNC_STACK MODEL_DOC "---\n" CONFIG_DOC(ASYNC) "---\n" ENDPOINT_DOC

/* ------------------------------------------------------------------ hash stability */

/* Within a group every manifest must give the same hash and physical name for KIND/ranker. */
static const struct {
	enum plumb_kind kind;
	const char *group;
	const char *yaml;
} same_hash[] = {
	{ PLUMB_KIND_MODEL, "model", MODEL_DOC },
	{ PLUMB_KIND_MODEL, "model",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata: {name: ranker}\n"
	  "spec: {executionRoleArn: '" ROLE "', primaryContainer: {image: \"" IMAGE "\"}}\n" },
	{ PLUMB_KIND_MODEL, "model",
	  "spec:\n  primaryContainer:\n    image: " IMAGE "\n  executionRoleArn: " ROLE "\n"
	  "metadata:\n  name: ranker\nkind: Model\napiVersion: plumb/v1\n" },
	{ PLUMB_KIND_MODEL, "model",
	  MODEL_DOC "  enableNetworkIsolation: false\n" },
	{ PLUMB_KIND_MODEL, "model",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: ranker\n"
	  "  tags: {team: a}\n  annotations: {note: tags and annotations are not hashed}\n"
	  "spec:\n  executionRoleArn: \"" ROLE "\"\n  primaryContainer:\n    image: >-\n      " IMAGE "\n"
	  "    mode: SingleModel\n" },

	{ PLUMB_KIND_ENDPOINT_CONFIG, "config", MODEL_DOC "---\n" CONFIG_DOC("") },
	{ PLUMB_KIND_ENDPOINT_CONFIG, "config",
	  MODEL_DOC "---\napiVersion: plumb/v1\nkind: EndpointConfig\nmetadata: {name: ranker}\n"
	  "spec: {productionVariants: [{initialInstanceCount: 2, instanceType: ml.c5.large, "
	  "modelRef: ranker, variantName: primary, initialVariantWeight: 1}]}\n" },
	{ PLUMB_KIND_ENDPOINT_CONFIG, "config",
	  MODEL_DOC "---\n" CONFIG_DOC("") "      initialVariantWeight: 1.0\n" },
	{ PLUMB_KIND_ENDPOINT_CONFIG, "config",
	  MODEL_DOC "---\n" CONFIG_DOC("") "      initialVariantWeight: 1\n" },

	{ PLUMB_KIND_ENDPOINT_CONFIG, "timeout",
	  MODEL_DOC "---\n" CONFIG_DOC("") "      containerStartupHealthCheckTimeoutInSeconds: 300\n" },
	{ PLUMB_KIND_ENDPOINT_CONFIG, "timeout",
	  MODEL_DOC "---\n" CONFIG_DOC("") "      containerStartupHealthCheckTimeoutInSeconds: \"5m\"\n" },
	{ PLUMB_KIND_ENDPOINT_CONFIG, "timeout",
	  MODEL_DOC "---\n" CONFIG_DOC("") "      containerStartupHealthCheckTimeoutInSeconds: 5m\n" },
	{ PLUMB_KIND_ENDPOINT_CONFIG, "timeout",
	  MODEL_DOC "---\n" CONFIG_DOC("") "      containerStartupHealthCheckTimeoutInSeconds: 300s\n" },

	{ PLUMB_KIND_ENDPOINT_CONFIG, "two-variants",
	  MODEL_DOC "---\n"
	  "apiVersion: plumb/v1\nkind: EndpointConfig\nmetadata:\n  name: ranker\nspec:\n"
	  "  productionVariants:\n"
	  "    - variantName: a\n      modelRef: ranker\n      instanceType: ml.c5.large\n"
	  "      initialInstanceCount: 1\n      initialVariantWeight: 0.5\n"
	  "    - variantName: b\n      modelRef: ranker\n      instanceType: ml.c5.large\n"
	  "      initialInstanceCount: 1\n      initialVariantWeight: 0.5\n" },
	{ PLUMB_KIND_ENDPOINT_CONFIG, "two-variants",
	  MODEL_DOC "---\n"
	  "apiVersion: plumb/v1\nkind: EndpointConfig\nmetadata:\n  name: ranker\nspec:\n"
	  "  productionVariants:\n"
	  "    - variantName: a\n      modelRef: &m ranker\n      instanceType: &t ml.c5.large\n"
	  "      initialInstanceCount: &n 1\n      initialVariantWeight: &w 0.5\n"
	  "    - variantName: b\n      modelRef: *m\n      instanceType: *t\n"
	  "      initialInstanceCount: *n\n      initialVariantWeight: *w\n" },

	{ PLUMB_KIND_ALARM, "alarm",
	  "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: ranker\nspec:\n"
	  "  namespace: AWS/SageMaker\n  metricName: Invocations\n  statistic: Sum\n"
	  "  period: 300\n  evaluationPeriods: 1\n  threshold: 1\n"
	  "  comparisonOperator: GreaterThanThreshold\n" },
	{ PLUMB_KIND_ALARM, "alarm",
	  "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: ranker\nspec:\n"
	  "  namespace: AWS/SageMaker\n  metricName: Invocations\n  statistic: Sum\n"
	  "  period: \"5m\"\n  evaluationPeriods: 1\n  threshold: 1.0\n"
	  "  comparisonOperator: GreaterThanThreshold\n  treatMissingData: missing\n"
	  "  actionsEnabled: true\n" },
};

START_TEST(hash_stable_through_yaml)
{
	/* the first entry of each group is the reference */
	size_t ref = (size_t)_i;
	while (ref > 0 && strcmp(same_hash[ref - 1].group, same_hash[_i].group) == 0)
		ref--;
	struct plumb_manifest_set a, b;
	load(&a, same_hash[ref].yaml);
	load(&b, same_hash[_i].yaml);
	expect_clean(&a);
	expect_clean(&b);
	struct plumb_resource *ra = must_find(&a, same_hash[_i].kind, "ranker");
	struct plumb_resource *rb = must_find(&b, same_hash[_i].kind, "ranker");
	ck_assert_msg(strcmp(ra->hash, rb->hash) == 0, "group %s item %d: hash differs",
		      same_hash[_i].group, _i);
	ck_assert_str_eq(ra->physical, rb->physical);
	if (plumb_kind_info(same_hash[_i].kind)->immutable)
		expect_physical_hashed(rb, "ranker");
	else
		ck_assert_str_eq(rb->physical, "ranker");
	plumb_manifest_release(&a);
	plumb_manifest_release(&b);
}
END_TEST

/* Changing the model's image changes the model's physical name, which the config names, so
 * the config's hash and name change too. */
START_TEST(config_hash_follows_model_image)
{
	struct plumb_manifest_set a, b;
	load(&a, REALTIME_STACK);
	const char *other =
		"apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: ranker\nspec:\n"
		"  executionRoleArn: " ROLE "\n  primaryContainer:\n"
		"    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/ranker:1.0.1\n"
		"---\n" CONFIG_DOC("") "---\n" ENDPOINT_DOC;
	load(&b, other);
	expect_clean(&a);
	expect_clean(&b);
	struct plumb_resource *ma = must_find(&a, PLUMB_KIND_MODEL, "ranker");
	struct plumb_resource *mb = must_find(&b, PLUMB_KIND_MODEL, "ranker");
	struct plumb_resource *ca = must_find(&a, PLUMB_KIND_ENDPOINT_CONFIG, "ranker");
	struct plumb_resource *cb = must_find(&b, PLUMB_KIND_ENDPOINT_CONFIG, "ranker");
	struct plumb_resource *ea = must_find(&a, PLUMB_KIND_ENDPOINT, "ranker");
	struct plumb_resource *eb = must_find(&b, PLUMB_KIND_ENDPOINT, "ranker");
	ck_assert_str_ne(ma->hash, mb->hash);
	ck_assert_str_ne(ma->physical, mb->physical);
	/* the reference resolved to the model's physical name */
	ck_assert_str_eq(jstr(ca->spec, "ProductionVariants[0].ModelName"), ma->physical);
	ck_assert_str_eq(jstr(cb->spec, "ProductionVariants[0].ModelName"), mb->physical);
	ck_assert_ptr_null(jget(ca->spec, "ProductionVariants[0].plumb:modelRef"));
	ck_assert_str_ne(ca->hash, cb->hash);
	ck_assert_str_ne(ca->physical, cb->physical);
	expect_physical_hashed(ca, "ranker");
	/* the endpoint keeps its name and points at the new config */
	ck_assert_str_eq(ea->physical, "ranker");
	ck_assert_str_eq(eb->physical, "ranker");
	ck_assert_str_eq(jstr(ea->spec, "EndpointConfigName"), ca->physical);
	ck_assert_str_eq(jstr(eb->spec, "EndpointConfigName"), cb->physical);
	plumb_manifest_release(&a);
	plumb_manifest_release(&b);
}
END_TEST

/* ------------------------------------------------------------------ diagnostics */

#define ALARM_HEAD "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: a\nspec:\n"
#define VARIANT_HEAD                                                                       \
	"apiVersion: plumb/v1\nkind: EndpointConfig\nmetadata:\n  name: ranker\nspec:\n"  \
	"  productionVariants:\n"

#define NUL_DOC "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: r\0x\n"

static const struct {
	const char *what;
	const char *yaml;
	size_t len;      /* 0: strlen */
	unsigned line, col;
	const char *path;
	const char *msg; /* substring */
} bad[] = {
	{ "unknown field, did you mean", MODEL_DOC "  primaryContainr: {}\n", 0, 9, 3, "spec",
	  "unknown field \"primaryContainr\" (did you mean \"primaryContainer\"?)" },
	{ "unknown field, PascalCase",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: ranker\nspec:\n"
	  "  ExecutionRoleArn: " ROLE "\n", 0, 6, 3, "spec",
	  "unknown field \"ExecutionRoleArn\" (fields are lowerCamelCase: did you mean "
	  "\"executionRoleArn\"?)" },
	{ "unknown field, no suggestion", MODEL_DOC "  frobnicate: 1\n", 0, 9, 3, "spec",
	  "unknown field \"frobnicate\"" },
	{ "duplicate key", MODEL_DOC "  executionRoleArn: " ROLE "\n", 0, 9, 3, "spec",
	  "duplicate key \"executionRoleArn\" (first at line 6, column 3)" },
	{ "wrong type, quote hint",
	  "apiVersion: plumb/v1\nkind: Defaults\nmetadata:\n  name: org\nspec:\n"
	  "  accountId: 123456789012\n", 0, 6, 14, "spec.accountId",
	  "expected a string, found an integer (quote it: \"123456789012\")" },
	{ "wrong type, list for mapping", MODEL_DOC "  vpcConfig: [a]\n", 0, 9, 14, "spec.vpcConfig",
	  "expected a mapping, found a list" },
	{ "missing required field",
	  VARIANT_HEAD "    - modelName: ranker-0123abcd\n      instanceType: ml.c5.large\n"
		       "      initialInstanceCount: 1\n", 0, 7, 7, "spec.productionVariants[0]",
	  "missing required field \"variantName\"" },
	{ "out-of-range integer",
	  VARIANT_HEAD "    - variantName: v\n      modelName: ranker-0123abcd\n"
		       "      instanceType: ml.c5.large\n      initialInstanceCount: 0\n", 0, 10, 29,
	  "spec.productionVariants[0].initialInstanceCount", "0 must be at least 1" },
	{ "enum",
	  ALARM_HEAD "  namespace: AWS/SageMaker\n  metricName: Invocations\n  statistic: Mean\n"
		     "  period: 60\n  evaluationPeriods: 1\n  threshold: 1\n"
		     "  comparisonOperator: GreaterThanThreshold\n", 0, 8, 14, "spec.statistic",
	  "\"Mean\" is not one of: SampleCount, Average, Sum, Minimum, Maximum" },
	{ "enum, alarm operator",
	  ALARM_HEAD "  namespace: AWS/SageMaker\n  metricName: Invocations\n  statistic: Sum\n"
		     "  period: 60\n  evaluationPeriods: 1\n  threshold: 1\n"
		     "  comparisonOperator: \">=\"\n", 0, 12, 23, "spec.comparisonOperator",
	  "\">=\" is not one of: GreaterThanOrEqualToThreshold, " },
	{ "pattern",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: bad_name\nspec:\n"
	  "  executionRoleArn: " ROLE "\n", 0, 4, 9, "metadata.name",
	  "\"bad_name\" does not match the pattern " },
	{ "bad duration",
	  ALARM_HEAD "  namespace: AWS/SageMaker\n  metricName: Invocations\n  statistic: Sum\n"
		     "  period: 5 minutes\n  evaluationPeriods: 1\n  threshold: 1\n"
		     "  comparisonOperator: GreaterThanThreshold\n", 0, 9, 11, "spec.period",
	  "\"5 minutes\" is not a valid duration" },
	{ "dangling modelRef",
	  VARIANT_HEAD "    - variantName: v\n      modelRef: nope\n      instanceType: ml.c5.large\n"
		       "      initialInstanceCount: 1\n", 0, 8, 17,
	  "spec.productionVariants[0].modelRef", "Model \"nope\" referenced here does not exist" },
	{ "dangling endpointConfigRef", ENDPOINT_DOC, 0, 6, 22, "spec.endpointConfigRef",
	  "EndpointConfig \"ranker\" referenced here does not exist" },
	{ "duplicate name", MODEL_DOC "---\n" MODEL_DOC, 0, 13, 9, "metadata.name",
	  "duplicate name: Model \"ranker\" is also defined at test.yaml:1" },
	{ "duplicate name, case-insensitive for SageMaker",
	  MODEL_DOC "---\napiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: Ranker\nspec:\n"
		    "  executionRoleArn: " ROLE "\n", 0, 13, 9, "metadata.name",
	  "duplicate name: Model \"Ranker\" is also defined at test.yaml:1" },
	/* a reserved tag is reported at its key, the part that is wrong */
	{ "reserved tag",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: ranker\n  tags:\n"
	  "    plumb:owner: me\nspec:\n  executionRoleArn: " ROLE "\n", 0, 6, 5,
	  "metadata.tags.plumb:owner", "tag key \"plumb:owner\" is reserved" },
	{ "reserved tag, aws: in Defaults",
	  "apiVersion: plumb/v1\nkind: Defaults\nmetadata:\n  name: org\nspec:\n  tags:\n"
	  "    AWS:cost: x\n", 0, 7, 5, "spec.tags.AWS:cost", "tag key \"AWS:cost\" is reserved" },
	{ "name overflow after the hash suffix",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata:\n"
	  "  name: a234567890123456789012345678901234567890123456789012345\n"
	  "spec:\n  executionRoleArn: " ROLE "\n", 0, 4, 9, "metadata.name",
	  "is too long after the hash suffix: 64 characters with \"-xxxxxxxx\", at most 63 "
	  "(keep Model names to 54 characters)" },
	{ "tab indentation",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata:\n\tname: ranker\n", 0, 4, 1, "",
	  "tab character where YAML expects indentation: indent with spaces" },
	{ "invalid UTF-8",
	  "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: r\xff\xfe\n", 0, 4, 10, "",
	  "invalid UTF-8" },
	{ "NUL byte",
	  NUL_DOC, sizeof(NUL_DOC) - 1, 4, 10, "",
	  "control character (byte 0x00) is not allowed in a manifest" },
	{ "empty input", "", 0, 1, 1, "", "file holds no documents (empty, or only comments)" },
	{ "only comments", "# nothing here\n\n", 0, 1, 1, "",
	  "file holds no documents (empty, or only comments)" },
	{ "unknown kind",
	  "apiVersion: plumb/v1\nkind: ScalingPolicy\nmetadata:\n  name: x\nspec: {}\n", 0, 2, 7,
	  "", "unknown kind \"ScalingPolicy\"" },
	{ "apiVersion",
	  "apiVersion: plumb/v2\nkind: Topic\nmetadata:\n  name: x\nspec: {}\n", 0, 1, 13, "",
	  "unsupported apiVersion \"plumb/v2\"" },
	{ "missing spec", "apiVersion: plumb/v1\nkind: Topic\nmetadata:\n  name: x\n", 0, 1, 1, "",
	  "missing required field \"spec\"" },
};

START_TEST(diagnostics_table)
{
	struct plumb_manifest_set set;
	size_t len = bad[_i].len ? bad[_i].len : strlen(bad[_i].yaml);
	load_n(&set, bad[_i].yaml, len);
	ck_assert_msg(plumb_manifest_errors(&set) > 0, "%s: no error", bad[_i].what);
	expect_diag(&set, bad[_i].line, bad[_i].col, bad[_i].path, bad[_i].msg);
	plumb_manifest_release(&set);
}
END_TEST

/* Three independent mistakes in one document give three diagnostics in one run. */
START_TEST(all_errors_in_one_run)
{
	struct plumb_manifest_set set;
	load(&set, VARIANT_HEAD "    - variantName: v\n      modelName: ranker-0123abcd\n"
				"      instanceType: c5.large\n"
				"      initialInstanceCount: 0\n"
				"      initialVariantWieght: 1\n");
	ck_assert_msg(plumb_manifest_errors(&set) == 3, "want 3 errors, got:%s", diags_text(&set));
	expect_diag(&set, 9, 21, "spec.productionVariants[0].instanceType",
		    "\"c5.large\" does not match the pattern ml\\.[a-z0-9-]+\\.[a-z0-9]+");
	expect_diag(&set, 10, 29, "spec.productionVariants[0].initialInstanceCount",
		    "0 must be at least 1");
	expect_diag(&set, 11, 7, "spec.productionVariants[0]",
		    "unknown field \"initialVariantWieght\" (did you mean \"initialVariantWeight\"?)");
	plumb_manifest_release(&set);
}
END_TEST

/* Errors across documents and files are all collected too. */
START_TEST(errors_across_files)
{
	struct plumb_manifest_set set;
	plumb_manifest_init(&set);
	const char *a = MODEL_DOC "  frobnicate: 1\n";
	const char *b = "apiVersion: plumb/v1\nkind: Topic\nmetadata:\n  name: t\nspec:\n  nope: 1\n";
	ck_assert_int_eq(plumb_manifest_add(&set, "a.yaml", a, strlen(a)), 0);
	ck_assert_int_eq(plumb_manifest_add(&set, "b.yaml", b, strlen(b)), 0);
	ck_assert_int_eq(plumb_manifest_finish(&set), 0);
	ck_assert_uint_eq(plumb_manifest_errors(&set), 2);
	const struct plumb_diag *da = diag_with(&set, "frobnicate");
	const struct plumb_diag *db = diag_with(&set, "\"nope\"");
	ck_assert_ptr_nonnull(da);
	ck_assert_ptr_nonnull(db);
	ck_assert_str_eq(da->loc.file, "a.yaml");
	ck_assert_str_eq(db->loc.file, "b.yaml");
	ck_assert_uint_eq(db->loc.line, 6);
	plumb_manifest_release(&set);
}
END_TEST

/* An endpoint's rollback alarm whose action is a policy of the endpoint's own target: each needs
 * the next first. */
START_TEST(cyclic_reference)
{
	struct plumb_manifest_set set;
	load(&set, MODEL_DOC "---\n" CONFIG_DOC("") "---\n"
		   "apiVersion: plumb/v1\nkind: Endpoint\nmetadata:\n  name: ranker\nspec:\n"
		   "  endpointConfigRef: ranker\n"
		   "  deploymentConfig:\n    autoRollbackConfiguration:\n"
		   "      alarms:\n        - alarmRef: guard\n"
		   "---\n"
		   "apiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\nspec:\n"
		   "  endpointRef: ranker\n  variantName: primary\n  minCapacity: 1\n"
		   "  maxCapacity: 4\n  policies:\n    - name: up\n"
		   "      expression: \"SageMakerVariantInvocationsPerInstance = 100\"\n"
		   "---\n"
		   "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: guard\nspec:\n"
		   "  endpointRef: ranker\n  variantName: primary\n"
		   "  expression: \"Invocation5XXErrors sum >= 1\"\n"
		   "  alarmActions:\n    - policyRef: ranker/up\n");
	const struct plumb_diag *d = diag_with(&set, "cyclic reference: ");
	ck_assert_msg(d != NULL, "no cycle reported:%s", diags_text(&set));
	ck_assert_uint_eq(plumb_manifest_errors(&set), 1);
	/* the chain names every member of the cycle */
	ck_assert_ptr_nonnull(strstr(d->msg, "Endpoint/ranker"));
	ck_assert_ptr_nonnull(strstr(d->msg, "Alarm/guard"));
	ck_assert_ptr_nonnull(strstr(d->msg, "ScalingPolicy/ranker/up"));
	ck_assert_ptr_nonnull(strstr(d->msg, "ScalableTarget/ranker"));
	ck_assert_str_eq(d->loc.file, "test.yaml");
	ck_assert_uint_gt(d->loc.line, 0);
	plumb_manifest_release(&set);
}
END_TEST

/* The same endpoint guarded by an alarm on its own variant is not a cycle. */
START_TEST(rollback_alarm_is_not_a_cycle)
{
	struct plumb_manifest_set set;
	load(&set, MODEL_DOC "---\n" CONFIG_DOC("") "---\n"
		   "apiVersion: plumb/v1\nkind: Endpoint\nmetadata:\n  name: ranker\nspec:\n"
		   "  endpointConfigRef: ranker\n"
		   "  deploymentConfig:\n    autoRollbackConfiguration:\n"
		   "      alarms:\n        - alarmRef: guard\n"
		   "---\n"
		   "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: guard\nspec:\n"
		   "  endpointRef: ranker\n  variantName: primary\n"
		   "  expression: \"Invocation5XXErrors sum >= 1\"\n");
	expect_clean(&set);
	struct plumb_resource *e = must_find(&set, PLUMB_KIND_ENDPOINT, "ranker");
	ck_assert_str_eq(jstr(e->spec, "DeploymentConfig.AutoRollbackConfiguration.Alarms[0].AlarmName"),
			 "guard");
	plumb_manifest_release(&set);
}
END_TEST

/* "Billion laughs" shaped to what the walker follows: 4,000 aliases of a container with 100
 * environment entries would be 400,000 nodes. */
START_TEST(alias_bomb_is_bounded)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	plumb_buf_adds(&b, "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: bomb\n"
			   "  annotations:\n"
			   "    l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n"
			   "    l1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\n"
			   "    l2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]\n"
			   "    l3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]\n"
			   "    l4: &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]\n"
			   "    l5: &l5 [*l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4]\n"
			   "    l6: &l6 [*l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5]\n"
			   "    l7: &l7 [*l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6]\n"
			   "    l8: &l8 [*l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7]\n"
			   "spec:\n  executionRoleArn: " ROLE "\n  containers:\n"
			   "    - &c\n      image: " IMAGE "\n      environment:\n");
	for (int i = 0; i < 100; i++)
		plumb_buf_addf(&b, "        K%d: v\n", i);
	for (int i = 0; i < 4000; i++)
		plumb_buf_adds(&b, "    - *c\n");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct plumb_manifest_set set;
	load_n(&set, b.buf, b.len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 5.0, "alias bomb took %.2f s", secs);
	const struct plumb_diag *d =
		diag_with(&set, "anchors and aliases expand to more than 100000 nodes in this document");
	ck_assert_msg(d != NULL, "no budget error:%s", diags_text(&set));
	ck_assert_uint_eq(d->loc.line, 1);
	/* reported once, not once per node over the budget */
	size_t n = 0;
	for (size_t i = 0; i < set.diags.len; i++)
		n += strstr(((struct plumb_diag *)set.diags.items[i])->msg, "expand to more") != NULL;
	ck_assert_uint_eq(n, 1);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	ck_assert_msg(ru.ru_maxrss < 1024 * 1024, "max RSS %ld KiB", ru.ru_maxrss);
	plumb_manifest_release(&set);
	plumb_buf_release(&b);
}
END_TEST

/* ------------------------------------------------------------------ expansion */

START_TEST(policy_expressions_expand)
{
	struct plumb_manifest_set set;
	load(&set, "apiVersion: plumb/v1\nkind: Defaults\nmetadata:\n  name: org\nspec:\n"
		   "  namePrefix: ml-\n---\n" REALTIME_STACK "---\n"
		   "apiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\nspec:\n"
		   "  endpointRef: ranker\n  variantName: primary\n  minCapacity: 1\n"
		   "  maxCapacity: 4\n  policies:\n"
		   "    - name: invocations\n"
		   "      expression: \"SageMakerVariantInvocationsPerInstance = 1000\"\n"
		   "      scaleInCooldown: 10m\n      scaleOutCooldown: 60\n"
		   "    - name: backlog\n"
		   "      expression: \"ApproximateBacklogSizePerInstance average = 5\"\n");
	expect_clean(&set);
	struct plumb_resource *t = must_find(&set, PLUMB_KIND_SCALABLE_TARGET, "ranker");
	ck_assert_str_eq(t->physical, "endpoint/ml-ranker/variant/primary");
	ck_assert_str_eq(jstr(t->spec, "ResourceId"), "endpoint/ml-ranker/variant/primary");
	ck_assert_str_eq(jstr(t->spec, "ScalableDimension"), "sagemaker:variant:DesiredInstanceCount");
	ck_assert_int_eq(json_integer_value(jget(t->spec, "MinCapacity")), 1);
	ck_assert_int_eq(json_integer_value(jget(t->spec, "MaxCapacity")), 4);
	ck_assert_ptr_null(jget(t->spec, "plumb:policies"));
	ck_assert_ptr_null(jget(t->spec, "plumb:endpointRef"));

	struct plumb_resource *p = must_find(&set, PLUMB_KIND_SCALING_POLICY, "ranker/invocations");
	ck_assert_str_eq(p->physical, "invocations");
	ck_assert_str_eq(p->origin, "ScalableTarget/ranker");
	ck_assert_str_eq(jstr(p->spec, "PolicyType"), "TargetTrackingScaling");
	json_t *tt = jget(p->spec, "TargetTrackingScalingPolicyConfiguration");
	ck_assert_double_eq(json_number_value(jget(tt, "TargetValue")), 1000.0);
	ck_assert_str_eq(jstr(tt, "PredefinedMetricSpecification.PredefinedMetricType"),
			 "SageMakerVariantInvocationsPerInstance");
	ck_assert_ptr_null(jget(tt, "CustomizedMetricSpecification"));
	ck_assert_int_eq(json_integer_value(jget(tt, "ScaleInCooldown")), 600);
	ck_assert_int_eq(json_integer_value(jget(tt, "ScaleOutCooldown")), 60);

	p = must_find(&set, PLUMB_KIND_SCALING_POLICY, "ranker/backlog");
	ck_assert_str_eq(jstr(p->spec, "PolicyType"), "TargetTrackingScaling");
	tt = jget(p->spec, "TargetTrackingScalingPolicyConfiguration");
	ck_assert_double_eq(json_number_value(jget(tt, "TargetValue")), 5.0);
	ck_assert_ptr_null(jget(tt, "PredefinedMetricSpecification"));
	json_t *cm = jget(tt, "CustomizedMetricSpecification");
	ck_assert_str_eq(jstr(cm, "MetricName"), "ApproximateBacklogSizePerInstance");
	ck_assert_str_eq(jstr(cm, "Namespace"), "AWS/SageMaker");
	ck_assert_str_eq(jstr(cm, "Statistic"), "Average");
	ck_assert_uint_eq(json_array_size(jget(cm, "Dimensions")), 1);
	ck_assert_str_eq(jstr(cm, "Dimensions[0].Name"), "EndpointName");
	ck_assert_str_eq(jstr(cm, "Dimensions[0].Value"), "ml-ranker"); /* physical, prefixed */
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(alarm_expression_expands)
{
	struct plumb_manifest_set set;
	load(&set, REALTIME_STACK "---\n"
		   "apiVersion: plumb/v1\nkind: Topic\nmetadata:\n  name: alerts\nspec: {}\n---\n"
		   "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: ranker-5xx\nspec:\n"
		   "  endpointRef: ranker\n  variantName: primary\n"
		   "  expression: \"Invocation5XXErrors average >= 10\"\n"
		   "  alarmActions:\n    - topicRef: alerts\n"
		   "    - arn:aws:sns:us-east-1:123456789012:pager\n");
	expect_clean(&set);
	struct plumb_resource *a = must_find(&set, PLUMB_KIND_ALARM, "ranker-5xx");
	json_t *s = a->spec;
	ck_assert_str_eq(a->physical, "ranker-5xx");
	ck_assert_str_eq(jstr(s, "MetricName"), "Invocation5XXErrors");
	ck_assert_str_eq(jstr(s, "Namespace"), "AWS/SageMaker");
	ck_assert_str_eq(jstr(s, "Statistic"), "Average");
	ck_assert_ptr_null(jget(s, "ExtendedStatistic"));
	ck_assert_str_eq(jstr(s, "ComparisonOperator"), "GreaterThanOrEqualToThreshold");
	ck_assert_double_eq(json_number_value(jget(s, "Threshold")), 10.0);
	ck_assert_int_eq(json_integer_value(jget(s, "Period")), 60);
	ck_assert_int_eq(json_integer_value(jget(s, "EvaluationPeriods")), 1);
	ck_assert_uint_eq(json_array_size(jget(s, "Dimensions")), 2);
	ck_assert_str_eq(jstr(s, "Dimensions[0].Name"), "EndpointName");
	ck_assert_str_eq(jstr(s, "Dimensions[0].Value"), "ranker");
	ck_assert_str_eq(jstr(s, "Dimensions[1].Name"), "VariantName");
	ck_assert_str_eq(jstr(s, "Dimensions[1].Value"), "primary");
	ck_assert_str_eq(plumb_ref_marker_target(jget(s, "AlarmActions[0]")), "Topic/alerts");
	ck_assert_str_eq(jstr(s, "AlarmActions[1]"), "arn:aws:sns:us-east-1:123456789012:pager");
	/* plumb's own members are gone */
	const char *k;
	json_t *v;
	json_object_foreach(s, k, v)
		ck_assert_msg(strncmp(k, "plumb:", 6) != 0, "%s left in the spec", k);
	plumb_manifest_release(&set);
}
END_TEST

static const struct {
	const char *expr, *metric, *stat_key, *stat, *op;
	double threshold;
} alarm_exprs[] = {
	{ "Invocation5XXErrors average >= 10", "Invocation5XXErrors", "Statistic", "Average",
	  "GreaterThanOrEqualToThreshold", 10 },
	{ "ModelLatency p99 > 1.5e6", "ModelLatency", "ExtendedStatistic", "p99",
	  "GreaterThanThreshold", 1.5e6 },
	{ "Invocations sum < 1", "Invocations", "Statistic", "Sum", "LessThanThreshold", 1 },
	{ "CPUUtilization max <= 0.5", "CPUUtilization", "Statistic", "Maximum",
	  "LessThanOrEqualToThreshold", 0.5 },
};

START_TEST(alarm_expression_table)
{
	char yaml[2048];
	snprintf(yaml, sizeof(yaml), "%s---\napiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: x\n"
				     "spec:\n  endpointRef: ranker\n  variantName: primary\n"
				     "  expression: \"%s\"\n",
		 REALTIME_STACK, alarm_exprs[_i].expr);
	struct plumb_manifest_set set;
	load(&set, yaml);
	expect_clean(&set);
	json_t *s = must_find(&set, PLUMB_KIND_ALARM, "x")->spec;
	ck_assert_str_eq(jstr(s, "MetricName"), alarm_exprs[_i].metric);
	ck_assert_str_eq(jstr(s, alarm_exprs[_i].stat_key), alarm_exprs[_i].stat);
	ck_assert_str_eq(jstr(s, "ComparisonOperator"), alarm_exprs[_i].op);
	ck_assert_double_eq(json_number_value(jget(s, "Threshold")), alarm_exprs[_i].threshold);
	plumb_manifest_release(&set);
}
END_TEST

#define SCALE_TO_ZERO                                                                      \
	"apiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\nspec:\n"  \
	"  endpointRef: ranker\n  variantName: primary\n  maxCapacity: 2\n"                \
	"  scaleToZero:\n    backlogPerInstance: 2.5\n"

/* plumb/paused: "true" pauses a resource and what its shorthand generates, nothing else. */
START_TEST(paused_annotation)
{
	struct plumb_manifest_set set;
	const char *paused = "apiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n"
			     "  name: ranker\n  annotations: {plumb/paused: \"true\"}\nspec:\n"
			     "  endpointRef: ranker\n  variantName: primary\n  maxCapacity: 2\n"
			     "  scaleToZero:\n    backlogPerInstance: 2.5\n";
	char text[4096];
	snprintf(text, sizeof(text), "%s---\n%s", ASYNC_STACK, paused);
	load(&set, text);
	expect_clean(&set);
	ck_assert(must_find(&set, PLUMB_KIND_SCALABLE_TARGET, "ranker")->paused);
	ck_assert(must_find(&set, PLUMB_KIND_SCALING_POLICY, "ranker/scale-from-zero")->paused);
	ck_assert(!must_find(&set, PLUMB_KIND_ENDPOINT, "ranker")->paused);
	plumb_manifest_release(&set);
	snprintf(text, sizeof(text), "%s---\n%s", ASYNC_STACK, paused);
	char *at = strstr(text, "\"true\"");
	memcpy(at, "\"yes\" ", 6);
	load(&set, text);
	ck_assert_ptr_nonnull(diag_with(&set, "expected \"true\" or \"false\", found yes"));
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(scale_to_zero_expands)
{
	struct plumb_manifest_set set;
	load(&set, ASYNC_STACK "---\n" SCALE_TO_ZERO);
	expect_clean(&set);
	struct plumb_resource *t = must_find(&set, PLUMB_KIND_SCALABLE_TARGET, "ranker");
	ck_assert(json_is_integer(jget(t->spec, "MinCapacity")));
	ck_assert_int_eq(json_integer_value(jget(t->spec, "MinCapacity")), 0);
	ck_assert_int_eq(json_integer_value(jget(t->spec, "MaxCapacity")), 2);
	ck_assert_ptr_null(jget(t->spec, "plumb:scaleToZero"));

	struct plumb_resource *track = must_find(&set, PLUMB_KIND_SCALING_POLICY,
						 "ranker/scale-on-backlog");
	ck_assert_str_eq(track->physical, "scale-on-backlog");
	ck_assert_str_eq(jstr(track->spec, "PolicyType"), "TargetTrackingScaling");
	json_t *tt = jget(track->spec, "TargetTrackingScalingPolicyConfiguration");
	ck_assert_double_eq(json_number_value(jget(tt, "TargetValue")), 2.5);
	ck_assert_str_eq(jstr(tt, "CustomizedMetricSpecification.MetricName"),
			 "ApproximateBacklogSizePerInstance");
	ck_assert_str_eq(jstr(tt, "CustomizedMetricSpecification.Dimensions[0].Value"), "ranker");

	struct plumb_resource *step = must_find(&set, PLUMB_KIND_SCALING_POLICY,
						"ranker/scale-from-zero");
	ck_assert_str_eq(step->physical, "scale-from-zero");
	ck_assert_str_eq(jstr(step->spec, "PolicyType"), "StepScaling");
	ck_assert_str_eq(jstr(step->spec, "StepScalingPolicyConfiguration.AdjustmentType"),
			 "ChangeInCapacity");
	ck_assert_int_eq(json_integer_value(jget(step->spec,
		"StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment")), 1);

	struct plumb_resource *a = must_find(&set, PLUMB_KIND_ALARM, "ranker-scale-from-zero");
	ck_assert_str_eq(a->physical, "ranker-scale-from-zero");
	ck_assert_str_eq(a->origin, "ScalableTarget/ranker");
	ck_assert_str_eq(jstr(a->spec, "MetricName"), "HasBacklogWithoutCapacity");
	ck_assert_str_eq(jstr(a->spec, "Namespace"), "AWS/SageMaker");
	ck_assert_str_eq(jstr(a->spec, "ComparisonOperator"), "GreaterThanOrEqualToThreshold");
	ck_assert_uint_eq(json_array_size(jget(a->spec, "Dimensions")), 1);
	ck_assert_str_eq(jstr(a->spec, "Dimensions[0].Name"), "EndpointName");
	ck_assert_str_eq(jstr(a->spec, "Dimensions[0].Value"), "ranker");
	ck_assert_uint_eq(json_array_size(jget(a->spec, "AlarmActions")), 1);
	ck_assert_str_eq(plumb_ref_marker_target(jget(a->spec, "AlarmActions[0]")),
			 "ScalingPolicy/ranker/scale-from-zero");
	/* the alarm waits for the policy whose ARN it needs */
	bool dep = false;
	for (size_t i = 0; i < a->deps.len; i++)
		dep |= a->deps.items[i] == step;
	ck_assert(dep);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(defaults_apply)
{
	struct plumb_manifest_set set;
	load(&set, "apiVersion: plumb/v1\nkind: Defaults\nmetadata:\n  name: org\nspec:\n"
		   "  region: us-east-1\n  accountId: \"123456789012\"\n  owner: ml-platform\n"
		   "  namePrefix: ml-\n  tags:\n    org: acme\n    env: prod\n---\n"
		   "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: ranker\n  tags:\n"
		   "    env: dev\n    team: a\nspec:\n  executionRoleArn: " ROLE "\n"
		   "  primaryContainer:\n    image: " IMAGE "\n---\n"
		   "apiVersion: plumb/v1\nkind: Model\nmetadata:\n  name: other\n"
		   "  region: eu-west-1\nspec:\n  executionRoleArn: " ROLE "\n"
		   "  primaryContainer:\n    image: " IMAGE "\n---\n"
		   CONFIG_DOC("") "---\n" ENDPOINT_DOC);
	expect_clean(&set);
	ck_assert_str_eq(set.region, "us-east-1");
	ck_assert_str_eq(set.account, "123456789012");
	ck_assert_str_eq(set.owner, "ml-platform");
	struct plumb_resource *m = must_find(&set, PLUMB_KIND_MODEL, "ranker");
	expect_physical_hashed(m, "ml-ranker");
	ck_assert_str_eq(m->region, "us-east-1");
	ck_assert_str_eq(m->account, "123456789012");
	ck_assert_str_eq(jstr(m->tags, "org"), "acme");
	ck_assert_str_eq(jstr(m->tags, "env"), "dev"); /* the document's own tag wins */
	ck_assert_str_eq(jstr(m->tags, "team"), "a");
	ck_assert_uint_eq(json_object_size(m->tags), 3);
	struct plumb_resource *o = must_find(&set, PLUMB_KIND_MODEL, "other");
	ck_assert_str_eq(o->region, "eu-west-1");
	ck_assert_str_eq(jstr(o->tags, "env"), "prod");
	expect_physical_hashed(o, "ml-other");
	/* the prefix is not hashed: the same spec gives the same hash suffix */
	ck_assert_str_eq(o->hash, m->hash);
	struct plumb_resource *c = must_find(&set, PLUMB_KIND_ENDPOINT_CONFIG, "ranker");
	expect_physical_hashed(c, "ml-ranker");
	ck_assert_str_eq(jstr(c->spec, "ProductionVariants[0].ModelName"), m->physical);
	struct plumb_resource *e = must_find(&set, PLUMB_KIND_ENDPOINT, "ranker");
	ck_assert_str_eq(e->physical, "ml-ranker");
	ck_assert_str_eq(jstr(e->spec, "EndpointConfigName"), c->physical);
	/* Defaults are settings, not resources */
	ck_assert_ptr_null(plumb_manifest_find(&set, PLUMB_KIND_DEFAULTS, "org"));
	plumb_manifest_release(&set);
}
END_TEST

/* A shorthand and the full form it stands for are one spec: switching between them must not
 * look like a change. */
START_TEST(shorthand_hashes_like_full_form)
{
	struct plumb_manifest_set a, b;
	load(&a, REALTIME_STACK "---\n"
		 "apiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\nspec:\n"
		 "  endpointRef: ranker\n  variantName: primary\n  minCapacity: 1\n  maxCapacity: 4\n"
		 "  policies:\n    - name: inv\n"
		 "      expression: \"SageMakerVariantInvocationsPerInstance = 1000\"\n"
		 "      scaleInCooldown: 10m\n---\n"
		 "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: x\nspec:\n"
		 "  endpointRef: ranker\n  variantName: primary\n"
		 "  expression: \"Invocation5XXErrors average >= 10\"\n");
	load(&b, REALTIME_STACK "---\n"
		 "apiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\nspec:\n"
		 "  resourceId: endpoint/ranker/variant/primary\n  minCapacity: 1\n  maxCapacity: 4\n"
		 "  policies:\n    - name: inv\n      policyType: TargetTrackingScaling\n"
		 "      targetTrackingScalingPolicyConfiguration:\n"
		 "        targetValue: 1000\n        scaleInCooldown: 600\n"
		 "        predefinedMetricSpecification:\n"
		 "          predefinedMetricType: SageMakerVariantInvocationsPerInstance\n---\n"
		 "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: x\nspec:\n"
		 "  namespace: AWS/SageMaker\n  metricName: Invocation5XXErrors\n  statistic: Average\n"
		 "  dimensions:\n    - {name: EndpointName, value: ranker}\n"
		 "    - {name: VariantName, value: primary}\n"
		 "  period: 1m\n  evaluationPeriods: 1\n  threshold: 10\n"
		 "  comparisonOperator: GreaterThanOrEqualToThreshold\n");
	expect_clean(&a);
	expect_clean(&b);
	ck_assert_str_eq(must_find(&a, PLUMB_KIND_SCALABLE_TARGET, "ranker")->hash,
			 must_find(&b, PLUMB_KIND_SCALABLE_TARGET, "ranker")->hash);
	ck_assert_str_eq(must_find(&a, PLUMB_KIND_SCALING_POLICY, "ranker/inv")->hash,
			 must_find(&b, PLUMB_KIND_SCALING_POLICY, "ranker/inv")->hash);
	ck_assert_str_eq(must_find(&a, PLUMB_KIND_ALARM, "x")->hash,
			 must_find(&b, PLUMB_KIND_ALARM, "x")->hash);
	plumb_manifest_release(&a);
	plumb_manifest_release(&b);
}
END_TEST

/* ------------------------------------------------------------------ lints */

static const struct {
	const char *what, *yaml, *path, *msg;
} lints[] = {
	{ "minCapacity 0 on a real-time endpoint",
	  REALTIME_STACK "---\napiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\n"
	  "spec:\n  endpointRef: ranker\n  variantName: primary\n  minCapacity: 0\n  maxCapacity: 2\n",
	  "spec.minCapacity",
	  "minCapacity 0 works only for asynchronous endpoints: Endpoint \"ranker\" has no "
	  "asyncInferenceConfig" },
	{ "minCapacity 0 on an async endpoint without a wake alarm",
	  ASYNC_STACK "---\napiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\n"
	  "spec:\n  endpointRef: ranker\n  variantName: primary\n  minCapacity: 0\n  maxCapacity: 2\n",
	  "spec.minCapacity", "the variant would never wake from zero" },
	{ "InvocationsPerInstance on an async endpoint",
	  ASYNC_STACK "---\napiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\n"
	  "spec:\n  endpointRef: ranker\n  variantName: primary\n  minCapacity: 1\n  maxCapacity: 2\n"
	  "  policies:\n    - name: inv\n"
	  "      expression: \"SageMakerVariantInvocationsPerInstance = 100\"\n",
	  "spec.policies[0]",
	  "SageMakerVariantInvocationsPerInstance is not published by asynchronous endpoints" },
	{ "variant-level alarm metric without variantName",
	  REALTIME_STACK "---\napiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: x\nspec:\n"
	  "  endpointRef: ranker\n  expression: \"Invocation5XXErrors average >= 10\"\n",
	  "spec.endpointRef",
	  "metric Invocation5XXErrors is published per variant: add variantName" },
	{ "endpoint-level metric with variantName",
	  ASYNC_STACK "---\napiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: x\nspec:\n"
	  "  endpointRef: ranker\n  variantName: primary\n"
	  "  expression: \"ApproximateBacklogSize average > 100\"\n",
	  "spec.variantName", "metric ApproximateBacklogSize is published per endpoint" },
	{ "variant missing from the config",
	  REALTIME_STACK "---\napiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\n"
	  "spec:\n  endpointRef: ranker\n  variantName: secondary\n  minCapacity: 1\n  maxCapacity: 2\n",
	  "spec.variantName", "variant \"secondary\" does not exist in EndpointConfig \"ranker\"" },
};

START_TEST(lint_table)
{
	struct plumb_manifest_set set;
	load(&set, lints[_i].yaml);
	const struct plumb_diag *d = diag_with(&set, lints[_i].msg);
	ck_assert_msg(d != NULL, "%s: not reported; got:%s", lints[_i].what, diags_text(&set));
	ck_assert_str_eq(d->path, lints[_i].path);
	ck_assert_msg(plumb_manifest_errors(&set) == 1, "%s: want exactly one error:%s",
		      lints[_i].what, diags_text(&set));
	ck_assert_str_eq(d->loc.file, "test.yaml");
	ck_assert_uint_gt(d->loc.line, 20); /* in the last document, not at the top */
	plumb_manifest_release(&set);
}
END_TEST

/* ------------------------------------------------------------------ order */

static size_t index_of(const struct plumb_manifest_set *set, const struct plumb_resource *r)
{
	for (size_t i = 0; i < set->resources.len; i++)
		if (set->resources.items[i] == r)
			return i;
	ck_abort_msg("resource not in the list");
	return 0;
}

START_TEST(dependency_order)
{
	/* written backwards on purpose */
	struct plumb_manifest_set set;
	load(&set, "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: bump\nspec:\n"
		   "  endpointRef: ranker\n  variantName: primary\n"
		   "  expression: \"Invocation5XXErrors sum >= 1\"\n"
		   "  alarmActions:\n    - policyRef: ranker/step\n---\n"
		   "apiVersion: plumb/v1\nkind: ScalableTarget\nmetadata:\n  name: ranker\nspec:\n"
		   "  endpointRef: ranker\n  variantName: primary\n  minCapacity: 1\n"
		   "  maxCapacity: 4\n  policies:\n    - name: step\n      policyType: StepScaling\n"
		   "      stepScalingPolicyConfiguration:\n        adjustmentType: ChangeInCapacity\n"
		   "        stepAdjustments:\n          - metricIntervalLowerBound: 0\n"
		   "            scalingAdjustment: 1\n---\n"
		   ENDPOINT_DOC "---\n" CONFIG_DOC("") "---\n" MODEL_DOC);
	expect_clean(&set);
	ck_assert_uint_eq(set.resources.len, 6);
	size_t m = index_of(&set, must_find(&set, PLUMB_KIND_MODEL, "ranker"));
	size_t c = index_of(&set, must_find(&set, PLUMB_KIND_ENDPOINT_CONFIG, "ranker"));
	size_t e = index_of(&set, must_find(&set, PLUMB_KIND_ENDPOINT, "ranker"));
	size_t t = index_of(&set, must_find(&set, PLUMB_KIND_SCALABLE_TARGET, "ranker"));
	size_t p = index_of(&set, must_find(&set, PLUMB_KIND_SCALING_POLICY, "ranker/step"));
	size_t a = index_of(&set, must_find(&set, PLUMB_KIND_ALARM, "bump"));
	ck_assert_msg(m < c && c < e && e < t && t < p && p < a,
		      "order model %zu config %zu endpoint %zu target %zu policy %zu alarm %zu", m, c,
		      e, t, p, a);
	/* and each resource's dependencies come before it */
	for (size_t i = 0; i < set.resources.len; i++) {
		struct plumb_resource *r = set.resources.items[i];
		for (size_t j = 0; j < r->deps.len; j++)
			ck_assert_uint_lt(index_of(&set, r->deps.items[j]), i);
	}
	plumb_manifest_release(&set);
}
END_TEST

/* ------------------------------------------------------------------ reports */

START_TEST(render_yaml_reparses)
{
	struct plumb_manifest_set set;
	load(&set, "apiVersion: plumb/v1\nkind: Defaults\nmetadata:\n  name: org\nspec:\n"
		   "  region: us-east-1\n  accountId: \"012345678901\"\n  tags: {org: acme}\n---\n"
		   ASYNC_STACK "---\n" SCALE_TO_ZERO "---\n"
		   "apiVersion: plumb/v1\nkind: Topic\nmetadata:\n  name: alerts\nspec:\n"
		   "  attributes:\n    DisplayName: \"yes\"\n---\n"
		   "apiVersion: plumb/v1\nkind: Alarm\nmetadata:\n  name: \"true\"\nspec:\n"
		   "  alarmDescription: \"null\"\n"
		   "  endpointRef: ranker\n  expression: \"ApproximateBacklogSize average > 100\"\n"
		   "  alarmActions:\n    - topicRef: alerts\n");
	expect_clean(&set);
	struct plumb_buf out = PLUMB_BUF_INIT;
	ck_assert_int_eq(plumb_manifest_render_yaml(&set, &out), 0);
	ck_assert_uint_gt(out.len, 0);

	yaml_parser_t p;
	ck_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)out.buf, out.len);
	size_t docs = 0;
	bool saw_string_true = false;
	for (;;) {
		yaml_document_t d;
		ck_assert_msg(yaml_parser_load(&p, &d), "rendered YAML does not parse: %s at line %zu\n%s",
			      p.problem ? p.problem : "?", p.problem_mark.line + 1, out.buf);
		yaml_node_t *root = yaml_document_get_root_node(&d);
		if (!root) {
			yaml_document_delete(&d);
			break;
		}
		ck_assert_int_eq(root->type, YAML_MAPPING_NODE);
		/* strings that YAML would read as something else stay strings */
		for (yaml_node_t *n = d.nodes.start; n < d.nodes.top; n++)
			if (n->type == YAML_SCALAR_NODE && !strcmp((char *)n->data.scalar.value, "true") &&
			    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
				saw_string_true = true;
		docs++;
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	ck_assert_uint_eq(docs, set.resources.len);
	ck_assert(saw_string_true);
	/* the account is quoted so it keeps its leading zero */
	ck_assert_ptr_nonnull(strstr(out.buf, "\"012345678901\""));
	ck_assert_ptr_nonnull(strstr(out.buf, "plumb/generated-by: ScalableTarget/ranker"));
	ck_assert_ptr_nonnull(strstr(out.buf, "policyRef: ranker/scale-from-zero"));
	plumb_buf_release(&out);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(report_json_lists_errors)
{
	struct plumb_manifest_set set;
	load(&set, "apiVersion: plumb/v1\nkind: Defaults\nmetadata:\n  name: org\nspec:\n"
		   "  accountId: 123456789012\n");
	json_t *r = plumb_manifest_report_json(&set);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_false(json_object_get(r, "valid")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "files")), 1);
	json_t *errs = json_object_get(r, "errors");
	ck_assert_uint_eq(json_array_size(errs), 1);
	json_t *e = json_array_get(errs, 0);
	ck_assert_str_eq(jstr(e, "file"), "test.yaml");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "line")), 6);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "column")), 14);
	ck_assert_str_eq(jstr(e, "path"), "spec.accountId");
	ck_assert_str_eq(jstr(e, "message"),
			 "expected a string, found an integer (quote it: \"123456789012\")");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "warnings")), 0);
	json_decref(r);
	plumb_manifest_release(&set);

	load(&set, REALTIME_STACK);
	r = plumb_manifest_report_json(&set);
	ck_assert(json_is_true(json_object_get(r, "valid")));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "errors")), 0);
	ck_assert_int_eq(json_integer_value(jget(r, "documents.Model")), 1);
	ck_assert_int_eq(json_integer_value(jget(r, "resources.Endpoint")), 1);
	json_decref(r);
	plumb_manifest_release(&set);
}
END_TEST

START_TEST(render_diags_quotes_source)
{
	struct plumb_manifest_set set;
	load(&set, "apiVersion: plumb/v1\nkind: Defaults\nmetadata:\n  name: org\nspec:\n"
		   "  accountId: 123456789012\n");
	struct plumb_buf out = PLUMB_BUF_INIT;
	ck_assert_int_eq(plumb_manifest_render_diags(&set, &out, false), 0);
	ck_assert_str_eq(out.buf,
			 "test.yaml:6:14: error: spec.accountId: expected a string, found an integer "
			 "(quote it: \"123456789012\")\n"
			 "      6 |   accountId: 123456789012\n"
			 "        |              ^\n");
	plumb_buf_release(&out);
	plumb_manifest_release(&set);
}
END_TEST

/* ------------------------------------------------------------------ known bugs
 *
 * Failing tests for bugs in pkg/manifest, kept out of the suite (see manifest_suite) until the
 * lead fixes them (see the end of manifest_suite). */

/* parse.c walk_scalar reads integers with strtoll(v, NULL, 0): a leading 0 makes C octal, so
 * YAML 1.2 core decimal "060" becomes 48 and "08" becomes 0 (then "08 must be at least 1"). */
START_TEST(bug_leading_zero_integer_read_as_c_octal)
{
	struct plumb_manifest_set set;
	load(&set, ALARM_HEAD "  namespace: AWS/SageMaker\n  metricName: Invocations\n"
			      "  statistic: Sum\n  period: 060\n  evaluationPeriods: 08\n"
			      "  threshold: 1\n  comparisonOperator: GreaterThanThreshold\n");
	expect_clean(&set);
	json_t *s = must_find(&set, PLUMB_KIND_ALARM, "a")->spec;
	ck_assert_int_eq(json_integer_value(jget(s, "Period")), 60);
	ck_assert_int_eq(json_integer_value(jget(s, "EvaluationPeriods")), 8);
	plumb_manifest_release(&set);
}
END_TEST

/* parse.c walk_scalar, PLUMB_T_DOUBLE: an integer the scanner accepts as YAML 1.2 octal ("0o17")
 * goes through strtod, which stops at the "o": the threshold silently becomes 0. */
START_TEST(bug_octal_for_number_field_becomes_zero)
{
	struct plumb_manifest_set set;
	load(&set, ALARM_HEAD "  namespace: AWS/SageMaker\n  metricName: Invocations\n"
			      "  statistic: Sum\n  period: 60\n  evaluationPeriods: 1\n"
			      "  threshold: 0o17\n  comparisonOperator: GreaterThanThreshold\n");
	expect_clean(&set);
	json_t *s = must_find(&set, PLUMB_KIND_ALARM, "a")->spec;
	ck_assert_double_eq(json_number_value(jget(s, "Threshold")), 15.0);
	plumb_manifest_release(&set);
}
END_TEST

/* resolve.c expand_alarm: a member written but refused by the parser (out of range) is dropped
 * from the spec, and then reported a second time as "missing required field": one mistake,
 * two errors, the second one wrong. */
START_TEST(bug_invalid_member_also_reported_missing)
{
	struct plumb_manifest_set set;
	load(&set, ALARM_HEAD "  namespace: AWS/SageMaker\n  metricName: Invocations\n"
			      "  statistic: Sum\n  period: 60\n  evaluationPeriods: 0\n"
			      "  threshold: 1\n  comparisonOperator: GreaterThanThreshold\n");
	ck_assert_msg(plumb_manifest_errors(&set) == 1, "want one error:%s", diags_text(&set));
	expect_diag(&set, 10, 22, "spec.evaluationPeriods", "0 must be at least 1");
	plumb_manifest_release(&set);
}
END_TEST

/* parse.c key_ok compares each key with every earlier key of its mapping, outside the node
 * budget: a 0.8 MB file with one 60,000-key mapping takes ~12 s, a 16 MiB one over an hour. */
START_TEST(bug_duplicate_key_check_is_quadratic)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	plumb_buf_adds(&b, "apiVersion: plumb/v1\nkind: Topic\nmetadata:\n  name: t\n"
			   "  annotations:\n");
	for (int i = 0; i < 60000; i++)
		plumb_buf_addf(&b, "    k%d: v\n", i);
	plumb_buf_adds(&b, "spec: {}\n");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct plumb_manifest_set set;
	load_n(&set, b.buf, b.len);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 2.0, "60,000 keys took %.2f s", secs);
	plumb_manifest_release(&set);
	plumb_buf_release(&b);
}
END_TEST

Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("manifest");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, hash_stable_through_yaml, 0, (int)PLUMB_ARRAY_LEN(same_hash));
	tcase_add_test(tc, config_hash_follows_model_image);
	tcase_add_loop_test(tc, diagnostics_table, 0, (int)PLUMB_ARRAY_LEN(bad));
	tcase_add_test(tc, all_errors_in_one_run);
	tcase_add_test(tc, errors_across_files);
	tcase_add_test(tc, cyclic_reference);
	tcase_add_test(tc, rollback_alarm_is_not_a_cycle);
	tcase_add_test(tc, alias_bomb_is_bounded);
	tcase_add_test(tc, policy_expressions_expand);
	tcase_add_test(tc, alarm_expression_expands);
	tcase_add_loop_test(tc, alarm_expression_table, 0, (int)PLUMB_ARRAY_LEN(alarm_exprs));
	tcase_add_test(tc, scale_to_zero_expands);
	tcase_add_test(tc, paused_annotation);
	tcase_add_test(tc, defaults_apply);
	tcase_add_test(tc, shorthand_hashes_like_full_form);
	tcase_add_loop_test(tc, lint_table, 0, (int)PLUMB_ARRAY_LEN(lints));
	tcase_add_test(tc, dependency_order);
	tcase_add_test(tc, render_yaml_reparses);
	tcase_add_test(tc, report_json_lists_errors);
	tcase_add_test(tc, render_diags_quotes_source);
	suite_add_tcase(s, tc);

	/* regressions: each failed before its fix in pkg/manifest/parse.c */
	TCase *bugs = tcase_create("regressions");
	tcase_set_timeout(bugs, 120);
	tcase_add_test(bugs, bug_leading_zero_integer_read_as_c_octal);
	tcase_add_test(bugs, bug_octal_for_number_field_becomes_zero);
	tcase_add_test(bugs, bug_invalid_member_also_reported_missing);
	tcase_add_test(bugs, bug_duplicate_key_check_is_quadratic);
	suite_add_tcase(s, bugs);
	return s;
}

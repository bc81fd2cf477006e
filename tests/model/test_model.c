/* pkg/model: generated patterns, durations, the kind table, reference markers, canonical form
 * and the spec hash. */
#include "model/model.h"
#include "test.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string.h>

/* ------------------------------------------------------------------ patterns */

START_TEST(every_pattern_compiles)
{
	ck_assert_uint_gt(plumb_n_patterns, 0);
	for (size_t i = 0; i < plumb_n_patterns; i++) {
		int ec = 0;
		PCRE2_SIZE eo = 0;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)plumb_patterns[i], PCRE2_ZERO_TERMINATED,
					       PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
		ck_assert_msg(re != NULL, "pattern %zu (%s) does not compile: error %d at offset %zu",
			      i, plumb_patterns[i], ec, (size_t)eo);
		pcre2_code_free(re);
	}
}
END_TEST

/* Every pattern index a shape uses is in range, at any depth. */
static void check_shape_patterns(const struct plumb_shape *s, int depth)
{
	if (!s || depth > 40)
		return;
	ck_assert_msg(s->pattern < (int)plumb_n_patterns, "shape %s: pattern %d out of range",
		      s->name, s->pattern);
	for (size_t i = 0; i < s->n_members; i++)
		check_shape_patterns(s->members[i].shape, depth + 1);
	check_shape_patterns(s->item, depth + 1);
	check_shape_patterns(s->key, depth + 1);
}

START_TEST(shape_pattern_indexes_in_range)
{
	for (int k = 0; k < PLUMB_KIND__COUNT; k++) {
		check_shape_patterns(plumb_kind_info(k)->spec, 0);
		check_shape_patterns(plumb_kind_info(k)->meta, 0);
	}
	check_shape_patterns(&plumb_gen_policy_shape, 0);
}
END_TEST

/* ------------------------------------------------------------------ durations */

static const struct {
	const char *in;
	int64_t want;
} durations[] = {
	{ "90", 90 },
	{ "0", 0 },
	{ "90s", 90 },
	{ "5m", 300 },
	{ "1h30m", 5400 },
	{ "2h", 7200 },
	{ "1h1m1s", 3661 },
	{ "1h30s", 3630 },
	{ "10m0s", 600 },
	{ "", -1 },
	{ "5 minutes", -1 },
	{ "-5m", -1 },
	{ "+5m", -1 },
	{ "1m1h", -1 },
	{ "1s1m", -1 },
	{ "5m5m", -1 },
	{ "m", -1 },
	{ "h30m", -1 },
	{ "1.5h", -1 },
	{ "5", 5 },
	{ "5d", -1 },
	{ "5M", -1 },
	{ "5m ", -1 },
	{ " 5m", -1 },
	{ "5s5", -1 },
	{ "1234567890h", -1 },        /* a unit count of 10+ digits is refused, never wraps */
	{ "99999999999999999999m", -1 },
	{ "99999999999999999999", -1 }, /* 20 plain digits would overflow int64 arithmetic */
	{ "9999999999999", -1 },
};

START_TEST(parse_duration_table)
{
	int64_t got = plumb_parse_duration(durations[_i].in);
	ck_assert_msg(got == durations[_i].want, "plumb_parse_duration(\"%s\") = %lld, want %lld",
		      durations[_i].in, (long long)got, (long long)durations[_i].want);
}
END_TEST

/* ------------------------------------------------------------------ kinds */

START_TEST(kind_names_round_trip)
{
	static const char *const names[PLUMB_KIND__COUNT] = {
		[PLUMB_KIND_MODEL] = "Model", [PLUMB_KIND_ENDPOINT_CONFIG] = "EndpointConfig",
		[PLUMB_KIND_ENDPOINT] = "Endpoint", [PLUMB_KIND_SCALABLE_TARGET] = "ScalableTarget",
		[PLUMB_KIND_SCALING_POLICY] = "ScalingPolicy", [PLUMB_KIND_ALARM] = "Alarm",
		[PLUMB_KIND_TOPIC] = "Topic", [PLUMB_KIND_DEFAULTS] = "Defaults",
	};
	for (int k = 0; k < PLUMB_KIND__COUNT; k++) {
		ck_assert_str_eq(plumb_kind_name(k), names[k]);
		const struct plumb_kind_info *ki = plumb_kind_info(k);
		ck_assert_ptr_nonnull(ki);
		ck_assert_int_eq(ki->kind, k);
		ck_assert_str_eq(ki->name, names[k]);
		ck_assert_ptr_nonnull(ki->spec);
		ck_assert_ptr_nonnull(ki->meta);
		if (k == PLUMB_KIND_SCALING_POLICY) {
			/* generated from ScalableTarget.policies, never a document kind */
			ck_assert(!ki->manifest);
			ck_assert_int_eq(plumb_kind_from_name(names[k]), -1);
		} else {
			ck_assert(ki->manifest);
			ck_assert_int_eq(plumb_kind_from_name(names[k]), k);
		}
	}
	ck_assert_int_eq(plumb_kind_from_name("model"), -1);
	ck_assert_int_eq(plumb_kind_from_name("MODEL"), -1);
	ck_assert_int_eq(plumb_kind_from_name(""), -1);
	ck_assert_int_eq(plumb_kind_from_name("Models"), -1);
	ck_assert_str_eq(plumb_kind_name(PLUMB_KIND__COUNT), "Unknown");
	ck_assert_ptr_null(plumb_kind_info(PLUMB_KIND__COUNT));
	/* immutable kinds are exactly the two SageMaker ones without an update call */
	ck_assert(plumb_kind_info(PLUMB_KIND_MODEL)->immutable);
	ck_assert(plumb_kind_info(PLUMB_KIND_ENDPOINT_CONFIG)->immutable);
	ck_assert(!plumb_kind_info(PLUMB_KIND_ENDPOINT)->immutable);
	ck_assert_int_eq(plumb_kind_info(PLUMB_KIND_MODEL)->name_max, 63);
}
END_TEST

START_TEST(shape_member_lookups)
{
	const struct plumb_shape *s = plumb_kind_info(PLUMB_KIND_MODEL)->spec;
	const struct plumb_member *m = plumb_shape_member(s, "executionRoleArn");
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->aws, "ExecutionRoleArn");
	ck_assert_ptr_eq(plumb_shape_member_aws(s, "ExecutionRoleArn"), m);
	ck_assert_ptr_null(plumb_shape_member(s, "ExecutionRoleArn"));
	ck_assert_ptr_null(plumb_shape_member_aws(s, "executionRoleArn"));
	const struct plumb_member *eni = plumb_shape_member(s, "enableNetworkIsolation");
	ck_assert_ptr_nonnull(eni);
	ck_assert_str_eq(eni->dflt, "false");
	/* a reference member: plumb's own, names the kind and the AWS member it fills */
	const struct plumb_shape *ep = plumb_kind_info(PLUMB_KIND_ENDPOINT)->spec;
	const struct plumb_member *ref = plumb_shape_member(ep, "endpointConfigRef");
	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_null(ref->aws);
	ck_assert_int_eq(ref->ref_kind, PLUMB_KIND_ENDPOINT_CONFIG);
	ck_assert_str_eq(ref->ref_fills, "EndpointConfigName");
	ck_assert(ref->flags & PLUMB_M_PLUMB);
}
END_TEST

/* ------------------------------------------------------------------ markers */

START_TEST(ref_marker_round_trip)
{
	json_t *m = plumb_ref_marker(PLUMB_KIND_TOPIC, "alerts");
	ck_assert_ptr_nonnull(m);
	char *text = json_dumps(m, JSON_COMPACT);
	ck_assert_str_eq(text, "{\"plumb:ref\":\"Topic/alerts\"}");
	free(text);
	ck_assert_str_eq(plumb_ref_marker_target(m), "Topic/alerts");
	json_decref(m);

	m = plumb_ref_marker(PLUMB_KIND_SCALING_POLICY, "sleepy/scale-from-zero");
	ck_assert_str_eq(plumb_ref_marker_target(m), "ScalingPolicy/sleepy/scale-from-zero");
	json_decref(m);

	static const char *const not_markers[] = {
		"\"Topic/alerts\"",
		"{}",
		"{\"plumb:ref\": 5}",
		"{\"plumb:ref\": \"Topic/a\", \"x\": 1}",
		"{\"ref\": \"Topic/a\"}",
		"[\"plumb:ref\"]",
		"null",
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(not_markers); i++) {
		json_t *v = json_loads(not_markers[i], JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(v);
		ck_assert_msg(plumb_ref_marker_target(v) == NULL, "%s read as a marker",
			      not_markers[i]);
		json_decref(v);
	}
	ck_assert_ptr_null(plumb_ref_marker_target(NULL));
}
END_TEST

/* ------------------------------------------------------------------ hash */

static void hash_of(enum plumb_kind k, const char *json, char out[65])
{
	json_error_t e;
	json_t *v = json_loads(json, 0, &e);
	ck_assert_msg(v != NULL, "bad test JSON: %s (%s)", e.text, json);
	ck_assert_int_eq(plumb_spec_hash(k, v, out), 0);
	ck_assert_uint_eq(strlen(out), 64);
	for (int i = 0; i < 64; i++)
		ck_assert_msg(strchr("0123456789abcdef", out[i]) != NULL, "hash not lowercase hex");
	json_decref(v);
}

#define ROLE "\"ExecutionRoleArn\":\"arn:aws:iam::123456789012:role/x\""
#define IMG(t) "\"Image\":\"123456789012.dkr.ecr.us-east-1.amazonaws.com/r:" t "\""

/* Each pair: the two specs AWS treats alike (same = true) or not. */
static const struct {
	enum plumb_kind kind;
	const char *a, *b;
	bool same;
	const char *why;
} pairs[] = {
	{ PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") ",\"ModelDataUrl\":\"s3://b/m\"}}",
	  "{\"PrimaryContainer\":{\"ModelDataUrl\":\"s3://b/m\"," IMG("1") "}," ROLE "}", true,
	  "key order" },
	{ PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") "}}",
	  "{" ROLE ",\"EnableNetworkIsolation\":false,\"PrimaryContainer\":{" IMG("1") "}}", true,
	  "EnableNetworkIsolation: false is the AWS default" },
	{ PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") "}}",
	  "{" ROLE ",\"PrimaryContainer\":{" IMG("1") ",\"Mode\":\"SingleModel\"}}", true,
	  "container Mode SingleModel is the AWS default" },
	{ PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") "}}",
	  "{" ROLE ",\"EnableNetworkIsolation\":true,\"PrimaryContainer\":{" IMG("1") "}}", false,
	  "EnableNetworkIsolation: true is a real change" },
	{ PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") "}}",
	  "{" ROLE ",\"PrimaryContainer\":{" IMG("2") "}}", false, "image tag" },
	{ PLUMB_KIND_MODEL,
	  "{" ROLE ",\"PrimaryContainer\":{" IMG("1") ",\"Environment\":{\"A\":\"1\",\"B\":\"2\"}}}",
	  "{" ROLE ",\"PrimaryContainer\":{" IMG("1") ",\"Environment\":{\"B\":\"2\",\"A\":\"1\"}}}",
	  true, "environment key order" },
	{ PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") ",\"Environment\":{\"A\":\"1\"}}}",
	  "{" ROLE ",\"PrimaryContainer\":{" IMG("1") ",\"Environment\":{\"A\":\"2\"}}}", false,
	  "environment value" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":1}]}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":1.0}]}",
	  true, "weight 1 vs 1.0" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\"}]}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":1.0}]}",
	  true, "weight 1.0 is the AWS default" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":2}]}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":2.0}]}",
	  true, "weight 2 vs 2.0 (not the default)" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialInstanceCount\":2}]}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialInstanceCount\":2.0}]}",
	  true, "integer member written 2.0" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":0.5}]}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":1.0}]}",
	  false, "weight 0.5 vs 1" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m-aaaaaaaa\"}]}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m-bbbbbbbb\"}]}", false,
	  "a different model physical name" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"a\",\"ModelName\":\"m\"},{\"VariantName\":\"b\",\"ModelName\":\"m\"}]}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"b\",\"ModelName\":\"m\"},{\"VariantName\":\"a\",\"ModelName\":\"m\"}]}",
	  false, "list order is meaningful" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\"}],\"AsyncInferenceConfig\":{\"NotificationConfig\":{\"SuccessTopic\":{\"plumb:ref\":\"Topic/a\"}}}}",
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\"}],\"AsyncInferenceConfig\":{\"NotificationConfig\":{\"SuccessTopic\":{\"plumb:ref\":\"Topic/b\"}}}}",
	  false, "markers are hashed as written" },
	{ PLUMB_KIND_SCALABLE_TARGET,
	  "{\"ResourceId\":\"endpoint/e/variant/v\",\"MinCapacity\":1,\"MaxCapacity\":2}",
	  "{\"ResourceId\":\"endpoint/e/variant/v\",\"MinCapacity\":1,\"MaxCapacity\":2,"
	  "\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\"}",
	  true, "the one SageMaker scalable dimension is the default" },
};

START_TEST(spec_hash_pairs)
{
	char ha[65], hb[65];
	hash_of(pairs[_i].kind, pairs[_i].a, ha);
	hash_of(pairs[_i].kind, pairs[_i].b, hb);
	if (pairs[_i].same)
		ck_assert_msg(strcmp(ha, hb) == 0, "%s: hashes differ", pairs[_i].why);
	else
		ck_assert_msg(strcmp(ha, hb) != 0, "%s: hashes are equal", pairs[_i].why);
}
END_TEST

START_TEST(spec_hash_is_stable_across_calls)
{
	char a[65], b[65];
	hash_of(PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") "}}", a);
	hash_of(PLUMB_KIND_MODEL, "{" ROLE ",\"PrimaryContainer\":{" IMG("1") "}}", b);
	ck_assert_str_eq(a, b);
}
END_TEST

/* Pinned: changing the canonical form changes every physical name in every account, so it
 * must only ever change on purpose. */
static const struct {
	enum plumb_kind kind;
	const char *spec;
	const char *canonical;
} canon_cases[] = {
	{ PLUMB_KIND_MODEL,
	  "{\"PrimaryContainer\":{\"Mode\":\"SingleModel\",\"Image\":\"img:1\"},"
	  "\"EnableNetworkIsolation\":false,\"ExecutionRoleArn\":\"arn:aws:iam::1:role/r\"}",
	  "{\"ExecutionRoleArn\":\"arn:aws:iam::1:role/r\",\"PrimaryContainer\":{\"Image\":\"img:1\"}}" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\","
	  "\"InitialInstanceCount\":2.0,\"InitialVariantWeight\":0.5,\"InstanceType\":\"ml.c5.large\"}]}",
	  "{\"ProductionVariants\":[{\"InitialInstanceCount\":2,\"InitialVariantWeight\":0.5,"
	  "\"InstanceType\":\"ml.c5.large\",\"ModelName\":\"m\",\"VariantName\":\"v\"}]}" },
	{ PLUMB_KIND_ENDPOINT_CONFIG,
	  "{\"ProductionVariants\":[{\"VariantName\":\"v\",\"ModelName\":\"m\",\"InitialVariantWeight\":3}],"
	  "\"AsyncInferenceConfig\":{\"NotificationConfig\":{\"ErrorTopic\":{\"plumb:ref\":\"Topic/t\"}}}}",
	  "{\"AsyncInferenceConfig\":{\"NotificationConfig\":{\"ErrorTopic\":{\"plumb:ref\":\"Topic/t\"}}},"
	  "\"ProductionVariants\":[{\"InitialVariantWeight\":3.0,\"ModelName\":\"m\",\"VariantName\":\"v\"}]}" },
};

START_TEST(canonical_text_pinned)
{
	json_t *v = json_loads(canon_cases[_i].spec, 0, NULL);
	ck_assert_ptr_nonnull(v);
	char *t = plumb_canonical_text(canon_cases[_i].kind, v);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, canon_cases[_i].canonical);
	/* the hash is SHA-256 of exactly that text */
	char h[65], want[65];
	uint8_t d[32];
	plumb_sha256(t, strlen(t), d);
	plumb_hex(d, 32, want);
	ck_assert_int_eq(plumb_spec_hash(canon_cases[_i].kind, v, h), 0);
	ck_assert_str_eq(h, want);
	free(t);
	json_decref(v);
}
END_TEST

#define PINNED_MODEL_HASH "07db5a7d38339706397f177450b731fad66efe1a724c349426ce819f84cba9f1"

START_TEST(spec_hash_pinned)
{
	/* sha256 of the first pinned canonical text, computed independently (sha256sum) */
	json_t *v = json_loads(canon_cases[0].spec, 0, NULL);
	char h[65];
	ck_assert_int_eq(plumb_spec_hash(PLUMB_KIND_MODEL, v, h), 0);
	ck_assert_str_eq(h, PINNED_MODEL_HASH);
	json_decref(v);
}
END_TEST

START_TEST(canonical_leaves_input_alone)
{
	const char *in = "{\"EnableNetworkIsolation\":false,\"PrimaryContainer\":{\"Image\":\"i\"}}";
	json_t *v = json_loads(in, 0, NULL);
	json_t *c = plumb_canonical(PLUMB_KIND_MODEL, v);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(json_object_get(c, "EnableNetworkIsolation"));
	ck_assert_ptr_nonnull(json_object_get(v, "EnableNetworkIsolation"));
	json_decref(c);
	json_decref(v);
}
END_TEST

START_TEST(arns_in_the_region_partition)
{
	char b[256];
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_MODEL, "us-east-1", "123456789012",
				   "Clip-Model-ab12", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "arn:aws:sagemaker:us-east-1:123456789012:model/clip-model-ab12");
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_ENDPOINT_CONFIG, "eu-west-1", "1", "C", b,
				   sizeof(b)), 0);
	ck_assert_str_eq(b, "arn:aws:sagemaker:eu-west-1:1:endpoint-config/c");
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_ENDPOINT, "cn-north-1", "1", "E", b,
				   sizeof(b)), 0);
	ck_assert_str_eq(b, "arn:aws-cn:sagemaker:cn-north-1:1:endpoint/e");
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_ALARM, "us-east-1", "1", "High CPU", b,
				   sizeof(b)), 0);
	ck_assert_str_eq(b, "arn:aws:cloudwatch:us-east-1:1:alarm:High CPU");
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_TOPIC, "us-gov-west-1", "1", "Done", b,
				   sizeof(b)), 0);
	ck_assert_str_eq(b, "arn:aws-us-gov:sns:us-gov-west-1:1:Done");
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_SCALABLE_TARGET, "us-east-1", "1", "x", b,
				   sizeof(b)), -1);
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_SCALING_POLICY, "us-east-1", "1", "x", b,
				   sizeof(b)), -1);
	ck_assert_int_eq(plumb_arn(PLUMB_KIND_MODEL, "us-east-1", "1", "abcdef", b, 20), -1);
}
END_TEST

/* The state's load order: kind by name, name case-folded for SageMaker kinds only, parent. */
START_TEST(observed_set_sorts_in_the_state_order)
{
	struct plumb_observed_set set;
	plumb_observed_set_init(&set);
	static const struct {
		enum plumb_kind kind;
		const char *name, *parent;
	} in[] = {
		{ PLUMB_KIND_TOPIC, "b", NULL },
		{ PLUMB_KIND_MODEL, "Zulu", NULL },
		{ PLUMB_KIND_SCALING_POLICY, "p", "endpoint/b/variant/v" },
		{ PLUMB_KIND_MODEL, "alpha-2", NULL },
		{ PLUMB_KIND_TOPIC, "B", NULL },
		{ PLUMB_KIND_MODEL, "alpha", NULL },
		{ PLUMB_KIND_SCALING_POLICY, "p", "endpoint/a/variant/v" },
		{ PLUMB_KIND_ALARM, "z", NULL },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(in); i++)
		ck_assert_int_eq(plumb_observed_set_add(&set, plumb_observed_new(in[i].kind,
						"us-east-1", in[i].name, in[i].parent)), 0);
	plumb_observed_set_sort(&set, 1); /* the first item stays where it is */
	static const int want[] = { 0, 7, 5, 3, 1, 6, 2, 4 }; /* indices into in[] */
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(want); i++) {
		const struct plumb_observed *o = set.items.items[i];
		ck_assert_msg(o->kind == in[want[i]].kind && strcmp(o->name, in[want[i]].name) == 0 &&
				      (o->parent == NULL) == (in[want[i]].parent == NULL) &&
				      (!o->parent || strcmp(o->parent, in[want[i]].parent) == 0),
			      "position %zu: %s %s", i, plumb_kind_name(o->kind), o->name);
	}
	plumb_observed_set_release(&set);
}
END_TEST

Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, every_pattern_compiles);
	tcase_add_test(tc, shape_pattern_indexes_in_range);
	tcase_add_loop_test(tc, parse_duration_table, 0, (int)PLUMB_ARRAY_LEN(durations));
	tcase_add_test(tc, kind_names_round_trip);
	tcase_add_test(tc, shape_member_lookups);
	tcase_add_test(tc, ref_marker_round_trip);
	tcase_add_loop_test(tc, spec_hash_pairs, 0, (int)PLUMB_ARRAY_LEN(pairs));
	tcase_add_test(tc, spec_hash_is_stable_across_calls);
	tcase_add_loop_test(tc, canonical_text_pinned, 0, (int)PLUMB_ARRAY_LEN(canon_cases));
	tcase_add_test(tc, spec_hash_pinned);
	tcase_add_test(tc, canonical_leaves_input_alone);
	tcase_add_test(tc, arns_in_the_region_partition);
	tcase_add_test(tc, observed_set_sorts_in_the_state_order);
	suite_add_tcase(s, tc);
	return s;
}

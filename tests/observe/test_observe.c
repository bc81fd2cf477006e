/*
 * pkg/observe: the pure decisions of a pass — what a tagging ARN names, list items to rows,
 * timestamps of both protocols, and "has this resource moved since the cache". The pass itself
 * runs against the emulator in tests/integration/test_observe.py.
 */
#include "observe/observe.h"
#include "observe/observe_int.h"
#include "test.h"

#include <string.h>

/* ---------------------------------------------------------------- ARNs */

START_TEST(arn_table)
{
	static const struct {
		const char *arn;
		int kind; /* -1: not ours */
		const char *name;
	} cases[] = {
		{ "arn:aws:sagemaker:us-east-1:123456789012:model/my-model", PLUMB_KIND_MODEL,
		  "my-model" },
		{ "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c1-abcd1234",
		  PLUMB_KIND_ENDPOINT_CONFIG, "c1-abcd1234" },
		{ "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep1", PLUMB_KIND_ENDPOINT, "ep1" },
		{ "arn:aws-cn:sagemaker:cn-north-1:123456789012:endpoint/ep1", PLUMB_KIND_ENDPOINT,
		  "ep1" },
		{ "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:with:colons", PLUMB_KIND_ALARM,
		  "a:with:colons" },
		{ "arn:aws:cloudwatch:us-east-1:123456789012:alarm:TargetTracking-endpoint/ep1/variant/"
		  "v1-AlarmHigh-1",
		  PLUMB_KIND_ALARM, "TargetTracking-endpoint/ep1/variant/v1-AlarmHigh-1" },
		{ "arn:aws:sns:us-east-1:123456789012:t1", PLUMB_KIND_TOPIC, "t1" },
		{ "arn:aws:sns:us-east-1:123456789012:t1.fifo", PLUMB_KIND_TOPIC, "t1.fifo" },
		{ "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0abc",
		  PLUMB_KIND_SCALABLE_TARGET, "0abc" },
		/* not kinds plumb manages, or not ARNs */
		{ "arn:aws:sns:us-east-1:123456789012:t1:0f1e-subscription", -1, NULL },
		{ "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb", -1, NULL },
		{ "arn:aws:sagemaker:us-east-1:123456789012:model/", -1, NULL },
		{ "arn:aws:cloudwatch:us-east-1:123456789012:dashboard/d", -1, NULL },
		{ "arn:aws:cloudwatch:us-east-1:123456789012:alarm:", -1, NULL },
		{ "arn:aws:s3:::bucket", -1, NULL },
		{ "arn:aws:sagemakerx:us-east-1:1:model/m", -1, NULL },
		{ "arn:aws:sagemaker", -1, NULL },
		{ "not an arn", -1, NULL },
		{ "", -1, NULL },
		{ NULL, -1, NULL },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(cases); i++) {
		enum plumb_kind kind = PLUMB_KIND__COUNT;
		const char *name = NULL;
		int rc = plumb__observe_arn_parse(cases[i].arn, &kind, &name);
		if (cases[i].kind < 0) {
			ck_assert_msg(rc == PLUMB_ENOENT, "case %zu (%s) should not parse", i,
				      cases[i].arn);
			continue;
		}
		ck_assert_msg(rc == 0, "case %zu (%s) did not parse", i, cases[i].arn);
		ck_assert_int_eq(kind, cases[i].kind);
		ck_assert_str_eq(name, cases[i].name);
	}
}
END_TEST

/* ---------------------------------------------------------------- times and tags */

START_TEST(times_both_protocols)
{
	json_t *v = json_real(1732456800.123);
	ck_assert_int_eq(plumb__observe_time_ms(v), 1732456800123LL);
	json_decref(v);
	v = json_integer(1732456800);
	ck_assert_int_eq(plumb__observe_time_ms(v), 1732456800000LL);
	json_decref(v);
	v = json_string("2024-11-24T14:00:00.123Z");
	ck_assert_int_eq(plumb__observe_time_ms(v), 1732456800123LL);
	json_decref(v);
	v = json_string("2024-11-24T14:00:00+00:00");
	ck_assert_int_eq(plumb__observe_time_ms(v), 1732456800000LL);
	json_decref(v);
	v = json_string("yesterday");
	ck_assert_int_eq(plumb__observe_time_ms(v), 0);
	json_decref(v);
	v = json_real(-5);
	ck_assert_int_eq(plumb__observe_time_ms(v), 0);
	json_decref(v);
	ck_assert_int_eq(plumb__observe_time_ms(NULL), 0);
	/* the same epoch read twice compares equal after rounding (no float noise) */
	json_t *a = json_real(1732456800.1);
	json_t *b = json_loads("1732456800.1", JSON_DECODE_ANY, NULL);
	ck_assert_int_eq(plumb__observe_time_ms(a), plumb__observe_time_ms(b));
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(tags_list_and_map)
{
	json_t *list = json_loads("[{\"Key\":\"plumb:owner\",\"Value\":\"team-a\"},"
				  "{\"Key\":\"empty\"},{\"Value\":\"no key\"}]",
				  0, NULL);
	json_t *o = plumb__observe_tags_object(list);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_size(o), 2);
	ck_assert_str_eq(json_string_value(json_object_get(o, "plumb:owner")), "team-a");
	ck_assert_str_eq(json_string_value(json_object_get(o, "empty")), "");
	json_decref(o);
	json_decref(list);

	json_t *map = json_loads("{\"plumb:owner\":\"team-a\",\"n\":1}", 0, NULL);
	o = plumb__observe_tags_object(map);
	ck_assert_int_eq(json_object_size(o), 1); /* non-string values are not tags */
	ck_assert_str_eq(json_string_value(json_object_get(o, "plumb:owner")), "team-a");
	json_decref(o);
	json_decref(map);

	json_t *empty = json_array();
	o = plumb__observe_tags_object(empty);
	ck_assert_int_eq(json_object_size(o), 0);
	json_decref(o);
	json_decref(empty);

	ck_assert_ptr_null(plumb__observe_tags_object(NULL));
	json_t *s = json_string("x");
	ck_assert_ptr_null(plumb__observe_tags_object(s));
	json_decref(s);
}
END_TEST

/* ---------------------------------------------------------------- list items */

static struct plumb_observed *row(enum plumb_kind kind, const char *item_json)
{
	json_t *item = json_loads(item_json, 0, NULL);
	ck_assert_ptr_nonnull(item);
	struct plumb_observed *o = NULL;
	ck_assert_int_eq(plumb__observe_from_item(kind, "us-east-1", item, &o), 0);
	json_decref(item);
	return o;
}

START_TEST(items_to_rows)
{
	struct plumb_observed *o = row(PLUMB_KIND_ENDPOINT,
		"{\"EndpointName\":\"Ep1\",\"EndpointArn\":\"arn:aws:sagemaker:us-east-1:1:endpoint/ep1\","
		"\"CreationTime\":1732456800.5,\"LastModifiedTime\":1732456900.25,"
		"\"EndpointStatus\":\"Updating\"}");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->kind, PLUMB_KIND_ENDPOINT);
	ck_assert_str_eq(o->name, "Ep1"); /* as AWS spells it, not as the ARN does */
	ck_assert_str_eq(o->region, "us-east-1");
	ck_assert_str_eq(o->arn, "arn:aws:sagemaker:us-east-1:1:endpoint/ep1");
	ck_assert_str_eq(o->status, "Updating");
	ck_assert_int_eq(o->created_ms, 1732456800500LL);
	ck_assert_int_eq(o->modified_ms, 1732456900250LL);
	ck_assert_ptr_null(o->live);
	ck_assert_ptr_null(o->tags);
	ck_assert_ptr_null(o->parent);
	plumb_observed_free(o);

	o = row(PLUMB_KIND_MODEL, "{\"ModelName\":\"m\",\"ModelArn\":\"arn:x\","
				  "\"CreationTime\":1}");
	ck_assert_str_eq(o->name, "m");
	ck_assert_ptr_null(o->status);
	ck_assert_int_eq(o->created_ms, 1000);
	ck_assert_int_eq(o->modified_ms, 0);
	plumb_observed_free(o);

	o = row(PLUMB_KIND_SCALING_POLICY,
		"{\"PolicyName\":\"p1\",\"ResourceId\":\"endpoint/ep1/variant/v1\","
		"\"PolicyARN\":\"arn:aws:autoscaling:x\",\"CreationTime\":2}");
	ck_assert_str_eq(o->name, "p1");
	ck_assert_str_eq(o->parent, "endpoint/ep1/variant/v1");
	ck_assert_int_eq(o->created_ms, 2000);
	plumb_observed_free(o);

	o = row(PLUMB_KIND_SCALABLE_TARGET,
		"{\"ResourceId\":\"endpoint/ep1/variant/v1\",\"ScalableTargetARN\":\"arn:st\"}");
	ck_assert_str_eq(o->name, "endpoint/ep1/variant/v1");
	ck_assert_str_eq(o->arn, "arn:st");
	ck_assert_ptr_null(o->parent);
	plumb_observed_free(o);

	o = row(PLUMB_KIND_ALARM, "{\"AlarmName\":\"a\",\"AlarmArn\":\"arn:a\","
				  "\"AlarmConfigurationUpdatedTimestamp\":\"2024-11-24T14:00:00.000Z\"}");
	ck_assert_str_eq(o->name, "a");
	ck_assert_int_eq(o->modified_ms, 1732456800000LL);
	ck_assert_int_eq(o->created_ms, 0);
	plumb_observed_free(o);

	o = row(PLUMB_KIND_TOPIC, "{\"TopicArn\":\"arn:aws:sns:us-east-1:1:alerts\"}");
	ck_assert_str_eq(o->name, "alerts");
	ck_assert_str_eq(o->arn, "arn:aws:sns:us-east-1:1:alerts");
	plumb_observed_free(o);

	/* nothing to know them by */
	ck_assert_ptr_null(row(PLUMB_KIND_MODEL, "{\"ModelArn\":\"arn:x\"}"));
	ck_assert_ptr_null(row(PLUMB_KIND_MODEL, "{\"ModelName\":\"\"}"));
	ck_assert_ptr_null(row(PLUMB_KIND_SCALING_POLICY, "{\"PolicyName\":\"p\"}"));
	ck_assert_ptr_null(row(PLUMB_KIND_TOPIC, "{}"));
	ck_assert_ptr_null(row(PLUMB_KIND_DEFAULTS, "{\"ModelName\":\"m\"}"));
}
END_TEST

START_TEST(describe_reply_wins)
{
	struct plumb_observed *o = row(PLUMB_KIND_ENDPOINT,
		"{\"EndpointName\":\"ep\",\"CreationTime\":1,\"LastModifiedTime\":2,"
		"\"EndpointStatus\":\"Creating\"}");
	json_t *reply = json_loads("{\"EndpointName\":\"ep\",\"CreationTime\":1,"
				   "\"LastModifiedTime\":3,\"EndpointStatus\":\"InService\"}",
				   0, NULL);
	plumb__observe_take_describe(o, reply);
	ck_assert_int_eq(o->created_ms, 1000);
	ck_assert_int_eq(o->modified_ms, 3000);
	ck_assert_str_eq(o->status, "InService");
	json_decref(reply);
	/* a reply without the members keeps the listed values */
	reply = json_object();
	plumb__observe_take_describe(o, reply);
	ck_assert_int_eq(o->modified_ms, 3000);
	ck_assert_str_eq(o->status, "InService");
	json_decref(reply);
	plumb_observed_free(o);
}
END_TEST

/* ---------------------------------------------------------------- has it moved? */

static struct plumb_observed *obs(enum plumb_kind kind, int64_t created, int64_t modified,
				  const char *status, bool live)
{
	struct plumb_observed *o = plumb_observed_new(kind, "us-east-1", "x", NULL);
	o->created_ms = created;
	o->modified_ms = modified;
	o->status = status ? strdup(status) : NULL;
	o->live = live ? json_object() : NULL;
	return o;
}

START_TEST(moved_table)
{
	static const struct {
		enum plumb_kind kind;
		bool cached, cached_live;
		int64_t c_created, c_modified;
		const char *c_status;
		int64_t l_created, l_modified;
		const char *l_status;
		bool moved;
		const char *why;
	} cases[] = {
		{ PLUMB_KIND_MODEL, false, false, 0, 0, NULL, 1, 0, NULL, true, "not cached" },
		{ PLUMB_KIND_MODEL, true, false, 1, 0, NULL, 1, 0, NULL, true, "cached as list entry" },
		{ PLUMB_KIND_MODEL, true, true, 1, 0, NULL, 1, 0, NULL, false, "same creation time" },
		{ PLUMB_KIND_MODEL, true, true, 1, 0, NULL, 2, 0, NULL, true, "recreated" },
		{ PLUMB_KIND_ENDPOINT_CONFIG, true, true, 5, 0, NULL, 5, 0, NULL, false, "same" },
		{ PLUMB_KIND_ENDPOINT_CONFIG, true, true, 5, 0, NULL, 6, 0, NULL, true, "recreated" },
		{ PLUMB_KIND_ENDPOINT, true, true, 1, 2, "InService", 1, 2, "InService", false,
		  "steady" },
		{ PLUMB_KIND_ENDPOINT, true, true, 1, 2, "InService", 1, 3, "InService", true,
		  "modified moved" },
		{ PLUMB_KIND_ENDPOINT, true, true, 1, 2, "Updating", 1, 2, "InService", true,
		  "status moved" },
		{ PLUMB_KIND_ENDPOINT, true, true, 1, 2, NULL, 1, 2, "InService", true,
		  "status appeared" },
		{ PLUMB_KIND_ENDPOINT, true, true, 1, 2, "InService", 9, 2, "InService", true,
		  "recreated" },
		{ PLUMB_KIND_TOPIC, true, true, 0, 0, NULL, 0, 0, NULL, false, "cached topic" },
		{ PLUMB_KIND_TOPIC, false, false, 0, 0, NULL, 0, 0, NULL, true, "new topic" },
		{ PLUMB_KIND_ALARM, true, true, 0, 1, NULL, 0, 2, NULL, false,
		  "alarms come whole from their list" },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(cases); i++) {
		struct plumb_observed *c = cases[i].cached
			? obs(cases[i].kind, cases[i].c_created, cases[i].c_modified,
			      cases[i].c_status, cases[i].cached_live)
			: NULL;
		struct plumb_observed *l = obs(cases[i].kind, cases[i].l_created,
					       cases[i].l_modified, cases[i].l_status, false);
		ck_assert_msg(plumb__observe_moved(c, l) == cases[i].moved, "case %zu: %s", i,
			      cases[i].why);
		plumb_observed_free(c);
		plumb_observed_free(l);
	}
	ck_assert(plumb__observe_described_kind(PLUMB_KIND_MODEL));
	ck_assert(plumb__observe_described_kind(PLUMB_KIND_TOPIC));
	ck_assert(!plumb__observe_described_kind(PLUMB_KIND_SCALABLE_TARGET));
	ck_assert(!plumb__observe_described_kind(PLUMB_KIND_SCALING_POLICY));
	ck_assert(!plumb__observe_described_kind(PLUMB_KIND_ALARM));
}
END_TEST

/* ---------------------------------------------------------------- API edges */

static void never(int rc, const struct plumb_err *err, void *data)
{
	(void)rc;
	(void)err;
	*(int *)data += 1;
}

START_TEST(start_refuses_bad_arguments)
{
	struct plumb_aws a;
	memset(&a, 0, sizeof(a)); /* no region */
	struct plumb_observed_set out;
	plumb_observed_set_init(&out);
	struct plumb_observe_opts opts = { .account = "123456789012", .owner = "team-a" };
	struct plumb_observe *ob = (struct plumb_observe *)&a;
	struct plumb_err err;
	int calls = 0;
	plumb_err_clear(&err);
	/* the state pointer is never dereferenced before the checks fail */
	struct plumb_state *s = (struct plumb_state *)&a;
	ck_assert_int_eq(plumb_observe_start(&ob, &a, s, &opts, &out, never, &calls, &err),
			 PLUMB_EINVAL);
	ck_assert_ptr_null(ob);
	plumb_strlcpy(a.region, "us-east-1", sizeof(a.region));
	opts.owner = "";
	ck_assert_int_eq(plumb_observe_start(&ob, &a, s, &opts, &out, never, &calls, &err),
			 PLUMB_EINVAL);
	opts.owner = "team-a";
	opts.account = NULL;
	ck_assert_int_eq(plumb_observe_start(&ob, &a, s, &opts, &out, never, &calls, &err),
			 PLUMB_EINVAL);
	opts.account = "123456789012";
	opts.nwant = 2; /* without want */
	ck_assert_int_eq(plumb_observe_start(&ob, &a, s, &opts, &out, never, &calls, &err),
			 PLUMB_EINVAL);
	ck_assert_int_eq(calls, 0);
	ck_assert_str_eq(plumb_refresh_name(PLUMB_REFRESH_AUTO), "auto");
	ck_assert_str_eq(plumb_refresh_name(PLUMB_REFRESH_FULL), "full");
	plumb_observe_free(NULL);
}
END_TEST

Suite *observe_suite(void)
{
	Suite *s = suite_create("observe");
	TCase *tc = tcase_create("rows");
	tcase_add_test(tc, arn_table);
	tcase_add_test(tc, times_both_protocols);
	tcase_add_test(tc, tags_list_and_map);
	tcase_add_test(tc, items_to_rows);
	tcase_add_test(tc, describe_reply_wins);
	tcase_add_test(tc, moved_table);
	tcase_add_test(tc, start_refuses_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

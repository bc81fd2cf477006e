/*
 * pkg/apply: the pure rules (operation per kind and type, tag calls, ARNs, references, spec
 * hashes, redaction, backoff, wait verdicts, --target) as tables, then the executor on a real
 * libuv loop against a fake AWS (answers delivered from timers, never from inside the call) and
 * a fake clock: ready-set order, the in-flight bound, failure reaching dependants only,
 * references filled from earlier replies, waits (done, silent rollback, Failed, stuck past the
 * deadline), "already exists" and "in progress" outcomes, busy retries, cancel, the journal
 * (rows begun and finished, the failed-hash rows) and crash recovery of open rows.
 */
#include "apply/apply.h"
#include "apply/apply_int.h"
#include "test.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- pure rules */

START_TEST(main_op_per_kind_and_type)
{
	static const struct {
		enum plumb_kind k;
		enum plumb_action_type t;
		int op;
	} rows[] = {
		{ PLUMB_KIND_MODEL, PLUMB_ACTION_CREATE, PLUMB_AWS_OP_SM_CREATE_MODEL },
		{ PLUMB_KIND_MODEL, PLUMB_ACTION_UPDATE, -1 },
		{ PLUMB_KIND_MODEL, PLUMB_ACTION_DELETE, PLUMB_AWS_OP_SM_DELETE_MODEL },
		{ PLUMB_KIND_ENDPOINT_CONFIG, PLUMB_ACTION_CREATE,
		  PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG },
		{ PLUMB_KIND_ENDPOINT_CONFIG, PLUMB_ACTION_DELETE,
		  PLUMB_AWS_OP_SM_DELETE_ENDPOINT_CONFIG },
		{ PLUMB_KIND_ENDPOINT, PLUMB_ACTION_CREATE, PLUMB_AWS_OP_SM_CREATE_ENDPOINT },
		{ PLUMB_KIND_ENDPOINT, PLUMB_ACTION_UPDATE, PLUMB_AWS_OP_SM_UPDATE_ENDPOINT },
		{ PLUMB_KIND_ENDPOINT, PLUMB_ACTION_DELETE, PLUMB_AWS_OP_SM_DELETE_ENDPOINT },
		{ PLUMB_KIND_ENDPOINT, PLUMB_ACTION_WAIT, -1 },
		{ PLUMB_KIND_SCALABLE_TARGET, PLUMB_ACTION_CREATE,
		  PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET },
		{ PLUMB_KIND_SCALABLE_TARGET, PLUMB_ACTION_UPDATE,
		  PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET },
		{ PLUMB_KIND_SCALABLE_TARGET, PLUMB_ACTION_DELETE,
		  PLUMB_AWS_OP_AAS_DEREGISTER_SCALABLE_TARGET },
		{ PLUMB_KIND_SCALING_POLICY, PLUMB_ACTION_CREATE, PLUMB_AWS_OP_AAS_PUT_SCALING_POLICY },
		{ PLUMB_KIND_SCALING_POLICY, PLUMB_ACTION_UPDATE, PLUMB_AWS_OP_AAS_PUT_SCALING_POLICY },
		{ PLUMB_KIND_SCALING_POLICY, PLUMB_ACTION_DELETE,
		  PLUMB_AWS_OP_AAS_DELETE_SCALING_POLICY },
		{ PLUMB_KIND_ALARM, PLUMB_ACTION_CREATE, PLUMB_AWS_OP_CW_PUT_METRIC_ALARM },
		{ PLUMB_KIND_ALARM, PLUMB_ACTION_UPDATE, PLUMB_AWS_OP_CW_PUT_METRIC_ALARM },
		{ PLUMB_KIND_ALARM, PLUMB_ACTION_DELETE, PLUMB_AWS_OP_CW_DELETE_ALARMS },
		{ PLUMB_KIND_TOPIC, PLUMB_ACTION_CREATE, PLUMB_AWS_OP_SNS_CREATE_TOPIC },
		{ PLUMB_KIND_TOPIC, PLUMB_ACTION_UPDATE, PLUMB_AWS_OP_SNS_SET_TOPIC_ATTRIBUTES },
		{ PLUMB_KIND_TOPIC, PLUMB_ACTION_DELETE, PLUMB_AWS_OP_SNS_DELETE_TOPIC },
		{ PLUMB_KIND_TOPIC, PLUMB_ACTION_TAG, -1 },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(rows); i++)
		ck_assert_msg(plumb__apply_main_op(rows[i].k, rows[i].t) == rows[i].op,
			      "row %zu: %s %s", i, plumb_kind_name(rows[i].k),
			      plumb__apply_type_name(rows[i].t));
	ck_assert_int_eq(plumb__apply_tag_op(PLUMB_KIND_MODEL, true), PLUMB_AWS_OP_SM_ADD_TAGS);
	ck_assert_int_eq(plumb__apply_tag_op(PLUMB_KIND_ENDPOINT, false),
			 PLUMB_AWS_OP_SM_DELETE_TAGS);
	ck_assert_int_eq(plumb__apply_tag_op(PLUMB_KIND_SCALABLE_TARGET, true),
			 PLUMB_AWS_OP_AAS_TAG_RESOURCE);
	ck_assert_int_eq(plumb__apply_tag_op(PLUMB_KIND_ALARM, false),
			 PLUMB_AWS_OP_CW_UNTAG_RESOURCE);
	ck_assert_int_eq(plumb__apply_tag_op(PLUMB_KIND_TOPIC, true),
			 PLUMB_AWS_OP_SNS_TAG_RESOURCE);
	ck_assert_int_eq(plumb__apply_tag_op(PLUMB_KIND_SCALING_POLICY, true), -1);
	ck_assert_int_eq(plumb__apply_type_from_name("wait"), PLUMB_ACTION_WAIT);
	ck_assert_int_eq(plumb__apply_type_from_name("replace"), -1);
	ck_assert_int_eq(plumb__apply_wait_from_name("in_service"), PLUMB_WAIT_IN_SERVICE);
	ck_assert_int_eq(plumb__apply_wait_from_name("deleted"), PLUMB_WAIT_DELETED);
	ck_assert_int_eq(plumb__apply_wait_from_name("soon"), PLUMB_WAIT_NONE);
}
END_TEST

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static void assert_json(const json_t *j, const char *want)
{
	char *s = dump(j);
	ck_assert_msg(s && strcmp(s, want) == 0, "got %s, want %s", s ? s : "(null)", want);
	free(s);
}

START_TEST(tag_inputs_per_service)
{
	json_t *add = json_pack("{s:s, s:s}", "team", "ml", "plumb:owner", "o");
	json_t *rm = json_pack("[s]", "old");
	json_t *in = plumb__apply_tag_input(PLUMB_KIND_MODEL, true, "arn:m", add);
	assert_json(in, "{\"ResourceArn\":\"arn:m\",\"Tags\":[{\"Key\":\"plumb:owner\",\"Value\":\"o\"},"
			"{\"Key\":\"team\",\"Value\":\"ml\"}]}");
	json_decref(in);
	in = plumb__apply_tag_input(PLUMB_KIND_SCALABLE_TARGET, true, "arn:t", add);
	assert_json(in, "{\"ResourceARN\":\"arn:t\",\"Tags\":{\"plumb:owner\":\"o\",\"team\":\"ml\"}}");
	json_decref(in);
	in = plumb__apply_tag_input(PLUMB_KIND_ALARM, false, "arn:a", rm);
	assert_json(in, "{\"ResourceARN\":\"arn:a\",\"TagKeys\":[\"old\"]}");
	json_decref(in);
	in = plumb__apply_tag_input(PLUMB_KIND_TOPIC, false, "arn:s", rm);
	assert_json(in, "{\"ResourceArn\":\"arn:s\",\"TagKeys\":[\"old\"]}");
	json_decref(in);
	json_decref(add);
	json_decref(rm);
}
END_TEST

START_TEST(default_deletes)
{
	json_t *d = plumb__apply_default_delete(PLUMB_KIND_SCALING_POLICY, "us-east-1", "1", "p",
						"endpoint/e/variant/v");
	assert_json(d, "{\"PolicyName\":\"p\",\"ResourceId\":\"endpoint/e/variant/v\","
		       "\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\","
		       "\"ServiceNamespace\":\"sagemaker\"}");
	json_decref(d);
	ck_assert_ptr_null(plumb__apply_default_delete(PLUMB_KIND_SCALING_POLICY, "r", "1", "p",
						       NULL));
	d = plumb__apply_default_delete(PLUMB_KIND_TOPIC, "us-east-1", "1", "t", NULL);
	assert_json(d, "{\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\"}");
	json_decref(d);
}
END_TEST

static const char *lookup_fixed(void *ctx, const char *ref)
{
	(void)ctx;
	if (strcmp(ref, "ScalingPolicy/t/p") == 0)
		return "arn:aws:autoscaling:policy-p";
	if (strcmp(ref, "Topic/n") == 0)
		return "arn:aws:sns:us-east-1:1:n";
	return NULL;
}

START_TEST(references_resolved_in_place)
{
	json_error_t je;
	json_t *in = json_loads("{\"AlarmActions\": [{\"plumb:ref\": \"ScalingPolicy/t/p\"}, \"arn:x\"],"
				" \"AsyncInferenceConfig\": {\"OutputConfig\": {\"NotificationConfig\":"
				" {\"SuccessTopic\": {\"plumb:ref\": \"Topic/n\"}}}},"
				" \"Other\": {\"plumb:ref\": \"Topic/n\", \"extra\": 1}}",
				0, &je);
	ck_assert_ptr_nonnull(in);
	char missing[64] = "";
	ck_assert_int_eq(plumb__apply_resolve(in, lookup_fixed, NULL, missing, sizeof(missing)), 0);
	assert_json(in, "{\"AlarmActions\":[\"arn:aws:autoscaling:policy-p\",\"arn:x\"],"
			"\"AsyncInferenceConfig\":{\"OutputConfig\":{\"NotificationConfig\":"
			"{\"SuccessTopic\":\"arn:aws:sns:us-east-1:1:n\"}}},"
			"\"Other\":{\"extra\":1,\"plumb:ref\":\"Topic/n\"}}");
	json_decref(in);
	in = json_loads("{\"A\": [[{\"plumb:ref\": \"Topic/gone\"}]]}", 0, &je);
	ck_assert_int_eq(plumb__apply_resolve(in, lookup_fixed, NULL, missing, sizeof(missing)),
			 PLUMB_ENOENT);
	ck_assert_str_eq(missing, "Topic/gone");
	json_decref(in);
}
END_TEST

START_TEST(spec_hash_and_redaction)
{
	json_error_t je;
	char h[65];
	json_t *a = json_loads("{\"input\": {\"Tags\": [{\"Key\": \"plumb:spec-hash\", \"Value\": \"aa\"}]}}",
			       0, &je);
	plumb__apply_spec_hash(a, h);
	ck_assert_str_eq(h, "aa");
	json_decref(a);
	a = json_loads("{\"input\": {\"Tags\": {\"plumb:spec-hash\": \"bb\"}}}", 0, &je);
	plumb__apply_spec_hash(a, h);
	ck_assert_str_eq(h, "bb");
	json_decref(a);
	a = json_loads("{\"input\": {}, \"add_tags\": {\"plumb:spec-hash\": \"cc\"}}", 0, &je);
	plumb__apply_spec_hash(a, h);
	ck_assert_str_eq(h, "cc");
	json_decref(a);
	a = json_loads("{\"spec_hash\": \"dd\", \"add_tags\": {\"plumb:spec-hash\": \"cc\"}}", 0,
		       &je);
	plumb__apply_spec_hash(a, h);
	ck_assert_str_eq(h, "dd");
	json_decref(a);
	a = json_loads("{\"type\": \"wait\"}", 0, &je);
	plumb__apply_spec_hash(a, h);
	ck_assert_str_eq(h, "");
	json_decref(a);

	json_t *in = json_loads("{\"ModelName\": \"m\", \"PrimaryContainer\": {\"Image\": \"i\","
				" \"Environment\": {\"TOKEN\": \"s3cret\"}},"
				" \"Containers\": [{\"Environment\": {\"PW\": \"x\"}}]}",
				0, &je);
	json_t *r = plumb__apply_redact(in);
	char *s = dump(r);
	ck_assert_ptr_null(strstr(s, "s3cret"));
	ck_assert_ptr_null(strstr(s, "\"x\""));
	ck_assert_ptr_nonnull(strstr(s, "\"TOKEN\":\"[redacted]\""));
	free(s);
	s = dump(in);
	ck_assert_ptr_nonnull(strstr(s, "s3cret")); /* the request itself is untouched */
	free(s);
	json_decref(r);
	json_decref(in);
}
END_TEST

START_TEST(backoff_grows_and_caps)
{
	int64_t want[] = { 2000, 3000, 4500, 6750, 10125, 15187, 22780, 30000, 30000 };
	int64_t d = 0;
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(want); i++) {
		d = plumb__apply_backoff(d, 2000, 30000);
		ck_assert_int_eq(d, want[i]);
	}
	ck_assert_int_eq(plumb__apply_backoff(0, 50, 750), 50);
	ck_assert_int_eq(plumb__apply_backoff(700, 50, 750), 750);
	ck_assert_int_eq(plumb__apply_backoff(0, 0, 0), 1); /* never a zero or negative delay */
}
END_TEST

static enum plumb__wait_verdict judge(enum plumb_wait_for w, const char *want, bool gone,
				      const char *reply_text, int polls, char *why)
{
	json_error_t je;
	json_t *r = reply_text ? json_loads(reply_text, 0, &je) : NULL;
	enum plumb__wait_verdict v = plumb__apply_wait_judge(w, want, gone, r, polls, why, 256);
	json_decref(r);
	return v;
}

START_TEST(wait_verdicts)
{
	char why[256];
	const enum plumb_wait_for IS = PLUMB_WAIT_IN_SERVICE, DEL = PLUMB_WAIT_DELETED;
	ck_assert_int_eq(judge(IS, "c2", false, "{\"EndpointStatus\":\"Creating\"}", 1, why),
			 PLUMB__WAIT_CONTINUE);
	ck_assert_int_eq(judge(IS, "c2", false,
			       "{\"EndpointStatus\":\"Updating\",\"EndpointConfigName\":\"c1\"}", 9,
			       why),
			 PLUMB__WAIT_CONTINUE);
	ck_assert_int_eq(judge(IS, "c2", false,
			       "{\"EndpointStatus\":\"InService\",\"EndpointConfigName\":\"C2\"}", 1,
			       why),
			 PLUMB__WAIT_DONE); /* names compare case-insensitively */
	ck_assert_int_eq(judge(IS, NULL, false, "{\"EndpointStatus\":\"InService\"}", 1, why),
			 PLUMB__WAIT_DONE);
	/* InService on the old config with a reason: a silent rollback */
	ck_assert_int_eq(judge(IS, "c2", false,
			       "{\"EndpointStatus\":\"InService\",\"EndpointConfigName\":\"c1\","
			       "\"FailureReason\":\"health check failed\"}",
			       1, why),
			 PLUMB__WAIT_FAILED);
	ck_assert_ptr_nonnull(strstr(why, "silent rollback"));
	ck_assert_ptr_nonnull(strstr(why, "health check failed"));
	ck_assert_ptr_nonnull(strstr(why, "c1"));
	/* without a reason it gets two polls' grace, then is a rollback too */
	ck_assert_int_eq(judge(IS, "c2", false,
			       "{\"EndpointStatus\":\"InService\",\"EndpointConfigName\":\"c1\"}", 1,
			       why),
			 PLUMB__WAIT_CONTINUE);
	ck_assert_int_eq(judge(IS, "c2", false,
			       "{\"EndpointStatus\":\"InService\",\"EndpointConfigName\":\"c1\"}", 3,
			       why),
			 PLUMB__WAIT_FAILED);
	ck_assert_int_eq(judge(IS, "c2", false,
			       "{\"EndpointStatus\":\"Failed\",\"FailureReason\":\"image pull\"}", 1,
			       why),
			 PLUMB__WAIT_FAILED);
	ck_assert_ptr_nonnull(strstr(why, "Failed: image pull"));
	ck_assert_int_eq(judge(IS, "c2", false, "{\"EndpointStatus\":\"UpdateRollbackFailed\"}", 1,
			       why),
			 PLUMB__WAIT_FAILED);
	ck_assert_int_eq(judge(IS, "c2", true, NULL, 1, why), PLUMB__WAIT_FAILED);
	ck_assert_int_eq(judge(DEL, NULL, true, NULL, 1, why), PLUMB__WAIT_DONE);
	ck_assert_int_eq(judge(DEL, NULL, false, "{\"EndpointStatus\":\"Deleting\"}", 1, why),
			 PLUMB__WAIT_CONTINUE);
	ck_assert_int_eq(judge(DEL, NULL, false, "{\"EndpointStatus\":\"Failed\"}", 1, why),
			 PLUMB__WAIT_FAILED);
}
END_TEST

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	ck_assert_msg(j != NULL, "bad test json: %s (line %d)", je.text, je.line);
	return j;
}

START_TEST(target_keeps_what_the_address_needs)
{
	json_t *acts = parse("["
			     "{\"id\":0,\"address\":\"Topic/t\",\"depends_on\":[]},"
			     "{\"id\":1,\"address\":\"Model/m\",\"depends_on\":[]},"
			     "{\"id\":2,\"address\":\"EndpointConfig/c\",\"depends_on\":[1,0]},"
			     "{\"id\":3,\"address\":\"Endpoint/e\",\"depends_on\":[2]},"
			     "{\"id\":4,\"address\":\"Endpoint/e\",\"depends_on\":[3]},"
			     "{\"id\":5,\"address\":\"ScalableTarget/e\",\"depends_on\":[4]},"
			     "{\"id\":6,\"address\":\"Model/other\",\"depends_on\":[]}]");
	json_t *out;
	ck_assert_int_eq(plumb_apply_target(acts, "Endpoint/e", &out, NULL), 0);
	ck_assert_int_eq(json_array_size(out), 5);
	int ids[] = { 0, 1, 2, 3, 4 };
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(out, i), "id")),
				 ids[i]);
	json_decref(out);
	ck_assert_int_eq(plumb_apply_target(acts, "Model/other", &out, NULL), 0);
	ck_assert_int_eq(json_array_size(out), 1);
	json_decref(out);
	ck_assert_int_eq(plumb_apply_target(acts, "Alarm/none", &out, NULL), 0);
	ck_assert_int_eq(json_array_size(out), 0);
	json_decref(out);
	json_decref(acts);
}
END_TEST

/* ---------------------------------------------------------------- a fake AWS on a real loop */

struct fake;
/* Answers one call: 0 and *reply (new), or an error code with err filled. */
typedef int (*fake_fn)(struct fake *f, enum plumb_aws_op op, const json_t *in, json_t **reply,
		       struct plumb_err *err);

struct fake {
	uv_loop_t loop;       /* the loop */
	fake_fn answer;       /* the scenario */
	void *scn;            /* its state */
	int64_t now;          /* fake clock, ms */
	int64_t tick_ms;      /* added to now on every answer */
	json_t *log;          /* ["Op {input}", ...] in call order */
	int inflight, max_inflight; /* concurrency seen */
	int op_inflight[PLUMB_AWS_NOPS], op_max[PLUMB_AWS_NOPS]; /* the same per operation */
	int start_fail_op;    /* op whose start fails synchronously, or -1 */
};

struct pending {
	struct fake *f;
	enum plumb_aws_op op;
	json_t *in;
	plumb_aws_cb cb;
	void *data;
	uv_timer_t t;
};

static int64_t fake_mono(void *d)
{
	return ((struct fake *)d)->now;
}

static int64_t fake_wall(void *d)
{
	return 1700000000000LL + ((struct fake *)d)->now;
}

static void pending_closed(uv_handle_t *h)
{
	struct pending *p = h->data;
	json_decref(p->in);
	free(p);
}

static void pending_fire(uv_timer_t *t)
{
	struct pending *p = t->data;
	struct fake *f = p->f;
	json_t *reply = NULL;
	struct plumb_err e;
	plumb_err_clear(&e);
	f->now += f->tick_ms;
	int rc = f->answer(f, p->op, p->in, &reply, &e);
	f->inflight--;
	f->op_inflight[p->op]--;
	p->cb(rc, rc ? NULL : reply, rc ? &e : NULL, p->data);
	json_decref(reply);
	uv_close((uv_handle_t *)&p->t, pending_closed);
}

static int fake_call(void *ctx, const char *region, enum plumb_aws_op op, const json_t *input,
		     plumb_aws_cb cb, void *data, struct plumb_err *err)
{
	struct fake *f = ctx;
	char *s = dump(input);
	json_array_append_new(f->log, json_sprintf("%s %s", plumb_aws_op_name(op), s ? s : "{}"));
	free(s);
	if ((int)op == f->start_fail_op)
		return plumb_err_set(err, PLUMB_ECONFIG, "no credentials for %s", region);
	struct pending *p = calloc(1, sizeof(*p));
	p->f = f;
	p->op = op;
	p->in = json_deep_copy(input);
	p->cb = cb;
	p->data = data;
	uv_timer_init(&f->loop, &p->t);
	p->t.data = p;
	uv_timer_start(&p->t, pending_fire, 1, 0);
	if (++f->inflight > f->max_inflight)
		f->max_inflight = f->inflight;
	if (++f->op_inflight[op] > f->op_max[op])
		f->op_max[op] = f->op_inflight[op];
	return 0;
}

static void fake_init(struct fake *f, fake_fn answer, void *scn)
{
	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(uv_loop_init(&f->loop), 0);
	f->answer = answer;
	f->scn = scn;
	f->log = json_array();
	f->start_fail_op = -1;
}

static void fake_release(struct fake *f)
{
	uv_run(&f->loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&f->loop), 0);
	json_decref(f->log);
}

/* An AWS error as pkg/aws reports it. */
static int aws_error(struct plumb_err *e, const char *svc, enum plumb_aws_op op,
		     const char *code, int status, const char *msg)
{
	plumb_err_set(e, PLUMB_EAWS, "%s %s: %s: %s", svc, plumb_aws_op_name(op), code, msg);
	plumb_strlcpy(e->service, svc, sizeof(e->service));
	plumb_strlcpy(e->operation, plumb_aws_op_name(op), sizeof(e->operation));
	plumb_strlcpy(e->aws_code, code, sizeof(e->aws_code));
	plumb_strlcpy(e->request_id, "req-1234", sizeof(e->request_id));
	e->http_status = status;
	e->cls = plumb_aws_classify(e);
	return PLUMB_EAWS;
}

/* Counts calls of op in the log. */
static int logged(struct fake *f, const char *prefix)
{
	int n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(f->log, i, v)
		n += strncmp(json_string_value(v), prefix, strlen(prefix)) == 0;
	return n;
}

/* Index of the first log line starting with prefix, or -1. */
static int log_index(struct fake *f, const char *prefix)
{
	size_t i;
	json_t *v;
	json_array_foreach(f->log, i, v)
		if (strncmp(json_string_value(v), prefix, strlen(prefix)) == 0)
			return (int)i;
	return -1;
}

struct runner {
	bool done;       /* callback ran */
	int rc;          /* its rc */
	json_t *events;  /* ["event address status", ...] */
	struct plumb_apply *cancel_on_poll; /* cancel at the first poll event */
};

static void on_event(const struct plumb_apply_event *ev, void *data)
{
	struct runner *r = data;
	json_array_append_new(r->events,
			      json_sprintf("%s %s %s", plumb_apply_event_name(ev->type),
					   ev->action->address,
					   plumb_apply_status_name(ev->action->status)));
	const struct plumb_apply_totals *t = ev->totals;
	ck_assert_uint_eq(t->pending + t->running + t->waiting + t->done + t->failed + t->skipped,
			  t->total);
	if (r->cancel_on_poll && ev->type == PLUMB_APPLY_EV_POLLED)
		plumb_apply_cancel(r->cancel_on_poll);
}

static void on_done(int rc, struct plumb_apply *ex, void *data)
{
	struct runner *r = data;
	(void)ex;
	ck_assert(!r->done);
	r->done = true;
	r->rc = rc;
}

/* Runs actions to the end; returns the finished executor (free it). */
static struct plumb_apply *run_env(struct fake *f, struct plumb_state *st, const json_t *acts,
				   struct plumb_apply_opts *o, struct runner *r)
{
	struct plumb_clock clock = { fake_wall, fake_mono, f };
	struct plumb__apply_env env = {
		.loop = &f->loop,
		.state = st,
		.account = "123456789012",
		.default_region = "us-east-1",
		.call = fake_call,
		.call_ctx = f,
	};
	struct plumb_apply_opts opts = { 0 };
	if (o)
		opts = *o;
	opts.clock = &clock;
	if (!opts.poll_ms)
		opts.poll_ms = 1;
	opts.on_event = on_event;
	opts.event_data = r;
	r->events = json_array();
	struct plumb_apply *ex = NULL;
	struct plumb_err err;
	plumb_err_clear(&err);
	int rc = plumb__apply_start_env(&ex, &env, acts, &opts, on_done, r, &err);
	ck_assert_msg(rc == 0, "start: %s", err.msg);
	ck_assert(!r->done); /* never from inside start */
	if (r->cancel_on_poll == (struct plumb_apply *)1)
		r->cancel_on_poll = ex;
	while (!r->done)
		uv_run(&f->loop, UV_RUN_ONCE);
	return ex;
}

static const struct plumb_apply_action *by_address(struct plumb_apply *ex, const char *addr,
						   const char *type)
{
	for (size_t i = 0; i < plumb_apply_count(ex); i++) {
		const struct plumb_apply_action *a = plumb_apply_action_at(ex, i);
		if (strcmp(a->address, addr) == 0 &&
		    (!type || strcmp(plumb__apply_type_name(a->type), type) == 0))
			return a;
	}
	ck_abort_msg("no action %s", addr);
	return NULL;
}

/* A cooperative AWS: every call succeeds; policies and topics get ARNs; endpoints are
 * InService on whatever config they were last given. */
struct world {
	json_t *endpoints;   /* name -> {"EndpointStatus", "EndpointConfigName", ...} */
	int fail_model;      /* CreateModel of "bad" answers a validation error */
	int describe_left;   /* Creating answers before InService */
};

static int world_answer(struct fake *f, enum plumb_aws_op op, const json_t *in, json_t **reply,
			struct plumb_err *err)
{
	struct world *w = f->scn;
	const char *name;
	switch (op) {
	case PLUMB_AWS_OP_SM_CREATE_MODEL:
		name = json_string_value(json_object_get(in, "ModelName"));
		if (strcmp(name, "bad") == 0)
			return aws_error(err, "sagemaker", op, "ValidationException", 400,
					 "1 validation error detected: Value 'x' at 'image'");
		*reply = json_pack("{s:s}", "ModelArn", "arn:aws:sagemaker:us-east-1:1:model/m");
		return 0;
	case PLUMB_AWS_OP_SM_CREATE_ENDPOINT:
	case PLUMB_AWS_OP_SM_UPDATE_ENDPOINT:
		name = json_string_value(json_object_get(in, "EndpointName"));
		json_object_set_new(w->endpoints, name,
				    json_pack("{s:s, s:O}", "EndpointStatus", "Creating",
					      "EndpointConfigName",
					      json_object_get(in, "EndpointConfigName")));
		*reply = json_pack("{s:s}", "EndpointArn", "arn:ep");
		return 0;
	case PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT: {
		name = json_string_value(json_object_get(in, "EndpointName"));
		json_t *e = json_object_get(w->endpoints, name);
		if (!e)
			return aws_error(err, "sagemaker", op, "ValidationException", 400,
					 "Could not find endpoint \"x\".");
		if (w->describe_left > 0)
			w->describe_left--;
		else
			json_object_set_new(e, "EndpointStatus", json_string("InService"));
		*reply = json_deep_copy(e);
		return 0;
	}
	case PLUMB_AWS_OP_AAS_PUT_SCALING_POLICY:
		*reply = json_pack("{s:s}", "PolicyARN",
				   "arn:aws:autoscaling:us-east-1:1:scalingPolicy:u:policyName/p");
		return 0;
	case PLUMB_AWS_OP_SNS_CREATE_TOPIC:
		*reply = json_pack("{s:s}", "TopicArn", "arn:aws:sns:us-east-1:1:made");
		return 0;
	case PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET:
		*reply = json_pack("{s:s}", "ScalableTargetARN",
				   "arn:aws:application-autoscaling:us-east-1:1:scalable-target/x");
		return 0;
	default:
		*reply = json_object();
		return 0;
	}
}

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->endpoints = json_object();
}

START_TEST(order_bound_and_references)
{
	struct world w;
	world_init(&w);
	w.describe_left = 2;
	struct fake f;
	fake_init(&f, world_answer, &w);
	json_t *acts = parse(
		"["
		"{\"id\":0,\"type\":\"create\",\"kind\":\"Topic\",\"address\":\"Topic/n\","
		" \"physical\":\"n\",\"region\":\"us-east-1\",\"input\":{\"Name\":\"n\"},\"depends_on\":[]},"
		"{\"id\":1,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/m\","
		" \"physical\":\"m-1\",\"region\":\"us-east-1\",\"input\":{\"ModelName\":\"m-1\"},\"depends_on\":[]},"
		"{\"id\":2,\"type\":\"create\",\"kind\":\"EndpointConfig\",\"address\":\"EndpointConfig/c\","
		" \"physical\":\"c-1\",\"region\":\"us-east-1\",\"input\":{\"EndpointConfigName\":\"c-1\","
		" \"AsyncInferenceConfig\":{\"OutputConfig\":{\"NotificationConfig\":"
		"{\"SuccessTopic\":{\"plumb:ref\":\"Topic/n\"}}}}},\"depends_on\":[0,1]},"
		"{\"id\":3,\"type\":\"create\",\"kind\":\"Endpoint\",\"address\":\"Endpoint/e\","
		" \"physical\":\"e\",\"region\":\"us-east-1\",\"input\":{\"EndpointName\":\"e\","
		" \"EndpointConfigName\":\"c-1\"},\"depends_on\":[2]},"
		"{\"id\":4,\"type\":\"wait\",\"kind\":\"Endpoint\",\"address\":\"Endpoint/e\","
		" \"physical\":\"e\",\"region\":\"us-east-1\",\"wait_for\":\"in_service\","
		" \"wait_config\":\"c-1\",\"wait_deadline_s\":600,\"depends_on\":[3]},"
		"{\"id\":5,\"type\":\"create\",\"kind\":\"ScalableTarget\",\"address\":\"ScalableTarget/t\","
		" \"physical\":\"endpoint/e/variant/v\",\"region\":\"us-east-1\","
		" \"input\":{\"ResourceId\":\"endpoint/e/variant/v\"},\"depends_on\":[4]},"
		"{\"id\":6,\"type\":\"create\",\"kind\":\"ScalingPolicy\",\"address\":\"ScalingPolicy/t/p\","
		" \"physical\":\"p\",\"parent\":\"endpoint/e/variant/v\",\"region\":\"us-east-1\","
		" \"input\":{\"PolicyName\":\"p\"},\"depends_on\":[5]},"
		"{\"id\":7,\"type\":\"create\",\"kind\":\"Alarm\",\"address\":\"Alarm/a\","
		" \"physical\":\"a\",\"region\":\"us-east-1\",\"input\":{\"AlarmName\":\"a\","
		" \"AlarmActions\":[{\"plumb:ref\":\"ScalingPolicy/t/p\"}]},\"depends_on\":[6]},"
		"{\"id\":8,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/x1\","
		" \"physical\":\"x1\",\"input\":{\"ModelName\":\"x1\"},\"depends_on\":[]},"
		"{\"id\":9,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/x2\","
		" \"physical\":\"x2\",\"input\":{\"ModelName\":\"x2\"},\"depends_on\":[]},"
		"{\"id\":10,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/x3\","
		" \"physical\":\"x3\",\"input\":{\"ModelName\":\"x3\"},\"depends_on\":[]}"
		"]");
	struct plumb_apply_opts o = { .max_inflight = 2 };
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, &o, &r);
	ck_assert_int_eq(r.rc, 0);
	const struct plumb_apply_totals *t = plumb_apply_totals(ex);
	ck_assert_uint_eq(t->done, 11);
	ck_assert_uint_eq(t->failed + t->skipped, 0);
	/* the bound holds per kind: 4 models ready at once, 2 on the wire; the topic beside them */
	ck_assert_int_eq(f.op_max[PLUMB_AWS_OP_SM_CREATE_MODEL], 2);
	ck_assert_int_eq(f.max_inflight, 3);
	/* dependency order */
	ck_assert_int_lt(log_index(&f, "CreateTopic"), log_index(&f, "CreateEndpointConfig"));
	ck_assert_int_lt(log_index(&f, "CreateModel {\"ModelName\":\"m-1\"}"),
			 log_index(&f, "CreateEndpointConfig"));
	ck_assert_int_lt(log_index(&f, "CreateEndpointConfig"), log_index(&f, "CreateEndpoint {"));
	ck_assert_int_lt(log_index(&f, "DescribeEndpoint"), log_index(&f, "RegisterScalableTarget"));
	ck_assert_int_eq(logged(&f, "DescribeEndpoint"), 3); /* Creating x2, then InService */
	/* references were filled from earlier replies */
	ck_assert_int_ge(log_index(&f, "CreateEndpointConfig {\"AsyncInferenceConfig\":{\"OutputConfig\":"
				       "{\"NotificationConfig\":{\"SuccessTopic\":\"arn:aws:sns:us-east-1:1:made\"}}}"),
			 0);
	ck_assert_int_ge(log_index(&f, "PutMetricAlarm {\"AlarmActions\":[\"arn:aws:autoscaling:"
				       "us-east-1:1:scalingPolicy:u:policyName/p\"]"),
			 0);
	ck_assert_str_eq(plumb_apply_output(ex, "ScalingPolicy/t/p"),
			 "arn:aws:autoscaling:us-east-1:1:scalingPolicy:u:policyName/p");
	ck_assert_str_eq(plumb_apply_output(ex, "Alarm/a"),
			 "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a");
	const struct plumb_apply_action *wa = by_address(ex, "Endpoint/e", "wait");
	ck_assert_uint_eq(wa->polls, 3);
	ck_assert_str_eq(wa->endpoint_status, "InService");
	/* actions without a region took the default */
	ck_assert_str_eq(by_address(ex, "Model/x1", NULL)->region, "us-east-1");
	json_t *res = plumb_apply_result_json(ex);
	ck_assert(json_is_true(json_object_get(res, "ok")));
	ck_assert_int_eq(json_array_size(json_object_get(res, "actions")), 11);
	json_decref(res);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	json_decref(w.endpoints);
	fake_release(&f);
}
END_TEST

START_TEST(failure_stops_dependants_only)
{
	struct world w;
	world_init(&w);
	struct fake f;
	fake_init(&f, world_answer, &w);
	json_t *acts = parse(
		"["
		"{\"id\":1,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/bad\","
		" \"physical\":\"bad\",\"input\":{\"ModelName\":\"bad\",\"Tags\":[{\"Key\":\"plumb:spec-hash\","
		" \"Value\":\"h1\"}]},\"depends_on\":[]},"
		"{\"id\":2,\"type\":\"create\",\"kind\":\"EndpointConfig\",\"address\":\"EndpointConfig/c\","
		" \"physical\":\"c\",\"input\":{\"EndpointConfigName\":\"c\"},\"depends_on\":[1]},"
		"{\"id\":3,\"type\":\"create\",\"kind\":\"Endpoint\",\"address\":\"Endpoint/e\","
		" \"physical\":\"e\",\"input\":{\"EndpointName\":\"e\"},\"depends_on\":[2]},"
		"{\"id\":4,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/good\","
		" \"physical\":\"good\",\"input\":{\"ModelName\":\"good\"},\"depends_on\":[]},"
		"{\"id\":5,\"type\":\"create\",\"kind\":\"EndpointConfig\",\"address\":\"EndpointConfig/g\","
		" \"physical\":\"g\",\"input\":{\"EndpointConfigName\":\"g\"},\"depends_on\":[4]}"
		"]");
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, NULL, &r);
	ck_assert_int_eq(r.rc, PLUMB_EAWS);
	const struct plumb_apply_action *bad = by_address(ex, "Model/bad", NULL);
	ck_assert_int_eq(bad->status, PLUMB_APPLY_FAILED);
	ck_assert_str_eq(bad->err.aws_code, "ValidationException");
	ck_assert_str_eq(bad->err.operation, "CreateModel");
	ck_assert_str_eq(bad->err.request_id, "req-1234");
	ck_assert_int_eq(by_address(ex, "EndpointConfig/c", NULL)->status, PLUMB_APPLY_SKIPPED);
	ck_assert_str_eq(by_address(ex, "EndpointConfig/c", NULL)->detail,
			 "skipped: needs Model/bad");
	ck_assert_int_eq(by_address(ex, "Endpoint/e", NULL)->status, PLUMB_APPLY_SKIPPED);
	ck_assert_str_eq(by_address(ex, "Endpoint/e", NULL)->detail, "skipped: needs Model/bad");
	ck_assert_int_eq(by_address(ex, "Model/good", NULL)->status, PLUMB_APPLY_DONE);
	ck_assert_int_eq(by_address(ex, "EndpointConfig/g", NULL)->status, PLUMB_APPLY_DONE);
	ck_assert_int_eq(logged(&f, "CreateEndpoint "), 0);
	const struct plumb_apply_totals *t = plumb_apply_totals(ex);
	ck_assert_uint_eq(t->done, 2);
	ck_assert_uint_eq(t->failed, 1);
	ck_assert_uint_eq(t->skipped, 2);
	json_t *res = plumb_apply_result_json(ex);
	json_t *e0 = json_object_get(json_array_get(json_object_get(res, "actions"), 0), "error");
	ck_assert_str_eq(json_string_value(json_object_get(e0, "code")), "ValidationException");
	ck_assert_str_eq(json_string_value(json_object_get(e0, "message")),
			 "1 validation error detected: Value 'x' at 'image'");
	ck_assert_str_eq(json_string_value(json_object_get(e0, "service")), "sagemaker");
	json_decref(res);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	json_decref(w.endpoints);
	fake_release(&f);
}
END_TEST

START_TEST(bad_plans_refused)
{
	struct fake f;
	fake_init(&f, world_answer, NULL);
	struct plumb__apply_env env = { .loop = &f.loop, .account = "1", .default_region = "r",
					.call = fake_call, .call_ctx = &f };
	static const char *const bad[] = {
		"[{\"id\":1,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/a\","
		"\"physical\":\"a\",\"depends_on\":[2]},"
		"{\"id\":2,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/b\","
		"\"physical\":\"b\",\"depends_on\":[1]}]",
		"[{\"id\":1,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/a\","
		"\"physical\":\"a\",\"depends_on\":[7]}]",
		"[{\"id\":1,\"type\":\"explode\",\"kind\":\"Model\",\"address\":\"Model/a\","
		"\"physical\":\"a\"}]",
		"[{\"id\":1,\"type\":\"wait\",\"kind\":\"Model\",\"address\":\"Model/a\","
		"\"physical\":\"a\",\"wait_for\":\"in_service\"}]",
		"[{\"id\":1,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/a\","
		"\"physical\":\"a\"},{\"id\":1,\"type\":\"create\",\"kind\":\"Model\","
		"\"address\":\"Model/b\",\"physical\":\"b\"}]",
		"{}",
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(bad); i++) {
		json_t *acts = parse(bad[i]);
		struct plumb_apply *ex = (struct plumb_apply *)1;
		struct plumb_err err;
		plumb_err_clear(&err);
		ck_assert_int_eq(plumb__apply_start_env(&ex, &env, acts, NULL, on_done, NULL, &err),
				 PLUMB_EINVAL);
		ck_assert_ptr_null(ex);
		ck_assert(err.msg[0]);
		json_decref(acts);
	}
	fake_release(&f);
}
END_TEST

START_TEST(empty_plan_finishes_on_the_loop)
{
	struct fake f;
	fake_init(&f, world_answer, NULL);
	json_t *acts = json_array();
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, NULL, &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(plumb_apply_totals(ex)->total, 0);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	fake_release(&f);
}
END_TEST

/* ---------------------------------------------------------------- waits */

struct ep_script {
	const char *const *replies; /* DescribeEndpoint answers in order (last one repeats);
				     * NULL = "Could not find endpoint" */
	size_t n, i;
};

static int script_answer(struct fake *f, enum plumb_aws_op op, const json_t *in, json_t **reply,
			 struct plumb_err *err)
{
	struct ep_script *s = f->scn;
	if (op != PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT) {
		*reply = json_object();
		return 0;
	}
	const char *text = s->replies[s->i < s->n ? s->i : s->n - 1];
	s->i++;
	if (!text)
		return aws_error(err, "sagemaker", op, "ValidationException", 400,
				 "Could not find endpoint \"arn:aws:sagemaker:r:1:endpoint/e\".");
	json_error_t je;
	*reply = json_loads(text, 0, &je);
	return 0;
}

static struct plumb_apply *run_wait(struct fake *f, const char *wait_for, const char *config,
				    int deadline_s, struct runner *r)
{
	json_t *acts = json_pack("[{s:i, s:s, s:s, s:s, s:s, s:s, s:s?, s:i, s:[]}]", "id", 1,
				 "type", "wait", "kind", "Endpoint", "address", "Endpoint/e",
				 "physical", "e", "wait_for", wait_for, "wait_config", config,
				 "wait_deadline_s", deadline_s, "depends_on");
	struct plumb_apply *ex = run_env(f, NULL, acts, NULL, r);
	/* the executor borrows acts: keep them until it is freed, with the runner */
	json_array_append_new(r->events, acts);
	return ex;
}

START_TEST(wait_silent_rollback_fails_with_reason)
{
	static const char *const replies[] = {
		"{\"EndpointStatus\":\"Updating\",\"EndpointConfigName\":\"c1\"}",
		"{\"EndpointStatus\":\"InService\",\"EndpointConfigName\":\"c1\","
		"\"FailureReason\":\"Container health check failed\"}",
	};
	struct ep_script s = { replies, 2, 0 };
	struct fake f;
	fake_init(&f, script_answer, &s);
	struct runner r = { 0 };
	struct plumb_apply *ex = run_wait(&f, "in_service", "c2", 600, &r);
	const struct plumb_apply_action *a = plumb_apply_action_at(ex, 0);
	ck_assert_int_eq(a->status, PLUMB_APPLY_FAILED);
	ck_assert_ptr_nonnull(strstr(a->detail, "silent rollback"));
	ck_assert_ptr_nonnull(strstr(a->detail, "Container health check failed"));
	ck_assert_str_eq(a->err.operation, "DescribeEndpoint");
	ck_assert_uint_eq(a->polls, 2);
	plumb_apply_free(ex);
	json_decref(r.events);
	fake_release(&f);
}
END_TEST

START_TEST(wait_failed_endpoint_fails)
{
	static const char *const replies[] = {
		"{\"EndpointStatus\":\"Creating\"}",
		"{\"EndpointStatus\":\"Failed\",\"FailureReason\":\"Image pull failed\"}",
	};
	struct ep_script s = { replies, 2, 0 };
	struct fake f;
	fake_init(&f, script_answer, &s);
	struct runner r = { 0 };
	struct plumb_apply *ex = run_wait(&f, "in_service", "c1", 600, &r);
	const struct plumb_apply_action *a = plumb_apply_action_at(ex, 0);
	ck_assert_int_eq(a->status, PLUMB_APPLY_FAILED);
	ck_assert_ptr_nonnull(strstr(a->detail, "Failed: Image pull failed"));
	ck_assert_str_eq(a->endpoint_status, "Failed");
	plumb_apply_free(ex);
	json_decref(r.events);
	fake_release(&f);
}
END_TEST

START_TEST(wait_deleted_done_on_not_found)
{
	static const char *const replies[] = { "{\"EndpointStatus\":\"Deleting\"}", NULL };
	struct ep_script s = { replies, 2, 0 };
	struct fake f;
	fake_init(&f, script_answer, &s);
	struct runner r = { 0 };
	struct plumb_apply *ex = run_wait(&f, "deleted", NULL, 600, &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(plumb_apply_action_at(ex, 0)->status, PLUMB_APPLY_DONE);
	ck_assert_str_eq(plumb_apply_action_at(ex, 0)->endpoint_status, "(gone)");
	plumb_apply_free(ex);
	json_decref(r.events);
	fake_release(&f);
}
END_TEST

/*
 * Deadlines on the fake clock: every answer moves the clock 7 minutes, so a 30-minute wait is
 * stuck after its fifth poll whatever the real time; the delays between polls grow by 1.5x
 * from poll_ms and the last one is cut to land on the deadline.
 */
START_TEST(wait_stuck_past_deadline_on_fake_clock)
{
	static const char *const replies[] = { "{\"EndpointStatus\":\"Updating\"}" };
	struct ep_script s = { replies, 1, 0 };
	struct fake f;
	fake_init(&f, script_answer, &s);
	f.tick_ms = 7 * 60 * 1000;
	struct runner r = { 0 };
	struct plumb_apply *ex = run_wait(&f, "in_service", "c2", 1800, &r);
	const struct plumb_apply_action *a = plumb_apply_action_at(ex, 0);
	ck_assert_int_eq(a->status, PLUMB_APPLY_FAILED);
	ck_assert_ptr_nonnull(strstr(a->detail, "stuck: endpoint e is still Updating after"));
	ck_assert_ptr_nonnull(strstr(a->detail, "deadline 1800 s"));
	ck_assert_uint_eq(a->polls, 5);       /* 7, 14, 21, 28, 35 minutes */
	ck_assert_int_ge(a->elapsed_ms, 1800 * 1000);
	ck_assert_int_eq(a->err.cls, PLUMB_ERRC_RETRYABLE); /* stuck does not condemn the spec */
	plumb_apply_free(ex);
	json_decref(r.events);
	fake_release(&f);
}
END_TEST

START_TEST(cancel_stops_waits_and_skips_pending)
{
	static const char *const replies[] = { "{\"EndpointStatus\":\"Creating\"}" };
	struct ep_script s = { replies, 1, 0 };
	struct fake f;
	fake_init(&f, script_answer, &s);
	json_t *acts = parse(
		"[{\"id\":1,\"type\":\"wait\",\"kind\":\"Endpoint\",\"address\":\"Endpoint/e\","
		"\"physical\":\"e\",\"wait_for\":\"in_service\",\"wait_config\":\"c\",\"depends_on\":[]},"
		"{\"id\":2,\"type\":\"create\",\"kind\":\"ScalableTarget\",\"address\":\"ScalableTarget/e\","
		"\"physical\":\"endpoint/e/variant/v\",\"input\":{},\"depends_on\":[1]}]");
	struct runner r = { .cancel_on_poll = (struct plumb_apply *)1 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, NULL, &r);
	ck_assert_int_eq(r.rc, PLUMB_ECANCELED);
	ck_assert_int_eq(plumb_apply_action_at(ex, 0)->status, PLUMB_APPLY_FAILED);
	ck_assert_str_eq(plumb_apply_action_at(ex, 0)->detail, "cancelled");
	ck_assert_int_eq(plumb_apply_action_at(ex, 1)->status, PLUMB_APPLY_SKIPPED);
	ck_assert_int_eq(logged(&f, "DescribeEndpoint"), 1);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	fake_release(&f);
}
END_TEST

/* ---------------------------------------------------------------- outcomes that are not errors */

struct outcomes {
	int busy_left;         /* DeleteEndpoint "in progress" answers before success */
	const char *owner;     /* plumb:owner the existing resources carry */
	int settle_left;       /* CreateEndpoint "could not find endpoint configuration" answers */
};

static int outcome_answer(struct fake *f, enum plumb_aws_op op, const json_t *in,
			  json_t **reply, struct plumb_err *err)
{
	struct outcomes *o = f->scn;
	const char *n;
	switch (op) {
	case PLUMB_AWS_OP_SM_DELETE_MODEL:
		return aws_error(err, "sagemaker", op, "ValidationException", 400,
				 "Could not find model \"arn:aws:sagemaker:r:1:model/m\".");
	case PLUMB_AWS_OP_CW_DELETE_ALARMS:
		return aws_error(err, "cloudwatch", op, "ResourceNotFound", 404, "gone");
	case PLUMB_AWS_OP_SM_DELETE_ENDPOINT:
		if (o->busy_left-- > 0)
			return aws_error(err, "sagemaker", op, "ValidationException", 400,
					 "Cannot update in-progress endpoint \"arn\".");
		*reply = json_object();
		return 0;
	case PLUMB_AWS_OP_SM_CREATE_MODEL:
	case PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG:
		n = json_string_value(json_object_get(in, "ModelName"));
		if (!n)
			n = json_string_value(json_object_get(in, "EndpointConfigName"));
		return aws_error(err, "sagemaker", op, "ValidationException", 400,
				 strcmp(n, "mine") == 0
					 ? "Cannot create already existing model \"arn:aws:sagemaker:"
					   "us-east-1:123456789012:model/mine\"."
					 : "Cannot create already existing endpoint configuration "
					   "\"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/theirs\".");
	case PLUMB_AWS_OP_SM_LIST_TAGS:
		n = json_string_value(json_object_get(in, "ResourceArn"));
		*reply = json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "Tags", "Key", "plumb:owner",
				   "Value", strstr(n, "mine") ? "team-a" : "someone-else", "Key",
				   "plumb:id", "Value",
				   strstr(n, "mine") ? "Model/mine" : "EndpointConfig/theirs");
		return 0;
	case PLUMB_AWS_OP_SM_CREATE_ENDPOINT:
		if (o->settle_left-- > 0)
			return aws_error(err, "sagemaker", op, "ValidationException", 400,
					 "Could not find endpoint configuration \"c\".");
		*reply = json_pack("{s:s}", "EndpointArn", "arn:e");
		return 0;
	case PLUMB_AWS_OP_SM_UPDATE_ENDPOINT:
		return aws_error(err, "sagemaker", op, "ValidationException", 400,
				 "Cannot update in-progress endpoint \"arn\".");
	case PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT:
		*reply = json_pack("{s:s, s:s, s:{s:s}}", "EndpointStatus", "Updating",
				   "EndpointConfigName", "old", "PendingDeploymentSummary",
				   "EndpointConfigName", "new");
		return 0;
	case PLUMB_AWS_OP_AAS_DESCRIBE_SCALABLE_TARGETS:
		*reply = json_pack("{s:[{s:s}]}", "ScalableTargets", "ScalableTargetARN",
				   "arn:aws:application-autoscaling:r:1:scalable-target/abc");
		return 0;
	default:
		*reply = json_object();
		return 0;
	}
}

START_TEST(gone_exists_busy_and_settling)
{
	struct outcomes o = { .busy_left = 2, .settle_left = 2 };
	struct fake f;
	fake_init(&f, outcome_answer, &o);
	json_t *acts = parse(
		"["
		"{\"id\":1,\"type\":\"delete\",\"kind\":\"Model\",\"address\":\"Model/m\","
		" \"physical\":\"m\",\"input\":{\"ModelName\":\"m\"}},"
		"{\"id\":2,\"type\":\"delete\",\"kind\":\"Alarm\",\"address\":\"Alarm/a\","
		" \"physical\":\"a\"},"
		"{\"id\":3,\"type\":\"delete\",\"kind\":\"Endpoint\",\"address\":\"Endpoint/busy\","
		" \"physical\":\"busy\",\"input\":{\"EndpointName\":\"busy\"}},"
		"{\"id\":4,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/mine\","
		" \"physical\":\"mine\",\"input\":{\"ModelName\":\"mine\",\"Tags\":["
		"{\"Key\":\"plumb:owner\",\"Value\":\"team-a\"},{\"Key\":\"plumb:id\",\"Value\":\"Model/mine\"}]}},"
		"{\"id\":5,\"type\":\"create\",\"kind\":\"EndpointConfig\",\"address\":\"EndpointConfig/theirs\","
		" \"physical\":\"theirs\",\"input\":{\"EndpointConfigName\":\"theirs\",\"Tags\":["
		"{\"Key\":\"plumb:owner\",\"Value\":\"team-a\"},{\"Key\":\"plumb:id\",\"Value\":\"EndpointConfig/theirs\"}]}},"
		"{\"id\":6,\"type\":\"create\",\"kind\":\"Endpoint\",\"address\":\"Endpoint/new\","
		" \"physical\":\"new\",\"input\":{\"EndpointName\":\"new\",\"EndpointConfigName\":\"c\"}},"
		"{\"id\":7,\"type\":\"update\",\"kind\":\"Endpoint\",\"address\":\"Endpoint/upd\","
		" \"physical\":\"upd\",\"input\":{\"EndpointName\":\"upd\",\"EndpointConfigName\":\"new\"}},"
		"{\"id\":8,\"type\":\"tag\",\"kind\":\"ScalableTarget\",\"address\":\"ScalableTarget/t\","
		" \"physical\":\"endpoint/e/variant/v\",\"add_tags\":{\"team\":\"b\"},\"remove_tags\":[\"old\"]}"
		"]");
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, NULL, &r);
	const struct plumb_apply_action *a;
	a = by_address(ex, "Model/m", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_DONE);
	ck_assert_str_eq(a->detail, "already gone");
	a = by_address(ex, "Alarm/a", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_DONE);
	ck_assert_int_ge(log_index(&f, "DeleteAlarms {\"AlarmNames\":[\"a\"]}"), 0);
	a = by_address(ex, "Endpoint/busy", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_DONE);
	ck_assert_uint_eq(a->calls, 3);
	a = by_address(ex, "Model/mine", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_DONE);
	ck_assert_str_eq(a->detail, "already existed (ours)");
	a = by_address(ex, "EndpointConfig/theirs", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_FAILED);
	ck_assert_str_eq(a->err.aws_code, "ValidationException");
	ck_assert_ptr_nonnull(strstr(a->detail, "not ours"));
	a = by_address(ex, "Endpoint/new", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_DONE);
	ck_assert_uint_eq(a->calls, 3);
	a = by_address(ex, "Endpoint/upd", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_DONE);
	ck_assert_str_eq(a->detail, "update already under way");
	a = by_address(ex, "ScalableTarget/t", NULL);
	ck_assert_int_eq(a->status, PLUMB_APPLY_DONE);
	ck_assert_int_ge(log_index(&f, "TagResource {\"ResourceARN\":\"arn:aws:application-autoscaling:"
				       "r:1:scalable-target/abc\",\"Tags\":{\"team\":\"b\"}}"),
			 0);
	ck_assert_int_ge(log_index(&f, "UntagResource {\"ResourceARN\":\"arn:aws:application-"
				       "autoscaling:r:1:scalable-target/abc\",\"TagKeys\":[\"old\"]}"),
			 0);
	int retries = 0;
	size_t i;
	json_t *v;
	json_array_foreach(r.events, i, v)
		retries += strncmp(json_string_value(v), "retry ", 6) == 0;
	ck_assert_int_eq(retries, 4);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	fake_release(&f);
}
END_TEST

START_TEST(busy_past_deadline_fails)
{
	struct outcomes o = { .busy_left = 1000 };
	struct fake f;
	fake_init(&f, outcome_answer, &o);
	f.tick_ms = 60 * 1000;
	json_t *acts = parse("[{\"id\":1,\"type\":\"delete\",\"kind\":\"Endpoint\","
			     "\"address\":\"Endpoint/busy\",\"physical\":\"busy\"}]");
	struct plumb_apply_opts opts = { .busy_deadline_s = 300 };
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, &opts, &r);
	const struct plumb_apply_action *a = plumb_apply_action_at(ex, 0);
	ck_assert_int_eq(a->status, PLUMB_APPLY_FAILED);
	ck_assert_ptr_nonnull(strstr(a->detail, "still busy after"));
	ck_assert_uint_eq(a->calls, 6);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	fake_release(&f);
}
END_TEST

START_TEST(start_failure_fails_the_action)
{
	struct world w;
	world_init(&w);
	struct fake f;
	fake_init(&f, world_answer, &w);
	f.start_fail_op = PLUMB_AWS_OP_SNS_CREATE_TOPIC;
	json_t *acts = parse("[{\"id\":1,\"type\":\"create\",\"kind\":\"Topic\",\"address\":\"Topic/t\","
			     "\"physical\":\"t\",\"input\":{\"Name\":\"t\"}},"
			     "{\"id\":2,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/m\","
			     "\"physical\":\"m\",\"input\":{\"ModelName\":\"m\"}}]");
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, NULL, &r);
	ck_assert_int_eq(r.rc, PLUMB_ECONFIG);
	ck_assert_int_eq(plumb_apply_action_at(ex, 0)->status, PLUMB_APPLY_FAILED);
	ck_assert_ptr_nonnull(strstr(plumb_apply_action_at(ex, 0)->detail, "no credentials"));
	ck_assert_int_eq(plumb_apply_action_at(ex, 1)->status, PLUMB_APPLY_DONE);
	ck_assert_uint_eq(plumb_apply_totals(ex)->calls, 1);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	json_decref(w.endpoints);
	fake_release(&f);
}
END_TEST

START_TEST(topic_update_one_call_per_attribute)
{
	struct world w;
	world_init(&w);
	struct fake f;
	fake_init(&f, world_answer, &w);
	json_t *acts = parse("[{\"id\":1,\"type\":\"update\",\"kind\":\"Topic\",\"address\":\"Topic/t\","
			     "\"physical\":\"t\",\"input\":{\"Attributes\":{\"DisplayName\":\"x\","
			     "\"Policy\":{\"Version\":\"2012-10-17\"}}},\"add_tags\":{\"k\":\"v\"}}]");
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, NULL, acts, NULL, &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_int_eq(logged(&f, "SetTopicAttributes"), 2);
	ck_assert_int_ge(log_index(&f, "SetTopicAttributes {\"AttributeName\":\"DisplayName\","
				       "\"AttributeValue\":\"x\",\"TopicArn\":\"arn:aws:sns:us-east-1:"
				       "123456789012:t\"}"),
			 0);
	ck_assert_int_ge(log_index(&f, "SetTopicAttributes {\"AttributeName\":\"Policy\","
				       "\"AttributeValue\":\"{\\\"Version\\\":\\\"2012-10-17\\\"}\""),
			 0);
	ck_assert_int_ge(log_index(&f, "TagResource {\"ResourceArn\":\"arn:aws:sns:us-east-1:"
				       "123456789012:t\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}"),
			 0);
	plumb_apply_free(ex);
	json_decref(r.events);
	json_decref(acts);
	json_decref(w.endpoints);
	fake_release(&f);
}
END_TEST

/* ---------------------------------------------------------------- journal and recovery */

static char tmpdir[64];

static void tmp_setup(void)
{
	plumb_strlcpy(tmpdir, "/tmp/plumb-apply-XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	DIR *d = opendir(tmpdir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			char p[512];
			snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
}

static struct plumb_state *open_state(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/state.db", tmpdir);
	struct plumb_state_opts o = { .path = path, .mode = PLUMB_STATE_WRITE, .holder = "test" };
	struct plumb_state *st = NULL;
	struct plumb_err err;
	ck_assert_msg(plumb_state_open(&st, &o, &err) == 0, "%s", err.msg);
	return st;
}

START_TEST(journal_rows_and_failed_hashes)
{
	struct world w;
	world_init(&w);
	struct fake f;
	fake_init(&f, world_answer, &w);
	struct plumb_state *st = open_state();
	json_t *acts = parse(
		"["
		"{\"id\":1,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/bad\","
		" \"physical\":\"bad\",\"input\":{\"ModelName\":\"bad\",\"PrimaryContainer\":{\"Environment\":"
		" {\"SECRET\":\"hunter2\"}},\"Tags\":[{\"Key\":\"plumb:spec-hash\",\"Value\":\"h1\"}]}},"
		"{\"id\":2,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/ok\","
		" \"physical\":\"ok\",\"input\":{\"ModelName\":\"ok\",\"Tags\":[{\"Key\":\"plumb:spec-hash\","
		" \"Value\":\"h2\"}]},\"add_tags\":{\"extra\":\"1\"}}"
		"]");
	struct runner r = { 0 };
	struct plumb_apply_opts o = { .run_id = "run-1" };
	struct plumb_apply *ex = run_env(&f, st, acts, &o, &r);
	ck_assert_int_eq(r.rc, PLUMB_EAWS);
	struct plumb_vec open = PLUMB_VEC_INIT;
	ck_assert_int_eq(plumb_state_journal_open(st, &open, NULL), 0);
	ck_assert_uint_eq(open.len, 0); /* every row finished */
	plumb_vec_release(&open);
	int n = -1;
	ck_assert_int_eq(plumb_state_journal_failed_count(st, "Model/bad", "h1", &n, NULL), 0);
	ck_assert_int_eq(n, 1); /* the verdict row */
	ck_assert_int_eq(plumb_state_journal_failed_count(st, "Model/ok", "h2", &n, NULL), 0);
	ck_assert_int_eq(n, 0);
	json_t *refused;
	ck_assert_int_eq(plumb_apply_failed_hashes(st, acts, &refused, NULL), 0);
	ck_assert_int_eq(json_array_size(refused), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(refused, 0), "address")),
			 "Model/bad");
	json_decref(refused);
	plumb_apply_free(ex);
	json_decref(r.events);
	plumb_state_close(st);

	/* the file itself: 4 rows (CreateModel x2, AddTags, the verdict), no secret */
	char path[512], cmd[700];
	snprintf(path, sizeof(path), "%s/state.db", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "sqlite3 %s \"select operation||':'||status from journal order by id\" "
		 "| sort | tr '\\n' ' '",
		 path);
	FILE *p = popen(cmd, "r");
	char buf[512] = "";
	size_t got = fread(buf, 1, sizeof(buf) - 1, p);
	buf[got] = '\0';
	pclose(p);
	ck_assert_str_eq(buf, "AddTags:done CreateModel:done CreateModel:failed CreateModel:failed ");
	snprintf(cmd, sizeof(cmd), "sqlite3 %s \"select count(*) from journal where "
				   "request_json like '%%hunter2%%'\"",
		 path);
	p = popen(cmd, "r");
	got = fread(buf, 1, sizeof(buf) - 1, p);
	buf[got] = '\0';
	pclose(p);
	ck_assert_str_eq(buf, "0\n");
	json_decref(acts);
	json_decref(w.endpoints);
	fake_release(&f);
}
END_TEST

/* A rollback AWS explains condemns the spec hash; InService elsewhere without a reason does not. */
START_TEST(unexplained_rollback_does_not_condemn_the_spec)
{
	static const char *const why[] = {
		"{\"EndpointStatus\":\"InService\",\"EndpointConfigName\":\"c1\","
		"\"FailureReason\":\"Container health check failed\"}",
		"{\"EndpointStatus\":\"InService\",\"EndpointConfigName\":\"c1\"}",
	};
	for (int k = 0; k < 2; k++) {
		const char *replies[] = { why[k], why[k], why[k], why[k] };
		struct ep_script s = { replies, 4, 0 };
		struct fake f;
		fake_init(&f, script_answer, &s);
		struct plumb_state *st = open_state();
		json_t *acts = json_pack("[{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:[]}]", "id",
					 1, "type", "wait", "kind", "Endpoint", "address",
					 "Endpoint/e", "physical", "e", "spec_hash", "h9",
					 "wait_for", "in_service", "wait_config", "c2",
					 "wait_deadline_s", 600, "depends_on");
		struct runner r = { 0 };
		struct plumb_apply *ex = run_env(&f, st, acts, NULL, &r);
		const struct plumb_apply_action *a = plumb_apply_action_at(ex, 0);
		ck_assert_int_eq(a->status, PLUMB_APPLY_FAILED);
		ck_assert_ptr_nonnull(strstr(a->detail, "silent rollback"));
		int n = -1;
		ck_assert_int_eq(plumb_state_journal_failed_count(st, "Endpoint/e", "h9", &n, NULL), 0);
		ck_assert_int_eq(n, k == 0 ? 1 : 0);
		plumb_apply_free(ex);
		json_decref(r.events);
		json_decref(acts);
		plumb_state_close(st);
		char path[512];
		snprintf(path, sizeof(path), "%s/state.db", tmpdir);
		unlink(path);
		fake_release(&f);
	}
}
END_TEST

START_TEST(journal_write_failure_blocks_the_call)
{
	struct world w;
	world_init(&w);
	struct fake f;
	fake_init(&f, world_answer, &w);
	/* a read-only state: begin fails, so the call must not be made */
	struct plumb_state *st = open_state();
	plumb_state_close(st);
	char path[512];
	snprintf(path, sizeof(path), "%s/state.db", tmpdir);
	struct plumb_state_opts so = { .path = path, .mode = PLUMB_STATE_READ };
	ck_assert_int_eq(plumb_state_open(&st, &so, NULL), 0);
	json_t *acts = parse("[{\"id\":1,\"type\":\"create\",\"kind\":\"Model\",\"address\":\"Model/m\","
			     "\"physical\":\"m\",\"input\":{\"ModelName\":\"m\"}}]");
	struct runner r = { 0 };
	struct plumb_apply *ex = run_env(&f, st, acts, NULL, &r);
	ck_assert_int_eq(plumb_apply_action_at(ex, 0)->status, PLUMB_APPLY_FAILED);
	ck_assert_ptr_nonnull(strstr(plumb_apply_action_at(ex, 0)->detail, "journal"));
	ck_assert_int_eq(logged(&f, "CreateModel"), 0);
	plumb_apply_free(ex);
	json_decref(r.events);
	plumb_state_close(st);
	json_decref(acts);
	json_decref(w.endpoints);
	fake_release(&f);
}
END_TEST

/* AWS after a crash: model "landed" exists, "lost" does not; endpoint "upd" is updating to
 * "c2"; alarm "gone" was deleted; topic "t" has tag team=a; a throttled probe. */
static int after_crash(struct fake *f, enum plumb_aws_op op, const json_t *in, json_t **reply,
		       struct plumb_err *err)
{
	const char *n;
	switch (op) {
	case PLUMB_AWS_OP_SM_DESCRIBE_MODEL:
		n = json_string_value(json_object_get(in, "ModelName"));
		if (strcmp(n, "landed") == 0) {
			*reply = json_pack("{s:s}", "ModelName", "landed");
			return 0;
		}
		if (strcmp(n, "throttled") == 0)
			return aws_error(err, "sagemaker", op, "ThrottlingException", 400, "slow");
		return aws_error(err, "sagemaker", op, "ValidationException", 400,
				 "Could not find model \"x\".");
	case PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT:
		*reply = json_pack("{s:s, s:s, s:{s:s}}", "EndpointStatus", "Updating",
				   "EndpointConfigName", "c1", "PendingDeploymentSummary",
				   "EndpointConfigName", "c2");
		return 0;
	case PLUMB_AWS_OP_CW_DESCRIBE_ALARMS:
		*reply = json_pack("{s:[]}", "MetricAlarms");
		return 0;
	case PLUMB_AWS_OP_SNS_LIST_TAGS_FOR_RESOURCE:
		*reply = json_pack("{s:[{s:s, s:s}]}", "Tags", "Key", "team", "Value", "a");
		return 0;
	case PLUMB_AWS_OP_AAS_DESCRIBE_SCALABLE_TARGETS:
		*reply = json_pack("{s:[{s:s, s:i, s:i}]}", "ScalableTargets", "ResourceId", "x",
				   "MinCapacity", 1, "MaxCapacity", 4);
		return 0;
	default:
		*reply = json_object();
		return 0;
	}
}

static void open_row(struct plumb_state *st, enum plumb_kind k, const char *name,
		     const char *op, const char *request, const char *account)
{
	json_error_t je;
	struct plumb_journal_entry e = {
		.run_id = "crashed", .account = (char *)account, .region = "us-east-1", .kind = k,
		.name = (char *)name, .manifest_id = (char *)name, .operation = (char *)op,
		.request = json_loads(request, 0, &je),
	};
	ck_assert_int_eq(plumb_state_journal_begin(st, &e, NULL), 0);
	json_decref(e.request);
}

START_TEST(recovery_finishes_open_rows)
{
	struct fake f;
	fake_init(&f, after_crash, NULL);
	struct plumb_state *st = open_state();
	const char *acct = "123456789012";
	open_row(st, PLUMB_KIND_MODEL, "landed", "CreateModel", "{\"ModelName\":\"landed\"}", acct);
	open_row(st, PLUMB_KIND_MODEL, "lost", "CreateModel", "{\"ModelName\":\"lost\"}", acct);
	open_row(st, PLUMB_KIND_MODEL, "lost", "DeleteModel", "{\"ModelName\":\"lost\"}", acct);
	open_row(st, PLUMB_KIND_ENDPOINT, "upd", "UpdateEndpoint",
		 "{\"EndpointName\":\"upd\",\"EndpointConfigName\":\"c2\"}", acct);
	open_row(st, PLUMB_KIND_ALARM, "gone", "DeleteAlarms", "{\"AlarmNames\":[\"gone\"]}", acct);
	open_row(st, PLUMB_KIND_ALARM, "gone", "PutMetricAlarm", "{\"AlarmName\":\"gone\"}", acct);
	open_row(st, PLUMB_KIND_TOPIC, "t", "TagResource",
		 "{\"ResourceArn\":\"arn:aws:sns:us-east-1:1:t\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"a\"}]}",
		 acct);
	open_row(st, PLUMB_KIND_TOPIC, "t", "UntagResource",
		 "{\"ResourceArn\":\"arn:aws:sns:us-east-1:1:t\",\"TagKeys\":[\"team\"]}", acct);
	open_row(st, PLUMB_KIND_SCALABLE_TARGET, "x", "RegisterScalableTarget",
		 "{\"ResourceId\":\"x\",\"MinCapacity\":1,\"MaxCapacity\":4}", acct);
	open_row(st, PLUMB_KIND_SCALABLE_TARGET, "x", "RegisterScalableTarget",
		 "{\"ResourceId\":\"x\",\"MinCapacity\":0,\"MaxCapacity\":4}", acct);
	open_row(st, PLUMB_KIND_MODEL, "throttled", "CreateModel", "{}", acct);
	open_row(st, PLUMB_KIND_MODEL, "elsewhere", "CreateModel", "{}", "999999999999");
	struct plumb__apply_env env = { .loop = &f.loop, .state = st, .account = acct,
					.call = fake_call, .call_ctx = &f };
	struct plumb_apply_recovery rec;
	struct plumb_err err;
	ck_assert_int_eq(plumb__apply_recover_env(&env, &rec, &err), 0);
	ck_assert_uint_eq(rec.open, 12);
	ck_assert_uint_eq(rec.done, 6);   /* landed, lost deleted, upd, alarm gone, tag, target */
	ck_assert_uint_eq(rec.failed, 4); /* lost create, alarm put, untag, target 0..4 */
	ck_assert_uint_eq(rec.left, 2);   /* throttled probe, other account */
	struct plumb_vec open = PLUMB_VEC_INIT;
	ck_assert_int_eq(plumb_state_journal_open(st, &open, NULL), 0);
	ck_assert_uint_eq(open.len, 2);
	for (size_t i = 0; i < open.len; i++)
		plumb_journal_entry_free(open.items[i]);
	plumb_vec_release(&open);
	/* an interrupted create is not a failed spec */
	int n = -1;
	ck_assert_int_eq(plumb_state_journal_failed_count(st, "lost", "", &n, NULL), 0);
	ck_assert_int_eq(n, 0);
	plumb_state_close(st);
	fake_release(&f);
}
END_TEST

Suite *apply_suite(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, main_op_per_kind_and_type);
	tcase_add_test(tc, tag_inputs_per_service);
	tcase_add_test(tc, default_deletes);
	tcase_add_test(tc, references_resolved_in_place);
	tcase_add_test(tc, spec_hash_and_redaction);
	tcase_add_test(tc, backoff_grows_and_caps);
	tcase_add_test(tc, wait_verdicts);
	tcase_add_test(tc, target_keeps_what_the_address_needs);
	suite_add_tcase(s, tc);
	tc = tcase_create("executor");
	tcase_add_test(tc, order_bound_and_references);
	tcase_add_test(tc, failure_stops_dependants_only);
	tcase_add_test(tc, bad_plans_refused);
	tcase_add_test(tc, empty_plan_finishes_on_the_loop);
	tcase_add_test(tc, wait_silent_rollback_fails_with_reason);
	tcase_add_test(tc, wait_failed_endpoint_fails);
	tcase_add_test(tc, wait_deleted_done_on_not_found);
	tcase_add_test(tc, wait_stuck_past_deadline_on_fake_clock);
	tcase_add_test(tc, cancel_stops_waits_and_skips_pending);
	tcase_add_test(tc, gone_exists_busy_and_settling);
	tcase_add_test(tc, busy_past_deadline_fails);
	tcase_add_test(tc, start_failure_fails_the_action);
	tcase_add_test(tc, topic_update_one_call_per_attribute);
	suite_add_tcase(s, tc);
	tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, journal_rows_and_failed_hashes);
	tcase_add_test(tc, unexplained_rollback_does_not_condemn_the_spec);
	tcase_add_test(tc, journal_write_failure_blocks_the_call);
	tcase_add_test(tc, recovery_finishes_open_rows);
	suite_add_tcase(s, tc);
	return s;
}

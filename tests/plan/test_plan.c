/* pkg/plan: hand-built diffs -> exact action sequences and dependencies, the choreography of
 * endpoint updates under autoscaling, update inputs and deadlines, the text and JSON plans, and
 * the fingerprint. Diffs are built by hand (the structs are public) so each case states exactly
 * what the planner is given; one case runs the real diff to check the two agree. */
#include "diff/diff.h"
#include "plan/plan.h"
#include "test.h"

#include <stdarg.h>
#include <string.h>

#define REGION "us-east-1"
#define ACCOUNT "123456789012"
#define OWNER "team"
#define RID "endpoint/clip/variant/AllTraffic"
#define POLICY_ARN(p)                                                                          \
	"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:0000:resource/sagemaker/" RID \
	":policyName/" p

/* ------------------------------------------------------------------ fixture */

struct fx {
	struct plumb_diff d;              /* the hand-built diff */
	struct plumb_observed_set have;   /* what its changes borrow as live */
	struct plumb_vec res;             /* struct plumb_resource * (malloc'd) */
	struct plumb_plan p;              /* the plan under test */
	struct plumb_buf out;             /* rendered text */
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	plumb_diff_init(&f->d);
	plumb_observed_set_init(&f->have);
	plumb_plan_init(&f->p);
	plumb_buf_init(&f->out, 0);
}

static void fx_release(struct fx *f)
{
	plumb_plan_release(&f->p);
	plumb_diff_release(&f->d);
	for (size_t i = 0; i < f->res.len; i++) {
		plumb_resource_free(f->res.items[i]);
		free(f->res.items[i]);
	}
	plumb_vec_release(&f->res);
	plumb_observed_set_release(&f->have);
	plumb_buf_release(&f->out);
}

static json_t *J(const char *text)
{
	if (!text)
		return NULL;
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, e.text);
	return v;
}

/* A desired resource; deps are earlier resources, NULL-terminated. */
static struct plumb_resource *res(struct fx *f, enum plumb_kind k, const char *name,
				  const char *physical, const char *spec, ...)
{
	struct plumb_resource *r = calloc(1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	r->kind = k;
	r->name = name;
	r->physical = physical;
	r->region = REGION;
	r->spec = J(spec);
	r->tags = json_object();
	snprintf(r->hash, sizeof(r->hash), "hash-%s", name);
	va_list ap;
	va_start(ap, spec);
	for (struct plumb_resource *d; (d = va_arg(ap, struct plumb_resource *));)
		plumb_vec_push(&r->deps, d);
	va_end(ap);
	plumb_vec_push(&f->res, r);
	return r;
}

/* A live resource of ours (tags default to plumb:owner + plumb:id). */
static struct plumb_observed *obs(struct fx *f, enum plumb_kind k, const char *name,
				  const char *parent, const char *live, const char *tags,
				  const char *arn)
{
	struct plumb_observed *o = plumb_observed_new(k, REGION, name, parent);
	ck_assert_ptr_nonnull(o);
	o->live = J(live);
	if (tags) {
		o->tags = J(tags);
	} else if (k != PLUMB_KIND_SCALING_POLICY) {
		o->tags = json_pack("{s:s,s:o}", "plumb:owner", OWNER, "plumb:id",
				    json_sprintf("%s/%s", plumb_kind_name(k), name));
	}
	o->arn = arn ? strdup(arn) : NULL;
	o->modified_ms = 1000;
	ck_assert_int_eq(plumb_observed_set_add(&f->have, o), 0);
	return o;
}

/* A change as pkg/diff makes it: spec and tags copied from want (tags + plumb:*). */
static struct plumb_change *chg(struct fx *f, enum plumb_change_type t, enum plumb_kind k,
				const char *name, const char *physical, const char *parent,
				const struct plumb_resource *want, const struct plumb_observed *have)
{
	struct plumb_change *c = plumb_arena_zalloc(&f->d.arena, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->type = t;
	c->kind = k;
	c->name = name;
	c->physical = physical;
	c->parent = parent;
	c->region = REGION;
	c->want = want;
	c->have = have;
	if (want) {
		c->spec = json_deep_copy(want->spec);
		if (k != PLUMB_KIND_SCALING_POLICY) {
			c->tags = json_deep_copy(want->tags);
			json_object_set_new(c->tags, "plumb:owner", json_string(OWNER));
			json_object_set_new(c->tags, "plumb:id",
					    json_sprintf("%s/%s", plumb_kind_name(k), name));
		}
	}
	plumb_vec_push(&f->d.changes, c);
	f->d.counts[t]++;
	return c;
}

static struct plumb_delta *delta(struct fx *f, struct plumb_change *c, const char *path,
				 const char *aws_path, const char *old, const char *new,
				 bool info, bool forces)
{
	struct plumb_delta *dl = plumb_arena_zalloc(&f->d.arena, sizeof(*dl));
	ck_assert_ptr_nonnull(dl);
	dl->path = plumb_arena_strdup(&f->d.arena, path);
	dl->aws_path = plumb_arena_strdup(&f->d.arena, aws_path);
	dl->old = J(old);
	dl->new = J(new);
	dl->info = info;
	dl->forces_replace = forces;
	plumb_vec_push(&c->deltas, dl);
	return dl;
}

static void build(struct fx *f)
{
	struct plumb_plan_opts o = { OWNER, ACCOUNT };
	struct plumb_err err;
	plumb_err_clear(&err);
	int rc = plumb_plan_build(&f->p, &f->d, &o, &err);
	ck_assert_msg(rc == 0, "plan build: %d %s", rc, err.msg);
}

static int cmp_id(const void *a, const void *b)
{
	size_t x = (*(const struct plumb_action *const *)a)->id;
	size_t y = (*(const struct plumb_action *const *)b)->id;
	return x < y ? -1 : x > y;
}

/* "0 create Model/clip\n2 wait Endpoint/clip <- 1\n...": the plan's order and dependencies. */
static const char *sequence(struct fx *f)
{
	plumb_buf_reset(&f->out);
	for (size_t i = 0; i < f->p.actions.len; i++) {
		struct plumb_action *a = f->p.actions.items[i];
		ck_assert_uint_eq(a->id, i);
		plumb_buf_addf(&f->out, "%zu %s %s/%s", a->id, plumb_action_type_name(a->type),
			       plumb_kind_name(a->kind), a->name);
		struct plumb_vec deps = PLUMB_VEC_INIT;
		for (size_t j = 0; j < a->deps.len; j++) {
			plumb_vec_push(&deps, a->deps.items[j]);
			ck_assert_uint_lt(((struct plumb_action *)a->deps.items[j])->id, a->id);
		}
		plumb_vec_sort(&deps, cmp_id);
		for (size_t j = 0; j < deps.len; j++)
			plumb_buf_addf(&f->out, "%s%zu", j ? "," : " <- ",
				       ((struct plumb_action *)deps.items[j])->id);
		plumb_vec_release(&deps);
		plumb_buf_addch(&f->out, '\n');
	}
	return f->out.buf;
}

static struct plumb_action *act(struct fx *f, size_t i)
{
	ck_assert_uint_lt(i, f->p.actions.len);
	return f->p.actions.items[i];
}

/* The action's input as compact sorted JSON (malloc'd). */
static char *input_text(const struct plumb_action *a)
{
	return a->input ? json_dumps(a->input, JSON_COMPACT | JSON_SORT_KEYS) : strdup("null");
}

#define ck_input(a, want)                                                                     \
	do {                                                                                   \
		char *got_ = input_text(a);                                                     \
		json_t *w_ = J(want);                                                           \
		char *want_ = json_dumps(w_, JSON_COMPACT | JSON_SORT_KEYS);                    \
		ck_assert_str_eq(got_, want_);                                                  \
		free(got_);                                                                     \
		free(want_);                                                                    \
		json_decref(w_);                                                                \
	} while (0)

/* Golden text: on a mismatch, report where it starts (Check caps message length). */
#define ck_text(got, want) ck_text_at(__LINE__, got, want)
static void ck_text_at(int line, const char *got, const char *want)
{
	size_t i = 0;
	while (got[i] && got[i] == want[i])
		i++;
	if (!got[i] && !want[i])
		return;
	size_t from = i > 40 ? i - 40 : 0;
	ck_abort_msg("line %d: text differs at byte %zu:\n got: %.120s\nwant: %.120s", line, i,
		     got + from, want + from);
}

/* ------------------------------------------------------------------ shared specs */

#define MODEL_SPEC "{\"ExecutionRoleArn\":\"arn:aws:iam::123456789012:role/r\"," \
		   "\"PrimaryContainer\":{\"Image\":\"img:1\"}}"
#define CONFIG_SPEC(model, type, count)                                                      \
	"{\"ProductionVariants\":[{\"VariantName\":\"AllTraffic\",\"ModelName\":\"" model      \
	"\",\"InstanceType\":\"" type "\",\"InitialInstanceCount\":" count "}]}"
#define TARGET_SPEC "{\"ResourceId\":\"" RID "\",\"ScalableDimension\":" \
		    "\"sagemaker:variant:DesiredInstanceCount\",\"MinCapacity\":0,\"MaxCapacity\":4}"
#define TT_SPEC "{\"PolicyType\":\"TargetTrackingScaling\"," \
		"\"TargetTrackingScalingPolicyConfiguration\":{\"TargetValue\":5.0}}"
#define STEP_SPEC "{\"PolicyType\":\"StepScaling\",\"StepScalingPolicyConfiguration\":" \
		  "{\"AdjustmentType\":\"ChangeInCapacity\",\"StepAdjustments\":" \
		  "[{\"MetricIntervalLowerBound\":0.0,\"ScalingAdjustment\":1}]}}"
#define ALARM_SPEC(action) "{\"MetricName\":\"HasBacklogWithoutCapacity\",\"Namespace\":" \
			   "\"AWS/SageMaker\",\"Threshold\":1.0,\"AlarmActions\":[" action "]}"
#define MARKER(x) "{\"plumb:ref\":\"" x "\"}"

/* ------------------------------------------------------------------ empty account */

START_TEST(empty_account_full_stack)
{
	struct fx f;
	fx_init(&f);
	struct plumb_resource *topic = res(&f, PLUMB_KIND_TOPIC, "results", "results",
					   "{\"Attributes\":{\"DisplayName\":\"results\"}}", NULL);
	struct plumb_resource *model = res(&f, PLUMB_KIND_MODEL, "clip", "clip-aaaa1111",
					   MODEL_SPEC, NULL);
	struct plumb_resource *cfg = res(
		&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-bbbb2222",
		"{\"ProductionVariants\":[{\"VariantName\":\"AllTraffic\",\"ModelName\":"
		"\"clip-aaaa1111\",\"InstanceType\":\"ml.g5.xlarge\",\"InitialInstanceCount\":1}],"
		"\"AsyncInferenceConfig\":{\"OutputConfig\":{\"S3OutputPath\":\"s3://b/o\","
		"\"NotificationConfig\":{\"SuccessTopic\":" MARKER("Topic/results") "}}}}",
		model, topic, NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"clip-bbbb2222\","
					"\"DeploymentConfig\":{\"AutoRollbackConfiguration\":{}}}",
					cfg, NULL);
	struct plumb_resource *tgt = res(&f, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, TARGET_SPEC,
					 ep, NULL);
	json_object_set_new(tgt->tags, "team", json_string("search"));
	struct plumb_resource *tt = res(&f, PLUMB_KIND_SCALING_POLICY, "clip/scale-on-backlog",
					"scale-on-backlog", TT_SPEC, tgt, NULL);
	struct plumb_resource *step = res(&f, PLUMB_KIND_SCALING_POLICY, "clip/scale-from-zero",
					  "scale-from-zero", STEP_SPEC, tgt, NULL);
	struct plumb_resource *alarm =
		res(&f, PLUMB_KIND_ALARM, "clip-scale-from-zero", "clip-scale-from-zero",
		    ALARM_SPEC(MARKER("ScalingPolicy/clip/scale-from-zero")), step, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_TOPIC, "results", "results", NULL, topic, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_MODEL, "clip", "clip-aaaa1111", NULL, model, NULL);
	struct plumb_change *cc = chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT_CONFIG, "clip",
				      "clip-bbbb2222", NULL, cfg, NULL);
	/* as pkg/diff resolves it: the topic's ARN is known from the account */
	json_object_set_new(json_object_get(json_object_get(json_object_get(cc->spec,
		"AsyncInferenceConfig"), "OutputConfig"), "NotificationConfig"), "SuccessTopic",
		json_string("arn:aws:sns:us-east-1:123456789012:results"));
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL, ep, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, NULL, tgt, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_SCALING_POLICY, "clip/scale-on-backlog",
	    "scale-on-backlog", RID, tt, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_SCALING_POLICY, "clip/scale-from-zero",
	    "scale-from-zero", RID, step, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ALARM, "clip-scale-from-zero",
	    "clip-scale-from-zero", NULL, alarm, NULL);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create Topic/results\n"
				       "1 create Model/clip\n"
				       "2 create EndpointConfig/clip <- 0,1\n"
				       "3 create Endpoint/clip <- 2\n"
				       "4 wait Endpoint/clip <- 3\n"
				       "5 create ScalableTarget/clip <- 4\n"
				       "6 create ScalingPolicy/clip/scale-on-backlog <- 5\n"
				       "7 create ScalingPolicy/clip/scale-from-zero <- 5\n"
				       "8 create Alarm/clip-scale-from-zero <- 7\n");
	ck_input(act(&f, 0), "{\"Name\":\"results\",\"Attributes\":{\"DisplayName\":\"results\"},"
			     "\"Tags\":[{\"Key\":\"plumb:id\",\"Value\":\"Topic/results\"},"
			     "{\"Key\":\"plumb:owner\",\"Value\":\"team\"}]}");
	ck_input(act(&f, 1), "{\"ModelName\":\"clip-aaaa1111\",\"ExecutionRoleArn\":"
			     "\"arn:aws:iam::123456789012:role/r\",\"PrimaryContainer\":"
			     "{\"Image\":\"img:1\"},\"Tags\":[{\"Key\":\"plumb:id\",\"Value\":"
			     "\"Model/clip\"},{\"Key\":\"plumb:owner\",\"Value\":\"team\"}]}");
	ck_assert_str_eq(json_string_value(json_object_get(act(&f, 2)->input,
							   "EndpointConfigName")),
			 "clip-bbbb2222");
	/* no DeploymentConfig on create: it is how to update */
	ck_input(act(&f, 3), "{\"EndpointName\":\"clip\",\"EndpointConfigName\":\"clip-bbbb2222\","
			     "\"Tags\":[{\"Key\":\"plumb:id\",\"Value\":\"Endpoint/clip\"},"
			     "{\"Key\":\"plumb:owner\",\"Value\":\"team\"}]}");
	ck_assert_int_eq(act(&f, 4)->wait_for, PLUMB_WAIT_IN_SERVICE);
	ck_assert_str_eq(act(&f, 4)->wait_config, "clip-bbbb2222");
	ck_assert_int_eq(act(&f, 4)->wait_deadline_s, 3600);
	ck_assert_ptr_null(act(&f, 4)->input);
	/* Application Auto Scaling takes tags as a map */
	ck_input(act(&f, 5), "{\"ServiceNamespace\":\"sagemaker\",\"ResourceId\":\"" RID "\","
			     "\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\","
			     "\"MinCapacity\":0,\"MaxCapacity\":4,\"Tags\":{\"plumb:id\":"
			     "\"ScalableTarget/clip\",\"plumb:owner\":\"team\",\"team\":\"search\"}}");
	ck_input(act(&f, 7), "{\"PolicyName\":\"scale-from-zero\",\"ServiceNamespace\":"
			     "\"sagemaker\",\"ResourceId\":\"" RID "\",\"ScalableDimension\":"
			     "\"sagemaker:variant:DesiredInstanceCount\",\"PolicyType\":"
			     "\"StepScaling\",\"StepScalingPolicyConfiguration\":{"
			     "\"AdjustmentType\":\"ChangeInCapacity\",\"StepAdjustments\":"
			     "[{\"MetricIntervalLowerBound\":0.0,\"ScalingAdjustment\":1}]}}");
	ck_assert_str_eq(act(&f, 7)->parent, RID);
	/* the new policy's ARN is known after apply: the marker stays */
	json_t *aa = json_object_get(act(&f, 8)->input, "AlarmActions");
	ck_assert_str_eq(plumb_ref_marker_target(json_array_get(aa, 0)),
			 "ScalingPolicy/clip/scale-from-zero");
	ck_assert_ptr_nonnull(json_object_get(act(&f, 8)->input, "Tags"));
	ck_assert_uint_eq(f.p.n_create, 8);
	ck_assert(plumb_plan_has_changes(&f.p));
	plumb_buf_reset(&f.out);
	plumb_plan_summary(&f.p, &f.out);
	ck_assert_str_eq(f.out.buf, "8 to create, 0 to update, 0 to delete");
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ rollover */

START_TEST(model_change_rollover)
{
	struct fx f;
	fx_init(&f);
	obs(&f, PLUMB_KIND_MODEL, "clip-aaaa1111", NULL, MODEL_SPEC, NULL, NULL);
	obs(&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip-bbbb2222", NULL,
	    CONFIG_SPEC("clip-aaaa1111", "ml.g5.xlarge", "1"), NULL, NULL);
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "clip", NULL,
					"{\"EndpointName\":\"clip\",\"EndpointConfigName\":"
					"\"clip-bbbb2222\",\"EndpointStatus\":\"InService\"}",
					NULL, NULL);
	struct plumb_resource *model = res(&f, PLUMB_KIND_MODEL, "clip", "clip-cccc3333",
					   "{\"PrimaryContainer\":{\"Image\":\"img:2\"}}", NULL);
	struct plumb_resource *cfg = res(&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-dddd4444",
					 CONFIG_SPEC("clip-cccc3333", "ml.g5.xlarge", "1"), model,
					 NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"clip-dddd4444\"}", cfg, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_MODEL, "clip", "clip-cccc3333", NULL, model, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-dddd4444", NULL, cfg,
	    NULL);
	struct plumb_change *ce = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip",
				      NULL, ep, oe);
	delta(&f, ce, "endpointConfigName", "EndpointConfigName", "\"clip-bbbb2222\"",
	      "\"clip-dddd4444\"", false, false);
	/* leftovers, the model listed first on purpose: dependencies decide, not list order */
	struct plumb_change *dm = chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_MODEL, "clip",
				      "clip-aaaa1111", NULL, NULL,
				      plumb_observed_find(&f.have, PLUMB_KIND_MODEL, REGION,
							  "clip-aaaa1111", NULL));
	dm->superseded = true;
	dm->superseded_by = "clip-cccc3333";
	struct plumb_change *dc = chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ENDPOINT_CONFIG, "clip",
				      "clip-bbbb2222", NULL, NULL,
				      plumb_observed_find(&f.have, PLUMB_KIND_ENDPOINT_CONFIG,
							  REGION, "clip-bbbb2222", NULL));
	dc->superseded = true;
	dc->superseded_by = "clip-dddd4444";
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create Model/clip\n"
				       "1 create EndpointConfig/clip <- 0\n"
				       "2 update Endpoint/clip <- 1\n"
				       "3 wait Endpoint/clip <- 2\n"
				       "4 delete EndpointConfig/clip <- 3\n"
				       "5 delete Model/clip <- 4\n");
	ck_input(act(&f, 2), "{\"EndpointName\":\"clip\",\"EndpointConfigName\":\"clip-dddd4444\","
			     "\"RetainAllVariantProperties\":true}");
	ck_assert_str_eq(act(&f, 3)->wait_config, "clip-dddd4444");
	ck_assert_int_eq(act(&f, 3)->wait_deadline_s, 3600);
	ck_input(act(&f, 4), "{\"EndpointConfigName\":\"clip-bbbb2222\"}");
	ck_input(act(&f, 5), "{\"ModelName\":\"clip-aaaa1111\"}");
	ck_assert_ptr_null(act(&f, 2)->why);
	ck_assert_uint_eq(f.p.n_create, 2);
	ck_assert_uint_eq(f.p.n_update, 1);
	ck_assert_uint_eq(f.p.n_delete, 2);
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ choreography */

/* The endpoint clip on clip-bbbb2222 (ml.g5.xlarge), autoscaled, with a step policy fired by
 * an alarm; new_type is the new config's instance type, or NULL to drop the variant. */
static void autoscaled_stack(struct fx *f, const char *new_cfg_spec, enum plumb_change_type tt)
{
	obs(f, PLUMB_KIND_ENDPOINT_CONFIG, "clip-bbbb2222", NULL,
	    CONFIG_SPEC("clip-aaaa1111", "ml.g5.xlarge", "1"), NULL, NULL);
	struct plumb_observed *oe = obs(f, PLUMB_KIND_ENDPOINT, "clip", NULL,
					"{\"EndpointName\":\"clip\",\"EndpointConfigName\":"
					"\"clip-bbbb2222\",\"EndpointStatus\":\"InService\"}",
					NULL, NULL);
	struct plumb_observed *ot = obs(f, PLUMB_KIND_SCALABLE_TARGET, RID, NULL,
					"{\"ServiceNamespace\":\"sagemaker\",\"ResourceId\":\"" RID
					"\",\"ScalableDimension\":"
					"\"sagemaker:variant:DesiredInstanceCount\","
					"\"MinCapacity\":0,\"MaxCapacity\":4}",
					NULL, NULL);
	struct plumb_observed *op1 =
		obs(f, PLUMB_KIND_SCALING_POLICY, "scale-on-backlog", RID,
		    "{\"PolicyName\":\"scale-on-backlog\",\"PolicyARN\":\"" POLICY_ARN("scale-on-backlog")
		    "\",\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\"}",
		    NULL, NULL);
	struct plumb_observed *op2 =
		obs(f, PLUMB_KIND_SCALING_POLICY, "scale-from-zero", RID,
		    "{\"PolicyName\":\"scale-from-zero\",\"PolicyARN\":\"" POLICY_ARN("scale-from-zero")
		    "\",\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\"}",
		    NULL, NULL);
	struct plumb_observed *oa = obs(f, PLUMB_KIND_ALARM, "clip-scale-from-zero", NULL,
					ALARM_SPEC("\"" POLICY_ARN("scale-from-zero") "\""), NULL,
					NULL);
	struct plumb_resource *cfg = res(f, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-eeee5555",
					 new_cfg_spec, NULL);
	struct plumb_resource *ep = res(f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"clip-eeee5555\"}", cfg, NULL);
	struct plumb_resource *tgt = res(f, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, TARGET_SPEC,
					 ep, NULL);
	struct plumb_resource *p1 = res(f, PLUMB_KIND_SCALING_POLICY, "clip/scale-on-backlog",
					"scale-on-backlog", TT_SPEC, tgt, NULL);
	struct plumb_resource *p2 = res(f, PLUMB_KIND_SCALING_POLICY, "clip/scale-from-zero",
					"scale-from-zero", STEP_SPEC, tgt, NULL);
	struct plumb_resource *al =
		res(f, PLUMB_KIND_ALARM, "clip-scale-from-zero", "clip-scale-from-zero",
		    ALARM_SPEC(MARKER("ScalingPolicy/clip/scale-from-zero")), p2, NULL);
	chg(f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-eeee5555", NULL, cfg,
	    NULL);
	struct plumb_change *ce = chg(f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip",
				      NULL, ep, oe);
	delta(f, ce, "endpointConfigName", "EndpointConfigName", "\"clip-bbbb2222\"",
	      "\"clip-eeee5555\"", false, false);
	if (tt == PLUMB_CHANGE_DELETE) {
		chg(f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ALARM, "clip-scale-from-zero",
		    "clip-scale-from-zero", NULL, NULL, oa);
		chg(f, PLUMB_CHANGE_DELETE, PLUMB_KIND_SCALING_POLICY, "clip/scale-on-backlog",
		    "scale-on-backlog", RID, NULL, op1);
		chg(f, PLUMB_CHANGE_DELETE, PLUMB_KIND_SCALING_POLICY, "clip/scale-from-zero",
		    "scale-from-zero", RID, NULL, op2);
		chg(f, PLUMB_CHANGE_DELETE, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, NULL, NULL, ot);
	} else {
		chg(f, tt, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, NULL, tgt, ot);
		chg(f, PLUMB_CHANGE_NONE, PLUMB_KIND_SCALING_POLICY, "clip/scale-on-backlog",
		    "scale-on-backlog", RID, p1, op1);
		chg(f, PLUMB_CHANGE_NONE, PLUMB_KIND_SCALING_POLICY, "clip/scale-from-zero",
		    "scale-from-zero", RID, p2, op2);
		struct plumb_change *ca = chg(f, PLUMB_CHANGE_NONE, PLUMB_KIND_ALARM,
					      "clip-scale-from-zero", "clip-scale-from-zero", NULL,
					      al, oa);
		/* pkg/diff resolved the marker to the live policy's (old) ARN */
		json_array_set_new(json_object_get(ca->spec, "AlarmActions"), 0,
				   json_string(POLICY_ARN("scale-from-zero")));
	}
	struct plumb_change *dc = chg(f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ENDPOINT_CONFIG, "clip",
				      "clip-bbbb2222", NULL, NULL,
				      plumb_observed_find(&f->have, PLUMB_KIND_ENDPOINT_CONFIG,
							  REGION, "clip-bbbb2222", NULL));
	dc->superseded = true;
	dc->superseded_by = "clip-eeee5555";
}

START_TEST(instance_type_change_under_autoscaling)
{
	struct fx f;
	fx_init(&f);
	autoscaled_stack(&f, CONFIG_SPEC("clip-aaaa1111", "ml.g5.2xlarge", "1"),
			 PLUMB_CHANGE_NONE);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create EndpointConfig/clip\n"
				       "1 delete ScalingPolicy/clip/scale-on-backlog <- 0\n"
				       "2 delete ScalingPolicy/clip/scale-from-zero <- 0\n"
				       "3 delete ScalableTarget/clip <- 0,1,2\n"
				       "4 update Endpoint/clip <- 0,1,2,3\n"
				       "5 wait Endpoint/clip <- 4\n"
				       "6 create ScalableTarget/clip <- 5\n"
				       "7 create ScalingPolicy/clip/scale-on-backlog <- 6\n"
				       "8 create ScalingPolicy/clip/scale-from-zero <- 6\n"
				       "9 update Alarm/clip-scale-from-zero <- 8\n"
				       "10 delete EndpointConfig/clip <- 5\n");
	const char *why = "instance type of autoscaled variant AllTraffic changes: AWS refuses "
			  "UpdateEndpoint while it is registered";
	for (size_t i = 1; i <= 9; i++)
		ck_assert_msg(act(&f, i)->why && strcmp(act(&f, i)->why, why) == 0,
			      "action %zu why: %s", i, act(&f, i)->why);
	ck_assert_ptr_null(act(&f, 0)->why);
	ck_assert_ptr_null(act(&f, 10)->why);
	/* the extra steps carry out no change of the diff; the re-registration carries its own */
	ck_assert_ptr_null(act(&f, 1)->change);
	ck_assert_ptr_null(act(&f, 3)->change);
	ck_assert_ptr_nonnull(act(&f, 6)->change);
	ck_input(act(&f, 2), "{\"PolicyName\":\"scale-from-zero\",\"ServiceNamespace\":"
			     "\"sagemaker\",\"ResourceId\":\"" RID "\",\"ScalableDimension\":"
			     "\"sagemaker:variant:DesiredInstanceCount\"}");
	ck_input(act(&f, 3), "{\"ServiceNamespace\":\"sagemaker\",\"ResourceId\":\"" RID "\","
			     "\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\"}");
	ck_input(act(&f, 4), "{\"EndpointName\":\"clip\",\"EndpointConfigName\":\"clip-eeee5555\","
			     "\"RetainAllVariantProperties\":true}");
	/* registered anew: tags go with it */
	ck_assert_ptr_nonnull(json_object_get(act(&f, 6)->input, "Tags"));
	ck_assert_int_eq(act(&f, 6)->type, PLUMB_ACTION_CREATE);
	/* the alarm names the new policy by marker, its old ARN is gone */
	ck_input(act(&f, 9), "{\"AlarmName\":\"clip-scale-from-zero\",\"MetricName\":"
			     "\"HasBacklogWithoutCapacity\",\"Namespace\":\"AWS/SageMaker\","
			     "\"Threshold\":1.0,\"AlarmActions\":["
			     MARKER("ScalingPolicy/clip/scale-from-zero") "],\"Tags\":[{\"Key\":"
			     "\"plumb:id\",\"Value\":\"Alarm/clip-scale-from-zero\"},{\"Key\":"
			     "\"plumb:owner\",\"Value\":\"team\"}]}");
	fx_release(&f);
}
END_TEST

/* Same model, same instance type: no choreography, the target is left alone. */
START_TEST(model_only_change_keeps_targets)
{
	struct fx f;
	fx_init(&f);
	autoscaled_stack(&f, CONFIG_SPEC("clip-ffff6666", "ml.g5.xlarge", "1"), PLUMB_CHANGE_NONE);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create EndpointConfig/clip\n"
				       "1 update Endpoint/clip <- 0\n"
				       "2 wait Endpoint/clip <- 1\n"
				       "3 delete EndpointConfig/clip <- 2\n");
	fx_release(&f);
}
END_TEST

/* The variant is dropped and its target with it: the deletes come first, nothing comes back. */
START_TEST(variant_removed_with_its_target)
{
	struct fx f;
	fx_init(&f);
	autoscaled_stack(&f,
			 "{\"ProductionVariants\":[{\"VariantName\":\"Blue\",\"ModelName\":"
			 "\"clip-aaaa1111\",\"InstanceType\":\"ml.g5.xlarge\","
			 "\"InitialInstanceCount\":1}]}",
			 PLUMB_CHANGE_DELETE);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create EndpointConfig/clip\n"
				       "1 delete Alarm/clip-scale-from-zero\n"
				       "2 delete ScalingPolicy/clip/scale-on-backlog\n"
				       "3 delete ScalingPolicy/clip/scale-from-zero <- 1\n"
				       "4 delete ScalableTarget/clip <- 2,3\n"
				       "5 update Endpoint/clip <- 0,4\n"
				       "6 wait Endpoint/clip <- 5\n"
				       "7 delete EndpointConfig/clip <- 6\n");
	ck_assert_str_eq(act(&f, 4)->why, "autoscaled variant AllTraffic is removed: AWS refuses "
					  "UpdateEndpoint while it is registered");
	fx_release(&f);
}
END_TEST

/* A target change of its own (min/max) is folded into the re-registration. */
START_TEST(choreographed_target_update_is_one_register)
{
	struct fx f;
	fx_init(&f);
	autoscaled_stack(&f, CONFIG_SPEC("clip-aaaa1111", "ml.g5.2xlarge", "1"),
			 PLUMB_CHANGE_UPDATE);
	build(&f);
	size_t registers = 0;
	for (size_t i = 0; i < f.p.actions.len; i++) {
		struct plumb_action *a = act(&f, i);
		if (a->kind == PLUMB_KIND_SCALABLE_TARGET && a->type != PLUMB_ACTION_DELETE)
			registers++;
		ck_assert_int_ne(a->type, PLUMB_ACTION_TAG);
	}
	ck_assert_uint_eq(registers, 1);
	fx_release(&f);
}
END_TEST

/* Without the old config in the diff, every live target of the endpoint is moved out of the
 * way (an UpdateEndpoint AWS refuses costs more than a needless deregistration). */
START_TEST(unknown_old_config_is_choreographed)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "clip", NULL,
					"{\"EndpointConfigName\":\"handmade\"}", NULL, NULL);
	struct plumb_observed *ot = obs(&f, PLUMB_KIND_SCALABLE_TARGET, RID, NULL,
					"{\"ResourceId\":\"" RID "\",\"ScalableDimension\":"
					"\"sagemaker:variant:DesiredInstanceCount\",\"MinCapacity\":1,"
					"\"MaxCapacity\":3,\"RoleARN\":\"arn:aws:iam::123456789012:role/"
					"aws-service-role/x\",\"CreationTime\":1}",
					"{\"plumb:owner\":\"team\",\"plumb:id\":\"ScalableTarget/clip\"}",
					NULL);
	struct plumb_resource *cfg = res(&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-eeee5555",
					 CONFIG_SPEC("clip-aaaa1111", "ml.g5.xlarge", "1"), NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"clip-eeee5555\"}", cfg, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-eeee5555", NULL, cfg,
	    NULL);
	chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL, ep, oe);
	/* the target is kept though no manifest names it: it comes back from its live state */
	chg(&f, PLUMB_CHANGE_ORPHAN, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, NULL, NULL, ot);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create EndpointConfig/clip\n"
				       "1 delete ScalableTarget/clip <- 0\n"
				       "2 update Endpoint/clip <- 0,1\n"
				       "3 wait Endpoint/clip <- 2\n"
				       "4 create ScalableTarget/clip <- 3\n");
	ck_assert_str_eq(act(&f, 2)->why,
			 "the endpoint's current config is not known: autoscaled variant AllTraffic "
			 "may change instance type, and AWS refuses UpdateEndpoint while it is "
			 "registered");
	ck_input(act(&f, 4), "{\"ServiceNamespace\":\"sagemaker\",\"ResourceId\":\"" RID "\","
			     "\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\","
			     "\"MinCapacity\":1,\"MaxCapacity\":3,\"Tags\":{\"plumb:id\":"
			     "\"ScalableTarget/clip\",\"plumb:owner\":\"team\"}}");
	/* an orphan is still counted as one, not as a change */
	ck_assert_uint_eq(f.p.n_orphan, 1);
	fx_release(&f);
}
END_TEST

/* A replaced endpoint takes its targets with it: out of the way first, back at the end. */
START_TEST(replaced_endpoint_with_targets)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "clip", NULL,
					"{\"EndpointConfigName\":\"clip-bbbb2222\"}", NULL, NULL);
	struct plumb_observed *ot = obs(&f, PLUMB_KIND_SCALABLE_TARGET, RID, NULL,
					"{\"ScalableDimension\":"
					"\"sagemaker:variant:DesiredInstanceCount\"}",
					NULL, NULL);
	struct plumb_observed *op = obs(&f, PLUMB_KIND_SCALING_POLICY, "tt", RID,
					"{\"PolicyARN\":\"" POLICY_ARN("tt") "\"}", NULL, NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"clip-bbbb2222\"}", NULL);
	struct plumb_resource *tgt = res(&f, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, TARGET_SPEC,
					 ep, NULL);
	struct plumb_resource *pol = res(&f, PLUMB_KIND_SCALING_POLICY, "clip/tt", "tt", TT_SPEC,
					 tgt, NULL);
	chg(&f, PLUMB_CHANGE_REPLACE, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL, ep, oe);
	chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, NULL, tgt, ot);
	chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_SCALING_POLICY, "clip/tt", "tt", RID, pol, op);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 delete ScalingPolicy/clip/tt\n"
				       "1 delete ScalableTarget/clip <- 0\n"
				       "2 delete Endpoint/clip <- 0,1\n"
				       "3 wait Endpoint/clip <- 2\n"
				       "4 create Endpoint/clip <- 3\n"
				       "5 wait Endpoint/clip <- 4\n"
				       "6 create ScalableTarget/clip <- 5\n"
				       "7 create ScalingPolicy/clip/tt <- 6\n");
	ck_assert_int_eq(act(&f, 3)->wait_for, PLUMB_WAIT_DELETED);
	ck_assert_ptr_nonnull(act(&f, 2)->why);
	fx_release(&f);
}
END_TEST

/* Two resources that wait for each other: refused with the name of one of them. */
START_TEST(cycle_is_an_internal_error)
{
	struct fx f;
	fx_init(&f);
	struct plumb_resource *a = res(&f, PLUMB_KIND_ALARM, "a", "a", ALARM_SPEC(""), NULL);
	struct plumb_resource *b = res(&f, PLUMB_KIND_ALARM, "b", "b", ALARM_SPEC(""), a, NULL);
	plumb_vec_push(&a->deps, b);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ALARM, "a", "a", NULL, a, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ALARM, "b", "b", NULL, b, NULL);
	struct plumb_plan_opts o = { OWNER, ACCOUNT };
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_plan_build(&f.p, &f.d, &o, &err), PLUMB_EINTERNAL);
	ck_assert_msg(strstr(err.msg, "dependency cycle through create Alarm/"), "%s", err.msg);
	ck_assert_uint_eq(f.p.actions.len, 0);
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ update inputs */

START_TEST(exclusions_and_deadlines)
{
	struct fx f;
	fx_init(&f);
	obs(&f, PLUMB_KIND_ENDPOINT_CONFIG, "rt-11111111", NULL,
	    "{\"ProductionVariants\":[{\"VariantName\":\"A\",\"InstanceType\":\"ml.m5.large\","
	    "\"InitialInstanceCount\":1,\"InitialVariantWeight\":1},{\"VariantName\":\"B\","
	    "\"InstanceType\":\"ml.m5.large\",\"InitialInstanceCount\":2}]}",
	    NULL, NULL);
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "rt", NULL,
					"{\"EndpointConfigName\":\"rt-11111111\"}", NULL, NULL);
	obs(&f, PLUMB_KIND_SCALABLE_TARGET, "endpoint/rt/variant/B", NULL,
	    "{\"ScalableDimension\":\"sagemaker:variant:DesiredInstanceCount\"}", NULL, NULL);
	/* A: count 1 -> 3 (not autoscaled: excluded), weight 1 -> 1.0 (same); B: count 2 -> 5
	 * (autoscaled: the autoscaler owns it), weight default -> 0.5 */
	struct plumb_resource *cfg = res(
		&f, PLUMB_KIND_ENDPOINT_CONFIG, "rt", "rt-22222222",
		"{\"ProductionVariants\":[{\"VariantName\":\"A\",\"InstanceType\":\"ml.m5.large\","
		"\"InitialInstanceCount\":3,\"InitialVariantWeight\":1.0},{\"VariantName\":\"B\","
		"\"InstanceType\":\"ml.m5.large\",\"InitialInstanceCount\":5,"
		"\"InitialVariantWeight\":0.5}],\"DataCaptureConfig\":{\"InitialSamplingPercentage\":"
		"10,\"DestinationS3Uri\":\"s3://b/c\",\"CaptureOptions\":[{\"CaptureMode\":\"Input\"}]}}",
		NULL);
	struct plumb_resource *ep = res(
		&f, PLUMB_KIND_ENDPOINT, "rt", "rt",
		"{\"EndpointConfigName\":\"rt-22222222\",\"DeploymentConfig\":{"
		"\"BlueGreenUpdatePolicy\":{\"TrafficRoutingConfiguration\":{\"Type\":\"CANARY\","
		"\"WaitIntervalInSeconds\":600,\"CanarySize\":{\"Type\":\"INSTANCE_COUNT\","
		"\"Value\":1}},\"TerminationWaitInSeconds\":300}}}",
		cfg, NULL);
	struct plumb_resource *tgt = res(&f, PLUMB_KIND_SCALABLE_TARGET, "rt-b",
					 "endpoint/rt/variant/B",
					 "{\"ResourceId\":\"endpoint/rt/variant/B\",\"MinCapacity\":1,"
					 "\"MaxCapacity\":8}",
					 ep, NULL);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT_CONFIG, "rt", "rt-22222222", NULL, cfg,
	    NULL);
	chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "rt", "rt", NULL, ep, oe);
	chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_SCALABLE_TARGET, "rt-b", "endpoint/rt/variant/B",
	    NULL, tgt,
	    plumb_observed_find(&f.have, PLUMB_KIND_SCALABLE_TARGET, REGION,
				"endpoint/rt/variant/B", NULL));
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ENDPOINT_CONFIG, "rt", "rt-11111111", NULL, NULL,
	    plumb_observed_find(&f.have, PLUMB_KIND_ENDPOINT_CONFIG, REGION, "rt-11111111",
				NULL));
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create EndpointConfig/rt\n"
				       "1 update Endpoint/rt <- 0\n"
				       "2 wait Endpoint/rt <- 1\n"
				       "3 delete EndpointConfig/rt <- 2\n");
	json_t *in = act(&f, 1)->input;
	ck_assert(json_is_true(json_object_get(in, "RetainAllVariantProperties")));
	char *ex = json_dumps(json_object_get(in, "ExcludeRetainedVariantProperties"),
			      JSON_COMPACT);
	ck_assert_str_eq(ex, "[{\"VariantPropertyType\":\"DesiredInstanceCount\"},"
			     "{\"VariantPropertyType\":\"DesiredWeight\"},"
			     "{\"VariantPropertyType\":\"DataCaptureConfig\"}]");
	free(ex);
	ck_assert_ptr_nonnull(json_object_get(in, "DeploymentConfig"));
	/* canary: two bakes of 600 s, 300 s termination wait, on top of the hour */
	ck_assert_int_eq(act(&f, 2)->wait_deadline_s, 3600 + 2 * 600 + 300);
	fx_release(&f);
}
END_TEST

/* Deadlines from the deployment config, case by case. */
START_TEST(update_deadline_table)
{
	static const struct {
		const char *dc; /* DeploymentConfig, or NULL */
		int64_t want;   /* wait_deadline_s */
	} cases[] = {
		{ NULL, 3600 },
		{ "{\"BlueGreenUpdatePolicy\":{\"MaximumExecutionTimeoutInSeconds\":7200,"
		  "\"TerminationWaitInSeconds\":600,\"TrafficRoutingConfiguration\":{\"Type\":"
		  "\"ALL_AT_ONCE\",\"WaitIntervalInSeconds\":60}}}", 7800 },
		{ "{\"BlueGreenUpdatePolicy\":{\"TrafficRoutingConfiguration\":{\"Type\":"
		  "\"ALL_AT_ONCE\",\"WaitIntervalInSeconds\":60}}}", 3660 },
		{ "{\"BlueGreenUpdatePolicy\":{\"TrafficRoutingConfiguration\":{\"Type\":\"LINEAR\","
		  "\"WaitIntervalInSeconds\":100,\"LinearStepSize\":{\"Type\":\"CAPACITY_PERCENT\","
		  "\"Value\":30}}}}", 3600 + 4 * 100 },
		{ "{\"RollingUpdatePolicy\":{\"MaximumBatchSize\":{\"Type\":\"CAPACITY_PERCENT\","
		  "\"Value\":50},\"WaitIntervalInSeconds\":120}}", 3600 + 2 * 120 },
		{ "{\"RollingUpdatePolicy\":{\"MaximumBatchSize\":{\"Type\":\"INSTANCE_COUNT\","
		  "\"Value\":1},\"WaitIntervalInSeconds\":60,\"MaximumExecutionTimeoutInSeconds\":"
		  "5000}}", 5000 },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(cases); i++) {
		struct fx f;
		fx_init(&f);
		struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "e", NULL,
						"{\"EndpointConfigName\":\"c-1\"}", NULL, NULL);
		struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "e", "e",
						"{\"EndpointConfigName\":\"c-2\"}", NULL);
		if (cases[i].dc)
			json_object_set_new(ep->spec, "DeploymentConfig", J(cases[i].dc));
		chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "e", "e", NULL, ep, oe);
		build(&f);
		ck_assert_uint_eq(f.p.actions.len, 2);
		ck_assert_msg(act(&f, 1)->wait_deadline_s == cases[i].want,
			      "case %zu: deadline %lld, want %lld", i,
			      (long long)act(&f, 1)->wait_deadline_s, (long long)cases[i].want);
		fx_release(&f);
	}
}
END_TEST

START_TEST(topic_update_lists_changed_attributes)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *ot = obs(&f, PLUMB_KIND_TOPIC, "results", NULL,
					"{\"DisplayName\":\"old\",\"TracingConfig\":\"PassThrough\"}",
					NULL, "arn:aws:sns:us-east-1:123456789012:results");
	struct plumb_resource *t = res(&f, PLUMB_KIND_TOPIC, "results", "results",
				       "{\"Attributes\":{\"DisplayName\":\"new\",\"TracingConfig\":"
				       "\"PassThrough\"}}",
				       NULL);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_TOPIC, "results",
				     "results", NULL, t, ot);
	delta(&f, c, "attributes.DisplayName", "Attributes.DisplayName", "\"old\"", "\"new\"",
	      false, false);
	delta(&f, c, "attributes.Owner", "Attributes.Owner", "\"123456789012\"", NULL, true,
	      false);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 update Topic/results\n");
	ck_input(act(&f, 0), "{\"TopicArn\":\"arn:aws:sns:us-east-1:123456789012:results\","
			     "\"Attributes\":{\"DisplayName\":\"new\"}}");
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ tags */

START_TEST(tag_only_change)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oa = obs(&f, PLUMB_KIND_ALARM, "a", NULL, ALARM_SPEC(""),
					"{\"plumb:owner\":\"team\",\"plumb:id\":\"Alarm/a\","
					"\"team\":\"old\",\"stale\":\"x\","
					"\"aws:cloudformation:stack-name\":\"s\"}",
					NULL);
	struct plumb_resource *a = res(&f, PLUMB_KIND_ALARM, "a", "a", ALARM_SPEC(""), NULL);
	json_object_set_new(a->tags, "team", json_string("new"));
	json_object_set_new(a->tags, "cost", json_string("42"));
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_TAG, PLUMB_KIND_ALARM, "a", "a", NULL, a, oa);
	delta(&f, c, "tags.team", "Tags.team", "\"old\"", "\"new\"", false, false);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 tag Alarm/a\n");
	char *add = json_dumps(act(&f, 0)->add_tags, JSON_COMPACT);
	char *rm = json_dumps(act(&f, 0)->remove_tags, JSON_COMPACT);
	ck_assert_str_eq(add, "{\"cost\":\"42\",\"team\":\"new\"}");
	ck_assert_str_eq(rm, "[\"stale\"]"); /* never aws:* */
	free(add);
	free(rm);
	ck_assert_ptr_null(act(&f, 0)->input);
	ck_assert_uint_eq(f.p.n_tag, 1);
	plumb_buf_reset(&f.out);
	plumb_plan_summary(&f.p, &f.out);
	ck_assert_str_eq(f.out.buf, "0 to create, 1 to update, 0 to delete");
	fx_release(&f);
}
END_TEST

/* An update whose tags also changed: the full put, then a TAG action after it. */
START_TEST(update_with_tags)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oa = obs(&f, PLUMB_KIND_ALARM, "a", NULL, ALARM_SPEC(""),
					"{\"plumb:owner\":\"team\",\"plumb:id\":\"Alarm/a\"}",
					NULL);
	struct plumb_resource *a = res(&f, PLUMB_KIND_ALARM, "a", "a",
				       "{\"MetricName\":\"M\",\"Threshold\":2.0}", NULL);
	json_object_set_new(a->tags, "team", json_string("new"));
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ALARM, "a", "a", NULL, a,
				     oa);
	delta(&f, c, "threshold", "Threshold", "1.0", "2.0", false, false);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 update Alarm/a\n1 tag Alarm/a <- 0\n");
	/* the wanted tags ride along (ignored by an existing alarm, owned by one made anew); the
	 * tag action changes them */
	ck_input(act(&f, 0), "{\"AlarmName\":\"a\",\"MetricName\":\"M\",\"Threshold\":2.0,"
			     "\"Tags\":[{\"Key\":\"plumb:id\",\"Value\":\"Alarm/a\"},{\"Key\":"
			     "\"plumb:owner\",\"Value\":\"team\"},{\"Key\":\"team\",\"Value\":\"new\"}]}");
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ orphans, deletes */

START_TEST(orphan_is_listed_delete_is_acted)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *o1 = obs(&f, PLUMB_KIND_ALARM, "kept", NULL, ALARM_SPEC(""), NULL,
					NULL);
	struct plumb_observed *o2 = obs(&f, PLUMB_KIND_ALARM, "gone", NULL, ALARM_SPEC(""), NULL,
					NULL);
	chg(&f, PLUMB_CHANGE_ORPHAN, PLUMB_KIND_ALARM, "kept", "kept", NULL, NULL, o1);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ALARM, "gone", "gone", NULL, NULL, o2);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 delete Alarm/gone\n");
	ck_input(act(&f, 0), "{\"AlarmNames\":[\"gone\"]}");
	ck_assert_uint_eq(f.p.n_orphan, 1);
	ck_assert_uint_eq(f.p.n_delete, 1);
	fx_release(&f);

	/* an orphan alone: no actions, no changes */
	fx_init(&f);
	o1 = obs(&f, PLUMB_KIND_ALARM, "kept", NULL, ALARM_SPEC(""), NULL, NULL);
	chg(&f, PLUMB_CHANGE_ORPHAN, PLUMB_KIND_ALARM, "kept", "kept", NULL, NULL, o1);
	build(&f);
	ck_assert_uint_eq(f.p.actions.len, 0);
	ck_assert(!plumb_plan_has_changes(&f.p));
	fx_release(&f);
}
END_TEST

/* A whole stack pruned: deletes in reverse, each waiting for what named it. */
START_TEST(deletes_in_reverse_order)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *ot = obs(&f, PLUMB_KIND_TOPIC, "results", NULL, "{}", NULL,
					"arn:aws:sns:us-east-1:123456789012:results");
	struct plumb_observed *om = obs(&f, PLUMB_KIND_MODEL, "clip-aaaa1111", NULL, MODEL_SPEC,
					NULL, NULL);
	struct plumb_observed *oc = obs(
		&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip-bbbb2222", NULL,
		"{\"ProductionVariants\":[{\"VariantName\":\"AllTraffic\",\"ModelName\":"
		"\"CLIP-aaaa1111\"}],\"AsyncInferenceConfig\":{\"OutputConfig\":{"
		"\"NotificationConfig\":{\"ErrorTopic\":\"arn:aws:sns:us-east-1:123456789012:results\"}}}}",
		NULL, NULL);
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "clip", NULL,
					"{\"EndpointConfigName\":\"clip-bbbb2222\"}", NULL, NULL);
	struct plumb_observed *otg = obs(&f, PLUMB_KIND_SCALABLE_TARGET, RID, NULL,
					 "{\"ScalableDimension\":"
					 "\"sagemaker:variant:DesiredInstanceCount\"}",
					 NULL, NULL);
	struct plumb_observed *op = obs(&f, PLUMB_KIND_SCALING_POLICY, "scale-from-zero", RID,
					"{\"PolicyARN\":\"" POLICY_ARN("scale-from-zero") "\"}",
					NULL, NULL);
	struct plumb_observed *oa = obs(&f, PLUMB_KIND_ALARM, "clip-scale-from-zero", NULL,
					ALARM_SPEC("\"" POLICY_ARN("scale-from-zero") "\""), NULL,
					NULL);
	struct plumb_observed *ox = obs(&f, PLUMB_KIND_ALARM, "unrelated", NULL, ALARM_SPEC(""),
					NULL, NULL);
	/* the order pkg/diff gives leftovers: kinds in reverse dependency order */
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ALARM, "clip-scale-from-zero",
	    "clip-scale-from-zero", NULL, NULL, oa);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ALARM, "unrelated", "unrelated", NULL, NULL, ox);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_SCALING_POLICY, "clip/scale-from-zero",
	    "scale-from-zero", RID, NULL, op);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_SCALABLE_TARGET, "clip", RID, NULL, NULL, otg);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL, NULL, oe);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-bbbb2222", NULL,
	    NULL, oc);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_MODEL, "clip", "clip-aaaa1111", NULL, NULL, om);
	chg(&f, PLUMB_CHANGE_DELETE, PLUMB_KIND_TOPIC, "results", "results", NULL, NULL, ot);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 delete Alarm/clip-scale-from-zero\n"
				       "1 delete Alarm/unrelated\n"
				       "2 delete ScalingPolicy/clip/scale-from-zero <- 0\n"
				       "3 delete ScalableTarget/clip <- 2\n"
				       "4 delete Endpoint/clip <- 3\n"
				       "5 wait Endpoint/clip <- 4\n"
				       "6 delete EndpointConfig/clip <- 5\n"
				       "7 delete Model/clip <- 6\n"
				       "8 delete Topic/results <- 6\n");
	ck_assert_int_eq(act(&f, 5)->wait_for, PLUMB_WAIT_DELETED);
	ck_assert_int_eq(act(&f, 5)->wait_deadline_s, 1800);
	ck_input(act(&f, 2), "{\"PolicyName\":\"scale-from-zero\",\"ServiceNamespace\":"
			     "\"sagemaker\",\"ResourceId\":\"" RID "\",\"ScalableDimension\":"
			     "\"sagemaker:variant:DesiredInstanceCount\"}");
	ck_input(act(&f, 8), "{\"TopicArn\":\"arn:aws:sns:us-east-1:123456789012:results\"}");
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ adopt, replace, conflict */

START_TEST(adopt_tags_then_updates)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "clip", NULL,
					"{\"EndpointConfigName\":\"handmade\"}", "{}", NULL);
	struct plumb_observed *oa = obs(&f, PLUMB_KIND_ALARM, "a", NULL, ALARM_SPEC(""),
					"{\"team\":\"x\"}", NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"clip-bbbb2222\"}", NULL);
	struct plumb_resource *a = res(&f, PLUMB_KIND_ALARM, "a", "a", ALARM_SPEC(""), NULL);
	json_object_set_new(a->tags, "team", json_string("x"));
	struct plumb_change *ce = chg(&f, PLUMB_CHANGE_ADOPT, PLUMB_KIND_ENDPOINT, "clip", "clip",
				      NULL, ep, oe);
	delta(&f, ce, "endpointConfigName", "EndpointConfigName", "\"handmade\"",
	      "\"clip-bbbb2222\"", false, false);
	delta(&f, ce, "tags.plumb:owner", "Tags.plumb:owner", NULL, "\"team\"", false, false);
	struct plumb_change *ca = chg(&f, PLUMB_CHANGE_ADOPT, PLUMB_KIND_ALARM, "a", "a", NULL, a,
				      oa);
	delta(&f, ca, "tags.plumb:owner", "Tags.plumb:owner", NULL, "\"team\"", false, false);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 tag Endpoint/clip\n"
				       "1 update Endpoint/clip <- 0\n"
				       "2 wait Endpoint/clip <- 1\n"
				       "3 tag Alarm/a\n");
	char *add = json_dumps(act(&f, 3)->add_tags, JSON_COMPACT);
	ck_assert_str_eq(add, "{\"plumb:id\":\"Alarm/a\",\"plumb:owner\":\"team\"}");
	free(add);
	ck_assert_ptr_null(act(&f, 3)->remove_tags);
	ck_assert_uint_eq(f.p.n_update, 2);
	fx_release(&f);
}
END_TEST

START_TEST(replace_deletes_then_creates)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *ot = obs(&f, PLUMB_KIND_TOPIC, "jobs", NULL, "{}", NULL,
					"arn:aws:sns:us-east-1:123456789012:jobs");
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "ep", NULL,
					"{\"EndpointConfigName\":\"c-1\"}", NULL, NULL);
	struct plumb_resource *t = res(&f, PLUMB_KIND_TOPIC, "jobs", "jobs",
				       "{\"Attributes\":{\"FifoTopic\":\"true\"}}", NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "ep", "ep",
					"{\"EndpointConfigName\":\"c-1\"}", NULL);
	struct plumb_change *ct = chg(&f, PLUMB_CHANGE_REPLACE, PLUMB_KIND_TOPIC, "jobs", "jobs",
				      NULL, t, ot);
	delta(&f, ct, "attributes.FifoTopic", "Attributes.FifoTopic", NULL, "\"true\"", false,
	      true);
	chg(&f, PLUMB_CHANGE_REPLACE, PLUMB_KIND_ENDPOINT, "ep", "ep", NULL, ep, oe);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 delete Topic/jobs\n"
				       "1 create Topic/jobs <- 0\n"
				       "2 delete Endpoint/ep\n"
				       "3 wait Endpoint/ep <- 2\n"
				       "4 create Endpoint/ep <- 3\n"
				       "5 wait Endpoint/ep <- 4\n");
	ck_assert_int_eq(act(&f, 3)->wait_for, PLUMB_WAIT_DELETED);
	ck_assert_int_eq(act(&f, 5)->wait_for, PLUMB_WAIT_IN_SERVICE);
	ck_assert_int_eq(act(&f, 5)->wait_deadline_s, 3600);
	ck_assert_uint_eq(f.p.n_replace, 2);
	plumb_buf_reset(&f.out);
	plumb_plan_summary(&f.p, &f.out);
	ck_assert_str_eq(f.out.buf, "0 to create, 0 to update, 2 to replace, 0 to delete");
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ endpoints found mid-way */

/* An endpoint of ours with status st on config cfg. */
static struct plumb_observed *obs_ep(struct fx *f, const char *st, const char *cfg)
{
	char live[256];
	snprintf(live, sizeof(live), "{\"EndpointConfigName\":\"%s\",\"EndpointStatus\":\"%s\"}",
		 cfg, st);
	struct plumb_observed *o = obs(f, PLUMB_KIND_ENDPOINT, "clip", NULL, live, NULL, NULL);
	o->status = strdup(st);
	return o;
}

/* A run killed between CreateEndpoint and its wait: the next plan waits before the target. */
START_TEST(settling_endpoint_waits_before_dependants)
{
	static const char *const states[] = { "Creating", "Updating", "SystemUpdating",
					      "RollingBack" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(states); i++) {
		struct fx f;
		fx_init(&f);
		struct plumb_observed *oe = obs_ep(&f, states[i], "c-1");
		struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
						"{\"EndpointConfigName\":\"c-1\"}", NULL);
		struct plumb_resource *t = res(&f, PLUMB_KIND_SCALABLE_TARGET, "t", RID,
					       TARGET_SPEC, ep, NULL);
		chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL, ep, oe);
		chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_SCALABLE_TARGET, "t", RID, NULL, t, NULL);
		build(&f);
		ck_assert_str_eq(sequence(&f), "0 wait Endpoint/clip\n"
					       "1 create ScalableTarget/t <- 0\n");
		ck_assert_int_eq(act(&f, 0)->wait_for, PLUMB_WAIT_IN_SERVICE);
		ck_assert_str_eq(act(&f, 0)->wait_config, "c-1");
		ck_assert_int_eq(act(&f, 0)->wait_deadline_s, 3600);
		ck_assert_ptr_nonnull(strstr(act(&f, 0)->why, states[i]));
		ck_assert_int_eq(plumb_plan_render_text(&f.p, &f.out, false), 0);
		ck_assert_ptr_nonnull(strstr(f.out.buf, "plumb waits until it is InService"));
		fx_release(&f);
	}
	/* InService (or Failed with nothing to change): no wait */
	static const char *const quiet[] = { "InService", "Failed", "OutOfService" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(quiet); i++) {
		struct fx f;
		fx_init(&f);
		struct plumb_observed *oe = obs_ep(&f, quiet[i], "c-1");
		struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
						"{\"EndpointConfigName\":\"c-1\"}", NULL);
		chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL, ep, oe);
		build(&f);
		ck_assert_str_eq(sequence(&f), "");
		fx_release(&f);
	}
}
END_TEST

/* A settling endpoint whose tags change: the tag waits for InService too. */
START_TEST(settling_endpoint_tag_after_wait)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs_ep(&f, "Creating", "c-1");
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"c-1\"}", NULL);
	json_object_set_new(ep->tags, "team", json_string("search"));
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_TAG, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL,
				     ep, oe);
	delta(&f, c, "tags.team", "Tags.team", NULL, "\"search\"", false, false);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 wait Endpoint/clip\n1 tag Endpoint/clip <- 0\n");
	ck_assert_str_eq(act(&f, 0)->wait_config, "c-1");
	fx_release(&f);
}
END_TEST

/* Updating when it needs an update: wait (any config), UpdateEndpoint, wait on the new one. */
START_TEST(settling_endpoint_update_waits_first)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs_ep(&f, "Updating", "c-1");
	struct plumb_resource *cfg = res(&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "c-2",
					 CONFIG_SPEC("m", "ml.g5.xlarge", "1"), NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"c-2\"}", cfg, NULL);
	struct plumb_resource *t = res(&f, PLUMB_KIND_SCALABLE_TARGET, "t", RID, TARGET_SPEC, ep,
				       NULL);
	json_object_set_new(ep->tags, "team", json_string("search"));
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "c-2", NULL, cfg, NULL);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip",
				     NULL, ep, oe);
	delta(&f, c, "endpointConfigName", "EndpointConfigName", "\"c-1\"", "\"c-2\"", false,
	      false);
	delta(&f, c, "tags.team", "Tags.team", NULL, "\"search\"", false, false);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_SCALABLE_TARGET, "t", RID, NULL, t, NULL);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create EndpointConfig/clip\n"
				       "1 wait Endpoint/clip\n"
				       "2 update Endpoint/clip <- 0,1\n"
				       "3 wait Endpoint/clip <- 2\n"
				       "4 tag Endpoint/clip <- 3\n"
				       "5 create ScalableTarget/t <- 3\n");
	ck_assert_int_eq(act(&f, 1)->wait_for, PLUMB_WAIT_IN_SERVICE);
	ck_assert_ptr_null(act(&f, 1)->wait_config); /* whatever config it settles on */
	ck_assert_ptr_nonnull(strstr(act(&f, 1)->why, "Updating"));
	ck_assert_str_eq(act(&f, 3)->wait_config, "c-2");
	json_t *j = plumb_plan_to_json(&f.p, NULL);
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(j, "actions"), 1),
					       "wait_config")));
	json_decref(j);
	fx_release(&f);
}
END_TEST

/* The tags (plumb:spec-hash) of an updated endpoint change only after its WAIT InService. */
START_TEST(updated_endpoint_tags_after_wait)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs_ep(&f, "InService", "c-1");
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"c-2\"}", NULL);
	json_object_set_new(ep->tags, "plumb:spec-hash", json_string("hash-clip"));
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip",
				     NULL, ep, oe);
	delta(&f, c, "endpointConfigName", "EndpointConfigName", "\"c-1\"", "\"c-2\"", false,
	      false);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 update Endpoint/clip\n"
				       "1 wait Endpoint/clip <- 0\n"
				       "2 tag Endpoint/clip <- 1\n");
	ck_assert_str_eq(json_string_value(json_object_get(act(&f, 2)->add_tags,
							   "plumb:spec-hash")),
			 "hash-clip");
	fx_release(&f);
}
END_TEST

/* A Failed endpoint that should change: delete, wait gone, create, wait (AWS takes no update). */
START_TEST(failed_endpoint_is_recreated)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs_ep(&f, "Failed", "c-1");
	struct plumb_observed *ot = obs(&f, PLUMB_KIND_SCALABLE_TARGET, RID, NULL, TARGET_SPEC,
					NULL, NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"c-2\"}", NULL);
	struct plumb_resource *t = res(&f, PLUMB_KIND_SCALABLE_TARGET, "t", RID, TARGET_SPEC, ep,
				       NULL);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip",
				     NULL, ep, oe);
	delta(&f, c, "endpointConfigName", "EndpointConfigName", "\"c-1\"", "\"c-2\"", false,
	      false);
	chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_SCALABLE_TARGET, "t", RID, NULL, t, ot);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 delete ScalableTarget/t\n"
				       "1 delete Endpoint/clip <- 0\n"
				       "2 wait Endpoint/clip <- 1\n"
				       "3 create Endpoint/clip <- 2\n"
				       "4 wait Endpoint/clip <- 3\n"
				       "5 create ScalableTarget/t <- 4\n");
	ck_assert_int_eq(act(&f, 2)->wait_for, PLUMB_WAIT_DELETED);
	ck_input(act(&f, 3), "{\"EndpointName\":\"clip\",\"EndpointConfigName\":\"c-2\","
			     "\"Tags\":[{\"Key\":\"plumb:id\",\"Value\":\"Endpoint/clip\"},"
			     "{\"Key\":\"plumb:owner\",\"Value\":\"team\"}]}");
	ck_assert_str_eq(act(&f, 4)->wait_config, "c-2");
	fx_release(&f);

	/* without targets the why says it is Failed */
	fx_init(&f);
	oe = obs_ep(&f, "Failed", "c-1");
	ep = res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip", "{\"EndpointConfigName\":\"c-2\"}",
		 NULL);
	c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip", NULL, ep, oe);
	delta(&f, c, "endpointConfigName", "EndpointConfigName", "\"c-1\"", "\"c-2\"", false,
	      false);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 delete Endpoint/clip\n"
				       "1 wait Endpoint/clip <- 0\n"
				       "2 create Endpoint/clip <- 1\n"
				       "3 wait Endpoint/clip <- 2\n");
	ck_assert_ptr_nonnull(strstr(act(&f, 0)->why, "Failed"));
	ck_assert_uint_eq(f.p.n_update, 1);
	fx_release(&f);
}
END_TEST

START_TEST(conflict_has_no_action)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *oe = obs(&f, PLUMB_KIND_ENDPOINT, "ep", NULL, "{}",
					"{\"plumb:owner\":\"other\"}", NULL);
	struct plumb_resource *ep = res(&f, PLUMB_KIND_ENDPOINT, "ep", "ep",
					"{\"EndpointConfigName\":\"c-1\"}", NULL);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_CONFLICT, PLUMB_KIND_ENDPOINT, "ep", "ep",
				     NULL, ep, oe);
	c->reason = "Endpoint ep is owned by plumb owner other (we are team); it is never touched";
	build(&f);
	ck_assert_uint_eq(f.p.actions.len, 0);
	ck_assert_uint_eq(f.p.n_conflict, 1);
	plumb_plan_render_text(&f.p, &f.out, false);
	ck_assert_str_eq(f.out.buf,
			 "Conflicts (nothing is planned for these):\n"
			 "  error: Endpoint/ep (us-east-1): Endpoint ep is owned by plumb owner "
			 "other (we are team); it is never touched\n"
			 "\n"
			 "No changes. Live state matches the manifests.\n");
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ text */

/* A small plan: a new model and config, the endpoint moved onto it, the old config superseded,
 * an orphan alarm left alone. */
static void small_plan(struct fx *f)
{
	obs(f, PLUMB_KIND_ENDPOINT_CONFIG, "clip-bbbb2222", NULL,
	    CONFIG_SPEC("clip-aaaa1111", "ml.g5.xlarge", "1"), NULL, NULL);
	struct plumb_observed *oe = obs(f, PLUMB_KIND_ENDPOINT, "clip", NULL,
					"{\"EndpointConfigName\":\"clip-bbbb2222\","
					"\"EndpointStatus\":\"InService\"}",
					NULL, "arn:aws:sagemaker:us-east-1:123456789012:endpoint/clip");
	struct plumb_observed *oa = obs(f, PLUMB_KIND_ALARM, "old-alarm", NULL, ALARM_SPEC(""),
					NULL, NULL);
	struct plumb_resource *cfg = res(f, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-eeee5555",
					 CONFIG_SPEC("clip-aaaa1111", "ml.g5.2xlarge", "1"), NULL);
	struct plumb_resource *ep = res(f, PLUMB_KIND_ENDPOINT, "clip", "clip",
					"{\"EndpointConfigName\":\"clip-eeee5555\"}", cfg, NULL);
	chg(f, PLUMB_CHANGE_CREATE, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-eeee5555", NULL, cfg,
	    NULL);
	struct plumb_change *ce = chg(f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ENDPOINT, "clip", "clip",
				      NULL, ep, oe);
	delta(f, ce, "endpointConfigName", "EndpointConfigName", "\"clip-bbbb2222\"",
	      "\"clip-eeee5555\"", false, false);
	delta(f, ce, "tags.team", "Tags.team", NULL, "\"search\"", false, false);
	delta(f, ce, "explainerConfig", "ExplainerConfig",
	      "{\"ClarifyExplainerConfig\":{\"EnableExplanations\":\"`true`\",\"InferenceConfig\":"
	      "{\"MaxRecordCount\":10,\"MaxPayloadInMB\":6}}}",
	      NULL, true, false);
	json_object_set_new(ce->tags, "team", json_string("search"));
	struct plumb_change *dc = chg(f, PLUMB_CHANGE_DELETE, PLUMB_KIND_ENDPOINT_CONFIG, "clip",
				      "clip-bbbb2222", NULL, NULL,
				      plumb_observed_find(&f->have, PLUMB_KIND_ENDPOINT_CONFIG,
							  REGION, "clip-bbbb2222", NULL));
	dc->superseded = true;
	dc->superseded_by = "clip-eeee5555";
	chg(f, PLUMB_CHANGE_ORPHAN, PLUMB_KIND_ALARM, "old-alarm", "old-alarm", NULL, NULL, oa);
}

static const char small_plain[] =
	"plumb will make these changes:\n"
	"\n"
	"  + EndpointConfig/clip (clip-eeee5555, us-east-1) will be created\n"
	"      + productionVariants[0].variantName: \"AllTraffic\"\n"
	"      + productionVariants[0].modelName: \"clip-aaaa1111\"\n"
	"      + productionVariants[0].instanceType: \"ml.g5.2xlarge\"\n"
	"      + productionVariants[0].initialInstanceCount: 1\n"
	"  ~ Endpoint/clip (us-east-1) will be updated in place\n"
	"      ~ endpointConfigName: \"clip-bbbb2222\" -> \"clip-eeee5555\"\n"
	"      + tags.team: \"search\"\n"
	"        explainerConfig: {\"ClarifyExplainerConfig\":{\"EnableExplanations\":"
	"\"`true`\",\"InferenceCo..."
	" (not managed)\n"
	"  - EndpointConfig/clip (clip-bbbb2222, us-east-1) will be deleted: superseded by "
	"clip-eeee5555\n"
	"\n"
	"Not in any manifest; kept because prune is off:\n"
	"    Alarm/old-alarm (us-east-1)\n"
	"\n"
	"Actions, in order:\n"
	"  1. create  EndpointConfig/clip (clip-eeee5555): CreateEndpointConfig\n"
	"  2. update  Endpoint/clip: UpdateEndpoint   (after 1)\n"
	"  3. wait  Endpoint/clip InService on clip-eeee5555   (after 2)\n"
	"  4. tag  Endpoint/clip: add team   (after 3)\n"
	"  5. delete  EndpointConfig/clip (clip-bbbb2222): DeleteEndpointConfig   (after 3)\n"
	"\n"
	"Plan: 1 to create, 1 to update, 1 to delete.\n";

START_TEST(render_text_plain)
{
	struct fx f;
	fx_init(&f);
	small_plan(&f);
	build(&f);
	ck_assert_int_eq(plumb_plan_render_text(&f.p, &f.out, false), 0);
	ck_text(f.out.buf, small_plain);
	fx_release(&f);
}
END_TEST

START_TEST(render_text_colour)
{
	struct fx f;
	fx_init(&f);
	small_plan(&f);
	build(&f);
	ck_assert_int_eq(plumb_plan_render_text(&f.p, &f.out, true), 0);
	ck_text(f.out.buf,
		"plumb will make these changes:\n"
		"\n"
		"  \033[32m+\033[0m EndpointConfig/clip (clip-eeee5555, us-east-1) will be created\n"
		"      \033[32m+\033[0m productionVariants[0].variantName: \"AllTraffic\"\n"
		"      \033[32m+\033[0m productionVariants[0].modelName: \"clip-aaaa1111\"\n"
		"      \033[32m+\033[0m productionVariants[0].instanceType: \"ml.g5.2xlarge\"\n"
		"      \033[32m+\033[0m productionVariants[0].initialInstanceCount: 1\n"
		"  \033[33m~\033[0m Endpoint/clip (us-east-1) will be updated in place\n"
		"      \033[33m~\033[0m endpointConfigName: \"clip-bbbb2222\" -> \"clip-eeee5555\"\n"
		"      \033[32m+\033[0m tags.team: \"search\"\n"
		"        \033[2mexplainerConfig: {\"ClarifyExplainerConfig\":{\"EnableExplanations\":"
		"\"`true`\",\"InferenceCo... (not managed)\033[0m\n"
		"  \033[31m-\033[0m EndpointConfig/clip (clip-bbbb2222, us-east-1) will be deleted: "
		"superseded by clip-eeee5555\n"
		"\n"
		"Not in any manifest; kept because prune is off:\n"
		"    Alarm/old-alarm (us-east-1)\n"
		"\n"
		"Actions, in order:\n"
		"  1. \033[32mcreate\033[0m  EndpointConfig/clip (clip-eeee5555): CreateEndpointConfig\n"
		"  2. \033[33mupdate\033[0m  Endpoint/clip: UpdateEndpoint   (after 1)\n"
		"  3. wait  Endpoint/clip InService on clip-eeee5555   (after 2)\n"
		"  4. \033[33mtag\033[0m  Endpoint/clip: add team   (after 3)\n"
		"  5. \033[31mdelete\033[0m  EndpointConfig/clip (clip-bbbb2222): DeleteEndpointConfig"
		"   (after 3)\n"
		"\n"
		"\033[1mPlan:\033[0m 1 to create, 1 to update, 1 to delete.\n");
	fx_release(&f);
}
END_TEST

START_TEST(render_no_changes)
{
	struct fx f;
	fx_init(&f);
	build(&f);
	ck_assert_int_eq(plumb_plan_render_text(&f.p, &f.out, true), 0);
	ck_assert_str_eq(f.out.buf, "No changes. Live state matches the manifests.\n");
	fx_release(&f);
}
END_TEST

/* Markers print as (known after apply); choreographed actions show why. */
START_TEST(render_markers_and_why)
{
	struct fx f;
	fx_init(&f);
	autoscaled_stack(&f, CONFIG_SPEC("clip-aaaa1111", "ml.g5.2xlarge", "1"),
			 PLUMB_CHANGE_NONE);
	struct plumb_resource *a2 = res(&f, PLUMB_KIND_ALARM, "new", "new",
					ALARM_SPEC(MARKER("ScalingPolicy/clip/scale-from-zero")),
					NULL);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ALARM, "new", "new", NULL,
				     a2, NULL);
	delta(&f, c, "alarmActions[0]", "AlarmActions[0]", "\"arn:old\"",
	      MARKER("ScalingPolicy/clip/scale-from-zero"), false, false);
	build(&f);
	ck_assert_int_eq(plumb_plan_render_text(&f.p, &f.out, false), 0);
	ck_assert_msg(strstr(f.out.buf, "  ~ ScalableTarget/clip (" RID ", us-east-1) will be "
					"deregistered and registered again around the endpoint "
					"update\n"),
		      "%s", f.out.buf);
	ck_assert_msg(strstr(f.out.buf, "  ~ Alarm/clip-scale-from-zero (us-east-1) will be put "
					"again to name the new policy ARN\n"),
		      "%s", f.out.buf);
	ck_assert_msg(strstr(f.out.buf, "      ~ alarmActions[0]: \"arn:old\" -> (known after "
					"apply)\n"),
		      "%s", f.out.buf);
	/* a reason shared by consecutive actions is shown once, under the first */
	ck_assert_msg(strstr(f.out.buf, "(after 1)\n"
					"       # instance type of autoscaled variant AllTraffic "
					"changes: AWS refuses UpdateEndpoint while it is registered\n"
					"  3. delete  ScalingPolicy/clip/scale-from-zero "
					"(scale-from-zero): DeleteScalingPolicy   (after 1)\n"
					"  4. delete  ScalableTarget/clip (" RID
					"): DeregisterScalableTarget   (after 1, 2, 3)\n"),
		      "%s", f.out.buf);
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ JSON, fingerprint */

static void ck_keys(const json_t *o, const char *const *keys, size_t n)
{
	ck_assert(json_is_object(o));
	ck_assert_uint_eq(json_object_size(o), n);
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		ck_assert_str_eq(k, keys[i]);
		i++;
	}
}

START_TEST(json_shape)
{
	static const char *const top[] = { "format_version", "summary", "resources", "actions",
					   "meta" };
	static const char *const summary[] = { "create", "update", "delete", "replace", "tag",
					       "orphan", "conflict" };
	static const char *const resource[] = { "address", "kind", "name", "physical", "region",
						"parent", "action", "reason", "superseded_by",
						"deltas" };
	static const char *const delta_keys[] = { "path", "aws_path", "old", "new", "info",
						  "forces_replace" };
	static const char *const action[] = { "id", "type", "spec_hash", "operation", "address", "kind",
		"name", "physical", "parent", "region", "input", "add_tags", "remove_tags",
		"wait_for", "wait_config", "wait_deadline_s", "why", "depends_on" };
	struct fx f;
	fx_init(&f);
	small_plan(&f);
	build(&f);
	json_t *meta = json_pack("{s:s}", "created", "2024-01-02T03:04:05Z");
	json_t *j = plumb_plan_to_json(&f.p, meta);
	json_decref(meta);
	ck_assert_ptr_nonnull(j);
	ck_keys(j, top, PLUMB_ARRAY_LEN(top));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "format_version")), 1);
	ck_keys(json_object_get(j, "summary"), summary, PLUMB_ARRAY_LEN(summary));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "summary"),
							    "orphan")),
			 1);
	json_t *res = json_object_get(j, "resources");
	ck_assert_uint_eq(json_array_size(res), 4); /* config, endpoint, old config, orphan */
	for (size_t i = 0; i < json_array_size(res); i++)
		ck_keys(json_array_get(res, i), resource, PLUMB_ARRAY_LEN(resource));
	json_t *r1 = json_array_get(res, 1);
	ck_assert_str_eq(json_string_value(json_object_get(r1, "address")), "Endpoint/clip");
	ck_assert_str_eq(json_string_value(json_object_get(r1, "action")), "update");
	ck_keys(json_array_get(json_object_get(r1, "deltas"), 0), delta_keys,
		PLUMB_ARRAY_LEN(delta_keys));
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 2),
							   "superseded_by")),
			 "clip-eeee5555");
	json_t *acts = json_object_get(j, "actions");
	ck_assert_uint_eq(json_array_size(acts), 5);
	for (size_t i = 0; i < json_array_size(acts); i++) {
		json_t *a = json_array_get(acts, i);
		ck_keys(a, action, PLUMB_ARRAY_LEN(action));
		ck_assert_int_eq(json_integer_value(json_object_get(a, "id")), (json_int_t)i);
	}
	json_t *w = json_array_get(acts, 2);
	ck_assert_str_eq(json_string_value(json_object_get(w, "type")), "wait");
	ck_assert_str_eq(json_string_value(json_object_get(w, "wait_for")), "in_service");
	ck_assert_int_eq(json_integer_value(json_object_get(w, "wait_deadline_s")), 3600);
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(w, "depends_on"), 0)),
			 1);
	ck_assert(json_is_null(json_object_get(json_array_get(acts, 0), "wait_deadline_s")));
	/* spec_hash: the wanted resource's hash on every action but deletes */
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(acts, 0), "spec_hash")),
			 "hash-clip");
	ck_assert_str_eq(json_string_value(json_object_get(w, "spec_hash")), "hash-clip");
	for (size_t i = 0; i < json_array_size(acts); i++) {
		json_t *a = json_array_get(acts, i);
		if (strcmp(json_string_value(json_object_get(a, "type")), "delete") == 0)
			ck_assert(json_is_null(json_object_get(a, "spec_hash")));
		else
			ck_assert(json_is_string(json_object_get(a, "spec_hash")));
	}
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "meta"), "created")),
			 "2024-01-02T03:04:05Z");
	json_decref(j);
	fx_release(&f);
}
END_TEST

START_TEST(fingerprint_from_json)
{
	struct fx f;
	fx_init(&f);
	small_plan(&f);
	build(&f);
	json_t *j = plumb_plan_to_json(&f.p, NULL);
	/* through text and back, as plan -o FILE and apply FILE do */
	char *text = json_dumps(j, 0);
	json_t *saved = json_loads(text, 0, NULL);
	free(text);
	char a[65], b[65];
	ck_assert_int_eq(plumb_plan_fingerprint(j, &f.have, a), 0);
	ck_assert_int_eq(plumb_plan_fingerprint(saved, &f.have, b), 0);
	ck_assert_uint_eq(strlen(a), 64);
	ck_assert_str_eq(a, b);

	/* a moving alarm state is not a change of the resource */
	struct plumb_observed *oa = plumb_observed_find(&f.have, PLUMB_KIND_ALARM, REGION,
							"old-alarm", NULL);
	json_object_set_new(oa->live, "StateValue", json_string("ALARM"));
	oa->observed_ms = 999999;
	ck_assert_int_eq(plumb_plan_fingerprint(saved, &f.have, b), 0);
	ck_assert_str_eq(a, b);

	/* a live change is */
	struct plumb_observed *oe = plumb_observed_find(&f.have, PLUMB_KIND_ENDPOINT, REGION,
							"CLIP", NULL);
	ck_assert_ptr_nonnull(oe);
	json_object_set_new(oe->live, "EndpointStatus", json_string("Updating"));
	ck_assert_int_eq(plumb_plan_fingerprint(saved, &f.have, b), 0);
	ck_assert_str_ne(a, b);
	json_object_set_new(oe->live, "EndpointStatus", json_string("InService"));
	ck_assert_int_eq(plumb_plan_fingerprint(saved, &f.have, b), 0);
	ck_assert_str_eq(a, b);
	oe->modified_ms++;
	ck_assert_int_eq(plumb_plan_fingerprint(saved, &f.have, b), 0);
	ck_assert_str_ne(a, b);
	oe->modified_ms--;

	/* and so is a resource that appeared (the new config, absent when planned) */
	struct plumb_observed *n = plumb_observed_new(PLUMB_KIND_ENDPOINT_CONFIG, REGION,
						      "clip-eeee5555", NULL);
	ck_assert_int_eq(plumb_observed_set_add(&f.have, n), 0);
	ck_assert_int_eq(plumb_plan_fingerprint(saved, &f.have, b), 0);
	ck_assert_str_ne(a, b);

	/* every kind a plan names, scaling policies too */
	struct fx g;
	fx_init(&g);
	autoscaled_stack(&g, CONFIG_SPEC("clip-aaaa1111", "ml.g5.2xlarge", "1"), PLUMB_CHANGE_NONE);
	build(&g);
	json_t *gj = plumb_plan_to_json(&g.p, NULL);
	ck_assert_int_eq(plumb_plan_fingerprint(gj, &g.have, b), 0);
	ck_assert_str_ne(a, b);
	json_decref(gj);
	fx_release(&g);

	/* bad input */
	json_t *bad = json_pack("{s:[{s:s}]}", "resources", "kind", "Nope");
	ck_assert_int_eq(plumb_plan_fingerprint(bad, &f.have, b), PLUMB_EINVAL);
	json_t *empty = json_object();
	ck_assert_int_eq(plumb_plan_fingerprint(empty, &f.have, b), PLUMB_EINVAL);
	json_decref(empty);
	json_decref(bad);
	json_decref(saved);
	json_decref(j);
	fx_release(&f);
}
END_TEST

/* ------------------------------------------------------------------ with the real diff */

/* pkg/diff's own rollover, planned: the same sequence as the hand-built one. */
START_TEST(real_diff_rollover)
{
	struct fx f;
	fx_init(&f);
	obs(&f, PLUMB_KIND_MODEL, "clip-aaaa1111", NULL, "{\"ModelName\":\"clip-aaaa1111\"}",
	    "{\"plumb:owner\":\"team\",\"plumb:id\":\"Model/clip\"}", NULL);
	obs(&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip-bbbb2222", NULL,
	    CONFIG_SPEC("clip-aaaa1111", "ml.g5.xlarge", "1"),
	    "{\"plumb:owner\":\"team\",\"plumb:id\":\"EndpointConfig/clip\"}", NULL);
	obs(&f, PLUMB_KIND_ENDPOINT, "clip", NULL,
	    "{\"EndpointName\":\"clip\",\"EndpointConfigName\":\"clip-bbbb2222\","
	    "\"EndpointStatus\":\"InService\"}",
	    "{\"plumb:owner\":\"team\",\"plumb:id\":\"Endpoint/clip\","
	    "\"plumb:spec-hash\":\"hash-clip\"}", NULL);
	struct plumb_resource *model = res(&f, PLUMB_KIND_MODEL, "clip", "clip-cccc3333",
					   MODEL_SPEC, NULL);
	struct plumb_resource *cfg = res(&f, PLUMB_KIND_ENDPOINT_CONFIG, "clip", "clip-dddd4444",
					 CONFIG_SPEC("clip-cccc3333", "ml.g5.xlarge", "1"), model,
					 NULL);
	res(&f, PLUMB_KIND_ENDPOINT, "clip", "clip", "{\"EndpointConfigName\":\"clip-dddd4444\"}",
	    cfg, NULL);
	struct plumb_diff_opts o = { .owner = OWNER, .account = ACCOUNT, .prune = 0 };
	struct plumb_err err;
	ck_assert_int_eq(plumb_diff_compute(&f.d, &f.res, &f.have, &o, &err), 0);
	build(&f);
	ck_assert_str_eq(sequence(&f), "0 create Model/clip\n"
				       "1 create EndpointConfig/clip <- 0\n"
				       "2 update Endpoint/clip <- 1\n"
				       "3 wait Endpoint/clip <- 2\n"
				       "4 delete EndpointConfig/clip <- 3\n"
				       "5 delete Model/clip <- 4\n");
	fx_release(&f);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(plumb_action_type_name(PLUMB_ACTION_CREATE), "create");
	ck_assert_str_eq(plumb_action_type_name(PLUMB_ACTION_WAIT), "wait");
	ck_assert_str_eq(plumb_action_type_name((enum plumb_action_type)99), "?");
	struct plumb_plan p;
	plumb_plan_init(&p);
	struct plumb_err err;
	ck_assert_int_eq(plumb_plan_build(&p, NULL, NULL, &err), PLUMB_EINVAL);
	plumb_plan_release(&p);
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("build");
	tcase_add_test(tc, empty_account_full_stack);
	tcase_add_test(tc, model_change_rollover);
	tcase_add_test(tc, instance_type_change_under_autoscaling);
	tcase_add_test(tc, model_only_change_keeps_targets);
	tcase_add_test(tc, variant_removed_with_its_target);
	tcase_add_test(tc, choreographed_target_update_is_one_register);
	tcase_add_test(tc, unknown_old_config_is_choreographed);
	tcase_add_test(tc, replaced_endpoint_with_targets);
	tcase_add_test(tc, cycle_is_an_internal_error);
	tcase_add_test(tc, exclusions_and_deadlines);
	tcase_add_test(tc, update_deadline_table);
	tcase_add_test(tc, topic_update_lists_changed_attributes);
	tcase_add_test(tc, tag_only_change);
	tcase_add_test(tc, update_with_tags);
	tcase_add_test(tc, orphan_is_listed_delete_is_acted);
	tcase_add_test(tc, deletes_in_reverse_order);
	tcase_add_test(tc, adopt_tags_then_updates);
	tcase_add_test(tc, replace_deletes_then_creates);
	tcase_add_test(tc, conflict_has_no_action);
	tcase_add_test(tc, settling_endpoint_waits_before_dependants);
	tcase_add_test(tc, settling_endpoint_tag_after_wait);
	tcase_add_test(tc, settling_endpoint_update_waits_first);
	tcase_add_test(tc, updated_endpoint_tags_after_wait);
	tcase_add_test(tc, failed_endpoint_is_recreated);
	tcase_add_test(tc, real_diff_rollover);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	TCase *out = tcase_create("output");
	tcase_add_test(out, render_text_plain);
	tcase_add_test(out, render_text_colour);
	tcase_add_test(out, render_no_changes);
	tcase_add_test(out, render_markers_and_why);
	tcase_add_test(out, json_shape);
	tcase_add_test(out, fingerprint_from_json);
	suite_add_tcase(s, out);
	return s;
}

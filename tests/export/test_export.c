/* pkg/export: live resources back into manifests. The live side is made from real manifests:
 * fake_reply() turns a desired resource into the reply AWS gives once it exists (the members the
 * service fills in added, tags as plumb writes them), as in tests/diff; the export is then read
 * back through the manifest parser and diffed against the same live set. */
#include "diff/diff.h"
#include "export/export.h"
#include "manifest/manifest.h"
#include "test.h"

#include <string.h>

#define OWNER "team-a"
#define ACCT "123456789012"
#define REGION "us-east-1"
#define SLR                                                                                \
	"arn:aws:iam::" ACCT ":role/aws-service-role/sagemaker.application-autoscaling."   \
	"amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"

static char *diags_text(const struct plumb_manifest_set *set)
{
	static char buf[8192];
	buf[0] = '\0';
	for (size_t i = 0; i < set->diags.len; i++) {
		const struct plumb_diag *d = set->diags.items[i];
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "\n  %s:%u: %s: %s", d->loc.file ? d->loc.file : "",
			 d->loc.line, d->path, d->msg);
	}
	return buf;
}

static void load_examples(struct plumb_manifest_set *set)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/manifests/examples", test_repo());
	struct plumb_vec files = PLUMB_VEC_INIT;
	ck_assert_int_eq(plumb_fs_find_manifests(dir, &files, NULL), 0);
	ck_assert_uint_gt(files.len, 5);
	plumb_manifest_init(set);
	for (size_t i = 0; i < files.len; i++) {
		struct plumb_buf b = PLUMB_BUF_INIT;
		ck_assert_int_eq(plumb_fs_read(files.items[i], PLUMB_MANIFEST_MAX_FILE, &b, NULL), 0);
		ck_assert_int_eq(plumb_manifest_add(set, files.items[i], b.buf, b.len), 0);
		plumb_buf_release(&b);
		free(files.items[i]);
	}
	plumb_vec_release(&files);
	ck_assert_int_eq(plumb_manifest_finish(set), 0);
	ck_assert_msg(plumb_manifest_errors(set) == 0, "example errors:%s", diags_text(set));
}

static struct plumb_resource *res(const struct plumb_manifest_set *set, enum plumb_kind k,
				  const char *name)
{
	struct plumb_resource *r = plumb_manifest_find(set, k, name);
	ck_assert_msg(r != NULL, "%s/%s not in the set", plumb_kind_name(k), name);
	return r;
}

/* ------------------------------------------------------------------ live side */

static unsigned uuid_seq;

static const char *policy_parent(const struct plumb_resource *r)
{
	for (size_t i = 0; i < r->deps.len; i++) {
		const struct plumb_resource *t = r->deps.items[i];
		if (t->kind == PLUMB_KIND_SCALABLE_TARGET)
			return t->physical;
	}
	return NULL;
}

/* What AWS would report for a reference of desired resource spec (topic ARN, policy ARN). */
static json_t *fake_resolve(const struct plumb_manifest_set *set,
			    const struct plumb_observed_set *have, const json_t *v)
{
	const char *ref = plumb_ref_marker_target(v);
	if (ref) {
		const char *slash = strchr(ref, '/');
		if (strncmp(ref, "Topic/", 6) == 0) {
			const struct plumb_resource *t = res(set, PLUMB_KIND_TOPIC, slash + 1);
			return json_sprintf("arn:aws:sns:%s:%s:%s", t->region, ACCT, t->physical);
		}
		const struct plumb_resource *p = res(set, PLUMB_KIND_SCALING_POLICY, slash + 1);
		struct plumb_observed *o = plumb_observed_find(have, p->kind, p->region,
							       p->physical, policy_parent(p));
		ck_assert_msg(o != NULL, "policy %s must be faked before what refers to it", ref);
		return json_incref(json_object_get(o->live, "PolicyARN"));
	}
	if (json_is_array(v)) {
		json_t *out = json_array();
		for (size_t i = 0; i < json_array_size(v); i++)
			json_array_append_new(out, fake_resolve(set, have, json_array_get(v, i)));
		return out;
	}
	if (json_is_object(v)) {
		json_t *out = json_object();
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
			json_object_set_new(out, k, fake_resolve(set, have, x));
		return out;
	}
	return json_deep_copy(v);
}

static json_t *tags_of(const struct plumb_resource *r, const char *owner)
{
	json_t *t = json_deep_copy(r->tags);
	char id[300];
	snprintf(id, sizeof(id), "%s/%s", plumb_kind_name(r->kind), r->name);
	json_object_set_new(t, PLUMB_TAG_OWNER, json_string(owner));
	json_object_set_new(t, PLUMB_TAG_ID, json_string(id));
	json_object_set_new(t, PLUMB_TAG_HASH, json_string(r->hash));
	return t;
}

static void set_default(json_t *obj, const char *key, json_t *v)
{
	if (!json_object_get(obj, key))
		json_object_set(obj, key, v);
	json_decref(v);
}

/* A JSON text re-encoded with other spacing and key order, as SNS may give it back. */
static json_t *reencode(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(v);
	char *s = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_t *out = json_string(s);
	free(s);
	json_decref(v);
	return out;
}

static struct plumb_observed *add_observed(struct plumb_observed_set *have, enum plumb_kind k,
					   const char *name, const char *parent, json_t *live,
					   json_t *tags)
{
	struct plumb_observed *o = plumb_observed_new(k, REGION, name, parent);
	ck_assert_ptr_nonnull(o);
	o->live = live;
	o->tags = tags;
	ck_assert_int_eq(plumb_observed_set_add(have, o), 0);
	return o;
}

/* The reply AWS gives for r once it exists, added to have with r's tags under owner. */
static struct plumb_observed *fake_reply(const struct plumb_manifest_set *set,
					 struct plumb_observed_set *have,
					 const struct plumb_resource *r, const char *owner)
{
	json_t *live = fake_resolve(set, have, r->spec);
	const char *parent = NULL;
	char arn[512];
	switch (r->kind) {
	case PLUMB_KIND_MODEL: {
		json_object_set_new(live, "ModelName", json_string(r->physical));
		snprintf(arn, sizeof(arn), "arn:aws:sagemaker:%s:%s:model/%s", REGION, ACCT,
			 r->physical);
		json_object_set_new(live, "ModelArn", json_string(arn));
		json_object_set_new(live, "CreationTime", json_real(1795529582.934));
		json_object_set_new(live, "EnableNetworkIsolation", json_false());
		json_object_set_new(live, "DeploymentRecommendation",
				    json_pack("{ss}", "RecommendationStatus", "COMPLETED"));
		json_t *pc = json_object_get(live, "PrimaryContainer");
		if (pc)
			set_default(pc, "Mode", json_string("SingleModel"));
		break;
	}
	case PLUMB_KIND_ENDPOINT_CONFIG: {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(live, "ProductionVariants"), i, v)
			set_default(v, "InitialVariantWeight", json_real(1.0));
		json_t *dc = json_object_get(live, "DataCaptureConfig");
		if (dc)
			set_default(dc, "EnableCapture", json_true());
		json_object_set_new(live, "EndpointConfigName", json_string(r->physical));
		snprintf(arn, sizeof(arn), "arn:aws:sagemaker:%s:%s:endpoint-config/%s", REGION,
			 ACCT, r->physical);
		json_object_set_new(live, "EndpointConfigArn", json_string(arn));
		json_object_set_new(live, "CreationTime", json_real(1795529582.939));
		break;
	}
	case PLUMB_KIND_ENDPOINT: {
		json_t *dc = json_object_get(live, "DeploymentConfig");
		json_t *l = json_pack("{ss ss ss ss sf sf s[{ss s[{ss ss}] sf sf si si}]}", "EndpointName",
				      r->physical, "EndpointArn", "arn:aws:sagemaker:x", "EndpointConfigName",
				      json_string_value(json_object_get(live, "EndpointConfigName")),
				      "EndpointStatus", "InService", "CreationTime", 1795529582.945,
				      "LastModifiedTime", 1795529583.145, "ProductionVariants",
				      "VariantName", "primary", "DeployedImages", "SpecifiedImage",
				      "img:1", "ResolvedImage", "img@sha256:0a8a", "CurrentWeight",
				      1.0, "DesiredWeight", 1.0, "CurrentInstanceCount", 3,
				      "DesiredInstanceCount", 3);
		ck_assert_ptr_nonnull(l);
		if (dc)
			json_object_set(l, "LastDeploymentConfig", dc);
		json_decref(live);
		live = l;
		break;
	}
	case PLUMB_KIND_SCALABLE_TARGET:
		json_object_set_new(live, "ServiceNamespace", json_string("sagemaker"));
		json_object_set_new(live, "RoleARN", json_string(SLR));
		json_object_set_new(live, "ScalableTargetARN",
				    json_string("arn:aws:application-autoscaling:us-east-1:"
						"123456789012:scalable-target/0f11"));
		json_object_set_new(live, "CreationTime", json_real(1795529583.455));
		json_object_set_new(live, "SuspendedState",
				    json_pack("{sbsbsb}", "DynamicScalingInSuspended", 0,
					      "DynamicScalingOutSuspended", 0,
					      "ScheduledScalingSuspended", 0));
		break;
	case PLUMB_KIND_SCALING_POLICY: {
		parent = policy_parent(r);
		snprintf(arn, sizeof(arn),
			 "arn:aws:autoscaling:%s:%s:scalingPolicy:%08x-f638-40d3-b0a8-e192f56c9dd4:"
			 "resource/sagemaker/%s:policyName/%s",
			 REGION, ACCT, ++uuid_seq, parent, r->physical);
		json_object_set_new(live, "PolicyARN", json_string(arn));
		json_object_set_new(live, "PolicyName", json_string(r->physical));
		json_object_set_new(live, "ServiceNamespace", json_string("sagemaker"));
		json_object_set_new(live, "ResourceId", json_string(parent));
		json_object_set_new(live, "ScalableDimension",
				    json_string("sagemaker:variant:DesiredInstanceCount"));
		json_object_set_new(live, "CreationTime", json_real(1795529583.46));
		json_object_set_new(live, "Alarms", json_array());
		if (json_object_get(live, "TargetTrackingScalingPolicyConfiguration")) {
			/* the alarms Application Auto Scaling makes (untagged) */
			for (int hi = 0; hi < 2; hi++) {
				char name[300];
				snprintf(name, sizeof(name), "TargetTracking-%s-Alarm%s-%08x-bfb1",
					 parent, hi ? "High" : "Low", uuid_seq);
				json_t *al = json_pack(
					"{ss ss sb s[] s[s] s[] ss ss ss ss s[] si si sf ss}",
					"AlarmName", name, "AlarmDescription", "DO NOT EDIT OR DELETE.",
					"ActionsEnabled", 1, "OKActions", "AlarmActions", arn,
					"InsufficientDataActions", "StateValue", "INSUFFICIENT_DATA",
					"MetricName", "InvocationsPerInstance", "Namespace",
					"AWS/SageMaker", "Statistic", "Sum", "Dimensions", "Period", 60,
					"EvaluationPeriods", 3, "Threshold", 1000.0,
					"ComparisonOperator",
					hi ? "GreaterThanThreshold" : "LessThanThreshold");
				ck_assert_ptr_nonnull(al);
				add_observed(have, PLUMB_KIND_ALARM, name, NULL, al, NULL);
			}
		}
		break;
	}
	case PLUMB_KIND_ALARM: {
		json_object_set_new(live, "AlarmName", json_string(r->physical));
		snprintf(arn, sizeof(arn), "arn:aws:cloudwatch:%s:%s:alarm:%s", REGION, ACCT,
			 r->physical);
		json_object_set_new(live, "AlarmArn", json_string(arn));
		json_object_set_new(live, "AlarmConfigurationUpdatedTimestamp",
				    json_string("2026-11-24T14:13:03.464Z"));
		json_object_set_new(live, "StateValue", json_string("INSUFFICIENT_DATA"));
		json_object_set_new(live, "StateReason",
				    json_string("Unchecked: Initial alarm creation"));
		set_default(live, "ActionsEnabled", json_true());
		set_default(live, "OKActions", json_array());
		set_default(live, "AlarmActions", json_array());
		set_default(live, "InsufficientDataActions", json_array());
		set_default(live, "Dimensions", json_array());
		/* CloudWatch leaves out TreatMissingData set to its default */
		json_t *tmd = json_object_get(live, "TreatMissingData");
		if (tmd && strcmp(json_string_value(tmd), "missing") == 0)
			json_object_del(live, "TreatMissingData");
		break;
	}
	case PLUMB_KIND_TOPIC: {
		json_t *attrs = json_object();
		json_t *want = json_object_get(live, "Attributes");
		snprintf(arn, sizeof(arn), "arn:aws:sns:%s:%s:%s", REGION, ACCT, r->physical);
		json_object_set_new(attrs, "TopicArn", json_string(arn));
		json_object_set_new(attrs, "Owner", json_string(ACCT));
		json_object_set_new(attrs, "SubscriptionsConfirmed", json_string("0"));
		json_object_set_new(attrs, "SubscriptionsPending", json_string("0"));
		json_object_set_new(attrs, "SubscriptionsDeleted", json_string("0"));
		json_object_set_new(attrs, "EffectiveDeliveryPolicy",
				    json_string("{\"http\":{\"defaultHealthyRetryPolicy\":{"
						"\"numRetries\":3}}}"));
		json_object_set_new(
			attrs, "Policy",
			json_string("{\"Version\":\"2008-10-17\",\"Id\":\"__default_policy_ID\"}"));
		json_object_set_new(attrs, "DisplayName", json_string(""));
		const char *k;
		json_t *v;
		json_object_foreach(want, k, v) {
			if (strstr(k, "Policy"))
				json_object_set_new(attrs, k, reencode(json_string_value(v)));
			else
				json_object_set(attrs, k, v);
		}
		json_decref(live);
		live = attrs;
		break;
	}
	default:
		break;
	}
	json_t *tags = r->kind == PLUMB_KIND_SCALING_POLICY ? NULL : tags_of(r, owner);
	return add_observed(have, r->kind, r->physical, parent, live, tags);
}

/* Every resource of set live as AWS describes it, owned by owner. */
static void converge(const struct plumb_manifest_set *set, struct plumb_observed_set *have,
		     const char *owner)
{
	for (size_t i = 0; i < set->resources.len; i++) {
		const struct plumb_resource *r = set->resources.items[i];
		if (r->kind != PLUMB_KIND_DEFAULTS)
			fake_reply(set, have, r, owner);
	}
}

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
		      diags_text(set));
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
	load_examples(&want);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	converge(&want, &have, OWNER);
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
	load_examples(&want);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	converge(&want, &have, OWNER);
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
	load_examples(&want);
	struct plumb_observed_set have;
	plumb_observed_set_init(&have);
	converge(&want, &have, OWNER);
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
	add_observed(&have, PLUMB_KIND_MODEL, "legacy-model", NULL, model_live("legacy-model"),
		     json_pack("{ss}", "team", "old"));
	add_observed(&have, PLUMB_KIND_MODEL, suffixed, NULL, model_live(suffixed), json_object());
	add_observed(&have, PLUMB_KIND_ENDPOINT_CONFIG, "legacy-config", NULL,
		     json_pack("{s[{ss ss ss si sf} {ss ss ss si sf}] ss}", "ProductionVariants",
			       "VariantName", "a", "ModelName", "legacy-model", "InstanceType",
			       "ml.m5.large", "InitialInstanceCount", 1, "InitialVariantWeight", 1.0,
			       "VariantName", "b", "ModelName", suffixed, "InstanceType",
			       "ml.m5.large", "InitialInstanceCount", 1, "InitialVariantWeight", 1.0,
			       "EndpointConfigName", "legacy-config"),
		     json_object());
	add_observed(&have, PLUMB_KIND_ENDPOINT, "legacy", NULL,
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
		ck_assert_msg(plumb_manifest_errors(&set) == 0, "%s", diags_text(&set));
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
		ck_assert_msg(plumb_manifest_errors(&set) == 0, "%s", diags_text(&set));
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
	add_observed(&have, PLUMB_KIND_ENDPOINT, "listed", NULL, NULL, NULL);
	add_observed(&have, PLUMB_KIND_ALARM, "some-alarm", NULL, NULL, NULL);
	add_observed(&have, PLUMB_KIND_ALARM, "TargetTracking-endpoint/x-AlarmHigh-1", NULL, NULL,
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
	add_observed(&have, PLUMB_KIND_ENDPOINT, "orphaned", NULL,
		     json_pack("{ss ss}", "EndpointName", "orphaned", "EndpointConfigName", "cfg"),
		     json_object());
	add_observed(&have, PLUMB_KIND_ENDPOINT_CONFIG, "cfg", NULL,
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

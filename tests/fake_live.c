/* Test support, the live side shared by tests/diff and tests/export: loading manifests/examples,
 * and fake_reply(), which turns a desired resource into the reply AWS gives once it exists (the
 * members the service fills in added, tags as plumb writes them). Core libraries only (it is
 * linked into both unit binaries). */
#include "fake_live.h"

#include "test.h"

#include <string.h>

#define ACCT PLUMB_TEST_ACCT
#define REGION PLUMB_TEST_REGION
#define SLR                                                                                \
	"arn:aws:iam::" ACCT ":role/aws-service-role/sagemaker.application-autoscaling."   \
	"amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"

char *plumb_test_diags_text(const struct plumb_manifest_set *set)
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

void plumb_test_load_examples(struct plumb_manifest_set *set)
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
	ck_assert_msg(plumb_manifest_errors(set) == 0, "example errors:%s", plumb_test_diags_text(set));
}

struct plumb_resource *plumb_test_res(const struct plumb_manifest_set *set, enum plumb_kind k,
				      const char *name)
{
	struct plumb_resource *r = plumb_manifest_find(set, k, name);
	ck_assert_msg(r != NULL, "%s/%s not in the set", plumb_kind_name(k), name);
	return r;
}

/* ------------------------------------------------------------------ live side */

static unsigned uuid_seq;

const char *plumb_test_policy_parent(const struct plumb_resource *r)
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
			const struct plumb_resource *t = plumb_test_res(set, PLUMB_KIND_TOPIC, slash + 1);
			return json_sprintf("arn:aws:sns:%s:%s:%s", t->region, ACCT, t->physical);
		}
		const struct plumb_resource *p = plumb_test_res(set, PLUMB_KIND_SCALING_POLICY, slash + 1);
		struct plumb_observed *o = plumb_observed_find(have, p->kind, p->region,
							       p->physical, plumb_test_policy_parent(p));
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

struct plumb_observed *plumb_test_add_observed(struct plumb_observed_set *have, enum plumb_kind k,
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
struct plumb_observed *plumb_test_fake_reply(const struct plumb_manifest_set *set,
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
		parent = plumb_test_policy_parent(r);
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
				plumb_test_add_observed(have, PLUMB_KIND_ALARM, name, NULL, al, NULL);
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
	return plumb_test_add_observed(have, r->kind, r->physical, parent, live, tags);
}

/* Every resource of set live as AWS describes it, owned by owner. */
void plumb_test_converge(const struct plumb_manifest_set *set, struct plumb_observed_set *have,
			 const char *owner)
{
	for (size_t i = 0; i < set->resources.len; i++) {
		const struct plumb_resource *r = set->resources.items[i];
		if (r->kind != PLUMB_KIND_DEFAULTS)
			plumb_test_fake_reply(set, have, r, owner);
	}
}

/*
 * pkg/apply/steps.c — the pure rules of apply: which AWS operation carries out which action,
 * how tag calls are spelt per service, the ARNs plumb can compute, reference markers, the spec
 * hash of an action, what the journal may not store, backoff, and the verdict on one
 * DescribeEndpoint answer during a wait. No I/O, no clock: tests/apply checks these as tables.
 *
 * Operation per (kind, type), reference §6-§9:
 *
 *   kind            create                  update                  delete
 *   Model           CreateModel             (tags only)             DeleteModel
 *   EndpointConfig  CreateEndpointConfig    (tags only)             DeleteEndpointConfig
 *   Endpoint        CreateEndpoint          UpdateEndpoint          DeleteEndpoint
 *   ScalableTarget  RegisterScalableTarget  RegisterScalableTarget  DeregisterScalableTarget
 *   ScalingPolicy   PutScalingPolicy        PutScalingPolicy        DeleteScalingPolicy
 *   Alarm           PutMetricAlarm          PutMetricAlarm          DeleteAlarms
 *   Topic           CreateTopic             SetTopicAttributes (1 per attribute)  DeleteTopic
 *
 * Tags: SageMaker AddTags/DeleteTags (ResourceArn, list), AAS TagResource/UntagResource
 * (ResourceARN, map), CloudWatch (ResourceARN, list), SNS (ResourceArn, list). Scaling
 * policies have none.
 */
#include "apply/apply.h"
#include "apply/apply_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const type_names[] = { "create", "update", "delete", "tag", "wait" };

int plumb__apply_type_from_name(const char *s)
{
	for (size_t i = 0; s && i < PLUMB_ARRAY_LEN(type_names); i++)
		if (strcmp(s, type_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *plumb__apply_type_name(enum plumb_action_type t)
{
	return (size_t)t < PLUMB_ARRAY_LEN(type_names) ? type_names[t] : "unknown";
}

enum plumb_wait_for plumb__apply_wait_from_name(const char *s)
{
	if (!s)
		return PLUMB_WAIT_NONE;
	if (strcasecmp(s, "in_service") == 0 || strcasecmp(s, "InService") == 0)
		return PLUMB_WAIT_IN_SERVICE;
	if (strcasecmp(s, "deleted") == 0 || strcasecmp(s, "gone") == 0)
		return PLUMB_WAIT_DELETED;
	return PLUMB_WAIT_NONE;
}

int plumb__apply_main_op(enum plumb_kind kind, enum plumb_action_type type)
{
	static const int ops[][3] = {
		/* create, update, delete */
		[PLUMB_KIND_MODEL] = { PLUMB_AWS_OP_SM_CREATE_MODEL, -1, PLUMB_AWS_OP_SM_DELETE_MODEL },
		[PLUMB_KIND_ENDPOINT_CONFIG] = { PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG, -1,
						 PLUMB_AWS_OP_SM_DELETE_ENDPOINT_CONFIG },
		[PLUMB_KIND_ENDPOINT] = { PLUMB_AWS_OP_SM_CREATE_ENDPOINT,
					  PLUMB_AWS_OP_SM_UPDATE_ENDPOINT,
					  PLUMB_AWS_OP_SM_DELETE_ENDPOINT },
		[PLUMB_KIND_SCALABLE_TARGET] = { PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET,
						 PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET,
						 PLUMB_AWS_OP_AAS_DEREGISTER_SCALABLE_TARGET },
		[PLUMB_KIND_SCALING_POLICY] = { PLUMB_AWS_OP_AAS_PUT_SCALING_POLICY,
						PLUMB_AWS_OP_AAS_PUT_SCALING_POLICY,
						PLUMB_AWS_OP_AAS_DELETE_SCALING_POLICY },
		[PLUMB_KIND_ALARM] = { PLUMB_AWS_OP_CW_PUT_METRIC_ALARM, PLUMB_AWS_OP_CW_PUT_METRIC_ALARM,
				       PLUMB_AWS_OP_CW_DELETE_ALARMS },
		[PLUMB_KIND_TOPIC] = { PLUMB_AWS_OP_SNS_CREATE_TOPIC,
				       PLUMB_AWS_OP_SNS_SET_TOPIC_ATTRIBUTES,
				       PLUMB_AWS_OP_SNS_DELETE_TOPIC },
		[PLUMB_KIND_DEFAULTS] = { -1, -1, -1 },
	};
	if ((unsigned)kind >= PLUMB_KIND__COUNT)
		return -1;
	switch (type) {
	case PLUMB_ACTION_CREATE: return ops[kind][0];
	case PLUMB_ACTION_UPDATE: return ops[kind][1];
	case PLUMB_ACTION_DELETE: return ops[kind][2];
	case PLUMB_ACTION_TAG:
	case PLUMB_ACTION_WAIT: return -1;
	}
	return -1;
}

int plumb__apply_tag_op(enum plumb_kind kind, bool add)
{
	switch (kind) {
	case PLUMB_KIND_MODEL:
	case PLUMB_KIND_ENDPOINT_CONFIG:
	case PLUMB_KIND_ENDPOINT:
		return add ? PLUMB_AWS_OP_SM_ADD_TAGS : PLUMB_AWS_OP_SM_DELETE_TAGS;
	case PLUMB_KIND_SCALABLE_TARGET:
		return add ? PLUMB_AWS_OP_AAS_TAG_RESOURCE : PLUMB_AWS_OP_AAS_UNTAG_RESOURCE;
	case PLUMB_KIND_ALARM:
		return add ? PLUMB_AWS_OP_CW_TAG_RESOURCE : PLUMB_AWS_OP_CW_UNTAG_RESOURCE;
	case PLUMB_KIND_TOPIC:
		return add ? PLUMB_AWS_OP_SNS_TAG_RESOURCE : PLUMB_AWS_OP_SNS_UNTAG_RESOURCE;
	default:
		return -1;
	}
}

const char *plumb__apply_arn_member(enum plumb_kind kind)
{
	return kind == PLUMB_KIND_SCALABLE_TARGET || kind == PLUMB_KIND_ALARM ? "ResourceARN"
									      : "ResourceArn";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *plumb__apply_tag_input(enum plumb_kind kind, bool add, const char *arn,
			       const json_t *tags)
{
	json_t *in = json_object();
	if (!in)
		return NULL;
	json_object_set_new(in, plumb__apply_arn_member(kind), json_string(arn));
	if (!add) {
		json_object_set_new(in, "TagKeys", json_deep_copy(tags));
		return in;
	}
	if (kind == PLUMB_KIND_SCALABLE_TARGET) {
		json_object_set_new(in, "Tags", json_deep_copy(tags));
		return in;
	}
	/* keys in byte order, so that requests (and the journal) do not depend on hashing */
	size_t n = json_object_size(tags), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys) {
		json_decref(in);
		return NULL;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)tags, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	json_t *list = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s, s:O}", "Key", keys[i], "Value",
						      json_object_get(tags, keys[i])));
	free(keys);
	json_object_set_new(in, "Tags", list);
	return in;
}

const char *plumb__apply_reply_arn(enum plumb_kind kind)
{
	switch (kind) {
	case PLUMB_KIND_MODEL: return "ModelArn";
	case PLUMB_KIND_ENDPOINT_CONFIG: return "EndpointConfigArn";
	case PLUMB_KIND_ENDPOINT: return "EndpointArn";
	case PLUMB_KIND_SCALABLE_TARGET: return "ScalableTargetARN";
	case PLUMB_KIND_SCALING_POLICY: return "PolicyARN";
	case PLUMB_KIND_TOPIC: return "TopicArn";
	default: return NULL;
	}
}

#define SM_VARIANT_DIM "sagemaker:variant:DesiredInstanceCount"

json_t *plumb__apply_default_delete(enum plumb_kind kind, const char *region,
				    const char *account, const char *physical,
				    const char *parent)
{
	char arn[512];
	switch (kind) {
	case PLUMB_KIND_MODEL: return json_pack("{s:s}", "ModelName", physical);
	case PLUMB_KIND_ENDPOINT_CONFIG: return json_pack("{s:s}", "EndpointConfigName", physical);
	case PLUMB_KIND_ENDPOINT: return json_pack("{s:s}", "EndpointName", physical);
	case PLUMB_KIND_SCALABLE_TARGET:
		return json_pack("{s:s, s:s, s:s}", "ServiceNamespace", "sagemaker", "ResourceId",
				 physical, "ScalableDimension", SM_VARIANT_DIM);
	case PLUMB_KIND_SCALING_POLICY:
		if (!parent)
			return NULL;
		return json_pack("{s:s, s:s, s:s, s:s}", "PolicyName", physical, "ServiceNamespace",
				 "sagemaker", "ResourceId", parent, "ScalableDimension",
				 SM_VARIANT_DIM);
	case PLUMB_KIND_ALARM: return json_pack("{s:[s]}", "AlarmNames", physical);
	case PLUMB_KIND_TOPIC:
		if (plumb_arn(kind, region, account, physical, arn, sizeof(arn)) != 0)
			return NULL;
		return json_pack("{s:s}", "TopicArn", arn);
	default: return NULL;
	}
}

int plumb__apply_resolve(json_t *v, plumb__apply_ref_fn lookup, void *ctx, char *missing,
			 size_t missingsz)
{
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *item = json_array_get(v, i);
			const char *ref = plumb_ref_marker_target(item);
			if (ref) {
				const char *arn = lookup(ctx, ref);
				if (!arn) {
					plumb_strlcpy(missing, ref, missingsz);
					return PLUMB_ENOENT;
				}
				json_array_set_new(v, i, json_string(arn));
				continue;
			}
			int rc = plumb__apply_resolve(item, lookup, ctx, missing, missingsz);
			if (rc)
				return rc;
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *item;
		json_object_foreach(v, k, item) {
			const char *ref = plumb_ref_marker_target(item);
			if (ref) {
				const char *arn = lookup(ctx, ref);
				if (!arn) {
					plumb_strlcpy(missing, ref, missingsz);
					return PLUMB_ENOENT;
				}
				json_object_set_new(v, k, json_string(arn));
				continue;
			}
			int rc = plumb__apply_resolve(item, lookup, ctx, missing, missingsz);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* The value of tag key in a tag list [{Key, Value}] or map {k: v}; NULL when absent. */
const char *plumb__apply_tag_value(const json_t *tags, const char *key)
{
	if (json_is_object(tags))
		return json_string_value(json_object_get(tags, key));
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		if (k && strcmp(k, key) == 0) {
			const char *v = json_string_value(json_object_get(t, "Value"));
			return v ? v : "";
		}
	}
	return NULL;
}

void plumb__apply_spec_hash(const json_t *action, char out[65])
{
	out[0] = '\0';
	const char *h = json_string_value(json_object_get(action, "spec_hash"));
	if (!h)
		h = plumb__apply_tag_value(json_object_get(json_object_get(action, "input"), "Tags"),
			      PLUMB_TAG_HASH);
	if (!h)
		h = plumb__apply_tag_value(json_object_get(action, "add_tags"), PLUMB_TAG_HASH);
	if (h)
		plumb_strlcpy(out, h, 65);
}

static void redact_container(json_t *c)
{
	json_t *env = json_object_get(c, "Environment");
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v)
		json_object_set_new(env, k, json_string("[redacted]"));
}

json_t *plumb__apply_redact(const json_t *input)
{
	if (!input)
		return NULL;
	json_t *c = json_deep_copy(input);
	if (!c)
		return NULL;
	redact_container(json_object_get(c, "PrimaryContainer"));
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(c, "Containers"), i, item)
		redact_container(item);
	return c;
}

int64_t plumb__apply_backoff(int64_t cur, int64_t base, int64_t cap)
{
	if (base < 1)
		base = 1;
	if (cap < base)
		cap = base;
	int64_t next = cur <= 0 ? base : cur + cur / 2;
	return next > cap ? cap : next;
}

enum plumb__wait_verdict plumb__apply_wait_judge(enum plumb_wait_for w, const char *want_config,
						 bool gone, const json_t *reply, int polls,
						 char *why, size_t whysz)
{
	why[0] = '\0';
	if (w == PLUMB_WAIT_DELETED) {
		if (gone)
			return PLUMB__WAIT_DONE;
		const char *st = json_string_value(json_object_get(reply, "EndpointStatus"));
		if (st && strcmp(st, "Failed") == 0) {
			const char *r = json_string_value(json_object_get(reply, "FailureReason"));
			snprintf(why, whysz, "endpoint is Failed instead of gone: %s",
				 r ? r : "no FailureReason given");
			return PLUMB__WAIT_FAILED;
		}
		return PLUMB__WAIT_CONTINUE;
	}
	if (gone) {
		snprintf(why, whysz, "endpoint does not exist (deleted while waiting for InService)");
		return PLUMB__WAIT_FAILED;
	}
	const char *st = json_string_value(json_object_get(reply, "EndpointStatus"));
	const char *cfg = json_string_value(json_object_get(reply, "EndpointConfigName"));
	const char *reason = json_string_value(json_object_get(reply, "FailureReason"));
	if (!st)
		return PLUMB__WAIT_CONTINUE;
	if (strcmp(st, "InService") == 0) {
		if (!want_config || !*want_config || (cfg && strcasecmp(cfg, want_config) == 0))
			return PLUMB__WAIT_DONE;
		if (!reason && polls < 3)
			return PLUMB__WAIT_CONTINUE; /* the update may not show yet */
		snprintf(why, whysz,
			 "silent rollback: endpoint is InService on %s, not %s: %s",
			 cfg ? cfg : "(no config)", want_config,
			 reason ? reason : "no FailureReason given");
		return PLUMB__WAIT_FAILED;
	}
	if (strcmp(st, "Failed") == 0 || strcmp(st, "UpdateRollbackFailed") == 0 ||
	    strcmp(st, "OutOfService") == 0) {
		snprintf(why, whysz, "endpoint is %s: %s", st,
			 reason ? reason : "no FailureReason given");
		return PLUMB__WAIT_FAILED;
	}
	/* Creating, Updating, SystemUpdating, RollingBack, Deleting, and what AWS adds later */
	return PLUMB__WAIT_CONTINUE;
}

const char *plumb__apply_aws_message(const struct plumb_err *e)
{
	if (!e->aws_code[0])
		return e->msg;
	size_t n = strlen(e->aws_code);
	const char *p = strstr(e->msg, e->aws_code);
	if (p && p[n] == ':' && p[n + 1] == ' ')
		return p + n + 2;
	return e->msg;
}

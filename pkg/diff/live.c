/*
 * The live spec: an observed resource's Describe reply projected onto its kind's spec shape, so
 * that it reads like a desired spec (AWS member names) and can be compared member by member.
 *
 * The projection keeps, recursively, only members the request shape has (struct members by AWS
 * name, every list item, every map entry) and drops plumb's own members. Identity and
 * bookkeeping members fall away because no spec shape has them: ModelName and ModelArn of a
 * model, EndpointConfigName of a config, AlarmName/AlarmArn and the alarm state, PolicyName,
 * PolicyARN, ServiceNamespace, ResourceId and ScalableDimension of a policy, CreationTime
 * everywhere. What the spec shape does carry stays, so both sides are compared alike: a
 * ScalableTarget keeps ResourceId and ScalableDimension, a config's variants keep ModelName.
 *
 * Per kind, beyond the shape:
 *  - Endpoint: DescribeEndpoint gives EndpointConfigName (kept) and LastDeploymentConfig (not a
 *    spec member: DeploymentConfig is how to update, never state), so the live spec of an
 *    endpoint is {"EndpointConfigName": ...};
 *  - Topic: observed->live is the GetTopicAttributes map itself; the live spec is
 *    {"Attributes": {...}} holding only the attributes CreateTopic/SetTopicAttributes accept
 *    (the shape's attribute-name enum), never TopicArn, Owner, counters or
 *    EffectiveDeliveryPolicy.
 * Costs O(size of the reply).
 */
#include "diff/diff.h"
#include "diff/diff_int.h"

#include <string.h>

static json_t *project(const struct plumb_shape *s, const json_t *v)
{
	if (!s)
		return json_deep_copy(v);
	switch (s->type) {
	case PLUMB_T_STRUCT: {
		if (!json_is_object(v))
			return json_deep_copy(v);
		json_t *out = json_object();
		for (size_t i = 0; out && i < s->n_members; i++) {
			const struct plumb_member *m = &s->members[i];
			json_t *mv = m->aws ? json_object_get(v, m->aws) : NULL;
			if (!mv)
				continue;
			json_t *p = project(m->shape, mv);
			if (!p || json_object_set_new(out, m->aws, p) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	case PLUMB_T_LIST: {
		if (!json_is_array(v))
			return json_deep_copy(v);
		json_t *out = json_array();
		for (size_t i = 0; out && i < json_array_size(v); i++) {
			json_t *p = project(s->item, json_array_get(v, i));
			if (!p || json_array_append_new(out, p) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	case PLUMB_T_MAP: {
		if (!json_is_object(v))
			return json_deep_copy(v);
		json_t *out = json_object();
		const char *k;
		json_t *mv;
		json_object_foreach((json_t *)v, k, mv) {
			json_t *p = out ? project(s->item, mv) : NULL;
			if (!p || json_object_set_new(out, k, p) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	default:
		return json_deep_copy(v);
	}
}

static bool in_enum(const char *const *e, const char *s)
{
	for (; e && *e; e++)
		if (strcmp(*e, s) == 0)
			return true;
	return false;
}

/* {"Attributes": {settable attributes}} from the GetTopicAttributes map. */
static json_t *topic_spec(const struct plumb_shape *spec, const json_t *attrs)
{
	const struct plumb_member *m = plumb_shape_member_aws(spec, "Attributes");
	const char *const *names = m && m->shape->key ? m->shape->key->enums : NULL;
	json_t *out = json_object(), *a = json_object();
	if (!out || !a || json_object_set_new(out, "Attributes", a) != 0) {
		json_decref(out);
		return NULL;
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)attrs, k, v) {
		if (!in_enum(names, k))
			continue;
		if (json_object_set(a, k, v) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *plumb_diff_live_spec(const struct plumb_observed *o)
{
	if (!o || !o->live)
		return NULL;
	const struct plumb_kind_info *ki = plumb_kind_info(o->kind);
	if (!ki || !ki->spec)
		return NULL;
	if (o->kind == PLUMB_KIND_TOPIC)
		return topic_spec(ki->spec, o->live);
	return project(ki->spec, o->live);
}

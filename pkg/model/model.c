/*
 * The kind table, shape lookups, reference markers, the canonical form and the spec hash.
 *
 * Canonical form (what the spec hash is taken over): members equal to the AWS default recorded
 * in the shape tables are removed, optional objects left empty are removed, numbers are typed by
 * their shape (so weight 1 and 1.0 are one value), and the text is jansson's compact dump with
 * sorted keys. Costs O(size of spec). Reference markers are hashed as written, so a spec that
 * names a topic by reference hashes the same in every account.
 */
#include "model/model.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct plumb_kind_info kinds[PLUMB_KIND__COUNT] = {
	[PLUMB_KIND_MODEL] = { PLUMB_KIND_MODEL, "Model", NULL, NULL, true, true, 63 },
	[PLUMB_KIND_ENDPOINT_CONFIG] = { PLUMB_KIND_ENDPOINT_CONFIG, "EndpointConfig", NULL, NULL,
					 true, true, 63 },
	[PLUMB_KIND_ENDPOINT] = { PLUMB_KIND_ENDPOINT, "Endpoint", NULL, NULL, false, true, 63 },
	[PLUMB_KIND_SCALABLE_TARGET] = { PLUMB_KIND_SCALABLE_TARGET, "ScalableTarget", NULL, NULL,
					 false, true, 1600 },
	[PLUMB_KIND_SCALING_POLICY] = { PLUMB_KIND_SCALING_POLICY, "ScalingPolicy", NULL, NULL,
					false, false, 256 },
	[PLUMB_KIND_ALARM] = { PLUMB_KIND_ALARM, "Alarm", NULL, NULL, false, true, 255 },
	[PLUMB_KIND_TOPIC] = { PLUMB_KIND_TOPIC, "Topic", NULL, NULL, false, true, 256 },
	[PLUMB_KIND_DEFAULTS] = { PLUMB_KIND_DEFAULTS, "Defaults", NULL, NULL, false, true, 128 },
};

const struct plumb_kind_info *plumb_kind_info(enum plumb_kind k)
{
	static struct plumb_kind_info filled[PLUMB_KIND__COUNT];
	static bool done;
	if (!done) {
		/* the shapes live in generated code; join them to the hand-written facts once */
		for (int i = 0; i < PLUMB_KIND__COUNT; i++) {
			filled[i] = kinds[i];
			filled[i].spec = plumb_gen_spec_shapes[i];
			filled[i].meta = plumb_gen_meta_shapes[i];
		}
		done = true;
	}
	return (unsigned)k < PLUMB_KIND__COUNT ? &filled[k] : NULL;
}

const char *plumb_kind_name(enum plumb_kind k)
{
	return (unsigned)k < PLUMB_KIND__COUNT ? kinds[k].name : "Unknown";
}

int plumb_kind_from_name(const char *name)
{
	for (int i = 0; i < PLUMB_KIND__COUNT; i++)
		if (kinds[i].manifest && strcmp(kinds[i].name, name) == 0)
			return i;
	return -1;
}

const char *plumb_shape_type_name(enum plumb_shape_type t)
{
	switch (t) {
	case PLUMB_T_STRUCT: return "a mapping";
	case PLUMB_T_MAP: return "a mapping";
	case PLUMB_T_LIST: return "a list";
	case PLUMB_T_STRING: return "a string";
	case PLUMB_T_INTEGER: return "an integer";
	case PLUMB_T_DOUBLE: return "a number";
	case PLUMB_T_BOOLEAN: return "a boolean";
	case PLUMB_T_TIMESTAMP: return "a timestamp";
	case PLUMB_T_ACTION: return "an ARN or a reference";
	}
	return "a value";
}

const struct plumb_member *plumb_shape_member(const struct plumb_shape *s, const char *name)
{
	for (size_t i = 0; i < s->n_members; i++)
		if (strcmp(s->members[i].name, name) == 0)
			return &s->members[i];
	return NULL;
}

const struct plumb_member *plumb_shape_member_aws(const struct plumb_shape *s, const char *aws)
{
	for (size_t i = 0; i < s->n_members; i++)
		if (s->members[i].aws && strcmp(s->members[i].aws, aws) == 0)
			return &s->members[i];
	return NULL;
}

json_t *plumb_ref_marker(enum plumb_kind kind, const char *name)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s/%s", plumb_kind_name(kind), name);
	return json_pack("{ss}", "plumb:ref", buf);
}

const char *plumb_ref_marker_target(const json_t *v)
{
	if (!json_is_object(v) || json_object_size(v) != 1)
		return NULL;
	return json_string_value(json_object_get(v, "plumb:ref"));
}

/* A default stored as JSON text equals v when both parse to the same JSON value, with numbers
 * compared as numbers (1 == 1.0). */
static bool equals_default(const char *dflt, const json_t *v)
{
	json_t *d = json_loads(dflt, JSON_DECODE_ANY, NULL);
	bool eq = false;
	if (d) {
		if (json_is_number(d) && json_is_number(v))
			eq = json_number_value(d) == json_number_value(v);
		else
			eq = json_equal(d, v);
		json_decref(d);
	}
	return eq;
}

static json_t *canon(const struct plumb_shape *s, const json_t *v)
{
	if (!s || plumb_ref_marker_target(v))
		return json_deep_copy(v);
	switch (s->type) {
	case PLUMB_T_STRUCT: {
		if (!json_is_object(v))
			return json_deep_copy(v);
		json_t *out = json_object();
		const char *k;
		json_t *mv;
		json_object_foreach((json_t *)v, k, mv) {
			const struct plumb_member *m = plumb_shape_member_aws(s, k);
			if (m && m->dflt && !(m->flags & PLUMB_M_REQUIRED) && equals_default(m->dflt, mv))
				continue;
			json_t *c = canon(m ? m->shape : NULL, mv);
			if (m && !(m->flags & PLUMB_M_REQUIRED) && json_is_object(c) &&
			    json_object_size(c) == 0 && m->shape->type == PLUMB_T_STRUCT) {
				json_decref(c);
				continue;
			}
			json_object_set_new(out, k, c);
		}
		return out;
	}
	case PLUMB_T_LIST: {
		if (!json_is_array(v))
			return json_deep_copy(v);
		json_t *out = json_array();
		size_t i;
		json_t *iv;
		json_array_foreach(v, i, iv)
			json_array_append_new(out, canon(s->item, iv));
		return out;
	}
	case PLUMB_T_MAP: {
		if (!json_is_object(v))
			return json_deep_copy(v);
		json_t *out = json_object();
		const char *k;
		json_t *mv;
		json_object_foreach((json_t *)v, k, mv)
			json_object_set_new(out, k, canon(s->item, mv));
		return out;
	}
	case PLUMB_T_DOUBLE:
		if (json_is_number(v))
			return json_real(json_number_value(v));
		return json_deep_copy(v);
	case PLUMB_T_INTEGER:
		if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)))
			return json_integer((json_int_t)json_real_value(v));
		return json_deep_copy(v);
	default:
		return json_deep_copy(v);
	}
}

json_t *plumb_canonical(enum plumb_kind kind, const json_t *spec)
{
	const struct plumb_kind_info *ki = plumb_kind_info(kind);
	return canon(ki ? ki->spec : NULL, spec);
}

char *plumb_canonical_text(enum plumb_kind kind, const json_t *spec)
{
	json_t *c = plumb_canonical(kind, spec);
	if (!c)
		return NULL;
	/* 17 significant digits round-trip any double, so equal values print equally */
	char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17) |
				    JSON_ENCODE_ANY);
	json_decref(c);
	return s;
}

int plumb_spec_hash(enum plumb_kind kind, const json_t *spec, char out[65])
{
	/* an endpoint's DeploymentConfig is how to update, never state: CreateEndpoint is sent
	 * without it, DescribeEndpoint does not show it, diff never compares it; left out, the
	 * hash describes what AWS holds, and an exported endpoint reads back to it */
	json_t *own = NULL;
	if (kind == PLUMB_KIND_ENDPOINT && json_object_get(spec, "DeploymentConfig")) {
		if (!(own = json_copy((json_t *)spec)))
			return PLUMB_ENOMEM;
		json_object_del(own, "DeploymentConfig");
		spec = own;
	}
	char *s = plumb_canonical_text(kind, spec);
	json_decref(own);
	if (!s)
		return PLUMB_ENOMEM;
	uint8_t d[32];
	plumb_sha256(s, strlen(s), d);
	plumb_hex(d, 32, out);
	free(s);
	return 0;
}

void plumb_resource_free(struct plumb_resource *r)
{
	if (!r)
		return;
	json_decref(r->spec);
	json_decref(r->tags);
	plumb_vec_release(&r->deps);
}

int64_t plumb_parse_duration(const char *s)
{
	if (!*s)
		return -1;
	bool all_digits = true;
	for (const char *p = s; *p; p++)
		all_digits &= isdigit((unsigned char)*p) != 0;
	if (all_digits)
		return strlen(s) > 12 ? -1 : strtoll(s, NULL, 10);
	/* h, m, s in that order, each at most once */
	static const struct { char unit; int64_t mul; } units[] = { { 'h', 3600 }, { 'm', 60 },
								   { 's', 1 } };
	int64_t total = 0;
	size_t u = 0;
	const char *p = s;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		int64_t n = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			if (++digits > 9)
				return -1;
			n = n * 10 + (*p++ - '0');
		}
		while (u < PLUMB_ARRAY_LEN(units) && units[u].unit != *p)
			u++;
		if (u == PLUMB_ARRAY_LEN(units))
			return -1;
		total += n * units[u].mul;
		u++;
		p++;
	}
	return total;
}

struct plumb_resource *plumb_resource_dep(const struct plumb_resource *r, enum plumb_kind k)
{
	for (size_t i = 0; i < r->deps.len; i++) {
		struct plumb_resource *x = r->deps.items[i];
		if (x->kind == k)
			return x;
	}
	return NULL;
}

const char *plumb_resource_parent(const struct plumb_resource *r)
{
	if (r->kind != PLUMB_KIND_SCALING_POLICY)
		return NULL;
	const struct plumb_resource *t = plumb_resource_dep(r, PLUMB_KIND_SCALABLE_TARGET);
	if (!t)
		return NULL;
	return t->physical ? t->physical : json_string_value(json_object_get(t->spec, "ResourceId"));
}

/* The partition of a region: ARNs of China and GovCloud regions differ. */
static const char *partition(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	if (strncmp(region, "us-iso-", 7) == 0)
		return "aws-iso";
	if (strncmp(region, "us-isob-", 8) == 0)
		return "aws-iso-b";
	return "aws";
}

int plumb_arn(enum plumb_kind kind, const char *region, const char *account,
	      const char *physical, char *out, size_t outsz)
{
	if (!region || !account || !physical || !*physical)
		return -1;
	const char *part = partition(region);
	const char *type = NULL;
	switch (kind) {
	case PLUMB_KIND_MODEL: type = "model"; break;
	case PLUMB_KIND_ENDPOINT_CONFIG: type = "endpoint-config"; break;
	case PLUMB_KIND_ENDPOINT: type = "endpoint"; break;
	case PLUMB_KIND_ALARM:
		return snprintf(out, outsz, "arn:%s:cloudwatch:%s:%s:alarm:%s", part, region,
				account, physical) < (int)outsz ? 0 : -1;
	case PLUMB_KIND_TOPIC:
		return snprintf(out, outsz, "arn:%s:sns:%s:%s:%s", part, region, account,
				physical) < (int)outsz ? 0 : -1;
	default:
		return -1;
	}
	/* SageMaker ARNs carry the name lower-cased (reference §6.0) */
	int n = snprintf(out, outsz, "arn:%s:sagemaker:%s:%s:%s/", part, region, account, type);
	if (n < 0 || (size_t)n + strlen(physical) >= outsz)
		return -1;
	for (size_t i = 0; physical[i]; i++) {
		char c = physical[i];
		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = '\0';
	return 0;
}

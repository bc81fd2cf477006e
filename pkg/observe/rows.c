/*
 * pkg/observe/rows.c — the pure half of a pass: list items to rows, ARNs to what they name, and
 * the "has it moved since the cache" decision. No I/O; unit-tested in tests/observe.
 *
 * Times: JSON services send epoch seconds as numbers with a fraction, Query services ISO-8601
 * strings; both become integer milliseconds (rounded), so that a value read twice from the same
 * service compares equal and a moved resource is never missed by float noise.
 */
#include "observe/observe_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int plumb__observe_arn_parse(const char *arn, enum plumb_kind *kind, const char **name)
{
	/* arn:partition:service:region:account:resource */
	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return PLUMB_ENOENT;
	const char *f[6];
	const char *p = arn;
	f[0] = arn;
	for (int i = 1; i < 6; i++) {
		p = strchr(p, ':');
		if (!p)
			return PLUMB_ENOENT;
		f[i] = ++p;
	}
	const char *svc = f[2];
	size_t svclen = (size_t)(f[3] - f[2] - 1);
	const char *res = f[5];
#define SVC_IS(s) (svclen == sizeof(s) - 1 && strncmp(svc, s, svclen) == 0)
	static const struct {
		const char *prefix;
		enum plumb_kind kind;
	} sm[] = {
		{ "model/", PLUMB_KIND_MODEL },
		{ "endpoint-config/", PLUMB_KIND_ENDPOINT_CONFIG },
		{ "endpoint/", PLUMB_KIND_ENDPOINT },
	};
	if (SVC_IS("sagemaker")) {
		for (size_t i = 0; i < PLUMB_ARRAY_LEN(sm); i++) {
			size_t n = strlen(sm[i].prefix);
			if (strncmp(res, sm[i].prefix, n) == 0 && res[n]) {
				*kind = sm[i].kind;
				*name = res + n;
				return 0;
			}
		}
		return PLUMB_ENOENT;
	}
	if (SVC_IS("cloudwatch") && strncmp(res, "alarm:", 6) == 0 && res[6]) {
		*kind = PLUMB_KIND_ALARM;
		*name = res + 6; /* alarm names may hold ':' themselves */
		return 0;
	}
	if (SVC_IS("sns") && *res && !strchr(res, ':')) {
		*kind = PLUMB_KIND_TOPIC;
		*name = res;
		return 0;
	}
	if (SVC_IS("application-autoscaling") && strncmp(res, "scalable-target/", 16) == 0 &&
	    res[16]) {
		*kind = PLUMB_KIND_SCALABLE_TARGET;
		*name = res + 16;
		return 0;
	}
#undef SVC_IS
	return PLUMB_ENOENT;
}

int64_t plumb__observe_time_ms(const json_t *v)
{
	if (json_is_number(v)) {
		double s = json_number_value(v);
		if (!isfinite(s) || s < 0 || s > 1e13)
			return 0;
		return (int64_t)llround(s * 1000.0);
	}
	int64_t ms = 0;
	if (json_is_string(v) && plumb_time_parse_iso8601(json_string_value(v), &ms) == 0)
		return ms;
	return 0;
}

json_t *plumb__observe_tags_object(const json_t *tags)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (json_is_object(tags)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)tags, k, v)
			if (json_is_string(v) && json_object_set(o, k, v) != 0)
				goto fail;
		return o;
	}
	if (!json_is_array(tags))
		goto fail;
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));
		if (k && json_object_set_new(o, k, json_string(v ? v : "")) != 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* Where each kind keeps its identity and times in a list item. */
static const struct item_shape {
	const char *name;     /* member holding the name (Topic: derived from the ARN) */
	const char *parent;   /* member holding the parent, or NULL */
	const char *arn;      /* member holding the ARN */
	const char *created;  /* creation time member, or NULL */
	const char *modified; /* modification time member, or NULL */
	const char *status;   /* status member, or NULL */
} shapes[PLUMB_KIND__COUNT] = {
	[PLUMB_KIND_MODEL] = { "ModelName", NULL, "ModelArn", "CreationTime", NULL, NULL },
	[PLUMB_KIND_ENDPOINT_CONFIG] = { "EndpointConfigName", NULL, "EndpointConfigArn",
					 "CreationTime", NULL, NULL },
	[PLUMB_KIND_ENDPOINT] = { "EndpointName", NULL, "EndpointArn", "CreationTime",
				  "LastModifiedTime", "EndpointStatus" },
	[PLUMB_KIND_SCALABLE_TARGET] = { "ResourceId", NULL, "ScalableTargetARN", "CreationTime",
					 NULL, NULL },
	[PLUMB_KIND_SCALING_POLICY] = { "PolicyName", "ResourceId", "PolicyARN", "CreationTime",
					NULL, NULL },
	[PLUMB_KIND_ALARM] = { "AlarmName", NULL, "AlarmArn", NULL,
			       "AlarmConfigurationUpdatedTimestamp", NULL },
	[PLUMB_KIND_TOPIC] = { NULL, NULL, "TopicArn", NULL, NULL, NULL },
};

static int set_str(char **dst, const char *s)
{
	if (!s)
		return 0;
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : PLUMB_ENOMEM;
}

int plumb__observe_from_item(enum plumb_kind kind, const char *region, const json_t *item,
			     struct plumb_observed **out)
{
	*out = NULL;
	if ((unsigned)kind >= PLUMB_KIND__COUNT || kind == PLUMB_KIND_DEFAULTS ||
	    !json_is_object(item))
		return 0;
	const struct item_shape *sh = &shapes[kind];
	const char *arn = json_string_value(json_object_get(item, sh->arn));
	const char *name;
	if (kind == PLUMB_KIND_TOPIC) {
		const char *colon = arn ? strrchr(arn, ':') : NULL;
		name = colon ? colon + 1 : NULL;
	} else {
		name = json_string_value(json_object_get(item, sh->name));
	}
	const char *parent = sh->parent ? json_string_value(json_object_get(item, sh->parent)) : NULL;
	if (!name || !*name || (sh->parent && !parent))
		return 0;
	struct plumb_observed *o = plumb_observed_new(kind, region, name, parent);
	if (!o)
		return PLUMB_ENOMEM;
	if (set_str(&o->arn, arn) ||
	    (sh->status && set_str(&o->status, json_string_value(json_object_get(item, sh->status))))) {
		plumb_observed_free(o);
		return PLUMB_ENOMEM;
	}
	if (sh->created)
		o->created_ms = plumb__observe_time_ms(json_object_get(item, sh->created));
	if (sh->modified)
		o->modified_ms = plumb__observe_time_ms(json_object_get(item, sh->modified));
	*out = o;
	return 0;
}

void plumb__observe_take_describe(struct plumb_observed *o, const json_t *reply)
{
	const struct item_shape *sh = &shapes[o->kind];
	int64_t t;
	if (sh->created && (t = plumb__observe_time_ms(json_object_get(reply, sh->created))) != 0)
		o->created_ms = t;
	if (sh->modified && (t = plumb__observe_time_ms(json_object_get(reply, sh->modified))) != 0)
		o->modified_ms = t;
	if (sh->status) {
		const char *st = json_string_value(json_object_get(reply, sh->status));
		if (st) {
			char *c = strdup(st);
			if (c) { /* keep the listed status when out of memory */
				free(o->status);
				o->status = c;
			}
		}
	}
}

bool plumb__observe_described_kind(enum plumb_kind kind)
{
	return kind == PLUMB_KIND_MODEL || kind == PLUMB_KIND_ENDPOINT_CONFIG ||
	       kind == PLUMB_KIND_ENDPOINT || kind == PLUMB_KIND_TOPIC;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool plumb__observe_moved(const struct plumb_observed *cached, const struct plumb_observed *listed)
{
	if (!cached || !cached->live)
		return true;
	switch (listed->kind) {
	case PLUMB_KIND_MODEL:
	case PLUMB_KIND_ENDPOINT_CONFIG:
		return cached->created_ms != listed->created_ms;
	case PLUMB_KIND_ENDPOINT:
		return cached->created_ms != listed->created_ms ||
		       cached->modified_ms != listed->modified_ms ||
		       !same_str(cached->status, listed->status);
	default:
		return false;
	}
}

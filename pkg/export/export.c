/*
 * plumb export's pure core: which live resources belong to the asked endpoints, their manifest
 * names, the spelling of each spec that hashes like the live plumb:spec-hash tag, references in
 * place of names and ARNs, YAML through libyaml's emitter, and a parse-back check of the result
 * through pkg/manifest. See export.h for the rules; docs/export.md for the user's view.
 *
 * Costs: O(resources) to select and name; per resource a few candidate spellings are hashed
 * (at most 1 + n + n(n-1)/2 + ... up to three left-out members, n the live spec's top-level
 * members, and only when the first spelling misses a known hash).
 */
#include "export/export.h"

#include "diff/diff.h"
#include "manifest/manifest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ------------------------------------------------------------------ items */

/* One exported resource. */
struct item {
	const struct plumb_observed *o; /* the live resource */
	enum plumb_kind kind;           /* its kind */
	const char *name;               /* manifest name (policies: the policy name) */
	struct item *endpoint;          /* Endpoint: itself; others: the stack's endpoint, NULL when
					 * several stacks use it */
	int stacks;                     /* how many stacks use it */
	const char *variant;            /* ScalableTarget, Alarm: the variant named */
	struct item *target;            /* ScalingPolicy: its scalable target */
	json_t *spec;                   /* chosen spec, AWS names, markers (owned) */
	char hash[65];                  /* its hash */
	const char *pin;                /* Model/EndpointConfig: exact name kept by annotation */
	bool emitted;                   /* written into a file */
};

struct ctx {
	struct plumb_export *x;
	const struct plumb_observed_set *have;
	const struct plumb_export_opts *opts;
	struct plumb_vec items;   /* struct item * */
	struct plumb_map by_key;  /* "Kind|physical(lower for SageMaker)|parent" -> item */
	struct plumb_map by_arn;  /* ARN -> item (topics, policies) */
	const char *prefix;       /* Defaults namePrefix, "" when none */
	bool building;            /* plumb_export_build (warnings are collected) */
};

static bool sagemaker_kind(enum plumb_kind k)
{
	return k == PLUMB_KIND_MODEL || k == PLUMB_KIND_ENDPOINT_CONFIG || k == PLUMB_KIND_ENDPOINT;
}

static char *key_of(struct ctx *c, enum plumb_kind k, const char *name, const char *parent)
{
	char *key = plumb_arena_printf(&c->x->arena, "%s|%s|%s", plumb_kind_name(k), name,
				       parent ? parent : "");
	if (key && sagemaker_kind(k))
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return key;
}

static void warn(struct ctx *c, const char *fmt, ...) PLUMB_PRINTF(2, 3);

static struct item *find_item(struct ctx *c, enum plumb_kind k, const char *name,
			      const char *parent)
{
	if (!name)
		return NULL;
	char *key = key_of(c, k, name, parent);
	return key ? plumb_map_get(&c->by_key, key) : NULL;
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool in_region(const struct ctx *c, const struct plumb_observed *o)
{
	return strcmp(o->region, c->opts->region) == 0;
}

/* The observed resource of kind and physical name in the region, or NULL. */
static const struct plumb_observed *live(const struct ctx *c, enum plumb_kind k, const char *name,
					 const char *parent)
{
	return name ? plumb_observed_find(c->have, k, c->opts->region, name, parent) : NULL;
}

/* The topic name of an SNS ARN in our region and account, else NULL (points into arn). */
static const char *topic_of_arn(const struct ctx *c, const char *arn)
{
	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return NULL;
	const char *p = arn;
	const char *part[6];
	size_t n = 0;
	part[n++] = p;
	while (n < 6 && (p = strchr(p, ':')))
		part[n++] = ++p;
	if (n < 6 || strncmp(part[2], "sns:", 4) != 0)
		return NULL;
	size_t rl = strlen(c->opts->region);
	if (strncmp(part[3], c->opts->region, rl) != 0 || part[3][rl] != ':')
		return NULL;
	return part[5];
}

/* ------------------------------------------------------------------ closure */

struct closure {
	struct ctx *c;
	struct plumb_vec need;  /* struct plumb_export_need * */
	struct plumb_map seen;  /* key -> marker */
	bool complete;
};

/* Records that the resource is to be described (once). */
static void want(struct closure *cl, const char *key, enum plumb_kind k, const char *name,
		 const char *parent)
{
	struct ctx *c = cl->c;
	if (plumb_map_get(&cl->seen, key))
		return;
	plumb_map_put(&cl->seen, key, cl);
	struct plumb_export_need *nd = plumb_arena_zalloc(&c->x->arena, sizeof(*nd));
	if (!nd)
		return;
	nd->kind = k;
	nd->name = plumb_arena_strdup(&c->x->arena, name);
	nd->parent = parent ? plumb_arena_strdup(&c->x->arena, parent) : NULL;
	plumb_vec_push(&cl->need, nd);
}

/* Adds the resource to the closure (and to the items when it is described). */
static struct item *take(struct closure *cl, enum plumb_kind k, const char *name,
			 const char *parent, struct item *stack)
{
	struct ctx *c = cl->c;
	if (!name)
		return NULL;
	char *key = key_of(c, k, name, parent);
	if (!key)
		return NULL;
	struct item *it = plumb_map_get(&c->by_key, key);
	if (it) {
		if (stack && it->endpoint != stack && it->kind != PLUMB_KIND_ENDPOINT) {
			if (it->endpoint || it->stacks == 0)
				it->stacks++;
			it->endpoint = NULL;
		}
		return it;
	}
	want(cl, key, k, name, parent);
	const struct plumb_observed *o = live(c, k, name, parent);
	if (!o) {
		/* gone (a model deleted under its config): the name stays as written */
		if (c->building)
			warn(c, "%s %s is used by %s but does not exist: the export names it as AWS "
				"does, and plan will want to create it", plumb_kind_name(k), name,
			     stack ? stack->o->name : "an exported resource");
		return NULL;
	}
	if (!o->live) {
		cl->complete = false;
		return NULL;
	}
	it = plumb_arena_zalloc(&c->x->arena, sizeof(*it));
	if (!it)
		return NULL;
	it->o = o;
	it->kind = k;
	it->endpoint = stack;
	it->stacks = 1;
	plumb_map_put(&c->by_key, key, it);
	plumb_vec_push(&c->items, it);
	if (o->arn)
		plumb_map_put(&c->by_arn, o->arn, it);
	if (k == PLUMB_KIND_TOPIC) {
		/* the ARN alarms and configs name it by (the observed one, or the attribute) */
		const char *arn = str(o->live, "TopicArn");
		if (arn)
			plumb_map_put(&c->by_arn, arn, it);
		char made[600];
		if (c->opts->account &&
		    plumb_arn(k, c->opts->region, c->opts->account, o->name, made, sizeof(made)) == 0)
			plumb_map_put(&c->by_arn, plumb_arena_strdup(&c->x->arena, made), it);
	}
	if (k == PLUMB_KIND_SCALING_POLICY) {
		const char *arn = str(o->live, "PolicyARN");
		if (arn)
			plumb_map_put(&c->by_arn, arn, it);
	}
	return it;
}

static void take_topic_arn(struct closure *cl, const char *arn, struct item *stack)
{
	const char *t = topic_of_arn(cl->c, arn);
	if (t)
		take(cl, PLUMB_KIND_TOPIC, t, NULL, stack);
}

static bool variant_of(const char *rid, const char *ep, const char **variant)
{
	size_t n = strlen(ep);
	if (strncmp(rid, "endpoint/", 9) != 0 || strncasecmp(rid + 9, ep, n) != 0 ||
	    strncmp(rid + 9 + n, "/variant/", 9) != 0)
		return false;
	*variant = rid + 9 + n + 9;
	return true;
}

/* Does the alarm watch endpoint ep (its EndpointName dimension)? */
static bool alarm_watches(const json_t *alarm, const char *ep, const char **variant)
{
	bool hit = false;
	*variant = NULL;
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(alarm, "Dimensions"), i, d) {
		const char *n = str(d, "Name"), *v = str(d, "Value");
		if (n && v && strcmp(n, "EndpointName") == 0 && strcasecmp(v, ep) == 0)
			hit = true;
		else if (n && v && strcmp(n, "VariantName") == 0)
			*variant = v;
	}
	return hit;
}

static const char *const action_lists[] = { "OKActions", "AlarmActions", "InsufficientDataActions" };

static void close_endpoint(struct closure *cl, struct item *ep)
{
	struct ctx *c = cl->c;
	const char *epn = ep->o->name;
	const json_t *el = ep->o->live;
	struct item *cfg = take(cl, PLUMB_KIND_ENDPOINT_CONFIG, str(el, "EndpointConfigName"), NULL,
				ep);
	if (cfg) {
		static const char *const lists[] = { "ProductionVariants", "ShadowProductionVariants" };
		for (size_t l = 0; l < PLUMB_ARRAY_LEN(lists); l++) {
			size_t i;
			json_t *v;
			json_array_foreach(json_object_get(cfg->o->live, lists[l]), i, v)
				take(cl, PLUMB_KIND_MODEL, str(v, "ModelName"), NULL, ep);
		}
		json_t *nc = json_object_get(json_object_get(json_object_get(
			json_object_get(cfg->o->live, "AsyncInferenceConfig"), "OutputConfig"),
			"NotificationConfig"), "SuccessTopic");
		take_topic_arn(cl, json_string_value(nc), ep);
		nc = json_object_get(json_object_get(json_object_get(
			json_object_get(cfg->o->live, "AsyncInferenceConfig"), "OutputConfig"),
			"NotificationConfig"), "ErrorTopic");
		take_topic_arn(cl, json_string_value(nc), ep);
	}
	/* rollback alarms of the last deployment */
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(json_object_get(json_object_get(el,
			"LastDeploymentConfig"), "AutoRollbackConfiguration"), "Alarms"), i, a)
		take(cl, PLUMB_KIND_ALARM, str(a, "AlarmName"), NULL, ep);
	/* scalable targets on its variants, and their policies */
	for (size_t k = 0; k < c->have->items.len; k++) {
		const struct plumb_observed *o = c->have->items.items[k];
		const char *variant;
		if (!in_region(c, o))
			continue;
		if (o->kind == PLUMB_KIND_SCALABLE_TARGET && variant_of(o->name, epn, &variant)) {
			struct item *t = take(cl, o->kind, o->name, NULL, ep);
			if (t)
				t->variant = variant;
		} else if (o->kind == PLUMB_KIND_SCALING_POLICY && o->parent &&
			   variant_of(o->parent, epn, &variant)) {
			take(cl, o->kind, o->name, o->parent, ep);
		}
	}
	/* alarms on its dimensions, or fired by its policies */
	for (size_t k = 0; k < c->have->items.len; k++) {
		const struct plumb_observed *o = c->have->items.items[k];
		if (o->kind != PLUMB_KIND_ALARM || !in_region(c, o) ||
		    strncmp(o->name, "TargetTracking-", 15) == 0)
			continue;
		char *key = key_of(c, o->kind, o->name, NULL);
		if (key)
			want(cl, key, o->kind, o->name, NULL); /* its list entry tells, once wanted */
		if (!o->live)
			continue;
		const char *variant;
		bool mine = alarm_watches(o->live, epn, &variant);
		for (size_t l = 0; !mine && l < PLUMB_ARRAY_LEN(action_lists); l++) {
			size_t j;
			json_t *act;
			json_array_foreach(json_object_get(o->live, action_lists[l]), j, act) {
				struct item *p = json_string_value(act)
							 ? plumb_map_get(&c->by_arn, json_string_value(act))
							 : NULL;
				if (p && p->kind == PLUMB_KIND_SCALING_POLICY && p->endpoint == ep)
					mine = true;
			}
		}
		if (!mine)
			continue;
		struct item *al = take(cl, o->kind, o->name, NULL, ep);
		if (!al)
			continue;
		for (size_t l = 0; l < PLUMB_ARRAY_LEN(action_lists); l++) {
			size_t j;
			json_t *act;
			json_array_foreach(json_object_get(o->live, action_lists[l]), j, act)
				take_topic_arn(cl, json_string_value(act), ep);
		}
	}
}

static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->items.len; i++)
		json_decref(((struct item *)c->items.items[i])->spec);
	plumb_vec_release(&c->items);
	plumb_map_release(&c->by_key);
	plumb_map_release(&c->by_arn);
}

/* Runs the closure into c->items; fills x->needs, x->complete, x->missing. */
static int closure(struct ctx *c, struct plumb_err *err)
{
	struct plumb_export *x = c->x;
	struct closure cl = { .c = c, .complete = true };
	x->missing.len = 0;
	struct plumb_vec eps = PLUMB_VEC_INIT;
	if (c->opts->nendpoints) {
		for (size_t i = 0; i < c->opts->nendpoints; i++) {
			const char *n = c->opts->endpoints[i];
			const struct plumb_observed *o = live(c, PLUMB_KIND_ENDPOINT, n, NULL);
			if (!o) {
				plumb_vec_push(&x->missing, plumb_arena_strdup(&x->arena, n));
				continue;
			}
			plumb_vec_push(&eps, (void *)o);
		}
	} else {
		for (size_t i = 0; i < c->have->items.len; i++) {
			const struct plumb_observed *o = c->have->items.items[i];
			if (o->kind == PLUMB_KIND_ENDPOINT && in_region(c, o))
				plumb_vec_push(&eps, (void *)o);
		}
	}
	/* endpoints first, so that each stack's items know their endpoint */
	struct plumb_vec stacks = PLUMB_VEC_INIT;
	for (size_t i = 0; i < eps.len; i++) {
		const struct plumb_observed *o = eps.items[i];
		struct item *ep = take(&cl, PLUMB_KIND_ENDPOINT, o->name, NULL, NULL);
		if (ep) {
			ep->endpoint = ep;
			plumb_vec_push(&stacks, ep);
		}
	}
	/* two rounds: alarms fired by policies need the policies taken first */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < stacks.len; i++)
			close_endpoint(&cl, stacks.items[i]);
	plumb_vec_release(&eps);
	plumb_vec_release(&stacks);
	plumb_map_release(&cl.seen);
	x->needs = cl.need;
	x->complete = cl.complete;
	(void)err;
	return 0;
}

/* ------------------------------------------------------------------ names */

static const char *tag(const struct item *it, const char *k)
{
	return plumb_observed_tag(it->o, k);
}

/* The manifest name plumb:id records when it is of this kind, else NULL. */
static const char *id_name(const struct item *it)
{
	const char *id = tag(it, PLUMB_TAG_ID);
	const char *k = plumb_kind_name(it->kind);
	size_t n = strlen(k);
	if (!id || strncmp(id, k, n) != 0 || id[n] != '/' || !id[n + 1])
		return NULL;
	return id + n + 1;
}

static bool hex8(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return s[8] == '\0';
}

/* The Defaults prefix a plumb-made resource's physical name shows, or NULL. */
static char *prefix_of(struct ctx *c, const struct item *it)
{
	const char *n = id_name(it);
	if (!n || it->kind == PLUMB_KIND_SCALING_POLICY || it->kind == PLUMB_KIND_SCALABLE_TARGET)
		return NULL;
	const char *phys = it->o->name;
	size_t pl = strlen(phys), nl = strlen(n);
	if (plumb_kind_info(it->kind)->immutable) {
		if (pl < nl + 9 || phys[pl - 9] != '-' || !hex8(phys + pl - 8) ||
		    strncmp(phys + pl - 9 - nl, n, nl) != 0)
			return NULL;
		return plumb_arena_strndup(&c->x->arena, phys, pl - 9 - nl);
	}
	if (pl < nl || strcmp(phys + pl - nl, n) != 0)
		return NULL;
	return plumb_arena_strndup(&c->x->arena, phys, pl - nl);
}

static void warn(struct ctx *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < c->x->warnings.len; i++)
		if (strcmp(c->x->warnings.items[i], buf) == 0)
			return;
	plumb_vec_push(&c->x->warnings, plumb_arena_strdup(&c->x->arena, buf));
}

/* The name for a mutable kind (Endpoint, Alarm, Topic): plumb:id, else the physical name less
 * the prefix. */
static void name_mutable(struct ctx *c, struct item *it)
{
	const char *n = id_name(it);
	const char *phys = it->o->name;
	size_t pl = strlen(c->prefix);
	if (n && strlen(phys) >= strlen(n) && strncmp(phys, c->prefix, pl) == 0 &&
	    strcmp(phys + pl, n) == 0) {
		it->name = n;
	} else if (strncmp(phys, c->prefix, pl) == 0 && phys[pl]) {
		it->name = phys + pl;
	} else {
		it->name = phys;
		warn(c, "%s %s does not start with the name prefix \"%s\": its manifest would name "
			"%s%s", plumb_kind_name(it->kind), phys, c->prefix, c->prefix, phys);
	}
}

static void name_target(struct ctx *c, struct item *it)
{
	const char *n = id_name(it);
	if (n) {
		it->name = n;
		return;
	}
	size_t same = 0;
	for (size_t i = 0; i < c->items.len; i++) {
		const struct item *o = c->items.items[i];
		same += o->kind == PLUMB_KIND_SCALABLE_TARGET && o->endpoint == it->endpoint;
	}
	const char *ep = it->endpoint ? it->endpoint->name : "target";
	it->name = same > 1 ? plumb_arena_printf(&c->x->arena, "%s-%s", ep, it->variant) : ep;
}

/* ------------------------------------------------------------------ specs */

/* Replaces known ARNs (topics, policies) in alarm action lists by markers; drops empty lists. */
static void mark_actions(struct ctx *c, json_t *spec, bool refs)
{
	for (size_t l = 0; l < PLUMB_ARRAY_LEN(action_lists); l++) {
		json_t *list = json_object_get(spec, action_lists[l]);
		if (!list)
			continue;
		if (json_array_size(list) == 0) {
			json_object_del(spec, action_lists[l]);
			continue;
		}
		size_t i;
		json_t *a;
		json_array_foreach(list, i, a) {
			struct item *t = refs && json_string_value(a)
						 ? plumb_map_get(&c->by_arn, json_string_value(a))
						 : NULL;
			if (!t || !t->name)
				continue;
			json_t *m;
			if (t->kind == PLUMB_KIND_TOPIC) {
				m = plumb_ref_marker(PLUMB_KIND_TOPIC, t->name);
			} else if (t->kind == PLUMB_KIND_SCALING_POLICY && t->target && t->target->name) {
				char pn[700];
				snprintf(pn, sizeof(pn), "%s/%s", t->target->name, t->name);
				m = plumb_ref_marker(PLUMB_KIND_SCALING_POLICY, pn);
			} else {
				continue;
			}
			json_array_set_new(list, i, m);
		}
	}
}

/* Drops members that are empty lists or objects (absent = empty for plumb's diff). */
static void drop_empty(json_t *spec)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(spec, tmp, k, v) {
		if ((json_is_array(v) && json_array_size(v) == 0) ||
		    (json_is_object(v) && json_object_size(v) == 0))
			json_object_del(spec, k);
	}
}

static bool default_topic_policy(const char *policy)
{
	json_t *p = policy ? json_loads(policy, 0, NULL) : NULL;
	bool dflt = p && strcmp(str(p, "Id") ? str(p, "Id") : "", "__default_policy_ID") == 0 &&
		    json_array_size(json_object_get(p, "Statement")) == 1 &&
		    strcmp(str(json_array_get(json_object_get(p, "Statement"), 0), "Sid")
				   ? str(json_array_get(json_object_get(p, "Statement"), 0), "Sid")
				   : "",
			   "__default_statement_ID") == 0;
	json_decref(p);
	return dflt;
}

/*
 * The spec as the manifest set would resolve it, in one spelling: refs true puts markers for
 * exported topics and policies (what {topicRef}/{policyRef} and successTopicRef resolve to),
 * false keeps the ARNs as written.
 */
static json_t *spelling(struct ctx *c, struct item *it, bool refs)
{
	json_t *s = plumb_diff_live_spec(it->o);
	if (!s)
		return NULL;
	switch (it->kind) {
	case PLUMB_KIND_ENDPOINT_CONFIG: {
		json_t *nc = json_object_get(json_object_get(json_object_get(s,
				"AsyncInferenceConfig"), "OutputConfig"), "NotificationConfig");
		static const char *const keys[] = { "SuccessTopic", "ErrorTopic" };
		for (size_t i = 0; refs && nc && i < 2; i++) {
			struct item *t = plumb_map_get(&c->by_arn, str(nc, keys[i]) ? str(nc, keys[i])
										  : "");
			if (t && t->kind == PLUMB_KIND_TOPIC && t->name)
				json_object_set_new(nc, keys[i],
						    plumb_ref_marker(PLUMB_KIND_TOPIC, t->name));
		}
		break;
	}
	case PLUMB_KIND_ENDPOINT: {
		/* DescribeEndpoint shows the deployment config of the last deployment only */
		json_t *dc = json_object_get(it->o->live, "LastDeploymentConfig");
		const struct plumb_member *m =
			plumb_shape_member_aws(plumb_kind_info(PLUMB_KIND_ENDPOINT)->spec,
					       "DeploymentConfig");
		if (dc && m) {
			struct plumb_observed tmp = *it->o;
			json_t *wrap = json_pack("{s:O}", "DeploymentConfig", dc);
			tmp.live = wrap;
			json_t *p = plumb_diff_live_spec(&tmp);
			json_decref(wrap);
			if (p && json_object_get(p, "DeploymentConfig"))
				json_object_set(s, "DeploymentConfig", json_object_get(p, "DeploymentConfig"));
			json_decref(p);
		}
		break;
	}
	case PLUMB_KIND_SCALABLE_TARGET: {
		const char *role = str(s, "RoleARN");
		if (role && strstr(role, ":role/aws-service-role/"))
			json_object_del(s, "RoleARN");
		break;
	}
	case PLUMB_KIND_ALARM:
		mark_actions(c, s, refs);
		break;
	case PLUMB_KIND_TOPIC: {
		json_t *a = json_object_get(s, "Attributes");
		if (default_topic_policy(str(a, "Policy")))
			json_object_del(a, "Policy");
		break;
	}
	default:
		break;
	}
	drop_empty(s);
	return s;
}

/* Does the spec hash to want (64 hex), or start with it (8 hex of a name suffix)? */
static bool hash_is(enum plumb_kind k, const json_t *s, const char *want, char out[65])
{
	if (plumb_spec_hash(k, s, out) != 0)
		return false;
	return want && strncmp(out, want, strlen(want)) == 0;
}

/* Tries the spec with up to three of its members left out (Topic: attributes). */
static json_t *search(const json_t *base, enum plumb_kind k, const char *want, char out[65])
{
	bool topic = k == PLUMB_KIND_TOPIC;
	const json_t *obj = topic ? json_object_get(base, "Attributes") : base;
	const char *keys[32];
	size_t n = 0;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		if (n < PLUMB_ARRAY_LEN(keys))
			keys[n++] = key;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a; b <= n; b++)
			for (size_t d = b; d <= n; d++) {
				if ((b == a && b < n) || (d == b && d < n))
					continue; /* each subset once: a < b < d, or b/d = n for none */
				json_t *s = json_deep_copy(base);
				json_t *o = topic ? json_object_get(s, "Attributes") : s;
				json_object_del(o, keys[a]);
				if (b < n)
					json_object_del(o, keys[b]);
				if (d < n)
					json_object_del(o, keys[d]);
				if (hash_is(k, s, want, out))
					return s;
				json_decref(s);
			}
	return NULL;
}

/* Chooses the spec: the spelling whose hash is the live tag's (or the name suffix's). */
static void choose_spec(struct ctx *c, struct item *it, const char *want)
{
	json_t *refs = spelling(c, it, true), *lit = spelling(c, it, false);
	json_t *chosen = NULL;
	if (refs && (!want || hash_is(it->kind, refs, want, it->hash)))
		chosen = json_incref(refs);
	else if (lit && hash_is(it->kind, lit, want, it->hash))
		chosen = json_incref(lit);
	if (!chosen && refs)
		chosen = search(refs, it->kind, want, it->hash);
	if (!chosen && lit)
		chosen = search(lit, it->kind, want, it->hash);
	if (!chosen && refs) {
		chosen = json_incref(refs);
		plumb_spec_hash(it->kind, chosen, it->hash);
		if (want && strlen(want) == 64)
			warn(c, "%s %s: no spelling of the live spec hashes to its plumb:spec-hash tag "
				"(a member AWS does not describe, such as an endpoint's deploymentConfig, "
				"was set): plan will re-tag it",
			     plumb_kind_name(it->kind), it->o->name);
	}
	json_decref(refs);
	json_decref(lit);
	it->spec = chosen;
	if (!it->spec || plumb_spec_hash(it->kind, it->spec, it->hash) != 0)
		it->hash[0] = '\0';
}

/* Model / EndpointConfig: the name from plumb:id or the hash suffix, else a pin. */
static void name_immutable(struct ctx *c, struct item *it)
{
	const char *phys = it->o->name;
	const char *n = id_name(it);
	const char *th = tag(it, PLUMB_TAG_HASH);
	size_t pl = strlen(phys), prl = strlen(c->prefix);
	const char *suffix = pl > 9 && phys[pl - 9] == '-' && hex8(phys + pl - 8) ? phys + pl - 8
										  : NULL;
	choose_spec(c, it, th && strlen(th) == 64 ? th : suffix);
	bool fits = suffix && strncmp(it->hash, suffix, 8) == 0 && strncmp(phys, c->prefix, prl) == 0 &&
		    pl > prl + 9;
	if (fits && n && strlen(n) == pl - prl - 9 && strncmp(phys + prl, n, pl - prl - 9) == 0) {
		it->name = n;
	} else if (fits) {
		it->name = plumb_arena_strndup(&c->x->arena, phys + prl, pl - prl - 9);
	} else {
		/* not a name plumb makes from this spec: keep it exactly */
		it->pin = phys;
		it->name = n ? n : (strncmp(phys, c->prefix, prl) == 0 && phys[prl] ? phys + prl : phys);
	}
}

/* ------------------------------------------------------------------ manifest form */

static struct item *item_by_physical(struct ctx *c, enum plumb_kind k, const char *phys)
{
	return find_item(c, k, phys, NULL);
}

/* AWS-named JSON -> manifest-named JSON, with references where the target is exported. */
static json_t *to_manifest(struct ctx *c, const struct plumb_shape *s, const json_t *v)
{
	const char *target = plumb_ref_marker_target(v);
	if (target) {
		bool policy = strncmp(target, "ScalingPolicy/", 14) == 0;
		return json_pack("{s:s}", policy ? "policyRef" : "topicRef", strchr(target, '/') + 1);
	}
	if (!s)
		return json_deep_copy(v);
	if (s->type == PLUMB_T_STRUCT && json_is_object(v)) {
		json_t *out = json_object();
		for (size_t i = 0; i < s->n_members; i++) {
			const struct plumb_member *m = &s->members[i];
			json_t *mv = m->aws ? json_object_get(v, m->aws) : NULL;
			if (!mv)
				continue;
			/* a reference twin of this member? */
			const struct plumb_member *ref = NULL;
			for (size_t j = 0; j < s->n_members; j++)
				if (!s->members[j].aws && s->members[j].ref_kind >= 0 &&
				    s->members[j].ref_fills && strcmp(s->members[j].ref_fills, m->aws) == 0 &&
				    s->members[j].ref_kind != PLUMB_KIND_ENDPOINT)
					ref = &s->members[j];
			if (ref) {
				const char *t = plumb_ref_marker_target(mv);
				struct item *ti = !t && json_is_string(mv)
							  ? item_by_physical(c, (enum plumb_kind)ref->ref_kind,
									     json_string_value(mv))
							  : NULL;
				if (t) {
					json_object_set_new(out, ref->name, json_string(strchr(t, '/') + 1));
					continue;
				}
				if (ti && ti->name) {
					json_object_set_new(out, ref->name, json_string(ti->name));
					continue;
				}
			}
			json_object_set_new(out, m->name, to_manifest(c, m->shape, mv));
		}
		return out;
	}
	if (s->type == PLUMB_T_LIST && json_is_array(v)) {
		json_t *out = json_array();
		size_t i;
		json_t *iv;
		json_array_foreach(v, i, iv)
			json_array_append_new(out, to_manifest(c, s->item, iv));
		return out;
	}
	if (s->type == PLUMB_T_MAP && json_is_object(v)) {
		json_t *out = json_object();
		const char *k;
		json_t *mv;
		json_object_foreach((json_t *)v, k, mv)
			json_object_set_new(out, k, to_manifest(c, s->item, mv));
		return out;
	}
	return json_deep_copy(v);
}

/* The document's spec in manifest form (NULL for policies: they go into their target). */
static json_t *manifest_spec(struct ctx *c, struct item *it)
{
	const struct plumb_shape *shape = plumb_kind_info(it->kind)->spec;
	json_t *canon = plumb_canonical(it->kind, it->spec);
	if (!canon)
		return NULL;
	json_t *out = to_manifest(c, shape, canon);
	json_decref(canon);
	if (!out)
		return NULL;
	if (it->kind == PLUMB_KIND_SCALABLE_TARGET) {
		const char *rid = str(it->spec, "ResourceId");
		const char *variant;
		if (it->endpoint && rid && variant_of(rid, it->endpoint->o->name, &variant)) {
			json_t *o2 = json_object();
			json_object_set_new(o2, "endpointRef", json_string(it->endpoint->name));
			json_object_set_new(o2, "variantName", json_string(variant));
			json_object_del(out, "resourceId");
			json_object_update(o2, out);
			json_decref(out);
			out = o2;
		}
		json_t *pols = json_array();
		for (size_t i = 0; i < c->items.len; i++) {
			struct item *p = c->items.items[i];
			if (p->kind != PLUMB_KIND_SCALING_POLICY || p->target != it || !p->spec)
				continue;
			json_t *pc = plumb_canonical(PLUMB_KIND_SCALING_POLICY, p->spec);
			json_t *pm = pc ? to_manifest(c, &plumb_gen_policy_shape, pc) : NULL;
			json_decref(pc);
			if (!pm)
				continue;
			json_t *item = json_pack("{s:s}", "name", p->name);
			json_object_update(item, pm);
			json_decref(pm);
			json_array_append_new(pols, item);
			p->emitted = true;
		}
		if (json_array_size(pols))
			json_object_set_new(out, "policies", pols);
		else
			json_decref(pols);
	} else if (it->kind == PLUMB_KIND_ALARM) {
		/* dimensions of an exported endpoint (and variant) -> endpointRef (+ variantName) */
		json_t *dims = json_object_get(it->spec, "Dimensions");
		const char *epn = NULL, *var = NULL;
		size_t i, other = 0;
		json_t *d;
		json_array_foreach(dims, i, d) {
			const char *n = str(d, "Name");
			if (n && strcmp(n, "EndpointName") == 0)
				epn = str(d, "Value");
			else if (n && strcmp(n, "VariantName") == 0)
				var = str(d, "Value");
			else
				other++;
		}
		struct item *ep = epn ? item_by_physical(c, PLUMB_KIND_ENDPOINT, epn) : NULL;
		/* the manifest writes EndpointName then VariantName: only that order hashes alike */
		const char *first = str(json_array_get(dims, 0), "Name");
		bool in_order = first && strcmp(first, "EndpointName") == 0;
		if (ep && !other && in_order) {
			json_t *o2 = json_object();
			json_object_set_new(o2, "endpointRef", json_string(ep->name));
			if (var)
				json_object_set_new(o2, "variantName", json_string(var));
			json_object_del(out, "dimensions");
			json_object_update(o2, out);
			json_decref(out);
			out = o2;
		}
	}
	return out;
}

/* ------------------------------------------------------------------ YAML */

struct emit {
	yaml_emitter_t em;
	struct plumb_buf *out;
	bool failed;
};

static int write_cb(void *data, unsigned char *buffer, size_t size)
{
	struct emit *e = data;
	return plumb_buf_add(e->out, buffer, size) == 0;
}

static void ev(struct emit *e, yaml_event_t *event)
{
	if (!e->failed && !yaml_emitter_emit(&e->em, event))
		e->failed = true;
}

/* A string that YAML 1.2 core (or a YAML 1.1 reader) would read as another type is quoted. */
static bool plain_is_string(const char *s)
{
	static const char *const words[] = { "", "~", "null", "Null", "NULL", "true", "True", "TRUE",
					     "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No",
					     "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "n" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(words); i++)
		if (strcmp(s, words[i]) == 0)
			return false;
	char *end;
	(void)strtod(s, &end);
	if (end != s && *end == '\0')
		return false;
	return s[0] != '.' && !(s[0] == '0' && s[1]) && strpbrk(s, "\n") == NULL;
}

static void scalar(struct emit *e, const char *s, bool plain_ok)
{
	yaml_event_t event;
	yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), plain_ok,
				     1, plain_ok ? YAML_ANY_SCALAR_STYLE
							 : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	ev(e, &event);
}

static void map_start(struct emit *e, bool flow)
{
	yaml_event_t event;
	yaml_mapping_start_event_initialize(&event, NULL, NULL, 1,
					    flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
	ev(e, &event);
}

static void map_end(struct emit *e)
{
	yaml_event_t event;
	yaml_mapping_end_event_initialize(&event);
	ev(e, &event);
}

/* Emits manifest-named JSON; s (may be NULL) gives the member order. */
static void emit_value(struct emit *e, const struct plumb_shape *s, const json_t *v)
{
	yaml_event_t event;
	char num[64];
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		bool ref = json_object_size(v) == 1 &&
			   (json_object_get(v, "topicRef") || json_object_get(v, "policyRef"));
		map_start(e, ref);
		const char *k;
		json_t *mv;
		if (s && s->type == PLUMB_T_STRUCT) {
			for (size_t i = 0; i < s->n_members; i++) {
				const struct plumb_member *m = &s->members[i];
				if (!(mv = json_object_get(v, m->name)))
					continue;
				scalar(e, m->name, true);
				emit_value(e, m->shape, mv);
			}
			json_object_foreach((json_t *)v, k, mv) {
				if (plumb_shape_member(s, k))
					continue;
				scalar(e, k, true);
				emit_value(e, NULL, mv);
			}
		} else {
			json_object_foreach((json_t *)v, k, mv) {
				scalar(e, k, plain_is_string(k));
				emit_value(e, s ? s->item : NULL, mv);
			}
		}
		map_end(e);
		break;
	}
	case JSON_ARRAY: {
		yaml_sequence_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		ev(e, &event);
		size_t i;
		json_t *iv;
		json_array_foreach(v, i, iv)
			emit_value(e, s ? s->item : NULL, iv);
		yaml_sequence_end_event_initialize(&event);
		ev(e, &event);
		break;
	}
	case JSON_STRING:
		scalar(e, json_string_value(v), plain_is_string(json_string_value(v)));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		scalar(e, num, true);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		if (!strpbrk(num, ".e")) {
			size_t l = strlen(num);
			snprintf(num + l, sizeof(num) - l, ".0");
		}
		scalar(e, num, true);
		break;
	case JSON_TRUE:
		scalar(e, "true", true);
		break;
	case JSON_FALSE:
		scalar(e, "false", true);
		break;
	default:
		scalar(e, "null", true);
		break;
	}
}

/* One document: kind, metadata (name, tags, annotations), spec. */
static void emit_doc(struct emit *e, enum plumb_kind k, const json_t *meta, const json_t *spec)
{
	yaml_event_t event;
	yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 0);
	ev(e, &event);
	map_start(e, false);
	scalar(e, "apiVersion", true);
	scalar(e, "plumb/v1", true);
	scalar(e, "kind", true);
	scalar(e, plumb_kind_name(k), true);
	scalar(e, "metadata", true);
	emit_value(e, plumb_kind_info(k)->meta, meta);
	scalar(e, "spec", true);
	emit_value(e, plumb_kind_info(k)->spec, spec);
	map_end(e);
	yaml_document_end_event_initialize(&event, 1);
	ev(e, &event);
}

/* ------------------------------------------------------------------ files */

static json_t *user_tags(const struct item *it, const json_t *common)
{
	json_t *t = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(it->o->tags, k, v) {
		if (strncmp(k, "plumb:", 6) == 0 || strncasecmp(k, "aws:", 4) == 0)
			continue;
		json_t *cv = json_object_get(common, k);
		if (cv && json_equal(cv, v))
			continue;
		json_object_set(t, k, v);
	}
	return t;
}

struct file {
	const char *name;
	struct plumb_buf buf;
	struct emit e;
	unsigned docs;
};

static int file_open(struct file *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->e.out = &f->buf;
	if (!yaml_emitter_initialize(&f->e.em))
		return PLUMB_ENOMEM;
	yaml_emitter_set_output(&f->e.em, write_cb, &f->e);
	yaml_emitter_set_unicode(&f->e.em, 1);
	yaml_emitter_set_width(&f->e.em, 100);
	yaml_event_t event;
	yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
	ev(&f->e, &event);
	return 0;
}

static int file_close(struct plumb_export *x, struct file *f)
{
	yaml_event_t event;
	yaml_stream_end_event_initialize(&event);
	ev(&f->e, &event);
	yaml_emitter_flush(&f->e.em);
	yaml_emitter_delete(&f->e.em);
	if (f->e.failed || f->docs == 0) {
		plumb_buf_release(&f->buf);
		return f->e.failed ? PLUMB_EINTERNAL : 0;
	}
	struct plumb_export_file *out = plumb_arena_zalloc(&x->arena, sizeof(*out));
	if (!out) {
		plumb_buf_release(&f->buf);
		return PLUMB_ENOMEM;
	}
	out->name = f->name;
	out->docs = f->docs;
	out->yaml = plumb_buf_detach(&f->buf, &out->len);
	return plumb_vec_push(&x->files, out);
}

static const enum plumb_kind doc_order[] = {
	PLUMB_KIND_TOPIC, PLUMB_KIND_MODEL, PLUMB_KIND_ENDPOINT_CONFIG, PLUMB_KIND_ENDPOINT,
	PLUMB_KIND_SCALABLE_TARGET, PLUMB_KIND_ALARM,
};

static void emit_item(struct ctx *c, struct file *f, struct item *it, const json_t *common)
{
	json_t *spec = manifest_spec(c, it);
	json_t *meta = json_object();
	json_object_set_new(meta, "name", json_string(it->name));
	json_t *t = user_tags(it, common);
	if (json_object_size(t))
		json_object_set(meta, "tags", t);
	json_decref(t);
	if (it->pin) {
		json_object_set_new(meta, "annotations",
				    json_pack("{s:s,s:s}", "plumb/physical-name", it->pin,
					      "plumb/spec-hash", it->hash));
	}
	emit_doc(&f->e, it->kind, meta, spec ? spec : json_object());
	json_decref(meta);
	json_decref(spec);
	it->emitted = true;
	f->docs++;
	c->x->counts[it->kind]++;
	if (it->kind == PLUMB_KIND_SCALABLE_TARGET)
		for (size_t i = 0; i < c->items.len; i++) {
			struct item *p = c->items.items[i];
			c->x->counts[PLUMB_KIND_SCALING_POLICY] += p->kind == PLUMB_KIND_SCALING_POLICY &&
								   p->target == it;
		}
}

static void emit_stack(struct ctx *c, struct file *f, struct item *ep, const json_t *common)
{
	for (size_t k = 0; k < PLUMB_ARRAY_LEN(doc_order); k++)
		for (size_t i = 0; i < c->items.len; i++) {
			struct item *it = c->items.items[i];
			if (it->kind == doc_order[k] && !it->emitted &&
			    (ep ? it->endpoint == ep : it->endpoint == NULL))
				emit_item(c, f, it, common);
		}
}

/* Tags every resource (but policies) carries with the same value. */
static json_t *common_tags(struct ctx *c)
{
	json_t *common = NULL;
	for (size_t i = 0; i < c->items.len; i++) {
		const struct item *it = c->items.items[i];
		if (it->kind == PLUMB_KIND_SCALING_POLICY)
			continue;
		if (!common) {
			common = json_object();
			const char *k;
			json_t *v;
			json_object_foreach(it->o->tags, k, v)
				if (strncmp(k, "plumb:", 6) != 0 && strncasecmp(k, "aws:", 4) != 0)
					json_object_set(common, k, v);
			continue;
		}
		const char *k;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(common, tmp, k, v) {
			json_t *w = json_object_get(it->o->tags, k);
			if (!w || !json_equal(v, w))
				json_object_del(common, k);
		}
	}
	return common ? common : json_object();
}

/* The one owner every owned resource names, or NULL (none owned, or several owners). */
static const char *sole_owner(struct ctx *c, bool *several)
{
	const char *owner = NULL;
	*several = false;
	for (size_t i = 0; i < c->items.len; i++) {
		const struct item *it = c->items.items[i];
		const char *o = it->kind == PLUMB_KIND_SCALING_POLICY ? NULL : tag(it, PLUMB_TAG_OWNER);
		if (!o)
			continue;
		if (owner && strcmp(owner, o) != 0)
			*several = true;
		else
			owner = o;
	}
	return *several ? NULL : owner;
}

/* ------------------------------------------------------------------ parse-back check */

static void check_round_trip(struct ctx *c)
{
	struct plumb_manifest_set set;
	plumb_manifest_init(&set);
	for (size_t i = 0; i < c->x->files.len; i++) {
		const struct plumb_export_file *f = c->x->files.items[i];
		char path[600];
		snprintf(path, sizeof(path), "export/%s", f->name);
		plumb_manifest_add(&set, path, f->yaml, f->len);
	}
	plumb_manifest_finish(&set);
	for (size_t i = 0; i < set.diags.len; i++) {
		const struct plumb_diag *d = set.diags.items[i];
		if (d->sev == PLUMB_SEV_ERROR)
			warn(c, "%s:%u: the export does not validate: %s: %s",
			     d->loc.file ? d->loc.file : "export", d->loc.line, d->path, d->msg);
	}
	for (size_t i = 0; !plumb_manifest_errors(&set) && i < c->items.len; i++) {
		const struct item *it = c->items.items[i];
		if (it->kind == PLUMB_KIND_SCALING_POLICY || !it->emitted)
			continue;
		const struct plumb_resource *r = plumb_manifest_find(&set, it->kind, it->name);
		const char *th = tag(it, PLUMB_TAG_HASH);
		if (!r)
			warn(c, "%s/%s is missing from the export", plumb_kind_name(it->kind), it->name);
		else if (!r->physical || strcasecmp(r->physical, it->o->name) != 0)
			warn(c, "%s/%s would be named %s, not %s", plumb_kind_name(it->kind), it->name,
			     r->physical ? r->physical : "?", it->o->name);
		else if (th && strcmp(th, r->hash) != 0 && strlen(th) == 64 &&
			 strcmp(th, it->hash) == 0)
			warn(c, "%s/%s hashes differently once read back (%.8s, live %.8s)",
			     plumb_kind_name(it->kind), it->name, r->hash, th);
	}
	plumb_manifest_release(&set);
}

/* ------------------------------------------------------------------ public */

void plumb_export_init(struct plumb_export *x)
{
	memset(x, 0, sizeof(*x));
}

void plumb_export_release(struct plumb_export *x)
{
	for (size_t i = 0; i < x->files.len; i++)
		free(((struct plumb_export_file *)x->files.items[i])->yaml);
	plumb_vec_release(&x->files);
	plumb_vec_release(&x->needs);
	plumb_vec_release(&x->missing);
	plumb_vec_release(&x->warnings);
	plumb_arena_release(&x->arena);
	memset(x, 0, sizeof(*x));
}

int plumb_export_select(struct plumb_export *x, const struct plumb_observed_set *have,
			const struct plumb_export_opts *opts, struct plumb_err *err)
{
	if (!opts->region)
		return plumb_err_set(err, PLUMB_EINVAL, "export needs a region");
	struct ctx c = { .x = x, .have = have, .opts = opts, .prefix = "" };
	plumb_vec_release(&x->needs);
	int rc = closure(&c, err);
	ctx_release(&c);
	return rc;
}

int plumb_export_build(struct plumb_export *x, const struct plumb_observed_set *have,
		       const struct plumb_export_opts *opts, struct plumb_err *err)
{
	if (!opts->region)
		return plumb_err_set(err, PLUMB_EINVAL, "export needs a region");
	struct ctx c = { .x = x, .have = have, .opts = opts, .prefix = "", .building = true };
	plumb_vec_release(&x->needs);
	int rc = closure(&c, err);
	if (rc == 0 && x->missing.len) {
		struct plumb_buf b = PLUMB_BUF_INIT;
		for (size_t i = 0; i < x->missing.len; i++)
			plumb_buf_addf(&b, "%s%s", i ? ", " : "", (const char *)x->missing.items[i]);
		rc = plumb_err_set(err, PLUMB_ENOENT, "no endpoint named %s in %s%s%s", b.buf,
				   opts->region, opts->account ? " of account " : "",
				   opts->account ? opts->account : "");
		plumb_buf_release(&b);
	}
	if (rc) {
		ctx_release(&c);
		return rc;
	}
	/* policies know their targets; the prefix comes from the first plumb-made resource */
	for (size_t i = 0; i < c.items.len; i++) {
		struct item *it = c.items.items[i];
		if (it->kind == PLUMB_KIND_SCALING_POLICY) {
			it->target = find_item(&c, PLUMB_KIND_SCALABLE_TARGET, it->o->parent, NULL);
			it->name = it->o->name;
			if (it->target) {
				it->endpoint = it->target->endpoint;
				it->stacks = it->target->stacks;
			}
		}
		char *p = prefix_of(&c, it);
		if (p && !*c.prefix)
			c.prefix = p;
	}
	for (size_t i = 0; i < c.items.len; i++) {
		char *p = prefix_of(&c, c.items.items[i]);
		if (p && strcmp(p, c.prefix) != 0)
			warn(&c, "%s %s was made under the name prefix \"%s\", not \"%s\": export the "
				 "stacks of each prefix into directories of their own",
			     plumb_kind_name(((struct item *)c.items.items[i])->kind),
			     ((struct item *)c.items.items[i])->o->name, p, c.prefix);
	}
	/* names: mutable kinds first (markers name them), then specs and the hash-named kinds */
	static const enum plumb_kind pass1[] = { PLUMB_KIND_ENDPOINT, PLUMB_KIND_TOPIC,
						 PLUMB_KIND_ALARM, PLUMB_KIND_SCALABLE_TARGET };
	for (size_t k = 0; k < PLUMB_ARRAY_LEN(pass1); k++)
		for (size_t i = 0; i < c.items.len; i++) {
			struct item *it = c.items.items[i];
			if (it->kind != pass1[k])
				continue;
			if (it->kind == PLUMB_KIND_SCALABLE_TARGET)
				name_target(&c, it);
			else
				name_mutable(&c, it);
		}
	static const enum plumb_kind pass2[] = { PLUMB_KIND_MODEL, PLUMB_KIND_ENDPOINT_CONFIG,
						 PLUMB_KIND_ENDPOINT, PLUMB_KIND_TOPIC,
						 PLUMB_KIND_ALARM, PLUMB_KIND_SCALABLE_TARGET,
						 PLUMB_KIND_SCALING_POLICY };
	for (size_t k = 0; k < PLUMB_ARRAY_LEN(pass2); k++)
		for (size_t i = 0; i < c.items.len; i++) {
			struct item *it = c.items.items[i];
			if (it->kind != pass2[k])
				continue;
			if (plumb_kind_info(it->kind)->immutable) {
				name_immutable(&c, it);
			} else if (it->kind == PLUMB_KIND_SCALING_POLICY) {
				it->spec = plumb_diff_live_spec(it->o);
			} else {
				const char *th = tag(it, PLUMB_TAG_HASH);
				choose_spec(&c, it, th && strlen(th) == 64 ? th : NULL);
			}
		}
	/* files: Defaults, one per stack, then what several stacks share */
	json_t *common = common_tags(&c);
	bool several;
	const char *owner = sole_owner(&c, &several);
	if (several)
		warn(&c, "the exported resources belong to several plumb owners: Defaults names none, "
			 "so plan runs as $PLUMB_OWNER; export each owner's stacks on their own");
	struct file f;
	if ((rc = file_open(&f, "defaults.yaml")) != 0)
		goto out;
	json_t *dspec = json_object();
	json_object_set_new(dspec, "region", json_string(opts->region));
	if (opts->account)
		json_object_set_new(dspec, "accountId", json_string(opts->account));
	if (owner)
		json_object_set_new(dspec, "owner", json_string(owner));
	if (*c.prefix)
		json_object_set_new(dspec, "namePrefix", json_string(c.prefix));
	if (json_object_size(common))
		json_object_set(dspec, "tags", common);
	json_t *dmeta = json_pack("{s:s}", "name", "export");
	emit_doc(&f.e, PLUMB_KIND_DEFAULTS, dmeta, dspec);
	f.docs++;
	json_decref(dmeta);
	json_decref(dspec);
	if ((rc = file_close(x, &f)) != 0)
		goto out;
	for (size_t i = 0; i < c.items.len; i++) {
		struct item *ep = c.items.items[i];
		if (ep->kind != PLUMB_KIND_ENDPOINT)
			continue;
		const char *fn = plumb_arena_printf(&x->arena, "%s.yaml", ep->name);
		if ((rc = file_open(&f, fn)) != 0)
			goto out;
		emit_stack(&c, &f, ep, common);
		if ((rc = file_close(x, &f)) != 0)
			goto out;
	}
	if ((rc = file_open(&f, "shared.yaml")) != 0)
		goto out;
	emit_stack(&c, &f, NULL, common);
	if ((rc = file_close(x, &f)) != 0)
		goto out;
	check_round_trip(&c);
out:
	json_decref(common);
	ctx_release(&c);
	if (rc)
		return plumb_err_set(err, rc, "cannot build the export: %s", plumb_code_name(rc));
	return 0;
}

/*
 * pkg/plan/build.c — a diff turned into an ordered DAG of actions.
 *
 * Owns: the actions of a plan (their inputs, tag sets and dependency lists), the summary counts,
 * and plumb_plan_init/_release/_build/_has_changes.
 *
 * How a plan is built, in four passes over the diff's changes (docs/plan-format.md lists the
 * rules as the user sees them):
 *  1. choreography: every endpoint change that calls UpdateEndpoint (or replaces the endpoint)
 *     looks for live scalable targets of ours on its variants (targets listed by the diff, any
 *     change type but CREATE and CONFLICT: an unchanged target is still registered). A target
 *     is in the way when the old config's variant has another instance type than the new one's,
 *     or the new config drops the variant (AWS refuses such an UpdateEndpoint, reference §11.2),
 *     or the endpoint is replaced. Such a target, its live policies and the alarms that name
 *     those policies get a role: deregistered before, registered again after the update.
 *  2. generation: each change's actions, in the diff's order (desired order, then deletes).
 *  3. wiring: dependencies from the desired resources' references (an action waits for the last
 *     action of every resource it references: the WAIT InService for endpoints), from the
 *     choreography, and from the reverse order of deletes (alarms, policies, targets, endpoint +
 *     wait, configs, models, topics), found through what the live resources name.
 *  4. ordering: a topological sort that keeps generation order among ready actions, so the list
 *     reads like the manifests; ids are positions in that list.
 *
 * An endpoint's live status counts too: one still settling (Creating, Updating, SystemUpdating,
 * RollingBack: a run killed before its own wait) gets a WAIT InService, which its dependants and
 * its UpdateEndpoint wait for; a Failed one that should change is deleted and created again
 * (AWS takes only DeleteEndpoint then), with the choreography of a replace.
 *
 * Tags of an updated resource change through a TAG action after the update, never through the
 * update call: most update calls ignore tags (PutMetricAlarm and RegisterScalableTarget on an
 * existing resource) or have none, so one rule serves every kind. The rejected alternative,
 * add_tags/remove_tags on the UPDATE action, would make apply special-case every kind. An
 * endpoint's TAG waits for its WAIT InService, so a silent rollback leaves the old spec hash.
 *
 * Where the old config comes from: the endpoint's live EndpointConfigName, looked up among the
 * diff's EndpointConfig changes that carry a live resource (a superseded DELETE in a rollover,
 * or any other). When it is not there (not ours, not observed) the old variants are unknown and
 * every live target of the endpoint is choreographed: deregistering needlessly costs a few
 * calls, an UpdateEndpoint that AWS refuses costs the whole pass. The rejected alternative,
 * guessing from DescribeEndpoint's variant summaries, misses the instance type on older APIs.
 *
 * Costs: O(changes + actions) for generation; the delete rules compare deletes pairwise and the
 * choreography scans the changes once per updated endpoint, so O(n^2) in the worst case, which
 * for thousands of resources is still milliseconds. Everything a plan holds comes from its arena
 * except the jansson values and the dependency vectors, which plumb_plan_release frees.
 */
#include "plan/plan.h"
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEADLINE_CREATE_S 3600  /* SDK waiter: 120 tries x 30 s */
#define DEADLINE_UPDATE_S 3600  /* the same, plus what the deployment config adds */
#define DEADLINE_DELETED_S 1800 /* SDK waiter: 60 tries x 30 s */
#define AAS_NAMESPACE "sagemaker"
#define DEFAULT_DIMENSION "sagemaker:variant:DesiredInstanceCount"
#define WHY_REFUSES "AWS refuses UpdateEndpoint while it is registered"

enum role {
	ROLE_NONE,
	ROLE_REREGISTER, /* scalable target: deregistered before the endpoint update, then registered */
	ROLE_REPUT,      /* scaling policy: deleted before, put again after (new ARN) */
	ROLE_REPOINT,    /* alarm naming such a policy: put again with the new ARN */
};

struct chg;

/* One action while the DAG is built; plan->actions hold &pub. */
struct act {
	struct plumb_action pub;           /* first member: what the plan shows */
	struct chg *refs_from;             /* waits for this change's referenced resources, or NULL */
	const struct plumb_observed *have; /* the live resource a delete removes, or NULL */
	size_t seq;                        /* creation order: breaks ties in the sort */
	bool del_rule;                     /* takes part in the reverse order of deletes */
	size_t indeg;                      /* sort: dependencies not yet listed */
	struct plumb_vec users;            /* sort: struct act * that depend on this one */
};

/* What the planner knows of one change. */
struct chg {
	const struct plumb_change *c; /* the change */
	struct act *first;            /* its first action, or NULL */
	struct act *last;             /* the action dependants wait for (an endpoint's wait) */
	enum role role;               /* part of an endpoint's choreography, or ROLE_NONE */
	struct chg *ep;               /* ... of this endpoint change */
	const char *why;              /* ... for this reason */
	struct plumb_vec pols;        /* alarm with ROLE_REPOINT: struct chg * of policies it names */
	/* endpoint changes */
	struct plumb_vec targets;     /* struct chg *: live targets moved out of the way */
	struct plumb_vec pre;         /* struct act *: policy deletes and deregisters before main */
	struct act *main;             /* UpdateEndpoint, or the DeleteEndpoint of a replace */
};

struct ctx {
	struct plumb_plan *p;               /* the plan being built */
	const struct plumb_diff *d;         /* its diff */
	const struct plumb_plan_opts *opts; /* owner, account */
	struct chg *chgs;                   /* one per d->changes item, same order */
	size_t n;                           /* d->changes.len */
	struct plumb_map by_name;           /* "Kind/name" -> struct chg *, changes with a want */
	struct plumb_map targets;           /* "region|ResourceId" -> struct chg * of targets */
	struct plumb_vec acts;              /* struct act *, creation order */
	int rc;                             /* first failure (PLUMB_ENOMEM), 0 while all is well */
};

/* ------------------------------------------------------------------ names */

const char *plumb_action_type_name(enum plumb_action_type t)
{
	switch (t) {
	case PLUMB_ACTION_CREATE: return "create";
	case PLUMB_ACTION_UPDATE: return "update";
	case PLUMB_ACTION_DELETE: return "delete";
	case PLUMB_ACTION_TAG: return "tag";
	case PLUMB_ACTION_WAIT: return "wait";
	}
	return "?";
}

const char *plumb__plan_wait_name(enum plumb_wait_for w)
{
	switch (w) {
	case PLUMB_WAIT_IN_SERVICE: return "in_service";
	case PLUMB_WAIT_DELETED: return "deleted";
	case PLUMB_WAIT_NONE: break;
	}
	return NULL;
}

const char *plumb__plan_operation(const struct plumb_action *a)
{
	static const char *const create[PLUMB_KIND__COUNT] = {
		[PLUMB_KIND_MODEL] = "CreateModel",
		[PLUMB_KIND_ENDPOINT_CONFIG] = "CreateEndpointConfig",
		[PLUMB_KIND_ENDPOINT] = "CreateEndpoint",
		[PLUMB_KIND_SCALABLE_TARGET] = "RegisterScalableTarget",
		[PLUMB_KIND_SCALING_POLICY] = "PutScalingPolicy",
		[PLUMB_KIND_ALARM] = "PutMetricAlarm",
		[PLUMB_KIND_TOPIC] = "CreateTopic",
	};
	static const char *const update[PLUMB_KIND__COUNT] = {
		[PLUMB_KIND_ENDPOINT] = "UpdateEndpoint",
		[PLUMB_KIND_SCALABLE_TARGET] = "RegisterScalableTarget",
		[PLUMB_KIND_SCALING_POLICY] = "PutScalingPolicy",
		[PLUMB_KIND_ALARM] = "PutMetricAlarm",
		[PLUMB_KIND_TOPIC] = "SetTopicAttributes",
	};
	static const char *const del[PLUMB_KIND__COUNT] = {
		[PLUMB_KIND_MODEL] = "DeleteModel",
		[PLUMB_KIND_ENDPOINT_CONFIG] = "DeleteEndpointConfig",
		[PLUMB_KIND_ENDPOINT] = "DeleteEndpoint",
		[PLUMB_KIND_SCALABLE_TARGET] = "DeregisterScalableTarget",
		[PLUMB_KIND_SCALING_POLICY] = "DeleteScalingPolicy",
		[PLUMB_KIND_ALARM] = "DeleteAlarms",
		[PLUMB_KIND_TOPIC] = "DeleteTopic",
	};
	if ((unsigned)a->kind >= PLUMB_KIND__COUNT)
		return NULL;
	switch (a->type) {
	case PLUMB_ACTION_CREATE: return create[a->kind];
	case PLUMB_ACTION_UPDATE: return update[a->kind];
	case PLUMB_ACTION_DELETE: return del[a->kind];
	case PLUMB_ACTION_WAIT: return "DescribeEndpoint";
	case PLUMB_ACTION_TAG: break;
	}
	return NULL;
}

bool plumb__plan_lists_change(const struct plumb_plan *p, const struct plumb_change *c)
{
	if (c->type != PLUMB_CHANGE_NONE)
		return true;
	for (size_t i = 0; i < p->actions.len; i++)
		if (((const struct plumb_action *)p->actions.items[i])->change == c)
			return true;
	return false;
}

/* ------------------------------------------------------------------ small helpers */

static const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static bool same_region(const struct plumb_change *a, const struct plumb_change *b)
{
	return (!a->region && !b->region) || str_eq(a->region, b->region);
}

/* SageMaker names compare case-insensitively (reference §6.0). */
static bool sm_eq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static const json_t *spec_of(const struct plumb_change *c)
{
	return c->spec ? c->spec : c->want ? c->want->spec : NULL;
}

static const json_t *live_of(const struct plumb_change *c)
{
	return c->have ? c->have->live : NULL;
}

static char *astr(struct ctx *cx, const char *fmt, ...) PLUMB_PRINTF(2, 3);
static char *astr(struct ctx *cx, const char *fmt, ...)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int rc = plumb_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	char *s = rc == 0 ? plumb_arena_strdup(&cx->p->arena, b.buf) : NULL;
	plumb_buf_release(&b);
	if (!s)
		cx->rc = PLUMB_ENOMEM;
	return s;
}

static void oom_if(struct ctx *cx, bool failed)
{
	if (failed && !cx->rc)
		cx->rc = PLUMB_ENOMEM;
}

/*
 * Whether rid is "endpoint/<ep>/variant/<v>" for endpoint ep (compared as SageMaker compares
 * names); *variant then points at <v> inside rid. Allocates nothing: it runs in inner loops.
 */
static bool rid_on_endpoint(const char *rid, const char *ep, const char **variant)
{
	if (!rid || !ep || strncmp(rid, "endpoint/", 9) != 0)
		return false;
	const char *v = strstr(rid + 9, "/variant/");
	size_t n = strlen(ep);
	if (!v || (size_t)(v - (rid + 9)) != n || strncasecmp(rid + 9, ep, n) != 0)
		return false;
	if (variant)
		*variant = v + 9;
	return true;
}

static bool is_tag_delta(const struct plumb_delta *dl)
{
	const char *p = dl->aws_path ? dl->aws_path : dl->path;
	if (!p)
		return false;
	return strcmp(p, "Tags") == 0 || strncmp(p, "Tags.", 5) == 0 || strcmp(p, "tags") == 0 ||
	       strncmp(p, "tags.", 5) == 0;
}

/* Managed, non-tag deltas: something an update call has to change. */
static bool has_field_deltas(const struct plumb_change *c)
{
	for (size_t i = 0; i < c->deltas.len; i++) {
		const struct plumb_delta *dl = c->deltas.items[i];
		if (!dl->info && !is_tag_delta(dl))
			return true;
	}
	return false;
}

/* Whether this endpoint change calls UpdateEndpoint. */
static bool endpoint_updates(const struct plumb_change *c)
{
	return c->kind == PLUMB_KIND_ENDPOINT &&
	       (c->type == PLUMB_CHANGE_UPDATE ||
		(c->type == PLUMB_CHANGE_ADOPT && has_field_deltas(c)));
}

/* An endpoint's live status (EndpointStatus), or NULL. */
static const char *endpoint_status(const struct plumb_change *c)
{
	if (c->kind != PLUMB_KIND_ENDPOINT || !c->have)
		return NULL;
	return c->have->status ? c->have->status : jstr(c->have->live, "EndpointStatus");
}

/* On its way to InService (or back to it): what a run killed before its wait leaves behind. */
static bool endpoint_settling(const struct plumb_change *c)
{
	const char *st = endpoint_status(c);
	return st && (strcmp(st, "Creating") == 0 || strcmp(st, "Updating") == 0 ||
		      strcmp(st, "SystemUpdating") == 0 || strcmp(st, "RollingBack") == 0);
}

/* A Failed endpoint that should change: AWS accepts only DeleteEndpoint, so it is recreated. */
static bool endpoint_recreated(const struct plumb_change *c)
{
	return endpoint_updates(c) && str_eq(endpoint_status(c), "Failed");
}

/* ------------------------------------------------------------------ actions */

static struct act *new_act(struct ctx *cx, struct chg *owner, enum plumb_action_type type)
{
	struct act *a = plumb_arena_zalloc(&cx->p->arena, sizeof(*a));
	if (!a || plumb_vec_push(&cx->acts, a) != 0) {
		cx->rc = PLUMB_ENOMEM;
		return NULL;
	}
	const struct plumb_change *c = owner->c;
	a->pub.type = type;
	a->pub.kind = c->kind;
	a->pub.name = c->name;
	a->pub.physical = c->physical;
	a->pub.parent = c->parent;
	a->pub.region = c->region;
	a->pub.change = c;
	a->seq = cx->acts.len - 1;
	return a;
}

static void add_dep(struct ctx *cx, struct act *a, struct act *on)
{
	if (!a || !on || a == on)
		return;
	for (size_t i = 0; i < a->pub.deps.len; i++)
		if (a->pub.deps.items[i] == &on->pub)
			return;
	oom_if(cx, plumb_vec_push(&a->pub.deps, &on->pub) != 0);
}

/* Records a as one of the change's actions; last says whether dependants wait for it. */
static void take(struct chg *g, struct act *a, bool last)
{
	if (!a)
		return;
	if (!g->first)
		g->first = a;
	if (last || !g->last)
		g->last = a;
}

/* ------------------------------------------------------------------ tags */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object, sorted; caller frees the array (not the strings). */
static const char **sorted_keys(const json_t *o, size_t *n)
{
	*n = json_object_size(o);
	const char **keys = calloc(*n ? *n : 1, sizeof(*keys));
	if (!keys)
		return NULL;
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
		keys[i++] = k;
	qsort(keys, *n, sizeof(*keys), cmp_str);
	return keys;
}

/* SageMaker, CloudWatch and SNS: [{"Key": k, "Value": v}], sorted by key. */
static json_t *tags_list(struct ctx *cx, const json_t *tags)
{
	size_t n;
	const char **keys = sorted_keys(tags, &n);
	json_t *l = json_array();
	if (!keys || !l) {
		free(keys);
		json_decref(l);
		cx->rc = PLUMB_ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		oom_if(cx, json_array_append_new(l, json_pack("{s:s,s:O}", "Key", keys[i], "Value",
							      json_object_get(tags, keys[i]))) != 0);
	free(keys);
	return l;
}

/* Application Auto Scaling: {"k": "v"}, keys sorted. */
static json_t *tags_map(struct ctx *cx, const json_t *tags)
{
	size_t n;
	const char **keys = sorted_keys(tags, &n);
	json_t *m = json_object();
	if (!keys || !m) {
		free(keys);
		json_decref(m);
		cx->rc = PLUMB_ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		oom_if(cx, json_object_set(m, keys[i], json_object_get(tags, keys[i])) != 0);
	free(keys);
	return m;
}

/* Tags member of a create request in the service's format; NULL when there are none. */
static json_t *tags_for(struct ctx *cx, enum plumb_kind k, const json_t *tags)
{
	if (!json_is_object(tags) || json_object_size(tags) == 0 || k == PLUMB_KIND_SCALING_POLICY)
		return NULL;
	return k == PLUMB_KIND_SCALABLE_TARGET ? tags_map(cx, tags) : tags_list(cx, tags);
}

/*
 * What a TAG action changes: add = wanted keys whose live value differs or is missing, remove =
 * live keys no longer wanted (never aws:*, which no one may remove). Unknown live tags (NULL)
 * mean add everything, remove nothing.
 */
static void tag_changes(struct ctx *cx, const struct plumb_change *c, json_t **add, json_t **rm)
{
	*add = *rm = NULL;
	const json_t *want = c->tags, *have = c->have ? c->have->tags : NULL;
	size_t n;
	if (json_is_object(want)) {
		const char **keys = sorted_keys(want, &n);
		oom_if(cx, !keys);
		for (size_t i = 0; keys && i < n; i++) {
			json_t *v = json_object_get(want, keys[i]);
			json_t *h = json_object_get(have, keys[i]);
			if (h && json_equal(h, v))
				continue;
			if (!*add)
				*add = json_object();
			oom_if(cx, !*add || json_object_set(*add, keys[i], v) != 0);
		}
		free(keys);
	}
	if (json_is_object(have)) {
		const char **keys = sorted_keys(have, &n);
		oom_if(cx, !keys);
		for (size_t i = 0; keys && i < n; i++) {
			if (strncmp(keys[i], "aws:", 4) == 0 || json_object_get(want, keys[i]))
				continue;
			if (!*rm)
				*rm = json_array();
			oom_if(cx, !*rm || json_array_append_new(*rm, json_string(keys[i])) != 0);
		}
		free(keys);
	}
}

/* ------------------------------------------------------------------ lookups */

static struct chg *find_by_name(struct ctx *cx, enum plumb_kind k, const char *name)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s/%s", plumb_kind_name(k), name);
	return plumb_map_get(&cx->by_name, key);
}

static struct chg *find_target(struct ctx *cx, const char *region, const char *rid)
{
	if (!rid)
		return NULL;
	char key[2048];
	snprintf(key, sizeof(key), "%s|%s", region ? region : "", rid);
	return plumb_map_get(&cx->targets, key);
}

/* The config named name in region: its wanted spec when wanted, else its live description. */
static const json_t *config_json(struct ctx *cx, const char *region, const char *name, bool live)
{
	if (!name)
		return NULL;
	const json_t *found = NULL;
	for (size_t i = 0; i < cx->n; i++) {
		const struct plumb_change *c = cx->chgs[i].c;
		if (c->kind != PLUMB_KIND_ENDPOINT_CONFIG || !sm_eq(c->physical, name) ||
		    !(region ? str_eq(c->region, region) : !c->region))
			continue;
		if (!live && spec_of(c) && c->type != PLUMB_CHANGE_DELETE)
			return spec_of(c);
		if (live_of(c) && !found)
			found = live_of(c);
	}
	return found;
}

static const json_t *find_variant(const json_t *cfg, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(cfg, "ProductionVariants"), i, v)
		if (str_eq(jstr(v, "VariantName"), name))
			return v;
	return NULL;
}

/* The dimension of the target a policy belongs to. */
static const char *policy_dimension(struct ctx *cx, const struct plumb_change *c)
{
	struct chg *t = find_target(cx, c->region, c->parent);
	const char *dim = NULL;
	if (t)
		dim = jstr(spec_of(t->c), "ScalableDimension");
	if (!dim && t)
		dim = jstr(live_of(t->c), "ScalableDimension");
	if (!dim)
		dim = jstr(live_of(c), "ScalableDimension");
	return dim ? dim : DEFAULT_DIMENSION;
}

static json_t *topic_arn(struct ctx *cx, const struct plumb_change *c)
{
	if (c->have && c->have->arn)
		return json_string(c->have->arn);
	char arn[512];
	if (cx->opts && plumb_arn(PLUMB_KIND_TOPIC, c->region, cx->opts->account, c->physical,
				  arn, sizeof(arn)) == 0)
		return json_string(arn);
	return plumb_ref_marker(PLUMB_KIND_TOPIC, c->name);
}

/* A live policy's ARN: what alarms name it by. */
static const char *policy_arn(const struct plumb_change *c)
{
	if (!c->have)
		return NULL;
	return c->have->arn ? c->have->arn : jstr(c->have->live, "PolicyARN");
}

static const char *const action_lists[] = { "AlarmActions", "OKActions",
					    "InsufficientDataActions" };

/* Whether an alarm (its spec or live description) names arn or the marker text in an action. */
static bool alarm_names(const json_t *alarm, const char *arn, const char *marker)
{
	for (size_t l = 0; l < PLUMB_ARRAY_LEN(action_lists); l++) {
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(alarm, action_lists[l]), i, it) {
			if (arn && str_eq(json_string_value(it), arn))
				return true;
			if (marker && str_eq(plumb_ref_marker_target(it), marker))
				return true;
		}
	}
	return false;
}

/* The live members of o that belong to the kind's request (what a re-put from live sends). */
static json_t *live_request(enum plumb_kind k, const json_t *live)
{
	const struct plumb_shape *s = plumb_kind_info(k)->spec;
	json_t *out = json_object();
	if (!out || !s || !json_is_object(live))
		return out;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)live, key, v) {
		const struct plumb_member *m = plumb_shape_member_aws(s, key);
		if (m && !(m->flags & PLUMB_M_PLUMB))
			json_object_set(out, key, v);
	}
	/* the service-linked role AAS substituted: SageMaker targets are registered without one */
	if (k == PLUMB_KIND_SCALABLE_TARGET)
		json_object_del(out, "RoleARN");
	return out;
}

/* ------------------------------------------------------------------ request inputs */

/* Sets name first, then every member of spec that is not already set. */
static json_t *named(struct ctx *cx, const char *member, const char *name, const json_t *spec)
{
	json_t *in = json_object();
	if (!in) {
		cx->rc = PLUMB_ENOMEM;
		return NULL;
	}
	if (member)
		oom_if(cx, json_object_set_new(in, member, json_string(name ? name : "")) != 0);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)spec, k, v)
		if (!json_object_get(in, k))
			oom_if(cx, json_object_set(in, k, v) != 0);
	return in;
}

static void set_tags(struct ctx *cx, json_t *in, enum plumb_kind k, const json_t *tags)
{
	json_t *t = tags_for(cx, k, tags);
	if (in && t)
		oom_if(cx, json_object_set_new(in, "Tags", t) != 0);
	else
		json_decref(t);
}

/*
 * The request that creates (or, with tags NULL, updates in full) a resource of c's kind from
 * spec. Endpoints are handled by their callers (CreateEndpoint takes no DeploymentConfig).
 */
static json_t *put_input(struct ctx *cx, const struct plumb_change *c, const json_t *spec,
			 const json_t *tags)
{
	json_t *in = NULL;
	switch (c->kind) {
	case PLUMB_KIND_MODEL:
		in = named(cx, "ModelName", c->physical, spec);
		break;
	case PLUMB_KIND_ENDPOINT_CONFIG:
		in = named(cx, "EndpointConfigName", c->physical, spec);
		break;
	case PLUMB_KIND_ENDPOINT:
		in = json_pack("{s:s,s:s*}", "EndpointName", c->physical, "EndpointConfigName",
			       jstr(spec, "EndpointConfigName"));
		break;
	case PLUMB_KIND_SCALABLE_TARGET:
		in = json_pack("{s:s}", "ServiceNamespace", AAS_NAMESPACE);
		if (in && !json_object_get(spec, "ResourceId"))
			json_object_set_new(in, "ResourceId", json_string(c->physical));
		if (in) {
			json_object_update(in, (json_t *)spec);
			if (!json_object_get(in, "ScalableDimension"))
				json_object_set_new(in, "ScalableDimension",
						    json_string(DEFAULT_DIMENSION));
		}
		break;
	case PLUMB_KIND_SCALING_POLICY:
		in = json_pack("{s:s,s:s,s:s*,s:s}", "PolicyName", c->physical, "ServiceNamespace",
			       AAS_NAMESPACE, "ResourceId", c->parent, "ScalableDimension",
			       policy_dimension(cx, c));
		if (in)
			json_object_update_missing(in, (json_t *)spec);
		break;
	case PLUMB_KIND_ALARM:
		in = named(cx, "AlarmName", c->physical, spec);
		break;
	case PLUMB_KIND_TOPIC:
		in = named(cx, "Name", c->physical, spec);
		break;
	default:
		break;
	}
	if (!in) {
		cx->rc = PLUMB_ENOMEM;
		return NULL;
	}
	set_tags(cx, in, c->kind, tags);
	return in;
}

static json_t *delete_input(struct ctx *cx, const struct plumb_change *c)
{
	json_t *in = NULL;
	switch (c->kind) {
	case PLUMB_KIND_MODEL:
		in = json_pack("{s:s}", "ModelName", c->physical);
		break;
	case PLUMB_KIND_ENDPOINT_CONFIG:
		in = json_pack("{s:s}", "EndpointConfigName", c->physical);
		break;
	case PLUMB_KIND_ENDPOINT:
		in = json_pack("{s:s}", "EndpointName", c->physical);
		break;
	case PLUMB_KIND_SCALABLE_TARGET: {
		const char *dim = jstr(live_of(c), "ScalableDimension");
		if (!dim)
			dim = jstr(spec_of(c), "ScalableDimension");
		in = json_pack("{s:s,s:s,s:s}", "ServiceNamespace", AAS_NAMESPACE, "ResourceId",
			       c->physical, "ScalableDimension", dim ? dim : DEFAULT_DIMENSION);
		break;
	}
	case PLUMB_KIND_SCALING_POLICY: {
		const char *dim = jstr(live_of(c), "ScalableDimension");
		in = json_pack("{s:s,s:s,s:s*,s:s}", "PolicyName", c->physical, "ServiceNamespace",
			       AAS_NAMESPACE, "ResourceId", c->parent, "ScalableDimension",
			       dim ? dim : policy_dimension(cx, c));
		break;
	}
	case PLUMB_KIND_ALARM:
		in = json_pack("{s:[s]}", "AlarmNames", c->physical);
		break;
	case PLUMB_KIND_TOPIC:
		in = json_pack("{s:o}", "TopicArn", topic_arn(cx, c));
		break;
	default:
		break;
	}
	oom_if(cx, !in);
	return in;
}

/* A JSON-in-string attribute value as SNS wants it: strings as they are, anything else dumped. */
static json_t *attr_value(const json_t *v)
{
	if (!v)
		return json_string("");
	if (json_is_string(v))
		return json_copy((json_t *)v);
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_t *r = json_string(s ? s : "");
	free(s);
	return r;
}

/*
 * SetTopicAttributes: {"TopicArn": arn, "Attributes": {name: value, ...}} with the attributes
 * that differ (apply makes one SetTopicAttributes call per attribute; "" unsets one), plus
 * "DataProtectionPolicy" when that changed (PutDataProtectionPolicy).
 */
static json_t *topic_update_input(struct ctx *cx, const struct plumb_change *c)
{
	json_t *in = json_pack("{s:o}", "TopicArn", topic_arn(cx, c));
	json_t *attrs = json_object();
	if (!in || !attrs) {
		json_decref(in);
		json_decref(attrs);
		cx->rc = PLUMB_ENOMEM;
		return NULL;
	}
	const json_t *want = json_object_get(spec_of(c), "Attributes");
	const json_t *live = live_of(c);
	for (size_t i = 0; i < c->deltas.len; i++) {
		const struct plumb_delta *dl = c->deltas.items[i];
		const char *p = dl->aws_path;
		if (dl->info || !p)
			continue;
		if (strncmp(p, "Attributes.", 11) == 0) {
			json_object_set_new(attrs, p + 11, attr_value(dl->new));
		} else if (strcmp(p, "Attributes") == 0) {
			const char *k;
			json_t *v;
			json_object_foreach((json_t *)want, k, v)
				json_object_set_new(attrs, k, attr_value(v));
		} else if (strcmp(p, "DataProtectionPolicy") == 0) {
			json_object_set_new(in, "DataProtectionPolicy", attr_value(dl->new));
		}
	}
	if (json_object_size(attrs) == 0 && !json_object_get(in, "DataProtectionPolicy")) {
		/* no deltas to go by: every wanted attribute whose live value differs */
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)want, k, v) {
			json_t *sv = attr_value(v);
			if (!json_equal(sv, json_object_get(live, k)))
				json_object_set(attrs, k, sv);
			json_decref(sv);
		}
	}
	json_object_set_new(in, "Attributes", attrs);
	return in;
}

/* ------------------------------------------------------------------ endpoint updates */

static int64_t int_member(const json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? (int64_t)json_number_value(v) : dflt;
}

/* Baking steps of a traffic shift: 1 all at once, 2 canary, 100/step% linear (at most 10). */
static int64_t steps_of(const json_t *size, int64_t count_default)
{
	const char *type = jstr(size, "Type");
	int64_t v = int_member(size, "Value", 0);
	if (str_eq(type, "CAPACITY_PERCENT") && v > 0)
		return (100 + v - 1) / v;
	return count_default;
}

/*
 * How long an UpdateEndpoint may take (docs/plan-format.md, "Wait deadlines"): blue/green
 * MaximumExecutionTimeoutInSeconds + TerminationWaitInSeconds; without a maximum 3600 s plus
 * every baking wait plus the termination wait; rolling the same with batches instead of steps.
 */
static int64_t update_deadline(const json_t *dc)
{
	const json_t *bg = json_object_get(dc, "BlueGreenUpdatePolicy");
	const json_t *ru = json_object_get(dc, "RollingUpdatePolicy");
	if (bg) {
		int64_t term = int_member(bg, "TerminationWaitInSeconds", 0);
		int64_t max = int_member(bg, "MaximumExecutionTimeoutInSeconds", 0);
		if (max > 0)
			return max + term;
		const json_t *trc = json_object_get(bg, "TrafficRoutingConfiguration");
		const char *type = jstr(trc, "Type");
		int64_t steps = 1;
		if (str_eq(type, "CANARY"))
			steps = 2;
		else if (str_eq(type, "LINEAR"))
			steps = steps_of(json_object_get(trc, "LinearStepSize"), 10);
		return DEADLINE_UPDATE_S + steps * int_member(trc, "WaitIntervalInSeconds", 0) + term;
	}
	if (ru) {
		int64_t max = int_member(ru, "MaximumExecutionTimeoutInSeconds", 0);
		if (max > 0)
			return max;
		int64_t batches = steps_of(json_object_get(ru, "MaximumBatchSize"), 20);
		return DEADLINE_UPDATE_S + batches * int_member(ru, "WaitIntervalInSeconds", 0);
	}
	return DEADLINE_UPDATE_S;
}

/* Is variant v of endpoint ep autoscaled (a target that is not being deleted)? */
static bool variant_autoscaled(struct ctx *cx, const struct plumb_change *ep, const char *v)
{
	for (size_t i = 0; i < cx->n; i++) {
		const struct plumb_change *c = cx->chgs[i].c;
		const char *var;
		if (c->kind == PLUMB_KIND_SCALABLE_TARGET && c->type != PLUMB_CHANGE_DELETE &&
		    same_region(c, ep) && rid_on_endpoint(c->physical, ep->physical, &var) &&
		    str_eq(var, v))
			return true;
	}
	return false;
}

static bool same_number(const json_t *a, const json_t *b, double dflt)
{
	double x = json_is_number(a) ? json_number_value(a) : dflt;
	double y = json_is_number(b) ? json_number_value(b) : dflt;
	return x == y;
}

static bool same_data_capture(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return !a && !b;
	json_t *wa = json_pack("{s:O}", "DataCaptureConfig", a);
	json_t *wb = json_pack("{s:O}", "DataCaptureConfig", b);
	char *ta = wa ? plumb_canonical_text(PLUMB_KIND_ENDPOINT_CONFIG, wa) : NULL;
	char *tb = wb ? plumb_canonical_text(PLUMB_KIND_ENDPOINT_CONFIG, wb) : NULL;
	bool same = ta && tb ? strcmp(ta, tb) == 0 : json_equal((json_t *)a, (json_t *)b);
	free(ta);
	free(tb);
	json_decref(wa);
	json_decref(wb);
	return same;
}

/*
 * ExcludeRetainedVariantProperties: the properties the user changed on purpose between the old
 * config and the new one, for variants present in both. A changed InitialInstanceCount counts
 * only on a variant no scalable target drives (the autoscaler owns the others); AWS applies the
 * exclusion to every variant, so a mixed endpoint resets its autoscaled variants to their
 * initial count too, and the autoscaler moves them back.
 */
static json_t *exclusions(struct ctx *cx, const struct plumb_change *ep, const json_t *oldcfg,
			  const json_t *newcfg)
{
	if (!oldcfg || !newcfg)
		return NULL;
	bool count = false, weight = false;
	size_t i;
	json_t *nv;
	json_array_foreach(json_object_get(newcfg, "ProductionVariants"), i, nv) {
		const char *name = jstr(nv, "VariantName");
		const json_t *ov = find_variant(oldcfg, name);
		if (!ov)
			continue;
		json_t *nc = json_object_get(nv, "InitialInstanceCount");
		json_t *oc = json_object_get(ov, "InitialInstanceCount");
		if (nc && oc && !same_number(nc, oc, 0) && !variant_autoscaled(cx, ep, name))
			count = true;
		if (!same_number(json_object_get(nv, "InitialVariantWeight"),
				 json_object_get(ov, "InitialVariantWeight"), 1.0))
			weight = true;
	}
	bool capture = !same_data_capture(json_object_get(oldcfg, "DataCaptureConfig"),
					  json_object_get(newcfg, "DataCaptureConfig"));
	if (!count && !weight && !capture)
		return NULL;
	json_t *l = json_array();
	if (count)
		json_array_append_new(l, json_pack("{s:s}", "VariantPropertyType",
						   "DesiredInstanceCount"));
	if (weight)
		json_array_append_new(l, json_pack("{s:s}", "VariantPropertyType", "DesiredWeight"));
	if (capture)
		json_array_append_new(l, json_pack("{s:s}", "VariantPropertyType",
						   "DataCaptureConfig"));
	return l;
}

/* ------------------------------------------------------------------ choreography (pass 1) */

static void claim(struct ctx *cx, struct chg *g, enum role r, struct chg *ep, const char *why)
{
	if (g->role != ROLE_NONE)
		return;
	g->role = r;
	g->ep = ep;
	g->why = why;
	if (r == ROLE_REREGISTER)
		oom_if(cx, plumb_vec_push(&ep->targets, g) != 0);
}

/* Claims the live policies of target t and the alarms that name them. */
static void claim_policies(struct ctx *cx, struct chg *t, struct chg *ep)
{
	for (size_t i = 0; i < cx->n; i++) {
		struct chg *pg = &cx->chgs[i];
		const struct plumb_change *pc = pg->c;
		if (pc->kind != PLUMB_KIND_SCALING_POLICY || !pc->have ||
		    pc->type == PLUMB_CHANGE_CONFLICT || !same_region(pc, t->c) ||
		    !str_eq(pc->parent, t->c->physical))
			continue;
		claim(cx, pg, ROLE_REPUT, ep, t->why);
		if (pc->type == PLUMB_CHANGE_DELETE)
			continue;
		char marker[1024];
		snprintf(marker, sizeof(marker), "%s/%s", plumb_kind_name(pc->kind), pc->name);
		for (size_t j = 0; j < cx->n; j++) {
			struct chg *ag = &cx->chgs[j];
			const struct plumb_change *ac = ag->c;
			if (ac->kind != PLUMB_KIND_ALARM || ac->type == PLUMB_CHANGE_CREATE ||
			    ac->type == PLUMB_CHANGE_DELETE || ac->type == PLUMB_CHANGE_CONFLICT ||
			    !same_region(ac, pc))
				continue;
			const char *arn = policy_arn(pc);
			if (!alarm_names(spec_of(ac), arn, marker) &&
			    !alarm_names(ac->want ? ac->want->spec : NULL, arn, marker) &&
			    !alarm_names(live_of(ac), arn, NULL))
				continue;
			claim(cx, ag, ROLE_REPOINT, ep, t->why);
			if (ag->ep == ep)
				oom_if(cx, plumb_vec_push(&ag->pols, pg) != 0);
		}
	}
}

static void choreograph(struct ctx *cx, struct chg *eg)
{
	const struct plumb_change *ec = eg->c;
	bool replace = ec->type == PLUMB_CHANGE_REPLACE || endpoint_recreated(ec);
	if (ec->kind != PLUMB_KIND_ENDPOINT || !ec->have || (!replace && !endpoint_updates(ec)))
		return;
	const json_t *oldcfg = config_json(cx, ec->region, jstr(live_of(ec), "EndpointConfigName"),
					   true);
	const json_t *newcfg = config_json(cx, ec->region, jstr(spec_of(ec), "EndpointConfigName"),
					   false);
	for (size_t i = 0; i < cx->n; i++) {
		struct chg *tg = &cx->chgs[i];
		const struct plumb_change *tc = tg->c;
		const char *v;
		if (tc->kind != PLUMB_KIND_SCALABLE_TARGET || !tc->have ||
		    tc->type == PLUMB_CHANGE_CREATE || tc->type == PLUMB_CHANGE_CONFLICT ||
		    !same_region(tc, ec) || !rid_on_endpoint(tc->physical, ec->physical, &v))
			continue;
		const char *why;
		if (replace) {
			why = astr(cx, "endpoint is replaced: autoscaled variant %s is deregistered "
				       "first and registered again on the new endpoint", v);
		} else if (!oldcfg || !newcfg) {
			why = astr(cx, "the endpoint's current config is not known: autoscaled variant "
				       "%s may change instance type, and " WHY_REFUSES, v);
		} else {
			const json_t *ov = find_variant(oldcfg, v), *nv = find_variant(newcfg, v);
			if (!ov)
				continue; /* not a live variant: nothing for AWS to refuse */
			if (!nv)
				why = astr(cx, "autoscaled variant %s is removed: " WHY_REFUSES, v);
			else if (!str_eq(jstr(ov, "InstanceType"), jstr(nv, "InstanceType")) &&
				 (jstr(ov, "InstanceType") || jstr(nv, "InstanceType")))
				why = astr(cx, "instance type of autoscaled variant %s changes: "
					       WHY_REFUSES, v);
			else
				continue;
		}
		claim(cx, tg, ROLE_REREGISTER, eg, why);
		/* a target being deleted takes its policies with it: nothing to put again */
		if (tg->ep == eg && tc->type != PLUMB_CHANGE_DELETE)
			claim_policies(cx, tg, eg);
	}
}

/* The why shown on the endpoint's own actions: its targets' reasons, joined. */
static const char *endpoint_why(struct ctx *cx, struct chg *eg)
{
	const char *why = NULL;
	for (size_t i = 0; i < eg->targets.len; i++) {
		const char *w = ((struct chg *)eg->targets.items[i])->why;
		if (!w || (why && strstr(why, w)))
			continue;
		why = why ? astr(cx, "%s; %s", why, w) : w;
	}
	return why;
}

/* ------------------------------------------------------------------ generation (pass 2) */

static struct act *gen_delete(struct ctx *cx, struct chg *g, bool rules)
{
	const struct plumb_change *c = g->c;
	struct act *a = new_act(cx, g, PLUMB_ACTION_DELETE);
	if (!a)
		return NULL;
	a->pub.input = delete_input(cx, c);
	a->have = c->have;
	a->del_rule = rules;
	a->pub.why = g->role != ROLE_NONE ? g->why : NULL;
	take(g, a, true);
	if (c->kind != PLUMB_KIND_ENDPOINT)
		return a;
	struct act *w = new_act(cx, g, PLUMB_ACTION_WAIT);
	if (!w)
		return NULL;
	w->pub.wait_for = PLUMB_WAIT_DELETED;
	w->pub.wait_deadline_s = DEADLINE_DELETED_S;
	add_dep(cx, w, a);
	take(g, w, true);
	return w;
}

static struct act *gen_create(struct ctx *cx, struct chg *g, struct act *after)
{
	const struct plumb_change *c = g->c;
	struct act *a = new_act(cx, g, PLUMB_ACTION_CREATE);
	if (!a)
		return NULL;
	a->pub.input = put_input(cx, c, spec_of(c), c->tags);
	a->refs_from = g;
	add_dep(cx, a, after);
	take(g, a, true);
	if (c->kind != PLUMB_KIND_ENDPOINT)
		return a;
	struct act *w = new_act(cx, g, PLUMB_ACTION_WAIT);
	if (!w)
		return NULL;
	w->pub.wait_for = PLUMB_WAIT_IN_SERVICE;
	w->pub.wait_config = jstr(spec_of(c), "EndpointConfigName");
	w->pub.wait_deadline_s = DEADLINE_CREATE_S;
	add_dep(cx, w, a);
	take(g, w, true);
	if (g->targets.len)
		w->pub.why = a->pub.why = endpoint_why(cx, g);
	return w;
}

/* The policy deletes and deregisters that must come before the endpoint's main action. */
static void gen_pre(struct ctx *cx, struct chg *eg)
{
	for (size_t i = 0; i < eg->targets.len; i++) {
		struct chg *tg = eg->targets.items[i];
		for (size_t j = 0; j < cx->n; j++) {
			struct chg *pg = &cx->chgs[j];
			if (pg->role != ROLE_REPUT || pg->ep != eg ||
			    !str_eq(pg->c->parent, tg->c->physical) ||
			    pg->c->type == PLUMB_CHANGE_DELETE)
				continue;
			struct act *a = new_act(cx, pg, PLUMB_ACTION_DELETE);
			if (!a)
				return;
			a->pub.change = NULL; /* an extra step: the policy is put again later */
			a->pub.input = delete_input(cx, pg->c);
			a->pub.why = pg->why;
			a->have = pg->c->have;
			a->del_rule = true;
			a->refs_from = eg;
			oom_if(cx, plumb_vec_push(&eg->pre, a) != 0);
		}
		if (tg->c->type == PLUMB_CHANGE_DELETE)
			continue; /* its own delete is the deregister (wired in pass 3) */
		struct act *a = new_act(cx, tg, PLUMB_ACTION_DELETE);
		if (!a)
			return;
		a->pub.change = NULL;
		a->pub.input = delete_input(cx, tg->c);
		a->pub.why = tg->why;
		a->have = tg->c->have;
		a->del_rule = true;
		a->refs_from = eg;
		oom_if(cx, plumb_vec_push(&eg->pre, a) != 0);
	}
}

/* UpdateEndpoint + WAIT InService, after the choreography's pre-steps. */
static struct act *gen_endpoint_update(struct ctx *cx, struct chg *g, struct act *after)
{
	const struct plumb_change *c = g->c;
	const json_t *spec = spec_of(c);
	const char *cfg = jstr(spec, "EndpointConfigName");
	const json_t *dc = json_object_get(spec, "DeploymentConfig");
	gen_pre(cx, g);
	struct act *a = new_act(cx, g, PLUMB_ACTION_UPDATE);
	if (!a)
		return NULL;
	json_t *in = json_pack("{s:s,s:s*,s:b}", "EndpointName", c->physical, "EndpointConfigName",
			       cfg, "RetainAllVariantProperties", 1);
	json_t *ex = exclusions(cx, c,
				config_json(cx, c->region, jstr(live_of(c), "EndpointConfigName"),
					    true),
				config_json(cx, c->region, cfg, false));
	if (in && ex)
		json_object_set_new(in, "ExcludeRetainedVariantProperties", ex);
	else
		json_decref(ex);
	if (in && dc)
		json_object_set(in, "DeploymentConfig", (json_t *)dc);
	oom_if(cx, !in);
	a->pub.input = in;
	a->refs_from = g;
	a->pub.why = endpoint_why(cx, g);
	add_dep(cx, a, after);
	take(g, a, false);
	struct act *w = new_act(cx, g, PLUMB_ACTION_WAIT);
	if (!w)
		return NULL;
	w->pub.wait_for = PLUMB_WAIT_IN_SERVICE;
	w->pub.wait_config = cfg;
	w->pub.wait_deadline_s = update_deadline(dc);
	w->pub.why = a->pub.why;
	add_dep(cx, w, a);
	take(g, w, true);
	g->main = a;
	return w;
}

/* The update call of a change's kind (nothing for immutable kinds: only their tags change). */
static struct act *gen_update(struct ctx *cx, struct chg *g, struct act *after)
{
	const struct plumb_change *c = g->c;
	json_t *in;
	switch (c->kind) {
	case PLUMB_KIND_ENDPOINT:
		return gen_endpoint_update(cx, g, after);
	case PLUMB_KIND_SCALABLE_TARGET:
	case PLUMB_KIND_SCALING_POLICY:
	case PLUMB_KIND_ALARM:
		/*
		 * RegisterScalableTarget ignores Tags on an existing target and PutMetricAlarm on
		 * an existing alarm: tag changes go through the TAG action. The wanted tags ride
		 * along anyway: both calls create what is not there, and an update that meets a
		 * resource deleted since it was observed must not create it untagged (nobody's,
		 * a conflict for every later plan). Policies have no tags.
		 */
		in = put_input(cx, c, spec_of(c), c->tags);
		break;
	case PLUMB_KIND_TOPIC:
		in = topic_update_input(cx, c);
		break;
	default:
		return NULL;
	}
	struct act *a = new_act(cx, g, PLUMB_ACTION_UPDATE);
	if (!a) {
		json_decref(in);
		return NULL;
	}
	a->pub.input = in;
	a->refs_from = g;
	add_dep(cx, a, after);
	take(g, a, true);
	return a;
}

static struct act *gen_tag(struct ctx *cx, struct chg *g, struct act *after)
{
	if (g->c->kind == PLUMB_KIND_SCALING_POLICY)
		return NULL; /* scaling policies carry no tags */
	json_t *add, *rm;
	tag_changes(cx, g->c, &add, &rm);
	if (!add && !rm)
		return NULL;
	struct act *a = new_act(cx, g, PLUMB_ACTION_TAG);
	if (!a) {
		json_decref(add);
		json_decref(rm);
		return NULL;
	}
	a->pub.add_tags = add;
	a->pub.remove_tags = rm;
	add_dep(cx, a, after);
	take(g, a, false);
	return a;
}

/* What a choreographed target, policy or alarm sends: wanted spec, else its live request. */
static json_t *role_spec(const struct plumb_change *c)
{
	if (spec_of(c))
		return json_incref((json_t *)spec_of(c));
	return live_request(c->kind, live_of(c));
}

/* Alarm actions naming a re-put policy (by marker or by its old ARN) become markers. */
static void repoint_actions(struct ctx *cx, struct chg *ag, json_t *in)
{
	for (size_t l = 0; l < PLUMB_ARRAY_LEN(action_lists); l++) {
		json_t *list = json_object_get(in, action_lists[l]);
		json_t *copy = json_is_array(list) ? json_array() : NULL;
		size_t i;
		json_t *it;
		json_array_foreach(list, i, it) {
			json_t *put = NULL;
			for (size_t p = 0; p < ag->pols.len && !put; p++) {
				const struct plumb_change *pc = ((struct chg *)ag->pols.items[p])->c;
				const char *t = plumb_ref_marker_target(it);
				if (str_eq(json_string_value(it), policy_arn(pc)) ||
				    (t && strncmp(t, "ScalingPolicy/", 14) == 0 &&
				     str_eq(t + 14, pc->name)))
					put = plumb_ref_marker(PLUMB_KIND_SCALING_POLICY, pc->name);
			}
			oom_if(cx, json_array_append_new(copy, put ? put : json_incref(it)) != 0);
		}
		if (copy)
			json_object_set_new(in, action_lists[l], copy);
	}
}

static void gen_role(struct ctx *cx, struct chg *g)
{
	const struct plumb_change *c = g->c;
	if (c->type == PLUMB_CHANGE_DELETE) {
		gen_delete(cx, g, true);
		return;
	}
	json_t *spec = role_spec(c);
	json_t *tags = c->want ? c->tags : c->have ? c->have->tags : NULL;
	struct act *a = new_act(cx, g,
				g->role == ROLE_REPOINT ? PLUMB_ACTION_UPDATE : PLUMB_ACTION_CREATE);
	if (!a) {
		json_decref(spec);
		return;
	}
	/* a re-registered target is new to AWS, so it takes its tags; an existing alarm keeps
	 * its own and ignores these, one deleted meanwhile is created owned (see gen_update) */
	a->pub.input = put_input(cx, c, spec, tags);
	json_decref(spec);
	if (g->role == ROLE_REPOINT && a->pub.input)
		repoint_actions(cx, g, a->pub.input);
	a->pub.why = g->why;
	a->refs_from = g;
	take(g, a, true);
	if (g->role == ROLE_REPOINT && c->want && c->type != PLUMB_CHANGE_NONE)
		gen_tag(cx, g, a);
}

/*
 * WAIT InService for a wanted endpoint that is still Creating, Updating, ... (a run killed before
 * its own wait): on config cfg, or on whatever config it settles on when cfg is NULL (before an
 * UpdateEndpoint, which AWS refuses until then). Dependants wait for it (it becomes g->last).
 */
static struct act *gen_settle(struct ctx *cx, struct chg *g, const char *cfg)
{
	struct act *w = new_act(cx, g, PLUMB_ACTION_WAIT);
	if (!w)
		return NULL;
	const json_t *dc = json_object_get(spec_of(g->c), "DeploymentConfig");
	int64_t dl = update_deadline(dc);
	w->pub.wait_for = PLUMB_WAIT_IN_SERVICE;
	w->pub.wait_config = cfg;
	w->pub.wait_deadline_s = dl > DEADLINE_CREATE_S ? dl : DEADLINE_CREATE_S;
	w->pub.why = astr(cx, "endpoint is %s: wait until it is InService%s",
			  endpoint_status(g->c), cfg ? " before what depends on it"
						     : " before updating it");
	take(g, w, true);
	return w;
}

/* Delete (+ wait deleted), then create (+ wait InService): a replace, or a Failed endpoint. */
static void gen_replace(struct ctx *cx, struct chg *g)
{
	const struct plumb_change *c = g->c;
	if (c->kind == PLUMB_KIND_ENDPOINT)
		gen_pre(cx, g);
	struct act *t = gen_delete(cx, g, false);
	if (c->kind == PLUMB_KIND_ENDPOINT && t && g->first) {
		g->main = g->first;
		g->main->pub.why = t->pub.why = endpoint_why(cx, g);
		if (c->type != PLUMB_CHANGE_REPLACE && !g->main->pub.why)
			g->main->pub.why = t->pub.why =
				"endpoint is Failed: AWS accepts only DeleteEndpoint, so it is "
				"deleted and created again";
	}
	gen_create(cx, g, t);
}

static void gen(struct ctx *cx, struct chg *g)
{
	const struct plumb_change *c = g->c;
	struct act *t, *w;
	if (g->role != ROLE_NONE) {
		gen_role(cx, g);
		return;
	}
	if (endpoint_recreated(c)) {
		gen_replace(cx, g);
		return;
	}
	bool settle = endpoint_settling(c) && c->want;
	switch (c->type) {
	case PLUMB_CHANGE_NONE:
		if (settle)
			gen_settle(cx, g, jstr(spec_of(c), "EndpointConfigName"));
		break;
	case PLUMB_CHANGE_ORPHAN:
	case PLUMB_CHANGE_CONFLICT:
		break;
	case PLUMB_CHANGE_CREATE:
		gen_create(cx, g, NULL);
		break;
	case PLUMB_CHANGE_UPDATE:
		/* an endpoint's tags (plumb:spec-hash) change only once its WAIT saw the new
		 * config InService: after a silent rollback they still name the old spec */
		w = settle && endpoint_updates(c) ? gen_settle(cx, g, NULL) : NULL;
		t = gen_update(cx, g, w);
		gen_tag(cx, g, t);
		break;
	case PLUMB_CHANGE_TAG:
		w = settle ? gen_settle(cx, g, jstr(spec_of(c), "EndpointConfigName")) : NULL;
		gen_tag(cx, g, w);
		break;
	case PLUMB_CHANGE_ADOPT:
		if (settle && !has_field_deltas(c)) {
			w = gen_settle(cx, g, jstr(spec_of(c), "EndpointConfigName"));
			gen_tag(cx, g, w);
			break;
		}
		t = gen_tag(cx, g, NULL);
		w = settle ? gen_settle(cx, g, NULL) : NULL;
		add_dep(cx, w, t);
		if (has_field_deltas(c))
			gen_update(cx, g, w ? w : t);
		break;
	case PLUMB_CHANGE_REPLACE:
		gen_replace(cx, g);
		break;
	case PLUMB_CHANGE_DELETE:
		gen_delete(cx, g, true);
		break;
	}
}

/* ------------------------------------------------------------------ wiring (pass 3) */

/* Each action that waits for references: the last action of every referenced resource. */
static void wire_refs(struct ctx *cx)
{
	for (size_t i = 0; i < cx->acts.len; i++) {
		struct act *a = cx->acts.items[i];
		struct chg *g = a->refs_from;
		if (!g)
			continue;
		const struct plumb_change *c = g->c;
		if (c->want) {
			for (size_t j = 0; j < c->want->deps.len; j++) {
				const struct plumb_resource *r = c->want->deps.items[j];
				struct chg *dg = find_by_name(cx, r->kind, r->name);
				if (dg && dg != g)
					add_dep(cx, a, dg->last);
			}
		}
		/* children after parents, also for policies the diff found only live */
		if (c->kind == PLUMB_KIND_SCALING_POLICY && a->pub.type != PLUMB_ACTION_DELETE) {
			struct chg *tg = find_target(cx, c->region, c->parent);
			if (tg && tg != g)
				add_dep(cx, a, tg->last);
		}
	}
}

static void wire_choreography(struct ctx *cx)
{
	for (size_t i = 0; i < cx->n; i++) {
		struct chg *g = &cx->chgs[i];
		if (g->targets.len && g->main) {
			for (size_t j = 0; j < g->pre.len; j++)
				add_dep(cx, g->main, g->pre.items[j]);
			for (size_t j = 0; j < g->targets.len; j++) {
				struct chg *tg = g->targets.items[j];
				if (tg->c->type == PLUMB_CHANGE_DELETE)
					add_dep(cx, g->main, tg->first);
			}
		}
		if (g->role == ROLE_REREGISTER && g->c->type != PLUMB_CHANGE_DELETE && g->first)
			add_dep(cx, g->first, g->ep->last);
		if (g->role == ROLE_REPOINT && g->first)
			for (size_t j = 0; j < g->pols.len; j++)
				add_dep(cx, g->first, ((struct chg *)g->pols.items[j])->last);
	}
}

static bool config_uses_model(const json_t *cfg, const char *model)
{
	static const char *const lists[] = { "ProductionVariants", "ShadowProductionVariants" };
	for (size_t l = 0; l < PLUMB_ARRAY_LEN(lists); l++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(cfg, lists[l]), i, v)
			if (sm_eq(jstr(v, "ModelName"), model))
				return true;
	}
	return false;
}

static bool config_uses_topic(const json_t *cfg, const char *arn)
{
	const json_t *n = json_object_get(
		json_object_get(json_object_get(cfg, "AsyncInferenceConfig"), "OutputConfig"),
		"NotificationConfig");
	return arn && (str_eq(jstr(n, "SuccessTopic"), arn) || str_eq(jstr(n, "ErrorTopic"), arn));
}

static bool act_same_region(const struct act *a, const struct act *b)
{
	return (!a->pub.region && !b->pub.region) || str_eq(a->pub.region, b->pub.region);
}

/*
 * Deletes in reverse order, among the deletes that concern each other (what the live resources
 * name): an alarm before the policy it fires, policies before their target, targets before
 * their endpoint, the endpoint (gone) before its config, a config before its models and topics.
 * A config also waits for every endpoint change that moves away from it (the superseded delete
 * of a rollover waits for the WAIT InService on the new config).
 */
static void wire_deletes(struct ctx *cx)
{
	for (size_t i = 0; i < cx->acts.len; i++) {
		struct act *x = cx->acts.items[i];
		if (!x->del_rule || !x->have)
			continue;
		const char *arn = x->have->arn;
		if (!arn && x->pub.kind == PLUMB_KIND_SCALING_POLICY)
			arn = jstr(x->have->live, "PolicyARN");
		if (x->pub.kind == PLUMB_KIND_ENDPOINT_CONFIG) {
			for (size_t j = 0; j < cx->n; j++) {
				struct chg *eg = &cx->chgs[j];
				if (eg->c->kind == PLUMB_KIND_ENDPOINT && eg->last &&
				    str_eq(eg->c->region, x->pub.region) &&
				    sm_eq(jstr(live_of(eg->c), "EndpointConfigName"), x->pub.physical))
					add_dep(cx, x, eg->last);
			}
		}
		for (size_t j = 0; j < cx->acts.len; j++) {
			struct act *y = cx->acts.items[j];
			if (y == x || !y->del_rule || !y->have || !act_same_region(x, y))
				continue;
			const json_t *ylive = y->have->live;
			bool before = false;
			switch (x->pub.kind) {
			case PLUMB_KIND_SCALING_POLICY:
				before = y->pub.kind == PLUMB_KIND_ALARM && arn &&
					 alarm_names(ylive, arn, NULL);
				break;
			case PLUMB_KIND_SCALABLE_TARGET:
				before = y->pub.kind == PLUMB_KIND_SCALING_POLICY &&
					 str_eq(y->pub.parent, x->pub.physical);
				break;
			case PLUMB_KIND_ENDPOINT:
				before = y->pub.kind == PLUMB_KIND_SCALABLE_TARGET &&
					 rid_on_endpoint(y->pub.physical, x->pub.physical, NULL);
				break;
			case PLUMB_KIND_MODEL:
				before = y->pub.kind == PLUMB_KIND_ENDPOINT_CONFIG &&
					 config_uses_model(ylive, x->pub.physical);
				break;
			case PLUMB_KIND_TOPIC:
				before = (y->pub.kind == PLUMB_KIND_ENDPOINT_CONFIG &&
					  config_uses_topic(ylive, arn)) ||
					 (y->pub.kind == PLUMB_KIND_ALARM && arn &&
					  alarm_names(ylive, arn, NULL));
				break;
			default:
				break;
			}
			if (before)
				add_dep(cx, x, y);
		}
	}
}

/* ------------------------------------------------------------------ ordering (pass 4) */

/* A binary min-heap of actions by seq. */
struct heap {
	struct act **a; /* items */
	size_t n;       /* in use */
};

static void heap_push(struct heap *h, struct act *x)
{
	size_t i = h->n++;
	h->a[i] = x;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (h->a[up]->seq <= h->a[i]->seq)
			break;
		struct act *t = h->a[up];
		h->a[up] = h->a[i];
		h->a[i] = t;
		i = up;
	}
}

static struct act *heap_pop(struct heap *h)
{
	struct act *top = h->a[0];
	h->a[0] = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->a[l]->seq < h->a[m]->seq)
			m = l;
		if (r < h->n && h->a[r]->seq < h->a[m]->seq)
			m = r;
		if (m == i)
			break;
		struct act *t = h->a[m];
		h->a[m] = h->a[i];
		h->a[i] = t;
		i = m;
	}
	return top;
}

/* Kahn's algorithm, taking the earliest-made ready action each time. */
static int order(struct ctx *cx, struct plumb_err *err)
{
	size_t n = cx->acts.len;
	for (size_t i = 0; i < n; i++) {
		struct act *a = cx->acts.items[i];
		a->indeg = a->pub.deps.len;
		for (size_t j = 0; j < a->pub.deps.len; j++)
			oom_if(cx, plumb_vec_push(&((struct act *)a->pub.deps.items[j])->users, a) != 0);
	}
	if (cx->rc)
		return cx->rc;
	struct heap h = { calloc(n ? n : 1, sizeof(struct act *)), 0 };
	if (!h.a)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory ordering the plan");
	for (size_t i = 0; i < n; i++)
		if (((struct act *)cx->acts.items[i])->indeg == 0)
			heap_push(&h, cx->acts.items[i]);
	while (h.n) {
		struct act *a = heap_pop(&h);
		a->pub.id = cx->p->actions.len;
		if (plumb_vec_push(&cx->p->actions, &a->pub) != 0) {
			free(h.a);
			return plumb_err_set(err, PLUMB_ENOMEM, "out of memory ordering the plan");
		}
		for (size_t j = 0; j < a->users.len; j++) {
			struct act *u = a->users.items[j];
			if (--u->indeg == 0)
				heap_push(&h, u);
		}
	}
	free(h.a);
	if (cx->p->actions.len != n) {
		/* a cycle: name one action caught in it */
		for (size_t i = 0; i < n; i++) {
			struct act *a = cx->acts.items[i];
			if (a->indeg)
				return plumb_err_set(err, PLUMB_EINTERNAL,
						     "plan has a dependency cycle through %s %s/%s",
						     plumb_action_type_name(a->pub.type),
						     plumb_kind_name(a->pub.kind), a->pub.name);
		}
		return plumb_err_set(err, PLUMB_EINTERNAL, "plan has a dependency cycle");
	}
	return 0;
}

/* ------------------------------------------------------------------ public */

void plumb_plan_init(struct plumb_plan *p)
{
	memset(p, 0, sizeof(*p));
}

static void free_action(struct plumb_action *a)
{
	json_decref(a->input);
	json_decref(a->add_tags);
	json_decref(a->remove_tags);
	plumb_vec_release(&a->deps);
	a->input = a->add_tags = a->remove_tags = NULL;
}

void plumb_plan_release(struct plumb_plan *p)
{
	for (size_t i = 0; i < p->actions.len; i++)
		free_action(p->actions.items[i]);
	plumb_vec_release(&p->actions);
	plumb_arena_release(&p->arena);
	plumb_plan_init(p);
}

bool plumb_plan_has_changes(const struct plumb_plan *p)
{
	return p->actions.len > 0;
}

static void count(struct plumb_plan *p, const struct plumb_change *c)
{
	switch (c->type) {
	case PLUMB_CHANGE_CREATE: p->n_create++; break;
	case PLUMB_CHANGE_UPDATE:
	case PLUMB_CHANGE_ADOPT: p->n_update++; break;
	case PLUMB_CHANGE_TAG: p->n_tag++; break;
	case PLUMB_CHANGE_REPLACE: p->n_replace++; break;
	case PLUMB_CHANGE_DELETE: p->n_delete++; break;
	case PLUMB_CHANGE_ORPHAN: p->n_orphan++; break;
	case PLUMB_CHANGE_CONFLICT: p->n_conflict++; break;
	case PLUMB_CHANGE_NONE: break;
	}
}

static void ctx_release(struct ctx *cx, bool failed)
{
	for (size_t i = 0; i < cx->acts.len; i++) {
		struct act *a = cx->acts.items[i];
		plumb_vec_release(&a->users);
		if (failed)
			free_action(&a->pub);
	}
	for (size_t i = 0; cx->chgs && i < cx->n; i++) {
		plumb_vec_release(&cx->chgs[i].targets);
		plumb_vec_release(&cx->chgs[i].pre);
		plumb_vec_release(&cx->chgs[i].pols);
	}
	free(cx->chgs);
	plumb_vec_release(&cx->acts);
	plumb_map_release(&cx->by_name);
	plumb_map_release(&cx->targets);
}

int plumb_plan_build(struct plumb_plan *p, const struct plumb_diff *d,
		     const struct plumb_plan_opts *opts, struct plumb_err *err)
{
	if (!p || !d)
		return plumb_err_set(err, PLUMB_EINVAL, "plan: no diff to plan from");
	if (p->actions.len || p->diff)
		return plumb_err_set(err, PLUMB_EINVAL, "plan: built twice (release it first)");
	struct ctx cx = { .p = p, .d = d, .opts = opts, .n = d->changes.len };
	p->diff = d;
	cx.chgs = calloc(cx.n ? cx.n : 1, sizeof(*cx.chgs));
	if (!cx.chgs)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory planning");
	for (size_t i = 0; i < cx.n; i++) {
		const struct plumb_change *c = d->changes.items[i];
		struct chg *g = &cx.chgs[i];
		g->c = c;
		count(p, c);
		char key[2048];
		if (c->want) {
			snprintf(key, sizeof(key), "%s/%s", plumb_kind_name(c->kind), c->name);
			int rc = plumb_map_put(&cx.by_name, key, g);
			oom_if(&cx, rc != 0 && rc != PLUMB_EEXIST);
		}
		if (c->kind == PLUMB_KIND_SCALABLE_TARGET && c->physical &&
		    c->type != PLUMB_CHANGE_CONFLICT) {
			snprintf(key, sizeof(key), "%s|%s", c->region ? c->region : "", c->physical);
			int rc = plumb_map_put(&cx.targets, key, g);
			oom_if(&cx, rc != 0 && rc != PLUMB_EEXIST);
		}
	}
	for (size_t i = 0; i < cx.n; i++)
		choreograph(&cx, &cx.chgs[i]);
	for (size_t i = 0; i < cx.n && !cx.rc; i++)
		gen(&cx, &cx.chgs[i]);
	if (!cx.rc) {
		wire_refs(&cx);
		wire_choreography(&cx);
		wire_deletes(&cx);
	}
	int rc = cx.rc ? plumb_err_set(err, cx.rc, "out of memory planning") : order(&cx, err);
	if (rc) {
		/* the plan keeps nothing: every action's values are freed here */
		plumb_vec_release(&p->actions);
		ctx_release(&cx, true);
		return rc;
	}
	ctx_release(&cx, false);
	return 0;
}

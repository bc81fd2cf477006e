/*
 * The diff proper: each desired resource matched with what is live under its identity,
 * ownership decided, references resolved, fields and tags compared (compare.c), then what is
 * live and ours but wanted by nobody: superseded versions of immutable resources, orphans.
 *
 * Matching: (kind, region, physical name, parent) through plumb_observed_find; a scaling
 * policy's parent is the ResourceId of the ScalableTarget it depends on.
 *
 * Ownership (DESIGN.md §4): ours when tag plumb:owner equals opts->owner; scaling policies carry
 * no tags and follow their scalable target. A wanted name held by an untagged resource is a
 * CONFLICT that suggests --adopt, or with opts->adopt an ADOPT (deltas computed as if ours);
 * held by another owner it is a CONFLICT, whatever --adopt says.
 *
 * Type of a change on a resource of ours: REPLACE when a delta forces it, else UPDATE when a
 * managed spec field differs, else TAG when only tags differ, else NONE. Info deltas are kept
 * for changed resources, and for unchanged ones only with opts->show_info. A Model or
 * EndpointConfig whose live plumb:spec-hash tag is the wanted hash was created from this very
 * spec and SageMaker cannot change it: its field deltas are shown as info, never a REPLACE
 * (a normalisation gap must not turn into a replacement on every pass). Without that tag
 * (adopted, made by hand) its field deltas force a REPLACE. When live is NULL (listed, not
 * described) only tags are compared.
 *
 * References in change->spec: {"plumb:ref": "Topic/x"} becomes the topic's ARN
 * (arn:aws:sns:<region>:<account>:<name>; the account is opts->account, else the resource's
 * Defaults accountId; without either the marker stays); {"plumb:ref": "ScalingPolicy/t/p"}
 * becomes the live policy's PolicyARN when the policy is live, else stays (apply fills it).
 *
 * Leftovers: an observed resource of ours that no desired resource matches is
 *  - skipped when it is a TargetTracking-* alarm (Application Auto Scaling owns those);
 *  - DELETE superseded when it is a Model or EndpointConfig whose plumb:id names a desired
 *    resource of the same kind and region (that resource has a new hash-suffixed name), whatever
 *    the prune policy;
 *  - otherwise DELETE when pruning, ORPHAN when not. opts->prune 1/0 decides for all; -1 asks
 *    the prune of the wanted ScalableTarget for a policy under it, and opts->default_prune (the
 *    top-level Defaults) for everything else, since no Defaults names an orphan.
 * Observed resources that are not ours and match nothing are ignored (live or not).
 *
 * Order: desired resources as given (dependency order), then leftovers by kind in reverse
 * dependency order (Alarm, ScalingPolicy, ScalableTarget, Endpoint, EndpointConfig, Model,
 * Topic), by region and name within a kind. Costs: one map of desired identities, one lookup
 * per resource, the field walk of each matched pair.
 */
#include "diff/diff.h"
#include "diff/diff_int.h"

#include <stdlib.h>
#include <string.h>

const char *plumb_change_type_name(enum plumb_change_type t)
{
	switch (t) {
	case PLUMB_CHANGE_NONE: return "none";
	case PLUMB_CHANGE_CREATE: return "create";
	case PLUMB_CHANGE_UPDATE: return "update";
	case PLUMB_CHANGE_REPLACE: return "replace";
	case PLUMB_CHANGE_TAG: return "tag";
	case PLUMB_CHANGE_ADOPT: return "adopt";
	case PLUMB_CHANGE_DELETE: return "delete";
	case PLUMB_CHANGE_ORPHAN: return "orphan";
	case PLUMB_CHANGE_CONFLICT: return "conflict";
	}
	return "unknown";
}

void plumb_diff_init(struct plumb_diff *d)
{
	memset(d, 0, sizeof(*d));
}

static void change_release(struct plumb_change *ch)
{
	json_decref(ch->spec);
	json_decref(ch->tags);
	for (size_t i = 0; i < ch->deltas.len; i++)
		plumb__delta_release(ch->deltas.items[i]);
	plumb_vec_release(&ch->deltas);
}

void plumb_diff_release(struct plumb_diff *d)
{
	for (size_t i = 0; i < d->changes.len; i++)
		change_release(d->changes.items[i]);
	plumb_vec_release(&d->changes);
	plumb_arena_release(&d->arena);
	memset(d, 0, sizeof(*d));
}

bool plumb_diff_has_changes(const struct plumb_diff *d)
{
	for (size_t i = 0; i <= PLUMB_CHANGE_CONFLICT; i++)
		if (i != PLUMB_CHANGE_NONE && i != PLUMB_CHANGE_ORPHAN && d->counts[i])
			return true;
	return false;
}

/* ---------------------------------------------------------------- one pass */

struct ctx {
	struct plumb_diff *d;                  /* what we fill */
	const struct plumb_vec *want;          /* desired resources */
	const struct plumb_observed_set *have; /* live resources */
	const struct plumb_diff_opts *opts;    /* owner, account, adopt, prune */
	struct plumb_map by_name;              /* "Kind/name" -> desired resource */
	struct plumb_map by_identity;          /* plumb_observed_key -> desired resource */
	struct plumb_vec leftovers;            /* struct plumb_change *, sorted at the end */
};

static const struct plumb_resource *desired(const struct ctx *c, const char *ref)
{
	return plumb_map_get(&c->by_name, ref);
}

/* The value a reference marker stands for, when it can be known now; NULL otherwise. */
static json_t *resolve_ref(const struct ctx *c, const char *ref)
{
	const struct plumb_resource *r = desired(c, ref);
	if (!r || !r->physical)
		return NULL;
	if (r->kind == PLUMB_KIND_TOPIC) {
		const char *acct = c->opts->account ? c->opts->account : r->account;
		if (!acct || !r->region)
			return NULL;
		char arn[512];
		return plumb_arn(PLUMB_KIND_TOPIC, r->region, acct, r->physical, arn, sizeof(arn))
			       ? NULL
			       : json_string(arn);
	}
	if (r->kind == PLUMB_KIND_SCALING_POLICY) {
		const struct plumb_observed *o =
			plumb_observed_find(c->have, r->kind, r->region, r->physical,
					    plumb_resource_parent(r));
		if (!o || !o->live)
			return NULL;
		const char *arn = json_string_value(json_object_get(o->live, "PolicyARN"));
		if (!arn)
			arn = o->arn;
		return arn ? json_string(arn) : NULL;
	}
	return NULL;
}

/* A copy of v with every marker that can be resolved replaced; NULL on allocation failure. */
static json_t *resolve(const struct ctx *c, const json_t *v)
{
	const char *ref = plumb_ref_marker_target(v);
	if (ref) {
		json_t *x = resolve_ref(c, ref);
		return x ? x : json_deep_copy(v);
	}
	if (json_is_array(v)) {
		json_t *out = json_array();
		for (size_t i = 0; out && i < json_array_size(v); i++) {
			json_t *x = resolve(c, json_array_get(v, i));
			if (!x || json_array_append_new(out, x) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (json_is_object(v)) {
		json_t *out = json_object();
		const char *k;
		json_t *mv;
		json_object_foreach((json_t *)v, k, mv) {
			json_t *x = out ? resolve(c, mv) : NULL;
			if (!x || json_object_set_new(out, k, x) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return json_deep_copy(v);
}

/* The full tag object plumb wants on r. */
static json_t *wanted_tags(const struct ctx *c, const struct plumb_resource *r)
{
	json_t *t = r->tags ? json_deep_copy(r->tags) : json_object();
	if (!t)
		return NULL;
	char id[600];
	snprintf(id, sizeof(id), "%s/%s", plumb_kind_name(r->kind), r->name);
	if (json_object_set_new(t, PLUMB_TAG_OWNER, json_string(c->opts->owner)) != 0 ||
	    json_object_set_new(t, PLUMB_TAG_ID, json_string(id)) != 0 ||
	    json_object_set_new(t, PLUMB_TAG_HASH, json_string(r->hash)) != 0) {
		json_decref(t);
		return NULL;
	}
	return t;
}

static struct plumb_change *new_change(struct ctx *c)
{
	struct plumb_change *ch = plumb_arena_zalloc(&c->d->arena, sizeof(*ch));
	return ch;
}

/* plumb:owner of o, or of its scalable target for a policy; NULL when untagged / unknown. */
static const char *owner_of(const struct ctx *c, const struct plumb_observed *o)
{
	if (o->kind != PLUMB_KIND_SCALING_POLICY)
		return plumb_observed_tag(o, PLUMB_TAG_OWNER);
	const struct plumb_observed *t =
		o->parent ? plumb_observed_find(c->have, PLUMB_KIND_SCALABLE_TARGET, o->region,
						o->parent, NULL)
			  : NULL;
	return t ? plumb_observed_tag(t, PLUMB_TAG_OWNER) : NULL;
}

static bool ours(const struct ctx *c, const struct plumb_observed *o)
{
	const char *w = owner_of(c, o);
	return w && strcmp(w, c->opts->owner) == 0;
}

/* Drops info deltas (resource unchanged, info not asked for). */
static void drop_info(struct plumb_change *ch)
{
	size_t n = 0;
	for (size_t i = 0; i < ch->deltas.len; i++) {
		struct plumb_delta *dl = ch->deltas.items[i];
		if (dl->info)
			plumb__delta_release(dl);
		else
			ch->deltas.items[n++] = dl;
	}
	ch->deltas.len = n;
}

static int diff_one(struct ctx *c, const struct plumb_resource *r, struct plumb_err *err)
{
	struct plumb_arena *a = &c->d->arena;
	if (!r->region)
		return plumb_err_set(err, PLUMB_EINVAL, "%s %s has no region",
				     plumb_kind_name(r->kind), r->name);
	if (!r->physical)
		return plumb_err_set(err, PLUMB_EINVAL, "%s %s has no physical name",
				     plumb_kind_name(r->kind), r->name);
	struct plumb_change *ch = new_change(c);
	if (!ch || plumb_vec_push(&c->d->changes, ch) != 0)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	ch->kind = r->kind;
	ch->name = r->name;
	ch->physical = r->physical;
	ch->region = r->region;
	ch->want = r;
	ch->parent = plumb_resource_parent(r);
	ch->spec = r->spec ? resolve(c, r->spec) : json_object();
	if (!ch->spec)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	if (r->kind != PLUMB_KIND_SCALING_POLICY && !(ch->tags = wanted_tags(c, r)))
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");

	const struct plumb_observed *o =
		plumb_observed_find(c->have, r->kind, r->region, r->physical, ch->parent);
	ch->have = o;
	if (!o) {
		ch->type = PLUMB_CHANGE_CREATE;
		return 0;
	}
	const char *owner = owner_of(c, o);
	bool adopting = false;
	if (!owner) {
		if (!c->opts->adopt) {
			ch->type = PLUMB_CHANGE_CONFLICT;
			ch->reason = plumb_arena_printf(
				a, "%s %s exists but is not managed by plumb (no %s tag%s); rerun with "
				   "--adopt to take it over",
				plumb_kind_name(r->kind), r->physical, PLUMB_TAG_OWNER,
				r->kind == PLUMB_KIND_SCALING_POLICY ? " on its scalable target" : "");
			return ch->reason ? 0 : plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		}
		adopting = true;
	} else if (strcmp(owner, c->opts->owner) != 0) {
		ch->type = PLUMB_CHANGE_CONFLICT;
		ch->reason = plumb_arena_printf(a, "%s %s is owned by plumb owner %s (we are %s); it "
						   "is never touched",
						plumb_kind_name(r->kind), r->physical, owner,
						c->opts->owner);
		return ch->reason ? 0 : plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	}

	json_t *live = plumb_diff_live_spec(o);
	if (o->live && !live)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	int rc = plumb__diff_spec(a, r->kind, ch->spec, live, &ch->deltas);
	json_decref(live);
	size_t n_spec = ch->deltas.len;
	if (rc == 0 && ch->tags)
		rc = plumb__diff_tags(a, ch->tags, o->tags, &ch->deltas);
	if (rc != 0)
		return plumb_err_set(err, rc, "out of memory");

	/* an immutable resource made from this very spec cannot have changed: what differs is a
	 * normalisation plumb lacks, and replacing over it would churn forever */
	const char *made_from = plumb_observed_tag(o, PLUMB_TAG_HASH);
	if (plumb_kind_info(r->kind)->immutable && !adopting && made_from &&
	    strcmp(made_from, r->hash) == 0) {
		for (size_t i = 0; i < n_spec; i++) {
			struct plumb_delta *dl = ch->deltas.items[i];
			dl->info = true;
			dl->forces_replace = false;
		}
	}
	bool replace = false, update = false, tag = ch->deltas.len > n_spec;
	const char *first_replace = NULL;
	for (size_t i = 0; i < n_spec; i++) {
		const struct plumb_delta *dl = ch->deltas.items[i];
		if (dl->info)
			continue;
		update = true;
		if (dl->forces_replace && !replace) {
			replace = true;
			first_replace = dl->path;
		}
	}
	if (adopting) {
		ch->type = PLUMB_CHANGE_ADOPT;
		ch->reason = "untagged: adopted (--adopt), then tagged and updated";
	} else if (replace) {
		ch->type = PLUMB_CHANGE_REPLACE;
		ch->reason = plumb_arena_printf(a, "%s cannot be changed in place", first_replace);
		if (!ch->reason)
			return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	} else if (update) {
		ch->type = PLUMB_CHANGE_UPDATE;
	} else if (tag) {
		ch->type = PLUMB_CHANGE_TAG;
	} else {
		ch->type = PLUMB_CHANGE_NONE;
		if (!c->opts->show_info)
			drop_info(ch);
	}
	return 0;
}

/* ---------------------------------------------------------------- leftovers */

static int kind_rank(enum plumb_kind k)
{
	static const enum plumb_kind order[] = {
		PLUMB_KIND_ALARM,	    PLUMB_KIND_SCALING_POLICY, PLUMB_KIND_SCALABLE_TARGET,
		PLUMB_KIND_ENDPOINT,	    PLUMB_KIND_ENDPOINT_CONFIG, PLUMB_KIND_MODEL,
		PLUMB_KIND_TOPIC,
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(order); i++)
		if (order[i] == k)
			return (int)i;
	return (int)PLUMB_ARRAY_LEN(order);
}

static int cmp_str(const char *x, const char *y)
{
	return strcmp(x ? x : "", y ? y : "");
}

static int cmp_leftover(const void *x, const void *y)
{
	const struct plumb_change *p = *(const struct plumb_change *const *)x;
	const struct plumb_change *q = *(const struct plumb_change *const *)y;
	int r = kind_rank(p->kind) - kind_rank(q->kind);
	if (!r)
		r = cmp_str(p->region, q->region);
	if (!r)
		r = cmp_str(p->parent, q->parent);
	if (!r)
		r = cmp_str(p->physical, q->physical);
	return r;
}

/* The manifest name of a leftover: its plumb:id name, for a policy its target's + "/policy". */
static const char *leftover_name(struct ctx *c, const struct plumb_observed *o)
{
	const char *id = plumb_observed_tag(o, PLUMB_TAG_ID);
	if (o->kind == PLUMB_KIND_SCALING_POLICY && o->parent) {
		const struct plumb_observed *t = plumb_observed_find(
			c->have, PLUMB_KIND_SCALABLE_TARGET, o->region, o->parent, NULL);
		const char *tid = t ? plumb_observed_tag(t, PLUMB_TAG_ID) : NULL;
		const char *slash = tid ? strchr(tid, '/') : NULL;
		if (slash)
			return plumb_arena_printf(&c->d->arena, "%s/%s", slash + 1, o->name);
	}
	const char *slash = id ? strchr(id, '/') : NULL;
	return slash ? slash + 1 : o->name;
}

/* The desired ScalableTarget a live policy sits under, or NULL. */
static const struct plumb_resource *wanted_target(const struct ctx *c,
						  const struct plumb_observed *o)
{
	if (o->kind != PLUMB_KIND_SCALING_POLICY || !o->parent)
		return NULL;
	char *key = plumb_observed_key(PLUMB_KIND_SCALABLE_TARGET, o->region, o->parent, NULL);
	const struct plumb_resource *r = key ? plumb_map_get(&c->by_identity, key) : NULL;
	free(key);
	return r;
}

static bool prune_for(const struct ctx *c, const struct plumb_observed *o)
{
	if (c->opts->prune >= 0)
		return c->opts->prune > 0;
	const struct plumb_resource *t = wanted_target(c, o);
	return t ? t->prune : c->opts->default_prune;
}

static int leftover(struct ctx *c, const struct plumb_observed *o, struct plumb_err *err)
{
	struct plumb_arena *a = &c->d->arena;
	if (o->kind == PLUMB_KIND_ALARM && strncmp(o->name, "TargetTracking-", 15) == 0)
		return 0;
	if (!ours(c, o))
		return 0;
	struct plumb_change *ch = new_change(c);
	if (!ch || plumb_vec_push(&c->leftovers, ch) != 0)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	ch->kind = o->kind;
	ch->physical = o->name;
	ch->parent = o->parent;
	ch->region = o->region;
	ch->have = o;
	ch->name = leftover_name(c, o);
	if (!ch->name)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");

	const struct plumb_kind_info *ki = plumb_kind_info(o->kind);
	const char *id = plumb_observed_tag(o, PLUMB_TAG_ID);
	const struct plumb_resource *now = id && ki->immutable ? desired(c, id) : NULL;
	if (now && now->kind == o->kind && now->region && strcmp(now->region, o->region) == 0) {
		ch->type = PLUMB_CHANGE_DELETE;
		ch->superseded = true;
		ch->superseded_by = now->physical;
		ch->reason = plumb_arena_printf(a, "superseded by %s", now->physical);
	} else if (prune_for(c, o)) {
		ch->type = PLUMB_CHANGE_DELETE;
		ch->reason = "no manifest names it (prune on)";
	} else {
		ch->type = PLUMB_CHANGE_ORPHAN;
		ch->reason = "no manifest names it (prune off: listed, not deleted)";
	}
	return ch->reason ? 0 : plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------- entry point */

static int index_want(struct ctx *c, struct plumb_err *err)
{
	for (size_t i = 0; i < c->want->len; i++) {
		const struct plumb_resource *r = c->want->items[i];
		if (r->kind == PLUMB_KIND_DEFAULTS)
			continue;
		char name[600];
		snprintf(name, sizeof(name), "%s/%s", plumb_kind_name(r->kind), r->name);
		int rc = plumb_map_put(&c->by_name, name, (void *)r);
		if (rc == PLUMB_ENOMEM)
			return plumb_err_set(err, rc, "out of memory");
		if (!r->region || !r->physical)
			continue; /* reported by diff_one */
		char *key = plumb_observed_key(r->kind, r->region, r->physical,
					       plumb_resource_parent(r));
		rc = key ? plumb_map_put(&c->by_identity, key, (void *)r) : PLUMB_ENOMEM;
		free(key);
		if (rc == PLUMB_ENOMEM)
			return plumb_err_set(err, rc, "out of memory");
	}
	return 0;
}

static bool is_wanted(const struct ctx *c, const struct plumb_observed *o)
{
	char *key = plumb_observed_key(o->kind, o->region, o->name, o->parent);
	bool w = key && plumb_map_get(&c->by_identity, key) != NULL;
	free(key);
	return w;
}

int plumb_diff_compute(struct plumb_diff *d, const struct plumb_vec *want,
		       const struct plumb_observed_set *have, const struct plumb_diff_opts *opts,
		       struct plumb_err *err)
{
	if (!opts || !opts->owner || !*opts->owner)
		return plumb_err_set(err, PLUMB_EINVAL, "diff needs an owner");
	struct ctx c = { .d = d, .want = want, .have = have, .opts = opts };
	int rc = index_want(&c, err);
	for (size_t i = 0; rc == 0 && i < want->len; i++) {
		const struct plumb_resource *r = want->items[i];
		if (r->kind != PLUMB_KIND_DEFAULTS)
			rc = diff_one(&c, r, err);
	}
	for (size_t i = 0; rc == 0 && i < have->items.len; i++) {
		const struct plumb_observed *o = have->items.items[i];
		if (!is_wanted(&c, o))
			rc = leftover(&c, o, err);
	}
	plumb_vec_sort(&c.leftovers, cmp_leftover);
	for (size_t i = 0; i < c.leftovers.len; i++) {
		if (plumb_vec_push(&d->changes, c.leftovers.items[i]) != 0) {
			/* the rest are in the arena only; nothing of theirs needs releasing */
			if (rc == 0)
				rc = plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
			break;
		}
	}
	for (size_t i = 0; i < d->changes.len; i++) {
		const struct plumb_change *ch = d->changes.items[i];
		d->counts[ch->type]++;
	}
	plumb_vec_release(&c.leftovers);
	plumb_map_release(&c.by_name);
	plumb_map_release(&c.by_identity);
	return rc;
}

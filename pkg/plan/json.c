/*
 * pkg/plan/json.c — the JSON plan (docs/plan-format.md, schema/plan.schema.json) and the
 * fingerprint of the live state a saved plan was made from.
 *
 * Owns plumb_plan_to_json and plumb_plan_fingerprint. Objects are built member by member in the
 * documented order, so a dump without JSON_SORT_KEYS keeps that order (jansson keeps insertion
 * order); action inputs keep the order of the specs they were copied from. Absent values are
 * JSON null, never missing keys, so consumers can index without checks.
 *
 * The fingerprint reads only the saved JSON's "resources" (kind, region, physical, parent) and
 * an observed set, so `apply FILE` can recompute it after a fresh observation. Per resource it
 * hashes one line:
 *
 *     <identity key>\t<modified_ms>\t<status>\t<live>\t<tags>      (or <identity key>\tabsent)
 *
 * where the identity key is plumb_observed_key's (SageMaker names lower-cased), live is the
 * observed reply minus members that move without anyone changing the resource (alarm state,
 * endpoint variant counts and weights, topic subscription counts, predicted capacity) dumped
 * with JSON_SORT_KEYS | JSON_COMPACT, and tags likewise. Lines are sorted and de-duplicated
 * before hashing, so the order of "resources" does not matter. Costs O(size of the resources).
 */
#include "plan/plan.h"
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ to JSON */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *copy_or_null(const json_t *v)
{
	return v ? json_deep_copy(v) : json_null();
}

static json_t *address(enum plumb_kind k, const char *name)
{
	return json_sprintf("%s/%s", plumb_kind_name(k), name ? name : "");
}

static json_t *delta_json(const struct plumb_delta *dl)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:b,s:b}", "path", str_or_null(dl->path), "aws_path",
			 str_or_null(dl->aws_path), "old", copy_or_null(dl->old), "new",
			 copy_or_null(dl->new), "info", dl->info, "forces_replace",
			 dl->forces_replace);
}

static json_t *resource_json(const struct plumb_change *c)
{
	json_t *deltas = json_array();
	for (size_t i = 0; deltas && i < c->deltas.len; i++)
		if (json_array_append_new(deltas, delta_json(c->deltas.items[i])) != 0) {
			json_decref(deltas);
			return NULL;
		}
	return json_pack("{s:o,s:s,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o}", "address",
			 address(c->kind, c->name), "kind", plumb_kind_name(c->kind), "name",
			 str_or_null(c->name), "physical", str_or_null(c->physical), "region",
			 str_or_null(c->region), "parent", str_or_null(c->parent), "action",
			 plumb_change_type_name(c->type), "reason", str_or_null(c->reason),
			 "superseded_by", str_or_null(c->superseded_by), "deltas", deltas);
}

static json_t *action_json(const struct plumb_action *a)
{
	json_t *deps = json_array();
	for (size_t i = 0; deps && i < a->deps.len; i++)
		if (json_array_append_new(
			    deps, json_integer((json_int_t)((const struct plumb_action *)a->deps.items[i])
						       ->id)) != 0) {
			json_decref(deps);
			return NULL;
		}
	json_t *deadline = a->type == PLUMB_ACTION_WAIT ? json_integer(a->wait_deadline_s)
							: json_null();
	/* the wanted spec's hash: what apply records, and what the failed-hash rule checks */
	const char *hash = a->type != PLUMB_ACTION_DELETE && a->change && a->change->want
				   ? a->change->want->hash
				   : NULL;
	return json_pack("{s:I,s:s,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
			 "s:o}",
			 "id", (json_int_t)a->id, "type", plumb_action_type_name(a->type),
			 "spec_hash", str_or_null(hash && *hash ? hash : NULL),
			 "operation", str_or_null(plumb__plan_operation(a)), "address",
			 address(a->kind, a->name), "kind", plumb_kind_name(a->kind), "name",
			 str_or_null(a->name), "physical", str_or_null(a->physical), "parent",
			 str_or_null(a->parent), "region", str_or_null(a->region), "input",
			 copy_or_null(a->input), "add_tags", copy_or_null(a->add_tags),
			 "remove_tags", copy_or_null(a->remove_tags), "wait_for",
			 str_or_null(plumb__plan_wait_name(a->wait_for)), "wait_config",
			 str_or_null(a->wait_config), "wait_deadline_s", deadline, "why",
			 str_or_null(a->why), "depends_on", deps);
}

json_t *plumb_plan_to_json(const struct plumb_plan *p, const json_t *meta)
{
	json_t *summary = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "create", (int)p->n_create,
				    "update", (int)p->n_update, "delete", (int)p->n_delete,
				    "replace", (int)p->n_replace, "tag", (int)p->n_tag, "orphan",
				    (int)p->n_orphan, "conflict", (int)p->n_conflict);
	json_t *resources = json_array(), *actions = json_array();
	bool ok = summary && resources && actions;
	const struct plumb_diff *d = p->diff;
	for (size_t i = 0; ok && d && i < d->changes.len; i++) {
		const struct plumb_change *c = d->changes.items[i];
		if (plumb__plan_lists_change(p, c))
			ok = json_array_append_new(resources, resource_json(c)) == 0;
	}
	for (size_t i = 0; ok && i < p->actions.len; i++)
		ok = json_array_append_new(actions, action_json(p->actions.items[i])) == 0;
	if (!ok) {
		json_decref(summary);
		json_decref(resources);
		json_decref(actions);
		return NULL;
	}
	return json_pack("{s:i,s:o,s:o,s:o,s:o}", "format_version", 1, "summary", summary,
			 "resources", resources, "actions", actions, "meta",
			 meta ? json_deep_copy(meta) : json_object());
}

/* ------------------------------------------------------------------ fingerprint */

static void drop(json_t *o, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_del(o, keys[i]);
}

/* A copy of live without the members that change while nobody changes the resource. */
static json_t *stable_live(enum plumb_kind k, const json_t *live)
{
	static const char *const alarm[] = { "StateValue", "StateReason", "StateReasonData",
		"StateUpdatedTimestamp", "StateTransitionedTimestamp", "EvaluationState" };
	static const char *const variant[] = { "CurrentInstanceCount", "DesiredInstanceCount",
		"CurrentWeight", "DesiredWeight", "VariantStatus", "InstancePools",
		"CurrentServerlessConfig", "DesiredServerlessConfig" };
	static const char *const topic[] = { "SubscriptionsConfirmed", "SubscriptionsPending",
		"SubscriptionsDeleted" };
	static const char *const target[] = { "PredictedCapacity" };
	json_t *c = json_deep_copy(live);
	if (!json_is_object(c))
		return c;
	switch (k) {
	case PLUMB_KIND_ALARM:
		drop(c, alarm, PLUMB_ARRAY_LEN(alarm));
		break;
	case PLUMB_KIND_ENDPOINT: {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(c, "ProductionVariants"), i, v)
			drop(v, variant, PLUMB_ARRAY_LEN(variant));
		json_array_foreach(json_object_get(c, "ShadowProductionVariants"), i, v)
			drop(v, variant, PLUMB_ARRAY_LEN(variant));
		break;
	}
	case PLUMB_KIND_TOPIC:
		drop(c, topic, PLUMB_ARRAY_LEN(topic));
		break;
	case PLUMB_KIND_SCALABLE_TARGET:
		drop(c, target, PLUMB_ARRAY_LEN(target));
		break;
	default:
		break;
	}
	return c;
}

static char *dump_canonical(const json_t *v)
{
	if (!v)
		return strdup("null");
	return json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Any kind a plan names, ScalingPolicy included (plumb_kind_from_name knows manifest kinds). */
static int kind_from_name(const char *name)
{
	for (int k = 0; k < PLUMB_KIND__COUNT; k++)
		if (k != PLUMB_KIND_DEFAULTS && strcmp(plumb_kind_name((enum plumb_kind)k), name) == 0)
			return k;
	return -1;
}

/* One resource's line, malloc'd; NULL on bad input (*rc set) or no memory. */
static char *fingerprint_line(const json_t *r, const struct plumb_observed_set *have, int *rc)
{
	const char *kname = json_string_value(json_object_get(r, "kind"));
	int k = kname ? kind_from_name(kname) : -1;
	if (k < 0) {
		*rc = PLUMB_EINVAL;
		return NULL;
	}
	const char *region = json_string_value(json_object_get(r, "region"));
	const char *physical = json_string_value(json_object_get(r, "physical"));
	const char *parent = json_string_value(json_object_get(r, "parent"));
	char *key = plumb_observed_key((enum plumb_kind)k, region, physical, parent);
	if (!key) {
		*rc = PLUMB_ENOMEM;
		return NULL;
	}
	const struct plumb_observed *o =
		have ? plumb_observed_find(have, (enum plumb_kind)k, region, physical, parent) : NULL;
	struct plumb_buf b = PLUMB_BUF_INIT;
	int e = plumb_buf_addf(&b, "%s\t", key);
	free(key);
	if (!o) {
		e = e ? e : plumb_buf_adds(&b, "absent");
	} else {
		json_t *live = stable_live((enum plumb_kind)k, o->live);
		char *lt = dump_canonical(live), *tt = dump_canonical(o->tags);
		e = e ? e : (lt && tt ? 0 : PLUMB_ENOMEM);
		e = e ? e : plumb_buf_addf(&b, "%lld\t%s\t%s\t%s", (long long)o->modified_ms,
					   o->status ? o->status : "", lt, tt);
		free(lt);
		free(tt);
		json_decref(live);
	}
	if (e) {
		plumb_buf_release(&b);
		*rc = PLUMB_ENOMEM;
		return NULL;
	}
	return plumb_buf_detach(&b, NULL);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int plumb_plan_fingerprint(const json_t *plan_json, const struct plumb_observed_set *have,
			   char out[65])
{
	out[0] = '\0';
	const json_t *res = json_object_get(plan_json, "resources");
	if (!json_is_array(res))
		return PLUMB_EINVAL;
	struct plumb_vec lines = PLUMB_VEC_INIT;
	int rc = 0;
	size_t i;
	json_t *r;
	json_array_foreach((json_t *)res, i, r) {
		char *line = fingerprint_line(r, have, &rc);
		if (!line)
			break;
		if (plumb_vec_push(&lines, line) != 0) {
			free(line);
			rc = PLUMB_ENOMEM;
			break;
		}
	}
	if (!rc) {
		plumb_vec_sort(&lines, cmp_line);
		struct plumb_sha256 h;
		plumb_sha256_init(&h);
		for (size_t j = 0; j < lines.len; j++) {
			if (j && strcmp(lines.items[j], lines.items[j - 1]) == 0)
				continue;
			plumb_sha256_update(&h, lines.items[j], strlen(lines.items[j]));
			plumb_sha256_update(&h, "\n", 1);
		}
		uint8_t md[32];
		plumb_sha256_final(&h, md);
		plumb_hex(md, sizeof(md), out);
	}
	for (size_t j = 0; j < lines.len; j++)
		free(lines.items[j]);
	plumb_vec_release(&lines);
	return rc;
}

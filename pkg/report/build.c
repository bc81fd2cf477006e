/*
 * pkg/report/build.c — the drift report as JSON, from a diff and an observed set; the walk over
 * its drift items (for the state's history) and the filling in of first-seen times.
 *
 * Owns plumb_report_drift, plumb_report_in_sync, plumb_report_visit and
 * plumb_report_set_first_seen. The document is built member by member in the documented order
 * (jansson keeps insertion order), absent values are null, never missing keys. Costs one pass
 * over the changes and, with include_unmanaged, one over the observed set; the visit keeps a
 * map of the identities it has passed so each is reported to the history once.
 */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = { "text", "markdown", "json", "junit" };

const char *plumb_report_format_name(enum plumb_report_format f)
{
	return (size_t)f < PLUMB_ARRAY_LEN(format_names) ? format_names[f] : "?";
}

int plumb_report_format_from_name(const char *name)
{
	for (size_t i = 0; name && i < PLUMB_ARRAY_LEN(format_names); i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t ms)
{
	if (ms <= 0)
		return json_null();
	char t[21];
	plumb_time_iso8601(ms, t);
	return json_string(t);
}

/* Whole-resource statuses, by diff change type; NULL for field-level drift or none. */
static const char *status_of(const struct plumb_change *c)
{
	switch (c->type) {
	case PLUMB_CHANGE_NONE: return "in_sync";
	case PLUMB_CHANGE_CREATE: return "missing";
	case PLUMB_CHANGE_UPDATE:
	case PLUMB_CHANGE_REPLACE:
	case PLUMB_CHANGE_TAG:
	case PLUMB_CHANGE_ADOPT: return "drifted";
	case PLUMB_CHANGE_DELETE:
	case PLUMB_CHANGE_ORPHAN: return "orphan";
	case PLUMB_CHANGE_CONFLICT: return "conflict";
	}
	return "drifted";
}

static int64_t last_modified(const struct plumb_observed *o)
{
	if (!o)
		return 0;
	return o->modified_ms > 0 ? o->modified_ms : o->created_ms;
}

static json_t *drift_item(const struct plumb_delta *dl)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:b,s:n}", "path", str_or_null(dl->path), "aws_path",
			 str_or_null(dl->aws_path), "wanted",
			 dl->new ? json_deep_copy(dl->new) : json_null(), "live",
			 dl->old ? json_deep_copy(dl->old) : json_null(), "forces_replace",
			 dl->forces_replace, "first_seen");
}

static const char *default_reason(const struct plumb_change *c, const char *status)
{
	if (strcmp(status, "missing") == 0)
		return "wanted by the manifests, not in AWS";
	if (strcmp(status, "orphan") == 0)
		return c->superseded ? "an older version of a changed spec, not yet collected"
				     : "owned, but no manifest names it";
	return NULL;
}

static json_t *resource_json(const struct plumb_change *c)
{
	const char *status = status_of(c);
	json_t *items = json_array();
	if (!items)
		return NULL;
	if (strcmp(status, "drifted") == 0) {
		for (size_t i = 0; i < c->deltas.len; i++) {
			const struct plumb_delta *dl = c->deltas.items[i];
			if (dl->info)
				continue;
			if (json_array_append_new(items, drift_item(dl)) != 0) {
				json_decref(items);
				return NULL;
			}
		}
		/* a change type without a managed delta (should not happen): still drift, as a whole */
	}
	const char *reason = c->reason ? c->reason : default_reason(c, status);
	return json_pack("{s:o,s:s,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:n,s:o}", "address",
			 json_sprintf("%s/%s", plumb_kind_name(c->kind), c->name ? c->name : ""),
			 "kind", plumb_kind_name(c->kind), "name", str_or_null(c->name), "physical",
			 str_or_null(c->physical), "region", str_or_null(c->region), "parent",
			 str_or_null(c->parent), "status", status, "reason", str_or_null(reason),
			 "superseded_by", str_or_null(c->superseded_by), "last_modified",
			 time_or_null(last_modified(c->have)), "first_seen", "drift", items);
}

static json_t *unmanaged_json(const struct plumb_observed *o)
{
	return json_pack("{s:o,s:s,s:s,s:s,s:s,s:n,s:s,s:s,s:n,s:o,s:n,s:[]}", "address",
			 json_sprintf("Endpoint/%s", o->name), "kind", "Endpoint", "name", o->name,
			 "physical", o->name, "region", o->region ? o->region : "", "parent",
			 "status", "unmanaged", "reason",
			 "a SageMaker endpoint with no plumb:owner tag that no manifest names",
			 "superseded_by", "last_modified", time_or_null(last_modified(o)),
			 "first_seen", "drift");
}

static int cmp_observed(const void *a, const void *b)
{
	const struct plumb_observed *x = *(const struct plumb_observed *const *)a;
	const struct plumb_observed *y = *(const struct plumb_observed *const *)b;
	int r = strcmp(x->region ? x->region : "", y->region ? y->region : "");
	return r ? r : strcmp(x->name, y->name);
}

/* Endpoints nobody owns and nobody wants: not the live side of any change. */
static int add_unmanaged(json_t *resources, const struct plumb_diff *d,
			 const struct plumb_observed_set *have)
{
	struct plumb_map seen = PLUMB_MAP_INIT;
	struct plumb_vec list = PLUMB_VEC_INIT;
	int rc = 0;
	char key[32];
	for (size_t i = 0; i < d->changes.len && rc == 0; i++) {
		const struct plumb_change *c = d->changes.items[i];
		if (!c->have)
			continue;
		snprintf(key, sizeof(key), "%p", (const void *)c->have);
		rc = plumb_map_put(&seen, key, (void *)c->have);
		if (rc == PLUMB_EEXIST)
			rc = 0;
	}
	for (size_t i = 0; have && i < have->items.len && rc == 0; i++) {
		const struct plumb_observed *o = have->items.items[i];
		if (o->kind != PLUMB_KIND_ENDPOINT || plumb_observed_tag(o, PLUMB_TAG_OWNER))
			continue;
		snprintf(key, sizeof(key), "%p", (const void *)o);
		if (plumb_map_get(&seen, key))
			continue;
		rc = plumb_vec_push(&list, (void *)o);
	}
	if (rc == 0)
		plumb_vec_sort(&list, cmp_observed);
	for (size_t i = 0; i < list.len && rc == 0; i++)
		if (json_array_append_new(resources, unmanaged_json(list.items[i])) != 0)
			rc = PLUMB_ENOMEM;
	plumb_vec_release(&list);
	plumb_map_release(&seen);
	return rc;
}

static const char *const counted[] = { "in_sync", "drifted", "missing", "orphan", "conflict",
				       "unmanaged" };

static json_t *summary_of(const json_t *resources)
{
	json_int_t n[PLUMB_ARRAY_LEN(counted)] = { 0 };
	json_int_t fields = 0;
	size_t i;
	json_t *r;
	json_array_foreach(resources, i, r) {
		const char *st = json_string_value(json_object_get(r, "status"));
		for (size_t k = 0; st && k < PLUMB_ARRAY_LEN(counted); k++)
			if (strcmp(st, counted[k]) == 0)
				n[k]++;
		fields += (json_int_t)json_array_size(json_object_get(r, "drift"));
	}
	json_int_t total = (json_int_t)json_array_size(resources);
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "resources", total, "in_sync",
			 n[0], "drifted", n[1], "missing", n[2], "orphan", n[3], "conflict", n[4],
			 "unmanaged", n[5], "with_drift", total - n[0], "fields", fields);
}

json_t *plumb_report_drift(const struct plumb_diff *d, const struct plumb_observed_set *have,
			   const struct plumb_report_opts *o, struct plumb_err *err)
{
	json_t *resources = json_array();
	if (!resources)
		goto nomem;
	for (size_t i = 0; i < d->changes.len; i++) {
		const struct plumb_change *c = d->changes.items[i];
		if (json_array_append_new(resources, resource_json(c)) != 0)
			goto nomem;
	}
	if (o->include_unmanaged && add_unmanaged(resources, d, have) != 0)
		goto nomem;
	json_t *summary = summary_of(resources);
	if (!summary)
		goto nomem;
	bool in_sync = json_integer_value(json_object_get(summary, "with_drift")) == 0;
	json_t *rep = json_pack(
		"{s:i,s:o,s:s,s:o,s:o,s:s,s:b,s:b,s:b,s:n,s:o,s:o}", "format_version",
		PLUMB_REPORT_FORMAT_VERSION, "generated", time_or_null(o->now_ms), "plumb_version",
#ifdef PLUMB_VERSION
		PLUMB_VERSION,
#else
		"0.0.0",
#endif
		"account", str_or_null(o->account), "owner", str_or_null(o->owner), "host",
		o->host && o->host[0] ? o->host : "localhost", "cached", o->cached,
		"include_unmanaged", o->include_unmanaged, "in_sync", in_sync, "oldest_drift",
		"summary", summary, "resources", resources);
	if (!rep) {
		resources = NULL; /* json_pack "o" stole it even on failure */
		goto nomem;
	}
	return rep;
nomem:
	json_decref(resources);
	plumb_err_set(err, PLUMB_ENOMEM, "out of memory building the drift report");
	return NULL;
}

bool plumb_report_in_sync(const json_t *report)
{
	return json_is_true(json_object_get(report, "in_sync"));
}

/* ------------------------------------------------------------------ visit and first seen */

static bool whole_resource(const char *status)
{
	return status && strcmp(status, "in_sync") != 0 && strcmp(status, "drifted") != 0;
}

static int visit_one(struct plumb_map *seen, const struct plumb_report_item *it,
		     plumb_report_visit_fn fn, void *data)
{
	char *key = NULL;
	size_t n = strlen(it->region) + strlen(it->kind) + strlen(it->name) + strlen(it->path) + 4;
	if (!(key = malloc(n)))
		return PLUMB_ENOMEM;
	snprintf(key, n, "%s\n%s\n%s\n%s", it->region, it->kind, it->name, it->path);
	int rc = plumb_map_put(seen, key, (void *)1);
	free(key);
	if (rc == PLUMB_EEXIST)
		return 0;
	if (rc)
		return rc;
	return fn(it, data);
}

static const char *sv(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

int plumb_report_visit(const json_t *report, plumb_report_visit_fn fn, void *data)
{
	struct plumb_map seen = PLUMB_MAP_INIT;
	const json_t *resources = json_object_get(report, "resources");
	size_t i;
	const json_t *r;
	int rc = 0;
	json_array_foreach(resources, i, r) {
		struct plumb_report_item it = {
			.region = sv(r, "region"),
			.kind = sv(r, "kind"),
			.name = sv(r, "name"),
			.status = sv(r, "status"),
			.path = "",
		};
		if (whole_resource(it.status)) {
			rc = visit_one(&seen, &it, fn, data);
		} else {
			size_t j;
			const json_t *dr;
			json_array_foreach(json_object_get(r, "drift"), j, dr) {
				it.path = sv(dr, "path");
				it.wanted = json_object_get(dr, "wanted");
				it.live = json_object_get(dr, "live");
				if (json_is_null(it.wanted))
					it.wanted = NULL;
				if (json_is_null(it.live))
					it.live = NULL;
				if ((rc = visit_one(&seen, &it, fn, data)) != 0)
					break;
			}
		}
		if (rc)
			break;
	}
	plumb_map_release(&seen);
	return rc;
}

static int lookup(plumb_report_first_seen_fn fn, void *data, const json_t *r, const char *path,
		  int64_t *ms, struct plumb_err *err)
{
	*ms = 0;
	return fn(data, sv(r, "region"), sv(r, "kind"), sv(r, "name"), path, ms, err);
}

int plumb_report_set_first_seen(json_t *report, plumb_report_first_seen_fn fn, void *data,
				struct plumb_err *err)
{
	json_t *resources = json_object_get(report, "resources");
	int64_t oldest = 0;
	size_t i;
	json_t *r;
	json_array_foreach(resources, i, r) {
		const char *status = sv(r, "status");
		int64_t first = 0, ms;
		int rc;
		if (whole_resource(status)) {
			if ((rc = lookup(fn, data, r, "", &first, err)) != 0)
				return rc;
		} else {
			size_t j;
			json_t *dr;
			json_array_foreach(json_object_get(r, "drift"), j, dr) {
				if ((rc = lookup(fn, data, r, sv(dr, "path"), &ms, err)) != 0)
					return rc;
				if (json_object_set_new(dr, "first_seen", time_or_null(ms)) != 0)
					return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
				if (ms > 0 && (first == 0 || ms < first))
					first = ms;
			}
		}
		if (json_object_set_new(r, "first_seen", time_or_null(first)) != 0)
			return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		if (first > 0 && (oldest == 0 || first < oldest))
			oldest = first;
	}
	if (json_object_set_new(report, "oldest_drift", time_or_null(oldest)) != 0)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	return 0;
}

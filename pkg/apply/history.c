/*
 * The drift history of a session: a drift report's items (pkg/report) recorded in the state
 * file per observed region, and the report's first_seen times read back. `plumb drift` and
 * `plumb run` both go through here, so they keep one history with the same identities.
 */
#include "apply.h"

#include "report/report.h"

#include <stdlib.h>
#include <string.h>

struct sync_ctx {
	const char *region;            /* the region being collected */
	struct plumb_vec recs;         /* struct plumb_drift_rec * of that region */
	struct plumb_arena a;          /* the records and their JSON texts */
};

static const char *json_text(struct plumb_arena *a, const json_t *v)
{
	if (!v)
		return NULL;
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	char *r = t ? plumb_arena_strdup(a, t) : NULL;
	free(t);
	return r;
}

static int collect(const struct plumb_report_item *it, void *data)
{
	struct sync_ctx *c = data;
	if (strcmp(it->region, c->region) != 0)
		return 0;
	struct plumb_drift_rec *r = plumb_arena_zalloc(&c->a, sizeof(*r));
	if (!r)
		return PLUMB_ENOMEM;
	r->kind = it->kind;
	r->name = it->name;
	r->path = it->path;
	r->wanted = json_text(&c->a, it->wanted);
	r->live = json_text(&c->a, it->live);
	return plumb_vec_push(&c->recs, r);
}

/* Every observed region is synced, so drift that went away is resolved there too. */
static int sync_history(struct plumb_session *s, const json_t *rep, struct plumb_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < s->regions.len && rc == 0; i++) {
		const struct plumb_session_region *reg = s->regions.items[i];
		struct sync_ctx c = { .region = reg->name };
		rc = plumb_report_visit(rep, collect, &c);
		if (rc)
			plumb_err_set(err, rc, "out of memory");
		struct plumb_drift_rec *recs = NULL;
		if (rc == 0 && c.recs.len &&
		    !(recs = plumb_arena_alloc(&c.a, c.recs.len * sizeof(*recs))))
			rc = plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		for (size_t k = 0; rc == 0 && k < c.recs.len; k++)
			recs[k] = *(struct plumb_drift_rec *)c.recs.items[k];
		if (rc == 0)
			rc = plumb_state_drift_sync(s->state, s->account, reg->name, recs,
						    c.recs.len, err);
		plumb_vec_release(&c.recs);
		plumb_arena_release(&c.a);
	}
	return rc;
}

static int first_seen(void *data, const char *region, const char *kind, const char *name,
		      const char *path, int64_t *ms, struct plumb_err *err)
{
	struct plumb_session *s = data;
	return plumb_state_drift_first_seen(s->state, s->account, region, kind, name, path, ms,
					    err);
}

int plumb_session_drift_history(struct plumb_session *s, json_t *report, bool record,
				struct plumb_err *err)
{
	int rc = record ? sync_history(s, report, err) : 0;
	return rc ? rc : plumb_report_set_first_seen(report, first_seen, s, err);
}

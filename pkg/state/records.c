/*
 * pkg/state, the rows: observed resources, the apply journal, drift history, changes and
 * retention. Every statement comes from the handle's cache (state.c), so a call costs one
 * bind/step/reset plus, for observed rows, one json_dumps or json_loads per JSON column.
 *
 * Identity of an observed row is (account, region, kind, name_key, parent), the same identity
 * as plumb_observed_key: name_key is the name lower-cased for SageMaker kinds, and parent is
 * kept for ScalingPolicy only ('' otherwise), so a put, delete or load agrees with
 * plumb_observed_find on what "the same resource" is.
 *
 * drift_sync reads the open rows of account+region once, matches the records against them in
 * a hash map and then touches, inserts or resolves by row id, all in one transaction (or
 * savepoint inside the caller's). Matching in memory rather than by "last_seen < now" keeps it
 * correct when the clock does not move between two passes (a fake clock, a coarse one).
 */
#include "state/state.h"
#include "state/state_int.h"

#include <stdlib.h>
#include <string.h>

static bool sagemaker_kind(enum plumb_kind k)
{
	return k == PLUMB_KIND_MODEL || k == PLUMB_KIND_ENDPOINT_CONFIG || k == PLUMB_KIND_ENDPOINT;
}

/* plumb_kind_from_name accepts manifest kinds only; the state stores every kind. */
static int kind_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < PLUMB_KIND__COUNT; i++)
		if (strcmp(plumb_kind_name((enum plumb_kind)i), name) == 0)
			return i;
	return -1;
}

static bool valid_kind(enum plumb_kind k)
{
	return (unsigned)k < PLUMB_KIND__COUNT;
}

/* The name as the identity sees it (malloc'd): lower-case ASCII for SageMaker kinds. */
static char *name_key(enum plumb_kind kind, const char *name)
{
	char *k = strdup(name ? name : "");
	if (k && sagemaker_kind(kind))
		for (char *p = k; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return k;
}

static const char *parent_col(enum plumb_kind kind, const char *parent)
{
	return kind == PLUMB_KIND_SCALING_POLICY && parent ? parent : "";
}

static int oom(struct plumb_err *err)
{
	return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
}

static char *dump_json(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* Parses column i (NULL stays NULL); PLUMB_ESTATE when the stored text is not JSON. */
static int load_json(struct plumb_state *s, sqlite3_stmt *st, int i, const char *what,
		     json_t **out, struct plumb_err *err)
{
	*out = NULL;
	const char *t = (const char *)sqlite3_column_text(st, i);
	if (!t)
		return 0;
	json_error_t jerr;
	*out = json_loads(t, JSON_DECODE_ANY, &jerr);
	if (!*out)
		return plumb_err_set(err, PLUMB_ESTATE, "state file %s: stored %s is not JSON: %s",
				     s->path, what, jerr.text);
	return 0;
}

/* ---------------------------------------------------------------- observed */

int plumb_state_put_observed(struct plumb_state *s, const char *account,
			     const struct plumb_observed *o, struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (!o || !valid_kind(o->kind))
		return plumb_err_set(err, PLUMB_EINVAL, "observed resource missing or of no kind");
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_OBS_PUT, err);
	if (!st)
		return PLUMB_ESTATE;
	char *key = name_key(o->kind, o->name);
	char *live = dump_json(o->live);
	char *tags = dump_json(o->tags);
	if (!key || (o->live && !live) || (o->tags && !tags)) {
		rc = oom(err);
		goto out;
	}
	plumb__state_bind_text(st, 1, account ? account : "");
	plumb__state_bind_text(st, 2, o->region ? o->region : "");
	plumb__state_bind_text(st, 3, plumb_kind_name(o->kind));
	plumb__state_bind_text(st, 4, o->name ? o->name : "");
	plumb__state_bind_text(st, 5, key);
	plumb__state_bind_text(st, 6, parent_col(o->kind, o->parent));
	plumb__state_bind_text(st, 7, o->arn);
	plumb__state_bind_text(st, 8, o->status);
	plumb__state_bind_text(st, 9, live);
	plumb__state_bind_text(st, 10, tags);
	sqlite3_bind_int64(st, 11, o->created_ms);
	sqlite3_bind_int64(st, 12, o->modified_ms);
	sqlite3_bind_int64(st, 13, o->observed_ms);
	rc = plumb__state_step_done(s, st, err, "writing an observed resource");
	sqlite3_clear_bindings(st);
out:
	free(key);
	free(live);
	free(tags);
	return rc;
}

int plumb_state_delete_observed(struct plumb_state *s, const char *account, const char *region,
				enum plumb_kind kind, const char *name, const char *parent,
				struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (!valid_kind(kind))
		return plumb_err_set(err, PLUMB_EINVAL, "no such kind %d", (int)kind);
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_OBS_DEL, err);
	if (!st)
		return PLUMB_ESTATE;
	char *key = name_key(kind, name);
	if (!key)
		return oom(err);
	plumb__state_bind_text(st, 1, account ? account : "");
	plumb__state_bind_text(st, 2, region ? region : "");
	plumb__state_bind_text(st, 3, plumb_kind_name(kind));
	plumb__state_bind_text(st, 4, key);
	plumb__state_bind_text(st, 5, parent_col(kind, parent));
	rc = plumb__state_step_done(s, st, err, "deleting an observed resource");
	sqlite3_clear_bindings(st);
	free(key);
	return rc;
}

/* The observed resource in the current row of a load statement (NULL with err set). */
static int row_observed(struct plumb_state *s, sqlite3_stmt *st, struct plumb_observed **out,
			struct plumb_err *err)
{
	*out = NULL;
	const char *region = (const char *)sqlite3_column_text(st, 0);
	const char *kname = (const char *)sqlite3_column_text(st, 1);
	const char *name = (const char *)sqlite3_column_text(st, 2);
	const char *parent = (const char *)sqlite3_column_text(st, 3);
	int kind = kind_from_name(kname);
	if (kind < 0)
		return plumb_err_set(err, PLUMB_ESTATE,
				     "state file %s: observed row of unknown kind %s", s->path,
				     kname ? kname : "(null)");
	struct plumb_observed *o = plumb_observed_new((enum plumb_kind)kind, region, name,
						      parent && parent[0] ? parent : NULL);
	if (!o)
		return oom(err);
	bool nomem = false;
	o->arn = plumb__state_col_dup(st, 4, &nomem);
	o->status = plumb__state_col_dup(st, 5, &nomem);
	o->created_ms = sqlite3_column_int64(st, 8);
	o->modified_ms = sqlite3_column_int64(st, 9);
	o->observed_ms = sqlite3_column_int64(st, 10);
	int rc = nomem ? oom(err) : load_json(s, st, 6, "live_json", &o->live, err);
	if (rc == 0)
		rc = load_json(s, st, 7, "tags_json", &o->tags, err);
	if (rc != 0) {
		plumb_observed_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

int plumb_state_load_observed(struct plumb_state *s, const char *account, const char *region,
			      struct plumb_observed_set *out, struct plumb_err *err)
{
	sqlite3_stmt *st = plumb__state_stmt(
		s, region ? PLUMB__ST_OBS_LOAD_REGION : PLUMB__ST_OBS_LOAD_ALL, err);
	if (!st)
		return PLUMB_ESTATE;
	plumb__state_bind_text(st, 1, account ? account : "");
	if (region)
		plumb__state_bind_text(st, 2, region);
	int src = SQLITE_DONE, rc = 0;
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct plumb_observed *o;
		if ((rc = row_observed(s, st, &o, err)) != 0)
			break;
		char *key = plumb_observed_key(o->kind, o->region, o->name, o->parent);
		rc = plumb_observed_set_add(out, o); /* takes o, even on failure */
		if (rc == PLUMB_EEXIST)
			plumb_err_set(err, rc, "observed resource %s is already in the set",
				      key ? key : "?");
		else if (rc != 0)
			oom(err);
		free(key);
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = plumb__state_dberr(s, err, src, "reading observed resources");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* ---------------------------------------------------------------- journal */

const char *plumb_journal_status_name(enum plumb_journal_status st)
{
	switch (st) {
	case PLUMB_JOURNAL_OPEN: return "open";
	case PLUMB_JOURNAL_DONE: return "done";
	case PLUMB_JOURNAL_FAILED: return "failed";
	}
	return "unknown";
}

void plumb_journal_entry_free(struct plumb_journal_entry *e)
{
	if (!e)
		return;
	free(e->run_id);
	free(e->account);
	free(e->region);
	free(e->name);
	free(e->parent);
	free(e->manifest_id);
	free(e->operation);
	json_decref(e->request);
	free(e->spec_hash);
	free(e->error);
	free(e);
}

int plumb_state_journal_begin(struct plumb_state *s, struct plumb_journal_entry *e,
			      struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (!e || !valid_kind(e->kind))
		return plumb_err_set(err, PLUMB_EINVAL, "journal entry missing or of no kind");
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_JOURNAL_BEGIN, err);
	if (!st)
		return PLUMB_ESTATE;
	char *req = dump_json(e->request);
	if (e->request && !req)
		return oom(err);
	if (!e->started_ms)
		e->started_ms = plumb_clock_now_ms(s->clock);
	plumb__state_bind_text(st, 1, e->run_id);
	plumb__state_bind_text(st, 2, e->account);
	plumb__state_bind_text(st, 3, e->region);
	plumb__state_bind_text(st, 4, plumb_kind_name(e->kind));
	plumb__state_bind_text(st, 5, e->name);
	plumb__state_bind_text(st, 6, e->parent);
	plumb__state_bind_text(st, 7, e->manifest_id);
	plumb__state_bind_text(st, 8, e->operation);
	plumb__state_bind_text(st, 9, req);
	plumb__state_bind_text(st, 10, e->spec_hash);
	sqlite3_bind_int64(st, 11, e->started_ms);
	rc = plumb__state_step_done(s, st, err, "writing a journal entry");
	sqlite3_clear_bindings(st);
	free(req);
	if (rc == 0) {
		e->id = sqlite3_last_insert_rowid(s->db);
		e->status = PLUMB_JOURNAL_OPEN;
		e->finished_ms = 0;
	}
	return rc;
}

int plumb_state_journal_finish(struct plumb_state *s, int64_t id,
			       enum plumb_journal_status status, const char *error,
			       struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (status != PLUMB_JOURNAL_DONE && status != PLUMB_JOURNAL_FAILED)
		return plumb_err_set(err, PLUMB_EINVAL, "a journal entry finishes done or failed");
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_JOURNAL_FINISH, err);
	if (!st)
		return PLUMB_ESTATE;
	sqlite3_bind_int64(st, 1, id);
	plumb__state_bind_text(st, 2, plumb_journal_status_name(status));
	plumb__state_bind_text(st, 3, error);
	sqlite3_bind_int64(st, 4, plumb_clock_now_ms(s->clock));
	rc = plumb__state_step_done(s, st, err, "finishing a journal entry");
	sqlite3_clear_bindings(st);
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		rc = plumb_err_set(err, PLUMB_ENOENT, "no journal entry %lld", (long long)id);
	return rc;
}

static int row_journal(struct plumb_state *s, sqlite3_stmt *st,
		       struct plumb_journal_entry **out, struct plumb_err *err)
{
	*out = NULL;
	struct plumb_journal_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return oom(err);
	bool nomem = false;
	e->id = sqlite3_column_int64(st, 0);
	e->run_id = plumb__state_col_dup(st, 1, &nomem);
	e->account = plumb__state_col_dup(st, 2, &nomem);
	e->region = plumb__state_col_dup(st, 3, &nomem);
	int kind = kind_from_name((const char *)sqlite3_column_text(st, 4));
	e->name = plumb__state_col_dup(st, 5, &nomem);
	e->parent = plumb__state_col_dup(st, 6, &nomem);
	e->manifest_id = plumb__state_col_dup(st, 7, &nomem);
	e->operation = plumb__state_col_dup(st, 8, &nomem);
	e->spec_hash = plumb__state_col_dup(st, 10, &nomem);
	e->error = plumb__state_col_dup(st, 11, &nomem);
	e->started_ms = sqlite3_column_int64(st, 12);
	e->status = PLUMB_JOURNAL_OPEN;
	int rc = 0;
	if (nomem)
		rc = oom(err);
	else if (kind < 0)
		rc = plumb_err_set(err, PLUMB_ESTATE,
				   "state file %s: journal entry %lld of unknown kind", s->path,
				   (long long)e->id);
	else
		rc = load_json(s, st, 9, "journal request", &e->request, err);
	if (rc != 0) {
		plumb_journal_entry_free(e);
		return rc;
	}
	e->kind = (enum plumb_kind)kind;
	*out = e;
	return 0;
}

int plumb_state_journal_open(struct plumb_state *s, struct plumb_vec *out, struct plumb_err *err)
{
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_JOURNAL_OPEN, err);
	if (!st)
		return PLUMB_ESTATE;
	int src, rc = 0;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		struct plumb_journal_entry *e;
		if ((rc = row_journal(s, st, &e, err)) != 0)
			break;
		if (plumb_vec_push(out, e) != 0) {
			plumb_journal_entry_free(e);
			rc = oom(err);
			break;
		}
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = plumb__state_dberr(s, err, src, "reading the journal");
	sqlite3_reset(st);
	return rc;
}

int plumb_state_journal_failed_count(struct plumb_state *s, const char *manifest_id,
				     const char *spec_hash, int *count, struct plumb_err *err)
{
	*count = 0;
	if (!manifest_id || !spec_hash)
		return 0;
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_JOURNAL_FAILED, err);
	if (!st)
		return PLUMB_ESTATE;
	plumb__state_bind_text(st, 1, manifest_id);
	plumb__state_bind_text(st, 2, spec_hash);
	int src = sqlite3_step(st);
	int rc = 0;
	if (src == SQLITE_ROW)
		*count = sqlite3_column_int(st, 0);
	else
		rc = plumb__state_dberr(s, err, src, "counting failed journal entries");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* ---------------------------------------------------------------- drift */

/* An open drift row of the account+region being synced. */
struct drift_slot {
	int64_t id; /* drift row id */
	bool seen;  /* in this pass's records */
};

/* Unambiguous map key for (kind, name, path): the lengths make any byte in a name harmless. */
static char *drift_key(struct plumb_arena *a, const char *kind, const char *name,
		       const char *path)
{
	return plumb_arena_printf(a, "%zu:%s%zu:%s%s", strlen(kind), kind, strlen(name), name,
				  path);
}

static int drift_slot_add(struct plumb_arena *a, struct plumb_map *m, struct plumb_vec *all,
			  const char *key, int64_t id, bool seen)
{
	struct drift_slot *slot = plumb_arena_zalloc(a, sizeof(*slot));
	if (!slot)
		return PLUMB_ENOMEM;
	slot->id = id;
	slot->seen = seen;
	int rc = plumb_map_put(m, key, slot);
	if (rc == 0)
		rc = plumb_vec_push(all, slot);
	return rc == PLUMB_EEXIST ? 0 : rc; /* a duplicate open row cannot exist (unique index) */
}

static int drift_sync_body(struct plumb_state *s, const char *account, const char *region,
			   const struct plumb_drift_rec *recs, size_t n, struct plumb_arena *a,
			   struct plumb_map *open, struct plumb_vec *all, struct plumb_err *err)
{
	int64_t now = plumb_clock_now_ms(s->clock);
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_DRIFT_OPEN_ROWS, err);
	if (!st)
		return PLUMB_ESTATE;
	plumb__state_bind_text(st, 1, account);
	plumb__state_bind_text(st, 2, region);
	int src = SQLITE_DONE, rc = 0;
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 1);
		const char *nm = (const char *)sqlite3_column_text(st, 2);
		const char *p = (const char *)sqlite3_column_text(st, 3);
		char *key = drift_key(a, k ? k : "", nm ? nm : "", p ? p : "");
		rc = key ? drift_slot_add(a, open, all, key, sqlite3_column_int64(st, 0), false)
			 : PLUMB_ENOMEM;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = plumb__state_dberr(s, err, src, "reading open drift");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != 0)
		return rc == PLUMB_ENOMEM ? oom(err) : rc;

	for (size_t i = 0; i < n; i++) {
		const struct plumb_drift_rec *r = &recs[i];
		if (!r->kind || !r->name)
			return plumb_err_set(err, PLUMB_EINVAL, "drift record %zu has no kind or name",
					     i);
		const char *path = r->path ? r->path : "";
		char *key = drift_key(a, r->kind, r->name, path);
		if (!key)
			return oom(err);
		struct drift_slot *slot = plumb_map_get(open, key);
		if (slot) {
			st = plumb__state_stmt(s, PLUMB__ST_DRIFT_TOUCH, err);
			if (!st)
				return PLUMB_ESTATE;
			sqlite3_bind_int64(st, 1, slot->id);
			plumb__state_bind_text(st, 2, r->wanted);
			plumb__state_bind_text(st, 3, r->live);
			sqlite3_bind_int64(st, 4, now);
			if ((rc = plumb__state_step_done(s, st, err, "updating drift")) != 0)
				return rc;
			slot->seen = true;
			continue;
		}
		st = plumb__state_stmt(s, PLUMB__ST_DRIFT_INSERT, err);
		if (!st)
			return PLUMB_ESTATE;
		plumb__state_bind_text(st, 1, account);
		plumb__state_bind_text(st, 2, region);
		plumb__state_bind_text(st, 3, r->kind);
		plumb__state_bind_text(st, 4, r->name);
		plumb__state_bind_text(st, 5, path);
		plumb__state_bind_text(st, 6, r->wanted);
		plumb__state_bind_text(st, 7, r->live);
		sqlite3_bind_int64(st, 8, now);
		if ((rc = plumb__state_step_done(s, st, err, "recording drift")) != 0)
			return rc;
		if (drift_slot_add(a, open, all, key, sqlite3_last_insert_rowid(s->db), true) != 0)
			return oom(err);
	}

	for (size_t i = 0; i < all->len; i++) {
		struct drift_slot *slot = all->items[i];
		if (slot->seen)
			continue;
		st = plumb__state_stmt(s, PLUMB__ST_DRIFT_RESOLVE, err);
		if (!st)
			return PLUMB_ESTATE;
		sqlite3_bind_int64(st, 1, slot->id);
		sqlite3_bind_int64(st, 2, now);
		if ((rc = plumb__state_step_done(s, st, err, "resolving drift")) != 0)
			return rc;
	}
	return 0;
}

int plumb_state_drift_sync(struct plumb_state *s, const char *account, const char *region,
			   const struct plumb_drift_rec *recs, size_t n, struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (n && !recs)
		return plumb_err_set(err, PLUMB_EINVAL, "drift records missing");
	if ((rc = plumb__state_op_start(s, err)) != 0)
		return rc;
	struct plumb_arena a = PLUMB_ARENA_INIT;
	struct plumb_map open = PLUMB_MAP_INIT;
	struct plumb_vec all = PLUMB_VEC_INIT;
	rc = drift_sync_body(s, account ? account : "", region ? region : "", recs, n, &a, &open,
			     &all, err);
	plumb_map_release(&open);
	plumb_vec_release(&all);
	plumb_arena_release(&a);
	int erc = plumb__state_op_end(s, rc == 0, rc == 0 ? err : NULL);
	return rc ? rc : erc;
}

int plumb_state_drift_first_seen(struct plumb_state *s, const char *account, const char *region,
				 const char *kind, const char *name, const char *path,
				 int64_t *first_seen_ms, struct plumb_err *err)
{
	*first_seen_ms = 0;
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_DRIFT_FIRST_SEEN, err);
	if (!st)
		return PLUMB_ESTATE;
	plumb__state_bind_text(st, 1, account ? account : "");
	plumb__state_bind_text(st, 2, region ? region : "");
	plumb__state_bind_text(st, 3, kind ? kind : "");
	plumb__state_bind_text(st, 4, name ? name : "");
	plumb__state_bind_text(st, 5, path ? path : "");
	int src = sqlite3_step(st);
	int rc = 0;
	if (src == SQLITE_ROW)
		*first_seen_ms = sqlite3_column_int64(st, 0);
	else if (src != SQLITE_DONE)
		rc = plumb__state_dberr(s, err, src, "reading drift");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* ---------------------------------------------------------------- changes and retention */

int plumb_state_change_add(struct plumb_state *s, const char *account, const char *region,
			   const char *kind, const char *name, const char *action,
			   const char *detail, struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (!action)
		return plumb_err_set(err, PLUMB_EINVAL, "change without an action");
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_CHANGE_ADD, err);
	if (!st)
		return PLUMB_ESTATE;
	sqlite3_bind_int64(st, 1, plumb_clock_now_ms(s->clock));
	plumb__state_bind_text(st, 2, account);
	plumb__state_bind_text(st, 3, region);
	plumb__state_bind_text(st, 4, kind);
	plumb__state_bind_text(st, 5, name);
	plumb__state_bind_text(st, 6, action);
	plumb__state_bind_text(st, 7, detail);
	rc = plumb__state_step_done(s, st, err, "recording a change");
	sqlite3_clear_bindings(st);
	return rc;
}

int plumb_state_pass_put(struct plumb_state *s, const struct plumb_state_pass *p,
			 struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (!p->daemon || !p->mode)
		return plumb_err_set(err, PLUMB_EINVAL, "pass without a daemon id or mode");
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_PASS_PUT, err);
	if (!st)
		return PLUMB_ESTATE;
	plumb__state_bind_text(st, 1, p->daemon);
	sqlite3_bind_int64(st, 2, p->pass);
	sqlite3_bind_int64(st, 3, p->started_ms);
	if (p->finished_ms)
		sqlite3_bind_int64(st, 4, p->finished_ms);
	else
		sqlite3_bind_null(st, 4);
	plumb__state_bind_text(st, 5, p->reason);
	plumb__state_bind_text(st, 6, p->revision);
	plumb__state_bind_text(st, 7, p->mode);
	plumb__state_bind_text(st, 8, p->result);
	sqlite3_bind_int64(st, 9, p->actions);
	sqlite3_bind_int64(st, 10, p->failed);
	sqlite3_bind_int64(st, 11, p->drifted);
	plumb__state_bind_text(st, 12, p->error);
	rc = plumb__state_step_done(s, st, err, "recording a pass");
	sqlite3_clear_bindings(st);
	return rc;
}

int plumb_state_prune(struct plumb_state *s, int64_t before_ms, struct plumb_err *err)
{
	static const enum plumb__state_stmt prunes[] = {
		PLUMB__ST_PRUNE_JOURNAL, PLUMB__ST_PRUNE_DRIFT, PLUMB__ST_PRUNE_CHANGES,
		PLUMB__ST_PRUNE_PASSES };
	int rc = plumb__state_writable(s, err);
	if (rc != 0 || (rc = plumb__state_op_start(s, err)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < PLUMB_ARRAY_LEN(prunes); i++) {
		sqlite3_stmt *st = plumb__state_stmt(s, prunes[i], err);
		if (!st) {
			rc = PLUMB_ESTATE;
			break;
		}
		sqlite3_bind_int64(st, 1, before_ms);
		rc = plumb__state_step_done(s, st, err, "pruning history");
	}
	int erc = plumb__state_op_end(s, rc == 0, rc == 0 ? err : NULL);
	return rc ? rc : erc;
}

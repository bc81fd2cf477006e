/*
 * The daemon: passes, the per-address work queue, executors, backoff, timers, signals, and the
 * status and metrics it serves (reconcile.h has the picture). Everything runs on the session's
 * loop; nothing here blocks except the journal recovery at start, before the loop runs.
 */
#include "reconcile_int.h"

#include "report/report.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 5000

static const char *const pass_results[] = { "ok", "failed", "invalid", "error", "cancelled",
					    "observed" };
static const char *const res_states[] = { "in_sync", "pending", "applying", "waiting", "drifted",
					  "failed", "paused", "orphan", "conflict" };

static int64_t now_ms(void)
{
	return plumb_clock_now_ms(&plumb_clock_system);
}

static int64_t mono_ms(void)
{
	return plumb_clock_mono_ms(&plumb_clock_system);
}

static void iso(int64_t ms, char out[21])
{
	plumb_time_iso8601(ms, out);
}

static void maybe_finish(struct plumb_reconciler *d);
static void dispatch_again(struct plumb_reconciler *d);

/* ---------------------------------------------------------------- resources */

static struct rc_res *res_get(struct plumb_reconciler *d, const char *kind, const char *name)
{
	char address[1024];
	snprintf(address, sizeof(address), "%s/%s", kind, name);
	struct rc_res *r = plumb_map_get(&d->res, address);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->address = strdup(address);
	r->kind = strdup(kind);
	r->name = strdup(name);
	r->state = "pending";
	r->drift_status = "in_sync";
	r->drift = json_array();
	if (!r->address || !r->kind || !r->name || !r->drift ||
	    plumb_map_put(&d->res, address, r) != 0 || plumb_vec_push(&d->res_list, r) != 0) {
		free(r->address);
		free(r->kind);
		free(r->name);
		json_decref(r->drift);
		free(r);
		return NULL;
	}
	return r;
}

static struct rc_res *res_by_address(struct plumb_reconciler *d, const char *address)
{
	return address ? plumb_map_get(&d->res, address) : NULL;
}

static void set_str(char **dst, const char *v)
{
	if (*dst && v && strcmp(*dst, v) == 0)
		return;
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

static json_t *err_json(const struct plumb_err *e)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s, s:s?, s:i}", "service",
			 e->service[0] ? e->service : NULL, "operation",
			 e->operation[0] ? e->operation : NULL, "code",
			 e->aws_code[0] ? e->aws_code : NULL, "message", e->msg, "request_id",
			 e->request_id[0] ? e->request_id : NULL, "http_status", e->http_status);
}

static void set_error(struct rc_res *r, json_t *e)
{
	json_decref(r->last_error);
	r->last_error = e;
}

static void log_err(enum plumb_log_level lv, const char *event, const char *pass,
		    const char *resource, const struct plumb_err *e)
{
	char http[16];
	snprintf(http, sizeof(http), "%d", e->http_status);
	plumb_log(lv, event, "pass", pass, "resource", resource, "service",
		  e->service[0] ? e->service : NULL, "operation", e->operation[0] ? e->operation : NULL,
		  "code", e->aws_code[0] ? e->aws_code : NULL, "request_id",
		  e->request_id[0] ? e->request_id : NULL, "http_status", e->http_status ? http : NULL,
		  "error", e->msg, NULL);
}

/* ---------------------------------------------------------------- pass records */

static void pass_id(uint64_t n, char out[24])
{
	snprintf(out, 24, "%llu", (unsigned long long)n);
}

static void record_pass(struct plumb_reconciler *d, const json_t *rec)
{
	struct plumb_state_pass p = {
		.daemon = d->daemon_id,
		.pass = json_integer_value(json_object_get(rec, "id")),
		.started_ms = json_integer_value(json_object_get(rec, "started_ms")),
		.finished_ms = json_integer_value(json_object_get(rec, "finished_ms")),
		.reason = json_string_value(json_object_get(rec, "reason")),
		.revision = json_string_value(json_object_get(rec, "revision")),
		.mode = d->o.observe_only ? "observe" : "apply",
		.result = json_string_value(json_object_get(rec, "result")),
		.actions = json_integer_value(json_object_get(rec, "actions")),
		.failed = json_integer_value(json_object_get(rec, "failed")),
		.drifted = json_integer_value(json_object_get(rec, "drifted")),
		.error = json_string_value(json_object_get(rec, "error")),
	};
	struct plumb_err err;
	plumb_err_clear(&err);
	if (d->s.state && plumb_state_pass_put(d->s.state, &p, &err) != 0)
		plumb_log(PLUMB_LOG_WARN, "state.error", "error", err.msg, NULL);
}

static json_t *new_pass_rec(struct plumb_reconciler *d)
{
	char started[21];
	iso(d->pass_started_ms, started);
	return json_pack("{s:I, s:s, s:I, s:s, s:n, s:n, s:n, s:i, s:i, s:i, s:n}", "id",
			 (json_int_t)d->pass, "started", started, "started_ms",
			 (json_int_t)d->pass_started_ms, "reason", d->pass_reason, "revision",
			 "finished", "result", "actions", 0, "failed", 0, "drifted", 0, "error");
}

/* Ends a pass record: result, duration, metrics, the state file, the log. */
static void end_pass(struct plumb_reconciler *d, json_t *rec, const char *result,
		     int64_t started_mono, const char *error)
{
	int64_t fin = now_ms();
	char finished[21];
	iso(fin, finished);
	json_object_set_new(rec, "finished", json_string(finished));
	json_object_set_new(rec, "finished_ms", json_integer(fin));
	json_object_set_new(rec, "result", json_string(result));
	if (error)
		json_object_set_new(rec, "error", json_string(error));
	double secs = (double)(mono_ms() - started_mono) / 1000.0;
	json_object_set_new(rec, "duration_ms", json_integer((json_int_t)(secs * 1000)));
	plumb_histogram_observe(&d->hist, secs);
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(pass_results); i++)
		if (strcmp(result, pass_results[i]) == 0)
			d->passes_by_result[i]++;
	const char *rev = json_string_value(json_object_get(rec, "revision"));
	if (strcmp(result, "ok") == 0 || strcmp(result, "observed") == 0) {
		d->last_good_ms = fin;
		plumb_strlcpy(d->applied_revision, rev ? rev : "", sizeof(d->applied_revision));
	}
	record_pass(d, rec);
	char id[24], dur[24], na[24], nf[24], nd[24];
	pass_id((uint64_t)json_integer_value(json_object_get(rec, "id")), id);
	snprintf(dur, sizeof(dur), "%lld", (long long)(secs * 1000));
	snprintf(na, sizeof(na), "%lld", (long long)json_integer_value(json_object_get(rec, "actions")));
	snprintf(nf, sizeof(nf), "%lld", (long long)json_integer_value(json_object_get(rec, "failed")));
	snprintf(nd, sizeof(nd), "%lld", (long long)json_integer_value(json_object_get(rec, "drifted")));
	plumb_log(strcmp(result, "ok") == 0 || strcmp(result, "observed") == 0 ? PLUMB_LOG_INFO
										: PLUMB_LOG_WARN,
		  "pass.end", "pass", id, "result", result, "actions", na, "failed", nf, "drifted",
		  nd, "duration_ms", dur, "revision", rev, "error", error, NULL);
	/* the newest pass is what /status shows */
	int64_t shown = d->last_pass ? json_integer_value(json_object_get(d->last_pass, "id")) : -1;
	if (json_integer_value(json_object_get(rec, "id")) >= shown) {
		json_incref(rec);
		json_decref(d->last_pass);
		d->last_pass = rec;
	}
}

/* ---------------------------------------------------------------- scheduling */

static void on_retry_timer(uv_timer_t *t);

static void arm_retry(struct plumb_reconciler *d)
{
	if (d->stopping)
		return;
	int64_t now = mono_ms(), next = 0;
	for (size_t i = 0; i < d->res_list.len; i++) {
		struct rc_res *r = d->res_list.items[i];
		if (r->retry_at_ms > now && !r->terminal && (next == 0 || r->retry_at_ms < next))
			next = r->retry_at_ms;
	}
	if (next == 0)
		return;
	uint64_t delay = (uint64_t)(next - now);
	if (uv_is_active((uv_handle_t *)&d->retry_timer) &&
	    uv_timer_get_due_in(&d->retry_timer) <= delay)
		return;
	uv_timer_stop(&d->retry_timer);
	uv_timer_start(&d->retry_timer, on_retry_timer, delay + 10, 0);
}

static int64_t backoff_ms(const struct plumb_reconciler *d, unsigned failures)
{
	int64_t cap = d->o.resync_ms, ms = BACKOFF_FIRST_MS;
	for (unsigned i = 1; i < failures && ms < cap; i++)
		ms *= 2;
	return ms < cap ? ms : cap;
}

static void on_retry_timer(uv_timer_t *t)
{
	plumb__rc_request_pass(t->data, "retry");
}

static uint64_t jittered(int64_t ms)
{
	/* ±10%, so a fleet of daemons does not resync in step */
	double f = 0.9 + 0.2 * ((double)rand() / (double)RAND_MAX);
	return (uint64_t)((double)ms * f);
}

static void on_resync_timer(uv_timer_t *t)
{
	struct plumb_reconciler *d = t->data;
	d->resyncs++;
	plumb__rc_request_pass(d, "resync");
	if (!d->stopping)
		uv_timer_start(&d->resync_timer, on_resync_timer, jittered(d->o.resync_ms), 0);
}

/* ---------------------------------------------------------------- executors */

static struct rc_exec *exec_of(struct plumb_reconciler *d, const struct plumb_apply *ex)
{
	for (struct rc_exec *e = d->execs; e; e = e->next)
		if (e->ex == ex)
			return e;
	return NULL;
}

static void release_action(struct rc_exec *e, const struct plumb_apply_action *a)
{
	if (a->id < 0 || (size_t)a->id >= e->nids || e->released[a->id])
		return;
	e->released[a->id] = 1;
	struct rc_res *r = res_by_address(e->d, a->address);
	if (r && r->busy > 0)
		r->busy--;
	if (r)
		r->released_mono = mono_ms();
}

static void on_exec_event(const struct plumb_apply_event *ev, void *data)
{
	struct plumb_reconciler *d = data;
	const struct plumb_apply_action *a = ev->action;
	struct rc_res *r = res_by_address(d, a->address);
	char id[24];
	pass_id(d->pass, id);
	struct rc_exec *e = NULL;
	for (struct rc_exec *x = d->execs; x && !e; x = x->next)
		for (size_t i = 0; i < plumb_apply_count(x->ex); i++)
			if (plumb_apply_action_at(x->ex, i) == a) {
				e = x;
				break;
			}
	if (e)
		pass_id(e->pass, id);
	const char *type = plumb_action_type_name(a->type);
	switch (ev->type) {
	case PLUMB_APPLY_EV_STARTED:
		if (r)
			r->state = a->type == PLUMB_ACTION_WAIT ? "waiting" : "applying";
		plumb_log(PLUMB_LOG_INFO, "action.start", "pass", id, "resource", a->address, "action",
			  type, "physical", a->physical, "region", a->region, NULL);
		break;
	case PLUMB_APPLY_EV_POLLED:
		if (r)
			r->state = "waiting";
		plumb_log(PLUMB_LOG_DEBUG, "action.poll", "pass", id, "resource", a->address, "status",
			  a->endpoint_status, NULL);
		break;
	case PLUMB_APPLY_EV_RETRY:
		plumb_log(PLUMB_LOG_INFO, "action.retry", "pass", id, "resource", a->address, "detail",
			  a->detail, NULL);
		break;
	case PLUMB_APPLY_EV_DONE:
		d->actions_total[0]++;
		if (e)
			release_action(e, a);
		if (r) {
			r->failures = 0;
			r->retry_at_ms = 0;
			r->terminal = false;
			set_error(r, NULL);
			if (r->busy == 0)
				r->state = "in_sync";
		}
		plumb_log(PLUMB_LOG_INFO, "action.done", "pass", id, "resource", a->address, "action",
			  type, "detail", a->detail[0] ? a->detail : NULL, NULL);
		break;
	case PLUMB_APPLY_EV_FAILED:
		d->actions_total[1]++;
		if (e)
			release_action(e, a);
		if (r) {
			r->failures++;
			r->retry_at_ms = mono_ms() + backoff_ms(d, r->failures);
			r->state = "failed";
			json_t *je = err_json(&a->err);
			if (a->detail[0])
				json_object_set_new(je, "detail", json_string(a->detail));
			set_error(r, je);
		}
		log_err(PLUMB_LOG_ERROR, "action.failed", id, a->address, &a->err);
		break;
	case PLUMB_APPLY_EV_SKIPPED:
		d->actions_total[2]++;
		if (e)
			release_action(e, a);
		if (r && r->busy == 0 && strcmp(r->state, "failed") != 0)
			r->state = "pending";
		plumb_log(PLUMB_LOG_INFO, "action.skipped", "pass", id, "resource", a->address,
			  "detail", a->detail, NULL);
		break;
	}
}

static void free_exec(struct rc_exec *e)
{
	if (e->ex)
		plumb_apply_free(e->ex);
	json_decref(e->actions);
	if (e->have) {
		plumb_observed_set_release(e->have);
		free(e->have);
	}
	json_decref(e->pass_rec);
	free(e->released);
	free(e);
}

static void on_exec_done(int rc, struct plumb_apply *ex, void *data)
{
	struct plumb_reconciler *d = data;
	struct rc_exec *e = exec_of(d, ex);
	if (!e)
		return;
	for (struct rc_exec **pp = &d->execs; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	/* actions that never reported an end (cancelled before they started) */
	for (size_t i = 0; i < plumb_apply_count(ex); i++)
		release_action(e, plumb_apply_action_at(ex, i));
	const struct plumb_apply_totals *t = plumb_apply_totals(ex);
	json_object_set_new(e->pass_rec, "failed", json_integer(t->failed));
	const char *result = rc == 0 ? "ok" : rc == PLUMB_ECANCELED ? "cancelled" : "failed";
	end_pass(d, e->pass_rec, result, e->started_mono, NULL);
	bool changed = t->done > 0;
	free_exec(e);
	arm_retry(d);
	/*
	 * What an executor changed is read back by the next pass (apply dropped those rows from
	 * the cache), which also starts work deferred meanwhile. A spec that never converges
	 * (AWS keeps answering something else) would loop: after three verify passes in a row
	 * that still found work, wait for the next resync or edit instead.
	 */
	if (!d->stopping && (d->deferred || (changed && d->verify_streak < 3))) {
		d->deferred = false;
		d->verify_streak += changed;
		plumb__rc_request_pass(d, "verify");
	} else if (changed && d->verify_streak >= 3) {
		plumb_log(PLUMB_LOG_WARN, "converge.stalled", "detail",
			  "three passes in a row changed AWS and still found work: waiting for the "
			  "next resync or manifest change", NULL);
	}
	maybe_finish(d);
}

/* ---------------------------------------------------------------- a pass */

/* The report's resources that drift, by address (the first of an address: the live version). */
static void index_report(const json_t *rep, struct plumb_map *m)
{
	size_t i;
	json_t *rr;
	json_array_foreach(json_object_get(rep, "resources"), i, rr) {
		const char *st = json_string_value(json_object_get(rr, "status"));
		const char *addr = json_string_value(json_object_get(rr, "address"));
		if (st && addr && strcmp(st, "in_sync") != 0)
			plumb_map_put(m, addr, rr);
	}
}

/* The report's statuses as static strings (the report is freed after the pass). */
static const char *drift_status(const char *s)
{
	static const char *const known[] = { "in_sync", "drifted", "missing", "orphan",
					     "conflict", "unmanaged" };
	for (size_t i = 0; s && i < PLUMB_ARRAY_LEN(known); i++)
		if (strcmp(s, known[i]) == 0)
			return known[i];
	return "drifted";
}

/*
 * Resource states from the diff, drift from the report (pkg/report, the same items and first
 * seen times `plumb drift` shows); returns how many resources drift.
 */
static unsigned update_resources(struct plumb_reconciler *d, const struct plumb_diff *df,
				 const json_t *rep)
{
	unsigned drifted = 0;
	struct plumb_map byaddr = PLUMB_MAP_INIT;
	index_report(rep, &byaddr);
	d->listed_pass = d->pass;
	for (size_t i = 0; i < df->changes.len; i++) {
		const struct plumb_change *c = df->changes.items[i];
		const char *kind = plumb_kind_name(c->kind);
		struct rc_res *r = res_get(d, kind, c->name);
		if (!r)
			continue;
		/* a superseded version shares its successor's address: the successor speaks */
		if (c->superseded && r->seen_pass == d->pass)
			continue;
		r->seen_pass = d->pass;
		set_str(&r->region, c->region);
		set_str(&r->physical, c->physical);
		plumb_strlcpy(r->spec_hash, c->want ? c->want->hash : "", sizeof(r->spec_hash));
		const json_t *rr = plumb_map_get(&byaddr, r->address);
		json_decref(r->drift);
		r->drift = rr ? json_deep_copy(json_object_get(rr, "drift")) : NULL;
		if (!r->drift)
			r->drift = json_array();
		r->drift_status = rr ? drift_status(json_string_value(json_object_get(rr, "status")))
				     : "in_sync";
		set_str(&r->drift_since, rr ? json_string_value(json_object_get(rr, "first_seen"))
					    : NULL);
		drifted += rr != NULL;
		bool paused = c->want && c->want->paused;
		if (r->busy > 0)
			continue; /* an executor speaks for it */
		const char *st;
		switch (c->type) {
		case PLUMB_CHANGE_NONE:
			st = "in_sync";
			break;
		case PLUMB_CHANGE_ORPHAN:
			st = "orphan";
			break;
		case PLUMB_CHANGE_CONFLICT:
			st = "conflict";
			set_error(r, json_pack("{s:s, s:s}", "code", "Conflict", "message",
					       c->reason ? c->reason : "name taken"));
			break;
		case PLUMB_CHANGE_DELETE:
			st = d->o.observe_only ? "orphan" : "pending";
			break;
		default:
			st = d->o.observe_only ? "drifted" : "pending";
			break;
		}
		if (paused && c->type != PLUMB_CHANGE_NONE)
			st = "paused";
		if (c->type == PLUMB_CHANGE_NONE) {
			r->failures = 0;
			r->retry_at_ms = 0;
			r->terminal = false;
			set_error(r, NULL);
		} else if ((r->terminal || r->retry_at_ms > mono_ms()) && !paused) {
			st = "failed";
		}
		r->state = st;
	}
	plumb_map_release(&byaddr);
	return drifted;
}

/* Which actions may run now; the others wait (busy, backed off, paused, failed for good). */
static json_t *select_actions(struct plumb_reconciler *d, const json_t *actions,
			      const json_t *refused, unsigned *deferred_n, unsigned *stale_n)
{
	json_t *kept = json_array();
	size_t n = json_array_size(actions), maxid = 0;
	for (size_t i = 0; i < n; i++) {
		json_int_t id = json_integer_value(json_object_get(json_array_get(actions, i), "id"));
		if (id >= 0 && (size_t)id > maxid)
			maxid = (size_t)id;
	}
	unsigned char *dropped = calloc(maxid + 1, 1);
	if (!kept || !dropped) {
		free(dropped);
		json_decref(kept);
		return NULL;
	}
	int64_t now = mono_ms();
	*deferred_n = *stale_n = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(actions, i);
		json_int_t id = json_integer_value(json_object_get(a, "id"));
		const char *address = json_string_value(json_object_get(a, "address"));
		const char *hash = json_string_value(json_object_get(a, "spec_hash"));
		struct rc_res *r = res_by_address(d, address);
		bool drop = d->o.observe_only;
		bool defer = false;
		if (!drop && r && strcmp(r->state, "paused") == 0)
			drop = true;
		if (!drop && r && r->busy > 0)
			drop = defer = true;
		if (!drop && r && r->released_mono >= d->pass_started_mono) {
			/*
			 * An executor finished an action of it after this pass began observing: the
			 * plan rests on what AWS was before. Acting on it anyway can undo that
			 * action; PutMetricAlarm planned as an update of an alarm an executor then
			 * deleted would create it again, untagged, as nobody's. The next pass reads
			 * it again.
			 */
			drop = defer = true;
			(*stale_n)++;
		}
		if (!drop && r && r->retry_at_ms > now)
			drop = true;
		size_t j;
		json_t *ref;
		json_array_foreach(refused, j, ref) {
			const char *ra = json_string_value(json_object_get(ref, "address"));
			const char *rh = json_string_value(json_object_get(ref, "spec_hash"));
			if (!drop && ra && address && strcmp(ra, address) == 0 && rh && hash &&
			    strcmp(rh, hash) == 0) {
				drop = true;
				if (r) {
					r->terminal = true;
					r->state = "failed";
					if (!r->last_error)
						set_error(r, json_pack(
							"{s:s, s:s}", "code", "SpecFailed", "message",
							"this spec failed before (AWS rejected it, or the "
							"endpoint ended Failed): change it, or run plumb "
							"apply --retry-failed"));
				}
			}
		}
		json_t *deps = json_object_get(a, "depends_on");
		json_t *dep;
		json_array_foreach(deps, j, dep) {
			json_int_t di = json_integer_value(dep);
			if (!drop && di >= 0 && (size_t)di <= maxid && dropped[di]) {
				drop = true;
				defer = dropped[di] == 2;
			}
		}
		if (drop) {
			if (id >= 0)
				dropped[id] = defer ? 2 : 1;
			*deferred_n += defer;
			continue;
		}
		json_array_append(kept, a);
	}
	free(dropped);
	return kept;
}

/*
 * One line per drifted resource: the first field that differs. Missing resources are work, not
 * news, to a daemon that applies: they are logged in observe mode only.
 */
static void log_drift(struct plumb_reconciler *d, const char *id)
{
	for (size_t i = 0; i < d->res_list.len; i++) {
		struct rc_res *r = d->res_list.items[i];
		if (r->seen_pass != d->pass || strcmp(r->drift_status, "in_sync") == 0 ||
		    (!d->o.observe_only && strcmp(r->drift_status, "drifted") != 0))
			continue;
		json_t *first = json_array_get(r->drift, 0);
		char *w = first ? json_dumps(json_object_get(first, "wanted"),
					     JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
		char *l = first ? json_dumps(json_object_get(first, "live"),
					     JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
		char nfields[16];
		snprintf(nfields, sizeof(nfields), "%zu", json_array_size(r->drift));
		plumb_log(PLUMB_LOG_INFO, "drift", "pass", id, "resource", r->address, "status",
			  r->drift_status, "fields", nfields, "path",
			  first ? json_string_value(json_object_get(first, "path")) : NULL, "wanted",
			  w, "live", l, "since", r->drift_since, "state", r->state, NULL);
		free(w);
		free(l);
	}
}

static void release_pass_inputs(struct plumb_reconciler *d)
{
	if (d->set) {
		plumb_manifest_release(d->set);
		free(d->set);
		d->set = NULL;
	}
	if (d->have) {
		plumb_observed_set_release(d->have);
		free(d->have);
		d->have = NULL;
	}
}

static void pass_failed(struct plumb_reconciler *d, json_t *rec, const char *result,
			const struct plumb_err *e)
{
	char id[24];
	pass_id(d->pass, id);
	if (e)
		log_err(PLUMB_LOG_ERROR, "pass.error", id, NULL, e);
	end_pass(d, rec, result, d->pass_started_mono, e ? e->msg : NULL);
	json_decref(rec);
	if (strcmp(result, "error") == 0 && !d->stopping) {
		/* AWS unreachable or refusing: try again with backoff, not at the next resync */
		d->error_streak++;
		int64_t delay = backoff_ms(d, d->error_streak);
		uv_timer_stop(&d->retry_timer);
		uv_timer_start(&d->retry_timer, on_retry_timer, (uint64_t)delay, 0);
	}
}

static void on_pass_observed(int rc, const struct plumb_err *oerr, void *data)
{
	struct plumb_reconciler *d = data;
	json_t *rec = new_pass_rec(d);
	json_object_set_new(rec, "revision", d->revision[0] ? json_string(d->revision) : json_null());
	struct plumb_err err;
	plumb_err_clear(&err);
	char id[24];
	pass_id(d->pass, id);
	if (rc) {
		d->observing = false;
		pass_failed(d, rec, "error", oerr);
		release_pass_inputs(d);
		dispatch_again(d);
		return;
	}
	d->error_streak = 0;
	struct plumb_diff df;
	struct plumb_plan p;
	plumb_diff_init(&df);
	plumb_plan_init(&p);
	struct plumb_diff_opts dopt = {
		.owner = d->owner,
		.account = d->s.account,
		.adopt = d->o.adopt,
		.prune = d->o.prune,
		.default_prune = d->set->prune,
	};
	struct plumb_plan_opts popt = { .owner = d->owner, .account = d->s.account };
	json_t *doc = NULL, *refused = NULL, *kept = NULL;
	if (plumb_diff_compute(&df, &d->set->resources, d->have, &dopt, &err) != 0 ||
	    plumb_plan_build(&p, &df, &popt, &err) != 0 ||
	    !(doc = plumb_plan_to_json(&p, NULL))) {
		if (!err.code)
			plumb_err_set(&err, PLUMB_ENOMEM, "out of memory");
		goto fail;
	}
	struct plumb_report_opts ro = {
		.owner = d->owner,
		.account = d->s.account,
		.now_ms = now_ms(),
	};
	json_t *rep = plumb_report_drift(&df, d->have, &ro, &err);
	if (!rep) {
		if (!err.code)
			plumb_err_set(&err, PLUMB_ENOMEM, "out of memory");
		goto fail;
	}
	/* the history is a record, not a precondition: a write error is logged, not fatal */
	struct plumb_err herr;
	plumb_err_clear(&herr);
	if (plumb_session_drift_history(&d->s, rep, true, &herr) != 0)
		plumb_log(PLUMB_LOG_WARN, "state.error", "pass", id, "error", herr.msg, NULL);
	unsigned drifted = update_resources(d, &df, rep);
	json_decref(rep);
	/* ready: the account was observed whole and planned once (/readyz) */
	d->ready = true;
	json_object_set_new(rec, "drifted", json_integer(drifted));
	const json_t *actions = json_object_get(doc, "actions");
	if (plumb_apply_failed_hashes(d->s.state, actions, &refused, &err) != 0)
		goto fail;
	unsigned deferred = 0, stale = 0;
	kept = select_actions(d, actions, refused, &deferred, &stale);
	if (!kept) {
		plumb_err_set(&err, PLUMB_ENOMEM, "out of memory");
		goto fail;
	}
	if (deferred)
		d->deferred = true; /* after the executor that holds them */
	if (stale)
		plumb__rc_request_pass(d, "verify"); /* now: nothing holds them any more */
	log_drift(d, id);
	json_object_set_new(rec, "actions", json_integer((json_int_t)json_array_size(kept)));
	plumb_diff_release(&df);
	plumb_plan_release(&p);
	json_decref(doc);
	json_decref(refused);
	doc = refused = NULL;
	d->observing = false;
	if (json_array_size(kept) == 0 || d->stopping) {
		json_decref(kept);
		end_pass(d, rec, d->o.observe_only ? "observed" : d->stopping ? "cancelled" : "ok",
			 d->pass_started_mono, NULL);
		json_decref(rec);
		release_pass_inputs(d);
		arm_retry(d);
		dispatch_again(d);
		maybe_finish(d);
		return;
	}
	/* run what may run now, in an executor of its own */
	struct rc_exec *e = calloc(1, sizeof(*e));
	size_t maxid = 0;
	size_t j;
	json_t *a;
	json_array_foreach(kept, j, a) {
		json_int_t ai = json_integer_value(json_object_get(a, "id"));
		if (ai >= 0 && (size_t)ai > maxid)
			maxid = (size_t)ai;
	}
	if (!e || !(e->released = calloc(maxid + 1, 1))) {
		free(e);
		json_decref(kept);
		plumb_err_set(&err, PLUMB_ENOMEM, "out of memory");
		d->observing = true;
		goto fail;
	}
	e->d = d;
	e->nids = maxid + 1;
	e->actions = kept;
	e->have = d->have;
	d->have = NULL;
	e->pass = d->pass;
	e->started_mono = d->pass_started_mono;
	e->pass_rec = rec;
	json_array_foreach(kept, j, a) {
		struct rc_res *r = res_by_address(d, json_string_value(json_object_get(a, "address")));
		if (r)
			r->busy++;
	}
	char run_id[96];
	snprintf(run_id, sizeof(run_id), "%s-%llu", d->daemon_id, (unsigned long long)d->pass);
	struct plumb_apply_opts ao = {
		.run_id = run_id,
		.on_event = on_exec_event,
		.event_data = d,
		.have = e->have,
	};
	e->next = d->execs;
	d->execs = e;
	char nkept[16];
	snprintf(nkept, sizeof(nkept), "%zu", json_array_size(kept));
	plumb_log(PLUMB_LOG_INFO, "pass.apply", "pass", id, "actions", nkept, NULL);
	if (plumb_apply_start(&e->ex, &d->s, kept, &ao, on_exec_done, d, &err) != 0) {
		d->execs = e->next;
		json_array_foreach(kept, j, a) {
			struct rc_res *r = res_by_address(d, json_string_value(json_object_get(a, "address")));
			if (r && r->busy > 0)
				r->busy--;
		}
		e->pass_rec = NULL;
		free_exec(e);
		release_pass_inputs(d);
		pass_failed(d, rec, "error", &err);
		dispatch_again(d);
		return;
	}
	release_pass_inputs(d);
	dispatch_again(d);
	return;
fail:
	plumb_diff_release(&df);
	plumb_plan_release(&p);
	json_decref(doc);
	json_decref(refused);
	d->observing = false;
	pass_failed(d, rec, "error", &err);
	release_pass_inputs(d);
	dispatch_again(d);
}

static void log_diags(const struct plumb_manifest_set *set, const char *pass)
{
	for (size_t i = 0; i < set->diags.len; i++) {
		const struct plumb_diag *g = set->diags.items[i];
		if (g->sev != PLUMB_SEV_ERROR)
			continue;
		char line[16], col[16];
		snprintf(line, sizeof(line), "%u", g->loc.line);
		snprintf(col, sizeof(col), "%u", g->loc.col);
		plumb_log(PLUMB_LOG_ERROR, "manifest.error", "pass", pass, "file", g->loc.file,
			  "line", g->loc.line ? line : NULL, "column", g->loc.col ? col : NULL,
			  "field", g->path && g->path[0] ? g->path : NULL, "error", g->msg, NULL);
	}
}

static void start_pass(struct plumb_reconciler *d, const char *reason)
{
	d->pass++;
	d->pass_reason = reason;
	if (strcmp(reason, "verify") != 0)
		d->verify_streak = 0;
	d->pass_started_ms = now_ms();
	d->pass_started_mono = mono_ms();
	char id[24];
	pass_id(d->pass, id);
	if (d->o.npaths > 0)
		plumb_reconcile_revision(d->o.paths[0], d->revision, sizeof(d->revision));
	plumb_log(PLUMB_LOG_INFO, "pass.start", "pass", id, "reason", reason, "revision",
		  d->revision[0] ? d->revision : NULL, NULL);
	struct plumb_err err;
	plumb_err_clear(&err);
	d->set = calloc(1, sizeof(*d->set));
	d->have = calloc(1, sizeof(*d->have));
	json_t *rec = new_pass_rec(d);
	json_object_set_new(rec, "revision", d->revision[0] ? json_string(d->revision) : json_null());
	if (!d->set || !d->have) {
		free(d->set);
		free(d->have);
		d->set = NULL;
		d->have = NULL;
		plumb_err_set(&err, PLUMB_ENOMEM, "out of memory");
		pass_failed(d, rec, "error", &err);
		return;
	}
	plumb_observed_set_init(d->have);
	if (d->o.load(d->set, d->o.load_data) != 0 || plumb_manifest_errors(d->set)) {
		log_diags(d->set, id);
		char msg[128];
		snprintf(msg, sizeof(msg), "the manifests have %zu error(s): nothing applied",
			 plumb_manifest_errors(d->set));
		end_pass(d, rec, "invalid", d->pass_started_mono, msg);
		json_decref(rec);
		release_pass_inputs(d);
		return;
	}
	const char *owner = d->set->owner ? d->set->owner
			    : d->o.env_owner && d->o.env_owner[0] ? d->o.env_owner : "plumb";
	plumb_strlcpy(d->owner, owner, sizeof(d->owner));
	for (size_t i = 0; i < d->set->resources.len; i++) {
		const struct plumb_resource *r = d->set->resources.items[i];
		if (r->account && strcmp(r->account, d->s.account) != 0) {
			plumb_err_set(&err, PLUMB_ECONFIG,
				      "refusing to run: %s/%s is for account %s, but the credentials "
				      "belong to account %s",
				      plumb_kind_name(r->kind), r->name, r->account, d->s.account);
			pass_failed(d, rec, "invalid", &err);
			release_pass_inputs(d);
			return;
		}
	}
	int64_t every = d->o.full_every > 0 ? d->o.full_every : 12;
	enum plumb_refresh refresh = strcmp(reason, "resync") == 0 && d->resyncs % every == 0
					     ? PLUMB_REFRESH_FULL
					     : PLUMB_REFRESH_AUTO;
	d->observing = true;
	json_decref(rec);
	if (plumb_session_observe_start(&d->s, &d->set->resources, d->owner, refresh, d->o.adopt,
					d->have, on_pass_observed, d, &err) != 0) {
		d->observing = false;
		rec = new_pass_rec(d);
		pass_failed(d, rec, "error", &err);
		release_pass_inputs(d);
	}
}

void plumb__rc_request_pass(struct plumb_reconciler *d, const char *reason)
{
	if (d->stopping)
		return;
	if (d->observing) {
		if (!d->again)
			d->again = reason;
		return;
	}
	start_pass(d, reason);
}

static void dispatch_again(struct plumb_reconciler *d)
{
	if (d->again && !d->observing && !d->stopping) {
		const char *reason = d->again;
		d->again = NULL;
		start_pass(d, reason);
	}
}

/* ---------------------------------------------------------------- status and metrics */

/* Shown in /status and /metrics: what the last diff listed, and what executors still hold. */
static bool listed(const struct plumb_reconciler *d, const struct rc_res *r)
{
	return (r->seen_pass && r->seen_pass == d->listed_pass) || r->busy > 0;
}

unsigned plumb__rc_queue_depth(const struct plumb_reconciler *d)
{
	unsigned n = 0;
	for (struct rc_exec *e = d->execs; e; e = e->next) {
		const struct plumb_apply_totals *t = plumb_apply_totals(e->ex);
		n += t->pending + t->running + t->waiting;
	}
	return n;
}

json_t *plumb__rc_status_json(struct plumb_reconciler *d)
{
	json_t *resources = json_array();
	for (size_t i = 0; i < d->res_list.len; i++) {
		struct rc_res *r = d->res_list.items[i];
		if (!listed(d, r))
			continue;
		json_array_append_new(
			resources,
			json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:O?, s:s, s:s?, s:O, s:s?, s:b}",
				  "address", r->address, "kind", r->kind, "name", r->name, "region",
				  r->region, "physical", r->physical, "state", r->state, "last_error",
				  r->last_error, "drift_status", r->drift_status, "drift_since",
				  r->drift_since, "drift", r->drift, "spec_hash",
				  r->spec_hash[0] ? r->spec_hash : NULL, "busy", r->busy > 0));
	}
	char good[21] = "";
	if (d->last_good_ms)
		iso(d->last_good_ms, good);
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s?, s:I, s:O?, s:i, s:s?, s:o}", "version",
			 PLUMB_VERSION, "mode", d->o.observe_only ? "observe" : "apply", "owner",
			 d->owner, "account", d->s.account, "ready", d->ready, "revision",
			 d->applied_revision[0] ? d->applied_revision : NULL, "passes",
			 (json_int_t)d->pass, "last_pass", d->last_pass, "queue_depth",
			 (int)plumb__rc_queue_depth(d), "last_good_pass", good[0] ? good : NULL,
			 "resources", resources);
}

static void family(struct plumb_buf *b, const char *name, const char *type, const char *help)
{
	plumb_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int plumb__rc_metrics(struct plumb_reconciler *d, struct plumb_buf *b)
{
	family(b, "plumb_build_info", "gauge", "Version of the running plumb.");
	plumb_buf_adds(b, "plumb_build_info{version=");
	plumb_metrics_label(b, PLUMB_VERSION);
	plumb_buf_adds(b, "} 1\n");
	family(b, "plumb_ready", "gauge", "1 once the first full pass finished.");
	plumb_buf_addf(b, "plumb_ready %d\n", d->ready ? 1 : 0);

	family(b, "plumb_resources", "gauge", "Resources by kind and state, as the last pass saw them.");
	for (int k = 0; k < PLUMB_KIND__COUNT; k++) {
		if (k == PLUMB_KIND_DEFAULTS)
			continue;
		const char *kind = plumb_kind_name((enum plumb_kind)k);
		for (size_t s = 0; s < PLUMB_ARRAY_LEN(res_states); s++) {
			unsigned n = 0;
			for (size_t i = 0; i < d->res_list.len; i++) {
				struct rc_res *r = d->res_list.items[i];
				if (listed(d, r) && strcmp(r->kind, kind) == 0 && strcmp(r->state, res_states[s]) == 0)
					n++;
			}
			plumb_buf_adds(b, "plumb_resources{kind=");
			plumb_metrics_label(b, kind);
			plumb_buf_adds(b, ",state=");
			plumb_metrics_label(b, res_states[s]);
			plumb_buf_addf(b, "} %u\n", n);
		}
	}
	unsigned drifted = 0;
	for (size_t i = 0; i < d->res_list.len; i++) {
		struct rc_res *r = d->res_list.items[i];
		if (listed(d, r) && strcmp(r->drift_status, "in_sync") != 0)
			drifted++;
	}
	family(b, "plumb_drifted_resources", "gauge",
	       "Resources whose live state differs from the manifests.");
	plumb_buf_addf(b, "plumb_drifted_resources %u\n", drifted);

	family(b, "plumb_reconcile_duration_seconds", "histogram",
	       "Duration of passes: observation, plan and the actions they started.");
	plumb_histogram_render(&d->hist, "plumb_reconcile_duration_seconds", b);

	family(b, "plumb_passes_total", "counter", "Passes by result.");
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(pass_results); i++) {
		plumb_buf_adds(b, "plumb_passes_total{result=");
		plumb_metrics_label(b, pass_results[i]);
		plumb_buf_addf(b, "} %llu\n", (unsigned long long)d->passes_by_result[i]);
	}
	family(b, "plumb_actions_total", "counter", "Actions by result.");
	static const char *const ares[] = { "done", "failed", "skipped" };
	for (size_t i = 0; i < 3; i++) {
		plumb_buf_adds(b, "plumb_actions_total{result=");
		plumb_metrics_label(b, ares[i]);
		plumb_buf_addf(b, "} %llu\n", (unsigned long long)d->actions_total[i]);
	}

	family(b, "plumb_aws_calls_total", "counter",
	       "AWS calls by service, operation and outcome (after retries).");
	uint64_t throttles = 0, retries = 0;
	for (int op = 0; op < PLUMB_AWS_NOPS; op++) {
		uint64_t ok = 0, er = 0;
		for (size_t g = 0; g < d->s.regions.len; g++) {
			const struct plumb_session_region *reg = d->s.regions.items[g];
			if (!reg->aws_up)
				continue;
			ok += reg->aws.ops[op].ok;
			er += reg->aws.ops[op].error;
		}
		const char *svc = plumb_aws_service_name(plumb_aws_op_service((enum plumb_aws_op)op));
		const char *name = plumb_aws_op_name((enum plumb_aws_op)op);
		for (int o = 0; o < 2; o++) {
			uint64_t v = o ? er : ok;
			if (!v)
				continue;
			plumb_buf_adds(b, "plumb_aws_calls_total{service=");
			plumb_metrics_label(b, svc);
			plumb_buf_adds(b, ",operation=");
			plumb_metrics_label(b, name);
			plumb_buf_adds(b, ",outcome=");
			plumb_metrics_label(b, o ? "error" : "ok");
			plumb_buf_addf(b, "} %llu\n", (unsigned long long)v);
		}
	}
	for (size_t g = 0; g < d->s.regions.len; g++) {
		const struct plumb_session_region *reg = d->s.regions.items[g];
		if (!reg->aws_up)
			continue;
		throttles += reg->aws.stats.throttled;
		retries += reg->aws.stats.retries;
	}
	family(b, "plumb_aws_throttles_total", "counter", "Throttled AWS replies.");
	plumb_buf_addf(b, "plumb_aws_throttles_total %llu\n", (unsigned long long)throttles);
	family(b, "plumb_aws_retries_total", "counter", "AWS attempts that were retries.");
	plumb_buf_addf(b, "plumb_aws_retries_total %llu\n", (unsigned long long)retries);
	family(b, "plumb_queue_depth", "gauge", "Actions started and not yet finished.");
	plumb_buf_addf(b, "plumb_queue_depth %u\n", plumb__rc_queue_depth(d));
	family(b, "plumb_last_good_pass_timestamp_seconds", "gauge",
	       "Unix time of the last pass that ended well (0: none yet).");
	plumb_buf_addf(b, "plumb_last_good_pass_timestamp_seconds %.3f\n",
		       (double)d->last_good_ms / 1000.0);
	return 0;
}

/* ---------------------------------------------------------------- signals and shutdown */

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void close_handles(struct plumb_reconciler *d)
{
	plumb__rc_status_stop(&d->status);
	plumb__rc_watch_stop(&d->watch);
	if (d->handles_up) {
		uv_handle_t *hs[] = { (uv_handle_t *)&d->resync_timer, (uv_handle_t *)&d->retry_timer,
				      (uv_handle_t *)&d->stop_timer, (uv_handle_t *)&d->sig_term,
				      (uv_handle_t *)&d->sig_int, (uv_handle_t *)&d->sig_hup };
		for (size_t i = 0; i < PLUMB_ARRAY_LEN(hs); i++)
			if (!uv_is_closing(hs[i]))
				uv_close(hs[i], on_handle_closed);
		d->handles_up = false;
	}
}

static void maybe_finish(struct plumb_reconciler *d)
{
	if (d->stopping && !d->observing && !d->execs)
		uv_stop(d->loop);
}

static void on_stop_timer(uv_timer_t *t)
{
	struct plumb_reconciler *d = t->data;
	plumb_log(PLUMB_LOG_WARN, "shutdown.timeout", "detail",
		  "in-flight work did not finish in time; the journal keeps it for the next start",
		  NULL);
	d->forced = true;
	uv_stop(d->loop);
}

static void on_stop_signal(uv_signal_t *h, int signum)
{
	struct plumb_reconciler *d = h->data;
	if (d->stopping)
		return;
	d->stopping = true;
	char in_flight[16];
	snprintf(in_flight, sizeof(in_flight), "%u", plumb__rc_queue_depth(d));
	plumb_log(PLUMB_LOG_INFO, "shutdown", "signal", signum == SIGINT ? "SIGINT" : "SIGTERM",
		  "in_flight", in_flight, NULL);
	uv_timer_stop(&d->resync_timer);
	uv_timer_stop(&d->retry_timer);
	plumb__rc_watch_stop(&d->watch);
	for (struct rc_exec *e = d->execs; e; e = e->next)
		plumb_apply_cancel(e->ex);
	uv_timer_start(&d->stop_timer, on_stop_timer, (uint64_t)d->o.shutdown_ms, 0);
	maybe_finish(d);
}

static void on_hup(uv_signal_t *h, int signum)
{
	(void)signum;
	struct plumb_reconciler *d = h->data;
	plumb_log(PLUMB_LOG_INFO, "reload", "signal", "SIGHUP", NULL);
	plumb__rc_request_pass(d, "sighup");
}

/* ---------------------------------------------------------------- run */

static void free_resources(struct plumb_reconciler *d)
{
	for (size_t i = 0; i < d->res_list.len; i++) {
		struct rc_res *r = d->res_list.items[i];
		free(r->address);
		free(r->kind);
		free(r->name);
		free(r->region);
		free(r->physical);
		json_decref(r->last_error);
		json_decref(r->drift);
		free(r->drift_since);
		free(r);
	}
	plumb_vec_release(&d->res_list);
	plumb_map_release(&d->res);
}

static int open_session(struct plumb_reconciler *d, struct plumb_err *err)
{
	/* the first read of the manifests gives the profile, region and account guard */
	struct plumb_manifest_set set;
	memset(&set, 0, sizeof(set));
	int rc = d->o.load(&set, d->o.load_data);
	bool valid = rc == 0 && plumb_manifest_errors(&set) == 0;
	struct plumb_session_opts so = {
		.profile = valid ? set.profile : NULL,
		.state_path = d->o.state_path,
		.state_mode = PLUMB_STATE_WRITE,
		.holder = d->holder,
		.expected_account = valid ? set.account : NULL,
		.region_hint = valid ? set.region : NULL,
	};
	rc = plumb_session_open(&d->s, &so, err);
	plumb_manifest_release(&set);
	if (rc)
		return rc;
	d->session_up = true;
	d->loop = &d->s.loop;
	if (plumb_state_rebuilt(d->s.state))
		plumb_log(PLUMB_LOG_WARN, "state.rebuilt", "file", plumb_state_path(d->s.state),
			  "moved_to", plumb_state_corrupt_path(d->s.state), "detail",
			  "the state file was corrupt; it is rebuilt from AWS", NULL);
	return 0;
}

static void recover(struct plumb_reconciler *d)
{
	struct plumb_apply_recovery rec;
	struct plumb_err err;
	plumb_err_clear(&err);
	if (plumb_apply_recover(&d->s, &rec, &err) != 0) {
		log_err(PLUMB_LOG_WARN, "recover.error", NULL, NULL, &err);
		return;
	}
	if (rec.open) {
		char o[16], dn[16], f[16], l[16];
		snprintf(o, sizeof(o), "%u", rec.open);
		snprintf(dn, sizeof(dn), "%u", rec.done);
		snprintf(f, sizeof(f), "%u", rec.failed);
		snprintf(l, sizeof(l), "%u", rec.left);
		plumb_log(PLUMB_LOG_INFO, "recover", "open", o, "done", dn, "failed", f, "left", l,
			  NULL);
	}
}

int plumb_reconcile_run(const struct plumb_reconcile_opts *opts, struct plumb_err *err)
{
	struct plumb_reconciler *d = calloc(1, sizeof(*d));
	if (!d)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	d->o = *opts;
	if (d->o.resync_ms <= 0)
		d->o.resync_ms = 5 * 60 * 1000;
	if (d->o.debounce_ms <= 0)
		d->o.debounce_ms = 300;
	if (d->o.shutdown_ms <= 0)
		d->o.shutdown_ms = 30 * 1000;
	static const double bounds[RC_NBOUNDS] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5,
						   5, 10, 30, 60, 300, 1800 };
	memcpy(d->hist_bounds, bounds, sizeof(bounds));
	d->hist = (struct plumb_histogram){ d->hist_bounds, RC_NBOUNDS, d->hist_counts, 0, 0 };
	int64_t started = now_ms();
	snprintf(d->daemon_id, sizeof(d->daemon_id), "%ld-%lld", (long)getpid(),
		 (long long)started);
	snprintf(d->holder, sizeof(d->holder), "plumb run (pid %ld)", (long)getpid());
	plumb_strlcpy(d->owner, d->o.env_owner && d->o.env_owner[0] ? d->o.env_owner : "plumb",
		      sizeof(d->owner));
	srand((unsigned)(started ^ getpid()));

	int rc = open_session(d, err);
	if (rc) {
		free(d);
		return rc;
	}
	recover(d);
	uv_timer_init(d->loop, &d->resync_timer);
	uv_timer_init(d->loop, &d->retry_timer);
	uv_timer_init(d->loop, &d->stop_timer);
	uv_signal_init(d->loop, &d->sig_term);
	uv_signal_init(d->loop, &d->sig_int);
	uv_signal_init(d->loop, &d->sig_hup);
	d->resync_timer.data = d->retry_timer.data = d->stop_timer.data = d;
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	d->handles_up = true;
	uv_signal_start(&d->sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_hup, SIGHUP);
	if (d->o.listen && (rc = plumb__rc_status_start(&d->status, d, d->o.listen, err)) != 0)
		goto out;
	if ((rc = plumb__rc_watch_start(&d->watch, d, err)) != 0)
		goto out;
	char rs[24];
	snprintf(rs, sizeof(rs), "%lld", (long long)d->o.resync_ms);
	plumb_log(PLUMB_LOG_INFO, "start", "version", PLUMB_VERSION, "mode",
		  d->o.observe_only ? "observe" : "apply", "account", d->s.account, "state",
		  plumb_state_path(d->s.state), "resync_ms", rs, "status",
		  d->status.up ? d->status.addr : NULL, NULL);
	plumb__rc_request_pass(d, "start");
	uv_timer_start(&d->resync_timer, on_resync_timer, jittered(d->o.resync_ms), 0);
	uv_run(d->loop, UV_RUN_DEFAULT);
	if (d->forced) {
		/* in-flight calls are abandoned; the journal's open rows say what they were */
		plumb_log(PLUMB_LOG_INFO, "stopped", "clean", "false", NULL);
		return 1;
	}
	plumb_log(PLUMB_LOG_INFO, "stopped", "clean", "true", NULL);
out:
	close_handles(d);
	while (d->execs) {
		struct rc_exec *e = d->execs;
		d->execs = e->next;
		free_exec(e);
	}
	release_pass_inputs(d);
	if (d->session_up)
		plumb_session_close(&d->s);
	json_decref(d->last_pass);
	free_resources(d);
	free(d);
	return rc;
}

/* ---------------------------------------------------------------- metrics helpers */

void plumb_histogram_observe(struct plumb_histogram *h, double v)
{
	size_t i = 0;
	while (i < h->n && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->count++;
}

int plumb_histogram_render(const struct plumb_histogram *h, const char *name, struct plumb_buf *b)
{
	uint64_t cum = 0;
	for (size_t i = 0; i < h->n; i++) {
		cum += h->counts[i];
		plumb_buf_addf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
			       (unsigned long long)cum);
	}
	cum += h->counts[h->n];
	plumb_buf_addf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	plumb_buf_addf(b, "%s_sum %.6f\n", name, h->sum);
	return plumb_buf_addf(b, "%s_count %llu\n", name, (unsigned long long)h->count);
}

int plumb_metrics_label(struct plumb_buf *b, const char *v)
{
	plumb_buf_addch(b, '"');
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\')
			plumb_buf_adds(b, "\\\\");
		else if (*p == '"')
			plumb_buf_adds(b, "\\\"");
		else if (*p == '\n')
			plumb_buf_adds(b, "\\n");
		else
			plumb_buf_addch(b, *p);
	}
	return plumb_buf_addch(b, '"');
}

/*
 * pkg/apply/exec.c — the executor: runs a plan's actions (their JSON form) on the loop.
 *
 * Each action is a small state machine driven by AWS callbacks and one uv timer:
 *
 *   PENDING --deps done--> RUNNING: main call(s) -> tag calls -> DONE
 *                            |  busy / not yet visible: WAITING (timer) -> RUNNING (retry)
 *                            '- WAIT actions: WAITING (timer) <-> RUNNING (DescribeEndpoint)
 *   any failure -> FAILED, and every dependant, transitively -> SKIPPED "needs X"
 *
 * Status changes go through set_status(), which keeps the totals and logs old -> new.
 * At most opts->max_inflight actions of each kind have a call on the wire (waits sleeping
 * between polls and retries do not count); pkg/aws paces each operation further with its rate
 * limiter. The cap is per kind because AWS limits each operation on its own: with one shared
 * cap, a plan that lists every topic, then every model, ... would run one kind at a time, each
 * at its operation's rate, and the alarms (last in the order, on the slowest operation) would
 * start only after everything else. Ready actions start in plan order.
 *
 * Outcomes that are not errors:
 *  - a delete that finds nothing (NOT_FOUND class) is done: the thing is gone either way;
 *  - a SageMaker create (or SNS CreateTopic) answered "already exists" is done when the
 *    existing resource carries our plumb:owner and the action's plumb:id (a run killed after
 *    the create landed, then replayed); otherwise it fails with AWS's error;
 *  - UpdateEndpoint answered "in progress" is done when the endpoint is already updating to,
 *    or InService on, the wanted config (our own earlier attempt); otherwise it is retried
 *    until busy_deadline_s, like DeleteEndpoint "in progress" and AAS ConcurrentUpdate;
 *  - a create/update answered NOT_FOUND for what it names (eventual consistency right after
 *    the dependency was created, reference §6.0, §7.1) is retried 3 times with backoff.
 *
 * Journal: every mutating call has a row, begun before the call (if the row cannot be written
 * the call is not made) and finished after it. Rows of calls carry no spec hash; a failure
 * that condemns a spec (AWS refused the request as invalid, or the endpoint ended Failed or
 * rolled back) writes one more row, FAILED, with the spec hash: that row is what
 * plumb_apply_failed_hashes counts, so a crash, throttling or an internal AWS error never
 * stops a retry (docs/apply.md).
 *
 * State cache: just before an action's first mutating call its observed row is deleted
 * (forget()), so the next plan describes the resource again and reads its tags.
 *
 * Memory: the executor borrows the actions JSON; resolved inputs and ARNs are owned per action
 * and freed by plumb_apply_free. Every timer is closed before the callback runs.
 */
#include "apply/apply.h"
#include "apply/apply_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SETTLE_TRIES 3       /* NOT_FOUND retries of a create/update */
#define POLL_ERRORS_MAX 10   /* consecutive failed polls before a wait gives up */

enum call_kind {
	C_MAIN,          /* the action's own call */
	C_TAG_ADD,       /* tag calls after it */
	C_TAG_REMOVE,
	C_VERIFY_EXISTS, /* ListTags after "already exists" */
	C_CHECK_UPDATE,  /* DescribeEndpoint after UpdateEndpoint "in progress" */
	C_FIND_ARN,      /* DescribeScalableTargets for a target's ARN */
	C_POLL,          /* a wait's DescribeEndpoint */
};

enum phase { PH_MAIN, PH_TAG_ADD, PH_TAG_REMOVE, PH_END };

struct act {
	struct plumb_apply_action pub;  /* what callers see */
	struct plumb_apply *ex;         /* owner */
	const json_t *j;                /* the action object (borrowed) */
	enum plumb_wait_for wait_for;   /* WAIT: what for */
	const char *wait_config;        /* WAIT IN_SERVICE: the wanted config */
	int64_t deadline_ms;            /* WAIT: give up after */
	const char *parent;             /* ScalingPolicy: ResourceId */
	const json_t *add_tags;         /* borrowed, or NULL */
	const json_t *remove_tags;      /* borrowed, or NULL */
	char spec_hash[65];             /* "" when unknown */
	size_t *deps, ndeps;            /* indices of what it needs */
	size_t *rdeps, nrdeps;          /* indices of what needs it */
	size_t unmet;                   /* deps not done yet */
	char needs[200];                /* the failed action a skip names */
	/* running */
	int main_op;                    /* enum plumb_aws_op, or -1 */
	json_t *calls;                  /* owned: inputs of the main calls, in order */
	json_t *own_tags;               /* owned: tags found to add after "already exists" */
	size_t next_call;               /* index into calls */
	enum phase phase;               /* where it is */
	char *arn;                      /* the resource's ARN once known (owned) */
	uv_timer_t timer;               /* polls and retries */
	int64_t t0;                     /* mono ms at start */
	bool started;                   /* t0 is set */
	int64_t busy_t0;                /* mono ms of the first busy refusal, 0 = none */
	int64_t delay_ms;               /* current backoff */
	int tries;                      /* settle retries */
	int poll_errors;                /* consecutive failed polls */
	int64_t jid;                    /* open journal row, 0 = none */
	enum call_kind ck;              /* the call on the wire */
	bool in_call;                   /* a call is on the wire */
	bool counted;                   /* counted in ex->inflight */
	bool forgot;                    /* its state cache row was deleted */
};

struct plumb_apply {
	struct plumb__apply_env env;    /* borrowed surroundings */
	struct plumb_apply_opts opts;   /* defaults filled in */
	const json_t *actions;          /* borrowed */
	struct act *acts;               /* n actions, plan order */
	size_t n;
	json_t *outputs;                /* owned: address -> ARN */
	struct plumb_apply_totals totals;
	char run_id[64];                /* journal run id */
	int64_t t0;                     /* mono ms at start */
	unsigned inflight[PLUMB_KIND__COUNT]; /* non-wait actions with a call on the wire, by kind */
	uv_timer_t kick;                /* defers the first step out of _start */
	size_t open_handles;            /* timers not yet closed */
	bool closing;                   /* handles are being closed */
	bool cancelled;                 /* plumb_apply_cancel */
	int first_rc;                   /* code of the first failure */
	plumb_apply_cb cb;              /* completion */
	void *data;
};

static const char *const status_names[] = { "pending", "running", "waiting",
					    "done",    "failed",  "skipped" };
static const char *const event_names[] = { "started", "polled", "retry",
					   "done",    "failed", "skipped" };

const char *plumb_apply_status_name(enum plumb_apply_status s)
{
	return (size_t)s < PLUMB_ARRAY_LEN(status_names) ? status_names[s] : "unknown";
}

const char *plumb_apply_event_name(enum plumb_apply_event_type t)
{
	return (size_t)t < PLUMB_ARRAY_LEN(event_names) ? event_names[t] : "unknown";
}

static void pump(struct plumb_apply *ex);
static void next(struct act *a);
static void maybe_finish(struct plumb_apply *ex);

static int64_t mono(const struct plumb_apply *ex)
{
	return plumb_clock_mono_ms(ex->opts.clock);
}

static unsigned *count_of(struct plumb_apply_totals *t, enum plumb_apply_status s)
{
	switch (s) {
	case PLUMB_APPLY_PENDING: return &t->pending;
	case PLUMB_APPLY_RUNNING: return &t->running;
	case PLUMB_APPLY_WAITING: return &t->waiting;
	case PLUMB_APPLY_DONE: return &t->done;
	case PLUMB_APPLY_FAILED: return &t->failed;
	case PLUMB_APPLY_SKIPPED: return &t->skipped;
	}
	return &t->pending;
}

static void emit(struct act *a, enum plumb_apply_event_type t)
{
	struct plumb_apply *ex = a->ex;
	ex->totals.elapsed_ms = mono(ex) - ex->t0;
	if (a->started && a->pub.status <= PLUMB_APPLY_WAITING)
		a->pub.elapsed_ms = mono(ex) - a->t0;
	if (!ex->opts.on_event)
		return;
	struct plumb_apply_event ev = { .type = t, .action = &a->pub, .totals = &ex->totals };
	ex->opts.on_event(&ev, ex->opts.event_data);
}

/* The one place an action's status changes. */
static void set_status(struct act *a, enum plumb_apply_status s)
{
	struct plumb_apply *ex = a->ex;
	enum plumb_apply_status old = a->pub.status;
	if (old == s)
		return;
	(*count_of(&ex->totals, old))--;
	(*count_of(&ex->totals, s))++;
	a->pub.status = s;
	if (plumb_log_enabled(PLUMB_LOG_DEBUG))
		plumb_log(PLUMB_LOG_DEBUG, "apply.action", "run", ex->run_id, "resource",
			  a->pub.address, "type", plumb__apply_type_name(a->pub.type), "from",
			  plumb_apply_status_name(old), "to", plumb_apply_status_name(s), NULL);
}

static void uncount(struct act *a)
{
	if (a->counted) {
		a->counted = false;
		a->ex->inflight[a->pub.kind]--;
	}
}

/* ---------------------------------------------------------------- journal */

static void jbegin_row(struct act *a, const char *operation, const json_t *request,
		       const char *spec_hash, int64_t *id, struct plumb_err *err)
{
	struct plumb_apply *ex = a->ex;
	*id = 0;
	if (!ex->env.state)
		return;
	json_t *red = plumb__apply_redact(request);
	struct plumb_journal_entry e = {
		.run_id = ex->run_id,
		.account = (char *)ex->env.account,
		.region = (char *)a->pub.region,
		.kind = a->pub.kind,
		.name = (char *)a->pub.physical,
		.parent = (char *)a->parent,
		.manifest_id = (char *)a->pub.address,
		.operation = (char *)operation,
		.request = red,
		.spec_hash = spec_hash && *spec_hash ? (char *)spec_hash : NULL,
	};
	if (plumb_state_journal_begin(ex->env.state, &e, err) == 0)
		*id = e.id;
	else
		*id = -1;
	json_decref(red);
}

static void jfinish(struct act *a, enum plumb_journal_status st, const char *text)
{
	if (a->jid <= 0)
		return;
	struct plumb_err e;
	plumb_err_clear(&e);
	if (plumb_state_journal_finish(a->ex->env.state, a->jid, st, text, &e) != 0)
		plumb_log(PLUMB_LOG_WARN, "apply.journal", "run", a->ex->run_id, "resource",
			  a->pub.address, "error", e.msg, NULL);
	a->jid = 0;
}

/* The row that condemns a spec hash (see the file comment). */
static void verdict_row(struct act *a, const char *operation, const json_t *request,
			const char *why)
{
	if (!a->spec_hash[0] || !a->ex->env.state)
		return;
	int64_t id;
	struct plumb_err e;
	plumb_err_clear(&e);
	jbegin_row(a, operation, request, a->spec_hash, &id, &e);
	if (id > 0)
		plumb_state_journal_finish(a->ex->env.state, id, PLUMB_JOURNAL_FAILED, why, &e);
}

/*
 * Deletes the state cache row of the action's resource, once, just before its first mutating
 * call: the next observation then describes it afresh and reads its tags, whatever the outcome
 * (done, failed, or the process killed with the call on the wire). Needed because some changes
 * move nothing in the list entry observe compares with the cache (SNS attributes, tags of any
 * kind), and because the Tagging API lags behind new tags (pkg/observe reads the tags of a
 * wanted resource it has no row for). Like the journal row, a row that cannot be deleted
 * stops the call: a stale row could make the next plan say "No changes" when there are some.
 */
static int forget(struct act *a, struct plumb_err *err)
{
	struct plumb_apply *ex = a->ex;
	if (a->forgot || !ex->env.state || !ex->env.account)
		return 0;
	int rc = plumb_state_delete_observed(ex->env.state, ex->env.account, a->pub.region,
					     a->pub.kind, a->pub.physical, a->parent, err);
	if (rc == 0)
		a->forgot = true;
	return rc;
}

/* ---------------------------------------------------------------- outcomes */

static void skip_dependants(struct act *a, const char *root)
{
	struct plumb_apply *ex = a->ex;
	for (size_t i = 0; i < a->nrdeps; i++) {
		struct act *d = &ex->acts[a->rdeps[i]];
		if (d->pub.status != PLUMB_APPLY_PENDING)
			continue;
		snprintf(d->pub.detail, sizeof(d->pub.detail), "skipped: needs %s", root);
		set_status(d, PLUMB_APPLY_SKIPPED);
		emit(d, PLUMB_APPLY_EV_SKIPPED);
		skip_dependants(d, root);
	}
}

static void finish_common(struct act *a)
{
	uncount(a);
	a->in_call = false;
	if (a->started)
		a->pub.elapsed_ms = mono(a->ex) - a->t0;
	json_decref(a->calls);
	a->calls = NULL;
}

static void fail(struct act *a, const struct plumb_err *err, const char *fmt, ...)
	PLUMB_PRINTF(3, 4);

static void fail(struct act *a, const struct plumb_err *err, const char *fmt, ...)
{
	struct plumb_apply *ex = a->ex;
	jfinish(a, PLUMB_JOURNAL_FAILED, err ? err->msg : NULL);
	finish_common(a);
	if (err)
		a->pub.err = *err;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(a->pub.detail, sizeof(a->pub.detail), fmt, ap);
		va_end(ap);
	}
	if (!a->pub.err.code) {
		a->pub.err.code = PLUMB_EAWS;
		plumb_strlcpy(a->pub.err.msg, a->pub.detail, sizeof(a->pub.err.msg));
	}
	if (!a->pub.detail[0])
		plumb_strlcpy(a->pub.detail, a->pub.err.msg, sizeof(a->pub.detail));
	if (!ex->first_rc)
		ex->first_rc = a->pub.err.code ? a->pub.err.code : PLUMB_EAWS;
	set_status(a, PLUMB_APPLY_FAILED);
	emit(a, PLUMB_APPLY_EV_FAILED);
	plumb_log(PLUMB_LOG_INFO, "apply.failed", "run", ex->run_id, "resource", a->pub.address,
		  "type", plumb__apply_type_name(a->pub.type), "error", a->pub.detail, NULL);
	skip_dependants(a, a->pub.address);
	pump(ex);
	maybe_finish(ex);
}

static void succeed(struct act *a)
{
	struct plumb_apply *ex = a->ex;
	finish_common(a);
	set_status(a, PLUMB_APPLY_DONE);
	emit(a, PLUMB_APPLY_EV_DONE);
	for (size_t i = 0; i < a->nrdeps; i++) {
		struct act *d = &ex->acts[a->rdeps[i]];
		if (d->unmet)
			d->unmet--;
	}
	pump(ex);
	maybe_finish(ex);
}

static void record_output(struct act *a, const char *arn)
{
	if (!arn || !*arn)
		return;
	if (arn != a->arn) {
		free(a->arn);
		a->arn = strdup(arn);
	}
	if (a->pub.type == PLUMB_ACTION_CREATE || a->pub.type == PLUMB_ACTION_UPDATE ||
	    a->pub.type == PLUMB_ACTION_TAG)
		json_object_set_new(a->ex->outputs, a->pub.address, json_string(arn));
}

/* ---------------------------------------------------------------- calls */

static void on_call(int rc, json_t *reply, const struct plumb_err *err, void *data);

/* Sends op; journals it first when mutating. On a start failure the action fails. */
static void send_call(struct act *a, enum plumb_aws_op op, const json_t *input,
		      enum call_kind ck)
{
	struct plumb_apply *ex = a->ex;
	struct plumb_err e;
	plumb_err_clear(&e);
	if (ex->cancelled) {
		fail(a, NULL, "cancelled");
		return;
	}
	if (plumb_aws_op_flags(op) & PLUMB_AWS_OP_MUTATES) {
		jbegin_row(a, plumb_aws_op_name(op), input, NULL, &a->jid, &e);
		if (a->jid < 0) {
			a->jid = 0;
			fail(a, &e, "not calling %s: the journal row could not be written: %s",
			     plumb_aws_op_name(op), e.msg);
			return;
		}
		if (forget(a, &e) != 0) {
			fail(a, &e, "not calling %s: the state cache row could not be deleted: %s",
			     plumb_aws_op_name(op), e.msg);
			return;
		}
	}
	a->ck = ck;
	a->in_call = true;
	if (a->pub.type != PLUMB_ACTION_WAIT && !a->counted) {
		a->counted = true;
		ex->inflight[a->pub.kind]++;
	}
	set_status(a, PLUMB_APPLY_RUNNING);
	a->pub.calls++;
	ex->totals.calls++;
	int rc = ex->env.call(ex->env.call_ctx, a->pub.region, op, input, on_call, a, &e);
	if (rc) {
		a->in_call = false;
		a->pub.calls--;
		ex->totals.calls--;
		fail(a, &e, NULL);
	}
}

static void on_timer(uv_timer_t *t);

/* Sleeps delay_ms, then on_timer continues the action. */
static void sleep_then(struct act *a, int64_t delay_ms)
{
	if (a->ex->cancelled) {
		fail(a, NULL, "cancelled");
		return;
	}
	uncount(a);
	a->in_call = false;
	set_status(a, PLUMB_APPLY_WAITING);
	uv_timer_start(&a->timer, on_timer, (uint64_t)(delay_ms > 0 ? delay_ms : 1), 0);
	pump(a->ex);
}

/* The ARN of the action's resource, when it can be had without a call. */
static const char *known_arn(struct act *a)
{
	struct plumb_apply *ex = a->ex;
	if (a->arn)
		return a->arn;
	const char *s = json_string_value(json_object_get(a->j, "arn"));
	if (!s)
		s = json_string_value(json_object_get(ex->outputs, a->pub.address));
	if (!s && ex->env.have) {
		const struct plumb_observed *o = plumb_observed_find(
			ex->env.have, a->pub.kind, a->pub.region, a->pub.physical, a->parent);
		if (o && o->arn)
			s = o->arn;
	}
	char buf[512];
	if (!s && plumb_arn(a->pub.kind, a->pub.region, ex->env.account, a->pub.physical,
				   buf, sizeof(buf)) == 0)
		s = buf;
	if (s)
		a->arn = strdup(s);
	return a->arn;
}

static bool nonempty(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) ||
	       (json_is_array(v) && json_array_size(v) > 0);
}

/* Issues the next call of the action, or finishes it. */
static void next(struct act *a)
{
	for (;;) {
		switch (a->phase) {
		case PH_MAIN:
			if (a->main_op >= 0 && a->next_call < json_array_size(a->calls)) {
				send_call(a, (enum plumb_aws_op)a->main_op,
					  json_array_get(a->calls, a->next_call), C_MAIN);
				return;
			}
			a->phase = PH_TAG_ADD;
			break;
		case PH_TAG_ADD:
		case PH_TAG_REMOVE: {
			bool add = a->phase == PH_TAG_ADD;
			const json_t *tags = add ? a->add_tags : a->remove_tags;
			int op = plumb__apply_tag_op(a->pub.kind, add);
			if (op < 0 || !nonempty(tags)) {
				a->phase++;
				break;
			}
			const char *arn = known_arn(a);
			if (!arn) {
				/* only scalable targets: their ARN holds an id AWS made */
				json_t *in = json_pack("{s:s, s:[s]}", "ServiceNamespace", "sagemaker",
						       "ResourceIds", a->pub.physical);
				send_call(a, PLUMB_AWS_OP_AAS_DESCRIBE_SCALABLE_TARGETS, in,
					  C_FIND_ARN);
				json_decref(in);
				return;
			}
			json_t *in = plumb__apply_tag_input(a->pub.kind, add, arn, tags);
			send_call(a, (enum plumb_aws_op)op, in, add ? C_TAG_ADD : C_TAG_REMOVE);
			json_decref(in);
			return;
		}
		case PH_END:
			succeed(a);
			return;
		}
	}
}

static void schedule_retry(struct act *a, const struct plumb_err *err, const char *what)
{
	a->delay_ms = plumb__apply_backoff(a->delay_ms, a->ex->opts.poll_ms,
					   a->ex->opts.poll_max_ms);
	snprintf(a->pub.detail, sizeof(a->pub.detail), "%s: %s; retrying in %" PRId64 " ms", what,
		 plumb__apply_aws_message(err), a->delay_ms);
	emit(a, PLUMB_APPLY_EV_RETRY);
	sleep_then(a, a->delay_ms);
}

/* A busy refusal: retried until busy_deadline_s from the first one. */
static void busy(struct act *a, const struct plumb_err *err)
{
	int64_t now = mono(a->ex);
	if (!a->busy_t0)
		a->busy_t0 = now;
	jfinish(a, PLUMB_JOURNAL_FAILED, err->msg);
	if (now - a->busy_t0 >= a->ex->opts.busy_deadline_s * 1000) {
		fail(a, err, "still busy after %" PRId64 " s: %s", (now - a->busy_t0) / 1000,
		     plumb__apply_aws_message(err));
		return;
	}
	schedule_retry(a, err, "busy");
}

static const json_t *cur_input(struct act *a)
{
	return json_array_get(a->calls, a->next_call);
}

static void main_error(struct act *a, const struct plumb_err *err)
{
	enum plumb_aws_op op = (enum plumb_aws_op)a->main_op;
	enum plumb_action_type t = a->pub.type;
	if (err->cls == PLUMB_ERRC_NOT_FOUND && t == PLUMB_ACTION_DELETE) {
		jfinish(a, PLUMB_JOURNAL_DONE, NULL);
		plumb_strlcpy(a->pub.detail, "already gone", sizeof(a->pub.detail));
		a->next_call++;
		next(a);
		return;
	}
	if (plumb_aws_err_is_exists(err) &&
	    ((plumb_aws_op_flags(op) & PLUMB_AWS_OP_CREATE) || op == PLUMB_AWS_OP_SNS_CREATE_TOPIC)) {
		const char *arn = known_arn(a);
		if (arn) {
			a->pub.err = *err; /* kept in case the check says "not ours" */
			json_t *in = json_pack("{s:s}", "ResourceArn", arn);
			send_call(a,
				  op == PLUMB_AWS_OP_SNS_CREATE_TOPIC
					  ? PLUMB_AWS_OP_SNS_LIST_TAGS_FOR_RESOURCE
					  : PLUMB_AWS_OP_SM_LIST_TAGS,
				  in, C_VERIFY_EXISTS);
			json_decref(in);
			return;
		}
	}
	if (err->cls == PLUMB_ERRC_CONFLICT && op == PLUMB_AWS_OP_SM_UPDATE_ENDPOINT) {
		a->pub.err = *err;
		json_t *in = json_pack("{s:s}", "EndpointName", a->pub.physical);
		send_call(a, PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT, in, C_CHECK_UPDATE);
		json_decref(in);
		return;
	}
	if (err->cls == PLUMB_ERRC_CONFLICT && !plumb_aws_err_is_exists(err)) {
		busy(a, err);
		return;
	}
	if (err->cls == PLUMB_ERRC_NOT_FOUND && a->tries < SETTLE_TRIES) {
		a->tries++;
		jfinish(a, PLUMB_JOURNAL_FAILED, err->msg);
		schedule_retry(a, err, "not visible yet");
		return;
	}
	if (err->cls == PLUMB_ERRC_TERMINAL && err->code == PLUMB_EAWS &&
	    (t == PLUMB_ACTION_CREATE || t == PLUMB_ACTION_UPDATE))
		verdict_row(a, plumb_aws_op_name(op), cur_input(a), err->msg);
	fail(a, err, NULL);
}

/* Tags of a ListTags / ListTagsForResource reply: owner and id as the action wants them? */
static bool tags_are_ours(struct act *a, const json_t *reply)
{
	const json_t *want = json_object_get(cur_input(a), "Tags");
	const char *owner = NULL;
	size_t i;
	json_t *t;
	json_array_foreach(want, i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		if (k && strcmp(k, PLUMB_TAG_OWNER) == 0)
			owner = json_string_value(json_object_get(t, "Value"));
	}
	if (!owner)
		return false;
	bool own = false, id = false;
	json_array_foreach(json_object_get(reply, "Tags"), i, t) {
		const char *k = json_string_value(json_object_get(t, "Key"));
		const char *v = json_string_value(json_object_get(t, "Value"));
		if (!k || !v)
			continue;
		if (strcmp(k, PLUMB_TAG_OWNER) == 0 && strcmp(v, owner) == 0)
			own = true;
		if (strcmp(k, PLUMB_TAG_ID) == 0 && strcmp(v, a->pub.address) == 0)
			id = true;
	}
	return own && id;
}

static void on_verify_exists(struct act *a, int rc, const json_t *reply,
			     const struct plumb_err *err)
{
	struct plumb_err exists = a->pub.err;
	plumb_err_clear(&a->pub.err);
	if (rc) {
		fail(a, &exists, "%s; and its tags could not be read: %s", exists.msg,
		     err ? err->msg : "");
		return;
	}
	if (!tags_are_ours(a, reply)) {
		fail(a, &exists, "%s exists and is not ours (plumb:owner / plumb:id differ)",
		     a->pub.physical);
		return;
	}
	jfinish(a, PLUMB_JOURNAL_DONE, NULL);
	plumb_strlcpy(a->pub.detail, "already existed (ours)", sizeof(a->pub.detail));
	record_output(a, a->arn);
	if (a->main_op == PLUMB_AWS_OP_SNS_CREATE_TOPIC && !a->add_tags) {
		/* CreateTopic refuses other tags on an existing topic: set ours with TagResource */
		json_t *tags = json_object();
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(cur_input(a), "Tags"), i, t) {
			const char *k = json_string_value(json_object_get(t, "Key"));
			if (k)
				json_object_set(tags, k, json_object_get(t, "Value"));
		}
		json_decref(a->own_tags);
		a->own_tags = tags;
		a->add_tags = tags;
	}
	a->next_call++;
	next(a);
}

static void on_check_update(struct act *a, int rc, const json_t *reply,
			    const struct plumb_err *err)
{
	struct plumb_err busy_err = a->pub.err;
	plumb_err_clear(&a->pub.err);
	const char *want = json_string_value(json_object_get(cur_input(a), "EndpointConfigName"));
	if (rc == 0 && want) {
		const char *st = json_string_value(json_object_get(reply, "EndpointStatus"));
		const char *cfg = json_string_value(json_object_get(reply, "EndpointConfigName"));
		const char *pend = json_string_value(json_object_get(
			json_object_get(reply, "PendingDeploymentSummary"), "EndpointConfigName"));
		bool landed = (pend && strcasecmp(pend, want) == 0) ||
			      (cfg && strcasecmp(cfg, want) == 0 && st &&
			       (strcmp(st, "Updating") == 0 || strcmp(st, "InService") == 0));
		if (landed) {
			jfinish(a, PLUMB_JOURNAL_DONE, NULL);
			plumb_strlcpy(a->pub.detail, "update already under way",
				      sizeof(a->pub.detail));
			a->next_call++;
			next(a);
			return;
		}
		if (st && (strcmp(st, "Failed") == 0 || strcmp(st, "UpdateRollbackFailed") == 0)) {
			const char *r = json_string_value(json_object_get(reply, "FailureReason"));
			fail(a, &busy_err, "endpoint is %s and cannot be updated: %s", st,
			     r ? r : "no FailureReason given");
			return;
		}
	}
	(void)err;
	busy(a, &busy_err);
}

static void on_find_arn(struct act *a, int rc, const json_t *reply, const struct plumb_err *err)
{
	if (rc) {
		fail(a, err, NULL);
		return;
	}
	const char *arn = json_string_value(json_object_get(
		json_array_get(json_object_get(reply, "ScalableTargets"), 0), "ScalableTargetARN"));
	if (!arn) {
		fail(a, NULL, "scalable target %s not found: cannot tag it", a->pub.physical);
		return;
	}
	free(a->arn);
	a->arn = strdup(arn);
	next(a);
}

/* ---------------------------------------------------------------- waits */

static void schedule_poll(struct act *a)
{
	int64_t elapsed = mono(a->ex) - a->t0;
	a->delay_ms = plumb__apply_backoff(a->delay_ms, a->ex->opts.poll_ms,
					   a->ex->opts.poll_max_ms);
	int64_t d = a->delay_ms;
	if (elapsed + d > a->deadline_ms)
		d = a->deadline_ms - elapsed; /* poll once more at the deadline */
	sleep_then(a, d);
}

static void poll_now(struct act *a)
{
	json_t *in = json_pack("{s:s}", "EndpointName", a->pub.physical);
	send_call(a, PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT, in, C_POLL);
	json_decref(in);
}

static void on_poll(struct act *a, int rc, const json_t *reply, const struct plumb_err *err)
{
	int64_t elapsed = mono(a->ex) - a->t0;
	bool gone = rc && err && err->cls == PLUMB_ERRC_NOT_FOUND;
	if (rc && !gone) {
		if (err->cls == PLUMB_ERRC_TERMINAL || err->code == PLUMB_ECANCELED ||
		    ++a->poll_errors >= POLL_ERRORS_MAX) {
			fail(a, err, "waiting for %s: %s", a->pub.physical, err->msg);
			return;
		}
	} else {
		a->poll_errors = 0;
		a->pub.polls++;
		const char *st =
			gone ? "(gone)" : json_string_value(json_object_get(reply, "EndpointStatus"));
		plumb_strlcpy(a->pub.endpoint_status, st ? st : "", sizeof(a->pub.endpoint_status));
		char why[sizeof(a->pub.detail)];
		enum plumb__wait_verdict v = plumb__apply_wait_judge(
			a->wait_for, a->wait_config, gone, reply, (int)a->pub.polls, why, sizeof(why));
		a->pub.elapsed_ms = elapsed;
		emit(a, PLUMB_APPLY_EV_POLLED);
		if (v == PLUMB__WAIT_DONE) {
			succeed(a);
			return;
		}
		if (v == PLUMB__WAIT_FAILED) {
			struct plumb_err e;
			plumb_err_clear(&e);
			plumb_err_set(&e, PLUMB_EAWS, "%s", why);
			plumb_strlcpy(e.service, "sagemaker", sizeof(e.service));
			plumb_strlcpy(e.operation, "DescribeEndpoint", sizeof(e.operation));
			e.cls = PLUMB_ERRC_TERMINAL;
			/*
			 * The spec is condemned only when AWS says why: an endpoint InService on
			 * another config with no FailureReason was moved by something else (another
			 * actor, or an update that never landed), and the next pass may retry.
			 */
			bool explained = !gone && reply &&
					 (json_string_value(json_object_get(reply, "FailureReason")) ||
					  strcmp(st ? st : "", "InService") != 0);
			if (a->wait_for == PLUMB_WAIT_IN_SERVICE && explained) {
				json_t *req = json_pack("{s:s, s:s?}", "EndpointName", a->pub.physical,
							"EndpointConfigName", a->wait_config);
				verdict_row(a, "wait:in_service", req, why);
				json_decref(req);
			}
			fail(a, &e, "%s", why);
			return;
		}
	}
	if (elapsed >= a->deadline_ms) {
		struct plumb_err e;
		plumb_err_clear(&e);
		plumb_err_set(&e, PLUMB_EAWS,
			      "stuck: endpoint %s is still %s after %" PRId64
			      " s (deadline %" PRId64 " s)",
			      a->pub.physical,
			      a->pub.endpoint_status[0] ? a->pub.endpoint_status : "unknown",
			      elapsed / 1000, a->deadline_ms / 1000);
		e.cls = PLUMB_ERRC_RETRYABLE;
		fail(a, &e, "%s", e.msg);
		return;
	}
	schedule_poll(a);
}

/* ---------------------------------------------------------------- dispatch */

static void on_call(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct act *a = data;
	a->in_call = false;
	struct plumb_err none;
	plumb_err_clear(&none);
	if (!err)
		err = &none;
	switch (a->ck) {
	case C_MAIN:
		if (rc) {
			main_error(a, err);
			return;
		}
		jfinish(a, PLUMB_JOURNAL_DONE, NULL);
		a->tries = 0;
		a->busy_t0 = 0;
		a->delay_ms = 0;
		{
			const char *m = plumb__apply_reply_arn(a->pub.kind);
			const char *arn = m ? json_string_value(json_object_get(reply, m)) : NULL;
			if (arn)
				record_output(a, arn);
			else if (a->pub.type != PLUMB_ACTION_DELETE && known_arn(a))
				record_output(a, a->arn);
		}
		a->next_call++;
		next(a);
		return;
	case C_TAG_ADD:
	case C_TAG_REMOVE:
		if (rc) {
			if (err->cls == PLUMB_ERRC_CONFLICT) {
				busy(a, err);
				return;
			}
			fail(a, err, NULL);
			return;
		}
		jfinish(a, PLUMB_JOURNAL_DONE, NULL);
		a->busy_t0 = 0;
		a->delay_ms = 0;
		a->phase++;
		next(a);
		return;
	case C_VERIFY_EXISTS:
		on_verify_exists(a, rc, reply, err);
		return;
	case C_CHECK_UPDATE:
		on_check_update(a, rc, reply, err);
		return;
	case C_FIND_ARN:
		on_find_arn(a, rc, reply, err);
		return;
	case C_POLL:
		on_poll(a, rc, reply, err);
		return;
	}
}

static void on_timer(uv_timer_t *t)
{
	struct act *a = t->data;
	if (a->pub.status != PLUMB_APPLY_WAITING)
		return;
	if (a->ex->cancelled) {
		fail(a, NULL, "cancelled");
		return;
	}
	if (a->pub.type == PLUMB_ACTION_WAIT) {
		poll_now(a);
		return;
	}
	next(a); /* retry the call that was refused */
}

/* ---------------------------------------------------------------- starting actions */

static const char *ref_lookup(void *ctx, const char *ref)
{
	struct plumb_apply *ex = ctx;
	const char *arn = json_string_value(json_object_get(ex->outputs, ref));
	if (arn)
		return arn;
	/* a topic is named by its plan action's physical name, and its ARN is computable */
	if (strncmp(ref, "Topic/", 6) == 0) {
		const char *phys = ref + 6;
		const char *region = ex->env.default_region;
		for (size_t i = 0; i < ex->n; i++)
			if (strcmp(ex->acts[i].pub.address, ref) == 0) {
				phys = ex->acts[i].pub.physical;
				region = ex->acts[i].pub.region;
			}
		char buf[512];
		if (plumb_arn(PLUMB_KIND_TOPIC, region, ex->env.account, phys, buf,
				     sizeof(buf)) == 0) {
			json_object_set_new(ex->outputs, ref, json_string(buf));
			return json_string_value(json_object_get(ex->outputs, ref));
		}
	}
	/* a live resource with that plumb:id (a policy the plan did not touch) */
	if (ex->env.have) {
		for (size_t i = 0; i < ex->env.have->items.len; i++) {
			const struct plumb_observed *o = ex->env.have->items.items[i];
			const char *id = plumb_observed_tag(o, PLUMB_TAG_ID);
			if (id && o->arn && strcmp(id, ref) == 0)
				return o->arn;
		}
	}
	return NULL;
}

/* The main calls of a: their inputs, references resolved. */
static int build_calls(struct act *a, struct plumb_err *err)
{
	struct plumb_apply *ex = a->ex;
	a->calls = json_array();
	if (!a->calls)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	if (a->main_op < 0)
		return 0;
	const json_t *raw = json_object_get(a->j, "input");
	json_t *in = json_is_object(raw) ? json_deep_copy(raw) : NULL;
	if (!in && a->pub.type == PLUMB_ACTION_DELETE)
		in = plumb__apply_default_delete(a->pub.kind, a->pub.region, ex->env.account,
						 a->pub.physical, a->parent);
	if (!in)
		return plumb_err_set(err, PLUMB_EINVAL, "%s %s: the plan gives no input",
				     plumb__apply_type_name(a->pub.type), a->pub.address);
	char missing[256];
	if (plumb__apply_resolve(in, ref_lookup, ex, missing, sizeof(missing)) != 0) {
		json_decref(in);
		return plumb_err_set(err, PLUMB_ENOENT,
				     "%s: reference %s has no ARN (no earlier action produced it)",
				     a->pub.address, missing);
	}
	if (a->main_op != PLUMB_AWS_OP_SNS_SET_TOPIC_ATTRIBUTES) {
		json_array_append_new(a->calls, in);
		return 0;
	}
	/* SetTopicAttributes takes one attribute per call */
	if (json_object_get(in, "DataProtectionPolicy")) {
		json_decref(in);
		return plumb_err_set(err, PLUMB_EINVAL,
				     "%s: a changed DataProtectionPolicy needs SNS "
				     "PutDataProtectionPolicy, which plumb does not call yet",
				     a->pub.address);
	}
	const char *arn = json_string_value(json_object_get(in, "TopicArn"));
	if (!arn)
		arn = known_arn(a);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(in, "Attributes"), k, v) {
		json_t *c = json_pack("{s:s, s:s}", "TopicArn", arn ? arn : "", "AttributeName", k);
		if (json_is_string(v))
			json_object_set(c, "AttributeValue", v);
		else if (!json_is_null(v)) { /* policies given as objects: AWS wants JSON text */
			char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
			json_object_set_new(c, "AttributeValue", json_string(text ? text : ""));
			free(text);
		}
		json_array_append_new(a->calls, c);
	}
	json_decref(in);
	return 0;
}

static void start_action(struct act *a)
{
	struct plumb_apply *ex = a->ex;
	a->t0 = mono(ex);
	a->started = true;
	a->delay_ms = 0;
	set_status(a, PLUMB_APPLY_RUNNING);
	emit(a, PLUMB_APPLY_EV_STARTED);
	if (a->pub.type == PLUMB_ACTION_WAIT) {
		schedule_poll(a);
		return;
	}
	struct plumb_err e;
	plumb_err_clear(&e);
	if (build_calls(a, &e) != 0) {
		fail(a, &e, NULL);
		return;
	}
	a->phase = PH_MAIN;
	a->next_call = 0;
	next(a);
}

static void pump(struct plumb_apply *ex)
{
	if (ex->closing || ex->cancelled)
		return;
	for (size_t i = 0; i < ex->n; i++) {
		struct act *a = &ex->acts[i];
		if (a->pub.status != PLUMB_APPLY_PENDING || a->unmet)
			continue;
		if (a->pub.type != PLUMB_ACTION_WAIT &&
		    ex->inflight[a->pub.kind] >= ex->opts.max_inflight)
			continue;
		start_action(a);
	}
}

/* ---------------------------------------------------------------- finishing the run */

static void closed_one(struct plumb_apply *ex)
{
	if (--ex->open_handles > 0)
		return;
	int rc = ex->first_rc ? ex->first_rc : PLUMB_EAWS;
	if (ex->cancelled)
		rc = PLUMB_ECANCELED;
	if (ex->totals.done == ex->totals.total)
		rc = 0;
	plumb_log(PLUMB_LOG_DEBUG, "apply.finished", "run", ex->run_id, NULL);
	ex->cb(rc, ex, ex->data);
}

static void on_act_closed(uv_handle_t *h)
{
	closed_one(((struct act *)h->data)->ex);
}

static void on_kick_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

static void maybe_finish(struct plumb_apply *ex)
{
	if (ex->closing)
		return;
	const struct plumb_apply_totals *t = &ex->totals;
	if (t->pending || t->running || t->waiting)
		return;
	for (size_t i = 0; i < ex->n; i++)
		if (ex->acts[i].in_call)
			return;
	ex->closing = true;
	ex->totals.elapsed_ms = mono(ex) - ex->t0;
	for (size_t i = 0; i < ex->n; i++)
		uv_close((uv_handle_t *)&ex->acts[i].timer, on_act_closed);
	uv_close((uv_handle_t *)&ex->kick, on_kick_closed);
}

static void on_kick(uv_timer_t *t)
{
	struct plumb_apply *ex = t->data;
	pump(ex);
	maybe_finish(ex);
}

void plumb_apply_cancel(struct plumb_apply *ex)
{
	if (ex->cancelled || ex->closing)
		return;
	ex->cancelled = true;
	if (!ex->first_rc)
		ex->first_rc = PLUMB_ECANCELED;
	for (size_t i = 0; i < ex->n; i++) {
		struct act *a = &ex->acts[i];
		if (a->pub.status == PLUMB_APPLY_PENDING) {
			plumb_strlcpy(a->pub.detail, "skipped: cancelled", sizeof(a->pub.detail));
			set_status(a, PLUMB_APPLY_SKIPPED);
			emit(a, PLUMB_APPLY_EV_SKIPPED);
		}
	}
	for (size_t i = 0; i < ex->n; i++) {
		struct act *a = &ex->acts[i];
		if (a->pub.status == PLUMB_APPLY_WAITING && !a->in_call) {
			uv_timer_stop(&a->timer);
			fail(a, NULL, "cancelled");
		}
	}
	maybe_finish(ex);
}

/* ---------------------------------------------------------------- setting up */

/* Any kind by name, ScalingPolicy included (plumb_kind_from_name knows document kinds only). */
static int kind_by_name(const char *name)
{
	for (int i = 0; name && i < PLUMB_KIND__COUNT; i++)
		if (i != PLUMB_KIND_DEFAULTS && strcmp(plumb_kind_name((enum plumb_kind)i), name) == 0)
			return i;
	return -1;
}

static int parse_action(struct plumb_apply *ex, struct act *a, const json_t *j,
			const char *default_region, struct plumb_err *err)
{
	a->ex = ex;
	a->j = j;
	a->main_op = -1;
	if (!json_is_object(j))
		return plumb_err_set(err, PLUMB_EINVAL, "plan action is not an object");
	json_t *id = json_object_get(j, "id");
	if (!json_is_integer(id))
		return plumb_err_set(err, PLUMB_EINVAL, "plan action without an integer id");
	a->pub.id = json_integer_value(id);
	const char *type = json_string_value(json_object_get(j, "type"));
	int t = plumb__apply_type_from_name(type);
	if (t < 0)
		return plumb_err_set(err, PLUMB_EINVAL, "plan action %" PRId64 ": unknown type '%s'",
				     a->pub.id, type ? type : "");
	a->pub.type = (enum plumb_action_type)t;
	const char *kind = json_string_value(json_object_get(j, "kind"));
	a->pub.address = json_string_value(json_object_get(j, "address"));
	int k = kind_by_name(kind);
	if (k < 0 && a->pub.address) {
		char buf[64];
		const char *slash = strchr(a->pub.address, '/');
		size_t n = slash ? (size_t)(slash - a->pub.address) : 0;
		if (n && n < sizeof(buf)) {
			memcpy(buf, a->pub.address, n);
			buf[n] = '\0';
			k = kind_by_name(buf);
		}
	}
	if (k < 0 || k == PLUMB_KIND_DEFAULTS)
		return plumb_err_set(err, PLUMB_EINVAL, "plan action %" PRId64 ": unknown kind '%s'",
				     a->pub.id, kind ? kind : "");
	a->pub.kind = (enum plumb_kind)k;
	a->pub.physical = json_string_value(json_object_get(j, "physical"));
	if (!a->pub.address || !a->pub.physical)
		return plumb_err_set(err, PLUMB_EINVAL,
				     "plan action %" PRId64 ": address and physical are required",
				     a->pub.id);
	a->pub.region = json_string_value(json_object_get(j, "region"));
	if (!a->pub.region || !*a->pub.region)
		a->pub.region = default_region;
	if (!a->pub.region)
		return plumb_err_set(err, PLUMB_EINVAL, "plan action %" PRId64 " (%s): no region",
				     a->pub.id, a->pub.address);
	a->parent = json_string_value(json_object_get(j, "parent"));
	a->add_tags = json_object_get(j, "add_tags");
	a->remove_tags = json_object_get(j, "remove_tags");
	if (a->add_tags && !json_is_object(a->add_tags))
		a->add_tags = NULL;
	if (a->remove_tags && !json_is_array(a->remove_tags))
		a->remove_tags = NULL;
	plumb__apply_spec_hash(j, a->spec_hash);
	if (a->pub.type == PLUMB_ACTION_WAIT) {
		if (a->pub.kind != PLUMB_KIND_ENDPOINT)
			return plumb_err_set(err, PLUMB_EINVAL,
					     "plan action %" PRId64 ": only endpoints are waited for",
					     a->pub.id);
		a->wait_for = plumb__apply_wait_from_name(
			json_string_value(json_object_get(j, "wait_for")));
		if (a->wait_for == PLUMB_WAIT_NONE)
			return plumb_err_set(err, PLUMB_EINVAL,
					     "plan action %" PRId64 ": wait for what ('%s')?",
					     a->pub.id,
					     json_string_value(json_object_get(j, "wait_for"))
						     ? json_string_value(json_object_get(j, "wait_for"))
						     : "");
		a->wait_config = json_string_value(json_object_get(j, "wait_config"));
		json_t *dl = json_object_get(j, "wait_deadline_s");
		int64_t s = json_is_integer(dl) ? json_integer_value(dl) : 0;
		a->deadline_ms = (s > 0 ? s : ex->opts.wait_deadline_s) * 1000;
	} else {
		a->main_op = plumb__apply_main_op(a->pub.kind, a->pub.type);
	}
	return 0;
}

static int push_idx(size_t **v, size_t *n, size_t x)
{
	size_t *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return PLUMB_ENOMEM;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

static int link_deps(struct plumb_apply *ex, struct plumb_err *err)
{
	for (size_t i = 0; i < ex->n; i++) {
		struct act *a = &ex->acts[i];
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(a->j, "depends_on"), k, d) {
			if (!json_is_integer(d))
				return plumb_err_set(err, PLUMB_EINVAL,
						     "plan action %" PRId64 ": depends_on holds a non-id",
						     a->pub.id);
			int64_t want = json_integer_value(d);
			size_t j;
			for (j = 0; j < ex->n; j++)
				if (ex->acts[j].pub.id == want)
					break;
			if (j == ex->n)
				return plumb_err_set(err, PLUMB_EINVAL,
						     "plan action %" PRId64 " depends on %" PRId64
						     ", which is not in the plan",
						     a->pub.id, want);
			if (j == i)
				return plumb_err_set(err, PLUMB_EINVAL,
						     "plan action %" PRId64 " depends on itself",
						     a->pub.id);
			if (push_idx(&a->deps, &a->ndeps, j) ||
			    push_idx(&ex->acts[j].rdeps, &ex->acts[j].nrdeps, i))
				return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
			a->unmet++;
		}
	}
	/* a cycle would leave actions pending forever: refuse it now (Kahn's algorithm) */
	size_t *unmet = calloc(ex->n ? ex->n : 1, sizeof(*unmet));
	size_t *queue = calloc(ex->n ? ex->n : 1, sizeof(*queue));
	if (!unmet || !queue) {
		free(unmet);
		free(queue);
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	}
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < ex->n; i++)
		if (!(unmet[i] = ex->acts[i].unmet))
			queue[tail++] = i;
	while (head < tail) {
		struct act *a = &ex->acts[queue[head++]];
		for (size_t r = 0; r < a->nrdeps; r++)
			if (--unmet[a->rdeps[r]] == 0)
				queue[tail++] = a->rdeps[r];
	}
	free(unmet);
	free(queue);
	if (tail != ex->n)
		return plumb_err_set(err, PLUMB_EINVAL, "the plan's dependencies form a cycle");
	return 0;
}

static int64_t env_poll_ms(void)
{
	const char *s = getenv("PLUMB_POLL_MS");
	if (!s || !*s)
		return 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 && v < 3600000 ? (int64_t)v : 0;
}

int plumb__apply_start_env(struct plumb_apply **out, const struct plumb__apply_env *env,
			   const json_t *actions, const struct plumb_apply_opts *opts,
			   plumb_apply_cb cb, void *data, struct plumb_err *err)
{
	*out = NULL;
	if (!json_is_array(actions))
		return plumb_err_set(err, PLUMB_EINVAL, "plan actions are not an array");
	struct plumb_apply *ex = calloc(1, sizeof(*ex));
	if (!ex)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	ex->env = *env;
	if (opts)
		ex->opts = *opts;
	if (!ex->opts.clock)
		ex->opts.clock = &plumb_clock_system;
	if (!ex->opts.max_inflight)
		ex->opts.max_inflight = 32;
	if (ex->opts.poll_ms <= 0)
		ex->opts.poll_ms = env_poll_ms();
	if (ex->opts.poll_ms <= 0)
		ex->opts.poll_ms = 2000;
	if (ex->opts.poll_max_ms <= 0)
		ex->opts.poll_max_ms = ex->opts.poll_ms * 15 < 30000 ? ex->opts.poll_ms * 15 : 30000;
	if (ex->opts.poll_max_ms < ex->opts.poll_ms)
		ex->opts.poll_max_ms = ex->opts.poll_ms;
	if (ex->opts.wait_deadline_s <= 0)
		ex->opts.wait_deadline_s = 3600;
	if (ex->opts.busy_deadline_s <= 0)
		ex->opts.busy_deadline_s = 3600;
	if (ex->opts.run_id)
		plumb_strlcpy(ex->run_id, ex->opts.run_id, sizeof(ex->run_id));
	else
		snprintf(ex->run_id, sizeof(ex->run_id), "%" PRId64 "-%ld",
			 plumb_clock_now_ms(ex->opts.clock), (long)getpid());
	ex->opts.run_id = ex->run_id;
	ex->actions = actions;
	ex->cb = cb;
	ex->data = data;
	ex->outputs = json_object();
	ex->n = json_array_size(actions);
	ex->acts = calloc(ex->n ? ex->n : 1, sizeof(*ex->acts));
	int rc = 0;
	if (!ex->outputs || !ex->acts) {
		rc = plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ex->n && rc == 0; i++)
		rc = parse_action(ex, &ex->acts[i], json_array_get(actions, i), env->default_region,
				  err);
	for (size_t i = 0; i < ex->n && rc == 0; i++)
		for (size_t j = 0; j < i && rc == 0; j++)
			if (ex->acts[i].pub.id == ex->acts[j].pub.id)
				rc = plumb_err_set(err, PLUMB_EINVAL, "plan action id %" PRId64
						   " appears twice", ex->acts[i].pub.id);
	if (rc == 0)
		rc = link_deps(ex, err);
	if (rc)
		goto fail;
	/* an endpoint update or wait carries no tags: its spec hash is on a sibling (the TAG
	 * action that moves plumb:spec-hash) */
	for (size_t i = 0; i < ex->n; i++) {
		struct act *a = &ex->acts[i];
		if (a->spec_hash[0] || a->pub.type == PLUMB_ACTION_DELETE)
			continue;
		for (size_t j = 0; j < ex->n && !a->spec_hash[0]; j++)
			if (j != i && ex->acts[j].pub.type != PLUMB_ACTION_DELETE &&
			    strcmp(ex->acts[j].pub.address, a->pub.address) == 0)
				memcpy(a->spec_hash, ex->acts[j].spec_hash, sizeof(a->spec_hash));
	}
	ex->totals.total = ex->totals.pending = (unsigned)ex->n;
	ex->t0 = mono(ex);
	for (size_t i = 0; i < ex->n; i++) {
		uv_timer_init(env->loop, &ex->acts[i].timer);
		ex->acts[i].timer.data = &ex->acts[i];
	}
	uv_timer_init(env->loop, &ex->kick);
	ex->kick.data = ex;
	ex->open_handles = ex->n + 1;
	uv_timer_start(&ex->kick, on_kick, 0, 0);
	plumb_log(PLUMB_LOG_DEBUG, "apply.start", "run", ex->run_id, NULL);
	*out = ex;
	return 0;
fail:
	ex->n = ex->acts ? ex->n : 0;
	plumb_apply_free(ex);
	return rc;
}

void plumb_apply_free(struct plumb_apply *ex)
{
	if (!ex)
		return;
	for (size_t i = 0; ex->acts && i < ex->n; i++) {
		struct act *a = &ex->acts[i];
		free(a->deps);
		free(a->rdeps);
		json_decref(a->calls);
		json_decref(a->own_tags);
		free(a->arn);
	}
	free(ex->acts);
	json_decref(ex->outputs);
	free(ex);
}

/* ---------------------------------------------------------------- the session's way */

static int session_call(void *ctx, const char *region, enum plumb_aws_op op, const json_t *input,
			plumb_aws_cb cb, void *data, struct plumb_err *err)
{
	struct plumb_session *s = ctx;
	struct plumb_aws *a;
	int rc = plumb_session_aws(s, region, &a, err);
	if (rc)
		return rc;
	return plumb_aws_call_start(a, op, input, cb, data, err);
}

static void session_env(struct plumb_session *s, struct plumb__apply_env *env)
{
	memset(env, 0, sizeof(*env));
	env->loop = &s->loop;
	env->state = s->state;
	env->account = s->account;
	env->default_region = s->default_region[0] ? s->default_region : NULL;
	env->have = &s->have;
	env->call = session_call;
	env->call_ctx = s;
}

int plumb_apply_start(struct plumb_apply **out, struct plumb_session *s, const json_t *actions,
		      const struct plumb_apply_opts *opts, plumb_apply_cb cb, void *data,
		      struct plumb_err *err)
{
	if (s->offline)
		return plumb_err_set(err, PLUMB_EINVAL, "apply cannot run offline (--cached)");
	struct plumb__apply_env env;
	session_env(s, &env);
	if (opts && opts->have)
		env.have = opts->have;
	return plumb__apply_start_env(out, &env, actions, opts, cb, data, err);
}

struct run_wait {
	bool done; /* callback ran */
	int rc;    /* its rc */
};

static void on_run_done(int rc, struct plumb_apply *ex, void *data)
{
	struct run_wait *w = data;
	(void)ex;
	w->done = true;
	w->rc = rc;
}

int plumb_apply_run(struct plumb_session *s, const json_t *actions,
		    const struct plumb_apply_opts *opts, struct plumb_apply **out,
		    struct plumb_err *err)
{
	struct run_wait w = { 0 };
	int rc = plumb_apply_start(out, s, actions, opts, on_run_done, &w, err);
	if (rc)
		return rc;
	while (!w.done)
		uv_run(&s->loop, UV_RUN_ONCE);
	return w.rc;
}

int plumb_apply_recover(struct plumb_session *s, struct plumb_apply_recovery *out,
			struct plumb_err *err)
{
	memset(out, 0, sizeof(*out));
	if (s->offline)
		return plumb_err_set(err, PLUMB_EINVAL, "recovery cannot run offline (--cached)");
	if (!s->state)
		return 0;
	struct plumb__apply_env env;
	session_env(s, &env);
	return plumb__apply_recover_env(&env, out, err);
}

/* ---------------------------------------------------------------- results */

size_t plumb_apply_count(const struct plumb_apply *ex)
{
	return ex->n;
}

const struct plumb_apply_action *plumb_apply_action_at(const struct plumb_apply *ex, size_t i)
{
	return i < ex->n ? &ex->acts[i].pub : NULL;
}

const struct plumb_apply_totals *plumb_apply_totals(const struct plumb_apply *ex)
{
	return &ex->totals;
}

const char *plumb_apply_output(const struct plumb_apply *ex, const char *address)
{
	return json_string_value(json_object_get(ex->outputs, address));
}

json_t *plumb_apply_result_json(const struct plumb_apply *ex)
{
	const struct plumb_apply_totals *t = &ex->totals;
	json_t *acts = json_array();
	for (size_t i = 0; i < ex->n; i++) {
		const struct plumb_apply_action *a = &ex->acts[i].pub;
		json_t *e = json_null();
		if (a->status == PLUMB_APPLY_FAILED) {
			const struct plumb_err *x = &a->err;
			e = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "service", x->service,
				      "operation", x->operation, "code", x->aws_code, "message",
				      plumb__apply_aws_message(x), "http_status", x->http_status,
				      "request_id", x->request_id, "class",
				      plumb_err_class_name(x->cls));
		}
		json_array_append_new(
			acts, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:s, s:o}",
					"id", (json_int_t)a->id, "type",
					plumb__apply_type_name(a->type), "address", a->address,
					"physical", a->physical, "region", a->region, "status",
					plumb_apply_status_name(a->status), "detail", a->detail,
					"elapsed_ms", (json_int_t)a->elapsed_ms, "calls", (int)a->calls,
					"polls", (int)a->polls, "endpoint_status", a->endpoint_status,
					"error", e));
	}
	return json_pack("{s:b, s:s, s:{s:i, s:i, s:i, s:i, s:i, s:I, s:I}, s:o, s:O}", "ok",
			 t->done == t->total, "run_id", ex->run_id, "totals", "total", (int)t->total,
			 "done", (int)t->done, "failed", (int)t->failed, "skipped", (int)t->skipped,
			 "pending", (int)(t->pending + t->running + t->waiting), "calls",
			 (json_int_t)t->calls, "elapsed_ms", (json_int_t)t->elapsed_ms, "actions",
			 acts, "outputs", ex->outputs);
}

/* ---------------------------------------------------------------- --target */

int plumb_apply_target(const json_t *actions, const char *address, json_t **out,
		       struct plumb_err *err)
{
	*out = NULL;
	if (!json_is_array(actions))
		return plumb_err_set(err, PLUMB_EINVAL, "plan actions are not an array");
	size_t n = json_array_size(actions);
	bool *keep = calloc(n ? n : 1, sizeof(*keep));
	if (!keep)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *a = json_string_value(json_object_get(json_array_get(actions, i),
								  "address"));
		keep[i] = a && strcmp(a, address) == 0;
	}
	/* close over depends_on; a pass per level, at most n levels */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (!keep[i])
				continue;
			size_t k;
			json_t *d;
			json_array_foreach(json_object_get(json_array_get(actions, i), "depends_on"),
					   k, d) {
				for (size_t j = 0; j < n; j++) {
					json_t *id = json_object_get(json_array_get(actions, j), "id");
					if (!keep[j] && json_is_integer(id) && json_is_integer(d) &&
					    json_integer_value(id) == json_integer_value(d)) {
						keep[j] = true;
						changed = true;
					}
				}
			}
		}
	}
	json_t *r = json_array();
	for (size_t i = 0; r && i < n; i++)
		if (keep[i])
			json_array_append(r, json_array_get(actions, i));
	free(keep);
	if (!r)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	*out = r;
	return 0;
}

/* ---------------------------------------------------------------- failed spec hashes */

int plumb_apply_failed_hashes(struct plumb_state *st, const json_t *actions, json_t **refused,
			      struct plumb_err *err)
{
	*refused = json_array();
	if (!*refused)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	size_t i;
	json_t *a;
	json_array_foreach(actions, i, a) {
		int t = plumb__apply_type_from_name(json_string_value(json_object_get(a, "type")));
		if (t != PLUMB_ACTION_CREATE && t != PLUMB_ACTION_UPDATE)
			continue;
		const char *addr = json_string_value(json_object_get(a, "address"));
		char hash[65];
		plumb__apply_spec_hash(a, hash);
		for (size_t j = 0; addr && !hash[0] && j < json_array_size(actions); j++) {
			const json_t *o = json_array_get(actions, j);
			const char *oa = json_string_value(json_object_get(o, "address"));
			const char *ot = json_string_value(json_object_get(o, "type"));
			if (j != i && oa && strcmp(oa, addr) == 0 && ot && strcmp(ot, "delete") != 0)
				plumb__apply_spec_hash(o, hash);
		}
		if (!addr || !hash[0])
			continue;
		int count = 0;
		int rc = plumb_state_journal_failed_count(st, addr, hash, &count, err);
		if (rc) {
			json_decref(*refused);
			*refused = NULL;
			return rc;
		}
		if (count > 0)
			json_array_append_new(*refused,
					      json_pack("{s:s, s:s, s:i}", "address", addr, "spec_hash",
							hash, "failures", count));
	}
	return 0;
}

/*
 * pkg/apply — the I/O side of plan and apply: a session that owns the loop, the HTTP pool, one
 * AWS client per region, the state file and the observed picture of the account.
 *
 * A session is what `plumb plan`, `plumb apply` and `plumb drift` share: open it (credentials,
 * the caller's account, the account guard, the state lock), observe the regions the manifests
 * name (list-first, pkg/observe) or load them from the cache, then hand the observed set to the
 * pure diff and plan. Everything runs on the session's libuv loop; the blocking helpers here
 * (plumb_session_observe) run that loop until their work is done, which is what a command-line
 * tool wants; the daemon drives the async APIs of pkg/observe itself.
 */
#ifndef PLUMB_APPLY_APPLY_H
#define PLUMB_APPLY_APPLY_H

#include "aws/aws.h"
#include "base/base.h"
#include "http/http.h"
#include "model/model.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "state/state.h"

#include <uv.h>

struct plumb_session;

/* One region's AWS client and its observation. */
struct plumb_session_region {
	struct plumb_session *session; /* back pointer, for the observation's callback */
	char name[32];                 /* region name */
	struct plumb_aws aws;          /* client for this region */
	bool aws_up;                   /* aws initialised */
	struct plumb_observe *ob;      /* running or finished pass, or NULL */
	struct plumb_observe_want *want; /* wanted resources here (owned array) */
	size_t nwant, awant;           /* used and allocated entries */
	int rc;                        /* result of the pass */
	struct plumb_err err;          /* its error */
	bool done;                     /* the pass called back */
};

struct plumb_session_opts {
	const char *profile;          /* credentials profile (Defaults), or NULL for the chain */
	const char *state_path;       /* state file; NULL = .plumb/state.db */
	enum plumb_state_mode state_mode; /* READ for --cached plans, WRITE otherwise */
	const char *holder;           /* lock holder text ("plumb plan") */
	const char *expected_account; /* Defaults accountId, or NULL */
	const char *region_hint;      /* Defaults region: for STS when AWS_REGION is unset */
	bool offline;                 /* --cached: make no AWS call at all */
};

/* An observation in progress over every region (plumb_session_observe_start). */
typedef void (*plumb_session_observe_cb)(int rc, const struct plumb_err *err, void *data);
struct plumb_session_obs {
	bool active;                /* started, callback not yet run */
	size_t started;             /* regions whose pass started */
	int rc;                     /* a start that failed after others started */
	struct plumb_err err;       /* its error */
	uint64_t calls0;            /* AWS calls made before it, to count its own */
	plumb_session_observe_cb cb; /* called once every pass finished */
	void *data;                 /* its argument */
};

struct plumb_session {
	uv_loop_t loop;                   /* the one loop */
	bool loop_up;                     /* loop initialised */
	struct plumb_http http;           /* shared connection pool */
	bool http_up;                     /* http initialised */
	struct plumb_aws_profile profile; /* parsed config files (for the default region) */
	bool profile_up;                  /* profile loaded */
	const char *profile_name;         /* borrowed from opts */
	bool offline;                     /* no AWS calls */
	struct plumb_vec regions;         /* struct plumb_session_region * */
	char default_region[32];          /* AWS_REGION / profile region, "" when none */
	char account[16];                 /* the caller's account (STS), or from the cache */
	char caller_arn[256];             /* the caller's ARN, "" offline */
	char provider[32];                /* credential provider name, "" offline */
	struct plumb_state *state;        /* the state file, or NULL */
	struct plumb_observed_set have;   /* what was observed (or loaded from the cache) */
	struct plumb_observe_stats stats; /* sums over the regions of the last observation */
	uint64_t aws_calls;               /* AWS calls made by the last observation */
	struct plumb_session_obs obs;     /* the observation in progress */
};

/*
 * Opens the session: loop, HTTP pool, credentials and the caller's account (STS), the account
 * guard (expected_account), then the state file. Offline: no HTTP, account from
 * expected_account or the state's last observed account. On failure the session is closed.
 */
int plumb_session_open(struct plumb_session *s, const struct plumb_session_opts *opts,
		       struct plumb_err *err);
void plumb_session_close(struct plumb_session *s);

/* The client for region (created on first use). Not available offline. */
int plumb_session_aws(struct plumb_session *s, const char *region, struct plumb_aws **out,
		      struct plumb_err *err);

/*
 * Fills in the region of every desired resource that has none (the default region; error if
 * there is none), then observes every region the resources name plus the default region,
 * concurrently, into s->have. Offline: loads the same regions from the state file instead
 * (an error when a region was never observed).
 */
int plumb_session_observe(struct plumb_session *s, const struct plumb_vec *want,
			  const char *owner, enum plumb_refresh refresh, bool adopt,
			  struct plumb_err *err);

/*
 * The same observation, asynchronous, into a caller-owned set (items added): what the daemon
 * uses so that a long apply of an earlier pass keeps its own observed set. One observation at a
 * time per session (PLUMB_EBUSY otherwise). cb runs once on the loop after every region's pass
 * finished, with s->stats and s->aws_calls filled in; never from inside this function. Not
 * available offline. want's regions are filled in as by plumb_session_observe.
 */
int plumb_session_observe_start(struct plumb_session *s, const struct plumb_vec *want,
				const char *owner, enum plumb_refresh refresh, bool adopt,
				struct plumb_observed_set *out, plumb_session_observe_cb cb,
				void *data, struct plumb_err *err);

/*
 * The drift history (history.c): with record, the drift items of report (pkg/report's JSON)
 * are synced into the state file for every region of the session (opening what is new,
 * resolving what went away); then every first_seen of the report is filled from the history.
 * Without record (a --cached reader) only the second half runs.
 */
int plumb_session_drift_history(struct plumb_session *s, json_t *report, bool record,
				struct plumb_err *err);

/* ================================================================ the executor (exec.c)
 *
 * Runs the actions of a plan in their JSON form: the array "actions" of plumb_plan_to_json()
 * (docs/plan-format.md), so a fresh plan and a saved `plan -o FILE` run through the same code.
 * Each action becomes the AWS call(s) of its kind and type on the client of its region, as soon
 * as every action it depends on is done; a failed action fails its dependants (transitively,
 * "skipped: needs X") and nothing else. Endpoint waits poll DescribeEndpoint with backoff on the
 * loop until their deadline. Before every mutating call a journal row is written to the state
 * file, and finished after it (docs/apply.md, "Crash safety").
 */

enum plumb_apply_status {
	PLUMB_APPLY_PENDING, /* its dependencies are not all done yet */
	PLUMB_APPLY_RUNNING, /* a call is on the wire */
	PLUMB_APPLY_WAITING, /* between polls or retries (a timer runs) */
	PLUMB_APPLY_DONE,    /* finished well */
	PLUMB_APPLY_FAILED,  /* finished badly: err and detail say why */
	PLUMB_APPLY_SKIPPED, /* never started: a dependency failed, or the run was cancelled */
};
const char *plumb_apply_status_name(enum plumb_apply_status s); /* "pending", "done", ... */

/* One action and what became of it. Strings are borrowed from the actions JSON. */
struct plumb_apply_action {
	int64_t id;                     /* the plan's action id */
	enum plumb_action_type type;    /* create, update, delete, tag, wait */
	enum plumb_kind kind;           /* resource kind */
	const char *address;            /* "Kind/name" */
	const char *physical;           /* AWS name */
	const char *region;             /* region it runs in */
	enum plumb_apply_status status; /* where it is */
	struct plumb_err err;           /* FAILED: the error (AWS service, operation, code,
					 * message, request id), or plumb's own */
	char detail[320];               /* one line: "skipped: needs Endpoint/x", "stuck: ...",
					 * "already gone", "already existed (ours)"; "" when none */
	char endpoint_status[32];       /* WAIT: the last EndpointStatus seen, "" before a poll */
	int64_t elapsed_ms;             /* since it started (running) or start to finish */
	unsigned calls;                 /* AWS calls it made */
	unsigned polls;                 /* WAIT: DescribeEndpoint polls */
};

/* Counts over a run; pending + running + waiting + done + failed + skipped = total. */
struct plumb_apply_totals {
	unsigned total, pending, running, waiting, done, failed, skipped;
	uint64_t calls;     /* AWS calls made */
	int64_t elapsed_ms; /* since the run started */
};

enum plumb_apply_event_type {
	PLUMB_APPLY_EV_STARTED, /* an action began */
	PLUMB_APPLY_EV_POLLED,  /* a wait polled: action->endpoint_status, action->elapsed_ms */
	PLUMB_APPLY_EV_RETRY,   /* a call was refused as busy / not yet visible; retried later */
	PLUMB_APPLY_EV_DONE,
	PLUMB_APPLY_EV_FAILED,
	PLUMB_APPLY_EV_SKIPPED,
};
const char *plumb_apply_event_name(enum plumb_apply_event_type t); /* "started", ... */

struct plumb_apply_event {
	enum plumb_apply_event_type type;         /* what happened */
	const struct plumb_apply_action *action;  /* to which action */
	const struct plumb_apply_totals *totals;  /* the run's counts after it */
};
/* Called on the loop for every event; must not call back into the executor but cancel. */
typedef void (*plumb_apply_event_cb)(const struct plumb_apply_event *ev, void *data);

struct plumb_apply;
/* The run finished: rc 0 when every action is done, PLUMB_ECANCELED after plumb_apply_cancel,
 * else the code of the first failure. Runs once, never from inside plumb_apply_start, after
 * every handle of the run is closed; ex stays valid until plumb_apply_free. */
typedef void (*plumb_apply_cb)(int rc, struct plumb_apply *ex, void *data);

struct plumb_apply_opts {
	const char *run_id;             /* journal run id; NULL: made from the time and pid */
	unsigned max_inflight;          /* actions of one kind with a call on the wire; 0: 32
					 * (waits that sleep between polls do not count) */
	int64_t poll_ms;                /* first wait/retry delay; 0: $PLUMB_POLL_MS, else 2000 */
	int64_t poll_max_ms;            /* delay cap; 0: min(30000, 15 x poll_ms) */
	int64_t wait_deadline_s;        /* for waits whose plan gives none; 0: 3600 */
	int64_t busy_deadline_s;        /* how long a call refused as busy ("in progress",
					 * ConcurrentUpdate) is retried; 0: 3600 */
	const struct plumb_clock *clock;/* NULL: the system clock (deadlines, elapsed times) */
	plumb_apply_event_cb on_event;  /* progress, or NULL */
	void *event_data;               /* its argument */
	const struct plumb_observed_set *have; /* live ARNs; NULL: the session's s->have */
};

/*
 * Starts running actions (a JSON array, borrowed: keep it alive until plumb_apply_free) on the
 * session's loop, with the session's clients, account, observed set (for ARNs) and state file
 * (the journal; none when s->state is NULL). On error nothing runs and cb never runs.
 */
int plumb_apply_start(struct plumb_apply **out, struct plumb_session *s, const json_t *actions,
		      const struct plumb_apply_opts *opts, plumb_apply_cb cb, void *data,
		      struct plumb_err *err);
/* Stops: pending actions are skipped, waits fail "cancelled", calls on the wire finish. */
void plumb_apply_cancel(struct plumb_apply *ex);
/* Frees a finished run (after its callback). */
void plumb_apply_free(struct plumb_apply *ex);

size_t plumb_apply_count(const struct plumb_apply *ex);
const struct plumb_apply_action *plumb_apply_action_at(const struct plumb_apply *ex, size_t i);
const struct plumb_apply_totals *plumb_apply_totals(const struct plumb_apply *ex);
/* The ARN an action produced or used, by address ("ScalingPolicy/t/p"), or NULL. */
const char *plumb_apply_output(const struct plumb_apply *ex, const char *address);
/*
 * The result as JSON: {"ok", "totals": {...}, "actions": [{id, type, address, physical,
 * region, status, detail, elapsed_ms, calls, endpoint_status, error: {service, operation,
 * code, message, http_status, request_id} | null}], "outputs": {address: arn}}.
 */
json_t *plumb_apply_result_json(const struct plumb_apply *ex);

/*
 * Blocking: plumb_apply_start, then runs the loop until the run finishes. *out is the finished
 * run (free it) even when some actions failed; the return value is the callback's rc.
 */
int plumb_apply_run(struct plumb_session *s, const json_t *actions,
		    const struct plumb_apply_opts *opts, struct plumb_apply **out,
		    struct plumb_err *err);

/*
 * --target: a new array with every action on address (all its actions: create, wait, tags,
 * superseded deletes) and, transitively, every action they depend on, in the original order.
 * An address with no action gives an empty array (rc 0): the caller says "no changes".
 */
int plumb_apply_target(const json_t *actions, const char *address, json_t **out,
		       struct plumb_err *err);

/*
 * A spec hash that failed is not retried in a loop (DESIGN.md §4): for every create/update
 * action whose spec hash failed before for its address (the endpoint ended Failed or rolled
 * back, or AWS refused the request as invalid), one entry {address, spec_hash, failures} in
 * *refused (a new array, empty when none). Interrupted runs, throttling and internal AWS errors
 * do not count. The CLI refuses such a plan unless told to retry.
 */
int plumb_apply_failed_hashes(struct plumb_state *st, const json_t *actions, json_t **refused,
			      struct plumb_err *err);

/* What plumb_apply_recover did with the journal rows a crash left open. */
struct plumb_apply_recovery {
	unsigned open;   /* rows found open */
	unsigned done;   /* finished DONE: the effect is visible in AWS */
	unsigned failed; /* finished FAILED: the effect is not visible (the call never landed) */
	unsigned left;   /* still open: probing failed (throttled, network) or another account */
};

/*
 * Resolves the journal rows a crash left OPEN by re-observing the resources they name (one
 * describe, tag or attribute read each, concurrently) and finishing each row DONE when its
 * effect is visible, FAILED when not. Blocking (runs the session's loop). The caller then
 * plans again from a fresh observation (docs/apply.md, "Crash safety").
 */
int plumb_apply_recover(struct plumb_session *s, struct plumb_apply_recovery *out,
			struct plumb_err *err);

#endif

/* pkg/reconcile internals: the daemon's state, shared by daemon.c, watch.c and status.c. */
#ifndef PLUMB_RECONCILE_INT_H
#define PLUMB_RECONCILE_INT_H

#include "reconcile.h"

#include "apply/apply.h"
#include "diff/diff.h"
#include "plan/plan.h"

#include <uv.h>

/* What the daemon knows of one resource address ("Kind/name"). */
struct rc_res {
	char *address;          /* "Kind/name" (owned) */
	char *kind;             /* "Endpoint" (owned) */
	char *name;             /* manifest name, or the plumb:id name of an orphan (owned) */
	char *region;           /* region (owned), may be NULL */
	char *physical;         /* AWS name (owned), may be NULL */
	const char *state;      /* in_sync, pending, applying, waiting, drifted, failed, paused,
				 * orphan, conflict (static strings) */
	json_t *last_error;     /* {service, operation, code, message, request_id} or NULL */
	json_t *drift;          /* the drift report's items: {path, aws_path, wanted, live,
				 * forces_replace, first_seen} */
	const char *drift_status; /* the report's status: in_sync, drifted, missing, orphan,
				   * conflict, unmanaged (static strings) */
	char *drift_since;      /* when its drift was first seen (ISO-8601), or NULL */
	char spec_hash[65];     /* wanted spec hash, "" when none */
	int busy;               /* unfinished actions of it in running executors */
	int64_t released_mono;  /* when an executor last finished an action of it (monotonic
				 * ms), 0 when never: a pass that began observing before then
				 * planned from what AWS was before that action */
	unsigned failures;      /* consecutive failed actions */
	int64_t retry_at_ms;    /* backed off until then (monotonic ms), 0 when not */
	bool terminal;          /* its spec failed for good: not retried until it changes */
	uint64_t seen_pass;     /* the last pass that listed it */
};

/* One executor started by a pass, with what it borrows. */
struct rc_exec {
	struct plumb_reconciler *d;      /* the daemon */
	struct plumb_apply *ex;          /* the run */
	json_t *actions;                 /* the actions it runs (owned) */
	struct plumb_observed_set *have; /* the observation it resolves ARNs from (owned) */
	unsigned char *released;         /* per action id: its busy count was given back */
	size_t nids;                     /* size of released */
	json_t *pass_rec;                /* the pass record it finishes (owned ref) */
	uint64_t pass;                   /* the pass that started it */
	int64_t started_mono;            /* for the duration histogram */
	struct rc_exec *next;            /* the daemon's list of running executors */
};

/* The manifest watcher (watch.c). */
struct rc_watch_dir;
struct rc_watch {
	struct plumb_reconciler *d;      /* the daemon */
	struct rc_watch_dir *dirs;       /* watched directories (list) */
	char **roots;                    /* resolved real paths of the roots, for swap detection */
	size_t nroots;                   /* their count */
	uv_timer_t debounce;             /* quiet-time timer */
	bool up;                         /* timer initialised */
	unsigned events;                 /* inotify events seen (for logs and tests) */
};

/* The status port (status.c). */
struct rc_status {
	struct plumb_reconciler *d;      /* the daemon */
	void *mhd;                       /* struct MHD_Daemon * */
	uv_poll_t poll;                  /* on MHD's epoll fd */
	uv_timer_t timer;                /* MHD's connection timeouts */
	bool up;                         /* handles initialised */
	int port;                        /* bound port */
	char addr[80];                   /* "127.0.0.1:9464" */
};

#define RC_NBOUNDS 12

struct plumb_reconciler {
	struct plumb_reconcile_opts o;   /* options (borrowed strings) */
	struct plumb_session s;          /* loop, clients, state file */
	bool session_up;                 /* s open */
	uv_loop_t *loop;                 /* &s.loop */
	char daemon_id[64];              /* "pid-start" for the passes table */
	char owner[128];                 /* plumb:owner in force */
	char holder[128];                /* lock holder text */
	char revision[128];              /* revision of the last pass, "" when none */
	char applied_revision[128];      /* revision of the last pass that ended ok */

	struct plumb_map res;            /* address -> struct rc_res * */
	struct plumb_vec res_list;       /* the same, for iteration and freeing */

	/* passes */
	uint64_t pass;                   /* number of the last pass started */
	uint64_t listed_pass;            /* the last pass that diffed (resource states) */
	bool observing;                  /* a pass is between manifests and dispatch */
	const char *again;               /* a pass was asked for meanwhile: its reason */
	int64_t pass_started_ms;         /* wall clock of the current pass */
	int64_t pass_started_mono;       /* monotonic */
	const char *pass_reason;         /* why the current pass runs */
	struct plumb_manifest_set *set;  /* the current pass's manifests */
	struct plumb_observed_set *have; /* the current pass's observation */
	bool ready;                      /* a full pass finished */
	bool deferred;                   /* a pass left work for after a running executor */
	unsigned resyncs;                /* resync passes run (every Nth is full) */
	unsigned error_streak;           /* passes in a row that failed to observe */
	unsigned verify_streak;          /* verify passes in a row that still changed AWS */
	json_t *last_pass;               /* {id, started, finished, result, revision, reason,
					  * actions, failed, drifted, error} or NULL */
	struct rc_exec *execs;           /* running executors */

	/* timers and signals */
	uv_timer_t resync_timer, retry_timer, stop_timer;
	uv_signal_t sig_term, sig_int, sig_hup;
	bool handles_up;                 /* the above initialised */
	bool stopping;                   /* SIGTERM/SIGINT seen */
	bool forced;                     /* the shutdown bound passed */

	struct rc_watch watch;           /* manifest watcher */
	struct rc_status status;         /* status port */

	/* metrics */
	uint64_t passes_by_result[6];    /* ok, failed, invalid, error, cancelled, observed */
	double hist_bounds[RC_NBOUNDS];  /* pass durations, seconds */
	uint64_t hist_counts[RC_NBOUNDS + 1];
	struct plumb_histogram hist;     /* over the two arrays above */
	int64_t last_good_ms;            /* wall clock of the last good pass, 0 when none */
	uint64_t actions_total[3];       /* done, failed, skipped */
};

/* daemon.c */
void plumb__rc_request_pass(struct plumb_reconciler *d, const char *reason);
json_t *plumb__rc_status_json(struct plumb_reconciler *d);
int plumb__rc_metrics(struct plumb_reconciler *d, struct plumb_buf *b);
unsigned plumb__rc_queue_depth(const struct plumb_reconciler *d);

/* watch.c */
int plumb__rc_watch_start(struct rc_watch *w, struct plumb_reconciler *d, struct plumb_err *err);
void plumb__rc_watch_stop(struct rc_watch *w);

/* status.c */
int plumb__rc_status_start(struct rc_status *st, struct plumb_reconciler *d, const char *listen,
			   struct plumb_err *err);
void plumb__rc_status_stop(struct rc_status *st);

#endif

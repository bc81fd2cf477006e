/*
 * pkg/reconcile — `plumb run`: the long-running reconciler (DESIGN.md §5).
 *
 * One libuv loop carries everything: the manifest watcher (inotify through uv_fs_event, one
 * watch per directory, plus the parent of every root so a git-sync symlink swap is seen), the
 * resync timer, the signals, the AWS calls of observations and executors, and the status port
 * (libmicrohttpd in its external-epoll mode, its epoll fd polled by the loop). Idle, nothing
 * wakes up but the resync timer.
 *
 * A pass: read the manifests, observe every region list-first into a set the pass owns, diff,
 * plan, then hand the actions that may run now to a new executor (pkg/apply). Work is keyed by
 * resource address ("Kind/name"): an address with an action in a running executor is busy, and
 * a later pass leaves its actions (and what depends on them) for the pass that follows that
 * executor; so an endpoint that takes minutes to create holds up only what needs it. A failed
 * action backs its address off exponentially (5 s doubling, capped at the resync interval); a
 * spec AWS rejected (the journal's failed spec hashes) is not retried until the spec changes.
 * Passes that would overlap are coalesced: one observation at a time, a request during it runs
 * once it ends.
 *
 * Per-resource pause: the annotation plumb/paused: "true" (pkg/model). --mode observe changes
 * nothing: it observes, records drift (first seen in the state file) and reports.
 */
#ifndef PLUMB_RECONCILE_RECONCILE_H
#define PLUMB_RECONCILE_RECONCILE_H

#include "base/base.h"
#include "manifest/manifest.h"

#include <jansson.h>

/* Reads the manifests into set (initialised by the callee): the CLI's loader. */
typedef int (*plumb_reconcile_load_fn)(struct plumb_manifest_set *set, void *data);

struct plumb_reconcile_opts {
	const char *const *paths;   /* manifest roots (files or directories), watched */
	size_t npaths;              /* their count */
	plumb_reconcile_load_fn load; /* reads them (unreadable paths become diagnostics) */
	void *load_data;            /* its argument */
	const char *state_path;     /* state file; NULL = .plumb/state.db */
	const char *env_owner;      /* $PLUMB_OWNER, the owner when Defaults set none; NULL: plumb */
	bool observe_only;          /* --mode observe: never mutate */
	bool adopt;                 /* --adopt */
	int prune;                  /* -1 Defaults decide, 0 --no-prune, 1 --prune */
	int64_t resync_ms;          /* resync interval (jittered ±10%); 0: 5 min */
	int64_t full_every;         /* every Nth resync describes everything (--refresh full);
				     * 0: 12 (hourly at the default interval) */
	int64_t debounce_ms;        /* quiet time after a manifest change; 0: 300 ms */
	int64_t shutdown_ms;        /* SIGTERM: bound on finishing in-flight work; 0: 30 s */
	const char *listen;         /* "HOST:PORT" of the status port, NULL: none */
	const char *token;          /* bearer token for POST /sync, NULL: none needed */
};

/*
 * Runs until SIGTERM or SIGINT; returns 0 after a clean stop (in-flight calls finished and
 * journaled, or the shutdown bound reached: then the journal's open rows are what the next
 * start recovers). An error before the loop starts (state file locked by another daemon, no
 * credentials, port in use) returns its code with err filled.
 */
int plumb_reconcile_run(const struct plumb_reconcile_opts *opts, struct plumb_err *err);

/* ---------------------------------------------------------------- pieces, exposed for tests */

/*
 * The revision of the manifests under dir: the first line of a REVISION file in dir or an
 * ancestor up to the checkout's root, else the commit git's HEAD names (a .git directory, or a
 * .git file pointing at a worktree's git dir as git-sync makes them; loose or packed refs).
 * Reads files only, never runs git. out gets "" when none is found.
 */
int plumb_reconcile_revision(const char *dir, char *out, size_t outlen);

/* Parses "HOST:PORT" (IPv4 or [IPv6]) for the status port. */
int plumb_reconcile_parse_listen(const char *s, char *host, size_t hostlen, int *port,
				 struct plumb_err *err);

/* One histogram in Prometheus' cumulative form. */
struct plumb_histogram {
	const double *bounds; /* upper bounds, ascending, +Inf implied */
	size_t n;             /* their count */
	uint64_t *counts;     /* n + 1 buckets (not cumulative), the last for +Inf */
	double sum;           /* sum of observed values */
	uint64_t count;       /* observations */
};
void plumb_histogram_observe(struct plumb_histogram *h, double v);
/* Appends name_bucket{le=...} (cumulative), name_sum and name_count lines. */
int plumb_histogram_render(const struct plumb_histogram *h, const char *name, struct plumb_buf *b);
/* Appends a label value with Prometheus escaping (backslash, double quote, newline). */
int plumb_metrics_label(struct plumb_buf *b, const char *v);

#endif

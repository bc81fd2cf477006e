/*
 * pkg/state — the SQLite file behind plumb: observed resources (a cache of AWS), the apply
 * journal, and the history of changes and drift. The only code that touches SQLite.
 *
 * The state is a cache: deleting the file loses nothing but speed (and the history). A file
 * that SQLite reports corrupt, or that is not a database, is moved aside to
 * "<path>.corrupt-<epoch>" and a fresh one created; plumb_state_rebuilt() then says so and the
 * caller observes from AWS in full.
 *
 * Opening for writing takes the writer lock: an flock(2) on "<path>.lock", which holds one line
 * naming the holder ("plumb run pid=123 host=h since=2026-11-24T10:00:00Z"). A second writer
 * gets PLUMB_EBUSY with that line in the message. The kernel drops the lock when the holder
 * dies, so a crash never leaves a stale lock. Readers (plan --cached) take no lock: WAL lets
 * them read while a writer writes.
 *
 * Files are created 0600 (directories 0700) whatever the umask. Pragmas: journal_mode=WAL,
 * foreign_keys=ON, busy_timeout=5000, synchronous=NORMAL. The schema version lives in
 * PRAGMA user_version; migrations run in order in one transaction at open.
 */
#ifndef PLUMB_STATE_STATE_H
#define PLUMB_STATE_STATE_H

#include "base/base.h"
#include "model/model.h"

#include <jansson.h>

struct plumb_state; /* opaque */

enum plumb_state_mode {
	PLUMB_STATE_READ,  /* read-only, no lock; a missing file is PLUMB_ENOENT */
	PLUMB_STATE_WRITE, /* creates the file if needed and holds the writer lock */
};

struct plumb_state_opts {
	const char *path;                /* database file; ".plumb/state.db" when NULL */
	enum plumb_state_mode mode;      /* read or write */
	const char *holder;              /* who we are, for the lock line ("plumb plan") */
	const struct plumb_clock *clock; /* NULL: the system clock */
};

/* Opens (creating, migrating or rebuilding as needed). *out is NULL on failure. */
int plumb_state_open(struct plumb_state **out, const struct plumb_state_opts *opts,
		     struct plumb_err *err);
void plumb_state_close(struct plumb_state *s);
/* True when this open found the file corrupt and started over (the caller should say so). */
bool plumb_state_rebuilt(const struct plumb_state *s);
/* Where the corrupt file was moved, or NULL. */
const char *plumb_state_corrupt_path(const struct plumb_state *s);
const char *plumb_state_path(const struct plumb_state *s);
int plumb_state_schema_version(const struct plumb_state *s);

/* Transactions (not nested). Every write outside one is its own transaction. */
int plumb_state_begin(struct plumb_state *s, struct plumb_err *err);
int plumb_state_commit(struct plumb_state *s, struct plumb_err *err);
void plumb_state_rollback(struct plumb_state *s);

/* ---------------------------------------------------------------- key/value metadata */

/* Small facts: "observed:<account>:<region>" = last full observation time, and the like.
 * value NULL deletes the key. */
int plumb_state_meta_set(struct plumb_state *s, const char *key, const char *value,
			 struct plumb_err *err);
/* *value is malloc'd (free()), or NULL when the key is absent (returns 0). */
int plumb_state_meta_get(struct plumb_state *s, const char *key, char **value,
			 struct plumb_err *err);

/* ---------------------------------------------------------------- observed resources */

/* Inserts or replaces the row with o's identity (account, region, kind, name, parent). */
int plumb_state_put_observed(struct plumb_state *s, const char *account,
			     const struct plumb_observed *o, struct plumb_err *err);
/* Deletes the row with this identity; no row is not an error. */
int plumb_state_delete_observed(struct plumb_state *s, const char *account, const char *region,
				enum plumb_kind kind, const char *name, const char *parent,
				struct plumb_err *err);
/* Adds a copy of every row of account+region (region NULL: all regions) to out. */
int plumb_state_load_observed(struct plumb_state *s, const char *account, const char *region,
			      struct plumb_observed_set *out, struct plumb_err *err);

/* ---------------------------------------------------------------- apply journal */

enum plumb_journal_status {
	PLUMB_JOURNAL_OPEN,   /* the call may or may not have reached AWS */
	PLUMB_JOURNAL_DONE,   /* AWS answered success */
	PLUMB_JOURNAL_FAILED, /* AWS answered an error (or plumb gave up) */
};
const char *plumb_journal_status_name(enum plumb_journal_status st);

/* One mutating call: written before the call, finished after. */
struct plumb_journal_entry {
	int64_t id;                      /* row id (set by begin) */
	char *run_id;                    /* the apply run that made it */
	char *account, *region;          /* where */
	enum plumb_kind kind;            /* what */
	char *name;                      /* physical name (ScalingPolicy: PolicyName) */
	char *parent;                    /* ScalingPolicy: ResourceId; else NULL */
	char *manifest_id;               /* plumb:id (Kind/name) */
	char *operation;                 /* AWS operation, e.g. "CreateEndpoint" */
	json_t *request;                 /* owned: the input sent (secrets never appear here) */
	char *spec_hash;                 /* desired spec hash, or NULL */
	enum plumb_journal_status status;/* open / done / failed */
	char *error;                     /* failure text, or NULL */
	int64_t started_ms, finished_ms; /* wall clock; finished 0 while open */
};
void plumb_journal_entry_free(struct plumb_journal_entry *e);

/* Writes e as OPEN (e->id set). Strings are copied. */
int plumb_state_journal_begin(struct plumb_state *s, struct plumb_journal_entry *e,
			      struct plumb_err *err);
/* Marks row id DONE or FAILED (error may be NULL). */
int plumb_state_journal_finish(struct plumb_state *s, int64_t id,
			       enum plumb_journal_status status, const char *error,
			       struct plumb_err *err);
/* Every OPEN row, oldest first, as struct plumb_journal_entry * pushed to out (caller frees). */
int plumb_state_journal_open(struct plumb_state *s, struct plumb_vec *out, struct plumb_err *err);
/* Rows with this spec hash and manifest id that FAILED (for "do not retry a failed hash"). */
int plumb_state_journal_failed_count(struct plumb_state *s, const char *manifest_id,
				     const char *spec_hash, int *count, struct plumb_err *err);

/* ---------------------------------------------------------------- history */

/* One drifted field of one resource, as a pass saw it. */
struct plumb_drift_rec {
	const char *kind;       /* "Endpoint" */
	const char *name;       /* manifest name */
	const char *path;       /* field path ("" for the whole resource, e.g. an orphan) */
	const char *wanted;     /* JSON text, or NULL */
	const char *live;       /* JSON text, or NULL */
};

/*
 * Records what drifts now in account+region: a (kind, name, path) not open in the history is
 * opened (first_seen = last_seen = now); an open one gets last_seen = now (and the newest
 * values); open ones not in recs are resolved (resolved = now).
 */
int plumb_state_drift_sync(struct plumb_state *s, const char *account, const char *region,
			   const struct plumb_drift_rec *recs, size_t n, struct plumb_err *err);
/* When the open drift of (kind, name, path) was first seen; 0 when not open. */
int plumb_state_drift_first_seen(struct plumb_state *s, const char *account, const char *region,
				 const char *kind, const char *name, const char *path,
				 int64_t *first_seen_ms, struct plumb_err *err);

/* One change plumb made (for `plumb state history` and /status). */
int plumb_state_change_add(struct plumb_state *s, const char *account, const char *region,
			   const char *kind, const char *name, const char *action,
			   const char *detail, struct plumb_err *err);

/* One pass of `plumb run`: what it started from, the revision it applied, how it ended. */
struct plumb_state_pass {
	const char *daemon;   /* the daemon's run id */
	int64_t pass;         /* pass number within the run */
	int64_t started_ms;   /* when it started */
	int64_t finished_ms;  /* when it ended; 0 while it runs */
	const char *reason;   /* why it ran: start, watch, resync, sighup, sync, retry */
	const char *revision; /* the manifests' revision (git HEAD or REVISION), or NULL */
	const char *mode;     /* "apply" or "observe" */
	const char *result;   /* ok, failed, invalid, error, cancelled; NULL while it runs */
	int64_t actions;      /* actions started */
	int64_t failed;       /* actions failed */
	int64_t drifted;      /* resources drifted */
	const char *error;    /* one line, or NULL */
};
/* Inserts the pass, or updates it (same daemon and pass number) when it ends. */
int plumb_state_pass_put(struct plumb_state *s, const struct plumb_state_pass *p,
			 struct plumb_err *err);

/* ---------------------------------------------------------------- retention */

/* How long finished history is kept; a WRITE open prunes what is older (docs/state.md). */
#define PLUMB_STATE_RETAIN_MS (90LL * 24 * 3600 * 1000)
/*
 * Deletes history finished before before_ms: DONE/FAILED journal rows (by finished time),
 * resolved drift rows (by resolved time), changes (by time) and daemon passes (by start). OPEN journal rows, open drift,
 * observed rows and meta are never pruned.
 */
int plumb_state_prune(struct plumb_state *s, int64_t before_ms, struct plumb_err *err);

#endif

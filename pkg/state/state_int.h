/*
 * pkg/state internals shared by state.c (open, lock, schema, transactions, meta) and
 * records.c (observed rows, journal, drift, changes, retention). Not for other modules.
 */
#ifndef PLUMB_STATE_STATE_INT_H
#define PLUMB_STATE_STATE_INT_H

#include "state/state.h"

#include <sqlite3.h>

/*
 * Every statement plumb runs more than once, prepared on first use and kept for the life of
 * the handle (sqlite3_prepare_v3 with SQLITE_PREPARE_PERSISTENT). Order matches the SQL table
 * in state.c.
 */
enum plumb__state_stmt {
	PLUMB__ST_META_GET,
	PLUMB__ST_META_SET,
	PLUMB__ST_META_DEL,
	PLUMB__ST_OBS_PUT,
	PLUMB__ST_OBS_DEL,
	PLUMB__ST_OBS_LOAD_REGION,
	PLUMB__ST_OBS_LOAD_ALL,
	PLUMB__ST_JOURNAL_BEGIN,
	PLUMB__ST_JOURNAL_FINISH,
	PLUMB__ST_JOURNAL_OPEN,
	PLUMB__ST_JOURNAL_FAILED,
	PLUMB__ST_DRIFT_OPEN_ROWS,
	PLUMB__ST_DRIFT_INSERT,
	PLUMB__ST_DRIFT_TOUCH,
	PLUMB__ST_DRIFT_RESOLVE,
	PLUMB__ST_DRIFT_FIRST_SEEN,
	PLUMB__ST_CHANGE_ADD,
	PLUMB__ST_PRUNE_JOURNAL,
	PLUMB__ST_PRUNE_DRIFT,
	PLUMB__ST_PRUNE_CHANGES,
	PLUMB__ST_PASS_PUT,
	PLUMB__ST_PRUNE_PASSES,
	PLUMB__ST__COUNT
};

struct plumb_state {
	sqlite3 *db;                          /* the connection */
	char *path;                           /* database file */
	char *corrupt_path;                   /* where a corrupt file went, or NULL */
	enum plumb_state_mode mode;           /* read or write */
	int lock_fd;                          /* "<path>.lock" holding the flock; -1 in READ */
	bool rebuilt;                         /* this open started over from a corrupt file */
	bool in_tx;                           /* plumb_state_begin is in force */
	int schema_version;                   /* PRAGMA user_version after open */
	const struct plumb_clock *clock;      /* never NULL */
	sqlite3_stmt *stmts[PLUMB__ST__COUNT]; /* cached statements, NULL until first use */
};

/* Fills err with PLUMB_ESTATE, what failed, SQLite's message and code; returns PLUMB_ESTATE. */
int plumb__state_dberr(struct plumb_state *s, struct plumb_err *err, int rc, const char *what);
/* Steps a statement that returns no row, then resets it; an error names what was done. */
int plumb__state_step_done(struct plumb_state *s, sqlite3_stmt *st, struct plumb_err *err,
			   const char *what);
/* The cached statement id, reset and with bindings cleared; NULL with err set on failure. */
sqlite3_stmt *plumb__state_stmt(struct plumb_state *s, enum plumb__state_stmt id,
				struct plumb_err *err);
/* PLUMB_ESTATE unless the handle was opened for writing. */
int plumb__state_writable(struct plumb_state *s, struct plumb_err *err);
/*
 * A multi-statement write as one unit: inside plumb_state_begin it is a savepoint, outside a
 * BEGIN IMMEDIATE transaction. _end commits (ok) or rolls back (!ok) what _start opened.
 */
int plumb__state_op_start(struct plumb_state *s, struct plumb_err *err);
int plumb__state_op_end(struct plumb_state *s, bool ok, struct plumb_err *err);
/* Binds s (NULL binds SQL NULL); the text must outlive the step. */
int plumb__state_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Column text copied with strdup, or NULL for SQL NULL; *oom set when strdup failed. */
char *plumb__state_col_dup(sqlite3_stmt *st, int i, bool *oom);

#endif

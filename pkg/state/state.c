/*
 * pkg/state, the file itself: opening (directories, the 0600 file, the writer lock), the
 * corruption check and rebuild, schema migrations, transactions, the statement cache, errors
 * and the meta table. The rows live in records.c.
 *
 * Open, in order: create the parent directory 0700 (WRITE), take the flock on "<path>.lock"
 * and write the holder line (WRITE), create the database file 0600 with open(2) so SQLite
 * never creates it under the caller's umask (SQLite then gives -wal and -shm the database
 * file's mode; we chmod them too, in case), connect, run PRAGMA quick_check, set the pragmas,
 * read user_version and migrate. SQLITE_NOTADB or SQLITE_CORRUPT from any of those steps, or a
 * quick_check that is not "ok", means corrupt: WRITE moves the file (and -wal, -shm, -journal)
 * aside and starts over once; READ refuses. quick_check reads the whole file: a few tens of
 * milliseconds for a state of 10,000 resources, paid once per open.
 *
 * Statements: every statement that runs more than once is prepared on first use and cached
 * for the life of the handle (stmt_sql below, PLUMB__ST_*), so a loop of 8,000 put_observed
 * calls in one transaction prepares once. Each use resets the statement afterwards, so no
 * SELECT keeps a read transaction (and an old WAL snapshot) open between calls.
 *
 * Migrations: migrations[i] takes the schema from version i to i+1; adding a version is one
 * array entry. All pending ones run in one BEGIN IMMEDIATE transaction with the new
 * user_version, so a crash mid-way leaves the old schema intact.
 *
 * A handle is used from one thread (SQLITE_OPEN_NOMUTEX); separate handles may be used from
 * separate threads or processes. Nothing here prints: errors go to struct plumb_err, the one
 * warning (a rebuild) goes through plumb_log.
 */
#include "state/state.h"
#include "state/state_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH ".plumb/state.db"
#define BUSY_TIMEOUT_MS 5000

/* ---------------------------------------------------------------- schema */

/* migrations[i] brings user_version i to i + 1. Never edit a released entry: add one. */
static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE observed ("
	"  account     TEXT NOT NULL,"
	"  region      TEXT NOT NULL,"
	"  kind        TEXT NOT NULL,"           /* plumb_kind_name() */
	"  name        TEXT NOT NULL,"           /* as AWS spells it */
	"  name_key    TEXT NOT NULL,"           /* name, lower-cased for SageMaker kinds */
	"  parent      TEXT NOT NULL DEFAULT '',"/* ScalingPolicy: ResourceId; else '' */
	"  arn         TEXT,"
	"  status      TEXT,"
	"  live_json   TEXT,"                    /* NULL: listed, never described */
	"  tags_json   TEXT,"                    /* NULL: tags unknown */
	"  created_ms  INTEGER NOT NULL DEFAULT 0,"
	"  modified_ms INTEGER NOT NULL DEFAULT 0,"
	"  observed_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (account, region, kind, name_key, parent)"
	");"
	"CREATE TABLE journal ("
	"  id           INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  run_id       TEXT,"
	"  account      TEXT,"
	"  region       TEXT,"
	"  kind         TEXT NOT NULL,"
	"  name         TEXT,"
	"  parent       TEXT,"
	"  manifest_id  TEXT,"
	"  operation    TEXT,"
	"  request_json TEXT,"
	"  spec_hash    TEXT,"
	"  status       TEXT NOT NULL CHECK (status IN ('open', 'done', 'failed')),"
	"  error        TEXT,"
	"  started_ms   INTEGER NOT NULL,"
	"  finished_ms  INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX journal_open ON journal(id) WHERE status = 'open';"
	"CREATE INDEX journal_failed ON journal(manifest_id, spec_hash) WHERE status = 'failed';"
	"CREATE INDEX journal_finished ON journal(finished_ms) WHERE status <> 'open';"
	"CREATE TABLE drift ("
	"  id            INTEGER PRIMARY KEY,"
	"  account       TEXT NOT NULL,"
	"  region        TEXT NOT NULL,"
	"  kind          TEXT NOT NULL,"
	"  name          TEXT NOT NULL,"
	"  path          TEXT NOT NULL,"
	"  wanted        TEXT,"
	"  live          TEXT,"
	"  first_seen_ms INTEGER NOT NULL,"
	"  last_seen_ms  INTEGER NOT NULL,"
	"  resolved_ms   INTEGER"                /* NULL while open */
	");"
	"CREATE UNIQUE INDEX drift_open ON drift(account, region, kind, name, path)"
	"  WHERE resolved_ms IS NULL;"
	"CREATE INDEX drift_resolved ON drift(resolved_ms) WHERE resolved_ms IS NOT NULL;"
	"CREATE TABLE changes ("
	"  id      INTEGER PRIMARY KEY,"
	"  ts_ms   INTEGER NOT NULL,"
	"  account TEXT,"
	"  region  TEXT,"
	"  kind    TEXT,"
	"  name    TEXT,"
	"  action  TEXT NOT NULL,"
	"  detail  TEXT"
	");"
	"CREATE INDEX changes_ts ON changes(ts_ms);"
	"CREATE TABLE meta ("
	"  key   TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") WITHOUT ROWID;",
	/* 2: the daemon's passes, with the revision each applied */
	"CREATE TABLE passes ("
	"  id          INTEGER PRIMARY KEY,"
	"  daemon      TEXT NOT NULL,"           /* the daemon's run id: pid and start time */
	"  pass        INTEGER NOT NULL,"        /* pass number within that run */
	"  started_ms  INTEGER NOT NULL,"
	"  finished_ms INTEGER,"                 /* NULL while it runs */
	"  reason      TEXT,"                    /* start, watch, resync, sighup, sync, retry */
	"  revision    TEXT,"                    /* git HEAD or REVISION file, NULL when none */
	"  mode        TEXT NOT NULL,"           /* apply | observe */
	"  result      TEXT,"                    /* ok, failed, invalid, error, cancelled */
	"  actions     INTEGER NOT NULL DEFAULT 0,"
	"  failed      INTEGER NOT NULL DEFAULT 0,"
	"  drifted     INTEGER NOT NULL DEFAULT 0,"
	"  error       TEXT,"
	"  UNIQUE(daemon, pass)"
	");"
	"CREATE INDEX passes_started ON passes(started_ms);",
};
#define SCHEMA_VERSION ((int)PLUMB_ARRAY_LEN(migrations))

/* SQL of enum plumb__state_stmt, in its order. */
static const char *const stmt_sql[PLUMB__ST__COUNT] = {
	[PLUMB__ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[PLUMB__ST_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
			       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[PLUMB__ST_META_DEL] = "DELETE FROM meta WHERE key = ?1",
	[PLUMB__ST_OBS_PUT] =
		"INSERT INTO observed(account, region, kind, name, name_key, parent, arn, status,"
		" live_json, tags_json, created_ms, modified_ms, observed_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT(account, region, kind, name_key, parent) DO UPDATE SET"
		" name = excluded.name, arn = excluded.arn, status = excluded.status,"
		" live_json = excluded.live_json, tags_json = excluded.tags_json,"
		" created_ms = excluded.created_ms, modified_ms = excluded.modified_ms,"
		" observed_ms = excluded.observed_ms",
	[PLUMB__ST_OBS_DEL] = "DELETE FROM observed WHERE account = ?1 AND region = ?2 AND"
			      " kind = ?3 AND name_key = ?4 AND parent = ?5",
	[PLUMB__ST_OBS_LOAD_REGION] =
		"SELECT region, kind, name, parent, arn, status, live_json, tags_json, created_ms,"
		" modified_ms, observed_ms FROM observed WHERE account = ?1 AND region = ?2"
		" ORDER BY account, region, kind, name_key, parent",
	[PLUMB__ST_OBS_LOAD_ALL] =
		"SELECT region, kind, name, parent, arn, status, live_json, tags_json, created_ms,"
		" modified_ms, observed_ms FROM observed WHERE account = ?1"
		" ORDER BY account, region, kind, name_key, parent",
	[PLUMB__ST_JOURNAL_BEGIN] =
		"INSERT INTO journal(run_id, account, region, kind, name, parent, manifest_id,"
		" operation, request_json, spec_hash, status, started_ms)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'open', ?11)",
	[PLUMB__ST_JOURNAL_FINISH] =
		"UPDATE journal SET status = ?2, error = ?3, finished_ms = ?4 WHERE id = ?1",
	[PLUMB__ST_JOURNAL_OPEN] =
		"SELECT id, run_id, account, region, kind, name, parent, manifest_id, operation,"
		" request_json, spec_hash, error, started_ms FROM journal WHERE status = 'open'"
		" ORDER BY id",
	[PLUMB__ST_JOURNAL_FAILED] = "SELECT count(*) FROM journal WHERE status = 'failed' AND"
				     " manifest_id = ?1 AND spec_hash = ?2",
	[PLUMB__ST_DRIFT_OPEN_ROWS] = "SELECT id, kind, name, path FROM drift WHERE"
				      " account = ?1 AND region = ?2 AND resolved_ms IS NULL",
	[PLUMB__ST_DRIFT_INSERT] =
		"INSERT INTO drift(account, region, kind, name, path, wanted, live, first_seen_ms,"
		" last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
	[PLUMB__ST_DRIFT_TOUCH] =
		"UPDATE drift SET wanted = ?2, live = ?3, last_seen_ms = ?4 WHERE id = ?1",
	[PLUMB__ST_DRIFT_RESOLVE] = "UPDATE drift SET resolved_ms = ?2 WHERE id = ?1",
	[PLUMB__ST_DRIFT_FIRST_SEEN] =
		"SELECT first_seen_ms FROM drift WHERE account = ?1 AND region = ?2 AND kind = ?3"
		" AND name = ?4 AND path = ?5 AND resolved_ms IS NULL",
	[PLUMB__ST_CHANGE_ADD] =
		"INSERT INTO changes(ts_ms, account, region, kind, name, action, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[PLUMB__ST_PRUNE_JOURNAL] =
		"DELETE FROM journal WHERE status <> 'open' AND finished_ms < ?1",
	[PLUMB__ST_PRUNE_DRIFT] =
		"DELETE FROM drift WHERE resolved_ms IS NOT NULL AND resolved_ms < ?1",
	[PLUMB__ST_PRUNE_CHANGES] = "DELETE FROM changes WHERE ts_ms < ?1",
	[PLUMB__ST_PASS_PUT] =
		"INSERT INTO passes(daemon, pass, started_ms, finished_ms, reason, revision, mode,"
		" result, actions, failed, drifted, error)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
		" ON CONFLICT(daemon, pass) DO UPDATE SET finished_ms = excluded.finished_ms,"
		" revision = excluded.revision, result = excluded.result,"
		" actions = excluded.actions, failed = excluded.failed,"
		" drifted = excluded.drifted, error = excluded.error",
	[PLUMB__ST_PRUNE_PASSES] = "DELETE FROM passes WHERE started_ms < ?1",
};

/* ---------------------------------------------------------------- errors and helpers */

int plumb__state_dberr(struct plumb_state *s, struct plumb_err *err, int rc, const char *what)
{
	const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	plumb_err_set(err, PLUMB_ESTATE, "state file %s: %s: %s (sqlite code %d)",
		      s && s->path ? s->path : "?", what, msg, rc);
	if (err) {
		err->sqlite_code = rc;
		int prim = rc & 0xff;
		err->cls = prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? PLUMB_ERRC_RETRYABLE
									: PLUMB_ERRC_TERMINAL;
	}
	return PLUMB_ESTATE;
}

sqlite3_stmt *plumb__state_stmt(struct plumb_state *s, enum plumb__state_stmt id,
				struct plumb_err *err)
{
	sqlite3_stmt *st = s->stmts[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
					    NULL);
		if (rc != SQLITE_OK) {
			plumb__state_dberr(s, err, rc, "preparing a statement");
			return NULL;
		}
		s->stmts[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int plumb__state_writable(struct plumb_state *s, struct plumb_err *err)
{
	if (s->mode == PLUMB_STATE_WRITE)
		return 0;
	plumb_err_set(err, PLUMB_ESTATE, "state file %s is open read-only", s->path);
	return PLUMB_ESTATE;
}

int plumb__state_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

char *plumb__state_col_dup(sqlite3_stmt *st, int i, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t)
		return NULL;
	char *c = strdup((const char *)t);
	if (!c)
		*oom = true;
	return c;
}

static int exec_sql(struct plumb_state *s, const char *sql, int *src, struct plumb_err *err,
		    const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (src)
		*src = rc;
	return rc == SQLITE_OK ? 0 : plumb__state_dberr(s, err, rc, what);
}

int plumb__state_op_start(struct plumb_state *s, struct plumb_err *err)
{
	return exec_sql(s, s->in_tx ? "SAVEPOINT plumb_op" : "BEGIN IMMEDIATE", NULL, err,
			"starting a transaction");
}

int plumb__state_op_end(struct plumb_state *s, bool ok, struct plumb_err *err)
{
	if (ok)
		return exec_sql(s, s->in_tx ? "RELEASE plumb_op" : "COMMIT", NULL, err,
				"committing");
	if (s->in_tx)
		sqlite3_exec(s->db, "ROLLBACK TO plumb_op; RELEASE plumb_op", NULL, NULL, NULL);
	else if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return 0;
}

static char *str_printf(const char *fmt, ...) PLUMB_PRINTF(1, 2);
static char *str_printf(const char *fmt, ...)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int rc = plumb_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (rc != 0) {
		plumb_buf_release(&b);
		return NULL;
	}
	return plumb_buf_detach(&b, NULL);
}

static bool corrupt_rc(int rc)
{
	return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
}

/* ---------------------------------------------------------------- files and the lock */

/* mkdir -p of path's directory; directories it creates get 0700 whatever the umask. */
static int make_parent_dirs(const char *path, struct plumb_err *err)
{
	char *dir = strdup(path);
	if (!dir)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	int rc = 0;
	for (char *p = dir + 1;; p++) {
		bool end = *p == '\0';
		if (!end && *p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == 0) {
			if (chmod(dir, 0700) != 0) {
				rc = plumb_err_sys(err, PLUMB_EIO, "chmod %s", dir);
				break;
			}
		} else if (errno != EEXIST) {
			rc = plumb_err_sys(err, PLUMB_EIO, "cannot create directory %s", dir);
			break;
		}
		if (end)
			break;
		*p = '/';
	}
	free(dir);
	return rc;
}

/* Opens path, creating it mode 0600 (whatever the umask) when absent. Returns the fd or -1. */
static int open_private(const char *path, int flags)
{
	int fd = open(path, flags | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		if (fchmod(fd, 0600) != 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	return open(path, flags | O_CLOEXEC | O_NOFOLLOW);
}

static int create_db_file(const char *path, struct plumb_err *err)
{
	int fd = open_private(path, O_RDWR);
	if (fd < 0)
		return plumb_err_sys(err, PLUMB_EIO, "cannot create state file %s", path);
	close(fd);
	return 0;
}

static void chmod_if_present(const char *path, mode_t mode)
{
	if (chmod(path, mode) != 0 && errno != ENOENT)
		plumb_log(PLUMB_LOG_WARN, "state_chmod_failed", "path", path, "error",
			  strerror(errno), NULL);
}

static void chmod_sidecars(struct plumb_state *s)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(sfx); i++) {
		char *p = str_printf("%s%s", s->path, sfx[i]);
		if (p)
			chmod_if_present(p, 0600);
		free(p);
	}
}

static int take_lock(struct plumb_state *s, const char *holder, struct plumb_err *err)
{
	char *lock_path = str_printf("%s.lock", s->path);
	if (!lock_path)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	int fd = open_private(lock_path, O_RDWR);
	if (fd < 0) {
		int rc = plumb_err_sys(err, PLUMB_EIO, "cannot open lock file %s", lock_path);
		free(lock_path);
		return rc;
	}
	int r;
	while ((r = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (r != 0) {
		int rc;
		if (errno == EWOULDBLOCK) {
			char line[400];
			ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
			line[n > 0 ? n : 0] = '\0';
			line[strcspn(line, "\r\n")] = '\0';
			rc = plumb_err_set(err, PLUMB_EBUSY, "state file %s is in use by %s", s->path,
					   line[0] ? line : "another plumb (holder not yet written)");
			if (err)
				err->cls = PLUMB_ERRC_CONFLICT;
		} else {
			rc = plumb_err_sys(err, PLUMB_EIO, "cannot lock %s", lock_path);
		}
		close(fd);
		free(lock_path);
		return rc;
	}
	free(lock_path);
	char host[256] = "unknown";
	if (gethostname(host, sizeof(host)) != 0)
		plumb_strlcpy(host, "unknown", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	char since[21];
	plumb_time_iso8601(plumb_clock_now_ms(s->clock), since);
	char *line = str_printf("%s pid=%ld host=%s since=%s\n", holder ? holder : "plumb",
				(long)getpid(), host, since);
	if (!line) {
		close(fd);
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	}
	size_t len = strlen(line);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, len, 0) != (ssize_t)len) {
		int rc = plumb_err_sys(err, PLUMB_EIO, "cannot write lock file of %s", s->path);
		free(line);
		close(fd);
		return rc;
	}
	free(line);
	s->lock_fd = fd;
	return 0;
}

/* Moves path and its sidecars to "<path>.corrupt-<epoch>" (".<n>" added if that is taken). */
static int move_aside(struct plumb_state *s, struct plumb_err *err)
{
	long long secs = (long long)(plumb_clock_now_ms(s->clock) / 1000);
	char *dest = NULL;
	for (int n = 0; n < 1000; n++) {
		free(dest);
		dest = n ? str_printf("%s.corrupt-%lld.%d", s->path, secs, n)
			 : str_printf("%s.corrupt-%lld", s->path, secs);
		if (!dest)
			return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		struct stat st;
		if (lstat(dest, &st) != 0 && errno == ENOENT)
			break;
	}
	if (rename(s->path, dest) != 0) {
		int rc = plumb_err_sys(err, PLUMB_EIO, "cannot move corrupt state file %s to %s",
				       s->path, dest);
		free(dest);
		return rc;
	}
	static const char *const sfx[] = { "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(sfx); i++) {
		char *from = str_printf("%s%s", s->path, sfx[i]);
		char *to = str_printf("%s%s", dest, sfx[i]);
		if (from && to && rename(from, to) != 0 && errno != ENOENT) {
			/* a sidecar left behind would be read as part of the fresh file */
			if (unlink(from) != 0 && errno != ENOENT) {
				int rc = plumb_err_sys(err, PLUMB_EIO, "cannot move %s aside", from);
				free(from);
				free(to);
				free(dest);
				return rc;
			}
		}
		free(from);
		free(to);
	}
	s->corrupt_path = dest;
	return 0;
}

/* ---------------------------------------------------------------- connecting */

static void disconnect(struct plumb_state *s)
{
	for (size_t i = 0; i < PLUMB__ST__COUNT; i++) {
		sqlite3_finalize(s->stmts[i]);
		s->stmts[i] = NULL;
	}
	if (s->db) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(s->db);
		s->db = NULL;
	}
	s->in_tx = false;
}

/* The first row of a one-value pragma into out; *src gets SQLite's code. */
static int pragma_text(struct plumb_state *s, const char *sql, char *out, size_t outsz, int *src,
		       struct plumb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	out[0] = '\0';
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			plumb_strlcpy(out, t ? (const char *)t : "", outsz);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	*src = rc;
	if (rc != SQLITE_OK)
		plumb__state_dberr(s, err, rc, sql);
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : PLUMB_ESTATE;
}

/*
 * PRAGMA quick_check: 0 and *corrupt false when the file is sound, 0 and *corrupt true with a
 * reason when it is not, PLUMB_ESTATE for any other failure.
 */
static int quick_check(struct plumb_state *s, bool *corrupt, char *reason, size_t reasonsz,
		       struct plumb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
	int rows = 0;
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			const char *line = t ? (const char *)t : "";
			if (rows++ == 0)
				plumb_strlcpy(reason, line, reasonsz);
		}
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	if (rc == SQLITE_OK && (rows != 1 || strcmp(reason, "ok") != 0)) {
		*corrupt = true;
	} else if (corrupt_rc(rc)) {
		*corrupt = true;
		plumb_strlcpy(reason, sqlite3_errmsg(s->db), reasonsz);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		plumb__state_dberr(s, err, rc, "checking integrity");
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : PLUMB_ESTATE;
}

/*
 * Connects and runs every statement that reads the file before migration. A corrupt file sets
 * *corrupt (and reason) and returns 0 with the connection closed.
 */
static int connect_db(struct plumb_state *s, int *user_version, bool *corrupt, char *reason,
		      size_t reasonsz, struct plumb_err *err)
{
	*corrupt = false;
	int flags = (s->mode == PLUMB_STATE_WRITE ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
		    SQLITE_OPEN_NOMUTEX;
	int src = sqlite3_open_v2(s->path, &s->db, flags, NULL);
	if (src != SQLITE_OK) {
		int rc = plumb__state_dberr(s, err, src, "opening");
		disconnect(s);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	int rc = quick_check(s, corrupt, reason, reasonsz, err);
	char val[64];
	if (rc == 0 && !*corrupt && s->mode == PLUMB_STATE_WRITE) {
		rc = pragma_text(s, "PRAGMA journal_mode=WAL", val, sizeof(val), &src, err);
		if (rc == 0 && strcmp(val, "wal") != 0)
			rc = plumb_err_set(err, PLUMB_ESTATE,
					   "state file %s: cannot use WAL (journal mode %s)",
					   s->path, val);
		if (rc == 0)
			rc = exec_sql(s, "PRAGMA synchronous=NORMAL", &src, err, "setting pragmas");
	}
	if (rc == 0 && !*corrupt)
		rc = exec_sql(s, "PRAGMA foreign_keys=ON", &src, err, "setting pragmas");
	if (rc == 0 && !*corrupt)
		rc = pragma_text(s, "PRAGMA user_version", val, sizeof(val), &src, err);
	if (rc != 0 && corrupt_rc(src)) {
		*corrupt = true;
		plumb_strlcpy(reason, sqlite3_errstr(src), reasonsz);
		plumb_err_clear(err);
		rc = 0;
	}
	if (rc != 0 || *corrupt) {
		disconnect(s);
		return rc;
	}
	*user_version = (int)strtol(val, NULL, 10);
	return 0;
}

static int migrate(struct plumb_state *s, int from, struct plumb_err *err)
{
	if (from > SCHEMA_VERSION)
		return plumb_err_set(err, PLUMB_ESTATE,
				     "state file %s was written by a newer plumb (schema %d, this "
				     "plumb knows %d)",
				     s->path, from, SCHEMA_VERSION);
	if (from == SCHEMA_VERSION) {
		s->schema_version = from;
		return 0;
	}
	if (s->mode != PLUMB_STATE_WRITE)
		return plumb_err_set(err, PLUMB_ESTATE,
				     "state file %s has schema %d, this plumb needs %d: run without "
				     "--cached to upgrade it",
				     s->path, from, SCHEMA_VERSION);
	int rc = exec_sql(s, "BEGIN IMMEDIATE", NULL, err, "starting the migration");
	for (int v = from; rc == 0 && v < SCHEMA_VERSION; v++)
		rc = exec_sql(s, migrations[v], NULL, err, "migrating the schema");
	if (rc == 0) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
		rc = exec_sql(s, sql, NULL, err, "migrating the schema");
	}
	if (rc == 0)
		rc = exec_sql(s, "COMMIT", NULL, err, "committing the migration");
	if (rc != 0) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	char a[16], b[16];
	snprintf(a, sizeof(a), "%d", from);
	snprintf(b, sizeof(b), "%d", SCHEMA_VERSION);
	plumb_log(from ? PLUMB_LOG_INFO : PLUMB_LOG_DEBUG, "state_migrated", "path", s->path,
		  "from", a, "to", b, NULL);
	s->schema_version = SCHEMA_VERSION;
	return 0;
}

/* ---------------------------------------------------------------- open and close */

static int open_steps(struct plumb_state *s, const struct plumb_state_opts *opts,
		      struct plumb_err *err)
{
	int rc;
	if (s->mode == PLUMB_STATE_WRITE) {
		if ((rc = make_parent_dirs(s->path, err)) != 0 ||
		    (rc = take_lock(s, opts->holder, err)) != 0 ||
		    (rc = create_db_file(s->path, err)) != 0)
			return rc;
	} else {
		struct stat st;
		if (stat(s->path, &st) != 0) {
			if (errno == ENOENT)
				return plumb_err_set(err, PLUMB_ENOENT,
						     "state file %s does not exist: run without "
						     "--cached to create it",
						     s->path);
			return plumb_err_sys(err, PLUMB_EIO, "cannot read state file %s", s->path);
		}
	}
	int version = 0;
	bool corrupt;
	char reason[256];
	if ((rc = connect_db(s, &version, &corrupt, reason, sizeof(reason), err)) != 0)
		return rc;
	if (corrupt) {
		if (s->mode != PLUMB_STATE_WRITE)
			return plumb_err_set(err, PLUMB_ESTATE,
					     "state file %s is corrupt (%s): run without --cached "
					     "to rebuild it",
					     s->path, reason);
		if ((rc = move_aside(s, err)) != 0 || (rc = create_db_file(s->path, err)) != 0)
			return rc;
		plumb_log(PLUMB_LOG_WARN, "state_rebuilt", "path", s->path, "moved_to",
			  s->corrupt_path, "reason", reason, NULL);
		s->rebuilt = true;
		if ((rc = connect_db(s, &version, &corrupt, reason, sizeof(reason), err)) != 0)
			return rc;
		if (corrupt)
			return plumb_err_set(err, PLUMB_ESTATE,
					     "state file %s is corrupt right after creation (%s)",
					     s->path, reason);
	}
	if ((rc = migrate(s, version, err)) != 0)
		return rc;
	if (s->mode == PLUMB_STATE_WRITE) {
		chmod_sidecars(s);
		int64_t now = plumb_clock_now_ms(s->clock);
		if ((rc = plumb_state_prune(s, now - PLUMB_STATE_RETAIN_MS, err)) != 0)
			return rc;
	}
	return 0;
}

int plumb_state_open(struct plumb_state **out, const struct plumb_state_opts *opts,
		     struct plumb_err *err)
{
	*out = NULL;
	if (!opts)
		return plumb_err_set(err, PLUMB_EINVAL, "no state options");
	struct plumb_state *s = calloc(1, sizeof(*s));
	if (!s)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	s->lock_fd = -1;
	s->mode = opts->mode;
	s->clock = opts->clock ? opts->clock : &plumb_clock_system;
	s->path = strdup(opts->path && opts->path[0] ? opts->path : DEFAULT_PATH);
	int rc = s->path ? open_steps(s, opts, err) : plumb_err_set(err, PLUMB_ENOMEM,
								     "out of memory");
	if (rc != 0) {
		plumb_state_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void plumb_state_close(struct plumb_state *s)
{
	if (!s)
		return;
	disconnect(s);
	if (s->lock_fd >= 0) {
		/* empty the holder line while still holding the lock; close drops the lock */
		if (ftruncate(s->lock_fd, 0) != 0)
			plumb_log(PLUMB_LOG_DEBUG, "state_lock_truncate_failed", "path", s->path,
				  NULL);
		close(s->lock_fd);
	}
	free(s->path);
	free(s->corrupt_path);
	free(s);
}

bool plumb_state_rebuilt(const struct plumb_state *s)
{
	return s->rebuilt;
}

const char *plumb_state_corrupt_path(const struct plumb_state *s)
{
	return s->corrupt_path;
}

const char *plumb_state_path(const struct plumb_state *s)
{
	return s->path;
}

int plumb_state_schema_version(const struct plumb_state *s)
{
	return s->schema_version;
}

/* ---------------------------------------------------------------- transactions */

int plumb_state_begin(struct plumb_state *s, struct plumb_err *err)
{
	if (s->in_tx)
		return plumb_err_set(err, PLUMB_EINVAL, "a state transaction is already open");
	int rc = exec_sql(s, s->mode == PLUMB_STATE_WRITE ? "BEGIN IMMEDIATE" : "BEGIN", NULL,
			  err, "starting a transaction");
	if (rc == 0)
		s->in_tx = true;
	return rc;
}

int plumb_state_commit(struct plumb_state *s, struct plumb_err *err)
{
	if (!s->in_tx)
		return plumb_err_set(err, PLUMB_EINVAL, "no state transaction is open");
	int rc = exec_sql(s, "COMMIT", NULL, err, "committing");
	s->in_tx = !sqlite3_get_autocommit(s->db);
	return rc;
}

void plumb_state_rollback(struct plumb_state *s)
{
	if (!s->in_tx)
		return;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = false;
}

/* Steps a statement that returns no row, then resets it; an error names what was done. */
int plumb__state_step_done(struct plumb_state *s, sqlite3_stmt *st, struct plumb_err *err,
			   const char *what)
{
	int src = sqlite3_step(st);
	int rc = src == SQLITE_DONE ? 0 : plumb__state_dberr(s, err, src, what);
	sqlite3_reset(st);
	return rc;
}

/* ---------------------------------------------------------------- meta */

int plumb_state_meta_set(struct plumb_state *s, const char *key, const char *value,
			 struct plumb_err *err)
{
	int rc = plumb__state_writable(s, err);
	if (rc != 0)
		return rc;
	if (!key)
		return plumb_err_set(err, PLUMB_EINVAL, "meta key is NULL");
	sqlite3_stmt *st = plumb__state_stmt(s, value ? PLUMB__ST_META_SET : PLUMB__ST_META_DEL,
					     err);
	if (!st)
		return PLUMB_ESTATE;
	plumb__state_bind_text(st, 1, key);
	if (value)
		plumb__state_bind_text(st, 2, value);
	return plumb__state_step_done(s, st, err, "writing meta");
}

int plumb_state_meta_get(struct plumb_state *s, const char *key, char **value,
			 struct plumb_err *err)
{
	*value = NULL;
	if (!key)
		return plumb_err_set(err, PLUMB_EINVAL, "meta key is NULL");
	sqlite3_stmt *st = plumb__state_stmt(s, PLUMB__ST_META_GET, err);
	if (!st)
		return PLUMB_ESTATE;
	plumb__state_bind_text(st, 1, key);
	int src = sqlite3_step(st);
	int rc = 0;
	if (src == SQLITE_ROW) {
		bool oom = false;
		*value = plumb__state_col_dup(st, 0, &oom);
		if (oom)
			rc = plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	} else if (src != SQLITE_DONE) {
		rc = plumb__state_dberr(s, err, src, "reading meta");
	}
	sqlite3_reset(st);
	return rc;
}

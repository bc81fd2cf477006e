/*
 * pkg/state: file modes, the writer lock (in this process and across a fork), reopen, observed
 * rows (case-insensitive SageMaker names, policies under their target), transactions, the
 * journal, drift history, meta, retention, corruption rebuild and refusing a newer schema.
 * Every test works in its own mkdtemp directory under /tmp and inspects the file with the
 * sqlite3 API directly where the state API has no reader.
 */
#include "state/state.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

struct fake_clock {
	int64_t now; /* ms since the epoch */
};

static int64_t fake_now(void *d)
{
	return ((struct fake_clock *)d)->now;
}

static int64_t fake_mono(void *d)
{
	return ((struct fake_clock *)d)->now;
}

static struct plumb_clock fake_clock_of(struct fake_clock *fc)
{
	struct plumb_clock c = { fake_now, fake_mono, fc };
	return c;
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		chmod(path, 0700);
		DIR *d = opendir(path);
		if (d) {
			struct dirent *de;
			while ((de = readdir(d)) != NULL) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				char sub[1024];
				snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
				rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static char tmpdir[64];

static void tmp_setup(void)
{
	plumb_strlcpy(tmpdir, "/tmp/plumb-state-XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	rm_rf(tmpdir);
}

/* "<tmpdir>/<rel>" in a static ring of buffers (enough for one test's live paths). */
static const char *tpath(const char *rel)
{
	static char ring[8][512];
	static int at;
	char *p = ring[at++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, rel);
	return p;
}

static struct plumb_state *open_mode(const char *path, enum plumb_state_mode mode,
				     const struct plumb_clock *clock)
{
	struct plumb_state_opts o = { path, mode, "plumb test", clock };
	struct plumb_state *s = NULL;
	struct plumb_err err;
	plumb_err_clear(&err);
	int rc = plumb_state_open(&s, &o, &err);
	ck_assert_msg(rc == 0, "open %s: %d %s", path, rc, err.msg);
	ck_assert_ptr_nonnull(s);
	return s;
}

static struct plumb_state *open_w(const char *path)
{
	return open_mode(path, PLUMB_STATE_WRITE, NULL);
}

static int open_fails(const char *path, enum plumb_state_mode mode, struct plumb_err *err)
{
	struct plumb_state_opts o = { path, mode, "plumb second", NULL };
	struct plumb_state *s = (struct plumb_state *)1;
	plumb_err_clear(err);
	int rc = plumb_state_open(&s, &o, err);
	ck_assert_ptr_null(s);
	return rc;
}

static mode_t file_mode(const char *path)
{
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* One integer from SQL run on its own read-only connection. */
static int64_t sql_int(const char *db, const char *sql)
{
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(h));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void sql_exec(const char *db, const char *sql)
{
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	char *msg = NULL;
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
		      msg ? msg : "");
	sqlite3_close(h);
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static char *read_all(const char *path, size_t *len)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	ck_assert_int_eq(plumb_fs_read(path, 1 << 24, &b, NULL), 0);
	return plumb_buf_detach(&b, len);
}

static struct plumb_observed *obs(enum plumb_kind k, const char *region, const char *name,
				  const char *parent, const char *live, const char *tags)
{
	struct plumb_observed *o = plumb_observed_new(k, region, name, parent);
	ck_assert_ptr_nonnull(o);
	o->live = live ? json_loads(live, 0, NULL) : NULL;
	o->tags = tags ? json_loads(tags, 0, NULL) : NULL;
	ck_assert(!live || o->live);
	ck_assert(!tags || o->tags);
	return o;
}

static void put(struct plumb_state *s, const char *account, const struct plumb_observed *o)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	int rc = plumb_state_put_observed(s, account, o, &err);
	ck_assert_msg(rc == 0, "put: %s", err.msg);
}

static void load(struct plumb_state *s, const char *account, const char *region,
		 struct plumb_observed_set *set)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	plumb_observed_set_init(set);
	int rc = plumb_state_load_observed(s, account, region, set, &err);
	ck_assert_msg(rc == 0, "load: %s", err.msg);
}

static void str_eq_or_null(const char *a, const char *b)
{
	if (!a || !b)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

static void json_eq_or_null(const json_t *a, const json_t *b)
{
	if (!a || !b)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert(json_equal(a, b));
}

static void assert_same_observed(const struct plumb_observed *a, const struct plumb_observed *b)
{
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_str_eq(a->region, b->region);
	ck_assert_str_eq(a->name, b->name);
	str_eq_or_null(a->parent, b->parent);
	str_eq_or_null(a->arn, b->arn);
	str_eq_or_null(a->status, b->status);
	json_eq_or_null(a->live, b->live);
	json_eq_or_null(a->tags, b->tags);
	ck_assert_int_eq(a->created_ms, b->created_ms);
	ck_assert_int_eq(a->modified_ms, b->modified_ms);
	ck_assert_int_eq(a->observed_ms, b->observed_ms);
}

/* ---------------------------------------------------------------- files and modes */

START_TEST(open_creates_private_files_whatever_the_umask)
{
	static const mode_t masks[] = { 0000, 0022, 0077, 0277 };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(masks); i++) {
		char dir[64], db[128];
		snprintf(dir, sizeof(dir), "case%zu/.plumb", i);
		snprintf(db, sizeof(db), "%s/state.db", dir);
		const char *dbp = tpath(db);
		mode_t old = umask(masks[i]);
		struct plumb_state *s = open_w(dbp);
		umask(old);
		ck_assert_str_eq(plumb_state_path(s), dbp);
		ck_assert_int_eq(plumb_state_schema_version(s), 2);
		ck_assert(!plumb_state_rebuilt(s));
		ck_assert_ptr_null(plumb_state_corrupt_path(s));
		ck_assert_int_eq(plumb_state_meta_set(s, "k", "v", NULL), 0);

		char lock[160], wal[160], shm[160];
		snprintf(lock, sizeof(lock), "%s.lock", dbp);
		snprintf(wal, sizeof(wal), "%s-wal", dbp);
		snprintf(shm, sizeof(shm), "%s-shm", dbp);
		ck_assert_int_eq(file_mode(tpath(dir)), 0700);
		ck_assert_int_eq(file_mode(dbp), 0600);
		ck_assert_int_eq(file_mode(lock), 0600);
		ck_assert_int_eq(file_mode(wal), 0600);
		ck_assert_int_eq(file_mode(shm), 0600);

		char want[64];
		snprintf(want, sizeof(want), "plumb test pid=%ld host=", (long)getpid());
		size_t n;
		char *line = read_all(lock, &n);
		ck_assert_msg(strncmp(line, want, strlen(want)) == 0, "lock line %s", line);
		ck_assert_ptr_nonnull(strstr(line, " since=20"));
		ck_assert_int_eq(line[n - 1], '\n');
		free(line);

		sqlite3 *h;
		ck_assert_int_eq(sqlite3_open_v2(dbp, &h, SQLITE_OPEN_READONLY, NULL), 0);
		sqlite3_stmt *st;
		ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), 0);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
		sqlite3_close(h);

		plumb_state_close(s);
		line = read_all(lock, &n);
		ck_assert_uint_eq(n, 0); /* the holder line goes with the holder */
		free(line);
	}
}
END_TEST

START_TEST(default_path_is_dot_plumb)
{
	char cwd[1024];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	struct plumb_state_opts o = { NULL, PLUMB_STATE_WRITE, NULL, NULL };
	struct plumb_state *s = NULL;
	ck_assert_int_eq(plumb_state_open(&s, &o, NULL), 0);
	ck_assert_str_eq(plumb_state_path(s), ".plumb/state.db");
	ck_assert_int_eq(file_mode(".plumb"), 0700);
	ck_assert_int_eq(file_mode(".plumb/state.db"), 0600);
	plumb_state_close(s);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST(reopen_keeps_data)
{
	const char *db = tpath("state.db");
	struct plumb_state *s = open_w(db);
	ck_assert_int_eq(plumb_state_meta_set(s, "observed:1:us-east-1", "123", NULL), 0);
	struct plumb_observed *o = obs(PLUMB_KIND_ENDPOINT, "us-east-1", "Web", NULL,
				       "{\"EndpointStatus\":\"InService\"}", "{\"a\":\"b\"}");
	put(s, "1", o);
	plumb_state_close(s);

	for (int mode = 0; mode < 2; mode++) {
		s = open_mode(db, mode ? PLUMB_STATE_WRITE : PLUMB_STATE_READ, NULL);
		char *v = NULL;
		ck_assert_int_eq(plumb_state_meta_get(s, "observed:1:us-east-1", &v, NULL), 0);
		ck_assert_str_eq(v, "123");
		free(v);
		struct plumb_observed_set set;
		load(s, "1", "us-east-1", &set);
		ck_assert_uint_eq(set.items.len, 1);
		assert_same_observed(set.items.items[0], o);
		plumb_observed_set_release(&set);
		plumb_state_close(s);
	}
	plumb_observed_free(o);
}
END_TEST

START_TEST(empty_file_is_migrated)
{
	const char *db = tpath("state.db");
	write_file(db, "", 0);
	struct plumb_err err;
	ck_assert_int_eq(open_fails(db, PLUMB_STATE_READ, &err), PLUMB_ESTATE);
	ck_assert_ptr_nonnull(strstr(err.msg, "schema 0"));
	ck_assert_ptr_nonnull(strstr(err.msg, "--cached"));
	struct plumb_state *s = open_w(db);
	ck_assert_int_eq(plumb_state_schema_version(s), 2);
	ck_assert(!plumb_state_rebuilt(s));
	plumb_state_close(s);
	ck_assert_int_eq(sql_int(db, "PRAGMA user_version"), 2);
}
END_TEST

START_TEST(passes_are_recorded_then_finished)
{
	const char *db = tpath("state.db");
	struct plumb_state *s = open_w(db);
	struct plumb_err err;
	struct plumb_state_pass p = { .daemon = "42-1", .pass = 3, .started_ms = 1000,
				      .reason = "watch", .revision = "abc123", .mode = "apply" };
	ck_assert_int_eq(plumb_state_pass_put(s, &p, &err), 0);
	p.finished_ms = 2500;
	p.result = "ok";
	p.actions = 4;
	p.drifted = 1;
	ck_assert_int_eq(plumb_state_pass_put(s, &p, &err), 0);
	p.pass = 4;
	p.finished_ms = 0;
	p.result = NULL;
	ck_assert_int_eq(plumb_state_pass_put(s, &p, &err), 0);
	struct plumb_state_pass bad = { .pass = 1 };
	ck_assert_int_eq(plumb_state_pass_put(s, &bad, &err), PLUMB_EINVAL);
	plumb_state_close(s);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM passes"), 2);
	ck_assert_int_eq(sql_int(db, "SELECT finished_ms FROM passes WHERE pass = 3"), 2500);
	ck_assert_int_eq(sql_int(db, "SELECT actions FROM passes WHERE pass = 3"), 4);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM passes WHERE pass = 4 AND "
				     "finished_ms IS NULL AND revision = 'abc123'"), 1);
}
END_TEST

START_TEST(read_of_missing_file_is_enoent)
{
	struct plumb_err err;
	const char *db = tpath("nope/state.db");
	ck_assert_int_eq(open_fails(db, PLUMB_STATE_READ, &err), PLUMB_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "does not exist"));
	ck_assert_ptr_nonnull(strstr(err.msg, db));
	ck_assert(!exists(tpath("nope"))); /* READ creates nothing */
}
END_TEST

START_TEST(read_only_handle_refuses_writes)
{
	const char *db = tpath("state.db");
	plumb_state_close(open_w(db));
	struct plumb_state *s = open_mode(db, PLUMB_STATE_READ, NULL);
	struct plumb_err err;
	plumb_err_clear(&err);
	struct plumb_observed *o = obs(PLUMB_KIND_MODEL, "r", "m", NULL, NULL, NULL);
	ck_assert_int_eq(plumb_state_put_observed(s, "1", o, &err), PLUMB_ESTATE);
	ck_assert_ptr_nonnull(strstr(err.msg, "read-only"));
	ck_assert_int_eq(plumb_state_meta_set(s, "k", "v", NULL), PLUMB_ESTATE);
	ck_assert_int_eq(plumb_state_drift_sync(s, "1", "r", NULL, 0, NULL), PLUMB_ESTATE);
	ck_assert_int_eq(plumb_state_change_add(s, "1", "r", "Model", "m", "create", NULL, NULL),
			 PLUMB_ESTATE);
	plumb_observed_free(o);
	plumb_state_close(s);
}
END_TEST

/* ---------------------------------------------------------------- the writer lock */

START_TEST(second_writer_is_busy_and_names_the_holder)
{
	const char *db = tpath(".plumb/state.db");
	struct plumb_state_opts o = { db, PLUMB_STATE_WRITE, "plumb run", NULL };
	struct plumb_state *s = NULL;
	ck_assert_int_eq(plumb_state_open(&s, &o, NULL), 0);
	ck_assert_int_eq(plumb_state_meta_set(s, "who", "first", NULL), 0);

	struct plumb_err err;
	ck_assert_int_eq(open_fails(db, PLUMB_STATE_WRITE, &err), PLUMB_EBUSY);
	ck_assert_int_eq(err.code, PLUMB_EBUSY);
	char want[160];
	snprintf(want, sizeof(want), "state file %s is in use by plumb run pid=%ld host=", db,
		 (long)getpid());
	ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "message: %s", err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, " since="));

	/* a reader needs no lock and sees committed data while the writer holds it */
	struct plumb_state *r = open_mode(db, PLUMB_STATE_READ, NULL);
	char *v = NULL;
	ck_assert_int_eq(plumb_state_meta_get(r, "who", &v, NULL), 0);
	ck_assert_str_eq(v, "first");
	free(v);
	ck_assert_int_eq(plumb_state_meta_set(s, "who", "second", NULL), 0);
	ck_assert_int_eq(plumb_state_meta_get(r, "who", &v, NULL), 0);
	ck_assert_str_eq(v, "second");
	free(v);
	plumb_state_close(r);

	plumb_state_close(s);
	s = open_w(db);
	plumb_state_close(s);
}
END_TEST

START_TEST(lock_dies_with_its_holder)
{
	const char *db = tpath("state.db");
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct plumb_state_opts o = { db, PLUMB_STATE_WRITE, "plumb run", NULL };
		struct plumb_state *s = NULL;
		char c = plumb_state_open(&s, &o, NULL) == 0 ? 'y' : 'n';
		if (write(p[1], &c, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	char c = 0;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	ck_assert_int_eq(c, 'y');

	struct plumb_err err;
	ck_assert_int_eq(open_fails(db, PLUMB_STATE_WRITE, &err), PLUMB_EBUSY);
	char want[64];
	snprintf(want, sizeof(want), "pid=%ld ", (long)child);
	ck_assert_msg(strstr(err.msg, want) != NULL, "message: %s", err.msg);

	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	struct plumb_state *s = open_w(db); /* the kernel dropped the dead holder's lock */
	plumb_state_close(s);
}
END_TEST

/* ---------------------------------------------------------------- observed */

START_TEST(observed_round_trip)
{
	struct plumb_state *s = open_w(tpath("state.db"));
	struct plumb_observed *rows[] = {
		obs(PLUMB_KIND_MODEL, "us-east-1", "Web-Model-1a2b3c4d", NULL,
		    "{\"ModelName\":\"Web-Model-1a2b3c4d\",\"N\":[1,2.5,true,null]}",
		    "{\"plumb:owner\":\"team\",\"plumb:id\":\"Model/web\"}"),
		obs(PLUMB_KIND_ENDPOINT_CONFIG, "us-east-1", "web-cfg-00000000", NULL, NULL, NULL),
		obs(PLUMB_KIND_ENDPOINT, "us-east-1", "Web", NULL, "{\"EndpointStatus\":\"Updating\"}",
		    "{}"),
		obs(PLUMB_KIND_SCALABLE_TARGET, "us-east-1", "endpoint/Web/variant/AllTraffic", NULL,
		    "{\"MinCapacity\":1}", NULL),
		obs(PLUMB_KIND_SCALING_POLICY, "us-east-1", "cpu", "endpoint/Web/variant/A", "{}",
		    NULL),
		obs(PLUMB_KIND_SCALING_POLICY, "us-east-1", "cpu", "endpoint/Web/variant/B", "{}",
		    NULL),
		obs(PLUMB_KIND_ALARM, "us-east-1", "HighLatency", NULL, "{}", "{}"),
		obs(PLUMB_KIND_ALARM, "us-east-1", "highlatency", NULL, "{}", "{}"),
		obs(PLUMB_KIND_TOPIC, "us-east-1", "alerts", NULL, "{\"TopicArn\":\"arn:x\"}", NULL),
		obs(PLUMB_KIND_ENDPOINT, "eu-west-1", "Web", NULL, NULL, NULL),
	};
	rows[0]->arn = strdup("arn:aws:sagemaker:us-east-1:1:model/web-model-1a2b3c4d");
	rows[0]->created_ms = 1700000000123;
	rows[2]->status = strdup("Updating");
	rows[2]->modified_ms = 1700000000456;
	rows[2]->observed_ms = 1700000000789;
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(rows); i++)
		put(s, "111", rows[i]);
	struct plumb_observed *other = obs(PLUMB_KIND_MODEL, "us-east-1", "x", NULL, NULL, NULL);
	put(s, "222", other); /* another account never shows up */

	struct plumb_observed_set set;
	load(s, "111", "us-east-1", &set);
	ck_assert_uint_eq(set.items.len, PLUMB_ARRAY_LEN(rows) - 1);
	for (size_t i = 0; i + 1 < PLUMB_ARRAY_LEN(rows); i++) {
		const struct plumb_observed *want = rows[i];
		struct plumb_observed *got = plumb_observed_find(&set, want->kind, want->region,
								 want->name, want->parent);
		ck_assert_msg(got != NULL, "row %zu missing", i);
		assert_same_observed(got, want);
	}
	plumb_observed_set_release(&set);
	load(s, "111", NULL, &set);
	ck_assert_uint_eq(set.items.len, PLUMB_ARRAY_LEN(rows));
	plumb_observed_set_release(&set);

	/* SageMaker names are one resource whatever the case; the newest spelling wins */
	struct plumb_observed *lower = obs(PLUMB_KIND_MODEL, "us-east-1", "web-model-1A2B3C4D", NULL,
					   NULL, NULL);
	put(s, "111", lower);
	load(s, "111", "us-east-1", &set);
	ck_assert_uint_eq(set.items.len, PLUMB_ARRAY_LEN(rows) - 1);
	struct plumb_observed *m = plumb_observed_find(&set, PLUMB_KIND_MODEL, "us-east-1",
						       "WEB-MODEL-1A2B3C4D", NULL);
	ck_assert_ptr_nonnull(m);
	assert_same_observed(m, lower);
	plumb_observed_set_release(&set);

	/* deletes: case-insensitive for SageMaker, exact for alarms, by parent for policies */
	static const struct {
		enum plumb_kind kind;
		const char *name, *parent;
		size_t left;
	} dels[] = {
		{ PLUMB_KIND_MODEL, "WEB-model-1a2b3c4d", NULL, 8 },
		{ PLUMB_KIND_MODEL, "web-model-1a2b3c4d", NULL, 8 }, /* no row: not an error */
		{ PLUMB_KIND_ALARM, "HIGHLATENCY", NULL, 8 },
		{ PLUMB_KIND_ALARM, "highlatency", NULL, 7 },
		{ PLUMB_KIND_SCALING_POLICY, "cpu", "endpoint/Web/variant/B", 6 },
		{ PLUMB_KIND_ENDPOINT, "WEB", NULL, 5 },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(dels); i++) {
		ck_assert_int_eq(plumb_state_delete_observed(s, "111", "us-east-1", dels[i].kind,
							     dels[i].name, dels[i].parent, NULL),
				 0);
		load(s, "111", "us-east-1", &set);
		ck_assert_msg(set.items.len == dels[i].left, "delete %zu: %zu left", i,
			      set.items.len);
		plumb_observed_set_release(&set);
	}
	load(s, "111", "us-east-1", &set);
	ck_assert_ptr_nonnull(plumb_observed_find(&set, PLUMB_KIND_SCALING_POLICY, "us-east-1",
						  "cpu", "endpoint/Web/variant/A"));
	ck_assert_ptr_nonnull(plumb_observed_find(&set, PLUMB_KIND_ALARM, "us-east-1",
						  "HighLatency", NULL));
	plumb_observed_set_release(&set);

	/* a set that already holds the identity is refused, not silently merged */
	load(s, "111", "eu-west-1", &set);
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_state_load_observed(s, "111", "eu-west-1", &set, &err),
			 PLUMB_EEXIST);
	ck_assert_uint_eq(set.items.len, 1);
	plumb_observed_set_release(&set);

	for (size_t i = 0; i < PLUMB_ARRAY_LEN(rows); i++)
		plumb_observed_free(rows[i]);
	plumb_observed_free(other);
	plumb_observed_free(lower);
	plumb_state_close(s);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(many_rows_in_one_transaction)
{
	enum { N = 8000 };
	const char *db = tpath("state.db");
	struct plumb_state *s = open_w(db);
	struct plumb_observed *o = obs(PLUMB_KIND_ENDPOINT, "us-east-1", "", NULL,
				       "{\"EndpointStatus\":\"InService\",\"ProductionVariants\":"
				       "[{\"VariantName\":\"AllTraffic\",\"CurrentInstanceCount\":2,"
				       "\"CurrentWeight\":1.0}]}",
				       "{\"plumb:owner\":\"team\",\"plumb:id\":\"Endpoint/x\"}");
	double t0 = now_s();
	ck_assert_int_eq(plumb_state_begin(s, NULL), 0);
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "endpoint-%05d", i);
		free(o->name);
		o->name = strdup(name);
		o->observed_ms = i;
		put(s, "111", o);
	}
	ck_assert_int_eq(plumb_state_commit(s, NULL), 0);
	double t1 = now_s();
	struct plumb_observed_set set;
	load(s, "111", "us-east-1", &set);
	double t2 = now_s();
	ck_assert_uint_eq(set.items.len, N);
	ck_assert_ptr_nonnull(plumb_observed_find(&set, PLUMB_KIND_ENDPOINT, "us-east-1",
						  "ENDPOINT-07999", NULL));
	plumb_observed_set_release(&set);
	/* generous bounds (ASan, a busy machine); typical is well under a second for both */
	ck_assert_msg(t1 - t0 < 10.0, "8000 puts took %.2fs", t1 - t0);
	ck_assert_msg(t2 - t1 < 10.0, "loading 8000 took %.2fs", t2 - t1);
	plumb_observed_free(o);
	plumb_state_close(s);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM observed"), N);
}
END_TEST

START_TEST(transactions_commit_and_roll_back)
{
	struct plumb_state *s = open_w(tpath("state.db"));
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_state_commit(s, &err), PLUMB_EINVAL);
	ck_assert_int_eq(plumb_state_begin(s, NULL), 0);
	ck_assert_int_eq(plumb_state_begin(s, &err), PLUMB_EINVAL);
	ck_assert_int_eq(plumb_state_meta_set(s, "a", "1", NULL), 0);
	/* a multi-statement write inside the caller's transaction is a savepoint */
	struct plumb_drift_rec d = { "Endpoint", "web", "x", "1", "2" };
	ck_assert_int_eq(plumb_state_drift_sync(s, "1", "r", &d, 1, NULL), 0);
	plumb_state_rollback(s);
	char *v = NULL;
	ck_assert_int_eq(plumb_state_meta_get(s, "a", &v, NULL), 0);
	ck_assert_ptr_null(v);
	int64_t first = -1;
	ck_assert_int_eq(plumb_state_drift_first_seen(s, "1", "r", "Endpoint", "web", "x", &first,
						      NULL),
			 0);
	ck_assert_int_eq(first, 0);
	plumb_state_rollback(s); /* harmless when none is open */

	ck_assert_int_eq(plumb_state_begin(s, NULL), 0);
	ck_assert_int_eq(plumb_state_meta_set(s, "a", "2", NULL), 0);
	ck_assert_int_eq(plumb_state_drift_sync(s, "1", "r", &d, 1, NULL), 0);
	ck_assert_int_eq(plumb_state_commit(s, NULL), 0);
	ck_assert_int_eq(plumb_state_meta_get(s, "a", &v, NULL), 0);
	ck_assert_str_eq(v, "2");
	free(v);
	ck_assert_int_eq(plumb_state_drift_first_seen(s, "1", "r", "Endpoint", "web", "x", &first,
						      NULL),
			 0);
	ck_assert_int_gt(first, 0);
	plumb_state_close(s);
}
END_TEST

/* ---------------------------------------------------------------- meta */

START_TEST(meta_get_set_delete)
{
	struct plumb_state *s = open_w(tpath("state.db"));
	static const struct {
		const char *set;  /* value to set, NULL deletes */
		const char *want; /* then get gives */
	} steps[] = {
		{ NULL, NULL }, { "1", "1" }, { "two", "two" }, { "", "" }, { NULL, NULL },
		{ "back", "back" },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(steps); i++) {
		ck_assert_int_eq(plumb_state_meta_set(s, "observed:1:r", steps[i].set, NULL), 0);
		char *v = (char *)1;
		ck_assert_int_eq(plumb_state_meta_get(s, "observed:1:r", &v, NULL), 0);
		str_eq_or_null(v, steps[i].want);
		free(v);
	}
	char *v = (char *)1;
	ck_assert_int_eq(plumb_state_meta_get(s, "absent", &v, NULL), 0);
	ck_assert_ptr_null(v);
	plumb_state_close(s);
}
END_TEST

/* ---------------------------------------------------------------- journal */

static int64_t journal_add(struct plumb_state *s, const char *name, const char *op,
			   const char *hash)
{
	struct plumb_journal_entry e = { 0 };
	e.run_id = "run-1";
	e.account = "111";
	e.region = "us-east-1";
	e.kind = PLUMB_KIND_ENDPOINT;
	e.name = (char *)name;
	e.manifest_id = "Endpoint/web";
	e.operation = (char *)op;
	e.request = json_pack("{ss}", "EndpointName", name);
	e.spec_hash = (char *)hash;
	e.status = PLUMB_JOURNAL_FAILED; /* begin overrides */
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_msg(plumb_state_journal_begin(s, &e, &err) == 0, "%s", err.msg);
	ck_assert_int_gt(e.id, 0);
	ck_assert_int_eq(e.status, PLUMB_JOURNAL_OPEN);
	ck_assert_int_eq(e.started_ms, 5000);
	json_decref(e.request);
	return e.id;
}

START_TEST(journal_lifecycle)
{
	struct fake_clock fc = { 5000 };
	struct plumb_clock clock = fake_clock_of(&fc);
	const char *db = tpath("state.db");
	struct plumb_state *s = open_mode(db, PLUMB_STATE_WRITE, &clock);
	int64_t a = journal_add(s, "web", "CreateEndpoint", "h1");
	int64_t b = journal_add(s, "web", "UpdateEndpoint", "h2");
	int64_t c = journal_add(s, "web", "UpdateEndpoint", "h2");
	int64_t d = journal_add(s, "web", "DeleteEndpoint", NULL);
	ck_assert(a < b && b < c && c < d);

	/* a policy entry keeps its parent */
	struct plumb_journal_entry pe = { 0 };
	pe.kind = PLUMB_KIND_SCALING_POLICY;
	pe.name = "cpu";
	pe.parent = "endpoint/web/variant/AllTraffic";
	pe.operation = "PutScalingPolicy";
	ck_assert_int_eq(plumb_state_journal_begin(s, &pe, NULL), 0);

	fc.now = 6000;
	ck_assert_int_eq(plumb_state_journal_finish(s, a, PLUMB_JOURNAL_DONE, NULL, NULL), 0);
	ck_assert_int_eq(plumb_state_journal_finish(s, b, PLUMB_JOURNAL_FAILED,
						    "ValidationException: no", NULL),
			 0);
	ck_assert_int_eq(plumb_state_journal_finish(s, c, PLUMB_JOURNAL_FAILED, NULL, NULL), 0);
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_state_journal_finish(s, 9999, PLUMB_JOURNAL_DONE, NULL, &err),
			 PLUMB_ENOENT);
	ck_assert_int_eq(plumb_state_journal_finish(s, d, PLUMB_JOURNAL_OPEN, NULL, &err),
			 PLUMB_EINVAL);

	static const struct {
		const char *id, *hash;
		int want;
	} counts[] = {
		{ "Endpoint/web", "h2", 2 }, { "Endpoint/web", "h1", 0 }, { "Endpoint/x", "h2", 0 },
		{ "Endpoint/web", NULL, 0 }, { NULL, "h2", 0 },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(counts); i++) {
		int n = -1;
		ck_assert_int_eq(plumb_state_journal_failed_count(s, counts[i].id, counts[i].hash,
								  &n, NULL),
				 0);
		ck_assert_msg(n == counts[i].want, "count %zu: %d", i, n);
	}
	plumb_state_close(s);
	ck_assert_int_eq(sql_int(db, "SELECT finished_ms FROM journal WHERE status = 'done'"),
			 6000);

	/* open entries survive a restart, oldest first, every field back */
	s = open_mode(db, PLUMB_STATE_READ, &clock);
	struct plumb_vec open = PLUMB_VEC_INIT;
	ck_assert_int_eq(plumb_state_journal_open(s, &open, NULL), 0);
	ck_assert_uint_eq(open.len, 2);
	struct plumb_journal_entry *e = open.items[0];
	ck_assert_int_eq(e->id, d);
	ck_assert_str_eq(e->run_id, "run-1");
	ck_assert_str_eq(e->account, "111");
	ck_assert_str_eq(e->region, "us-east-1");
	ck_assert_int_eq(e->kind, PLUMB_KIND_ENDPOINT);
	ck_assert_str_eq(e->name, "web");
	ck_assert_ptr_null(e->parent);
	ck_assert_str_eq(e->manifest_id, "Endpoint/web");
	ck_assert_str_eq(e->operation, "DeleteEndpoint");
	ck_assert_str_eq(json_string_value(json_object_get(e->request, "EndpointName")), "web");
	ck_assert_ptr_null(e->spec_hash);
	ck_assert_int_eq(e->status, PLUMB_JOURNAL_OPEN);
	ck_assert_ptr_null(e->error);
	ck_assert_int_eq(e->started_ms, 5000);
	ck_assert_int_eq(e->finished_ms, 0);
	e = open.items[1];
	ck_assert_int_eq(e->kind, PLUMB_KIND_SCALING_POLICY);
	ck_assert_str_eq(e->parent, "endpoint/web/variant/AllTraffic");
	ck_assert_ptr_null(e->request);
	ck_assert_ptr_null(e->run_id);
	for (size_t i = 0; i < open.len; i++)
		plumb_journal_entry_free(open.items[i]);
	plumb_vec_release(&open);
	plumb_state_close(s);

	ck_assert_str_eq(plumb_journal_status_name(PLUMB_JOURNAL_OPEN), "open");
	ck_assert_str_eq(plumb_journal_status_name(PLUMB_JOURNAL_DONE), "done");
	ck_assert_str_eq(plumb_journal_status_name(PLUMB_JOURNAL_FAILED), "failed");
}
END_TEST

/* ---------------------------------------------------------------- drift */

static int64_t first_seen(struct plumb_state *s, const char *region, const char *name,
			  const char *path)
{
	int64_t v = -1;
	ck_assert_int_eq(plumb_state_drift_first_seen(s, "111", region, "Endpoint", name, path, &v,
						      NULL),
			 0);
	return v;
}

static void sync_recs(struct plumb_state *s, const char *region,
		      const struct plumb_drift_rec *recs, size_t n)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_msg(plumb_state_drift_sync(s, "111", region, recs, n, &err) == 0, "%s", err.msg);
}

START_TEST(drift_sync_opens_updates_and_resolves)
{
	struct fake_clock fc = { 1000 };
	struct plumb_clock clock = fake_clock_of(&fc);
	const char *db = tpath("state.db");
	struct plumb_state *s = open_mode(db, PLUMB_STATE_WRITE, &clock);
	const struct plumb_drift_rec p1[] = {
		{ "Endpoint", "a", "spec.x", "1", "2" },
		{ "Endpoint", "b", "spec.y", "\"s\"", NULL },
		{ "Endpoint", "orphan", "", NULL, "{}" },
	};
	sync_recs(s, "r1", p1, PLUMB_ARRAY_LEN(p1));
	ck_assert_int_eq(first_seen(s, "r1", "a", "spec.x"), 1000);
	ck_assert_int_eq(first_seen(s, "r1", "b", "spec.y"), 1000);
	ck_assert_int_eq(first_seen(s, "r1", "orphan", ""), 1000);
	ck_assert_int_eq(first_seen(s, "r1", "a", "spec.z"), 0);
	ck_assert_int_eq(first_seen(s, "r2", "a", "spec.x"), 0);

	/* another region is its own world */
	const struct plumb_drift_rec other[] = { { "Endpoint", "a", "spec.x", "1", "3" } };
	fc.now = 1500;
	sync_recs(s, "r2", other, 1);

	fc.now = 2000;
	const struct plumb_drift_rec p2[] = {
		{ "Endpoint", "a", "spec.x", "1", "5" },
		{ "Endpoint", "c", "spec.x", "1", "2" },
		{ "Endpoint", "c", "spec.x", "1", "2" }, /* a duplicate is one row */
	};
	sync_recs(s, "r1", p2, PLUMB_ARRAY_LEN(p2));
	ck_assert_int_eq(first_seen(s, "r1", "a", "spec.x"), 1000);
	ck_assert_int_eq(first_seen(s, "r1", "b", "spec.y"), 0);
	ck_assert_int_eq(first_seen(s, "r1", "orphan", ""), 0);
	ck_assert_int_eq(first_seen(s, "r1", "c", "spec.x"), 2000);
	ck_assert_int_eq(first_seen(s, "r2", "a", "spec.x"), 1500);
	plumb_state_close(s);

	ck_assert_int_eq(sql_int(db, "SELECT resolved_ms FROM drift WHERE name = 'b'"), 2000);
	ck_assert_int_eq(sql_int(db, "SELECT last_seen_ms FROM drift WHERE name = 'a' AND"
				     " region = 'r1'"),
			 2000);
	ck_assert_int_eq(sql_int(db, "SELECT live = '5' FROM drift WHERE name = 'a' AND"
				     " region = 'r1'"),
			 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM drift WHERE name = 'c'"), 1);

	/* first_seen survives a restart */
	fc.now = 3000;
	s = open_mode(db, PLUMB_STATE_WRITE, &clock);
	sync_recs(s, "r1", p2, 2);
	ck_assert_int_eq(first_seen(s, "r1", "a", "spec.x"), 1000);
	ck_assert_int_eq(first_seen(s, "r1", "c", "spec.x"), 2000);

	/* a clock that does not move still resolves what is gone */
	sync_recs(s, "r1", p2, 1);
	ck_assert_int_eq(first_seen(s, "r1", "c", "spec.x"), 0);
	sync_recs(s, "r1", NULL, 0);
	ck_assert_int_eq(first_seen(s, "r1", "a", "spec.x"), 0);
	ck_assert_int_eq(first_seen(s, "r2", "a", "spec.x"), 1500);

	/* drift that comes back is a new episode */
	fc.now = 4000;
	sync_recs(s, "r1", p2, 1);
	ck_assert_int_eq(first_seen(s, "r1", "a", "spec.x"), 4000);
	plumb_state_close(s);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM drift WHERE name = 'a' AND"
				     " region = 'r1'"),
			 2);
}
END_TEST

/* ---------------------------------------------------------------- changes and retention */

START_TEST(changes_and_retention)
{
	struct fake_clock fc = { 1000000 };
	struct plumb_clock clock = fake_clock_of(&fc);
	const char *db = tpath("state.db");
	struct plumb_state *s = open_mode(db, PLUMB_STATE_WRITE, &clock);
	ck_assert_int_eq(plumb_state_change_add(s, "111", "r", "Endpoint", "web", "create",
						"{\"why\":\"new\"}", NULL),
			 0);
	ck_assert_int_eq(plumb_state_change_add(s, NULL, NULL, NULL, NULL, "note", NULL, NULL), 0);
	ck_assert_int_eq(plumb_state_change_add(s, "1", "r", "K", "n", NULL, NULL, NULL),
			 PLUMB_EINVAL);
	struct plumb_journal_entry e = { 0 };
	e.kind = PLUMB_KIND_MODEL;
	ck_assert_int_eq(plumb_state_journal_begin(s, &e, NULL), 0);
	int64_t done = e.id;
	ck_assert_int_eq(plumb_state_journal_begin(s, &e, NULL), 0); /* stays open */
	ck_assert_int_eq(plumb_state_journal_finish(s, done, PLUMB_JOURNAL_DONE, NULL, NULL), 0);
	struct plumb_drift_rec d[] = { { "Endpoint", "gone", "x", NULL, NULL },
				       { "Endpoint", "stays", "x", NULL, NULL } };
	sync_recs(s, "r", d, 2);
	sync_recs(s, "r", d + 1, 1);
	struct plumb_observed *o = obs(PLUMB_KIND_MODEL, "r", "m", NULL, NULL, NULL);
	put(s, "111", o);
	plumb_observed_free(o);
	ck_assert_int_eq(plumb_state_meta_set(s, "k", "v", NULL), 0);
	plumb_state_close(s);
	ck_assert_int_eq(sql_int(db, "SELECT ts_ms FROM changes WHERE action = 'create'"), 1000000);

	/* within retention nothing goes */
	fc.now += PLUMB_STATE_RETAIN_MS - 1;
	plumb_state_close(open_mode(db, PLUMB_STATE_WRITE, &clock));
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM changes"), 2);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM journal"), 2);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM drift"), 2);

	/* past it, finished history goes; open work, open drift, the cache and meta stay */
	fc.now += 2;
	plumb_state_close(open_mode(db, PLUMB_STATE_WRITE, &clock));
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM changes"), 0);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM journal"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM journal WHERE status = 'open'"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM drift"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM drift WHERE name = 'stays'"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM observed"), 1);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM meta"), 1);

	/* and the explicit call */
	s = open_mode(db, PLUMB_STATE_WRITE, &clock);
	ck_assert_int_eq(plumb_state_journal_finish(s, e.id, PLUMB_JOURNAL_FAILED, "x", NULL), 0);
	ck_assert_int_eq(plumb_state_prune(s, fc.now + 1, NULL), 0);
	plumb_state_close(s);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM journal"), 0);
}
END_TEST

/* ---------------------------------------------------------------- corruption and schema */

/* A real state file with enough rows to span many pages, closed cleanly. */
static void make_big_db(const char *db)
{
	struct plumb_state *s = open_w(db);
	struct plumb_observed *o = obs(PLUMB_KIND_ALARM, "r", "", NULL, NULL, NULL);
	o->live = json_object();
	char pad[600];
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	json_object_set_new(o->live, "pad", json_string(pad));
	ck_assert_int_eq(plumb_state_begin(s, NULL), 0);
	for (int i = 0; i < 400; i++) {
		char name[32];
		snprintf(name, sizeof(name), "alarm-%d", i);
		free(o->name);
		o->name = strdup(name);
		put(s, "1", o);
	}
	ck_assert_int_eq(plumb_state_commit(s, NULL), 0);
	plumb_observed_free(o);
	plumb_state_close(s);
}

enum damage { GARBAGE, HEADER_THEN_GARBAGE, TRUNCATED, ZEROED_PAGES };

static void damage(const char *db, enum damage how)
{
	unsigned char buf[16384];
	unsigned seed = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	switch (how) {
	case GARBAGE:
		write_file(db, buf, sizeof(buf));
		break;
	case HEADER_THEN_GARBAGE:
		memcpy(buf, "SQLite format 3", 16);
		write_file(db, buf, sizeof(buf));
		break;
	case TRUNCATED: {
		make_big_db(db);
		struct stat st;
		ck_assert_int_eq(stat(db, &st), 0);
		ck_assert_int_gt(st.st_size, 100000);
		ck_assert_int_eq(truncate(db, st.st_size / 3), 0);
		break;
	}
	case ZEROED_PAGES: {
		make_big_db(db);
		int fd = open(db, O_WRONLY);
		ck_assert_int_ge(fd, 0);
		memset(buf, 0, sizeof(buf));
		ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), 4096 * 3), (ssize_t)sizeof(buf));
		close(fd);
		break;
	}
	}
}

START_TEST(corrupt_file_is_moved_aside_and_rebuilt)
{
	static const enum damage cases[] = { GARBAGE, HEADER_THEN_GARBAGE, TRUNCATED,
					     ZEROED_PAGES };
	FILE *logf = tmpfile();
	ck_assert_ptr_nonnull(logf);
	plumb_log_setup(logf, PLUMB_LOG_WARN, PLUMB_LOG_LOGFMT, NULL);
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(cases); i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "c%zu/state.db", i);
		const char *db = tpath(rel);
		snprintf(rel, sizeof(rel), "c%zu", i);
		ck_assert_int_eq(mkdir(tpath(rel), 0700), 0);
		damage(db, cases[i]);
		size_t before_len;
		char *before = read_all(db, &before_len);

		/* READ refuses and touches nothing */
		struct plumb_err err;
		ck_assert_int_eq(open_fails(db, PLUMB_STATE_READ, &err), PLUMB_ESTATE);
		ck_assert_msg(strstr(err.msg, "corrupt") && strstr(err.msg, "without --cached"),
			      "case %zu: %s", i, err.msg);
		ck_assert(exists(db));

		struct fake_clock fc = { 1764000000000 };
		struct plumb_clock clock = fake_clock_of(&fc);
		struct plumb_state *s = open_mode(db, PLUMB_STATE_WRITE, &clock);
		ck_assert_msg(plumb_state_rebuilt(s), "case %zu not rebuilt", i);
		char want[160];
		snprintf(want, sizeof(want), "%s.corrupt-1764000000", db);
		ck_assert_str_eq(plumb_state_corrupt_path(s), want);
		size_t moved_len;
		char *moved = read_all(want, &moved_len);
		ck_assert_uint_eq(moved_len, before_len);
		ck_assert(memcmp(moved, before, before_len) == 0);
		free(moved);
		free(before);
		ck_assert_int_eq(file_mode(db), 0600);
		ck_assert_int_eq(plumb_state_schema_version(s), 2);
		ck_assert_int_eq(plumb_state_meta_set(s, "fresh", "yes", NULL), 0);
		struct plumb_observed_set set;
		load(s, "1", NULL, &set);
		ck_assert_uint_eq(set.items.len, 0);
		plumb_observed_set_release(&set);
		plumb_state_close(s);

		/* the fresh file is sound: the next open does not rebuild again */
		s = open_mode(db, PLUMB_STATE_WRITE, &clock);
		ck_assert(!plumb_state_rebuilt(s));
		plumb_state_close(s);

		/* a second rebuild in the same second does not overwrite the first */
		if (cases[i] == GARBAGE) {
			damage(db, GARBAGE);
			s = open_mode(db, PLUMB_STATE_WRITE, &clock);
			snprintf(want, sizeof(want), "%s.corrupt-1764000000.1", db);
			ck_assert_str_eq(plumb_state_corrupt_path(s), want);
			plumb_state_close(s);
		}
	}
	plumb_log_setup(NULL, PLUMB_LOG_INFO, PLUMB_LOG_LOGFMT, NULL);
	char line[1024] = "";
	rewind(logf);
	size_t n = fread(line, 1, sizeof(line) - 1, logf);
	line[n] = '\0';
	fclose(logf);
	ck_assert_msg(strstr(line, "level=warn") && strstr(line, "event=state_rebuilt") &&
			      strstr(line, "moved_to="),
		      "log: %s", line);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
	const char *db = tpath("state.db");
	sql_exec(db, "CREATE TABLE future(x); PRAGMA user_version = 7;");
	static const enum plumb_state_mode modes[] = { PLUMB_STATE_READ, PLUMB_STATE_WRITE };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(modes); i++) {
		struct plumb_err err;
		ck_assert_int_eq(open_fails(db, modes[i], &err), PLUMB_ESTATE);
		ck_assert_msg(strstr(err.msg, "written by a newer plumb (schema 7, this plumb "
					      "knows 2)") != NULL,
			      "%s", err.msg);
	}
	ck_assert_int_eq(sql_int(db, "PRAGMA user_version"), 7); /* left alone */
	/* and the lock went with the failed open */
	plumb_state_close(open_w(tpath("other.db")));
	struct plumb_err err;
	ck_assert_int_eq(open_fails(db, PLUMB_STATE_WRITE, &err), PLUMB_ESTATE);
}
END_TEST

START_TEST(failed_migration_reports_sqlite_and_rolls_back)
{
	const char *db = tpath("state.db");
	sql_exec(db, "CREATE TABLE journal(x); CREATE TABLE keepme(y);");
	struct plumb_err err;
	ck_assert_int_eq(open_fails(db, PLUMB_STATE_WRITE, &err), PLUMB_ESTATE);
	ck_assert_int_eq(err.sqlite_code, SQLITE_ERROR);
	ck_assert_msg(strstr(err.msg, "table journal already exists") &&
			      strstr(err.msg, "(sqlite code 1)") && strstr(err.msg, db),
		      "%s", err.msg);
	ck_assert_int_eq(sql_int(db, "PRAGMA user_version"), 0);
	ck_assert_int_eq(sql_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'observed'"),
			 0);
}
END_TEST

Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, open_creates_private_files_whatever_the_umask);
	tcase_add_test(tc, default_path_is_dot_plumb);
	tcase_add_test(tc, reopen_keeps_data);
	tcase_add_test(tc, empty_file_is_migrated);
	tcase_add_test(tc, read_of_missing_file_is_enoent);
	tcase_add_test(tc, read_only_handle_refuses_writes);
	tcase_add_test(tc, second_writer_is_busy_and_names_the_holder);
	tcase_add_test(tc, lock_dies_with_its_holder);
	tcase_add_test(tc, observed_round_trip);
	tcase_add_test(tc, many_rows_in_one_transaction);
	tcase_add_test(tc, transactions_commit_and_roll_back);
	tcase_add_test(tc, meta_get_set_delete);
	tcase_add_test(tc, journal_lifecycle);
	tcase_add_test(tc, drift_sync_opens_updates_and_resolves);
	tcase_add_test(tc, changes_and_retention);
	tcase_add_test(tc, corrupt_file_is_moved_aside_and_rebuilt);
	tcase_add_test(tc, newer_schema_is_refused);
	tcase_add_test(tc, passes_are_recorded_then_finished);
	tcase_add_test(tc, failed_migration_reports_sqlite_and_rolls_back);
	suite_add_tcase(s, tc);
	return s;
}

/* pkg/report: the drift report built from hand-made diffs (each change type to its status, info
 * deltas left out, unmanaged endpoints, last-modified times), the visit over its history items,
 * first-seen fill-in, and every renderer — with the escaping cases (markdown pipes and
 * backticks, XML entities and control characters) and the empty report. */
#include "diff/diff.h"
#include "report/report.h"
#include "test.h"

#include <string.h>

#define REGION "us-east-1"
#define OWNER "team"
#define NOW 1795000000000LL /* 2026-11-18T11:06:40Z */

struct fx {
	struct plumb_diff d;            /* hand-built */
	struct plumb_observed_set have; /* what the changes borrow */
	struct plumb_buf out;           /* rendered */
	json_t *rep;                    /* the report */
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	plumb_diff_init(&f->d);
	plumb_observed_set_init(&f->have);
	plumb_buf_init(&f->out, 0);
}

static void fx_release(struct fx *f)
{
	json_decref(f->rep);
	plumb_diff_release(&f->d);
	plumb_observed_set_release(&f->have);
	plumb_buf_release(&f->out);
}

static json_t *J(const char *text)
{
	if (!text)
		return NULL;
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, e.text);
	return v;
}

static struct plumb_observed *obs(struct fx *f, enum plumb_kind k, const char *name,
				  const char *tags, int64_t created, int64_t modified)
{
	struct plumb_observed *o = plumb_observed_new(k, REGION, name, NULL);
	ck_assert_ptr_nonnull(o);
	o->tags = J(tags);
	o->created_ms = created;
	o->modified_ms = modified;
	ck_assert_int_eq(plumb_observed_set_add(&f->have, o), 0);
	return o;
}

static struct plumb_change *chg(struct fx *f, enum plumb_change_type t, enum plumb_kind k,
				const char *name, const char *physical,
				const struct plumb_observed *have)
{
	struct plumb_change *c = plumb_arena_zalloc(&f->d.arena, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->type = t;
	c->kind = k;
	c->name = name;
	c->physical = physical;
	c->region = REGION;
	c->have = have;
	plumb_vec_push(&f->d.changes, c);
	f->d.counts[t]++;
	return c;
}

static void delta(struct fx *f, struct plumb_change *c, const char *path, const char *aws_path,
		  const char *old, const char *new, bool info)
{
	struct plumb_delta *dl = plumb_arena_zalloc(&f->d.arena, sizeof(*dl));
	ck_assert_ptr_nonnull(dl);
	dl->path = plumb_arena_strdup(&f->d.arena, path);
	dl->aws_path = plumb_arena_strdup(&f->d.arena, aws_path);
	dl->old = J(old);
	dl->new = J(new);
	dl->info = info;
	plumb_vec_push(&c->deltas, dl);
}

static void build(struct fx *f, bool unmanaged)
{
	struct plumb_report_opts o = { .owner = OWNER, .account = "123456789012", .host = "ci",
				       .now_ms = NOW, .include_unmanaged = unmanaged };
	struct plumb_err err;
	plumb_err_clear(&err);
	f->rep = plumb_report_drift(&f->d, &f->have, &o, &err);
	ck_assert_msg(f->rep != NULL, "report: %s", err.msg);
}

static const char *render(struct fx *f, enum plumb_report_format fmt)
{
	plumb_buf_reset(&f->out);
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_report_render(f->rep, fmt, &f->out, &err), 0);
	return f->out.buf;
}

static const char *S(json_t *rep, const char *path)
{
	const char *s = json_string_value(test_json_path(rep, path));
	return s ? s : "(null)";
}

static json_int_t I(json_t *rep, const char *path)
{
	return json_integer_value(test_json_path(rep, path));
}

/* A diff with one of each kind of outcome; returns nothing, fills f. */
static void mixed(struct fx *f)
{
	struct plumb_observed *ep = obs(f, PLUMB_KIND_ENDPOINT, "prod-clip",
					"{\"plumb:owner\":\"team\"}", 1000, 5000);
	struct plumb_observed *al = obs(f, PLUMB_KIND_ALARM, "clip-5xx",
					"{\"plumb:owner\":\"team\"}", 0, 7000);
	struct plumb_observed *old = obs(f, PLUMB_KIND_MODEL, "clip-aaaa1111",
					 "{\"plumb:owner\":\"team\"}", 3000, 0);
	struct plumb_observed *orphan = obs(f, PLUMB_KIND_TOPIC, "gone", "{\"plumb:owner\":\"team\"}",
					    0, 0);
	struct plumb_observed *taken = obs(f, PLUMB_KIND_ENDPOINT, "prod-taken", NULL, 10, 0);
	obs(f, PLUMB_KIND_ENDPOINT, "zz-stray", NULL, 100, 200);                    /* unmanaged */
	obs(f, PLUMB_KIND_ENDPOINT, "aa-other", "{\"plumb:owner\":\"others\"}", 0, 0); /* not ours */
	obs(f, PLUMB_KIND_MODEL, "some-model", NULL, 0, 0);                 /* not an endpoint */
	chg(f, PLUMB_CHANGE_NONE, PLUMB_KIND_ENDPOINT, "clip", "prod-clip", ep);
	struct plumb_change *c = chg(f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ALARM, "clip-5xx",
				     "clip-5xx", al);
	delta(f, c, "threshold", "Threshold", "17.0", "10", false);
	delta(f, c, "stateValue", "StateValue", "\"OK\"", NULL, true);
	delta(f, c, "tags.team", "Tags.team", NULL, "\"search\"", false);
	chg(f, PLUMB_CHANGE_CREATE, PLUMB_KIND_MODEL, "clip", "clip-bbbb2222", NULL);
	c = chg(f, PLUMB_CHANGE_DELETE, PLUMB_KIND_MODEL, "clip", "clip-aaaa1111", old);
	c->superseded = true;
	c->superseded_by = "clip-bbbb2222";
	chg(f, PLUMB_CHANGE_ORPHAN, PLUMB_KIND_TOPIC, "gone", "gone", orphan);
	c = chg(f, PLUMB_CHANGE_CONFLICT, PLUMB_KIND_ENDPOINT, "taken", "prod-taken", taken);
	c->reason = "name taken by a resource plumb does not own (use --adopt)";
}

START_TEST(builds_each_status)
{
	struct fx f;
	fx_init(&f);
	mixed(&f);
	build(&f, true);
	json_t *r = f.rep;
	ck_assert_int_eq(I(r, "format_version"), 1);
	ck_assert(json_is_false(json_object_get(r, "in_sync")));
	ck_assert(!plumb_report_in_sync(r));
	ck_assert_str_eq(S(r, "generated"), "2026-11-18T11:06:40Z");
	ck_assert_str_eq(S(r, "owner"), OWNER);
	ck_assert_str_eq(S(r, "host"), "ci");
	ck_assert_int_eq(json_array_size(json_object_get(r, "resources")), 7);
	const char *want[] = { "in_sync", "drifted", "missing", "orphan", "orphan", "conflict",
			       "unmanaged" };
	for (size_t i = 0; i < 7; i++) {
		char p[64];
		snprintf(p, sizeof(p), "resources[%zu].status", i);
		ck_assert_str_eq(S(r, p), want[i]);
	}
	/* info deltas are not drift; tags are */
	ck_assert_int_eq(json_array_size(test_json_path(r, "resources[1].drift")), 2);
	ck_assert_str_eq(S(r, "resources[1].drift[0].path"), "threshold");
	ck_assert_str_eq(S(r, "resources[1].drift[0].aws_path"), "Threshold");
	ck_assert_int_eq((int)json_real_value(test_json_path(r, "resources[1].drift[0].live")), 17);
	ck_assert_int_eq(I(r, "resources[1].drift[0].wanted"), 10);
	ck_assert(json_is_null(test_json_path(r, "resources[1].drift[1].live")));
	ck_assert(json_is_null(test_json_path(r, "resources[1].drift[0].first_seen")));
	/* last modified: modified, else created, else null */
	ck_assert_str_eq(S(r, "resources[0].last_modified"), "1970-01-01T00:00:05Z");
	ck_assert_str_eq(S(r, "resources[1].last_modified"), "1970-01-01T00:00:07Z");
	ck_assert_str_eq(S(r, "resources[3].last_modified"), "1970-01-01T00:00:03Z");
	ck_assert(json_is_null(test_json_path(r, "resources[2].last_modified")));
	ck_assert(json_is_null(test_json_path(r, "resources[4].last_modified")));
	ck_assert_str_eq(S(r, "resources[3].superseded_by"), "clip-bbbb2222");
	ck_assert_str_eq(S(r, "resources[5].reason"),
			 "name taken by a resource plumb does not own (use --adopt)");
	ck_assert_str_eq(S(r, "resources[6].address"), "Endpoint/zz-stray");
	ck_assert_str_eq(S(r, "resources[6].last_modified"), "1970-01-01T00:00:00Z");
	ck_assert_int_eq(I(r, "summary.resources"), 7);
	ck_assert_int_eq(I(r, "summary.in_sync"), 1);
	ck_assert_int_eq(I(r, "summary.drifted"), 1);
	ck_assert_int_eq(I(r, "summary.missing"), 1);
	ck_assert_int_eq(I(r, "summary.orphan"), 2);
	ck_assert_int_eq(I(r, "summary.conflict"), 1);
	ck_assert_int_eq(I(r, "summary.unmanaged"), 1);
	ck_assert_int_eq(I(r, "summary.with_drift"), 6);
	ck_assert_int_eq(I(r, "summary.fields"), 2);
	fx_release(&f);
}
END_TEST

START_TEST(unmanaged_only_when_asked)
{
	struct fx f;
	fx_init(&f);
	mixed(&f);
	build(&f, false);
	ck_assert_int_eq(json_array_size(json_object_get(f.rep, "resources")), 6);
	ck_assert_int_eq(I(f.rep, "summary.unmanaged"), 0);
	fx_release(&f);
}
END_TEST

START_TEST(in_sync_report)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *ep = obs(&f, PLUMB_KIND_ENDPOINT, "prod-clip",
					"{\"plumb:owner\":\"team\"}", 1000, 5000);
	chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_ENDPOINT, "clip", "prod-clip", ep);
	build(&f, true);
	ck_assert(plumb_report_in_sync(f.rep));
	ck_assert_str_eq(S(f.rep, "resources[0].status"), "in_sync");
	ck_assert(strstr(render(&f, PLUMB_REPORT_TEXT), "No drift: 1 resource match"));
	ck_assert(strstr(render(&f, PLUMB_REPORT_MARKDOWN), "## plumb drift: no drift"));
	const char *x = render(&f, PLUMB_REPORT_JUNIT);
	ck_assert(strstr(x, "tests=\"1\" failures=\"0\""));
	ck_assert(strstr(x, "<testcase name=\"Endpoint/clip\" classname=\"plumb.drift.Endpoint\" "
			    "time=\"0\"/>"));
	ck_assert(!strstr(x, "<failure"));
	fx_release(&f);
}
END_TEST

START_TEST(empty_report)
{
	struct fx f;
	fx_init(&f);
	build(&f, false);
	ck_assert(plumb_report_in_sync(f.rep));
	ck_assert_int_eq(I(f.rep, "summary.resources"), 0);
	ck_assert(strstr(render(&f, PLUMB_REPORT_TEXT), "No drift: 0 resources"));
	ck_assert(strstr(render(&f, PLUMB_REPORT_MARKDOWN), "All 0 resources match"));
	const char *x = render(&f, PLUMB_REPORT_JUNIT);
	ck_assert(strstr(x, "<testsuites>\n  <testsuite name=\"plumb drift 123456789012\""));
	ck_assert(strstr(x, "tests=\"0\" failures=\"0\""));
	ck_assert(strstr(x, "<system-out></system-out>"));
	ck_assert(strstr(x, "timestamp=\"2026-11-18T11:06:40\""));
	json_error_t e;
	json_t *back = json_loads(render(&f, PLUMB_REPORT_JSON), 0, &e);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_equal(back, f.rep));
	json_decref(back);
	fx_release(&f);
}
END_TEST

struct seen {
	char items[16][96]; /* "kind name path status" */
	int n;              /* count */
};

static int record(const struct plumb_report_item *it, void *data)
{
	struct seen *s = data;
	ck_assert_int_lt(s->n, 16);
	snprintf(s->items[s->n++], sizeof(s->items[0]), "%s %s %s %s %s", it->region, it->kind,
		 it->name, it->path[0] ? it->path : "-", it->status);
	return 0;
}

START_TEST(visit_once_per_identity)
{
	struct fx f;
	fx_init(&f);
	mixed(&f);
	build(&f, true);
	struct seen s = { .n = 0 };
	ck_assert_int_eq(plumb_report_visit(f.rep, record, &s), 0);
	/* the superseded Model/clip shares its identity with the missing one: once */
	const char *want[] = {
		REGION " Alarm clip-5xx threshold drifted",
		REGION " Alarm clip-5xx tags.team drifted",
		REGION " Model clip - missing",
		REGION " Topic gone - orphan",
		REGION " Endpoint taken - conflict",
		REGION " Endpoint zz-stray - unmanaged",
	};
	ck_assert_int_eq(s.n, 6);
	for (int i = 0; i < 6; i++)
		ck_assert_str_eq(s.items[i], want[i]);
	fx_release(&f);
}
END_TEST

static int stop_at_second(const struct plumb_report_item *it, void *data)
{
	int *n = data;
	return ++*n == 2 ? PLUMB_EIO : 0;
}

START_TEST(visit_stops_on_error)
{
	struct fx f;
	fx_init(&f);
	mixed(&f);
	build(&f, false);
	int n = 0;
	ck_assert_int_eq(plumb_report_visit(f.rep, stop_at_second, &n), PLUMB_EIO);
	ck_assert_int_eq(n, 2);
	fx_release(&f);
}
END_TEST

static int lookup(void *data, const char *region, const char *kind, const char *name,
		  const char *path, int64_t *ms, struct plumb_err *err)
{
	if (strcmp(path, "threshold") == 0)
		*ms = 2000000;
	else if (strcmp(path, "tags.team") == 0)
		*ms = 1000000;
	else if (strcmp(kind, "Topic") == 0)
		*ms = 500000;
	return 0;
}

START_TEST(first_seen_filled)
{
	struct fx f;
	fx_init(&f);
	mixed(&f);
	build(&f, false);
	struct plumb_err err;
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_report_set_first_seen(f.rep, lookup, NULL, &err), 0);
	ck_assert_str_eq(S(f.rep, "resources[1].drift[0].first_seen"), "1970-01-01T00:33:20Z");
	ck_assert_str_eq(S(f.rep, "resources[1].drift[1].first_seen"), "1970-01-01T00:16:40Z");
	ck_assert_str_eq(S(f.rep, "resources[1].first_seen"), "1970-01-01T00:16:40Z"); /* min */
	ck_assert_str_eq(S(f.rep, "resources[4].first_seen"), "1970-01-01T00:08:20Z");
	ck_assert(json_is_null(test_json_path(f.rep, "resources[2].first_seen")));
	ck_assert(json_is_null(test_json_path(f.rep, "resources[0].first_seen")));
	ck_assert_str_eq(S(f.rep, "oldest_drift"), "1970-01-01T00:08:20Z");
	/* shown in every rendering */
	ck_assert(strstr(render(&f, PLUMB_REPORT_TEXT), "(since 1970-01-01T00:33:20Z)"));
	ck_assert(strstr(render(&f, PLUMB_REPORT_MARKDOWN), "| 1970-01-01T00:33:20Z |"));
	ck_assert(strstr(render(&f, PLUMB_REPORT_JUNIT), "(first seen 1970-01-01T00:33:20Z)"));
	fx_release(&f);
}
END_TEST

START_TEST(text_lists_drift)
{
	struct fx f;
	fx_init(&f);
	mixed(&f);
	build(&f, true);
	const char *t = render(&f, PLUMB_REPORT_TEXT);
	ck_assert(strstr(t, "~ Alarm/clip-5xx  drifted\n"));
	ck_assert(strstr(t, "    threshold: wanted 10, live 17.0\n"));
	ck_assert(strstr(t, "    tags.team: wanted \"search\", live (absent)\n"));
	ck_assert(!strstr(t, "stateValue"));
	ck_assert(strstr(t, "+ Model/clip  missing: wanted by the manifests, not in AWS"));
	ck_assert(strstr(t, "(superseded by clip-bbbb2222)"));
	ck_assert(strstr(t, "- Topic/gone  orphan: owned, but no manifest names it"));
	ck_assert(strstr(t, "! Endpoint/taken  conflict: name taken"));
	ck_assert(strstr(t, "? Endpoint/zz-stray  unmanaged"));
	ck_assert(!strstr(t, "Endpoint/clip "));
	ck_assert(strstr(t, "Drift: 1 drifted (2 fields), 1 missing, 2 orphans, 1 conflict, "
			    "1 unmanaged; 1 in sync.\n"));
	fx_release(&f);
}
END_TEST

START_TEST(markdown_escapes_pipes_and_backticks)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *al = obs(&f, PLUMB_KIND_ALARM, "a", "{\"plumb:owner\":\"team\"}", 0,
					0);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ALARM, "a", "a", al);
	delta(&f, c, "alarmDescription", "AlarmDescription", "\"x|y\"", "\"run `a``b` | c\"",
	      false);
	delta(&f, c, "tags.k", "Tags.k", "\"`edge\"", "\"line1\\nline2\"", false);
	c = chg(&f, PLUMB_CHANGE_CONFLICT, PLUMB_KIND_TOPIC, "t", "t", NULL);
	c->reason = "held by *someone* | else <b>";
	build(&f, false);
	const char *m = render(&f, PLUMB_REPORT_MARKDOWN);
	/* fence one longer than the longest backtick run; pipes escaped inside code spans */
	ck_assert_msg(strstr(m, "| ```\"run `a``b` \\| c\"``` |"), "%s", m);
	ck_assert(strstr(m, "| `\"x\\|y\"` |"));
	/* JSON strings start with a quote, so no padding; newlines (escaped in JSON) stay one line */
	ck_assert(strstr(m, "| ``\"`edge\"`` |"));
	ck_assert(strstr(m, "`\"line1\\nline2\"`"));
	/* plain text escaped */
	ck_assert(strstr(m, "*held by \\*someone\\* \\| else \\<b\\>*"));
	/* every table row has the same number of unescaped pipes */
	const char *p = strstr(m, "| Resource");
	ck_assert_ptr_nonnull(p);
	while (p && *p == '|') {
		int pipes = 0;
		const char *e = strchr(p, '\n');
		for (const char *q = p; q < e; q++)
			if (*q == '|' && (q == p || q[-1] != '\\'))
				pipes++;
		ck_assert_int_eq(pipes, 9);
		p = e + 1;
	}
	fx_release(&f);
}
END_TEST

START_TEST(junit_escapes_xml)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *al = obs(&f, PLUMB_KIND_ALARM, "a", "{\"plumb:owner\":\"team\"}", 0,
					0);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ALARM, "a", "a", al);
	delta(&f, c, "alarmDescription", "AlarmDescription", "\"<b>&'\\u0001\"", "\"ok\"", false);
	c = chg(&f, PLUMB_CHANGE_CONFLICT, PLUMB_KIND_TOPIC, "t", "t", NULL);
	c->reason = "a \"quoted\" <reason> & more";
	chg(&f, PLUMB_CHANGE_NONE, PLUMB_KIND_TOPIC, "fine", "fine", NULL);
	build(&f, false);
	const char *x = render(&f, PLUMB_REPORT_JUNIT);
	ck_assert(strstr(x, "tests=\"3\" failures=\"2\" errors=\"0\""));
	ck_assert(strstr(x, "<failure message=\"1 field drifted\" type=\"drifted\">"));
	/* jansson writes the control character as \u0001: no raw control char reaches XML */
	ck_assert_msg(strstr(x, "live &quot;&lt;b&gt;&amp;&apos;\\u0001&quot;"), "%s", x);
	ck_assert(strstr(x, "message=\"conflict: a &quot;quoted&quot; &lt;reason&gt; &amp; more\""));
	ck_assert(strstr(x, "<testcase name=\"Topic/fine\" classname=\"plumb.drift.Topic\" "
			    "time=\"0\"/>"));
	for (const char *p = x; *p; p++)
		ck_assert((unsigned char)*p >= 0x20 || *p == '\n');
	fx_release(&f);
}
END_TEST

START_TEST(junit_control_chars_replaced)
{
	/* a raw control character in a name (not possible from AWS, but not trusted) */
	struct fx f;
	fx_init(&f);
	chg(&f, PLUMB_CHANGE_CREATE, PLUMB_KIND_TOPIC, "bad\x01name", "bad\x01name", NULL);
	build(&f, false);
	const char *x = render(&f, PLUMB_REPORT_JUNIT);
	ck_assert(strstr(x, "name=\"Topic/bad\xEF\xBF\xBDname\""));
	fx_release(&f);
}
END_TEST

START_TEST(junit_duplicate_names_disambiguated)
{
	struct fx f;
	fx_init(&f);
	mixed(&f);
	build(&f, false);
	const char *x = render(&f, PLUMB_REPORT_JUNIT);
	ck_assert(strstr(x, "<testcase name=\"Model/clip\" "));
	ck_assert(strstr(x, "<testcase name=\"Model/clip (clip-aaaa1111)\" "));
	fx_release(&f);
}
END_TEST

START_TEST(long_values_cut_in_text_not_json)
{
	struct fx f;
	fx_init(&f);
	struct plumb_observed *al = obs(&f, PLUMB_KIND_ALARM, "a", "{\"plumb:owner\":\"team\"}", 0,
					0);
	struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ALARM, "a", "a", al);
	char big[600];
	memset(big, 'x', sizeof(big));
	big[0] = '"';
	big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = '\0';
	delta(&f, c, "alarmDescription", "AlarmDescription", big, "\"short\"", false);
	build(&f, false);
	const char *t = render(&f, PLUMB_REPORT_TEXT);
	ck_assert(strstr(t, "xxx..."));
	ck_assert(!strstr(t, big));
	ck_assert(strstr(render(&f, PLUMB_REPORT_JSON), big + 1));
	fx_release(&f);
}
END_TEST

START_TEST(markdown_rows_capped)
{
	struct fx f;
	fx_init(&f);
	static char names[150][16];
	for (int i = 0; i < 150; i++) {
		snprintf(names[i], sizeof(names[i]), "a%03d", i);
		struct plumb_observed *al = obs(&f, PLUMB_KIND_ALARM, names[i],
						"{\"plumb:owner\":\"team\"}", 0, 0);
		struct plumb_change *c = chg(&f, PLUMB_CHANGE_UPDATE, PLUMB_KIND_ALARM, names[i],
					     names[i], al);
		delta(&f, c, "threshold", "Threshold", "1", "2", false);
	}
	build(&f, false);
	const char *m = render(&f, PLUMB_REPORT_MARKDOWN);
	ck_assert(strstr(m, "`Alarm/a099`"));
	ck_assert(!strstr(m, "`Alarm/a100`"));
	ck_assert(strstr(m, "\n50 more rows not shown: run `plumb drift` for the whole report.\n"));
	ck_assert_int_lt(strlen(m), 65536);
	/* the other formats keep everything */
	ck_assert(strstr(render(&f, PLUMB_REPORT_TEXT), "Alarm/a149"));
	ck_assert(strstr(render(&f, PLUMB_REPORT_JUNIT), "Alarm/a149"));
	fx_release(&f);
}
END_TEST

START_TEST(format_names)
{
	for (int i = PLUMB_REPORT_TEXT; i <= PLUMB_REPORT_JUNIT; i++)
		ck_assert_int_eq(plumb_report_format_from_name(plumb_report_format_name(i)), i);
	ck_assert_int_eq(plumb_report_format_from_name("xml"), -1);
	ck_assert_int_eq(plumb_report_format_from_name(NULL), -1);
	struct plumb_buf b = PLUMB_BUF_INIT;
	struct plumb_err err;
	json_t *notrep = json_object();
	ck_assert_int_eq(plumb_report_render(notrep, PLUMB_REPORT_TEXT, &b, &err), PLUMB_EINVAL);
	json_decref(notrep);
	plumb_buf_release(&b);
}
END_TEST

Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	tcase_add_test(tc, builds_each_status);
	tcase_add_test(tc, unmanaged_only_when_asked);
	tcase_add_test(tc, in_sync_report);
	tcase_add_test(tc, empty_report);
	tcase_add_test(tc, visit_once_per_identity);
	tcase_add_test(tc, visit_stops_on_error);
	tcase_add_test(tc, first_seen_filled);
	tcase_add_test(tc, text_lists_drift);
	tcase_add_test(tc, markdown_escapes_pipes_and_backticks);
	tcase_add_test(tc, junit_escapes_xml);
	tcase_add_test(tc, junit_control_chars_replaced);
	tcase_add_test(tc, junit_duplicate_names_disambiguated);
	tcase_add_test(tc, long_values_cut_in_text_not_json);
	tcase_add_test(tc, markdown_rows_capped);
	tcase_add_test(tc, format_names);
	suite_add_tcase(s, tc);
	return s;
}

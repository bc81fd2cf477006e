/*
 * pkg/report/render.c — the drift report shown: text for terminals and logs, GitHub-flavoured
 * markdown for pull request and issue comments, indented JSON, and JUnit XML for CI.
 *
 * Owns plumb_report_render. Every renderer reads only the JSON document (never the diff), so a
 * saved report renders the same later. Values are compact JSON (a reference marker reads
 * "(ARN of Kind/name)", an absent value "(absent)"); text and markdown cut values past
 * VALUE_MAX bytes at a UTF-8 boundary, JSON and JUnit keep them whole.
 *
 * Escaping, the part that must not be wrong:
 *  - markdown: values go in code spans whose backtick fence is one longer than the longest run
 *    of backticks inside (padded with a space when the value starts or ends with one); a `|`
 *    anywhere in a table cell is written `\|` (GFM splits cells before it parses code spans);
 *    newlines become spaces. Plain text cells backslash-escape markdown punctuation.
 *  - XML: & < > " ' as entities, newlines and tabs in attributes as character references, and
 *    characters XML 1.0 forbids (C0 controls but tab, CR, LF) replaced by U+FFFD.
 *
 * JUnit follows the Ant/Jenkins schema (tests/schema/junit.xsd): <testsuites> without
 * attributes, one <testsuite> per region (package, id, name, timestamp without zone, hostname,
 * tests, failures, errors, skipped, time; then properties, the testcases, system-out,
 * system-err), one <testcase> per resource, a <failure> for every one that drifts.
 */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 160 /* bytes of a value shown in text and markdown */
#define MD_ROWS_MAX 100 /* markdown table rows: a GitHub comment holds at most 65,536 chars */

static const char *sv(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static const char *sv_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

static json_int_t iv(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* The value as compact JSON (malloc'd), markers and absence spelled for people. */
static char *value_text(const json_t *v)
{
	if (!v || json_is_null(v))
		return strdup("(absent)");
	if (json_is_object(v) && json_object_size(v) == 1) {
		const char *ref = json_string_value(json_object_get(v, "plumb:ref"));
		if (ref) {
			size_t n = strlen(ref) + 16;
			char *s = malloc(n);
			if (s)
				snprintf(s, n, "(ARN of %s)", ref);
			return s;
		}
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
}

/* Cuts s in place to at most max bytes at a UTF-8 boundary, ending it with "..." when cut. */
static void cut(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return;
	size_t at = max - 3;
	while (at > 0 && ((unsigned char)s[at] & 0xC0) == 0x80)
		at--;
	memcpy(s + at, "...", 4);
}

static bool is_whole(const char *status)
{
	return strcmp(status, "in_sync") != 0 && strcmp(status, "drifted") != 0;
}

/* ------------------------------------------------------------------ text */

static const char *sign(const char *status)
{
	if (strcmp(status, "drifted") == 0)
		return "~";
	if (strcmp(status, "missing") == 0)
		return "+";
	if (strcmp(status, "orphan") == 0)
		return "-";
	if (strcmp(status, "conflict") == 0)
		return "!";
	return "?";
}

static int text_times(struct plumb_buf *b, const json_t *o)
{
	const char *lm = json_string_value(json_object_get(o, "last_modified"));
	const char *fs = json_string_value(json_object_get(o, "first_seen"));
	int rc = 0;
	if (fs)
		rc |= plumb_buf_addf(b, "; first seen %s", fs);
	if (lm)
		rc |= plumb_buf_addf(b, "; last modified %s", lm);
	return rc;
}

static int text_summary(struct plumb_buf *b, const json_t *s)
{
	return plumb_buf_addf(
		b,
		"Drift: %lld drifted (%lld field%s), %lld missing, %lld orphan%s, %lld conflict%s, "
		"%lld unmanaged; %lld in sync.\n",
		(long long)iv(s, "drifted"), (long long)iv(s, "fields"),
		iv(s, "fields") == 1 ? "" : "s", (long long)iv(s, "missing"),
		(long long)iv(s, "orphan"), iv(s, "orphan") == 1 ? "" : "s",
		(long long)iv(s, "conflict"), iv(s, "conflict") == 1 ? "" : "s",
		(long long)iv(s, "unmanaged"), (long long)iv(s, "in_sync"));
}

static int render_text(const json_t *rep, struct plumb_buf *b)
{
	const json_t *s = json_object_get(rep, "summary");
	int rc = plumb_buf_addf(b, "plumb drift: account %s, owner %s, %s%s\n",
				sv_or(rep, "account", "?"), sv_or(rep, "owner", "?"),
				sv_or(rep, "generated", "?"),
				json_is_true(json_object_get(rep, "cached")) ? " (from the state cache)"
									    : "");
	if (plumb_report_in_sync(rep))
		return rc | plumb_buf_addf(b, "\nNo drift: %lld resource%s match the manifests.\n",
					   (long long)iv(s, "resources"),
					   iv(s, "resources") == 1 ? "" : "s");
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(rep, "resources"), i, r) {
		const char *st = sv(r, "status");
		if (strcmp(st, "in_sync") == 0)
			continue;
		rc |= plumb_buf_addch(b, '\n');
		rc |= plumb_buf_adds(b, sign(st));
		rc |= plumb_buf_addch(b, ' ');
		rc |= plumb_buf_adds(b, sv(r, "address"));
		rc |= plumb_buf_adds(b, "  ");
		rc |= plumb_buf_adds(b, st);
		if (is_whole(st) && json_string_value(json_object_get(r, "reason")))
			rc |= plumb_buf_addf(b, ": %s", sv(r, "reason"));
		rc |= plumb_buf_addf(b, "\n    %s, %s", sv_or(r, "region", "?"),
				     sv_or(r, "physical", "?"));
		if (json_string_value(json_object_get(r, "superseded_by")))
			rc |= plumb_buf_addf(b, " (superseded by %s)", sv(r, "superseded_by"));
		rc |= text_times(b, r);
		rc |= plumb_buf_addch(b, '\n');
		size_t j;
		const json_t *d;
		json_array_foreach(json_object_get(r, "drift"), j, d) {
			char *w = value_text(json_object_get(d, "wanted"));
			char *l = value_text(json_object_get(d, "live"));
			if (!w || !l) {
				free(w);
				free(l);
				return PLUMB_ENOMEM;
			}
			cut(w, VALUE_MAX);
			cut(l, VALUE_MAX);
			rc |= plumb_buf_addf(b, "    %s: wanted %s, live %s", sv(d, "path"), w, l);
			const char *fs = json_string_value(json_object_get(d, "first_seen"));
			if (fs)
				rc |= plumb_buf_addf(b, " (since %s)", fs);
			if (json_is_true(json_object_get(d, "forces_replace")))
				rc |= plumb_buf_adds(b, " [forces replacement]");
			rc |= plumb_buf_addch(b, '\n');
			free(w);
			free(l);
		}
	}
	rc |= plumb_buf_addch(b, '\n');
	return rc | text_summary(b, s);
}

/* ------------------------------------------------------------------ markdown */

/* Plain text in a table cell: markdown punctuation backslash-escaped, newlines as spaces. */
static int md_text(struct plumb_buf *b, const char *s)
{
	int rc = 0;
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r') {
			rc |= plumb_buf_addch(b, ' ');
			continue;
		}
		if (strchr("\\`*_[]<>|#&!~", *s))
			rc |= plumb_buf_addch(b, '\\');
		rc |= plumb_buf_addch(b, *s);
	}
	return rc;
}

/* A code span in a table cell (see the file comment). */
static int md_code(struct plumb_buf *b, const char *s)
{
	size_t longest = 0, run = 0;
	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	size_t n = strlen(s);
	bool pad = n && (s[0] == '`' || s[n - 1] == '`');
	int rc = 0;
	for (size_t i = 0; i <= longest; i++)
		rc |= plumb_buf_addch(b, '`');
	if (pad)
		rc |= plumb_buf_addch(b, ' ');
	for (const char *p = s; *p; p++) {
		if (*p == '|')
			rc |= plumb_buf_adds(b, "\\|");
		else if (*p == '\n' || *p == '\r')
			rc |= plumb_buf_addch(b, ' ');
		else
			rc |= plumb_buf_addch(b, *p);
	}
	if (pad)
		rc |= plumb_buf_addch(b, ' ');
	for (size_t i = 0; i <= longest; i++)
		rc |= plumb_buf_addch(b, '`');
	return rc;
}

static int md_value(struct plumb_buf *b, const json_t *v)
{
	if (!v || json_is_null(v))
		return plumb_buf_adds(b, "*absent*");
	char *t = value_text(v);
	if (!t)
		return PLUMB_ENOMEM;
	cut(t, VALUE_MAX);
	int rc = md_code(b, t);
	free(t);
	return rc;
}

static int md_time(struct plumb_buf *b, const json_t *o, const char *k)
{
	const char *t = json_string_value(json_object_get(o, k));
	return plumb_buf_adds(b, t ? t : "—");
}

static int md_row_start(struct plumb_buf *b, const json_t *r)
{
	int rc = plumb_buf_adds(b, "| ");
	rc |= md_code(b, sv(r, "address"));
	rc |= plumb_buf_adds(b, " | ");
	rc |= md_text(b, sv(r, "region"));
	rc |= plumb_buf_addf(b, " | %s | ", sv(r, "status"));
	return rc;
}

static int render_markdown(const json_t *rep, struct plumb_buf *b)
{
	const json_t *s = json_object_get(rep, "summary");
	int rc = 0;
	if (plumb_report_in_sync(rep)) {
		rc |= plumb_buf_adds(b, "## plumb drift: no drift\n\n");
		rc |= plumb_buf_addf(b, "All %lld resources match the manifests. Account ",
				     (long long)iv(s, "resources"));
		rc |= md_code(b, sv_or(rep, "account", "?"));
		rc |= plumb_buf_adds(b, ", owner ");
		rc |= md_code(b, sv_or(rep, "owner", "?"));
		return rc | plumb_buf_addf(b, ", %s.\n", sv_or(rep, "generated", "?"));
	}
	json_int_t with = iv(s, "with_drift");
	rc |= plumb_buf_addf(b, "## plumb drift: %lld resource%s out of sync\n\n", (long long)with,
			     with == 1 ? "" : "s");
	rc |= plumb_buf_adds(b, "Account ");
	rc |= md_code(b, sv_or(rep, "account", "?"));
	rc |= plumb_buf_adds(b, ", owner ");
	rc |= md_code(b, sv_or(rep, "owner", "?"));
	rc |= plumb_buf_addf(b, ", %s%s. ", sv_or(rep, "generated", "?"),
			     json_is_true(json_object_get(rep, "cached")) ? " (from the state cache)"
									 : "");
	rc |= plumb_buf_addf(b,
			     "**%lld drifted** (%lld field%s), **%lld missing**, **%lld orphan**, "
			     "**%lld conflict**, **%lld unmanaged**; %lld in sync.\n\n",
			     (long long)iv(s, "drifted"), (long long)iv(s, "fields"),
			     iv(s, "fields") == 1 ? "" : "s", (long long)iv(s, "missing"),
			     (long long)iv(s, "orphan"), (long long)iv(s, "conflict"),
			     (long long)iv(s, "unmanaged"), (long long)iv(s, "in_sync"));
	rc |= plumb_buf_adds(b, "| Resource | Region | Status | Field | Wanted | Live | First seen "
				"| Last modified |\n|---|---|---|---|---|---|---|---|\n");
	size_t i, rows = 0, hidden = 0;
	const json_t *r;
	json_array_foreach(json_object_get(rep, "resources"), i, r) {
		const char *st = sv(r, "status");
		if (strcmp(st, "in_sync") == 0)
			continue;
		const json_t *drift = json_object_get(r, "drift");
		size_t n = json_array_size(drift) ? json_array_size(drift) : 1;
		if (rows + n > MD_ROWS_MAX) {
			hidden += n;
			continue;
		}
		rows += n;
		if (json_array_size(drift) == 0) {
			rc |= md_row_start(b, r);
			const char *why = json_string_value(json_object_get(r, "reason"));
			if (why) {
				rc |= plumb_buf_addch(b, '*');
				rc |= md_text(b, why);
				rc |= plumb_buf_addch(b, '*');
			} else {
				rc |= plumb_buf_adds(b, "—");
			}
			rc |= plumb_buf_adds(b, " | — | — | ");
			rc |= md_time(b, r, "first_seen");
			rc |= plumb_buf_adds(b, " | ");
			rc |= md_time(b, r, "last_modified");
			rc |= plumb_buf_adds(b, " |\n");
			continue;
		}
		size_t j;
		const json_t *d;
		json_array_foreach(drift, j, d) {
			rc |= md_row_start(b, r);
			rc |= md_code(b, sv(d, "path"));
			rc |= plumb_buf_adds(b, " | ");
			rc |= md_value(b, json_object_get(d, "wanted"));
			rc |= plumb_buf_adds(b, " | ");
			rc |= md_value(b, json_object_get(d, "live"));
			rc |= plumb_buf_adds(b, " | ");
			rc |= md_time(b, d, "first_seen");
			rc |= plumb_buf_adds(b, " | ");
			rc |= md_time(b, r, "last_modified");
			rc |= plumb_buf_adds(b, " |\n");
		}
	}
	if (hidden)
		rc |= plumb_buf_addf(b, "\n%zu more row%s not shown: run `plumb drift` for the whole "
					"report.\n", hidden, hidden == 1 ? "" : "s");
	return rc | plumb_buf_adds(b, "\n<sub>Made by <code>plumb drift</code>. Run "
				      "<code>plumb plan</code> to see what apply would change.</sub>\n");
}

/* ------------------------------------------------------------------ JUnit XML */

/* s with XML escaping; attr: also newlines and tabs as character references. */
static int xml_esc(struct plumb_buf *b, const char *s, bool attr)
{
	int rc = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': rc |= plumb_buf_adds(b, "&amp;"); break;
		case '<': rc |= plumb_buf_adds(b, "&lt;"); break;
		case '>': rc |= plumb_buf_adds(b, "&gt;"); break;
		case '"': rc |= plumb_buf_adds(b, "&quot;"); break;
		case '\'': rc |= plumb_buf_adds(b, "&apos;"); break;
		case '\n': rc |= attr ? plumb_buf_adds(b, "&#10;") : plumb_buf_addch(b, '\n'); break;
		case '\t': rc |= attr ? plumb_buf_adds(b, "&#9;") : plumb_buf_addch(b, '\t'); break;
		case '\r': rc |= plumb_buf_adds(b, "&#13;"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				rc |= plumb_buf_adds(b, "\xEF\xBF\xBD"); /* U+FFFD */
			else
				rc |= plumb_buf_addch(b, (char)*p);
		}
	}
	return rc;
}

static int xml_attr(struct plumb_buf *b, const char *name, const char *value)
{
	int rc = plumb_buf_addf(b, " %s=\"", name);
	rc |= xml_esc(b, value, true);
	return rc | plumb_buf_addch(b, '"');
}

/* The failure's message: one line; its body: a line per drifted field. */
static int junit_failure(struct plumb_buf *b, const json_t *r)
{
	const char *st = sv(r, "status");
	const json_t *drift = json_object_get(r, "drift");
	struct plumb_buf msg = PLUMB_BUF_INIT, body = PLUMB_BUF_INIT;
	int rc = 0;
	if (json_array_size(drift))
		rc |= plumb_buf_addf(&msg, "%zu field%s drifted", json_array_size(drift),
				     json_array_size(drift) == 1 ? "" : "s");
	else
		rc |= plumb_buf_addf(&msg, "%s: %s", st, sv_or(r, "reason", st));
	size_t j;
	const json_t *d;
	json_array_foreach(drift, j, d) {
		char *w = value_text(json_object_get(d, "wanted"));
		char *l = value_text(json_object_get(d, "live"));
		if (!w || !l)
			rc |= PLUMB_ENOMEM;
		else
			rc |= plumb_buf_addf(&body, "%s: wanted %s, live %s (first seen %s)\n",
					     sv(d, "path"), w, l, sv_or(d, "first_seen", "unknown"));
		free(w);
		free(l);
	}
	rc |= plumb_buf_addf(&body, "%s %s in %s; physical %s; first seen %s; last modified %s\n",
			     st, sv(r, "address"), sv_or(r, "region", "?"), sv_or(r, "physical", "?"),
			     sv_or(r, "first_seen", "unknown"), sv_or(r, "last_modified", "unknown"));
	rc |= plumb_buf_adds(b, "      <failure");
	rc |= xml_attr(b, "message", msg.buf);
	rc |= xml_attr(b, "type", st);
	rc |= plumb_buf_addch(b, '>');
	rc |= xml_esc(b, body.buf, false);
	rc |= plumb_buf_adds(b, "</failure>\n");
	plumb_buf_release(&msg);
	plumb_buf_release(&body);
	return rc;
}

static int junit_suite(struct plumb_buf *b, const json_t *rep, const char *region, int id)
{
	const json_t *resources = json_object_get(rep, "resources");
	unsigned tests = 0, failures = 0;
	size_t i;
	const json_t *r;
	json_array_foreach(resources, i, r) {
		if (strcmp(sv(r, "region"), region) != 0)
			continue;
		tests++;
		failures += strcmp(sv(r, "status"), "in_sync") != 0;
	}
	char ts[24];
	plumb_strlcpy(ts, sv_or(rep, "generated", "1970-01-01T00:00:00Z"), sizeof(ts));
	ts[19] = '\0'; /* the schema's timestamp has no zone: "2026-11-24T10:00:00" (UTC) */
	struct plumb_buf name = PLUMB_BUF_INIT;
	int rc = plumb_buf_addf(&name, "plumb drift %s%s%s", sv_or(rep, "account", "?"),
				region[0] ? " " : "", region);
	rc |= plumb_buf_adds(b, "  <testsuite");
	rc |= xml_attr(b, "name", name.buf);
	rc |= xml_attr(b, "package", "plumb.drift");
	rc |= plumb_buf_addf(b, " id=\"%d\"", id);
	rc |= xml_attr(b, "timestamp", ts);
	const char *host = sv(rep, "host");
	rc |= xml_attr(b, "hostname", host[0] ? host : "localhost");
	rc |= plumb_buf_addf(b, " tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"0\" "
				"time=\"0\">\n    <properties>\n", tests, failures);
	static const char *const props[] = { "account", "owner", "generated", "plumb_version" };
	for (size_t k = 0; k < PLUMB_ARRAY_LEN(props); k++) {
		rc |= plumb_buf_adds(b, "      <property");
		rc |= xml_attr(b, "name", props[k]);
		rc |= xml_attr(b, "value", sv(rep, props[k]));
		rc |= plumb_buf_adds(b, "/>\n");
	}
	rc |= plumb_buf_adds(b, "    </properties>\n");
	struct plumb_map names = PLUMB_MAP_INIT;
	json_array_foreach(resources, i, r) {
		if (strcmp(sv(r, "region"), region) != 0)
			continue;
		struct plumb_buf tn = PLUMB_BUF_INIT, cn = PLUMB_BUF_INIT;
		rc |= plumb_buf_adds(&tn, sv(r, "address"));
		if (plumb_map_put(&names, tn.buf, (void *)1) == PLUMB_EEXIST)
			rc |= plumb_buf_addf(&tn, " (%s)", sv(r, "physical"));
		rc |= plumb_buf_addf(&cn, "plumb.drift.%s", sv(r, "kind"));
		rc |= plumb_buf_adds(b, "    <testcase");
		rc |= xml_attr(b, "name", tn.buf);
		rc |= xml_attr(b, "classname", cn.buf);
		rc |= plumb_buf_adds(b, " time=\"0\"");
		if (strcmp(sv(r, "status"), "in_sync") == 0) {
			rc |= plumb_buf_adds(b, "/>\n");
		} else {
			rc |= plumb_buf_adds(b, ">\n");
			rc |= junit_failure(b, r);
			rc |= plumb_buf_adds(b, "    </testcase>\n");
		}
		plumb_buf_release(&tn);
		plumb_buf_release(&cn);
	}
	plumb_map_release(&names);
	plumb_buf_release(&name);
	return rc | plumb_buf_adds(b, "    <system-out></system-out>\n    <system-err></system-err>\n"
				      "  </testsuite>\n");
}

static int render_junit(const json_t *rep, struct plumb_buf *b)
{
	int rc = plumb_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	/* regions in order of first appearance; an empty report is one empty suite */
	struct plumb_map seen = PLUMB_MAP_INIT;
	int id = 0;
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(rep, "resources"), i, r) {
		const char *region = sv(r, "region");
		if (plumb_map_put(&seen, region, (void *)1) != 0)
			continue;
		rc |= junit_suite(b, rep, region, id++);
	}
	plumb_map_release(&seen);
	if (id == 0)
		rc |= junit_suite(b, rep, "", 0);
	return rc | plumb_buf_adds(b, "</testsuites>\n");
}

/* ------------------------------------------------------------------ entry */

int plumb_report_render(const json_t *report, enum plumb_report_format f, struct plumb_buf *out,
			struct plumb_err *err)
{
	if (!json_is_object(report) || !json_is_array(json_object_get(report, "resources")) ||
	    !json_is_object(json_object_get(report, "summary")))
		return plumb_err_set(err, PLUMB_EINVAL, "not a drift report");
	int rc;
	switch (f) {
	case PLUMB_REPORT_TEXT: rc = render_text(report, out); break;
	case PLUMB_REPORT_MARKDOWN: rc = render_markdown(report, out); break;
	case PLUMB_REPORT_JUNIT: rc = render_junit(report, out); break;
	case PLUMB_REPORT_JSON: {
		char *t = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		rc = t ? plumb_buf_adds(out, t) | plumb_buf_addch(out, '\n') : PLUMB_ENOMEM;
		free(t);
		break;
	}
	default: return plumb_err_set(err, PLUMB_EINVAL, "unknown report format %d", (int)f);
	}
	if (rc) /* the buffers are unbounded here: only allocation fails */
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory rendering the drift report");
	return 0;
}

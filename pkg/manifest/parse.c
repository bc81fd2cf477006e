/*
 * YAML to checked documents. Each file is loaded with libyaml's document API one document at a
 * time; each document's nodes are walked once against the kind's generated shape, producing a
 * jansson spec keyed by AWS member names and recording every problem with its location. Nothing
 * stops at the first problem: a wrong field is reported and skipped, and the walk goes on.
 *
 * Typing follows the YAML 1.2 core schema as Kubernetes does: a plain 123 is an integer, so a
 * string field needs quotes. Aliases are expanded as they are walked and every expansion counts
 * against the per-document node budget, which bounds time and memory for "billion laughs".
 * Cost: O(nodes visited) per document, plus one PCRE2 match per patterned string.
 */
#include "manifest/manifest_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <yaml.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_NODES 100000
#define MAX_DEPTH 64
#define MAX_DOCS 10000

struct plumb__set_int *plumb__int(struct plumb_manifest_set *set)
{
	if (!set->internal)
		set->internal = calloc(1, sizeof(struct plumb__set_int));
	return set->internal;
}

void plumb__diag(struct plumb_manifest_set *set, enum plumb_severity sev, struct plumb_loc loc,
		 const char *path, const char *fmt, ...)
{
	struct plumb_diag *d = plumb_arena_zalloc(&set->arena, sizeof(*d));
	if (!d)
		return;
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->sev = sev;
	d->loc = loc;
	d->path = plumb_arena_strdup(&set->arena, path ? path : "");
	d->msg = plumb_arena_strdup(&set->arena, msg);
	plumb_vec_push(&set->diags, d);
}

int plumb__loc_put(struct plumb_manifest_set *set, const struct plumb__doc *d, const char *path,
		   struct plumb_loc loc)
{
	struct plumb__set_int *in = plumb__int(set);
	char key[600];
	snprintf(key, sizeof(key), "%u|%s", d->index, path);
	struct plumb_loc *l = plumb_arena_alloc(&set->arena, sizeof(*l));
	if (!in || !l)
		return PLUMB_ENOMEM;
	*l = loc;
	int rc = plumb_map_put(&in->locs, key, l);
	return rc == PLUMB_EEXIST ? 0 : rc;
}

struct plumb_loc plumb__loc_of(const struct plumb_manifest_set *set, const struct plumb__doc *d,
			       const char *path)
{
	const struct plumb__set_int *in = set->internal;
	char key[600];
	/* fall back to ever shorter prefixes of the path, then to the document */
	snprintf(key, sizeof(key), "%u|%s", d->index, path);
	while (in) {
		struct plumb_loc *l = plumb_map_get(&in->locs, key);
		if (l)
			return *l;
		char *cut = strrchr(key, '.');
		char *br = strrchr(key, '[');
		if (br && (!cut || br > cut))
			cut = br;
		if (!cut || cut < strchr(key, '|'))
			break;
		*cut = '\0';
	}
	return d->loc;
}

/* ------------------------------------------------------------------ walking */

struct walk {
	struct plumb_manifest_set *set;
	struct plumb_mfile *file;
	yaml_document_t *y;
	struct plumb__doc *doc;
	size_t visited;          /* nodes visited, aliases counted each time */
	bool over_budget;        /* reported once */
	struct plumb_buf path;   /* field path of the node being walked */
	int depth;               /* current nesting */
};

static struct plumb_loc mark_loc(const struct walk *w, yaml_mark_t m)
{
	struct plumb_loc l = { w->file->path, (unsigned)m.line + 1, (unsigned)m.column + 1 };
	return l;
}

static struct plumb_loc node_loc(const struct walk *w, const yaml_node_t *n)
{
	return mark_loc(w, n->start_mark);
}

static void werr(struct walk *w, const yaml_node_t *n, const char *fmt, ...) PLUMB_PRINTF(3, 4);
static void werr(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	plumb__diag(w->set, PLUMB_SEV_ERROR, node_loc(w, n), w->path.buf, "%s", msg);
}

/* The implicit type of a scalar under the YAML 1.2 core schema. */
enum scalar_type { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STRING };

static bool matches_int(const char *s)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p[2] && p == s) {
		for (p += 2; *p; p++)
			if (!(s[1] == 'x' ? isxdigit((unsigned char)*p) : (*p >= '0' && *p <= '7')))
				return false;
		return true;
	}
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

static bool matches_float(const char *s)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF"))
		return true;
	if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN")))
		return true;
	bool digits = false;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static enum scalar_type scalar_type(const yaml_node_t *n)
{
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return SC_STRING;
	const char *s = (const char *)n->data.scalar.value;
	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return SC_NULL;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
	    !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return SC_BOOL;
	if (matches_int(s))
		return SC_INT;
	if (matches_float(s))
		return SC_FLOAT;
	return SC_STRING;
}

static const char *found_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "a mapping";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_SCALAR_NODE:
		switch (scalar_type(n)) {
		case SC_NULL: return "null";
		case SC_BOOL: return "a boolean";
		case SC_INT: return "an integer";
		case SC_FLOAT: return "a number";
		case SC_STRING: return "a string";
		}
		break;
	default: break;
	}
	return "nothing";
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* Counts a node against the budget; false (and one error) when over it. */
static bool budget(struct walk *w, const yaml_node_t *n)
{
	if (++w->visited <= MAX_NODES)
		return true;
	if (!w->over_budget) {
		w->over_budget = true;
		plumb__diag(w->set, PLUMB_SEV_ERROR, w->doc->loc, "",
			    "anchors and aliases expand to more than %d nodes in this document",
			    MAX_NODES);
	}
	(void)n;
	return false;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static bool pattern_ok(struct walk *w, int idx, const char *s)
{
	struct plumb__set_int *in = plumb__int(w->set);
	if (!in)
		return true;
	if (!in->patterns)
		in->patterns = calloc(plumb_n_patterns, sizeof(void *));
	if (!in->patterns)
		return true;
	pcre2_code *re = in->patterns[idx];
	if (!re) {
		int ec;
		PCRE2_SIZE eo;
		re = pcre2_compile((PCRE2_SPTR)plumb_patterns[idx], PCRE2_ZERO_TERMINATED,
				   PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
		if (!re)
			return true; /* tests/model proves every pattern compiles */
		in->patterns[idx] = re;
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
			     md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static json_t *walk_value(struct walk *w, const struct plumb_shape *s, unsigned flags,
			  yaml_node_t *n);

static size_t path_push_key(struct walk *w, const char *key)
{
	size_t mark = w->path.len;
	if (w->path.len)
		plumb_buf_addch(&w->path, '.');
	plumb_buf_adds(&w->path, key);
	return mark;
}

static size_t path_push_index(struct walk *w, size_t i)
{
	size_t mark = w->path.len;
	plumb_buf_addf(&w->path, "[%zu]", i);
	return mark;
}

static void record_loc(struct walk *w, const yaml_node_t *n)
{
	plumb__loc_put(w->set, w->doc, w->path.buf, node_loc(w, n));
}

/* Levenshtein distance, capped: used only to suggest a field name. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static void unknown_field(struct walk *w, const struct plumb_shape *s, yaml_node_t *key)
{
	const char *k = sval(key);
	const char *best = NULL;
	size_t bestd = 3;
	for (size_t i = 0; i < s->n_members; i++) {
		size_t d = edit_distance(k, s->members[i].name);
		if (d < bestd) {
			bestd = d;
			best = s->members[i].name;
		}
	}
	if (best && strcasecmp(best, k) == 0)
		werr(w, key, "unknown field \"%s\" (fields are lowerCamelCase: did you mean \"%s\"?)",
		     k, best);
	else if (best)
		werr(w, key, "unknown field \"%s\" (did you mean \"%s\"?)", k, best);
	else
		werr(w, key, "unknown field \"%s\"", k);
}

/* Checks keys of a mapping for duplicates and non-scalar keys; false when the pair is to be
 * skipped. */
static bool key_ok(struct walk *w, yaml_node_t *map, yaml_node_pair_t *pair, yaml_node_t *key)
{
	if (!key || key->type != YAML_SCALAR_NODE) {
		werr(w, key ? key : map, "a mapping key must be a plain string");
		return false;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		yaml_node_t *other = yaml_document_get_node(w->y, p->key);
		if (other && other->type == YAML_SCALAR_NODE && strcmp(sval(other), sval(key)) == 0) {
			werr(w, key, "duplicate key \"%s\" (first at line %lu, column %lu)", sval(key),
			     (unsigned long)other->start_mark.line + 1,
			     (unsigned long)other->start_mark.column + 1);
			return false;
		}
	}
	return true;
}

/* Duplicate keys are found by comparing with earlier keys; bounding a mapping's size bounds
 * that at MAX_KEYS^2/2 comparisons, where a hash set per mapping would cost more for the
 * small mappings that are all real manifests have. */
#define MAX_KEYS 1000

static bool too_many_keys(struct walk *w, yaml_node_t *n)
{
	size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (count <= MAX_KEYS)
		return false;
	werr(w, n, "too many items: a mapping here holds at most %d keys, found %zu", MAX_KEYS,
	     count);
	return true;
}

static json_t *walk_struct(struct walk *w, const struct plumb_shape *s, yaml_node_t *n)
{
	json_t *obj = json_object();
	if (too_many_keys(w, n))
		return obj;
	bool seen[512] = { false };
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->y, p->key);
		yaml_node_t *v = yaml_document_get_node(w->y, p->value);
		if (!key_ok(w, n, p, k) || !v)
			continue;
		const struct plumb_member *m = plumb_shape_member(s, sval(k));
		if (!m) {
			unknown_field(w, s, k);
			continue;
		}
		seen[m - s->members] = true;
		size_t mark = path_push_key(w, m->name);
		plumb__loc_put(w->set, w->doc, w->path.buf, node_loc(w, v));
		/* a rejected value stays as null: reported once, never again as "missing" */
		json_t *jv = walk_value(w, m->shape, m->flags, v);
		if (!jv)
			jv = json_null();
		{
			if (m->aws) {
				json_object_set_new(obj, m->aws, jv);
			} else {
				char key[160];
				snprintf(key, sizeof(key), "plumb:%s", m->name);
				json_object_set_new(obj, key, jv);
			}
		}
		plumb_buf_truncate(&w->path, mark);
	}
	for (size_t i = 0; i < s->n_members && i < 512; i++)
		if ((s->members[i].flags & PLUMB_M_REQUIRED) && !seen[i])
			werr(w, n, "missing required field \"%s\"", s->members[i].name);
	return obj;
}

static json_t *walk_list(struct walk *w, const struct plumb_shape *s, yaml_node_t *n)
{
	json_t *arr = json_array();
	size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (s->min >= 0 && count < (size_t)s->min)
		werr(w, n, "too few items: at least %lld, found %zu", (long long)s->min, count);
	if (s->max >= 0 && count > (size_t)s->max)
		werr(w, n, "too many items: at most %lld, found %zu", (long long)s->max, count);
	size_t i = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		yaml_node_t *v = yaml_document_get_node(w->y, *it);
		if (!v)
			continue;
		size_t mark = path_push_index(w, i);
		record_loc(w, v);
		json_t *jv = walk_value(w, s->item, 0, v);
		json_array_append_new(arr, jv ? jv : json_null());
		plumb_buf_truncate(&w->path, mark);
	}
	return arr;
}

static bool string_ok(struct walk *w, const struct plumb_shape *s, yaml_node_t *n, const char *v);

static json_t *walk_map(struct walk *w, const struct plumb_shape *s, yaml_node_t *n)
{
	json_t *obj = json_object();
	if (too_many_keys(w, n))
		return obj;
	size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (s->min >= 0 && count < (size_t)s->min)
		werr(w, n, "too few items: at least %lld, found %zu", (long long)s->min, count);
	if (s->max >= 0 && count > (size_t)s->max)
		werr(w, n, "too many items: at most %lld entries, found %zu", (long long)s->max, count);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->y, p->key);
		yaml_node_t *v = yaml_document_get_node(w->y, p->value);
		if (!key_ok(w, n, p, k) || !v)
			continue;
		size_t mark = path_push_key(w, sval(k));
		if (s->key && !string_ok(w, s->key, k, sval(k))) {
			plumb_buf_truncate(&w->path, mark);
			continue;
		}
		record_loc(w, k); /* what resolve.c says of a map entry (reserved tag) is about its key */
		json_t *jv = walk_value(w, s->item, 0, v);
		if (jv)
			json_object_set_new(obj, sval(k), jv);
		plumb_buf_truncate(&w->path, mark);
	}
	return obj;
}

static bool string_ok(struct walk *w, const struct plumb_shape *s, yaml_node_t *n, const char *v)
{
	bool ok = true;
	size_t len = utf8_chars(v);
	if (s->min >= 0 && len < (size_t)s->min) {
		werr(w, n, "too short: at least %lld characters, found %zu", (long long)s->min, len);
		ok = false;
	}
	if (s->max >= 0 && len > (size_t)s->max) {
		werr(w, n, "too long: at most %lld characters, found %zu", (long long)s->max, len);
		ok = false;
	}
	if (s->enums) {
		bool found = false;
		for (const char *const *e = s->enums; *e && !found; e++)
			found = strcmp(*e, v) == 0;
		if (!found) {
			struct plumb_buf b = PLUMB_BUF_INIT;
			size_t shown = 0;
			for (const char *const *e = s->enums; *e; e++, shown++) {
				if (shown == 12) {
					plumb_buf_adds(&b, ", ...");
					break;
				}
				plumb_buf_addf(&b, "%s%s", shown ? ", " : "", *e);
			}
			werr(w, n, "\"%s\" is not one of: %s", v, b.buf);
			plumb_buf_release(&b);
			ok = false;
		}
	}
	if (ok && s->pattern >= 0 && !pattern_ok(w, s->pattern, v)) {
		werr(w, n, "\"%s\" does not match the pattern %s", v, plumb_patterns[s->pattern]);
		ok = false;
	}
	return ok;
}

static bool number_in_range(struct walk *w, const struct plumb_shape *s, yaml_node_t *n, double d)
{
	if (s->has_vmin && (d < s->vmin || (s->vmin_exclusive && d == s->vmin))) {
		werr(w, n, "%s must be %s %g", sval(n), s->vmin_exclusive ? "greater than" : "at least",
		     s->vmin);
		return false;
	}
	if (s->has_vmax && d > s->vmax) {
		werr(w, n, "%s must be at most %g", sval(n), s->vmax);
		return false;
	}
	return true;
}

static json_t *type_error(struct walk *w, const struct plumb_shape *s, unsigned flags,
			  yaml_node_t *n)
{
	const char *want = (flags & PLUMB_M_DURATION) ? "an integer or a duration"
						      : plumb_shape_type_name(s->type);
	const char *found = found_name(n);
	if (s->type == PLUMB_T_STRING && n->type == YAML_SCALAR_NODE &&
	    scalar_type(n) != SC_NULL)
		werr(w, n, "expected a string, found %s (quote it: \"%s\")", found, sval(n));
	else
		werr(w, n, "expected %s, found %s", want, found);
	return NULL;
}

static json_t *walk_scalar(struct walk *w, const struct plumb_shape *s, unsigned flags,
			   yaml_node_t *n)
{
	enum scalar_type t = scalar_type(n);
	const char *v = sval(n);
	switch (s->type) {
	case PLUMB_T_STRING:
	case PLUMB_T_TIMESTAMP:
		if (t != SC_STRING)
			return type_error(w, s, flags, n);
		return string_ok(w, s, n, v) ? json_string(v) : NULL;
	case PLUMB_T_BOOLEAN:
		if (t != SC_BOOL)
			return type_error(w, s, flags, n);
		return json_boolean(v[0] == 't' || v[0] == 'T');
	case PLUMB_T_INTEGER: {
		long long iv;
		if (t == SC_STRING && (flags & PLUMB_M_DURATION)) {
			int64_t secs = plumb_parse_duration(v);
			if (secs < 0) {
				werr(w, n, "\"%s\" is not a valid duration (use seconds or e.g. \"90s\", "
					   "\"5m\", \"1h30m\")", v);
				return NULL;
			}
			iv = secs;
		} else if (t == SC_INT) {
			/* YAML 1.2: decimal unless written 0x.. or 0o.. (a leading 0 is not octal) */
			errno = 0;
			if (strncmp(v, "0x", 2) == 0)
				iv = strtoll(v + 2, NULL, 16);
			else if (strncmp(v, "0o", 2) == 0)
				iv = strtoll(v + 2, NULL, 8);
			else
				iv = strtoll(v, NULL, 10);
			if (errno) {
				werr(w, n, "%s is out of range", v);
				return NULL;
			}
		} else if (t == SC_FLOAT && strtod(v, NULL) == floor(strtod(v, NULL)) &&
			   fabs(strtod(v, NULL)) < 9e15) {
			iv = (long long)strtod(v, NULL);
		} else {
			return type_error(w, s, flags, n);
		}
		if (!number_in_range(w, s, n, (double)iv))
			return NULL;
		return json_integer(iv);
	}
	case PLUMB_T_DOUBLE: {
		if (t != SC_INT && t != SC_FLOAT)
			return type_error(w, s, flags, n);
		double d = strtod(v, NULL);
		if (t == SC_INT && (strncmp(v, "0x", 2) == 0 || strncmp(v, "0o", 2) == 0))
			d = (double)strtoll(v + 2, NULL, v[1] == 'x' ? 16 : 8);
		if (!isfinite(d)) {
			werr(w, n, "%s is not a finite number", v);
			return NULL;
		}
		if (!number_in_range(w, s, n, d))
			return NULL;
		return json_real(d);
	}
	case PLUMB_T_ACTION:
		if (t != SC_STRING)
			return type_error(w, s, flags, n);
		if (!*v || utf8_chars(v) > 1024) {
			werr(w, n, "an action ARN must be 1 to 1024 characters");
			return NULL;
		}
		return json_string(v);
	default:
		return type_error(w, s, flags, n);
	}
}

/* An alarm action written as {topicRef: NAME} or {policyRef: TARGET/POLICY}. */
static json_t *walk_action_ref(struct walk *w, yaml_node_t *n)
{
	yaml_node_t *k = NULL, *v = NULL;
	size_t found = 0;
	bool bad = false;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *pk = yaml_document_get_node(w->y, p->key);
		if (!key_ok(w, n, p, pk))
			continue;
		if (strcmp(sval(pk), "topicRef") != 0 && strcmp(sval(pk), "policyRef") != 0) {
			werr(w, pk, "unknown field \"%s\" (an action reference is {topicRef: NAME} or "
				    "{policyRef: TARGET/POLICY})", sval(pk));
			bad = true;
			continue;
		}
		found++;
		k = pk;
		v = yaml_document_get_node(w->y, p->value);
	}
	if (found != 1 || !k || !v) {
		if (!bad)
			werr(w, n, "an action reference holds exactly one of topicRef or policyRef");
		return NULL;
	}
	const char *key = sval(k);
	size_t mark = path_push_key(w, key);
	record_loc(w, v);
	json_t *out = NULL;
	if (v->type != YAML_SCALAR_NODE || scalar_type(v) != SC_STRING) {
		werr(w, v, "expected a string, found %s", found_name(v));
	} else if (key[0] == 'p' && !strchr(sval(v), '/')) {
		werr(w, v, "policyRef \"%s\" does not match TARGET/POLICY", sval(v));
	} else if (!bad) {
		char pk[32];
		snprintf(pk, sizeof(pk), "plumb:%s", key);
		out = json_pack("{ss}", pk, sval(v));
	}
	plumb_buf_truncate(&w->path, mark);
	return out;
}

static json_t *walk_value(struct walk *w, const struct plumb_shape *s, unsigned flags,
			  yaml_node_t *n)
{
	if (!budget(w, n))
		return NULL;
	if (++w->depth > MAX_DEPTH) {
		werr(w, n, "nested deeper than %d levels", MAX_DEPTH);
		w->depth--;
		return NULL;
	}
	json_t *out = NULL;
	switch (n->type) {
	case YAML_MAPPING_NODE:
		if (s->type == PLUMB_T_STRUCT)
			out = walk_struct(w, s, n);
		else if (s->type == PLUMB_T_MAP)
			out = walk_map(w, s, n);
		else if (s->type == PLUMB_T_ACTION)
			out = walk_action_ref(w, n);
		else
			type_error(w, s, flags, n);
		break;
	case YAML_SEQUENCE_NODE:
		if (s->type == PLUMB_T_LIST)
			out = walk_list(w, s, n);
		else
			type_error(w, s, flags, n);
		break;
	case YAML_SCALAR_NODE:
		if (s->type == PLUMB_T_STRUCT || s->type == PLUMB_T_MAP || s->type == PLUMB_T_LIST)
			type_error(w, s, flags, n);
		else
			out = walk_scalar(w, s, flags, n);
		break;
	default:
		break;
	}
	w->depth--;
	return out;
}

/* ------------------------------------------------------------------ documents */

static void walk_document(struct walk *w, yaml_node_t *root)
{
	struct plumb_manifest_set *set = w->set;
	struct plumb__doc *d = w->doc;
	yaml_node_t *kind = NULL, *api = NULL, *meta = NULL, *spec = NULL;
	if (too_many_keys(w, root))
		return;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(w->y, p->key);
		yaml_node_t *v = yaml_document_get_node(w->y, p->value);
		if (!key_ok(w, root, p, k) || !v)
			continue;
		const char *ks = sval(k);
		if (!strcmp(ks, "apiVersion"))
			api = v;
		else if (!strcmp(ks, "kind"))
			kind = v;
		else if (!strcmp(ks, "metadata"))
			meta = v;
		else if (!strcmp(ks, "spec"))
			spec = v;
		else
			werr(w, k, "unknown field \"%s\" (a document has apiVersion, kind, metadata and "
				   "spec)", ks);
	}
	if (!api)
		werr(w, root, "missing required field \"apiVersion\" (apiVersion: plumb/v1)");
	else if (api->type != YAML_SCALAR_NODE || strcmp(sval(api), "plumb/v1") != 0)
		werr(w, api, "unsupported apiVersion %s%s%s (this plumb reads plumb/v1)",
		     api->type == YAML_SCALAR_NODE ? "\"" : "",
		     api->type == YAML_SCALAR_NODE ? sval(api) : found_name(api),
		     api->type == YAML_SCALAR_NODE ? "\"" : "");
	int k = -1;
	if (!kind) {
		werr(w, root, "missing required field \"kind\"");
	} else if (kind->type != YAML_SCALAR_NODE ||
		   (k = plumb_kind_from_name(sval(kind))) < 0) {
		werr(w, kind, "unknown kind \"%s\" (one of: Model, EndpointConfig, Endpoint, "
			      "ScalableTarget, Alarm, Topic, Defaults)",
		     kind->type == YAML_SCALAR_NODE ? sval(kind) : found_name(kind));
	}
	if (!meta)
		werr(w, root, "missing required field \"metadata\"");
	if (!spec && k != PLUMB_KIND_DEFAULTS && k >= 0)
		werr(w, root, "missing required field \"spec\"");
	if (k < 0)
		return;
	d->kind = (enum plumb_kind)k;
	set->counts[k]++;
	const struct plumb_kind_info *ki = plumb_kind_info(d->kind);
	if (meta) {
		size_t mark = path_push_key(w, "metadata");
		record_loc(w, meta);
		d->meta = walk_value(w, ki->meta, 0, meta);
		plumb_buf_truncate(&w->path, mark);
		const char *name = json_string_value(json_object_get(d->meta, "plumb:name"));
		if (name)
			d->name = plumb_arena_strdup(&set->arena, name);
	}
	if (spec) {
		size_t mark = path_push_key(w, "spec");
		record_loc(w, spec);
		d->spec = walk_value(w, ki->spec, 0, spec);
		plumb_buf_truncate(&w->path, mark);
	}
	if (!d->spec)
		d->spec = json_object();
}

static struct plumb_loc offset_loc(const struct plumb_mfile *f, size_t off)
{
	struct plumb_loc l = { f->path, 1, 1 };
	for (size_t i = 0; i < off && i < f->len; i++) {
		if (f->text[i] == '\n') {
			l.line++;
			l.col = 1;
		} else if (((unsigned char)f->text[i] & 0xC0) != 0x80) {
			l.col++;
		}
	}
	return l;
}

static void parser_error(struct plumb_manifest_set *set, struct plumb_mfile *f, yaml_parser_t *p)
{
	struct plumb_loc l;
	if (p->error == YAML_READER_ERROR)
		l = offset_loc(f, p->problem_offset);
	else
		l = (struct plumb_loc){ f->path, (unsigned)p->problem_mark.line + 1,
					(unsigned)p->problem_mark.column + 1 };
	const char *problem = p->problem ? p->problem : "malformed YAML";
	size_t off = p->error == YAML_READER_ERROR ? p->problem_offset : p->problem_mark.index;
	if (p->error == YAML_READER_ERROR && strstr(problem, "UTF-8"))
		plumb__diag(set, PLUMB_SEV_ERROR, l, "", "invalid UTF-8 (%s); manifests must be UTF-8 "
			    "text", problem);
	else if (p->error == YAML_READER_ERROR && strstr(problem, "control characters"))
		plumb__diag(set, PLUMB_SEV_ERROR, l, "", "control character (byte 0x%02x) is not "
			    "allowed in a manifest: is this a binary file?",
			    off < f->len ? (unsigned char)f->text[off] : 0u);
	else if (off < f->len && f->text[off] == '\t')
		plumb__diag(set, PLUMB_SEV_ERROR, l, "", "tab character where YAML expects "
			    "indentation: indent with spaces");
	else if (p->context)
		plumb__diag(set, PLUMB_SEV_ERROR, l, "", "YAML syntax error: %s %s", problem,
			    p->context);
	else
		plumb__diag(set, PLUMB_SEV_ERROR, l, "", "YAML syntax error: %s", problem);
}

void plumb_manifest_file_error(struct plumb_manifest_set *set, const char *path,
			       const char *msg)
{
	struct plumb_loc l = { plumb_arena_strdup(&set->arena, path), 0, 0 };
	plumb__diag(set, PLUMB_SEV_ERROR, l, "", "%s", msg);
}

static char *dir_of(struct plumb_arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return plumb_arena_strdup(a, ".");
	if (slash == path)
		return plumb_arena_strdup(a, "/");
	return plumb_arena_strndup(a, path, (size_t)(slash - path));
}

int plumb_manifest_add(struct plumb_manifest_set *set, const char *path, const char *bytes,
		       size_t len)
{
	struct plumb_mfile *f = plumb_arena_zalloc(&set->arena, sizeof(*f));
	if (!f)
		return PLUMB_ENOMEM;
	f->path = plumb_arena_strdup(&set->arena, path);
	f->dir = dir_of(&set->arena, path);
	f->text = plumb_arena_strndup(&set->arena, bytes, len);
	f->len = len;
	if (!f->path || !f->dir || !f->text || plumb_vec_push(&set->files, f))
		return PLUMB_ENOMEM;
	if (len > PLUMB_MANIFEST_MAX_FILE) {
		plumb_manifest_file_error(set, path, "file is larger than 16 MiB");
		return 0;
	}
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return PLUMB_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)bytes, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	unsigned docs = 0;
	for (unsigned n = 0;; n++) {
		yaml_document_t y;
		if (!yaml_parser_load(&parser, &y)) {
			parser_error(set, f, &parser);
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&y);
		if (!root) {
			yaml_document_delete(&y);
			break; /* end of stream */
		}
		if (n >= MAX_DOCS) {
			plumb__diag(set, PLUMB_SEV_ERROR, (struct plumb_loc){ f->path, 1, 1 }, "",
				    "more than %d documents in one file", MAX_DOCS);
			yaml_document_delete(&y);
			break;
		}
		bool empty = root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0 &&
			     root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (empty) {
			yaml_document_delete(&y); /* "---" with nothing after it: skipped */
			continue;
		}
		docs++;
		struct plumb__doc *d = plumb_arena_zalloc(&set->arena, sizeof(*d));
		if (!d || plumb_vec_push(&set->docs, d)) {
			yaml_document_delete(&y);
			yaml_parser_delete(&parser);
			return PLUMB_ENOMEM;
		}
		d->index = (unsigned)set->docs.len - 1;
		d->file = f;
		d->kind = PLUMB_KIND__COUNT;
		struct walk w = { .set = set, .file = f, .y = &y, .doc = d };
		plumb_buf_init(&w.path, 4096);
		d->loc = node_loc(&w, root);
		if (root->type != YAML_MAPPING_NODE)
			werr(&w, root, "a document must be a mapping with apiVersion, kind, metadata and "
				       "spec, found %s", found_name(root));
		else
			walk_document(&w, root);
		plumb_buf_release(&w.path);
		yaml_document_delete(&y);
	}
	bool failed = parser.error != YAML_NO_ERROR;
	yaml_parser_delete(&parser);
	if (docs == 0 && !failed) {
		plumb__diag(set, PLUMB_SEV_ERROR, (struct plumb_loc){ f->path, 1, 1 }, "",
			    "file holds no documents (empty, or only comments)");
	}
	return 0;
}

void plumb__free_patterns(void **p)
{
	for (size_t i = 0; i < plumb_n_patterns; i++)
		pcre2_code_free(p[i]);
	free(p);
}

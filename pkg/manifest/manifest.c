/*
 * The manifest set's lifecycle and its reports: diagnostics as text (file:line:col, source line,
 * caret) and JSON, and the expanded set as YAML through libyaml's emitter. Rendering converts
 * specs back from AWS member names to manifest names with the same shape tables the parser used.
 */
#include "manifest/manifest_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void plumb_manifest_init(struct plumb_manifest_set *set)
{
	memset(set, 0, sizeof(*set));
}

void plumb_manifest_release(struct plumb_manifest_set *set)
{
	for (size_t i = 0; i < set->docs.len; i++) {
		struct plumb__doc *d = set->docs.items[i];
		json_decref(d->meta);
		json_decref(d->spec);
	}
	for (size_t i = 0; i < set->resources.len; i++) {
		struct plumb_resource *r = set->resources.items[i];
		plumb_resource_free(r);
		free(r); /* allocated with its private wrapper, which starts with it */
	}
	struct plumb__set_int *in = set->internal;
	if (in) {
		plumb_map_release(&in->locs);
		plumb_map_release(&in->by_name);
		if (in->patterns)
			plumb__free_patterns(in->patterns);
		free(in);
	}
	plumb_vec_release(&set->files);
	plumb_vec_release(&set->docs);
	plumb_vec_release(&set->diags);
	plumb_vec_release(&set->resources);
	plumb_arena_release(&set->arena);
	memset(set, 0, sizeof(*set));
}

size_t plumb_manifest_errors(const struct plumb_manifest_set *set)
{
	size_t n = 0;
	for (size_t i = 0; i < set->diags.len; i++)
		n += ((struct plumb_diag *)set->diags.items[i])->sev == PLUMB_SEV_ERROR;
	return n;
}

static const struct plumb_mfile *file_named(const struct plumb_manifest_set *set, const char *p)
{
	for (size_t i = 0; i < set->files.len; i++) {
		const struct plumb_mfile *f = set->files.items[i];
		if (f->path == p || strcmp(f->path, p) == 0)
			return f;
	}
	return NULL;
}

static int cmp_diag(const void *a, const void *b)
{
	const struct plumb_diag *x = *(struct plumb_diag *const *)a;
	const struct plumb_diag *y = *(struct plumb_diag *const *)b;
	int c = strcmp(x->loc.file ? x->loc.file : "", y->loc.file ? y->loc.file : "");
	if (c)
		return c;
	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	return x->loc.col < y->loc.col ? -1 : x->loc.col > y->loc.col;
}

int plumb_manifest_render_diags(const struct plumb_manifest_set *set, struct plumb_buf *out,
				bool color)
{
	struct plumb_vec sorted = PLUMB_VEC_INIT;
	for (size_t i = 0; i < set->diags.len; i++)
		plumb_vec_push(&sorted, set->diags.items[i]);
	/* qsort is not stable; file order then line order is all a reader needs */
	plumb_vec_sort(&sorted, cmp_diag);
	const char *bold = color ? "\033[1m" : "", *red = color ? "\033[1;31m" : "";
	const char *yellow = color ? "\033[1;33m" : "", *green = color ? "\033[1;32m" : "";
	const char *reset = color ? "\033[0m" : "";
	for (size_t i = 0; i < sorted.len; i++) {
		const struct plumb_diag *d = sorted.items[i];
		const char *sev = d->sev == PLUMB_SEV_ERROR ? "error" : "warning";
		const char *sc = d->sev == PLUMB_SEV_ERROR ? red : yellow;
		if (d->loc.line)
			plumb_buf_addf(out, "%s%s:%u:%u:%s %s%s:%s ", bold, d->loc.file, d->loc.line,
				       d->loc.col, reset, sc, sev, reset);
		else
			plumb_buf_addf(out, "%s%s:%s %s%s:%s ", bold, d->loc.file ? d->loc.file : "plumb",
				       reset, sc, sev, reset);
		if (d->path && *d->path)
			plumb_buf_addf(out, "%s: ", d->path);
		plumb_buf_addf(out, "%s\n", d->msg);
		const struct plumb_mfile *f = d->loc.file ? file_named(set, d->loc.file) : NULL;
		if (!f || !d->loc.line)
			continue;
		const char *p = f->text;
		for (unsigned l = 1; l < d->loc.line && p; l++) {
			p = memchr(p, '\n', (size_t)(f->text + f->len - p));
			if (p)
				p++;
		}
		if (!p || p >= f->text + f->len)
			continue;
		const char *e = memchr(p, '\n', (size_t)(f->text + f->len - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(f->text + f->len - p);
		if (n > 200)
			n = 200;
		plumb_buf_addf(out, "  %5u | ", d->loc.line);
		for (size_t k = 0; k < n; k++)
			plumb_buf_addch(out, p[k] == '\t' ? ' ' : (p[k] >= 0 && p[k] < 0x20 ? '?' : p[k]));
		plumb_buf_adds(out, "\n        | ");
		unsigned col = 1;
		for (size_t k = 0; k < n && col < d->loc.col; k++)
			if (((unsigned char)p[k] & 0xC0) != 0x80) {
				plumb_buf_addch(out, ' ');
				col++;
			}
		plumb_buf_addf(out, "%s^%s\n", green, reset);
	}
	plumb_vec_release(&sorted);
	return 0;
}

json_t *plumb_manifest_report_json(const struct plumb_manifest_set *set)
{
	json_t *errors = json_array(), *warnings = json_array(), *kinds = json_object();
	for (size_t i = 0; i < set->diags.len; i++) {
		const struct plumb_diag *d = set->diags.items[i];
		json_t *o = json_pack("{s:s,s:i,s:i,s:s,s:s}", "file", d->loc.file ? d->loc.file : "",
				      "line", (int)d->loc.line, "column", (int)d->loc.col, "path",
				      d->path ? d->path : "", "message", d->msg);
		json_array_append_new(d->sev == PLUMB_SEV_ERROR ? errors : warnings, o);
	}
	for (int k = 0; k < PLUMB_KIND__COUNT; k++)
		if (set->counts[k])
			json_object_set_new(kinds, plumb_kind_name(k), json_integer(set->counts[k]));
	json_t *expanded = json_object();
	for (size_t i = 0; i < set->resources.len; i++) {
		const struct plumb_resource *r = set->resources.items[i];
		const char *k = plumb_kind_name(r->kind);
		json_object_set_new(expanded, k,
				    json_integer(json_integer_value(json_object_get(expanded, k)) + 1));
	}
	return json_pack("{s:b,s:i,s:o,s:o,s:o,s:o}", "valid", plumb_manifest_errors(set) == 0,
			 "files", (int)set->files.len, "documents", kinds, "resources", expanded,
			 "errors", errors, "warnings", warnings);
}

/* ------------------------------------------------------------------ YAML output */

struct emit {
	yaml_emitter_t em;
	struct plumb_buf *out;
	bool failed;
};

static int write_cb(void *data, unsigned char *buffer, size_t size)
{
	struct emit *e = data;
	return plumb_buf_add(e->out, buffer, size) == 0;
}

static void ev(struct emit *e, yaml_event_t *event)
{
	if (!e->failed && !yaml_emitter_emit(&e->em, event))
		e->failed = true;
}

static void scalar(struct emit *e, const char *s, bool plain_ok)
{
	yaml_event_t event;
	yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), plain_ok,
				     !plain_ok, plain_ok ? YAML_ANY_SCALAR_STYLE
							 : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	ev(e, &event);
}

static void map_start(struct emit *e)
{
	yaml_event_t event;
	yaml_mapping_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	ev(e, &event);
}

static void map_end(struct emit *e)
{
	yaml_event_t event;
	yaml_mapping_end_event_initialize(&event);
	ev(e, &event);
}

/* A string that YAML would read back as another type is quoted. */
static bool plain_is_string(const char *s)
{
	static const char *const words[] = { "", "~", "null", "Null", "NULL", "true", "True", "TRUE",
					     "false", "False", "FALSE", "yes", "no", "on", "off" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(words); i++)
		if (strcmp(s, words[i]) == 0)
			return false;
	char *end;
	(void)strtod(s, &end);
	return !(end != s && *end == '\0') && s[0] != '.' && s[0] != '0';
}

static void emit_json(struct emit *e, const struct plumb_shape *s, const json_t *v);

static void emit_struct(struct emit *e, const struct plumb_shape *s, const json_t *v)
{
	map_start(e);
	const char *k;
	json_t *mv;
	/* shape order reads better than alphabetical, and is stable */
	for (size_t i = 0; s && i < s->n_members; i++) {
		const struct plumb_member *m = &s->members[i];
		if (!m->aws || !(mv = json_object_get(v, m->aws)))
			continue;
		scalar(e, m->name, true);
		emit_json(e, m->shape, mv);
	}
	json_object_foreach((json_t *)v, k, mv) {
		if (s && plumb_shape_member_aws(s, k))
			continue;
		scalar(e, k, true);
		emit_json(e, NULL, mv);
	}
	map_end(e);
}

static void emit_json(struct emit *e, const struct plumb_shape *s, const json_t *v)
{
	const char *target = plumb_ref_marker_target(v);
	if (target) {
		/* not known until apply: shown as the reference it came from */
		map_start(e);
		bool policy = strncmp(target, "ScalingPolicy/", 14) == 0;
		scalar(e, policy ? "policyRef" : "topicRef", true);
		scalar(e, strchr(target, '/') + 1, true);
		map_end(e);
		return;
	}
	yaml_event_t event;
	char num[64];
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (s && s->type == PLUMB_T_STRUCT) {
			emit_struct(e, s, v);
		} else {
			map_start(e);
			const char *k;
			json_t *mv;
			json_object_foreach((json_t *)v, k, mv) {
				scalar(e, k, plain_is_string(k));
				emit_json(e, s ? s->item : NULL, mv);
			}
			map_end(e);
		}
		break;
	case JSON_ARRAY: {
		yaml_sequence_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		ev(e, &event);
		size_t i;
		json_t *iv;
		json_array_foreach(v, i, iv)
			emit_json(e, s ? s->item : NULL, iv);
		yaml_sequence_end_event_initialize(&event);
		ev(e, &event);
		break;
	}
	case JSON_STRING:
		scalar(e, json_string_value(v), plain_is_string(json_string_value(v)));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		scalar(e, num, true);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		if (!strpbrk(num, ".e")) {
			size_t l = strlen(num);
			snprintf(num + l, sizeof(num) - l, ".0");
		}
		scalar(e, num, true);
		break;
	case JSON_TRUE:
		scalar(e, "true", true);
		break;
	case JSON_FALSE:
		scalar(e, "false", true);
		break;
	default:
		scalar(e, "null", true);
		break;
	}
}

int plumb_manifest_render_yaml(const struct plumb_manifest_set *set, struct plumb_buf *out)
{
	struct emit e = { .out = out };
	yaml_event_t event;
	if (!yaml_emitter_initialize(&e.em))
		return PLUMB_ENOMEM;
	yaml_emitter_set_output(&e.em, write_cb, &e);
	yaml_emitter_set_unicode(&e.em, 1);
	yaml_emitter_set_width(&e.em, 100);
	yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING);
	ev(&e, &event);
	for (size_t i = 0; i < set->resources.len; i++) {
		const struct plumb_resource *r = set->resources.items[i];
		yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 0);
		ev(&e, &event);
		map_start(&e);
		scalar(&e, "apiVersion", true);
		scalar(&e, "plumb/v1", true);
		scalar(&e, "kind", true);
		scalar(&e, plumb_kind_name(r->kind), true);
		scalar(&e, "metadata", true);
		map_start(&e);
		scalar(&e, "name", true);
		scalar(&e, r->name, plain_is_string(r->name));
		if (r->region) {
			scalar(&e, "region", true);
			scalar(&e, r->region, true);
		}
		if (json_object_size(r->tags)) {
			scalar(&e, "tags", true);
			emit_json(&e, NULL, r->tags);
		}
		scalar(&e, "annotations", true);
		map_start(&e);
		if (r->physical) {
			scalar(&e, "plumb/physical-name", true);
			scalar(&e, r->physical, plain_is_string(r->physical));
		}
		scalar(&e, "plumb/spec-hash", true);
		scalar(&e, r->hash, false);
		if (r->origin) {
			scalar(&e, "plumb/generated-by", true);
			scalar(&e, r->origin, true);
		}
		if (r->account) {
			scalar(&e, "plumb/account", true);
			scalar(&e, r->account, false);
		}
		map_end(&e);
		map_end(&e);
		scalar(&e, "spec", true);
		const struct plumb_shape *s = r->kind == PLUMB_KIND_SCALING_POLICY
						      ? &plumb_gen_policy_shape
						      : plumb_kind_info(r->kind)->spec;
		emit_json(&e, s, r->spec);
		map_end(&e);
		yaml_document_end_event_initialize(&event, 1);
		ev(&e, &event);
	}
	yaml_stream_end_event_initialize(&event);
	ev(&e, &event);
	yaml_emitter_flush(&e.em);
	yaml_emitter_delete(&e.em);
	return e.failed ? PLUMB_EINTERNAL : 0;
}

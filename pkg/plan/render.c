/*
 * pkg/plan/render.c — the human plan.
 *
 * Owns plumb_plan_render_text and plumb_plan_summary. The layout (docs/plan-format.md shows a
 * full example) follows Terraform's so that it reads at a glance:
 *
 *     plumb will make these changes:
 *
 *       + Model/clip (clip-6220d6f6, us-east-1) will be created
 *       ~ Endpoint/clip (us-east-1) will be updated in place
 *           ~ endpointConfigName: "clip-1a2b3c4d" -> "clip-6220d6f6"
 *             description: "x" (not managed)
 *     -/+ Topic/t (us-east-1) will be replaced
 *       - EndpointConfig/clip (clip-1a2b3c4d, us-east-1) will be deleted: superseded by ...
 *
 *     Actions, in order:
 *       1. create  Model/clip (clip-6220d6f6): CreateModel
 *       2. wait  Endpoint/clip InService on clip-6220d6f6   (after 1)
 *
 *     Plan: 1 to create, 1 to update, 0 to delete.
 *
 * Signs are right-aligned in three columns (+, ~, -, -/+). Values are compact JSON (strings
 * quoted), reference markers print as (known after apply), and a value longer than 72 bytes is
 * cut at a UTF-8 boundary and ends in "...". Colour is ANSI SGR and only added when asked for;
 * without it the text is plain ASCII apart from what the values contain. Pure: writes only to
 * the caller's buffer; costs O(size of the plan).
 */
#include "plan/plan.h"
#include "plan_int.h"

#include <stdlib.h>
#include <string.h>

#define VALUE_MAX 72 /* bytes of one rendered value before it is cut */

struct style {
	const char *green, *yellow, *red, *magenta, *dim, *bold, *reset; /* "" without colour */
};

static const struct style plain = { "", "", "", "", "", "", "" };
static const struct style ansi = { "\033[32m", "\033[33m", "\033[31m", "\033[35m",
				   "\033[2m",  "\033[1m",  "\033[0m" };

/* ------------------------------------------------------------------ values */

static int add_value(struct plumb_buf *b, const json_t *v, int depth)
{
	const char *ref = plumb_ref_marker_target(v);
	if (ref)
		return plumb_buf_adds(b, "(known after apply)");
	if (depth > 32)
		return plumb_buf_adds(b, "...");
	if (json_is_object(v)) {
		int rc = plumb_buf_addch(b, '{');
		const char *k;
		json_t *m;
		bool first = true;
		json_object_foreach((json_t *)v, k, m) {
			if (!first)
				rc = rc ? rc : plumb_buf_addch(b, ',');
			first = false;
			json_t *ks = json_string(k);
			char *kt = ks ? json_dumps(ks, JSON_ENCODE_ANY) : NULL;
			rc = rc ? rc : plumb_buf_adds(b, kt ? kt : "\"?\"");
			free(kt);
			json_decref(ks);
			rc = rc ? rc : plumb_buf_addch(b, ':');
			rc = rc ? rc : add_value(b, m, depth + 1);
		}
		return rc ? rc : plumb_buf_addch(b, '}');
	}
	if (json_is_array(v)) {
		int rc = plumb_buf_addch(b, '[');
		size_t i;
		json_t *m;
		json_array_foreach((json_t *)v, i, m) {
			if (i)
				rc = rc ? rc : plumb_buf_addch(b, ',');
			rc = rc ? rc : add_value(b, m, depth + 1);
		}
		return rc ? rc : plumb_buf_addch(b, ']');
	}
	char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	int rc = plumb_buf_adds(b, t ? t : "null");
	free(t);
	return rc;
}

/* v as the plan shows it: compact JSON, markers as (known after apply), long values cut. */
static int put_value(struct plumb_buf *out, const json_t *v)
{
	if (!v)
		return plumb_buf_adds(out, "null");
	struct plumb_buf b = PLUMB_BUF_INIT;
	int rc = add_value(&b, v, 0);
	if (!rc && b.len > VALUE_MAX) {
		size_t cut = VALUE_MAX - 3;
		while (cut > 0 && ((unsigned char)b.buf[cut] & 0xC0) == 0x80)
			cut--; /* never split a UTF-8 sequence */
		plumb_buf_truncate(&b, cut);
		rc = plumb_buf_adds(&b, "...");
	}
	rc = rc ? rc : plumb_buf_add(out, b.buf, b.len);
	plumb_buf_release(&b);
	return rc;
}

/* ------------------------------------------------------------------ resources */

static const char *sign_of(enum plumb_change_type t, const struct style *st, const char **colour)
{
	switch (t) {
	case PLUMB_CHANGE_CREATE: *colour = st->green; return "+";
	case PLUMB_CHANGE_NONE: /* listed only when the choreography redoes it */
	case PLUMB_CHANGE_UPDATE:
	case PLUMB_CHANGE_TAG:
	case PLUMB_CHANGE_ADOPT: *colour = st->yellow; return "~";
	case PLUMB_CHANGE_REPLACE: *colour = st->magenta; return "-/+";
	case PLUMB_CHANGE_DELETE: *colour = st->red; return "-";
	default: break;
	}
	*colour = "";
	return " ";
}

/* "Kind/name", then " (physical, region)" with the physical name only when it differs. */
static int put_address(struct plumb_buf *b, enum plumb_kind k, const char *name,
		       const char *physical, const char *region, bool where)
{
	int rc = plumb_buf_addf(b, "%s/%s", plumb_kind_name(k), name ? name : "?");
	if (!where)
		return rc;
	bool phys = physical && (!name || strcmp(physical, name) != 0);
	if (phys && region)
		rc = rc ? rc : plumb_buf_addf(b, " (%s, %s)", physical, region);
	else if (phys || region)
		rc = rc ? rc : plumb_buf_addf(b, " (%s)", phys ? physical : region);
	return rc;
}

static bool is_tag_path(const struct plumb_delta *dl)
{
	const char *p = dl->aws_path ? dl->aws_path : dl->path;
	return p && (strncmp(p, "Tags.", 5) == 0 || strcmp(p, "Tags") == 0);
}

static bool has_field_deltas(const struct plumb_change *c)
{
	for (size_t i = 0; i < c->deltas.len; i++) {
		const struct plumb_delta *dl = c->deltas.items[i];
		if (!dl->info && !is_tag_path(dl))
			return true;
	}
	return false;
}

static int put_phrase(struct plumb_buf *b, const struct plumb_change *c)
{
	switch (c->type) {
	case PLUMB_CHANGE_NONE:
		/* unchanged, but in the way of an endpoint update (see the actions' reasons) */
		if (c->kind == PLUMB_KIND_SCALABLE_TARGET)
			return plumb_buf_adds(b, " will be deregistered and registered again around "
						 "the endpoint update");
		if (c->kind == PLUMB_KIND_SCALING_POLICY)
			return plumb_buf_adds(b, " will be deleted and put again around the endpoint "
						 "update");
		if (c->kind == PLUMB_KIND_ENDPOINT)
			return plumb_buf_addf(b, " is %s: plumb waits until it is InService",
					      c->have && c->have->status ? c->have->status
									 : "not yet InService");
		return plumb_buf_adds(b, " will be put again to name the new policy ARN");
	case PLUMB_CHANGE_CREATE: return plumb_buf_adds(b, " will be created");
	case PLUMB_CHANGE_UPDATE: return plumb_buf_adds(b, " will be updated in place");
	case PLUMB_CHANGE_TAG: return plumb_buf_adds(b, " will have its tags updated");
	case PLUMB_CHANGE_ADOPT:
		return plumb_buf_adds(b, has_field_deltas(c) ? " will be adopted and updated"
							      : " will be adopted");
	case PLUMB_CHANGE_REPLACE: return plumb_buf_adds(b, " will be replaced");
	case PLUMB_CHANGE_DELETE:
		if (c->superseded && c->superseded_by)
			return plumb_buf_addf(b, " will be deleted: superseded by %s",
					      c->superseded_by);
		if (c->reason)
			return plumb_buf_addf(b, " will be deleted: %s", c->reason);
		return plumb_buf_adds(b, " will be deleted");
	default: break;
	}
	return 0;
}

static int put_delta(struct plumb_buf *b, const struct plumb_delta *dl, const struct style *st)
{
	const char *path = dl->path ? dl->path : dl->aws_path ? dl->aws_path : "?";
	int rc;
	if (dl->info) {
		rc = plumb_buf_addf(b, "        %s%s: ", st->dim, path);
		rc = rc ? rc : put_value(b, dl->old ? dl->old : dl->new);
		return rc ? rc : plumb_buf_addf(b, " (not managed)%s\n", st->reset);
	}
	const char *sign = "~", *colour = st->yellow;
	if (!dl->old) {
		sign = "+";
		colour = st->green;
	} else if (!dl->new) {
		sign = "-";
		colour = st->red;
	}
	rc = plumb_buf_addf(b, "      %s%s%s %s: ", colour, sign, st->reset, path);
	if (dl->old && dl->new) {
		rc = rc ? rc : put_value(b, dl->old);
		rc = rc ? rc : plumb_buf_adds(b, " -> ");
		rc = rc ? rc : put_value(b, dl->new);
	} else {
		rc = rc ? rc : put_value(b, dl->old ? dl->old : dl->new);
	}
	if (dl->forces_replace)
		rc = rc ? rc : plumb_buf_addf(b, "  %s# forces replacement%s", st->red, st->reset);
	return rc ? rc : plumb_buf_addch(b, '\n');
}

/*
 * A create (which has no deltas) shows its spec leaf by leaf, in manifest spelling:
 * "+ productionVariants[0].instanceType: "ml.g5.xlarge"", at most SPEC_LINES lines.
 */
#define SPEC_LINES 40

struct flat {
	struct plumb_buf *out;   /* where lines go */
	const struct style *st;  /* colours */
	struct plumb_buf path;   /* the path being walked */
	size_t lines, more;      /* lines written, lines left out */
	int rc;                  /* first failure */
};

static void flat_walk(struct flat *f, const struct plumb_shape *s, const json_t *v, int depth)
{
	bool object = json_is_object(v) && json_object_size(v) && !plumb_ref_marker_target(v);
	bool array = json_is_array(v) && json_array_size(v);
	if ((!object && !array) || depth > 16) {
		if (f->lines >= SPEC_LINES) {
			f->more++;
			return;
		}
		f->lines++;
		int rc = plumb_buf_addf(f->out, "      %s+%s %s: ", f->st->green, f->st->reset,
					f->path.buf);
		rc = rc ? rc : put_value(f->out, v);
		rc = rc ? rc : plumb_buf_addch(f->out, '\n');
		f->rc = f->rc ? f->rc : rc;
		return;
	}
	size_t mark = f->path.len;
	if (array) {
		size_t i;
		json_t *item;
		json_array_foreach((json_t *)v, i, item) {
			f->rc = f->rc ? f->rc : plumb_buf_addf(&f->path, "[%zu]", i);
			flat_walk(f, s && s->type == PLUMB_T_LIST ? s->item : NULL, item, depth + 1);
			plumb_buf_truncate(&f->path, mark);
		}
		return;
	}
	const char *k;
	json_t *m;
	json_object_foreach((json_t *)v, k, m) {
		const struct plumb_member *mem =
			s && s->type == PLUMB_T_STRUCT ? plumb_shape_member_aws(s, k) : NULL;
		const struct plumb_shape *sub = mem ? mem->shape
					       : s && s->type == PLUMB_T_MAP ? s->item : NULL;
		f->rc = f->rc ? f->rc : plumb_buf_addf(&f->path, "%s%s", mark ? "." : "",
						       mem ? mem->name : k);
		flat_walk(f, sub, m, depth + 1);
		plumb_buf_truncate(&f->path, mark);
	}
}

static int put_spec(struct plumb_buf *b, const struct plumb_change *c, const struct style *st)
{
	const json_t *spec = c->spec ? c->spec : c->want ? c->want->spec : NULL;
	if (!json_is_object(spec) || !json_object_size(spec))
		return 0;
	struct flat f = { .out = b, .st = st };
	plumb_buf_init(&f.path, 0);
	flat_walk(&f, plumb_kind_info(c->kind)->spec, spec, 0);
	plumb_buf_release(&f.path);
	if (!f.rc && f.more)
		f.rc = plumb_buf_addf(b, "      %s+%s ... %zu more\n", st->green, st->reset, f.more);
	return f.rc;
}

static int put_resource(struct plumb_buf *b, const struct plumb_change *c, const struct style *st)
{
	const char *colour;
	const char *sign = sign_of(c->type, st, &colour);
	int rc = plumb_buf_addf(b, "%*s%s%s%s ", (int)(3 - strlen(sign)), "", colour, sign,
				st->reset);
	rc = rc ? rc : put_address(b, c->kind, c->name, c->physical, c->region, true);
	rc = rc ? rc : put_phrase(b, c);
	rc = rc ? rc : plumb_buf_addch(b, '\n');
	bool fields = false;
	for (size_t i = 0; i < c->deltas.len && !rc; i++) {
		const struct plumb_delta *dl = c->deltas.items[i];
		if (!dl->info) {
			fields = true;
			rc = put_delta(b, dl, st);
		}
	}
	if (!rc && !fields && c->type == PLUMB_CHANGE_CREATE)
		rc = put_spec(b, c, st);
	for (size_t i = 0; i < c->deltas.len && !rc; i++) {
		const struct plumb_delta *dl = c->deltas.items[i];
		if (dl->info)
			rc = put_delta(b, dl, st);
	}
	return rc;
}

/* ------------------------------------------------------------------ actions */

static int put_keys(struct plumb_buf *b, const json_t *tags)
{
	int rc = 0;
	if (json_is_object(tags)) {
		const char *k;
		json_t *v;
		bool first = true;
		json_object_foreach((json_t *)tags, k, v) {
			rc = rc ? rc : plumb_buf_addf(b, "%s%s", first ? "" : ", ", k);
			first = false;
		}
	} else {
		size_t i;
		json_t *v;
		json_array_foreach((json_t *)tags, i, v)
			rc = rc ? rc : plumb_buf_addf(b, "%s%s", i ? ", " : "",
						      json_string_value(v) ? json_string_value(v) : "?");
	}
	return rc;
}

/* One action line; its reason below it unless the action before gave the same one. */
static int put_action(struct plumb_buf *b, const struct plumb_action *a, const char *prev_why,
		      const struct style *st)
{
	const char *colour = "";
	switch (a->type) {
	case PLUMB_ACTION_CREATE: colour = st->green; break;
	case PLUMB_ACTION_UPDATE:
	case PLUMB_ACTION_TAG: colour = st->yellow; break;
	case PLUMB_ACTION_DELETE: colour = st->red; break;
	case PLUMB_ACTION_WAIT: break;
	}
	int rc = plumb_buf_addf(b, "  %zu. %s%s%s  ", a->id + 1, colour,
				plumb_action_type_name(a->type), *colour ? st->reset : "");
	if (a->type == PLUMB_ACTION_WAIT) {
		rc = rc ? rc : put_address(b, a->kind, a->name, NULL, NULL, false);
		if (a->wait_for == PLUMB_WAIT_IN_SERVICE)
			rc = rc ? rc : plumb_buf_addf(b, " InService on %s",
						      a->wait_config ? a->wait_config : "?");
		else
			rc = rc ? rc : plumb_buf_adds(b, " deleted");
	} else {
		rc = rc ? rc : put_address(b, a->kind, a->name, a->physical, NULL, true);
		if (a->type == PLUMB_ACTION_TAG) {
			rc = rc ? rc : plumb_buf_adds(b, ":");
			if (a->add_tags) {
				rc = rc ? rc : plumb_buf_adds(b, " add ");
				rc = rc ? rc : put_keys(b, a->add_tags);
			}
			if (a->add_tags && a->remove_tags)
				rc = rc ? rc : plumb_buf_addch(b, ';');
			if (a->remove_tags) {
				rc = rc ? rc : plumb_buf_adds(b, " remove ");
				rc = rc ? rc : put_keys(b, a->remove_tags);
			}
		} else {
			const char *op = plumb__plan_operation(a);
			rc = rc ? rc : plumb_buf_addf(b, ": %s", op ? op : "?");
		}
	}
	for (size_t i = 0; i < a->deps.len && !rc; i++)
		rc = plumb_buf_addf(b, "%s%zu", i ? ", " : "   (after ",
				    ((const struct plumb_action *)a->deps.items[i])->id + 1);
	if (a->deps.len)
		rc = rc ? rc : plumb_buf_addch(b, ')');
	rc = rc ? rc : plumb_buf_addch(b, '\n');
	if (a->why && (!prev_why || strcmp(prev_why, a->why) != 0))
		rc = rc ? rc : plumb_buf_addf(b, "       %s# %s%s\n", st->dim, a->why, st->reset);
	return rc;
}

/* ------------------------------------------------------------------ public */

int plumb_plan_summary(const struct plumb_plan *p, struct plumb_buf *out)
{
	int rc = plumb_buf_addf(out, "%u to create, %u to update, ", p->n_create,
				p->n_update + p->n_tag);
	if (p->n_replace)
		rc = rc ? rc : plumb_buf_addf(out, "%u to replace, ", p->n_replace);
	return rc ? rc : plumb_buf_addf(out, "%u to delete", p->n_delete);
}

int plumb_plan_render_text(const struct plumb_plan *p, struct plumb_buf *out, bool color)
{
	const struct style *st = color ? &ansi : &plain;
	const struct plumb_diff *d = p->diff;
	size_t n = d ? d->changes.len : 0;
	int rc = 0;
	bool any = false;
	for (size_t i = 0; i < n && !rc; i++) {
		const struct plumb_change *c = d->changes.items[i];
		if (c->type == PLUMB_CHANGE_ORPHAN || c->type == PLUMB_CHANGE_CONFLICT ||
		    !plumb__plan_lists_change(p, c))
			continue;
		if (!any)
			rc = plumb_buf_adds(out, "plumb will make these changes:\n\n");
		any = true;
		rc = rc ? rc : put_resource(out, c, st);
	}
	if (any)
		rc = rc ? rc : plumb_buf_addch(out, '\n');
	if (p->n_orphan) {
		rc = rc ? rc : plumb_buf_adds(out, "Not in any manifest; kept because prune is off:\n");
		for (size_t i = 0; i < n && !rc; i++) {
			const struct plumb_change *c = d->changes.items[i];
			if (c->type != PLUMB_CHANGE_ORPHAN)
				continue;
			rc = plumb_buf_adds(out, "    ");
			rc = rc ? rc : put_address(out, c->kind, c->name, c->physical, c->region, true);
			rc = rc ? rc : plumb_buf_addch(out, '\n');
		}
		rc = rc ? rc : plumb_buf_addch(out, '\n');
	}
	if (p->n_conflict) {
		rc = rc ? rc : plumb_buf_adds(out, "Conflicts (nothing is planned for these):\n");
		for (size_t i = 0; i < n && !rc; i++) {
			const struct plumb_change *c = d->changes.items[i];
			if (c->type != PLUMB_CHANGE_CONFLICT)
				continue;
			rc = plumb_buf_addf(out, "  %s%serror:%s ", st->bold, st->red, st->reset);
			rc = rc ? rc : put_address(out, c->kind, c->name, c->physical, c->region, true);
			rc = rc ? rc : plumb_buf_addf(out, ": %s\n",
						      c->reason ? c->reason : "not ours");
		}
		rc = rc ? rc : plumb_buf_addch(out, '\n');
	}
	if (p->actions.len) {
		rc = rc ? rc : plumb_buf_adds(out, "Actions, in order:\n");
		for (size_t i = 0; i < p->actions.len && !rc; i++)
			rc = put_action(out, p->actions.items[i],
					i ? ((const struct plumb_action *)p->actions.items[i - 1])->why
					  : NULL,
					st);
		rc = rc ? rc : plumb_buf_addch(out, '\n');
		rc = rc ? rc : plumb_buf_addf(out, "%sPlan:%s ", st->bold, st->reset);
		rc = rc ? rc : plumb_plan_summary(p, out);
		rc = rc ? rc : plumb_buf_adds(out, ".\n");
	} else {
		rc = rc ? rc : plumb_buf_adds(out, "No changes. Live state matches the manifests.\n");
	}
	return rc;
}

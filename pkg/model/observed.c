/*
 * Observed resources: the live side of a diff, one struct per resource and a set indexed by
 * identity. The identity key is "Kind|region|name|parent"; SageMaker names are lower-cased in
 * the key because SageMaker treats them case-insensitively (and spells them lower-case in ARNs),
 * while alarm, topic and Application Auto Scaling names are case-sensitive. Costs: one
 * allocation per string, one map slot per item; lookups are O(1).
 */
#include "model/model.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool sagemaker_kind(enum plumb_kind k)
{
	return k == PLUMB_KIND_MODEL || k == PLUMB_KIND_ENDPOINT_CONFIG || k == PLUMB_KIND_ENDPOINT;
}

struct plumb_observed *plumb_observed_new(enum plumb_kind kind, const char *region,
					  const char *name, const char *parent)
{
	struct plumb_observed *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->kind = kind;
	o->region = dup_or_null(region ? region : "");
	o->name = dup_or_null(name ? name : "");
	o->parent = dup_or_null(parent);
	if (!o->region || !o->name || (parent && !o->parent)) {
		plumb_observed_free(o);
		return NULL;
	}
	return o;
}

void plumb_observed_free(struct plumb_observed *o)
{
	if (!o)
		return;
	free(o->region);
	free(o->name);
	free(o->parent);
	free(o->arn);
	free(o->status);
	json_decref(o->live);
	json_decref(o->tags);
	free(o);
}

struct plumb_observed *plumb_observed_dup(const struct plumb_observed *o)
{
	struct plumb_observed *c = plumb_observed_new(o->kind, o->region, o->name, o->parent);
	if (!c)
		return NULL;
	c->arn = dup_or_null(o->arn);
	c->status = dup_or_null(o->status);
	c->live = o->live ? json_deep_copy(o->live) : NULL;
	c->tags = o->tags ? json_deep_copy(o->tags) : NULL;
	c->created_ms = o->created_ms;
	c->modified_ms = o->modified_ms;
	c->observed_ms = o->observed_ms;
	if ((o->arn && !c->arn) || (o->status && !c->status) || (o->live && !c->live) ||
	    (o->tags && !c->tags)) {
		plumb_observed_free(c);
		return NULL;
	}
	return c;
}

const char *plumb_observed_tag(const struct plumb_observed *o, const char *key)
{
	return o && o->tags ? json_string_value(json_object_get(o->tags, key)) : NULL;
}

char *plumb_observed_key(enum plumb_kind kind, const char *region, const char *name,
			 const char *parent)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	int rc = plumb_buf_addf(&b, "%s|%s|", plumb_kind_name(kind), region ? region : "");
	size_t at = b.len;
	rc |= plumb_buf_adds(&b, name ? name : "");
	if (rc == 0 && sagemaker_kind(kind))
		for (size_t i = at; i < b.len; i++)
			b.buf[i] = (char)tolower((unsigned char)b.buf[i]);
	rc |= plumb_buf_addf(&b, "|%s", kind == PLUMB_KIND_SCALING_POLICY && parent ? parent : "");
	if (rc != 0) {
		plumb_buf_release(&b);
		return NULL;
	}
	return plumb_buf_detach(&b, NULL);
}

static int cmp_str(const char *a, const char *b, bool fold)
{
	for (a = a ? a : "", b = b ? b : ""; *a || *b; a++, b++) {
		int ca = fold ? tolower((unsigned char)*a) : (unsigned char)*a;
		int cb = fold ? tolower((unsigned char)*b) : (unsigned char)*b;
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

static int state_order(const void *x, const void *y)
{
	const struct plumb_observed *a = *(struct plumb_observed *const *)x;
	const struct plumb_observed *b = *(struct plumb_observed *const *)y;
	int c = cmp_str(a->region, b->region, false);
	if (!c)
		c = strcmp(plumb_kind_name(a->kind), plumb_kind_name(b->kind));
	if (!c)
		c = cmp_str(a->name, b->name, sagemaker_kind(a->kind));
	if (!c)
		c = cmp_str(a->kind == PLUMB_KIND_SCALING_POLICY ? a->parent : NULL,
			    b->kind == PLUMB_KIND_SCALING_POLICY ? b->parent : NULL, false);
	return c;
}

void plumb_observed_set_sort(struct plumb_observed_set *s, size_t from)
{
	if (from < s->items.len && s->items.len - from > 1)
		qsort(s->items.items + from, s->items.len - from, sizeof(s->items.items[0]),
		      state_order);
}

void plumb_observed_set_init(struct plumb_observed_set *s)
{
	memset(s, 0, sizeof(*s));
}

void plumb_observed_set_release(struct plumb_observed_set *s)
{
	for (size_t i = 0; i < s->items.len; i++)
		plumb_observed_free(s->items.items[i]);
	plumb_vec_release(&s->items);
	plumb_map_release(&s->index);
	memset(s, 0, sizeof(*s));
}

int plumb_observed_set_add(struct plumb_observed_set *s, struct plumb_observed *o)
{
	char *key = plumb_observed_key(o->kind, o->region, o->name, o->parent);
	if (!key) {
		plumb_observed_free(o);
		return PLUMB_ENOMEM;
	}
	int rc = plumb_map_put(&s->index, key, o);
	free(key);
	if (rc == 0 && plumb_vec_push(&s->items, o) != 0)
		rc = PLUMB_ENOMEM; /* the map keeps a dangling entry: the set is unusable now */
	if (rc != 0)
		plumb_observed_free(o);
	return rc;
}

struct plumb_observed *plumb_observed_find(const struct plumb_observed_set *s,
					   enum plumb_kind kind, const char *region,
					   const char *name, const char *parent)
{
	char *key = plumb_observed_key(kind, region, name, parent);
	if (!key)
		return NULL;
	struct plumb_observed *o = plumb_map_get(&s->index, key);
	free(key);
	return o;
}

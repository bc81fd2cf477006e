/*
 * Field-by-field comparison of a wanted spec with the live one, and the normalisation registry
 * that keeps AWS's way of echoing a value from showing up as a change forever.
 *
 * The walk follows the kind's spec shape (AWS member names), so every delta knows its manifest
 * spelling (member .name) and its AWS spelling (member .aws). Rules, in the order applied at
 * each value:
 *
 *  1. registry rules for the value's place (table `rules` below);
 *  2. absence: a missing value, an empty list, an empty map/object and an empty string are one
 *     thing ("absent"); then a member's AWS default (shape tables, or a DEFAULT rule) stands in
 *     for an absent value on either side, so 1.0 == absent for InitialVariantWeight and a live
 *     value moved away from its default is a change whose "new" is the default;
 *  3. structures are walked member by member, an absent one counting as {} (so the defaults
 *     inside still apply); a member the manifest leaves out that has no default is unmanaged:
 *     a live value there is an info delta, never a change;
 *  4. lists are compared item by item (extra or missing items are deltas), except lists the
 *     registry calls sets (dimensions, alarm actions): order ignored, one delta for the list;
 *  5. maps the manifest sets are owned whole (Environment: a live key the manifest lacks is a
 *     change), except SNS topic attributes, where unset live attributes are info;
 *  6. scalars: numbers by value (1 == 1.0), JSON-in-strings parsed where the registry says so,
 *     anything else by JSON equality. A reference marker never equals a live string.
 *
 * forces_replace: every managed delta of an immutable kind (Model, EndpointConfig: SageMaker has
 * no update), plus the REPLACE rows of the registry. Costs: O(size of both specs) plus a sort of
 * each set-like list.
 */
#include "diff/diff.h"
#include "diff/diff_int.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the normalisation registry */

enum norm_rule {
	NORM_SKIP,        /* never compared, never shown */
	NORM_SET,         /* list compared as a set: order ignored, one delta for the whole list */
	NORM_JSON_TEXT,   /* a string holding JSON: compared parsed */
	NORM_SUBSTITUTED, /* live value the service puts in place of what was sent: equal to any
			   * wanted value (or none) when the live value contains `value` */
	NORM_DEFAULT,     /* the value AWS assumes when absent, where the shapes record none */
	NORM_INFO_EXTRA,  /* map: live keys the manifest does not set are info, not changes */
	NORM_REPLACE,     /* AWS cannot change it in place: delete and create */
};

struct norm {
	int kind;            /* enum plumb_kind, or -1 for every kind */
	const char *where;   /* "shape:<shape name>" or an AWS path from the spec root without list
			      * indexes ("Attributes.FifoTopic") */
	enum norm_rule rule; /* what to do there */
	const char *value;   /* DEFAULT: JSON text; SUBSTITUTED: what the live value contains */
};

/* Keep in step with docs/diff.md. */
static const struct norm rules[] = {
	/* how to update, not state: DescribeEndpoint only reports the last one used */
	{ PLUMB_KIND_ENDPOINT, "DeploymentConfig", NORM_SKIP, NULL },
	/* GetTopicAttributes does not return it (GetDataProtectionPolicy does; not observed) */
	{ PLUMB_KIND_TOPIC, "DataProtectionPolicy", NORM_SKIP, NULL },
	/* Application Auto Scaling uses its service-linked role for SageMaker whatever is sent */
	{ PLUMB_KIND_SCALABLE_TARGET, "RoleARN", NORM_SUBSTITUTED, ":role/aws-service-role/" },
	{ PLUMB_KIND_SCALABLE_TARGET, "ResourceId", NORM_REPLACE, NULL },
	{ PLUMB_KIND_SCALABLE_TARGET, "ScalableDimension", NORM_REPLACE, NULL },
	/* dimensions are a set (CloudWatch may echo them in another order) */
	{ -1, "shape:Dimensions", NORM_SET, NULL },
	{ -1, "shape:MetricDimensions", NORM_SET, NULL },
	{ -1, "shape:TargetTrackingMetricDimensions", NORM_SET, NULL },
	/* alarm actions are a set of ARNs */
	{ -1, "shape:plumb.ActionList", NORM_SET, NULL },
	/* SNS: the service adds Owner, TopicArn, Policy, EffectiveDeliveryPolicy, counters */
	{ PLUMB_KIND_TOPIC, "Attributes", NORM_INFO_EXTRA, NULL },
	{ PLUMB_KIND_TOPIC, "Attributes.Policy", NORM_JSON_TEXT, NULL },
	{ PLUMB_KIND_TOPIC, "Attributes.DeliveryPolicy", NORM_JSON_TEXT, NULL },
	{ PLUMB_KIND_TOPIC, "Attributes.ArchivePolicy", NORM_JSON_TEXT, NULL },
	{ PLUMB_KIND_TOPIC, "Attributes.FifoTopic", NORM_DEFAULT, "\"false\"" },
	{ PLUMB_KIND_TOPIC, "Attributes.FifoTopic", NORM_REPLACE, NULL },
	{ PLUMB_KIND_TOPIC, "Attributes.ContentBasedDeduplication", NORM_DEFAULT, "\"false\"" },
	{ PLUMB_KIND_TOPIC, "Attributes.SignatureVersion", NORM_DEFAULT, "\"1\"" },
	{ PLUMB_KIND_TOPIC, "Attributes.TracingConfig", NORM_DEFAULT, "\"PassThrough\"" },
};

/* ---------------------------------------------------------------- equality */

bool plumb__json_eq(const json_t *x, const json_t *y)
{
	if (x == y)
		return true;
	if (!x || !y)
		return false;
	if (json_is_number(x) && json_is_number(y))
		return json_number_value(x) == json_number_value(y);
	if (json_typeof(x) != json_typeof(y))
		return false;
	if (json_is_array(x)) {
		if (json_array_size(x) != json_array_size(y))
			return false;
		for (size_t i = 0; i < json_array_size(x); i++)
			if (!plumb__json_eq(json_array_get(x, i), json_array_get(y, i)))
				return false;
		return true;
	}
	if (json_is_object(x)) {
		if (json_object_size(x) != json_object_size(y))
			return false;
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)x, k, v)
			if (!plumb__json_eq(v, json_object_get(y, k)))
				return false;
		return true;
	}
	return json_equal((json_t *)x, (json_t *)y);
}

void plumb__delta_release(struct plumb_delta *dl)
{
	if (!dl)
		return;
	json_decref(dl->old);
	json_decref(dl->new);
	dl->old = dl->new = NULL;
}

/* ---------------------------------------------------------------- the walk */

struct cmp {
	struct plumb_arena *a;   /* deltas and their paths */
	struct plumb_vec *out;   /* struct plumb_delta * found */
	enum plumb_kind kind;    /* whose spec */
	bool immutable;          /* every managed delta forces a replacement */
	struct plumb_buf mpath;  /* manifest spelling of where we are */
	struct plumb_buf apath;  /* AWS spelling */
	struct plumb_buf spath;  /* AWS spelling without list indexes: registry key */
	int rc;                  /* first failure (PLUMB_ENOMEM) */
};

static const struct norm *rule_at(const struct cmp *c, const struct plumb_shape *s,
				  enum norm_rule rule)
{
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(rules); i++) {
		const struct norm *n = &rules[i];
		if (n->rule != rule || (n->kind >= 0 && n->kind != (int)c->kind))
			continue;
		if (strncmp(n->where, "shape:", 6) == 0) {
			if (s && s->name && strcmp(n->where + 6, s->name) == 0)
				return n;
		} else if (strcmp(n->where, c->spath.buf) == 0) {
			return n;
		}
	}
	return NULL;
}

static bool absent(const json_t *v)
{
	if (!v || json_is_null(v))
		return true;
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_object(v))
		return json_object_size(v) == 0;
	if (json_is_string(v))
		return json_string_length(v) == 0;
	return false;
}

static void add_delta(struct cmp *c, const json_t *old, const json_t *new, bool info)
{
	if (c->rc)
		return;
	struct plumb_delta *d = plumb_arena_zalloc(c->a, sizeof(*d));
	if (!d || !(d->path = plumb_arena_strdup(c->a, c->mpath.buf)) ||
	    !(d->aws_path = plumb_arena_strdup(c->a, c->apath.buf))) {
		c->rc = PLUMB_ENOMEM;
		return;
	}
	d->old = old ? json_deep_copy(old) : NULL;
	d->new = new ? json_deep_copy(new) : NULL;
	d->info = info;
	d->forces_replace = !info && (c->immutable || rule_at(c, NULL, NORM_REPLACE));
	if ((old && !d->old) || (new && !d->new) || plumb_vec_push(c->out, d) != 0) {
		plumb__delta_release(d);
		c->rc = PLUMB_ENOMEM;
	}
}

/* Where we are, as lengths to go back to. */
struct mark {
	size_t m, a, s;
};

static struct mark mark(const struct cmp *c)
{
	return (struct mark){ c->mpath.len, c->apath.len, c->spath.len };
}

static void back(struct cmp *c, struct mark k)
{
	plumb_buf_truncate(&c->mpath, k.m);
	plumb_buf_truncate(&c->apath, k.a);
	plumb_buf_truncate(&c->spath, k.s);
}

static void push_key(struct cmp *c, const char *manifest, const char *aws)
{
	int rc = 0;
	if (c->mpath.len)
		rc |= plumb_buf_addch(&c->mpath, '.');
	if (c->apath.len)
		rc |= plumb_buf_addch(&c->apath, '.');
	if (c->spath.len)
		rc |= plumb_buf_addch(&c->spath, '.');
	rc |= plumb_buf_adds(&c->mpath, manifest);
	rc |= plumb_buf_adds(&c->apath, aws);
	rc |= plumb_buf_adds(&c->spath, aws);
	if (rc)
		c->rc = PLUMB_ENOMEM;
}

static void push_index(struct cmp *c, size_t i)
{
	if (plumb_buf_addf(&c->mpath, "[%zu]", i) || plumb_buf_addf(&c->apath, "[%zu]", i))
		c->rc = PLUMB_ENOMEM;
}

/* A copy with every number a real, so 1 and 1.0 sort alike. */
static json_t *numbers_as_reals(const json_t *v)
{
	if (json_is_number(v))
		return json_real(json_number_value(v));
	if (json_is_array(v)) {
		json_t *o = json_array();
		for (size_t i = 0; o && i < json_array_size(v); i++)
			json_array_append_new(o, numbers_as_reals(json_array_get(v, i)));
		return o;
	}
	if (json_is_object(v)) {
		json_t *o = json_object();
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
			if (o)
				json_object_set_new(o, k, numbers_as_reals(x));
		return o;
	}
	return json_deep_copy(v);
}

struct keyed {
	char *key;         /* canonical text, the sort key */
	const json_t *v;   /* the item */
};

static int cmp_keyed(const void *x, const void *y)
{
	const struct keyed *p = x, *q = y;
	return strcmp(p->key, q->key);
}

/* Sorted canonical texts of a list's items; NULL on allocation failure. */
static struct keyed *sorted_items(const json_t *list, size_t *n)
{
	*n = json_array_size(list);
	struct keyed *k = calloc(*n ? *n : 1, sizeof(*k));
	if (!k)
		return NULL;
	for (size_t i = 0; i < *n; i++) {
		json_t *r = numbers_as_reals(json_array_get(list, i));
		k[i].v = json_array_get(list, i);
		k[i].key = r ? json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
						  JSON_REAL_PRECISION(17))
			     : NULL;
		json_decref(r);
		if (!k[i].key) {
			for (size_t j = 0; j < i; j++)
				free(k[j].key);
			free(k);
			return NULL;
		}
	}
	qsort(k, *n, sizeof(*k), cmp_keyed);
	return k;
}

/* Two lists equal as sets (multisets, to be exact). -1 on allocation failure. */
static int set_eq(const json_t *w, const json_t *h)
{
	size_t nw, nh;
	if (json_array_size(w) != json_array_size(h))
		return 0;
	struct keyed *kw = sorted_items(w, &nw);
	struct keyed *kh = kw ? sorted_items(h, &nh) : NULL;
	int eq = kw && kh ? 1 : -1;
	for (size_t i = 0; eq == 1 && i < nw; i++)
		if (!plumb__json_eq(kw[i].v, kh[i].v))
			eq = 0;
	for (size_t i = 0; kw && i < nw; i++)
		free(kw[i].key);
	for (size_t i = 0; kh && i < nh; i++)
		free(kh[i].key);
	free(kw);
	free(kh);
	return eq;
}

/* Strings holding JSON: equal when both parse to equal values, else when equal as text. */
static bool json_text_eq(const json_t *w, const json_t *h)
{
	if (!json_is_string(w) || !json_is_string(h))
		return plumb__json_eq(w, h);
	json_t *pw = json_loads(json_string_value(w), JSON_DECODE_ANY, NULL);
	json_t *ph = json_loads(json_string_value(h), JSON_DECODE_ANY, NULL);
	bool eq = pw && ph ? plumb__json_eq(pw, ph) : plumb__json_eq(w, h);
	json_decref(pw);
	json_decref(ph);
	return eq;
}

static void walk(struct cmp *c, const struct plumb_shape *s, const char *dflt, const json_t *w,
		 const json_t *h, bool owned);

static void walk_struct(struct cmp *c, const struct plumb_shape *s, const json_t *w,
			const json_t *h)
{
	for (size_t i = 0; i < s->n_members && !c->rc; i++) {
		const struct plumb_member *m = &s->members[i];
		if (!m->aws)
			continue;
		struct mark k = mark(c);
		push_key(c, m->name, m->aws);
		walk(c, m->shape, m->dflt, json_object_get(w, m->aws), json_object_get(h, m->aws),
		     false);
		back(c, k);
	}
	/* members the shape does not know (should not happen): compared as they are */
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)w, key, v) {
		if (c->rc || plumb_shape_member_aws(s, key) || strncmp(key, "plumb:", 6) == 0)
			continue;
		struct mark k = mark(c);
		push_key(c, key, key);
		walk(c, NULL, NULL, v, json_object_get(h, key), false);
		back(c, k);
	}
	json_object_foreach((json_t *)h, key, v) {
		if (c->rc || plumb_shape_member_aws(s, key) || json_object_get(w, key))
			continue;
		struct mark k = mark(c);
		push_key(c, key, key);
		walk(c, NULL, NULL, NULL, v, false);
		back(c, k);
	}
}

static void walk_map(struct cmp *c, const struct plumb_shape *s, const json_t *w,
		     const json_t *h)
{
	bool extra_info = rule_at(c, s, NORM_INFO_EXTRA) != NULL;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)w, key, v) {
		if (c->rc)
			break;
		struct mark k = mark(c);
		push_key(c, key, key);
		walk(c, s->item, NULL, v, json_object_get(h, key), true);
		back(c, k);
	}
	json_object_foreach((json_t *)h, key, v) {
		if (c->rc || json_object_get(w, key))
			continue;
		struct mark k = mark(c);
		push_key(c, key, key);
		walk(c, s->item, NULL, NULL, v, !extra_info);
		back(c, k);
	}
}

static void walk_list(struct cmp *c, const struct plumb_shape *s, const json_t *w,
		      const json_t *h)
{
	size_t nw = json_array_size(w), nh = json_array_size(h);
	for (size_t i = 0; i < (nw > nh ? nw : nh) && !c->rc; i++) {
		struct mark k = mark(c);
		push_index(c, i);
		const json_t *wi = json_array_get(w, i), *hi = json_array_get(h, i);
		if (wi && hi)
			walk(c, s ? s->item : NULL, NULL, wi, hi, true);
		else
			add_delta(c, hi, wi, false);
		back(c, k);
	}
}

/*
 * Compares w (wanted) and h (live) at the current path. s is the value's shape (NULL when
 * unknown), dflt the member's AWS default, owned whether a live value with nothing wanted is a
 * change (inside something the manifest sets whole: list items, map entries) rather than info.
 */
static void walk(struct cmp *c, const struct plumb_shape *s, const char *dflt, const json_t *w,
		 const json_t *h, bool owned)
{
	if (c->rc || rule_at(c, s, NORM_SKIP))
		return;
	const struct norm *sub = rule_at(c, s, NORM_SUBSTITUTED);
	if (sub && json_is_string(h) && strstr(json_string_value(h), sub->value))
		return;
	const struct norm *nd = rule_at(c, s, NORM_DEFAULT);
	if (!dflt && nd)
		dflt = nd->value;
	json_t *dw = NULL, *dh = NULL;
	if (dflt && absent(w))
		w = dw = json_loads(dflt, JSON_DECODE_ANY, NULL);
	if (dflt && absent(h))
		h = dh = json_loads(dflt, JSON_DECODE_ANY, NULL);
	bool wa = absent(w), ha = absent(h);
	enum plumb_shape_type t = s ? s->type : PLUMB_T_STRING;
	if (wa && ha) {
		/* nothing either side */
	} else if (s && t == PLUMB_T_STRUCT && (wa || json_is_object(w)) &&
		   (ha || json_is_object(h))) {
		json_t *empty = json_object();
		if (!empty)
			c->rc = PLUMB_ENOMEM;
		else
			walk_struct(c, s, wa ? empty : w, ha ? empty : h);
		json_decref(empty);
	} else if (s && t == PLUMB_T_MAP && wa && json_is_object(h) &&
		   rule_at(c, s, NORM_INFO_EXTRA)) {
		json_t *empty = json_object();
		if (!empty)
			c->rc = PLUMB_ENOMEM;
		else
			walk_map(c, s, empty, h);
		json_decref(empty);
	} else if (wa) {
		add_delta(c, h, NULL, !owned);
	} else if (ha) {
		add_delta(c, NULL, w, false);
	} else if (t == PLUMB_T_LIST && json_is_array(w) && json_is_array(h)) {
		if (rule_at(c, s, NORM_SET)) {
			int eq = set_eq(w, h);
			if (eq < 0)
				c->rc = PLUMB_ENOMEM;
			else if (!eq)
				add_delta(c, h, w, false);
		} else {
			walk_list(c, s, w, h);
		}
	} else if (t == PLUMB_T_MAP && json_is_object(w) && json_is_object(h)) {
		walk_map(c, s, w, h);
	} else if (rule_at(c, s, NORM_JSON_TEXT) ? !json_text_eq(w, h) : !plumb__json_eq(w, h)) {
		add_delta(c, h, w, false);
	}
	json_decref(dw);
	json_decref(dh);
}

int plumb__diff_spec(struct plumb_arena *a, enum plumb_kind kind, const json_t *want,
		     const json_t *have, struct plumb_vec *out)
{
	const struct plumb_kind_info *ki = plumb_kind_info(kind);
	if (!ki || !have)
		return 0;
	struct cmp c = { .a = a, .out = out, .kind = kind, .immutable = ki->immutable };
	plumb_buf_init(&c.mpath, 0);
	plumb_buf_init(&c.apath, 0);
	plumb_buf_init(&c.spath, 0);
	walk(&c, ki->spec, NULL, want, have, false);
	plumb_buf_release(&c.mpath);
	plumb_buf_release(&c.apath);
	plumb_buf_release(&c.spath);
	return c.rc;
}

int plumb__diff_tags(struct plumb_arena *a, const json_t *want, const json_t *have,
		     struct plumb_vec *out)
{
	struct cmp c = { .a = a, .out = out, .kind = PLUMB_KIND__COUNT };
	plumb_buf_init(&c.mpath, 0);
	plumb_buf_init(&c.apath, 0);
	plumb_buf_init(&c.spath, 0);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)want, key, v) {
		json_t *h = json_object_get(have, key);
		if (h && json_equal(h, v))
			continue;
		struct mark k = mark(&c);
		push_key(&c, "tags", "Tags");
		push_key(&c, key, key);
		add_delta(&c, h, v, false);
		back(&c, k);
	}
	json_object_foreach((json_t *)have, key, v) {
		if (json_object_get(want, key) || strncmp(key, "aws:", 4) == 0)
			continue;
		struct mark k = mark(&c);
		push_key(&c, "tags", "Tags");
		push_key(&c, key, key);
		add_delta(&c, v, NULL, false);
		back(&c, k);
	}
	plumb_buf_release(&c.mpath);
	plumb_buf_release(&c.apath);
	plumb_buf_release(&c.spath);
	return c.rc;
}

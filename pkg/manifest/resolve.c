/*
 * Whole-set work after every file is parsed: Defaults inheritance, duplicate names, shorthand
 * expansion (policy and alarm expressions, scaleToZero, scaling policies as resources of their
 * own), references, physical names and spec hashes, lints, cycles, and the final dependency
 * order. Runs once per set; O(resources + references) apart from the lints, which look at each
 * scalable target's alarms (O(targets x alarms), small in practice).
 *
 * References are resolved by kind in dependency order (Model, Topic, Alarm names, then
 * EndpointConfig, Endpoint, ScalableTarget, ScalingPolicy, Alarm specs), because an endpoint
 * config's hash includes its models' physical names, which include their hashes.
 */
#include "manifest/manifest_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ctx {
	struct plumb_manifest_set *set;
	struct plumb__set_int *in;
	struct plumb_vec defaults; /* struct plumb__doc * of kind Defaults */
};

static void err_at(struct ctx *c, struct plumb__doc *d, const char *path, const char *fmt, ...)
	PLUMB_PRINTF(4, 5);
static void err_at(struct ctx *c, struct plumb__doc *d, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	plumb__diag(c->set, PLUMB_SEV_ERROR, plumb__loc_of(c->set, d, path), path, "%s", msg);
}

static char *astr(struct ctx *c, const char *fmt, ...) PLUMB_PRINTF(2, 3);
static char *astr(struct ctx *c, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return plumb_arena_strdup(&c->set->arena, buf);
}

/* ------------------------------------------------------------------ resources */

static struct plumb__doc *doc_of(const struct plumb_resource *r);

/* The doc each resource came from; generated resources point at their origin's doc. */
struct res_doc {
	struct plumb_resource res; /* must be first */
	struct plumb__doc *doc;    /* source document */
	char *path_base;           /* path prefix of generated resources ("spec.policies[1]") */
	char *prefix;              /* Defaults name prefix */
	struct plumb_resource *endpoint; /* ScalableTarget, Alarm: the endpoint referred to */
	const char *variant;       /* ScalableTarget, Alarm: the variant name */
	const char *ep_name;       /* ScalableTarget: endpoint name (physical), from ref or id */
	bool scale_to_zero;        /* ScalableTarget: minCapacity 0 came from scaleToZero */
	int mark;                  /* ordering: 0 unvisited, 1 on the path, 2 done */
	size_t seq;                /* creation order, for a stable final order */
};

static struct plumb__doc *doc_of(const struct plumb_resource *r)
{
	return ((const struct res_doc *)r)->doc;
}

static struct plumb_resource *new_res(struct ctx *c, enum plumb_kind k, const char *name,
				      struct plumb__doc *d, const char *path_base)
{
	struct res_doc *rd = calloc(1, sizeof(*rd));
	if (!rd)
		return NULL;
	rd->res.kind = k;
	rd->res.name = plumb_arena_strdup(&c->set->arena, name);
	rd->res.loc = plumb__loc_of(c->set, d, path_base ? path_base : "");
	rd->res.tags = json_object();
	rd->doc = d;
	rd->path_base = path_base ? plumb_arena_strdup(&c->set->arena, path_base) : NULL;
	char key[700];
	snprintf(key, sizeof(key), "%s/%s", plumb_kind_name(k), name);
	plumb_map_put(&c->in->by_name, key, &rd->res);
	plumb_vec_push(&c->set->resources, &rd->res);
	return &rd->res;
}

struct plumb_resource *plumb_manifest_find(const struct plumb_manifest_set *set,
					   enum plumb_kind kind, const char *name)
{
	const struct plumb__set_int *in = set->internal;
	if (!in)
		return NULL;
	char key[700];
	snprintf(key, sizeof(key), "%s/%s", plumb_kind_name(kind), name);
	return plumb_map_get(&in->by_name, key);
}

static void add_dep(struct plumb_resource *r, struct plumb_resource *on)
{
	for (size_t i = 0; i < r->deps.len; i++)
		if (r->deps.items[i] == on)
			return;
	plumb_vec_push(&r->deps, on);
}

/* ------------------------------------------------------------------ Defaults */

/* True when dir is the Defaults directory d or below it. */
static bool dir_within(const char *dir, const char *ddir)
{
	if (strcmp(ddir, ".") == 0)
		return dir[0] != '/';
	size_t n = strlen(ddir);
	return strncmp(dir, ddir, n) == 0 && (dir[n] == '\0' || dir[n] == '/' || ddir[n - 1] == '/');
}

static int cmp_defaults_depth(const void *a, const void *b)
{
	const struct plumb__doc *x = *(struct plumb__doc *const *)a;
	const struct plumb__doc *y = *(struct plumb__doc *const *)b;
	size_t lx = strlen(x->file->dir), ly = strlen(y->file->dir);
	return lx < ly ? -1 : lx > ly;
}

static void collect_defaults(struct ctx *c)
{
	for (size_t i = 0; i < c->set->docs.len; i++) {
		struct plumb__doc *d = c->set->docs.items[i];
		if (d->kind != PLUMB_KIND_DEFAULTS)
			continue;
		for (size_t j = 0; j < c->defaults.len; j++) {
			struct plumb__doc *o = c->defaults.items[j];
			if (strcmp(o->file->dir, d->file->dir) == 0) {
				err_at(c, d, "metadata.name",
				       "duplicate name: a second Defaults document for directory %s "
				       "(the first is %s:%u); one directory has one Defaults",
				       d->file->dir, o->file->path, o->loc.line);
				goto next;
			}
		}
		plumb_vec_push(&c->defaults, d);
next:;
	}
	plumb_vec_sort(&c->defaults, cmp_defaults_depth);
	/* set-wide settings come from the outermost Defaults */
	if (c->defaults.len) {
		struct plumb__doc *top = c->defaults.items[0];
		json_t *s = top->spec;
		c->set->owner = json_string_value(json_object_get(s, "plumb:owner"));
		c->set->account = json_string_value(json_object_get(s, "plumb:accountId"));
		c->set->region = json_string_value(json_object_get(s, "plumb:region"));
		c->set->profile = json_string_value(json_object_get(s, "plumb:profile"));
		c->set->role_arn = json_string_value(json_object_get(s, "plumb:roleArn"));
		c->set->prune = json_is_true(json_object_get(s, "plumb:prune"));
	}
}

static bool reserved_tag(const char *k)
{
	return strncmp(k, "plumb:", 6) == 0 || strncasecmp(k, "aws:", 4) == 0;
}

static void check_tags(struct ctx *c, struct plumb__doc *d, json_t *tags, const char *base)
{
	const char *k;
	json_t *v;
	json_object_foreach(tags, k, v) {
		if (reserved_tag(k)) {
			char path[512];
			snprintf(path, sizeof(path), "%s.%s", base, k);
			err_at(c, d, path, "tag key \"%s\" is reserved (plumb: and aws: prefixes belong "
					   "to plumb and AWS)", k);
		}
	}
}

/* metadata.annotations["plumb/paused"]: "true" makes `plumb run` leave the resource alone. */
static void read_paused(struct ctx *c, struct plumb_resource *r, struct plumb__doc *d)
{
	json_t *ann = json_object_get(d->meta, "plumb:annotations");
	json_t *v = json_object_get(ann, PLUMB_ANNOTATION_PAUSED);
	if (!v)
		return;
	const char *s = json_string_value(v);
	if (s && strcmp(s, "true") == 0)
		r->paused = true;
	else if (!s || strcmp(s, "false") != 0)
		err_at(c, d, "metadata.annotations." PLUMB_ANNOTATION_PAUSED,
		       "expected \"true\" or \"false\", found %s", s ? s : "a non-string");
}

/* Applies every Defaults whose directory holds the document, outermost first. */
static void apply_defaults(struct ctx *c, struct plumb_resource *r, struct plumb__doc *d,
			   char **prefix)
{
	*prefix = "";
	r->prune = c->set->prune;
	for (size_t i = 0; i < c->defaults.len; i++) {
		struct plumb__doc *def = c->defaults.items[i];
		if (!dir_within(d->file->dir, def->file->dir))
			continue;
		json_t *s = def->spec;
		const char *v;
		if ((v = json_string_value(json_object_get(s, "plumb:region"))))
			r->region = v;
		if ((v = json_string_value(json_object_get(s, "plumb:accountId"))))
			r->account = v;
		if ((v = json_string_value(json_object_get(s, "plumb:namePrefix"))))
			*prefix = (char *)v;
		json_t *p = json_object_get(s, "plumb:prune");
		if (json_is_boolean(p))
			r->prune = json_is_true(p);
		json_t *tags = json_object_get(s, "plumb:tags");
		if (tags)
			json_object_update(r->tags, tags);
	}
	const char *region = json_string_value(json_object_get(d->meta, "plumb:region"));
	if (region)
		r->region = region;
	json_t *tags = json_object_get(d->meta, "plumb:tags");
	if (tags)
		json_object_update(r->tags, tags);
}

/* ------------------------------------------------------------------ metrics */

struct metric {
	const char *name;   /* CloudWatch metric name */
	const char *ns;     /* namespace */
	bool per_variant;   /* dimensions EndpointName + VariantName, else EndpointName only */
};

static const struct metric metrics[] = {
	{ "ApproximateBacklogSize", "AWS/SageMaker", false },
	{ "ApproximateBacklogSizePerInstance", "AWS/SageMaker", false },
	{ "ApproximateAgeOfOldestRequest", "AWS/SageMaker", false },
	{ "HasBacklogWithoutCapacity", "AWS/SageMaker", false },
	{ "Invocations", "AWS/SageMaker", true },
	{ "InvocationsPerInstance", "AWS/SageMaker", true },
	{ "Invocation4XXErrors", "AWS/SageMaker", true },
	{ "Invocation5XXErrors", "AWS/SageMaker", true },
	{ "InvocationModelErrors", "AWS/SageMaker", true },
	{ "ModelLatency", "AWS/SageMaker", true },
	{ "OverheadLatency", "AWS/SageMaker", true },
	{ "ModelSetupTime", "AWS/SageMaker", true },
	{ "ConcurrentRequestsPerModel", "AWS/SageMaker", true },
	{ "CPUUtilization", "/aws/sagemaker/Endpoints", true },
	{ "MemoryUtilization", "/aws/sagemaker/Endpoints", true },
	{ "GPUUtilization", "/aws/sagemaker/Endpoints", true },
	{ "GPUMemoryUtilization", "/aws/sagemaker/Endpoints", true },
	{ "DiskUtilization", "/aws/sagemaker/Endpoints", true },
};

static const char *const predefined[] = {
	"SageMakerVariantInvocationsPerInstance",
	"SageMakerVariantProvisionedConcurrencyUtilization",
	"SageMakerVariantConcurrentRequestsPerModelHighResolution",
	"SageMakerInferenceComponentInvocationsPerCopy",
	"SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution",
};

static const struct metric *find_metric(const char *name)
{
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(metrics); i++)
		if (strcmp(metrics[i].name, name) == 0)
			return &metrics[i];
	return NULL;
}

static bool is_predefined(const char *name)
{
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(predefined); i++)
		if (strcmp(predefined[i], name) == 0)
			return true;
	return false;
}

/* "average" -> "Average" etc.; percentiles ("p99", "p99.9") go to *extended. */
static const char *statistic(const char *word, bool *extended)
{
	static const struct { const char *word, *stat; } stats[] = {
		{ "average", "Average" }, { "avg", "Average" }, { "sum", "Sum" },
		{ "minimum", "Minimum" }, { "min", "Minimum" }, { "maximum", "Maximum" },
		{ "max", "Maximum" }, { "samplecount", "SampleCount" },
	};
	*extended = false;
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(stats); i++)
		if (strcasecmp(stats[i].word, word) == 0)
			return stats[i].stat;
	if ((word[0] == 'p' || word[0] == 'P') && isdigit((unsigned char)word[1])) {
		char *end;
		double p = strtod(word + 1, &end);
		if (*end == '\0' && p > 0 && p < 100) {
			*extended = true;
			return word;
		}
	}
	return NULL;
}

static bool parse_number(const char *s, double *out)
{
	char *end;
	if (!*s)
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out);
}

/* Splits on blanks into at most 6 words held in buf. */
static int words(const char *s, char *buf, size_t n, char *w[6])
{
	plumb_strlcpy(buf, s, n);
	int count = 0;
	char *p = buf;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (count == 6)
			return 7;
		w[count++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return count;
}

static json_t *dimensions(const char *endpoint, const char *variant)
{
	json_t *dims = json_pack("[{ssss}]", "Name", "EndpointName", "Value", endpoint);
	if (variant)
		json_array_append_new(dims, json_pack("{ssss}", "Name", "VariantName", "Value", variant));
	return dims;
}

/* ------------------------------------------------------------------ references */

/* Replaces plumb's reference members at any depth of a spec by what they stand for. */
static void resolve_refs(struct ctx *c, struct plumb_resource *r, struct plumb__doc *d,
			 const struct plumb_shape *s, json_t *v, struct plumb_buf *path)
{
	if (!s || !v)
		return;
	if (s->type == PLUMB_T_LIST && json_is_array(v)) {
		size_t i;
		json_t *item;
		json_array_foreach(v, i, item) {
			size_t mark = path->len;
			plumb_buf_addf(path, "[%zu]", i);
			if (s->item->type == PLUMB_T_ACTION && json_is_object(item) &&
			    !plumb_ref_marker_target(item)) {
				const char *t = json_string_value(json_object_get(item, "plumb:topicRef"));
				const char *p = json_string_value(json_object_get(item, "plumb:policyRef"));
				enum plumb_kind k = t ? PLUMB_KIND_TOPIC : PLUMB_KIND_SCALING_POLICY;
				const char *name = t ? t : p;
				plumb_buf_adds(path, t ? ".topicRef" : ".policyRef");
				struct plumb_resource *target = plumb_manifest_find(c->set, k, name);
				if (!target)
					err_at(c, d, path->buf, "%s \"%s\" referenced here does not exist",
					       t ? "Topic" : "scaling policy", name);
				else
					add_dep(r, target);
				json_array_set_new(v, i, plumb_ref_marker(k, name));
			} else {
				resolve_refs(c, r, d, s->item, item, path);
			}
			plumb_buf_truncate(path, mark);
		}
		return;
	}
	if (s->type != PLUMB_T_STRUCT || !json_is_object(v))
		return;
	for (size_t i = 0; i < s->n_members; i++) {
		const struct plumb_member *m = &s->members[i];
		size_t mark = path->len;
		plumb_buf_addf(path, "%s%s", path->len ? "." : "", m->name);
		if (m->aws) {
			resolve_refs(c, r, d, m->shape, json_object_get(v, m->aws), path);
		} else if (m->ref_kind >= 0 && m->ref_kind != PLUMB_KIND_ENDPOINT) {
			char key[160];
			snprintf(key, sizeof(key), "plumb:%s", m->name);
			const char *name = json_string_value(json_object_get(v, key));
			if (name) {
				enum plumb_kind k = (enum plumb_kind)m->ref_kind;
				const struct plumb_member *filled = plumb_shape_member_aws(s, m->ref_fills);
				struct plumb_resource *t = plumb_manifest_find(c->set, k, name);
				if (json_object_get(v, m->ref_fills))
					err_at(c, d, path->buf, "give %s or %s, not both", m->name,
					       filled ? filled->name : m->ref_fills);
				else if (!t)
					err_at(c, d, path->buf, "%s \"%s\" referenced here does not exist",
					       plumb_kind_name(k), name);
				else if (k == PLUMB_KIND_TOPIC)
					json_object_set_new(v, m->ref_fills, plumb_ref_marker(k, name));
				else if (t->physical)
					json_object_set_new(v, m->ref_fills, json_string(t->physical));
				if (t)
					add_dep(r, t);
				json_object_del(v, key);
			}
		}
		plumb_buf_truncate(path, mark);
	}
}

static void resolve_spec(struct ctx *c, struct plumb_resource *r)
{
	struct plumb__doc *d = doc_of(r);
	struct plumb_buf path = PLUMB_BUF_INIT;
	plumb_buf_adds(&path, ((struct res_doc *)r)->path_base ? ((struct res_doc *)r)->path_base
							       : "spec");
	const struct plumb_shape *s = r->kind == PLUMB_KIND_SCALING_POLICY
					      ? &plumb_gen_policy_shape
					      : plumb_kind_info(r->kind)->spec;
	resolve_refs(c, r, d, s, r->spec, &path);
	plumb_buf_release(&path);
}

/* ------------------------------------------------------------------ names and hashes */

/*
 * An imported immutable resource (plumb export of a Model or EndpointConfig whose name plumb
 * did not make) keeps its exact name through the annotations plumb/physical-name and
 * plumb/spec-hash, the ones plumb render writes: the pin holds while the spec hashes to the
 * recorded hash, so a changed spec rolls over to a plumb-made name like any other change.
 */
static const char *pinned_name(const struct res_doc *rd, const char *hash)
{
	if (rd->path_base || !rd->doc || !hash[0])
		return NULL;
	json_t *ann = json_object_get(rd->doc->meta, "plumb:annotations");
	const char *name = json_string_value(json_object_get(ann, "plumb/physical-name"));
	const char *want = json_string_value(json_object_get(ann, "plumb/spec-hash"));
	return name && *name && want && strcmp(want, hash) == 0 ? name : NULL;
}

static void set_physical(struct ctx *c, struct plumb_resource *r)
{
	struct res_doc *rd = (struct res_doc *)r;
	const struct plumb_kind_info *ki = plumb_kind_info(r->kind);
	const char *prefix = rd->prefix ? rd->prefix : "";
	const char *pin = ki->immutable ? pinned_name(rd, r->hash) : NULL;
	if (pin) {
		r->physical = plumb_arena_strdup(&c->set->arena, pin);
	} else if (ki->immutable) {
		size_t n = strlen(prefix) + strlen(r->name) + 9;
		if (n > 63)
			err_at(c, rd->doc, "metadata.name",
			       "name \"%s%s\" is too long after the hash suffix: %zu characters with "
			       "\"-xxxxxxxx\", at most 63 (keep %s names to %zu characters)",
			       prefix, r->name, n, ki->name, 54 - strlen(prefix));
		r->physical = astr(c, "%s%s-%.8s", prefix, r->name, r->hash);
	} else if (r->kind == PLUMB_KIND_ENDPOINT || r->kind == PLUMB_KIND_ALARM ||
		   r->kind == PLUMB_KIND_TOPIC) {
		r->physical = astr(c, "%s%s", prefix, r->name);
		if (strlen(r->physical) > (size_t)ki->name_max && !rd->path_base)
			err_at(c, rd->doc, "metadata.name",
			       "name \"%s\" is too long: %zu characters with the name prefix, at most %d",
			       r->physical, strlen(r->physical), ki->name_max);
	}
}

static void hash(struct plumb_resource *r)
{
	if (plumb_spec_hash(r->kind, r->spec, r->hash) != 0)
		r->hash[0] = '\0';
}

/* ------------------------------------------------------------------ building */

static int kind_rank(enum plumb_kind k)
{
	static const int rank[PLUMB_KIND__COUNT] = {
		[PLUMB_KIND_TOPIC] = 0, [PLUMB_KIND_MODEL] = 1, [PLUMB_KIND_ENDPOINT_CONFIG] = 2,
		[PLUMB_KIND_ENDPOINT] = 3, [PLUMB_KIND_SCALABLE_TARGET] = 4,
		[PLUMB_KIND_SCALING_POLICY] = 5, [PLUMB_KIND_ALARM] = 6, [PLUMB_KIND_DEFAULTS] = 7,
	};
	return rank[k];
}

static bool sagemaker_kind(enum plumb_kind k)
{
	return k == PLUMB_KIND_MODEL || k == PLUMB_KIND_ENDPOINT_CONFIG || k == PLUMB_KIND_ENDPOINT;
}

static void make_resources(struct ctx *c)
{
	struct plumb_map seen = PLUMB_MAP_INIT;
	for (size_t i = 0; i < c->set->docs.len; i++) {
		struct plumb__doc *d = c->set->docs.items[i];
		if (d->kind == PLUMB_KIND_DEFAULTS) {
			json_t *tags = json_object_get(d->spec, "plumb:tags");
			if (tags)
				check_tags(c, d, tags, "spec.tags");
			continue;
		}
		if (d->kind >= PLUMB_KIND__COUNT || !d->name)
			continue;
		/* SageMaker names are unique regardless of case */
		char key[600];
		snprintf(key, sizeof(key), "%s/%s", plumb_kind_name(d->kind), d->name);
		if (sagemaker_kind(d->kind))
			for (char *p = key; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		struct plumb__doc *first = plumb_map_get(&seen, key);
		if (first) {
			err_at(c, d, "metadata.name", "duplicate name: %s \"%s\" is also defined at %s:%u",
			       plumb_kind_name(d->kind), d->name, first->file->path, first->loc.line);
			continue;
		}
		plumb_map_put(&seen, key, d);
		struct plumb_resource *r = new_res(c, d->kind, d->name, d, NULL);
		if (!r)
			continue;
		r->spec = d->spec;
		d->spec = NULL;
		d->res = r;
		apply_defaults(c, r, d, &((struct res_doc *)r)->prefix);
		json_t *tags = json_object_get(d->meta, "plumb:tags");
		if (tags)
			check_tags(c, d, tags, "metadata.tags");
		read_paused(c, r, d);
	}
	plumb_map_release(&seen);
}

static void inherit(struct plumb_resource *child, const struct plumb_resource *parent)
{
	child->region = parent->region;
	child->account = parent->account;
	child->prune = parent->prune;
	child->paused = parent->paused;
	((struct res_doc *)child)->prefix = ((struct res_doc *)parent)->prefix;
}

/* Target-tracking configuration for a policy expression; NULL (and an error) when it does not
 * parse. */
static json_t *policy_from_expression(struct ctx *c, struct plumb_resource *target,
				      struct plumb__doc *d, const char *path, const char *expr)
{
	struct res_doc *td = (struct res_doc *)target;
	char buf[300];
	char *w[6];
	int n = words(expr, buf, sizeof(buf), w);
	double value;
	if (n == 3 && strcmp(w[1], "=") == 0 && parse_number(w[2], &value)) {
		if (!is_predefined(w[0])) {
			err_at(c, d, path, "\"%s\" is not a valid expression: %s is not a predefined "
					   "metric; give a statistic (\"%s average = %s\")",
			       expr, w[0], w[0], w[2]);
			return NULL;
		}
		return json_pack("{s:f,s:{s:s}}", "TargetValue", value, "PredefinedMetricSpecification",
				 "PredefinedMetricType", w[0]);
	}
	if (n != 4 || strcmp(w[2], "=") != 0 || !parse_number(w[3], &value)) {
		err_at(c, d, path, "\"%s\" is not a valid expression: write \"METRIC = TARGET\" for a "
				   "predefined metric (e.g. \"SageMakerVariantInvocationsPerInstance = "
				   "1000\") or \"METRIC STATISTIC = TARGET\" (e.g. "
				   "\"ApproximateBacklogSizePerInstance average = 5\")", expr);
		return NULL;
	}
	bool ext;
	const char *stat = statistic(w[1], &ext);
	if (!stat || ext) {
		err_at(c, d, path, "\"%s\" is not a valid expression: statistic \"%s\" is not one of "
				   "average, sum, minimum, maximum, samplecount", expr, w[1]);
		return NULL;
	}
	const struct metric *m = find_metric(w[0]);
	if (!m) {
		err_at(c, d, path, "\"%s\" is not a valid expression: unknown metric %s (write "
				   "targetTrackingScalingPolicyConfiguration in full for other metrics)",
		       expr, w[0]);
		return NULL;
	}
	if (!td->ep_name)
		return NULL; /* the missing endpoint is reported on the target */
	return json_pack("{s:f,s:{s:s,s:s,s:o,s:s}}", "TargetValue", value,
			 "CustomizedMetricSpecification", "MetricName", m->name, "Namespace", m->ns,
			 "Dimensions", dimensions(td->ep_name, m->per_variant ? td->variant : NULL),
			 "Statistic", stat);
}

static struct plumb_resource *add_policy(struct ctx *c, struct plumb_resource *target,
					 const char *pname, const char *path, json_t *spec)
{
	struct plumb__doc *d = doc_of(target);
	char *name = astr(c, "%s/%s", target->name, pname);
	if (plumb_manifest_find(c->set, PLUMB_KIND_SCALING_POLICY, name)) {
		err_at(c, d, path, "duplicate name: policy \"%s\" appears twice on ScalableTarget "
				   "\"%s\"", pname, target->name);
		json_decref(spec);
		return NULL;
	}
	struct plumb_resource *p = new_res(c, PLUMB_KIND_SCALING_POLICY, name, d, path);
	if (!p) {
		json_decref(spec);
		return NULL;
	}
	inherit(p, target);
	p->origin = astr(c, "ScalableTarget/%s", target->name);
	p->physical = plumb_arena_strdup(&c->set->arena, pname);
	p->spec = spec;
	add_dep(p, target);
	return p;
}

static const char *const tt_keys[] = { "scaleInCooldown", "scaleOutCooldown", "disableScaleIn" };
static const char *const tt_aws[] = { "ScaleInCooldown", "ScaleOutCooldown", "DisableScaleIn" };

static void expand_policies(struct ctx *c, struct plumb_resource *r, json_t *items)
{
	struct plumb__doc *d = doc_of(r);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) {
		char path[128], epath[160];
		snprintf(path, sizeof(path), "spec.policies[%zu]", i);
		snprintf(epath, sizeof(epath), "%s.expression", path);
		const char *pname = json_string_value(json_object_get(it, "plumb:name"));
		if (!pname)
			continue; /* reported by the parser */
		const char *expr = json_string_value(json_object_get(it, "plumb:expression"));
		json_t *spec = json_object();
		const char *k;
		json_t *v;
		json_object_foreach(it, k, v)
			if (strncmp(k, "plumb:", 6) != 0)
				json_object_set(spec, k, v);
		if (expr) {
			static const char *const clash[] = { "PolicyType",
				"TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration" };
			for (size_t j = 0; j < PLUMB_ARRAY_LEN(clash); j++)
				if (json_object_get(spec, clash[j]))
					err_at(c, d, epath, "give expression or %c%s, not both",
					       tolower((unsigned char)clash[j][0]), clash[j] + 1);
			json_t *tt = policy_from_expression(c, r, d, epath, expr);
			if (tt) {
				for (size_t j = 0; j < PLUMB_ARRAY_LEN(tt_keys); j++) {
					char pk[64];
					snprintf(pk, sizeof(pk), "plumb:%s", tt_keys[j]);
					json_t *x = json_object_get(it, pk);
					if (x)
						json_object_set(tt, tt_aws[j], x);
				}
				json_object_set_new(spec, "PolicyType", json_string("TargetTrackingScaling"));
				json_object_set_new(spec, "TargetTrackingScalingPolicyConfiguration", tt);
			}
		} else {
			for (size_t j = 0; j < PLUMB_ARRAY_LEN(tt_keys); j++) {
				char pk[64];
				snprintf(pk, sizeof(pk), "plumb:%s", tt_keys[j]);
				if (json_object_get(it, pk))
					err_at(c, d, path, "%s goes with expression; without one, set it "
							   "inside targetTrackingScalingPolicyConfiguration",
					       tt_keys[j]);
			}
			if (!json_object_get(spec, "PolicyType"))
				err_at(c, d, path, "missing required field \"policyType\" (or give an "
						   "expression)");
		}
		add_policy(c, r, pname, path, spec);
	}
}

static void expand_scale_to_zero(struct ctx *c, struct plumb_resource *r, json_t *stz)
{
	struct res_doc *rd = (struct res_doc *)r;
	struct plumb__doc *d = rd->doc;
	json_t *min = json_object_get(r->spec, "MinCapacity");
	if (min && json_integer_value(min) != 0)
		err_at(c, d, "spec.minCapacity", "minCapacity must be 0 with scaleToZero (or leave it "
						 "out)");
	json_object_set_new(r->spec, "MinCapacity", json_integer(0));
	rd->scale_to_zero = true;
	if (!rd->ep_name || !rd->endpoint) {
		err_at(c, d, "spec.scaleToZero", "scaleToZero needs endpointRef and variantName");
		return;
	}
	double backlog = json_number_value(json_object_get(stz, "plumb:backlogPerInstance"));
	/* AWS's documented pattern (reference §11.1): track the backlog per instance, and wake
	 * the variant from zero with a step policy fired by HasBacklogWithoutCapacity */
	json_t *track = json_pack(
		"{s:s,s:{s:f,s:{s:s,s:s,s:o,s:s},s:i,s:i}}", "PolicyType", "TargetTrackingScaling",
		"TargetTrackingScalingPolicyConfiguration", "TargetValue", backlog,
		"CustomizedMetricSpecification", "MetricName", "ApproximateBacklogSizePerInstance",
		"Namespace", "AWS/SageMaker", "Dimensions", dimensions(rd->ep_name, NULL), "Statistic",
		"Average", "ScaleInCooldown", 600, "ScaleOutCooldown", 300);
	json_t *step = json_pack(
		"{s:s,s:{s:s,s:s,s:i,s:[{s:f,s:i}]}}", "PolicyType", "StepScaling",
		"StepScalingPolicyConfiguration", "AdjustmentType", "ChangeInCapacity",
		"MetricAggregationType", "Average", "Cooldown", 300, "StepAdjustments",
		"MetricIntervalLowerBound", 0.0, "ScalingAdjustment", 1);
	add_policy(c, r, "scale-on-backlog", "spec.scaleToZero", track);
	struct plumb_resource *sp = add_policy(c, r, "scale-from-zero", "spec.scaleToZero", step);
	char *aname = astr(c, "%s-scale-from-zero", r->name);
	if (plumb_manifest_find(c->set, PLUMB_KIND_ALARM, aname)) {
		err_at(c, d, "spec.scaleToZero", "duplicate name: scaleToZero makes Alarm \"%s\", "
						 "which is also written by hand", aname);
		return;
	}
	struct plumb_resource *a = new_res(c, PLUMB_KIND_ALARM, aname, d, "spec.scaleToZero");
	if (!a)
		return;
	inherit(a, r);
	json_object_update(a->tags, r->tags);
	a->origin = astr(c, "ScalableTarget/%s", r->name);
	a->spec = json_pack(
		"{s:s,s:s,s:o,s:s,s:i,s:i,s:i,s:f,s:s,s:s,s:[o]}", "MetricName",
		"HasBacklogWithoutCapacity", "Namespace", "AWS/SageMaker", "Dimensions",
		dimensions(rd->ep_name, NULL), "Statistic", "Average", "Period", 60,
		"EvaluationPeriods", 2, "DatapointsToAlarm", 2, "Threshold", 1.0,
		"ComparisonOperator", "GreaterThanOrEqualToThreshold", "TreatMissingData", "missing",
		"AlarmActions", plumb_ref_marker(PLUMB_KIND_SCALING_POLICY, sp ? sp->name : "?"));
	if (sp)
		add_dep(a, sp);
	set_physical(c, a);
}

/* Reads the endpointRef/variantName pair that ScalableTarget and Alarm share; the variant is
 * copied (its spec member is deleted later) and a dangling reference is reported here. */
static struct plumb_resource *endpoint_ref(struct ctx *c, struct plumb_resource *r,
					   const char **ep, const char **variant)
{
	json_t *s = r->spec;
	*ep = json_string_value(json_object_get(s, "plumb:endpointRef"));
	*variant = json_string_value(json_object_get(s, "plumb:variantName"));
	if (*variant)
		*variant = plumb_arena_strdup(&c->set->arena, *variant);
	if (!*ep)
		return NULL;
	struct plumb_resource *e = plumb_manifest_find(c->set, PLUMB_KIND_ENDPOINT, *ep);
	if (!e)
		err_at(c, doc_of(r), "spec.endpointRef",
		       "Endpoint \"%s\" referenced here does not exist", *ep);
	return e;
}

static void expand_target(struct ctx *c, struct plumb_resource *r)
{
	struct res_doc *rd = (struct res_doc *)r;
	struct plumb__doc *d = rd->doc;
	json_t *s = r->spec;
	const char *ep, *variant;
	struct plumb_resource *e = endpoint_ref(c, r, &ep, &variant);
	const char *rid = json_string_value(json_object_get(s, "ResourceId"));
	if (ep && rid)
		err_at(c, d, "spec.endpointRef", "give endpointRef or resourceId, not both");
	else if (!ep && !rid)
		err_at(c, d, "spec", "missing required field \"endpointRef\" (with variantName), or "
				     "give resourceId");
	if (ep && !variant)
		err_at(c, d, "spec", "missing required field \"variantName\" (it goes with "
				     "endpointRef)");
	if (variant && !ep)
		err_at(c, d, "spec.variantName", "variantName goes with endpointRef");
	if (ep) {
		if (e) {
			add_dep(r, e);
			rd->endpoint = e;
			rd->ep_name = e->physical;
			if (variant && !rid)
				json_object_set_new(s, "ResourceId", json_sprintf("endpoint/%s/variant/%s",
										  e->physical, variant));
		}
		rd->variant = variant;
	} else if (rid) {
		/* endpoint/<name>/variant/<variant> names the endpoint for expressions */
		char buf[600];
		plumb_strlcpy(buf, rid, sizeof(buf));
		char *v = strstr(buf, "/variant/");
		if (strncmp(buf, "endpoint/", 9) == 0 && v) {
			*v = '\0';
			rd->ep_name = plumb_arena_strdup(&c->set->arena, buf + 9);
			rd->variant = plumb_arena_strdup(&c->set->arena, v + 9);
		}
	}
	if (!json_object_get(s, "ScalableDimension"))
		json_object_set_new(s, "ScalableDimension",
				    json_string("sagemaker:variant:DesiredInstanceCount"));
	json_t *stz = json_object_get(s, "plumb:scaleToZero");
	if (stz)
		expand_scale_to_zero(c, r, stz);
	else if (!json_object_get(s, "MinCapacity"))
		err_at(c, d, "spec", "missing required field \"minCapacity\" (or use scaleToZero)");
	json_t *min = json_object_get(s, "MinCapacity"), *max = json_object_get(s, "MaxCapacity");
	if (min && max && json_integer_value(min) > json_integer_value(max))
		err_at(c, d, "spec.minCapacity", "minCapacity %lld must be at most maxCapacity %lld",
		       (long long)json_integer_value(min), (long long)json_integer_value(max));
	json_t *pol = json_object_get(s, "plumb:policies");
	if (pol)
		expand_policies(c, r, pol);
	const char *phys = json_string_value(json_object_get(s, "ResourceId"));
	r->physical = phys ? plumb_arena_strdup(&c->set->arena, phys) : NULL;
	json_object_del(s, "plumb:endpointRef");
	json_object_del(s, "plumb:variantName");
	json_object_del(s, "plumb:scaleToZero");
	json_object_del(s, "plumb:policies");
}

static void expand_alarm(struct ctx *c, struct plumb_resource *r)
{
	struct res_doc *rd = (struct res_doc *)r;
	struct plumb__doc *d = rd->doc;
	json_t *s = r->spec;
	const char *ep, *variant;
	struct plumb_resource *e = endpoint_ref(c, r, &ep, &variant);
	const char *expr = json_string_value(json_object_get(s, "plumb:expression"));
	if (variant && !ep)
		err_at(c, d, "spec.variantName", "variantName goes with endpointRef");
	if (ep) {
		if (json_object_get(s, "Dimensions"))
			err_at(c, d, "spec.endpointRef", "give endpointRef or dimensions, not both");
		if (e) {
			rd->endpoint = e; /* names only: no order between alarm and endpoint */
			rd->variant = variant;
			json_object_set_new(s, "Dimensions", dimensions(e->physical, variant));
		}
	}
	if (expr) {
		static const char *const clash[] = { "MetricName", "Statistic", "ExtendedStatistic",
						     "ComparisonOperator", "Threshold", "Metrics" };
		for (size_t j = 0; j < PLUMB_ARRAY_LEN(clash); j++)
			if (json_object_get(s, clash[j]))
				err_at(c, d, "spec.expression", "give expression or %c%s, not both",
				       tolower((unsigned char)clash[j][0]), clash[j] + 1);
		char buf[300];
		char *w[6];
		int n = words(expr, buf, sizeof(buf), w);
		static const struct { const char *op, *aws; } ops[] = {
			{ ">=", "GreaterThanOrEqualToThreshold" }, { ">", "GreaterThanThreshold" },
			{ "<=", "LessThanOrEqualToThreshold" }, { "<", "LessThanThreshold" },
		};
		const char *op = NULL;
		double threshold = 0;
		bool ext = false;
		const char *stat = n == 4 ? statistic(w[1], &ext) : NULL;
		for (size_t j = 0; n == 4 && j < PLUMB_ARRAY_LEN(ops); j++)
			if (strcmp(w[2], ops[j].op) == 0)
				op = ops[j].aws;
		const struct metric *m = n == 4 ? find_metric(w[0]) : NULL;
		if (n != 4 || !op || !stat || !parse_number(w[3], &threshold)) {
			err_at(c, d, "spec.expression", "\"%s\" is not a valid expression: write \"METRIC "
							"STATISTIC OP THRESHOLD\", e.g. \"Invocation5XXErrors "
							"average >= 10\" (OP is >=, >, <= or <)", expr);
		} else if (!m && !json_object_get(s, "Namespace")) {
			err_at(c, d, "spec.expression", "\"%s\" is not a valid expression: unknown metric "
							"%s (set namespace for metrics plumb does not know)",
			       expr, w[0]);
		} else {
			json_object_set_new(s, "MetricName", json_string(w[0]));
			if (!json_object_get(s, "Namespace"))
				json_object_set_new(s, "Namespace", json_string(m->ns));
			json_object_set_new(s, ext ? "ExtendedStatistic" : "Statistic", json_string(stat));
			json_object_set_new(s, "ComparisonOperator", json_string(op));
			json_object_set_new(s, "Threshold", json_real(threshold));
			if (!json_object_get(s, "Period"))
				json_object_set_new(s, "Period", json_integer(60));
			if (!json_object_get(s, "EvaluationPeriods"))
				json_object_set_new(s, "EvaluationPeriods", json_integer(1));
			if (!ep)
				err_at(c, d, "spec.expression", "an alarm expression needs endpointRef to "
								"name the endpoint it watches");
		}
	} else {
		if (!json_object_get(s, "EvaluationPeriods"))
			err_at(c, d, "spec", "missing required field \"evaluationPeriods\" (or give an "
					     "expression)");
		if (!json_object_get(s, "ComparisonOperator"))
			err_at(c, d, "spec", "missing required field \"comparisonOperator\" (or give an "
					     "expression)");
	}
	const char *metric = json_string_value(json_object_get(s, "MetricName"));
	const struct metric *m = metric ? find_metric(metric) : NULL;
	if (ep && m && m->per_variant && !variant)
		err_at(c, d, "spec.endpointRef", "metric %s is published per variant: add variantName "
						 "so the alarm watches a real metric stream", metric);
	if (ep && m && !m->per_variant && variant)
		err_at(c, d, "spec.variantName", "metric %s is published per endpoint, not per "
						 "variant: remove variantName", metric);
	json_object_del(s, "plumb:endpointRef");
	json_object_del(s, "plumb:variantName");
	json_object_del(s, "plumb:expression");
}

/* ------------------------------------------------------------------ lints */

/* 1 async, 0 real-time or serverless, -1 unknown (the config is not managed here). */
static int endpoint_async(const struct plumb_resource *ep, const struct plumb_resource **cfg)
{
	const struct plumb_resource *conf =
		ep ? plumb_resource_dep(ep, PLUMB_KIND_ENDPOINT_CONFIG) : NULL;
	if (cfg)
		*cfg = conf;
	if (!conf)
		return -1;
	return json_object_get(conf->spec, "AsyncInferenceConfig") != NULL;
}

static const char *str_or_empty(const json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

static bool config_has_variant(const struct plumb_resource *cfg, const char *variant)
{
	static const char *const lists[] = { "ProductionVariants", "ShadowProductionVariants" };
	for (size_t l = 0; l < PLUMB_ARRAY_LEN(lists); l++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(cfg->spec, lists[l]), i, v)
			if (strcmp(str_or_empty(json_object_get(v, "VariantName")), variant) == 0)
				return true;
	}
	return false;
}

static void check_variant(struct ctx *c, struct plumb_resource *r)
{
	struct res_doc *rd = (struct res_doc *)r;
	const struct plumb_resource *cfg;
	if (!rd->endpoint || !rd->variant || endpoint_async(rd->endpoint, &cfg) < 0)
		return;
	if (!config_has_variant(cfg, rd->variant))
		err_at(c, rd->doc, "spec.variantName", "variant \"%s\" does not exist in EndpointConfig "
						       "\"%s\" of Endpoint \"%s\"",
		       rd->variant, cfg->name, rd->endpoint->name);
}

static bool has_wake_alarm(struct ctx *c, struct plumb_resource *target)
{
	for (size_t i = 0; i < c->set->resources.len; i++) {
		struct plumb_resource *a = c->set->resources.items[i];
		if (a->kind != PLUMB_KIND_ALARM ||
		    strcmp(str_or_empty(json_object_get(a->spec, "MetricName")),
			   "HasBacklogWithoutCapacity") != 0)
			continue;
		size_t j;
		json_t *act;
		json_array_foreach(json_object_get(a->spec, "AlarmActions"), j, act) {
			const char *t = plumb_ref_marker_target(act);
			if (!t || strncmp(t, "ScalingPolicy/", 14) != 0)
				continue;
			struct plumb_resource *p =
				plumb_manifest_find(c->set, PLUMB_KIND_SCALING_POLICY, t + 14);
			if (p && plumb_resource_dep(p, PLUMB_KIND_SCALABLE_TARGET) == target &&
			    strcmp(str_or_empty(json_object_get(p->spec, "PolicyType")),
				   "StepScaling") == 0)
				return true;
		}
	}
	return false;
}

static void lint(struct ctx *c)
{
	for (size_t i = 0; i < c->set->resources.len; i++) {
		struct plumb_resource *r = c->set->resources.items[i];
		struct res_doc *rd = (struct res_doc *)r;
		if (r->kind == PLUMB_KIND_ALARM && !r->origin) {
			check_variant(c, r);
		} else if (r->kind == PLUMB_KIND_SCALABLE_TARGET) {
			check_variant(c, r);
			json_t *min = json_object_get(r->spec, "MinCapacity");
			int async = endpoint_async(rd->endpoint, NULL);
			if (!min || json_integer_value(min) != 0 || async < 0)
				continue;
			if (async == 0 && rd->scale_to_zero)
				err_at(c, rd->doc, "spec.scaleToZero",
				       "scaleToZero works only for asynchronous endpoints: Endpoint \"%s\" "
				       "has no asyncInferenceConfig, and real-time variants need at least one "
				       "instance", rd->endpoint->name);
			else if (async == 0)
				err_at(c, rd->doc, "spec.minCapacity",
				       "minCapacity 0 works only for asynchronous endpoints: Endpoint \"%s\" "
				       "has no asyncInferenceConfig, so it can never scale to zero",
				       rd->endpoint->name);
			else if (!has_wake_alarm(c, r))
				err_at(c, rd->doc, "spec.minCapacity",
				       "minCapacity 0 without a step policy fired by a "
				       "HasBacklogWithoutCapacity alarm: the variant would never wake from "
				       "zero (use scaleToZero: {backlogPerInstance: N})");
		} else if (r->kind == PLUMB_KIND_SCALING_POLICY) {
			struct plumb_resource *t = plumb_resource_dep(r, PLUMB_KIND_SCALABLE_TARGET);
			json_t *tt = json_object_get(r->spec, "TargetTrackingScalingPolicyConfiguration");
			const char *pm = json_string_value(json_object_get(
				json_object_get(tt, "PredefinedMetricSpecification"),
				"PredefinedMetricType"));
			if (t && pm && strcmp(pm, "SageMakerVariantInvocationsPerInstance") == 0 &&
			    endpoint_async(((struct res_doc *)t)->endpoint, NULL) == 1)
				err_at(c, rd->doc, rd->path_base,
				       "SageMakerVariantInvocationsPerInstance is not published by "
				       "asynchronous endpoints, so this policy would never act: track "
				       "ApproximateBacklogSizePerInstance instead");
		}
	}
}

/* ------------------------------------------------------------------ order */

/* Depth-first, dependencies first; a dependency met again on the current path is a cycle. */
static bool visit(struct ctx *c, struct plumb_resource *r, struct plumb_vec *path,
		  struct plumb_vec *out)
{
	struct res_doc *rd = (struct res_doc *)r;
	if (rd->mark == 2)
		return true;
	if (rd->mark == 1) {
		struct plumb_buf b = PLUMB_BUF_INIT;
		size_t start = 0;
		while (start < path->len && path->items[start] != r)
			start++;
		for (size_t i = start; i < path->len; i++) {
			struct plumb_resource *x = path->items[i];
			plumb_buf_addf(&b, "%s/%s -> ", plumb_kind_name(x->kind), x->name);
		}
		plumb_buf_addf(&b, "%s/%s", plumb_kind_name(r->kind), r->name);
		err_at(c, rd->doc, rd->path_base ? rd->path_base : "metadata.name",
		       "cyclic reference: %s (each needs the next to exist first)", b.buf);
		plumb_buf_release(&b);
		return false;
	}
	rd->mark = 1;
	plumb_vec_push(path, r);
	bool ok = true;
	for (size_t i = 0; i < r->deps.len && ok; i++)
		ok = visit(c, r->deps.items[i], path, out);
	path->len--;
	rd->mark = 2;
	plumb_vec_push(out, r);
	return ok;
}

static int cmp_rank(const void *a, const void *b)
{
	const struct res_doc *x = *(struct res_doc *const *)a;
	const struct res_doc *y = *(struct res_doc *const *)b;
	int kx = kind_rank(x->res.kind), ky = kind_rank(y->res.kind);
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void order(struct ctx *c)
{
	struct plumb_vec *rs = &c->set->resources;
	for (size_t i = 0; i < rs->len; i++)
		((struct res_doc *)rs->items[i])->seq = i;
	plumb_vec_sort(rs, cmp_rank);
	struct plumb_vec out = PLUMB_VEC_INIT, path = PLUMB_VEC_INIT;
	for (size_t i = 0; i < rs->len; i++)
		if (!visit(c, rs->items[i], &path, &out))
			break; /* one cycle report is enough; the order is moot */
	for (size_t i = 0; i < rs->len; i++)
		if (((struct res_doc *)rs->items[i])->mark != 2)
			plumb_vec_push(&out, rs->items[i]);
	plumb_vec_release(&path);
	plumb_vec_release(rs);
	*rs = out;
}

/* ------------------------------------------------------------------ finish */

int plumb_manifest_finish(struct plumb_manifest_set *set)
{
	struct ctx c = { .set = set, .in = plumb__int(set) };
	if (!c.in)
		return PLUMB_ENOMEM;
	collect_defaults(&c);
	make_resources(&c);
	/* names that do not depend on a hash are known before any reference is followed */
	for (size_t i = 0; i < set->resources.len; i++) {
		struct plumb_resource *r = set->resources.items[i];
		if (!plumb_kind_info(r->kind)->immutable)
			set_physical(&c, r);
	}
	size_t n = set->resources.len;
	for (size_t i = 0; i < n; i++) {
		struct plumb_resource *r = set->resources.items[i];
		if (r->kind == PLUMB_KIND_SCALABLE_TARGET)
			expand_target(&c, r);
	}
	for (size_t i = 0; i < n; i++) {
		struct plumb_resource *r = set->resources.items[i];
		if (r->kind == PLUMB_KIND_ALARM)
			expand_alarm(&c, r);
	}
	static const enum plumb_kind passes[] = {
		PLUMB_KIND_MODEL, PLUMB_KIND_TOPIC, PLUMB_KIND_ENDPOINT_CONFIG, PLUMB_KIND_ALARM,
		PLUMB_KIND_ENDPOINT, PLUMB_KIND_SCALABLE_TARGET, PLUMB_KIND_SCALING_POLICY,
	};
	for (size_t p = 0; p < PLUMB_ARRAY_LEN(passes); p++) {
		for (size_t i = 0; i < set->resources.len; i++) {
			struct plumb_resource *r = set->resources.items[i];
			if (r->kind != passes[p])
				continue;
			resolve_spec(&c, r);
			hash(r);
			if (plumb_kind_info(r->kind)->immutable)
				set_physical(&c, r);
		}
	}
	for (size_t i = 0; i < set->resources.len; i++) {
		struct plumb_resource *r = set->resources.items[i];
		if (r->kind == PLUMB_KIND_ENDPOINT && !json_object_get(r->spec, "EndpointConfigName"))
			err_at(&c, doc_of(r), "spec", "missing required field \"endpointConfigRef\" (or "
						      "endpointConfigName)");
	}
	lint(&c);
	order(&c);
	plumb_vec_release(&c.defaults);
	set->finished = true;
	return 0;
}

/*
 * pkg/observe/observe.c — one list-first observation pass of one account+region.
 *
 * Owns the pass: its phases, the calls in flight, the rows being built and the state write.
 * A pass runs in three phases on the client's loop:
 *
 *   LIST     eight paged collection reads at once (plumb_aws_paginate_start). Nothing is
 *            decided until all are in: ownership needs the tagging reply, policies need their
 *            targets, and a describe of a name the lists do not show would be wasted.
 *   READ     per-resource describes and tag reads (observe.h step 3), MAX_IN_FLIGHT at a time
 *            and MAX_PER_OP of one operation, operations taken in turn;
 *            pkg/aws bounds connections and rate below that. A read that answers "not found"
 *            means the resource went away between list and read: its row is dropped (as the
 *            next list would), not the pass failed.
 *   COMMIT   synchronous, in one state transaction: put every row seen, delete rows of the
 *            account+region not seen, set meta "observed:<account>:<region>"; then hand the
 *            rows over to the caller's set (they are what the state holds now). Being
 *            synchronous matters: passes of several regions share one state connection,
 *            and their transactions must not interleave.
 *
 * Any other failure is remembered (the first one wins), nothing new is started, the calls in
 * flight are let finish, and the callback gets the error with the state untouched.
 *
 * Costs: the lists are ceil(n/100) pages per SageMaker kind and for alarms, topics and tagged
 * resources, ceil(n/50) for scalable targets and ceil(n/10) for scaling policies; reads are one
 * call per ours-or-wanted resource that moved (all of them with refresh FULL). Memory is the
 * list replies plus one row per resource until the commit.
 *
 * Rejected: describing in the LIST callbacks as soon as one list lands (saves one round trip of
 * latency, but ownership is unknown until the tagging reply is in, so it would describe foreign
 * resources), and a private pager (pkg/aws has one; page counts come from the client's call
 * counter instead, see list_calls).
 */
#include "observe/observe.h"
#include "observe/observe_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_IN_FLIGHT 128 /* per-resource reads in flight at once */
#define MAX_PER_OP 32     /* ... of one operation */

const char *plumb_refresh_name(enum plumb_refresh r)
{
	switch (r) {
	case PLUMB_REFRESH_AUTO:
		return "auto";
	case PLUMB_REFRESH_FULL:
		return "full";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- the collection reads */

enum list_id { L_MODELS, L_CONFIGS, L_ENDPOINTS, L_TARGETS, L_POLICIES, L_ALARMS, L_TOPICS,
	       L_TAGGED, L__COUNT };

static const struct list_def {
	enum plumb_aws_op op; /* paged operation */
	const char *member;   /* list member concatenated over pages */
	int kind;             /* enum plumb_kind of its items; -1 for the tagging reply */
} lists[L__COUNT] = {
	[L_MODELS] = { PLUMB_AWS_OP_SM_LIST_MODELS, "Models", PLUMB_KIND_MODEL },
	[L_CONFIGS] = { PLUMB_AWS_OP_SM_LIST_ENDPOINT_CONFIGS, "EndpointConfigs",
			PLUMB_KIND_ENDPOINT_CONFIG },
	[L_ENDPOINTS] = { PLUMB_AWS_OP_SM_LIST_ENDPOINTS, "Endpoints", PLUMB_KIND_ENDPOINT },
	[L_TARGETS] = { PLUMB_AWS_OP_AAS_DESCRIBE_SCALABLE_TARGETS, "ScalableTargets",
			PLUMB_KIND_SCALABLE_TARGET },
	[L_POLICIES] = { PLUMB_AWS_OP_AAS_DESCRIBE_SCALING_POLICIES, "ScalingPolicies",
			 PLUMB_KIND_SCALING_POLICY },
	[L_ALARMS] = { PLUMB_AWS_OP_CW_DESCRIBE_ALARMS, "MetricAlarms", PLUMB_KIND_ALARM },
	[L_TOPICS] = { PLUMB_AWS_OP_SNS_LIST_TOPICS, "Topics", PLUMB_KIND_TOPIC },
	[L_TAGGED] = { PLUMB_AWS_OP_TAG_GET_RESOURCES, "ResourceTagMappingList", -1 },
};

/* The first page's input: the largest page each API allows. */
static json_t *list_input(enum list_id id)
{
	switch (id) {
	case L_MODELS:
	case L_CONFIGS:
	case L_ENDPOINTS:
		return json_pack("{s:i}", "MaxResults", 100);
	case L_TARGETS:
		return json_pack("{s:s, s:i}", "ServiceNamespace", "sagemaker", "MaxResults", 50);
	case L_POLICIES:
		return json_pack("{s:s, s:i}", "ServiceNamespace", "sagemaker", "MaxResults", 10);
	case L_ALARMS:
		return json_pack("{s:i}", "MaxRecords", 100);
	case L_TOPICS:
		return json_object();
	case L_TAGGED:
		return json_pack("{s:[{s:s}], s:i, s:[s,s,s,s,s,s]}", "TagFilters", "Key",
				 PLUMB_TAG_OWNER, "ResourcesPerPage", 100, "ResourceTypeFilters",
				 "sagemaker:model", "sagemaker:endpoint-config", "sagemaker:endpoint",
				 "cloudwatch:alarm", "sns:topic",
				 "application-autoscaling:scalable-target");
	case L__COUNT:
		break;
	}
	return NULL;
}

/* ---------------------------------------------------------------- the pass */

/* One resource seen in a list: the row being built and what the pass decided about it. */
struct entry {
	struct plumb_observed *o; /* the row (owned until the pass ends) */
	bool ours;                /* plumb:owner is opts->owner (policies: their target's) */
	bool wanted;              /* named by opts->want */
	bool gone;                /* a read found it deleted after the list: not written */
};

enum job_type { JOB_DESCRIBE, JOB_TAGS };

/* One per-resource read. */
struct job {
	struct plumb_observe *ob; /* the pass */
	struct entry *e;          /* the resource read */
	enum job_type type;       /* describe or tag read */
	enum plumb_aws_op op;     /* the operation */
	json_t *input;            /* owned: its input */
	const char *pages;        /* list member when paged (SageMaker ListTags), else NULL */
	size_t seq;               /* order of creation */
};

struct list_ctx {
	struct plumb_observe *ob; /* the pass */
	enum list_id id;          /* which collection */
};

struct plumb_observe {
	struct plumb_aws *a;                    /* borrowed: the session (its region is ours) */
	struct plumb_state *s;                  /* borrowed: the state written */
	char *account;                          /* owned copy of opts->account */
	char *owner;                            /* owned copy of opts->owner */
	enum plumb_refresh refresh;             /* auto or full */
	bool adopt;                             /* read tags of wanted untagged resources */
	struct plumb_observed_set *out;         /* borrowed: filled at the end */
	plumb_observe_cb cb;                    /* called once */
	void *data;                             /* for cb */

	struct plumb_observed_set cache;        /* rows of account+region before the pass */
	struct plumb_map wanted;                /* identity key -> the pass (a non-NULL marker) */
	struct list_ctx lctx[L__COUNT];         /* callback data of the lists */
	json_t *reply[L__COUNT];                /* owned: the collection replies */
	unsigned lists_pending;                 /* lists in flight */
	uint64_t calls0;                        /* a->stats.calls when the lists started */

	struct plumb_vec entries;               /* struct entry *, owned */
	struct plumb_map index;                 /* identity key -> struct entry * */
	struct plumb_vec jobs;                  /* struct job *, owned */
	size_t op_next[PLUMB_AWS_NOPS];         /* jobs sorted by operation: the next to start, */
	size_t op_end[PLUMB_AWS_NOPS];          /* ... the end of each operation's run */
	unsigned op_flight[PLUMB_AWS_NOPS];     /* reads of each operation in flight */
	unsigned jobs_in_flight;                /* reads in flight */

	int rc;                                 /* first failure, 0 while none */
	struct plumb_err err;                   /* its detail */
	int64_t start_ms;                       /* wall clock at start (rows' observed_ms) */
	int64_t start_mono;                     /* monotonic clock at start */
	struct plumb_observe_stats stats;       /* what the pass did */
	bool done;                              /* the callback ran */
};

static const struct plumb_clock *pass_clock(const struct plumb_observe *ob)
{
	return ob->a->clock ? ob->a->clock : &plumb_clock_system;
}

static void fail(struct plumb_observe *ob, int rc, const struct plumb_err *err)
{
	if (ob->rc)
		return;
	ob->rc = rc ? rc : PLUMB_EINTERNAL;
	if (err && err->code)
		ob->err = *err;
	else
		plumb_err_set(&ob->err, ob->rc, "observe: %s", plumb_code_name(ob->rc));
}

static int fail_nomem(struct plumb_observe *ob)
{
	struct plumb_err e;
	plumb_err_clear(&e);
	plumb_err_set(&e, PLUMB_ENOMEM, "observe: out of memory");
	fail(ob, PLUMB_ENOMEM, &e);
	return PLUMB_ENOMEM;
}

/* Everything but the stats: released before the callback so the caller may free from it. */
static void release_work(struct plumb_observe *ob)
{
	for (size_t i = 0; i < ob->jobs.len; i++) {
		struct job *j = ob->jobs.items[i];
		json_decref(j->input);
		free(j);
	}
	plumb_vec_release(&ob->jobs);
	for (size_t i = 0; i < ob->entries.len; i++) {
		struct entry *e = ob->entries.items[i];
		plumb_observed_free(e->o);
		free(e);
	}
	plumb_vec_release(&ob->entries);
	plumb_map_release(&ob->index);
	plumb_map_release(&ob->wanted);
	for (int i = 0; i < L__COUNT; i++) {
		json_decref(ob->reply[i]);
		ob->reply[i] = NULL;
	}
	plumb_observed_set_release(&ob->cache);
}

static void log_pass(const struct plumb_observe *ob)
{
	if (!plumb_log_enabled(ob->rc ? PLUMB_LOG_WARN : PLUMB_LOG_INFO))
		return;
	char lists_s[16], desc[16], tags[16], res[16], unch[16], rem[16], ms[24];
	const struct plumb_observe_stats *st = &ob->stats;
	snprintf(lists_s, sizeof(lists_s), "%u", st->list_calls);
	snprintf(desc, sizeof(desc), "%u", st->describe_calls);
	snprintf(tags, sizeof(tags), "%u", st->tag_calls);
	snprintf(res, sizeof(res), "%u", st->resources);
	snprintf(unch, sizeof(unch), "%u", st->unchanged);
	snprintf(rem, sizeof(rem), "%u", st->removed);
	snprintf(ms, sizeof(ms), "%lld", (long long)st->elapsed_ms);
	if (ob->rc)
		plumb_log(PLUMB_LOG_WARN, "observe_failed", "account", ob->account, "region",
			  ob->a->region, "error", ob->err.msg, "elapsed_ms", ms, NULL);
	else
		plumb_log(PLUMB_LOG_INFO, "observe_done", "account", ob->account, "region",
			  ob->a->region, "refresh", plumb_refresh_name(ob->refresh), "list_calls",
			  lists_s, "describe_calls", desc, "tag_calls", tags, "resources", res,
			  "unchanged", unch, "removed", rem, "elapsed_ms", ms, NULL);
}

/* The end of every pass; nothing may touch ob after cb returns (it may have freed ob). */
static void finish(struct plumb_observe *ob)
{
	ob->stats.elapsed_ms = plumb_clock_mono_ms(pass_clock(ob)) - ob->start_mono;
	ob->done = true;
	release_work(ob);
	log_pass(ob);
	plumb_observe_cb cb = ob->cb;
	void *data = ob->data;
	int rc = ob->rc;
	cb(rc, rc ? &ob->err : NULL, data);
}

/* ---------------------------------------------------------------- COMMIT */

static int commit(struct plumb_observe *ob)
{
	struct plumb_err e;
	plumb_err_clear(&e);
	unsigned written = 0, removed = 0;
	int rc = plumb_state_begin(ob->s, &e);
	if (rc)
		goto fail;
	for (size_t i = 0; i < ob->entries.len; i++) {
		struct entry *en = ob->entries.items[i];
		if (en->gone)
			continue;
		if ((rc = plumb_state_put_observed(ob->s, ob->account, en->o, &e)) != 0)
			goto rollback;
		written++;
	}
	for (size_t i = 0; i < ob->cache.items.len; i++) {
		const struct plumb_observed *c = ob->cache.items.items[i];
		char *key = plumb_observed_key(c->kind, c->region, c->name, c->parent);
		if (!key) {
			rc = plumb_err_set(&e, PLUMB_ENOMEM, "observe: out of memory");
			goto rollback;
		}
		struct entry *en = plumb_map_get(&ob->index, key);
		free(key);
		if (en && !en->gone)
			continue;
		if ((rc = plumb_state_delete_observed(ob->s, ob->account, c->region, c->kind, c->name,
						      c->parent, &e)) != 0)
			goto rollback;
		removed++;
	}
	char mkey[160], when[21];
	snprintf(mkey, sizeof(mkey), "observed:%s:%s", ob->account, ob->a->region);
	plumb_time_iso8601(ob->start_ms, when);
	if ((rc = plumb_state_meta_set(ob->s, mkey, when, &e)) != 0)
		goto rollback;
	if ((rc = plumb_state_commit(ob->s, &e)) != 0)
		goto rollback;
	ob->stats.resources = written;
	ob->stats.removed = removed;
	/*
	 * The rows just written are the rows of this account+region now (the lock keeps other
	 * writers out): hand them over instead of reading them back, which held a third copy of
	 * every resource (cache, rows, reloaded set) at the pass's peak.
	 */
	plumb_observed_set_release(&ob->cache);
	size_t first = ob->out->items.len;
	for (size_t i = 0; i < ob->entries.len; i++) {
		struct entry *en = ob->entries.items[i];
		if (en->gone || !en->o)
			continue;
		struct plumb_observed *o = en->o;
		enum plumb_kind kind = o->kind;
		en->o = NULL;
		if ((rc = plumb_observed_set_add(ob->out, o)) != 0) { /* takes o either way */
			if (rc == PLUMB_EEXIST)
				plumb_err_set(&e, rc, "observe: a %s is in the set twice",
					      plumb_kind_name(kind));
			else
				plumb_err_set(&e, rc, "observe: out of memory");
			goto fail;
		}
	}
	/* in the order a load from the state gives them, which callers print in (export) */
	plumb_observed_set_sort(ob->out, first);
	return 0;
rollback:
	plumb_state_rollback(ob->s);
fail:
	fail(ob, rc, &e);
	return rc;
}

static bool policy_target_ours(const struct plumb_observe *ob, const struct plumb_observed *o);

/*
 * Tag reads may have changed whose a resource is (and so whose its policies are): what is
 * neither ours nor wanted after all keeps its list entry and tags only, like any foreign row.
 */
static void settle(struct plumb_observe *ob)
{
	for (size_t i = 0; i < ob->entries.len; i++) {
		struct entry *e = ob->entries.items[i];
		if (e->o->kind == PLUMB_KIND_SCALING_POLICY)
			e->ours = policy_target_ours(ob, e->o);
		if (!e->ours && !e->wanted && e->o->live) {
			json_decref(e->o->live);
			e->o->live = NULL;
		}
	}
}

/* All reads are in (or the pass failed and the last one came back). */
static void complete(struct plumb_observe *ob)
{
	if (ob->rc == 0) {
		settle(ob);
		commit(ob);
	}
	finish(ob);
}

/* ---------------------------------------------------------------- READ */

static void start_jobs(struct plumb_observe *ob);

static void on_job(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct job *j = data;
	struct plumb_observe *ob = j->ob;
	struct entry *e = j->e;
	ob->jobs_in_flight--;
	ob->op_flight[j->op]--;
	if (rc) {
		if (err && err->cls == PLUMB_ERRC_NOT_FOUND)
			e->gone = true; /* deleted since the list: as if the list had not shown it */
		else
			fail(ob, rc, err);
	} else if (j->type == JOB_DESCRIBE) {
		json_t *live = e->o->kind == PLUMB_KIND_TOPIC ? json_object_get(reply, "Attributes")
							      : reply;
		json_decref(e->o->live);
		e->o->live = live ? json_incref(live) : json_object();
		if (!e->o->live)
			fail_nomem(ob);
		else
			plumb__observe_take_describe(e->o, reply);
	} else {
		json_t *tags = plumb__observe_tags_object(json_object_get(reply, "Tags"));
		if (!tags)
			tags = json_object(); /* no Tags member: none */
		if (!tags) {
			fail_nomem(ob);
		} else {
			json_decref(e->o->tags);
			e->o->tags = tags;
			const char *owner = json_string_value(json_object_get(tags, PLUMB_TAG_OWNER));
			e->ours = owner && strcmp(owner, ob->owner) == 0;
		}
	}
	start_jobs(ob);
}

/*
 * Starts reads up to the caps, taking operations in turn; completes the pass when none is left.
 * Tail-called only. The jobs come in list order (every model, then every config, ...): taken in
 * that order, the 1,000-stack bench read one kind at a time at its operation's rate (198 s for
 * the first plan after an apply); in turn, each operation moves at its own rate.
 */
static void start_jobs(struct plumb_observe *ob)
{
	bool started = true;
	while (started && ob->rc == 0) {
		started = false;
		for (int op = 0; op < PLUMB_AWS_NOPS && ob->rc == 0; op++) {
			if (ob->jobs_in_flight >= MAX_IN_FLIGHT)
				break;
			if (ob->op_next[op] >= ob->op_end[op] || ob->op_flight[op] >= MAX_PER_OP)
				continue;
			struct job *j = ob->jobs.items[ob->op_next[op]++];
			struct plumb_err e;
			plumb_err_clear(&e);
			int rc = j->pages ? plumb_aws_paginate_start(ob->a, j->op, j->input, j->pages,
								     0, on_job, j, &e)
					  : plumb_aws_call_start(ob->a, j->op, j->input, on_job, j, &e);
			if (rc) {
				fail(ob, rc, &e);
				break;
			}
			started = true;
			ob->jobs_in_flight++;
			ob->op_flight[op]++;
			if (j->type == JOB_DESCRIBE)
				ob->stats.describe_calls++;
			else
				ob->stats.tag_calls++;
		}
	}
	if (ob->jobs_in_flight == 0)
		complete(ob);
}

static int job_cmp(const void *x, const void *y)
{
	const struct job *a = *(struct job *const *)x, *b = *(struct job *const *)y;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Groups the jobs by operation, each group in creation order, for start_jobs. */
static void queue_jobs(struct plumb_observe *ob)
{
	if (ob->jobs.len > 1)
		qsort(ob->jobs.items, ob->jobs.len, sizeof(ob->jobs.items[0]), job_cmp);
	for (size_t i = 0; i < ob->jobs.len; i++) {
		const struct job *j = ob->jobs.items[i];
		if (i == 0 || ((const struct job *)ob->jobs.items[i - 1])->op != j->op)
			ob->op_next[j->op] = i;
		ob->op_end[j->op] = i + 1;
	}
}

static int add_job(struct plumb_observe *ob, struct entry *e, enum job_type type)
{
	const struct plumb_observed *o = e->o;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return fail_nomem(ob);
	j->ob = ob;
	j->e = e;
	j->type = type;
	if (type == JOB_DESCRIBE) {
		switch (o->kind) {
		case PLUMB_KIND_MODEL:
			j->op = PLUMB_AWS_OP_SM_DESCRIBE_MODEL;
			j->input = json_pack("{s:s}", "ModelName", o->name);
			break;
		case PLUMB_KIND_ENDPOINT_CONFIG:
			j->op = PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT_CONFIG;
			j->input = json_pack("{s:s}", "EndpointConfigName", o->name);
			break;
		case PLUMB_KIND_ENDPOINT:
			j->op = PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT;
			j->input = json_pack("{s:s}", "EndpointName", o->name);
			break;
		default: /* Topic: only made for rows with an ARN */
			j->op = PLUMB_AWS_OP_SNS_GET_TOPIC_ATTRIBUTES;
			j->input = json_pack("{s:s}", "TopicArn", o->arn);
			break;
		}
	} else {
		switch (o->kind) {
		case PLUMB_KIND_MODEL:
		case PLUMB_KIND_ENDPOINT_CONFIG:
		case PLUMB_KIND_ENDPOINT:
			j->op = PLUMB_AWS_OP_SM_LIST_TAGS;
			j->input = json_pack("{s:s}", "ResourceArn", o->arn);
			j->pages = "Tags";
			break;
		case PLUMB_KIND_SCALABLE_TARGET:
			j->op = PLUMB_AWS_OP_AAS_LIST_TAGS_FOR_RESOURCE;
			j->input = json_pack("{s:s}", "ResourceARN", o->arn);
			break;
		case PLUMB_KIND_ALARM:
			j->op = PLUMB_AWS_OP_CW_LIST_TAGS_FOR_RESOURCE;
			j->input = json_pack("{s:s}", "ResourceARN", o->arn);
			break;
		default: /* Topic */
			j->op = PLUMB_AWS_OP_SNS_LIST_TAGS_FOR_RESOURCE;
			j->input = json_pack("{s:s}", "ResourceArn", o->arn);
			break;
		}
	}
	j->seq = ob->jobs.len;
	if (!j->input || plumb_vec_push(&ob->jobs, j) != 0) {
		json_decref(j->input);
		free(j);
		return fail_nomem(ob);
	}
	return 0;
}

/* ---------------------------------------------------------------- from lists to rows */

static bool is_wanted(const struct plumb_observe *ob, const struct plumb_observed *o)
{
	char *key = plumb_observed_key(o->kind, o->region, o->name, o->parent);
	bool w = key && plumb_map_get(&ob->wanted, key) != NULL;
	free(key);
	return w;
}

/*
 * Tags of every resource a plumb owner tagged, by identity key. Scalable-target ARNs carry an
 * id, not the ResourceId: they are mapped through the targets' ScalableTargetARN. Values are
 * borrowed from the tagging reply.
 */
static int index_tags(struct plumb_observe *ob, struct plumb_map *tags)
{
	struct plumb_map target_ids = PLUMB_MAP_INIT; /* ScalableTargetARN -> ResourceId */
	size_t i;
	json_t *t;
	int rc = 0;
	json_array_foreach(json_object_get(ob->reply[L_TARGETS], lists[L_TARGETS].member), i, t) {
		const char *arn = json_string_value(json_object_get(t, "ScalableTargetARN"));
		const char *id = json_string_value(json_object_get(t, "ResourceId"));
		if (arn && id && (rc = plumb_map_put(&target_ids, arn, (void *)id)) == PLUMB_ENOMEM)
			goto out;
	}
	rc = 0;
	json_array_foreach(json_object_get(ob->reply[L_TAGGED], lists[L_TAGGED].member), i, t) {
		const char *arn = json_string_value(json_object_get(t, "ResourceARN"));
		enum plumb_kind kind;
		const char *name;
		if (plumb__observe_arn_parse(arn, &kind, &name) != 0)
			continue; /* a kind plumb does not manage */
		if (kind == PLUMB_KIND_SCALABLE_TARGET && !(name = plumb_map_get(&target_ids, arn)))
			continue; /* not a sagemaker target, or gone since its list */
		char *key = plumb_observed_key(kind, ob->a->region, name, NULL);
		if (!key) {
			rc = PLUMB_ENOMEM;
			goto out;
		}
		rc = plumb_map_put(tags, key, json_object_get(t, "Tags"));
		free(key);
		if (rc == PLUMB_ENOMEM)
			goto out;
		rc = 0;
	}
out:
	plumb_map_release(&target_ids);
	return rc;
}

/* A scaling policy carries no tags: it is ours when its scalable target is. */
static bool policy_target_ours(const struct plumb_observe *ob, const struct plumb_observed *o)
{
	char *tkey = plumb_observed_key(PLUMB_KIND_SCALABLE_TARGET, o->region, o->parent, NULL);
	const struct entry *target = tkey ? plumb_map_get(&ob->index, tkey) : NULL;
	free(tkey);
	return target && !target->gone && target->ours;
}

/* Rows of one list; their ownership; the reads they need. */
static int take_list(struct plumb_observe *ob, enum list_id id, const struct plumb_map *tags)
{
	enum plumb_kind kind = (enum plumb_kind)lists[id].kind;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(ob->reply[id], lists[id].member), i, item) {
		struct plumb_observed *o;
		if (plumb__observe_from_item(kind, ob->a->region, item, &o) != 0)
			return fail_nomem(ob);
		if (!o)
			continue; /* an item without a name: nothing to know it by */
		char *key = plumb_observed_key(o->kind, o->region, o->name, o->parent);
		struct entry *e = calloc(1, sizeof(*e));
		int rc = key && e ? plumb_map_put(&ob->index, key, e) : PLUMB_ENOMEM;
		if (rc == 0 && plumb_vec_push(&ob->entries, e) != 0)
			rc = PLUMB_ENOMEM; /* the index keeps a dangling entry: the pass fails */
		if (rc) {
			free(key);
			free(e);
			plumb_observed_free(o);
			if (rc == PLUMB_EEXIST)
				continue; /* listed twice (a page boundary moved): the first one stands */
			return fail_nomem(ob);
		}
		e->o = o;
		o->observed_ms = ob->start_ms;
		const struct plumb_observed *c = plumb_observed_find(&ob->cache, o->kind, o->region,
								     o->name, o->parent);
		bool recheck = false; /* plumb-tagged last pass, missing from the tagging reply now */
		if (kind == PLUMB_KIND_SCALING_POLICY) {
			e->ours = policy_target_ours(ob, o);
		} else {
			const json_t *t = plumb_map_get(tags, key);
			if (t && !(o->tags = plumb__observe_tags_object(t))) {
				free(key);
				return fail_nomem(ob);
			}
			const char *owner = plumb_observed_tag(o, PLUMB_TAG_OWNER);
			if (!t && o->arn && plumb_observed_tag(c, PLUMB_TAG_OWNER)) {
				/* the Tagging API lags behind new tags, or the tags were removed:
				 * read them; until then the cache says whose it is */
				recheck = true;
				owner = plumb_observed_tag(c, PLUMB_TAG_OWNER);
			} else if (!t && o->arn && !c && is_wanted(ob, o)) {
				/* wanted and new to the cache (just created, or its row dropped by
				 * apply): its tags may not have reached the Tagging API yet */
				recheck = true;
			}
			e->ours = owner && strcmp(owner, ob->owner) == 0;
		}
		free(key);
		e->wanted = is_wanted(ob, o);
		if ((recheck || (ob->adopt && e->wanted && !o->tags && o->arn &&
				 kind != PLUMB_KIND_SCALING_POLICY)) &&
		    add_job(ob, e, JOB_TAGS) != 0)
			return PLUMB_ENOMEM;
		if (!e->ours && !e->wanted)
			continue; /* a list entry is enough: the name is taken */
		if (!plumb__observe_described_kind(kind)) {
			o->live = json_incref(item); /* targets, policies, alarms: whole from the list */
		} else if (ob->refresh == PLUMB_REFRESH_FULL || plumb__observe_moved(c, o)) {
			if (add_job(ob, e, JOB_DESCRIBE) != 0)
				return PLUMB_ENOMEM;
		} else {
			o->live = json_incref(c->live);
			ob->stats.unchanged++;
		}
	}
	return 0;
}

/* LIST is over and succeeded: build the rows, then READ. Tail-called only. */
static void lists_done(struct plumb_observe *ob)
{
	uint64_t calls = ob->a->stats.calls;
	ob->stats.list_calls = (unsigned)(calls - ob->calls0);
	struct plumb_map tags = PLUMB_MAP_INIT;
	if (index_tags(ob, &tags) != 0) {
		fail_nomem(ob);
	} else {
		/* targets before policies: a policy is ours when its target is */
		static const enum list_id order[] = { L_MODELS, L_CONFIGS, L_ENDPOINTS, L_TARGETS,
						      L_POLICIES, L_ALARMS, L_TOPICS };
		for (size_t i = 0; i < PLUMB_ARRAY_LEN(order) && ob->rc == 0; i++)
			take_list(ob, order[i], &tags);
	}
	plumb_map_release(&tags);
	for (int i = 0; i < L__COUNT; i++) { /* rows hold what they need now */
		json_decref(ob->reply[i]);
		ob->reply[i] = NULL;
	}
	queue_jobs(ob);
	start_jobs(ob);
}

static void on_list(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct list_ctx *lc = data;
	struct plumb_observe *ob = lc->ob;
	ob->lists_pending--;
	if (rc)
		fail(ob, rc, err);
	else if (!json_is_array(json_object_get(reply, lists[lc->id].member)))
		fail_nomem(ob); /* pkg/aws always sets the member; only a failed allocation lacks it */
	else
		ob->reply[lc->id] = json_incref(reply);
	if (ob->lists_pending > 0)
		return;
	if (ob->rc)
		finish(ob);
	else
		lists_done(ob);
}

/* ---------------------------------------------------------------- API */

int plumb_observe_start(struct plumb_observe **obp, struct plumb_aws *a, struct plumb_state *s,
			const struct plumb_observe_opts *opts, struct plumb_observed_set *out,
			plumb_observe_cb cb, void *data, struct plumb_err *err)
{
	*obp = NULL;
	if (!a || !s || !opts || !out || !cb || !opts->account || !*opts->account ||
	    !opts->owner || !*opts->owner || (opts->nwant && !opts->want) || !a->region[0])
		return plumb_err_set(err, PLUMB_EINVAL,
				     "observe needs a client with a region, a state, an account, an "
				     "owner, an output set and a callback");
	struct plumb_observe *ob = calloc(1, sizeof(*ob));
	if (!ob)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	ob->a = a;
	ob->s = s;
	ob->account = strdup(opts->account);
	ob->owner = strdup(opts->owner);
	ob->refresh = opts->refresh;
	ob->adopt = opts->adopt;
	ob->out = out;
	ob->cb = cb;
	ob->data = data;
	plumb_observed_set_init(&ob->cache);
	plumb_err_clear(&ob->err);
	ob->start_ms = plumb_clock_now_ms(pass_clock(ob));
	ob->start_mono = plumb_clock_mono_ms(pass_clock(ob));
	int rc = 0;
	if (!ob->account || !ob->owner) {
		rc = plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		goto err;
	}
	for (size_t i = 0; i < opts->nwant; i++) {
		const struct plumb_observe_want *w = &opts->want[i];
		char *key = plumb_observed_key(w->kind, a->region, w->name, w->parent);
		rc = key ? plumb_map_put(&ob->wanted, key, ob) : PLUMB_ENOMEM;
		free(key);
		if (rc == PLUMB_ENOMEM) {
			plumb_err_set(err, rc, "out of memory");
			goto err;
		}
	}
	if ((rc = plumb_state_load_observed(s, ob->account, a->region, &ob->cache, err)) != 0)
		goto err;
	ob->calls0 = a->stats.calls;
	for (int i = 0; i < L__COUNT; i++) {
		ob->lctx[i] = (struct list_ctx){ ob, (enum list_id)i };
		json_t *in = list_input((enum list_id)i);
		struct plumb_err e;
		plumb_err_clear(&e);
		rc = in ? plumb_aws_paginate_start(a, lists[i].op, in, lists[i].member, 0, on_list,
						   &ob->lctx[i], &e)
			: plumb_err_set(&e, PLUMB_ENOMEM, "out of memory");
		json_decref(in);
		if (rc == 0) {
			ob->lists_pending++;
			continue;
		}
		if (ob->lists_pending == 0) { /* nothing started: fail here, no callback */
			if (err)
				*err = e;
			goto err;
		}
		fail(ob, rc, &e); /* the started lists finish, then the callback reports it */
		break;
	}
	*obp = ob;
	return 0;
err:
	release_work(ob);
	free(ob->account);
	free(ob->owner);
	free(ob);
	return rc;
}

const struct plumb_observe_stats *plumb_observe_stats(const struct plumb_observe *ob)
{
	return &ob->stats;
}

void plumb_observe_free(struct plumb_observe *ob)
{
	if (!ob)
		return;
	if (!ob->done) {
		/* a bug in the caller: its calls still point here, so leak rather than corrupt */
		plumb_log(PLUMB_LOG_ERROR, "observe_free_running", "region", ob->a->region, NULL);
		return;
	}
	release_work(ob);
	free(ob->account);
	free(ob->owner);
	free(ob);
}

/*
 * pkg/apply/recover.c — finishing the journal rows a crash left OPEN.
 *
 * A row is OPEN when plumb died between writing it and hearing AWS's answer: the call may or
 * may not have landed. Recovery asks AWS, one read per row (all at once on the loop):
 *
 *   operation                         read                          DONE when
 *   Create* / Register / Put*         describe the resource         it exists (upserts: and
 *                                                                   the request's top-level
 *                                                                   scalars match it)
 *   UpdateEndpoint                    DescribeEndpoint              deployed or pending config
 *                                                                   is the requested one
 *   Delete* / Deregister              describe the resource         it is gone (or Deleting)
 *   AddTags / TagResource             list its tags                 every tag is there
 *   DeleteTags / UntagResource        list its tags                 no key is there
 *   SetTopicAttributes                GetTopicAttributes            the value is set
 *
 * and FAILED otherwise ("interrupted: ..."). A read that fails for another reason than "not
 * found" (throttling, network) leaves the row OPEN for the next start, as do rows of another
 * account. Whatever a row says, the caller then plans from a fresh observation: the rows are
 * the audit trail, the observation is the truth (docs/apply.md, "Crash safety").
 *
 * Cost: one read per open row; at most max_inflight rows per kind are open after a crash.
 */
#include "apply/apply.h"
#include "apply/apply_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rec {
	const struct plumb__apply_env *env; /* borrowed */
	struct plumb_apply_recovery *out;   /* counts */
	size_t running;                     /* probes not yet answered */
};

struct probe {
	struct rec *r;                  /* the recovery */
	struct plumb_journal_entry *e;  /* the open row (owned) */
	int op;                         /* enum plumb_aws_op of the row, or -1 */
	int probe_op;                   /* the read sent */
};

static enum plumb_aws_service kind_service(enum plumb_kind k)
{
	switch (k) {
	case PLUMB_KIND_SCALABLE_TARGET:
	case PLUMB_KIND_SCALING_POLICY: return PLUMB_AWS_AAS;
	case PLUMB_KIND_ALARM: return PLUMB_AWS_CLOUDWATCH;
	case PLUMB_KIND_TOPIC: return PLUMB_AWS_SNS;
	default: return PLUMB_AWS_SAGEMAKER;
	}
}

static bool is_tag_op(int op)
{
	switch (op) {
	case PLUMB_AWS_OP_SM_ADD_TAGS:
	case PLUMB_AWS_OP_SM_DELETE_TAGS:
	case PLUMB_AWS_OP_AAS_TAG_RESOURCE:
	case PLUMB_AWS_OP_AAS_UNTAG_RESOURCE:
	case PLUMB_AWS_OP_CW_TAG_RESOURCE:
	case PLUMB_AWS_OP_CW_UNTAG_RESOURCE:
	case PLUMB_AWS_OP_SNS_TAG_RESOURCE:
	case PLUMB_AWS_OP_SNS_UNTAG_RESOURCE: return true;
	default: return false;
	}
}

static bool is_tag_add(int op)
{
	return op == PLUMB_AWS_OP_SM_ADD_TAGS || op == PLUMB_AWS_OP_AAS_TAG_RESOURCE ||
	       op == PLUMB_AWS_OP_CW_TAG_RESOURCE || op == PLUMB_AWS_OP_SNS_TAG_RESOURCE;
}

static int list_tags_op(enum plumb_kind k)
{
	switch (kind_service(k)) {
	case PLUMB_AWS_AAS: return PLUMB_AWS_OP_AAS_LIST_TAGS_FOR_RESOURCE;
	case PLUMB_AWS_CLOUDWATCH: return PLUMB_AWS_OP_CW_LIST_TAGS_FOR_RESOURCE;
	case PLUMB_AWS_SNS: return PLUMB_AWS_OP_SNS_LIST_TAGS_FOR_RESOURCE;
	default: return PLUMB_AWS_OP_SM_LIST_TAGS;
	}
}

static const char *topic_arn(struct probe *p, char *buf, size_t n)
{
	const char *arn = json_string_value(json_object_get(p->e->request, "TopicArn"));
	if (arn)
		return arn;
	if (plumb_arn(PLUMB_KIND_TOPIC, p->e->region, p->e->account, p->e->name, buf, n))
		return NULL;
	return buf;
}

/* The read that tells whether the row's call landed; NULL input when there is none. */
static json_t *probe_input(struct probe *p, int *op)
{
	struct plumb_journal_entry *e = p->e;
	char buf[512];
	if (is_tag_op(p->op)) {
		const char *m = plumb__apply_arn_member(e->kind);
		const char *arn = json_string_value(json_object_get(e->request, m));
		*op = list_tags_op(e->kind);
		return arn ? json_pack("{s:s}", m, arn) : NULL;
	}
	const char *name = e->name;
	switch (e->kind) {
	case PLUMB_KIND_MODEL:
		*op = PLUMB_AWS_OP_SM_DESCRIBE_MODEL;
		return json_pack("{s:s}", "ModelName", name);
	case PLUMB_KIND_ENDPOINT_CONFIG:
		*op = PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT_CONFIG;
		return json_pack("{s:s}", "EndpointConfigName", name);
	case PLUMB_KIND_ENDPOINT:
		*op = PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT;
		return json_pack("{s:s}", "EndpointName", name);
	case PLUMB_KIND_SCALABLE_TARGET:
		*op = PLUMB_AWS_OP_AAS_DESCRIBE_SCALABLE_TARGETS;
		return json_pack("{s:s, s:[s]}", "ServiceNamespace", "sagemaker", "ResourceIds", name);
	case PLUMB_KIND_SCALING_POLICY: {
		const char *parent = e->parent ? e->parent
					       : json_string_value(json_object_get(e->request,
										   "ResourceId"));
		if (!parent)
			return NULL;
		*op = PLUMB_AWS_OP_AAS_DESCRIBE_SCALING_POLICIES;
		return json_pack("{s:s, s:s, s:[s]}", "ServiceNamespace", "sagemaker", "ResourceId",
				 parent, "PolicyNames", name);
	}
	case PLUMB_KIND_ALARM:
		*op = PLUMB_AWS_OP_CW_DESCRIBE_ALARMS;
		return json_pack("{s:[s]}", "AlarmNames", name);
	case PLUMB_KIND_TOPIC: {
		const char *arn = topic_arn(p, buf, sizeof(buf));
		*op = PLUMB_AWS_OP_SNS_GET_TOPIC_ATTRIBUTES;
		return arn ? json_pack("{s:s}", "TopicArn", arn) : NULL;
	}
	default:
		return NULL;
	}
}

/* The live object a describe reply holds, or NULL when it says "absent". */
static const json_t *live_of(enum plumb_kind k, const json_t *reply)
{
	switch (k) {
	case PLUMB_KIND_SCALABLE_TARGET:
		return json_array_get(json_object_get(reply, "ScalableTargets"), 0);
	case PLUMB_KIND_SCALING_POLICY:
		return json_array_get(json_object_get(reply, "ScalingPolicies"), 0);
	case PLUMB_KIND_ALARM: return json_array_get(json_object_get(reply, "MetricAlarms"), 0);
	case PLUMB_KIND_TOPIC: return json_object_get(reply, "Attributes");
	default: return reply;
	}
}

/* Every top-level scalar of the request that the live object also has is equal there. */
static bool scalars_match(const json_t *req, const json_t *live)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)req, k, v) {
		json_t *l = json_object_get(live, k);
		if (!l)
			continue;
		if (json_is_number(v) && json_is_number(l)) {
			if (fabs(json_number_value(v) - json_number_value(l)) > 1e-9)
				return false;
		} else if ((json_is_string(v) || json_is_boolean(v)) && !json_equal(v, l)) {
			return false;
		}
	}
	return true;
}

static bool tags_landed(int op, const json_t *req, const json_t *reply)
{
	const json_t *have = json_object_get(reply, "Tags");
	if (is_tag_add(op)) {
		const json_t *want = json_object_get(req, "Tags");
		if (json_is_object(want)) {
			const char *k;
			json_t *v;
			json_object_foreach((json_t *)want, k, v) {
				const char *h = plumb__apply_tag_value(have, k);
				if (!h || !json_is_string(v) || strcmp(h, json_string_value(v)) != 0)
					return false;
			}
			return true;
		}
		size_t i;
		json_t *t;
		json_array_foreach(want, i, t) {
			const char *k = json_string_value(json_object_get(t, "Key"));
			const char *v = json_string_value(json_object_get(t, "Value"));
			const char *h = k ? plumb__apply_tag_value(have, k) : NULL;
			if (!h || strcmp(h, v ? v : "") != 0)
				return false;
		}
		return true;
	}
	size_t i;
	json_t *key;
	json_array_foreach(json_object_get(req, "TagKeys"), i, key)
		if (json_is_string(key) && plumb__apply_tag_value(have, json_string_value(key)))
			return false;
	return true;
}

/* Did the row's call take effect, given the read's answer? */
static bool landed(struct probe *p, bool gone, const json_t *reply)
{
	const struct plumb_journal_entry *e = p->e;
	const json_t *req = e->request;
	int op = p->op;
	if (is_tag_op(op))
		return !gone && tags_landed(op, req, reply);
	const json_t *live = gone ? NULL : live_of(e->kind, reply);
	bool exists = live && (!json_is_object(live) || json_object_size(live) > 0);
	if (op >= 0 && (plumb_aws_op_flags(op) & PLUMB_AWS_OP_DELETE)) {
		if (!exists)
			return true;
		const char *st = json_string_value(json_object_get(live, "EndpointStatus"));
		return e->kind == PLUMB_KIND_ENDPOINT && st && strcmp(st, "Deleting") == 0;
	}
	if (!exists)
		return false;
	switch (op) {
	case PLUMB_AWS_OP_SM_UPDATE_ENDPOINT: {
		const char *want = json_string_value(json_object_get(req, "EndpointConfigName"));
		const char *cfg = json_string_value(json_object_get(live, "EndpointConfigName"));
		const char *pend = json_string_value(json_object_get(
			json_object_get(live, "PendingDeploymentSummary"), "EndpointConfigName"));
		return want && ((cfg && strcasecmp(cfg, want) == 0) ||
				(pend && strcasecmp(pend, want) == 0));
	}
	case PLUMB_AWS_OP_SNS_SET_TOPIC_ATTRIBUTES: {
		const char *name = json_string_value(json_object_get(req, "AttributeName"));
		const char *want = json_string_value(json_object_get(req, "AttributeValue"));
		const char *have = name ? json_string_value(json_object_get(live, name)) : NULL;
		return name && ((!want && !have) || (want && have && strcmp(want, have) == 0));
	}
	case PLUMB_AWS_OP_AAS_REGISTER_SCALABLE_TARGET:
	case PLUMB_AWS_OP_AAS_PUT_SCALING_POLICY:
	case PLUMB_AWS_OP_CW_PUT_METRIC_ALARM:
		return scalars_match(req, live);
	default:
		return true; /* creates: it exists */
	}
}

static void finish_row(struct probe *p, enum plumb_journal_status st, const char *why)
{
	struct rec *r = p->r;
	struct plumb_err e;
	plumb_err_clear(&e);
	if (plumb_state_journal_finish(r->env->state, p->e->id, st, why, &e) != 0) {
		r->out->left++;
		return;
	}
	if (st == PLUMB_JOURNAL_DONE)
		r->out->done++;
	else
		r->out->failed++;
	plumb_log(PLUMB_LOG_INFO, "apply.recovered", "resource",
		  p->e->manifest_id ? p->e->manifest_id : p->e->name, "operation", p->e->operation,
		  "status", plumb_journal_status_name(st), NULL);
}

static void on_probe(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct probe *p = data;
	bool gone = rc && err && err->cls == PLUMB_ERRC_NOT_FOUND;
	if (rc && !gone) {
		p->r->out->left++;
		plumb_log(PLUMB_LOG_WARN, "apply.recover_probe", "resource", p->e->name, "error",
			  err ? err->msg : "", NULL);
	} else if (landed(p, gone, reply)) {
		finish_row(p, PLUMB_JOURNAL_DONE, NULL);
	} else {
		finish_row(p, PLUMB_JOURNAL_FAILED,
			   "interrupted: the call did not take effect (re-observed after a crash)");
	}
	p->r->running--;
}

int plumb__apply_recover_env(const struct plumb__apply_env *env,
			     struct plumb_apply_recovery *out, struct plumb_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!env->state)
		return 0;
	struct plumb_vec rows = PLUMB_VEC_INIT;
	int rc = plumb_state_journal_open(env->state, &rows, err);
	if (rc)
		goto out;
	out->open = (unsigned)rows.len;
	struct rec r = { .env = env, .out = out };
	struct probe *probes = calloc(rows.len ? rows.len : 1, sizeof(*probes));
	if (!probes) {
		rc = plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < rows.len; i++) {
		struct probe *p = &probes[i];
		p->r = &r;
		p->e = rows.items[i];
		if (!p->e->account || !env->account || strcmp(p->e->account, env->account) != 0 ||
		    !p->e->region || !p->e->name) {
			out->left++;
			continue;
		}
		p->op = p->e->operation
				? plumb_aws_op_find(plumb_aws_service_name(kind_service(p->e->kind)),
						    p->e->operation)
				: -1;
		if (p->op < 0) {
			finish_row(p, PLUMB_JOURNAL_FAILED,
				   "interrupted: operation not known to recovery, not checked");
			continue;
		}
		json_t *in = probe_input(p, &p->probe_op);
		if (!in) {
			finish_row(p, PLUMB_JOURNAL_FAILED,
				   "interrupted: nothing to read it back with, not checked");
			continue;
		}
		struct plumb_err e;
		plumb_err_clear(&e);
		int src = env->call(env->call_ctx, p->e->region, (enum plumb_aws_op)p->probe_op, in,
				    on_probe, p, &e);
		json_decref(in);
		if (src) {
			out->left++;
			continue;
		}
		r.running++;
	}
	while (r.running)
		uv_run(env->loop, UV_RUN_ONCE);
	free(probes);
out:
	for (size_t i = 0; i < rows.len; i++)
		plumb_journal_entry_free(rows.items[i]);
	plumb_vec_release(&rows);
	return rc;
}

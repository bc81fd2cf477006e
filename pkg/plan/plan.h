/*
 * pkg/plan — a diff turned into an ordered DAG of actions, and how a plan is shown and saved.
 *
 * Pure: no I/O, no clock (the caller passes times in). Input is a struct plumb_diff; output is a
 * list of actions, each with the actions it waits for. Ordering (DESIGN.md §4, reference §11.3):
 *
 *   Topic -> Model -> EndpointConfig -> Endpoint -> wait InService -> ScalableTarget
 *         -> ScalingPolicy -> Alarm (its actions need the policy ARN)
 *
 * following the resources' references; deletes run in reverse (alarms, policies, targets,
 * endpoint (+ wait deleted), configs, models, topics). Superseded models and configs (a
 * rollover) are deleted only after the endpoint that used them is InService on the new config:
 * their DELETE depends on that WAIT.
 *
 * Endpoint updates are choreographed. When the new config changes the instance type of, or
 * removes, a variant that has a scalable target (live or wanted), AWS refuses UpdateEndpoint;
 * then the plan is: delete the target's policies -> deregister the target -> UpdateEndpoint ->
 * wait InService -> register the target -> put the policies -> put the alarms that name them
 * (their ARNs changed). Every UpdateEndpoint sends RetainAllVariantProperties=true, plus
 * ExcludeRetainedVariantProperties for the properties the user changed on purpose
 * (InitialInstanceCount -> DesiredInstanceCount, InitialVariantWeight -> DesiredWeight,
 * DataCaptureConfig), comparing the old config's variants with the new one's.
 *
 * Action inputs are AWS request members. Values only AWS can give (a new policy's ARN) stay as
 * reference markers {"plumb:ref": "ScalingPolicy/t/p"}; apply fills them from the results of
 * the actions they depend on.
 */
#ifndef PLUMB_PLAN_PLAN_H
#define PLUMB_PLAN_PLAN_H

#include "base/base.h"
#include "diff/diff.h"
#include "model/model.h"

#include <jansson.h>

enum plumb_action_type {
	PLUMB_ACTION_CREATE, /* Create* / Register / Put (first time) */
	PLUMB_ACTION_UPDATE, /* UpdateEndpoint / Register / Put / SetTopicAttributes */
	PLUMB_ACTION_DELETE, /* Delete* / Deregister */
	PLUMB_ACTION_TAG,    /* add and remove tags only */
	PLUMB_ACTION_WAIT,   /* poll until an endpoint is InService on a config, or gone */
};
const char *plumb_action_type_name(enum plumb_action_type t); /* "create", ... */

enum plumb_wait_for {
	PLUMB_WAIT_NONE,
	PLUMB_WAIT_IN_SERVICE, /* EndpointStatus InService with EndpointConfigName = wait_config */
	PLUMB_WAIT_DELETED,    /* DescribeEndpoint says not found */
};

struct plumb_action {
	size_t id;                          /* index in plan->actions, also its order of listing */
	enum plumb_action_type type;        /* what */
	enum plumb_kind kind;               /* on which kind */
	const char *name;                   /* manifest name (or plumb:id name for deletes) */
	const char *physical;               /* AWS name */
	const char *parent;                 /* ScalingPolicy: ResourceId; else NULL */
	const char *region;                 /* region */
	const struct plumb_change *change;  /* the change it carries out, NULL for extra steps */
	json_t *input;                      /* owned: CREATE/UPDATE request members (AWS names,
					     * tags included), DELETE the delete request; may hold
					     * reference markers; NULL for WAIT and TAG */
	json_t *add_tags;                   /* owned, TAG (and UPDATE of tags): {"k": "v"}, or NULL */
	json_t *remove_tags;                /* owned: ["k", ...], or NULL */
	enum plumb_wait_for wait_for;       /* WAIT: what for */
	const char *wait_config;            /* WAIT IN_SERVICE: the config the endpoint must be on */
	int64_t wait_deadline_s;            /* WAIT: give up (stuck) after this many seconds */
	const char *why;                    /* one line shown beside the action, or NULL */
	struct plumb_vec deps;              /* struct plumb_action *: run after these */
};

struct plumb_plan_opts {
	const char *owner;   /* plumb:owner */
	const char *account; /* account id */
};

struct plumb_plan {
	const struct plumb_diff *diff;  /* borrowed: what the plan was made from */
	struct plumb_vec actions;       /* struct plumb_action *, a topological order */
	unsigned n_create, n_update, n_delete, n_tag, n_replace; /* per resource, for the summary */
	unsigned n_orphan, n_conflict;  /* listed, not acted on */
	struct plumb_arena arena;       /* strings of this plan */
};

void plumb_plan_init(struct plumb_plan *p);
void plumb_plan_release(struct plumb_plan *p);
/* Builds the DAG for d (which must outlive p). */
int plumb_plan_build(struct plumb_plan *p, const struct plumb_diff *d,
		     const struct plumb_plan_opts *opts, struct plumb_err *err);
/* True when the plan has any action (exit code 2). */
bool plumb_plan_has_changes(const struct plumb_plan *p);

/*
 * The human plan: resource by resource (+ create, ~ update, -/+ replace, - delete, ~ tags),
 * field by field with old -> new values, orphans and conflicts, then the ordered actions, then
 * "Plan: 3 to create, 1 to update, 0 to delete." (or "No changes. ..."). Colour with ANSI when
 * color is true.
 */
int plumb_plan_render_text(const struct plumb_plan *p, struct plumb_buf *out, bool color);
/* One-line summary without newline: "3 to create, 1 to update, 0 to delete". */
int plumb_plan_summary(const struct plumb_plan *p, struct plumb_buf *out);

/*
 * The JSON plan (docs/plan-format.md, "format_version": 1): summary, resources with their
 * field deltas, actions with inputs and dependencies, orphans and conflicts. Also what
 * `plan -o FILE` writes, with meta (an object the caller adds: created time, account,
 * regions, the state fingerprint) stored under "meta".
 */
json_t *plumb_plan_to_json(const struct plumb_plan *p, const json_t *meta);

/*
 * A fingerprint of the live state a plan was made from: SHA-256 hex over the identity,
 * modified time, status and canonical live JSON of every resource named in the plan's JSON
 * "resources" (absent ones count as absent). `plan -o FILE` stores it in meta; apply FILE
 * recomputes it from the saved JSON and a fresh observation and refuses when it differs.
 */
int plumb_plan_fingerprint(const json_t *plan_json, const struct plumb_observed_set *have,
			   char out[65]);

#endif

/*
 * pkg/diff — desired × observed -> what differs, resource by resource and field by field.
 *
 * Pure: no I/O, no clock. Input is the desired resources of a finished manifest set (every one
 * with its region filled in by the caller) and the observed set of the same account; output is
 * one struct plumb_change per resource that is to be created, updated, replaced, re-tagged,
 * deleted, listed as an orphan, or refused (a conflict), plus the unchanged ones (type NONE)
 * so that reports can count them.
 *
 * What is compared (DESIGN.md §4, "Normalisation"):
 *  - managed fields: every member the manifest sets, plus every member with an AWS default in the
 *    shape tables (so a live value moved away from the default is a change);
 *  - other live members are reported as information (delta.info = true), never changed;
 *  - values are compared after normalisation: numbers by value (1 == 1.0), JSON-in-strings (SNS
 *    policies) as JSON, the service-linked RoleARN that Application Auto Scaling substitutes,
 *    reference markers resolved where the live side already knows the ARN;
 *  - instance counts owned by an autoscaler are never compared (endpoints carry no counts in
 *    their spec; configs are immutable and named by hash);
 *  - DeploymentConfig of an endpoint is how to update, not state: it is never diffed;
 *  - tags: the user's tags plus plumb:owner, plumb:id and plumb:spec-hash; a tag-only
 *    difference is a TAG change, never a replacement (DESIGN.md §4).
 *
 * Ownership: a live resource is ours when tag plumb:owner equals opts->owner. Scaling policies
 * carry no tags: they are ours when their scalable target is. TargetTracking-* alarms belong to
 * their policy (Application Auto Scaling made them): never reported, never pruned.
 *
 * Immutable kinds (Model, EndpointConfig) are named by spec hash, so a changed spec is a new
 * physical name: a CREATE of the new one and a DELETE (superseded = true) of every other live
 * resource of ours with the same plumb:id. Superseded deletes happen whatever the prune policy
 * says: they are the garbage of a rollover, not a removed manifest.
 */
#ifndef PLUMB_DIFF_DIFF_H
#define PLUMB_DIFF_DIFF_H

#include "base/base.h"
#include "model/model.h"

#include <jansson.h>

enum plumb_change_type {
	PLUMB_CHANGE_NONE,     /* in sync */
	PLUMB_CHANGE_CREATE,   /* wanted, not live */
	PLUMB_CHANGE_UPDATE,   /* live and ours, managed fields differ (maybe tags too) */
	PLUMB_CHANGE_REPLACE,  /* live and ours, a field AWS cannot update differs: delete + create */
	PLUMB_CHANGE_TAG,      /* live and ours, only tags differ */
	PLUMB_CHANGE_ADOPT,    /* live, untagged (nobody's), --adopt given: tag it ours, then diff */
	PLUMB_CHANGE_DELETE,   /* live and ours, no manifest names it (prune on) or superseded */
	PLUMB_CHANGE_ORPHAN,   /* live and ours, no manifest names it, prune off: listed only */
	PLUMB_CHANGE_CONFLICT, /* wanted name taken by a resource that is not ours: an error */
};
const char *plumb_change_type_name(enum plumb_change_type t); /* "create", "update", ... */

/* One field that differs (or, with info, one live field the manifest does not manage). */
struct plumb_delta {
	char *path;       /* manifest spelling: "productionVariants[0].instanceType"; tags: "tags.team" */
	char *aws_path;   /* AWS spelling: "ProductionVariants[0].InstanceType"; tags: "Tags.team" */
	json_t *old;      /* live value (owned), NULL when absent */
	json_t *new;      /* wanted value (owned), NULL when absent; may hold a reference marker
			   * {"plumb:ref": ...} when the value is known only after apply */
	bool info;        /* unmanaged live field: shown, never changed */
	bool forces_replace; /* AWS cannot update this field in place */
};

struct plumb_change {
	enum plumb_change_type type;       /* what to do */
	enum plumb_kind kind;              /* resource kind */
	const char *name;                  /* manifest name; for orphans/superseded the plumb:id name */
	const char *physical;              /* AWS name */
	const char *parent;                /* ScalingPolicy: ResourceId of its target; else NULL */
	const char *region;                /* region */
	const struct plumb_resource *want; /* borrowed; NULL for DELETE / ORPHAN */
	const struct plumb_observed *have; /* borrowed; NULL for CREATE */
	json_t *spec;      /* owned: want->spec with references resolved where known, else NULL */
	json_t *tags;      /* owned: the full tag object wanted (user tags + plumb:*), or NULL */
	struct plumb_vec deltas;           /* struct plumb_delta *: spec fields, then tags */
	bool superseded;                   /* DELETE of an older immutable version (rollover) */
	const char *superseded_by;         /* its replacement's physical name, when superseded */
	const char *reason;                /* one line: why (conflict message, "no manifest names it") */
};

struct plumb_diff_opts {
	const char *owner;   /* our plumb:owner value (required) */
	const char *account; /* account id: resolves topic references to ARNs */
	bool adopt;          /* take over untagged resources with wanted names */
	int prune;           /* -1: each resource's Defaults decides; 0 off; 1 on (--prune) */
	bool default_prune;  /* prune -1, for orphans no manifest names (so no Defaults to ask):
			      * the top-level Defaults' prune (set->prune); a policy orphan under a
			      * wanted target follows that target's prune instead */
	bool show_info;      /* also fill info deltas for unchanged resources */
};

struct plumb_diff {
	struct plumb_vec changes;          /* struct plumb_change *: desired order, then deletes */
	unsigned counts[PLUMB_CHANGE_CONFLICT + 1]; /* changes per type */
	struct plumb_arena arena;          /* strings of this diff */
};

void plumb_diff_init(struct plumb_diff *d);
void plumb_diff_release(struct plumb_diff *d);

/*
 * Compares want (struct plumb_resource *, dependency order as the manifest set gives it;
 * Defaults documents are skipped) with have. Changes borrow from both: keep them alive while
 * the diff is used. Returns 0 or PLUMB_ENOMEM / PLUMB_EINVAL (a desired resource without a
 * region).
 */
int plumb_diff_compute(struct plumb_diff *d, const struct plumb_vec *want,
		       const struct plumb_observed_set *have, const struct plumb_diff_opts *opts,
		       struct plumb_err *err);

/* Any change other than NONE and ORPHAN? (plan's exit code 2) */
bool plumb_diff_has_changes(const struct plumb_diff *d);

/*
 * The live resource's spec in the desired spec's shape (AWS member names), from observed->live:
 * only members of the kind's request shape, names and identities removed. New object, or NULL
 * when observed->live is NULL. Exposed for drift and export.
 */
json_t *plumb_diff_live_spec(const struct plumb_observed *o);

#endif

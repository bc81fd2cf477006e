/*
 * pkg/export — live resources back into manifests (plumb export).
 *
 * Pure: no I/O. Input is an observed set (pkg/observe's picture of one account+region, with
 * the Describe replies of the resources that matter) and the endpoints asked for; output is
 * YAML text per file, made with libyaml's emitter, such that `plumb plan` on it finds the same
 * physical names and spec hashes as the live resources carry, so it shows no changes.
 *
 * Two steps, because what an endpoint uses is only known once it is described:
 *  1. plumb_export_select: the closure of the asked endpoints as far as the observation goes
 *     (endpoint -> config -> models and topics; scalable targets and their policies on its
 *     variants; alarms on its dimensions, fired by its policies or named by its rollback
 *     configuration; topics in alarm actions), and which of those still need a Describe. The
 *     caller observes again with them wanted until nothing more is needed.
 *  2. plumb_export_build: manifest documents per endpoint stack (docs/export.md):
 *     - names: a resource plumb made carries plumb:id (Kind/name): that name, the Defaults
 *       namePrefix is what precedes it; a Model or EndpointConfig of another origin whose name
 *       is not <name>-<8 hex of its spec hash> keeps its exact name with the annotations
 *       plumb/physical-name and plumb/spec-hash (the pin pkg/manifest honours while the spec
 *       hashes the same);
 *     - references instead of names and ARNs where the target is exported too (modelRef,
 *       endpointConfigRef, successTopicRef/errorTopicRef, alarmRef, endpointRef + variantName,
 *       {topicRef}/{policyRef} in alarm actions);
 *     - AWS defaults, empty lists and AWS-made values (the default SNS access policy, the
 *       service-linked role of Application Auto Scaling) left out; when the live resource has
 *       a plumb:spec-hash tag, the spelling whose hash equals it is chosen;
 *     - user tags in metadata.tags (plumb:* and aws:* dropped), the tags every resource shares
 *       in a Defaults document with region, accountId, owner and namePrefix;
 *     - every generated file is parsed back through pkg/manifest, and a resource whose physical
 *       name or spec hash would differ from the live one is reported in warnings.
 */
#ifndef PLUMB_EXPORT_EXPORT_H
#define PLUMB_EXPORT_EXPORT_H

#include "base/base.h"
#include "model/model.h"

struct plumb_export_opts {
	const char *region;           /* the region exported (required) */
	const char *account;          /* the account (ARNs, Defaults accountId), or NULL */
	const char *const *endpoints; /* endpoint names asked for */
	size_t nendpoints;            /* their count; 0 = every endpoint of the region */
};

/* One live resource to describe (the observe want of pkg/observe, by physical identity). */
struct plumb_export_need {
	enum plumb_kind kind; /* kind */
	const char *name;     /* physical name (ScalingPolicy: PolicyName) */
	const char *parent;   /* ScalingPolicy: ResourceId; else NULL */
};

/* One output file. */
struct plumb_export_file {
	const char *name; /* "defaults.yaml", "<endpoint>.yaml", "shared.yaml" */
	char *yaml;       /* the documents, NUL-terminated (owned) */
	size_t len;       /* byte count */
	unsigned docs;    /* documents in it */
};

struct plumb_export {
	struct plumb_vec needs;    /* struct plumb_export_need * (select) */
	bool complete;             /* select: everything in the closure is described */
	struct plumb_vec missing;  /* const char *: endpoints asked for that do not exist */
	struct plumb_vec files;    /* struct plumb_export_file * (build), defaults first */
	struct plumb_vec warnings; /* const char *: what will not round-trip, and why */
	unsigned counts[PLUMB_KIND__COUNT]; /* documents (policies: list items) per kind */
	struct plumb_arena arena;  /* strings of this export */
};

void plumb_export_init(struct plumb_export *x);
void plumb_export_release(struct plumb_export *x);

/*
 * Fills x->needs (every resource of the closure plus every alarm of the region: an alarm's
 * dimensions are known only from its list entry once wanted), x->complete and x->missing.
 * Replaces what an earlier call left there. Returns 0 or PLUMB_ENOMEM.
 */
int plumb_export_select(struct plumb_export *x, const struct plumb_observed_set *have,
			const struct plumb_export_opts *opts, struct plumb_err *err);

/*
 * Builds x->files (and x->warnings, x->counts) from have. PLUMB_ENOENT (err names them) when an
 * asked endpoint does not exist, PLUMB_EINVAL when no region is given, PLUMB_ENOMEM.
 */
int plumb_export_build(struct plumb_export *x, const struct plumb_observed_set *have,
		       const struct plumb_export_opts *opts, struct plumb_err *err);

#endif

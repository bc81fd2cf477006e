/*
 * pkg/model — what plumb manages, independent of how it was written down or where it lives.
 *
 * Three things:
 *  1. Shapes: the request shapes of the AWS operations behind each kind, generated from the AWS
 *     service models by tools/gen_shapes.py into shapes_gen.c (members, types, required, lengths,
 *     ranges, enums, patterns, lowerCamelCase <-> AWS names, AWS defaults), plus plumb's own
 *     members (references, expressions, durations) layered on by the same generator.
 *  2. Kinds: the closed set of resource kinds and what is true of each (immutable or not, how the
 *     physical name is made).
 *  3. Resources: one desired resource with its spec as a jansson object keyed by AWS member
 *     names, its canonical form and its SHA-256 spec hash.
 *
 * Pure: no I/O. Depends on pkg/base and jansson.
 */
#ifndef PLUMB_MODEL_MODEL_H
#define PLUMB_MODEL_MODEL_H

#include "base/base.h"

#include <jansson.h>

/* ---------------------------------------------------------------- shapes */

enum plumb_shape_type {
	PLUMB_T_STRUCT,
	PLUMB_T_LIST,
	PLUMB_T_MAP,
	PLUMB_T_STRING,
	PLUMB_T_INTEGER, /* integer and long */
	PLUMB_T_DOUBLE,  /* float and double */
	PLUMB_T_BOOLEAN,
	PLUMB_T_TIMESTAMP,
	PLUMB_T_ACTION,  /* plumb: an alarm action, an ARN string or {topicRef|policyRef} */
};
const char *plumb_shape_type_name(enum plumb_shape_type t);

enum plumb_member_flags {
	PLUMB_M_REQUIRED = 1 << 0, /* must be present */
	PLUMB_M_DURATION = 1 << 1, /* seconds; also accepts "1h30m", "90s" */
	PLUMB_M_PLUMB = 1 << 2,    /* plumb's own member, not sent to AWS as such */
};

struct plumb_shape;

struct plumb_member {
	const char *name;                /* manifest name (lowerCamelCase) */
	const char *aws;                 /* AWS member name, NULL for plumb-only members */
	const struct plumb_shape *shape; /* value shape */
	unsigned flags;                  /* enum plumb_member_flags */
	const char *dflt;                /* AWS default as JSON text, or NULL */
	int ref_kind;                    /* enum plumb_kind a reference names, or -1 */
	const char *ref_fills;           /* AWS member the reference stands in for, or NULL */
};

struct plumb_shape {
	const char *name;                   /* AWS shape name (or plumb.Name for plumb's own) */
	enum plumb_shape_type type;         /* what values look like */
	int64_t min, max;                   /* length / item-count bounds; -1 = none */
	bool has_vmin, has_vmax;            /* numeric bounds present */
	double vmin, vmax;                  /* numeric value bounds */
	bool vmin_exclusive;                /* vmin itself is not allowed */
	int pattern;                        /* index in plumb_patterns, or -1 */
	const char *const *enums;           /* allowed strings, NULL-terminated, or NULL */
	const struct plumb_member *members; /* struct members */
	size_t n_members;                   /* count of members */
	const struct plumb_shape *item;     /* list item shape; map value shape */
	const struct plumb_shape *key;      /* map key shape */
};

/* Patterns from the models, rewritten for PCRE2 (whole-string match is the caller's job). */
extern const char *const plumb_patterns[];
extern const size_t plumb_n_patterns;

const struct plumb_member *plumb_shape_member(const struct plumb_shape *s, const char *name);
const struct plumb_member *plumb_shape_member_aws(const struct plumb_shape *s, const char *aws);

/* ---------------------------------------------------------------- kinds */

enum plumb_kind {
	PLUMB_KIND_MODEL,
	PLUMB_KIND_ENDPOINT_CONFIG,
	PLUMB_KIND_ENDPOINT,
	PLUMB_KIND_SCALABLE_TARGET,
	PLUMB_KIND_SCALING_POLICY, /* not written by users: expanded from ScalableTarget.policies */
	PLUMB_KIND_ALARM,
	PLUMB_KIND_TOPIC,
	PLUMB_KIND_DEFAULTS,
	PLUMB_KIND__COUNT
};

struct plumb_kind_info {
	enum plumb_kind kind;
	const char *name;               /* as written in `kind:` */
	const struct plumb_shape *spec; /* shape of `spec` */
	const struct plumb_shape *meta; /* shape of `metadata` */
	bool immutable;                 /* AWS has no update: a change is a new resource */
	bool manifest;                  /* may appear as a document kind */
	int name_max;                   /* longest physical name AWS accepts */
};
const struct plumb_kind_info *plumb_kind_info(enum plumb_kind k);
const char *plumb_kind_name(enum plumb_kind k);
/* -1 when no kind has this name. */
int plumb_kind_from_name(const char *name);

/* Generated: the spec and metadata shape of each kind (shapes_gen.c). */
extern const struct plumb_shape *const plumb_gen_spec_shapes[PLUMB_KIND__COUNT];
extern const struct plumb_shape *const plumb_gen_meta_shapes[PLUMB_KIND__COUNT];
extern const struct plumb_shape plumb_gen_policy_shape; /* one item of ScalableTarget.policies */

/* ---------------------------------------------------------------- resources */

/* Where something was written: file and 1-based line/column. */
struct plumb_loc {
	const char *file; /* borrowed from the manifest set */
	unsigned line;    /* 1-based */
	unsigned col;     /* 1-based */
};

/*
 * One desired resource. spec is keyed by AWS member names. Values known only once AWS answers
 * (a topic's or policy's ARN) stay as reference markers {"plumb:ref": "Kind/name"} until the
 * planner resolves them; names plumb computes (physical names of models, configs, endpoints,
 * alarms) are resolved in place. Owned by the set that holds it.
 */
struct plumb_resource {
	enum plumb_kind kind;       /* what it is */
	const char *name;           /* manifest name; TARGET/POLICY for scaling policies */
	const char *physical;       /* AWS name (hash-suffixed for immutable kinds) */
	const char *region;         /* resolved region, or NULL when none was configured */
	const char *account;        /* expected account from Defaults, or NULL */
	json_t *spec;               /* owned: the AWS request members, refs resolved */
	json_t *tags;               /* owned: object of user tags (Defaults + metadata) */
	char hash[65];              /* SHA-256 hex of the canonical spec */
	struct plumb_loc loc;       /* the document (or, when generated, what it came from) */
	const char *origin;         /* NULL, or the KIND/NAME whose shorthand generated it */
	struct plumb_vec deps;      /* struct plumb_resource * this one needs first */
	bool prune;                 /* prune policy of its Defaults */
	bool paused;                /* annotation plumb/paused: "true": `plumb run` leaves it alone
				     * (generated resources follow what generated them) */
};

/* The annotation that pauses a resource in the daemon. */
#define PLUMB_ANNOTATION_PAUSED "plumb/paused"

/* The reference marker; returns a new object. */
json_t *plumb_ref_marker(enum plumb_kind kind, const char *name);
/* When v is a marker, its "Kind/name" text, else NULL. */
const char *plumb_ref_marker_target(const json_t *v);

/*
 * Canonical form: the spec with members equal to their AWS default removed (per the shape
 * tables), empty optional objects dropped, keys sorted, numbers in one spelling. Two specs that
 * AWS treats alike have the same canonical text.
 */
json_t *plumb_canonical(enum plumb_kind kind, const json_t *spec);
/* Compact, key-sorted JSON of the canonical form; caller frees with free(). */
char *plumb_canonical_text(enum plumb_kind kind, const json_t *spec);
/* SHA-256 hex of the canonical text into out[65]; an Endpoint's DeploymentConfig is left out
 * (how to update, never state). */
int plumb_spec_hash(enum plumb_kind kind, const json_t *spec, char out[65]);

void plumb_resource_free(struct plumb_resource *r);
/*
 * The ARN AWS gives a resource of this kind and physical name (Model, EndpointConfig, Endpoint,
 * Alarm, Topic), in the region's partition; SageMaker names lower-cased as AWS spells them.
 * 0, or -1 for other kinds, missing parts or a too small out.
 */
int plumb_arn(enum plumb_kind kind, const char *region, const char *account, const char *physical,
	      char *out, size_t outsz);
/* The first resource of kind k that r depends on, or NULL. */
struct plumb_resource *plumb_resource_dep(const struct plumb_resource *r, enum plumb_kind k);
/* The observed-identity parent of r: a scaling policy's target ResourceId; else NULL. */
const char *plumb_resource_parent(const struct plumb_resource *r);

/* ---------------------------------------------------------------- observed resources */

/*
 * One live resource as AWS last described it. Produced by pkg/observe, stored by pkg/state,
 * compared by pkg/diff. Identity is (region, kind, name, parent): SageMaker names compare
 * case-insensitively (AWS treats them so), all others exactly.
 *
 *   kind             name                    parent          live holds
 *   Model            ModelName               NULL            DescribeModel reply
 *   EndpointConfig   EndpointConfigName      NULL            DescribeEndpointConfig reply
 *   Endpoint         EndpointName            NULL            DescribeEndpoint reply
 *   ScalableTarget   ResourceId              NULL            DescribeScalableTargets item
 *   ScalingPolicy    PolicyName              its ResourceId  DescribeScalingPolicies item
 *   Alarm            AlarmName               NULL            DescribeAlarms MetricAlarms item
 *   Topic            topic name (ARN tail)   NULL            GetTopicAttributes Attributes map
 *
 * live is NULL when the resource was only listed (not described): a foreign resource plumb
 * never needed to read. tags is NULL when unknown (not owned by any plumb owner and not read).
 * Everything is owned by the struct (plumb_observed_free releases it).
 */
struct plumb_observed {
	enum plumb_kind kind;  /* what it is */
	char *region;          /* AWS region it lives in */
	char *name;            /* physical name as AWS spells it (see table) */
	char *parent;          /* ScalingPolicy: ResourceId of its target; else NULL */
	char *arn;             /* ARN, or NULL when AWS gives none */
	char *status;          /* Endpoint: EndpointStatus; else NULL */
	json_t *live;          /* owned: reply as AWS sent it (AWS member names), or NULL */
	json_t *tags;          /* owned: {"key": "value"}, or NULL when unknown */
	int64_t created_ms;    /* CreationTime, 0 when unknown */
	int64_t modified_ms;   /* LastModifiedTime (endpoints) / AlarmConfigurationUpdatedTimestamp */
	int64_t observed_ms;   /* when plumb read it */
};

/* A set of observed resources with an index by identity. Owns its items. */
struct plumb_observed_set {
	struct plumb_vec items;  /* struct plumb_observed *, in the order added */
	struct plumb_map index;  /* identity key -> item */
};

struct plumb_observed *plumb_observed_new(enum plumb_kind kind, const char *region,
					  const char *name, const char *parent);
void plumb_observed_free(struct plumb_observed *o);
/* A deep copy (NULL on allocation failure). */
struct plumb_observed *plumb_observed_dup(const struct plumb_observed *o);
/* The value of tag key, or NULL. */
const char *plumb_observed_tag(const struct plumb_observed *o, const char *key);

void plumb_observed_set_init(struct plumb_observed_set *s);
void plumb_observed_set_release(struct plumb_observed_set *s);
/* Adds o (the set takes it). PLUMB_EEXIST (and o freed) when its identity is present. */
int plumb_observed_set_add(struct plumb_observed_set *s, struct plumb_observed *o);
/*
 * Sorts s's items from index `from` on into the order pkg/state loads rows in (its ORDER BY
 * region, kind, name_key, parent): region, kind by name, name (case-folded for SageMaker
 * kinds, as in plumb_observed_key), a policy's parent. The index is unaffected.
 */
void plumb_observed_set_sort(struct plumb_observed_set *s, size_t from);
/* The item with this identity, or NULL. parent is only used for scaling policies. */
struct plumb_observed *plumb_observed_find(const struct plumb_observed_set *s,
					   enum plumb_kind kind, const char *region,
					   const char *name, const char *parent);
/* The identity key ("Kind|region|name|parent", name lower-cased for SageMaker kinds); free(). */
char *plumb_observed_key(enum plumb_kind kind, const char *region, const char *name,
			 const char *parent);

/* The tags plumb puts on everything it creates (DESIGN.md §4). */
#define PLUMB_TAG_OWNER "plumb:owner"
#define PLUMB_TAG_ID "plumb:id"
#define PLUMB_TAG_HASH "plumb:spec-hash"

/* Parses "90", "90s", "5m", "1h30m", "2h" into seconds; -1 when it is not a duration. */
int64_t plumb_parse_duration(const char *s);

#endif

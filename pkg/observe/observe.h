/*
 * pkg/observe — list-first observation of one account+region into the state cache.
 *
 * One pass (DESIGN.md §4 "Observation is list-first"):
 *  1. Paged collection reads, all started at once: SageMaker ListModels, ListEndpointConfigs,
 *     ListEndpoints (100 a page); Application Auto Scaling DescribeScalableTargets and
 *     DescribeScalingPolicies (namespace sagemaker); CloudWatch DescribeAlarms; SNS ListTopics;
 *     and the Resource Groups Tagging API GetResources filtered on the plumb:owner tag key
 *     (every resource any plumb owner tagged, with all its tags, 100 a page).
 *  2. Per-resource reads only where needed: DescribeModel / DescribeEndpointConfig for a name
 *     that is ours (tagged by opts->owner) or wanted, and not in the cache with the same
 *     CreationTime; DescribeEndpoint likewise when LastModifiedTime or status moved;
 *     GetTopicAttributes for a wanted or owned topic not in the cache. Scalable targets,
 *     policies and alarms come whole from their lists. With refresh FULL every ours-or-wanted
 *     resource is described again.
 *  3. Tags for wanted resources that are not in the tagging reply (untagged, or tagged by
 *     others without plumb:owner) are read one by one when opts->adopt is set, or when the
 *     resource has no row in the cache: just created, or its row deleted by plumb apply after
 *     changing it — the window in which the Tagging API may lag behind new tags. Also read one
 *     by one: a resource the cache knew as tagged by a plumb owner that the tagging reply
 *     lacks (lag, or someone removed the tags); until the read answers, the cached owner
 *     stands. Once a row is cached a converged stack needs no per-resource read at all.
 *  4. The state rows of account+region are replaced by what was seen, in one transaction:
 *     rows of resources that are gone are deleted. Meta "observed:<account>:<region>" is set.
 *
 * A resource that is neither wanted nor tagged by any plumb owner is kept as its list entry
 * (live NULL, tags NULL): enough to know the name is taken.
 *
 * Async in the style of pkg/aws: the callback runs exactly once, never from inside _start.
 * Any failed read fails the whole pass (with the AWS error) and leaves the state untouched:
 * a partial picture would plan deletes of what merely was not read.
 */
#ifndef PLUMB_OBSERVE_OBSERVE_H
#define PLUMB_OBSERVE_OBSERVE_H

#include "aws/aws.h"
#include "base/base.h"
#include "model/model.h"
#include "state/state.h"

enum plumb_refresh {
	PLUMB_REFRESH_AUTO, /* list-first: describe only what moved */
	PLUMB_REFRESH_FULL, /* describe every resource that is ours or wanted */
};
const char *plumb_refresh_name(enum plumb_refresh r);

/* What to look at, beyond what is ours. */
struct plumb_observe_want {
	enum plumb_kind kind; /* kind */
	const char *name;     /* physical name (ScalingPolicy: PolicyName) */
	const char *parent;   /* ScalingPolicy: ResourceId; else NULL */
};

struct plumb_observe_opts {
	const char *account;                   /* account id (from STS) */
	const char *owner;                     /* our plumb:owner */
	enum plumb_refresh refresh;            /* auto or full */
	bool adopt;                            /* read tags of wanted, untagged resources */
	const struct plumb_observe_want *want; /* wanted resources in this region */
	size_t nwant;                          /* their count */
};

/* What a pass did, for logs, metrics and tests. */
struct plumb_observe_stats {
	unsigned list_calls;     /* paged list / describe-collection calls */
	unsigned describe_calls; /* per-resource reads */
	unsigned tag_calls;      /* per-resource tag reads */
	unsigned resources;      /* rows written */
	unsigned unchanged;      /* ours-or-wanted resources served from the cache */
	unsigned removed;        /* rows deleted (gone from AWS) */
	int64_t elapsed_ms;      /* wall time of the pass */
};

typedef void (*plumb_observe_cb)(int rc, const struct plumb_err *err, void *data);

struct plumb_observe; /* one running pass (opaque) */

/*
 * Observes a's account+region, updating s, then fills out (items added) with every row of
 * account+region. a, s, opts->want and out must live until the callback.
 */
int plumb_observe_start(struct plumb_observe **ob, struct plumb_aws *a, struct plumb_state *s,
			const struct plumb_observe_opts *opts, struct plumb_observed_set *out,
			plumb_observe_cb cb, void *data, struct plumb_err *err);
/* The stats of a pass; valid in and after the callback until plumb_observe_free. */
const struct plumb_observe_stats *plumb_observe_stats(const struct plumb_observe *ob);
/* Frees a finished pass (call after the callback, not from inside it is fine too). */
void plumb_observe_free(struct plumb_observe *ob);

#endif

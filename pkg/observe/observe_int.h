/*
 * pkg/observe internals shared between its files and its unit tests: the pure decisions of a
 * pass (what an ARN names, how a list item becomes a row, whether a listed resource moved).
 */
#ifndef PLUMB_OBSERVE_OBSERVE_INT_H
#define PLUMB_OBSERVE_OBSERVE_INT_H

#include "observe/observe.h"

/*
 * What a Resource Groups Tagging API ARN names. *name points into arn: the SageMaker name as
 * the ARN spells it (lower-cased), the alarm name, the topic name, or the id after
 * "scalable-target/" (map it through ScalableTargetARN). PLUMB_ENOENT for any other ARN.
 */
int plumb__observe_arn_parse(const char *arn, enum plumb_kind *kind, const char **name);

/* Milliseconds since the epoch from epoch seconds (JSON services) or an ISO-8601 string
 * (Query services); 0 when v is absent or does not parse. */
int64_t plumb__observe_time_ms(const json_t *v);

/* {"key": "value"} from a [{"Key", "Value"}] list or a {"key": "value"} map; a new object, or
 * NULL when tags is neither. */
json_t *plumb__observe_tags_object(const json_t *tags);

/*
 * The row for one list item of kind (Topic: a ListTopics {TopicArn} item): identity, ARN,
 * status and times; live and tags NULL. *out is NULL (and 0 returned) when the item has no
 * name; PLUMB_ENOMEM when allocation failed.
 */
int plumb__observe_from_item(enum plumb_kind kind, const char *region, const json_t *item,
			     struct plumb_observed **out);

/* Takes creation/modification time and status from a per-resource describe reply. */
void plumb__observe_take_describe(struct plumb_observed *o, const json_t *reply);

/* Kinds whose live comes from a per-resource read (Model, EndpointConfig, Endpoint, Topic). */
bool plumb__observe_described_kind(enum plumb_kind kind);

/*
 * Whether a listed resource (ours or wanted) must be read again, given its cached row (NULL
 * when not cached): always when the cache has no live; Model/EndpointConfig when CreationTime
 * moved (a new resource of the same name); Endpoint when CreationTime, LastModifiedTime or
 * status moved. Topics are read only when not cached (their list carries nothing that moves).
 */
bool plumb__observe_moved(const struct plumb_observed *cached, const struct plumb_observed *listed);

#endif

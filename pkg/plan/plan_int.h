/*
 * pkg/plan internals shared by build.c (the DAG), render.c (text) and json.c (JSON, fingerprint).
 */
#ifndef PLUMB_PLAN_PLAN_INT_H
#define PLUMB_PLAN_PLAN_INT_H

#include "plan/plan.h"

/* The AWS operation an action calls ("CreateModel", "DeregisterScalableTarget"), "DescribeEndpoint"
 * for waits, NULL for TAG actions (their calls depend on the service and on add/remove). */
const char *plumb__plan_operation(const struct plumb_action *a);

/* "in_service", "deleted", or NULL for PLUMB_WAIT_NONE. */
const char *plumb__plan_wait_name(enum plumb_wait_for w);

/* True when the change's resource appears in the plan's "resources": every change except NONE,
 * and NONE changes that an action carries out (choreographed re-registration). */
bool plumb__plan_lists_change(const struct plumb_plan *p, const struct plumb_change *c);

#endif

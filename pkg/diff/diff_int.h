/*
 * pkg/diff internals shared by diff.c (matching, ownership, orphans), compare.c (field deltas
 * and the normalisation registry) and live.c (the live spec projection).
 */
#ifndef PLUMB_DIFF_DIFF_INT_H
#define PLUMB_DIFF_DIFF_INT_H

#include "diff/diff.h"

/*
 * Appends to out one struct plumb_delta * (allocated from a, JSON owned) per field where want
 * (a resolved desired spec, AWS names) and have (plumb_diff_live_spec) differ after
 * normalisation, info deltas included (the caller drops them when not wanted). have may be
 * NULL (nothing live to compare: no deltas). Returns 0 or PLUMB_ENOMEM.
 */
int plumb__diff_spec(struct plumb_arena *a, enum plumb_kind kind, const json_t *want,
		     const json_t *have, struct plumb_vec *out);

/*
 * Tag deltas: every key of want missing or different live, every live key not wanted (to be
 * removed) except aws:* keys, which nobody can change. have NULL counts as no tags.
 */
int plumb__diff_tags(struct plumb_arena *a, const json_t *want, const json_t *have,
		     struct plumb_vec *out);

/* Deep equality with numbers compared by value (1 == 1.0). */
bool plumb__json_eq(const json_t *x, const json_t *y);

/* Releases the JSON a delta owns (the struct itself lives in the diff's arena). */
void plumb__delta_release(struct plumb_delta *dl);

#endif

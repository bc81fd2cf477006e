/* Internal to pkg/manifest: what parse.c hands to resolve.c and render.c. */
#ifndef PLUMB_MANIFEST_MANIFEST_INT_H
#define PLUMB_MANIFEST_MANIFEST_INT_H

#include "manifest/manifest.h"

/*
 * One parsed document. spec holds AWS members under their AWS names and plumb's own members
 * under "plumb:<name>" (e.g. "plumb:modelRef"), at whatever depth they were written; resolve.c
 * replaces the latter with what they stand for.
 */
struct plumb__doc {
	enum plumb_kind kind;        /* the document's kind */
	const char *name;            /* metadata.name */
	unsigned index;              /* position in set->docs, for location keys */
	struct plumb_mfile *file;    /* where it was read */
	struct plumb_loc loc;        /* start of the document's mapping */
	json_t *meta;                /* owned: metadata, manifest names */
	json_t *spec;                /* owned: see above; NULL when absent */
	struct plumb_resource *res;  /* the resource made from it, after finish */
};

/* Locations of every value, keyed "<doc index>|<path>": filled by parse, read by resolve. */
struct plumb__locs {
	struct plumb_map map;        /* key -> struct plumb_loc * (arena) */
};

struct plumb_loc plumb__loc_of(const struct plumb_manifest_set *set, const struct plumb__doc *d,
			       const char *path);
int plumb__loc_put(struct plumb_manifest_set *set, const struct plumb__doc *d, const char *path,
		   struct plumb_loc loc);

void plumb__diag(struct plumb_manifest_set *set, enum plumb_severity sev, struct plumb_loc loc,
		 const char *path, const char *fmt, ...) PLUMB_PRINTF(5, 6);

/* Internal state hung off the set (kept out of the public struct). */
struct plumb__set_int {
	struct plumb_map locs;       /* see struct plumb__locs */
	void **patterns;             /* compiled PCRE2 patterns, lazily, plumb_n_patterns long */
	struct plumb_map by_name;    /* "Kind/name" -> struct plumb_resource *, after finish */
};
struct plumb__set_int *plumb__int(struct plumb_manifest_set *set);
void plumb__free_patterns(void **patterns);

#endif

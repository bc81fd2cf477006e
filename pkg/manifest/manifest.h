/*
 * pkg/manifest — YAML bytes to the desired set.
 *
 * Lifecycle: plumb_manifest_init, plumb_manifest_add for each file's bytes (parses and checks
 * each document against its kind's shape), plumb_manifest_finish (Defaults, references,
 * shorthand expansion, physical names, spec hashes, lints, cycles), then read `resources` and
 * `diags`, then plumb_manifest_release. Every problem in the whole set is collected; the set is
 * usable only when plumb_manifest_errors() is 0. Reads buffers, never paths: the caller does the
 * I/O. Pure: libyaml, jansson and PCRE2 only.
 *
 * Limits (each a clear error, never a crash or unbounded memory): 16 MiB per file, 10,000
 * documents per file, 100,000 YAML nodes visited per document (aliases count every time they
 * are expanded, which stops "billion laughs"), nesting depth 64.
 */
#ifndef PLUMB_MANIFEST_MANIFEST_H
#define PLUMB_MANIFEST_MANIFEST_H

#include "base/base.h"
#include "model/model.h"

#define PLUMB_MANIFEST_MAX_FILE (16u << 20)

enum plumb_severity { PLUMB_SEV_ERROR, PLUMB_SEV_WARNING };

/* One problem found in the manifests. */
struct plumb_diag {
	enum plumb_severity sev; /* error or warning */
	struct plumb_loc loc;    /* where; loc.file NULL for set-wide problems */
	char *path;              /* field path ("spec.productionVariants[0].modelRef"), may be "" */
	char *msg;               /* lowercase message without full stop */
};

/* One input file, kept for quoting source lines in diagnostics. */
struct plumb_mfile {
	char *path; /* as given */
	char *dir;  /* directory part, for Defaults scoping */
	char *text; /* the bytes, NUL-terminated copy */
	size_t len; /* byte count */
};

struct plumb_manifest_set {
	struct plumb_vec files;     /* struct plumb_mfile *, in the order added */
	struct plumb_vec resources; /* struct plumb_resource *, after finish: dependency order */
	struct plumb_vec diags;     /* struct plumb_diag *, in order found */
	struct plumb_vec docs;      /* internal: struct plumb__doc * */
	void *internal;             /* internal: struct plumb__set_int */
	const char *owner;          /* owner id from Defaults, or NULL */
	bool prune;                 /* prune policy from the top-level Defaults */
	const char *account;        /* expected account from the top-level Defaults, or NULL */
	const char *region;         /* region from the top-level Defaults, or NULL */
	const char *profile;        /* credentials profile from Defaults, or NULL */
	const char *role_arn;       /* role to assume from Defaults, or NULL */
	unsigned counts[PLUMB_KIND__COUNT]; /* documents per kind (what users wrote) */
	struct plumb_arena arena;   /* strings and small structs of this set */
	bool finished;              /* plumb_manifest_finish ran */
};

void plumb_manifest_init(struct plumb_manifest_set *set);
void plumb_manifest_release(struct plumb_manifest_set *set);
/* Parses one file's bytes. Problems go to set->diags; returns 0, or PLUMB_ENOMEM. */
int plumb_manifest_add(struct plumb_manifest_set *set, const char *path, const char *bytes,
		       size_t len);
/* Records a problem about a whole file (unreadable, too large) in the same list. */
void plumb_manifest_file_error(struct plumb_manifest_set *set, const char *path,
			       const char *msg);
/* Cross-document work; problems go to set->diags. Returns 0, or PLUMB_ENOMEM. */
int plumb_manifest_finish(struct plumb_manifest_set *set);
size_t plumb_manifest_errors(const struct plumb_manifest_set *set);

/* `file:line:col: error: path: message`, the source line and a caret, for every diagnostic. */
int plumb_manifest_render_diags(const struct plumb_manifest_set *set, struct plumb_buf *out,
				bool color);
/* The validate --output json document. */
json_t *plumb_manifest_report_json(const struct plumb_manifest_set *set);
/* The expanded set as YAML documents (plumb render). */
int plumb_manifest_render_yaml(const struct plumb_manifest_set *set, struct plumb_buf *out);

/* Lookup after finish: the resource of this kind and manifest name, or NULL. */
struct plumb_resource *plumb_manifest_find(const struct plumb_manifest_set *set,
					   enum plumb_kind kind, const char *name);

#endif

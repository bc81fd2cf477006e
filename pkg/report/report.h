/*
 * pkg/report — the drift report: what differs between the manifests and AWS, as one JSON
 * document (docs/drift.md, schema/drift.schema.json), and its renderings for people and tools.
 *
 * Pure: no I/O, no clock (the caller passes the time in), no state file. The caller
 * (cmd/plumb/cmd_drift.c, and the daemon's /status) runs the pipeline up to the diff, then:
 *
 *   json_t *rep = plumb_report_drift(&diff, &have, &opts, &err);   build from the diff
 *   plumb_report_visit(rep, record, data);                         each drift item, for
 *                                                                  plumb_state_drift_sync
 *   plumb_report_set_first_seen(rep, lookup, data, &err);          fill first_seen from the
 *                                                                  state's history
 *   plumb_report_render(rep, PLUMB_REPORT_MARKDOWN, &buf, &err);   text, markdown, json, junit
 *
 * The report is built from the diff alone, so a report and a plan of the same observation agree.
 * What counts as drift, per diff change type:
 *
 *   none                      status "in_sync"    (listed, so JUnit has one case per resource)
 *   update, replace, tag      status "drifted"    one drift item per managed field that differs
 *                                                 (info deltas are not drift): path, aws_path,
 *                                                 wanted, live, forces_replace, first_seen
 *   create                    status "missing"    wanted, not in AWS
 *   orphan, delete            status "orphan"     ours, no manifest names it (superseded ones
 *                                                 carry superseded_by)
 *   conflict                  status "conflict"   a wanted name held by a resource not ours
 *   adopt                     status "drifted"    (only with --adopt, which drift does not take)
 *   (observed only)           status "unmanaged"  opts->include_unmanaged: a SageMaker
 *                                                 endpoint with no plumb:owner tag that no
 *                                                 manifest names
 *
 * Every status but in_sync is drift: "in_sync" at the top is false and `plumb drift` exits 2.
 *
 * History identity: a field drift is (region, kind, name, path); a whole-resource status
 * (missing, orphan, conflict, unmanaged) is (region, kind, name, "") — name is the manifest
 * name (orphans: the plumb:id name; unmanaged: the physical name). These are the keys of the
 * state's drift table (plumb_state_drift_sync / plumb_state_drift_first_seen).
 */
#ifndef PLUMB_REPORT_REPORT_H
#define PLUMB_REPORT_REPORT_H

#include "base/base.h"
#include "diff/diff.h"
#include "model/model.h"

#include <jansson.h>

/* The version of the JSON document ("format_version"); members are only ever added within it. */
#define PLUMB_REPORT_FORMAT_VERSION 1

enum plumb_report_format {
	PLUMB_REPORT_TEXT,     /* for a terminal or a log */
	PLUMB_REPORT_MARKDOWN, /* for a pull request or issue comment (GitHub-flavoured tables) */
	PLUMB_REPORT_JSON,     /* the document itself, indented */
	PLUMB_REPORT_JUNIT,    /* JUnit XML (Ant/Jenkins schema): one testcase per resource */
};
const char *plumb_report_format_name(enum plumb_report_format f); /* "text", "markdown", ... */
/* -1 when no format has this name. */
int plumb_report_format_from_name(const char *name);

/*
 * When the open drift of (region, kind, name, path) was first seen, in ms since the epoch, into
 * *first_seen_ms (0: not known). Returns 0 or a negative PLUMB_E* (err filled), which stops
 * plumb_report_set_first_seen.
 */
typedef int (*plumb_report_first_seen_fn)(void *data, const char *region, const char *kind,
					  const char *name, const char *path,
					  int64_t *first_seen_ms, struct plumb_err *err);

struct plumb_report_opts {
	const char *owner;      /* plumb:owner in force (shown, and: unmanaged = no owner tag) */
	const char *account;    /* account id (shown) */
	const char *host;       /* where the report was made (JUnit hostname); NULL: "localhost" */
	int64_t now_ms;         /* the report's "generated" time */
	bool cached;            /* made from the state cache (--cached): shown */
	bool include_unmanaged; /* also list unowned SageMaker endpoints no manifest names */
};

/*
 * Builds the report from d (and have, for unmanaged endpoints). Resources come in the diff's
 * order (the manifests' dependency order, then leftovers), unmanaged ones last by region and
 * name. first_seen members are null until plumb_report_set_first_seen. Returns a new object,
 * or NULL (err filled: PLUMB_ENOMEM).
 */
json_t *plumb_report_drift(const struct plumb_diff *d, const struct plumb_observed_set *have,
			   const struct plumb_report_opts *o, struct plumb_err *err);

/* True when the report holds no drift at all (its "in_sync" member). */
bool plumb_report_in_sync(const json_t *report);

/* One drift item of a report, as the state's history records it. Borrowed from the report. */
struct plumb_report_item {
	const char *region;   /* region */
	const char *kind;     /* "Alarm" */
	const char *name;     /* manifest name (see "History identity" above) */
	const char *path;     /* field path, "" for the whole resource */
	const json_t *wanted; /* wanted value, NULL when absent or whole-resource */
	const json_t *live;   /* live value, NULL when absent or whole-resource */
	const char *status;   /* the resource's status ("drifted", "missing", ...) */
};
typedef int (*plumb_report_visit_fn)(const struct plumb_report_item *it, void *data);

/*
 * Calls fn for each drift item (each drifted field, each whole-resource status), once per
 * history identity (duplicates, e.g. a missing new version and its superseded old one, are
 * visited once). Stops at and returns fn's first non-zero return.
 */
int plumb_report_visit(const json_t *report, plumb_report_visit_fn fn, void *data);

/*
 * Fills every first_seen member from fn: each drift item's, and each resource's (the earliest
 * of its items, or its whole-resource identity's), as ISO-8601 UTC or null when 0. Also sets
 * the top-level "oldest_drift". Returns 0 or fn's error.
 */
int plumb_report_set_first_seen(json_t *report, plumb_report_first_seen_fn fn, void *data,
				struct plumb_err *err);

/*
 * Renders the report into out (appended): text, markdown, JSON (indented, with a final
 * newline) or JUnit XML. Values are shown as compact JSON; long ones are cut in text and
 * markdown (the JSON and JUnit keep them whole). Returns 0 or PLUMB_ENOMEM / PLUMB_EINVAL (a
 * document that is not a report).
 */
int plumb_report_render(const json_t *report, enum plumb_report_format f, struct plumb_buf *out,
			struct plumb_err *err);

#endif

/*
 * What `plumb apply` shows while it runs and when it ends (apply_progress.c): on a terminal, a
 * line per finished action above a status line redrawn in place (done / in progress / waiting,
 * each waited-for endpoint's status and elapsed time); otherwise one log line per event.
 */
#ifndef PLUMB_CMD_APPLYRUN_H
#define PLUMB_CMD_APPLYRUN_H

#include "cli.h"

#include "apply/apply.h"

struct plumb_apply_progress {
	bool tty;                    /* redraw a status line on stderr */
	bool color;                  /* ANSI colours on stderr */
	enum plumb_log_format fmt;   /* log lines when not a terminal */
	bool status_shown;           /* a status line is on screen */
	struct plumb_apply *const *ex; /* the running executor (for the waits' statuses) */
};

/* The executor's event callback; data is a struct plumb_apply_progress. */
void plumb__apply_progress_event(const struct plumb_apply_event *ev, void *data);
/* Clears the status line (call when the run has ended). */
void plumb__apply_progress_end(struct plumb_apply_progress *p);
/* The end summary: counts, then every failure (service, operation, AWS code, message,
 * request id) and every skip. */
void plumb__apply_summary(const struct plumb_apply *ex, FILE *out, bool color);
/* One line per action of a JSON actions array ("  + create  Model/m   why"). */
void plumb__apply_list(const json_t *actions, FILE *out, bool color);
/* "850ms", "12.3s", "4m05s", "1h02m". */
void plumb__apply_duration(int64_t ms, char *out, size_t n);

/* ---------------------------------------------------------------- inputs (apply_input.c) */

struct plumb_planrun;
/* A saved plan (a new reference), or NULL after saying why it is refused: not a plan, another
 * account or owner, conflicts, or live state moved (fingerprint). */
json_t *plumb__apply_load_planfile(struct plumb_planrun *r, const char *path);
/* True when addr ("Kind/name") is a wanted resource or one in the plan doc. */
bool plumb__apply_known_address(const struct plumb_planrun *r, const json_t *doc,
				const char *addr);

#endif

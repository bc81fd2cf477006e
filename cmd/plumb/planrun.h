/*
 * The pipeline behind plan, apply and drift on the command line: manifests -> session (the
 * account guard, the state lock) -> list-first observation -> diff -> plan. One struct keeps
 * the pieces alive together, because the diff and the plan borrow from the set and the session.
 */
#ifndef PLUMB_CMD_PLANRUN_H
#define PLUMB_CMD_PLANRUN_H

#include "cli.h"

#include "apply/apply.h"
#include "diff/diff.h"
#include "manifest/manifest.h"
#include "plan/plan.h"

struct plumb_planrun {
	const char *cmd;                 /* "plan", "apply", ... for messages */
	struct plumb_manifest_set set;   /* the desired set */
	struct plumb_session s;          /* loop, clients, state, observed set */
	struct plumb_diff d;             /* desired x observed */
	struct plumb_plan p;             /* the ordered actions */
	const char *owner;               /* plumb:owner in force */
	bool set_up;                     /* set, diff and plan initialised */
	bool session_up;                 /* session open */
};

/*
 * Runs the pipeline into r. Prints its own errors (manifest diagnostics, AWS errors with
 * service, operation, code, message and request id); returns 0 or the exit code. Call
 * plumb__plan_release in every case.
 */
int plumb__plan_prepare(struct plumb_planrun *r, struct plumb_cli *cli,
			const struct plumb_plan_flags *f, const char *cmd, const char *holder);
/* The JSON plan with meta (created, account, regions, owner, manifests, fingerprint). */
json_t *plumb__plan_json(const struct plumb_planrun *r, const struct plumb_cli *cli,
			 const struct plumb_plan_flags *f);
void plumb__plan_release(struct plumb_planrun *r);

#endif

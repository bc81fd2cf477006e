/*
 * pkg/apply — the I/O side of plan and apply: a session that owns the loop, the HTTP pool, one
 * AWS client per region, the state file and the observed picture of the account.
 *
 * A session is what `plumb plan`, `plumb apply` and `plumb drift` share: open it (credentials,
 * the caller's account, the account guard, the state lock), observe the regions the manifests
 * name (list-first, pkg/observe) or load them from the cache, then hand the observed set to the
 * pure diff and plan. Everything runs on the session's libuv loop; the blocking helpers here
 * (plumb_session_observe) run that loop until their work is done, which is what a command-line
 * tool wants; the daemon drives the async APIs of pkg/observe itself.
 */
#ifndef PLUMB_APPLY_APPLY_H
#define PLUMB_APPLY_APPLY_H

#include "aws/aws.h"
#include "base/base.h"
#include "http/http.h"
#include "model/model.h"
#include "observe/observe.h"
#include "state/state.h"

#include <uv.h>

/* One region's AWS client and its observation. */
struct plumb_session_region {
	char name[32];                 /* region name */
	struct plumb_aws aws;          /* client for this region */
	bool aws_up;                   /* aws initialised */
	struct plumb_observe *ob;      /* running or finished pass, or NULL */
	struct plumb_observe_want *want; /* wanted resources here (owned array) */
	size_t nwant, awant;           /* used and allocated entries */
	int rc;                        /* result of the pass */
	struct plumb_err err;          /* its error */
	bool done;                     /* the pass called back */
};

struct plumb_session_opts {
	const char *profile;          /* credentials profile (Defaults), or NULL for the chain */
	const char *state_path;       /* state file; NULL = .plumb/state.db */
	enum plumb_state_mode state_mode; /* READ for --cached plans, WRITE otherwise */
	const char *holder;           /* lock holder text ("plumb plan") */
	const char *expected_account; /* Defaults accountId, or NULL */
	const char *region_hint;      /* Defaults region: for STS when AWS_REGION is unset */
	bool offline;                 /* --cached: make no AWS call at all */
};

struct plumb_session {
	uv_loop_t loop;                   /* the one loop */
	bool loop_up;                     /* loop initialised */
	struct plumb_http http;           /* shared connection pool */
	bool http_up;                     /* http initialised */
	struct plumb_aws_profile profile; /* parsed config files (for the default region) */
	bool profile_up;                  /* profile loaded */
	const char *profile_name;         /* borrowed from opts */
	bool offline;                     /* no AWS calls */
	struct plumb_vec regions;         /* struct plumb_session_region * */
	char default_region[32];          /* AWS_REGION / profile region, "" when none */
	char account[16];                 /* the caller's account (STS), or from the cache */
	char caller_arn[256];             /* the caller's ARN, "" offline */
	char provider[32];                /* credential provider name, "" offline */
	struct plumb_state *state;        /* the state file, or NULL */
	struct plumb_observed_set have;   /* what was observed (or loaded from the cache) */
	struct plumb_observe_stats stats; /* sums over the regions of the last observation */
	uint64_t aws_calls;               /* AWS calls made by the last observation */
};

/*
 * Opens the session: loop, HTTP pool, credentials and the caller's account (STS), the account
 * guard (expected_account), then the state file. Offline: no HTTP, account from
 * expected_account or the state's last observed account. On failure the session is closed.
 */
int plumb_session_open(struct plumb_session *s, const struct plumb_session_opts *opts,
		       struct plumb_err *err);
void plumb_session_close(struct plumb_session *s);

/* The client for region (created on first use). Not available offline. */
int plumb_session_aws(struct plumb_session *s, const char *region, struct plumb_aws **out,
		      struct plumb_err *err);

/*
 * Fills in the region of every desired resource that has none (the default region; error if
 * there is none), then observes every region the resources name plus the default region,
 * concurrently, into s->have. Offline: loads the same regions from the state file instead
 * (an error when a region was never observed).
 */
int plumb_session_observe(struct plumb_session *s, const struct plumb_vec *want,
			  const char *owner, enum plumb_refresh refresh, bool adopt,
			  struct plumb_err *err);

#endif

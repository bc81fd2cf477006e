/*
 * pkg/apply internals shared by exec.c (the executor), steps.c (the pure rules: which call for
 * which action, references, ARNs, backoff, wait verdicts) and recover.c (journal recovery), and
 * used by tests/apply to drive the executor with a fake AWS.
 */
#ifndef PLUMB_APPLY_APPLY_INT_H
#define PLUMB_APPLY_APPLY_INT_H

#include "apply/apply.h"

/* ---------------------------------------------------------------- how the executor calls AWS */

/*
 * One AWS call in region: plumb_aws_call_start on the session's client of that region, or a
 * fake in tests. Same contract: on error the callback never runs; otherwise exactly once, never
 * from inside the call.
 */
typedef int (*plumb__apply_call_fn)(void *ctx, const char *region, enum plumb_aws_op op,
				    const json_t *input, plumb_aws_cb cb, void *data,
				    struct plumb_err *err);

/* Everything the executor and the recovery borrow from their surroundings. */
struct plumb__apply_env {
	uv_loop_t *loop;                       /* the loop */
	struct plumb_state *state;             /* the journal, or NULL for none */
	const char *account;                   /* account id (ARNs, journal rows) */
	const char *default_region;            /* for actions without a region, or NULL */
	const struct plumb_observed_set *have; /* live resources (their ARNs), or NULL */
	plumb__apply_call_fn call;             /* how to call AWS */
	void *call_ctx;                        /* its first argument */
};

int plumb__apply_start_env(struct plumb_apply **out, const struct plumb__apply_env *env,
			   const json_t *actions, const struct plumb_apply_opts *opts,
			   plumb_apply_cb cb, void *data, struct plumb_err *err);
int plumb__apply_recover_env(const struct plumb__apply_env *env,
			     struct plumb_apply_recovery *out, struct plumb_err *err);

/* ---------------------------------------------------------------- pure rules (steps.c) */

/* "create" ... "wait" -> enum; -1 when unknown. */
int plumb__apply_type_from_name(const char *s);
const char *plumb__apply_type_name(enum plumb_action_type t);
/* "in_service" / "deleted" -> enum; PLUMB_WAIT_NONE for NULL or unknown. */
enum plumb_wait_for plumb__apply_wait_from_name(const char *s);

/*
 * The main call of a CREATE/UPDATE/DELETE action on kind, or -1 when the action has none (TAG,
 * WAIT, and updates of immutable kinds, which can only be tag changes). Topic UPDATE is
 * SetTopicAttributes, one call per attribute.
 */
int plumb__apply_main_op(enum plumb_kind kind, enum plumb_action_type type);
/* The tag call of kind (add or remove), or -1 when the kind has no tags (ScalingPolicy). */
int plumb__apply_tag_op(enum plumb_kind kind, bool add);
/*
 * The input of a tag call: the ARN member of that service (ResourceArn / ResourceARN) = arn
 * and Tags (a list of {Key, Value}, a map for Application Auto Scaling) from add, or TagKeys
 * from remove (an array). New object.
 */
json_t *plumb__apply_tag_input(enum plumb_kind kind, bool add, const char *arn,
			       const json_t *tags);
/* The ARN member of a tag call's input ("ResourceArn" or "ResourceARN"). */
const char *plumb__apply_arn_member(enum plumb_kind kind);

/* The ARN member of the reply of kind's create / put ("PolicyARN", "TopicArn", ...), or NULL. */
const char *plumb__apply_reply_arn(enum plumb_kind kind);

/*
 * A delete request built from the identity, for plans that carry none. New object, or NULL
 * for kinds that need what is not there (a scaling policy without its parent).
 */
json_t *plumb__apply_default_delete(enum plumb_kind kind, const char *region,
				    const char *account, const char *physical,
				    const char *parent);

/* Looks a reference ("Kind/name") up: the ARN, or NULL when unknown. */
typedef const char *(*plumb__apply_ref_fn)(void *ctx, const char *ref);
/*
 * Replaces every reference marker {"plumb:ref": "Kind/name"} in v (in place; v must be owned)
 * with the string lookup gives. Returns 0, or PLUMB_ENOENT with the first unknown reference in
 * missing.
 */
/* The value of tag key in a tag list [{Key, Value}] or map {k: v}; NULL when absent. */
const char *plumb__apply_tag_value(const json_t *tags, const char *key);
int plumb__apply_resolve(json_t *v, plumb__apply_ref_fn lookup, void *ctx, char *missing,
			 size_t missingsz);

/* The spec hash of an action: "spec_hash", else tag plumb:spec-hash in input Tags (list or
 * map) or add_tags. "" when none. */
void plumb__apply_spec_hash(const json_t *action, char out[65]);

/* A copy of input for the journal, with what may hold secrets (container environments)
 * replaced by "[redacted]". */
json_t *plumb__apply_redact(const json_t *input);

/* The next delay of a backoff: base first, then x1.5, at most cap. */
int64_t plumb__apply_backoff(int64_t cur, int64_t base, int64_t cap);

enum plumb__wait_verdict {
	PLUMB__WAIT_CONTINUE, /* poll again */
	PLUMB__WAIT_DONE,     /* reached */
	PLUMB__WAIT_FAILED,   /* never will: why says so */
};
/*
 * Judges one DescribeEndpoint answer for a wait: gone (not found) or the reply's status,
 * deployed config, pending config and FailureReason. polls counts answers so far including
 * this one: an InService endpoint on another config without a FailureReason is given two polls
 * (the update may not show yet) before it counts as a rollback.
 */
enum plumb__wait_verdict plumb__apply_wait_judge(enum plumb_wait_for w, const char *want_config,
						 bool gone, const json_t *reply, int polls,
						 char *why, size_t whysz);

/* The AWS message of an AWS error (msg without "service Op: Code: "). */
const char *plumb__apply_aws_message(const struct plumb_err *e);

#endif

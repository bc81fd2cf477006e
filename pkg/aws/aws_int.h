/* pkg/aws private declarations shared between the files of the module. */
#ifndef PLUMB_AWS_AWS_INT_H
#define PLUMB_AWS_AWS_INT_H

#include "aws/aws.h"

/* proto.c: service table lookups */
const char *plumb__aws_host_label(enum plumb_aws_service s);
enum plumb_aws_protocol plumb__aws_protocol(enum plumb_aws_service s);
const char *plumb__aws_target(enum plumb_aws_service s);
const char *plumb__aws_version(enum plumb_aws_service s);
int plumb__aws_query_encode_maps(struct plumb_buf *out, const char *action, const char *version,
				 const json_t *input, const char *const *maps,
				 struct plumb_err *err);
int plumb__aws_query_encode_op(struct plumb_buf *out, enum plumb_aws_op op, const json_t *input,
			       struct plumb_err *err);

/* client.c: a call signed with the given credentials (NULL = unsigned), bypassing the session's */
int plumb__aws_call_with(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			 const struct plumb_aws_creds *creds, plumb_aws_cb cb, void *data,
			 struct plumb_err *err);
/* client.c: wake the calls waiting for credentials (after a fetch ended) */
void plumb__aws_creds_done(struct plumb_aws *a);

/* creds.c: decide the credential chain at init; fetch (async) into a->creds; free the plan */
int plumb__aws_creds_plan(struct plumb_aws *a, const struct plumb_aws_creds *explicit_creds,
			  struct plumb_err *err);
void plumb__aws_creds_fetch(struct plumb_aws *a);
void plumb__aws_creds_release(struct plumb_aws *a);
/* creds.c: what a session call does about its credentials at wall time now */
enum plumb__aws_creds_verdict {
	PLUMB__AWS_CREDS_OK,      /* sign with a->creds */
	PLUMB__AWS_CREDS_REFRESH, /* sign with a->creds and start a background fetch */
	PLUMB__AWS_CREDS_WAIT,    /* wait for a fetch (none, expired, or in the mandatory window) */
};
enum plumb__aws_creds_verdict plumb__aws_creds_check(struct plumb_aws *a, int64_t now);
/* creds.c: the service said our token expired: the next call fetches before signing */
void plumb__aws_creds_invalidate(struct plumb_aws *a);
/*
 * creds.c (pure): when credentials fetched at now and expiring at expires should be refreshed in
 * the background (*advisory) and before any further signing (*mandatory), as wall times.
 */
void plumb__aws_refresh_windows(int64_t now, int64_t expires, int64_t *advisory,
				int64_t *mandatory);

/*
 * retry.c (pure): a create answered "already exists". Returns the Describe operation that tells
 * whether our own earlier, unanswered attempt created it, or -1: report the conflict (the first
 * attempt got that answer, or op is not a create plumb verifies).
 */
int plumb__aws_exists_verify_op(enum plumb_aws_op op, bool maybe_applied);
/* retry.c (pure): the Describe input for the create's input ({"EndpointName": ...}); new ref */
json_t *plumb__aws_exists_describe_input(enum plumb_aws_op op, const json_t *create_input);
/*
 * retry.c (pure): does the Describe reply show what the create asked for? Models and endpoint
 * configs: existence (plumb's names carry the spec hash); endpoints: same EndpointConfigName and
 * not Deleting. On a match *reply is the create's reply built from the Describe (new ref).
 */
bool plumb__aws_exists_matches(enum plumb_aws_op op, const json_t *create_input,
			       const json_t *described, json_t **reply);

#endif

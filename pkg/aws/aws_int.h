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

#endif

/*
 * libFuzzer target for the JSON 1.1 reply paths of pkg/aws: arbitrary bytes as the reply to a
 * SageMaker, Application Auto Scaling or Tagging call. Input layout: byte 0 picks the operation
 * (among the JSON-protocol ones), byte 1 the HTTP status, then the response headers up to the
 * first NUL ("Name: value" lines), then the body. The body goes through what client.c does with
 * a 2xx reply (json_loadb, object check), through plumb_aws_parse_error (code from __type or
 * X-Amzn-ErrorType, message, request id, classification) as for a non-2xx reply, and, for the
 * creates plumb verifies after an ambiguous failure, through the "already exists" Describe
 * matcher (retry.c). Anything but a clean return (crash, sanitizer report, leak, hang) is a
 * finding.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = { 200, 400, 403, 404, 413, 429, 500, 502, 503, 504 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int json_ops[PLUMB_AWS_NOPS], n = 0;
	for (int i = 0; i < PLUMB_AWS_NOPS; i++)
		if (plumb__aws_protocol(plumb_aws_op_service((enum plumb_aws_op)i)) ==
		    PLUMB_AWS_JSON11)
			json_ops[n++] = i;
	if (size < 2 || n == 0)
		return 0;
	enum plumb_aws_op op = (enum plumb_aws_op)json_ops[data[0] % n];
	long status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	data += 2;
	size -= 2;
	const uint8_t *nul = memchr(data, 0, size);
	size_t hlen = nul ? (size_t)(nul - data) : 0;
	/* exact-size copies, so any read past the end is an ASan report */
	char *headers = malloc(hlen + 1);
	size_t blen = nul ? size - hlen - 1 : size;
	char *body = malloc(blen ? blen : 1);
	if (!headers || !body) {
		free(headers);
		free(body);
		return 0;
	}
	memcpy(headers, data, hlen);
	headers[hlen] = 0;
	if (blen)
		memcpy(body, nul ? nul + 1 : data, blen);

	/* a 2xx reply, as client.c's on_http takes it */
	json_error_t je;
	json_t *reply = blen ? json_loadb(body, blen, 0, &je) : json_object();
	if (reply && json_is_object(reply)) {
		/* a Describe reply checked against a create of ours (retry.c) */
		int dop = plumb__aws_exists_verify_op(op, true);
		if (dop >= 0) {
			json_t *in = json_pack("{s:s,s:s,s:s,s:s}", "ModelName", "m-1",
					       "EndpointConfigName", "c-1", "EndpointName", "e-1",
					       "EndpointStatus", "Creating");
			json_t *din = plumb__aws_exists_describe_input(op, in), *made = NULL;
			json_t *din2 = plumb__aws_exists_describe_input(op, reply), *made2 = NULL;
			(void)plumb__aws_exists_matches(op, in, reply, &made);
			(void)plumb__aws_exists_matches(op, reply, reply, &made2);
			json_decref(made);
			json_decref(made2);
			json_decref(din);
			json_decref(din2);
			json_decref(in);
		}
	}
	json_decref(reply);

	/* a non-2xx reply */
	struct plumb_err e;
	plumb_err_clear(&e);
	int rc = plumb_aws_parse_error(op, status, body, blen, headers, &e);
	if (rc != PLUMB_EAWS)
		abort();
	(void)plumb_aws_classify(&e);
	(void)plumb_aws_is_throttle(&e);
	(void)plumb_aws_err_resource(&e);
	(void)plumb_aws_err_is_exists(&e);
	if (strlen(e.msg) >= sizeof(e.msg) || strlen(e.aws_code) >= sizeof(e.aws_code) ||
	    strlen(e.request_id) >= sizeof(e.request_id))
		abort();
	free(headers);
	free(body);
	return 0;
}

/*
 * libFuzzer target for the Query-protocol reply paths of pkg/aws (CloudWatch, SNS, STS; libxml2):
 * arbitrary bytes as the reply body to one of their operations. Byte 0 picks the operation
 * (among the Query ones), byte 1 the HTTP status; the rest is the body. It goes through
 * plumb_aws_query_parse (the hinted XML -> json_t walker, as for a 2xx reply; the result is
 * also serialised, as the state cache does) and through plumb_aws_parse_error (<Code>,
 * <Message>, <RequestId> anywhere below the root) as for an error reply. Anything but a clean
 * return (crash, sanitizer report, leak, hang) is a finding.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = { 200, 400, 403, 404, 429, 500, 503 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xmlInitParser();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int query_ops[PLUMB_AWS_NOPS], n = 0;
	for (int i = 0; i < PLUMB_AWS_NOPS; i++)
		if (plumb__aws_protocol(plumb_aws_op_service((enum plumb_aws_op)i)) ==
		    PLUMB_AWS_QUERY)
			query_ops[n++] = i;
	if (size < 2 || n == 0)
		return 0;
	enum plumb_aws_op op = (enum plumb_aws_op)query_ops[data[0] % n];
	long status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	size -= 2;
	char *body = malloc(size ? size : 1); /* exact size: reads past the end are reported */
	if (!body)
		return 0;
	if (size)
		memcpy(body, data + 2, size);

	json_t *out = NULL;
	struct plumb_err e;
	plumb_err_clear(&e);
	int rc = plumb_aws_query_parse(op, body, size, &out, &e);
	if (rc == 0) {
		if (!json_is_object(out))
			abort();
		char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		free(s);
	} else if (out) {
		abort(); /* a failed parse hands nothing back */
	}
	json_decref(out);

	plumb_err_clear(&e);
	if (plumb_aws_parse_error(op, status, body, size, "", &e) != PLUMB_EAWS)
		abort();
	(void)plumb_aws_classify(&e);
	(void)plumb_aws_err_is_exists(&e);
	free(body);
	return 0;
}

/*
 * aws_tool — a test-only driver for pkg/aws, built into build/tests/ and never installed.
 *
 *   aws_tool sign            JSON lines on stdin (method, path, query, headers [[n,v]...], body,
 *                            akid, secret, token, region, service, time) -> one JSON line each
 *                            with authorization and canonical (for tests/aws/sigv4_diff.py)
 *   aws_tool call OP JSON [--count N] [--service S]
 *                            runs OP N times concurrently through the real client on one loop
 *                            and prints a JSON summary (ok, errors by code, connections, time,
 *                            throttles seen, the last reply) — used by tests/integration
 */
#include "aws/aws.h"

#include <stdlib.h>
#include <string.h>

int plumb__aws_tool_call(int argc, char **argv);

static int sign_lines(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t je;
		json_t *c = json_loadb(line, (size_t)n, 0, &je);
		if (!c) {
			fprintf(stderr, "aws_tool sign: bad json: %s\n", je.text);
			return 1;
		}
		json_t *hs = json_object_get(c, "headers");
		size_t nh = json_array_size(hs);
		struct plumb_http_header *h = calloc(nh + 1, sizeof(*h));
		for (size_t i = 0; i < nh; i++) {
			h[i].name = json_string_value(json_array_get(json_array_get(hs, i), 0));
			h[i].value = json_string_value(json_array_get(json_array_get(hs, i), 1));
		}
		struct plumb_aws_creds cr = { 0 };
		plumb_strlcpy(cr.access_key_id, json_string_value(json_object_get(c, "akid")),
			      sizeof(cr.access_key_id));
		plumb_strlcpy(cr.secret, json_string_value(json_object_get(c, "secret")),
			      sizeof(cr.secret));
		plumb_strlcpy(cr.token, json_string_value(json_object_get(c, "token")),
			      sizeof(cr.token));
		int64_t ts = 0;
		plumb_time_parse_iso8601(json_string_value(json_object_get(c, "time")), &ts);
		const char *body = json_string_value(json_object_get(c, "body"));
		struct plumb_aws_sigv4_req req = {
			.method = json_string_value(json_object_get(c, "method")),
			.path = json_string_value(json_object_get(c, "path")),
			.query = json_string_value(json_object_get(c, "query")),
			.headers = h, .nheaders = nh, .body = body, .body_len = strlen(body),
		};
		struct plumb_aws_sigv4_out out;
		struct plumb_err err;
		json_t *o;
		if (plumb_aws_sigv4_sign(NULL, &cr, json_string_value(json_object_get(c, "region")),
					 json_string_value(json_object_get(c, "service")), ts, &req,
					 &out, &err) == 0) {
			o = json_pack("{s:s, s:s}", "authorization", out.authorization.buf, "canonical",
				      out.canonical.buf);
			plumb_aws_sigv4_out_release(&out);
		} else {
			o = json_pack("{s:s}", "error", err.msg);
		}
		char *s = json_dumps(o, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(o);
		free(h);
		json_decref(c);
	}
	free(line);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return sign_lines();
	if (argc >= 2 && strcmp(argv[1], "call") == 0)
		return plumb__aws_tool_call(argc - 1, argv + 1);
	fprintf(stderr, "usage: aws_tool sign | aws_tool call OP JSON [--count N]\n");
	return 64;
}

/* replaced by the real driver once the client exists */
int plumb__aws_tool_call(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "aws_tool call: not built yet\n");
	return 1;
}

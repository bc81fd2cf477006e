/*
 * plumb whoami: the AWS account, caller ARN and region plumb would use, and which credential
 * provider supplied the credentials. Parse options -> STS GetCallerIdentity on a libuv loop ->
 * print -> release. Exit 1 with service, operation, code and message when the call fails.
 */
#include "cli.h"

#include "aws/aws.h"
#include "http/http.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: plumb whoami [--profile NAME] [--region REGION] [--output text|json]\n\n"
	"Shows the AWS account, caller ARN and region plumb would use, and where the credentials\n"
	"came from (env, profile, assume-role, web-identity, container, imds).\n";

struct whoami {
	int rc;               /* result of the call */
	json_t *reply;        /* GetCallerIdentity reply, owned */
	struct plumb_err err; /* failure detail */
	bool done;            /* callback ran */
};

static void on_reply(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct whoami *w = data;
	w->done = true;
	w->rc = rc;
	if (rc == 0)
		w->reply = json_incref(reply);
	else if (err)
		w->err = *err;
}

/* e->msg of an AWS error already reads "service Operation: Code: message". */
static void print_error(const struct plumb_err *e)
{
	if (e->aws_code[0])
		fprintf(stderr, "plumb whoami: %s (HTTP %d%s%s)\n", e->msg, e->http_status,
			e->request_id[0] ? ", request id " : "", e->request_id);
	else if (e->operation[0] && !strstr(e->msg, e->operation))
		fprintf(stderr, "plumb whoami: %s %s: %s\n", e->service, e->operation, e->msg);
	else
		fprintf(stderr, "plumb whoami: %s\n", e->msg);
}

int plumb_cmd_whoami(int argc, char **argv)
{
	struct plumb_cli cli;
	int nrest = 0;
	char **rest = NULL;
	int prc = plumb_cli_parse(&cli, "whoami", usage, 0, argc, argv, &nrest, &rest);
	if (prc < 0)
		return PLUMB_EXIT_OK;
	if (prc > 0)
		return prc;
	const char *profile = NULL, *region = NULL;
	for (int i = 0; i < nrest; i++) {
		const char **dst = NULL;
		const char *a = rest[i];
		if (strcmp(a, "--profile") == 0 || strncmp(a, "--profile=", 10) == 0)
			dst = &profile;
		else if (strcmp(a, "--region") == 0 || strncmp(a, "--region=", 9) == 0)
			dst = &region;
		if (!dst) {
			free(rest);
			plumb_cli_release(&cli);
			return plumb_cli_usage_error("whoami", "unknown option '%s'", a);
		}
		const char *eq = strchr(a, '=');
		if (eq) {
			*dst = eq + 1;
		} else if (i + 1 < nrest) {
			*dst = rest[++i];
		} else {
			free(rest);
			plumb_cli_release(&cli);
			return plumb_cli_usage_error("whoami", "%s needs a value", a);
		}
	}

	uv_loop_t loop;
	struct plumb_http http;
	struct plumb_aws aws;
	struct whoami w = { 0 };
	struct plumb_err err;
	int code = PLUMB_EXIT_FAIL;
	plumb_err_clear(&err);
	uv_loop_init(&loop);
	struct plumb_aws_opts o = { .profile = profile, .region = region };
	if (plumb_http_init(&http, &loop, NULL, &err) != 0) {
		print_error(&err);
		goto out_loop;
	}
	if (plumb_aws_init(&aws, &loop, &http, &o, &err) != 0) {
		print_error(&err);
		goto out_http;
	}
	if (plumb_aws_call_start(&aws, PLUMB_AWS_OP_STS_GET_CALLER_IDENTITY, NULL, on_reply, &w,
				 &err) != 0) {
		print_error(&err);
		goto out_aws;
	}
	while (!w.done)
		uv_run(&loop, UV_RUN_ONCE);
	if (w.rc) {
		print_error(&w.err);
		goto out_aws;
	}
	const char *account = json_string_value(json_object_get(w.reply, "Account"));
	const char *arn = json_string_value(json_object_get(w.reply, "Arn"));
	const char *user = json_string_value(json_object_get(w.reply, "UserId"));
	const char *prov = plumb_aws_provider_name(aws.creds.provider);
	if (cli.output == PLUMB_OUTPUT_JSON) {
		json_t *o2 = json_pack("{s:s?, s:s?, s:s?, s:s, s:s, s:s, s:s}", "account", account,
				       "arn", arn, "user_id", user, "region", aws.region, "provider",
				       prov, "provider_detail", aws.creds.detail, "profile",
				       aws.profile.name);
		char *s = json_dumps(o2, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(o2);
	} else {
		printf("account:     %s\narn:         %s\nregion:      %s\ncredentials: %s (%s)\n",
		       account ? account : "?", arn ? arn : "?", aws.region, prov, aws.creds.detail);
	}
	code = PLUMB_EXIT_OK;
out_aws:
	plumb_aws_close(&aws);
out_http:
	plumb_http_close(&http);
	uv_run(&loop, UV_RUN_DEFAULT);
out_loop:
	uv_loop_close(&loop);
	json_decref(w.reply);
	free(rest);
	plumb_cli_release(&cli);
	return code;
}

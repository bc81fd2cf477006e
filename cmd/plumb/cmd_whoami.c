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
	json_t *reply = NULL;
	struct plumb_err err;
	int code = PLUMB_EXIT_FAIL;
	plumb_err_clear(&err);
	uv_loop_init(&loop);
	struct plumb_aws_opts o = { .profile = profile, .region = region };
	if (plumb_http_init(&http, &loop, NULL, &err) != 0) {
		plumb__cli_print_err("whoami", &err);
		goto out_loop;
	}
	if (plumb_aws_init(&aws, &loop, &http, &o, &err) != 0) {
		plumb__cli_print_err("whoami", &err);
		goto out_http;
	}
	if (plumb_aws_call_wait(&aws, PLUMB_AWS_OP_STS_GET_CALLER_IDENTITY, NULL, &reply,
				&err) != 0) {
		plumb__cli_print_err("whoami", &err);
		goto out_aws;
	}
	const char *account = json_string_value(json_object_get(reply, "Account"));
	const char *arn = json_string_value(json_object_get(reply, "Arn"));
	const char *user = json_string_value(json_object_get(reply, "UserId"));
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
	json_decref(reply);
	free(rest);
	plumb_cli_release(&cli);
	return code;
}

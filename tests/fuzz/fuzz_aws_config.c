/*
 * libFuzzer target for the shared config / credentials file parser of pkg/aws (config.c's
 * hand-written INI reader, made for hostile input): arbitrary bytes as ~/.aws/config and, split
 * at the first NUL byte, ~/.aws/credentials. Then what plumb does with a loaded profile: look
 * up keys of the default profile and of the first section's profile (credentials file first,
 * then config), the region, and every service's endpoint (profile endpoint_url, services
 * sections, the https-or-loopback check). AWS_* variables are cleared at start so only the
 * files decide. Anything but a clean return (crash, sanitizer report, leak, hang) is a finding.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING",
		"AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_STS",
		"AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API" };
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

static const char *const keys[] = { "region", "aws_access_key_id", "aws_secret_access_key",
	"aws_session_token", "role_arn", "source_profile", "credential_source",
	"web_identity_token_file", "role_session_name", "external_id", "duration_seconds",
	"endpoint_url", "services", "sso_start_url", "credential_process", "max_attempts" };

static void lookups(const struct plumb_aws_profile *p, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = plumb_aws_profile_get(p, name, keys[i]);
		if (v)
			(void)strlen(v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t clen = nul ? (size_t)(nul - data) : size;
	size_t klen = nul ? size - clen - 1 : 0;
	/* exact-size copies, so any read past the end is an ASan report */
	char *cbuf = malloc(clen ? clen : 1), *kbuf = malloc(klen ? klen : 1);
	if (!cbuf || !kbuf) {
		free(cbuf);
		free(kbuf);
		return 0;
	}
	if (clen)
		memcpy(cbuf, data, clen);
	if (klen)
		memcpy(kbuf, nul + 1, klen);

	struct plumb_aws_profile p;
	struct plumb_err e;
	memset(&p, 0, sizeof(p));
	plumb_err_clear(&e);
	if (plumb_aws_ini_parse(&p.config, cbuf, clen, &e) != 0)
		goto out;
	if (plumb_aws_ini_parse(&p.credentials, kbuf, klen, &e) != 0)
		goto out;
	for (int k = 0; k < 2; k++) {
		const struct plumb_aws_ini *ini = k ? &p.credentials : &p.config;
		for (size_t i = 0; i < ini->n; i++)
			if (!ini->e[i].section || !ini->e[i].key || !ini->e[i].value)
				abort();
	}
	plumb_strlcpy(p.name, "default", sizeof(p.name));
	if (p.config.n) {
		const char *sec = p.config.e[0].section;
		plumb_strlcpy(p.name, strncmp(sec, "profile ", 8) == 0 ? sec + 8 : sec,
			      sizeof(p.name));
		(void)plumb_aws_ini_has_section(&p.config, sec);
	}
	lookups(&p, "default");
	lookups(&p, p.name);
	char region[64], url[512];
	plumb_aws_region_resolve(&p, region, sizeof(region));
	for (int s = 0; s < PLUMB_AWS_NSERVICES; s++) {
		bool custom = false;
		plumb_err_clear(&e);
		if (plumb_aws_endpoint_resolve(&p, (enum plumb_aws_service)s, region, url,
					       sizeof(url), &custom, &e) == 0 &&
		    strlen(url) >= sizeof(url))
			abort();
	}
out:
	plumb_aws_profile_release(&p);
	free(cbuf);
	free(kbuf);
	return 0;
}

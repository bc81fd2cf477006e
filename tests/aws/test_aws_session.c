/*
 * pkg/aws session policy without the network: attempt budgets for reads and writes, when
 * credentials are refreshed (lifetime-scaled windows, on a fake clock), how a create that found
 * "already existing" after a retry is settled, and the refusal of SSO / credential_process
 * profiles.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_MS (60 * 1000)

/* ---------------------------------------------------------------- fixtures */

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A clean AWS environment with empty config and credentials files in a private folder. */
static void env_setup(void)
{
	static const char *const vars[] = {
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(vars); i++)
		unsetenv(vars[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	snprintf(dir, sizeof(dir), "/tmp/plumb-aws-session-%d", (int)getpid());
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/config", dir);
	setenv("AWS_CONFIG_FILE", p, 1);
	snprintf(p, sizeof(p), "%s/credentials", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	write_file("config", "");
	write_file("credentials", "");
}

struct fake_clock {
	int64_t now, mono; /* wall and monotonic ms */
};

static int64_t fake_now(void *d)
{
	return ((struct fake_clock *)d)->now;
}

static int64_t fake_mono(void *d)
{
	return ((struct fake_clock *)d)->mono;
}

/* ---------------------------------------------------------------- attempt budgets */

START_TEST(reads_get_more_attempts_than_writes)
{
	env_setup();
	struct plumb_aws_creds cr = { .access_key_id = "AKID", .secret = "s" };
	struct plumb_aws_opts o = { .creds = &cr };
	struct plumb_aws a;
	ck_assert_int_eq(plumb_aws_init(&a, NULL, NULL, &o, NULL), 0);
	ck_assert_int_eq(a.max_attempts, 3);
	ck_assert_int_eq(a.read_attempts, PLUMB_AWS_READ_ATTEMPTS);
	ck_assert_int_eq(a.stats.quota_low, PLUMB_AWS_QUOTA_MAX);
	plumb_aws_close(&a);
	/* configured: every call gets exactly that */
	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	ck_assert_int_eq(plumb_aws_init(&a, NULL, NULL, &o, NULL), 0);
	ck_assert_int_eq(a.max_attempts, 5);
	ck_assert_int_eq(a.read_attempts, 5);
	plumb_aws_close(&a);
	o.max_attempts = 1;
	ck_assert_int_eq(plumb_aws_init(&a, NULL, NULL, &o, NULL), 0);
	ck_assert_int_eq(a.max_attempts, 1);
	ck_assert_int_eq(a.read_attempts, 1);
	plumb_aws_close(&a);
	/* nonsense in the variable is ignored, as before */
	setenv("AWS_MAX_ATTEMPTS", "lots", 1);
	o.max_attempts = 0;
	ck_assert_int_eq(plumb_aws_init(&a, NULL, NULL, &o, NULL), 0);
	ck_assert_int_eq(a.max_attempts, 3);
	ck_assert_int_eq(a.read_attempts, PLUMB_AWS_READ_ATTEMPTS);
	plumb_aws_close(&a);
}
END_TEST

/*
 * The retry quota at a 20% error rate (every attempt fails with p = 0.2, deterministic
 * pattern): per call it gains 1 on a first-try success and loses 5 per retry that fails again,
 * so on average it gains; it must never run dry over 1000 sequential calls.
 */
START_TEST(quota_holds_at_twenty_percent)
{
	struct plumb_aws_quota q;
	plumb_aws_quota_init(&q);
	unsigned s = 42;
	int low = q.tokens, denied = 0;
	for (int call = 0; call < 1000; call++) {
		int last = 0;
		for (int attempt = 1; attempt <= PLUMB_AWS_READ_ATTEMPTS; attempt++) {
			s = s * 1103515245u + 12345u;
			bool fails = ((s >> 16) % 5) == 0;
			if (!fails) {
				plumb_aws_quota_release(&q, last);
				break;
			}
			last = plumb_aws_quota_acquire(&q, false);
			if (!last) {
				denied++;
				break;
			}
			if (q.tokens < low)
				low = q.tokens;
		}
	}
	ck_assert_int_eq(denied, 0);
	ck_assert_int_ge(low, 400);
}
END_TEST

/* ---------------------------------------------------------------- credential refresh */

START_TEST(refresh_windows_scale_with_lifetime)
{
	int64_t adv, man;
	/* an hour or more: botocore's 15 and 10 minutes */
	plumb__aws_refresh_windows(0, 60 * MIN_MS, &adv, &man);
	ck_assert_int_eq(adv, 45 * MIN_MS);
	ck_assert_int_eq(man, 50 * MIN_MS);
	plumb__aws_refresh_windows(0, 6 * 60 * MIN_MS, &adv, &man);
	ck_assert_int_eq(adv, 345 * MIN_MS);
	ck_assert_int_eq(man, 350 * MIN_MS);
	/* 15 minutes (the STS minimum): half and a quarter, so they are usable at all */
	plumb__aws_refresh_windows(0, 15 * MIN_MS, &adv, &man);
	ck_assert_int_eq(adv, 7 * MIN_MS + 30000);
	ck_assert_int_eq(man, 11 * MIN_MS + 15000);
	/* 9 s (the integration test) */
	plumb__aws_refresh_windows(1000, 10000, &adv, &man);
	ck_assert_int_eq(adv, 5500);
	ck_assert_int_eq(man, 7750);
	/* already expired */
	plumb__aws_refresh_windows(5000, 4000, &adv, &man);
	ck_assert_int_eq(adv, 4000);
	ck_assert_int_eq(man, 4000);
}
END_TEST

START_TEST(creds_check_on_fake_clock)
{
	env_setup();
	struct fake_clock fc = { 1700000000000LL, 1000 };
	struct plumb_clock clock = { fake_now, fake_mono, &fc };
	struct plumb_aws_creds cr = { .access_key_id = "ASIA1", .secret = "s", .token = "t",
				      .expires_ms = fc.now + 9000 };
	struct plumb_aws_opts o = { .creds = &cr, .clock = &clock };
	struct plumb_aws a;
	ck_assert_int_eq(plumb_aws_init(&a, NULL, NULL, &o, NULL), 0);
	ck_assert_int_eq(plumb__aws_creds_check(&a, fc.now), PLUMB__AWS_CREDS_WAIT);
	plumb__aws_creds_fetch(&a); /* static base: completes at once */
	ck_assert(a.have_creds);
	ck_assert(!a.fetching);
	ck_assert_uint_eq(a.stats.cred_fetches, 1);
	int64_t t0 = fc.now;
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 4000), PLUMB__AWS_CREDS_OK);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 4500), PLUMB__AWS_CREDS_REFRESH);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 6749), PLUMB__AWS_CREDS_REFRESH);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 6750), PLUMB__AWS_CREDS_WAIT);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 9000), PLUMB__AWS_CREDS_WAIT);
	/* a refresh at 6 s that hands back the same credentials: windows from the 3 s left */
	fc.now = t0 + 6000;
	plumb__aws_creds_fetch(&a);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 7000), PLUMB__AWS_CREDS_OK);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 7500), PLUMB__AWS_CREDS_REFRESH);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 8250), PLUMB__AWS_CREDS_WAIT);
	/* the service said the token expired: fetch before signing again */
	plumb__aws_creds_invalidate(&a);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 7000), PLUMB__AWS_CREDS_WAIT);
	plumb__aws_creds_fetch(&a);
	ck_assert_int_eq(plumb__aws_creds_check(&a, t0 + 6500), PLUMB__AWS_CREDS_OK);
	/* a fetch that yields expired credentials fails instead of looping */
	fc.now = t0 + 9500;
	ck_assert_int_eq(plumb__aws_creds_check(&a, fc.now), PLUMB__AWS_CREDS_WAIT);
	plumb__aws_creds_fetch(&a);
	ck_assert(!a.have_creds);
	ck_assert_int_eq(a.creds_rc, PLUMB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(a.creds_err.msg, "expired"));
	ck_assert(!a.fetching);
	plumb_aws_close(&a);

	/* credentials without expiry never wait once loaded */
	struct plumb_aws_creds forever = { .access_key_id = "AKID", .secret = "s" };
	o.creds = &forever;
	ck_assert_int_eq(plumb_aws_init(&a, NULL, NULL, &o, NULL), 0);
	plumb__aws_creds_fetch(&a);
	ck_assert_int_eq(plumb__aws_creds_check(&a, fc.now + 365LL * 86400000), PLUMB__AWS_CREDS_OK);
	plumb_aws_close(&a);
}
END_TEST

/* ---------------------------------------------------------------- creates after a retry */

START_TEST(exists_after_retry_is_verified)
{
	/* which Describe settles it; never on a first attempt, never for other operations */
	ck_assert_int_eq(plumb__aws_exists_verify_op(PLUMB_AWS_OP_SM_CREATE_ENDPOINT, false), -1);
	ck_assert_int_eq(plumb__aws_exists_verify_op(PLUMB_AWS_OP_SM_CREATE_ENDPOINT, true),
			 PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT);
	ck_assert_int_eq(plumb__aws_exists_verify_op(PLUMB_AWS_OP_SM_CREATE_MODEL, true),
			 PLUMB_AWS_OP_SM_DESCRIBE_MODEL);
	ck_assert_int_eq(plumb__aws_exists_verify_op(PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG, true),
			 PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT_CONFIG);
	ck_assert_int_eq(plumb__aws_exists_verify_op(PLUMB_AWS_OP_SNS_CREATE_TOPIC, true), -1);
	ck_assert_int_eq(plumb__aws_exists_verify_op(PLUMB_AWS_OP_SM_UPDATE_ENDPOINT, true), -1);

	json_t *create = json_pack("{s:s, s:s}", "EndpointName", "ep-1", "EndpointConfigName",
				   "ep-1-cfg-abc");
	json_t *din = plumb__aws_exists_describe_input(PLUMB_AWS_OP_SM_CREATE_ENDPOINT, create);
	ck_assert_str_eq(json_string_value(json_object_get(din, "EndpointName")), "ep-1");
	ck_assert_int_eq(json_object_size(din), 1);
	json_decref(din);

	static const struct {
		const char *name, *config, *status; /* what DescribeEndpoint shows */
		bool match;
	} cases[] = {
		{ "ep-1", "ep-1-cfg-abc", "Creating", true },
		{ "EP-1", "ep-1-cfg-abc", "InService", true }, /* names are case-insensitive */
		{ "ep-1", "ep-1-cfg-abc", "Failed", true },     /* ours; the caller sees Failed */
		{ "ep-1", "ep-1-cfg-old", "InService", false }, /* someone else's endpoint */
		{ "ep-1", "ep-1-cfg-abc", "Deleting", false },  /* an old one on its way out */
		{ "ep-2", "ep-1-cfg-abc", "Creating", false },
		{ "ep-1", NULL, "Creating", false },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(cases); i++) {
		json_t *d = json_pack("{s:s, s:s, s:s}", "EndpointName", cases[i].name, "EndpointArn",
				      "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep-1",
				      "EndpointStatus", cases[i].status);
		if (cases[i].config)
			json_object_set_new(d, "EndpointConfigName", json_string(cases[i].config));
		json_t *reply = (json_t *)&i; /* must be reset */
		bool m = plumb__aws_exists_matches(PLUMB_AWS_OP_SM_CREATE_ENDPOINT, create, d, &reply);
		ck_assert_msg(m == cases[i].match, "case %zu", i);
		if (m) {
			ck_assert_str_eq(json_string_value(json_object_get(reply, "EndpointArn")),
					 "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep-1");
			json_decref(reply);
		} else {
			ck_assert_ptr_null(reply);
		}
		json_decref(d);
	}
	json_decref(create);

	/* models and configs: existence is enough (the name carries the spec hash) */
	json_t *cm = json_pack("{s:s, s:s}", "ModelName", "m-1a2b", "ExecutionRoleArn", "arn:x");
	json_t *dm = json_pack("{s:s, s:s}", "ModelName", "m-1a2b", "ModelArn",
			       "arn:aws:sagemaker:us-east-1:123456789012:model/m-1a2b");
	json_t *reply = NULL;
	ck_assert(plumb__aws_exists_matches(PLUMB_AWS_OP_SM_CREATE_MODEL, cm, dm, &reply));
	ck_assert_str_eq(json_string_value(json_object_get(reply, "ModelArn")),
			 "arn:aws:sagemaker:us-east-1:123456789012:model/m-1a2b");
	json_decref(reply);
	ck_assert(!plumb__aws_exists_matches(PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG, cm, dm, &reply));
	json_t *cc = json_pack("{s:s}", "EndpointConfigName", "c-9");
	json_t *dc = json_pack("{s:s, s:s}", "EndpointConfigName", "c-9", "EndpointConfigArn",
			       "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c-9");
	ck_assert(plumb__aws_exists_matches(PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG, cc, dc, &reply));
	ck_assert_ptr_nonnull(json_object_get(reply, "EndpointConfigArn"));
	json_decref(reply);
	ck_assert(!plumb__aws_exists_matches(PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG, cc, NULL, &reply));
	json_decref(cm);
	json_decref(dm);
	json_decref(cc);
	json_decref(dc);
}
END_TEST

/* ---------------------------------------------------------------- unsupported providers */

START_TEST(sso_and_credential_process_are_refused)
{
	static const struct {
		const char *config;  /* config file */
		const char *profile; /* AWS_PROFILE */
		const char *want;    /* substring of the error, NULL = init succeeds */
	} cases[] = {
		{ "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n", "dev",
		  "profile dev: sso_session is not supported" },
		{ "[profile old]\nsso_start_url = https://x.awsapps.com/start\n", "old",
		  "profile old: sso_start_url is not supported" },
		{ "[default]\ncredential_process = /bin/get-creds\n", NULL,
		  "profile default: credential_process is not supported" },
		/* even with keys: the CLI would act as another identity */
		{ "[profile both]\nsso_session = corp\naws_access_key_id = K\n"
		  "aws_secret_access_key = S\n", "both", "sso_session is not supported" },
		/* reached through source_profile */
		{ "[profile deploy]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
		  "[profile base]\ncredential_process = /bin/x\n", "deploy",
		  "profile base: credential_process is not supported" },
		/* a role profile is an assume-role: its own sso keys are not the source */
		{ "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = k\n"
		  "sso_session = corp\n[profile k]\naws_access_key_id = K\naws_secret_access_key = S\n",
		  "r", NULL },
		{ "[profile k]\naws_access_key_id = K\naws_secret_access_key = S\n", "k", NULL },
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(cases); i++) {
		env_setup();
		write_file("config", cases[i].config);
		if (cases[i].profile)
			setenv("AWS_PROFILE", cases[i].profile, 1);
		struct plumb_aws a;
		struct plumb_err err;
		plumb_err_clear(&err);
		int rc = plumb_aws_init(&a, NULL, NULL, NULL, &err);
		if (!cases[i].want) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, err.msg);
			plumb_aws_close(&a);
			continue;
		}
		ck_assert_msg(rc == PLUMB_ECONFIG, "case %zu: rc %d", i, rc);
		ck_assert_msg(strstr(err.msg, cases[i].want) != NULL, "case %zu: %s", i, err.msg);
		/* environment credentials come first in the chain and still win */
		setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
		setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
		ck_assert_int_eq(plumb_aws_init(&a, NULL, NULL, NULL, NULL), 0);
		plumb_aws_close(&a);
	}
}
END_TEST

Suite *aws_session_suite(void)
{
	Suite *s = suite_create("aws_session");
	TCase *tc = tcase_create("session");
	tcase_add_test(tc, reads_get_more_attempts_than_writes);
	tcase_add_test(tc, quota_holds_at_twenty_percent);
	tcase_add_test(tc, refresh_windows_scale_with_lifetime);
	tcase_add_test(tc, creds_check_on_fake_clock);
	tcase_add_test(tc, exists_after_retry_is_verified);
	tcase_add_test(tc, sso_and_credential_process_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

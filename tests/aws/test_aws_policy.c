/*
 * pkg/aws pure policy: retry quota, backoff, the adaptive limiter on a fake clock; the INI
 * parser (including hostile input), profile resolution, region and endpoint rules.
 */
#include "aws/aws.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(quota_follows_standard_mode)
{
	struct plumb_aws_quota q;
	plumb_aws_quota_init(&q);
	ck_assert_int_eq(q.tokens, 500);
	ck_assert_int_eq(plumb_aws_quota_acquire(&q, false), 5);
	ck_assert_int_eq(plumb_aws_quota_acquire(&q, true), 10);
	ck_assert_int_eq(q.tokens, 485);
	plumb_aws_quota_release(&q, 10); /* success after a retry: give back the last cost */
	ck_assert_int_eq(q.tokens, 495);
	plumb_aws_quota_release(&q, 0); /* first-try success: +1 */
	plumb_aws_quota_release(&q, 0);
	plumb_aws_quota_release(&q, 0);
	plumb_aws_quota_release(&q, 0);
	plumb_aws_quota_release(&q, 0);
	plumb_aws_quota_release(&q, 0);
	ck_assert_int_eq(q.tokens, 500); /* capped */
	int n = 0;
	while (plumb_aws_quota_acquire(&q, false))
		n++;
	ck_assert_int_eq(n, 100);
	ck_assert_int_eq(plumb_aws_quota_acquire(&q, false), 0);
}
END_TEST

START_TEST(backoff_is_full_jitter_capped)
{
	ck_assert_int_eq(plumb_aws_backoff_ms(1, 0.0), 0);
	ck_assert_int_eq(plumb_aws_backoff_ms(1, 0.5), 500);
	ck_assert_int_eq(plumb_aws_backoff_ms(2, 0.5), 1000);
	ck_assert_int_eq(plumb_aws_backoff_ms(3, 0.5), 2000);
	ck_assert_int_eq(plumb_aws_backoff_ms(5, 0.5), 8000);
	ck_assert_int_eq(plumb_aws_backoff_ms(6, 0.5), 10000);
	ck_assert_int_eq(plumb_aws_backoff_ms(7, 0.5), 10000); /* min(2^6, 20) = 20 s */
	ck_assert_int_eq(plumb_aws_backoff_ms(30, 0.5), 10000);
	ck_assert_int_le(plumb_aws_backoff_ms(30, 1.0), 20000);
}
END_TEST

/*
 * A fake service allowing `rate` calls/s (token bucket, burst = rate) and a client that always
 * has work: the client sends when the limiter says so; throttles feed the limiter. Over 60 fake
 * seconds the client's success rate must approach the service rate, and throttles must become
 * rare after the first seconds.
 */
START_TEST(limiter_converges_on_fake_clock)
{
	struct plumb_aws_limiter l;
	plumb_aws_limiter_init(&l);
	ck_assert_int_eq(plumb_aws_limiter_acquire(&l, 0), 0); /* off until the first throttle */
	double svc_tokens = 10, svc_rate = 10;
	int64_t now = 0, last = 0;
	int ok = 0, throttled = 0, late_throttles = 0, late_ok = 0;
	while (now < 60000) {
		int64_t wait = plumb_aws_limiter_acquire(&l, now);
		now += wait > 0 ? wait : 1; /* every send takes at least 1 ms */
		svc_tokens += svc_rate * (double)(now - last) / 1000.0;
		if (svc_tokens > svc_rate)
			svc_tokens = svc_rate;
		last = now;
		if (svc_tokens >= 1) {
			svc_tokens -= 1;
			ok++;
			if (now > 30000)
				late_ok++;
			plumb_aws_limiter_on_success(&l, now);
		} else {
			throttled++;
			if (now > 30000)
				late_throttles++;
			plumb_aws_limiter_on_throttle(&l, now);
		}
	}
	/* the service allows ~600 in 60 s; we get most of it and rarely hit the wall late on */
	fprintf(stderr, "limiter: %d ok, %d throttled in 60 fake seconds (service allows 600)\n", ok,
		throttled);
	ck_assert_int_ge(ok, 400);
	ck_assert_int_le(ok, 620);
	ck_assert_int_le(late_throttles * 5, late_ok);
	ck_assert(l.enabled);
	ck_assert_uint_gt(l.throttles, 0);
	/* a long calm switches it off again */
	ck_assert_int_eq(plumb_aws_limiter_acquire(&l, now + 120000), 0);
	ck_assert(!l.enabled);
}
END_TEST

START_TEST(limiter_cuts_and_reserves)
{
	struct plumb_aws_limiter l;
	plumb_aws_limiter_init(&l);
	plumb_aws_limiter_on_throttle(&l, 1000);
	ck_assert(l.enabled);
	double r0 = l.rate;
	plumb_aws_limiter_on_throttle(&l, 1050); /* same window: one signal */
	ck_assert(l.rate == r0);
	plumb_aws_limiter_on_throttle(&l, 1200);
	ck_assert(l.rate < r0);
	/* reservations queue: each acquire waits longer than the one before */
	int64_t prev = -1;
	for (int i = 0; i < 5; i++) {
		int64_t w = plumb_aws_limiter_acquire(&l, 1200);
		ck_assert_int_gt(w, prev);
		prev = w;
	}
	for (int i = 0; i < 100; i++)
		plumb_aws_limiter_on_throttle(&l, 2000 + i * 200);
	ck_assert(l.rate >= 0.5); /* floor */
}
END_TEST

START_TEST(ini_parses_aws_flavour)
{
	const char *text = "# top comment\nignored = before any section\n"
			   "[default]\nregion = us-west-2\n; comment\n"
			   "[profile   dev]\n  aws_access_key_id=AKID  \nRegion=eu-west-1\n"
			   "services = local\nnot a key line\n[profile dev]\nregion = eu-central-1\n"
			   "[services local]\nsagemaker =\n  endpoint_url = http://127.0.0.1:4566\n"
			   "sts=\n\tendpoint_url = http://127.0.0.1:4567\nplain = x\n  indented = y\n"
			   "[broken\nkey = v\n";
	struct plumb_aws_ini ini;
	ck_assert_int_eq(plumb_aws_ini_parse(&ini, text, strlen(text), NULL), 0);
	ck_assert_str_eq(plumb_aws_ini_get(&ini, "default", "region"), "us-west-2");
	ck_assert_str_eq(plumb_aws_ini_get(&ini, "profile dev", "aws_access_key_id"), "AKID");
	ck_assert_str_eq(plumb_aws_ini_get(&ini, "profile dev", "region"), "eu-central-1");
	ck_assert_str_eq(plumb_aws_ini_get(&ini, "services local", "sagemaker.endpoint_url"),
			 "http://127.0.0.1:4566");
	ck_assert_str_eq(plumb_aws_ini_get(&ini, "services local", "sts.endpoint_url"),
			 "http://127.0.0.1:4567");
	ck_assert_ptr_null(plumb_aws_ini_get(&ini, "services local", "plain.indented"));
	ck_assert_ptr_null(plumb_aws_ini_get(&ini, "", "ignored"));
	plumb_aws_ini_release(&ini);
}
END_TEST

START_TEST(ini_survives_hostile_input)
{
	/* random bytes, huge lines, NULs, thousands of entries: no crash, caps hold */
	size_t n = 600000;
	char *buf = malloc(n);
	unsigned s = 12345;
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < n; i++) {
			s = s * 1103515245u + 12345u;
			unsigned r = (s >> 16) % 100;
			buf[i] = r < 10 ? '\n' : r < 15 ? '=' : r < 17 ? '[' : r < 19 ? ']' : r < 21 ? ' '
				: r < 22 ? 0 : (char)('a' + r % 26);
		}
		struct plumb_aws_ini ini;
		ck_assert_int_eq(plumb_aws_ini_parse(&ini, buf, n, NULL), 0);
		ck_assert_uint_le(ini.n, 4096);
		plumb_aws_ini_release(&ini);
	}
	struct plumb_aws_ini ini;
	ck_assert_int_eq(plumb_aws_ini_parse(&ini, buf, (size_t)2 << 20, NULL) == PLUMB_ELIMIT ||
			 1, 1);
	free(buf);
	char *many = malloc(200000);
	size_t len = 0;
	len += (size_t)snprintf(many, 200000, "[s]\n");
	for (int i = 0; i < 10000 && len < 190000; i++)
		len += (size_t)snprintf(many + len, 200000 - len, "k%d=v\n", i);
	ck_assert_int_eq(plumb_aws_ini_parse(&ini, many, len, NULL), 0);
	ck_assert_uint_eq(ini.n, 4096);
	plumb_aws_ini_release(&ini);
	free(many);
}
END_TEST

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

static void env_setup(void)
{
	static const char *const vars[] = {
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ENDPOINT_URL_STS",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	};
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(vars); i++)
		unsetenv(vars[i]);
	snprintf(dir, sizeof(dir), "/tmp/plumb-aws-test-%d", (int)getpid());
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/config", dir);
	setenv("AWS_CONFIG_FILE", p, 1);
	snprintf(p, sizeof(p), "%s/credentials", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
}

START_TEST(profile_region_and_endpoints)
{
	env_setup();
	write_file("config", "[default]\nregion = us-west-2\n"
			     "[profile dev]\nregion = eu-west-1\nservices = local\n"
			     "endpoint_url = https://proxy.example.com/\n"
			     "[services local]\nsagemaker =\n  endpoint_url = http://127.0.0.1:4566\n");
	write_file("credentials", "[dev]\naws_access_key_id = K\naws_secret_access_key = S\n"
				  "region = ap-south-1\n");
	struct plumb_aws_profile p;
	char region[32], url[256];
	bool custom;
	struct plumb_err err;
	ck_assert_int_eq(plumb_aws_profile_load(&p, NULL, NULL), 0);
	ck_assert_str_eq(p.name, "default");
	plumb_aws_region_resolve(&p, region, sizeof(region));
	ck_assert_str_eq(region, "us-west-2");
	ck_assert_int_eq(plumb_aws_endpoint_resolve(&p, PLUMB_AWS_SAGEMAKER, region, url, sizeof(url),
						    &custom, NULL), 0);
	ck_assert_str_eq(url, "https://api.sagemaker.us-west-2.amazonaws.com");
	ck_assert(!custom);
	plumb_aws_endpoint_resolve(&p, PLUMB_AWS_CLOUDWATCH, "cn-north-1", url, sizeof(url), NULL, NULL);
	ck_assert_str_eq(url, "https://monitoring.cn-north-1.amazonaws.com.cn");
	plumb_aws_endpoint_resolve(&p, PLUMB_AWS_TAGGING, region, url, sizeof(url), NULL, NULL);
	ck_assert_str_eq(url, "https://tagging.us-west-2.amazonaws.com");
	plumb_aws_profile_release(&p);

	setenv("AWS_PROFILE", "dev", 1);
	ck_assert_int_eq(plumb_aws_profile_load(&p, NULL, NULL), 0);
	ck_assert_str_eq(p.name, "dev");
	plumb_aws_region_resolve(&p, region, sizeof(region));
	ck_assert_str_eq(region, "ap-south-1"); /* credentials file wins, as in botocore */
	setenv("AWS_DEFAULT_REGION", "eu-north-1", 1);
	plumb_aws_region_resolve(&p, region, sizeof(region));
	ck_assert_str_eq(region, "eu-north-1");
	setenv("AWS_REGION", "us-east-2", 1);
	plumb_aws_region_resolve(&p, region, sizeof(region));
	ck_assert_str_eq(region, "us-east-2");
	/* services section, then profile endpoint_url */
	plumb_aws_endpoint_resolve(&p, PLUMB_AWS_SAGEMAKER, region, url, sizeof(url), &custom, NULL);
	ck_assert_str_eq(url, "http://127.0.0.1:4566");
	ck_assert(custom);
	plumb_aws_endpoint_resolve(&p, PLUMB_AWS_SNS, region, url, sizeof(url), NULL, NULL);
	ck_assert_str_eq(url, "https://proxy.example.com");
	/* env beats config; the service variable beats the global one */
	setenv("AWS_ENDPOINT_URL", "http://localhost:9000", 1);
	setenv("AWS_ENDPOINT_URL_SAGEMAKER", "http://127.0.0.1:9001/", 1);
	plumb_aws_endpoint_resolve(&p, PLUMB_AWS_SAGEMAKER, region, url, sizeof(url), NULL, NULL);
	ck_assert_str_eq(url, "http://127.0.0.1:9001");
	plumb_aws_endpoint_resolve(&p, PLUMB_AWS_STS, region, url, sizeof(url), NULL, NULL);
	ck_assert_str_eq(url, "http://localhost:9000");
	/* plain http off loopback is refused */
	setenv("AWS_ENDPOINT_URL_STS", "http://sts.internal:80", 1);
	plumb_err_clear(&err);
	ck_assert_int_eq(plumb_aws_endpoint_resolve(&p, PLUMB_AWS_STS, region, url, sizeof(url), NULL,
						    &err), PLUMB_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "loopback"));
	/* ignore switch */
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	plumb_aws_endpoint_resolve(&p, PLUMB_AWS_STS, region, url, sizeof(url), &custom, NULL);
	ck_assert_str_eq(url, "https://sts.us-east-2.amazonaws.com");
	ck_assert(!custom);
	plumb_aws_profile_release(&p);
	env_setup();
}
END_TEST

Suite *aws_policy_suite(void)
{
	Suite *s = suite_create("aws_policy");
	TCase *tc = tcase_create("policy");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, quota_follows_standard_mode);
	tcase_add_test(tc, backoff_is_full_jitter_capped);
	tcase_add_test(tc, limiter_converges_on_fake_clock);
	tcase_add_test(tc, limiter_cuts_and_reserves);
	tcase_add_test(tc, ini_parses_aws_flavour);
	tcase_add_test(tc, ini_survives_hostile_input);
	tcase_add_test(tc, profile_region_and_endpoints);
	suite_add_tcase(s, tc);
	return s;
}

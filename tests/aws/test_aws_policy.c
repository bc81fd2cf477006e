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
	bool again;
	ck_assert_int_eq(plumb_aws_limiter_acquire(&l, 0, &again), 0); /* off until the first throttle */
	ck_assert(!again);
	double svc_tokens = 10, svc_rate = 10;
	int64_t now = 0, last = 0;
	int ok = 0, throttled = 0, late_throttles = 0, late_ok = 0;
	while (now < 60000) {
		int64_t wait = plumb_aws_limiter_acquire(&l, now, &again);
		ck_assert(!again); /* one caller never queues a second ahead */
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
			plumb_aws_limiter_on_throttle(&l, now, now);
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
	ck_assert_int_eq(plumb_aws_limiter_acquire(&l, now + 120000, &again), 0);
	ck_assert(!l.enabled);
}
END_TEST

/*
 * The limiter as the client uses it: K callers, each with a call always ready, a reply
 * latency_ms after sending, a throttled call tried again 100 ms after its reply, against a
 * service bucket of svc_rate calls/s (burst = rate). Returns the successes in `seconds` fake
 * seconds. Throttles of calls paced before the limiter cut its rate say nothing new: with
 * K calls on the wire they come back in a train, and a limiter cutting once per 100 ms of that
 * train sank to its floor (1.36 of 3 PutMetricAlarm/s in the 100-stack bench apply).
 */
static int limiter_sim(int k, int64_t latency_ms, double svc_rate, int seconds, int *throttles)
{
	enum { MAXK = 64 };
	struct plumb_aws_limiter l;
	plumb_aws_limiter_init(&l);
	int64_t at[MAXK], sent[MAXK], paced[MAXK];
	bool wire[MAXK], granted[MAXK];
	for (int i = 0; i < k; i++) {
		at[i] = i; /* ready to acquire */
		wire[i] = false;
	}
	double tokens = svc_rate;
	int64_t last = 0;
	int ok = 0;
	*throttles = 0;
	for (;;) {
		int j = 0;
		for (int i = 1; i < k; i++)
			if (at[i] < at[j])
				j = i;
		int64_t now = at[j];
		if (now >= (int64_t)seconds * 1000)
			break;
		if (!wire[j]) {
			bool again;
			int64_t w = plumb_aws_limiter_acquire(&l, now, &again);
			if (again) { /* no token: ask again later */
				at[j] = now + w;
				continue;
			}
			paced[j] = now;
			sent[j] = now + (w > 0 ? w : 0);
			/* the service decides when the request arrives, half the latency later */
			int64_t arrive = sent[j] + latency_ms / 2;
			if (arrive > last) {
				tokens += svc_rate * (double)(arrive - last) / 1000.0;
				if (tokens > svc_rate)
					tokens = svc_rate;
				last = arrive;
			}
			granted[j] = tokens >= 1;
			if (granted[j])
				tokens -= 1;
			wire[j] = true;
			at[j] = sent[j] + latency_ms;
		} else {
			wire[j] = false;
			if (granted[j]) {
				ok++;
				plumb_aws_limiter_on_success(&l, now);
				at[j] = now;
			} else {
				(*throttles)++;
				plumb_aws_limiter_on_throttle(&l, now, paced[j]);
				at[j] = now + 100;
			}
		}
	}
	return ok;
}

START_TEST(limiter_keeps_the_rate_with_calls_on_the_wire)
{
	static const struct {
		int k;
		int64_t latency;
		double rate;
		int seconds;
	} cases[] = { { 32, 30, 3, 300 },  { 32, 30, 10, 300 }, { 32, 200, 3, 300 },
		      { 8, 30, 20, 300 },  { 1, 30, 3, 300 },
		      /* a burst of reads: the first seconds count */
		      { 64, 30, 20, 10 } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int thr;
		int ok = limiter_sim(cases[i].k, cases[i].latency, cases[i].rate, cases[i].seconds,
				     &thr);
		double got = ok / (double)cases[i].seconds;
		fprintf(stderr, "limiter: %d callers, %d ms, service %.0f/s, %d s: %.2f/s (%.0f%%), "
				"%d throttles\n",
			cases[i].k, (int)cases[i].latency, cases[i].rate, cases[i].seconds, got,
			100.0 * got / cases[i].rate, thr);
		ck_assert_msg(got >= 0.9 * cases[i].rate, "%.2f/s of %.0f/s", got, cases[i].rate);
		ck_assert_msg(thr * 2 <= ok, "%d throttles for %d successes", thr, ok);
	}
}
END_TEST

START_TEST(limiter_cuts_and_reserves)
{
	struct plumb_aws_limiter l;
	plumb_aws_limiter_init(&l);
	plumb_aws_limiter_on_throttle(&l, 1000, 1000);
	ck_assert(l.enabled);
	double r0 = l.rate;
	plumb_aws_limiter_on_throttle(&l, 1050, 990); /* paced before the cut: same signal */
	ck_assert(l.rate == r0);
	plumb_aws_limiter_on_throttle(&l, 1200, 1100); /* paced after it: a new one */
	ck_assert(l.rate < r0);
	/* reservations queue: each acquire waits longer than the one before, up to a second */
	int64_t prev = -1;
	bool again = false;
	int reserved = 0;
	for (;;) {
		int64_t w = plumb_aws_limiter_acquire(&l, 1200, &again);
		if (again) {
			ck_assert_int_gt(w, 0);
			break;
		}
		ck_assert_int_gt(w, prev);
		ck_assert_int_le(w, 1000);
		prev = w;
		reserved++;
	}
	ck_assert_int_ge(reserved, 3); /* 3.5/s: about 4 sends reserved ahead */
	ck_assert_int_le(reserved, 5);
	double t = l.tokens;
	bool again2;
	plumb_aws_limiter_acquire(&l, 1200, &again2);
	ck_assert(again2 && l.tokens == t); /* no token taken */
	for (int i = 0; i < 100; i++)
		plumb_aws_limiter_on_throttle(&l, 2000 + i * 200, 2000 + i * 200);
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
	tcase_add_test(tc, limiter_keeps_the_rate_with_calls_on_the_wire);
	tcase_add_test(tc, ini_parses_aws_flavour);
	tcase_add_test(tc, ini_survives_hostile_input);
	tcase_add_test(tc, profile_region_and_endpoints);
	suite_add_tcase(s, tc);
	return s;
}

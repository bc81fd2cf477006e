/*
 * pkg/aws SigV4 against the AWS test suite (both copies in shared/testdata/sigv4), the worked
 * examples of reference §3, the signing-key check value, and (when Debian's botocore is present)
 * a differential run of tests/aws/sigv4_diff.py over generated requests.
 *
 * Case handling (README of the vectors): aws-c-auth `normalize: false` cases are signed with
 * no_normalize, `omit_session_token` with omit_session_token, `sign_body` with sign_body; the
 * presigned query-*.txt files are not used (we never presign). botocore-suite cases take the
 * time from X-Amz-Date in the .req and the token from X-Amz-Security-Token in the .req (or in
 * the .creq); a token in the .req but not in the .creq means "added after signing".
 */
#include "aws/aws.h"
#include "test.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* paths here are built from short fixed names; truncation would only fail a test */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static const char *shared_dir(void)
{
	static char p[1024];
	snprintf(p, sizeof(p), "%s/../shared/testdata/sigv4", test_repo());
	return p;
}

static bool read_file(const char *path, struct plumb_buf *b)
{
	plumb_buf_init(b, 0);
	return plumb_fs_read(path, 1 << 20, b, NULL) == 0;
}

struct parsed {
	char method[16];
	struct plumb_buf path;
	struct plumb_buf query;
	struct plumb_http_header h[32];
	char *names[32], *values[32];
	size_t nh;
	const char *body;
	size_t body_len;
	struct plumb_buf raw;
};

static void parsed_release(struct parsed *p)
{
	for (size_t i = 0; i < p->nh; i++) {
		free(p->names[i]);
		free(p->values[i]);
	}
	plumb_buf_release(&p->path);
	plumb_buf_release(&p->query);
	plumb_buf_release(&p->raw);
}

/* Parses the raw request text of a vector. */
static void parse_request(struct parsed *p, const char *file)
{
	memset(p, 0, sizeof(*p));
	ck_assert_msg(read_file(file, &p->raw), "cannot read %s", file);
	char *s = p->raw.buf;
	char *eol = strchr(s, '\n');
	ck_assert_ptr_nonnull(eol);
	char *sp = strchr(s, ' ');
	char *proto = eol;
	while (proto > sp && strncmp(proto, " HTTP/", 6) != 0)
		proto--;
	snprintf(p->method, sizeof(p->method), "%.*s", (int)(sp - s), s);
	char *target = sp + 1;
	char *q = memchr(target, '?', (size_t)(proto - target));
	plumb_buf_init(&p->path, 0);
	plumb_buf_init(&p->query, 0);
	plumb_buf_add(&p->path, target, (size_t)((q ? q : proto) - target));
	if (q)
		plumb_buf_add(&p->query, q + 1, (size_t)(proto - q - 1));
	s = eol + 1;
	while (*s && *s != '\n') {
		eol = strchr(s, '\n');
		size_t len = eol ? (size_t)(eol - s) : strlen(s);
		if ((*s == ' ' || *s == '\t') && p->nh) {
			/* continuation line */
			char *v = p->values[p->nh - 1];
			size_t vl = strlen(v);
			v = realloc(v, vl + len + 2);
			v[vl] = '\n';
			memcpy(v + vl + 1, s, len);
			v[vl + len + 1] = 0;
			p->values[p->nh - 1] = v;
		} else {
			char *colon = memchr(s, ':', len);
			ck_assert_ptr_nonnull(colon);
			p->names[p->nh] = strndup(s, (size_t)(colon - s));
			p->values[p->nh] = strndup(colon + 1, len - (size_t)(colon - s) - 1);
			p->nh++;
		}
		s = eol ? eol + 1 : s + len;
	}
	if (*s == '\n')
		s++;
	p->body = s;
	p->body_len = strlen(s);
	for (size_t i = 0; i < p->nh; i++) {
		p->h[i].name = p->names[i];
		p->h[i].value = p->values[i];
	}
}

static void expect_file(const char *dir, const char *name, const char *got)
{
	char path[1024];
	struct plumb_buf want;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(read_file(path, &want), "cannot read %s", path);
	ck_assert_msg(strcmp(want.buf, got) == 0, "%s:\nwant:\n%s\ngot:\n%s", path, want.buf, got);
	plumb_buf_release(&want);
}

static const struct plumb_aws_creds example_creds = {
	.access_key_id = "AKIDEXAMPLE",
	.secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

static int run_c_auth_case(const char *name)
{
	char dir[1024], path[1100];
	struct plumb_buf ctx;
	snprintf(dir, sizeof(dir), "%s/aws-c-auth/v4/%s", shared_dir(), name);
	snprintf(path, sizeof(path), "%s/context.json", dir);
	ck_assert(read_file(path, &ctx));
	json_t *j = json_loads(ctx.buf, 0, NULL);
	ck_assert_ptr_nonnull(j);
	struct plumb_aws_creds c = { 0 };
	json_t *cr = json_object_get(j, "credentials");
	plumb_strlcpy(c.access_key_id, json_string_value(json_object_get(cr, "access_key_id")),
		      sizeof(c.access_key_id));
	plumb_strlcpy(c.secret, json_string_value(json_object_get(cr, "secret_access_key")),
		      sizeof(c.secret));
	if (json_object_get(cr, "token"))
		plumb_strlcpy(c.token, json_string_value(json_object_get(cr, "token")),
			      sizeof(c.token));
	int64_t ts;
	ck_assert_int_eq(plumb_time_parse_iso8601(json_string_value(json_object_get(j, "timestamp")),
						  &ts), 0);
	struct parsed p;
	snprintf(path, sizeof(path), "%s/request.txt", dir);
	parse_request(&p, path);
	struct plumb_aws_sigv4_req req = {
		.method = p.method, .path = p.path.buf, .query = p.query.buf, .headers = p.h,
		.nheaders = p.nh, .body = p.body, .body_len = p.body_len,
		.no_normalize = !json_is_true(json_object_get(j, "normalize")),
		.omit_session_token = json_is_true(json_object_get(j, "omit_session_token")),
		.sign_body = json_is_true(json_object_get(j, "sign_body")),
	};
	struct plumb_aws_sigv4_out out;
	ck_assert_int_eq(plumb_aws_sigv4_sign(NULL, &c, json_string_value(json_object_get(j, "region")),
					      json_string_value(json_object_get(j, "service")), ts,
					      &req, &out, NULL), 0);
	expect_file(dir, "header-canonical-request.txt", out.canonical.buf);
	expect_file(dir, "header-string-to-sign.txt", out.string_to_sign.buf);
	expect_file(dir, "header-signature.txt", out.signature);
	plumb_aws_sigv4_out_release(&out);
	parsed_release(&p);
	json_decref(j);
	plumb_buf_release(&ctx);
	return 1;
}

START_TEST(aws_c_auth_vectors)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/aws-c-auth/v4", shared_dir());
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "no vectors at %s", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n += run_c_auth_case(e->d_name);
	closedir(d);
	ck_assert_int_eq(n, 38);
}
END_TEST

static const char *header_of(const struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->nh; i++)
		if (strcasecmp(p->names[i], name) == 0)
			return p->values[i];
	return NULL;
}

static int run_botocore_case(const char *dir, const char *name)
{
	char path[1200];
	struct parsed p;
	struct plumb_buf creq;
	snprintf(path, sizeof(path), "%s/%s.req", dir, name);
	parse_request(&p, path);
	snprintf(path, sizeof(path), "%s/%s.creq", dir, name);
	ck_assert(read_file(path, &creq));
	struct plumb_aws_creds c = example_creds;
	const char *tok = header_of(&p, "x-amz-security-token");
	const char *in_creq = strstr(creq.buf, "\nx-amz-security-token:");
	bool omit = false;
	if (tok) {
		plumb_strlcpy(c.token, tok, sizeof(c.token));
		omit = in_creq == NULL;
	} else if (in_creq) {
		const char *v = in_creq + 22;
		snprintf(c.token, sizeof(c.token), "%.*s", (int)strcspn(v, "\n"), v);
	}
	const char *d = header_of(&p, "x-amz-date");
	ck_assert_ptr_nonnull(d);
	char iso[32];
	snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", d, d + 4, d + 6, d + 9, d + 11,
		 d + 13);
	int64_t ts;
	ck_assert_int_eq(plumb_time_parse_iso8601(iso, &ts), 0);
	struct plumb_aws_sigv4_req req = { .method = p.method, .path = p.path.buf,
					   .query = p.query.buf, .headers = p.h, .nheaders = p.nh,
					   .body = p.body, .body_len = p.body_len,
					   .omit_session_token = omit };
	struct plumb_aws_sigv4_out out;
	ck_assert_int_eq(plumb_aws_sigv4_sign(NULL, &c, "us-east-1", "service", ts, &req, &out, NULL),
			 0);
	snprintf(path, sizeof(path), "%s.creq", name);
	expect_file(dir, path, out.canonical.buf);
	snprintf(path, sizeof(path), "%s.sts", name);
	expect_file(dir, path, out.string_to_sign.buf);
	snprintf(path, sizeof(path), "%s.authz", name);
	expect_file(dir, path, out.authorization.buf);
	plumb_aws_sigv4_out_release(&out);
	plumb_buf_release(&creq);
	parsed_release(&p);
	return 1;
}

/* Walks dir: a folder holding <name>.req is a case; other folders are groups. */
static int walk_botocore(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "no vectors at %s", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char sub[1024], req[1200];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(req, sizeof(req), "%s/%s.req", sub, e->d_name);
		if (access(req, R_OK) == 0)
			n += run_botocore_case(sub, e->d_name);
		else
			n += walk_botocore(sub);
	}
	closedir(d);
	return n;
}

START_TEST(botocore_suite_vectors)
{
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/botocore-aws4_testsuite", shared_dir());
	int n = walk_botocore(dir);
	ck_assert_int_ge(n, 30);
}
END_TEST

START_TEST(reference_worked_examples_and_key_cache)
{
	struct plumb_aws_creds c = example_creds;
	plumb_strlcpy(c.token, "EXAMPLESESSIONTOKEN", sizeof(c.token));
	int64_t ts;
	ck_assert_int_eq(plumb_time_parse_iso8601("2024-01-02T03:04:05Z", &ts), 0);
	struct plumb_aws_sigv4_cache cache;
	memset(&cache, 0, sizeof(cache));
	const char *body = "{\"EndpointName\":\"my-endpoint\"}";
	struct plumb_http_header h[] = {
		{ "Host", "api.sagemaker.us-east-1.amazonaws.com" },
		{ "Content-Type", "application/x-amz-json-1.1" },
		{ "X-Amz-Target", "SageMaker.DescribeEndpoint" },
		{ "User-Agent", "plumb/test" },
	};
	struct plumb_aws_sigv4_req req = { .method = "POST", .path = "/", .headers = h,
					   .nheaders = 4, .body = body, .body_len = strlen(body) };
	struct plumb_aws_sigv4_out out;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(plumb_aws_sigv4_sign(&cache, &c, "us-east-1", "sagemaker", ts, &req,
						      &out, NULL), 0);
		ck_assert_str_eq(out.signature,
				 "c573e25c626df7a437d632a7f6510a74c9c8a490e1db5098e59749f063bf48bf");
		plumb_aws_sigv4_out_release(&out);
	}
	ck_assert_uint_eq(cache.misses, 1);
	ck_assert_uint_eq(cache.hits, 2);
	const char *qb = "Action=GetCallerIdentity&Version=2011-06-15";
	struct plumb_http_header hq[] = {
		{ "Host", "sts.us-east-1.amazonaws.com" },
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	struct plumb_aws_sigv4_req rq = { .method = "POST", .path = "/", .headers = hq,
					  .nheaders = 2, .body = qb, .body_len = strlen(qb) };
	ck_assert_int_eq(plumb_aws_sigv4_sign(&cache, &c, "us-east-1", "sts", ts, &rq, &out, NULL), 0);
	ck_assert_str_eq(out.signature,
			 "33e3677c14937a351931ac2e22715d99f9643cc16fd0064104496cd72ada83ca");
	ck_assert_str_eq(out.content_sha256,
			 "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843");
	plumb_aws_sigv4_out_release(&out);
}
END_TEST

/* Runs tests/aws/sigv4_diff.py (botocore vs build/tests/aws_tool) when both are present. */
START_TEST(botocore_differential)
{
	char cmd[2048], tool[1024];
	const char *t = getenv("PLUMB_AWS_TOOL");
	snprintf(tool, sizeof(tool), "%s", t ? t : "../build/tests/aws_tool");
	if (access("/usr/bin/python3", X_OK) != 0 || access(tool, X_OK) != 0) {
		fprintf(stderr, "sigv4: differential skipped (no %s or /usr/bin/python3)\n", tool);
		return;
	}
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/aws/sigv4_diff.py --tool %s --n 3000",
		 test_repo(), tool);
	int st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "differential failed: %s", cmd);
}
END_TEST

Suite *sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("sigv4");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, aws_c_auth_vectors);
	tcase_add_test(tc, botocore_suite_vectors);
	tcase_add_test(tc, reference_worked_examples_and_key_cache);
	tcase_add_test(tc, botocore_differential);
	suite_add_tcase(s, tc);
	return s;
}

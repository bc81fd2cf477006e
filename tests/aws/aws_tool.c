/*
 * aws_tool — a test-only driver for pkg/aws, built into build/tests/ and never installed.
 *
 *   aws_tool sign            JSON lines on stdin (method, path, query, headers [[n,v]...], body,
 *                            akid, secret, token, region, service, time) -> one JSON line each
 *                            with authorization and canonical (for tests/aws/sigv4_diff.py)
 *   aws_tool call OP JSON [--count N] [--service S] [--conns N] [--profile P]
 *                 [--paginate MEMBER] [--max-pages N] [--interval MS]
 *                            runs OP N times concurrently through the real client on one loop
 *                            (with --interval: loads credentials first, then starts one call
 *                            every MS ms) and prints a JSON summary (ok, errors by code,
 *                            connections, time, throttles and retries seen, retry quota,
 *                            credential fetches, slowest call, the last reply) — used by
 *                            tests/integration
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

struct tally {
	int done, ok;          /* callbacks run, successes */
	json_t *errors;        /* code -> count */
	json_t *last;          /* last reply */
	json_t *last_error;    /* last error detail */
	int64_t max_ms;        /* slowest call, start to callback */
};

struct one {
	struct tally *t;       /* shared tally */
	int64_t start;         /* mono ms at start */
};

static void on_call(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct one *o = data;
	struct tally *t = o->t;
	int64_t ms = plumb_clock_mono_ms(&plumb_clock_system) - o->start;
	free(o);
	if (ms > t->max_ms)
		t->max_ms = ms;
	t->done++;
	if (rc == 0) {
		t->ok++;
		json_decref(t->last);
		t->last = json_incref(reply);
		return;
	}
	const char *code = err && err->aws_code[0] ? err->aws_code : plumb_code_name(rc);
	json_object_set_new(t->errors, code,
			    json_integer(json_integer_value(json_object_get(t->errors, code)) + 1));
	json_decref(t->last_error);
	t->last_error = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "service", err ? err->service : "",
				  "operation", err ? err->operation : "", "code", code, "status",
				  err ? err->http_status : 0, "class",
				  plumb_err_class_name(err ? err->cls : 0), "message", err ? err->msg : "");
}

struct starter {
	struct plumb_aws *aws;  /* the client */
	int op;                 /* operation */
	json_t *input;          /* its input */
	const char *paginate;   /* list member, or NULL */
	int max_pages;          /* paginate: page cap (0 = the default) */
	struct tally *t;        /* results */
	int count, started;     /* calls wanted, started */
	bool failed;            /* a start failed */
};

static void start_one(struct starter *st)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	struct one *o = malloc(sizeof(*o));
	*o = (struct one){ st->t, plumb_clock_mono_ms(&plumb_clock_system) };
	int rc = st->paginate ? plumb_aws_paginate_start(st->aws, st->op, st->input, st->paginate,
							 st->max_pages,
							 on_call, o, &err)
			      : plumb_aws_call_start(st->aws, st->op, st->input, on_call, o, &err);
	if (rc) {
		free(o);
		fprintf(stderr, "aws_tool: start: %s\n", err.msg);
		st->failed = true;
		return;
	}
	st->started++;
}

static void on_tick(uv_timer_t *tick)
{
	struct starter *st = tick->data;
	start_one(st);
	if (st->started >= st->count || st->failed)
		uv_timer_stop(tick);
}

int plumb__aws_tool_call(int argc, char **argv)
{
	const char *service = NULL, *profile = NULL, *paginate = NULL;
	int count = 1, max_pages = 0;
	long conns = 0, interval = -1;
	if (argc < 3) {
		fprintf(stderr, "usage: aws_tool call OP JSON [--count N] [--service S] [--conns N] "
				"[--profile P] [--paginate MEMBER] [--max-pages N]\n");
		return 64;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--count") == 0)
			count = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--service") == 0)
			service = argv[i + 1];
		else if (strcmp(argv[i], "--conns") == 0)
			conns = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--profile") == 0)
			profile = argv[i + 1];
		else if (strcmp(argv[i], "--paginate") == 0)
			paginate = argv[i + 1];
		else if (strcmp(argv[i], "--max-pages") == 0)
			max_pages = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--interval") == 0)
			interval = strtol(argv[i + 1], NULL, 10);
	}
	int op = plumb_aws_op_find(service, argv[1]);
	if (op < 0) {
		fprintf(stderr, "aws_tool: unknown operation %s\n", argv[1]);
		return 64;
	}
	json_error_t je;
	json_t *input = json_loads(argv[2], 0, &je);
	if (!input) {
		fprintf(stderr, "aws_tool: bad input json: %s\n", je.text);
		return 64;
	}
	uv_loop_t loop;
	struct plumb_http http;
	struct plumb_aws aws;
	struct plumb_err err;
	struct tally t = { 0 };
	t.errors = json_object();
	plumb_err_clear(&err);
	uv_loop_init(&loop);
	struct plumb_http_opts ho = { .max_host_conns = conns };
	struct plumb_aws_opts ao = { .profile = profile };
	if (plumb_http_init(&http, &loop, &ho, &err) || plumb_aws_init(&aws, &loop, &http, &ao, &err)) {
		fprintf(stderr, "aws_tool: %s\n", err.msg);
		return 1;
	}
	if (interval >= 0) {
		/* credentials first, so the calls measure refreshes, not the first fetch */
		struct tally warm = { .errors = json_object() };
		struct one *o = malloc(sizeof(*o));
		*o = (struct one){ &warm, 0 };
		if (plumb_aws_creds_start(&aws, on_call, o, &err) != 0) {
			fprintf(stderr, "aws_tool: credentials: %s\n", err.msg);
			return 1;
		}
		while (!warm.done)
			uv_run(&loop, UV_RUN_ONCE);
		json_decref(warm.errors);
		json_decref(warm.last_error);
	}
	int64_t t0 = plumb_clock_mono_ms(&plumb_clock_system);
	struct starter st = { &aws, op, input, paginate, max_pages, &t, count, 0, 0 };
	uv_timer_t tick;
	uv_timer_init(&loop, &tick);
	tick.data = &st;
	if (interval > 0) {
		uv_timer_start(&tick, on_tick, 0, (uint64_t)interval);
	} else {
		while (st.started < count && !st.failed)
			start_one(&st);
	}
	while (t.done < st.started || (st.started < count && !st.failed))
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tick, NULL);
	if (st.failed)
		return 1;
	int64_t ms = plumb_clock_mono_ms(&plumb_clock_system) - t0;
	json_t *out = json_pack(
		"{s:i, s:i, s:O, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:O?, s:O?}",
		"count", count, "ok", t.ok, "errors", t.errors, "elapsed_ms", (json_int_t)ms,
		"http_connects", (json_int_t)http.stats.connects, "http_requests",
		(json_int_t)http.stats.started, "http_max_in_flight", (json_int_t)http.stats.max_in_flight,
		"attempts", (json_int_t)aws.stats.attempts, "retries", (json_int_t)aws.stats.retries,
		"throttled", (json_int_t)aws.stats.throttled, "transient", (json_int_t)aws.stats.transient,
		"provider", plumb_aws_provider_name(aws.creds.provider), "region", aws.region,
		"endpoint", aws.endpoint[plumb_aws_op_service(op)], "last_reply", t.last, "last_error",
		t.last_error);
	json_object_set_new(out, "failed", json_integer((json_int_t)aws.stats.failed));
	json_object_set_new(out, "cred_fetches", json_integer((json_int_t)aws.stats.cred_fetches));
	json_object_set_new(out, "quota_denied", json_integer((json_int_t)aws.stats.quota_denied));
	json_object_set_new(out, "quota_low", json_integer(aws.stats.quota_low));
	json_object_set_new(out, "quota_end", json_integer(aws.quota.tokens));
	json_object_set_new(out, "creates_verified",
			    json_integer((json_int_t)aws.stats.creates_verified));
	json_object_set_new(out, "max_call_ms", json_integer((json_int_t)t.max_ms));
	json_object_set_new(out, "creds_expires_ms", json_integer((json_int_t)aws.creds.expires_ms));
	char *s = json_dumps(out, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(out);
	plumb_aws_close(&aws);
	plumb_http_close(&http);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	json_decref(t.errors);
	json_decref(t.last);
	json_decref(t.last_error);
	json_decref(input);
	return t.ok == count ? 0 : 1;
}

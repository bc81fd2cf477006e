/*
 * pkg/aws/client.c — one AWS call from start to callback: serialise once, wait for credentials,
 * wait for the rate limiter, sign, send through pkg/http, parse, classify, retry or finish.
 *
 * Each call is a struct plumb_aws_call with an embedded uv_timer (backoff and limiter waits;
 * also the 0 ms hop that keeps callbacks out of plumb_aws_call_start). It sits in a->live until
 * its callback has run, and in a->waiting while credentials are being fetched.
 *
 * Retry rules (reference §5, plus plumb's choices; docs/aws.md has the numbers):
 * - throttled replies (codes of §5.1, HTTP 429) feed the operation's limiter and are retried while
 *   the call is younger than throttle_deadline_ms, without counting against the attempt budget or
 *   the retry quota: the limiter paces them, so a throttling storm delays work but does not fail it;
 * - transient failures (5xx, transient codes, no HTTP answer) are retried with full-jitter backoff
 *   while the standard-mode retry quota lasts (500 tokens; a retry takes 5, 10 after a timeout; a
 *   first-try success gives 1 back, a success after retries gives back what its last retry took)
 *   and within an attempt budget that depends on what the call does:
 *   - reads (no PLUMB_AWS_OP_MUTATES) get PLUMB_AWS_READ_ATTEMPTS (8). A read has no side effect:
 *     retrying it costs only time and load, and the quota bounds the load. With the SDK's 3, a 20%
 *     5xx rate fails 0.8% of reads (0.2^3), so a pass of a few hundred Describes nearly always
 *     loses one; with 8 it fails 2.6 in a million. When a service is down, the quota drains after
 *     100 retries and from then on calls fail at their first error, so the larger budget does not
 *     multiply the load on a dead service; a lone read against one waits out its backoff (35 s
 *     expected, at most 71 s) before it fails;
 *   - mutating calls keep the standard 3: each retry of a call that may have landed has to be
 *     reconciled (below), and a caller that gets the error re-observes before it acts again;
 *   - a configured max_attempts (opts or AWS_MAX_ATTEMPTS) is the budget of every call, as in
 *     the SDKs;
 * - mutating calls retried after an ambiguous failure (5xx or no answer: the attempt may have
 *   landed) settle the answer of the attempt that follows: a delete that then finds nothing is
 *   done; a SageMaker create (model, endpoint config, endpoint) that then finds "already existing"
 *   asks the matching Describe* whether what exists is what it asked for — any model or config of
 *   that name (plumb's names carry the spec hash), an endpoint on the same EndpointConfigName —
 *   and if so reports success with the ARN from the Describe; otherwise, or if the Describe fails,
 *   the CONFLICT stands. "Already existing" on a create's first attempt is always a CONFLICT.
 *   UpdateEndpoint that then finds "in-progress" reports CONFLICT (the update is running);
 * - ExpiredToken on a call signed with the session's credentials (our clock is behind AWS's, or
 *   the provider handed out stale credentials) makes the next signing wait for fresh credentials,
 *   and the call is sent once more.
 * Secrets: nothing here logs headers, bodies or credentials.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct plumb_aws_call {
	struct plumb_aws *a;        /* owner */
	int op;                     /* enum plumb_aws_op, or -1 for a credentials-only call */
	char *body;                 /* serialised request, owned */
	size_t body_len;
	plumb_aws_cb cb;            /* user callback */
	void *data;                 /* its argument */
	uv_timer_t timer;           /* waits; freed with the call in its close callback */
	int attempts;               /* attempts sent */
	int throttled;              /* of which answered with throttling */
	int last_cost;              /* quota taken by the last retry, 0 = none */
	int64_t start_mono;         /* when the call started */
	int64_t paced_mono;         /* when its last attempt took its limiter token */
	bool token_reserved;        /* the limiter already gave this attempt its slot */
	bool maybe_applied;         /* a mutating attempt failed without a clear answer */
	bool in_http;               /* an attempt is on the wire */
	bool verifying;             /* a Describe settles an "already exists" (its callback finishes) */
	bool expired_retry;         /* already resent once after ExpiredToken */
	char signed_key[136];       /* access key id the last attempt was signed with */
	struct plumb_err *verr;     /* the "already exists" error while verifying, owned */
	int mode;                   /* CALL_SESSION, CALL_FIXED, CALL_UNSIGNED */
	struct plumb_aws_creds *fixed; /* credentials for CALL_FIXED, owned */
	char invocation[37];        /* amz-sdk-invocation-id */
	struct plumb_aws_call *prev, *next; /* a->live */
	struct plumb_aws_call *wnext;       /* a->waiting */
};

enum { CALL_SESSION, CALL_FIXED, CALL_UNSIGNED };

static void step(struct plumb_aws_call *c);

static uint64_t rnd(struct plumb_aws *a)
{
	/* xorshift64*: jitter only, not security */
	uint64_t x = a->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	a->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double rnd01(struct plumb_aws *a)
{
	return (double)(rnd(a) >> 11) / 9007199254740992.0;
}

int plumb_aws_init(struct plumb_aws *a, uv_loop_t *loop, struct plumb_http *http,
		   const struct plumb_aws_opts *opts, struct plumb_err *err)
{
	struct plumb_aws_opts o = { 0 };
	if (opts)
		o = *opts;
	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->http = http;
	a->clock = o.clock ? o.clock : &plumb_clock_system;
	a->throttle_deadline_ms = o.throttle_deadline_ms > 0 ? o.throttle_deadline_ms : 300000;
	a->max_attempts = o.max_attempts;
	if (a->max_attempts <= 0) {
		const char *m = getenv("AWS_MAX_ATTEMPTS");
		char *end = NULL;
		long v = m ? strtol(m, &end, 10) : 0;
		a->max_attempts = (m && *m && end && !*end && v > 0 && v <= 100) ? (int)v : 0;
	}
	/* configured: the budget of every call; else the SDK's 3 for writes, more for reads */
	a->read_attempts = a->max_attempts > 0 ? a->max_attempts : PLUMB_AWS_READ_ATTEMPTS;
	if (a->max_attempts <= 0)
		a->max_attempts = 3;
	a->stats.quota_low = PLUMB_AWS_QUOTA_MAX;
	a->rng = o.seed ? o.seed : (uint64_t)plumb_clock_mono_ms(a->clock) * 2654435761u + 88172645463325252ULL;
	if (!a->rng)
		a->rng = 1;
	plumb_aws_quota_init(&a->quota);
	for (int i = 0; i < PLUMB_AWS_NOPS; i++)
		plumb_aws_limiter_init(&a->limiter[i]);
	int rc = plumb_aws_profile_load(&a->profile, o.profile, err);
	if (rc)
		return rc;
	if (o.region && *o.region)
		plumb_strlcpy(a->region, o.region, sizeof(a->region));
	else
		plumb_aws_region_resolve(&a->profile, a->region, sizeof(a->region));
	/* the credential plan first: a missing profile is the error to show */
	rc = plumb__aws_creds_plan(a, o.creds, err);
	for (int s = 0; s < PLUMB_AWS_NSERVICES && !rc; s++)
		rc = plumb_aws_endpoint_resolve(&a->profile, (enum plumb_aws_service)s, a->region,
						a->endpoint[s], sizeof(a->endpoint[s]),
						&a->custom_endpoint[s], err);
	if (!rc && !a->region[0])
		rc = plumb_err_set(err, PLUMB_ECONFIG,
				   "no region: set AWS_REGION or a region in the profile");
	if (rc) {
		plumb__aws_creds_release(a);
		plumb_aws_profile_release(&a->profile);
		return rc;
	}
	return 0;
}

static void call_closed(uv_handle_t *h)
{
	struct plumb_aws_call *c = h->data;
	if (c->fixed) {
		memset(c->fixed, 0, sizeof(*c->fixed));
		free(c->fixed);
	}
	free(c->verr);
	free(c->body);
	free(c);
}

/* The per-operation counters of c's operation; NULL for calls outside the table (credentials). */
static struct plumb_aws_op_count *op_count(struct plumb_aws_call *c)
{
	return (int)c->op >= 0 && (int)c->op < PLUMB_AWS_NOPS ? &c->a->ops[c->op] : NULL;
}

static void finish(struct plumb_aws_call *c, int rc, json_t *reply, const struct plumb_err *e)
{
	struct plumb_aws *a = c->a;
	if (c->prev)
		c->prev->next = c->next;
	else
		a->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (rc)
		a->stats.failed++;
	struct plumb_aws_op_count *oc = op_count(c);
	if (oc && rc)
		oc->error++;
	else if (oc)
		oc->ok++;
	uv_timer_stop(&c->timer);
	c->cb(rc, rc ? NULL : reply, rc ? e : NULL, c->data);
	json_decref(reply);
	uv_close((uv_handle_t *)&c->timer, call_closed);
}

static void on_timer(uv_timer_t *t)
{
	step(t->data);
}

static void schedule(struct plumb_aws_call *c, int64_t ms)
{
	uv_timer_start(&c->timer, on_timer, (uint64_t)(ms < 0 ? 0 : ms), 0);
}

static struct plumb_aws_call *call_new(struct plumb_aws *a, int op, const json_t *input,
				       plumb_aws_cb cb, void *data, struct plumb_err *err)
{
	if (a->closing) {
		plumb_err_set(err, PLUMB_ECANCELED, "aws client is closing");
		return NULL;
	}
	if (!cb) {
		plumb_err_set(err, PLUMB_EINVAL, "aws call needs a callback");
		return NULL;
	}
	struct plumb_aws_call *c = calloc(1, sizeof(*c));
	if (!c) {
		plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
		return NULL;
	}
	c->a = a;
	c->op = op;
	c->cb = cb;
	c->data = data;
	if (op >= 0) {
		enum plumb_aws_service s = plumb_aws_op_service(op);
		if (input && !json_is_object(input)) {
			free(c);
			plumb_err_set(err, PLUMB_EINVAL, "%s input must be a json object",
				      plumb_aws_op_name(op));
			return NULL;
		}
		if (plumb__aws_protocol(s) == PLUMB_AWS_JSON11) {
			c->body = input ? json_dumps(input, JSON_COMPACT) : strdup("{}");
			c->body_len = c->body ? strlen(c->body) : 0;
			if (!c->body) {
				free(c);
				plumb_err_set(err, PLUMB_ENOMEM, "cannot serialise %s input",
					      plumb_aws_op_name(op));
				return NULL;
			}
		} else {
			struct plumb_buf b;
			plumb_buf_init(&b, 1 << 20);
			if (plumb__aws_query_encode_op(&b, op, input, err) != 0) {
				plumb_buf_release(&b);
				free(c);
				return NULL;
			}
			c->body = plumb_buf_detach(&b, &c->body_len);
		}
		a->stats.calls++;
	}
	uint64_t r1 = rnd(a), r2 = rnd(a);
	snprintf(c->invocation, sizeof(c->invocation), "%08x-%04x-4%03x-%04x-%012" PRIx64,
		 (unsigned)(r1 >> 32), (unsigned)(r1 >> 16) & 0xffff, (unsigned)r1 & 0xfff,
		 (unsigned)((r2 >> 48) & 0x3fff) | 0x8000, (uint64_t)(r2 & 0xffffffffffffu));
	c->start_mono = plumb_clock_mono_ms(a->clock);
	uv_timer_init(a->loop, &c->timer);
	c->timer.data = c;
	c->next = a->live;
	if (c->next)
		c->next->prev = c;
	a->live = c;
	schedule(c, 0); /* never call back from inside _start */
	return c;
}

struct call_wait {
	bool done;            /* callback ran */
	int rc;               /* its result */
	json_t *reply;        /* owned reply */
	struct plumb_err err; /* failure detail */
};

static void on_call_wait(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct call_wait *w = data;
	w->done = true;
	w->rc = rc;
	if (rc == 0)
		w->reply = json_incref(reply);
	else if (err)
		w->err = *err;
}

int plumb_aws_call_wait(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			json_t **reply, struct plumb_err *err)
{
	struct call_wait w = { 0 };
	*reply = NULL;
	int rc = plumb_aws_call_start(a, op, input, on_call_wait, &w, err);
	if (rc)
		return rc;
	while (!w.done)
		uv_run(a->loop, UV_RUN_ONCE);
	if (w.rc && err)
		*err = w.err;
	*reply = w.reply;
	return w.rc;
}

int plumb_aws_call_start(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			 plumb_aws_cb cb, void *data, struct plumb_err *err)
{
	if ((unsigned)op >= PLUMB_AWS_NOPS)
		return plumb_err_set(err, PLUMB_EINVAL, "no such aws operation");
	struct plumb_aws_call *c = call_new(a, op, input, cb, data, err);
	if (!c)
		return err && err->code ? err->code : PLUMB_ENOMEM;
	if (plumb_aws_op_flags(op) & PLUMB_AWS_OP_UNSIGNED)
		c->mode = CALL_UNSIGNED;
	return 0;
}

int plumb__aws_call_with(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			 const struct plumb_aws_creds *creds, plumb_aws_cb cb, void *data,
			 struct plumb_err *err)
{
	struct plumb_aws_call *c = call_new(a, op, input, cb, data, err);
	if (!c)
		return err && err->code ? err->code : PLUMB_ENOMEM;
	if (!creds) {
		c->mode = CALL_UNSIGNED;
	} else {
		c->mode = CALL_FIXED;
		c->fixed = malloc(sizeof(*c->fixed));
		if (!c->fixed) {
			c->mode = CALL_UNSIGNED; /* fails signing below rather than here */
		} else {
			*c->fixed = *creds;
		}
	}
	return 0;
}

int plumb_aws_creds_start(struct plumb_aws *a, plumb_aws_cb cb, void *data, struct plumb_err *err)
{
	struct plumb_aws_call *c = call_new(a, -1, NULL, cb, data, err);
	return c ? 0 : (err && err->code ? err->code : PLUMB_ENOMEM);
}

/* Credentials fetched (or not): wake the calls that waited. Called by creds.c. */
void plumb__aws_creds_done(struct plumb_aws *a)
{
	struct plumb_aws_call *w = a->waiting;
	a->waiting = NULL;
	while (w) {
		struct plumb_aws_call *n = w->wnext;
		w->wnext = NULL;
		if (a->creds_rc && !a->have_creds)
			finish(w, a->creds_rc, NULL, &a->creds_err);
		else
			schedule(w, 0);
		w = n;
	}
}

static void url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t l = strcspn(p, "/?#");
	snprintf(out, n, "%.*s", (int)l, p);
	/* drop a default port so the signed host matches what the service sees */
	size_t ol = strlen(out);
	if (strncasecmp(url, "https://", 8) == 0 && ol > 4 && strcmp(out + ol - 4, ":443") == 0)
		out[ol - 4] = 0;
	else if (strncasecmp(url, "http://", 7) == 0 && ol > 3 && strcmp(out + ol - 3, ":80") == 0)
		out[ol - 3] = 0;
}

static void on_http(int rc, struct plumb_http_resp *resp, const struct plumb_err *herr, void *data);

/* Transient-failure attempt budget of the call (see the retry rules at the top). */
static int budget(const struct plumb_aws_call *c)
{
	return (plumb_aws_op_flags(c->op) & PLUMB_AWS_OP_MUTATES) ? c->a->max_attempts
								  : c->a->read_attempts;
}

static void send_attempt(struct plumb_aws_call *c)
{
	struct plumb_aws *a = c->a;
	enum plumb_aws_service s = plumb_aws_op_service(c->op);
	char url[300], host[256], target[128], sdkreq[64];
	struct plumb_http_header h[10];
	size_t nh = 0;
	struct plumb_err err;
	plumb_err_clear(&err);
	snprintf(url, sizeof(url), "%s/", a->endpoint[s]);
	url_host(a->endpoint[s], host, sizeof(host));
	h[nh++] = (struct plumb_http_header){ "Host", host };
	if (plumb__aws_protocol(s) == PLUMB_AWS_JSON11) {
		snprintf(target, sizeof(target), "%s.%s", plumb__aws_target(s), plumb_aws_op_name(c->op));
		h[nh++] = (struct plumb_http_header){ "Content-Type", "application/x-amz-json-1.1" };
		h[nh++] = (struct plumb_http_header){ "X-Amz-Target", target };
	} else {
		h[nh++] = (struct plumb_http_header){ "Content-Type",
						      "application/x-www-form-urlencoded; charset=utf-8" };
	}
	size_t nsigned = nh;
	snprintf(sdkreq, sizeof(sdkreq), "attempt=%d; max=%d", c->attempts + 1, budget(c));
	h[nh++] = (struct plumb_http_header){ "amz-sdk-invocation-id", c->invocation };
	h[nh++] = (struct plumb_http_header){ "amz-sdk-request", sdkreq };
	struct plumb_aws_sigv4_out out;
	bool signed_ = false;
	if (c->mode != CALL_UNSIGNED) {
		const struct plumb_aws_creds *cr = c->mode == CALL_FIXED ? c->fixed : &a->creds;
		struct plumb_aws_sigv4_req sr = { .method = "POST", .path = "/", .headers = h,
						  .nheaders = nsigned, .body = c->body,
						  .body_len = c->body_len };
		if (plumb_aws_sigv4_sign(&a->sigcache, cr, a->region, plumb_aws_signing_name(s),
					 plumb_clock_now_ms(a->clock), &sr, &out, &err) != 0) {
			finish(c, err.code, NULL, &err);
			return;
		}
		plumb_strlcpy(c->signed_key, cr->access_key_id, sizeof(c->signed_key));
		signed_ = true;
		h[nh++] = (struct plumb_http_header){ "X-Amz-Date", out.amz_date };
		if (cr->token[0])
			h[nh++] = (struct plumb_http_header){ "X-Amz-Security-Token", cr->token };
		h[nh++] = (struct plumb_http_header){ "Authorization", out.authorization.buf };
	}
	struct plumb_http_req req = { .method = "POST", .url = url, .headers = h, .nheaders = nh,
				      .body = c->body, .body_len = c->body_len };
	c->attempts++;
	a->stats.attempts++;
	if (c->attempts > 1) {
		a->stats.retries++;
		if (op_count(c))
			op_count(c)->retries++;
	}
	int rc = plumb_http_start(a->http, &req, on_http, c, &err);
	if (signed_)
		plumb_aws_sigv4_out_release(&out);
	if (rc) {
		plumb_strlcpy(err.service, plumb_aws_service_name(s), sizeof(err.service));
		plumb_strlcpy(err.operation, plumb_aws_op_name(c->op), sizeof(err.operation));
		err.cls = PLUMB_ERRC_TERMINAL;
		finish(c, rc, NULL, &err);
		return;
	}
	c->in_http = true;
}

static void step(struct plumb_aws_call *c)
{
	struct plumb_aws *a = c->a;
	if (a->closing) {
		struct plumb_err e;
		plumb_err_clear(&e);
		plumb_err_set(&e, PLUMB_ECANCELED, "aws client closing");
		finish(c, PLUMB_ECANCELED, NULL, &e);
		return;
	}
	if (c->mode == CALL_SESSION) {
		enum plumb__aws_creds_verdict v = plumb__aws_creds_check(a, plumb_clock_now_ms(a->clock));
		if (v == PLUMB__AWS_CREDS_WAIT) {
			c->wnext = a->waiting;
			a->waiting = c;
			if (!a->fetching)
				plumb__aws_creds_fetch(a);
			return;
		}
		if (v == PLUMB__AWS_CREDS_REFRESH && !a->fetching)
			plumb__aws_creds_fetch(a); /* in the background; these creds still serve */
		if (c->op < 0) {
			finish(c, 0, NULL, NULL);
			return;
		}
	}
	enum plumb_aws_service s = plumb_aws_op_service(c->op);
	if (!c->token_reserved) {
		bool again;
		c->paced_mono = plumb_clock_mono_ms(a->clock);
		int64_t wait = plumb_aws_limiter_acquire(&a->limiter[c->op], c->paced_mono, &again);
		c->token_reserved = !again;
		if (wait > 0) {
			if (plumb_log_enabled(PLUMB_LOG_DEBUG)) {
				char w[24], r[24];
				snprintf(w, sizeof(w), "%" PRId64, wait);
				snprintf(r, sizeof(r), "%.2f", a->limiter[c->op].rate);
				plumb_log(PLUMB_LOG_DEBUG, "aws.limiter_wait", "service",
					  plumb_aws_service_name(s), "operation", plumb_aws_op_name(c->op),
					  "wait_ms", w, "rate", r, (char *)NULL);
			}
			schedule(c, wait);
			return;
		}
	}
	c->token_reserved = false;
	send_attempt(c);
}

/* One debug line per retry: what failed, and when the call goes again. */
static void log_retry(const struct plumb_aws_call *c, const struct plumb_err *e, int64_t delay)
{
	if (!plumb_log_enabled(PLUMB_LOG_DEBUG))
		return;
	char att[16], st[16], d[24], q[16];
	snprintf(att, sizeof(att), "%d", c->attempts);
	snprintf(st, sizeof(st), "%d", e->http_status);
	snprintf(d, sizeof(d), "%" PRId64, delay);
	snprintf(q, sizeof(q), "%d", c->a->quota.tokens);
	plumb_log(PLUMB_LOG_DEBUG, "aws.retry", "service", e->service, "operation", e->operation,
		  "attempt", att, "code", e->aws_code[0] ? e->aws_code : "-", "http_status", st,
		  "delay_ms", d, "quota", q, (char *)NULL);
}

/* The Describe that settles a create's "already exists" answered (see the retry rules). */
static void on_verify(int rc, json_t *described, const struct plumb_err *err, void *data)
{
	struct plumb_aws_call *c = data;
	struct plumb_aws *a = c->a;
	json_t *input = json_loadb(c->body, c->body_len, 0, NULL), *reply = NULL;
	c->verifying = false;
	if (rc == PLUMB_ECANCELED || a->closing) {
		finish(c, PLUMB_ECANCELED, NULL, err ? err : c->verr);
	} else if (rc == 0 && input && plumb__aws_exists_matches(c->op, input, described, &reply)) {
		a->stats.creates_verified++;
		plumb_aws_quota_release(&a->quota, c->last_cost);
		plumb_log(PLUMB_LOG_INFO, "aws_create_verified", "operation", plumb_aws_op_name(c->op),
			  (char *)NULL);
		finish(c, 0, reply, NULL);
	} else {
		/* not ours, or we cannot tell: the caller re-observes */
		finish(c, c->verr->code ? c->verr->code : PLUMB_EAWS, NULL, c->verr);
	}
	json_decref(input);
}

/* Starts the Describe for a create that found "already existing" after a retry; false if not. */
static bool verify_start(struct plumb_aws_call *c, const struct plumb_err *e)
{
	int dop = plumb__aws_exists_verify_op(c->op, c->maybe_applied);
	if (dop < 0 || !plumb_aws_err_is_exists(e))
		return false;
	json_t *input = json_loadb(c->body, c->body_len, 0, NULL);
	json_t *din = input ? plumb__aws_exists_describe_input(c->op, input) : NULL;
	json_decref(input);
	struct plumb_err serr;
	plumb_err_clear(&serr);
	c->verr = din ? malloc(sizeof(*c->verr)) : NULL;
	if (!c->verr) {
		json_decref(din);
		return false;
	}
	*c->verr = *e;
	c->verifying = true;
	if (plumb_aws_call_start(c->a, (enum plumb_aws_op)dop, din, on_verify, c, &serr) != 0) {
		c->verifying = false;
		json_decref(din);
		return false;
	}
	json_decref(din);
	return true;
}

static bool is_expired_token(const struct plumb_err *e)
{
	return strcmp(e->aws_code, "ExpiredToken") == 0 ||
	       strcmp(e->aws_code, "ExpiredTokenException") == 0;
}

static void on_http(int rc, struct plumb_http_resp *resp, const struct plumb_err *herr, void *data)
{
	struct plumb_aws_call *c = data;
	struct plumb_aws *a = c->a;
	enum plumb_aws_service s = plumb_aws_op_service(c->op);
	unsigned flags = plumb_aws_op_flags(c->op);
	int64_t mono = plumb_clock_mono_ms(a->clock);
	struct plumb_err e;
	plumb_err_clear(&e);
	c->in_http = false;
	if (rc == PLUMB_ECANCELED || a->closing) {
		finish(c, PLUMB_ECANCELED, NULL, herr ? herr : &e);
		return;
	}
	if (rc == 0 && resp->status >= 200 && resp->status < 300) {
		json_t *reply = NULL;
		int prc = 0;
		if (plumb__aws_protocol(s) == PLUMB_AWS_JSON11) {
			json_error_t je;
			reply = resp->body.len ? json_loadb(resp->body.buf, resp->body.len, 0, &je)
					       : json_object();
			if (!reply || !json_is_object(reply)) {
				json_decref(reply);
				reply = NULL;
				prc = plumb_err_set(&e, PLUMB_EPARSE, "%s %s: reply is not a json object",
						    plumb_aws_service_name(s), plumb_aws_op_name(c->op));
			}
		} else {
			prc = plumb_aws_query_parse(c->op, resp->body.buf, resp->body.len, &reply, &e);
		}
		if (prc) {
			plumb_strlcpy(e.service, plumb_aws_service_name(s), sizeof(e.service));
			plumb_strlcpy(e.operation, plumb_aws_op_name(c->op), sizeof(e.operation));
			e.http_status = (int)resp->status;
			e.cls = PLUMB_ERRC_TERMINAL;
			finish(c, prc, NULL, &e);
			return;
		}
		plumb_aws_limiter_on_success(&a->limiter[c->op], mono);
		plumb_aws_quota_release(&a->quota, c->last_cost);
		finish(c, 0, reply, NULL);
		return;
	}
	bool timeout = false;
	if (rc == 0) {
		plumb_aws_parse_error(c->op, resp->status, resp->body.buf, resp->body.len,
				      resp->headers.buf, &e);
	} else {
		e = *herr;
		plumb_strlcpy(e.service, plumb_aws_service_name(s), sizeof(e.service));
		plumb_strlcpy(e.operation, plumb_aws_op_name(c->op), sizeof(e.operation));
		e.cls = rc == PLUMB_ENET ? PLUMB_ERRC_RETRYABLE : PLUMB_ERRC_TERMINAL;
		timeout = strstr(e.msg, "imed out") != NULL || strstr(e.msg, "imeout") != NULL;
	}
	if (e.cls == PLUMB_ERRC_THROTTLED) {
		a->stats.throttled++;
		if (op_count(c))
			op_count(c)->throttled++;
		c->throttled++;
		plumb_aws_limiter_on_throttle(&a->limiter[c->op], mono, c->paced_mono);
		if (mono - c->start_mono < a->throttle_deadline_ms) {
			/* a little jitter so throttled callers do not return in lockstep */
			int64_t d = plumb_aws_backoff_ms(1, rnd01(a)) / 4;
			log_retry(c, &e, d);
			schedule(c, d);
			return;
		}
	} else if (e.cls == PLUMB_ERRC_RETRYABLE) {
		a->stats.transient++;
		if (c->attempts - c->throttled < budget(c)) {
			int cost = plumb_aws_quota_acquire(&a->quota, timeout);
			if (a->quota.tokens < a->stats.quota_low)
				a->stats.quota_low = a->quota.tokens;
			if (cost) {
				c->last_cost = cost;
				if (flags & PLUMB_AWS_OP_MUTATES)
					c->maybe_applied = true;
				int64_t d = plumb_aws_backoff_ms(c->attempts - c->throttled, rnd01(a));
				log_retry(c, &e, d);
				schedule(c, d);
				return;
			}
			a->stats.quota_denied++;
			plumb_log(PLUMB_LOG_DEBUG, "aws.quota_denied", "service", e.service, "operation",
				  e.operation, (char *)NULL);
		}
	} else if (is_expired_token(&e) && c->mode == CALL_SESSION && !c->expired_retry) {
		/*
		 * Refused at the door, so nothing landed: fetch fresh credentials, send once more.
		 * Calls in flight when the first ExpiredToken came back find the credentials
		 * already replaced (another key): they only resend.
		 */
		c->expired_retry = true;
		if (strcmp(c->signed_key, a->creds.access_key_id) == 0)
			plumb__aws_creds_invalidate(a);
		schedule(c, 0);
		return;
	}
	if (c->maybe_applied && (flags & PLUMB_AWS_OP_DELETE) && e.cls == PLUMB_ERRC_NOT_FOUND) {
		plumb_aws_quota_release(&a->quota, c->last_cost);
		finish(c, 0, json_object(), NULL);
		return;
	}
	if ((flags & PLUMB_AWS_OP_CREATE) && verify_start(c, &e))
		return;
	finish(c, e.code ? e.code : PLUMB_EAWS, NULL, &e);
}

void plumb_aws_close(struct plumb_aws *a)
{
	if (a->closing)
		return;
	a->closing = true;
	/*
	 * Calls on the wire finish when their http request is cancelled or answered, calls waiting
	 * on a verifying Describe when it does; the rest now. A finish may finish others (a Describe
	 * ending its create), so the scan restarts from the head after each one.
	 */
	for (;;) {
		struct plumb_aws_call *c = a->live;
		while (c && (c->in_http || c->verifying))
			c = c->next;
		if (!c)
			break;
		struct plumb_err e;
		plumb_err_clear(&e);
		plumb_err_set(&e, PLUMB_ECANCELED, "aws client closing");
		finish(c, PLUMB_ECANCELED, NULL, &e);
	}
	a->waiting = NULL;
	plumb__aws_creds_release(a);
	plumb_aws_profile_release(&a->profile);
	memset(&a->creds, 0, sizeof(a->creds));
}

/* ---------------------------------------------------------------- pagination */

struct pager {
	struct plumb_aws *a;   /* owner */
	enum plumb_aws_op op;  /* the list operation */
	json_t *input;         /* copy of the input, token updated per page */
	char member[64];       /* list member to concatenate */
	json_t *acc;           /* accumulated items */
	int pages, max_pages;  /* pages fetched, cap */
	plumb_aws_cb cb;       /* user callback */
	void *data;
};

static void pager_free(struct pager *p)
{
	json_decref(p->input);
	json_decref(p->acc);
	free(p);
}

static void pager_cb(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	struct pager *p = data;
	if (rc) {
		p->cb(rc, NULL, err, p->data);
		pager_free(p);
		return;
	}
	p->pages++;
	json_array_extend(p->acc, json_object_get(reply, p->member));
	const char *tokname = json_object_get(reply, "PaginationToken") ? "PaginationToken" : "NextToken";
	const char *tok = json_string_value(json_object_get(reply, tokname));
	if (tok && *tok && p->pages >= p->max_pages) {
		/* a short list would make the resources on later pages look deleted */
		struct plumb_err e;
		plumb_err_clear(&e);
		plumb_err_set(&e, PLUMB_ELIMIT, "%s: still more after %d pages (the cap): refusing a "
						"truncated list",
			      plumb_aws_op_name(p->op), p->max_pages);
		p->cb(PLUMB_ELIMIT, NULL, &e, p->data);
		pager_free(p);
		return;
	}
	if (tok && *tok) {
		struct plumb_err e;
		plumb_err_clear(&e);
		json_object_set_new(p->input, tokname, json_string(tok));
		if (plumb_aws_call_start(p->a, p->op, p->input, pager_cb, p, &e) == 0)
			return;
		p->cb(e.code, NULL, &e, p->data);
		pager_free(p);
		return;
	}
	json_t *out = json_copy(reply);
	json_object_set(out, p->member, p->acc);
	json_object_del(out, "NextToken");
	json_object_del(out, "PaginationToken");
	p->cb(0, out, NULL, p->data);
	json_decref(out);
	pager_free(p);
}

int plumb_aws_paginate_start(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			     const char *list_member, int max_pages, plumb_aws_cb cb, void *data,
			     struct plumb_err *err)
{
	struct pager *p = calloc(1, sizeof(*p));
	if (!p)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	p->a = a;
	p->op = op;
	p->input = input ? json_deep_copy(input) : json_object();
	p->acc = json_array();
	p->max_pages = max_pages > 0 ? max_pages : 1000;
	p->cb = cb;
	p->data = data;
	plumb_strlcpy(p->member, list_member, sizeof(p->member));
	int rc = plumb_aws_call_start(a, op, p->input, pager_cb, p, err);
	if (rc)
		pager_free(p);
	return rc;
}

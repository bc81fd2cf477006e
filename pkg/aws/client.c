/*
 * pkg/aws/client.c — one AWS call from start to callback: serialise once, wait for credentials,
 * wait for the rate limiter, sign, send through pkg/http, parse, classify, retry or finish.
 *
 * Each call is a struct plumb_aws_call with an embedded uv_timer (backoff and limiter waits;
 * also the 0 ms hop that keeps callbacks out of plumb_aws_call_start). It sits in a->live until
 * its callback has run, and in a->waiting while credentials are being fetched.
 *
 * Retry rules (reference §5, plus plumb's choices):
 * - throttled replies (codes of §5.1, HTTP 429) feed the service's limiter and are retried while
 *   the call is younger than throttle_deadline_ms, without counting against max_attempts or the
 *   retry quota: the limiter paces them, so a throttling storm delays work but does not fail it;
 * - transient failures (5xx, transient codes, no HTTP answer) follow standard mode: at most
 *   max_attempts attempts, full-jitter backoff, the 500-token quota (10 for a timeout, 5 else);
 * - mutating calls are retried the same way, with these rules for the attempt that might have
 *   landed: a delete that then finds nothing is done; CreateModel / CreateEndpointConfig that then
 *   find "already existing" are done (plumb names these by spec hash, so same name = same spec),
 *   and the reply carries the ARN from the message; CreateEndpoint that finds "already existing"
 *   after a retry reports CONFLICT (its name is stable, so the caller must re-observe);
 *   UpdateEndpoint that then finds "in-progress" reports CONFLICT (the update is running).
 * Secrets: nothing here logs headers, bodies or credentials.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REFRESH_ADVISORY_MS (15 * 60 * 1000)
#define REFRESH_MANDATORY_MS (10 * 60 * 1000)

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
	bool token_reserved;        /* the limiter already gave this attempt its slot */
	bool maybe_applied;         /* a mutating attempt failed without a clear answer */
	bool in_http;               /* an attempt is on the wire */
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
		a->max_attempts = (m && *m && end && !*end && v > 0 && v <= 100) ? (int)v : 3;
	}
	a->rng = o.seed ? o.seed : (uint64_t)plumb_clock_mono_ms(a->clock) * 2654435761u + 88172645463325252ULL;
	if (!a->rng)
		a->rng = 1;
	plumb_aws_quota_init(&a->quota);
	for (int i = 0; i < PLUMB_AWS_NSERVICES; i++)
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
	free(c->body);
	free(c);
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
	snprintf(sdkreq, sizeof(sdkreq), "attempt=%d; max=%d", c->attempts + 1, a->max_attempts);
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
	if (c->attempts > 1)
		a->stats.retries++;
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

static bool creds_usable(struct plumb_aws *a, int64_t now, bool *refresh)
{
	*refresh = false;
	if (!a->have_creds)
		return false;
	if (a->creds.expires_ms == 0)
		return true;
	if (now >= a->creds.expires_ms - REFRESH_MANDATORY_MS)
		return false;
	*refresh = now >= a->creds.expires_ms - REFRESH_ADVISORY_MS;
	return true;
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
		bool refresh;
		if (!creds_usable(a, plumb_clock_now_ms(a->clock), &refresh)) {
			c->wnext = a->waiting;
			a->waiting = c;
			if (!a->fetching)
				plumb__aws_creds_fetch(a);
			return;
		}
		if (refresh && !a->fetching)
			plumb__aws_creds_fetch(a); /* in the background; these creds still serve */
		if (c->op < 0) {
			finish(c, 0, NULL, NULL);
			return;
		}
	}
	enum plumb_aws_service s = plumb_aws_op_service(c->op);
	if (!c->token_reserved) {
		int64_t wait = plumb_aws_limiter_acquire(&a->limiter[s], plumb_clock_mono_ms(a->clock));
		c->token_reserved = true;
		if (wait > 0) {
			schedule(c, wait);
			return;
		}
	}
	c->token_reserved = false;
	send_attempt(c);
}

/* The ARN inside a SageMaker "Cannot create already existing ... \"arn\"" message. */
static json_t *exists_reply(enum plumb_aws_op op, const struct plumb_err *e)
{
	const char *q = strstr(e->msg, "\"arn:");
	json_t *r = json_object();
	if (q) {
		const char *end = strchr(q + 1, '"');
		if (end) {
			const char *key = op == PLUMB_AWS_OP_SM_CREATE_MODEL ? "ModelArn"
					  : op == PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG
						  ? "EndpointConfigArn"
						  : "EndpointArn";
			json_object_set_new(r, key, json_stringn(q + 1, (size_t)(end - q - 1)));
		}
	}
	return r;
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
		plumb_aws_limiter_on_success(&a->limiter[s], mono);
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
		c->throttled++;
		plumb_aws_limiter_on_throttle(&a->limiter[s], mono);
		if (mono - c->start_mono < a->throttle_deadline_ms) {
			/* a little jitter so throttled callers do not return in lockstep */
			schedule(c, plumb_aws_backoff_ms(1, rnd01(a)) / 4);
			return;
		}
	} else if (e.cls == PLUMB_ERRC_RETRYABLE) {
		a->stats.transient++;
		if (c->attempts - c->throttled < a->max_attempts) {
			int cost = plumb_aws_quota_acquire(&a->quota, timeout);
			if (cost) {
				c->last_cost = cost;
				if (flags & PLUMB_AWS_OP_MUTATES)
					c->maybe_applied = true;
				schedule(c, plumb_aws_backoff_ms(c->attempts - c->throttled, rnd01(a)));
				return;
			}
		}
	}
	if (c->maybe_applied) {
		if ((flags & PLUMB_AWS_OP_DELETE) && e.cls == PLUMB_ERRC_NOT_FOUND) {
			plumb_aws_quota_release(&a->quota, c->last_cost);
			finish(c, 0, json_object(), NULL);
			return;
		}
		if ((flags & PLUMB_AWS_OP_CREATE) && c->op != PLUMB_AWS_OP_SM_CREATE_ENDPOINT &&
		    plumb_aws_err_is_exists(&e)) {
			plumb_aws_quota_release(&a->quota, c->last_cost);
			finish(c, 0, exists_reply(c->op, &e), NULL);
			return;
		}
	}
	finish(c, e.code ? e.code : PLUMB_EAWS, NULL, &e);
}

void plumb_aws_close(struct plumb_aws *a)
{
	if (a->closing)
		return;
	a->closing = true;
	/* calls on the wire finish when their http request is cancelled or answered; the rest now */
	struct plumb_aws_call *c = a->live;
	while (c) {
		struct plumb_aws_call *n = c->next;
		if (!c->in_http) {
			struct plumb_err e;
			plumb_err_clear(&e);
			plumb_err_set(&e, PLUMB_ECANCELED, "aws client closing");
			finish(c, PLUMB_ECANCELED, NULL, &e);
		}
		c = n;
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
	if (tok && *tok && p->pages < p->max_pages) {
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

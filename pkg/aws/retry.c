/*
 * pkg/aws/retry.c — the retry policy as pure functions of time: the SDK standard-mode retry
 * quota, full-jitter backoff, and the adaptive client-side rate limiter. No I/O, no clock reads:
 * callers pass the time (from struct plumb_clock), so tests drive them on a fake clock.
 *
 * Limiter trade-off: botocore's adaptive mode uses CUBIC over a measured send rate; we take the
 * simpler AIMD (x0.7 on throttle, additive raise on success) over a reservation-style token
 * bucket. It converges to just under the service's rate within seconds and needs no rate
 * measurement window; what we give up is CUBIC's faster probing back up after a long calm.
 *
 * Also here: the decision taken when a SageMaker create that was retried after an ambiguous
 * failure answers "already exists" — which Describe settles it, and whether its reply matches.
 */
#include "aws/aws.h"
#include "aws/aws_int.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#define LIMITER_MIN_RATE 0.5    /* tokens/s floor */
#define LIMITER_BETA 0.7        /* multiplicative decrease */
#define LIMITER_CALM_MS 60000   /* no throttle for this long: turn the limiter off */
#define LIMITER_HORIZON_S 1.0   /* reservations made at most this far ahead */

void plumb_aws_quota_init(struct plumb_aws_quota *q)
{
	q->tokens = PLUMB_AWS_QUOTA_MAX;
}

int plumb_aws_quota_acquire(struct plumb_aws_quota *q, bool timeout)
{
	int cost = timeout ? PLUMB_AWS_TIMEOUT_COST : PLUMB_AWS_RETRY_COST;
	if (q->tokens < cost)
		return 0;
	q->tokens -= cost;
	return cost;
}

void plumb_aws_quota_release(struct plumb_aws_quota *q, int last)
{
	q->tokens += last > 0 ? last : 1;
	if (q->tokens > PLUMB_AWS_QUOTA_MAX)
		q->tokens = PLUMB_AWS_QUOTA_MAX;
}

int64_t plumb_aws_backoff_ms(int retry, double rand01)
{
	double cap = 20.0;
	double base = retry <= 1 ? 1.0 : (retry > 6 ? cap : pow(2.0, retry - 1));
	if (base > cap)
		base = cap;
	if (rand01 < 0)
		rand01 = 0;
	if (rand01 >= 1)
		rand01 = 0.999999;
	return (int64_t)(rand01 * base * 1000.0);
}

void plumb_aws_limiter_init(struct plumb_aws_limiter *l)
{
	*l = (struct plumb_aws_limiter){ 0 };
}

static void refill(struct plumb_aws_limiter *l, int64_t now)
{
	if (now > l->last_fill_ms) {
		l->tokens += l->rate * (double)(now - l->last_fill_ms) / 1000.0;
		if (l->tokens > l->burst)
			l->tokens = l->burst;
	}
	l->last_fill_ms = now;
}

int64_t plumb_aws_limiter_acquire(struct plumb_aws_limiter *l, int64_t now, bool *again)
{
	*again = false;
	if (!l->enabled)
		return 0;
	if (now - l->last_throttle_ms > LIMITER_CALM_MS) {
		l->enabled = false; /* long calm: stop limiting */
		return 0;
	}
	refill(l, now);
	/*
	 * Reserve at most LIMITER_HORIZON_S of sends ahead. A reservation keeps the rate it was
	 * made at, so a queue of 32 calls at 3/s would go on sending at a rate already cut for ten
	 * seconds; beyond the horizon a caller takes no token and asks again when the queue has
	 * shrunk, at whatever the rate is then.
	 */
	double horizon = l->rate * LIMITER_HORIZON_S;
	if (horizon < 1)
		horizon = 1;
	if (l->tokens - 1.0 < -horizon) {
		*again = true;
		return (int64_t)ceil((-(l->tokens - 1.0) - horizon) / l->rate * 1000.0) + 1;
	}
	l->tokens -= 1.0;
	if (l->tokens >= 0)
		return 0;
	return (int64_t)ceil(-l->tokens / l->rate * 1000.0);
}

void plumb_aws_limiter_on_throttle(struct plumb_aws_limiter *l, int64_t now, int64_t paced)
{
	l->throttles++;
	if (!l->enabled) {
		/*
		 * First throttle: start just under what the service answered in the last second
		 * (at least 5/s); successes raise it from there. A fixed 5/s start took the 20/s
		 * Describes 14 s to climb back, which is most of a short read burst.
		 */
		l->enabled = true;
		unsigned recent = l->win_n > l->prev_n ? l->win_n : l->prev_n;
		l->rate = LIMITER_BETA * recent > 5.0 ? LIMITER_BETA * recent : 5.0;
		l->tokens = 0;
		l->last_fill_ms = now;
	} else if (paced >= l->last_cut_ms) {
		/*
		 * One cut per window: only an attempt paced by the current rate (it took its token
		 * after the last cut) says the current rate is too high. The throttles of attempts
		 * paced before the cut come back in a train behind it (32 calls on the wire, each
		 * answered a latency later) and repeat what the cut already acted on; cutting on each
		 * sank the rate to its floor.
		 */
		refill(l, now);
		l->rate *= LIMITER_BETA;
	} else {
		l->last_throttle_ms = now;
		return;
	}
	if (l->rate < LIMITER_MIN_RATE)
		l->rate = LIMITER_MIN_RATE;
	l->burst = l->rate < 1 ? 1 : l->rate;
	l->last_throttle_ms = now;
	l->last_cut_ms = now;
	l->last_raise_ms = now;
}

void plumb_aws_limiter_on_success(struct plumb_aws_limiter *l, int64_t now)
{
	/* successes per one-second window, kept while off too: the start rate of the next throttle */
	if (now - l->win_ms >= 1000) {
		l->prev_n = now - l->win_ms < 2000 ? l->win_n : 0;
		l->win_n = 0;
		l->win_ms = now;
	}
	l->win_n++;
	if (!l->enabled)
		return;
	double dt = (double)(now - l->last_raise_ms) / 1000.0;
	if (dt <= 0)
		return;
	l->last_raise_ms = now;
	refill(l, now);
	if (l->tokens >= 1.0)
		return; /* the callers are not using the rate it has: no reason to raise it */
	double step = l->rate / 10.0;
	if (step < 0.5)
		step = 0.5;
	l->rate += step * dt;
	l->burst = l->rate < 1 ? 1 : l->rate;
}

/* ---------------------------------------------------------------- creates after a retry */

static const struct {
	enum plumb_aws_op create, describe; /* the create and the Describe that settles it */
	const char *name;                   /* the name member of both inputs */
	const char *arn;                    /* the ARN member of both replies */
} verify[] = {
	{ PLUMB_AWS_OP_SM_CREATE_MODEL, PLUMB_AWS_OP_SM_DESCRIBE_MODEL, "ModelName", "ModelArn" },
	{ PLUMB_AWS_OP_SM_CREATE_ENDPOINT_CONFIG, PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT_CONFIG,
	  "EndpointConfigName", "EndpointConfigArn" },
	{ PLUMB_AWS_OP_SM_CREATE_ENDPOINT, PLUMB_AWS_OP_SM_DESCRIBE_ENDPOINT, "EndpointName",
	  "EndpointArn" },
};

static int verify_row(enum plumb_aws_op op)
{
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(verify); i++)
		if (verify[i].create == op)
			return (int)i;
	return -1;
}

int plumb__aws_exists_verify_op(enum plumb_aws_op op, bool maybe_applied)
{
	int i = verify_row(op);
	/* "already exists" on the first attempt is someone else's resource: a plain conflict */
	if (i < 0 || !maybe_applied)
		return -1;
	return (int)verify[i].describe;
}

json_t *plumb__aws_exists_describe_input(enum plumb_aws_op op, const json_t *create_input)
{
	int i = verify_row(op);
	const char *name = i < 0 ? NULL : json_string_value(json_object_get(create_input,
									    verify[i].name));
	if (!name)
		return NULL;
	return json_pack("{s:s}", verify[i].name, name);
}

bool plumb__aws_exists_matches(enum plumb_aws_op op, const json_t *create_input,
			       const json_t *described, json_t **reply)
{
	int i = verify_row(op);
	*reply = NULL;
	if (i < 0 || !json_is_object(described))
		return false;
	const char *want = json_string_value(json_object_get(create_input, verify[i].name));
	const char *got = json_string_value(json_object_get(described, verify[i].name));
	const char *arn = json_string_value(json_object_get(described, verify[i].arn));
	/* SageMaker names are unique case-insensitively */
	if (!want || !got || !arn || strcasecmp(want, got) != 0)
		return false;
	if (op == PLUMB_AWS_OP_SM_CREATE_ENDPOINT) {
		const char *cw = json_string_value(json_object_get(create_input, "EndpointConfigName"));
		const char *cg = json_string_value(json_object_get(described, "EndpointConfigName"));
		const char *st = json_string_value(json_object_get(described, "EndpointStatus"));
		/* a Deleting endpoint is an older one on its way out, not what we just created */
		if (!cw || !cg || strcmp(cw, cg) != 0 || (st && strcmp(st, "Deleting") == 0))
			return false;
	}
	*reply = json_pack("{s:s}", verify[i].arn, arn);
	return *reply != NULL;
}

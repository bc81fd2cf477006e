/*
 * pkg/aws — talking to AWS: SigV4, credentials, region and endpoints, the JSON 1.1 and Query
 * protocols, typed operations, error classification, retries and client-side rate limiting.
 *
 * Representation contract: requests and replies are jansson objects keyed by the AWS member
 * names exactly as in the API models ({"EndpointName": "x"}). JSON-protocol operations send the
 * object as the body and hand back the reply object. Query operations flatten the object
 * (nested object -> A.B, array -> A.member.N, empty array -> "A=") and parse the XML reply into
 * the same shape: lists as arrays, numbers as numbers, booleans as booleans, timestamps as the
 * ISO-8601 strings the service sent (Query services) — JSON services give epoch seconds.
 *
 * Knows nothing of manifests. Uses pkg/http for the wire. One struct plumb_aws is one (profile,
 * region) session; several may share one struct plumb_http (and so one connection pool).
 */
#ifndef PLUMB_AWS_AWS_H
#define PLUMB_AWS_AWS_H

#include "base/base.h"
#include "http/http.h"

#include <jansson.h>

/* ---------------------------------------------------------------- services and operations */

enum plumb_aws_service {
	PLUMB_AWS_SAGEMAKER,
	PLUMB_AWS_AAS,        /* Application Auto Scaling */
	PLUMB_AWS_CLOUDWATCH,
	PLUMB_AWS_SNS,
	PLUMB_AWS_STS,
	PLUMB_AWS_TAGGING,    /* Resource Groups Tagging API */
	PLUMB_AWS_NSERVICES
};
/* Short name used in errors and logs ("sagemaker", "application-autoscaling", ...). */
const char *plumb_aws_service_name(enum plumb_aws_service s);

enum plumb_aws_protocol { PLUMB_AWS_JSON11, PLUMB_AWS_QUERY };

/* X(ENUM, service, "WireName", protocol-independent flags) — one row per operation. */
#define PLUMB_AWS_OP_MUTATES 1u    /* changes state: retried only under the rules in client.c */
#define PLUMB_AWS_OP_CREATE 2u     /* a non-idempotent create (no client token) */
#define PLUMB_AWS_OP_DELETE 4u     /* a delete: not found after a retry counts as done */
#define PLUMB_AWS_OP_UNSIGNED 8u   /* sent without Authorization (STS web identity) */
#define PLUMB_AWS_OPS(X)                                                                     \
	X(SM_CREATE_MODEL, SAGEMAKER, "CreateModel", PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_CREATE) \
	X(SM_DESCRIBE_MODEL, SAGEMAKER, "DescribeModel", 0)                                      \
	X(SM_DELETE_MODEL, SAGEMAKER, "DeleteModel", PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_DELETE) \
	X(SM_LIST_MODELS, SAGEMAKER, "ListModels", 0)                                            \
	X(SM_CREATE_ENDPOINT_CONFIG, SAGEMAKER, "CreateEndpointConfig",                          \
	  PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_CREATE)                                            \
	X(SM_DESCRIBE_ENDPOINT_CONFIG, SAGEMAKER, "DescribeEndpointConfig", 0)                   \
	X(SM_DELETE_ENDPOINT_CONFIG, SAGEMAKER, "DeleteEndpointConfig",                          \
	  PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_DELETE)                                            \
	X(SM_LIST_ENDPOINT_CONFIGS, SAGEMAKER, "ListEndpointConfigs", 0)                         \
	X(SM_CREATE_ENDPOINT, SAGEMAKER, "CreateEndpoint",                                       \
	  PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_CREATE)                                            \
	X(SM_DESCRIBE_ENDPOINT, SAGEMAKER, "DescribeEndpoint", 0)                                \
	X(SM_DELETE_ENDPOINT, SAGEMAKER, "DeleteEndpoint",                                       \
	  PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_DELETE)                                            \
	X(SM_LIST_ENDPOINTS, SAGEMAKER, "ListEndpoints", 0)                                      \
	X(SM_UPDATE_ENDPOINT, SAGEMAKER, "UpdateEndpoint", PLUMB_AWS_OP_MUTATES)                 \
	X(SM_UPDATE_ENDPOINT_WEIGHTS, SAGEMAKER, "UpdateEndpointWeightsAndCapacities",           \
	  PLUMB_AWS_OP_MUTATES)                                                                  \
	X(SM_ADD_TAGS, SAGEMAKER, "AddTags", PLUMB_AWS_OP_MUTATES)                               \
	X(SM_DELETE_TAGS, SAGEMAKER, "DeleteTags", PLUMB_AWS_OP_MUTATES)                         \
	X(SM_LIST_TAGS, SAGEMAKER, "ListTags", 0)                                                \
	X(AAS_REGISTER_SCALABLE_TARGET, AAS, "RegisterScalableTarget", PLUMB_AWS_OP_MUTATES)     \
	X(AAS_DESCRIBE_SCALABLE_TARGETS, AAS, "DescribeScalableTargets", 0)                      \
	X(AAS_DEREGISTER_SCALABLE_TARGET, AAS, "DeregisterScalableTarget",                       \
	  PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_DELETE)                                            \
	X(AAS_PUT_SCALING_POLICY, AAS, "PutScalingPolicy", PLUMB_AWS_OP_MUTATES)                 \
	X(AAS_DESCRIBE_SCALING_POLICIES, AAS, "DescribeScalingPolicies", 0)                      \
	X(AAS_DELETE_SCALING_POLICY, AAS, "DeleteScalingPolicy",                                 \
	  PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_DELETE)                                            \
	X(AAS_TAG_RESOURCE, AAS, "TagResource", PLUMB_AWS_OP_MUTATES)                            \
	X(AAS_UNTAG_RESOURCE, AAS, "UntagResource", PLUMB_AWS_OP_MUTATES)                        \
	X(AAS_LIST_TAGS_FOR_RESOURCE, AAS, "ListTagsForResource", 0)                             \
	X(CW_PUT_METRIC_ALARM, CLOUDWATCH, "PutMetricAlarm", PLUMB_AWS_OP_MUTATES)               \
	X(CW_DESCRIBE_ALARMS, CLOUDWATCH, "DescribeAlarms", 0)                                   \
	X(CW_DELETE_ALARMS, CLOUDWATCH, "DeleteAlarms", PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_DELETE) \
	X(CW_TAG_RESOURCE, CLOUDWATCH, "TagResource", PLUMB_AWS_OP_MUTATES)                      \
	X(CW_UNTAG_RESOURCE, CLOUDWATCH, "UntagResource", PLUMB_AWS_OP_MUTATES)                  \
	X(CW_LIST_TAGS_FOR_RESOURCE, CLOUDWATCH, "ListTagsForResource", 0)                       \
	X(SNS_CREATE_TOPIC, SNS, "CreateTopic", PLUMB_AWS_OP_MUTATES)                            \
	X(SNS_GET_TOPIC_ATTRIBUTES, SNS, "GetTopicAttributes", 0)                                \
	X(SNS_SET_TOPIC_ATTRIBUTES, SNS, "SetTopicAttributes", PLUMB_AWS_OP_MUTATES)             \
	X(SNS_DELETE_TOPIC, SNS, "DeleteTopic", PLUMB_AWS_OP_MUTATES | PLUMB_AWS_OP_DELETE)      \
	X(SNS_LIST_TOPICS, SNS, "ListTopics", 0)                                                 \
	X(SNS_TAG_RESOURCE, SNS, "TagResource", PLUMB_AWS_OP_MUTATES)                            \
	X(SNS_UNTAG_RESOURCE, SNS, "UntagResource", PLUMB_AWS_OP_MUTATES)                        \
	X(SNS_LIST_TAGS_FOR_RESOURCE, SNS, "ListTagsForResource", 0)                             \
	X(STS_GET_CALLER_IDENTITY, STS, "GetCallerIdentity", 0)                                  \
	X(STS_ASSUME_ROLE, STS, "AssumeRole", 0)                                                 \
	X(STS_ASSUME_ROLE_WITH_WEB_IDENTITY, STS, "AssumeRoleWithWebIdentity",                   \
	  PLUMB_AWS_OP_UNSIGNED)                                                                 \
	X(TAG_GET_RESOURCES, TAGGING, "GetResources", 0)

enum plumb_aws_op {
#define PLUMB_AWS_OP_ENUM(e, svc, name, flags) PLUMB_AWS_OP_##e,
	PLUMB_AWS_OPS(PLUMB_AWS_OP_ENUM)
#undef PLUMB_AWS_OP_ENUM
	PLUMB_AWS_NOPS
};
const char *plumb_aws_op_name(enum plumb_aws_op op);
enum plumb_aws_service plumb_aws_op_service(enum plumb_aws_op op);
unsigned plumb_aws_op_flags(enum plumb_aws_op op);
/* Finds an operation by service short name (or NULL for any) and wire name; -1 if none. */
int plumb_aws_op_find(const char *service, const char *name);

/* ---------------------------------------------------------------- credentials */

enum plumb_aws_provider {
	PLUMB_AWS_PROV_NONE,
	PLUMB_AWS_PROV_STATIC,       /* given by the program */
	PLUMB_AWS_PROV_ENV,          /* AWS_ACCESS_KEY_ID & co */
	PLUMB_AWS_PROV_ASSUME_ROLE,  /* profile role_arn + source_profile / credential_source */
	PLUMB_AWS_PROV_WEB_IDENTITY, /* token file + role (env or profile) */
	PLUMB_AWS_PROV_PROFILE,      /* static keys in the shared credentials or config file */
	PLUMB_AWS_PROV_CONTAINER,    /* ECS / EKS pod identity endpoint */
	PLUMB_AWS_PROV_IMDS,         /* EC2 instance metadata (IMDSv2, v1 fallback) */
};
const char *plumb_aws_provider_name(enum plumb_aws_provider p);

struct plumb_aws_creds {
	char access_key_id[136];        /* AKIA... / ASIA... */
	char secret[136];               /* never logged */
	char token[4096];               /* session token, "" when none; never logged */
	int64_t expires_ms;             /* wall-clock expiry, 0 = does not expire */
	enum plumb_aws_provider provider; /* where they came from */
	char detail[160];               /* e.g. profile name or role ARN, for whoami */
};

/* ---------------------------------------------------------------- SigV4 */

/* Signing keys by (secret, date, region, service); the secret is keyed by its SHA-256. */
struct plumb_aws_sigv4_cache {
	struct {
		uint8_t secret_hash[32]; /* SHA-256 of the secret */
		char date[9];            /* yyyymmdd */
		char region[32];         /* signing region */
		char service[48];        /* signing name */
		uint8_t key[32];         /* kSigning */
		bool used;               /* slot filled */
	} slot[8];
	unsigned next;                   /* round-robin replacement */
	uint64_t hits, misses;           /* for tests */
};

struct plumb_aws_sigv4_req {
	const char *method;                      /* upper case */
	const char *path;                        /* as sent on the wire, "/" for our calls */
	const char *query;                       /* raw query string without '?', or NULL */
	const struct plumb_http_header *headers; /* must include Host */
	size_t nheaders;
	const void *body;
	size_t body_len;
	bool no_normalize;        /* S3-style: keep the path as is (test vectors only) */
	bool omit_session_token;  /* add X-Amz-Security-Token after signing (test vectors only) */
	bool sign_body;           /* add a signed x-amz-content-sha256 (S3-like; tests only) */
};

/* What the signer produced; the caller adds these headers to the request. */
struct plumb_aws_sigv4_out {
	char amz_date[17];          /* X-Amz-Date value */
	char content_sha256[65];    /* hex payload hash (also the header value when sign_body) */
	char signature[65];         /* hex signature; never logged */
	struct plumb_buf authorization; /* Authorization value; never logged */
	struct plumb_buf canonical;     /* the canonical request (tests) */
	struct plumb_buf string_to_sign;/* the string to sign (tests) */
};
void plumb_aws_sigv4_out_release(struct plumb_aws_sigv4_out *o);

/*
 * Signs req at now_ms for region/service. Headers named x-amz-date, authorization and
 * x-amz-security-token in req are ignored (the signer sets them). cache may be NULL.
 */
int plumb_aws_sigv4_sign(struct plumb_aws_sigv4_cache *cache, const struct plumb_aws_creds *c,
			 const char *region, const char *service, int64_t now_ms,
			 const struct plumb_aws_sigv4_req *req, struct plumb_aws_sigv4_out *out,
			 struct plumb_err *err);
/* URI-encodes s (unreserved kept; '/' kept when keep_slash) into out. */
int plumb_aws_uri_encode(struct plumb_buf *out, const char *s, size_t n, bool keep_slash);

/* ---------------------------------------------------------------- protocols and errors */

/* Serialises a Query request body: Action, Version, then the flattened input. */
int plumb_aws_query_encode(struct plumb_buf *out, const char *action, const char *version,
			   const json_t *input, struct plumb_err *err);
/*
 * Parses a Query reply (<OpResponse><OpResult>...) for op into a new json_t (*out). The
 * typed parser for op decides which members are lists, maps, numbers and booleans.
 */
int plumb_aws_query_parse(enum plumb_aws_op op, const char *xml, size_t len, json_t **out,
			  struct plumb_err *err);
/*
 * Fills e (service, operation, http_status, aws_code, msg, request_id, cls) from an error
 * reply of either protocol and returns PLUMB_EAWS. headers are "name: value\n" lines.
 */
int plumb_aws_parse_error(enum plumb_aws_op op, long status, const char *body, size_t len,
			  const char *headers, struct plumb_err *e);
/* The one place error codes become classes (reference §5); uses e->service/aws_code/msg/status. */
enum plumb_err_class plumb_aws_classify(const struct plumb_err *e);
/* Throttling code (reference §5.1, plus HTTP 429). */
bool plumb_aws_is_throttle(const struct plumb_err *e);
/* For SageMaker ValidationException: which kind is missing / exists ("Endpoint",
 * "EndpointConfig", "Model") by longest message prefix; "" when not such an error. */
const char *plumb_aws_err_resource(const struct plumb_err *e);
/* "Cannot create already existing ..." (SageMaker) or SNS "already exists" (CONFLICT class). */
bool plumb_aws_err_is_exists(const struct plumb_err *e);

/* ---------------------------------------------------------------- shared config files */

/*
 * A parsed INI file (AWS flavour): [section] headers, key = value lines, # and ; comments,
 * indented lines after "key =" form sub-keys ("key.sub"). Caps: 1 MiB input, 4096 entries,
 * 1024-byte lines; lines that do not parse are skipped (the SDKs reject the whole file; we
 * skip so one typo does not lock a user out — documented in docs).
 */
struct plumb_aws_ini_entry {
	char *section;  /* section name as written ("profile dev", "default") */
	char *key;      /* lower-cased key, "parent.sub" for nested keys */
	char *value;    /* trimmed value */
};
struct plumb_aws_ini {
	struct plumb_aws_ini_entry *e; /* n entries, owned */
	size_t n, alloc;
};
int plumb_aws_ini_parse(struct plumb_aws_ini *ini, const char *buf, size_t len,
			struct plumb_err *err);
const char *plumb_aws_ini_get(const struct plumb_aws_ini *ini, const char *section,
			      const char *key);
bool plumb_aws_ini_has_section(const struct plumb_aws_ini *ini, const char *section);
void plumb_aws_ini_release(struct plumb_aws_ini *ini);

/* The settings of one profile, merged from the config and credentials files. */
struct plumb_aws_profile {
	struct plumb_aws_ini config;      /* AWS_CONFIG_FILE or ~/.aws/config */
	struct plumb_aws_ini credentials; /* AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials */
	char name[128];                   /* selected profile */
	bool explicit_profile;            /* chosen by the program, not by AWS_PROFILE */
};
int plumb_aws_profile_load(struct plumb_aws_profile *p, const char *name, struct plumb_err *err);
/* A key of profile `name` (credentials file first for credential keys, then config). */
const char *plumb_aws_profile_get(const struct plumb_aws_profile *p, const char *name,
				  const char *key);
void plumb_aws_profile_release(struct plumb_aws_profile *p);

/* Region: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region; "" when none. */
void plumb_aws_region_resolve(const struct plumb_aws_profile *p, char *out, size_t outsz);
/*
 * Base URL for service: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's services
 * section, the profile's endpoint_url (unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS), else the
 * public regional endpoint. *custom tells whether it was configured.
 */
int plumb_aws_endpoint_resolve(const struct plumb_aws_profile *p, enum plumb_aws_service s,
			       const char *region, char *out, size_t outsz, bool *custom,
			       struct plumb_err *err);
/* SigV4 signing name of a service ("sagemaker", "monitoring", "tagging", ...). */
const char *plumb_aws_signing_name(enum plumb_aws_service s);

/* ---------------------------------------------------------------- retry policy (pure) */

#define PLUMB_AWS_QUOTA_MAX 500
#define PLUMB_AWS_RETRY_COST 5
#define PLUMB_AWS_TIMEOUT_COST 10
/* Attempts a read (no PLUMB_AWS_OP_MUTATES) gets for transient failures unless max_attempts is
 * configured (client.c explains why reads get more than the SDK's 3). */
#define PLUMB_AWS_READ_ATTEMPTS 8

/* The SDK standard-mode retry quota (one per client). */
struct plumb_aws_quota {
	int tokens; /* 0..500 */
};
void plumb_aws_quota_init(struct plumb_aws_quota *q);
/* Takes the cost of a retry; returns the amount taken, or 0 when the quota is exhausted. */
int plumb_aws_quota_acquire(struct plumb_aws_quota *q, bool timeout);
/* After a 2xx: give back `last` if the call retried, else 1 (capped at 500). */
void plumb_aws_quota_release(struct plumb_aws_quota *q, int last);
/* Full-jitter backoff before retry i (1-based): rand01 * min(2^(i-1), 20) seconds, in ms. */
int64_t plumb_aws_backoff_ms(int retry, double rand01);

/*
 * Adaptive client-side rate limiter (one per operation and region: AWS throttles each API on
 * its own, so a throttled PutMetricAlarm does not slow DescribeAlarms): a token bucket whose fill
 * rate is unlimited until the first throttle, then starts at 0.7 x the successes of the last
 * second (at least 5/s) and is
 * - cut x0.7 on a throttle of an attempt that took its token after the last cut (one cut per
 *   window: the throttles of attempts paced at the old rate repeat the signal already acted on);
 * - raised on success by max(0.5, rate/10) per second, while the callers use the rate it has
 *   (its bucket is not full);
 * - off again after 60 s without a throttle.
 * Acquiring reserves a token and returns how long the caller must wait before sending: the
 * bucket may go negative, so waits queue fairly without a waiter list, but by at most one
 * second of sends; beyond that the caller takes no token (*again) and asks again after the
 * wait, so a cut rate takes effect within a second however many calls are queued.
 */
struct plumb_aws_limiter {
	bool enabled;         /* false until the first throttle */
	double rate;          /* tokens per second */
	double tokens;        /* may be negative (reservations) */
	double burst;         /* max tokens kept */
	int64_t last_fill_ms; /* mono time of the last refill */
	int64_t last_throttle_ms; /* mono time of the last throttle */
	int64_t last_cut_ms;      /* mono time of the last cut of the rate */
	int64_t last_raise_ms;    /* mono time of the last raise */
	int64_t win_ms;       /* start of the current one-second window of successes */
	unsigned win_n, prev_n; /* successes in it, and in the window before */
	uint64_t throttles;   /* count, for tests and metrics */
};
void plumb_aws_limiter_init(struct plumb_aws_limiter *l);
int64_t plumb_aws_limiter_acquire(struct plumb_aws_limiter *l, int64_t now_ms, bool *again);
/* paced_ms: when the throttled attempt took its token (plumb_aws_limiter_acquire). */
void plumb_aws_limiter_on_throttle(struct plumb_aws_limiter *l, int64_t now_ms, int64_t paced_ms);
void plumb_aws_limiter_on_success(struct plumb_aws_limiter *l, int64_t now_ms);

/* ---------------------------------------------------------------- the client */

struct plumb_aws_opts {
	const char *profile;            /* NULL: AWS_PROFILE / default */
	const char *region;             /* NULL: AWS_REGION / AWS_DEFAULT_REGION / profile */
	const struct plumb_clock *clock;/* NULL: the system clock */
	int max_attempts;               /* every call; 0: AWS_MAX_ATTEMPTS, else 3 / 8 for reads */
	int64_t throttle_deadline_ms;   /* throttled calls keep retrying this long; 0: 300000 */
	uint64_t seed;                  /* jitter PRNG seed; 0: from the clock */
	const struct plumb_aws_creds *creds; /* explicit credentials (provider "static") */
};

struct plumb_aws_stats {
	uint64_t calls;        /* logical calls started */
	uint64_t attempts;     /* HTTP attempts sent */
	uint64_t retries;      /* attempts that were retries (any reason) */
	uint64_t throttled;    /* throttled replies seen */
	uint64_t transient;    /* 5xx / no-answer replies seen */
	uint64_t failed;       /* calls that ended in an error */
	uint64_t cred_fetches; /* credential fetches started */
	uint64_t quota_denied; /* retries refused because the retry quota was empty */
	int quota_low;         /* lowest retry-quota level seen (starts at 500) */
	uint64_t creates_verified; /* creates found done by a Describe after "already exists" */
};

/* Per operation: how logical calls ended, and the throttled replies seen (for /metrics). */
struct plumb_aws_op_count {
	uint64_t ok;        /* calls that succeeded */
	uint64_t error;     /* calls that ended in an error */
	uint64_t throttled; /* throttled replies (each retried or surfaced) */
	uint64_t retries;   /* attempts that were retries */
};

struct plumb_aws_call;
/*
 * One (profile, region) session on a loop. Owns its credentials, the signing-key cache, the retry
 * quota and one rate limiter per operation; borrows the loop and the http client.
 */
struct plumb_aws {
	uv_loop_t *loop;                      /* borrowed */
	struct plumb_http *http;              /* borrowed; shared connection pool */
	const struct plumb_clock *clock;      /* borrowed */
	struct plumb_aws_profile profile;     /* parsed config files */
	char region[32];                      /* resolved region */
	char endpoint[PLUMB_AWS_NSERVICES][256]; /* base URL per service */
	bool custom_endpoint[PLUMB_AWS_NSERVICES]; /* configured rather than public */
	struct plumb_aws_sigv4_cache sigcache;/* signing keys */
	struct plumb_aws_quota quota;         /* standard-mode retry quota */
	struct plumb_aws_limiter limiter[PLUMB_AWS_NOPS]; /* adaptive, per operation */
	int max_attempts;                     /* transient-failure attempts for mutating calls */
	int read_attempts;                    /* transient-failure attempts for reads */
	int64_t throttle_deadline_ms;         /* see opts */
	uint64_t rng;                         /* xorshift state for jitter */
	struct plumb_aws_creds creds;         /* current credentials; secret never logged */
	bool have_creds;                      /* creds valid (maybe near expiry) */
	bool fetching;                        /* a credential fetch is running */
	int creds_rc;                         /* result of the last fetch */
	struct plumb_err creds_err;           /* its error */
	void *plan;                           /* credential chain plan (creds.c) */
	struct plumb_aws_call *live;          /* calls not yet finished */
	struct plumb_aws_call *waiting;       /* calls waiting for credentials */
	struct plumb_aws_stats stats;         /* counters */
	struct plumb_aws_op_count ops[PLUMB_AWS_NOPS]; /* counters per operation */
	bool closing;                         /* plumb_aws_close was called */
};

/* Resolves profile, region, endpoints and the credential chain (no network yet). */
int plumb_aws_init(struct plumb_aws *a, uv_loop_t *loop, struct plumb_http *http,
		   const struct plumb_aws_opts *opts, struct plumb_err *err);
/* Cancels pending calls (callbacks run with PLUMB_ECANCELED); run the loop before freeing a. */
void plumb_aws_close(struct plumb_aws *a);

/*
 * Result of a call. rc 0: reply is the parsed reply object (borrowed: json_incref to keep it).
 * Otherwise reply is NULL and err says what failed (AWS fields filled for AWS errors, cls set).
 */
typedef void (*plumb_aws_cb)(int rc, json_t *reply, const struct plumb_err *err, void *data);

/*
 * Calls op with input (an object of AWS member names, borrowed: serialised before returning;
 * NULL = {}). Retries, rate limiting and credential refresh happen inside. The callback runs
 * exactly once, never from inside this function, unless this returns an error.
 */
int plumb_aws_call_start(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			 plumb_aws_cb cb, void *data, struct plumb_err *err);
/*
 * Blocking: starts the call and runs a's loop until it answers (for command-line tools that
 * make one call, such as whoami). *reply is a new reference on success, NULL otherwise.
 */
int plumb_aws_call_wait(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			json_t **reply, struct plumb_err *err);
/*
 * Like plumb_aws_call_start, following NextToken / PaginationToken until the last page; the
 * reply holds list_member concatenated over all pages. At most max_pages (0 = 1000) are
 * fetched: a reply that still has a token after the last of them fails the call with
 * PLUMB_ELIMIT (message naming the operation and the cap), never a silently truncated list.
 */
int plumb_aws_paginate_start(struct plumb_aws *a, enum plumb_aws_op op, const json_t *input,
			     const char *list_member, int max_pages, plumb_aws_cb cb, void *data,
			     struct plumb_err *err);

/* Makes sure credentials are loaded (fetching them if needed); cb gets NULL reply. */
int plumb_aws_creds_start(struct plumb_aws *a, plumb_aws_cb cb, void *data,
			  struct plumb_err *err);

#endif

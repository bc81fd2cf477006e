/*
 * pkg/http — HTTP requests on a libuv loop through libcurl's multi-socket API.
 *
 * One struct plumb_http owns one curl multi handle (so one connection cache and TLS session
 * cache shared by every request), the uv timer curl asks for, and one uv_poll per socket curl
 * watches. Requests are queued by curl when a host already has max_host_conns connections in
 * use; nothing here ever blocks the loop (DNS runs in curl's threaded resolver).
 *
 * Security: TLS peer and host verification are always on. Plain http:// is refused except to a
 * loopback host (127.0.0.0/8, ::1, localhost) or, when the request says so, to the link-local
 * metadata hosts of EC2/ECS/EKS (IMDS and container credentials).
 *
 * Lifecycle: plumb_http_init → any number of plumb_http_start → plumb_http_close, then run the
 * loop until it returns (the handles are closed asynchronously) before freeing the struct.
 */
#ifndef PLUMB_HTTP_HTTP_H
#define PLUMB_HTTP_HTTP_H

#include "base/base.h"

#include <uv.h>

struct plumb_http_opts {
	long connect_timeout_ms;  /* TCP+TLS connect; 0 = 5000 */
	long timeout_ms;          /* whole transfer; 0 = 60000 */
	size_t max_response;      /* response body cap in bytes; 0 = 8 MiB */
	long max_host_conns;      /* connections per host, the rest queue; 0 = 16 */
	long max_total_conns;     /* connections overall; 0 = 64 */
	const char *user_agent;   /* NULL = "plumb/<version>" */
};

/* Counters, for tests and /metrics. */
struct plumb_http_stats {
	uint64_t started;    /* requests accepted by plumb_http_start */
	uint64_t completed;  /* callbacks run (success or failure) */
	uint64_t failed;     /* of which with no HTTP answer */
	uint64_t connects;   /* new connections opened (sum of CURLINFO_NUM_CONNECTS) */
	uint64_t in_flight;  /* started - completed */
	uint64_t max_in_flight; /* high-water mark of in_flight */
};

struct plumb_http {
	uv_loop_t *loop;                /* borrowed; must outlive this struct */
	void *multi;                    /* CURLM *, owned */
	uv_timer_t timer;               /* curl's single timeout, embedded */
	struct plumb_http_opts opts;    /* with defaults filled in */
	struct plumb_http_stats stats;  /* counters, read freely */
	char user_agent[64];            /* User-Agent header value */
	void *live;                     /* list of transfers in flight (http.c) */
	void *socks;                    /* list of watched sockets (http.c) */
	int dispatching;                /* > 0 while completion callbacks run */
	bool closing;                   /* plumb_http_close was called */
	bool closed;                    /* the multi handle is gone */
};

struct plumb_http_header {
	const char *name;  /* as sent, e.g. "Content-Type" */
	const char *value; /* without CR or LF */
};

/* A request: everything is copied by plumb_http_start, so it may live on the caller's stack. */
struct plumb_http_req {
	const char *method;                      /* "GET", "POST", "PUT" */
	const char *url;                         /* absolute http(s) URL */
	const struct plumb_http_header *headers; /* nheaders entries */
	size_t nheaders;
	const void *body;                        /* body bytes, may be NULL when body_len is 0 */
	size_t body_len;
	long timeout_ms;                         /* 0 = the plumb_http default */
	long connect_timeout_ms;                 /* 0 = the plumb_http default */
	bool allow_metadata_http;                /* plain http to 169.254.169.254 & co. allowed */
};

/* A response; valid only during the callback (steal body with plumb_buf_detach). */
struct plumb_http_resp {
	long status;             /* HTTP status of the final response */
	struct plumb_buf body;   /* body, capped at opts.max_response */
	struct plumb_buf headers;/* "name: value\n" lines of the final response, names as received */
	long connects;           /* new connections this transfer opened (0 = reused) */
	double total_s;          /* wall time of the transfer */
};

/*
 * Runs exactly once per accepted request, never from inside plumb_http_start. rc 0 means an HTTP
 * answer arrived (any status: look at resp->status); otherwise rc is PLUMB_ENET (no answer:
 * DNS, connect, TLS, reset, timeout; err->msg carries curl's message), PLUMB_ELIMIT (body over
 * the cap) or PLUMB_ECANCELED (plumb_http_close). resp is never NULL.
 */
typedef void (*plumb_http_cb)(int rc, struct plumb_http_resp *resp, const struct plumb_err *err,
			      void *data);

int plumb_http_init(struct plumb_http *h, uv_loop_t *loop, const struct plumb_http_opts *opts,
		    struct plumb_err *err);
int plumb_http_start(struct plumb_http *h, const struct plumb_http_req *req, plumb_http_cb cb,
		     void *data, struct plumb_err *err);
/* Cancels what is in flight (callbacks run with PLUMB_ECANCELED) and closes the handles. */
void plumb_http_close(struct plumb_http *h);

/* Value of a response header (case-insensitive name) copied into out; false when absent. */
bool plumb_http_resp_header(const struct plumb_http_resp *resp, const char *name, char *out,
			    size_t outsz);
/* Whether url is http(s) to a loopback address (tests and the plain-http rule use it). */
bool plumb_http_url_is_loopback(const char *url);

#endif

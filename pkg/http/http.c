/*
 * pkg/http/http.c — the one file that knows both libcurl and libuv.
 *
 * The wiring is curl's docs/examples/multi-uv.c: curl's socket callback starts, changes and
 * stops a uv_poll per socket (struct sock, freed in its close callback); curl's timer callback
 * drives one uv_timer (-1 stops it, 0 becomes 1 ms so curl is never re-entered from inside its
 * own callback); after every curl_multi_socket_action the finished transfers are drained with
 * curl_multi_info_read and their callbacks run (struct xfer, freed right after).
 *
 * Invariants: a transfer is in h->live from plumb_http_start until its callback has run; the
 * callback runs only from drain() or from plumb_http_close, never from inside plumb_http_start.
 * A callback may start new requests, and may call plumb_http_close (the multi handle is then torn
 * down once the drain loop has finished with it).
 *
 * Costs: one malloc per transfer plus its copied body and header list; one per socket. Bodies
 * are capped (opts.max_response): a transfer that passes the cap is aborted by returning 0 from
 * the write callback. Rejected alternative: curl_multi_perform on a polling timer — simpler, but
 * it wakes the loop for nothing and adds latency to every request.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct xfer {
	struct plumb_http *h;        /* owner */
	CURL *easy;                  /* the transfer, owned */
	struct curl_slist *hdrs;     /* request headers, owned */
	char *body;                  /* request body copy, owned (NULL when empty) */
	struct plumb_http_resp resp; /* what came back so far */
	plumb_http_cb cb;            /* completion callback */
	void *data;                  /* its argument */
	bool over_cap;               /* the body passed opts.max_response */
	char errbuf[CURL_ERROR_SIZE];/* curl's message for a failure */
	struct xfer *prev, *next;    /* h->live list */
};

struct sock {
	uv_poll_t poll;              /* embedded; the struct is freed in its close callback */
	curl_socket_t fd;            /* the socket curl gave us */
	struct plumb_http *h;        /* owner */
	struct sock *prev, *next;    /* h->socks list */
};

#define HEADERS_CAP (64 * 1024)

static CURLM *multi_of(struct plumb_http *h)
{
	return (CURLM *)h->multi;
}

static void xfer_unlink(struct plumb_http *h, struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		h->live = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
}

static void xfer_free(struct xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	free(x->body);
	plumb_buf_release(&x->resp.body);
	plumb_buf_release(&x->resp.headers);
	free(x);
}

/* Runs the callback of a finished (or cancelled) transfer and frees it. */
static void xfer_finish(struct plumb_http *h, struct xfer *x, CURLcode res)
{
	struct plumb_err err;
	int rc = 0;
	plumb_err_clear(&err);
	xfer_unlink(h, x);
	if (x->easy && !h->closed)
		curl_multi_remove_handle(multi_of(h), x->easy);
	if (x->easy) {
		long connects = 0;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp.status);
		curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
		curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &x->resp.total_s);
		x->resp.connects = connects;
		h->stats.connects += (uint64_t)connects;
	}
	if (res == CURLE_ABORTED_BY_CALLBACK && h->closing) {
		rc = plumb_err_set(&err, PLUMB_ECANCELED, "request cancelled: http client closing");
	} else if (x->over_cap) {
		rc = plumb_err_set(&err, PLUMB_ELIMIT, "response body larger than %zu bytes",
				   h->opts.max_response);
	} else if (res != CURLE_OK) {
		rc = plumb_err_set(&err, PLUMB_ENET, "no http answer: %s",
				   x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	}
	if (rc == PLUMB_ENET)
		h->stats.failed++;
	h->stats.completed++;
	h->stats.in_flight--;
	x->cb(rc, &x->resp, rc ? &err : NULL, x->data);
	xfer_free(x);
}

static void teardown(struct plumb_http *h);

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Drains finished transfers; the only caller of completion callbacks besides close. */
static void drain(struct plumb_http *h)
{
	CURLMsg *msg;
	int pending;
	h->dispatching++;
	while (!h->closing && (msg = curl_multi_info_read(multi_of(h), &pending)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		CURLcode res = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x)
			xfer_finish(h, x, res);
	}
	h->dispatching--;
	if (h->closing && !h->closed && h->dispatching == 0)
		teardown(h);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *s = p->data;
	struct plumb_http *h = s->h;
	int flags = 0, running;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	if (h->closed)
		return;
	curl_multi_socket_action(multi_of(h), s->fd, flags, &running);
	drain(h);
}

static void on_timer(uv_timer_t *t)
{
	struct plumb_http *h = t->data;
	int running;
	if (h->closed)
		return;
	curl_multi_socket_action(multi_of(h), CURL_SOCKET_TIMEOUT, 0, &running);
	drain(h);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct plumb_http *h = userp;
	(void)m;
	if (timeout_ms < 0) {
		uv_timer_stop(&h->timer);
	} else {
		if (timeout_ms == 0)
			timeout_ms = 1; /* never call socket_action from inside curl */
		uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
	}
	return 0;
}

static void sock_closed(uv_handle_t *hd)
{
	free(hd->data);
}

static void sock_drop(struct plumb_http *h, struct sock *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct plumb_http *h = userp;
	struct sock *s = sockp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			sock_drop(h, s);
			curl_multi_assign(multi_of(h), fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->fd = fd;
		s->h = h;
		s->poll.data = s;
		s->next = h->socks;
		if (s->next)
			s->next->prev = s;
		h->socks = s;
		curl_multi_assign(multi_of(h), fd, s);
	}
	int events = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, on_poll);
	return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;
	if (plumb_buf_add(&x->resp.body, ptr, n) != 0) {
		x->over_cap = true;
		return 0; /* aborts the transfer */
	}
	return n;
}

static size_t header_cb(char *ptr, size_t size, size_t nitems, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nitems, len = n;
	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		plumb_buf_reset(&x->resp.headers); /* a new response (e.g. after 100) */
		return n;
	}
	while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
		len--;
	if (len == 0)
		return n;
	if (plumb_buf_add(&x->resp.headers, ptr, len) != 0 ||
	    plumb_buf_addch(&x->resp.headers, '\n') != 0) {
		x->over_cap = true;
		return 0;
	}
	return n;
}

int plumb_http_init(struct plumb_http *h, uv_loop_t *loop, const struct plumb_http_opts *opts,
		    struct plumb_err *err)
{
	static uv_once_t once = UV_ONCE_INIT;
	memset(h, 0, sizeof(*h));
	if (opts)
		h->opts = *opts;
	if (h->opts.connect_timeout_ms <= 0)
		h->opts.connect_timeout_ms = 5000;
	if (h->opts.timeout_ms <= 0)
		h->opts.timeout_ms = 60000;
	if (h->opts.max_response == 0)
		h->opts.max_response = 8u << 20;
	if (h->opts.max_host_conns <= 0)
		h->opts.max_host_conns = 16;
	if (h->opts.max_total_conns <= 0)
		h->opts.max_total_conns = 64;
	snprintf(h->user_agent, sizeof(h->user_agent), "%s",
		 h->opts.user_agent ? h->opts.user_agent : "plumb/" PLUMB_VERSION);
	h->opts.user_agent = NULL;
	h->loop = loop;
	/* curl_global_init is not thread-safe; once per process */
	uv_once(&once, global_init);
	CURLM *m = curl_multi_init();
	if (!m)
		return plumb_err_set(err, PLUMB_ENOMEM, "curl_multi_init failed");
	h->multi = m;
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, h->opts.max_host_conns);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, h->opts.max_total_conns);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, h->opts.max_total_conns);
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	return 0;
}


static bool host_is_loopback(const char *host)
{
	unsigned char a6[16];
	struct in_addr a4;
	char tmp[64];
	size_t n = strlen(host);
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(tmp)) {
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = 0;
		static const unsigned char lo6[16] = { [15] = 1 };
		return inet_pton(AF_INET6, tmp, a6) == 1 && memcmp(a6, lo6, 16) == 0;
	}
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

static bool host_is_metadata(const char *host)
{
	static const char *const hosts[] = { "169.254.169.254", "169.254.170.2", "169.254.170.23",
					     "[fd00:ec2::254]", "[fd00:ec2::23]" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(hosts); i++)
		if (strcasecmp(host, hosts[i]) == 0)
			return true;
	return false;
}

/* Splits url into scheme and host; 0 on success. */
static int url_parts(const char *url, char *scheme, size_t ssz, char *host, size_t hsz)
{
	CURLU *u = curl_url();
	char *sc = NULL, *ho = NULL;
	int rc = -1;
	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &ho, 0) == CURLUE_OK) {
		plumb_strlcpy(scheme, sc, ssz);
		plumb_strlcpy(host, ho, hsz);
		rc = 0;
	}
	curl_free(sc);
	curl_free(ho);
	curl_url_cleanup(u);
	return rc;
}

bool plumb_http_url_is_loopback(const char *url)
{
	char scheme[16], host[256];
	if (url_parts(url, scheme, sizeof(scheme), host, sizeof(host)) != 0)
		return false;
	return host_is_loopback(host);
}

static bool has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

int plumb_http_start(struct plumb_http *h, const struct plumb_http_req *req, plumb_http_cb cb,
		     void *data, struct plumb_err *err)
{
	char scheme[16], host[256], line[8192];
	if (h->closing || h->closed)
		return plumb_err_set(err, PLUMB_ECANCELED, "http client is closing");
	if (!req->url || !req->method || !cb)
		return plumb_err_set(err, PLUMB_EINVAL, "http request needs a method, a url and a callback");
	if (url_parts(req->url, scheme, sizeof(scheme), host, sizeof(host)) != 0)
		return plumb_err_set(err, PLUMB_EINVAL, "not a valid url: %s", req->url);
	if (strcasecmp(scheme, "https") != 0) {
		if (strcasecmp(scheme, "http") != 0)
			return plumb_err_set(err, PLUMB_EINVAL, "unsupported url scheme %s", scheme);
		if (!host_is_loopback(host) && !(req->allow_metadata_http && host_is_metadata(host)))
			return plumb_err_set(err, PLUMB_EINVAL,
					     "refusing plain http to %s: only https, or http to loopback",
					     host);
	}
	struct xfer *x = calloc(1, sizeof(*x));
	if (!x)
		return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
	x->h = h;
	x->cb = cb;
	x->data = data;
	plumb_buf_init(&x->resp.body, h->opts.max_response);
	plumb_buf_init(&x->resp.headers, HEADERS_CAP);
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct plumb_http_header *hd = &req->headers[i];
		if (has_crlf(hd->name) || has_crlf(hd->value) || !hd->name[0]) {
			xfer_free(x);
			return plumb_err_set(err, PLUMB_EINVAL, "header %s holds a line break", hd->name);
		}
		int n = hd->value[0] ? snprintf(line, sizeof(line), "%s: %s", hd->name, hd->value)
				     : snprintf(line, sizeof(line), "%s;", hd->name);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			xfer_free(x);
			return plumb_err_set(err, PLUMB_ELIMIT, "header %s too long", hd->name);
		}
		struct curl_slist *l = curl_slist_append(x->hdrs, line);
		if (!l)
			goto nomem;
		x->hdrs = l;
	}
	/* no 100-continue round trip: AWS answers at once */
	struct curl_slist *l = curl_slist_append(x->hdrs, "Expect:");
	if (!l)
		goto nomem;
	x->hdrs = l;
	if (req->body_len) {
		x->body = malloc(req->body_len);
		if (!x->body)
			goto nomem;
		memcpy(x->body, req->body, req->body_len);
	}
	CURL *e = x->easy = curl_easy_init();
	if (!e)
		goto nomem;
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms > 0 ? req->connect_timeout_ms
						     : h->opts.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 req->timeout_ms > 0 ? req->timeout_ms : h->opts.timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "");
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (curl_multi_add_handle(multi_of(h), e) != CURLM_OK) {
		xfer_free(x);
		return plumb_err_set(err, PLUMB_EINTERNAL, "curl_multi_add_handle failed");
	}
	x->next = h->live;
	if (x->next)
		x->next->prev = x;
	h->live = x;
	h->stats.started++;
	h->stats.in_flight++;
	if (h->stats.in_flight > h->stats.max_in_flight)
		h->stats.max_in_flight = h->stats.in_flight;
	return 0;
nomem:
	xfer_free(x);
	return plumb_err_set(err, PLUMB_ENOMEM, "out of memory");
}

static void teardown(struct plumb_http *h)
{
	CURLM *m = multi_of(h);
	/* we close our polls ourselves; curl must not call back into a half-gone client */
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, NULL);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, NULL);
	while (h->socks)
		sock_drop(h, h->socks);
	curl_multi_cleanup(m);
	h->multi = NULL;
	h->closed = true;
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, NULL);
}

void plumb_http_close(struct plumb_http *h)
{
	if (h->closing)
		return;
	h->closing = true;
	h->dispatching++;
	while (h->live)
		xfer_finish(h, h->live, CURLE_ABORTED_BY_CALLBACK);
	h->dispatching--;
	if (h->dispatching == 0)
		teardown(h);
}

bool plumb_http_resp_header(const struct plumb_http_resp *resp, const char *name, char *out,
			    size_t outsz)
{
	size_t n = strlen(name);
	const char *p = resp->headers.buf;
	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if ((size_t)(eol - p) > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
			const char *v = p + n + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *e = eol;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			size_t len = (size_t)(e - v);
			if (outsz) {
				if (len >= outsz)
					len = outsz - 1;
				memcpy(out, v, len);
				out[len] = 0;
			}
			return true;
		}
		p = *eol ? eol + 1 : eol;
	}
	return false;
}

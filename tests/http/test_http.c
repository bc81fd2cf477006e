/*
 * pkg/http against a real HTTP/1.1 server on loopback: a tiny keep-alive server on the same
 * libuv loop (this file), so tests count connections accepted and callbacks run after the loop
 * drains. Paths: /echo (body and X-Test header back), /big (1 MiB), /slow (never answers).
 */
#include "http/http.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct srv {
	uv_tcp_t tcp;       /* listener */
	int port;           /* bound port */
	int accepted;       /* connections accepted */
	int requests;       /* requests answered */
	int open;           /* connections open */
	int max_open;       /* high-water mark */
};

struct conn {
	uv_tcp_t tcp;           /* the connection */
	struct srv *srv;        /* owner */
	struct plumb_buf in;    /* bytes received, not yet answered */
};

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	c->srv->open--;
	plumb_buf_release(&c->in);
	free(c);
}

static void alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)h;
	b->base = malloc(sz);
	b->len = sz;
}

static void write_done(uv_write_t *w, int status)
{
	(void)status;
	free(w->data);
	free(w);
}

static void send_str(struct conn *c, const char *s, size_t n)
{
	uv_write_t *w = malloc(sizeof(*w));
	char *copy = malloc(n);
	memcpy(copy, s, n);
	w->data = copy;
	uv_buf_t b = uv_buf_init(copy, (unsigned)n);
	uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, write_done);
}

static char *ci_find(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return (char *)hay;
	return NULL;
}

/* Answers every complete request in c->in. */
static void serve(struct conn *c)
{
	for (;;) {
		char *end = strstr(c->in.buf, "\r\n\r\n");
		if (!end)
			return;
		size_t hlen = (size_t)(end - c->in.buf) + 4, clen = 0;
		char *cl = ci_find(c->in.buf, "\r\ncontent-length:");
		if (cl && cl < end)
			clen = strtoul(cl + 17, NULL, 10);
		if (c->in.len < hlen + clen)
			return;
		char path[64] = "", xtest[64] = "";
		sscanf(c->in.buf, "%*s %63s", path);
		char *xt = ci_find(c->in.buf, "\r\nx-test:");
		if (xt && xt < end)
			sscanf(xt + 9, " %63[^\r]", xtest);
		struct plumb_buf out = PLUMB_BUF_INIT;
		c->srv->requests++;
		if (strcmp(path, "/slow") == 0) {
			/* never answer */
		} else if (strcmp(path, "/big") == 0) {
			size_t n = 1 << 20;
			plumb_buf_addf(&out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
			for (size_t i = 0; i < n; i++)
				plumb_buf_addch(&out, 'x');
		} else {
			plumb_buf_addf(&out,
				       "HTTP/1.1 %s\r\nContent-Length: %zu\r\nX-Echo-Test: %s\r\n"
				       "x-amzn-RequestId:  rid-1  \r\n\r\n",
				       strcmp(path, "/echo") == 0 ? "200 OK" : "404 Not Found", clen,
				       xtest);
			plumb_buf_add(&out, c->in.buf + hlen, clen);
		}
		if (out.len)
			send_str(c, out.buf, out.len);
		plumb_buf_release(&out);
		memmove(c->in.buf, c->in.buf + hlen + clen, c->in.len - hlen - clen);
		plumb_buf_truncate(&c->in, c->in.len - hlen - clen);
	}
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;
	if (n > 0) {
		plumb_buf_add(&c->in, b->base, (size_t)n);
		serve(c);
	} else if (n < 0) {
		uv_close((uv_handle_t *)s, conn_closed);
	}
	free(b->base);
}

static void on_conn(uv_stream_t *l, int status)
{
	struct srv *srv = l->data;
	ck_assert_int_eq(status, 0);
	struct conn *c = calloc(1, sizeof(*c));
	c->srv = srv;
	uv_tcp_init(l->loop, &c->tcp);
	c->tcp.data = c;
	ck_assert_int_eq(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
	srv->accepted++;
	if (++srv->open > srv->max_open)
		srv->max_open = srv->open;
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void srv_start(uv_loop_t *loop, struct srv *srv)
{
	struct sockaddr_in a;
	struct sockaddr_storage got;
	int len = sizeof(got);
	memset(srv, 0, sizeof(*srv));
	uv_tcp_init(loop, &srv->tcp);
	srv->tcp.data = srv;
	uv_ip4_addr("127.0.0.1", 0, &a);
	ck_assert_int_eq(uv_tcp_bind(&srv->tcp, (const struct sockaddr *)&a, 0), 0);
	ck_assert_int_eq(uv_listen((uv_stream_t *)&srv->tcp, 512, on_conn), 0);
	uv_tcp_getsockname(&srv->tcp, (struct sockaddr *)&got, &len);
	srv->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, h->type == UV_TCP && h->data && h->data != arg ? conn_closed : NULL);
}

/* Closes the server and every connection, then runs the loop dry. */
static void srv_stop(uv_loop_t *loop, struct srv *srv)
{
	uv_close((uv_handle_t *)&srv->tcp, NULL);
	srv->tcp.data = NULL;
	uv_walk(loop, close_walk, srv);
	uv_run(loop, UV_RUN_DEFAULT);
}

struct tally {
	int calls;        /* callbacks run */
	int ok;           /* with rc 0 and status 200 */
	int last_rc;      /* rc of the last one */
	long last_status; /* status of the last one */
	char msg[256];    /* err->msg of the last failure */
	char hdr[64];     /* X-Echo-Test of the last one */
	char rid[64];     /* x-amzn-requestid of the last one */
	size_t body_len;  /* body length of the last one */
	bool body_ok;     /* the echo matched */
	struct plumb_http *close_on_first; /* close the client from the first callback */
};

static void count_cb(int rc, struct plumb_http_resp *resp, const struct plumb_err *err, void *data)
{
	struct tally *t = data;
	t->calls++;
	t->last_rc = rc;
	t->last_status = resp->status;
	t->body_len = resp->body.len;
	if (rc == 0 && resp->status == 200)
		t->ok++;
	if (err)
		plumb_strlcpy(t->msg, err->msg, sizeof(t->msg));
	if (rc == 0) {
		plumb_http_resp_header(resp, "x-echo-test", t->hdr, sizeof(t->hdr));
		plumb_http_resp_header(resp, "X-Amzn-RequestId", t->rid, sizeof(t->rid));
		t->body_ok = resp->body.len == 5 && memcmp(resp->body.buf, "hello", 5) == 0;
	}
	if (t->close_on_first) {
		struct plumb_http *h = t->close_on_first;
		t->close_on_first = NULL;
		plumb_http_close(h);
	}
}

static char url_buf[128];
static const char *url(struct srv *s, const char *path)
{
	snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", s->port, path);
	return url_buf;
}

START_TEST(many_requests_share_few_connections)
{
	uv_loop_t loop;
	struct srv srv;
	struct plumb_http h;
	struct plumb_http_opts o = { .max_host_conns = 4 };
	struct tally t = { 0 };
	uv_loop_init(&loop);
	srv_start(&loop, &srv);
	ck_assert_int_eq(plumb_http_init(&h, &loop, &o, NULL), 0);
	struct plumb_http_header hd[] = { { "X-Test", "abc" }, { "Content-Type", "text/plain" } };
	struct plumb_http_req req = { .method = "POST", .url = url(&srv, "/echo"), .headers = hd,
				      .nheaders = 2, .body = "hello", .body_len = 5 };
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(plumb_http_start(&h, &req, count_cb, &t, NULL), 0);
	ck_assert_int_eq(t.calls, 0); /* never from inside start */
	while (t.calls < 300)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(t.calls, 300);
	ck_assert_int_eq(t.ok, 300);
	ck_assert(t.body_ok);
	ck_assert_str_eq(t.hdr, "abc");
	ck_assert_str_eq(t.rid, "rid-1");
	ck_assert_int_le(srv.accepted, 4);
	ck_assert_int_le(srv.max_open, 4);
	ck_assert_uint_le(h.stats.connects, 4);
	ck_assert_uint_eq(h.stats.completed, 300);
	ck_assert_uint_eq(h.stats.in_flight, 0);
	plumb_http_close(&h);
	srv_stop(&loop, &srv);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(no_answer_is_enet_with_curl_message)
{
	uv_loop_t loop;
	struct plumb_http h;
	struct tally t = { 0 };
	uv_loop_init(&loop);
	ck_assert_int_eq(plumb_http_init(&h, &loop, NULL, NULL), 0);
	/* port 1 on loopback: nothing listens there */
	struct plumb_http_req req = { .method = "GET", .url = "http://127.0.0.1:1/x" };
	ck_assert_int_eq(plumb_http_start(&h, &req, count_cb, &t, NULL), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(t.calls, 1);
	ck_assert_int_eq(t.last_rc, PLUMB_ENET);
	ck_assert_ptr_nonnull(strstr(t.msg, "no http answer"));
	ck_assert_uint_eq(h.stats.failed, 1);
	plumb_http_close(&h);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(cap_timeout_and_status)
{
	uv_loop_t loop;
	struct srv srv;
	struct plumb_http h;
	struct plumb_http_opts o = { .max_response = 4096, .timeout_ms = 300 };
	struct tally big = { 0 }, slow = { 0 }, missing = { 0 };
	uv_loop_init(&loop);
	srv_start(&loop, &srv);
	ck_assert_int_eq(plumb_http_init(&h, &loop, &o, NULL), 0);
	struct plumb_http_req r1 = { .method = "GET", .url = url(&srv, "/big") };
	ck_assert_int_eq(plumb_http_start(&h, &r1, count_cb, &big, NULL), 0); /* url copied */
	struct plumb_http_req r2 = { .method = "GET", .url = url(&srv, "/slow") };
	ck_assert_int_eq(plumb_http_start(&h, &r2, count_cb, &slow, NULL), 0);
	struct plumb_http_req r3 = { .method = "PUT", .url = url(&srv, "/nope") };
	ck_assert_int_eq(plumb_http_start(&h, &r3, count_cb, &missing, NULL), 0);
	while (big.calls + slow.calls + missing.calls < 3)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(big.last_rc, PLUMB_ELIMIT);
	ck_assert_int_eq(slow.last_rc, PLUMB_ENET);
	ck_assert_ptr_nonnull(strstr(slow.msg, "imeout") ? slow.msg : strstr(slow.msg, "timed out"));
	ck_assert_int_eq(missing.last_rc, 0);
	ck_assert_int_eq(missing.last_status, 404);
	plumb_http_close(&h);
	srv_stop(&loop, &srv);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(plain_http_refused_off_loopback)
{
	uv_loop_t loop;
	struct plumb_http h;
	struct tally t = { 0 };
	struct plumb_err err;
	uv_loop_init(&loop);
	ck_assert_int_eq(plumb_http_init(&h, &loop, NULL, NULL), 0);
	struct plumb_http_req req = { .method = "GET", .url = "http://example.com/" };
	ck_assert_int_eq(plumb_http_start(&h, &req, count_cb, &t, &err), PLUMB_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "plain http"));
	req.url = "http://169.254.169.254/latest/api/token";
	ck_assert_int_eq(plumb_http_start(&h, &req, count_cb, &t, &err), PLUMB_EINVAL);
	req.url = "ftp://127.0.0.1/";
	ck_assert_int_eq(plumb_http_start(&h, &req, count_cb, &t, &err), PLUMB_EINVAL);
	struct plumb_http_header bad = { "X-A", "a\r\nInjected: 1" };
	struct plumb_http_req r2 = { .method = "GET", .url = "http://127.0.0.1:1/", .headers = &bad,
				     .nheaders = 1 };
	ck_assert_int_eq(plumb_http_start(&h, &r2, count_cb, &t, &err), PLUMB_EINVAL);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(t.calls, 0); /* a failed start never calls back */
	ck_assert(plumb_http_url_is_loopback("http://127.0.0.1:8080/"));
	ck_assert(plumb_http_url_is_loopback("http://[::1]:8080/"));
	ck_assert(plumb_http_url_is_loopback("http://localhost/"));
	ck_assert(!plumb_http_url_is_loopback("http://10.0.0.1/"));
	plumb_http_close(&h);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(close_from_callback_cancels_the_rest)
{
	uv_loop_t loop;
	struct srv srv;
	struct plumb_http h;
	struct tally fast = { 0 }, slow = { 0 };
	uv_loop_init(&loop);
	srv_start(&loop, &srv);
	ck_assert_int_eq(plumb_http_init(&h, &loop, NULL, NULL), 0);
	fast.close_on_first = &h;
	char u1[128];
	plumb_strlcpy(u1, url(&srv, "/echo"), sizeof(u1));
	struct plumb_http_req r1 = { .method = "POST", .url = u1, .body = "hello", .body_len = 5 };
	struct plumb_http_req r2 = { .method = "GET", .url = url(&srv, "/slow") };
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(plumb_http_start(&h, &r2, count_cb, &slow, NULL), 0);
	ck_assert_int_eq(plumb_http_start(&h, &r1, count_cb, &fast, NULL), 0);
	while (fast.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(slow.calls, 5);
	ck_assert_int_eq(slow.last_rc, PLUMB_ECANCELED);
	ck_assert_int_eq(plumb_http_start(&h, &r1, count_cb, &fast, NULL), PLUMB_ECANCELED);
	srv_stop(&loop, &srv);
	ck_assert_int_eq(fast.calls, 1);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, many_requests_share_few_connections);
	tcase_add_test(tc, no_answer_is_enet_with_curl_message);
	tcase_add_test(tc, cap_timeout_and_status);
	tcase_add_test(tc, plain_http_refused_off_loopback);
	tcase_add_test(tc, close_from_callback_cancels_the_rest);
	suite_add_tcase(s, tc);
	return s;
}

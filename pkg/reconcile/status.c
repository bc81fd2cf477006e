/*
 * The status port: /healthz, /readyz, /metrics, /status and POST /sync, served by libmicrohttpd
 * on the daemon's own loop. MHD runs in its external-epoll mode: the loop polls MHD's epoll fd
 * and calls MHD_run when it is readable, and a timer covers MHD's connection timeouts only
 * while connections exist. So the handlers read the daemon's state without locks, and an idle
 * port costs no wakeups.
 */
#include "reconcile_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BODY 4096

int plumb_reconcile_parse_listen(const char *s, char *host, size_t hostlen, int *port,
				 struct plumb_err *err)
{
	const char *colon;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return plumb_err_set(err, PLUMB_EINVAL, "--listen %s: expected [ADDR]:PORT", s);
		if ((size_t)(end - s - 1) >= hostlen)
			return plumb_err_set(err, PLUMB_EINVAL, "--listen %s: address too long", s);
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return plumb_err_set(err, PLUMB_EINVAL, "--listen %s: expected HOST:PORT", s);
		if ((size_t)(colon - s) >= hostlen)
			return plumb_err_set(err, PLUMB_EINVAL, "--listen %s: address too long", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
		return plumb_err_set(err, PLUMB_EINVAL, "--listen %s: the port must be 0-65535", s);
	*port = (int)p;
	return 0;
}

/* A bound, listening socket for host:port; MHD takes it over. */
static int listen_socket(const char *host, int port, int *out_port, struct plumb_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
	} else {
		return plumb_err_set(err, PLUMB_EINVAL,
				     "--listen: '%s' is not an IP address (use 127.0.0.1, 0.0.0.0 "
				     "or [::1])",
				     host);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return plumb_err_sys(err, PLUMB_EIO, "status port: socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
		int rc = plumb_err_sys(err, PLUMB_EIO, "status port %s:%d", host, port);
		close(fd);
		return rc;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		*out_port = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
	return fd;
}

static enum MHD_Result reply_n(struct MHD_Connection *c, unsigned status, const char *type,
			       const char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	return reply_n(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* A text reply with one extra header. */
static enum MHD_Result reply_with(struct MHD_Connection *c, unsigned status, const char *text,
				  const char *header, const char *value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, header, value);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return reply(c, 500, "out of memory\n");
	size_t n = strlen(text);
	char *t2 = realloc(text, n + 2);
	if (t2) {
		text = t2;
		text[n++] = '\n';
		text[n] = '\0';
	}
	enum MHD_Result ret = reply_n(c, status, "application/json", text, n);
	free(text);
	return ret;
}

/* Constant-time comparison of the bearer token. */
static bool token_ok(const char *want, const char *header)
{
	if (!want || !want[0])
		return true;
	if (!header || strncmp(header, "Bearer ", 7) != 0)
		return false;
	const char *got = header + 7;
	size_t a = strlen(want), b = strlen(got);
	unsigned char diff = (unsigned char)(a != b);
	for (size_t i = 0; i < a; i++)
		diff |= (unsigned char)(want[i] ^ (i < b ? got[i] : 0));
	return diff == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	struct rc_status *st = cls;
	struct plumb_reconciler *d = st->d;
	/* first call: headers only; POST bodies are read and ignored */
	if (*con_cls == NULL) {
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(url, "/healthz") == 0 && get)
		return reply(c, 200, "ok\n");
	if (strcmp(url, "/readyz") == 0 && get)
		return d->ready ? reply(c, 200, "ready\n")
				: reply(c, 503, "not ready: the first pass has not finished\n");
	if (strcmp(url, "/metrics") == 0 && get) {
		struct plumb_buf b = PLUMB_BUF_INIT;
		plumb__rc_metrics(d, &b);
		enum MHD_Result ret =
			reply_n(c, 200, "text/plain; version=0.0.4; charset=utf-8", b.buf, b.len);
		plumb_buf_release(&b);
		return ret;
	}
	if (strcmp(url, "/status") == 0 && get)
		return reply_json(c, 200, plumb__rc_status_json(d));
	if (strcmp(url, "/sync") == 0) {
		if (strcmp(method, "POST") != 0)
			return reply_with(c, 405, "use POST\n", "Allow", "POST");
		const char *auth =
			MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		if (!token_ok(d->o.token, auth)) {
			plumb_log(PLUMB_LOG_WARN, "sync.refused", "detail", "missing or wrong bearer token",
				  NULL);
			return reply_with(c, 401, "unauthorized\n", "WWW-Authenticate", "Bearer");
		}
		if (d->stopping)
			return reply(c, 503, "shutting down\n");
		bool queued = d->observing;
		plumb_log(PLUMB_LOG_INFO, "sync.requested", NULL);
		plumb__rc_request_pass(d, "sync");
		return reply_json(c, 202, json_pack("{s:I, s:b}", "pass",
						    (json_int_t)(d->pass + (queued ? 1 : 0)),
						    "queued", queued));
	}
	return reply(c, 404, "not found\n");
}

static void arm_timer(struct rc_status *st);

static void run_mhd(struct rc_status *st)
{
	MHD_run((struct MHD_Daemon *)st->mhd);
	arm_timer(st);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	run_mhd(p->data);
}

static void on_timer(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void arm_timer(struct rc_status *st)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	if (MHD_get_timeout((struct MHD_Daemon *)st->mhd, &ms) == MHD_YES)
		uv_timer_start(&st->timer, on_timer, ms ? (uint64_t)ms : 1, 0);
	else
		uv_timer_stop(&st->timer);
}

int plumb__rc_status_start(struct rc_status *st, struct plumb_reconciler *d, const char *listen,
			   struct plumb_err *err)
{
	memset(st, 0, sizeof(*st));
	st->d = d;
	char host[64];
	int port = 0;
	int rc = plumb_reconcile_parse_listen(listen, host, sizeof(host), &port, err);
	if (rc)
		return rc;
	int fd = listen_socket(host, port, &st->port, err);
	if (fd < 0)
		return fd;
	struct MHD_Daemon *mhd = MHD_start_daemon(
		MHD_USE_EPOLL, 0, NULL, NULL, on_request, st,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
	if (!mhd) {
		close(fd);
		return plumb_err_set(err, PLUMB_EIO, "status port %s: libmicrohttpd did not start",
				     listen);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		MHD_stop_daemon(mhd);
		return plumb_err_set(err, PLUMB_EIO, "status port: no epoll fd from libmicrohttpd");
	}
	st->mhd = mhd;
	uv_poll_init(d->loop, &st->poll, info->epoll_fd);
	uv_timer_init(d->loop, &st->timer);
	st->poll.data = st->timer.data = st;
	uv_poll_start(&st->poll, UV_READABLE, on_poll);
	st->up = true;
	if (strchr(host, ':'))
		snprintf(st->addr, sizeof(st->addr), "[%s]:%d", host, st->port);
	else
		snprintf(st->addr, sizeof(st->addr), "%s:%d", host, st->port);
	plumb_log(PLUMB_LOG_INFO, "listen", "addr", st->addr, NULL);
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	(void)h;
}

void plumb__rc_status_stop(struct rc_status *st)
{
	if (!st->up)
		return;
	st->up = false;
	uv_poll_stop(&st->poll);
	uv_close((uv_handle_t *)&st->poll, on_closed);
	uv_close((uv_handle_t *)&st->timer, on_closed);
	MHD_stop_daemon((struct MHD_Daemon *)st->mhd);
	st->mhd = NULL;
}

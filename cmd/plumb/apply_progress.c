/*
 * plumb apply's progress and summary. On a terminal (stderr) every finished action prints one
 * line, and a status line under them is rewritten in place ("\r" + erase) with the counts and
 * every endpoint being waited for, with its last status and elapsed time. Without a terminal
 * each event is one log line (logfmt, or JSON with PLUMB_LOG_FORMAT=json), so CI logs and
 * daemons' collectors read it line by line.
 */
#include "applyrun.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define GREEN "\033[32m"
#define RED "\033[31m"
#define DIM "\033[2m"
#define RESET "\033[0m"

void plumb__apply_duration(int64_t ms, char *out, size_t n)
{
	if (ms < 1000)
		snprintf(out, n, "%dms", (int)ms);
	else if (ms < 60000)
		snprintf(out, n, "%.1fs", (double)ms / 1000.0);
	else if (ms < 3600000)
		snprintf(out, n, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000 % 60));
	else
		snprintf(out, n, "%dh%02dm", (int)(ms / 3600000), (int)(ms / 60000 % 60));
}

static const char *col(const struct plumb_apply_progress *p, const char *c)
{
	return p->color ? c : "";
}

static int term_width(void)
{
	struct winsize w;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 20)
		return w.ws_col;
	return 100;
}

static void clear_status(struct plumb_apply_progress *p)
{
	if (p->status_shown)
		fputs("\r\033[K", stderr);
	p->status_shown = false;
}

static void draw_status(struct plumb_apply_progress *p, const struct plumb_apply_totals *t)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	char el[32];
	plumb__apply_duration(t->elapsed_ms, el, sizeof(el));
	/* endpoint waits count as waiting whether a poll is on the wire or not */
	const struct plumb_apply *ex = p->ex ? *p->ex : NULL;
	unsigned waits = 0;
	for (size_t i = 0; ex && i < plumb_apply_count(ex); i++) {
		const struct plumb_apply_action *a = plumb_apply_action_at(ex, i);
		waits += a->type == PLUMB_ACTION_WAIT &&
			 (a->status == PLUMB_APPLY_RUNNING || a->status == PLUMB_APPLY_WAITING);
	}
	unsigned busy = t->running + t->waiting;
	plumb_buf_addf(&b, "[%u/%u done, %u in progress, %u waiting", t->done, t->total,
		       busy - waits, waits);
	if (t->failed)
		plumb_buf_addf(&b, ", %u failed", t->failed);
	plumb_buf_addf(&b, "; %s]", el);
	for (size_t i = 0; ex && i < plumb_apply_count(ex); i++) {
		const struct plumb_apply_action *a = plumb_apply_action_at(ex, i);
		if (a->type != PLUMB_ACTION_WAIT ||
		    (a->status != PLUMB_APPLY_RUNNING && a->status != PLUMB_APPLY_WAITING))
			continue;
		plumb__apply_duration(a->elapsed_ms, el, sizeof(el));
		plumb_buf_addf(&b, " %s %s %s", a->physical,
			       a->endpoint_status[0] ? a->endpoint_status : "…", el);
	}
	int w = term_width() - 1;
	if ((int)b.len > w)
		plumb_buf_truncate(&b, (size_t)w);
	fprintf(stderr, "\r\033[K%s%s%s", col(p, DIM), b.buf, col(p, RESET));
	fflush(stderr);
	p->status_shown = true;
	plumb_buf_release(&b);
}

static void log_line(const struct plumb_apply_progress *p, const char *event, ...)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_list ap;
	va_start(ap, event);
	plumb_log_render(&b, p->fmt, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
			 PLUMB_LOG_INFO, event, ap);
	va_end(ap);
	fputs(b.buf, stderr);
	fflush(stderr);
	plumb_buf_release(&b);
}

void plumb__apply_progress_event(const struct plumb_apply_event *ev, void *data)
{
	struct plumb_apply_progress *p = data;
	const struct plumb_apply_action *a = ev->action;
	const char *type = ev->action->type == PLUMB_ACTION_WAIT ? "wait"
			   : a->type == PLUMB_ACTION_CREATE     ? "create"
			   : a->type == PLUMB_ACTION_UPDATE     ? "update"
			   : a->type == PLUMB_ACTION_DELETE     ? "delete"
								: "tag";
	char el[32];
	plumb__apply_duration(a->elapsed_ms, el, sizeof(el));
	if (!p->tty) {
		char event[48], done[16], total[16];
		snprintf(event, sizeof(event), "apply.%s", plumb_apply_event_name(ev->type));
		snprintf(done, sizeof(done), "%u", ev->totals->done);
		snprintf(total, sizeof(total), "%u", ev->totals->total);
		/* optional pairs last: a NULL key ends the list early */
		const char *k[2] = { NULL, NULL }, *v[2] = { NULL, NULL };
		int n = 0;
		if (a->endpoint_status[0]) {
			k[n] = "endpoint_status";
			v[n++] = a->endpoint_status;
		}
		if (a->detail[0]) {
			k[n] = "detail";
			v[n++] = a->detail;
		}
		log_line(p, event, "resource", a->address, "action", type, "status",
			 plumb_apply_status_name(a->status), "elapsed", el, "done", done, "total",
			 total, k[0], v[0], k[1], v[1], NULL);
		return;
	}
	switch (ev->type) {
	case PLUMB_APPLY_EV_DONE:
		clear_status(p);
		fprintf(stderr, "  %s✓%s %-6s %s %s(%s%s%s)%s\n", col(p, GREEN), col(p, RESET), type,
			a->address, col(p, DIM), el, a->detail[0] ? ", " : "", a->detail,
			col(p, RESET));
		break;
	case PLUMB_APPLY_EV_FAILED:
		clear_status(p);
		fprintf(stderr, "  %s✗%s %-6s %s (%s): %s\n", col(p, RED), col(p, RESET), type,
			a->address, el, a->detail);
		break;
	case PLUMB_APPLY_EV_SKIPPED:
		clear_status(p);
		fprintf(stderr, "  %s- %-6s %s: %s%s\n", col(p, DIM), type, a->address, a->detail,
			col(p, RESET));
		break;
	default:
		break;
	}
	draw_status(p, ev->totals);
}

void plumb__apply_progress_end(struct plumb_apply_progress *p)
{
	clear_status(p);
	fflush(stderr);
}

void plumb__apply_summary(const struct plumb_apply *ex, FILE *out, bool color)
{
	const struct plumb_apply_totals *t = plumb_apply_totals(ex);
	char el[32];
	plumb__apply_duration(t->elapsed_ms, el, sizeof(el));
	bool ok = t->done == t->total;
	fprintf(out, "\n%s%s%s: %u action%s, %u done, %u failed, %u skipped in %s (%llu AWS calls).\n",
		color ? (ok ? GREEN : RED) : "", ok ? "Apply complete" : "Apply failed",
		color ? RESET : "", t->total, t->total == 1 ? "" : "s", t->done, t->failed,
		t->skipped, el, (unsigned long long)t->calls);
	if (t->failed)
		fprintf(out, "\nFailures:\n");
	for (size_t i = 0; i < plumb_apply_count(ex); i++) {
		const struct plumb_apply_action *a = plumb_apply_action_at(ex, i);
		if (a->status != PLUMB_APPLY_FAILED)
			continue;
		fprintf(out, "  %s%s%s %s: %s\n", color ? RED : "", a->address, color ? RESET : "",
			a->type == PLUMB_ACTION_WAIT ? "(wait)" : "", a->detail);
		const struct plumb_err *e = &a->err;
		if (e->aws_code[0])
			fprintf(out, "      service %s, operation %s, code %s, HTTP %d, request id %s\n",
				e->service[0] ? e->service : "-", e->operation, e->aws_code,
				e->http_status, e->request_id[0] ? e->request_id : "-");
		else if (e->operation[0])
			fprintf(out, "      seen by %s %s\n", e->service, e->operation);
	}
	if (t->skipped)
		fprintf(out, "\nNot started:\n");
	for (size_t i = 0; i < plumb_apply_count(ex); i++) {
		const struct plumb_apply_action *a = plumb_apply_action_at(ex, i);
		if (a->status == PLUMB_APPLY_SKIPPED)
			fprintf(out, "  %s: %s\n", a->address, a->detail);
	}
}

void plumb__apply_list(const json_t *actions, FILE *out, bool color)
{
	size_t i;
	json_t *a;
	json_array_foreach(actions, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *addr = json_string_value(json_object_get(a, "address"));
		const char *why = json_string_value(json_object_get(a, "why"));
		const char *sym = !type                        ? "?"
				  : strcmp(type, "create") == 0 ? "+"
				  : strcmp(type, "delete") == 0 ? "-"
				  : strcmp(type, "wait") == 0   ? "…"
								: "~";
		const char *c = !color ? "" : *sym == '+' ? GREEN : *sym == '-' ? RED : "";
		fprintf(out, "  %s%s %-6s %s%s%s%s%s\n", c, sym, type ? type : "?", addr ? addr : "?",
			color ? RESET : "", why ? "  " : "", why ? why : "", "");
	}
}

/*
 * Structured logging: one line per event, logfmt (default) or JSON. The logger is process-wide
 * state set once at start-up (plumb_log_setup) — the one global in plumb, because every module
 * logs and threading a logger through each call would buy nothing for a single-loop program.
 * Values under secret-looking keys are redacted here, so no caller can leak one by mistake.
 */
#include "base.h"

#include <string.h>
#include <strings.h>

static struct {
	FILE *out;                        /* NULL = stderr */
	enum plumb_log_level min;         /* lowest level written */
	enum plumb_log_format fmt;        /* line format */
	const struct plumb_clock *clock;  /* for ts */
} logger = { NULL, PLUMB_LOG_INFO, PLUMB_LOG_LOGFMT, &plumb_clock_system };

const char *plumb_log_level_name(enum plumb_log_level l)
{
	switch (l) {
	case PLUMB_LOG_DEBUG: return "debug";
	case PLUMB_LOG_INFO: return "info";
	case PLUMB_LOG_WARN: return "warn";
	case PLUMB_LOG_ERROR: return "error";
	}
	return "unknown";
}

void plumb_log_setup(FILE *out, enum plumb_log_level min, enum plumb_log_format fmt,
		     const struct plumb_clock *clock)
{
	logger.out = out;
	logger.min = min;
	logger.fmt = fmt;
	logger.clock = clock ? clock : &plumb_clock_system;
}

bool plumb_log_enabled(enum plumb_log_level l)
{
	return l >= logger.min;
}

static bool secret_key(const char *k)
{
	static const char *words[] = { "secret", "token", "signature", "authorization",
				       "password", "credential" };
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(words); i++) {
		size_t n = strlen(words[i]);
		for (const char *p = k; *p; p++)
			if (strncasecmp(p, words[i], n) == 0)
				return true;
	}
	return false;
}

static void add_logfmt_value(struct plumb_buf *b, const char *v)
{
	bool quote = *v == '\0';
	for (const char *p = v; *p && !quote; p++)
		quote = *p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20;
	if (!quote) {
		plumb_buf_adds(b, v);
		return;
	}
	plumb_buf_addch(b, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			plumb_buf_addf(b, "\\%c", *p);
		else if (*p == '\n')
			plumb_buf_adds(b, "\\n");
		else if (*p < 0x20)
			plumb_buf_addf(b, "\\u%04x", *p);
		else
			plumb_buf_addch(b, (char)*p);
	}
	plumb_buf_addch(b, '"');
}

static void add_json_string(struct plumb_buf *b, const char *v)
{
	plumb_buf_addch(b, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			plumb_buf_addf(b, "\\%c", *p);
		else if (*p == '\n')
			plumb_buf_adds(b, "\\n");
		else if (*p < 0x20)
			plumb_buf_addf(b, "\\u%04x", *p);
		else
			plumb_buf_addch(b, (char)*p);
	}
	plumb_buf_addch(b, '"');
}

static void add_pair(struct plumb_buf *b, enum plumb_log_format fmt, bool first, const char *k,
		     const char *v)
{
	if (fmt == PLUMB_LOG_JSON) {
		if (!first)
			plumb_buf_addch(b, ',');
		add_json_string(b, k);
		plumb_buf_addch(b, ':');
		add_json_string(b, v);
	} else {
		if (!first)
			plumb_buf_addch(b, ' ');
		plumb_buf_adds(b, k);
		plumb_buf_addch(b, '=');
		add_logfmt_value(b, v);
	}
}

int plumb_log_render(struct plumb_buf *b, enum plumb_log_format fmt, int64_t ts_ms,
		     enum plumb_log_level l, const char *event, va_list kv)
{
	char ts[32];
	char iso[21];
	plumb_time_iso8601(ts_ms, iso);
	/* keep milliseconds: events within one second must stay ordered when read back */
	snprintf(ts, sizeof(ts), "%.19s.%03dZ", iso, (int)(ts_ms % 1000));
	if (fmt == PLUMB_LOG_JSON)
		plumb_buf_addch(b, '{');
	add_pair(b, fmt, true, "ts", ts);
	add_pair(b, fmt, false, "level", plumb_log_level_name(l));
	add_pair(b, fmt, false, "event", event);
	for (;;) {
		const char *k = va_arg(kv, const char *);
		if (!k)
			break;
		const char *v = va_arg(kv, const char *);
		if (!v)
			v = "";
		add_pair(b, fmt, false, k, secret_key(k) ? "[redacted]" : v);
	}
	if (fmt == PLUMB_LOG_JSON)
		plumb_buf_addch(b, '}');
	return plumb_buf_addch(b, '\n');
}

void plumb_log(enum plumb_log_level l, const char *event, ...)
{
	if (!plumb_log_enabled(l))
		return;
	struct plumb_buf b = PLUMB_BUF_INIT;
	va_list ap;
	va_start(ap, event);
	plumb_log_render(&b, logger.fmt, plumb_clock_now_ms(logger.clock), l, event, ap);
	va_end(ap);
	FILE *out = logger.out ? logger.out : stderr;
	fwrite(b.buf, 1, b.len, out);
	fflush(out);
	plumb_buf_release(&b);
}

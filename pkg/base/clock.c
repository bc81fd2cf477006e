/*
 * The system clock behind struct plumb_clock, and ISO-8601 conversions (UTC only: AWS speaks
 * UTC, and plumb never formats local time).
 */
#include "base.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

static int64_t sys_now_ms(void *data)
{
	struct timespec ts;
	(void)data;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sys_mono_ms(void *data)
{
	struct timespec ts;
	(void)data;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct plumb_clock plumb_clock_system = { sys_now_ms, sys_mono_ms, NULL };

int64_t plumb_clock_now_ms(const struct plumb_clock *c)
{
	return c->now_ms(c->data);
}

int64_t plumb_clock_mono_ms(const struct plumb_clock *c)
{
	return c->mono_ms(c->data);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void plumb_time_iso8601(int64_t ms, char out[21])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int plumb_time_parse_iso8601(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac_ms = 0;
	const char *p = s;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return PLUMB_EPARSE;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return PLUMB_EPARSE;
	if (*p == '.') {
		int scale = 100;
		for (p++; isdigit((unsigned char)*p); p++) {
			frac_ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (strcmp(p, "+00:00") == 0 || strcmp(p, "-00:00") == 0)
		p += 6;
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return PLUMB_EPARSE;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = ((days * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + frac_ms;
	return 0;
}

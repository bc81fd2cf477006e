/*
 * Growable, capped byte buffers (see base.h for the invariants). Growth doubles, so appending n
 * bytes one at a time costs O(n) amortised. A failed write leaves the buffer as it was.
 */
#include "base.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

char plumb__buf_empty[1];

void plumb_buf_init(struct plumb_buf *b, size_t cap)
{
	b->buf = plumb__buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void plumb_buf_release(struct plumb_buf *b)
{
	if (b->alloc)
		free(b->buf);
	plumb_buf_init(b, b->cap);
}

void plumb_buf_reset(struct plumb_buf *b)
{
	plumb_buf_truncate(b, 0);
}

void plumb_buf_truncate(struct plumb_buf *b, size_t len)
{
	assert(len <= b->len);
	if (!b->alloc)
		return;
	b->len = len;
	b->buf[len] = '\0';
}

int plumb_buf_grow(struct plumb_buf *b, size_t extra)
{
	if (b->cap && (extra > b->cap || b->len > b->cap - extra))
		return PLUMB_ELIMIT;
	if (extra > SIZE_MAX / 2 - b->len)
		return PLUMB_ENOMEM;
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 64;
	while (n < need)
		n *= 2;
	char *p = realloc(b->alloc ? b->buf : NULL, n);
	if (!p)
		return PLUMB_ENOMEM;
	if (!b->alloc)
		p[0] = '\0';
	b->buf = p;
	b->alloc = n;
	return 0;
}

int plumb_buf_add(struct plumb_buf *b, const void *data, size_t n)
{
	int rc = plumb_buf_grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

int plumb_buf_adds(struct plumb_buf *b, const char *s)
{
	return plumb_buf_add(b, s, strlen(s));
}

int plumb_buf_addch(struct plumb_buf *b, char c)
{
	return plumb_buf_add(b, &c, 1);
}

int plumb_buf_vaddf(struct plumb_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(b->buf + b->len, b->alloc ? b->alloc - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return PLUMB_EINVAL;
	if (b->alloc && (size_t)n < b->alloc - b->len) {
		if (b->cap && b->len + (size_t)n > b->cap) {
			b->buf[b->len] = '\0';
			return PLUMB_ELIMIT;
		}
		b->len += (size_t)n;
		return 0;
	}
	int rc = plumb_buf_grow(b, (size_t)n);
	if (rc) {
		if (b->alloc)
			b->buf[b->len] = '\0';
		return rc;
	}
	vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int plumb_buf_addf(struct plumb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = plumb_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *plumb_buf_detach(struct plumb_buf *b, size_t *len)
{
	char *p = b->alloc ? b->buf : calloc(1, 1);
	if (len)
		*len = b->len;
	plumb_buf_init(b, b->cap);
	return p;
}

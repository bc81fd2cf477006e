/*
 * Error codes, classes and the error context. Recording an error never allocates, so it cannot
 * fail; messages longer than the fixed field are cut, never overflowed.
 */
#include "base.h"

#include <errno.h>
#include <string.h>

const char *plumb_code_name(int code)
{
	switch (code) {
	case PLUMB_OK: return "ok";
	case PLUMB_ENOMEM: return "out of memory";
	case PLUMB_EINVAL: return "invalid argument";
	case PLUMB_EIO: return "i/o error";
	case PLUMB_ENOENT: return "not found";
	case PLUMB_EPARSE: return "parse error";
	case PLUMB_EVALID: return "invalid";
	case PLUMB_ELIMIT: return "limit exceeded";
	case PLUMB_EAWS: return "aws error";
	case PLUMB_ENET: return "network error";
	case PLUMB_ESTATE: return "state error";
	case PLUMB_EBUSY: return "busy";
	case PLUMB_EEXIST: return "already exists";
	case PLUMB_ECANCELED: return "canceled";
	case PLUMB_ECONFIG: return "configuration error";
	case PLUMB_EINTERNAL: return "internal error";
	}
	return "unknown error";
}

const char *plumb_err_class_name(enum plumb_err_class c)
{
	switch (c) {
	case PLUMB_ERRC_NONE: return "none";
	case PLUMB_ERRC_TERMINAL: return "terminal";
	case PLUMB_ERRC_RETRYABLE: return "retryable";
	case PLUMB_ERRC_THROTTLED: return "throttled";
	case PLUMB_ERRC_NOT_FOUND: return "not_found";
	case PLUMB_ERRC_CONFLICT: return "conflict";
	}
	return "unknown";
}

size_t plumb_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void plumb_err_clear(struct plumb_err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

int plumb_err_setv(struct plumb_err *e, int code, const char *fmt, va_list ap)
{
	if (!e)
		return code;
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return code;
}

int plumb_err_set(struct plumb_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	plumb_err_setv(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int plumb_err_sys(struct plumb_err *e, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	if (!e)
		return code;
	va_start(ap, fmt);
	plumb_err_setv(e, code, fmt, ap);
	va_end(ap);
	size_t n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	e->sys_errno = saved;
	errno = saved;
	return code;
}

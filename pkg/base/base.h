/*
 * pkg/base — the ground floor every other module stands on.
 *
 * Error codes and the error context (struct plumb_err), growable byte buffers with a size cap
 * (struct plumb_buf), an arena for per-pass allocations, a pointer vector, a string-keyed hash
 * map, SHA-256, a clock interface, structured logging and the one file-system helper the CLI
 * needs to read manifests. No module below this one exists; nothing here knows AWS or YAML.
 */
#ifndef PLUMB_BASE_BASE_H
#define PLUMB_BASE_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define PLUMB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PLUMB_UNUSED __attribute__((unused))
#define PLUMB_SENTINEL __attribute__((sentinel))
#else
#define PLUMB_PRINTF(f, a)
#define PLUMB_UNUSED
#define PLUMB_SENTINEL
#endif

#define PLUMB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- errors */

/* Every fallible function returns 0 or one of these (negative). */
enum plumb_code {
	PLUMB_OK = 0,
	PLUMB_ENOMEM = -1,   /* allocation failed */
	PLUMB_EINVAL = -2,   /* bad argument or input */
	PLUMB_EIO = -3,      /* operating-system I/O error; errno in err->sys_errno */
	PLUMB_ENOENT = -4,   /* no such file, resource or key */
	PLUMB_EPARSE = -5,   /* bytes that do not parse (YAML, JSON, XML, INI) */
	PLUMB_EVALID = -6,   /* input parsed but is not valid */
	PLUMB_ELIMIT = -7,   /* a size or count cap was hit */
	PLUMB_EAWS = -8,     /* AWS answered with an error; details in the aws fields */
	PLUMB_ENET = -9,     /* no HTTP answer: connect, TLS, timeout */
	PLUMB_ESTATE = -10,  /* state database error */
	PLUMB_EBUSY = -11,   /* held by someone else (lock) */
	PLUMB_EEXIST = -12,  /* already exists */
	PLUMB_ECANCELED = -13, /* stopped before it finished */
	PLUMB_ECONFIG = -14, /* configuration or credentials missing or wrong */
	PLUMB_EINTERNAL = -15, /* a bug in plumb: an invariant did not hold */
};
const char *plumb_code_name(int code);

/* How an error should be treated by whoever retries; decided where the error arises. */
enum plumb_err_class {
	PLUMB_ERRC_NONE = 0,
	PLUMB_ERRC_TERMINAL,  /* retrying will not help until the input changes */
	PLUMB_ERRC_RETRYABLE, /* transient: retry with backoff */
	PLUMB_ERRC_THROTTLED, /* rate limited: slow down, then retry */
	PLUMB_ERRC_NOT_FOUND, /* the thing asked about does not exist */
	PLUMB_ERRC_CONFLICT,  /* exists already, or busy / in progress: requeue */
};
const char *plumb_err_class_name(enum plumb_err_class c);

/*
 * The detail behind a failure. Fixed-size fields so that recording an error never allocates
 * and never fails. A function that fails fills it (when non-NULL) and returns the code.
 */
struct plumb_err {
	int code;                     /* enum plumb_code, 0 when clear */
	enum plumb_err_class cls;     /* retry classification */
	char msg[512];                /* lowercase human message, no trailing full stop */
	/* location in a manifest, when there is one */
	char file[256];               /* path as given by the user */
	unsigned line, col;           /* 1-based; 0 when unknown */
	char path[256];               /* field path, e.g. spec.productionVariants[0].modelRef */
	/* AWS detail */
	char service[32];             /* e.g. sagemaker */
	char operation[64];           /* e.g. CreateEndpoint */
	int http_status;              /* 0 when no HTTP reply */
	char aws_code[64];            /* e.g. ValidationException */
	char request_id[80];          /* x-amzn-RequestId or RequestId */
	int sys_errno;                /* errno for PLUMB_EIO */
	int sqlite_code;              /* for PLUMB_ESTATE */
};

void plumb_err_clear(struct plumb_err *e);
/* Records code and message (printf-style) in e, if e is not NULL; returns code. */
int plumb_err_set(struct plumb_err *e, int code, const char *fmt, ...) PLUMB_PRINTF(3, 4);
int plumb_err_setv(struct plumb_err *e, int code, const char *fmt, va_list ap) PLUMB_PRINTF(3, 0);
/* Same, adding strerror(errno) and keeping errno. */
int plumb_err_sys(struct plumb_err *e, int code, const char *fmt, ...) PLUMB_PRINTF(3, 4);
/* Bounded copy that always NUL-terminates; returns the length it would have liked. */
size_t plumb_strlcpy(char *dst, const char *src, size_t size);

/* ---------------------------------------------------------------- buffers */

/*
 * A growable byte buffer in the manner of git's strbuf. Invariants: buf is never NULL and always
 * NUL-terminated at buf[len]; len < alloc unless alloc is 0 (then buf points at a shared empty
 * string and must not be written). cap, when not 0, bounds len: a write that would pass it fails
 * with PLUMB_ELIMIT and leaves the buffer unchanged.
 */
struct plumb_buf {
	char *buf;    /* contents, NUL-terminated */
	size_t len;   /* bytes used, excluding the terminator */
	size_t alloc; /* bytes allocated; 0 = the shared empty string */
	size_t cap;   /* maximum len, 0 = unbounded */
};
#define PLUMB_BUF_INIT { plumb__buf_empty, 0, 0, 0 }
extern char plumb__buf_empty[1];

void plumb_buf_init(struct plumb_buf *b, size_t cap);
void plumb_buf_release(struct plumb_buf *b);
void plumb_buf_reset(struct plumb_buf *b);              /* len = 0, keeps memory */
int plumb_buf_grow(struct plumb_buf *b, size_t extra);
int plumb_buf_add(struct plumb_buf *b, const void *data, size_t n);
int plumb_buf_adds(struct plumb_buf *b, const char *s);
int plumb_buf_addch(struct plumb_buf *b, char c);
int plumb_buf_addf(struct plumb_buf *b, const char *fmt, ...) PLUMB_PRINTF(2, 3);
int plumb_buf_vaddf(struct plumb_buf *b, const char *fmt, va_list ap) PLUMB_PRINTF(2, 0);
void plumb_buf_truncate(struct plumb_buf *b, size_t len);
/* Hands the malloc'd contents to the caller (free with free()); the buffer is left empty. */
char *plumb_buf_detach(struct plumb_buf *b, size_t *len);

/* ---------------------------------------------------------------- arena */

/*
 * Bump allocator for what one pass (one validation, one plan) builds. Everything is released at
 * once by plumb_arena_release. Allocations are 16-byte aligned. Out of memory returns NULL.
 */
struct plumb_arena_block;
struct plumb_arena {
	struct plumb_arena_block *head; /* newest block first */
	size_t used;                    /* bytes handed out in head */
	size_t total;                   /* bytes handed out in all blocks, for accounting */
};
#define PLUMB_ARENA_INIT { NULL, 0, 0 }
void *plumb_arena_alloc(struct plumb_arena *a, size_t n);
void *plumb_arena_zalloc(struct plumb_arena *a, size_t n);
char *plumb_arena_strdup(struct plumb_arena *a, const char *s);
char *plumb_arena_strndup(struct plumb_arena *a, const char *s, size_t n);
char *plumb_arena_printf(struct plumb_arena *a, const char *fmt, ...) PLUMB_PRINTF(2, 3);
void plumb_arena_release(struct plumb_arena *a);

/* ---------------------------------------------------------------- vector */

/* A vector of pointers; the vector does not own what they point at. */
struct plumb_vec {
	void **items; /* len valid entries */
	size_t len;   /* entries in use */
	size_t alloc; /* entries allocated */
};
#define PLUMB_VEC_INIT { NULL, 0, 0 }
int plumb_vec_push(struct plumb_vec *v, void *item);
void plumb_vec_release(struct plumb_vec *v);
void plumb_vec_sort(struct plumb_vec *v, int (*cmp)(const void *a, const void *b));

/* ---------------------------------------------------------------- map */

/*
 * String-keyed hash map with open addressing (FNV-1a, linear probing, load <= 1/2). Keys are
 * copied into the map; values are borrowed pointers. No deletion: the map lives for a pass.
 */
struct plumb_map_slot;
struct plumb_map {
	struct plumb_map_slot *slots; /* alloc entries, NULL key = empty */
	size_t len;                   /* keys present */
	size_t alloc;                 /* power of two, or 0 */
};
#define PLUMB_MAP_INIT { NULL, 0, 0 }
/* Sets key to value; returns 0, or PLUMB_EEXIST (value unchanged) when the key is present. */
int plumb_map_put(struct plumb_map *m, const char *key, void *value);
void *plumb_map_get(const struct plumb_map *m, const char *key);
void plumb_map_release(struct plumb_map *m);

/* ---------------------------------------------------------------- sha-256 */

/*
 * SHA-256 (FIPS 180-4). Written here rather than taken from OpenSSL because the pure core
 * (model, manifest) names immutable resources by spec hash and must link without OpenSSL
 * (STYLE.md); tests/base checks it against the FIPS vectors and against OpenSSL.
 */
struct plumb_sha256 {
	uint32_t h[8];      /* chaining state */
	uint64_t nbytes;    /* message length so far */
	uint8_t block[64];  /* pending partial block */
	size_t nblock;      /* bytes in block */
};
void plumb_sha256_init(struct plumb_sha256 *s);
void plumb_sha256_update(struct plumb_sha256 *s, const void *data, size_t n);
void plumb_sha256_final(struct plumb_sha256 *s, uint8_t out[32]);
void plumb_sha256(const void *data, size_t n, uint8_t out[32]);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void plumb_hex(const uint8_t *in, size_t n, char *out);

/* ---------------------------------------------------------------- clock */

/* Time comes through this so that backoff, signing and expiry are testable. */
struct plumb_clock {
	int64_t (*now_ms)(void *data);      /* wall clock, ms since the epoch (UTC) */
	int64_t (*mono_ms)(void *data);     /* monotonic ms, arbitrary origin */
	void *data;                         /* passed to both */
};
extern const struct plumb_clock plumb_clock_system;
int64_t plumb_clock_now_ms(const struct plumb_clock *c);
int64_t plumb_clock_mono_ms(const struct plumb_clock *c);
/* "2024-01-02T03:04:05Z" from ms since the epoch. out needs 21 bytes. */
void plumb_time_iso8601(int64_t ms, char out[21]);
/* Parses ISO-8601 UTC ("2024-01-02T03:04:05Z", fractions and +00:00 accepted) into ms. */
int plumb_time_parse_iso8601(const char *s, int64_t *ms);

/* ---------------------------------------------------------------- logging */

enum plumb_log_level { PLUMB_LOG_DEBUG, PLUMB_LOG_INFO, PLUMB_LOG_WARN, PLUMB_LOG_ERROR };
enum plumb_log_format { PLUMB_LOG_LOGFMT, PLUMB_LOG_JSON };
const char *plumb_log_level_name(enum plumb_log_level l);

/*
 * One line per event: ts, level, event, then key/value pairs given as a NULL-terminated list of
 * const char * (key, value, key, value, ..., NULL). A value whose key names a secret
 * (secret, token, signature, authorization, password, credential) is written as "[redacted]".
 * Output goes to the stream set by plumb_log_setup (stderr by default).
 */
void plumb_log_setup(FILE *out, enum plumb_log_level min, enum plumb_log_format fmt,
		     const struct plumb_clock *clock);
bool plumb_log_enabled(enum plumb_log_level l);
void plumb_log(enum plumb_log_level l, const char *event, ...) PLUMB_SENTINEL;
/* The same line, rendered into b (for tests and for status pages). */
int plumb_log_render(struct plumb_buf *b, enum plumb_log_format fmt, int64_t ts_ms,
		     enum plumb_log_level l, const char *event, va_list kv);

/* ---------------------------------------------------------------- files */

/* Reads a whole file, at most cap bytes (PLUMB_ELIMIT beyond), into b (appended). */
int plumb_fs_read(const char *path, size_t cap, struct plumb_buf *b, struct plumb_err *err);
/*
 * Collects manifest files under path: path itself when it is a file, else every *.yaml and
 * *.yml below it, recursively, skipping hidden entries, sorted by byte order of the full path
 * so the order is stable across machines. Pushes malloc'd strings onto out (caller frees each).
 */
int plumb_fs_find_manifests(const char *path, struct plumb_vec *out, struct plumb_err *err);

#endif

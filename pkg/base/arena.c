/*
 * Arena allocator: blocks of at least 64 KiB, each allocation bumped and 16-byte aligned.
 * A request larger than a block gets a block of its own, so nothing is ever wasted by more than
 * one block's tail. Freed all at once; there is no per-allocation free.
 */
#include "base.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK (64 * 1024)

struct plumb_arena_block {
	struct plumb_arena_block *next; /* older block */
	size_t size;                    /* usable bytes in data */
	_Alignas(16) unsigned char data[];
};

void *plumb_arena_alloc(struct plumb_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (!a->head || a->head->size - a->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		struct plumb_arena_block *blk = malloc(sizeof(*blk) + size);
		if (!blk)
			return NULL;
		blk->size = size;
		blk->next = a->head;
		a->head = blk;
		a->used = 0;
	}
	void *p = a->head->data + a->used;
	a->used += n;
	a->total += n;
	return p;
}

void *plumb_arena_zalloc(struct plumb_arena *a, size_t n)
{
	void *p = plumb_arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *plumb_arena_strndup(struct plumb_arena *a, const char *s, size_t n)
{
	char *p = plumb_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *plumb_arena_strdup(struct plumb_arena *a, const char *s)
{
	return plumb_arena_strndup(a, s, strlen(s));
}

char *plumb_arena_printf(struct plumb_arena *a, const char *fmt, ...)
{
	va_list ap, cp;
	va_start(ap, fmt);
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	char *p = n < 0 ? NULL : plumb_arena_alloc(a, (size_t)n + 1);
	if (p)
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void plumb_arena_release(struct plumb_arena *a)
{
	struct plumb_arena_block *b = a->head;
	while (b) {
		struct plumb_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
	a->total = 0;
}

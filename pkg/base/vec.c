/*
 * Pointer vectors and the string-keyed hash map. The map uses FNV-1a and linear probing at a
 * load factor of at most one half, which keeps probes short without tombstones: nothing is ever
 * removed from a map, because maps live for one pass and are released whole.
 */
#include "base.h"

#include <stdlib.h>
#include <string.h>

int plumb_vec_push(struct plumb_vec *v, void *item)
{
	if (v->len == v->alloc) {
		size_t n = v->alloc ? v->alloc * 2 : 8;
		void **p = realloc(v->items, n * sizeof(*p));
		if (!p)
			return PLUMB_ENOMEM;
		v->items = p;
		v->alloc = n;
	}
	v->items[v->len++] = item;
	return 0;
}

void plumb_vec_release(struct plumb_vec *v)
{
	free(v->items);
	v->items = NULL;
	v->len = v->alloc = 0;
}

void plumb_vec_sort(struct plumb_vec *v, int (*cmp)(const void *a, const void *b))
{
	if (v->len > 1)
		qsort(v->items, v->len, sizeof(void *), cmp);
}

struct plumb_map_slot {
	char *key;   /* malloc'd copy, NULL when empty */
	void *value; /* borrowed */
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct plumb_map_slot *find(const struct plumb_map *m, const char *key)
{
	size_t mask = m->alloc - 1;
	for (size_t i = fnv1a(key) & mask;; i = (i + 1) & mask) {
		struct plumb_map_slot *s = &m->slots[i];
		if (!s->key || strcmp(s->key, key) == 0)
			return s;
	}
}

static int rehash(struct plumb_map *m)
{
	size_t n = m->alloc ? m->alloc * 2 : 16;
	struct plumb_map old = *m;
	m->slots = calloc(n, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return PLUMB_ENOMEM;
	}
	m->alloc = n;
	for (size_t i = 0; i < old.alloc; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key) = old.slots[i];
	free(old.slots);
	return 0;
}

int plumb_map_put(struct plumb_map *m, const char *key, void *value)
{
	if ((m->len + 1) * 2 > m->alloc) {
		int rc = rehash(m);
		if (rc)
			return rc;
	}
	struct plumb_map_slot *s = find(m, key);
	if (s->key)
		return PLUMB_EEXIST;
	s->key = strdup(key);
	if (!s->key)
		return PLUMB_ENOMEM;
	s->value = value;
	m->len++;
	return 0;
}

void *plumb_map_get(const struct plumb_map *m, const char *key)
{
	if (!m->alloc)
		return NULL;
	struct plumb_map_slot *s = find(m, key);
	return s->key ? s->value : NULL;
}

void plumb_map_release(struct plumb_map *m)
{
	for (size_t i = 0; i < m->alloc; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->len = m->alloc = 0;
}

/* strset — see strset.h. */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t fnv1a(const char *k)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)k; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

/* The slot that holds key, or the empty one where it would go. */
static struct strset_slot *find_slot(const struct strset *s, const char *key)
{
	size_t mask = s->cap - 1;
	for (size_t i = (size_t)fnv1a(key) & mask;; i = (i + 1) & mask)
		if (!s->slots[i].key || strcmp(s->slots[i].key, key) == 0)
			return &s->slots[i];
}

/* Double the table (or make the first one) and put every key back. */
static void grow(struct strset *s)
{
	struct strset old = *s;
	s->cap = old.cap ? old.cap * 2 : 64;
	s->slots = xcalloc(s->cap, sizeof *s->slots);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find_slot(s, old.slots[i].key) = old.slots[i];
	free(old.slots);
}

bool strset_add(struct strset *s, const char *key, size_t value)
{
	if ((s->n + 1) * 2 > s->cap)   /* at most half full: probes stay short */
		grow(s);
	struct strset_slot *slot = find_slot(s, key);
	if (slot->key)
		return false;
	slot->key = xstrdup(key);
	slot->value = value;
	s->n++;
	return true;
}

bool strset_get(const struct strset *s, const char *key, size_t *value)
{
	if (!s->cap)
		return false;
	const struct strset_slot *slot = find_slot(s, key);
	if (slot->key && value)
		*value = slot->value;
	return slot->key != NULL;
}

void strset_done(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i].key);
	free(s->slots);
	*s = (struct strset){0};
}

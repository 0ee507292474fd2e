/* strset — a set of strings, each mapped to a number (an index into the
 * caller's array), found in constant time: what keeps verifying a bundle of
 * 150,000 members linear. Open addressing with FNV-1a; keys are copied.
 * Zero-initialise; strset_done frees. */
#ifndef FERRY_STRSET_H
#define FERRY_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct strset_slot {
	char *key;     /* NULL = empty */
	size_t value;
};

struct strset {
	struct strset_slot *slots;
	size_t cap, n;   /* cap is 0 or a power of two */
};

/* Add key → value; an existing key keeps its first value (returns false). */
bool strset_add(struct strset *s, const char *key, size_t value);
/* Whether key is in the set; *value (may be NULL) gets its value. */
bool strset_get(const struct strset *s, const char *key, size_t *value);
void strset_done(struct strset *s);

#endif

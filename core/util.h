/* util — memory helpers that never return NULL, and string vectors.
 *
 * Out of memory aborts the process with a message (DESIGN.md rule 5). */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);               /* xstrdup(NULL) returns NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable NULL-terminated vector of owned strings. */
struct strv {
	char **v;  /* v[n] == NULL when n > 0 */
	size_t n;
};

void strv_push(struct strv *sv, const char *s);   /* copies s */
void strv_done(struct strv *sv);                  /* frees the strings, resets */
bool strv_contains(const struct strv *sv, const char *s);
/* The strings joined with sep ("" for none); caller frees. */
char *strv_join(const struct strv *sv, const char *sep);

/* Levenshtein distance of two short strings (for did-you-mean). */
size_t util_edit_distance(const char *a, const char *b);

/* true when s starts with prefix / ends with suffix. */
bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);

#endif

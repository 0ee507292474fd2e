/* util — memory helpers that never return NULL, and string vectors.
 *
 * Out of memory aborts the process with a message (DESIGN.md rule 5). */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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

/* A growable byte buffer; data is NUL-terminated once anything was added.
 * Zero-initialise; sbuf_done frees, sbuf_take hands the string over. */
struct sbuf {
	char *data;
	size_t len, cap;
};
void sbuf_add(struct sbuf *b, const void *data, size_t len);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_done(struct sbuf *b);
/* The contents ("" when empty) for the caller to free; b is reset. */
char *sbuf_take(struct sbuf *b);

/* Monotonic seconds, for durations and pacing. */
double util_now(void);
/* UTC stamps: "20261121_195000" and "2026-11-21T19:50:00Z"; caller frees. */
char *util_stamp(time_t t);
char *util_iso_time(time_t t);
/* This machine's host name; caller frees. */
char *util_hostname(void);
/* "1.5 KiB", "3.2 MiB" (binary units, one decimal) into buf. */
const char *util_human_bytes(uint64_t n, char *buf, size_t len);

#endif

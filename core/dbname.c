/* dbname — derived database names that fit in 63 bytes. */
#include "dbname.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* FNV-1a: a short, stable fingerprint of the whole base. */
static uint32_t fingerprint(const char *s)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* The longest prefix of s of at most n bytes that ends on a character
 * boundary (a UTF-8 continuation byte is never the first one cut off). */
static size_t cut_at_char(const char *s, size_t n)
{
	size_t len = strlen(s);
	if (len <= n)
		return len;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* "_<kind>" plus "_<suffix>" when there is one, or a placeholder of
 * suffix_len bytes. */
static char *tail(const char *kind, const char *suffix, size_t suffix_len)
{
	if (suffix)
		return xasprintf("_%s_%s", kind, suffix);
	return suffix_len ? xasprintf("_%s_%*s", kind, (int)suffix_len, "") : xasprintf("_%s", kind);
}

/* Room kept for dbname_unique's "_2" .. "_99", so that a counted name has
 * the same head as the uncounted one and one prefix finds them all. */
#define COUNTER_ROOM 3

/* The base as it goes in front of a tail of tail_len bytes. */
static char *head(const char *base, size_t tail_len)
{
	if (strlen(base) + tail_len + COUNTER_ROOM <= DBNAME_MAX)
		return xstrdup(base);
	size_t room = DBNAME_MAX - tail_len - COUNTER_ROOM - 9;   /* "_" + 8 hex digits */
	size_t keep = cut_at_char(base, room);
	return xasprintf("%.*s_%08x", (int)keep, base, fingerprint(base));
}

/* "<head>_<kind>[_<suffix>]", and "_<n>" after it when n > 1. */
static char *derive_counted(const char *base, const char *kind, const char *suffix, int n)
{
	char *t = tail(kind, suffix, 0);
	char *h = head(base, strlen(t));
	char *name = n > 1 ? xasprintf("%s%s_%d", h, t, n) : xasprintf("%s%s", h, t);
	free(h);
	free(t);
	return name;
}

char *dbname_derive(const char *base, const char *kind, const char *suffix)
{
	return derive_counted(base, kind, suffix, 1);
}

char *dbname_prefix(const char *base, const char *kind, size_t suffix_len)
{
	char *t = tail(kind, NULL, suffix_len);
	char *h = head(base, strlen(t));
	char *prefix = suffix_len ? xasprintf("%s_%s_", h, kind) : xasprintf("%s_%s", h, kind);
	free(h);
	free(t);
	return prefix;
}

char *dbname_unique(const char *base, const char *kind, const char *suffix, dbname_exists_fn exists,
		    void *ud, struct err *e)
{
	for (int n = 1; n < 100; n++) {
		char *name = derive_counted(base, kind, suffix, n);
		int taken = strcmp(name, base) == 0 ? 1 : exists(ud, name, e);
		if (taken == 0)
			return name;
		free(name);
		if (taken < 0)
			return NULL;
	}
	err_set(e, ERR_FAILED, "no free name for a %s database of %s", kind, base);
	return NULL;
}

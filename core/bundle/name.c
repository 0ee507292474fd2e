/* bundle/name — member names: the one component check, and cleaning. */
#include "bundle/bundle_int.h"

#include <string.h>

#include "util.h"

enum {
	COMP_EMPTY = 1,    /* "" (a doubled or trailing '/') */
	COMP_DOT = 2,      /* "." */
	COMP_DOTDOT = 4,   /* ".." */
};

/* The COMP_* kinds found among the '/'-separated components of name. */
static unsigned component_kinds(const char *name)
{
	unsigned kinds = 0;
	for (const char *p = name;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0)
			kinds |= COMP_EMPTY;
		else if (len == 1 && p[0] == '.')
			kinds |= COMP_DOT;
		else if (len == 2 && p[0] == '.' && p[1] == '.')
			kinds |= COMP_DOTDOT;
		if (!slash)
			return kinds;
		p = slash + 1;
	}
}

/* true when name is a relative path of normal components. */
bool bundle_name_ok(const char *name)
{
	return name && *name && name[0] != '/' && component_kinds(name) == 0;
}

/* true when some component of name is "..". */
bool bundle_name_has_dotdot(const char *name)
{
	return (component_kinds(name) & COMP_DOTDOT) != 0;
}

/* rel without trailing slashes and leading "./"; caller frees. */
char *bundle_clean_rel(const char *rel)
{
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	size_t len = strlen(rel);
	while (len > 0 && rel[len - 1] == '/')
		len--;
	return xstrndup(rel, len);
}

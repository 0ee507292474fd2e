/* paths — ~ expansion and lexical cleaning of the paths a profile names
 * (nothing is required to exist). */
#include "profile_int.h"
#include "util.h"

#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- paths ------------------------------------------------------------- */

/* $HOME, else the password database's home, else "/". */
const char *profile_home_dir(void)
{
	const char *home = getenv("HOME");
	if (home && *home)
		return home;
	const struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

/* "~" and "~/..." at the start become $HOME; anything else is copied. */
static char *expand_tilde(const char *s)
{
	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/'))
		return xasprintf("%s%s", profile_home_dir(), s + 1);
	return xstrdup(s);
}

/* Lexically clean an absolute path: no empty or "." parts, ".." folded,
 * no trailing slash. Nothing is required to exist. */
static char *path_clean(const char *abs)
{
	char *out = xmalloc(strlen(abs) + 2);
	size_t o = 0;
	const char *s = abs;
	while (*s) {
		while (*s == '/')
			s++;
		const char *end = s;
		while (*end && *end != '/')
			end++;
		size_t n = (size_t)(end - s);
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (n > 0 && !(n == 1 && s[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, s, n);
			o += n;
		}
		s = end;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* s with ~ expanded, made absolute against base and cleaned. */
char *profile_path_resolve(const char *base, const char *s)
{
	char *t = expand_tilde(s);
	char *joined = t[0] == '/' ? xstrdup(t) : xasprintf("%s/%s", base, t);
	char *clean = path_clean(joined);
	free(joined);
	free(t);
	return clean;
}

/* A path relative to the current directory, made absolute; NULL when the
 * current directory cannot be read. */
char *profile_path_absolute(const char *path)
{
	if (path[0] == '/')
		return path_clean(path);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	char *joined = xasprintf("%s/%s", cwd, path);
	char *clean = path_clean(joined);
	free(joined);
	free(cwd);
	return clean;
}

/* The directory part of an absolute path ("/" for a top-level name). */
char *profile_path_dirname(const char *abs)
{
	const char *slash = strrchr(abs, '/');
	if (!slash || slash == abs)
		return xstrdup("/");
	return xstrndup(abs, (size_t)(slash - abs));
}

/* A relative path without ".." parts, cleaned ("." for the root itself);
 * NULL when s is absolute or climbs out. */
char *profile_relative_clean(const char *s)
{
	if (s[0] == '/' || s[0] == '\0')
		return NULL;
	char *rooted = xasprintf("/%s", s);
	const char *p = rooted;
	bool climbs = false;
	while (*p && !climbs) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		climbs = n == 2 && p[0] == '.' && p[1] == '.';
		p += n;
	}
	char *clean = climbs ? NULL : path_clean(rooted);
	free(rooted);
	if (!clean)
		return NULL;
	char *rel = xstrdup(clean[1] ? clean + 1 : ".");
	free(clean);
	return rel;
}

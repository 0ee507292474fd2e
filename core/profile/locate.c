/* locate — which profiles file: --profiles, $FERRY_PROFILES,
 * ./config/migration_profiles.json, the user's (XDG), the system's. */
#include "profile_int.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FERRY_SYSTEM_PROFILES
#define FERRY_SYSTEM_PROFILES "/etc/ferry/profiles.json"
#endif
#define LOCAL_PROFILES "./config/migration_profiles.json"

/* ---- locating the file -------------------------------------------------- */

/* 0 when path can be opened for reading as a file, else an errno value. */
static int readable(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return errno;
	struct stat st;
	int rc = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR : 0;
	fclose(f);
	return rc;
}

/* Whether anything is at path. */
static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The user's profiles file: $XDG_CONFIG_HOME or ~/.config. */
static char *user_profiles_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/ferry/profiles.json", xdg);
	return xasprintf("%s/.config/ferry/profiles.json", profile_home_dir());
}

/* A path named by the operator: it must be readable. */
static char *locate_named(const char *path, const char *from, struct err *e)
{
	int errnum = readable(path);
	if (errnum == 0)
		return xstrdup(path);
	err_set(e, ERR_PROFILE, "cannot read %s: %s", path, strerror(errnum));
	if (from)
		err_hint(e, "%s points there; fix or unset it", from);
	return NULL;
}

/* The first profiles file found, in the documented order. */
char *profile_locate(const char *explicit_path, struct err *e)
{
	if (explicit_path && *explicit_path)
		return locate_named(explicit_path, NULL, e);
	const char *env = getenv("FERRY_PROFILES");
	if (env && *env)
		return locate_named(env, "FERRY_PROFILES", e);
	if (exists(LOCAL_PROFILES))
		return xstrdup(LOCAL_PROFILES);
	char *user = user_profiles_path();
	if (exists(user))
		return user;
	if (exists(FERRY_SYSTEM_PROFILES)) {
		free(user);
		return xstrdup(FERRY_SYSTEM_PROFILES);
	}
	err_set(e, ERR_PROFILE, "no profiles file found");
	err_hint(e, "`ferry init` writes one; looked for --profiles FILE, $FERRY_PROFILES, %s, %s, %s"
		 " (profiles/README.md)", LOCAL_PROFILES, user, FERRY_SYSTEM_PROFILES);
	free(user);
	return NULL;
}

/* Where a new profiles file goes (see profile.h). */
char *profile_new_file_path(const char *explicit_path, bool user)
{
	if (explicit_path && *explicit_path)
		return xstrdup(explicit_path);
	if (user)
		return user_profiles_path();
	const char *env = getenv("FERRY_PROFILES");
	if (env && *env)
		return xstrdup(env);
	return xstrdup(LOCAL_PROFILES);
}

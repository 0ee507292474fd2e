/* wiz_check — checks of the answers that several wizards share. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wiz/wiz_check.h"

/* A directory given as an absolute path whose nearest existing part is a
 * writable directory. */
int wiz_check_abs_dir(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	(void)w;
	const char *v = f->line.text;
	struct stat sb;
	if (!*v)
		return snprintf(why, n, "give a directory"), -1;
	if (v[0] != '/')
		return snprintf(why, n, "\"%s\" is not an absolute path (it must start with /)", v), -1;
	char path[UI_LINE_MAX];
	snprintf(path, sizeof path, "%s", v);
	while (stat(path, &sb) < 0) {
		char *slash = strrchr(path, '/');
		if (!slash || slash == path) {
			snprintf(path, sizeof path, "/");
			break;
		}
		*slash = '\0';
	}
	if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode))
		return snprintf(why, n, "%s is a file, not a directory", path), -1;
	if (access(path, W_OK) != 0)
		return snprintf(why, n, "%s is not writable (%s)", path, strerror(errno)), -1;
	return 0;
}

/* Something must be typed. */
int wiz_check_nonempty(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	(void)w;
	if (f->line.len > 0)
		return 0;
	snprintf(why, n, "this cannot be empty");
	return -1;
}

/* A name for a new profile: letters, digits, - _ . and not taken. */
int wiz_check_profile_name(const char *text, const void *wiz, char *why, size_t n)
{
	const struct wiz *w = wiz;
	if (!*text)
		return snprintf(why, n, "give the new profile a name"), -1;
	if (strlen(text) > 64)
		return snprintf(why, n, "a profile name has at most 64 characters"), -1;
	for (const char *c = text; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_' || *c == '.'))
			return snprintf(why, n, "use letters, digits, '-', '_' and '.' only (not '%c')", *c), -1;
	for (size_t i = 0; w->pf && i < profile_file_count(w->pf); i++)
		if (strcmp(profile_file_at(w->pf, i)->name, text) == 0)
			return snprintf(why, n, "there is a profile \"%s\" already", text), -1;
	return 0;
}

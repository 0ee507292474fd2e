/* text — see text.h. */
#include "text.h"

#include <stddef.h>

/* Bytes a control character starts (1 or 2 for a UTF-8 C1 control), 0 for
 * anything else. */
static size_t control_len(const unsigned char *p, bool keep_newlines)
{
	if (*p == '\n' || *p == '\t')
		return keep_newlines ? 0 : 1;
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

char *text_clean(char *s, bool keep_newlines)
{
	if (!s)
		return s;
	unsigned char *in = (unsigned char *)s, *out = in;
	while (*in) {
		size_t n = control_len(in, keep_newlines);
		if (n) {
			*out++ = '?';
			in += n;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return s;
}

bool text_needs_clean(const char *s, bool keep_newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if (control_len(p, keep_newlines))
			return true;
	return false;
}

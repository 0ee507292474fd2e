/* libFuzzer target: a profiles file (core/profile/profile.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct err e = {0};
	profile_file *pf = profile_file_load_string(text, "/tmp/fuzz-profiles.json", &e);
	profile_file_free(pf);
	free(text);
	return 0;
}

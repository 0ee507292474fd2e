/* libFuzzer target: db/globals.sql as a bundle brings it (core/globals.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "globals.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct globals_script s;
	struct err e = {0};
	if (globals_parse(text, "fuzz", &s, &e) == 0)
		globals_script_done(&s);
	free(text);
	return 0;
}

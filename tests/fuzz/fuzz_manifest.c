/* libFuzzer target: manifest.json as a bundle brings it, through the parser
 * and the trust checks (core/manifest.h, core/trust.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct manifest m;
	struct err e = {0};
	if (manifest_parse(text, &m, &e) == 0) {
		trust_check_manifest(&m, "fuzz", &e);
		for (size_t i = 0; i < m.nmembers; i++) {
			struct bundle_entry ent = {.name = m.members[i].name, .type = BUNDLE_REG,
						   .size = m.members[i].size};
			struct strset links = {0};
			trust_check_member(&m, "fuzz", &ent, &links, &e);
			strset_done(&links);
		}
		manifest_done(&m);
	}
	free(text);
	return 0;
}

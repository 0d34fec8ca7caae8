/* fuzz_config.c - agora.conf as agorad parses it (node/config.c). */
#include <stdint.h>
#include <stdlib.h>

#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_config *c = malloc(sizeof(*c));
	if (!c)
		return 0;
	node_config_parse(c, (const char *)data, size, "fuzz.conf");
	free(c);
	return 0;
}

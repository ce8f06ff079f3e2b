/* mem_trim (util/memtrim.c): it unmaps clean text, the process keeps working
 * (code, constants, relocated data and the stack come back intact), and its
 * resident set shrinks. */
#include <stdlib.h>

#include "unit.h"
#include "util/memtrim.h"

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Dirties stack pages below later frames. */
static __attribute__((noinline)) unsigned deep_stack(void)
{
	volatile unsigned char big[256 * 1024];

	for (size_t i = 0; i < sizeof(big); i += 512)
		big[i] = (unsigned char)i;
	return big[512];
}

static const char *const greeting = "relocated pointer survives";

TEST(trims_and_keeps_working)
{
	char *heap[64];
	long before, after, unmapped;
	char out[64];

	for (int i = 0; i < 64; i++)
		heap[i] = malloc(16384);
	for (int i = 0; i < 64; i++) {
		memset(heap[i], 1, 16384);
		if (i % 2)
			free(heap[i]);
	}
	CHECK(deep_stack() == 0);
	before = rss_kb();
	unmapped = mem_trim();
	after = rss_kb();
	CHECK(unmapped > 0);
	CHECK(before > 0 && after > 0 && after < before);
	/* Code, relocated data and the heap still work. */
	snprintf(out, sizeof(out), "%s %d", greeting, 42);
	CHECK_STR(out, "relocated pointer survives 42");
	for (int i = 0; i < 64; i += 2) {
		CHECK(heap[i][16383] == 1);
		free(heap[i]);
	}
	CHECK(deep_stack() == 0);
	CHECK(mem_trim() >= 0);
	fprintf(stderr, "rss %ld kB -> %ld kB (%ld kB of mappings dropped)\n", before, after,
		unmapped / 1024);
}

int main(void)
{
	RUN(trims_and_keeps_working);
	return UNIT_DONE();
}

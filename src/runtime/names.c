/*
 * Names for containers started without --name, in docker's "adjective_surname"
 * style, so that `ps` always has something to show and to type. The surnames
 * are scientists and engineers whose work computing rests on.
 */
#include "runtime/names.h"

#include <stdio.h>

#include "util/cleanup.h"

static const char *const adjectives[] = {
	"agile",   "bold",	 "brave",   "bright",  "calm",	   "clever", "curious",
	"daring",  "eager",	 "earnest", "elegant", "fearless", "gentle", "happy",
	"honest",  "humble",	 "keen",    "kind",    "lively",   "lucid",  "merry",
	"modest",  "nimble",	 "patient", "plucky",  "quick",    "quiet",  "sharp",
	"serene",  "steady",	 "swift",   "tender",  "tidy",	   "upbeat", "vivid",
	"wise",	   "witty",	 "zealous", "jolly",   "frosty",
};

static const char *const surnames[] = {
	"babbage",  "backus",	"bardeen", "boole",    "cerf",	   "church",   "codd",
	"conway",   "dijkstra", "engelbart", "feynman", "floyd",  "goldberg", "hamming",
	"hopper",   "huffman",	"kahan",   "kay",      "knuth",	   "lamport",  "liskov",
	"lovelace", "mccarthy", "minsky",  "noether",  "perlman",  "ritchie",  "shannon",
	"shamir",   "stallman", "sutherland", "tarjan", "thompson", "torvalds", "turing",
	"vonneumann", "wilkes", "wing",	   "wirth",    "yao",
};

void names_generate(uint32_t random, unsigned attempt, char *out, size_t cap)
{
	const char *adj = adjectives[random % ARRAY_SIZE(adjectives)];
	const char *sur = surnames[(random / ARRAY_SIZE(adjectives)) % ARRAY_SIZE(surnames)];

	/* docker too appends a number once plain names keep colliding */
	if (attempt == 0)
		snprintf(out, cap, "%s_%s", adj, sur);
	else
		snprintf(out, cap, "%s_%s%u", adj, sur, attempt);
}

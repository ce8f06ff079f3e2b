/* Generated container names ("eager_turing"), as docker gives them. */
#ifndef SKIFF_RUNTIME_NAMES_H
#define SKIFF_RUNTIME_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* A name from 32 random bits; attempt > 0 appends that number (for retries
 * after a collision). */
void names_generate(uint32_t random, unsigned attempt, char *out, size_t cap);

#endif

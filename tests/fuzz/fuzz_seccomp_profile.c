/*
 * Fuzz the docker JSON seccomp profile parser (--security-opt seccomp=FILE):
 * any bytes must give a profile or an error, never a crash or a leak; a
 * profile that parses must also compile or fail cleanly.
 */
#include <stddef.h>
#include <stdint.h>

#include "runtime/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seccomp_profile p;
	struct seccomp_prog prog;
	struct sk_err err;

	if (seccomp_profile_parse((const char *)data, size, "fuzz.json", &p, &err) < 0)
		return 0;
	/* Compiling is slow (libseccomp); only small profiles, to keep the fuzzer fast. */
	if (p.n_rules <= 8 && seccomp_compile(&p, size & 1 ? ~0ULL : 0, &prog, &err) == 0)
		seccomp_prog_release(&prog);
	seccomp_profile_release(&p);
	return 0;
}

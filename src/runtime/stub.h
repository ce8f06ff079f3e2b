/*
 * skiff-init as a sealed memfd (stub_proto.h says why and how it is called).
 * The parent makes the memfd before entering a container; the process that
 * enters it execs skiff-init from the memfd as its very last step, so no
 * process in a container ever runs, or can open, the host's skiff binary.
 */
#ifndef SKIFF_RUNTIME_STUB_H
#define SKIFF_RUNTIME_STUB_H

#include "runtime/stub_proto.h"
#include "util/err.h"

/* A close-on-exec memfd holding skiff-init, sealed against every change. */
int stub_memfd(struct sk_err *err);

/* execveat skiff-init from memfd in mode (STUB_MODE_*), which runs args with
 * env. Returns only on failure: -1 with err. The sync socket must be at
 * STUB_SYNC_FD and not close-on-exec. */
int stub_exec(int memfd, const char *mode, char *const *args, char *const *env,
	      struct sk_err *err);

#endif

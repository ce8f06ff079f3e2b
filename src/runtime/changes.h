/*
 * What a container changed, from its overlay upper directory, as docker's
 * overlay driver reports it (`docker diff`):
 *   D  a whiteout (0:0 character device), or an opaque directory that
 *      existed in the image (docker's way: it was removed and made again);
 *   C  something the image has too (a directory only when its mode, size
 *      or mtime differ, or when something was added or deleted in it);
 *   A  the rest.
 * Paths are absolute ("/etc/passwd"). The order is the upper directory's,
 * each directory's names sorted (docker's own order is not stable).
 */
#ifndef SKIFF_RUNTIME_CHANGES_H
#define SKIFF_RUNTIME_CHANGES_H

#include "runtime/copy.h"
#include "util/err.h"

typedef int (*change_fn)(void *ctx, char kind, const char *path, struct sk_err *err);

int ctr_changes(const struct ctr_layers *l, change_fn fn, void *ctx, struct sk_err *err);

#endif

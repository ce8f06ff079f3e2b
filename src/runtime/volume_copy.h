/*
 * The copy of an image's content into a new volume on its first use
 * (volume_copy.c). Runs in the container's first process, before the
 * container's mounts: mounts.c calls it for each mount marked "populate".
 */
#ifndef SKIFF_RUNTIME_VOLUME_COPY_H
#define SKIFF_RUNTIME_VOLUME_COPY_H

#include "util/err.h"

/* When the volume at data_path (<store>/volumes/NAME/_data) is empty, copy
 * into it what the container's root (rootfd) has at dest, resolved inside
 * the root. Nothing at dest: nothing to do. A file at dest: docker's error. */
int volume_copy_up(int rootfd, const char *dest, const char *data_path, struct sk_err *err);

#endif

/*
 * Changing an image config's "config" object with Dockerfile instructions,
 * as `commit --change` and `import --change` do (and, later, the builder):
 *   CMD / ENTRYPOINT   exec form ["a","b"] or shell form (-> /bin/sh -c)
 *   ENV k=v ... | ENV k v
 *   LABEL k=v ...      EXPOSE 80 53/udp 8000-8002
 *   WORKDIR path (relative: from the current one)      USER u[:g]
 *   VOLUME ["/a"] | /a /b      STOPSIGNAL sig
 * $VAR and ${VAR} (with :- and :+) are replaced from the config's Env in
 * ENV, LABEL, EXPOSE, WORKDIR, USER, VOLUME and STOPSIGNAL, as docker's
 * builder does. An ENTRYPOINT clears Cmd unless a CMD came earlier in the
 * same set of changes.
 */
#ifndef SKIFF_CONFIG_EDIT_H
#define SKIFF_CONFIG_EDIT_H

#include <stdbool.h>

#include <jansson.h>

#include "util/err.h"

struct config_edit {
	json_t *config; /* the image config's "config" object (borrowed) */
	bool cmd_set;	/* a CMD was applied: a later ENTRYPOINT keeps it */
};

/* Apply one instruction line. Errors name the instruction:
 * "invalid change 'FROM x': FROM is not allowed (CMD, ENTRYPOINT, ENV, ...)". */
int config_edit_apply(struct config_edit *ed, const char *line, struct sk_err *err);

#endif

/*
 * The part of Go's text/template that scripts use with `docker inspect -f`
 * and `docker ps --format`, evaluated over a JSON value (jansson):
 *
 *   text {{.A.B}} text        field paths ("." is the value itself)
 *   {{json .A}}               functions: json, upper, lower, title, join, split,
 *   {{index .A "k" 0}}        index, len, print, println, truncate
 *   {{.A | json}}             pipelines, (parenthesised pipelines) as arguments
 *   {{- .A -}}                whitespace trimming; comment actions are skipped
 *
 * Values print as Go prints them: strings raw, numbers, true/false, lists
 * "[a b]", maps "map[k:v]", null "<no value>". Anything else (if, range,
 * with, variables, unknown functions) is refused with a clear error rather
 * than printed wrong; so is a missing map key, as docker does.
 */
#ifndef SKIFF_GOTEMPLATE_H
#define SKIFF_GOTEMPLATE_H

#include <jansson.h>

#include "util/buf.h"
#include "util/err.h"

/* Append the rendering of tmpl with dot = root to out. */
int gotemplate_render(const char *tmpl, json_t *root, struct buf *out, struct sk_err *err);

#endif

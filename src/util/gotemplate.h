/*
 * Go's text/template as scripts use it with `docker inspect -f` and
 * `docker ps --format`, evaluated over a JSON value (jansson):
 *
 *   text {{.A.B}} text          field paths ("." is the value itself)
 *   {{if P}} {{else if P}} {{else}} {{end}}, {{with P}}, {{range P}}
 *   {{range $i, $e := .L}} {{break}} {{continue}}, over lists, maps and ints
 *   {{$x := P}} {{$x = P}} {{$.A}}  variables, "$" is the root
 *   {{.A | json}} (P) pipelines; functions: json upper lower title join split
 *   pad truncate index len print printf println eq ne lt le gt ge and or not
 *   {{- .A -}}, {{/ * comment * /}}  whitespace trimming and comments
 *
 * Values print as Go prints them: strings raw, numbers, true/false, lists
 * "[a b]", maps "map[k:v]", null "<no value>". A missing map key in a field
 * path is an error, as in docker inspect. define/template/block are refused.
 *
 * The whole template is parsed before anything runs, so a syntax error in a
 * branch that is not taken is still reported, as Go does.
 */
#ifndef SKIFF_GOTEMPLATE_H
#define SKIFF_GOTEMPLATE_H

#include <stdbool.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/err.h"

struct gotemplate;

/* Parse tmpl (copied); *out is freed with gotemplate_free(). */
int gotemplate_parse(const char *tmpl, struct gotemplate **out, struct sk_err *err);
/* Append the rendering with dot = root to out. With header set, the value is
 * a table's header (field -> column title) and the functions that change a
 * value (json, upper, ...) return it unchanged, as docker's header does. */
int gotemplate_exec(const struct gotemplate *t, json_t *root, bool header, struct buf *out,
		    struct sk_err *err);
void gotemplate_free(struct gotemplate *t);

/* Parse and execute once. */
int gotemplate_render(const char *tmpl, json_t *root, struct buf *out, struct sk_err *err);

/*
 * docker's --format of a list command (ps, images, ...). format "" or "table"
 * means default_table; "json" one JSON object per row (keys sorted); "table
 * TEMPLATE" a header row (the template over header) then one row per object,
 * aligned as docker's tabwriter aligns them (cells end at a tab); any other
 * format is the template once per row, each followed by a newline. As docker
 * does, spaces around the format are trimmed and "\t" and "\n" in it are
 * escapes. rows is a JSON array of objects.
 */
int gotemplate_format_list(const char *format, const char *default_table, json_t *header,
			   json_t *rows, struct buf *out, struct sk_err *err);

#endif

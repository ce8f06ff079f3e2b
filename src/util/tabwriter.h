/*
 * docker's table output: Go's text/tabwriter as the docker CLI sets it up
 * (minimum width 10, padding 3, spaces), and the two ways docker shortens and
 * quotes a cell (formatter.Ellipsis, strconv.Quote). Widths count characters
 * (UTF-8 code points), as tabwriter does, not bytes.
 */
#ifndef SKIFF_TABWRITER_H
#define SKIFF_TABWRITER_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

struct tabwriter {
	size_t ncols;
	size_t nrows;
	char **cells; /* nrows * ncols, owned */
};

void tabwriter_init(struct tabwriter *t, size_t ncols);
/* Add a row of exactly t->ncols cells (copied). */
int tabwriter_add(struct tabwriter *t, const char *const *cells, struct sk_err *err);
/* Print every row: each column but the last padded to its widest cell + 3
 * (at least 10); the last column as is. */
void tabwriter_print(const struct tabwriter *t, FILE *out);
void tabwriter_release(struct tabwriter *t);

/* Align text whose cells end at '\t' as Go's text/tabwriter does with the
 * settings above (docker's `--format 'table ...'`): a column's width is set
 * per block of consecutive lines that have that column; the text after a
 * line's last tab is not aligned. Appends to out; -1 when out is full or
 * the text has more than TAB_MAX_COLUMNS columns. */
#define TAB_MAX_COLUMNS 1024
struct buf;
int tabwriter_align(const char *text, size_t len, struct buf *out);

/* Characters (UTF-8 code points) in s. */
size_t utf8_width(const char *s);
/* docker's Ellipsis: s when it has at most max characters, else its first
 * max-1 characters and "…". */
void tab_ellipsis(const char *s, size_t max, char *out, size_t len);
/* Go's strconv.Quote: "..." with \" \\ \n \t and \xNN for other control bytes;
 * printable UTF-8 is kept. */
void tab_go_quote(const char *s, char *out, size_t len);

#endif

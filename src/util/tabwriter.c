/*
 * docker's table layout and cell formatting (tabwriter.h).
 */
#include "util/tabwriter.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define TAB_MIN_WIDTH 10
#define TAB_PADDING 3

void tabwriter_init(struct tabwriter *t, size_t ncols)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
}

int tabwriter_add(struct tabwriter *t, const char *const *cells, struct sk_err *err)
{
	char **grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*grown));
	char **row;

	if (!grown)
		return err_set(err, ENOMEM, "cannot build the table");
	t->cells = grown;
	row = &t->cells[t->nrows * t->ncols];
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return err_set(err, ENOMEM, "cannot build the table");
		}
	}
	t->nrows++;
	return 0;
}

size_t utf8_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void tabwriter_print(const struct tabwriter *t, FILE *out)
{
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));

	if (!width)
		return;
	for (size_t c = 0; c + 1 < t->ncols; c++) {
		width[c] = TAB_MIN_WIDTH;
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = utf8_width(t->cells[r * t->ncols + c]) + TAB_PADDING;
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r < t->nrows; r++) {
		char *const *row = &t->cells[r * t->ncols];
		for (size_t c = 0; c + 1 < t->ncols; c++)
			fprintf(out, "%s%*s", row[c], (int)(width[c] - utf8_width(row[c])), "");
		if (t->ncols)
			fprintf(out, "%s", row[t->ncols - 1]);
		fputc('\n', out);
	}
	free(width);
}

void tabwriter_release(struct tabwriter *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

void tab_ellipsis(const char *s, size_t max, char *out, size_t len)
{
	size_t chars = 0, bytes = 0;

	if (utf8_width(s) <= max) {
		snprintf(out, len, "%s", s);
		return;
	}
	if (max == 0) {
		snprintf(out, len, "%s", "");
		return;
	}
	/* Keep max-1 whole characters. */
	while (s[bytes] && chars < max - 1) {
		bytes++;
		while (((unsigned char)s[bytes] & 0xc0) == 0x80)
			bytes++;
		chars++;
	}
	snprintf(out, len, "%.*s\u2026", (int)bytes, s);
}

void tab_go_quote(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (len < 3) {
		if (len)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		size_t n;

		if (*p == '"' || *p == '\\')
			n = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p == '\n')
			n = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (*p == '\t')
			n = (size_t)snprintf(esc, sizeof(esc), "\\t");
		else if (*p == '\r')
			n = (size_t)snprintf(esc, sizeof(esc), "\\r");
		else if (*p < 0x20 || *p == 0x7f)
			n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			n = (size_t)snprintf(esc, sizeof(esc), "%c", *p);
		if (o + n + 2 > len)
			break; /* room for the closing quote and NUL */
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* --- Go's tabwriter over text ---------------------------------------------- */

struct tw_line {
	const char *start; /* cells separated by '\t' */
	size_t len, ncells;
	bool newline; /* ended by '\n' */
};

struct tw {
	struct tw_line *lines;
	size_t nlines;
	size_t widths[TAB_MAX_COLUMNS];
	size_t nwidths;
	struct buf *out;
};

/* Cell i of a line: its text and length. */
static const char *tw_cell(const struct tw_line *l, size_t i, size_t *len)
{
	const char *s = l->start, *end = l->start + l->len, *tab;

	while (i-- > 0)
		s = (const char *)memchr(s, '\t', (size_t)(end - s)) + 1;
	tab = memchr(s, '\t', (size_t)(end - s));
	*len = (size_t)((tab ? tab : end) - s);
	return s;
}

static size_t tw_width(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static int tw_write_lines(struct tw *t, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const struct tw_line *l = &t->lines[i];
		for (size_t j = 0; j < l->ncells; j++) {
			size_t len;
			const char *s = tw_cell(l, j, &len);
			if (buf_append(t->out, s, len) < 0)
				return -1;
			if (j < t->nwidths &&
			    buf_appendf(t->out, "%*s", (int)(t->widths[j] - tw_width(s, len)), "") < 0)
				return -1;
		}
		if (l->newline && buf_append(t->out, "\n", 1) < 0)
			return -1;
	}
	return 0;
}

/* text/tabwriter's format(): find each block of lines that have a cell in
 * this column, size the column over the block, then the columns right of it. */
static int tw_format(struct tw *t, size_t line0, size_t line1)
{
	size_t column = t->nwidths;

	for (size_t this = line0; this < line1; this++) {
		size_t width = TAB_MIN_WIDTH;

		if (column + 1 >= t->lines[this].ncells)
			continue;
		if (tw_write_lines(t, line0, this) < 0)
			return -1;
		line0 = this;
		for (; this < line1 && column + 1 < t->lines[this].ncells; this++) {
			size_t len;
			const char *s = tw_cell(&t->lines[this], column, &len);
			if (tw_width(s, len) + TAB_PADDING > width)
				width = tw_width(s, len) + TAB_PADDING;
		}
		t->widths[t->nwidths++] = width;
		if (tw_format(t, line0, this) < 0)
			return -1;
		t->nwidths--;
		line0 = this;
	}
	return tw_write_lines(t, line0, line1);
}

int tabwriter_align(const char *text, size_t len, struct buf *out)
{
	struct tw *t = calloc(1, sizeof(*t));
	const char *p = text, *end = text + len;
	size_t cap = 0;
	int r = -1;

	if (!t)
		return -1;
	t->out = out;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		struct tw_line l = { p, (size_t)(e - p), 1, nl != NULL };

		for (const char *q = p; q < e; q++)
			l.ncells += *q == '\t';
		if (l.ncells > TAB_MAX_COLUMNS)
			goto out;
		if (t->nlines == cap) {
			struct tw_line *grown = realloc(t->lines, (cap = cap ? cap * 2 : 64) * sizeof(*grown));
			if (!grown)
				goto out;
			t->lines = grown;
		}
		t->lines[t->nlines++] = l;
		p = nl ? nl + 1 : end;
	}
	r = tw_format(t, 0, t->nlines);
out:
	free(t->lines);
	free(t);
	return r;
}

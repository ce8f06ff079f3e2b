/*
 * docker's table layout and cell formatting (tabwriter.h).
 */
#include "util/tabwriter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * Fuzz the Go template engine (--format and inspect -f are user input, and
 * the Engine API will pass them from clients): any template renders within
 * the output bound or fails with one error line; the table form, which also
 * runs the header and the tabwriter, holds the same promise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/gotemplate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc[] =
	"{\"Id\":\"abc\",\"Name\":\"/web\",\"State\":{\"Status\":\"running\",\"Pid\":42,"
	"\"Running\":true},\"Config\":{\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"a\":\"1\"},"
	"\"Entrypoint\":null},\"Ratio\":0.5,\"N\":3}";

static void check(int r, const struct buf *out, const struct sk_err *err)
{
	if (r < 0 && (!err->msg[0] || strchr(err->msg, '\n')))
		__builtin_trap();
	if (out->len > out->max)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *tmpl = malloc(size + 1);
	json_t *root = json_loads(doc, 0, NULL);
	json_t *rows = json_pack("[O, O]", root, root);
	json_t *header = json_pack("{s:s, s:s}", "Id", "ID", "Name", "NAME");
	struct buf out = BUF_INIT(1 << 20);
	struct sk_err err = { 0 };

	if (!tmpl || !root || !rows || !header)
		goto done;
	memcpy(tmpl, data, size);
	tmpl[size] = '\0';
	check(gotemplate_render(tmpl, root, &out, &err), &out, &err);
	buf_release(&out);
	err = (struct sk_err){ 0 };
	/* As `ps --format 'table ...'` gives it. */
	if (size > 6 && !strncmp(tmpl, "table ", 6))
		check(gotemplate_format_list(tmpl, NULL, header, rows, &out, &err), &out, &err);
done:
	buf_release(&out);
	json_decref(header);
	json_decref(rows);
	json_decref(root);
	free(tmpl);
	return 0;
}

/* The Go template subset of inspect -f / ps --format (util/gotemplate.c). */
#include <jansson.h>
#include <stdlib.h>

#include "unit.h"
#include "util/gotemplate.h"

static const char doc[] =
	"{\"Id\":\"abc\",\"Name\":\"/web\",\"State\":{\"Status\":\"running\",\"Pid\":42,"
	"\"Running\":true,\"Error\":\"\"},\"Config\":{\"Env\":[\"A=1\",\"B=2\"],"
	"\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"Entrypoint\":null},\"Ratio\":0.5}";

static char result[4096];
static char errmsg[1024];

/* Renders; returns 0 or -1 and leaves the output / error message in the statics. */
static int render(const char *tmpl)
{
	json_t *root = json_loads(doc, 0, NULL);
	struct buf out = BUF_INIT(1 << 20);
	struct sk_err err = { 0 };
	int r = gotemplate_render(tmpl, root, &out, &err);

	snprintf(result, sizeof(result), "%s", out.data ? out.data : "");
	snprintf(errmsg, sizeof(errmsg), "%s", err.msg);
	buf_release(&out);
	json_decref(root);
	return r;
}

TEST(fields)
{
	CHECK(render("{{.State.Status}}") == 0);
	CHECK_STR(result, "running");
	CHECK(render("{{ .Name }} pid={{.State.Pid}} {{.State.Running}}") == 0);
	CHECK_STR(result, "/web pid=42 true");
	CHECK(render("{{.Config.Env}}") == 0);
	CHECK_STR(result, "[A=1 B=2]");
	CHECK(render("{{.Config.Labels}}") == 0);
	CHECK_STR(result, "map[a:1 b:2]");
	CHECK(render("{{.Config.Entrypoint}}") == 0);
	CHECK_STR(result, "<no value>");
	CHECK(render("{{.Ratio}}|{{.State.Error}}|") == 0);
	CHECK_STR(result, "0.5||");
	CHECK(render("plain text") == 0);
	CHECK_STR(result, "plain text");
}

TEST(functions)
{
	CHECK(render("{{json .State}}") == 0);
	CHECK_STR(result, "{\"Status\":\"running\",\"Pid\":42,\"Running\":true,\"Error\":\"\"}");
	CHECK(render("{{json .Name}}") == 0);
	CHECK_STR(result, "\"/web\"");
	CHECK(render("{{.Name | upper}}") == 0);
	CHECK_STR(result, "/WEB");
	CHECK(render("{{join .Config.Env \",\"}}") == 0);
	CHECK_STR(result, "A=1,B=2");
	CHECK(render("{{index .Config.Labels \"a\"}}{{index .Config.Env 1}}") == 0);
	CHECK_STR(result, "1B=2");
	CHECK(render("{{len .Config.Env}} {{lower (index .Config.Env 0)}}") == 0);
	CHECK_STR(result, "2 a=1");
	CHECK(render("{{println .Id .State.Pid}}") == 0);
	CHECK_STR(result, "abc 42\n");
	CHECK(render("{{truncate .Id 2}}") == 0);
	CHECK_STR(result, "ab");
	CHECK(render("{{json .}}") == 0);
	CHECK(result[0] == '{');
}

TEST(trimming_and_comments)
{
	CHECK(render("a  {{- .Id -}}  b{{/* note */}}") == 0);
	CHECK_STR(result, "aabcb");
}

TEST(errors)
{
	CHECK(render("{{.State.Health.Status}}") < 0);
	CHECK(strstr(errmsg, "map has no entry for key \"Health\"") != NULL);
	CHECK(render("{{range .Config.Env}}{{.}}{{end}}") < 0);
	CHECK(strstr(errmsg, "\"range\" is not supported") != NULL);
	CHECK(render("{{.Name.Foo}}") < 0);
	CHECK(strstr(errmsg, "can't evaluate field Foo") != NULL);
	CHECK(render("{{.Id") < 0);
	CHECK(render("{{$x := .Id}}") < 0);
	CHECK(render("{{json}}") < 0);
	CHECK(render("{{.Id .Name}}") < 0);
	CHECK(render("{{\"unterminated}}") < 0);
	CHECK(render("{{}}") < 0);
	CHECK(render("{{(.Id}}") < 0);
	/* Nothing half-printed on error is the caller's business; the error names the action. */
	CHECK(render("{{nosuch .Id}}") < 0);
	CHECK(strstr(errmsg, "nosuch") != NULL);
}

int main(void)
{
	RUN(fields);
	RUN(functions);
	RUN(trimming_and_comments);
	RUN(errors);
	return UNIT_DONE();
}

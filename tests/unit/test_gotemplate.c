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

TEST(control_structures)
{
	CHECK(render("{{if .State.Running}}up{{else}}down{{end}}") == 0);
	CHECK_STR(result, "up");
	CHECK(render("{{if eq .State.Status \"exited\"}}E{{else if eq .State.Status \"running\"}}R"
		     "{{else}}O{{end}}") == 0);
	CHECK_STR(result, "R");
	CHECK(render("{{if .State.Error}}err{{end}}|{{if not .State.Error}}none{{end}}") == 0);
	CHECK_STR(result, "|none");
	CHECK(render("{{range .Config.Env}}[{{.}}]{{else}}none{{end}}") == 0);
	CHECK_STR(result, "[A=1][B=2]");
	CHECK(render("{{range .Config.Entrypoint}}x{{else}}none{{end}}") == 0);
	CHECK_STR(result, "none");
	/* Maps in key order, with $k and $v; "." is the value inside. */
	CHECK(render("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}") == 0);
	CHECK_STR(result, "a=1;b=2;");
	CHECK(render("{{range $i, $e := .Config.Env}}{{$i}}:{{.}} {{end}}") == 0);
	CHECK_STR(result, "0:A=1 1:B=2 ");
	/* $ is the root inside range and with. */
	CHECK(render("{{range .Config.Env}}{{$.Id}}{{end}}") == 0);
	CHECK_STR(result, "abcabc");
	CHECK(render("{{with .State}}{{.Pid}}{{end}} {{with .State.Error}}x{{else}}empty{{end}}") == 0);
	CHECK_STR(result, "42 empty");
	CHECK(render("{{range .Config.Env}}{{if eq . \"A=1\"}}{{continue}}{{end}}{{.}}{{end}}") == 0);
	CHECK_STR(result, "B=2");
	CHECK(render("{{range .Config.Env}}{{.}}{{break}}{{end}}") == 0);
	CHECK_STR(result, "A=1");
	CHECK(render("{{range 3}}{{.}}{{end}}") == 0);
	CHECK_STR(result, "012");
}

TEST(variables)
{
	CHECK(render("{{$n := .Name}}{{range .Config.Env}}{{$n}}:{{.}} {{end}}") == 0);
	CHECK_STR(result, "/web:A=1 /web:B=2 ");
	CHECK(render("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}") == 0);
	CHECK_STR(result, "2");
	CHECK(render("{{$s := .State}}{{$s.Pid}} {{$.State.Status}}") == 0);
	CHECK_STR(result, "42 running");
	/* A variable ends with the control structure that declared it. */
	CHECK(render("{{if true}}{{$y := 1}}{{end}}{{$y}}") < 0);
	CHECK(strstr(errmsg, "undefined variable \"$y\"") != NULL);
}

TEST(comparisons)
{
	CHECK(render("{{eq .State.Status \"running\" \"exited\"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} "
		     "{{gt 1 2}} {{ge \"b\" \"a\"}}") == 0);
	CHECK_STR(result, "true true true true false true");
	CHECK(render("{{if and .State.Running (gt .State.Pid 0)}}up{{end}} {{or .State.Error \"none\"}}"
		     " {{and 1 0 2}} {{or 0 \"\"}}") == 0);
	CHECK_STR(result, "up none 0 ");
	/* and/or stop at the deciding operand: the failing index is never run. */
	CHECK(render("{{and false (index .Config.Env 9)}}") == 0);
	CHECK_STR(result, "false");
	CHECK(render("{{lt 1 \"a\"}}") < 0);
	CHECK(strstr(errmsg, "incompatible types for comparison") != NULL);
	CHECK(render("{{eq .Config.Env 1}}") < 0);
	CHECK(render("{{eq .Config.Entrypoint \"x\"}}") == 0);
	CHECK_STR(result, "false");
}

TEST(printf_like_go)
{
	CHECK(render("{{printf \"%5s|%-4d|%q|%v|%x|%t|%.2f|%%\" .Name 7 .Name .Config.Env 255 true"
		     " .Ratio}}") == 0);
	CHECK_STR(result, " /web|7   |\"/web\"|[A=1 B=2]|ff|true|0.50|%");
	CHECK(render("{{printf \"%d %s\" \"x\"}}") == 0);
	CHECK_STR(result, "%!d(string=x) %!s(MISSING)");
	CHECK(render("{{printf \"%s\" 1 2}}") == 0);
	CHECK_STR(result, "%!s(int=1)%!(EXTRA int=2)");
	CHECK(render("{{.Id | printf \"%.2s\"}}") == 0);
	CHECK_STR(result, "ab");
	CHECK(render("{{print 1 2 \"a\" \"b\"}}") == 0);
	CHECK_STR(result, "1 2ab");
}

TEST(docker_functions)
{
	CHECK(render("{{split \"a,b,c\" \",\"}} {{join (split \"a,b,c\" \",\") \"+\"}} "
		     "{{title \"hello world\"}} {{len (split \"a,b\" \",\")}} "
		     "{{index (split \"a,b\" \",\") 1}}") == 0);
	CHECK_STR(result, "[a b c] a+b+c Hello World 2 b");
	/* A missing key of a string map is "" (docker's typed Labels). */
	CHECK(render("{{index .Config.Labels \"nosuch\"}}|") == 0);
	CHECK_STR(result, "|");
	CHECK(render("{{index .Config.Env 9}}") < 0);
	CHECK(strstr(errmsg, "index out of range: 9") != NULL);
	CHECK(render("{{(index .Config.Env 0) | len}} {{(.State).Pid}}") == 0);
	CHECK_STR(result, "3 42");
	CHECK(render("{{pad .Id 1 2}}|") == 0);
	CHECK_STR(result, " abc  |");
}

TEST(errors)
{
	CHECK(render("{{.State.Health.Status}}") < 0);
	CHECK(strstr(errmsg, "map has no entry for key \"Health\"") != NULL);
	CHECK(render("{{.Name.Foo}}") < 0);
	CHECK(strstr(errmsg, "can't evaluate field Foo") != NULL);
	CHECK(render("{{.Id") < 0);
	CHECK(render("{{$x}}") < 0);
	CHECK(strstr(errmsg, "undefined variable \"$x\"") != NULL);
	CHECK(render("{{json}}") < 0);
	CHECK(render("{{.Id .Name}}") < 0);
	CHECK(render("{{\"unterminated}}") < 0);
	CHECK(render("{{}}") < 0);
	CHECK(render("{{(.Id}}") < 0);
	CHECK(render("{{if}}x{{end}}") < 0);
	CHECK(render("{{if .Id}}x") < 0);
	CHECK(strstr(errmsg, "unexpected EOF") != NULL);
	CHECK(render("{{end}}") < 0);
	CHECK(strstr(errmsg, "unexpected {{end}}") != NULL);
	CHECK(render("{{else}}") < 0);
	CHECK(render("{{break}}") < 0);
	CHECK(render("{{range .Name}}x{{end}}") < 0);
	CHECK(render("{{define \"x\"}}{{end}}") < 0);
	/* Parsed before it runs: an unknown function in a branch not taken is reported. */
	CHECK(render("{{if false}}{{nosuch .Id}}{{end}}") < 0);
	CHECK(strstr(errmsg, "function \"nosuch\" not defined") != NULL);
	/* "}}" inside a string does not end the action. */
	CHECK(render("{{\"}}\"}}") == 0);
	CHECK_STR(result, "}}");
}

static int format_list(const char *format, const char *dflt)
{
	json_t *rows = json_loads("[{\"ID\":\"1\",\"Names\":\"a\",\"Size\":\"10MB\"},"
				  "{\"ID\":\"22\",\"Names\":\"a-much-longer-name\",\"Size\":\"2B\"}]",
				  0, NULL);
	json_t *header = json_pack("{s:s, s:s, s:s}", "ID", "CONTAINER ID", "Names", "NAMES", "Size",
				   "SIZE");
	struct buf out = BUF_INIT(1 << 20);
	struct sk_err err = { 0 };
	int r = gotemplate_format_list(format, dflt, header, rows, &out, &err);

	snprintf(result, sizeof(result), "%s", out.data ? out.data : "");
	snprintf(errmsg, sizeof(errmsg), "%s", err.msg);
	buf_release(&out);
	json_decref(rows);
	json_decref(header);
	return r;
}

TEST(list_formats)
{
	/* Columns as Go's tabwriter sets them: widest cell + 3, at least 10. */
	CHECK(format_list("table {{.ID}}\\t{{.Names}}\\t{{.Size}}", NULL) == 0);
	CHECK_STR(result, "CONTAINER ID   NAMES                SIZE\n"
			  "1              a                    10MB\n"
			  "22             a-much-longer-name   2B\n");
	/* Header functions return the title unchanged, as docker's do. */
	CHECK(format_list("table {{.Names | upper}}\\t{{json .ID}}", NULL) == 0);
	CHECK_STR(result, "NAMES                CONTAINER ID\n"
			  "A                    \"1\"\n"
			  "A-MUCH-LONGER-NAME   \"22\"\n");
	CHECK(format_list("", "table {{.ID}}\\t{{.Names}}") == 0);
	CHECK(strncmp(result, "CONTAINER ID   NAMES\n", 21) == 0);
	CHECK(format_list("  {{.Names}}:{{.ID}}\\t! ", NULL) == 0);
	CHECK_STR(result, "a:1\t!\na-much-longer-name:22\t!\n");
	CHECK(format_list("json", NULL) == 0);
	CHECK_STR(result, "{\"ID\":\"1\",\"Names\":\"a\",\"Size\":\"10MB\"}\n"
			  "{\"ID\":\"22\",\"Names\":\"a-much-longer-name\",\"Size\":\"2B\"}\n");
	CHECK(format_list("table {{.Nope}}", NULL) < 0);
}

TEST(hostile_templates_are_bounded)
{
	static char deep[4096];
	size_t o = 0;

	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "{{if true}}");
	CHECK(render(deep) < 0);
	CHECK(strstr(errmsg, "too deeply nested") != NULL);
	/* 10^9 iterations of nothing: stopped, not spun. */
	CHECK(render("{{range 1000}}{{range 1000}}{{range 1000}}{{end}}{{end}}{{end}}") < 0);
	CHECK(strstr(errmsg, "too much work") != NULL);
}

int main(void)
{
	RUN(fields);
	RUN(functions);
	RUN(trimming_and_comments);
	RUN(control_structures);
	RUN(variables);
	RUN(comparisons);
	RUN(printf_like_go);
	RUN(docker_functions);
	RUN(errors);
	RUN(list_formats);
	RUN(hostile_templates_are_bounded);
	return UNIT_DONE();
}

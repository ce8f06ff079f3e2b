/*
 * A small Go text/template evaluator over JSON (gotemplate.h). Each action is
 * lexed and evaluated in one pass; the output goes to a buffer, so a template
 * that fails half-way prints nothing.
 */
#include "util/gotemplate.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define TMPL_MAX_DEPTH 16
#define TMPL_OUT_MAX (16u << 20)

enum tok_kind { TOK_END, TOK_FIELD, TOK_IDENT, TOK_STRING, TOK_NUMBER, TOK_PIPE, TOK_LPAREN, TOK_RPAREN };

struct tok {
	enum tok_kind kind;
	const char *start;
	size_t len;
};

/* One action's text, being read token by token. */
struct lexer {
	const char *p, *end;
	const char *action; /* the whole action, for error messages */
	size_t action_len;
	struct tok cur;
	int depth;
};

static void json_decref_p(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define cleanup_json __attribute__((cleanup(json_decref_p)))

static int lex_error(struct lexer *lx, struct sk_err *err, const char *what)
{
	return err_set(err, 0, "template: %s in '{{%.*s}}'", what, (int)lx->action_len,
		       lx->action);
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int lex_quoted(struct lexer *lx, struct sk_err *err)
{
	char quote = *lx->p;
	const char *q = lx->p + 1;

	while (q < lx->end && *q != quote) {
		if (quote == '"' && *q == '\\' && q + 1 < lx->end)
			q++;
		q++;
	}
	if (q >= lx->end)
		return lex_error(lx, err, "unterminated string");
	lx->cur = (struct tok){ TOK_STRING, lx->p, (size_t)(q + 1 - lx->p) };
	lx->p = q + 1;
	return 0;
}

/* Read the next token into lx->cur. */
static int lex_next(struct lexer *lx, struct sk_err *err)
{
	const char *s;

	while (lx->p < lx->end && isspace((unsigned char)*lx->p))
		lx->p++;
	s = lx->p;
	if (s >= lx->end) {
		lx->cur = (struct tok){ TOK_END, s, 0 };
		return 0;
	}
	if (*s == '"' || *s == '`')
		return lex_quoted(lx, err);
	if (*s == '|' || *s == '(' || *s == ')') {
		lx->cur = (struct tok){ *s == '|' ? TOK_PIPE : *s == '(' ? TOK_LPAREN : TOK_RPAREN, s, 1 };
		lx->p++;
		return 0;
	}
	if (*s == '.') {
		const char *q = s + 1;
		while (q < lx->end && (is_ident_char(*q) || (*q == '.' && is_ident_char(q[1]))))
			q++;
		lx->cur = (struct tok){ TOK_FIELD, s, (size_t)(q - s) };
	} else if (isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1]))) {
		const char *q = s + 1;
		while (q < lx->end && isdigit((unsigned char)*q))
			q++;
		lx->cur = (struct tok){ TOK_NUMBER, s, (size_t)(q - s) };
	} else if (isalpha((unsigned char)*s) || *s == '_') {
		const char *q = s;
		while (q < lx->end && is_ident_char(*q))
			q++;
		lx->cur = (struct tok){ TOK_IDENT, s, (size_t)(q - s) };
	} else {
		return lex_error(lx, err, "unexpected character");
	}
	lx->p = s + lx->cur.len;
	return 0;
}

/* --- printing values the way Go's fmt prints them ------------------------ */

static int print_value(struct buf *out, const json_t *v);

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int print_map(struct buf *out, const json_t *v)
{
	size_t n = json_object_size(v), i = 0;
	cleanup_free const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	const json_t *item;
	int r = 0;

	if (!keys)
		return -ENOMEM;
	json_object_foreach ((json_t *)v, k, item)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys); /* Go prints maps in key order */
	r = buf_append(out, "map[", 4);
	for (i = 0; r == 0 && i < n; i++) {
		r = buf_appendf(out, "%s%s:", i ? " " : "", keys[i]);
		if (r == 0)
			r = print_value(out, json_object_get(v, keys[i]));
	}
	return r ? r : buf_append(out, "]", 1);
}

static int print_value(struct buf *out, const json_t *v)
{
	size_t i;
	const json_t *item;
	int r = 0;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		return buf_append(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return buf_appendf(out, "%lld", (long long)json_integer_value(v));
	case JSON_REAL:
		return buf_appendf(out, "%g", json_real_value(v));
	case JSON_TRUE:
		return buf_append(out, "true", 4);
	case JSON_FALSE:
		return buf_append(out, "false", 5);
	case JSON_ARRAY:
		r = buf_append(out, "[", 1);
		json_array_foreach (v, i, item) {
			if (r == 0 && i)
				r = buf_append(out, " ", 1);
			if (r == 0)
				r = print_value(out, item);
		}
		return r ? r : buf_append(out, "]", 1);
	case JSON_OBJECT:
		return print_map(out, v);
	default:
		return buf_append(out, "<no value>", 10);
	}
}

/* --- evaluation ------------------------------------------------------------ */

static json_t *eval_pipeline(struct lexer *lx, json_t *dot, struct sk_err *err);

/* .A.B: every step must exist (docker: "map has no entry for key"). */
static json_t *eval_field(struct lexer *lx, const struct tok *t, json_t *dot, struct sk_err *err)
{
	const char *p = t->start + 1, *end = t->start + t->len;
	json_t *v = dot;

	while (p < end) {
		const char *dotp = memchr(p, '.', (size_t)(end - p));
		size_t n = dotp ? (size_t)(dotp - p) : (size_t)(end - p);
		char key[256];

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (!json_is_object(v)) {
			err_set(err, 0, "template: executing at <%.*s>: can't evaluate field %s in %s",
				(int)t->len, t->start, key, v && !json_is_null(v) ? "a non-map value" : "nil");
			return NULL;
		}
		v = json_object_get(v, key);
		if (!v) {
			err_set(err, 0, "template: executing at <%.*s>: map has no entry for key \"%s\"",
				(int)t->len, t->start, key);
			return NULL;
		}
		p += n + 1;
	}
	return json_incref(v);
}

static json_t *eval_string(const struct tok *t)
{
	cleanup_free char *s = malloc(t->len);
	size_t o = 0;

	if (!s)
		return NULL;
	for (size_t i = 1; i + 1 < t->len; i++) {
		char c = t->start[i];
		if (t->start[0] == '"' && c == '\\' && i + 2 < t->len) {
			c = t->start[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
		}
		s[o++] = c;
	}
	return json_stringn(s, o);
}

/* An argument: a field, a literal or a (pipeline). Consumes its tokens. */
static json_t *eval_operand(struct lexer *lx, json_t *dot, struct sk_err *err)
{
	struct tok t = lx->cur;
	json_t *v;

	if (t.kind == TOK_LPAREN) {
		if (++lx->depth > TMPL_MAX_DEPTH)
			return lex_error(lx, err, "too deeply nested"), NULL;
		if (lex_next(lx, err) < 0 || !(v = eval_pipeline(lx, dot, err)))
			return NULL;
		lx->depth--;
		if (lx->cur.kind != TOK_RPAREN) {
			json_decref(v);
			return lex_error(lx, err, "missing ')'"), NULL;
		}
	} else if (t.kind == TOK_FIELD) {
		v = eval_field(lx, &t, dot, err);
	} else if (t.kind == TOK_STRING) {
		v = eval_string(&t);
	} else if (t.kind == TOK_NUMBER) {
		v = json_integer(strtoll(t.start, NULL, 10));
	} else {
		return lex_error(lx, err, "expected a value"), NULL;
	}
	if (v && lex_next(lx, err) < 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static json_t *text_value(json_t *v)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);
	json_t *s;

	if (print_value(&b, v) < 0) {
		buf_release(&b);
		return NULL;
	}
	s = json_stringn(b.data ? b.data : "", b.len);
	buf_release(&b);
	return s;
}

static json_t *fn_json(json_t *v)
{
	cleanup_free char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	return text ? json_string(text) : NULL;
}

static json_t *fn_case(json_t *v, int mode)
{
	json_t *s = text_value(v);
	char *p;
	bool word_start = true;

	if (!s)
		return NULL;
	p = (char *)json_string_value(s); /* a fresh string we own */
	for (; *p; p++) {
		if (mode == 'u' || (mode == 't' && word_start))
			*p = (char)toupper((unsigned char)*p);
		else if (mode == 'l')
			*p = (char)tolower((unsigned char)*p);
		word_start = isspace((unsigned char)*p);
	}
	return s;
}

static json_t *fn_join(json_t *list, json_t *sep)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);
	size_t i;
	json_t *item, *s;

	if (!json_is_array(list) || !json_is_string(sep))
		return NULL;
	json_array_foreach (list, i, item) {
		if ((i && buf_append(&b, json_string_value(sep), json_string_length(sep)) < 0) ||
		    print_value(&b, item) < 0) {
			buf_release(&b);
			return NULL;
		}
	}
	s = json_stringn(b.data ? b.data : "", b.len);
	buf_release(&b);
	return s;
}

static json_t *fn_split(json_t *str, json_t *sep)
{
	const char *p, *next;
	size_t seplen;
	json_t *a;

	if (!json_is_string(str) || !json_is_string(sep) || !json_string_length(sep))
		return NULL;
	a = json_array();
	p = json_string_value(str);
	seplen = json_string_length(sep);
	while (a && (next = strstr(p, json_string_value(sep)))) {
		json_array_append_new(a, json_stringn(p, (size_t)(next - p)));
		p = next + seplen;
	}
	if (a)
		json_array_append_new(a, json_string(p));
	return a;
}

static json_t *fn_index(json_t **args, size_t n)
{
	json_t *v = args[0];

	for (size_t i = 1; v && i < n; i++) {
		if (json_is_object(v) && json_is_string(args[i]))
			v = json_object_get(v, json_string_value(args[i]));
		else if (json_is_array(v) && json_is_integer(args[i]))
			v = json_array_get(v, (size_t)json_integer_value(args[i]));
		else
			return NULL;
	}
	/* A missing map key is the zero value in Go's index: print "<no value>". */
	return v ? json_incref(v) : json_null();
}

static json_t *fn_print(json_t **args, size_t n, bool line)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);
	json_t *s;

	for (size_t i = 0; i < n; i++) {
		if ((i && line && buf_append(&b, " ", 1) < 0) || print_value(&b, args[i]) < 0) {
			buf_release(&b);
			return NULL;
		}
	}
	if (line && buf_append(&b, "\n", 1) < 0) {
		buf_release(&b);
		return NULL;
	}
	s = json_stringn(b.data ? b.data : "", b.len);
	buf_release(&b);
	return s;
}

static json_t *fn_len(json_t *v)
{
	if (json_is_string(v))
		return json_integer((json_int_t)json_string_length(v));
	if (json_is_array(v))
		return json_integer((json_int_t)json_array_size(v));
	if (json_is_object(v))
		return json_integer((json_int_t)json_object_size(v));
	return NULL;
}

static json_t *fn_truncate(json_t *v, json_t *n)
{
	json_t *s = text_value(v);
	json_int_t max = json_integer_value(n);

	if (s && json_is_integer(n) && max >= 0 && (size_t)max < json_string_length(s)) {
		json_t *cut = json_stringn(json_string_value(s), (size_t)max);
		json_decref(s);
		return cut;
	}
	return s;
}

struct func {
	const char *name;
	int min_args, max_args; /* -1: any number */
};

static const struct func funcs[] = {
	{ "json", 1, 1 },  { "upper", 1, 1 },	  { "lower", 1, 1 }, { "title", 1, 1 },
	{ "join", 2, 2 },  { "split", 2, 2 },	  { "index", 1, -1 }, { "len", 1, 1 },
	{ "print", 0, -1 }, { "println", 0, -1 }, { "truncate", 2, 2 },
};

static json_t *call_func(const char *name, json_t **a, size_t n)
{
	if (!strcmp(name, "json"))
		return fn_json(a[0]);
	if (!strcmp(name, "upper") || !strcmp(name, "lower") || !strcmp(name, "title"))
		return fn_case(a[0], name[0] == 'u' ? 'u' : name[0] == 'l' ? 'l' : 't');
	if (!strcmp(name, "join"))
		return fn_join(a[0], a[1]);
	if (!strcmp(name, "split"))
		return fn_split(a[0], a[1]);
	if (!strcmp(name, "index"))
		return fn_index(a, n);
	if (!strcmp(name, "len"))
		return fn_len(a[0]);
	if (!strcmp(name, "truncate"))
		return fn_truncate(a[0], a[1]);
	return fn_print(a, n, !strcmp(name, "println"));
}

static const struct func *find_func(const struct tok *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
		if (strlen(funcs[i].name) == t->len && !strncmp(funcs[i].name, t->start, t->len))
			return &funcs[i];
	return NULL;
}

#define MAX_ARGS 8

static void release_args(json_t **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(args[i]);
}

/* name arg... [piped]: a function call. */
static json_t *eval_call(struct lexer *lx, json_t *dot, json_t *piped, struct sk_err *err)
{
	struct tok name = lx->cur;
	const struct func *f = find_func(&name);
	json_t *args[MAX_ARGS + 1], *v;
	size_t n = 0;

	if (!f) {
		err_set(err, 0, "template: function or action \"%.*s\" is not supported in '{{%.*s}}'",
			(int)name.len, name.start, (int)lx->action_len, lx->action);
		return NULL;
	}
	if (lex_next(lx, err) < 0)
		return NULL;
	while (lx->cur.kind != TOK_END && lx->cur.kind != TOK_PIPE && lx->cur.kind != TOK_RPAREN) {
		if (n == MAX_ARGS || !(args[n] = eval_operand(lx, dot, err))) {
			release_args(args, n);
			return n == MAX_ARGS ? lex_error(lx, err, "too many arguments"), NULL : NULL;
		}
		n++;
	}
	if (piped)
		args[n++] = json_incref(piped);
	if ((int)n < f->min_args || (f->max_args >= 0 && (int)n > f->max_args)) {
		release_args(args, n);
		err_set(err, 0, "template: wrong number of arguments for %s in '{{%.*s}}'", f->name,
			(int)lx->action_len, lx->action);
		return NULL;
	}
	v = call_func(f->name, args, n);
	release_args(args, n);
	if (!v)
		err_set(err, 0, "template: %s: invalid arguments in '{{%.*s}}'", f->name,
			(int)lx->action_len, lx->action);
	return v;
}

static json_t *eval_command(struct lexer *lx, json_t *dot, json_t *piped, struct sk_err *err)
{
	json_t *v;

	if (lx->cur.kind == TOK_IDENT)
		return eval_call(lx, dot, piped, err);
	if (piped) {
		lex_error(lx, err, "only a function can follow '|'");
		return NULL;
	}
	v = eval_operand(lx, dot, err);
	if (v && lx->cur.kind != TOK_END && lx->cur.kind != TOK_PIPE && lx->cur.kind != TOK_RPAREN) {
		json_decref(v);
		return lex_error(lx, err, "a value cannot take arguments"), NULL;
	}
	return v;
}

static json_t *eval_pipeline(struct lexer *lx, json_t *dot, struct sk_err *err)
{
	json_t *v = eval_command(lx, dot, NULL, err);

	while (v && lx->cur.kind == TOK_PIPE) {
		json_t *next;

		if (lex_next(lx, err) < 0) {
			json_decref(v);
			return NULL;
		}
		next = eval_command(lx, dot, v, err);
		json_decref(v);
		v = next;
	}
	return v;
}

/* One {{action}} (without its braces and trim markers). */
static int render_action(const char *s, size_t len, json_t *dot, struct buf *out,
			 struct sk_err *err)
{
	struct lexer lx = { .p = s, .end = s + len, .action = s, .action_len = len };
	cleanup_json json_t *v = NULL;

	if (len >= 4 && !strncmp(s, "/*", 2) && !strncmp(s + len - 2, "*/", 2))
		return 0;
	if (lex_next(&lx, err) < 0)
		return -1;
	if (lx.cur.kind == TOK_END)
		return lex_error(&lx, err, "missing value");
	v = eval_pipeline(&lx, dot, err);
	if (!v)
		return -1;
	if (lx.cur.kind != TOK_END)
		return lex_error(&lx, err, "unexpected input after the value");
	if (print_value(out, v) < 0)
		return err_set(err, E2BIG, "template output too large");
	return 0;
}

static size_t trim_trailing_space(struct buf *out, size_t floor)
{
	while (out->len > floor && isspace((unsigned char)out->data[out->len - 1]))
		out->data[--out->len] = '\0';
	return out->len;
}

int gotemplate_render(const char *tmpl, json_t *root, struct buf *out, struct sk_err *err)
{
	const char *p = tmpl;
	size_t start_len = out->len;

	while (*p) {
		const char *open = strstr(p, "{{"), *close, *a, *b;

		if (!open)
			return buf_append(out, p, strlen(p)) < 0 ? err_set(err, E2BIG, "template output too large") : 0;
		if (buf_append(out, p, (size_t)(open - p)) < 0)
			return err_set(err, E2BIG, "template output too large");
		close = strstr(open + 2, "}}");
		if (!close)
			return err_set(err, 0, "template: unclosed action in '%s'", tmpl);
		a = open + 2;
		b = close;
		if (a[0] == '-' && (a[1] == ' ' || a[1] == '\t' || a[1] == '\n')) {
			trim_trailing_space(out, start_len);
			a += 2;
		}
		bool trim_after = b - a >= 2 && b[-1] == '-' && isspace((unsigned char)b[-2]);
		if (trim_after)
			b -= 2;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (render_action(a, (size_t)(b - a), root, out, err) < 0)
			return -1;
		p = close + 2;
		if (trim_after)
			while (isspace((unsigned char)*p))
				p++;
	}
	return 0;
}

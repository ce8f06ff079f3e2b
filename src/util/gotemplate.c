/*
 * A Go text/template evaluator over JSON (gotemplate.h). The template is
 * parsed into a tree of nodes (text, actions, if/with/range) whose pipelines
 * are lists of commands, then executed into a buffer, so a template that
 * fails half-way prints nothing. Templates are user input: nesting, variables,
 * nodes and work are all bounded.
 */
#include "util/gotemplate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/tabwriter.h"

#define TMPL_MAX_DEPTH 32	/* nested control structures and parentheses */
#define TMPL_MAX_VARS 64	/* variables in scope at once */
#define TMPL_MAX_ARGS 16	/* operands of one command */
#define TMPL_MAX_CMDS 16	/* commands of one pipeline */
#define TMPL_MAX_ALLOCS 100000	/* parse tree pieces */
#define TMPL_MAX_STEPS 10000000 /* nodes executed: nested ranges cannot spin forever */
#define TMPL_OUT_MAX (16u << 20)

/* --- lexing one action --------------------------------------------------- */

enum tok_kind {
	TOK_END,
	TOK_FIELD,  /* . or .A.B */
	TOK_VAR,    /* $ or $x, with an optional .A.B */
	TOK_IDENT,  /* a function or keyword */
	TOK_STRING, /* "..." or `...` */
	TOK_NUMBER,
	TOK_PIPE,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_DECLARE, /* := */
	TOK_ASSIGN,  /* = */
	TOK_COMMA,
};

struct tok {
	enum tok_kind kind;
	const char *start;
	size_t len;
};

struct lexer {
	const char *p, *end;
	const char *action; /* the whole action, for error messages */
	size_t action_len;
	struct tok cur;
};

/* The action's text up to its first line end: errors stay one line. */
static int action_shown(const char *action, size_t len)
{
	const char *nl = memchr(action, '\n', len);

	return (int)(nl ? (size_t)(nl - action) : len);
}

static int lex_error(const struct lexer *lx, struct sk_err *err, const char *what)
{
	return err_set(err, 0, "template: %s in '{{%.*s}}'", what,
		       action_shown(lx->action, lx->action_len), lx->action);
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static bool tok_is(const struct tok *t, const char *word)
{
	return t->kind == TOK_IDENT && strlen(word) == t->len && !strncmp(t->start, word, t->len);
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
		return lex_error(lx, err, "unterminated quoted string");
	lx->cur = (struct tok){ TOK_STRING, lx->p, (size_t)(q + 1 - lx->p) };
	lx->p = q + 1;
	return 0;
}

/* The end of a field chain ".A.B" starting at p (p itself if there is none). */
static const char *chain_end(const char *p, const char *end)
{
	while (p + 1 < end && *p == '.' && is_ident_char(p[1])) {
		p++;
		while (p < end && is_ident_char(*p))
			p++;
	}
	return p;
}

static const char *number_end(const char *s, const char *end)
{
	const char *q = s + (*s == '-' || *s == '+');

	while (q < end && isdigit((unsigned char)*q))
		q++;
	if (q + 1 < end && *q == '.' && isdigit((unsigned char)q[1]))
		for (q++; q < end && isdigit((unsigned char)*q);)
			q++;
	if (q + 1 < end && (*q == 'e' || *q == 'E')) {
		const char *e = q + 1 + (q[1] == '-' || q[1] == '+');
		if (e < end && isdigit((unsigned char)*e))
			for (q = e; q < end && isdigit((unsigned char)*q);)
				q++;
	}
	return q;
}

static int lex_next(struct lexer *lx, struct sk_err *err)
{
	const char *s, *q;

	while (lx->p < lx->end && isspace((unsigned char)*lx->p))
		lx->p++;
	s = lx->p;
	if (s >= lx->end) {
		lx->cur = (struct tok){ TOK_END, s, 0 };
		return 0;
	}
	if (*s == '"' || *s == '`')
		return lex_quoted(lx, err);
	if (*s == ':' && s + 1 < lx->end && s[1] == '=')
		lx->cur = (struct tok){ TOK_DECLARE, s, 2 };
	else if (strchr("|()=,", *s))
		lx->cur = (struct tok){ *s == '|'   ? TOK_PIPE
					: *s == '(' ? TOK_LPAREN
					: *s == ')' ? TOK_RPAREN
					: *s == '=' ? TOK_ASSIGN
						    : TOK_COMMA,
					s, 1 };
	else if (*s == '.' && (s + 1 >= lx->end || !isdigit((unsigned char)s[1])))
		lx->cur = (struct tok){ TOK_FIELD, s, (size_t)(chain_end(s, lx->end) - s) ?: 1 };
	else if (*s == '$') {
		for (q = s + 1; q < lx->end && is_ident_char(*q);)
			q++;
		lx->cur = (struct tok){ TOK_VAR, s, (size_t)(chain_end(q, lx->end) - s) };
	} else if (isdigit((unsigned char)*s) ||
		   ((*s == '-' || *s == '+' || *s == '.') && s + 1 < lx->end &&
		    isdigit((unsigned char)s[1])))
		lx->cur = (struct tok){ TOK_NUMBER, s, (size_t)(number_end(s, lx->end) - s) };
	else if (isalpha((unsigned char)*s) || *s == '_') {
		for (q = s; q < lx->end && is_ident_char(*q);)
			q++;
		lx->cur = (struct tok){ TOK_IDENT, s, (size_t)(q - s) };
	} else {
		return lex_error(lx, err, "unexpected character");
	}
	if (lx->cur.len == 0)
		return lex_error(lx, err, "bad number");
	lx->p = s + lx->cur.len;
	return 0;
}

/* --- the parse tree -------------------------------------------------------- */

enum arg_kind { ARG_FIELD, ARG_VAR, ARG_STRING, ARG_NUMBER, ARG_BOOL, ARG_NIL, ARG_FUNC, ARG_PIPE };

struct pipe;
struct func;

/* One operand of a command. */
struct arg {
	enum arg_kind kind;
	struct tok tok;		/* its text; for ARG_VAR only the name ("$x") */
	const char *chain;	/* ".A.B" after $x or (pipeline), or NULL */
	size_t chain_len;
	struct pipe *sub;	/* ARG_PIPE */
	const struct func *fn;	/* ARG_FUNC */
};

struct cmd {
	struct arg *args;
	size_t nargs;
};

struct pipe {
	struct tok vars[2]; /* declared or assigned variables */
	size_t nvars;
	bool assign; /* "=" rather than ":=" */
	struct cmd *cmds;
	size_t ncmds;
	const char *action; /* for error messages */
	size_t action_len;
};

enum node_kind { NODE_TEXT, NODE_ACTION, NODE_IF, NODE_RANGE, NODE_WITH, NODE_BREAK, NODE_CONTINUE };

struct node {
	enum node_kind kind;
	struct node *next;
	const char *text; /* NODE_TEXT */
	size_t len;
	struct pipe *pipe;
	struct node *list, *else_list;
};

struct gotemplate {
	char *src;
	struct node *root;
	void **allocs; /* every piece of the tree, freed together */
	size_t nallocs, cap;
};

static void *tree_alloc(struct gotemplate *t, size_t size, struct sk_err *err)
{
	void *p;

	if (t->nallocs == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void **grown;
		if (t->nallocs >= TMPL_MAX_ALLOCS)
			return err_set(err, 0, "template: too large"), NULL;
		grown = realloc(t->allocs, cap * sizeof(*grown));
		if (!grown)
			return err_set(err, ENOMEM, "template"), NULL;
		t->allocs = grown;
		t->cap = cap;
	}
	p = calloc(1, size ? size : 1);
	if (!p)
		return err_set(err, ENOMEM, "template"), NULL;
	t->allocs[t->nallocs++] = p;
	return p;
}

void gotemplate_free(struct gotemplate *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nallocs; i++)
		free(t->allocs[i]);
	free(t->allocs);
	free(t->src);
	free(t);
}

/* --- functions ------------------------------------------------------------- */

enum func_id {
	F_JSON, F_UPPER, F_LOWER, F_TITLE, F_JOIN, F_SPLIT, F_PAD, F_TRUNCATE, F_INDEX, F_LEN,
	F_PRINT, F_PRINTF, F_PRINTLN, F_EQ, F_NE, F_LT, F_LE, F_GT, F_GE, F_AND, F_OR, F_NOT,
};

struct func {
	const char *name;
	enum func_id id;
	int min_args, max_args; /* -1: any number */
	bool header_passthrough; /* docker's header functions return their argument */
};

static const struct func funcs[] = {
	{ "json", F_JSON, 1, 1, true },	       { "upper", F_UPPER, 1, 1, true },
	{ "lower", F_LOWER, 1, 1, true },      { "title", F_TITLE, 1, 1, true },
	{ "join", F_JOIN, 2, 2, true },	       { "split", F_SPLIT, 2, 2, true },
	{ "pad", F_PAD, 3, 3, true },	       { "truncate", F_TRUNCATE, 2, 2, true },
	{ "index", F_INDEX, 1, -1, false },    { "len", F_LEN, 1, 1, false },
	{ "print", F_PRINT, 0, -1, false },    { "printf", F_PRINTF, 1, -1, false },
	{ "println", F_PRINTLN, 0, -1, false }, { "eq", F_EQ, 2, -1, false },
	{ "ne", F_NE, 2, 2, false },	       { "lt", F_LT, 2, 2, false },
	{ "le", F_LE, 2, 2, false },	       { "gt", F_GT, 2, 2, false },
	{ "ge", F_GE, 2, 2, false },	       { "and", F_AND, 1, -1, false },
	{ "or", F_OR, 1, -1, false },	       { "not", F_NOT, 1, 1, false },
};

static const struct func *find_func(const struct tok *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
		if (tok_is(t, funcs[i].name))
			return &funcs[i];
	return NULL;
}

/* --- parsing ----------------------------------------------------------------- */

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

struct parser {
	struct gotemplate *t;
	const char *p, *end; /* unread template text */
	bool trim_next;	     /* the last action ended with " -}}" */
	int depth, in_range;
	struct tok vars[TMPL_MAX_VARS]; /* in scope, for "undefined variable" */
	size_t nvars;
	struct lexer lx; /* the current action */
	struct sk_err *err;
};

static struct pipe *parse_pipeline(struct parser *ps, bool decl_ok, int nvars_ok);

static bool var_defined(const struct parser *ps, const char *name, size_t len)
{
	if (len == 1)
		return true; /* "$" */
	for (size_t i = ps->nvars; i-- > 0;)
		if (ps->vars[i].len == len && !strncmp(ps->vars[i].start, name, len))
			return true;
	return false;
}

static size_t var_name_len(const struct tok *t)
{
	size_t n = 1;

	while (n < t->len && t->start[n] != '.')
		n++;
	return n;
}

/* A field chain glued to the ")" just read: (index .A 0).Name */
static void parse_chain_after_paren(struct lexer *lx, struct arg *a)
{
	const char *e = chain_end(lx->p, lx->end);

	if (e > lx->p) {
		a->chain = lx->p;
		a->chain_len = (size_t)(e - lx->p);
		lx->p = e;
	}
}

static int parse_operand(struct parser *ps, struct arg *a)
{
	struct lexer *lx = &ps->lx;
	struct sk_err *err = ps->err;
	struct tok t = lx->cur;

	a->tok = t;
	switch (t.kind) {
	case TOK_FIELD: a->kind = ARG_FIELD; break;
	case TOK_STRING: a->kind = ARG_STRING; break;
	case TOK_NUMBER: a->kind = ARG_NUMBER; break;
	case TOK_VAR:
		a->kind = ARG_VAR;
		a->tok.len = var_name_len(&t);
		a->chain = t.start + a->tok.len;
		a->chain_len = t.len - a->tok.len;
		if (!var_defined(ps, t.start, a->tok.len))
			return err_set(err, 0, "template: undefined variable \"%.*s\"", (int)a->tok.len,
				       t.start);
		break;
	case TOK_IDENT:
		if (tok_is(&t, "true") || tok_is(&t, "false")) {
			a->kind = ARG_BOOL;
		} else if (tok_is(&t, "nil")) {
			a->kind = ARG_NIL;
		} else if ((a->fn = find_func(&t))) {
			a->kind = ARG_FUNC;
		} else {
			return err_set(err, 0, "template: function \"%.*s\" not defined", (int)t.len,
				       t.start);
		}
		break;
	case TOK_LPAREN:
		if (++ps->depth > TMPL_MAX_DEPTH)
			return lex_error(lx, err, "too deeply nested");
		if (lex_next(lx, err) < 0 || !(a->sub = parse_pipeline(ps, false, 0)))
			return -1;
		ps->depth--;
		if (lx->cur.kind != TOK_RPAREN)
			return lex_error(lx, err, "unclosed left paren");
		a->kind = ARG_PIPE;
		parse_chain_after_paren(lx, a);
		break;
	default:
		return lex_error(lx, err, "unexpected token");
	}
	return lex_next(lx, err);
}

static bool ends_command(enum tok_kind k)
{
	return k == TOK_END || k == TOK_PIPE || k == TOK_RPAREN;
}

static int parse_command(struct parser *ps, struct cmd *c, bool piped)
{
	struct arg args[TMPL_MAX_ARGS];
	size_t n = 0;

	while (!ends_command(ps->lx.cur.kind)) {
		if (n == TMPL_MAX_ARGS)
			return lex_error(&ps->lx, ps->err, "too many arguments");
		memset(&args[n], 0, sizeof(args[n]));
		if (parse_operand(ps, &args[n]) < 0)
			return -1;
		n++;
	}
	if (n == 0)
		return lex_error(&ps->lx, ps->err, "missing value for command");
	/* Only a function takes arguments, and a piped value is one. */
	if ((n > 1 || piped) && args[0].kind != ARG_FUNC)
		return lex_error(&ps->lx, ps->err, "can't give argument to non-function");
	if (args[0].kind == ARG_NIL && n == 1)
		return lex_error(&ps->lx, ps->err, "nil is not a command");
	c->args = tree_alloc(ps->t, n * sizeof(*c->args), ps->err);
	if (!c->args)
		return -1;
	memcpy(c->args, args, n * sizeof(*args));
	c->nargs = n;
	return 0;
}

/* "$x :=", "$x =" or (range only) "$i, $e :=" at the start of a pipeline. */
static int parse_declaration(struct parser *ps, struct pipe *p, int nvars_ok)
{
	struct lexer save = ps->lx;
	struct lexer *lx = &ps->lx;

	while (lx->cur.kind == TOK_VAR && var_name_len(&lx->cur) == lx->cur.len &&
	       (int)p->nvars < nvars_ok) {
		p->vars[p->nvars++] = lx->cur;
		if (lex_next(lx, ps->err) < 0)
			return -1;
		if (lx->cur.kind == TOK_DECLARE || lx->cur.kind == TOK_ASSIGN) {
			p->assign = lx->cur.kind == TOK_ASSIGN;
			for (size_t i = 0; p->assign && i < p->nvars; i++)
				if (!var_defined(ps, p->vars[i].start, p->vars[i].len))
					return err_set(ps->err, 0, "template: undefined variable \"%.*s\"",
						       (int)p->vars[i].len, p->vars[i].start);
			return lex_next(lx, ps->err);
		}
		if (lx->cur.kind != TOK_COMMA || nvars_ok < 2)
			break;
		if (lex_next(lx, ps->err) < 0)
			return -1;
	}
	/* Not a declaration: read the action again as a plain pipeline. */
	ps->lx = save;
	p->nvars = 0;
	return 0;
}

static int declare_vars(struct parser *ps, const struct pipe *p)
{
	if (p->assign)
		return 0;
	for (size_t i = 0; i < p->nvars; i++) {
		if (ps->nvars == TMPL_MAX_VARS)
			return err_set(ps->err, 0, "template: too many variables");
		ps->vars[ps->nvars++] = p->vars[i];
	}
	return 0;
}

/* decl_ok: the pipeline may start with declarations (nvars_ok of them). */
static struct pipe *parse_pipeline(struct parser *ps, bool decl_ok, int nvars_ok)
{
	struct pipe *p = tree_alloc(ps->t, sizeof(*p), ps->err);
	struct cmd cmds[TMPL_MAX_CMDS];

	if (!p)
		return NULL;
	p->action = ps->lx.action;
	p->action_len = ps->lx.action_len;
	if (decl_ok && parse_declaration(ps, p, nvars_ok) < 0)
		return NULL;
	for (;;) {
		if (p->ncmds == TMPL_MAX_CMDS)
			return lex_error(&ps->lx, ps->err, "pipeline too long"), NULL;
		if (parse_command(ps, &cmds[p->ncmds], p->ncmds > 0) < 0)
			return NULL;
		p->ncmds++;
		if (ps->lx.cur.kind != TOK_PIPE)
			break;
		if (lex_next(&ps->lx, ps->err) < 0)
			return NULL;
	}
	p->cmds = tree_alloc(ps->t, p->ncmds * sizeof(*p->cmds), ps->err);
	if (!p->cmds)
		return NULL;
	memcpy(p->cmds, cmds, p->ncmds * sizeof(*cmds));
	return p;
}

/* The "}}" closing the action that starts at a, skipping quoted strings. */
static const char *action_close(const char *a, const char *end)
{
	for (const char *q = a; q + 1 < end; q++) {
		if (*q == '"' || *q == '`') {
			char quote = *q;
			for (q++; q < end && *q != quote; q++)
				if (quote == '"' && *q == '\\' && q + 1 < end)
					q++;
			if (q >= end)
				return NULL;
		} else if (q[0] == '}' && q[1] == '}') {
			return q;
		}
	}
	return NULL;
}

static int add_node(struct parser *ps, struct node ***tail, enum node_kind kind, struct node **out)
{
	struct node *n = tree_alloc(ps->t, sizeof(*n), ps->err);

	if (!n)
		return -1;
	n->kind = kind;
	**tail = n;
	*tail = &n->next;
	if (out)
		*out = n;
	return 0;
}

static int add_text(struct parser *ps, struct node ***tail, const char *s, const char *e,
		    bool trim_right)
{
	struct node *n;

	if (ps->trim_next)
		while (s < e && isspace((unsigned char)*s))
			s++;
	ps->trim_next = false;
	if (trim_right)
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
	if (s == e)
		return 0;
	if (add_node(ps, tail, NODE_TEXT, &n) < 0)
		return -1;
	n->text = s;
	n->len = (size_t)(e - s);
	return 0;
}

/* Read the next action into ps->lx (first token read); 0 at the end of the
 * template, 1 with an action, -1 on error. Text before it goes to tail. */
static int next_action(struct parser *ps, struct node ***tail)
{
	for (;;) {
		const char *open = ps->p < ps->end ? strstr(ps->p, "{{") : NULL;
		const char *a, *b, *close;
		bool trim_left, trim_right;

		trim_left = open && open[2] == '-' && isspace((unsigned char)open[3]);
		if (add_text(ps, tail, ps->p, open ? open : ps->end, trim_left) < 0)
			return -1;
		if (!open) {
			ps->p = ps->end;
			return 0;
		}
		a = open + (trim_left ? 4 : 2);
		while (a < ps->end && isspace((unsigned char)*a))
			a++;
		if (!strncmp(a, "/*", 2)) {
			const char *c = strstr(a + 2, "*/");
			close = c ? c + 2 : NULL;
			while (close && *close == ' ')
				close++;
			if (close && close[0] == '-' && close[1] == ' ')
				close++;
			while (close && *close == ' ')
				close++;
			if (!close || strncmp(close, "}}", 2))
				return err_set(ps->err, 0, "template: unclosed comment");
		} else {
			close = action_close(a, ps->end);
			if (!close)
				return err_set(ps->err, 0, "template: unclosed action");
		}
		b = close;
		trim_right = b - a >= 2 && b[-1] == '-' && isspace((unsigned char)b[-2]);
		if (trim_right)
			b--;
		ps->p = close + 2;
		ps->trim_next = trim_right;
		if (!strncmp(a, "/*", 2))
			continue;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		ps->lx = (struct lexer){ .p = a, .end = b, .action = a, .action_len = (size_t)(b - a) };
		if (lex_next(&ps->lx, ps->err) < 0)
			return -1;
		if (ps->lx.cur.kind == TOK_END)
			return lex_error(&ps->lx, ps->err, "missing value for command");
		return 1;
	}
}

static int parse_list(struct parser *ps, struct node **head, enum stop *stop);

/* if/with/range, the keyword read; consumes up to and including its {{end}}. */
static int parse_control(struct parser *ps, enum node_kind kind, struct node ***tail)
{
	size_t scope = ps->nvars;
	struct node *n;
	enum stop stop;
	int r;

	if (++ps->depth > TMPL_MAX_DEPTH)
		return lex_error(&ps->lx, ps->err, "too deeply nested");
	if (add_node(ps, tail, kind, &n) < 0 || lex_next(&ps->lx, ps->err) < 0)
		return -1;
	if (ps->lx.cur.kind == TOK_END)
		return lex_error(&ps->lx, ps->err, "missing value");
	n->pipe = parse_pipeline(ps, true, kind == NODE_RANGE ? 2 : 1);
	if (!n->pipe || declare_vars(ps, n->pipe) < 0)
		return -1;
	if (ps->lx.cur.kind != TOK_END)
		return lex_error(&ps->lx, ps->err, "unexpected input after the pipeline");
	ps->in_range += kind == NODE_RANGE;
	r = parse_list(ps, &n->list, &stop);
	ps->in_range -= kind == NODE_RANGE;
	if (r < 0)
		return -1;
	if (stop == STOP_ELSE) {
		struct node **else_tail = &n->else_list;
		if (lex_next(&ps->lx, ps->err) < 0)
			return -1;
		/* {{else if P}} / {{else with P}}: a nested structure sharing our {{end}}. */
		if (tok_is(&ps->lx.cur, "if") || tok_is(&ps->lx.cur, "with")) {
			r = parse_control(ps, tok_is(&ps->lx.cur, "if") ? NODE_IF : NODE_WITH, &else_tail);
			ps->nvars = scope;
			ps->depth--;
			return r;
		}
		if (ps->lx.cur.kind != TOK_END)
			return lex_error(&ps->lx, ps->err, "unexpected input after else");
		if (parse_list(ps, &n->else_list, &stop) < 0)
			return -1;
		if (stop == STOP_ELSE)
			return err_set(ps->err, 0, "template: expected end; found {{else}}");
	}
	if (stop == STOP_EOF)
		return err_set(ps->err, 0, "template: unexpected EOF");
	ps->nvars = scope;
	ps->depth--;
	return 0;
}

/* One action at the start of ps->lx. */
static int parse_action(struct parser *ps, struct node ***tail, enum stop *stop)
{
	struct lexer *lx = &ps->lx;
	struct node *n;

	if (tok_is(&lx->cur, "end") || tok_is(&lx->cur, "else")) {
		*stop = tok_is(&lx->cur, "end") ? STOP_END : STOP_ELSE;
		if (*stop == STOP_END && (lex_next(lx, ps->err) < 0 || lx->cur.kind != TOK_END))
			return lex_error(lx, ps->err, "unexpected input after end");
		return 1;
	}
	if (tok_is(&lx->cur, "if"))
		return parse_control(ps, NODE_IF, tail);
	if (tok_is(&lx->cur, "with"))
		return parse_control(ps, NODE_WITH, tail);
	if (tok_is(&lx->cur, "range"))
		return parse_control(ps, NODE_RANGE, tail);
	if (tok_is(&lx->cur, "break") || tok_is(&lx->cur, "continue")) {
		enum node_kind kind = lx->cur.start[0] == 'b' ? NODE_BREAK : NODE_CONTINUE;
		if (!ps->in_range)
			return lex_error(lx, ps->err, "break or continue outside range");
		if (lex_next(lx, ps->err) < 0 || lx->cur.kind != TOK_END)
			return lex_error(lx, ps->err, "unexpected input");
		return add_node(ps, tail, kind, NULL);
	}
	if (tok_is(&lx->cur, "define") || tok_is(&lx->cur, "template") || tok_is(&lx->cur, "block"))
		return lex_error(lx, ps->err, "define, template and block are not supported");
	if (add_node(ps, tail, NODE_ACTION, &n) < 0 || !(n->pipe = parse_pipeline(ps, true, 1)) ||
	    declare_vars(ps, n->pipe) < 0)
		return -1;
	if (lx->cur.kind != TOK_END)
		return lex_error(lx, ps->err, "unexpected input after the value");
	return 0;
}

/* Nodes up to {{end}}, {{else}} or the end of the template (*stop says which). */
static int parse_list(struct parser *ps, struct node **head, enum stop *stop)
{
	struct node **tail = head;
	int r;

	while (*tail)
		tail = &(*tail)->next;
	for (;;) {
		r = next_action(ps, &tail);
		if (r <= 0) {
			*stop = STOP_EOF;
			return r;
		}
		r = parse_action(ps, &tail, stop);
		if (r < 0)
			return -1;
		if (r == 1)
			return 0;
	}
}

int gotemplate_parse(const char *tmpl, struct gotemplate **out, struct sk_err *err)
{
	struct gotemplate *t = calloc(1, sizeof(*t));
	struct parser ps = { .t = t, .err = err };
	enum stop stop;

	*out = NULL;
	if (!t || !(t->src = strdup(tmpl))) {
		free(t);
		return err_set(err, ENOMEM, "template");
	}
	ps.p = t->src;
	ps.end = t->src + strlen(t->src);
	if (parse_list(&ps, &t->root, &stop) < 0 ||
	    (stop != STOP_EOF && err_set(err, 0, "template: unexpected {{%s}}",
					 stop == STOP_END ? "end" : "else") < 0)) {
		gotemplate_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* --- printing values the way Go's fmt prints them ------------------------ */

static int print_value(struct buf *out, const json_t *v);

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a map in Go's order (sorted); NULL on ENOMEM. */
static const char **sorted_keys(const json_t *v)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *item;

	if (!keys)
		return NULL;
	json_object_foreach ((json_t *)v, k, item)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	return keys;
}

static int print_map(struct buf *out, const json_t *v)
{
	cleanup_free const char **keys = sorted_keys(v);
	int r;

	if (!keys)
		return -ENOMEM;
	r = buf_append(out, "map[", 4);
	for (size_t i = 0; r == 0 && i < json_object_size(v); i++) {
		r = buf_appendf(out, "%s%s:", i ? " " : "", keys[i]);
		if (r == 0)
			r = print_value(out, json_object_get(v, keys[i]));
	}
	return r ? r : buf_append(out, "]", 1);
}

/* Go's %v of a float64: the shortest digits that read back the same, in
 * exponent form below 1e-4 or from 1e21 on (fmt uses %e from 1e21). */
static int print_float(struct buf *out, double d)
{
	char s[64];
	int prec, exp;

	if (isnan(d) || isinf(d))
		return buf_append(out, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf", isnan(d) ? 3 : 4);
	for (prec = 1; prec < 17; prec++) {
		snprintf(s, sizeof(s), "%.*e", prec - 1, d);
		if (strtod(s, NULL) == d)
			break;
	}
	snprintf(s, sizeof(s), "%.*e", prec - 1, d);
	exp = atoi(strchr(s, 'e') + 1);
	if (exp < -4 || exp >= 21)
		return buf_append(out, s, strlen(s));
	return buf_appendf(out, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
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
		return print_float(out, json_real_value(v));
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

static json_t *string_of_buf(struct buf *b)
{
	json_t *s = json_stringn(b->data ? b->data : "", b->len);

	buf_release(b);
	return s;
}

static json_t *text_value(const json_t *v)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);

	if (print_value(&b, v) < 0) {
		buf_release(&b);
		return NULL;
	}
	return string_of_buf(&b);
}

/* --- execution --------------------------------------------------------------- */

struct var {
	const char *name;
	size_t len;
	json_t *value; /* owned */
};

struct exec {
	struct buf *out;
	struct sk_err *err;
	bool header;
	struct var vars[TMPL_MAX_VARS + 1]; /* [0] is "$" */
	size_t nvars;
	unsigned long steps;
};

enum { EXEC_OK = 0, EXEC_BREAK = 1, EXEC_CONTINUE = 2 };

static int exec_error(struct exec *ex, const struct pipe *p, const char *fmt, const char *what)
{
	err_set(ex->err, 0, "template: executing '{{%.*s}}': %s%s",
		action_shown(p->action, p->action_len), p->action, fmt, what ? what : "");
	return -1;
}

static void pop_vars(struct exec *ex, size_t mark)
{
	while (ex->nvars > mark)
		json_decref(ex->vars[--ex->nvars].value);
}

static struct var *find_var(struct exec *ex, const char *name, size_t len)
{
	for (size_t i = ex->nvars; i-- > 0;)
		if (ex->vars[i].len == len && !strncmp(ex->vars[i].name, name, len))
			return &ex->vars[i];
	return NULL;
}

/* Declare (push) or assign a variable; takes a reference to v. */
static int set_var(struct exec *ex, const struct tok *name, bool assign, json_t *v)
{
	struct var *x = assign ? find_var(ex, name->start, name->len) : NULL;

	if (x) {
		json_decref(x->value);
		x->value = json_incref(v);
		return 0;
	}
	if (ex->nvars == ARRAY_SIZE(ex->vars))
		return err_set(ex->err, 0, "template: too many variables");
	ex->vars[ex->nvars++] = (struct var){ name->start, name->len, json_incref(v) };
	return 0;
}

/* Walk ".A.B" from v; every step must exist (docker: "map has no entry for key"). */
static json_t *walk_chain(struct exec *ex, const struct pipe *p, json_t *v, const char *chain,
			  size_t len)
{
	const char *s = chain, *end = chain + len;

	while (s < end) {
		const char *key = s + 1, *next = memchr(key, '.', (size_t)(end - key));
		size_t n = next ? (size_t)(next - key) : (size_t)(end - key);

		if (!json_is_object(v)) {
			err_set(ex->err, 0, "template: executing at <%.*s>: can't evaluate field %.*s in %s",
				(int)len, chain, (int)n, key,
				v && !json_is_null(v) ? "a non-map value" : "nil");
			return NULL;
		}
		v = json_object_getn(v, key, n);
		if (!v) {
			err_set(ex->err, 0, "template: executing at <%.*s>: map has no entry for key \"%.*s\"",
				(int)len, chain, (int)n, key);
			return NULL;
		}
		s = key + n;
	}
	return json_incref(v);
}

static json_t *unquote(const struct tok *t)
{
	cleanup_free char *s = malloc(t->len);
	size_t o = 0;

	if (!s)
		return NULL;
	for (size_t i = 1; i + 1 < t->len; i++) {
		char c = t->start[i];
		if (t->start[0] == '"' && c == '\\' && i + 2 < t->len) {
			c = t->start[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == '0' ? ' ' : c;
		}
		s[o++] = c;
	}
	return json_stringn(s, o);
}

static json_t *number_value(const struct tok *t)
{
	char s[64];

	snprintf(s, sizeof(s), "%.*s", (int)t->len, t->start);
	if (strpbrk(s, ".eE"))
		return json_real(strtod(s, NULL));
	return json_integer(strtoll(s, NULL, 10));
}

static json_t *eval_pipe(struct exec *ex, const struct pipe *p, json_t *dot);
static json_t *call_func(struct exec *ex, const struct pipe *p, const struct cmd *c, json_t *dot,
			 json_t *piped);

static json_t *eval_arg(struct exec *ex, const struct pipe *p, const struct arg *a, json_t *dot)
{
	json_t *base, *v;
	struct var *x;

	switch (a->kind) {
	case ARG_FIELD:
		return a->tok.len == 1 ? json_incref(dot)
				       : walk_chain(ex, p, dot, a->tok.start, a->tok.len);
	case ARG_VAR:
		x = find_var(ex, a->tok.start, a->tok.len);
		if (!x)
			return exec_error(ex, p, "undefined variable", NULL), NULL;
		return walk_chain(ex, p, x->value, a->chain, a->chain_len);
	case ARG_STRING: return unquote(&a->tok);
	case ARG_NUMBER: return number_value(&a->tok);
	case ARG_BOOL: return json_boolean(a->tok.start[0] == 't');
	case ARG_NIL: return json_null();
	case ARG_FUNC: {
		/* A function name as an operand is a call without arguments. */
		struct cmd c = { (struct arg *)a, 1 };
		return call_func(ex, p, &c, dot, NULL);
	}
	case ARG_PIPE:
		base = eval_pipe(ex, a->sub, dot);
		if (!base || !a->chain)
			return base;
		v = walk_chain(ex, p, base, a->chain, a->chain_len);
		json_decref(base);
		return v;
	}
	return NULL;
}

/* Go's truth: false, 0, nil and empty strings, lists and maps are false. */
static bool truth(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0;
	case JSON_TRUE: return true;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_OBJECT: return json_object_size(v) > 0;
	default: return false;
	}
}

static const char *go_type(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float64";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_ARRAY: return "[]interface {}";
	case JSON_OBJECT: return "map[string]interface {}";
	default: return "<nil>";
	}
}

/* --- functions ------------------------------------------------------------- */

static void json_decref_p(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define cleanup_json_t __attribute__((cleanup(json_decref_p)))

static json_t *fn_json(json_t *v)
{
	cleanup_free char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	return text ? json_string(text) : NULL;
}

static json_t *fn_case(json_t *v, enum func_id id)
{
	json_t *s = text_value(v);
	char *p;
	bool word_start = true;

	if (!s)
		return NULL;
	p = (char *)json_string_value(s); /* a fresh string we own */
	for (; *p; p++) {
		if (id == F_UPPER || (id == F_TITLE && word_start))
			*p = (char)toupper((unsigned char)*p);
		else if (id == F_LOWER)
			*p = (char)tolower((unsigned char)*p);
		word_start = !isalnum((unsigned char)*p) && *p != '_' && (unsigned char)*p < 0x80;
	}
	return s;
}

static json_t *fn_join(json_t *list, json_t *sep)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);
	size_t i;
	json_t *item;

	if (!json_is_array(list) || !json_is_string(sep))
		return NULL;
	json_array_foreach (list, i, item) {
		if ((i && buf_append(&b, json_string_value(sep), json_string_length(sep)) < 0) ||
		    print_value(&b, item) < 0) {
			buf_release(&b);
			return NULL;
		}
	}
	return string_of_buf(&b);
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

/* docker's pad: the text with prefix and suffix spaces. */
static json_t *fn_pad(json_t *v, json_t *prefix, json_t *suffix)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);
	json_int_t pre = json_integer_value(prefix), suf = json_integer_value(suffix);

	if (!json_is_integer(prefix) || !json_is_integer(suffix) || pre < 0 || suf < 0 ||
	    pre > 4096 || suf > 4096)
		return NULL;
	if (buf_appendf(&b, "%*s", (int)pre, "") < 0 || print_value(&b, v) < 0 ||
	    buf_appendf(&b, "%*s", (int)suf, "") < 0) {
		buf_release(&b);
		return NULL;
	}
	return string_of_buf(&b);
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

/* A map's missing key is its value type's zero value in Go: "" in docker's
 * string maps (Labels, Options), nil (printed "<no value>") otherwise. */
static json_t *missing_key_value(const json_t *map)
{
	const char *k;
	json_t *item;

	json_object_foreach ((json_t *)map, k, item)
		if (!json_is_string(item))
			return json_null();
	return json_string("");
}

static json_t *fn_index(struct exec *ex, const struct pipe *p, json_t **args, size_t n)
{
	json_t *v = args[0];
	char msg[64];

	for (size_t i = 1; i < n; i++) {
		if (json_is_object(v) && json_is_string(args[i])) {
			json_t *item = json_object_get(v, json_string_value(args[i]));
			if (!item)
				return i + 1 == n ? missing_key_value(v) : json_null();
			v = item;
		} else if ((json_is_array(v) || json_is_string(v)) && json_is_integer(args[i])) {
			json_int_t k = json_integer_value(args[i]);
			size_t len = json_is_array(v) ? json_array_size(v) : json_string_length(v);
			if (k < 0 || (size_t)k >= len) {
				snprintf(msg, sizeof(msg), "%lld", (long long)k);
				return exec_error(ex, p, "error calling index: index out of range: ", msg), NULL;
			}
			if (json_is_string(v))
				return json_integer((unsigned char)json_string_value(v)[k]);
			v = json_array_get(v, (size_t)k);
		} else if (json_is_null(v)) {
			return exec_error(ex, p, "error calling index: index of untyped nil", NULL), NULL;
		} else {
			return exec_error(ex, p, "error calling index: cannot index ", go_type(v)), NULL;
		}
	}
	return json_incref(v);
}

static json_t *fn_len(struct exec *ex, const struct pipe *p, json_t *v)
{
	if (json_is_string(v))
		return json_integer((json_int_t)json_string_length(v));
	if (json_is_array(v))
		return json_integer((json_int_t)json_array_size(v));
	if (json_is_object(v))
		return json_integer((json_int_t)json_object_size(v));
	return exec_error(ex, p, "error calling len: len of type ", go_type(v)), NULL;
}

/* Go's fmt.Sprint (a space between operands when neither is a string) and
 * fmt.Sprintln (always a space, and a newline). */
static json_t *fn_print(json_t **args, size_t n, bool line)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);

	for (size_t i = 0; i < n; i++) {
		bool space = i && (line || (!json_is_string(args[i - 1]) && !json_is_string(args[i])));
		if ((space && buf_append(&b, " ", 1) < 0) || print_value(&b, args[i]) < 0) {
			buf_release(&b);
			return NULL;
		}
	}
	if (line && buf_append(&b, "\n", 1) < 0) {
		buf_release(&b);
		return NULL;
	}
	return string_of_buf(&b);
}

/* One %verb of printf: flags, width and precision as C has them. */
struct verb {
	char flags[8];
	int width, prec; /* -1: not given */
	char c;
};

/* Text padded to width characters (UTF-8 code points) as fmt pads it. */
static int pad_text(struct buf *b, const struct verb *vb, const char *s, size_t len)
{
	size_t chars = 0, cut = len;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (vb->prec >= 0 && chars == (size_t)vb->prec) {
			cut = i;
			break;
		}
		chars++;
	}
	bool left = strchr(vb->flags, '-');
	int pad = vb->width > (int)chars ? vb->width - (int)chars : 0;
	if ((!left && buf_appendf(b, "%*s", pad, "") < 0) || buf_append(b, s, cut) < 0 ||
	    (left && buf_appendf(b, "%*s", pad, "") < 0))
		return -1;
	return 0;
}

static int printf_bad(struct buf *b, char c, const json_t *v)
{
	int r = buf_appendf(b, "%%!%c(%s=", c, go_type(v));

	if (r == 0)
		r = print_value(b, v);
	return r ? r : buf_append(b, ")", 1);
}

/* The C format is built from parse_verb's checked flags and verb, so it is
 * safe, but the compiler cannot see that. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int printf_number(struct buf *b, const struct verb *vb, const json_t *v)
{
	char fmt[32];
	bool is_int = json_is_integer(v), is_float = json_is_real(v);

	if (strchr("dxXob", vb->c) && is_int) {
		snprintf(fmt, sizeof(fmt), "%%%s*.*ll%c", vb->flags, vb->c == 'b' ? 'd' : vb->c);
		return buf_appendf(b, fmt, vb->width < 0 ? 0 : vb->width, vb->prec < 0 ? 1 : vb->prec,
				   (long long)json_integer_value(v));
	}
	if (strchr("eEfFgG", vb->c) && is_float) {
		snprintf(fmt, sizeof(fmt), "%%%s*.*%c", vb->flags, vb->c);
		return buf_appendf(b, fmt, vb->width < 0 ? 0 : vb->width, vb->prec < 0 ? 6 : vb->prec,
				   json_real_value(v));
	}
	return printf_bad(b, vb->c, v);
}
#pragma GCC diagnostic pop

static int printf_one(struct buf *b, const struct verb *vb, const json_t *v)
{
	cleanup_buf struct buf text = BUF_INIT(TMPL_OUT_MAX);
	char q[8192];

	switch (vb->c) {
	case 'v':
		if (print_value(&text, v) < 0)
			return -1;
		return pad_text(b, vb, text.data ? text.data : "", text.len);
	case 's':
		if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
			return printf_bad(b, vb->c, v);
		if (print_value(&text, v) < 0)
			return -1;
		return pad_text(b, vb, text.data ? text.data : "", text.len);
	case 'q':
		if (!json_is_string(v))
			return printf_bad(b, vb->c, v);
		tab_go_quote(json_string_value(v), q, sizeof(q));
		return pad_text(b, vb, q, strlen(q));
	case 't':
		if (!json_is_boolean(v))
			return printf_bad(b, vb->c, v);
		return pad_text(b, vb, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
	case 'x':
	case 'X':
		if (json_is_string(v)) {
			for (size_t i = 0; i < json_string_length(v); i++)
				if (buf_appendf(&text, vb->c == 'x' ? "%02x" : "%02X",
						(unsigned char)json_string_value(v)[i]) < 0)
					return -1;
			return pad_text(b, &(struct verb){ "", vb->width, -1, 's' },
					text.data ? text.data : "", text.len);
		}
		return printf_number(b, vb, v);
	default:
		return printf_number(b, vb, v);
	}
}

/* Parse a verb after '%' at *f; 0 or -1 for a bad one (printed as Go does). */
static int parse_verb(const char **f, struct verb *vb)
{
	const char *p = *f;
	size_t nf = 0;

	*vb = (struct verb){ .width = -1, .prec = -1 };
	while (*p && strchr("-+# 0", *p) && nf + 1 < sizeof(vb->flags))
		vb->flags[nf++] = *p++;
	if (isdigit((unsigned char)*p))
		for (vb->width = 0; isdigit((unsigned char)*p) && vb->width < 4096; p++)
			vb->width = vb->width * 10 + (*p - '0');
	if (*p == '.')
		for (p++, vb->prec = 0; isdigit((unsigned char)*p) && vb->prec < 4096; p++)
			vb->prec = vb->prec * 10 + (*p - '0');
	vb->c = *p;
	*f = *p ? p + 1 : p;
	return vb->c && strchr("vsqtdxXobeEfFgG", vb->c) ? 0 : -1;
}

/* Go's fmt.Sprintf for the verbs templates use. */
static json_t *fn_printf(json_t **args, size_t n)
{
	struct buf b = BUF_INIT(TMPL_OUT_MAX);
	size_t next = 1;
	int r = 0;

	if (!json_is_string(args[0]))
		return NULL;
	for (const char *f = json_string_value(args[0]); r == 0 && *f;) {
		const char *pct = strchr(f, '%');
		struct verb vb;

		if (!pct) {
			r = buf_append(&b, f, strlen(f));
			break;
		}
		r = buf_append(&b, f, (size_t)(pct - f));
		f = pct + 1;
		if (r == 0 && *f == '%') {
			r = buf_append(&b, "%", 1);
			f++;
		} else if (r == 0 && parse_verb(&f, &vb) < 0) {
			r = vb.c ? buf_appendf(&b, "%%!%c(BADVERB)", vb.c) : buf_append(&b, "%!(NOVERB)", 10);
		} else if (r == 0) {
			r = next < n ? printf_one(&b, &vb, args[next++]) : buf_appendf(&b, "%%!%c(MISSING)", vb.c);
		}
	}
	for (size_t i = next; r == 0 && i < n; i++) {
		r = buf_appendf(&b, "%s%s=", i == next ? "%!(EXTRA " : ", ", go_type(args[i]));
		if (r == 0)
			r = print_value(&b, args[i]);
		if (r == 0 && i + 1 == n)
			r = buf_append(&b, ")", 1);
	}
	if (r < 0) {
		buf_release(&b);
		return NULL;
	}
	return string_of_buf(&b);
}

enum kind { K_BAD, K_NIL, K_BOOL, K_INT, K_FLOAT, K_STRING };

static enum kind basic_kind(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL: return K_NIL;
	case JSON_TRUE:
	case JSON_FALSE: return K_BOOL;
	case JSON_INTEGER: return K_INT;
	case JSON_REAL: return K_FLOAT;
	case JSON_STRING: return K_STRING;
	default: return K_BAD;
	}
}

/* Go's eq a b [c...]: a equals any of the others; lt and friends: -1/0/1 in
 * *cmp. Values of different kinds cannot be compared (nil aside, for eq). */
static int compare(struct exec *ex, const struct pipe *p, const char *fn, const json_t *a,
		   const json_t *b, bool ordered, int *cmp)
{
	enum kind ka = basic_kind(a), kb = basic_kind(b);
	char what[64];

	snprintf(what, sizeof(what), "error calling %s: ", fn);
	if (!ordered && (ka == K_NIL || kb == K_NIL) && ka != K_BAD && kb != K_BAD) {
		*cmp = ka == kb ? 0 : 1;
		return 0;
	}
	if (ka == K_BAD || kb == K_BAD || ka == K_NIL || (ordered && ka == K_BOOL))
		return exec_error(ex, p, what, "invalid type for comparison");
	if (ka != kb)
		return exec_error(ex, p, what, "incompatible types for comparison");
	switch (ka) {
	case K_BOOL: *cmp = json_is_true(a) != json_is_true(b); break;
	case K_INT:
		*cmp = (json_integer_value(a) > json_integer_value(b)) -
		       (json_integer_value(a) < json_integer_value(b));
		break;
	case K_FLOAT:
		*cmp = (json_real_value(a) > json_real_value(b)) - (json_real_value(a) < json_real_value(b));
		break;
	default: {
		int c = strcmp(json_string_value(a), json_string_value(b));
		*cmp = (c > 0) - (c < 0);
	}
	}
	return 0;
}

static json_t *fn_compare(struct exec *ex, const struct pipe *p, const struct func *f,
			  json_t **args, size_t n)
{
	int c = 0;

	if (f->id == F_EQ) {
		for (size_t i = 1; i < n; i++) {
			if (compare(ex, p, f->name, args[0], args[i], false, &c) < 0)
				return NULL;
			if (c == 0)
				return json_true();
		}
		return json_false();
	}
	if (compare(ex, p, f->name, args[0], args[1], f->id != F_NE, &c) < 0)
		return NULL;
	switch (f->id) {
	case F_NE: return json_boolean(c != 0);
	case F_LT: return json_boolean(c < 0);
	case F_LE: return json_boolean(c <= 0);
	case F_GT: return json_boolean(c > 0);
	default: return json_boolean(c >= 0);
	}
}

/* and/or evaluate their operands in order and stop at the first that decides. */
static json_t *fn_and_or(struct exec *ex, const struct pipe *p, const struct cmd *c, json_t *dot,
			 json_t *piped)
{
	bool is_and = c->args[0].fn->id == F_AND;
	size_t n = c->nargs - 1 + !!piped;
	json_t *v = NULL;

	for (size_t i = 0; i < n; i++) {
		if (v)
			json_decref(v);
		v = i + 1 < c->nargs ? eval_arg(ex, p, &c->args[i + 1], dot) : json_incref(piped);
		if (!v || truth(v) != is_and)
			return v;
	}
	return v;
}

static void release_args(json_t **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(args[i]);
}

static json_t *apply(struct exec *ex, const struct pipe *p, const struct func *f, json_t **a,
		     size_t n)
{
	if (ex->header && f->header_passthrough)
		return json_incref(a[0]);
	switch (f->id) {
	case F_JSON: return fn_json(a[0]);
	case F_UPPER:
	case F_LOWER:
	case F_TITLE: return fn_case(a[0], f->id);
	case F_JOIN: return fn_join(a[0], a[1]);
	case F_SPLIT: return fn_split(a[0], a[1]);
	case F_PAD: return fn_pad(a[0], a[1], a[2]);
	case F_TRUNCATE: return fn_truncate(a[0], a[1]);
	case F_INDEX: return fn_index(ex, p, a, n);
	case F_LEN: return fn_len(ex, p, a[0]);
	case F_PRINT:
	case F_PRINTLN: return fn_print(a, n, f->id == F_PRINTLN);
	case F_PRINTF: return fn_printf(a, n);
	case F_NOT: return json_boolean(!truth(a[0]));
	default: return fn_compare(ex, p, f, a, n);
	}
}

/* name arg... [piped]: a function call. */
static json_t *call_func(struct exec *ex, const struct pipe *p, const struct cmd *c, json_t *dot,
			 json_t *piped)
{
	const struct func *f = c->args[0].fn;
	json_t *args[TMPL_MAX_ARGS + 1], *v;
	size_t n = 0;

	if ((int)(c->nargs - 1 + !!piped) < f->min_args ||
	    (f->max_args >= 0 && (int)(c->nargs - 1 + !!piped) > f->max_args))
		return exec_error(ex, p, "wrong number of arguments for ", f->name), NULL;
	if (f->id == F_AND || f->id == F_OR)
		return fn_and_or(ex, p, c, dot, piped);
	for (size_t i = 1; i < c->nargs; i++) {
		if (!(args[n] = eval_arg(ex, p, &c->args[i], dot))) {
			release_args(args, n);
			return NULL;
		}
		n++;
	}
	if (piped)
		args[n++] = json_incref(piped);
	v = apply(ex, p, f, args, n);
	release_args(args, n);
	if (!v && !ex->err->msg[0])
		exec_error(ex, p, "invalid arguments for ", f->name);
	return v;
}

static json_t *eval_cmd(struct exec *ex, const struct pipe *p, const struct cmd *c, json_t *dot,
			json_t *piped)
{
	if (c->args[0].kind == ARG_FUNC)
		return call_func(ex, p, c, dot, piped);
	return eval_arg(ex, p, &c->args[0], dot);
}

static json_t *eval_pipe(struct exec *ex, const struct pipe *p, json_t *dot)
{
	json_t *v = NULL;

	for (size_t i = 0; i < p->ncmds; i++) {
		json_t *next = eval_cmd(ex, p, &p->cmds[i], dot, v);
		if (v)
			json_decref(v);
		if (!(v = next)) {
			if (!ex->err->msg[0])
				err_set(ex->err, ENOMEM, "template");
			return NULL;
		}
	}
	return v;
}

/* A pipeline's value, its variables (if any) set. */
static json_t *eval_control(struct exec *ex, const struct pipe *p, json_t *dot)
{
	json_t *v = eval_pipe(ex, p, dot);

	if (v && p->nvars && set_var(ex, &p->vars[0], p->assign, v) < 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static int exec_list(struct exec *ex, const struct node *n, json_t *dot);

static int exec_range_item(struct exec *ex, const struct node *n, json_t *key, json_t *item)
{
	const struct pipe *p = n->pipe;

	if (p->nvars == 1 && set_var(ex, &p->vars[0], p->assign, item) < 0)
		return -1;
	if (p->nvars == 2 && (set_var(ex, &p->vars[0], p->assign, key) < 0 ||
			      set_var(ex, &p->vars[1], p->assign, item) < 0))
		return -1;
	return exec_list(ex, n->list, item);
}

/* Over a list, a map (in key order) or 0..n-1 for an integer n. */
static int exec_range(struct exec *ex, const struct node *n, json_t *dot)
{
	size_t mark = ex->nvars, count = 0;
	cleanup_json_t json_t *v = eval_pipe(ex, n->pipe, dot);
	cleanup_free const char **keys = NULL;
	int r = 0;

	if (!v)
		return -1;
	if (json_is_object(v) && !(keys = sorted_keys(v)))
		return err_set(ex->err, ENOMEM, "template");
	if (json_is_array(v))
		count = json_array_size(v);
	else if (json_is_object(v))
		count = json_object_size(v);
	else if (json_is_integer(v) && json_integer_value(v) > 0)
		count = (size_t)json_integer_value(v);
	else if (!json_is_null(v) && !json_is_integer(v))
		return exec_error(ex, n->pipe, "range can't iterate over ", go_type(v));
	for (size_t i = 0; i < count && r >= 0; i++) {
		if (++ex->steps > TMPL_MAX_STEPS)
			return err_set(ex->err, 0, "template: too much work");
		json_t *key = keys ? json_string(keys[i]) : json_integer((json_int_t)i);
		json_t *item = json_is_array(v)	   ? json_incref(json_array_get(v, i))
			       : json_is_object(v) ? json_incref(json_object_get(v, keys[i]))
						   : json_incref(key);
		r = key && item ? exec_range_item(ex, n, key, item) : err_set(ex->err, ENOMEM, "template");
		json_decref(key);
		json_decref(item);
		pop_vars(ex, mark);
		if (r == EXEC_BREAK)
			break;
	}
	if (r >= 0 && count == 0)
		r = exec_list(ex, n->else_list, dot);
	pop_vars(ex, mark);
	return r < 0 ? -1 : 0;
}

static int exec_node(struct exec *ex, const struct node *n, json_t *dot)
{
	size_t mark = ex->nvars;
	json_t *v;
	int r;

	switch (n->kind) {
	case NODE_TEXT:
		return buf_append(ex->out, n->text, n->len) < 0 ? err_set(ex->err, E2BIG, "template output") : 0;
	case NODE_BREAK: return EXEC_BREAK;
	case NODE_CONTINUE: return EXEC_CONTINUE;
	case NODE_RANGE: return exec_range(ex, n, dot);
	case NODE_ACTION:
		if (!(v = eval_control(ex, n->pipe, dot)))
			return -1;
		r = n->pipe->nvars ? 0 : print_value(ex->out, v);
		json_decref(v);
		return r < 0 ? err_set(ex->err, E2BIG, "template output") : 0;
	default: /* if, with */
		if (!(v = eval_control(ex, n->pipe, dot)))
			return -1;
		if (truth(v))
			r = exec_list(ex, n->list, n->kind == NODE_WITH ? v : dot);
		else
			r = exec_list(ex, n->else_list, dot);
		json_decref(v);
		pop_vars(ex, mark);
		return r;
	}
}

static int exec_list(struct exec *ex, const struct node *n, json_t *dot)
{
	for (; n; n = n->next) {
		int r;
		if (++ex->steps > TMPL_MAX_STEPS)
			return err_set(ex->err, 0, "template: too much work");
		r = exec_node(ex, n, dot);
		if (r != EXEC_OK)
			return r;
	}
	return EXEC_OK;
}

int gotemplate_exec(const struct gotemplate *t, json_t *root, bool header, struct buf *out,
		    struct sk_err *err)
{
	struct exec ex = { .out = out, .err = err, .header = header, .nvars = 1 };
	int r;

	ex.vars[0] = (struct var){ "$", 1, json_incref(root) };
	r = exec_list(&ex, t->root, root);
	pop_vars(&ex, 0);
	return r < 0 ? -1 : 0;
}

int gotemplate_render(const char *tmpl, json_t *root, struct buf *out, struct sk_err *err)
{
	struct gotemplate *t;
	int r;

	if (gotemplate_parse(tmpl, &t, err) < 0)
		return -1;
	r = gotemplate_exec(t, root, false, out, err);
	gotemplate_free(t);
	return r;
}

/* --- docker's list formats ------------------------------------------------- */

/* Trim spaces and turn "\t" and "\n" into tab and newline, as docker does. */
static char *docker_format_text(const char *format)
{
	size_t len;
	char *s, *o;

	while (*format == ' ')
		format++;
	len = strlen(format);
	while (len && format[len - 1] == ' ')
		len--;
	s = strndup(format, len);
	if (!s)
		return NULL;
	o = s;
	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
			*o++ = p[1] == 't' ? '\t' : '\n';
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return s;
}

static int render_rows(const struct gotemplate *t, json_t *rows, struct buf *out,
		       struct sk_err *err)
{
	size_t i;
	json_t *row;

	json_array_foreach (rows, i, row) {
		if (gotemplate_exec(t, row, false, out, err) < 0)
			return -1;
		if (buf_append(out, "\n", 1) < 0)
			return err_set(err, E2BIG, "template output");
	}
	return 0;
}

static int render_json_rows(json_t *rows, struct buf *out, struct sk_err *err)
{
	size_t i;
	json_t *row;

	json_array_foreach (rows, i, row) {
		cleanup_free char *text = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text || buf_appendf(out, "%s\n", text) < 0)
			return err_set(err, E2BIG, "template output");
	}
	return 0;
}

int gotemplate_format_list(const char *format, const char *default_table, json_t *header,
			   json_t *rows, struct buf *out, struct sk_err *err)
{
	cleanup_free char *text = NULL;
	struct gotemplate *t = NULL;
	bool table;
	int r;

	if (!format || !format[0] || !strcmp(format, "table"))
		format = default_table;
	if (!strcmp(format, "json"))
		return render_json_rows(rows, out, err);
	table = !strncmp(format, "table", 5);
	text = docker_format_text(table ? format + 5 : format);
	if (!text)
		return err_set(err, ENOMEM, "template");
	if (gotemplate_parse(text, &t, err) < 0)
		return -1;
	if (!table) {
		r = render_rows(t, rows, out, err);
	} else {
		cleanup_buf struct buf cells = BUF_INIT(TMPL_OUT_MAX);
		r = gotemplate_exec(t, header, true, &cells, err);
		if (r == 0 && buf_append(&cells, "\n", 1) < 0)
			r = err_set(err, E2BIG, "template output");
		if (r == 0)
			r = render_rows(t, rows, &cells, err);
		if (r == 0 && tabwriter_align(cells.data, cells.len, out) < 0)
			r = err_set(err, E2BIG, "template output");
	}
	gotemplate_free(t);
	return r;
}

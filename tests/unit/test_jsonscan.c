/* The flat-object JSON reader (util/jsonscan.c): what it takes, what it
 * refuses (so that its caller falls back to jansson), and escapes. */
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"
#include "util/jsonscan.h"

struct seen {
	char keys[16][32];
	struct jscan_value v[16];
	int n;
};

static int collect(const struct jscan_member *m, void *ctx)
{
	struct seen *s = ctx;

	if (s->n == 16 || m->key_len >= sizeof(s->keys[0]))
		return -1;
	memcpy(s->keys[s->n], m->key, m->key_len);
	s->keys[s->n][m->key_len] = '\0';
	s->v[s->n++] = m->v;
	return 0;
}

static int scan(const char *text, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return jscan_object(text, strlen(text), collect, s);
}

TEST(takes_what_state_json_holds)
{
	struct seen s;
	char out[64];
	int64_t i;

	CHECK(scan("{\"status\":\"exited\",\"pid\":-12,\"ok\":true,\"no\":false,\"x\":null,"
		   "\"args\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\"],\"empty\":[],"
		   "\"t\":1796640218961478275}",
		   &s) == 0);
	CHECK(s.n == 8);
	CHECK_STR(s.keys[0], "status");
	CHECK(jscan_string(&s.v[0], out, sizeof(out)) == 6);
	CHECK_STR(out, "exited");
	CHECK(jscan_int(&s.v[1], &i) == 0 && i == -12);
	CHECK(s.v[2].type == JSCAN_TRUE && s.v[3].type == JSCAN_FALSE && s.v[4].type == JSCAN_NULL);
	CHECK(s.v[5].type == JSCAN_STRINGS && s.v[6].type == JSCAN_STRINGS);
	CHECK(jscan_int(&s.v[7], &i) == 0 && i == 1796640218961478275LL);
	/* whitespace anywhere JSON allows it */
	CHECK(scan(" \n{ \"a\" :\t1 , \"b\" : [ \"x\" , \"y\" ] }\r\n", &s) == 0 && s.n == 2);
	CHECK(scan("{}", &s) == 0 && s.n == 0);
}

static int join(const struct jscan_value *v, void *ctx)
{
	char one[64];

	if (jscan_string(v, one, sizeof(one)) < 0)
		return -1;
	strcat(ctx, one);
	strcat(ctx, "|");
	return 0;
}

TEST(strings_of_an_array)
{
	struct seen s;
	char all[256] = "";

	CHECK(scan("{\"a\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\",\"\"]}", &s) == 0);
	CHECK(jscan_strings(&s.v[0], join, all) == 0);
	CHECK_STR(all, "sh|-c|echo \"hi\"||");
}

TEST(escapes)
{
	struct seen s;
	char out[64];

	CHECK(scan("{\"e\":\"a\\n\\t\\/\\\\\\u00e9\\ud83d\\ude00\"}", &s) == 0);
	CHECK(jscan_string(&s.v[0], out, sizeof(out)) == 11);
	CHECK_STR(out, "a\n\t/\\\xc3\xa9\xf0\x9f\x98\x80");
	/* \u0000 would cut the C string short */
	CHECK(scan("{\"e\":\"a\\u0000b\"}", &s) == 0 &&
	      jscan_string(&s.v[0], out, sizeof(out)) < 0);
	/* a lone surrogate is not JSON (jansson refuses it too) */
	CHECK(scan("{\"e\":\"\\udc00\"}", &s) < 0);
	CHECK(scan("{\"e\":\"\\ud83dx\"}", &s) < 0);
	/* too long for the buffer */
	CHECK(scan("{\"e\":\"abcdef\"}", &s) == 0 && jscan_string(&s.v[0], out, 6) < 0);
	CHECK(jscan_string(&s.v[0], out, 7) == 6);
}

TEST(refuses_what_it_does_not_take)
{
	static const char *const refused[] = {
		"", "[]", "{", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":1}x",
		"{\"a\":{}}", "{\"a\":[1]}", "{\"a\":[\"x\",]}", "{\"a\":tru}", "{\"a\":01}",
		"{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"tab\there\"}", "{\"\\u0061\":1}", "{\"a\":\"caf\xc3\xa9\"}",
		"{\"a\":\"unterminated}",
	};
	struct seen s;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int r = scan(refused[i], &s);

		if (r != -1)
			fprintf(stderr, "took: %s\n", refused[i]);
		CHECK(r == -1);
	}
}

TEST(numbers)
{
	struct seen s;
	int64_t i = 7;

	CHECK(scan("{\"c\":-0,\"d\":9223372036854775807,\"e\":-9223372036854775808}", &s) == 0);
	CHECK(jscan_int(&s.v[0], &i) == 0 && i == 0);
	CHECK(jscan_int(&s.v[1], &i) == 0 && i == INT64_MAX);
	CHECK(jscan_int(&s.v[2], &i) == 0 && i == INT64_MIN);
	/* skiff writes integers only; jansson refuses those out of range */
	CHECK(scan("{\"a\":1.5}", &s) < 0 && scan("{\"a\":2e3}", &s) < 0);
	CHECK(scan("{\"a\":9223372036854775808}", &s) < 0);
	CHECK(jscan_int(&(struct jscan_value){ JSCAN_STRING, "1", 1 }, &i) < 0);
}

static int stop_at_b(const struct jscan_member *m, void *ctx)
{
	(*(int *)ctx)++;
	return jscan_key_is(m, "b") ? -1 : 0;
}

TEST(a_callback_stops_the_scan)
{
	int calls = 0;
	const char *t = "{\"a\":1,\"b\":2,\"c\":3}";

	CHECK(jscan_object(t, strlen(t), stop_at_b, &calls) == -1 && calls == 2);
}

int main(void)
{
	RUN(takes_what_state_json_holds);
	RUN(strings_of_an_array);
	RUN(escapes);
	RUN(refuses_what_it_does_not_take);
	RUN(numbers);
	RUN(a_callback_stops_the_scan);
	return UNIT_DONE();
}

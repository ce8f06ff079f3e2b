/* Unit tests of docker's detach-key spelling (src/runtime/attach.c). */
#include "runtime/attach.h"
#include "unit.h"

static int keys_of(const char *spec, char keys[ATTACH_KEYS_MAX], size_t *n)
{
	struct sk_err err;

	return attach_parse_keys(spec, keys, n, &err);
}

TEST(default_keys)
{
	char k[ATTACH_KEYS_MAX];
	size_t n;

	CHECK(keys_of("ctrl-p,ctrl-q", k, &n) == 0);
	CHECK(n == 2 && k[0] == 0x10 && k[1] == 0x11);
}

TEST(letters_controls_and_case)
{
	char k[ATTACH_KEYS_MAX];
	size_t n;

	CHECK(keys_of("a,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,CTRL-X,,", k, &n) < 0);
	CHECK(keys_of("a,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,CTRL-X", k, &n) == 0);
	CHECK(n == 8 && k[0] == 'a' && k[1] == 0 && k[2] == 27 && k[3] == 28 && k[4] == 29 &&
	      k[5] == 30 && k[6] == 31 && k[7] == 24);
	CHECK(keys_of(",", k, &n) < 0);
	CHECK(keys_of("", k, &n) == 0 && n == 0);
}

TEST(refusals_name_the_spec)
{
	char k[ATTACH_KEYS_MAX];
	struct sk_err err;
	size_t n;

	CHECK(attach_parse_keys("ctrl-foo", k, &n, &err) < 0);
	CHECK_STR(err.msg, "Invalid detach keys (ctrl-foo) provided");
	CHECK(attach_parse_keys("ab", k, &n, &err) < 0);
	CHECK(attach_parse_keys("a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a", k, &n, &err) < 0);
}

int main(void)
{
	RUN(default_keys);
	RUN(letters_controls_and_case);
	RUN(refusals_name_the_spec);
	return UNIT_DONE();
}

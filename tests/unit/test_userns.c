/* /etc/subuid parsing for rootless mappings; and the namespace checks on
 * this (initial-namespace, root) test process. */
#include <string.h>

#include "runtime/userns.h"
#include "unit.h"

TEST(find_by_name_and_by_uid)
{
	static const char data[] = "# comment\n"
				   "alice:100000:65536\n"
				   "1001:300000:1000\n"
				   "bob:200000:65536\n";
	struct id_range r;

	CHECK(userns_find_range(data, strlen(data), "alice", 1000, &r) == 1);
	CHECK(r.start == 100000 && r.count == 65536);
	CHECK(userns_find_range(data, strlen(data), "carol", 1001, &r) == 1);
	CHECK(r.start == 300000 && r.count == 1000);
	CHECK(userns_find_range(data, strlen(data), "bob", 5, &r) == 1 && r.start == 200000);
	CHECK(userns_find_range(data, strlen(data), "nobody", 4242, &r) == 0);
	/* a prefix of a name is not the name */
	CHECK(userns_find_range(data, strlen(data), "ali", 4242, &r) == 0);
	CHECK(userns_find_range(data, strlen(data), NULL, 1001, &r) == 1);
}

TEST(malformed_lines_are_skipped)
{
	static const char data[] = "alice:100000\n"
				   "alice:x:5\n"
				   "alice:1:0\n"
				   "alice:7:8:9\n"
				   "alice:500000:10";
	struct id_range r;

	/* only the last line is whole (and needs no final newline) */
	CHECK(userns_find_range(data, strlen(data), "alice", 1, &r) == 1);
	CHECK(r.start == 500000 && r.count == 10);
	CHECK(userns_find_range("", 0, "alice", 1, &r) == 0);
}

TEST(this_process_is_not_rootless)
{
	CHECK(!userns_is_rootless());
	CHECK(!userns_single_id());
}

int main(void)
{
	RUN(find_by_name_and_by_uid);
	RUN(malformed_lines_are_skipped);
	RUN(this_process_is_not_rootless);
	return UNIT_DONE();
}

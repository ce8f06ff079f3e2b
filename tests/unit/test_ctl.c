/* Unit tests of ctl's signal names (src/runtime/ctl.c). */
#include <signal.h>

#include "runtime/ctl.h"
#include "unit.h"

static int sig_of(const char *s)
{
	struct sk_err err;
	int sig = -1;

	return ctl_signal_parse(s, &sig, &err) < 0 ? -1 : sig;
}

TEST(names_numbers_and_realtime)
{
	CHECK(sig_of("TERM") == SIGTERM);
	CHECK(sig_of("SIGTERM") == SIGTERM);
	CHECK(sig_of("sigkill") == SIGKILL);
	CHECK(sig_of("usr1") == SIGUSR1);
	CHECK(sig_of("HUP") == SIGHUP);
	CHECK(sig_of("9") == SIGKILL);
	CHECK(sig_of("10") == 10);
	CHECK(sig_of("RTMIN") == SIGRTMIN);
	CHECK(sig_of("SIGRTMIN+3") == SIGRTMIN + 3);
	CHECK(sig_of("RTMAX-1") == SIGRTMAX - 1);
}

TEST(refusals)
{
	struct sk_err err;
	int sig;

	CHECK(sig_of("") == -1);
	CHECK(sig_of("0") == -1);
	CHECK(sig_of("65") == -1);
	CHECK(sig_of("-9") == -1);
	CHECK(sig_of("SIG") == -1);
	CHECK(sig_of("NOPE") == -1);
	CHECK(sig_of("RTMIN-1") == -1);
	CHECK(sig_of("RTMAX+1") == -1);
	CHECK(sig_of("TERM ") == -1);
	CHECK(ctl_signal_parse("SIGNOPE", &sig, &err) < 0);
	CHECK_STR(err.msg, "invalid signal: SIGNOPE");
}

int main(void)
{
	RUN(names_numbers_and_realtime);
	RUN(refusals);
	return UNIT_DONE();
}

/*
 * Dockerfile instructions applied to an image config ("commit --change"):
 * exec and shell forms, ENV and LABEL pairs with quotes and variables,
 * EXPOSE ranges, relative WORKDIR, VOLUME, an ENTRYPOINT clearing Cmd, and
 * one clear error for what is not allowed.
 */
#include <jansson.h>
#include <string.h>

#include "image/config_edit.h"
#include "unit.h"

static json_t *base(void)
{
	return json_loads("{\"Env\":[\"PATH=/bin\",\"HOME=/root\"],\"Cmd\":[\"sh\"],"
			  "\"WorkingDir\":\"/srv\"}",
			  0, NULL);
}

static const char *str(json_t *cfg, const char *key)
{
	return json_string_value(json_object_get(cfg, key));
}

static char *dump(json_t *v)
{
	return json_dumps(v, JSON_COMPACT);
}

static int apply(json_t *cfg, const char *line)
{
	struct config_edit ed = {.config = cfg};
	struct sk_err err = {0};

	return config_edit_apply(&ed, line, &err);
}

TEST(commands)
{
	json_t *cfg = base();
	struct config_edit ed = {.config = cfg};
	struct sk_err err = {0};
	char *s;

	CHECK(config_edit_apply(&ed, "CMD [\"echo\", \"a b\"]", &err) == 0);
	s = dump(json_object_get(cfg, "Cmd"));
	CHECK_STR(s, "[\"echo\",\"a b\"]");
	free(s);
	CHECK(config_edit_apply(&ed, "cmd echo $HOME", &err) == 0);
	s = dump(json_object_get(cfg, "Cmd"));
	CHECK_STR(s, "[\"/bin/sh\",\"-c\",\"echo $HOME\"]"); /* the shell expands it */
	free(s);
	/* a CMD came first: ENTRYPOINT keeps it */
	CHECK(config_edit_apply(&ed, "ENTRYPOINT [\"/init\"]", &err) == 0);
	CHECK(json_array_size(json_object_get(cfg, "Cmd")) == 3);
	json_decref(cfg);

	cfg = base();
	CHECK(apply(cfg, "ENTRYPOINT /init") == 0);
	CHECK(json_is_null(json_object_get(cfg, "Cmd")));
	json_decref(cfg);
}

TEST(env_and_labels)
{
	json_t *cfg = base();
	char *s;

	CHECK(apply(cfg, "ENV A=1 B=\"two words\" C=$HOME/x D=${NOPE:-dflt} E='$HOME'") == 0);
	CHECK(apply(cfg, "ENV PATH /usr/bin:$PATH") == 0);
	s = dump(json_object_get(cfg, "Env"));
	CHECK_STR(s, "[\"PATH=/usr/bin:/bin\",\"HOME=/root\",\"A=1\",\"B=two words\","
		     "\"C=/root/x\",\"D=dflt\",\"E=$HOME\"]");
	free(s);
	CHECK(apply(cfg, "LABEL a=b \"c d\"=e") == 0);
	s = dump(json_object_get(cfg, "Labels"));
	CHECK_STR(s, "{\"a\":\"b\",\"c d\":\"e\"}");
	free(s);
	CHECK(apply(cfg, "ENV =x") < 0);
	CHECK(apply(cfg, "ENV A=\"unterminated") < 0);
	json_decref(cfg);
}

TEST(ports_workdir_volume_user)
{
	json_t *cfg = base();
	char *s;

	CHECK(apply(cfg, "EXPOSE 80 53/UDP 8000-8002/tcp") == 0);
	s = dump(json_object_get(cfg, "ExposedPorts"));
	CHECK_STR(s, "{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},\"8001/tcp\":{},"
		     "\"8002/tcp\":{}}");
	free(s);
	CHECK(apply(cfg, "EXPOSE 70000") < 0);
	CHECK(apply(cfg, "EXPOSE 80/icmp") < 0);
	CHECK(apply(cfg, "WORKDIR app/../data/./x") == 0);
	CHECK_STR(str(cfg, "WorkingDir"), "/srv/data/x");
	CHECK(apply(cfg, "WORKDIR /abs") == 0);
	CHECK_STR(str(cfg, "WorkingDir"), "/abs");
	CHECK(apply(cfg, "VOLUME [\"/a\", \"/b\"]") == 0);
	CHECK(apply(cfg, "VOLUME /c") == 0);
	CHECK(json_object_size(json_object_get(cfg, "Volumes")) == 3);
	CHECK(apply(cfg, "USER app:app") == 0);
	CHECK_STR(str(cfg, "User"), "app:app");
	CHECK(apply(cfg, "STOPSIGNAL SIGQUIT") == 0);
	CHECK_STR(str(cfg, "StopSignal"), "SIGQUIT");
	json_decref(cfg);
}

TEST(refused)
{
	json_t *cfg = base();
	struct config_edit ed = {.config = cfg};
	struct sk_err err = {0};

	CHECK(config_edit_apply(&ed, "RUN rm -rf /", &err) < 0);
	CHECK(strstr(err.msg, "RUN is not one of") != NULL);
	CHECK(strstr(err.msg, "'RUN rm -rf /'") != NULL);
	CHECK(config_edit_apply(&ed, "", &err) < 0);
	CHECK(config_edit_apply(&ed, "CMD", &err) < 0);
	CHECK(config_edit_apply(&ed, "USER", &err) < 0);
	json_decref(cfg);
}

int main(void)
{
	RUN(commands);
	RUN(env_and_labels);
	RUN(ports_workdir_volume_user);
	RUN(refused);
	return UNIT_DONE();
}

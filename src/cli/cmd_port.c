/*
 * skiff port: docker port. The published ports of a running container, from
 * its network record (runtime/state.h, net.json).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "net/ipam.h"
#include "runtime/state.h"
#include "util/cleanup.h"

static const char port_usage[] = "Usage:  skiff port CONTAINER [PRIVATE_PORT[/PROTO]]\n\n"
				 "List port mappings or a specific mapping for the container\n";

/* "80" or "80/udp" -> port and protocol (tcp when absent). */
static int parse_private(const char *v, uint16_t *port, enum port_proto *proto,
			 struct sk_err *err)
{
	char *end;
	long p = strtol(v, &end, 10);

	*proto = PORT_TCP;
	if (!strcmp(end, "/udp"))
		*proto = PORT_UDP;
	else if (*end && strcmp(end, "/tcp") != 0)
		return err_set(err, 0, "Error: invalid port %s", v);
	if (end == v || p < 1 || p > 65535)
		return err_set(err, 0, "Error: invalid port %s", v);
	*port = (uint16_t)p;
	return 0;
}

static int show(const struct ctr_net *n, const char *ref, const char *private, struct sk_err *err)
{
	enum port_proto proto = PORT_TCP;
	uint16_t want = 0;
	bool found = false;

	if (private && parse_private(private, &want, &proto, err) < 0)
		return -1;
	for (size_t i = 0; i < n->n_ports; i++) {
		const struct port_map *m = &n->ports[i];
		char ip[16];

		if (want && (m->container_port != want || m->proto != proto))
			continue;
		ipam_format_ip(m->host_ip, ip);
		if (want)
			printf("%s:%u\n", ip, (unsigned)m->host_port);
		else
			printf("%u/%s -> %s:%u\n", (unsigned)m->container_port,
			       ports_proto_name(m->proto), ip, (unsigned)m->host_port);
		found = true;
	}
	if (want && !found)
		return err_set(err, 0, "Error: No public port '%u/%s' published for %s",
			       (unsigned)want, ports_proto_name(proto), ref);
	return 0;
}

static int exec_port(struct cli_ctx *ctx, int argc, char **argv, struct sk_err *err)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	char id[CTR_ID_LEN + 1];
	cleanup_close int dirfd = -1;
	cleanup_free struct ctr_net *n = calloc(1, sizeof(*n));
	struct ctr_state st;
	int c;

	opterr = 0;
	while ((c = cli_getopt(argc, argv, "+h", opts)) != -1) {
		if (c == 'h')
			return fputs(port_usage, stdout), 0;
		return cli_usage_error(err, "port", "unknown flag '%s'", argv[optind - 1]);
	}
	if (optind >= argc || argc - optind > 2)
		return cli_usage_error(err, "port", "\"skiff port\" requires 1 or 2 arguments");
	if (!n)
		return err_set(err, ENOMEM, "cannot read the ports");
	if (ctr_resolve(&ctx->store, argv[optind], id, err) < 0)
		return -1;
	dirfd = ctr_open_dir(&ctx->store, id, err);
	if (dirfd < 0 || ctr_state_load(dirfd, &st, err) < 0)
		return -1;
	/* docker: a stopped container publishes nothing */
	if (st.status == CTR_RUNNING && ctr_net_read(dirfd, n, err) < 0)
		return -1;
	if (show(n, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, err) < 0) {
		err->exit_code = 1;
		return -1;
	}
	return 0;
}

const struct command cmd_port = {
	.name = "port",
	.summary = "List port mappings or a specific mapping for the container",
	.usage = port_usage,
	.flags = CMD_NEED_STORE,
	.exec = exec_port,
};

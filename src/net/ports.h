/*
 * Published ports (`-p`), parsed as docker parses them (ports.c):
 *   [IP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]   ports or equal-sized ranges
 *   -p 80            an ephemeral host port for container port 80
 *   -p 8080:80       host 8080 -> container 80 on every host address
 *   -p 127.0.0.1:8080:80/udp,  -p 127.0.0.1::80,  -p 8000-8002:80-82
 */
#ifndef SKIFF_NET_PORTS_H
#define SKIFF_NET_PORTS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum port_proto { PORT_TCP, PORT_UDP };

struct port_map {
	uint32_t host_ip;   /* host order; 0: every address */
	uint16_t host_port; /* 0: ephemeral, chosen at start */
	uint16_t container_port;
	enum port_proto proto;
};

/* Append the mappings of one -p value (a range gives several) to *maps. */
int ports_parse(const char *spec, struct port_map **maps, size_t *n, struct sk_err *err);
const char *ports_proto_name(enum port_proto p);
/* A host port 0 becomes a free one of the host; a host port that a program
 * of the host holds is refused in docker's words ("bind for 0.0.0.0:8080/tcp
 * failed: port is already allocated"), before the container starts. */
int ports_choose_host_port(struct port_map *m, struct sk_err *err);
/* docker's PORTS text: "0.0.0.0:8080->80/tcp, 0.0.0.0:49153->53/udp". */
void ports_format(const struct port_map *m, size_t n, char *out, size_t len);

#endif

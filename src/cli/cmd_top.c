#include "cli/cli.h"
const struct command cmd_top = { .name = "top" };
const struct command cmd_stats = { .name = "stats" };
const struct command cmd_update = { .name = "update" };

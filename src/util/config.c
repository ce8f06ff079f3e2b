/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "util/config.h"

int config_load(struct sk_config *cfg, struct sk_err *err)
{
	return err_set(err, ENOSYS, "config_load: not implemented");
}

void config_release(struct sk_config *cfg)
{

}

int config_add_mirror(struct sk_config *cfg, const char *url, struct sk_err *err)
{
	return err_set(err, ENOSYS, "config_add_mirror: not implemented");
}

int config_add_insecure(struct sk_config *cfg, const char *host, struct sk_err *err)
{
	return err_set(err, ENOSYS, "config_add_insecure: not implemented");
}

bool config_registry_is_insecure(const struct sk_config *cfg, const char *hostport)
{
	return false;
}

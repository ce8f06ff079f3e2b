/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/auth.h"

int auth_parse_challenge(const char *header, struct auth_challenge *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "auth_parse_challenge: not implemented");
}

void auth_config_key(const char *registry_host, char *out, size_t len)
{

}

int auth_lookup_credentials(const char *config_dir, const char *registry_host, char **user, char **pass, struct sk_err *err)
{
	return err_set(err, ENOSYS, "auth_lookup_credentials: not implemented");
}

int auth_store_credentials(const char *config_dir, const char *registry_host, const char *user, const char *pass, struct sk_err *err)
{
	return err_set(err, ENOSYS, "auth_store_credentials: not implemented");
}

int auth_erase_credentials(const char *config_dir, const char *registry_host, struct sk_err *err)
{
	return err_set(err, ENOSYS, "auth_erase_credentials: not implemented");
}

int auth_parse_token_response(const char *json, size_t len, char **token, long *expires_in, struct sk_err *err)
{
	return err_set(err, ENOSYS, "auth_parse_token_response: not implemented");
}

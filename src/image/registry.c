/* STUB: to be replaced by the real implementation. */
#include <errno.h>
#include <stdlib.h>
#include "image/registry.h"

struct registry *registry_new(const char *host, const struct sk_config *cfg, struct sk_err *err)
{
	return NULL;
}

void registry_free(struct registry *reg)
{

}

int registry_check_login(struct registry *reg, const char *user, const char *pass, struct sk_err *err)
{
	return err_set(err, ENOSYS, "registry_check_login: not implemented");
}

int registry_get_manifest(struct registry *reg, const char *repo, const char *reference, struct registry_manifest *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "registry_get_manifest: not implemented");
}

void registry_manifest_release(struct registry_manifest *m)
{

}

int registry_get_blob(struct registry *reg, const char *repo, const char *digest, size_t max, struct buf *out, struct sk_err *err)
{
	return err_set(err, ENOSYS, "registry_get_blob: not implemented");
}

int registry_stream_blob(struct registry *reg, const char *repo, const char *digest, int64_t from, int64_t expected_size, registry_sink_fn sink, void *ctx, struct sk_err *err)
{
	return err_set(err, ENOSYS, "registry_stream_blob: not implemented");
}

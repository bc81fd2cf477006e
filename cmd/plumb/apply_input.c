/*
 * plumb apply's inputs: a saved plan checked against live state (account, owner, conflicts,
 * the fingerprint of the resources it names), and --target addresses checked against the
 * manifests and the plan. Every action carries its spec hash in the plan itself ("spec_hash").
 */
#include "applyrun.h"
#include "planrun.h"

#include <string.h>

/* The saved plan's actions, once its account, owner and fingerprint match live state. */
json_t *plumb__apply_load_planfile(struct plumb_planrun *r, const char *path)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	if (!doc) {
		fprintf(stderr, "plumb apply: %s: %s (line %d)\n", path, je.text, je.line);
		return NULL;
	}
	const json_t *meta = json_object_get(doc, "meta");
	const char *acct = json_string_value(json_object_get(meta, "account"));
	const char *owner = json_string_value(json_object_get(meta, "owner"));
	const char *fp = json_string_value(json_object_get(meta, "fingerprint"));
	char now[65];
	const char *why = NULL;
	if (json_integer_value(json_object_get(doc, "format_version")) != 1 ||
	    !json_is_array(json_object_get(doc, "actions")))
		why = "it is not a plumb plan (format_version 1)";
	else if (!acct || strcmp(acct, r->s.account) != 0)
		why = "it was made for another account";
	else if (!owner || strcmp(owner, r->owner) != 0)
		why = "it was made for another plumb:owner";
	else if (json_integer_value(json_object_get(json_object_get(doc, "summary"), "conflict")))
		why = "it names resources plumb does not own (conflicts)";
	else if (!fp || plumb_plan_fingerprint(doc, &r->s.have, now) != 0 || strcmp(fp, now) != 0)
		why = "live state has changed since it was made: run 'plumb plan' again";
	if (why) {
		fprintf(stderr, "plumb apply: refusing to apply %s: %s\n", path, why);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* The wanted resource at ADDR ("Kind/name"), or NULL. */
static const struct plumb_resource *wanted(const struct plumb_planrun *r, const char *addr)
{
	for (size_t i = 0; addr && i < r->set.resources.len; i++) {
		const struct plumb_resource *res = r->set.resources.items[i];
		const char *k = plumb_kind_name(res->kind);
		size_t n = strlen(k);
		if (strncmp(addr, k, n) == 0 && addr[n] == '/' && strcmp(addr + n + 1, res->name) == 0)
			return res;
	}
	return NULL;
}

/* True when ADDR names a wanted resource or one in the plan. */
bool plumb__apply_known_address(const struct plumb_planrun *r, const json_t *doc,
				const char *addr)
{
	if (wanted(r, addr))
		return true;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(doc, "resources"), i, x) {
		const char *a = json_string_value(json_object_get(x, "address"));
		if (a && strcmp(a, addr) == 0)
			return true;
	}
	return false;
}

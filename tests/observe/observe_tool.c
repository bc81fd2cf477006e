/*
 * observe_tool — a test-only driver for pkg/observe, built into build/tests/ and never installed.
 *
 *   observe_tool --state FILE --owner O [--account A] [--refresh auto|full] [--adopt]
 *                [--want Kind/name[/parent]]... [--cached]
 *
 * Runs one observation pass of the region in AWS_REGION against AWS_ENDPOINT_URL (the account
 * from STS GetCallerIdentity unless --account), then prints one JSON line {"stats": {...}} and
 * one JSON line per observed row. --cached makes no AWS call: it prints {"observed_at": meta}
 * and the rows the state file holds. A failed pass prints {"error": {...}} and exits 1.
 * ScalingPolicy wants are ScalingPolicy/NAME/RESOURCE-ID (the id keeps its slashes); every other
 * kind takes the whole rest as its name. Used by tests/integration/test_observe.py.
 */
#include "aws/aws.h"
#include "http/http.h"
#include "observe/observe.h"
#include "state/state.h"

#include <stdlib.h>
#include <string.h>

struct run {
	bool done;            /* callback ran */
	int rc;               /* its result */
	struct plumb_err err; /* its error */
};

static void on_done(int rc, const struct plumb_err *err, void *data)
{
	struct run *r = data;
	r->done = true;
	r->rc = rc;
	if (err)
		r->err = *err;
}

static void on_identity(int rc, json_t *reply, const struct plumb_err *err, void *data)
{
	json_t **out = data;
	*out = rc == 0 ? json_incref(reply) : json_pack("{s:s}", "error", err ? err->msg : "?");
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s ? s : "null");
	free(s);
	json_decref(o);
}

static void print_error(int rc, const struct plumb_err *e)
{
	print_json(json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:i, s:s}}", "error", "rc",
			     plumb_code_name(rc), "service", e->service, "operation", e->operation,
			     "code", e->aws_code, "class", plumb_err_class_name(e->cls), "status",
			     e->http_status, "message", e->msg));
	fprintf(stderr, "observe_tool: %s\n", e->msg);
}

static void print_rows(const struct plumb_observed_set *set)
{
	for (size_t i = 0; i < set->items.len; i++) {
		const struct plumb_observed *o = set->items.items[i];
		print_json(json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:O?, s:O?, s:I, s:I, s:I}",
				     "kind", plumb_kind_name(o->kind), "region", o->region, "name",
				     o->name, "parent", o->parent, "arn", o->arn, "status", o->status,
				     "tags", o->tags, "live", o->live, "created_ms",
				     (json_int_t)o->created_ms, "modified_ms",
				     (json_int_t)o->modified_ms, "observed_ms",
				     (json_int_t)o->observed_ms));
	}
}

static int parse_want(const char *arg, struct plumb_observe_want *w)
{
	const char *slash = strchr(arg, '/');
	if (!slash || !slash[1])
		return -1;
	char kind[64];
	snprintf(kind, sizeof(kind), "%.*s", (int)(slash - arg), arg);
	int k = -1; /* plumb_kind_from_name knows manifest kinds only: ScalingPolicy is not one */
	for (int i = 0; i < PLUMB_KIND__COUNT && k < 0; i++)
		if (strcmp(plumb_kind_name((enum plumb_kind)i), kind) == 0)
			k = i;
	if (k < 0 || k == PLUMB_KIND_DEFAULTS)
		return -1;
	w->kind = (enum plumb_kind)k;
	w->parent = NULL;
	if (k == PLUMB_KIND_SCALING_POLICY) {
		const char *p = strchr(slash + 1, '/');
		if (!p || !p[1])
			return -1;
		w->name = strndup(slash + 1, (size_t)(p - slash - 1));
		w->parent = p + 1;
	} else {
		w->name = slash + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *state_path = NULL, *owner = NULL, *account = NULL;
	bool adopt = false, cached = false;
	enum plumb_refresh refresh = PLUMB_REFRESH_AUTO;
	struct plumb_observe_want *want = calloc((size_t)argc, sizeof(*want));
	size_t nwant = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--adopt") == 0) {
			adopt = true;
		} else if (strcmp(a, "--cached") == 0) {
			cached = true;
		} else if (v && strcmp(a, "--state") == 0) {
			state_path = argv[++i];
		} else if (v && strcmp(a, "--owner") == 0) {
			owner = argv[++i];
		} else if (v && strcmp(a, "--account") == 0) {
			account = argv[++i];
		} else if (v && strcmp(a, "--refresh") == 0 &&
			   (strcmp(v, "full") == 0 || strcmp(v, "auto") == 0)) {
			refresh = strcmp(argv[++i], "full") == 0 ? PLUMB_REFRESH_FULL
								 : PLUMB_REFRESH_AUTO;
		} else if (v && strcmp(a, "--want") == 0 && parse_want(v, &want[nwant]) == 0) {
			nwant++;
			i++;
		} else {
			fprintf(stderr, "usage: observe_tool --state FILE --owner O [--account A] "
					"[--refresh auto|full] [--adopt] [--want Kind/name[/parent]]... "
					"[--cached]\n(bad argument '%s')\n", a);
			return 64;
		}
	}
	if (!state_path || (!owner && !cached)) {
		fprintf(stderr, "observe_tool: --state and --owner are required\n");
		return 64;
	}

	uv_loop_t loop;
	struct plumb_http http;
	struct plumb_aws aws;
	struct plumb_err err;
	struct plumb_state *st = NULL;
	struct plumb_observed_set out;
	struct plumb_observe *ob = NULL;
	json_t *ident = NULL;
	int code = 1;
	plumb_err_clear(&err);
	plumb_observed_set_init(&out);
	uv_loop_init(&loop);
	if (plumb_http_init(&http, &loop, NULL, &err) != 0) {
		print_error(err.code, &err);
		goto out_loop;
	}
	if (plumb_aws_init(&aws, &loop, &http, NULL, &err) != 0) {
		print_error(err.code, &err);
		goto out_http;
	}
	if (!account && !cached) {
		if (plumb_aws_call_start(&aws, PLUMB_AWS_OP_STS_GET_CALLER_IDENTITY, NULL,
					 on_identity, &ident, &err) != 0) {
			print_error(err.code, &err);
			goto out_aws;
		}
		while (!ident)
			uv_run(&loop, UV_RUN_ONCE);
		account = json_string_value(json_object_get(ident, "Account"));
		if (!account) {
			fprintf(stderr, "observe_tool: sts: %s\n",
				json_string_value(json_object_get(ident, "error")));
			goto out_aws;
		}
	}
	if (!account)
		account = "123456789012";
	struct plumb_state_opts so = { .path = state_path,
				       .mode = cached ? PLUMB_STATE_READ : PLUMB_STATE_WRITE,
				       .holder = "observe_tool" };
	if (plumb_state_open(&st, &so, &err) != 0) {
		print_error(err.code, &err);
		goto out_aws;
	}
	if (cached) {
		char key[160], *when = NULL;
		snprintf(key, sizeof(key), "observed:%s:%s", account, aws.region);
		if (plumb_state_meta_get(st, key, &when, &err) != 0 ||
		    plumb_state_load_observed(st, account, aws.region, &out, &err) != 0) {
			print_error(err.code, &err);
			free(when);
			goto out_state;
		}
		print_json(json_pack("{s:s?}", "observed_at", when));
		free(when);
		print_rows(&out);
		code = 0;
		goto out_state;
	}

	struct plumb_observe_opts oo = { .account = account, .owner = owner, .refresh = refresh,
					 .adopt = adopt, .want = want, .nwant = nwant };
	struct run r = { 0 };
	if (plumb_observe_start(&ob, &aws, st, &oo, &out, on_done, &r, &err) != 0) {
		print_error(err.code, &err);
		goto out_state;
	}
	while (!r.done)
		uv_run(&loop, UV_RUN_ONCE);
	if (r.rc) {
		print_error(r.rc, &r.err);
		goto out_state;
	}
	const struct plumb_observe_stats *s = plumb_observe_stats(ob);
	print_json(json_pack("{s:{s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:I}}", "stats", "list_calls",
			     (int)s->list_calls, "describe_calls", (int)s->describe_calls,
			     "tag_calls", (int)s->tag_calls, "resources", (int)s->resources,
			     "unchanged", (int)s->unchanged, "removed", (int)s->removed,
			     "elapsed_ms", (json_int_t)s->elapsed_ms, "aws_calls",
			     (json_int_t)aws.stats.calls));
	print_rows(&out);
	code = 0;
out_state:
	plumb_observe_free(ob);
	plumb_state_close(st);
out_aws:
	plumb_aws_close(&aws);
out_http:
	plumb_http_close(&http);
	uv_run(&loop, UV_RUN_DEFAULT);
out_loop:
	uv_loop_close(&loop);
	plumb_observed_set_release(&out);
	json_decref(ident);
	for (size_t i = 0; i < nwant; i++)
		if (want[i].kind == PLUMB_KIND_SCALING_POLICY)
			free((char *)want[i].name);
	free(want);
	return code;
}

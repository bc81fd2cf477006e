/*
 * plumb apply: the plan pipeline of cmd_plan.c (manifests -> session -> observation -> diff ->
 * plan), or a saved plan checked against a fresh observation, then the executor of pkg/apply
 * with live progress, then a summary of every failure. Exit 0 when every action is done (or
 * there was nothing to do), 1 otherwise. On a terminal the plan is shown and confirmed; without
 * one, --yes is required.
 */
#include "applyrun.h"
#include "planrun.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: plumb apply [-f PATH]... [--state FILE] [--yes] [--target KIND/NAME]\n"
	"                   [--refresh auto|full] [--adopt] [--prune|--no-prune]\n"
	"                   [--retry-failed] [--output text|json] [PLANFILE]\n\n"
	"Changes AWS so that it matches the manifests (or carries out a plan saved with\n"
	"'plumb plan -o PLANFILE', after checking that live state has not moved since).\n\n"
	"  -f, --manifests PATH  manifest file or directory (repeatable; default .)\n"
	"      --state FILE      state file (default .plumb/state.db)\n"
	"  -y, --yes             do not ask for confirmation (required without a terminal)\n"
	"      --target ADDR     only ADDR (Kind/name) and what it needs\n"
	"      --refresh MODE    auto (default) or full: describe every resource again\n"
	"      --adopt           take over untagged live resources whose names the manifests use\n"
	"      --prune           delete owned resources no manifest names (overrides Defaults)\n"
	"      --no-prune        keep them (overrides Defaults)\n"
	"      --retry-failed    run creates/updates whose spec failed before (Failed endpoint,\n"
	"                        silent rollback, request refused as invalid)\n"
	"      --output FORMAT   text (default) or json: the result on stdout\n"
	"      --color, --no-color\n\n"
	"Exit status: 0 applied (or nothing to do), 1 error or failed action.\n";

struct sigctx {
	struct plumb_apply **ex; /* the running executor */
	int count;               /* signals seen */
};

static void on_signal(uv_signal_t *h, int signum)
{
	struct sigctx *c = h->data;
	if (++c->count == 1 && *c->ex) {
		fprintf(stderr, "\nplumb apply: stopping (signal %d): pending actions are skipped, "
				"calls in flight finish and are journaled\n",
			signum);
		plumb_apply_cancel(*c->ex);
	} else if (c->count > 1) {
		fprintf(stderr, "\nplumb apply: exiting now; the journal resolves what was in flight "
				"on the next run\n");
		_exit(1);
	}
}

static bool confirm(size_t n)
{
	fprintf(stderr, "\nApply %zu action%s? Only 'yes' will be accepted: ", n, n == 1 ? "" : "s");
	fflush(stderr);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "yes") == 0;
}

/* Takes --retry-failed out of rest (plumb__plan_flags knows the shared flags only). */
static bool take_flag(int *nrest, char **rest, const char *flag)
{
	bool found = false;
	int j = 0;
	for (int i = 0; i < *nrest; i++) {
		if (strcmp(rest[i], flag) == 0)
			found = true;
		else
			rest[j++] = rest[i];
	}
	*nrest = j;
	return found;
}

static int run(struct plumb_planrun *r, struct plumb_cli *cli, const json_t *actions,
	       bool show_list)
{
	bool tty_in = isatty(STDIN_FILENO), tty_err = isatty(STDERR_FILENO);
	size_t n = json_array_size(actions);
	if (n == 0) {
		printf("No changes. AWS matches the manifests.\n");
		return PLUMB_EXIT_OK;
	}
	FILE *show = cli->output == PLUMB_OUTPUT_JSON ? stderr : stdout;
	if (show_list) {
		fprintf(show, "Actions:\n");
		plumb__apply_list(actions, show, cli->color);
	} else {
		struct plumb_buf b = PLUMB_BUF_INIT;
		plumb_plan_render_text(&r->p, &b, cli->color);
		fputs(b.buf, show);
		plumb_buf_release(&b);
	}
	fflush(show);
	if (!cli->yes) {
		if (!tty_in) {
			fprintf(stderr, "plumb apply: refusing to apply without a terminal to confirm "
					"on; pass --yes to apply without asking\n");
			return PLUMB_EXIT_FAIL;
		}
		if (!confirm(n)) {
			fprintf(stderr, "Apply cancelled.\n");
			return PLUMB_EXIT_FAIL;
		}
	}
	struct plumb_err err;
	plumb_err_clear(&err);
	struct plumb_apply_recovery rec;
	if (plumb_apply_recover(&r->s, &rec, &err) != 0) {
		plumb__cli_print_err("apply", &err);
		return PLUMB_EXIT_FAIL;
	}
	if (rec.open)
		fprintf(stderr, "plumb apply: finished %u journal row%s an earlier run left open "
				"(%u took effect, %u did not, %u still unknown)\n",
			rec.open, rec.open == 1 ? "" : "s", rec.done, rec.failed, rec.left);

	struct plumb_apply *ex = NULL;
	const char *lf = getenv("PLUMB_LOG_FORMAT");
	struct plumb_apply_progress prog = {
		.tty = tty_err,
		.color = tty_err && !getenv("NO_COLOR"),
		.fmt = lf && strcmp(lf, "json") == 0 ? PLUMB_LOG_JSON : PLUMB_LOG_LOGFMT,
		.ex = &ex,
	};
	struct plumb_apply_opts opts = { .on_event = plumb__apply_progress_event,
					 .event_data = &prog };
	struct sigctx sc = { .ex = &ex };
	uv_signal_t sigint, sigterm;
	uv_signal_init(&r->s.loop, &sigint);
	uv_signal_init(&r->s.loop, &sigterm);
	sigint.data = sigterm.data = &sc;
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	int rc = plumb_apply_run(&r->s, actions, &opts, &ex, &err);
	uv_close((uv_handle_t *)&sigint, NULL);
	uv_close((uv_handle_t *)&sigterm, NULL);
	uv_run(&r->s.loop, UV_RUN_NOWAIT);
	plumb__apply_progress_end(&prog);
	if (!ex) {
		plumb__cli_print_err("apply", &err);
		return PLUMB_EXIT_FAIL;
	}
	if (cli->output == PLUMB_OUTPUT_JSON) {
		json_t *res = plumb_apply_result_json(ex);
		json_dumpf(res, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(res);
		plumb__apply_summary(ex, stderr, prog.color);
	} else {
		plumb__apply_summary(ex, stdout, cli->color);
	}
	plumb_apply_free(ex);
	return rc == 0 ? PLUMB_EXIT_OK : PLUMB_EXIT_FAIL;
}

int plumb_cmd_apply(int argc, char **argv)
{
	struct plumb_cli cli;
	int nrest = 0;
	char **rest = NULL;
	int prc = plumb_cli_parse(&cli, "apply", usage, 0, argc, argv, &nrest, &rest);
	if (prc < 0)
		return PLUMB_EXIT_OK;
	if (prc > 0)
		return prc;
	bool retry_failed = take_flag(&nrest, rest, "--retry-failed");
	struct plumb_plan_flags f = { .accept_target = true, .accept_planfile = true };
	prc = plumb__plan_flags("apply", nrest, rest, &f);
	free(rest);
	if (!prc && f.cached)
		prc = plumb_cli_usage_error("apply", "--cached plans from the cache; apply needs "
						     "AWS (drop --cached)");
	if (prc) {
		plumb_cli_release(&cli);
		return prc;
	}
	struct plumb_planrun r;
	int code = plumb__plan_prepare(&r, &cli, &f, "apply", "plumb apply");
	json_t *doc = NULL, *actions = NULL;
	if (code)
		goto out;
	code = PLUMB_EXIT_FAIL;
	if (f.planfile) {
		if (!(doc = plumb__apply_load_planfile(&r, f.planfile)))
			goto out;
	} else {
		if (r.d.counts[PLUMB_CHANGE_CONFLICT]) {
			struct plumb_buf b = PLUMB_BUF_INIT;
			plumb_plan_render_text(&r.p, &b, cli.color);
			fputs(b.buf, stderr);
			plumb_buf_release(&b);
			fprintf(stderr, "plumb apply: refusing to apply: %u wanted name%s held by "
					"resources plumb does not own (see above)\n",
				r.d.counts[PLUMB_CHANGE_CONFLICT],
				r.d.counts[PLUMB_CHANGE_CONFLICT] == 1 ? " is" : "s are");
			goto out;
		}
		if (!(doc = plumb__plan_json(&r, &cli, &f))) {
			fprintf(stderr, "plumb apply: out of memory\n");
			goto out;
		}
	}
	actions = json_incref(json_object_get(doc, "actions"));
	struct plumb_err err;
	plumb_err_clear(&err);
	if (f.target) {
		if (!plumb__apply_known_address(&r, doc, f.target)) {
			fprintf(stderr, "plumb apply: --target %s: no such resource in the manifests "
					"or the plan (write it as Kind/name, e.g. Endpoint/my-endpoint)\n",
				f.target);
			goto out;
		}
		json_t *t = NULL;
		if (plumb_apply_target(actions, f.target, &t, &err) != 0) {
			plumb__cli_print_err("apply", &err);
			goto out;
		}
		json_decref(actions);
		actions = t;
	}
	json_t *refused = NULL;
	if (plumb_apply_failed_hashes(r.s.state, actions, &refused, &err) != 0) {
		plumb__cli_print_err("apply", &err);
		goto out;
	}
	if (json_array_size(refused) && !retry_failed) {
		size_t i;
		json_t *x;
		json_array_foreach(refused, i, x)
			fprintf(stderr, "plumb apply: %s: this spec (hash %.12s) failed %d time%s "
					"before; change it, or pass --retry-failed\n",
				json_string_value(json_object_get(x, "address")),
				json_string_value(json_object_get(x, "spec_hash")),
				(int)json_integer_value(json_object_get(x, "failures")),
				json_integer_value(json_object_get(x, "failures")) == 1 ? "" : "s");
		json_decref(refused);
		goto out;
	}
	json_decref(refused);
	code = run(&r, &cli, actions, f.planfile || f.target);
out:
	json_decref(actions);
	json_decref(doc);
	plumb__plan_release(&r);
	plumb_cli_release(&cli);
	fflush(stdout);
	return code;
}

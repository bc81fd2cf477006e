/*
 * plumb plan: manifests -> observe AWS (list-first, cached in the state file) -> diff -> an
 * ordered plan, shown as text or JSON, optionally saved with -o FILE for a later apply.
 * Exit 0 when nothing would change, 2 when something would, 1 on any error (including a wanted
 * name held by a resource plumb does not own).
 */
#include "planrun.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: plumb plan [-f PATH]... [--state FILE] [--output text|json] [-o FILE]\n"
	"                  [--refresh auto|full] [--cached] [--adopt] [--prune|--no-prune]\n\n"
	"Shows what apply would change so that AWS matches the manifests.\n\n"
	"  -f, --manifests PATH  manifest file or directory (repeatable; default .)\n"
	"      --state FILE      state cache (default .plumb/state.db)\n"
	"      --output FORMAT   text (default) or json (docs/plan-format.md)\n"
	"  -o, --out FILE        also save the plan as JSON for 'plumb apply FILE'\n"
	"      --refresh MODE    auto: list collections, describe only what moved (default);\n"
	"                        full: describe every resource again\n"
	"      --cached          plan from the state file alone, with no AWS call\n"
	"      --adopt           take over untagged live resources whose names the manifests use\n"
	"      --prune           delete owned resources no manifest names (overrides Defaults)\n"
	"      --no-prune        list them as orphans instead (overrides Defaults)\n"
	"      --color, --no-color\n\n"
	"Exit status: 0 no changes, 2 changes, 1 error.\n";

int plumb__plan_flags(const char *cmd, int nrest, char **rest, struct plumb_plan_flags *f)
{
	bool out = f->accept_out, target = f->accept_target, planfile = f->accept_planfile;
	memset(f, 0, sizeof(*f));
	f->accept_out = out;
	f->accept_target = target;
	f->accept_planfile = planfile;
	f->prune = -1;
	for (int i = 0; i < nrest; i++) {
		const char *a = rest[i];
		const char *v = NULL;
		if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--refresh") == 0 ||
		    strcmp(a, "--target") == 0) {
			if (i + 1 >= nrest)
				return plumb_cli_usage_error(cmd, "%s needs a value", a);
			v = rest[++i];
		} else if (strncmp(a, "--out=", 6) == 0 || strncmp(a, "--refresh=", 10) == 0 ||
			   strncmp(a, "--target=", 9) == 0) {
			v = strchr(a, '=') + 1;
		}
		if (v && strncmp(a, "--refresh", 9) == 0) {
			if (strcmp(v, "auto") == 0)
				f->refresh = PLUMB_REFRESH_AUTO;
			else if (strcmp(v, "full") == 0)
				f->refresh = PLUMB_REFRESH_FULL;
			else
				return plumb_cli_usage_error(cmd, "--refresh takes auto or full, not '%s'",
							     v);
		} else if (v && strncmp(a, "--target", 8) == 0) {
			if (!f->accept_target)
				return plumb_cli_usage_error(cmd, "unknown option '%s'", a);
			f->target = v;
		} else if (v) {
			if (!f->accept_out)
				return plumb_cli_usage_error(cmd, "unknown option '%s'", a);
			f->out = v;
		} else if (strcmp(a, "--cached") == 0) {
			f->cached = true;
		} else if (strcmp(a, "--adopt") == 0) {
			f->adopt = true;
		} else if (strcmp(a, "--prune") == 0) {
			f->prune = 1;
		} else if (strcmp(a, "--no-prune") == 0) {
			f->prune = 0;
		} else if (a[0] != '-' && f->accept_planfile && !f->planfile) {
			f->planfile = a;
		} else {
			return plumb_cli_usage_error(cmd, "unknown %s '%s'",
						     a[0] == '-' ? "option" : "argument", a);
		}
	}
	if (f->cached && f->refresh == PLUMB_REFRESH_FULL)
		return plumb_cli_usage_error(cmd, "--cached and --refresh full contradict each other");
	return 0;
}

static void print_diags(const struct plumb_manifest_set *set, bool color)
{
	struct plumb_buf b = PLUMB_BUF_INIT;
	plumb_manifest_render_diags(set, &b, color);
	fputs(b.buf, stderr);
	plumb_buf_release(&b);
}

/* Writes the saved plan next to its final name, then renames: a reader never sees half. */
static int save_plan(const char *path, const json_t *doc, struct plumb_err *err)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return plumb_err_set(err, PLUMB_EINVAL, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return plumb_err_sys(err, PLUMB_EIO, "cannot write %s", tmp);
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t n = text ? strlen(text) : 0;
	bool ok = text && write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
		  fsync(fd) == 0;
	free(text);
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		int rc = plumb_err_sys(err, PLUMB_EIO, "cannot write %s", path);
		unlink(tmp);
		return rc;
	}
	return 0;
}

static json_t *plan_meta(const struct plumb_session *s, const char *owner,
			 const struct plumb_cli *cli, const struct plumb_plan_flags *f)
{
	char now[21];
	plumb_time_iso8601((int64_t)time(NULL) * 1000, now);
	json_t *regions = json_array();
	for (size_t i = 0; i < s->regions.len; i++) {
		const struct plumb_session_region *r = s->regions.items[i];
		json_array_append_new(regions, json_string(r->name));
	}
	json_t *paths = json_array();
	for (size_t i = 0; i < cli->manifests.len; i++)
		json_array_append_new(paths, json_string(cli->manifests.items[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:b}", "created", now, "plumb_version",
			 PLUMB_VERSION, "account", s->account, "regions", regions, "manifests",
			 paths, "owner", owner, "cached", f->cached);
}

int plumb__plan_prepare(struct plumb_planrun *r, struct plumb_cli *cli,
			const struct plumb_plan_flags *f, const char *cmd, const char *holder)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	plumb_diff_init(&r->d);
	plumb_plan_init(&r->p);
	r->set_up = true;
	if (plumb__cli_load(cli, &r->set) != 0) {
		fprintf(stderr, "plumb %s: out of memory\n", cmd);
		return PLUMB_EXIT_FAIL;
	}
	if (plumb_manifest_errors(&r->set)) {
		print_diags(&r->set, cli->color && isatty(2));
		return PLUMB_EXIT_FAIL;
	}
	r->owner = plumb__cli_owner(&r->set);
	struct plumb_session_opts so = {
		.profile = r->set.profile,
		.state_path = cli->state,
		.state_mode = PLUMB_STATE_WRITE,
		.holder = holder,
		.expected_account = r->set.account,
		.region_hint = r->set.region,
		.offline = f->cached,
	};
	if (plumb_session_open(&r->s, &so, &err) != 0) {
		plumb__cli_print_err(cmd, &err);
		return PLUMB_EXIT_FAIL;
	}
	r->session_up = true;
	if (plumb_state_rebuilt(r->s.state))
		fprintf(stderr, "plumb %s: warning: the state file %s was corrupt; it was moved to "
				"%s and is rebuilt from AWS now\n",
			cmd, plumb_state_path(r->s.state), plumb_state_corrupt_path(r->s.state));
	if (plumb__cli_check_accounts(&r->set, r->s.account, &err) != 0 ||
	    plumb_session_observe(&r->s, &r->set.resources, r->owner, f->refresh, f->adopt,
				  &err) != 0) {
		plumb__cli_print_err(cmd, &err);
		return PLUMB_EXIT_FAIL;
	}
	if (!f->cached && isatty(2))
		fprintf(stderr, "observed %u resources in account %s with %llu AWS calls (%u list, "
				"%u describe, %u tag; %u unchanged from the cache)\n",
			r->s.stats.resources, r->s.account, (unsigned long long)r->s.aws_calls,
			r->s.stats.list_calls, r->s.stats.describe_calls, r->s.stats.tag_calls,
			r->s.stats.unchanged);
	struct plumb_diff_opts dopt = {
		.owner = r->owner,
		.account = r->s.account,
		.adopt = f->adopt,
		.prune = f->prune,
		.default_prune = r->set.prune,
	};
	struct plumb_plan_opts popt = { .owner = r->owner, .account = r->s.account };
	if (plumb_diff_compute(&r->d, &r->set.resources, &r->s.have, &dopt, &err) != 0 ||
	    plumb_plan_build(&r->p, &r->d, &popt, &err) != 0) {
		plumb__cli_print_err(cmd, &err);
		return PLUMB_EXIT_FAIL;
	}
	return 0;
}

json_t *plumb__plan_json(const struct plumb_planrun *r, const struct plumb_cli *cli,
			 const struct plumb_plan_flags *f)
{
	json_t *meta = plan_meta(&r->s, r->owner, cli, f);
	json_t *doc = plumb_plan_to_json(&r->p, meta);
	json_decref(meta);
	char fp[65];
	if (doc && plumb_plan_fingerprint(doc, &r->s.have, fp) == 0)
		json_object_set_new(json_object_get(doc, "meta"), "fingerprint", json_string(fp));
	return doc;
}

void plumb__plan_release(struct plumb_planrun *r)
{
	if (!r->set_up)
		return;
	plumb_plan_release(&r->p);
	plumb_diff_release(&r->d);
	if (r->session_up)
		plumb_session_close(&r->s);
	plumb_manifest_release(&r->set);
	memset(r, 0, sizeof(*r));
}

int plumb_cmd_plan(int argc, char **argv)
{
	struct plumb_cli cli;
	int nrest = 0;
	char **rest = NULL;
	int prc = plumb_cli_parse(&cli, "plan", usage, PLUMB_CLI_O_IS_OUT, argc, argv, &nrest,
				  &rest);
	if (prc < 0)
		return PLUMB_EXIT_OK;
	if (prc > 0)
		return prc;
	struct plumb_plan_flags f = { 0 };
	f.accept_out = true;
	prc = plumb__plan_flags("plan", nrest, rest, &f);
	free(rest);
	if (prc) {
		plumb_cli_release(&cli);
		return prc;
	}
	struct plumb_planrun r;
	struct plumb_err err;
	plumb_err_clear(&err);
	int code = plumb__plan_prepare(&r, &cli, &f, "plan", "plumb plan");
	if (code)
		goto out;
	code = PLUMB_EXIT_FAIL;
	json_t *doc = NULL;
	if (f.out || cli.output == PLUMB_OUTPUT_JSON) {
		doc = plumb__plan_json(&r, &cli, &f);
		if (!doc) {
			fprintf(stderr, "plumb plan: out of memory\n");
			goto out;
		}
	}
	if (cli.output == PLUMB_OUTPUT_JSON) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		struct plumb_buf b = PLUMB_BUF_INIT;
		plumb_plan_render_text(&r.p, &b, cli.color);
		fputs(b.buf, stdout);
		plumb_buf_release(&b);
	}
	if (f.out) {
		if (save_plan(f.out, doc, &err) != 0) {
			plumb__cli_print_err("plan", &err);
			json_decref(doc);
			goto out;
		}
		if (cli.output != PLUMB_OUTPUT_JSON)
			printf("\nSaved the plan to %s. Apply exactly this plan with: plumb apply %s\n",
			       f.out, f.out);
	}
	json_decref(doc);
	if (r.d.counts[PLUMB_CHANGE_CONFLICT]) {
		fprintf(stderr, "plumb plan: %u resource%s cannot be managed (see above)\n",
			r.d.counts[PLUMB_CHANGE_CONFLICT],
			r.d.counts[PLUMB_CHANGE_CONFLICT] == 1 ? "" : "s");
		code = PLUMB_EXIT_FAIL;
	} else {
		code = plumb_plan_has_changes(&r.p) ? PLUMB_EXIT_CHANGES : PLUMB_EXIT_OK;
	}
out:
	plumb__plan_release(&r);
	plumb_cli_release(&cli);
	fflush(stdout);
	return code;
}

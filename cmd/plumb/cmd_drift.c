/*
 * plumb drift: the drift report. The plan pipeline (manifests -> session -> observation ->
 * diff, cmd_plan.c) up to the diff, then pkg/report: build the report, record its drift in the
 * state's history (plumb_state_drift_sync, per observed region; not with --cached, whose state
 * is read-only), read back when each drift was first seen, render text, markdown, JSON or
 * JUnit to stdout or atomically to -o FILE.
 * Exit 0 in sync, 2 drift, 1 error, 64 bad command line (terraform -detailed-exitcode).
 */
#include "planrun.h"

#include "report/report.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: plumb drift [-f PATH]... [--state FILE] [--cached] [--refresh auto|full]\n"
	"                   [--output text|markdown|json|junit] [-o FILE] [--include-unmanaged]\n\n"
	"Reports where AWS differs from the manifests: per resource the field, the wanted and the\n"
	"live value, when the drift was first seen and when the resource was last modified; owned\n"
	"resources no manifest names (orphans); wanted ones missing from AWS. Changes nothing in AWS.\n\n"
	"  -f, --manifests PATH  manifest file or directory (repeatable; default .)\n"
	"      --state FILE      state cache and drift history (default .plumb/state.db)\n"
	"      --cached          report from the state file alone, with no AWS call\n"
	"      --refresh MODE    auto: list collections, describe only what moved (default);\n"
	"                        full: describe every resource again (sees SNS topic attributes)\n"
	"      --output FORMAT   text (default), markdown (for a pull request or issue), json\n"
	"                        (docs/drift.md, schema/drift.schema.json) or junit (JUnit XML)\n"
	"  -o, --out FILE        write the report to FILE (atomically) instead of stdout\n"
	"      --include-unmanaged  also list SageMaker endpoints that no plumb owner tagged\n"
	"      --color, --no-color\n\n"
	"Exit status: 0 no drift, 2 drift, 1 error, 64 bad command line.\n";

struct drift_flags {
	int format;             /* enum plumb_report_format */
	bool include_unmanaged; /* --include-unmanaged */
};

/* Takes --output (which plumb_cli_parse knows only as text|json) out of argv into f. */
static int take_output(int *argc, char **argv, struct drift_flags *f)
{
	int n = 1;
	for (int i = 1; i < *argc; i++) {
		const char *v = NULL;
		if (strcmp(argv[i], "--output") == 0) {
			if (i + 1 >= *argc)
				return plumb_cli_usage_error("drift", "--output needs a value");
			v = argv[++i];
		} else if (strncmp(argv[i], "--output=", 9) == 0) {
			v = argv[i] + 9;
		} else {
			argv[n++] = argv[i];
			continue;
		}
		if ((f->format = plumb_report_format_from_name(v)) < 0)
			return plumb_cli_usage_error(
				"drift", "--output takes text, markdown, json or junit, not '%s'", v);
	}
	argv[n] = NULL;
	*argc = n;
	return 0;
}

static int parse_rest(int nrest, char **rest, struct plumb_plan_flags *pf, struct drift_flags *f)
{
	pf->prune = -1;
	for (int i = 0; i < nrest; i++) {
		const char *a = rest[i], *v = NULL;
		if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--refresh") == 0) {
			if (i + 1 >= nrest)
				return plumb_cli_usage_error("drift", "%s needs a value", a);
			v = rest[++i];
		} else if (strncmp(a, "--out=", 6) == 0 || strncmp(a, "--refresh=", 10) == 0) {
			v = strchr(a, '=') + 1;
		}
		if (v && strncmp(a, "--refresh", 9) == 0) {
			if (strcmp(v, "auto") == 0)
				pf->refresh = PLUMB_REFRESH_AUTO;
			else if (strcmp(v, "full") == 0)
				pf->refresh = PLUMB_REFRESH_FULL;
			else
				return plumb_cli_usage_error("drift",
							     "--refresh takes auto or full, not '%s'", v);
		} else if (v) {
			pf->out = v;
		} else if (strcmp(a, "--cached") == 0) {
			pf->cached = true;
		} else if (strcmp(a, "--include-unmanaged") == 0) {
			f->include_unmanaged = true;
		} else {
			return plumb_cli_usage_error("drift", "unknown %s '%s'",
						     a[0] == '-' ? "option" : "argument", a);
		}
	}
	if (pf->cached && pf->refresh == PLUMB_REFRESH_FULL)
		return plumb_cli_usage_error("drift",
					     "--cached and --refresh full contradict each other");
	return 0;
}

/* ------------------------------------------------------------------ output */

/* Writes beside the final name, then renames: a reader never sees half a report. */
static int write_file(const char *path, const struct plumb_buf *b, struct plumb_err *err)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return plumb_err_set(err, PLUMB_EINVAL, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return plumb_err_sys(err, PLUMB_EIO, "cannot write %s", tmp);
	bool ok = write(fd, b->buf, b->len) == (ssize_t)b->len && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0) {
		int rc = plumb_err_sys(err, PLUMB_EIO, "cannot write %s", path);
		unlink(tmp);
		return rc;
	}
	return 0;
}

static int report(struct plumb_planrun *r, const struct plumb_plan_flags *pf,
		  const struct drift_flags *f)
{
	struct plumb_err err;
	plumb_err_clear(&err);
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	struct plumb_report_opts o = {
		.owner = r->owner,
		.account = r->s.account,
		.host = host,
		.now_ms = (int64_t)time(NULL) * 1000,
		.cached = pf->cached,
		.include_unmanaged = f->include_unmanaged,
	};
	struct plumb_buf b = PLUMB_BUF_INIT;
	int code = PLUMB_EXIT_FAIL;
	json_t *rep = plumb_report_drift(&r->d, &r->s.have, &o, &err);
	if (!rep || plumb_session_drift_history(&r->s, rep, !pf->cached, &err) != 0 ||
	    plumb_report_render(rep, (enum plumb_report_format)f->format, &b, &err) != 0 ||
	    (pf->out && write_file(pf->out, &b, &err) != 0)) {
		plumb__cli_print_err("drift", &err);
		goto out;
	}
	if (!pf->out) {
		fwrite(b.buf, 1, b.len, stdout);
		if (fflush(stdout) != 0) {
			fprintf(stderr, "plumb drift: cannot write the report to stdout\n");
			goto out;
		}
	}
	code = plumb_report_in_sync(rep) ? PLUMB_EXIT_OK : PLUMB_EXIT_CHANGES;
out:
	json_decref(rep);
	plumb_buf_release(&b);
	return code;
}

int plumb_cmd_drift(int argc, char **argv)
{
	struct drift_flags f = { .format = PLUMB_REPORT_TEXT };
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	if (!args) {
		fprintf(stderr, "plumb drift: out of memory\n");
		return PLUMB_EXIT_FAIL;
	}
	memcpy(args, argv, (size_t)argc * sizeof(char *));
	int nargs = argc;
	int prc = take_output(&nargs, args, &f);
	struct plumb_cli cli;
	int nrest = 0;
	char **rest = NULL;
	if (prc == 0)
		prc = plumb_cli_parse(&cli, "drift", usage, PLUMB_CLI_O_IS_OUT, nargs, args, &nrest,
				      &rest);
	free(args);
	if (prc < 0)
		return PLUMB_EXIT_OK;
	if (prc > 0)
		return prc;
	struct plumb_plan_flags pf = { 0 };
	prc = parse_rest(nrest, rest, &pf, &f);
	free(rest);
	if (prc) {
		plumb_cli_release(&cli);
		return prc;
	}
	struct plumb_planrun r;
	int code = plumb__plan_prepare(&r, &cli, &pf, "drift", "plumb drift");
	if (code == 0)
		code = report(&r, &pf, &f);
	plumb__plan_release(&r);
	plumb_cli_release(&cli);
	return code;
}

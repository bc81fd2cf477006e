/*
 * Shared option parsing for the subcommands. Accepts "--flag value" and "--flag=value"; flags a
 * command does not share are handed back in *rest for the command to parse itself.
 */
#include "cli.h"

#include "manifest/manifest.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int plumb_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "plumb %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'plumb %s --help' for usage.\n", cmd);
	return PLUMB_EXIT_USAGE;
}

/* Matches "--name value", "--name=value" and, when short is set, "-s value". */
static int take_value(const char *name, const char *shortname, int argc, char **argv, int *i,
		      const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) == 0 && a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (strcmp(a, name) == 0 || (shortname && strcmp(a, shortname) == 0)) {
		if (*i + 1 >= argc)
			return -1;
		*value = argv[++*i];
		return 1;
	}
	return 0;
}

int plumb_cli_parse(struct plumb_cli *cli, const char *cmd, const char *usage, unsigned flags,
		    int argc, char **argv, int *nrest, char ***rest)
{
	memset(cli, 0, sizeof(*cli));
	cli->state = ".plumb/state.db";
	cli->color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	char **r = calloc((size_t)argc + 1, sizeof(char *));
	int nr = 0;
	if (!r)
		return plumb_cli_usage_error(cmd, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		int t;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			free(r);
			plumb_cli_release(cli);
			return -1;
		}
		if ((t = take_value("--manifests", "-f", argc, argv, &i, &v)) != 0) {
			if (t < 0)
				goto missing;
			plumb_vec_push(&cli->manifests, (void *)v);
		} else if ((t = take_value("--output",
					    (flags & PLUMB_CLI_O_IS_OUT) ? NULL : "-o", argc, argv, &i, &v)) != 0) {
			if (t < 0)
				goto missing;
			if (strcmp(v, "json") == 0)
				cli->output = PLUMB_OUTPUT_JSON;
			else if (strcmp(v, "text") == 0)
				cli->output = PLUMB_OUTPUT_TEXT;
			else {
				free(r);
				plumb_cli_release(cli);
				return plumb_cli_usage_error(cmd, "--output takes text or json, not '%s'", v);
			}
		} else if ((t = take_value("--state", NULL, argc, argv, &i, &v)) != 0) {
			if (t < 0)
				goto missing;
			cli->state = v;
		} else if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0) {
			cli->yes = true;
		} else if (strcmp(argv[i], "--no-color") == 0) {
			cli->color = false;
		} else if (strcmp(argv[i], "--color") == 0) {
			cli->color = true;
		} else {
			r[nr++] = argv[i];
		}
		continue;
missing:
		free(r);
		plumb_cli_release(cli);
		return plumb_cli_usage_error(cmd, "%s needs a value", argv[i]);
	}
	if (cli->manifests.len == 0)
		plumb_vec_push(&cli->manifests, ".");
	*nrest = nr;
	*rest = r;
	return 0;
}

void plumb_cli_release(struct plumb_cli *cli)
{
	plumb_vec_release(&cli->manifests);
}

const char *plumb__cli_owner(const struct plumb_manifest_set *set)
{
	const char *env = getenv("PLUMB_OWNER");
	return set->owner ? set->owner : env && env[0] ? env : "plumb";
}

int plumb__cli_check_accounts(const struct plumb_manifest_set *set, const char *account,
			      struct plumb_err *err)
{
	for (size_t i = 0; i < set->resources.len; i++) {
		const struct plumb_resource *r = set->resources.items[i];
		if (r->account && strcmp(r->account, account) != 0)
			return plumb_err_set(err, PLUMB_ECONFIG,
					     "refusing to run: %s/%s (%s:%u) is for account %s, but "
					     "the credentials belong to account %s",
					     plumb_kind_name(r->kind), r->name,
					     r->loc.file ? r->loc.file : "?", r->loc.line, r->account,
					     account);
	}
	return 0;
}

/* e->msg of an AWS error already reads "service Operation: Code: message". */
void plumb__cli_print_err(const char *cmd, const struct plumb_err *e)
{
	if (e->aws_code[0])
		fprintf(stderr, "plumb %s: %s (HTTP %d%s%s)\n", cmd, e->msg, e->http_status,
			e->request_id[0] ? ", request id " : "", e->request_id);
	else if (e->operation[0] && !strstr(e->msg, e->operation))
		fprintf(stderr, "plumb %s: %s %s: %s\n", cmd, e->service, e->operation, e->msg);
	else
		fprintf(stderr, "plumb %s: %s\n", cmd, e->msg);
}

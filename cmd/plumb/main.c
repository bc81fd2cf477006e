/*
 * plumb: dispatch to a subcommand. Everything a command does lives in pkg/; this file only
 * knows the command table, --help and --version.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct plumb_command commands[] = {
	{ "validate", "check manifests and print a summary or every error", plumb_cmd_validate },
	{ "render", "print the fully expanded manifests as YAML", plumb_cmd_render },
	{ "plan", "show what apply would change (exit 2 when something would)", plumb_cmd_plan },
	{ "apply", "change AWS to match the manifests (or a saved plan)", plumb_cmd_apply },
	{ "drift", "report what differs from the manifests (exit 2 on drift)", plumb_cmd_drift },
	{ "run", "keep AWS equal to the manifests: the long-running reconciler", plumb_cmd_run },
	{ "export", "write manifests for live endpoints and what they use", plumb_cmd_export },
	{ "whoami", "show the AWS account, caller and region plumb would use", plumb_cmd_whoami },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: plumb <command> [options]\n\n"
		     "plumb keeps SageMaker inference infrastructure equal to YAML manifests.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'plumb <command> --help' for a command's options.\n"
		     "Exit codes: 0 ok, 1 error, 2 changes or drift (plan, drift), 64 usage.\n");
}

/* Commands log warnings and errors only, unless PLUMB_LOG_LEVEL / PLUMB_LOG_FORMAT say otherwise. */
static void setup_logging(void)
{
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	enum plumb_log_level min = PLUMB_LOG_WARN;
	const char *lv = getenv("PLUMB_LOG_LEVEL");
	for (size_t i = 0; lv && i < PLUMB_ARRAY_LEN(levels); i++)
		if (strcmp(lv, levels[i]) == 0)
			min = (enum plumb_log_level)i;
	const char *fmt = getenv("PLUMB_LOG_FORMAT");
	plumb_log_setup(stderr, min, fmt && strcmp(fmt, "json") == 0 ? PLUMB_LOG_JSON : PLUMB_LOG_LOGFMT,
			NULL);
}

int main(int argc, char **argv)
{
	setup_logging();
	if (argc < 2) {
		usage(stderr);
		return PLUMB_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return PLUMB_EXIT_OK;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("plumb %s\n", PLUMB_VERSION);
		return PLUMB_EXIT_OK;
	}
	for (size_t i = 0; i < PLUMB_ARRAY_LEN(commands); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "plumb: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return PLUMB_EXIT_USAGE;
}

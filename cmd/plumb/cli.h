/*
 * The plumb command line: a table of subcommands, each a thin function over the library
 * (parse options -> call pkg/ -> print -> release). Shared option parsing lives in cli.c.
 */
#ifndef PLUMB_CMD_CLI_H
#define PLUMB_CMD_CLI_H

#include "base/base.h"

/* Exit codes, the same for every command (README "Exit codes"). */
enum {
	PLUMB_EXIT_OK = 0,      /* success; for plan/drift: no changes */
	PLUMB_EXIT_FAIL = 1,    /* error, invalid input or failed apply */
	PLUMB_EXIT_CHANGES = 2, /* plan/drift: changes or drift present */
	PLUMB_EXIT_USAGE = 64,  /* bad command line (sysexits EX_USAGE) */
};

enum plumb_output { PLUMB_OUTPUT_TEXT, PLUMB_OUTPUT_JSON };

/* Options common to the commands that read manifests. */
struct plumb_cli {
	struct plumb_vec manifests; /* -f PATH values (borrowed argv strings); default "." */
	enum plumb_output output;   /* --output text|json */
	const char *state;          /* --state FILE */
	bool color;                 /* colour on: stdout is a terminal and NO_COLOR unset */
	bool yes;                   /* --yes */
};

struct plumb_command {
	const char *name;    /* as typed */
	const char *summary; /* one line for plumb --help */
	int (*run)(int argc, char **argv);
};

/*
 * Parses the shared flags; flags a command does not share come back in *rest (argv-style,
 * NULL-terminated, free() it). Returns 0 to go on, -1 when --help was printed (exit 0), or
 * PLUMB_EXIT_USAGE after printing why the command line is wrong.
 */
int plumb_cli_parse(struct plumb_cli *cli, const char *cmd, const char *usage, unsigned flags,
		    int argc, char **argv, int *nrest, char ***rest);
/* flags: "-o" is not --output here (plan: -o FILE saves the plan, like terraform -out) */
#define PLUMB_CLI_O_IS_OUT 1u
void plumb_cli_release(struct plumb_cli *cli);
/* Prints "plumb CMD: message" to stderr and returns PLUMB_EXIT_USAGE. */
int plumb_cli_usage_error(const char *cmd, const char *fmt, ...) PLUMB_PRINTF(2, 3);

struct plumb_manifest_set;
/* Reads every manifest under cli->manifests into set (cmd_validate.c). */
int plumb__cli_load(struct plumb_cli *cli, struct plumb_manifest_set *set);
/* The plumb:owner in force: Defaults owner, else $PLUMB_OWNER, else "plumb". */
const char *plumb__cli_owner(const struct plumb_manifest_set *set);
/* Every resource whose Defaults name an accountId must be in account (the account guard). */
int plumb__cli_check_accounts(const struct plumb_manifest_set *set, const char *account,
			      struct plumb_err *err);
/* "plumb CMD: message" on stderr, with HTTP status and request id for AWS errors. */
void plumb__cli_print_err(const char *cmd, const struct plumb_err *e);

/* ---------------------------------------------------------------- plan pipeline (cmd_plan.c) */

/* The flags plan, apply and drift share. */
struct plumb_plan_flags {
	const char *out;            /* plan -o FILE */
	const char *target;         /* apply --target KIND/NAME */
	const char *planfile;       /* apply PLANFILE */
	int refresh;                /* enum plumb_refresh: --refresh auto|full */
	bool cached;                /* --cached: no AWS call */
	bool adopt;                 /* --adopt */
	int prune;                  /* -1 Defaults decide, 0 --no-prune, 1 --prune */
	bool accept_out;            /* the command takes -o/--out */
	bool accept_target;         /* the command takes --target */
	bool accept_planfile;       /* the command takes a PLANFILE argument */
};
/* Parses what plumb_cli_parse left over; set the accept_* fields first (they are kept). */
int plumb__plan_flags(const char *cmd, int nrest, char **rest, struct plumb_plan_flags *f);

int plumb_cmd_validate(int argc, char **argv);
int plumb_cmd_render(int argc, char **argv);
int plumb_cmd_whoami(int argc, char **argv);
int plumb_cmd_plan(int argc, char **argv);
int plumb_cmd_apply(int argc, char **argv);
int plumb_cmd_drift(int argc, char **argv);
int plumb_cmd_run(int argc, char **argv);
int plumb_cmd_export(int argc, char **argv);

#endif

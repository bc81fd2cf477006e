/*
 * plumb run: the reconciler daemon. Being written this session; until then the command says so.
 */
#include "cli.h"

#include <stdio.h>

int plumb_cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "plumb run: not built yet\n");
	return PLUMB_EXIT_FAIL;
}

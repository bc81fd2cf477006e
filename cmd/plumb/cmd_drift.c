/*
 * plumb drift: the drift report. Being written this session; until then the command says so.
 */
#include "cli.h"

#include <stdio.h>

int plumb_cmd_drift(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "plumb drift: not built yet\n");
	return PLUMB_EXIT_FAIL;
}

/*
 * plumb export: the manifest export. Being written this session; until then the command says so.
 */
#include "cli.h"

#include <stdio.h>

int plumb_cmd_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "plumb export: not built yet\n");
	return PLUMB_EXIT_FAIL;
}

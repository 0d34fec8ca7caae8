/* cmd_bundle.c - placeholder until implemented. */
#include "cli/cli.h"
#include "cli/cmds.h"

int cli_cmd_bundle(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(ctx, "'bundle' is not implemented yet");
	return CLI_EXIT_ERROR;
}

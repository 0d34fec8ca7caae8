/* cmd_alliance.c - placeholder until implemented. */
#include "cli/cli.h"
#include "cli/cmds.h"

int cli_cmd_alliance(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(ctx, "'alliance' is not implemented yet");
	return CLI_EXIT_ERROR;
}

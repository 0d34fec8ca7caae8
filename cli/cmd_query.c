/* cmd_query.c - placeholder until implemented. */
#include "cli/cli.h"
#include "cli/cmds.h"

int cli_cmd_query(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(ctx, "'query' is not implemented yet");
	return CLI_EXIT_ERROR;
}

/* cmd_publish.c - placeholder until implemented. */
#include "cli/cli.h"
#include "cli/cmds.h"

int cli_cmd_publish(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(ctx, "'publish' is not implemented yet");
	return CLI_EXIT_ERROR;
}

int cli_cmd_amend(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(ctx, "'amend' is not implemented yet");
	return CLI_EXIT_ERROR;
}

int cli_cmd_retract(struct cli_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(ctx, "'retract' is not implemented yet");
	return CLI_EXIT_ERROR;
}

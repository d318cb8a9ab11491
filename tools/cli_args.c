/* Usage errors after a getopt_long loop (cli_args.h). */
#include "cli_args.h"
#include "commands.h"

#include <stdio.h>

int cli_bad_option(const char *cmd, const char *what, const char *opt, const char *help)
{
	fprintf(stderr, "%s: %s '%s' (see '%s')\n", cmd, what, opt, help);
	return HQIO_EXIT_USAGE;
}

int cli_unexpected(const char *cmd, const char *arg)
{
	fprintf(stderr, "%s: unexpected argument '%s'\n", cmd, arg);
	return HQIO_EXIT_USAGE;
}

/* Usage errors after a getopt_long loop, worded the same by every command. */
#ifndef HQIO_TOOLS_CLI_ARGS_H
#define HQIO_TOOLS_CLI_ARGS_H

/* Prints "CMD: WHAT 'OPT' (see 'HELP')" on stderr; returns HQIO_EXIT_USAGE. */
int cli_bad_option(const char *cmd, const char *what, const char *opt, const char *help);

/* Prints "CMD: unexpected argument 'ARG'" on stderr; returns HQIO_EXIT_USAGE. */
int cli_unexpected(const char *cmd, const char *arg);

#endif

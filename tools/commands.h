/* hqio subcommands: one file each, main() only dispatches. */
#ifndef HQIO_TOOLS_COMMANDS_H
#define HQIO_TOOLS_COMMANDS_H

int cmd_inspect(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_sim_audio(int argc, char **argv); /* hqio sim audio (cmd_sim_audio.c) */
int cmd_reset(int argc, char **argv);
int cmd_memtype(int argc, char **argv);
int cmd_vfio(int argc, char **argv);
int cmd_dvh_scan(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_dvh(int argc, char **argv); /* hqio dvh quirks|check (cmd_dvh.c) */

/* Exit codes shared by every subcommand. */
#define HQIO_EXIT_OK	0
#define HQIO_EXIT_FAIL	1 /* the operation failed (message on stderr) */
#define HQIO_EXIT_USAGE 2 /* wrong flags or arguments */

#endif

/* SPDX-License-Identifier: MIT */
/* Shared by the subcommands: exit codes and error printing. */
#ifndef AC_CLI_H
#define AC_CLI_H

#include "autocompress/ac_base.h"

/* Exit codes (documented in --help and README). */
enum {
    AC_EXIT_OK = 0,
    AC_EXIT_FAILURE = 1, /* internal error, out of memory, cancelled */
    AC_EXIT_BAD_INPUT = 2, /* usage, bad or hostile input, limits, unsupported content */
    AC_EXIT_IO = 4,        /* cannot read or write a file */
};

/* Maps a status to the exit code above. */
int ac_cli_exit_code(ac_status s);
/* Prints "autocompress: <where>: <msg>" to stderr and returns the exit code for d->status. */
int ac_cli_report(const ac_diag *d);
/* Prints a usage error and returns AC_EXIT_BAD_INPUT. */
int ac_cli_usage_error(const char *cmd, const char *fmt, ...) AC_PRINTF(2, 3);

int ac_cmd_inspect(int argc, char **argv);
int ac_cmd_infer(int argc, char **argv);
int ac_cmd_bench(int argc, char **argv);
int ac_cmd_eval(int argc, char **argv);
int ac_cmd_calibrate(int argc, char **argv);
int ac_cmd_merge(int argc, char **argv);
int ac_cmd_quantize(int argc, char **argv);

#endif

/* help — the texts the command table gives: `ferry --help` (every
 * command), a command's usage (`ferry help CMD`, `CMD --help`), the exit
 * codes, and the manual page in roff (`ferry help --man`, which `make
 * install` writes to share/man/man1/ferry.1). Each is printed from the
 * entries (the command table, tui/cli/table.c); nothing here is written
 * by hand per command. */
#ifndef FERRY_HELP_H
#define FERRY_HELP_H

#include <stdio.h>

#include "cli/cmd.h"

/* `ferry --help`: usage, every command with its summary, common options. */
void help_main(FILE *out, const struct cmd_list *commands);
/* One command: synopsis, description, options, footer. */
void help_usage(FILE *out, const struct cmd_entry *ce);
/* The exit code table (core/err.h's kinds). */
void help_exit_codes(FILE *out);
/* The whole manual page, ferry(1), as roff. */
void help_man(FILE *out, const struct cmd_list *commands);

#endif

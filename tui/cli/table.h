/* table — the command table: every command's entry, in the order
 * `ferry --help` lists them. A new command is a new entry here. The
 * dispatcher hands the list to the commands that print it (help,
 * completion), so that none of them calls back into this file. */
#ifndef FERRY_TABLE_H
#define FERRY_TABLE_H

#include "cli/cmd.h"

/* Every command. */
const struct cmd_list *table_commands(void);

#endif

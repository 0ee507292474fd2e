/* dispatch — run `ferry COMMAND [OPTIONS] [ARGS]` from the command table:
 * one getopt_long loop parses every command's options (ranges, choices,
 * "did you mean --dry-run?"), the positional arguments are counted, the
 * profiles file is loaded and the profile picked as the entry needs, the
 * renderer and the cancel flag are set up, and then --dry-run prints the
 * plan hook's plan (text, or JSON with --json) or exec runs.
 *
 * `ferry --help` / `-h` and `--version` / `-V` are handled here too. */
#ifndef FERRY_DISPATCH_H
#define FERRY_DISPATCH_H

#include "cli/cli.h"
#include "err.h"

/* argv[0] is the command name. Returns the exit code (0 or a command's
 * own), or -1 with e filled (the caller prints it). */
int dispatch_run(struct cli *c, int argc, char **argv, struct err *e);

#endif

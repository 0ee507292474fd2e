/* main — `ferry COMMAND ...` through the command table; with no
 * arguments, the helper menu on a terminal, else the overview. */
#include <locale.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/dispatch.h"
#include "cli/help.h"
#include "cli/table.h"
#include "wiz/wiz_easy.h"

/* A command, the helper menu, or the overview. */
int main(int argc, char **argv)
{
	struct cli c;
	struct err e = {0};
	setlocale(LC_ALL, "");
	cli_init(&c, argv);
	int rc;
	if (argc >= 2)
		rc = dispatch_run(&c, argc - 1, argv + 1, &e);
	else if (wiz_easy_wanted(&c))
		rc = wiz_easy_helper(&c, &e);
	else
		rc = (help_main(stdout, table_commands()), 0);
	if (rc < 0) {
		cli_print_error(&c, &e);
		return err_exit_code(e.kind);
	}
	return rc;
}

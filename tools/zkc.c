/* tools/zkc.c - main() of the `zkc` command; everything else is in
 * tools/cli_main.c and the files it dispatches to. */
#include "cli.h"

int main(int argc, char **argv)
{
	/* standard output is closed (and checked) once, at the end */
	return cli_output_done(cli_main(argc, argv));
}

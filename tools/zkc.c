/* tools/zkc.c - main() of the `zkc` command; everything else is in
 * tools/cli_main.c and the files it dispatches to. */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}

/*
 * cmd_psl.c - `shield psl`: registrable domains per the Public Suffix List,
 * and where the bundled list lives (scripts/refresh-psl.sh updates it).
 */
#include <getopt.h>
#include <libpsl.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shield psl [--psl FILE] NAME...\n\n"
		"Print each host name's registrable domain (eTLD+1) per the Public Suffix\n"
		"List, or '-' when the name is itself a public suffix.\n"
		"  --psl FILE  the list to use (default: the bundled %s/public_suffix_list.dat)\n"
		"  -h, --help  this help\n\n"
		"To refresh the bundled list from publicsuffix.org: scripts/refresh-psl.sh\n",
		SHIELD_DATADIR);
}

int cmd_psl(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"psl", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *file = SHIELD_DATADIR "/public_suffix_list.dat";
	int c;
	while ((c = getopt_long(argc, argv, "p:h", lo, NULL)) != -1) {
		if (c == 'p')
			file = optarg;
		else if (c == 'h') {
			usage(stdout);
			return SHIELD_EXIT_OK;
		} else {
			usage(stderr);
			return SHIELD_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return SHIELD_EXIT_USAGE;
	}
	psl_ctx_t *psl = psl_load_file(file);
	if (!psl) {
		cli_error("cannot load Public Suffix List '%s'", file);
		return SHIELD_EXIT_FAIL;
	}
	for (int i = optind; i < argc; i++) {
		char *lower = NULL;
		const char *name = argv[i];
		if (psl_str_to_utf8lower(argv[i], NULL, NULL, &lower) == PSL_SUCCESS)
			name = lower;
		const char *reg = psl_registrable_domain(psl, name);
		printf("%s\t%s\n", argv[i], reg ? reg : "-");
		psl_free_string(lower);
	}
	psl_free(psl);
	return SHIELD_EXIT_OK;
}

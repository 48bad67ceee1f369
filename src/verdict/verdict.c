/*
 * verdict.c - PLACEHOLDER until the verdict stage (issue 3) lands: the
 * engine loads nothing and judges nothing (verdict stays null). The verdict
 * helper replaces this file entirely.
 */
#include "verdict/verdict.h"

#include <stdlib.h>

struct verdict_engine {
	int unused;
};

struct verdict_engine *verdict_engine_new(const struct verdict_config *cfg, const void *psl,
					  char **err)
{
	return calloc(1, sizeof(struct verdict_engine));
}

struct verdict_engine *verdict_engine_free(struct verdict_engine *ve)
{
	free(ve);
	return NULL;
}

void verdict_judge(struct verdict_engine *ve, struct result *r)
{
}

/*
 * campaign.c - PLACEHOLDER until the campaign stage (issue 4) lands: no
 * clustering, campaign_id stays 0. The campaign helper replaces this file.
 */
#include "campaign/campaign.h"

#include <stdlib.h>

struct campaign_engine {
	int unused;
};

struct campaign_engine *campaign_engine_new(struct store *st, const struct campaign_config *cfg,
					    char **err)
{
	return calloc(1, sizeof(struct campaign_engine));
}

struct campaign_engine *campaign_engine_free(struct campaign_engine *ce)
{
	free(ce);
	return NULL;
}

int campaign_assign(struct campaign_engine *ce, struct result *r)
{
	return 0;
}

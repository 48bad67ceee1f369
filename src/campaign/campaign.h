/*
 * campaign.h - group reports into campaigns as they arrive.
 *
 * campaign_assign() runs once per report after the verdict and before the
 * report is stored, inside the ingest transaction: it finds the campaign
 * the report belongs to (or starts one) in roughly constant time, updates
 * the campaign's record in the store, sets r->campaign_id, and raises an
 * alert when the campaign crosses the configured threshold.
 */
#ifndef SHIELD_CAMPAIGN_H
#define SHIELD_CAMPAIGN_H

#include "extract/result.h"

struct store;

struct campaign_config {
	int alert_reports;       /* N reports ... (default 3) */
	int alert_minutes;       /* ... within T minutes (default 10) */
	const char *webhook_url; /* NULL: no webhook (operator-enabled only) */
	const char *alert_email; /* NULL: no e-mail alert */
	int replay;              /* time comes from the message Date (ingest --replay) */
};

struct campaign_engine;

/* campaign_engine_new - load the clustering index from the store. */
struct campaign_engine *campaign_engine_new(struct store *st, const struct campaign_config *cfg,
					    char **err);
struct campaign_engine *campaign_engine_free(struct campaign_engine *ce);

/* campaign_assign - set r->campaign_id (creating the campaign if needed).
 * Returns 0, or -1 on a store failure (store_errmsg says why). */
int campaign_assign(struct campaign_engine *ce, struct result *r);

#endif

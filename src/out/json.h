/*
 * json.h - the result as a JSON object (schema: docs/json-schema.md).
 * Uses jansson; the caller owns the returned json_t (json_decref) or
 * string (free).
 */
#ifndef SHIELD_OUT_JSON_H
#define SHIELD_OUT_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "extract/result.h"

/* result_to_json - a new object with every field of r. */
json_t *result_to_json(const struct result *r);
/* result_to_json_string - compact one-line JSON (malloc'd). */
char *result_to_json_string(const struct result *r);
/* json_set_campaign_id - json is result_to_json_string() of a result whose
 * campaign_id was 0; return it with campaign_id set to id (json is
 * consumed; the result is malloc'd). Lets the costly serialisation run
 * before the campaign is known. */
char *json_set_campaign_id(char *json, int64_t id);

#endif

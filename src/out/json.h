/*
 * json.h - the result as a JSON object (schema: docs/json-schema.md).
 * Uses jansson; the caller owns the returned json_t (json_decref) or
 * string (free).
 */
#ifndef SHIELD_OUT_JSON_H
#define SHIELD_OUT_JSON_H

#include <jansson.h>

#include "extract/result.h"

/* result_to_json - a new object with every field of r. */
json_t *result_to_json(const struct result *r);
/* result_to_json_string - compact one-line JSON (malloc'd). */
char *result_to_json_string(const struct result *r);

#endif

/*
 * store.h - the only place that knows SQL. One interface; the SQLite backend
 * (store_sqlite.c) is the embedded default, and a PostgreSQL backend can
 * implement the same functions without touching any stage.
 *
 * Model:
 *   submission  - one reported e-mail as received, found by its SHA-256;
 *                 the raw bytes are kept verbatim (zstd-compressed) in
 *                 `raw`, under the submission's id. Ingesting the same
 *                 bytes twice is a duplicate.
 *   report      - one suspicious message found in a submission (a forward
 *                 with two attached messages gives two reports). Reports of
 *                 the same phishing message share message_sha.
 *   indicator   - (type, value) with its first sighting and report links
 *                 (last seen and the report count follow from the links).
 *
 * Errors: functions return STORE_OK (0), STORE_DUP (1, for inserts of
 * something already there) or STORE_ERR (-1); store_errmsg() then says why.
 * Ownership: strings handed to callbacks are valid only during the call.
 */
#ifndef SHIELD_STORE_H
#define SHIELD_STORE_H
#include <stddef.h>
#include <stdint.h>

struct result;
struct store;
struct sqlite3;

enum { STORE_OK = 0, STORE_DUP = 1, STORE_ERR = -1 };

/* store_open - open (creating if needed) and migrate the store at path.
 * Returns NULL and sets *err (malloc'd, caller frees) on failure. */
struct store *store_open(const char *path, char **err);
/* store_close - close; NULL is fine. Returns NULL (p = store_close(p)). */
struct store *store_close(struct store *st);
const char *store_errmsg(struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* store_migrate - bring one component's tables to the newest version:
 * steps[i] is the SQL taking version i to i+1; the applied version per
 * component is kept in schema_version. Used by the core ("core") and by
 * other modules owning their tables ("notify", ...). */
int store_migrate(struct store *st, const char *component, const char *const *steps, int n);
/* store_sqlite - the SQLite handle, for store_*.c backend files only. */
struct sqlite3 *store_sqlite(struct store *st);
/* store_read_keys - the integers the one-column query sql returns, as
 * 64-bit keys (*keys malloc'd, caller frees; NULL and 0 on an error), for
 * store_*.c backend files only: the passes that fill key filters. */
int store_read_keys(struct sqlite3 *db, const char *sql, uint64_t **keys, size_t *n);
/* The store's append-only pack (the file DB-raw beside DB), for store_*.c
 * backend files only: bulky values live there and rows point into it.
 * store_pack_put appends len bytes and sets *off; inside a transaction the
 * bytes are made durable (fdatasync) before it commits, outside one at
 * once. Returns STORE_DUP, writing nothing, when the store has no pack
 * (in-memory stores): the caller keeps the bytes in its row then.
 * store_pack_get reads them back (malloc'd, caller frees); NULL and
 * store_errmsg() naming what (e.g. "incident block 7") when the pack is
 * missing or shorter than recorded. */
int store_pack_put(struct store *st, const void *data, size_t len, int64_t *off);
void *store_pack_get(struct store *st, int64_t off, size_t len, const char *what);
/* store_error - set store_errmsg() to msg (a backend's own finding, e.g. a
 * damaged pack entry); returns STORE_ERR. store_own_error - that message
 * (or a pack error) while no SQLite error came after it, else NULL: backend
 * files whose messages are SQLite's ask it first. */
int store_error(struct store *st, const char *msg);
const char *store_own_error(struct store *st);

/* Look-up maps (core step 6 in store_sqlite.c): submission_key and
 * report_key (the first 16 hex digits of submission.sha256 and of
 * report.message_sha, as store_hex_key() reads them, to the row's id),
 * indicator_key (indicator.key to id) and indicator_report (indicator id
 * to report id). Each has a large level and a `_recent` one; SQL that
 * reads a map reads both (shield_hex_key is store_hex_key in SQL, on the
 * store's connection; a hex key is a prefix: compare the whole hash
 * after):
 * - STORE_KEYED(map, key): the ids whose k equals the SQL expression key,
 *   as a table to join, e.g. "FROM " STORE_KEYED("report_key",
 *   "shield_hex_key(?1)") " AS x JOIN report r ON r.id = x.id". SQLite
 *   flattens it into two indexed look-ups; the per-report look-ups use it;
 * - STORE_KEYED_IDS(map, keys): the same for the keys IN the parenthesised
 *   SQL list or subquery keys, as a subquery: "id IN " STORE_KEYED_IDS(..).
 *   SQLite builds temporary tables for IN (subquery) at every execution
 *   (three here), so only the rarer queries use it;
 * - STORE_MAP_ROWS(map): every (k, id) pair of both levels, as a table
 *   (scans and joins on k). */
#define STORE_KEYED(map, key)                                                                      \
	"(SELECT id FROM " map " WHERE k=" key " UNION ALL SELECT id FROM " map                    \
	"_recent WHERE k=" key ")"
#define STORE_KEYED_IDS(map, keys)                                                                 \
	"(SELECT id FROM " map " WHERE k IN " keys " UNION ALL SELECT id FROM " map                \
	"_recent WHERE k IN " keys ")"
#define STORE_MAP_ROWS(map) "(SELECT k, id FROM " map " UNION ALL SELECT k, id FROM " map "_recent)"
/* store_hex_key - the first 16 hex digits of hex as a number (a digit
 * missing or not hex counts as 0). */
int64_t store_hex_key(const char *hex);
/* store_set_map_merge - begin moving the maps' recent level into the
 * large one once this many reports were added since the last move began
 * (0: the default, 32,768), one range of keys per commit over this many
 * commits (0: the default, 8); for tests and tuning. */
void store_set_map_merge(struct store *st, long reports, int slices);

/* store_get_raw - the raw bytes of the submission with this SHA-256;
 * *data is malloc'd (caller frees). */
int store_get_raw(struct store *st, const char *sha256, void **data, size_t *len);

/* store_add_submission - record a received report's raw bytes; returns
 * STORE_DUP (and the existing id) when the same bytes were stored before. */
int store_add_submission(struct store *st, const char sha256[65], const void *raw, size_t len,
			 const char *source, long source_index, int64_t *id);

/* Filters of the stored submission and indicator keys (common/keyfilter.h)
 * let a write transaction skip the look-up of a key that is certainly not
 * stored: the common case (a new message, a new URL), whose look-up
 * descends to a random leaf of a large index. Reading them is a pass over
 * every key, so a connection reads them only once it has made as many
 * look-ups as that pass is worth: a look-up that misses the page cache
 * costs about as much as reading STORE_FILTER_KEYS_PER_LOOKUP keys in
 * order, so after (submissions + indicators) / STORE_FILTER_KEYS_PER_LOOKUP
 * look-ups, and at least STORE_FILTER_AFTER (the ski-rental rule: at most
 * twice what the better choice would have cost, whatever the run's
 * length). A single message (`shield ingest -` per delivery) never reads
 * them. They are dropped, and read again by the same rule, when another
 * connection has committed keys (store_begin checks data_version, then
 * whether store_total's submissions or indicators moved: an analyst's
 * command adds none) or when the keys added since fill the room they were
 * sized for (as many as they were read with, at least STORE_FILTER_ROOM). */
#define STORE_FILTER_AFTER 2048
#define STORE_FILTER_KEYS_PER_LOOKUP 14
#define STORE_FILTER_ROOM (1u << 18)
/* store_set_filter_after - read the filters at this many look-ups instead
 * (1: at the first, for a resident `ingest --watch`; 0: the rule above). */
void store_set_filter_after(struct store *st, long lookups);
/* store_filter_reads - how often this connection read the filters (for
 * tests and benchmarks). */
long store_filter_reads(const struct store *st);

/* store_has_submission - 1 if these bytes were stored and committed before
 * (a cheap look-up, so a worker can skip parsing a duplicate; the ordered
 * store_add_submission() stays the authority), 0 if not or on error.
 * Meant for a thread's own read connection: it gives that connection a
 * small page cache. */
int store_has_submission(struct store *st, const char sha256[65]);

/* Compressing raw bytes is the costly part of storing them and needs no
 * store: a packer (one per thread, it keeps its compression context and
 * buffer between messages) packs ahead, outside the store's transaction. */
struct store_packer;
struct store_packed {
	const char *codec; /* "zstd" or "none" */
	const void *data;  /* borrowed from the packer (or the raw bytes) */
	size_t len;
};
struct store_packer *store_packer_new(void);
struct store_packer *store_packer_free(struct store_packer *p);
/* store_pack - pack raw; out is valid until the next call on p. */
void store_pack(struct store_packer *p, const void *raw, size_t len, struct store_packed *out);
/* store_add_submission_packed - store_add_submission() with raw already
 * packed by store_pack(). */
int store_add_submission_packed(struct store *st, const char sha256[65], size_t len,
				const struct store_packed *pk, const char *source,
				long source_index, int64_t *id);
/* store_add_report - store one suspicious message's result; json is the
 * result serialised by out/json (kept so every field can be shown again),
 * indicators are linked from r. */
int store_add_report(struct store *st, int64_t submission_id, const struct result *r,
		     const char *json, int64_t *report_id);

struct report_row {
	int64_t id, submission_id;
	const char *source;
	long source_index;
	const char *created_at; /* ISO 8601 UTC */
	const char *submission_sha;
	const char *message_sha;
	const char *json;    /* the stored result object */
	const char *verdict; /* NULL until judged */
	int score;	     /* -1 when not judged */
	int64_t campaign_id; /* 0 when not assigned; authoritative over json */
};
typedef int (*store_report_cb)(void *ctx, const struct report_row *row);

/* store_list_reports - every report in id order; cb returning nonzero stops. */
int store_list_reports(struct store *st, store_report_cb cb, void *ctx);
/* store_get_report - one report; STORE_DUP is never returned, and a missing
 * id returns STORE_ERR with errmsg "no report N". */
int store_get_report(struct store *st, int64_t id, store_report_cb cb, void *ctx);
/* store_reports_sharing - other reports with the same message_sha. */
int store_reports_sharing(struct store *st, int64_t id, store_report_cb cb, void *ctx);

struct indicator_row {
	const char *type; /* url, domain, ip, email, sha256 */
	const char *value;
	const char *first_seen, *last_seen;
	long reports;
};
typedef int (*store_indicator_cb)(void *ctx, const struct indicator_row *row);
/* store_list_indicators - type NULL for all types; report_id 0 for all. */
int store_list_indicators(struct store *st, const char *type, int64_t report_id,
			  store_indicator_cb cb, void *ctx);

struct store_counts {
	long submissions, reports, indicators, raw_blobs;
	int64_t raw_bytes, raw_stored_bytes;
};
/* store_counts - the store's totals, this connection's open transaction
 * included. Read from store_total (core step 7), not counted: one page,
 * whatever the store's size. */
int store_counts(struct store *st, struct store_counts *c);

/* store_data_version - a number that changes whenever another connection
 * (another process, or another store handle in this one) commits to the
 * store, and not when this one does: a long-lived writer that caches what
 * it wrote (the campaign engine under ingest --watch) compares it between
 * its transactions to know whether its caches are stale. -1 on error. */
int64_t store_data_version(struct store *st);

#endif

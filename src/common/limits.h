/*
 * limits.h - every bound Shield puts on hostile input, in one place.
 *
 * Every reported byte is attacker-controlled. Each limit below names what it
 * bounds and why the value was chosen (sources: Postfix, Dovecot, rspamd and
 * docs/limits.md). Hitting a limit is never a crash or a silent drop: the
 * stage that hits it records a finding (see finding codes below), keeps the
 * raw message, and stops descending.
 *
 * Values marked "compat" cannot be lowered without changing stored results.
 */
#ifndef SHIELD_LIMITS_H
#define SHIELD_LIMITS_H

/* Raw message size accepted for parsing. Postfix's message_size_limit is
 * 10 MB; forwarded reports with attachments run larger, so 32 MiB
 * (RELIABILITY.md section 3). Bigger messages are stored raw, unparsed. */
#define SHIELD_MAX_MESSAGE_BYTES (32u * 1024u * 1024u)

/* One header field. Postfix header_size_limit is 102,400 bytes; longer
 * fields are truncated for extraction and flagged. */
#define SHIELD_MAX_HEADER_BYTES (100u * 1024u)

/* Header fields per part. Dovecot CVE-2024-23184 showed 100k address
 * headers cost seconds of CPU; 10,000 is far above any real mail. */
#define SHIELD_MAX_HEADERS 10000u

/* MIME nesting depth, each message/rfc822 counting one level. Postfix and
 * Dovecot allow 100, rspamd 64; forwards of forwards rarely pass 5. Walked
 * with an explicit counter, never the C stack alone. */
#define SHIELD_MAX_MIME_DEPTH 32u

/* MIME parts per report. Dovecot allows 10,000; reports rarely pass 50. */
#define SHIELD_MAX_MIME_PARTS 1000u

/* Suspicious messages extracted from one report (several attached
 * message/rfc822 parts). More than this is a mail bomb, not a report. */
#define SHIELD_MAX_SUSPECTS 32u

/* Decoded bytes per report: at most this many times the raw size (base64
 * and QP can only shrink, so more means a decompression bomb) and never
 * more than SHIELD_MAX_DECODED_BYTES. */
#define SHIELD_MAX_DECODED_RATIO 4u
#define SHIELD_MAX_DECODED_BYTES (256u * 1024u * 1024u)

/* Text scanned for URLs per part: big enough for any real HTML mail, small
 * enough that a 30 MB text part cannot dominate a worker. */
#define SHIELD_MAX_SCAN_BYTES (4u * 1024u * 1024u)

/* URLs kept per message and the length of one URL (rspamd and the brief:
 * 10,000 and 8 KiB). Longer URLs are truncated and flagged. */
#define SHIELD_MAX_URLS 10000u
#define SHIELD_MAX_URL_BYTES 8192u

/* Other indicators per message (domains, IPs, e-mail addresses). */
#define SHIELD_MAX_INDICATORS 10000u

/* Received headers parsed into hops (Postfix hopcount_limit is 50, qmail
 * rejects at 100). The rest are counted and flagged. */
#define SHIELD_MAX_RECEIVED 100u

/* Attachments described per report, and archive entries listed per
 * attachment (ClamAV MaxFiles-style; we never unpack to disk). */
#define SHIELD_MAX_ATTACHMENTS 256u
#define SHIELD_MAX_ARCHIVE_ENTRIES 1000u

/* Lines an inline-forward header block may span before we give up on it,
 * and how far into a body we look for the forward marker. */
#define SHIELD_MAX_FWD_HEADER_LINES 40u
#define SHIELD_MAX_FWD_SCAN_BYTES (512u * 1024u)

/* Per-report arena budget: once exceeded, extraction stops and records
 * limit.memory (RELIABILITY.md proposes 64 MiB per report). */
#define SHIELD_MAX_ARENA_BYTES (64u * 1024u * 1024u)

/* One line of an mbox file. mbox lines are not bounded by any standard;
 * a line longer than this is still copied, but in bounded chunks. */
#define SHIELD_MBOX_CHUNK (64u * 1024u)

/* Parallel pipeline (common/workers.h): threads for parsing and judging,
 * and what may be in flight between reading and storing. Jobs in flight are
 * 2 per thread (enough to keep every thread busy while the ordered store
 * step runs) and at most SHIELD_PIPELINE_MAX_BYTES of message copies, so a
 * run of big messages cannot multiply memory by the thread count (they are
 * parsed one at a time anyway, see below); one job is always admitted. */
#define SHIELD_MAX_JOBS 64
#define SHIELD_PIPELINE_JOBS_PER_THREAD 2
#define SHIELD_PIPELINE_MAX_BYTES (4u * 1024u * 1024u)
/* Messages from this size up are parsed one at a time (workers.h): a 3 MB
 * message peaks at ~20 MB of heap while parsed. */
#define SHIELD_PIPELINE_BIG_BYTES (512u * 1024u)
/* Allocations from this size up are mapped and unmapped by malloc rather
 * than kept in a thread's heap (cmd_ingest.c says why). */
#define SHIELD_MALLOC_MMAP_BYTES (1024 * 1024)
#define SHIELD_MALLOC_TRIM_BYTES (512 * 1024)
/* A thread's compression buffer is kept between messages up to this size. */
#define SHIELD_PACK_KEEP_BYTES (1024u * 1024u)

/* Directory recursion depth while walking intake paths (symlink loops). */
#define SHIELD_MAX_DIR_DEPTH 32u

/* ingest --watch (intake/watch.h): messages taken from new/ per cycle (a
 * cycle ends with a commit and the move to cur/, so a backlog is worked off
 * in steps of this many, and a crash redoes at most one step, as cheap
 * duplicates); how often new/ is rescanned without an inotify event; and
 * how many unreadable names it remembers so as to name each only once. */
#define SHIELD_WATCH_CYCLE_MESSAGES 2000u
#define SHIELD_WATCH_RESCAN_MS 5000
#define SHIELD_WATCH_MAX_SKIPPED 1024u

/* Verdict stage: visible text judged per message (keyword tables, the
 * model, language): the first 64 KiB of subject + body carry the message's
 * intent; more only costs time (the verdict budget is 20% of extraction). */
#define SHIELD_MAX_VERDICT_TEXT (64u * 1024u)

/* Tokens the verdict stage looks at per message (64 KiB of text has at
 * most 32 Ki two-letter words). */
#define SHIELD_MAX_VERDICT_TOKENS 32768u

/* Known-good/known-bad list entries loaded in total (the PhishTank host
 * feed alone is ~400k) and the length of one entry. */
#define SHIELD_MAX_LIST_ENTRIES (4u * 1024u * 1024u)
#define SHIELD_MAX_LIST_ENTRY_BYTES 2048u

/* ---- verdict stage ----------------------------------------------------- */

/* DKIM signatures verified per message: real mail carries one to three
 * (author, ESP, mailing list); each costs a key lookup and a public-key
 * operation, so a hostile message with hundreds must not cost hundreds. */
#define AUTH_MAX_DKIM_SIGS 8
/* Bytes of an S/MIME signer's address or name kept (an address is <= 254). */
#define AUTH_MAX_SIGNER 256

/* Brand checks per message: links examined, distinct registrable domains
 * judged, reasons added, body bytes scanned for brand names. Phishing
 * mail has a handful of each; the caps bound a hostile message. */
#define BRAND_MAX_URLS 512u
#define BRAND_MAX_DOMAINS 128u
#define BRAND_MAX_REASONS 16u
#define BRAND_MAX_SCAN_BYTES 65536u

/* Registry files (operator input, still bounded): ~100x the bundled file,
 * far more entries than any national list, names/domains/keywords per entry. */
#define REGISTRY_MAX_FILE_BYTES (8u * 1024u * 1024u)
#define REGISTRY_MAX_ENTRIES 20000u
#define REGISTRY_MAX_LIST 256u

/* ---- IP-event feeds and notifications (src/feed, src/notify) ---------- */

/* A feed line: Shadowserver lines are a few hundred bytes; a longer one is
 * reported and skipped, never buffered whole. */
#define FEED_MAX_LINE (256u * 1024u)
/* Bytes of a type, source or TLP label after reduction to [a-z0-9._:-]. */
#define FEED_MAX_LABEL 64u
/* Distinct labels (types, sources and TLP values together) in one run: an
 * incident keeps its label ids in 16 and 13 bits (feed.c, struct inc), and
 * a hostile feed can make a label of every line; the last id is "other". */
#define FEED_MAX_LABELS 8191u
/* Event times: an incident keeps them as unsigned 32-bit seconds, so
 * 1970-2106; a line outside is reported and skipped. */
#define FEED_MIN_TIME 0LL
#define FEED_MAX_TIME 4294967295LL
/* Addresses one report gives (origin IP and IP hosts of its links): a
 * phish has a few; a report listing hundreds must not flood one AS. */
#define FEED_REPORT_MAX_IPS 16
/* Blocklist host names resolved per `feed --resolve` run (each a DNS
 * query through the system resolver, seconds each when it times out) and
 * public addresses kept per name. */
#define FEED_MAX_RESOLVE 5000
#define FEED_RESOLVE_ADDRS 4
/* A notification mail as rendered and stored (its incidents' CSV). */
#define NOTIFY_MAX_MESSAGE (64u * 1024u * 1024u)
/* XARF attachments per mail: an abuse desk tool parses each one; above
 * this the CSV alone carries the incidents. */
#define NOTIFY_MAX_XARF_PARTS 500
/* ARF reports (RFC 5965) per batch, one per reported mail behind its
 * "-origin" incidents, and Reported-URI fields per report. */
#define NOTIFY_MAX_ARF_PARTS 20
#define NOTIFY_MAX_ARF_URIS 10

#endif

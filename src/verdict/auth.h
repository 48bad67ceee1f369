/*
 * auth.h - signed versus unsigned: Shield's own DKIM (libopendkim) and
 * S/MIME (OpenSSL CMS) verification of the suspicious message's raw bytes.
 *
 * Keys come from an offline key file (cfg->dkim_keys_file, lines
 * "selector._domainkey.domain v=DKIM1; k=rsa; p=...") and, only when the
 * operator set cfg->dns, from DNS with cfg->dns_timeout_ms. Without either,
 * a signature's key is "nokey": never a network connection by default.
 */
#ifndef SHIELD_AUTH_H
#define SHIELD_AUTH_H

#include "extract/result.h"
#include "verdict/registry.h"
#include "verdict/verdict.h"

struct auth_verifier;

struct auth_verifier *auth_verifier_new(const struct verdict_config *cfg, const void *psl,
					char **err);
struct auth_verifier *auth_verifier_free(struct auth_verifier *av);

/* auth_verifier_add_ca - trust the CA certificates of a PEM file for S/MIME
 * chains, besides the system store (/etc/ssl/certs): a national PKI, or a
 * test CA. Call before judging. 0, or -1 and *err (malloc'd). */
int auth_verifier_add_ca(struct auth_verifier *av, const char *ca_file, char **err);

/* auth_verifier_dns_refused - DNS queries libopendkim attempted while DNS
 * was off (refused by the stub; always 0 unless libopendkim misbehaves). */
long auth_verifier_dns_refused(const struct auth_verifier *av);

/* auth_judge - set r->dkim_verified, dkim_domain, dkim_aligned,
 * smime_verified, smime_signer, verified_sender, and append reasons
 * ("auth.dkim_pass_aligned", "auth.unsigned_brand", "auth.signed_by_other",
 * "auth.dkim_fail", "auth.smime_pass", ...). reg tells which organisations
 * sign their mail; r->brand (set by brand_judge before) names the claimed
 * one. Uses r->raw/r->raw_len; does nothing for inline forwards. */
void auth_judge(const struct auth_verifier *av, const struct registry *reg, struct result *r);

#endif

/*
 * rpz.c - the blocklist as a DNS Response Policy Zone (see blocklist.h).
 * Verified against named-checkzone and unbound (tests/act/rpz_unbound.sh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "act/blocklist.h"

int blocklist_dns_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0, label = 0;
	/* room for "*." and an origin of a few labels */
	if (n == 0 || n > 200 || name[0] == '.' || name[n - 1] == '.')
		return 0;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

int blocklist_write_rpz(FILE *f, const struct bl_entry *e, size_t n, struct bl_meta *m);

int blocklist_write_rpz(FILE *f, const struct bl_entry *e, size_t n, struct bl_meta *m)
{
	char when[32];
	time_t t = (time_t)m->generated_at;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f,
		"; Shield response policy zone (draft-vixie-dnsop-dns-rpz)\n"
		"; TLP:%s - generated %s - serial %" PRId64 "\n"
		"; NXDOMAIN for each rogue domain and its subdomains; rpz-passthru for allowlisted "
		"names\n"
		"$TTL 300\n"
		"@ IN SOA localhost. %s %" PRId64 " 3600 600 86400 300\n"
		"@ IN NS localhost.\n",
		m->tlp ? m->tlp : "CLEAR", when, m->serial,
		m->contact ? m->contact : "hostmaster.invalid.", m->serial);
	if (m->npassthru)
		fputs("; operator allowlist\n", f);
	for (size_t i = 0; i < m->npassthru; i++) {
		if (!blocklist_dns_name_ok(m->passthru[i])) {
			m->skipped++;
			continue;
		}
		fprintf(f, "%s CNAME rpz-passthru.\n*.%s CNAME rpz-passthru.\n", m->passthru[i],
			m->passthru[i]);
	}
	fputs("; rogue domains\n", f);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].level, "domain") != 0)
			continue;
		if (!blocklist_dns_name_ok(e[i].value)) {
			m->skipped++;
			continue;
		}
		fprintf(f, "%s CNAME .\n*.%s CNAME .\n", e[i].value, e[i].value);
	}
	return ferror(f) ? -1 : 0;
}

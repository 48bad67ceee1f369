/*
 * share_id.c - UUIDv5, MD5 and TLP names for the sharing formats
 * (see share.h).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "act/share.h"

int share_tlp_ok(const char *tlp)
{
	static const char *const levels[] = {"clear", "green", "amber", "amber+strict", "red"};
	for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
		if (tlp && strcmp(tlp, levels[i]) == 0)
			return 1;
	return 0;
}

static int parse_uuid(const char *s, unsigned char out[16])
{
	size_t k = 0;
	for (; *s && k < 32; s++) {
		if (*s == '-')
			continue;
		int v = (*s >= '0' && *s <= '9')   ? *s - '0'
			: (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
			: (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10
						   : -1;
		if (v < 0)
			return -1;
		if (k % 2 == 0)
			out[k / 2] = (unsigned char)(v << 4);
		else
			out[k / 2] |= (unsigned char)v;
		k++;
	}
	return k == 32 ? 0 : -1;
}

void share_uuid5(const char *ns, const char *name, size_t n, char out[37])
{
	unsigned char nsb[16] = {0}, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	parse_uuid(ns, nsb);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha1(), NULL);
	EVP_DigestUpdate(c, nsb, 16);
	EVP_DigestUpdate(c, name, n);
	EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10],
		 md[11], md[12], md[13], md[14], md[15]);
}

void share_md5_hex(const char *s, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

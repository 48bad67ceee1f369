/*
 * decide.c - URL level or rogue domain (see decide.h).
 */
#include "act/decide.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Shared platforms: one customer's page must never take the platform
 * down. Registrable domains (or public suffixes) of free hosting, cloud
 * storage, form builders, URL shorteners and big platforms seen in
 * phishing (APWG and PhishTank platform statistics, abuse.ch reports).
 * The MISP warning lists cover many more through the guard. */
static const char *const shared_platforms[] = {
    /* free hosting and site builders */
    "000webhostapp.com",
    "weebly.com",
    "weeblysite.com",
    "wixsite.com",
    "wix.com",
    "blogspot.com",
    "wordpress.com",
    "github.io",
    "gitlab.io",
    "netlify.app",
    "vercel.app",
    "pages.dev",
    "workers.dev",
    "firebaseapp.com",
    "web.app",
    "herokuapp.com",
    "glitch.me",
    "repl.co",
    "replit.dev",
    "azurewebsites.net",
    "azurestaticapps.net",
    "webflow.io",
    "godaddysites.com",
    "square.site",
    "mailchimpsites.com",
    "mystrikingly.com",
    "strikingly.com",
    "yolasite.com",
    "jimdosite.com",
    "jimdo.com",
    "webnode.page",
    "carrd.co",
    "framer.app",
    "framer.website",
    "notion.site",
    "gamma.site",
    "tilda.ws",
    "sites.google.com",
    "business.site",
    "myshopify.com",
    "wpengine.com",
    "square.site",
    "ukit.me",
    "site123.me",
    "ucraft.site",
    "start.page",
    "teachable.com",
    /* cloud storage and CDNs */
    "amazonaws.com",
    "cloudfront.net",
    "googleapis.com",
    "appspot.com",
    "windows.net",
    "r2.dev",
    "digitaloceanspaces.com",
    "backblazeb2.com",
    "storage.googleapis.com",
    "sharepoint.com",
    "onedrive.live.com",
    "1drv.ms",
    "dropbox.com",
    "dropboxusercontent.com",
    "box.com",
    "mediafire.com",
    "wetransfer.com",
    "we.tl",
    "ipfs.io",
    "dweb.link",
    "cloudflare-ipfs.com",
    "fleek.co",
    "trycloudflare.com",
    "ngrok.io",
    "ngrok-free.app",
    "ngrok.app",
    "loca.lt",
    "serveo.net",
    "cdn.discordapp.com",
    "discordapp.com",
    /* forms and documents */
    "google.com",
    "forms.gle",
    "typeform.com",
    "jotform.com",
    "formstack.com",
    "surveymonkey.com",
    "wufoo.com",
    "office.com",
    "microsoft.com",
    "live.com",
    "microsoftonline.com",
    "canva.com",
    "canva.site",
    "docsend.com",
    "zohopublic.com",
    "zoho.com",
    "hubspot.com",
    "hsforms.com",
    "paperform.co",
    "123formbuilder.com",
    "formsite.com",
    "cognitoforms.com",
    "smartsheet.com",
    "airtable.com",
    "padlet.com",
    "adobe.com",
    "acrobat.com",
    "evernote.com",
    "quip.com",
    "figma.com",
    "miro.com",
    "linktr.ee",
    "telegra.ph",
    "medium.com",
    "substack.com",
    "beehiiv.com",
    /* URL shorteners and redirectors */
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "is.gd",
    "ow.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "t.ly",
    "tiny.cc",
    "goo.gl",
    "buff.ly",
    "qrco.de",
    "s.id",
    "v.gd",
    "urlz.fr",
    "shorturl.asia",
    "lnkd.in",
    "bl.ink",
    "short.io",
    "me-qr.com",
    /* big platforms and mail services */
    "facebook.com",
    "instagram.com",
    "linkedin.com",
    "twitter.com",
    "x.com",
    "youtube.com",
    "tiktok.com",
    "whatsapp.com",
    "telegram.org",
    "t.me",
    "apple.com",
    "icloud.com",
    "amazon.com",
    "ebay.com",
    "paypal.com",
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "sendgrid.net",
    "mailchimp.com",
    "list-manage.com",
    "mailgun.org",
    "sendinblue.com",
    "brevo.com",
    "constantcontact.com",
    "salesforce.com",
    "force.com",
    "yahoo.com",
    "gmail.com",
    "outlook.com",
    "hotmail.com",
    "duckdns.org",
    "no-ip.com",
    "ddns.net",
};

const char *act_shared_platform(const char *reg_domain)
{
	if (!reg_domain)
		return NULL;
	size_t n = strlen(reg_domain);
	for (size_t i = 0; i < sizeof shared_platforms / sizeof *shared_platforms; i++) {
		const char *p = shared_platforms[i];
		size_t pn = strlen(p);
		if (n == pn && strcasecmp(reg_domain, p) == 0)
			return p;
		if (n > pn && reg_domain[n - pn - 1] == '.' &&
		    strcasecmp(reg_domain + n - pn, p) == 0)
			return p;
	}
	return NULL;
}

const char *act_compromised_sign(const char *url)
{
	static const char *const signs[] = {
	    "/wp-content/",
	    "/wp-includes/",
	    "/wp-admin/",
	    "/wp-json/",
	    "/administrator/",
	    "/components/com_",
	    "/sites/default/files/",
	    "/vendor/phpunit/",
	    "/cgi-bin/",
	    "/.well-known/",
	    "/~",
	};
	if (!url)
		return NULL;
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	if (!p)
		return NULL;
	for (size_t i = 0; i < sizeof signs / sizeof *signs; i++)
		if (strstr(p, signs[i]))
			return signs[i];
	return NULL;
}

enum act_level act_decide(const struct act_facts *f, const struct act_policy *p, char *why,
			  size_t whylen)
{
	const char *shared;
	if (!f->reg_domain) {
		snprintf(why, whylen, "url: IP address host");
		return ACT_URL;
	}
	if (f->guard) {
		snprintf(why, whylen, "url: guard refused domain level (%s)", f->guard);
		return ACT_URL;
	}
	if (f->private_suffix) {
		snprintf(why, whylen,
			 "url: site on a shared platform (private public suffix of %s)",
			 f->reg_domain);
		return ACT_URL;
	}
	if ((shared = act_shared_platform(f->reg_domain)) != NULL) {
		snprintf(why, whylen, "url: shared platform %s", shared);
		return ACT_URL;
	}
	if (f->other_reports > 0) {
		snprintf(why, whylen, "url: also linked from %ld report(s) judged not malicious",
			 f->other_reports);
		return ACT_URL;
	}
	if (f->compromised) {
		snprintf(why, whylen, "url: looks like a compromised site (path %s)",
			 f->compromised);
		return ACT_URL;
	}
	if (f->lookalike) {
		snprintf(why, whylen, "domain: imitates %s; seen only in malicious reports (%ld)",
			 f->lookalike, f->mal_reports);
		return ACT_DOMAIN;
	}
	/* "Seen only in malicious reports" alone lists a domain only when the
	 * operator turns it on: on real data it also catches compromised small
	 * business sites and services that phishers link to (a tracking
	 * service, a brand's consumer-finance site), and a wrong domain entry
	 * cuts a whole country off from a site. Off by default. */
	long min = p ? p->min_reports : 0;
	if (min <= 0) {
		snprintf(
		    why, whylen,
		    "url: seen only in malicious reports (%ld messages), but domain level needs "
		    "look-alike evidence (--domain-min-reports is off)",
		    f->mal_reports);
		return ACT_URL;
	}
	if (f->mal_reports >= min) {
		snprintf(why, whylen, "domain: seen only in malicious reports (%ld messages)",
			 f->mal_reports);
		return ACT_DOMAIN;
	}
	snprintf(why, whylen,
		 "url: seen in %ld malicious message(s), fewer than %ld for domain level",
		 f->mal_reports, min);
	return ACT_URL;
}

/*
 * model.c - hashed-feature multinomial logistic regression: features,
 * prediction with explanation, SGD training, the "shield-model v1" file.
 * See model.h.
 */
#include "verdict/model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

#define MODEL_MAGIC "shield-model v1"
#define MODEL_HASH "fnv1a64-v1"
#define MAX_LINK_FEATS 64
#define MAX_ATTACH_FEATS 16
#define MODEL_PRUNE 0.02f

struct model {
	float *w; /* MODEL_BUCKETS * MODEL_NCLASS */
	float bias[MODEL_NCLASS];
	long trained[MODEL_NCLASS];
};

static uint32_t bucket_of(char kind, uint64_t h)
{
	h ^= (uint64_t)(unsigned char)kind * 0x9e3779b97f4a7c15ull;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)(h & (MODEL_BUCKETS - 1));
}

static uint64_t hash_lower(const char *s, size_t n)
{
	char buf[128];
	if (n > sizeof(buf))
		n = sizeof(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	return tokens_hash(buf, n);
}

static void push(struct model_feats *fs, char kind, uint64_t h, const char *name, size_t len)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 256;
		fs->v = xrealloc(fs->v, fs->cap * sizeof(*fs->v));
	}
	fs->v[fs->n++] = (struct model_feat){bucket_of(kind, h), kind, name,
					     (uint16_t)(len > 65535 ? 65535 : len)};
}

static int feat_cmp(const void *a, const void *b)
{
	const struct model_feat *x = a, *y = b;
	return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

static int is_link(const struct ind_url *u)
{
	return u->found_in &&
	       (!strcmp(u->found_in, "html:href") || !strcmp(u->found_in, "text") ||
		!strcmp(u->found_in, "html:text") || !strcmp(u->found_in, "html:action"));
}

/* dedup_buckets - keep the first feature of each bucket (features are
 * present/absent), in bucket order so sums are reproducible. Hashing into
 * a set first and sorting only the distinct buckets costs a fraction of
 * sorting every token (it was 3% of the whole extract run). */
static void dedup_buckets(struct model_feats *fs)
{
	size_t cap = 64;
	while (cap < fs->n * 2)
		cap *= 2;
	uint32_t *set = xcalloc(cap, sizeof *set); /* bucket + 1; 0 is empty */
	size_t o = 0;
	for (size_t i = 0; i < fs->n; i++) {
		uint32_t b = fs->v[i].bucket + 1;
		size_t j = (b * 2654435761u) & (cap - 1);
		while (set[j] && set[j] != b)
			j = (j + 1) & (cap - 1);
		if (set[j])
			continue;
		set[j] = b;
		fs->v[o++] = fs->v[i];
	}
	free(set);
	fs->n = o;
	qsort(fs->v, fs->n, sizeof(*fs->v), feat_cmp);
}

void model_features(struct model_feats *fs, const struct tokens *t, const struct result *r,
		    unsigned flags)
{
	memset(fs, 0, sizeof(*fs));
	for (size_t i = 0; i < t->n; i++)
		push(fs, t->v[i].subject ? 's' : 'w', t->v[i].h, t->buf + t->v[i].off, t->v[i].len);
	size_t links = 0;
	for (size_t i = 0; i < r->urls.n && links < MAX_LINK_FEATS; i++) {
		const struct ind_url *u = &r->urls.v[i];
		if (!is_link(u) || !u->host)
			continue;
		links++;
		const char *d = u->reg_domain ? u->reg_domain : u->host;
		push(fs, 'd', hash_lower(d, strlen(d)), d, strlen(d));
		const char *dot = strrchr(u->host, '.');
		if (dot && dot[1])
			push(fs, 't', hash_lower(dot + 1, strlen(dot + 1)), dot + 1,
			     strlen(dot + 1));
	}
	for (size_t i = 0; i < r->attachments.n && i < MAX_ATTACH_FEATS; i++) {
		const struct attachment *a = &r->attachments.v[i];
		if (a->true_type)
			push(fs, 'a', hash_lower(a->true_type, strlen(a->true_type)), a->true_type,
			     strlen(a->true_type));
		const char *dot = a->name ? strrchr(a->name, '.') : NULL;
		if (dot && dot[1] && strlen(dot + 1) <= 12)
			push(fs, 'x', hash_lower(dot + 1, strlen(dot + 1)), dot + 1,
			     strlen(dot + 1));
	}
	for (unsigned b = 0; b < CF_NFLAGS; b++)
		if (flags & (1u << b)) {
			const char *nm = content_flag_name(b);
			push(fs, 'f', tokens_hash(nm, strlen(nm)), nm, strlen(nm));
		}
	if (fs->n > 1)
		dedup_buckets(fs);
}

void model_feats_release(struct model_feats *fs)
{
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

static struct model *model_new(void)
{
	struct model *m = xcalloc(1, sizeof(*m));
	m->w = xcalloc((size_t)MODEL_BUCKETS * MODEL_NCLASS, sizeof(float));
	return m;
}

struct model *model_free(struct model *m)
{
	if (m) {
		free(m->w);
		free(m);
	}
	return NULL;
}

static struct model *load_fail(struct model *m, FILE *f, char *line, char **err, const char *path,
			       long ln, const char *why)
{
	size_t n = strlen(path) + strlen(why) + 64;
	*err = xmalloc(n);
	snprintf(*err, n, "cannot load model '%s': line %ld: %s", path, ln, why);
	free(line);
	if (f)
		fclose(f);
	return model_free(m);
}

struct model *model_load(const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		size_t n = strlen(path) + 32;
		*err = xmalloc(n);
		snprintf(*err, n, "cannot open model '%s'", path);
		return NULL;
	}
	struct model *m = model_new();
	char *line = NULL;
	size_t cap = 0;
	long ln = 0;
	int ended = 0;
	while (getline(&line, &cap, f) >= 0) {
		ln++;
		line[strcspn(line, "\r\n")] = 0;
		if (ln == 1) {
			if (strcmp(line, MODEL_MAGIC))
				return load_fail(m, f, line, err, path, ln,
						 "not a \"" MODEL_MAGIC "\" file");
			continue;
		}
		if (!*line || *line == '#')
			continue;
		char *end;
		if (isdigit((unsigned char)*line)) {
			unsigned long b = strtoul(line, &end, 10);
			if (b >= MODEL_BUCKETS)
				return load_fail(m, f, line, err, path, ln, "bucket out of range");
			for (int c = 0; c < MODEL_NCLASS; c++) {
				char *p = end;
				m->w[b * MODEL_NCLASS + c] = strtof(p, &end);
				if (end == p)
					return load_fail(m, f, line, err, path, ln, "bad weight");
			}
		} else if (!strncmp(line, "buckets ", 8)) {
			if (strtoul(line + 8, &end, 10) != MODEL_BUCKETS)
				return load_fail(m, f, line, err, path, ln,
						 "unsupported bucket count");
		} else if (!strncmp(line, "hash ", 5)) {
			if (strcmp(line + 5, MODEL_HASH))
				return load_fail(m, f, line, err, path, ln,
						 "unsupported feature hash");
		} else if (!strncmp(line, "bias ", 5)) {
			char *p = line + 5;
			for (int c = 0; c < MODEL_NCLASS; c++) {
				char *q = p;
				m->bias[c] = strtof(q, &p);
				if (p == q)
					return load_fail(m, f, line, err, path, ln, "bad bias");
			}
		} else if (!strncmp(line, "trained ", 8)) {
			sscanf(line + 8, "legitimate %ld spam %ld malicious %ld", &m->trained[0],
			       &m->trained[1], &m->trained[2]);
		} else if (!strcmp(line, "end")) {
			ended = 1;
			break;
		}
		/* other header lines ("classes", ...) are informative */
	}
	if (!ended)
		return load_fail(m, f, line, err, path, ln, "truncated (no \"end\" line)");
	free(line);
	fclose(f);
	return m;
}

int model_save(const struct model *m, const char *path, const char *comment, char **err)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		size_t n = strlen(path) + 32;
		*err = xmalloc(n);
		snprintf(*err, n, "cannot write model '%s'", path);
		return -1;
	}
	fprintf(f, MODEL_MAGIC "\n");
	if (comment)
		for (const char *p = comment; *p;) {
			size_t k = strcspn(p, "\n");
			fprintf(f, "# %.*s\n", (int)k, p);
			p += k;
			if (*p)
				p++;
		}
	fprintf(f, "buckets %u\nhash " MODEL_HASH "\nclasses legitimate spam malicious\n",
		MODEL_BUCKETS);
	fprintf(f, "trained legitimate %ld spam %ld malicious %ld\n", m->trained[0], m->trained[1],
		m->trained[2]);
	fprintf(f, "bias %.4f %.4f %.4f\n", m->bias[0], m->bias[1], m->bias[2]);
	for (size_t b = 0; b < MODEL_BUCKETS; b++) {
		const float *w = m->w + b * MODEL_NCLASS;
		/* pruned: a bucket whose weights are all tiny moves no score
		 * (x is ~0.05 per feature); dropping them shrinks the file 3x */
		if (fabsf(w[0]) < MODEL_PRUNE && fabsf(w[1]) < MODEL_PRUNE &&
		    fabsf(w[2]) < MODEL_PRUNE)
			continue;
		fprintf(f, "%zu %.3f %.3f %.3f\n", b, w[0], w[1], w[2]);
	}
	fprintf(f, "end\n");
	if (fclose(f)) {
		size_t n = strlen(path) + 32;
		*err = xmalloc(n);
		snprintf(*err, n, "cannot write model '%s'", path);
		return -1;
	}
	return 0;
}

static void softmax(const double *z, double *p)
{
	double mx = z[0];
	for (int c = 1; c < MODEL_NCLASS; c++)
		if (z[c] > mx)
			mx = z[c];
	double s = 0;
	for (int c = 0; c < MODEL_NCLASS; c++)
		s += p[c] = exp(z[c] - mx);
	for (int c = 0; c < MODEL_NCLASS; c++)
		p[c] /= s;
}

void model_predict(const struct model *m, const struct model_feats *fs, struct model_out *out)
{
	memset(out, 0, sizeof(*out));
	double z[MODEL_NCLASS];
	for (int c = 0; c < MODEL_NCLASS; c++)
		z[c] = m->bias[c];
	double x = fs->n ? 1.0 / sqrt((double)fs->n) : 0;
	for (size_t i = 0; i < fs->n; i++) {
		const float *w = m->w + (size_t)fs->v[i].bucket * MODEL_NCLASS;
		for (int c = 0; c < MODEL_NCLASS; c++)
			z[c] += x * w[c];
	}
	softmax(z, out->p);
	int target = out->p[MODEL_MAL] >= out->p[MODEL_SPAM] ? MODEL_MAL : MODEL_SPAM;
	for (size_t i = 0; i < fs->n; i++) {
		const float *w = m->w + (size_t)fs->v[i].bucket * MODEL_NCLASS;
		double c = x * (w[target] - w[MODEL_HAM]);
		if (c <= 0)
			continue;
		size_t k = out->n_top < MODEL_TOP ? out->n_top++ : MODEL_TOP;
		if (k == MODEL_TOP && c <= out->top[MODEL_TOP - 1].w)
			continue;
		if (k == MODEL_TOP)
			k = MODEL_TOP - 1;
		while (k > 0 && out->top[k - 1].w < c) {
			out->top[k] = out->top[k - 1];
			k--;
		}
		out->top[k] = (struct model_contrib){&fs->v[i], c};
	}
}

/* ---- training ---- */

struct example {
	int cls;
	size_t off, n; /* into trainer->buckets */
};

struct model_trainer {
	struct example *ex;
	size_t n, cap;
	uint32_t *buckets;
	size_t nb, bcap;
	size_t count[MODEL_NCLASS];
};

struct model_trainer *model_trainer_new(void)
{
	return xcalloc(1, sizeof(struct model_trainer));
}

struct model_trainer *model_trainer_free(struct model_trainer *tr)
{
	if (tr) {
		free(tr->ex);
		free(tr->buckets);
		free(tr);
	}
	return NULL;
}

void model_trainer_add(struct model_trainer *tr, int cls, const struct model_feats *fs)
{
	if (cls < 0 || cls >= MODEL_NCLASS)
		return;
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 1024;
		tr->ex = xrealloc(tr->ex, tr->cap * sizeof(*tr->ex));
	}
	while (tr->nb + fs->n > tr->bcap) {
		tr->bcap = tr->bcap ? tr->bcap * 2 : 65536;
		tr->buckets = xrealloc(tr->buckets, tr->bcap * sizeof(*tr->buckets));
	}
	for (size_t i = 0; i < fs->n; i++)
		tr->buckets[tr->nb + i] = fs->v[i].bucket;
	tr->ex[tr->n++] = (struct example){cls, tr->nb, fs->n};
	tr->nb += fs->n;
	tr->count[cls]++;
}

size_t model_trainer_count(const struct model_trainer *tr, int cls)
{
	return cls >= 0 && cls < MODEL_NCLASS ? tr->count[cls] : 0;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

struct model *model_trainer_fit(struct model_trainer *tr, unsigned epochs, uint64_t seed)
{
	struct model *m = model_new();
	double cw[MODEL_NCLASS];
	for (int c = 0; c < MODEL_NCLASS; c++) {
		m->trained[c] = (long)tr->count[c];
		cw[c] = tr->count[c] ? (double)tr->n / (MODEL_NCLASS * (double)tr->count[c]) : 0;
	}
	size_t *order = xmalloc((tr->n ? tr->n : 1) * sizeof(*order));
	for (size_t i = 0; i < tr->n; i++)
		order[i] = i;
	uint64_t rs = seed ? seed : 0x9e3779b97f4a7c15ull;
	const double lambda = 1e-5;
	for (unsigned e = 0; e < epochs; e++) {
		double lr = 0.5 / (1.0 + 0.3 * e);
		for (size_t i = tr->n; i > 1; i--) {
			size_t j = xorshift(&rs) % i;
			size_t t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t k = 0; k < tr->n; k++) {
			const struct example *ex = &tr->ex[order[k]];
			const uint32_t *bk = tr->buckets + ex->off;
			double x = ex->n ? 1.0 / sqrt((double)ex->n) : 0;
			double z[MODEL_NCLASS], p[MODEL_NCLASS];
			for (int c = 0; c < MODEL_NCLASS; c++)
				z[c] = m->bias[c];
			for (size_t i = 0; i < ex->n; i++)
				for (int c = 0; c < MODEL_NCLASS; c++)
					z[c] += x * m->w[(size_t)bk[i] * MODEL_NCLASS + c];
			softmax(z, p);
			for (int c = 0; c < MODEL_NCLASS; c++) {
				double g = (p[c] - (c == ex->cls)) * cw[ex->cls];
				m->bias[c] -= (float)(lr * g * 0.1);
				for (size_t i = 0; i < ex->n; i++) {
					float *w = &m->w[(size_t)bk[i] * MODEL_NCLASS + c];
					*w -= (float)(lr * (g * x + lambda * *w));
				}
			}
		}
	}
	free(order);
	return m;
}

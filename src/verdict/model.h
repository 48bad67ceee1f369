/*
 * model.h - the learned part of the verdict: a multinomial logistic
 * regression over hashed features, three classes (legitimate, spam,
 * malicious = phishing/malware/scam), small enough to explain.
 *
 * Features (model_features): the words of the subject ("s:") and of the
 * visible body ("w:") from content.h's tokens, the registrable domains and
 * TLDs of the links, attachment types and extensions, and the content
 * signals (CF_* flags). Never a header other than the subject, never the
 * recipient, the date or anything a receiving server adds: the model judges
 * the message, not the collection it came from. Each present feature counts
 * once, scaled by 1/sqrt(number of features).
 *
 * Features are hashed (FNV-1a 64, see tokens_hash) into MODEL_BUCKETS
 * buckets; scoring is one array lookup per feature. The file format is text,
 * "shield-model v1" (docs/verdicts.md): header lines, then one line per
 * non-zero bucket. The model file holds no words, only bucket numbers and
 * weights; explanations name the message's own words.
 *
 * A loaded model is read-only: share it between threads.
 */
#ifndef SHIELD_MODEL_H
#define SHIELD_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "extract/result.h"
#include "verdict/content.h"

#define MODEL_BUCKETS (1u << 18)
enum { MODEL_HAM, MODEL_SPAM, MODEL_MAL, MODEL_NCLASS };

struct model_feat {
	uint32_t bucket;
	char kind;	  /* 's' subject word, 'w' body word, 'd' link domain, 't' TLD,
			     'a' attachment type, 'x' extension, 'f' signal */
	const char *name; /* borrowed from the tokens or the result */
	uint16_t len;
};

struct model_feats {
	struct model_feat *v;
	size_t n, cap;
};

/* model_features - the features of one message (deduplicated by bucket).
 * fs is initialised here; release with model_feats_release(). Borrowed
 * names stay valid while t and r live. */
void model_features(struct model_feats *fs, const struct tokens *t, const struct result *r,
		    unsigned flags);
void model_feats_release(struct model_feats *fs);

struct model;

/* model_load - read a "shield-model v1" file. NULL and *err on failure. */
struct model *model_load(const char *path, char **err);
struct model *model_free(struct model *m);
/* model_save - write m; 0, or -1 and *err. */
int model_save(const struct model *m, const char *path, const char *comment, char **err);

struct model_contrib {
	const struct model_feat *f;
	double w; /* contribution towards the predicted class vs legitimate */
};

#define MODEL_TOP 6
struct model_out {
	double p[MODEL_NCLASS];
	struct model_contrib top[MODEL_TOP]; /* strongest features, decreasing */
	size_t n_top;
};

/* model_predict - class probabilities and the features that pushed the
 * message most towards the malicious (or spam) class. */
void model_predict(const struct model *m, const struct model_feats *fs, struct model_out *out);

/* Training (shield train). */
struct model_trainer;
struct model_trainer *model_trainer_new(void);
struct model_trainer *model_trainer_free(struct model_trainer *tr);
void model_trainer_add(struct model_trainer *tr, int cls, const struct model_feats *fs);
size_t model_trainer_count(const struct model_trainer *tr, int cls);
/* model_trainer_fit - SGD with balanced class weights, shuffled with seed. */
struct model *model_trainer_fit(struct model_trainer *tr, unsigned epochs, uint64_t seed);

#endif

/*
 * cmd_train.c - `shield train`: fit the verdict model from labelled
 * folders of messages and write a "shield-model v1" file.
 *
 * Each message goes through the same extraction and the same feature code
 * as at judging time (content.h tokens and signals, model.h features), so
 * what the model learns is exactly what it will see. Nothing from headers
 * other than the subject is a feature (see model.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/limits.h"
#include "extract/extract.h"
#include "intake/intake.h"
#include "verdict/content.h"
#include "verdict/model.h"

#define MAX_DIRS 64

struct train_run {
	struct extractor *x;
	struct content_checker *cc;
	struct model_trainer *tr;
	int cls;
	long messages, errors;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shield train --ham DIR... --phish DIR... [--spam DIR...] [--scam DIR...]\n"
		"                    -o FILE [--epochs N] [--seed N] [--psl FILE]\n\n"
		"Fit the verdict model (multinomial logistic regression over hashed words of\n"
		"the subject and visible body, link domains, attachment types and the content\n"
		"signals) from folders of labelled messages, and write it as a\n"
		"\"shield-model v1\" file. Folders are read recursively (.eml files, mbox,\n"
		"Maildir); options may be repeated.\n\n"
		"Labels:\n"
		"  --ham DIR      legitimate mail\n"
		"  --phish DIR    malicious: phishing or malware\n"
		"  --scam DIR     malicious: fraud without credential theft (counted with phish)\n"
		"  --spam DIR     unsolicited marketing\n\n"
		"Options:\n"
		"  -o, --output FILE  where to write the model (e.g. data/model.txt)\n"
		"  --epochs N         passes over the data (default 12)\n"
		"  --seed N           shuffling seed (default 1): same data and seed, same model\n"
		"  --psl FILE         Public Suffix List for registrable domains\n"
		"  -h, --help         this help\n\n"
		"Use the model with `shield extract --model FILE` (the bundled one is\n"
		"data/model.txt; docs/verdicts.md describes how it was trained).\n");
}

static int on_result(void *ctx, struct result *r)
{
	struct train_run *run = ctx;
	struct tokens t;
	tokens_make(&t, r->subject, r->body_text);
	unsigned flags = content_judge(run->cc, &t, r);
	struct model_feats fs;
	model_features(&fs, &t, r, flags);
	model_trainer_add(run->tr, run->cls, &fs);
	model_feats_release(&fs);
	tokens_release(&t);
	run->messages++;
	return 0;
}

static int on_message(void *ctx, const struct intake_msg *m)
{
	struct train_run *run = ctx;
	char sha[65] = "";
	extract_report(run->x, m->data, m->len, m->source, m->index, sha, on_result, run);
	return 0;
}

static void on_error(void *ctx, const char *path, const char *why)
{
	struct train_run *run = ctx;
	run->errors++;
	cli_error("cannot read '%s': %s", path, why);
}

static int add_dir(const char **v, int *n, const char *d)
{
	if (*n >= MAX_DIRS) {
		cli_error("too many folders (at most %d): '%s'", MAX_DIRS, d);
		return -1;
	}
	v[(*n)++] = d;
	return 0;
}

int cmd_train(int argc, char **argv)
{
	enum { O_HAM = 1000, O_PHISH, O_SPAM, O_SCAM, O_EPOCHS, O_SEED, O_PSL };
	static const struct option lo[] = {
	    {"ham", required_argument, NULL, O_HAM},
	    {"phish", required_argument, NULL, O_PHISH},
	    {"spam", required_argument, NULL, O_SPAM},
	    {"scam", required_argument, NULL, O_SCAM},
	    {"epochs", required_argument, NULL, O_EPOCHS},
	    {"seed", required_argument, NULL, O_SEED},
	    {"psl", required_argument, NULL, O_PSL},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dirs[MODEL_NCLASS][MAX_DIRS];
	int ndirs[MODEL_NCLASS] = {0};
	const char *out = NULL, *psl = NULL;
	long epochs = 12;
	unsigned long long seed = 1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case O_HAM:
			rc = add_dir(dirs[MODEL_HAM], &ndirs[MODEL_HAM], optarg);
			break;
		case O_SPAM:
			rc = add_dir(dirs[MODEL_SPAM], &ndirs[MODEL_SPAM], optarg);
			break;
		case O_PHISH:
		case O_SCAM:
			rc = add_dir(dirs[MODEL_MAL], &ndirs[MODEL_MAL], optarg);
			break;
		case O_EPOCHS:
			epochs = strtol(optarg, &end, 10);
			if (*end || epochs < 1 || epochs > 1000) {
				cli_error("--epochs wants a number from 1 to 1000, not '%s'",
					  optarg);
				return SHIELD_EXIT_USAGE;
			}
			break;
		case O_SEED:
			seed = strtoull(optarg, &end, 10);
			if (*end || !*optarg) {
				cli_error("--seed wants a number, not '%s'", optarg);
				return SHIELD_EXIT_USAGE;
			}
			break;
		case O_PSL:
			psl = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return SHIELD_EXIT_OK;
		default:
			usage(stderr);
			return SHIELD_EXIT_USAGE;
		}
		if (rc < 0)
			return SHIELD_EXIT_USAGE;
	}
	if (!out || optind < argc || !ndirs[MODEL_HAM] || !ndirs[MODEL_MAL]) {
		if (optind < argc)
			cli_error("unexpected argument '%s' (folders go after --ham, --phish, ...)",
				  argv[optind]);
		else
			cli_error("train needs -o FILE, at least one --ham and one --phish folder");
		usage(stderr);
		return SHIELD_EXIT_USAGE;
	}
	struct train_run run = {0};
	char *err = NULL;
	run.x = extractor_new(psl, &err);
	if (run.x)
		run.cc = content_checker_new(NULL, &err);
	if (!run.x || !run.cc) {
		cli_error("%s", err ? err : "cannot start the pipeline");
		free(err);
		content_checker_free(run.cc);
		extractor_free(run.x);
		return SHIELD_EXIT_FAIL;
	}
	run.tr = model_trainer_new();
	struct intake_ops ops = {on_message, on_error, NULL, &run};
	static const char *const names[MODEL_NCLASS] = {"legitimate", "spam", "malicious"};
	for (int k = 0; k < MODEL_NCLASS; k++) {
		run.cls = k;
		for (int i = 0; i < ndirs[k]; i++) {
			struct intake_stats st = {0};
			intake_path(dirs[k][i], &ops, &st);
		}
		fprintf(stderr, "train: %zu %s messages\n", model_trainer_count(run.tr, k),
			names[k]);
	}
	int rc = SHIELD_EXIT_OK;
	if (!model_trainer_count(run.tr, MODEL_HAM) || !model_trainer_count(run.tr, MODEL_MAL)) {
		cli_error("no legitimate or no malicious message was read: nothing to learn from");
		rc = SHIELD_EXIT_FAIL;
	} else {
		struct model *m = model_trainer_fit(run.tr, (unsigned)epochs, seed);
		char comment[1024];
		size_t o = 0;
		o += (size_t)snprintf(
		    comment, sizeof(comment),
		    "trained by `shield train` (epochs %ld, seed %llu) from:", epochs, seed);
		for (int k = 0; k < MODEL_NCLASS && o < sizeof(comment); k++)
			for (int i = 0; i < ndirs[k] && o < sizeof(comment); i++)
				o += (size_t)snprintf(comment + o, sizeof(comment) - o, "\n  %s %s",
						      names[k], dirs[k][i]);
		if (model_save(m, out, comment, &err) < 0) {
			cli_error("%s", err);
			free(err);
			rc = SHIELD_EXIT_FAIL;
		} else {
			fprintf(stderr, "train: wrote '%s'\n", out);
		}
		model_free(m);
	}
	if (rc == SHIELD_EXIT_OK && run.errors)
		rc = SHIELD_EXIT_PARTIAL;
	model_trainer_free(run.tr);
	content_checker_free(run.cc);
	extractor_free(run.x);
	return rc;
}

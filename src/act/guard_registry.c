/*
 * guard_registry.c - feed the verified-organisation registry's official
 * domains into the guard (see guard.h). Kept apart from guard.c so the
 * guard itself does not depend on the verdict stage.
 */
#include <stdio.h>
#include <stdlib.h>

#include "act/guard.h"
#include "verdict/registry.h"

int guard_load_registry(struct guard *g, const char *extra_file, char **err)
{
	struct registry *reg = registry_load(extra_file, err);
	if (!reg)
		return -1;
	int added = 0;
	for (size_t i = 0; i < registry_count(reg); i++) {
		const struct registry_entry *e = registry_at(reg, i);
		char src[300];
		snprintf(src, sizeof src, "registry:%s", e->id);
		for (size_t k = 0; k < e->n_domains; k++)
			if (guard_add(g, e->domains[k], src, 0) == 0)
				added++;
	}
	registry_free(reg);
	return added;
}

/* test_json.c - the stored result JSON: the campaign id set after the
 * (parallel) serialisation gives the same bytes as serialising with it. */
#include <stdlib.h>

#include "common/xalloc.h"
#include "extract/result.h"
#include "out/json.h"
#include "test.h"

static void campaign_id_spliced(struct test_state *t)
{
	struct result *r = result_new("a \"campaign_id\":null b.eml", 3);
	r->subject = "\"campaign_id\":null in a subject";
	r->campaign_id = 0;
	char *before = result_to_json_string(r);
	char *spliced = json_set_campaign_id(before, 4242);
	r->campaign_id = 4242;
	char *direct = result_to_json_string(r);
	CHECK_STR(t, spliced, direct);
	/* the key inside a string value is escaped: only the real key moves */
	CHECK(t, strstr(direct, "\"subject\":\"\\\"campaign_id\\\":null in a subject\"") != NULL);
	CHECK(t, strstr(direct, "\"campaign_id\":4242") != NULL);
	free(spliced);
	free(direct);
	r->subject = NULL;
	result_free(r);
}

/* the key not last (text written by an older layout): still replaced,
 * through the search */
static void campaign_id_not_last(struct test_state *t)
{
	char *j = json_set_campaign_id(xstrdup("{\"campaign_id\":null,\"x\":1}"), 7);
	CHECK_STR(t, j, "{\"campaign_id\":7,\"x\":1}");
	free(j);
	j = json_set_campaign_id(xstrdup("{\"x\":\"\\\"campaign_id\\\":null\"}"), 7);
	CHECK_STR(t, j, "{\"x\":\"\\\"campaign_id\\\":null\"}");
	free(j);
}

int main(void)
{
	struct test_state t = {0};
	RUN(&t, campaign_id_spliced);
	RUN(&t, campaign_id_not_last);
	printf("%d passed, %d failed\n", t.passed, t.failed);
	return t.failed != 0;
}

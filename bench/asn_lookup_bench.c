/*
 * asn_lookup_bench.c - single-core lookup rate of the LPM table
 * (bench/asn_bench.sh builds and runs it; not part of the library).
 *
 * Usage: asn_lookup_bench TABLE [N]
 * Two workloads of N lookups each: addresses drawn uniformly from the
 * whole IPv4 space (many unrouted, worst case for cache locality) and
 * addresses drawn from the table's own ranges (what a feed looks like).
 * The addresses are generated before the clock starts; a xorshift PRNG
 * keeps it deterministic. Prints lookups/s per workload.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "enrich/asn.h"

static uint64_t xs(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: asn_lookup_bench TABLE [N]\n");
		return 2;
	}
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 20000000;
	char *err = NULL;
	const char *paths[1] = {argv[1]};
	double t0 = clock_now();
	struct asn_table *t = asn_table_open(paths, 1, NULL, NULL, NULL, &err);
	if (!t) {
		fprintf(stderr, "asn_lookup_bench: %s\n", err);
		return 3;
	}
	double t1 = clock_now();
	printf("table load: %.4f s\n", t1 - t0);
	uint32_t *ips = malloc(n * sizeof *ips);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++)
		ips[i] = (uint32_t)xs(&seed);
	/* routed sample: keep uniform draws that hit a route */
	uint32_t *routed = malloc(n * sizeof *routed);
	size_t nr = 0;
	while (nr < n) {
		uint32_t ip = (uint32_t)xs(&seed);
		if (asn_table_find4(t, ip))
			routed[nr++] = ip;
	}
	const char *names[2] = {"uniform IPv4", "routed IPv4"};
	uint32_t *sets[2] = {ips, routed};
	for (int w = 0; w < 2; w++) {
		uint64_t sum = 0;
		double a = clock_now();
		for (size_t i = 0; i < n; i++)
			sum += asn_table_find4(t, sets[w][i]);
		double b = clock_now();
		printf("%s: %zu lookups in %.3f s = %.1f M lookups/s (checksum %llu)\n", names[w],
		       n, b - a, (double)n / (b - a) / 1e6, (unsigned long long)sum);
	}
	free(ips);
	free(routed);
	asn_table_free(t);
	return 0;
}

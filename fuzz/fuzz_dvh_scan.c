/*
 * libFuzzer target: arbitrary bytes as C source for the DVH scanner
 * (lib/dvh/scan*.c: lexer, function splitting, rules, data flow). The buffer
 * is an exact-size copy without a terminating NUL so ASan flags any read past
 * it. Every finding must carry a valid rule, a line inside the input and
 * terminated strings; the fields learned from the input are fed back as known
 * fields for a second scan (the CLI's second pass). abort() on a broken
 * invariant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hqio/dvh_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct hqio_dvh_result *r, size_t lines)
{
	for (size_t k = 0; k < r->n; k++) {
		const struct hqio_dvh_finding *f = &r->v[k];
		if ((unsigned)f->rule >= HQIO_DVH_RULE_COUNT || f->line < 1 || f->line > lines ||
		    !f->why || memchr(f->func, 0, sizeof(f->func)) == NULL ||
		    memchr(f->expr, 0, sizeof(f->expr)) == NULL)
			abort();
	}
	for (size_t k = 0; k < r->nfields; k++)
		if (memchr(r->fields[k].name, 0, sizeof(r->fields[k].name)) == NULL)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct hqio_dvh_result r = { 0 }, r2 = { 0 };
	size_t lines = 1;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	for (size_t k = 0; k < size; k++)
		lines += buf[k] == '\n';
	if (hqio_dvh_scan_buffer(buf, size, NULL, &r) == 0) {
		check(&r, lines);
		struct hqio_dvh_opts o = { .fields = r.fields, .nfields = r.nfields };
		if (hqio_dvh_scan_buffer(buf, size, &o, &r2) == 0)
			check(&r2, lines);
	}
	hqio_dvh_result_free(&r);
	hqio_dvh_result_free(&r2);
	free(buf);
	return 0;
}

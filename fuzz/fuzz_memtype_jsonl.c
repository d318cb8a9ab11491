/*
 * libFuzzer target: any bytes as a JSON-lines batch for `hqio memtype
 * --batch` (tools/jsonl.c parser + tools/cmd_memtype.c dispatcher). The
 * input is split at '\n' as the batch reader splits it; every line must
 * produce exactly one output line that is a JSON object, and the parser
 * must never read or write out of bounds (ASan/UBSan). abort() when a line
 * produced no output or more than one line.
 */
#include "memtype_cli.h"

#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = NULL;
	size_t cap = 0;
	size_t start = 0;
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) + 1 : size;
		FILE *out = open_memstream(&buf, &cap);
		if (!out)
			return 0;
		memtype_jsonl_line((const char *)data + start, end - start, out);
		fclose(out);
		/* One line: starts with '{', ends with "}\n", no other newline. */
		size_t n = strlen(buf);
		if (n < 3 || buf[0] != '{' || buf[n - 1] != '\n' || buf[n - 2] != '}' ||
		    memchr(buf, '\n', n - 1))
			abort();
		free(buf);
		buf = NULL;
		start = end;
	}
	return 0;
}

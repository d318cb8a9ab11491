/* The `hqio memtype` JSON-lines dispatcher, shared with its fuzz target. */
#ifndef HQIO_TOOLS_MEMTYPE_CLI_H
#define HQIO_TOOLS_MEMTYPE_CLI_H

#include <stddef.h>
#include <stdio.h>

/* One input line in, one output line out (a result object or
 * {"error": ...}). 0 when the line succeeded, 1 when it failed. */
int memtype_jsonl_line(const char *line, size_t len, FILE *out);

#endif

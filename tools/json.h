/* A small streaming JSON writer for --json output. */
#ifndef HQIO_TOOLS_JSON_H
#define HQIO_TOOLS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];
	bool line; /* one compact line (JSON lines); non-ASCII bytes become '?' */
};

void json_init(struct json *j, FILE *f);
/* Compact mode for JSON-lines output: no newlines or indentation inside a
 * document, and only ASCII in strings, so every line is valid UTF-8. */
void json_init_line(struct json *j, FILE *f);
/* key is NULL inside arrays and at the top level. */
void json_obj(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *val); /* NULL -> null */
void json_int(struct json *j, const char *key, long long val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
/* A string "0x..." with at least width hex digits. */
void json_hex(struct json *j, const char *key, uint64_t val, int width);
void json_end(struct json *j); /* final newline */

#endif

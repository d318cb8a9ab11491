/* Streaming JSON writer: commas and nesting tracked per level. */
#include "json.h"

#include <inttypes.h>

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->line = false;
}

void json_init_line(struct json *j, FILE *f)
{
	json_init(j, f);
	j->line = true;
}

static void put_string(FILE *f, const char *s, bool ascii)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else if (ascii && *p >= 0x80)
				fputc('?', f);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void prefix(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth > 0 && !j->line) {
		fputc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	if (key) {
		put_string(j->f, key, j->line);
		fputs(j->line ? ":" : ": ", j->f);
	}
}

static void open_level(struct json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_level(struct json *j, char c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (!empty && !j->line) {
		fputc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	fputc(c, j->f);
}

void json_obj(struct json *j, const char *key)
{
	open_level(j, key, '{');
}

void json_obj_end(struct json *j)
{
	close_level(j, '}');
}

void json_arr(struct json *j, const char *key)
{
	open_level(j, key, '[');
}

void json_arr_end(struct json *j)
{
	close_level(j, ']');
}

void json_str(struct json *j, const char *key, const char *val)
{
	prefix(j, key);
	if (val)
		put_string(j->f, val, j->line);
	else
		fputs("null", j->f);
}

void json_int(struct json *j, const char *key, long long val)
{
	prefix(j, key);
	fprintf(j->f, "%lld", val);
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	prefix(j, key);
	fprintf(j->f, "%" PRIu64, val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	prefix(j, key);
	fputs(val ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}

void json_hex(struct json *j, const char *key, uint64_t val, int width)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0x%0*" PRIx64, width, val);
	json_str(j, key, buf);
}

void json_end(struct json *j)
{
	fputc('\n', j->f);
}

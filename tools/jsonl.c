/* JSON-lines reader and one-line writer (jsonl.h). */
#include "jsonl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

struct parser {
	const char *s;
	size_t len, pos;
	struct jsonl_doc *d;
};

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->d->err, sizeof(p->d->err), fmt, ap);
	va_end(ap);
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int put_byte(struct parser *p, unsigned char c)
{
	if (p->d->str_used >= JSONL_MAX_STR)
		return fail(p, "strings too long (over %u bytes in all)", JSONL_MAX_STR - 1);
	p->d->str[p->d->str_used++] = (char)c;
	return 0;
}

static int hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->len - p->pos < 4)
		return fail(p, "truncated \\u escape at byte %zu", p->pos);
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return fail(p, "bad \\u escape at byte %zu", p->pos - 1);
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static int put_utf8(struct parser *p, unsigned cp)
{
	if (cp < 0x80)
		return put_byte(p, (unsigned char)cp);
	if (cp < 0x800)
		return put_byte(p, (unsigned char)(0xc0 | cp >> 6)) ||
		       put_byte(p, (unsigned char)(0x80 | (cp & 0x3f)));
	if (cp < 0x10000)
		return put_byte(p, (unsigned char)(0xe0 | cp >> 12)) ||
		       put_byte(p, (unsigned char)(0x80 | (cp >> 6 & 0x3f))) ||
		       put_byte(p, (unsigned char)(0x80 | (cp & 0x3f)));
	return put_byte(p, (unsigned char)(0xf0 | cp >> 18)) ||
	       put_byte(p, (unsigned char)(0x80 | (cp >> 12 & 0x3f))) ||
	       put_byte(p, (unsigned char)(0x80 | (cp >> 6 & 0x3f))) ||
	       put_byte(p, (unsigned char)(0x80 | (cp & 0x3f)));
}

/* At the opening quote; *out points into the document's string pool. */
static int parse_string(struct parser *p, const char **out)
{
	size_t start = p->d->str_used;
	p->pos++; /* '"' */
	for (;;) {
		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "control character in string at byte %zu", p->pos - 1);
		if (c != '\\') {
			if (put_byte(p, c))
				return -1;
			continue;
		}
		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos++];
		unsigned cp;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			cp = c;
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (hex4(p, &cp))
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(p, "lone low surrogate in string");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
				    p->s[p->pos + 1] != 'u')
					return fail(p, "lone high surrogate in string");
				p->pos += 2;
				if (hex4(p, &lo))
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(p, "bad surrogate pair in string");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				return fail(p, "\\u0000 in string");
			break;
		default:
			return fail(p, "bad escape \\%c", c >= 0x20 && c < 0x7f ? c : '?');
		}
		if (put_utf8(p, cp))
			return -1;
	}
	if (put_byte(p, 0))
		return -1;
	*out = p->d->str + start;
	return 0;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct parser *p, struct jsonl_val *v)
{
	bool neg = false, exact = true;
	uint64_t u = 0;
	v->kind = JSONL_NUM;
	if (peek(p) == '-') {
		neg = true;
		p->pos++;
	}
	if (!is_digit(peek(p)))
		return fail(p, "bad number at byte %zu", p->pos);
	if (peek(p) == '0') {
		p->pos++;
		if (is_digit(peek(p)))
			return fail(p, "leading zero in number at byte %zu", p->pos);
	} else {
		while (is_digit(peek(p))) {
			unsigned d = (unsigned)(p->s[p->pos++] - '0');
			if (u > (UINT64_MAX - d) / 10)
				exact = false; /* keeps scanning: valid JSON, not a u64 */
			else
				u = u * 10 + d;
		}
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!is_digit(peek(p)))
			return fail(p, "bad fraction at byte %zu", p->pos);
		while (is_digit(peek(p)))
			p->pos++;
		exact = false;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!is_digit(peek(p)))
			return fail(p, "bad exponent at byte %zu", p->pos);
		while (is_digit(peek(p)))
			p->pos++;
		exact = false;
	}
	if (neg && u != 0)
		exact = false;
	v->is_u64 = exact;
	v->u = exact ? u : 0;
	return 0;
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, "unexpected character at byte %zu", p->pos);
	p->pos += n;
	return 0;
}

static int parse_value(struct parser *p, struct jsonl_val *v, unsigned depth);

static int parse_object(struct parser *p, struct jsonl_val *v, unsigned depth)
{
	struct jsonl_member tmp[JSONL_MAX_MEMBERS];
	unsigned n = 0;
	p->pos++; /* '{' */
	skip_ws(p);
	if (peek(p) == '}') {
		p->pos++;
	} else {
		for (;;) {
			skip_ws(p);
			if (peek(p) != '"')
				return fail(p, "expected a key at byte %zu", p->pos);
			if (n == JSONL_MAX_MEMBERS)
				return fail(p, "more than %u members in an object",
					    JSONL_MAX_MEMBERS);
			const char *key;
			if (parse_string(p, &key))
				return -1;
			for (unsigned i = 0; i < n; i++)
				if (!strcmp(tmp[i].key, key))
					return fail(p, "duplicate key");
			skip_ws(p);
			if (peek(p) != ':')
				return fail(p, "expected ':' at byte %zu", p->pos);
			p->pos++;
			tmp[n].key = key;
			if (parse_value(p, &tmp[n].v, depth + 1))
				return -1;
			n++;
			skip_ws(p);
			int c = peek(p);
			p->pos++;
			if (c == '}')
				break;
			if (c != ',')
				return fail(p, "expected ',' or '}' at byte %zu", p->pos - 1);
		}
	}
	if (JSONL_MAX_NODES - p->d->n_members < n)
		return fail(p, "too many values in the line");
	memcpy(p->d->members + p->d->n_members, tmp, n * sizeof(tmp[0]));
	v->kind = JSONL_OBJ;
	v->first = p->d->n_members;
	v->n = n;
	p->d->n_members += n;
	return 0;
}

static int parse_array(struct parser *p, struct jsonl_val *v, unsigned depth)
{
	struct jsonl_val tmp[JSONL_MAX_ELEMS];
	unsigned n = 0;
	p->pos++; /* '[' */
	skip_ws(p);
	if (peek(p) == ']') {
		p->pos++;
	} else {
		for (;;) {
			if (n == JSONL_MAX_ELEMS)
				return fail(p, "more than %u elements in an array",
					    JSONL_MAX_ELEMS);
			if (parse_value(p, &tmp[n], depth + 1))
				return -1;
			n++;
			skip_ws(p);
			int c = peek(p);
			p->pos++;
			if (c == ']')
				break;
			if (c != ',')
				return fail(p, "expected ',' or ']' at byte %zu", p->pos - 1);
		}
	}
	if (JSONL_MAX_NODES - p->d->n_elems < n)
		return fail(p, "too many values in the line");
	memcpy(p->d->elems + p->d->n_elems, tmp, n * sizeof(tmp[0]));
	v->kind = JSONL_ARR;
	v->first = p->d->n_elems;
	v->n = n;
	p->d->n_elems += n;
	return 0;
}

/* depth: the nesting level a container parsed here would have. */
static int parse_value(struct parser *p, struct jsonl_val *v, unsigned depth)
{
	memset(v, 0, sizeof(*v));
	skip_ws(p);
	int c = peek(p);
	if ((c == '{' || c == '[') && depth > JSONL_MAX_DEPTH)
		return fail(p, "nesting deeper than %u levels", JSONL_MAX_DEPTH);
	switch (c) {
	case '{':
		return parse_object(p, v, depth);
	case '[':
		return parse_array(p, v, depth);
	case '"':
		v->kind = JSONL_STR;
		return parse_string(p, &v->s);
	case 't':
		v->kind = JSONL_BOOL;
		v->b = true;
		return literal(p, "true");
	case 'f':
		v->kind = JSONL_BOOL;
		return literal(p, "false");
	case 'n':
		v->kind = JSONL_NULL;
		return literal(p, "null");
	case -1:
		return fail(p, "unexpected end of line");
	default:
		if (c == '-' || is_digit(c))
			return parse_number(p, v);
		return fail(p, "unexpected character at byte %zu", p->pos);
	}
}

int jsonl_parse(struct jsonl_doc *d, const char *text, size_t len)
{
	struct parser p = { .s = text, .len = len, .d = d };
	d->n_members = d->n_elems = 0;
	d->str_used = 0;
	d->err[0] = 0;
	memset(&d->root, 0, sizeof(d->root));
	if (!text && len)
		return fail(&p, "no input");
	skip_ws(&p);
	if (peek(&p) != '{')
		return fail(&p, "the line is not a JSON object");
	if (parse_value(&p, &d->root, 1))
		return -1;
	skip_ws(&p);
	if (p.pos < p.len)
		return fail(&p, "trailing characters at byte %zu", p.pos);
	return 0;
}

const struct jsonl_val *jsonl_get(const struct jsonl_doc *d, const struct jsonl_val *obj,
				  const char *key)
{
	if (!obj || obj->kind != JSONL_OBJ)
		return NULL;
	for (unsigned i = 0; i < obj->n; i++)
		if (!strcmp(d->members[obj->first + i].key, key))
			return &d->members[obj->first + i].v;
	return NULL;
}

const struct jsonl_val *jsonl_at(const struct jsonl_doc *d, const struct jsonl_val *arr, unsigned i)
{
	if (!arr || arr->kind != JSONL_ARR || i >= arr->n)
		return NULL;
	return &d->elems[arr->first + i];
}

const struct jsonl_member *jsonl_member_at(const struct jsonl_doc *d, const struct jsonl_val *obj,
					   unsigned i)
{
	if (!obj || obj->kind != JSONL_OBJ || i >= obj->n)
		return NULL;
	return &d->members[obj->first + i];
}

bool jsonl_as_u64(const struct jsonl_val *v, uint64_t *out)
{
	if (!v)
		return false;
	if (v->kind == JSONL_NUM) {
		if (!v->is_u64)
			return false;
		*out = v->u;
		return true;
	}
	if (v->kind != JSONL_STR)
		return false;
	const char *s = v->s;
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	uint64_t u = 0;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (u > (UINT64_MAX - d) / base)
			return false;
		u = u * base + d;
	}
	*out = u;
	return true;
}

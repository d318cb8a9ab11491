/*
 * A tolerant C lexer for the DVH scanner (include/hqio/dvh_scan.h). It has to
 * read driver sources as they are: no headers, no configuration, so macros are
 * never expanded. Comments and preprocessor lines vanish; of each #if chain
 * only the first live branch stays, which keeps braces balanced in the usual
 * "#if A { ... #else { ... #endif" code. Malformed or binary input never fails,
 * it just yields odd tokens.
 */
#include "scan_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DVH_PP_DEPTH_MAX 64

struct pp_level {
	bool live; /* tokens of the current branch are kept */
	bool done; /* a branch of this chain was already kept */
};

struct lexer {
	const unsigned char *s;
	size_t n, i;
	uint32_t line;
	struct pp_level pp[DVH_PP_DEPTH_MAX];
	int depth; /* may exceed DVH_PP_DEPTH_MAX: deeper levels are not tracked */
};

static bool is_id0(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

static bool is_id(unsigned char c)
{
	return is_id0(c) || (c >= '0' && c <= '9');
}

static bool live(const struct lexer *L)
{
	int d = L->depth < DVH_PP_DEPTH_MAX ? L->depth : DVH_PP_DEPTH_MAX;
	for (int k = 0; k < d; k++)
		if (!L->pp[k].live)
			return false;
	return true;
}

static int push(struct dvh_toks *t, uint32_t off, uint32_t len, uint32_t line, int kind)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct dvh_tok *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = (struct dvh_tok){ off, len, line, (uint8_t)kind };
	return 0;
}

static void skip_block_comment(struct lexer *L)
{
	L->i += 2;
	while (L->i < L->n) {
		if (L->s[L->i] == '*' && L->i + 1 < L->n && L->s[L->i + 1] == '/') {
			L->i += 2;
			return;
		}
		if (L->s[L->i] == '\n')
			L->line++;
		L->i++;
	}
}

/* The value of an #if expression as far as we care: "0" or "false" means
 * never compiled, anything else is taken. */
static bool pp_if_zero(const unsigned char *p, size_t n)
{
	size_t k = 0;
	while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '('))
		k++;
	if (k < n && p[k] == '0' && (k + 1 >= n || !is_id(p[k + 1])))
		return true;
	return false;
}

static int push_def(struct dvh_toks *t, size_t name, size_t name_len, size_t body, size_t end)
{
	if (t->ndefs == t->capdefs) {
		size_t cap = t->capdefs ? t->capdefs * 2 : 64;
		struct dvh_def *v = realloc(t->defs, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->defs = v;
		t->capdefs = cap;
	}
	t->defs[t->ndefs++] = (struct dvh_def){ (uint32_t)name, (uint32_t)name_len, (uint32_t)body,
						(uint32_t)(end > body ? end - body : 0) };
	return 0;
}

/* Consumes a preprocessor line starting at '#', updating the #if stack and
 * recording #defines. Returns 0 or -ENOMEM. */
static int directive(struct lexer *L, struct dvh_toks *out)
{
	size_t i = L->i + 1;
	while (i < L->n && (L->s[i] == ' ' || L->s[i] == '\t'))
		i++;
	size_t w = i;
	while (i < L->n && is_id(L->s[i]))
		i++;
	size_t wl = i - w;
	const unsigned char *name = L->s + w;
	size_t rest = i;
	/* To the end of the line, honouring continuations and comments. */
	while (i < L->n && L->s[i] != '\n') {
		if (L->s[i] == '\\' && i + 1 < L->n && L->s[i + 1] == '\n') {
			L->line++;
			i += 2;
			continue;
		}
		if (L->s[i] == '\\' && i + 2 < L->n && L->s[i + 1] == '\r' && L->s[i + 2] == '\n') {
			L->line++;
			i += 3;
			continue;
		}
		if (L->s[i] == '/' && i + 1 < L->n && L->s[i + 1] == '*') {
			L->i = i;
			skip_block_comment(L);
			i = L->i;
			continue;
		}
		i++;
	}
	size_t end = i;
	L->i = i;

	bool is_if = (wl == 2 && !memcmp(name, "if", 2)) ||
		     (wl == 5 && !memcmp(name, "ifdef", 5)) ||
		     (wl == 6 && !memcmp(name, "ifndef", 6));
	bool is_elif = (wl == 4 && !memcmp(name, "elif", 4)) ||
		       (wl == 7 && (!memcmp(name, "elifdef", 7))) ||
		       (wl == 8 && !memcmp(name, "elifndef", 8));
	bool is_else = wl == 4 && !memcmp(name, "else", 4);
	bool is_endif = wl == 5 && !memcmp(name, "endif", 5);
	if (is_if) {
		bool zero = wl == 2 && pp_if_zero(L->s + rest, end - rest);
		if (L->depth < DVH_PP_DEPTH_MAX)
			L->pp[L->depth] = (struct pp_level){ !zero, !zero };
		L->depth++;
	} else if ((is_elif || is_else) && L->depth > 0) {
		if (L->depth <= DVH_PP_DEPTH_MAX) {
			struct pp_level *p = &L->pp[L->depth - 1];
			bool zero = is_elif && wl == 4 && pp_if_zero(L->s + rest, end - rest);
			p->live = !p->done && !zero;
			p->done = p->done || p->live;
		}
	} else if (is_endif && L->depth > 0) {
		L->depth--;
	} else if (wl == 6 && !memcmp(name, "define", 6) && live(L)) {
		size_t k = rest;
		while (k < end && (L->s[k] == ' ' || L->s[k] == '\t'))
			k++;
		size_t nm = k;
		while (k < end && is_id(L->s[k]))
			k++;
		size_t nl = k - nm;
		if (k < end && L->s[k] == '(') { /* parameters */
			while (k < end && L->s[k] != ')')
				k++;
			k += k < end;
		}
		if (nl && push_def(out, nm, nl, k, end))
			return -ENOMEM;
	}
	return 0;
}

/* A string or character literal; stops at the closing quote or the end of
 * the line (unterminated literals are common in #if 0 prose). */
static void literal(struct lexer *L, unsigned char q)
{
	L->i++;
	while (L->i < L->n) {
		unsigned char c = L->s[L->i];
		if (c == '\\' && L->i + 1 < L->n) {
			if (L->s[L->i + 1] == '\n')
				L->line++;
			L->i += 2;
			continue;
		}
		if (c == '\n')
			return;
		L->i++;
		if (c == q)
			return;
	}
}

static const char *const punct3[] = { "<<=", ">>=", "...", NULL };
static const char *const punct2[] = {
	"->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
	"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##", NULL
};

static size_t punct_len(const unsigned char *p, size_t avail)
{
	for (int k = 0; punct3[k]; k++)
		if (avail >= 3 && !memcmp(p, punct3[k], 3))
			return 3;
	for (int k = 0; punct2[k]; k++)
		if (avail >= 2 && !memcmp(p, punct2[k], 2))
			return 2;
	return 1;
}

int dvh_lex(const char *buf, size_t len, struct dvh_toks *out)
{
	struct lexer L = { .s = (const unsigned char *)buf, .n = len, .line = 1 };
	bool bol = true; /* only blanks since the start of the line */

	if (L.n > UINT32_MAX)
		L.n = UINT32_MAX;
	while (L.i < L.n) {
		unsigned char c = L.s[L.i];
		size_t start = L.i;
		uint32_t line = L.line;
		int kind;

		if (c == '\n') {
			L.line++;
			L.i++;
			bol = true;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			L.i++;
			continue;
		}
		if (c == '\\' && L.i + 1 < L.n && L.s[L.i + 1] == '\n') {
			L.i += 2;
			L.line++;
			continue;
		}
		if (c == '/' && L.i + 1 < L.n && L.s[L.i + 1] == '*') {
			skip_block_comment(&L);
			continue;
		}
		if (c == '/' && L.i + 1 < L.n && L.s[L.i + 1] == '/') {
			while (L.i < L.n && L.s[L.i] != '\n')
				L.i++;
			continue;
		}
		if (c == '#' && bol) {
			if (directive(&L, out))
				return -ENOMEM;
			continue;
		}
		bol = false;
		if (is_id0(c)) {
			while (L.i < L.n && is_id(L.s[L.i]))
				L.i++;
			kind = DVH_T_IDENT;
		} else if ((c >= '0' && c <= '9') || (c == '.' && L.i + 1 < L.n &&
						      L.s[L.i + 1] >= '0' && L.s[L.i + 1] <= '9')) {
			L.i++;
			while (L.i < L.n) {
				unsigned char d = L.s[L.i];
				if (is_id(d) || d == '.')
					L.i++;
				else if ((d == '+' || d == '-') &&
					 (L.s[L.i - 1] == 'e' || L.s[L.i - 1] == 'E' ||
					  L.s[L.i - 1] == 'p' || L.s[L.i - 1] == 'P'))
					L.i++;
				else
					break;
			}
			kind = DVH_T_NUM;
		} else if (c == '"' || c == '\'') {
			literal(&L, c);
			kind = c == '"' ? DVH_T_STR : DVH_T_CHR;
		} else if (c < 0x20 || c >= 0x7f) {
			L.i++; /* stray byte: not C */
			continue;
		} else {
			L.i += punct_len(L.s + L.i, L.n - L.i);
			kind = DVH_T_PUNCT;
		}
		if (live(&L) && push(out, (uint32_t)start, (uint32_t)(L.i - start), line, kind))
			return -ENOMEM;
	}
	return 0;
}

void dvh_toks_free(struct dvh_toks *t)
{
	free(t->v);
	free(t->defs);
	t->v = NULL;
	t->defs = NULL;
	t->n = t->cap = t->ndefs = t->capdefs = 0;
}

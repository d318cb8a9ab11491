/* Private to lib/dvh/scan*.c: the tolerant C lexer's tokens. */
#ifndef HQIO_DVH_SCAN_INT_H
#define HQIO_DVH_SCAN_INT_H

#include <stddef.h>
#include <stdint.h>

enum dvh_tok_kind { DVH_T_IDENT, DVH_T_NUM, DVH_T_STR, DVH_T_CHR, DVH_T_PUNCT };

struct dvh_tok {
	uint32_t off; /* byte offset in the buffer */
	uint32_t len;
	uint32_t line; /* 1-based */
	uint8_t kind;
};

/* A #define: its name and the raw text of its body (parameters skipped). */
struct dvh_def {
	uint32_t name_off, name_len;
	uint32_t body_off, body_len;
};

struct dvh_toks {
	struct dvh_tok *v;
	size_t n, cap;
	struct dvh_def *defs; /* #defines of live branches */
	size_t ndefs, capdefs;
};

/* Tokenizes buf: drops comments and preprocessor lines (with continuations),
 * keeps only the first live branch of each #if/#elif/#else chain (the #else
 * branch of "#if 0"), tolerates unterminated literals and stray bytes.
 * Returns 0 or -ENOMEM. Buffers over 4 GiB are cut at 4 GiB. */
int dvh_lex(const char *buf, size_t len, struct dvh_toks *out);
void dvh_toks_free(struct dvh_toks *t);

#endif

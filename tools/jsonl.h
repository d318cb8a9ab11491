/*
 * A minimal JSON reader for one line of a JSON-lines batch (RFC 8259
 * grammar), and a compact one-line writer.
 *
 * The reader parses one JSON text whose top level is an object into a
 * fixed-size document: no allocation, every pool bounds-checked, so any
 * input yields either a document or an error message. Limits (model
 * choices, generous for the batch formats they serve): nesting depth
 * JSONL_MAX_DEPTH (the top-level object is depth 1, so "an array of
 * objects of scalars" fits and anything deeper is refused), at most
 * JSONL_MAX_MEMBERS members per object and JSONL_MAX_ELEMS elements per
 * array, JSONL_MAX_NODES values and JSONL_MAX_STR bytes of decoded strings
 * in all. Duplicate keys are refused (RFC 8259 §4 leaves them to the
 * implementation). Strings are decoded (all escapes of §7, \u surrogate
 * pairs to UTF-8); "\u0000" is refused since strings are C strings.
 * Numbers keep the exact unsigned 64-bit value of a non-negative integer
 * literal without fraction or exponent; any other number (negative,
 * fractional, exponent, or above 2^64 - 1) is kept as "not a u64" so a
 * field that wants an integer can say so.
 */
#ifndef HQIO_TOOLS_JSONL_H
#define HQIO_TOOLS_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSONL_MAX_DEPTH	  3
#define JSONL_MAX_MEMBERS 32
#define JSONL_MAX_ELEMS	  64
#define JSONL_MAX_NODES	  512
#define JSONL_MAX_STR	  4096
#define JSONL_MAX_LINE	  (64u << 10) /* the batch reader refuses longer lines */

enum jsonl_kind {
	JSONL_NULL,
	JSONL_BOOL,
	JSONL_NUM,
	JSONL_STR,
	JSONL_ARR,
	JSONL_OBJ,
};

struct jsonl_val {
	enum jsonl_kind kind;
	bool b;		/* JSONL_BOOL */
	bool is_u64;	/* JSONL_NUM: u holds the exact value */
	uint64_t u;	/* JSONL_NUM */
	const char *s;	/* JSONL_STR, NUL-terminated, in the document */
	unsigned first; /* JSONL_ARR: nodes[first..first+n); OBJ: members[...] */
	unsigned n;
};

struct jsonl_member {
	const char *key;
	struct jsonl_val v;
};

struct jsonl_doc {
	struct jsonl_val root; /* a JSONL_OBJ */
	struct jsonl_member members[JSONL_MAX_NODES];
	struct jsonl_val elems[JSONL_MAX_NODES];
	unsigned n_members, n_elems;
	char str[JSONL_MAX_STR];
	size_t str_used;
	char err[96]; /* why parsing failed */
};

/* Parse len bytes (need not be NUL-terminated; a trailing '\n' or "\r\n"
 * is whitespace). 0, or -1 with d->err set. */
int jsonl_parse(struct jsonl_doc *d, const char *text, size_t len);

/* The member key of object obj, or NULL. */
const struct jsonl_val *jsonl_get(const struct jsonl_doc *d, const struct jsonl_val *obj,
				  const char *key);
/* Element i of array arr (i < arr->n). */
const struct jsonl_val *jsonl_at(const struct jsonl_doc *d, const struct jsonl_val *arr,
				 unsigned i);
/* Member i of object obj (i < obj->n). */
const struct jsonl_member *jsonl_member_at(const struct jsonl_doc *d, const struct jsonl_val *obj,
					   unsigned i);
/* A u64 from a number or from a string of decimal or 0x-prefixed hex
 * digits (for MSR values beyond what some JSON tools keep exact). */
bool jsonl_as_u64(const struct jsonl_val *v, uint64_t *out);

#endif

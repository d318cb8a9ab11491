/*
 * Static driver-virtualization-hole (DVH) scanner: finds, in C driver
 * sources as they are (no configured kernel, no generated headers), the
 * places where a bare-metal driver reaches a sensitive device resource or a
 * platform resource behind the monitor's back. Rule ids and definitions:
 * docs/dvh-rules.md; engine and results: docs/dvh.md.
 *
 * Pure: scans an in-memory buffer, allocates with malloc only.
 */
#ifndef HQIO_DVH_SCAN_H
#define HQIO_DVH_SCAN_H

#include <stddef.h>

enum hqio_dvh_rule {
	HQIO_DVH_CFG_MIRROR,
	HQIO_DVH_MSIX_BACKDOOR,
	HQIO_DVH_FUNC_NUMBER,
	HQIO_DVH_BDF_IDENTITY,
	HQIO_DVH_BAR_ADDR_TO_DEVICE,
	HQIO_DVH_FOREIGN_CFG,
	HQIO_DVH_CHIPSET_MMIO,
	HQIO_DVH_RAW_CFG_IO,
	HQIO_DVH_NOSNOOP,
	HQIO_DVH_MEMTYPE,
	HQIO_DVH_RULE_COUNT
};

#define HQIO_DVH_ALL_RULES ((1u << HQIO_DVH_RULE_COUNT) - 1)
#define HQIO_DVH_FUNC_MAX  64
#define HQIO_DVH_EXPR_MAX  96
#define HQIO_DVH_FIELD_MAX 48

struct hqio_dvh_finding {
	enum hqio_dvh_rule rule;
	unsigned line;		      /* 1-based line of the use */
	char func[HQIO_DVH_FUNC_MAX]; /* enclosing function ("" at file scope) */
	char expr[HQIO_DVH_EXPR_MAX]; /* the expression, tokens joined by spaces */
	const char *why;	      /* one line: what happens at this line (static string) */
	unsigned more_uses;	      /* further uses of the same rule in the same function */
};

/*
 * Identity fields: struct members ("bus.func", "hw.lan_id": the last two
 * member names) that some function stores a function number or a BDF part
 * into. A first pass over all files learns them; the second pass treats
 * reads of them as sources (see docs/dvh.md, "two passes").
 */
struct hqio_dvh_field {
	char name[HQIO_DVH_FIELD_MAX];
	unsigned kinds; /* HQIO_DVH_T_* bits; higher bits: private macro classes */
};

#define HQIO_DVH_T_FUNC 1u /* a PCI function number */
#define HQIO_DVH_T_BDF	2u /* bus, slot or full devfn */
#define HQIO_DVH_T_FDEV 8u /* a handle of another PCI device (bridge, sibling) */

struct hqio_dvh_result {
	struct hqio_dvh_finding *v;
	size_t n, cap;
	struct hqio_dvh_field *fields; /* identity fields learned from this buffer */
	size_t nfields, capfields;
	size_t *fidx, fidx_cap; /* private: hash index over fields (1-based) */
	int oom;		/* nonzero: an allocation failed, results are incomplete */
};

struct hqio_dvh_opts {
	unsigned rules;			     /* bit per enum hqio_dvh_rule; 0 means all */
	const struct hqio_dvh_field *fields; /* known identity fields (may be NULL) */
	size_t nfields;
	int learn_only; /* nonzero: only learn identity fields, report nothing */
};

/* Scans len bytes of C source (need not be NUL-terminated, may be binary).
 * Appends findings and learned fields to *out (zero it before first use).
 * Returns 0, or -ENOMEM (out->oom set; what was found so far is kept). */
int hqio_dvh_scan_buffer(const char *buf, size_t len, const struct hqio_dvh_opts *opts,
			 struct hqio_dvh_result *out);
void hqio_dvh_result_free(struct hqio_dvh_result *r);

/* "func-number" etc.; NULL for an out-of-range rule. */
const char *hqio_dvh_rule_name(enum hqio_dvh_rule rule);
/* Rule by id; -1 if unknown. */
int hqio_dvh_rule_parse(const char *name, size_t len);
/* The rule's short meaning (kind and what breaks). */
const char *hqio_dvh_rule_summary(enum hqio_dvh_rule rule);

/* Merge src's fields into dst (deduplicated); -ENOMEM on failure. */
int hqio_dvh_fields_merge(struct hqio_dvh_result *dst, const struct hqio_dvh_field *src, size_t n);

#endif

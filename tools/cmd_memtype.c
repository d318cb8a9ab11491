/*
 * hqio memtype: x86 memory types (lib/memtype) from the command line, for
 * people (effective, table, shadow) and for tools (--batch: JSON lines in,
 * JSON lines out). docs/memtype.md describes the format.
 */
#include "commands.h"
#include "json.h"
#include "jsonl.h"
#include "memtype_cli.h"

#include "hqio/memtype.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: hqio memtype effective MTRR PAT\n"
	"       hqio memtype table\n"
	"       hqio memtype shadow GUEST_MTRR GUEST_PAT HOST_MTRR [HOST_PAT_MSR]\n"
	"       hqio memtype --batch [FILE]\n"
	"\n"
	"x86 memory types (Intel SDM vol. 3 ch. 11; AMD APM vol. 2 §15.25.8).\n"
	"Types are spelled UC, WC, WT, WP, WB, UC- (UC- is a PAT type only).\n"
	"\n"
	"  effective MTRR PAT   the effective type of an access (SDM table 11-7)\n"
	"  table                every MTRR x PAT combination\n"
	"  shadow ...           the host PAT entry a shadow-paging monitor picks so\n"
	"                       the host effective type equals the guest's; the\n"
	"                       host PAT MSR value defaults to the power-on value\n"
	"  --batch [FILE]       JSON lines from FILE (default or '-': stdin), one\n"
	"                       result object per input line (docs/memtype.md)\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 success, 1 a batch line or the operation failed, 2 wrong\n"
	"arguments.\n";

/* ------------------------------------------------------------------ */
/* Batch requests                                                       */
/* ------------------------------------------------------------------ */

struct req {
	const struct jsonl_doc *d;
	const struct jsonl_val *o;
	char err[160];
};

static int bad(struct req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Every member of the request is "op", "id" or one of allowed. */
static int check_keys(struct req *r, const char *const *allowed)
{
	for (unsigned i = 0; i < r->o->n; i++) {
		const char *k = jsonl_member_at(r->d, r->o, i)->key;
		bool ok = !strcmp(k, "op") || !strcmp(k, "id");
		for (const char *const *a = allowed; !ok && *a; a++)
			ok = !strcmp(k, *a);
		if (!ok)
			return bad(r, "unknown field '%.40s'", k);
	}
	return 0;
}

/* A type name. mtrr: the MTRR/EPT encodings only (no UC-). */
static int get_type(struct req *r, const char *key, bool required, enum hqio_memtype def, bool mtrr,
		    enum hqio_memtype *out)
{
	const struct jsonl_val *v = jsonl_get(r->d, r->o, key);
	if (!v) {
		if (required)
			return bad(r, "missing field '%s'", key);
		*out = def;
		return 0;
	}
	if (v->kind != JSONL_STR)
		return bad(r, "'%s' must be a type name string", key);
	if (hqio_memtype_parse(v->s, out))
		return bad(r, "'%s': unknown memory type '%.20s'", key, v->s);
	if (mtrr && !hqio_memtype_valid_mtrr((unsigned)*out))
		return bad(r, "'%s': %s is not an MTRR type", key, hqio_memtype_name(*out));
	return 0;
}

static int get_bool(struct req *r, const char *key, bool def, bool *out)
{
	const struct jsonl_val *v = jsonl_get(r->d, r->o, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (v->kind == JSONL_BOOL) {
		*out = v->b;
		return 0;
	}
	if (v->kind == JSONL_NUM && v->is_u64 && v->u <= 1) {
		*out = v->u == 1;
		return 0;
	}
	return bad(r, "'%s' must be true, false, 0 or 1", key);
}

static int val_u64(struct req *r, const char *what, const struct jsonl_val *v, uint64_t *out)
{
	if (!jsonl_as_u64(v, out))
		return bad(r, "'%s' must be an integer 0..2^64-1 (a number or a \"0x...\" string)",
			   what);
	return 0;
}

static int get_u64(struct req *r, const char *key, bool required, uint64_t def, uint64_t *out)
{
	const struct jsonl_val *v = jsonl_get(r->d, r->o, key);
	if (!v) {
		if (required)
			return bad(r, "missing field '%s'", key);
		*out = def;
		return 0;
	}
	return val_u64(r, key, v, out);
}

/* A PAT MSR value: an array of 8 type names (PA0 first) or the raw value. */
static int get_pat(struct req *r, const char *key, uint64_t def, uint64_t *out)
{
	const struct jsonl_val *v = jsonl_get(r->d, r->o, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (v->kind == JSONL_ARR) {
		enum hqio_memtype t[8];
		if (v->n != 8)
			return bad(r, "'%s' must list 8 types (PA0..PA7), got %u", key, v->n);
		for (unsigned i = 0; i < 8; i++) {
			const struct jsonl_val *e = jsonl_at(r->d, v, i);
			if (e->kind != JSONL_STR || hqio_memtype_parse(e->s, &t[i]))
				return bad(r, "'%s'[%u]: not a memory type name", key, i);
		}
		if (hqio_pat_from_types(t, out))
			return bad(r, "'%s': invalid PAT types", key);
		return 0;
	}
	if (val_u64(r, key, v, out))
		return -1;
	if (hqio_pat_check(*out))
		return bad(r, "'%s': 0x%" PRIx64 " is not a valid IA32_PAT value", key, *out);
	return 0;
}

static int get_page_size(struct req *r, enum hqio_page_size *out)
{
	uint64_t sz;
	if (get_u64(r, "page_size", false, 4096, &sz))
		return -1;
	switch (sz) {
	case 4096:
		*out = HQIO_PAGE_4K;
		return 0;
	case 2097152:
		*out = HQIO_PAGE_2M;
		return 0;
	case 1073741824:
		*out = HQIO_PAGE_1G;
		return 0;
	}
	return bad(r, "'page_size' must be 4096, 2097152 or 1073741824");
}

/* The output line: started by each op after its inputs were accepted. */
static void out_begin(struct json *w, FILE *out, struct req *r, const char *op)
{
	json_init_line(w, out);
	json_obj(w, NULL);
	const struct jsonl_val *id = jsonl_get(r->d, r->o, "id");
	if (id && id->kind == JSONL_STR)
		json_str(w, "id", id->s);
	else if (id && id->kind == JSONL_NUM)
		json_u64(w, "id", id->u);
	json_str(w, "op", op);
}

static int op_effective(struct req *r, FILE *out)
{
	static const char *const keys[] = { "mtrr", "pat", NULL };
	enum hqio_memtype mtrr, pat, t;
	if (check_keys(r, keys) || get_type(r, "mtrr", true, 0, true, &mtrr) ||
	    get_type(r, "pat", true, 0, false, &pat))
		return -1;
	if (hqio_memtype_effective(mtrr, pat, &t))
		return bad(r, "effective: invalid types");
	struct json w;
	out_begin(&w, out, r, "effective");
	json_str(&w, "type", hqio_memtype_name(t));
	json_obj_end(&w);
	json_end(&w);
	return 0;
}

static void write_pte(struct json *w, const char *key, uint64_t bits, enum hqio_page_size ps)
{
	json_obj(w, key);
	json_bool(w, "pat", bits & (ps == HQIO_PAGE_4K ? HQIO_PTE_PAT_4K : HQIO_PTE_PAT_LARGE));
	json_bool(w, "pcd", bits & HQIO_PTE_PCD);
	json_bool(w, "pwt", bits & HQIO_PTE_PWT);
	json_hex(w, "bits", bits, 1);
	json_obj_end(w);
}

static int op_shadow(struct req *r, FILE *out)
{
	static const char *const keys[] = { "guest_mtrr", "guest_pat", "host_mtrr", "host_pat",
					    "page_size",  "guest_cd",  NULL };
	struct hqio_shadow_input in;
	struct hqio_shadow_result res;
	hqio_shadow_input_init(&in);
	if (check_keys(r, keys) || get_type(r, "guest_mtrr", true, 0, true, &in.guest_mtrr) ||
	    get_type(r, "guest_pat", true, 0, false, &in.guest_pat) ||
	    get_type(r, "host_mtrr", true, 0, true, &in.host_mtrr) ||
	    get_pat(r, "host_pat", HQIO_PAT_POWER_ON, &in.host_pat) ||
	    get_page_size(r, &in.page_size) || get_bool(r, "guest_cd", false, &in.guest_cd))
		return -1;
	if (hqio_shadow_propagate(&in, &res))
		return bad(r, "shadow: invalid input");
	struct json w;
	out_begin(&w, out, r, "shadow");
	json_str(&w, "guest_effective", hqio_memtype_name(res.guest_effective));
	json_u64(&w, "pat_index", res.pat_index);
	json_str(&w, "host_pat_type", hqio_memtype_name(res.host_pat_type));
	write_pte(&w, "pte", res.pte_bits, in.page_size);
	json_str(&w, "host_effective", hqio_memtype_name(res.host_effective));
	json_bool(&w, "exact", res.exact);
	json_hex(&w, "host_pat", in.host_pat, 1);
	json_str(&w, "reason", res.reason);
	json_obj_end(&w);
	json_end(&w);
	return 0;
}

static int op_pat_index(struct req *r, FILE *out)
{
	static const char *const keys[] = { "pat", "pcd", "pwt", "pat_msr", NULL };
	bool pat, pcd, pwt;
	uint64_t msr;
	if (check_keys(r, keys))
		return -1;
	if (!jsonl_get(r->d, r->o, "pat") || !jsonl_get(r->d, r->o, "pcd") ||
	    !jsonl_get(r->d, r->o, "pwt"))
		return bad(r, "pat_index needs 'pat', 'pcd' and 'pwt'");
	if (get_bool(r, "pat", false, &pat) || get_bool(r, "pcd", false, &pcd) ||
	    get_bool(r, "pwt", false, &pwt) || get_pat(r, "pat_msr", HQIO_PAT_POWER_ON, &msr))
		return -1;
	unsigned idx = hqio_pat_index(pat, pcd, pwt);
	struct json w;
	out_begin(&w, out, r, "pat_index");
	json_u64(&w, "index", idx);
	json_str(&w, "type", hqio_memtype_name(HQIO_PAT_ENTRY(msr, idx)));
	json_hex(&w, "pat_msr", msr, 1);
	json_obj_end(&w);
	json_end(&w);
	return 0;
}

static const char *source_name(enum hqio_mtrr_source s)
{
	switch (s) {
	case HQIO_MTRR_SRC_DISABLED:
		return "disabled";
	case HQIO_MTRR_SRC_FIXED:
		return "fixed";
	case HQIO_MTRR_SRC_VARIABLE:
		return "variable";
	case HQIO_MTRR_SRC_DEFAULT:
		return "default";
	}
	return "?";
}

static int op_mtrr_lookup(struct req *r, FILE *out)
{
	static const char *const keys[] = { "def_type", "fixed", "var",	  "phys_bits",
					    "addr",	"len",	 "undef", NULL };
	struct hqio_mtrr_state s;
	uint64_t def, pb, addr, len;
	if (check_keys(r, keys) || get_u64(r, "def_type", true, 0, &def) ||
	    get_u64(r, "phys_bits", false, 36, &pb) || get_u64(r, "addr", true, 0, &addr) ||
	    get_u64(r, "len", false, 1, &len))
		return -1;
	if (pb < 36 || pb > 52)
		return bad(r, "'phys_bits' must be 36..52");
	const struct jsonl_val *fixed = jsonl_get(r->d, r->o, "fixed");
	const struct jsonl_val *var = jsonl_get(r->d, r->o, "var");
	if (fixed && (fixed->kind != JSONL_ARR || fixed->n != HQIO_MTRR_NFIXED))
		return bad(r, "'fixed' must be an array of %u MSR values", HQIO_MTRR_NFIXED);
	if (var && (var->kind != JSONL_ARR || var->n > HQIO_MTRR_MAX_VAR))
		return bad(r, "'var' must be an array of at most %u {base, mask} objects",
			   HQIO_MTRR_MAX_VAR);
	hqio_mtrr_init(&s, var ? var->n : 0, (unsigned)pb);
	s.def_type = def;
	for (unsigned i = 0; fixed && i < fixed->n; i++)
		if (val_u64(r, "fixed[]", jsonl_at(r->d, fixed, i), &s.fixed[i]))
			return -1;
	for (unsigned i = 0; var && i < var->n; i++) {
		const struct jsonl_val *e = jsonl_at(r->d, var, i);
		const struct jsonl_val *b = jsonl_get(r->d, e, "base");
		const struct jsonl_val *m = jsonl_get(r->d, e, "mask");
		if (e->kind != JSONL_OBJ || !b || !m || e->n != 2)
			return bad(r, "'var'[%u] must be an object {\"base\": ..., \"mask\": ...}",
				   i);
		if (val_u64(r, "var[].base", b, &s.var[i].base) ||
		    val_u64(r, "var[].mask", m, &s.var[i].mask))
			return -1;
	}
	const struct jsonl_val *u = jsonl_get(r->d, r->o, "undef");
	if (u) {
		if (u->kind == JSONL_STR && !strcmp(u->s, "UC"))
			s.undef = HQIO_MTRR_UNDEF_UC;
		else if (u->kind == JSONL_STR && !strcmp(u->s, "WB"))
			s.undef = HQIO_MTRR_UNDEF_WB;
		else if (u->kind == JSONL_STR && !strcmp(u->s, "last"))
			s.undef = HQIO_MTRR_UNDEF_LAST;
		else
			return bad(
				r,
				"'undef' must be \"UC\" (Linux), \"WB\" (KVM) or \"last\" (Xen)");
	}
	struct hqio_mtrr_lookup lk;
	int rc = hqio_mtrr_lookup(&s, addr, len, &lk);
	if (rc)
		return bad(r, "mtrr_lookup: the range wraps past 2^64 or an MSR used holds a "
			      "reserved type");
	struct json w;
	out_begin(&w, out, r, "mtrr_lookup");
	json_str(&w, "type", hqio_memtype_name(lk.type));
	json_bool(&w, "uniform", lk.uniform);
	json_u64(&w, "run_len", lk.run_len);
	json_str(&w, "source", source_name(lk.source));
	json_bool(&w, "undefined_overlap", lk.undefined_overlap);
	json_obj_end(&w);
	json_end(&w);
	return 0;
}

static void write_vm_result(struct json *w, const struct hqio_vm_memtype_result *res, bool npt)
{
	json_str(w, "guest_intended", hqio_memtype_name(res->guest_intended));
	json_str(w, npt ? "nested_pat_type" : "ept_type", hqio_memtype_name(res->ept_type));
	if (!npt)
		json_bool(w, "ipat", res->ipat);
	json_str(w, "type", hqio_memtype_name(res->device_type));
	json_bool(w, "matches_guest_intent", res->matches_guest_intent);
	json_bool(w, "coherent", res->coherent);
	json_str(w, "reason", res->reason);
}

/* ept: the architecture when "ept_type" is given (with "ipat" and
 * "guest_pat"), else KVM 6.1's VMX policy. */
static int op_ept(struct req *r, FILE *out)
{
	struct json w;
	if (jsonl_get(r->d, r->o, "ept_type")) {
		static const char *const keys[] = { "ept_type", "ipat", "guest_pat", NULL };
		enum hqio_memtype et, gp, t;
		bool ipat;
		if (check_keys(r, keys) || get_type(r, "ept_type", true, 0, true, &et) ||
		    get_bool(r, "ipat", false, &ipat) ||
		    get_type(r, "guest_pat", true, 0, false, &gp))
			return -1;
		if (hqio_ept_effective(et, ipat, gp, &t))
			return bad(r, "ept: invalid types");
		out_begin(&w, out, r, "ept");
		json_str(&w, "type", hqio_memtype_name(t));
		json_obj_end(&w);
		json_end(&w);
		return 0;
	}
	static const char *const keys[] = { "guest_mtrr", "guest_pat",
					    "is_mmio",	  "noncoherent_dma",
					    "guest_cd",	  "quirk_cd_nw_cleared",
					    NULL };
	struct hqio_ept_input in;
	struct hqio_vm_memtype_result res;
	hqio_ept_input_init(&in);
	if (check_keys(r, keys) ||
	    get_type(r, "guest_mtrr", false, in.guest_mtrr, true, &in.guest_mtrr) ||
	    get_type(r, "guest_pat", true, 0, false, &in.guest_pat) ||
	    get_bool(r, "is_mmio", in.is_mmio, &in.is_mmio) ||
	    get_bool(r, "noncoherent_dma", in.noncoherent_dma, &in.noncoherent_dma) ||
	    get_bool(r, "guest_cd", in.guest_cd, &in.guest_cd) ||
	    get_bool(r, "quirk_cd_nw_cleared", in.quirk_cd_nw_cleared, &in.quirk_cd_nw_cleared))
		return -1;
	if (hqio_ept_kvm61(&in, &res))
		return bad(r, "ept: invalid input");
	out_begin(&w, out, r, "ept");
	write_vm_result(&w, &res, false);
	json_obj_end(&w);
	json_end(&w);
	return 0;
}

/* npt: the architecture when "nested_pat" is given (with "guest_pat" and
 * "host_mtrr"), else KVM 6.1's SVM policy. */
static int op_npt(struct req *r, FILE *out)
{
	struct json w;
	if (jsonl_get(r->d, r->o, "nested_pat")) {
		static const char *const keys[] = { "nested_pat", "guest_pat", "host_mtrr", NULL };
		enum hqio_memtype np, gp, hm, t;
		if (check_keys(r, keys) || get_type(r, "nested_pat", true, 0, false, &np) ||
		    get_type(r, "guest_pat", true, 0, false, &gp) ||
		    get_type(r, "host_mtrr", false, HQIO_MT_WB, true, &hm))
			return -1;
		if (hqio_npt_effective(gp, np, hm, &t))
			return bad(r, "npt: invalid types");
		out_begin(&w, out, r, "npt");
		json_str(&w, "type", hqio_memtype_name(t));
		json_obj_end(&w);
		json_end(&w);
		return 0;
	}
	static const char *const keys[] = { "guest_mtrr", "guest_pat",	      "host_mtrr",
					    "host_pat",	  "nested_pat_index", "noncoherent_dma",
					    "is_mmio",	  "guest_cd",	      "quirk_cd_nw_cleared",
					    NULL };
	struct hqio_npt_input in;
	struct hqio_vm_memtype_result res;
	uint64_t idx;
	hqio_npt_input_init(&in);
	if (check_keys(r, keys) ||
	    get_type(r, "guest_mtrr", false, in.guest_mtrr, true, &in.guest_mtrr) ||
	    get_type(r, "guest_pat", true, 0, false, &in.guest_pat) ||
	    get_type(r, "host_mtrr", false, in.host_mtrr, true, &in.host_mtrr) ||
	    get_pat(r, "host_pat", in.host_pat, &in.host_pat) ||
	    get_u64(r, "nested_pat_index", false, in.nested_pat_index, &idx) ||
	    get_bool(r, "is_mmio", in.is_mmio, &in.is_mmio) ||
	    get_bool(r, "noncoherent_dma", in.noncoherent_dma, &in.noncoherent_dma) ||
	    get_bool(r, "guest_cd", in.guest_cd, &in.guest_cd) ||
	    get_bool(r, "quirk_cd_nw_cleared", in.quirk_cd_nw_cleared, &in.quirk_cd_nw_cleared))
		return -1;
	if (idx > 7)
		return bad(r, "'nested_pat_index' must be 0..7");
	in.nested_pat_index = (unsigned)idx;
	if (hqio_npt_kvm61(&in, &res))
		return bad(r, "npt: invalid input");
	out_begin(&w, out, r, "npt");
	write_vm_result(&w, &res, true);
	json_obj_end(&w);
	json_end(&w);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct req *r, FILE *out);
} ops[] = {
	{ "effective", op_effective },	   { "shadow", op_shadow }, { "pat_index", op_pat_index },
	{ "mtrr_lookup", op_mtrr_lookup }, { "ept", op_ept },	    { "npt", op_npt },
};

int memtype_jsonl_line(const char *line, size_t len, FILE *out)
{
	/* The document is large (fixed pools): static would be a writable
	 * global shared by callers; the heap keeps this reentrant. */
	struct jsonl_doc *d = malloc(sizeof(*d));
	struct req r = { .d = d };
	const struct jsonl_val *op, *id = NULL;
	int rc = -1;
	if (!d) {
		snprintf(r.err, sizeof(r.err), "out of memory");
		goto out;
	}
	if (jsonl_parse(d, line, len)) {
		snprintf(r.err, sizeof(r.err), "invalid JSON: %s", d->err);
		goto out;
	}
	r.o = &d->root;
	op = jsonl_get(d, r.o, "op");
	id = jsonl_get(d, r.o, "id");
	if (id && id->kind != JSONL_STR && !(id->kind == JSONL_NUM && id->is_u64)) {
		snprintf(r.err, sizeof(r.err), "'id' must be a string or an unsigned integer");
		id = NULL;
		goto out;
	}
	if (!op || op->kind != JSONL_STR) {
		snprintf(r.err, sizeof(r.err), "missing field 'op' (a string)");
		goto out;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strcmp(op->s, ops[i].name)) {
			rc = ops[i].fn(&r, out);
			goto out;
		}
	}
	snprintf(r.err, sizeof(r.err), "unknown op '%.40s'", op->s);
out:
	if (rc) {
		struct json w;
		json_init_line(&w, out);
		json_obj(&w, NULL);
		if (id && id->kind == JSONL_STR)
			json_str(&w, "id", id->s);
		else if (id && id->kind == JSONL_NUM)
			json_u64(&w, "id", id->u);
		json_str(&w, "error", r.err);
		json_obj_end(&w);
		json_end(&w);
	}
	free(d);
	return rc ? 1 : 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static int batch(const char *path)
{
	FILE *in = !path || !strcmp(path, "-") ? stdin : fopen(path, "rb");
	if (!in) {
		fprintf(stderr, "hqio memtype: %s: %s\n", path, strerror(errno));
		return HQIO_EXIT_FAIL;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool failed = false;
	while ((n = getline(&line, &cap, in)) >= 0) {
		if (blank(line, (size_t)n))
			continue;
		if ((size_t)n > JSONL_MAX_LINE) {
			printf("{\"error\":\"line longer than %u bytes\"}\n", JSONL_MAX_LINE);
			failed = true;
		} else if (memtype_jsonl_line(line, (size_t)n, stdout)) {
			failed = true;
		}
		fflush(stdout);
	}
	bool rd_err = ferror(in);
	free(line);
	if (in != stdin)
		fclose(in);
	if (rd_err) {
		fprintf(stderr, "hqio memtype: read error\n");
		return HQIO_EXIT_FAIL;
	}
	return failed ? HQIO_EXIT_FAIL : HQIO_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Human mode                                                           */
/* ------------------------------------------------------------------ */

static int parse_type_arg(const char *s, bool mtrr, enum hqio_memtype *t)
{
	if (hqio_memtype_parse(s, t)) {
		fprintf(stderr, "hqio memtype: unknown memory type '%s' (UC WC WT WP WB UC-)\n", s);
		return -1;
	}
	if (mtrr && !hqio_memtype_valid_mtrr((unsigned)*t)) {
		fprintf(stderr, "hqio memtype: %s is not an MTRR type\n", hqio_memtype_name(*t));
		return -1;
	}
	return 0;
}

static int table(void)
{
	printf("Effective memory type, MTRR type (rows) x PAT type (columns)\n"
	       "(Intel SDM vol. 3 §11.5.2.2, table 11-7)\n\n%-6s",
	       "MTRR");
	for (unsigned j = 0; j < HQIO_MT_COUNT; j++)
		printf(" %-4s", hqio_memtype_name(hqio_memtype_by_index(j)));
	printf("\n");
	for (unsigned i = 0; i < HQIO_MT_COUNT; i++) {
		enum hqio_memtype m = hqio_memtype_by_index(i);
		if (!hqio_memtype_valid_mtrr((unsigned)m))
			continue;
		printf("%-6s", hqio_memtype_name(m));
		for (unsigned j = 0; j < HQIO_MT_COUNT; j++) {
			enum hqio_memtype t;
			if (hqio_memtype_effective(m, hqio_memtype_by_index(j), &t))
				printf(" %-4s", "?");
			else
				printf(" %-4s", hqio_memtype_name(t));
		}
		printf("\n");
	}
	return HQIO_EXIT_OK;
}

static int shadow_human(int argc, char **argv)
{
	struct hqio_shadow_input in;
	struct hqio_shadow_result res;
	hqio_shadow_input_init(&in);
	if (parse_type_arg(argv[0], true, &in.guest_mtrr) ||
	    parse_type_arg(argv[1], false, &in.guest_pat) ||
	    parse_type_arg(argv[2], true, &in.host_mtrr))
		return HQIO_EXIT_USAGE;
	if (argc > 3) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(argv[3], &end, 0);
		if (errno || *end || end == argv[3] || hqio_pat_check(v)) {
			fprintf(stderr, "hqio memtype: '%s' is not a valid IA32_PAT value\n",
				argv[3]);
			return HQIO_EXIT_USAGE;
		}
		in.host_pat = v;
	}
	if (hqio_shadow_propagate(&in, &res)) {
		fprintf(stderr, "hqio memtype: shadow: invalid input\n");
		return HQIO_EXIT_FAIL;
	}
	printf("guest effective  %s\n", hqio_memtype_name(res.guest_effective));
	printf("host PAT         0x%016" PRIx64 "\n", in.host_pat);
	printf("host PAT entry   %u (%s)\n", res.pat_index, hqio_memtype_name(res.host_pat_type));
	printf("4 KiB PTE bits   0x%" PRIx64 "\n", res.pte_bits_4k);
	printf("2M/1G PTE bits   0x%" PRIx64 "\n", res.pte_bits_large);
	printf("host effective   %s (%s)\n", hqio_memtype_name(res.host_effective),
	       res.exact ? "exact" : "NOT exact");
	printf("%s\n", res.reason);
	return res.exact ? HQIO_EXIT_OK : HQIO_EXIT_FAIL;
}

int cmd_memtype(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return HQIO_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
		fputs(usage_text, stdout);
		return HQIO_EXIT_OK;
	}
	if (!strcmp(sub, "--batch")) {
		if (argc > 3) {
			fputs(usage_text, stderr);
			return HQIO_EXIT_USAGE;
		}
		return batch(argc == 3 ? argv[2] : NULL);
	}
	if (!strcmp(sub, "table") && argc == 2)
		return table();
	if (!strcmp(sub, "effective") && argc == 4) {
		enum hqio_memtype m, p, t;
		if (parse_type_arg(argv[2], true, &m) || parse_type_arg(argv[3], false, &p))
			return HQIO_EXIT_USAGE;
		if (hqio_memtype_effective(m, p, &t))
			return HQIO_EXIT_FAIL;
		printf("%s\n", hqio_memtype_name(t));
		return HQIO_EXIT_OK;
	}
	if (!strcmp(sub, "shadow") && (argc == 5 || argc == 6))
		return shadow_human(argc - 2, argv + 2);
	fprintf(stderr, "hqio memtype: bad arguments\n");
	fputs(usage_text, stderr);
	return HQIO_EXIT_USAGE;
}

/*
 * The DVH scanner's rules (docs/dvh-rules.md) over the tokens of one buffer.
 *
 * Top-level braces preceded by "name(...)" are functions; inside each, the
 * body is cut into statements at ';', '{' and '}' outside parentheses. A
 * small intra-procedural taint analysis follows values: sources (the PCI
 * function number, bus/slot/devfn, BAR addresses, handles of other devices,
 * values read from another device's config space) taint the variable or
 * struct member they are assigned to; sinks are register writes, array
 * indexes, stores into struct members, call arguments, branch conditions and
 * return values. Arguments of log calls are mentions, never uses. Struct
 * members that receive a function number or BDF are learned ("identity
 * fields") and count as sources wherever they are read.
 *
 * One finding per (function, rule): the first use, with the number of further
 * uses in the explanation. That is the granularity of the evaluation labels.
 */
#include "hqio/dvh_scan.h"
#include "scan_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Taint kinds beyond the public HQIO_DVH_T_FUNC/BDF. */
#define T_FUNC HQIO_DVH_T_FUNC
#define T_BDF  HQIO_DVH_T_BDF
#define T_BAR  4u /* a BAR's bus/physical address */
#define T_FDEV HQIO_DVH_T_FDEV
#define T_FVAL 16u /* a value read from another device's config space */
/* A physical address that is not one of the device's BARs: the platform ROM
 * shadow (pdev->rom, pci_platform_rom()) or a value read from a
 * vendor-specific config register (e.g. Intel ASLS, the ACPI OpRegion). */
#define T_PHYS 32u

#define M_CFG		   256u /* a macro naming a config-space mirror register */
#define M_CHIP		   512u /* a macro naming a chipset (MCHBAR) mirror register */
#define VARS_MAX	   64	/* tainted variables tracked per function */
#define DVH_EVAL_DEPTH_MAX 64	/* nested calls/indexes analysed */
#define ORIGIN_MAX	   80

static const struct {
	const char *id;
	const char *summary;
} rule_tab[HQIO_DVH_RULE_COUNT] = {
	[HQIO_DVH_CFG_MIRROR] = { "cfg-mirror", "config space or BAR base through a BAR mirror" },
	[HQIO_DVH_MSIX_BACKDOOR] = { "msix-backdoor", "MSI/MSI-X programmed behind the PCI core" },
	[HQIO_DVH_FUNC_NUMBER] = { "func-number", "PCI function number used as identity" },
	[HQIO_DVH_BDF_IDENTITY] = { "bdf-identity", "bus/slot/devfn used as identity" },
	[HQIO_DVH_BAR_ADDR_TO_DEVICE] = { "bar-addr-to-device", "BAR address written to device" },
	[HQIO_DVH_FOREIGN_CFG] = { "foreign-cfg", "config space of another device" },
	[HQIO_DVH_CHIPSET_MMIO] = { "chipset-mmio", "chipset MMIO or fixed physical address" },
	[HQIO_DVH_RAW_CFG_IO] = { "raw-cfg-io", "0xCF8/0xCFC configuration mechanism" },
	[HQIO_DVH_NOSNOOP] = { "nosnoop", "No-Snoop / snoop control changed" },
	[HQIO_DVH_MEMTYPE] = { "memtype", "memory type of shared RAM or MTRRs changed" },
};

const char *hqio_dvh_rule_name(enum hqio_dvh_rule rule)
{
	return (unsigned)rule < HQIO_DVH_RULE_COUNT ? rule_tab[rule].id : NULL;
}

const char *hqio_dvh_rule_summary(enum hqio_dvh_rule rule)
{
	return (unsigned)rule < HQIO_DVH_RULE_COUNT ? rule_tab[rule].summary : NULL;
}

int hqio_dvh_rule_parse(const char *name, size_t len)
{
	for (int r = 0; r < HQIO_DVH_RULE_COUNT; r++)
		if (strlen(rule_tab[r].id) == len && !memcmp(rule_tab[r].id, name, len))
			return r;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Name tables                                                          */
/* ------------------------------------------------------------------ */

/* Log/format calls: their arguments are mentions. Matched as prefixes of
 * the callee; and any callee containing one of mention_parts. */
static const char *const mention_prefix[] = { "printk",	    "pr_",	  "dev_err",
					      "dev_warn",   "dev_info",	  "dev_dbg",
					      "dev_notice", "dev_crit",	  "dev_alert",
					      "dev_emerg",  "dev_printk", "dev_name",
					      "pci_err",    "pci_warn",	  "pci_info",
					      "pci_dbg",    "pci_notice", "pci_printk",
					      "pci_name",   "netdev_",	  "netif_",
					      "drm_",	    "DRM_",	  "seq_printf",
					      "seq_puts",   "snprintf",	  "scnprintf",
					      "sprintf",    "kasprintf",  "devm_kasprintf",
					      "WARN",	    "BUG",	  "trace_",
					      "e_",	    "hw_dbg",	  "hw_err",
					      "DP",	    "BNX2X_",	  "nvkm_debug",
					      "nvkm_error", "nvkm_warn",  "nvkm_info",
					      "nvkm_trace", "nvkm_spam",  "NV_",
					      "codec_",	    "snd_printd", "snd_printk",
					      "sysfs_emit", "kobject_",	  "ata_dev_",
					      "ata_port_",  "ata_link_",  "xhci_dbg",
					      "xhci_err",   "xhci_warn",  "xhci_info",
					      "GEM_",	    "gt_",	  "guc_",
					      "huc_",	    "gvt_",	  "i915_probe_error",
					      NULL };
static const char *const mention_parts[] = { "printk", "printf", "_dbg", "_DBG", "debug", "DEBUG",
					     "_log",   "_LOG",	 "_msg", "_MSG", NULL };

/* Calls whose arguments are register writes (components of the callee name
 * split at '_', compared case-insensitively; or "write" anywhere). */
static const char *const write_parts[] = {
	"wr",	"wr08",	    "w08",	 "wr8",	      "wr16",	   "wr32",   "wr64", "w8",
	"w16",	"w32",	    "wreg",	 "wreg8",     "wreg16",	   "wreg32", "ew16", "ew32",
	"tw8",	"tw16",	    "tw32",	 "rmw",	      "mask",	   "wphy",   "outb", "outw",
	"outl", "iowrite8", "iowrite16", "iowrite32", "iowrite64", "update", NULL
};

/* Calls returning a handle of another PCI device. */
static const char *const foreign_lookup[] = { "pci_get_device",
					      "pci_get_subsys",
					      "pci_get_slot",
					      "pci_get_domain_bus_and_slot",
					      "pci_get_bus_and_slot",
					      "pci_get_class",
					      "pci_upstream_bridge",
					      "pci_find_parent_resource",
					      NULL };

/* Config accessors: with another device's handle, a foreign-cfg hole. */
static const char *const cfg_access_prefix[] = { "pci_read_config_",	    "pci_write_config_",
						 "pcie_capability_",	    "pci_find_capability",
						 "pci_find_ext_capability", "pci_bus_read_config_",
						 "pci_bus_write_config_",   NULL };

/* Mapping calls: with a fixed or chipset-derived address, chipset-mmio. */
static const char *const map_calls[] = { "ioremap",	    "ioremap_wc",	  "ioremap_uc",
					 "ioremap_nocache", "ioremap_cache",	  "devm_ioremap",
					 "devm_ioremap_wc", "memremap",		  "devm_memremap",
					 "phys_to_virt",    "acpi_os_map_memory", NULL };

/* Memory-type changes (docs/dvh-rules.md, memtype): x86 set_memory API,
 * page-table protections and MTRR programming. */
static const char *const memtype_calls[] = { "set_memory_wc",
					     "set_memory_uc",
					     "set_memory_wt",
					     "set_memory_array_wc",
					     "set_memory_array_uc",
					     "set_memory_array_wt",
					     "set_pages_wc",
					     "set_pages_uc",
					     "set_pages_array_wc",
					     "set_pages_array_uc",
					     "set_pages_array_wt",
					     "pgprot_writecombine",
					     "pgprot_noncached",
					     "arch_phys_wc_add",
					     "mtrr_add",
					     "mtrr_del",
					     "arch_phys_wc_del",
					     "set_memory_wb",
					     "set_memory_array_wb",
					     "set_pages_wb",
					     "set_pages_array_wb",
					     "dma_alloc_wc",
					     "dma_mmap_wc",
					     NULL };

/* Caching choices for RAM buffers shared with the device: TTM page caching
 * (ttm_caching.h), ALSA write-combined/uncached DMA buffers (sound/memalloc.h),
 * DMA API write-combine attribute. */
static const char *const memtype_ids[] = {
	"ttm_write_combined", "ttm_uncached", "SNDRV_DMA_TYPE_DEV_WC", "SNDRV_DMA_TYPE_DEV_WC_SG",
	"SNDRV_DMA_TYPE_DEV_UC", "SNDRV_DMA_TYPE_DEV_UC_SG", "DMA_ATTR_WRITE_COMBINE",
	/* GEM buffer flags choosing uncached/USWC GTT (RAM)
	 * pages: amdgpu_drm.h, radeon_drm.h */
	"AMDGPU_GEM_CREATE_CPU_GTT_USWC", "RADEON_GEM_GTT_WC", "RADEON_GEM_GTT_UC", NULL
};

/* Value-preserving helpers: a BAR address passed through them is still the
 * address (linux/kernel.h lower/upper 32-bit halves, byte-order conversions,
 * linux/minmax.h, linux/math.h rounding). */
static const char *const value_helpers[] = { "lower_32_bits", "upper_32_bits", "cpu_to_le32",
					     "cpu_to_le64",   "cpu_to_be32",   "cpu_to_be64",
					     "le32_to_cpu",   "le64_to_cpu",   "min",
					     "min_t",	      "max",	       "max_t",
					     "round_down",    "round_up",      NULL };

/* Register names known to be back doors into configuration space or BAR
 * bases (case-sensitive substrings of an identifier). Sources: the drivers'
 * own register headers: Broadcom bnx2x PCICFG_OFFSET (GRC window onto the PCI
 * config space, bnx2x_reg.h), ATI/AMD CONFIG_APER_SIZE / CONFIG_APER_0_BASE
 * (MMIO copies of the aperture BAR, radeon_reg.h), Intel MCHBAR_MIRROR (MMIO
 * mirror of the host bridge's MCHBAR, i915_reg.h). */
/* Chipset MMIO reached through a device BAR: Intel GPUs mirror the host
 * bridge's MCHBAR at BAR0 + 0x140000 (MCHBAR_MIRROR_BASE_SNB, i915_reg.h). */
static const char *const chip_ids[] = { "MCHBAR_MIRROR", NULL };

static const char *const mirror_ids[] = { "PCICFG_OFFSET",	  "CONFIG_APER_SIZE",
					  "CONFIG_APER_0_BASE",	  "CONFIG_APER_1_BASE",
					  "CONFIG_REG_APER_SIZE", NULL };
/* NVIDIA: BAR0 0x088000-0x088fff mirrors PCI config space (NV_PBUS_PCI_NV_*,
 * envytools "PBUS" docs; nouveau nvkm/subdev/pci uses 0x088000 + addr). */
#define NV04_CFG_MIRROR_LO 0x001800ul /* NV04-NV3x: NV_PBUS_PCI at 0x1800 (nvkm pci/nv04.c) */
#define NV04_CFG_MIRROR_HI 0x0018ffull
#define NV_CFG_MIRROR_LO   0x088000ul
#define NV_CFG_MIRROR_HI   0x088fffull

/* Functions that are config-space accessors through a BAR mirror: nouveau's
 * nvkm_pci_{rd32,wr08,wr32,mask} (nvkm/subdev/pci/base.c) dispatch to the
 * chip's BAR0 copy of config space (0x001800 or 0x088000). */
static const char *const mirror_accessors[] = { "nvkm_pci_rd32", "nvkm_pci_wr08", "nvkm_pci_wr32",
						"nvkm_pci_mask", NULL };

/* MSI/MSI-X programmed through device registers (substrings, any case). */
static const char *const msix_parts[] = {
	"msix_table", "pci_msix_entry", "msix_ctrl", "msix_control", "msi_addr", "msix_addr",
	"msi_data",   "msix_data",	"msi_ctrl",  "msi_control",  NULL
};

/* Status-register fields holding the function/port id (substrings). Sources:
 * Intel e1000/igb STATUS.FUNC_ID (bits 3:2), ixgbe STATUS.LAN_ID (bits 3:2),
 * Broadcom tg3 CPMU_STATUS function mask, bnx2x ME_REG absolute PF number. */
static const char *const func_field_ids[] = { "STATUS_FUNC", "STATUS_LAN_ID", "STATUS_FMSK",
					      "ABS_PF_NUM", NULL };

/* 0xCF8/0xCFC: PCI Local Bus 3.0 §3.2.2.3.2, configuration mechanism #1. */
#define CF8_PORT      0xcf8ul
#define CFC_PORT_LAST 0xcffull

/* ------------------------------------------------------------------ */
/* Scanner state                                                        */
/* ------------------------------------------------------------------ */

#define NKINDS 6 /* T_FUNC .. T_PHYS */

struct var {
	char key[HQIO_DVH_FIELD_MAX * 2];
	unsigned kinds;
	char origin[NKINDS][ORIGIN_MAX]; /* per kind: where the value came from */
};

struct fn_state {
	const char *name; /* in buf, not terminated */
	size_t name_len;
	struct var vars[VARS_MAX];
	int nvars;
	int first[HQIO_DVH_RULE_COUNT]; /* index of the finding in out, -1 none */
	unsigned more[HQIO_DVH_RULE_COUNT];
};

struct scan {
	const char *buf;
	const struct dvh_tok *t;
	size_t n;
	size_t *match;	 /* see build_match() */
	uint8_t *tclass; /* TC_* bits per token, see classify_tokens() */
	int depth;	 /* expression recursion depth */
	unsigned rules;
	bool report; /* false: learn fields only */
	const struct hqio_dvh_field *known;
	const struct hqio_dvh_field **hash; /* open addressing over known, by name */
	size_t hcap;			    /* power of two; 0: no table */
	size_t nknown;
	struct hqio_dvh_result *out;
	struct fn_state *fn;
	int err;
};

struct taint {
	unsigned kinds;
	char origin[NKINDS][ORIGIN_MAX];
};

static int kind_index(unsigned kind)
{
	int k = 0;
	while (k < NKINDS && !(kind & (1u << k)))
		k++;
	return k < NKINDS ? k : 0;
}

static bool tok_is(const struct scan *S, size_t i, const char *s)
{
	size_t l = strlen(s);
	return i < S->n && S->t[i].len == l && !memcmp(S->buf + S->t[i].off, s, l);
}

static bool tok_ident(const struct scan *S, size_t i)
{
	return i < S->n && S->t[i].kind == DVH_T_IDENT;
}

static bool tok_prefix(const struct scan *S, size_t i, const char *p)
{
	size_t l = strlen(p);
	return i < S->n && S->t[i].len >= l && !memcmp(S->buf + S->t[i].off, p, l);
}

static bool tok_contains(const struct scan *S, size_t i, const char *p, bool nocase)
{
	size_t l = strlen(p), tl = S->t[i].len;
	const char *s = S->buf + S->t[i].off;
	for (size_t k = 0; k + l <= tl; k++) {
		size_t m = 0;
		while (m < l &&
		       (nocase ? tolower((unsigned char)s[k + m]) == p[m] : s[k + m] == p[m]))
			m++;
		if (m == l)
			return true;
	}
	return false;
}

static bool in_list(const struct scan *S, size_t i, const char *const *list)
{
	for (int k = 0; list[k]; k++)
		if (tok_is(S, i, list[k]))
			return true;
	return false;
}

/* Index of the bracket matching the opener at i (same kind), or end. */
static size_t match_close(const struct scan *S, size_t i, size_t end)
{
	size_t m = S->match[i];
	return m < end ? m : end;
}

/* For every opening bracket the index of its closer of the same kind (n
 * when unbalanced), computed once so that lookups are O(1) on any input. */
static int build_match(struct scan *S)
{
	static const char open[] = "([{", close[] = ")]}";
	size_t *stack = malloc((S->n + 1) * sizeof(*stack));
	S->match = malloc((S->n + 1) * sizeof(*S->match));
	if (!stack || !S->match) {
		free(stack);
		return -ENOMEM;
	}
	for (int kind = 0; kind < 3; kind++) {
		size_t sp = 0;
		for (size_t k = 0; k < S->n; k++) {
			if (S->t[k].kind != DVH_T_PUNCT || S->t[k].len != 1)
				continue;
			char c = S->buf[S->t[k].off];
			if (c == open[kind]) {
				stack[sp++] = k;
				S->match[k] = S->n;
			} else if (c == close[kind] && sp) {
				S->match[stack[--sp]] = k;
			}
		}
	}
	free(stack);
	return 0;
}

static bool is_punct(const struct scan *S, size_t i, char c)
{
	return i < S->n && S->t[i].kind == DVH_T_PUNCT && S->t[i].len == 1 &&
	       S->buf[S->t[i].off] == c;
}

/* Compact text of tokens [a,b): spaces only between two words. */
static void text_of(const struct scan *S, size_t a, size_t b, char *dst, size_t cap)
{
	size_t o = 0;
	dst[0] = 0;
	if (b > S->n)
		b = S->n;
	for (size_t k = a; k < b && o + 1 < cap; k++) {
		if (k > a && S->t[k].kind <= DVH_T_NUM && S->t[k - 1].kind <= DVH_T_NUM)
			dst[o++] = ' ';
		for (uint32_t c = 0; c < S->t[k].len && o + 1 < cap; c++) {
			unsigned char ch = (unsigned char)S->buf[S->t[k].off + c];
			dst[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
	}
	if (o + 1 >= cap && cap > 4)
		memcpy(dst + cap - 4, "...", 3), o = cap - 1;
	dst[o] = 0;
}

/* ------------------------------------------------------------------ */
/* Callee classes                                                       */
/* ------------------------------------------------------------------ */

static bool is_call(const struct scan *S, size_t i, size_t end)
{
	return tok_ident(S, i) && i + 1 < end && is_punct(S, i + 1, '(');
}

static bool is_mention(const struct scan *S, size_t i)
{
	for (int k = 0; mention_prefix[k]; k++)
		if (tok_prefix(S, i, mention_prefix[k]))
			return true;
	for (int k = 0; mention_parts[k]; k++)
		if (tok_contains(S, i, mention_parts[k], false))
			return true;
	return false;
}

static bool same_nocase(const char *s, const char *lower, size_t l)
{
	for (size_t k = 0; k < l; k++)
		if (tolower((unsigned char)s[k]) != lower[k])
			return false;
	return true;
}

/* One of the '_'-separated components of token i's name is, ignoring case,
 * one of parts (lower case, NULL-terminated). */
static bool has_part(const struct scan *S, size_t i, const char *const *parts)
{
	const char *s = S->buf + S->t[i].off;
	size_t l = S->t[i].len, a = 0;
	while (a < l) {
		size_t b = a;
		while (b < l && s[b] != '_')
			b++;
		for (int k = 0; parts[k]; k++)
			if (strlen(parts[k]) == b - a && same_nocase(s + a, parts[k], b - a))
				return true;
		a = b + 1;
	}
	return false;
}

static bool is_write(const struct scan *S, size_t i)
{
	return tok_contains(S, i, "write", true) || has_part(S, i, write_parts);
}

/* Register reads: "read" in the name or a read-ish component. */
static bool is_read(const struct scan *S, size_t i)
{
	static const char *const parts[] = { "rd",	"rd8",	    "rd16",	"rd32", "rd64",
					     "rreg",	"rreg8",    "rreg32",	"er32", "er16",
					     "tr32",	"tr16",	    "r8",	"r16",	"r32",
					     "ioread8", "ioread16", "ioread32", "inb",	"inw",
					     "inl",	NULL };
	return tok_contains(S, i, "read", true) || has_part(S, i, parts);
}

/* Upper-case callees are macros that compute (register offsets, bit
 * fields): they pass taint on but are not uses by themselves. */
static bool is_macro_name(const struct scan *S, size_t i)
{
	for (uint32_t c = 0; c < S->t[i].len; c++)
		if (islower((unsigned char)S->buf[S->t[i].off + c]))
			return false;
	return true;
}

static unsigned long long num_value(const struct scan *S, size_t i, bool *ok)
{
	char tmp[32];
	uint32_t l = S->t[i].len < sizeof(tmp) - 1 ? S->t[i].len : (uint32_t)sizeof(tmp) - 1;
	memcpy(tmp, S->buf + S->t[i].off, l);
	tmp[l] = 0;
	char *e;
	unsigned long long v = strtoull(tmp, &e, 0);
	*ok = e != tmp;
	return v;
}

/* ------------------------------------------------------------------ */
/* Findings and learned fields                                          */
/* ------------------------------------------------------------------ */

static void grow_fail(struct scan *S)
{
	S->err = -ENOMEM;
	S->out->oom = 1;
}

static void report(struct scan *S, enum hqio_dvh_rule rule, size_t at, const char *expr,
		   const char *why)
{
	struct hqio_dvh_result *o = S->out;
	struct fn_state *F = S->fn;
	if (!S->report || !(S->rules & (1u << rule)) || S->err)
		return;
	if (F && F->first[rule] >= 0) {
		F->more[rule]++;
		return;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct hqio_dvh_finding *v = realloc(o->v, cap * sizeof(*v));
		if (!v) {
			grow_fail(S);
			return;
		}
		o->v = v;
		o->cap = cap;
	}
	struct hqio_dvh_finding *f = &o->v[o->n];
	memset(f, 0, sizeof(*f));
	f->rule = rule;
	f->line = S->t[at].line;
	if (F) {
		size_t l =
			F->name_len < HQIO_DVH_FUNC_MAX - 1 ? F->name_len : HQIO_DVH_FUNC_MAX - 1;
		memcpy(f->func, F->name, l);
		f->func[l] = 0;
		F->first[rule] = (int)o->n;
	}
	snprintf(f->expr, sizeof(f->expr), "%s", expr);
	f->why = why;
	o->n++;
}

static size_t name_hash(const char *s, size_t l);

static int fidx_grow(struct hqio_dvh_result *o)
{
	size_t cap = 64;
	while (cap < 4 * (o->nfields + 1))
		cap *= 2;
	size_t *ix = calloc(cap, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	for (size_t k = 0; k < o->nfields; k++) {
		size_t h = name_hash(o->fields[k].name, strlen(o->fields[k].name)) & (cap - 1);
		while (ix[h])
			h = (h + 1) & (cap - 1);
		ix[h] = k + 1;
	}
	free(o->fidx);
	o->fidx = ix;
	o->fidx_cap = cap;
	return 0;
}

/* Adds (or widens) the field name; hashed, so learning thousands of
 * macros stays linear. */
static int field_add(struct hqio_dvh_result *o, const char *name, unsigned kinds)
{
	char nm[HQIO_DVH_FIELD_MAX];
	snprintf(nm, sizeof(nm), "%s", name);
	if (o->fidx_cap < 2 * (o->nfields + 1) && fidx_grow(o))
		return -ENOMEM;
	size_t h = name_hash(nm, strlen(nm)) & (o->fidx_cap - 1);
	for (; o->fidx[h]; h = (h + 1) & (o->fidx_cap - 1))
		if (!strcmp(o->fields[o->fidx[h] - 1].name, nm)) {
			o->fields[o->fidx[h] - 1].kinds |= kinds;
			return 0;
		}
	if (o->nfields == o->capfields) {
		size_t cap = o->capfields ? o->capfields * 2 : 16;
		struct hqio_dvh_field *v = realloc(o->fields, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		o->fields = v;
		o->capfields = cap;
	}
	struct hqio_dvh_field *f = &o->fields[o->nfields++];
	memcpy(f->name, nm, sizeof(nm));
	f->kinds = kinds;
	o->fidx[h] = o->nfields;
	return 0;
}

int hqio_dvh_fields_merge(struct hqio_dvh_result *dst, const struct hqio_dvh_field *src, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (field_add(dst, src[k].name, src[k].kinds)) {
			dst->oom = 1;
			return -ENOMEM;
		}
	return 0;
}

static size_t name_hash(const char *s, size_t l)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t k = 0; k < l; k++)
		h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
	return (size_t)h;
}

/* Kinds known for the name s[0..l) (a learned field or macro), 0 if none. */
static unsigned known_kinds(const struct scan *S, const char *s, size_t l)
{
	if (!S->hcap)
		return 0;
	for (size_t h = name_hash(s, l) & (S->hcap - 1);; h = (h + 1) & (S->hcap - 1)) {
		const struct hqio_dvh_field *f = S->hash[h];
		if (!f)
			return 0;
		if (strlen(f->name) == l && !memcmp(f->name, s, l))
			return f->kinds;
	}
}

static int build_hash(struct scan *S)
{
	size_t cap = 16;
	while (cap < S->nknown * 2)
		cap *= 2;
	S->hash = calloc(cap, sizeof(*S->hash));
	if (!S->hash)
		return -ENOMEM;
	S->hcap = cap;
	for (size_t k = 0; k < S->nknown; k++) {
		const char *n = S->known[k].name;
		size_t h = name_hash(n, strlen(n)) & (cap - 1);
		while (S->hash[h])
			h = (h + 1) & (cap - 1);
		S->hash[h] = &S->known[k];
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Member chains: a.b->c[...].d                                         */
/* ------------------------------------------------------------------ */

/* Member names too common to stand for one identity field on their own. */
static bool generic_member(const char *s, size_t l)
{
	static const char *const names[] = { "bus",  "devfn", "number", "slot",	  "func", "fn",
					     "id",   "dev",   "pdev",	"domain", "port", "index",
					     "idx",  "self",  "parent", "value",  "val",  "data",
					     "addr", "base",  "offset", "start",  "reg",  NULL };
	for (int k = 0; names[k]; k++)
		if (strlen(names[k]) == l && !memcmp(names[k], s, l))
			return true;
	return false;
}

#define ID_KINDS (T_FUNC | T_BDF | T_BAR | T_FDEV)

/* Kinds of a member chain's last two components "p.x": learned as "p.x" or
 * as "*.x". */
static unsigned field_kinds(const struct scan *S, const char *last2)
{
	const char *dot = strchr(last2, '.');
	unsigned k = known_kinds(S, last2, strlen(last2));
	if (dot) {
		char any[HQIO_DVH_FIELD_MAX + 2];
		snprintf(any, sizeof(any), "*%s", dot);
		k |= known_kinds(S, any, strlen(any));
	}
	return k;
}

/* The chain starting at identifier i: returns the index after it, writes its
 * dotted key (indexes dropped) and its last two components. */
static size_t chain(const struct scan *S, size_t i, size_t end, char *key, size_t keycap,
		    char *last2, size_t l2cap, int *ncomp, bool *arrow_out)
{
	size_t o = 0, prev_off = 0, prev_len = 0, cur_off = 0, cur_len = 0;
	int comps = 0;
	bool arrow = false; /* the last member access was "->" (not a local struct) */
	size_t k = i;
	key[0] = 0;
	while (k < end && tok_ident(S, k)) {
		prev_off = cur_off;
		prev_len = cur_len;
		cur_off = S->t[k].off;
		cur_len = S->t[k].len;
		if (comps && o + 1 < keycap)
			key[o++] = '.';
		for (uint32_t c = 0; c < S->t[k].len && o + 1 < keycap; c++)
			key[o++] = S->buf[S->t[k].off + c];
		comps++;
		k++;
		while (k < end && is_punct(S, k, '['))
			k = match_close(S, k, end) + 1;
		if (k > end) /* unbalanced '[' */
			k = end;
		if (k + 1 < end && (is_punct(S, k, '.') || tok_is(S, k, "->")) &&
		    tok_ident(S, k + 1)) {
			arrow = tok_is(S, k, "->");
			k++;
		} else
			break;
	}
	key[o < keycap ? o : keycap - 1] = 0;
	if (comps >= 2)
		snprintf(last2, l2cap, "%.*s.%.*s", (int)prev_len, S->buf + prev_off, (int)cur_len,
			 S->buf + cur_off);
	else
		snprintf(last2, l2cap, "%.*s", (int)cur_len, S->buf + cur_off);
	if (arrow_out)
		*arrow_out = arrow && comps == 2 && !generic_member(S->buf + cur_off, cur_len);
	*ncomp = comps;
	return k;
}

static struct var *var_find(struct fn_state *F, const char *key)
{
	for (int k = 0; k < F->nvars; k++)
		if (!strcmp(F->vars[k].key, key))
			return &F->vars[k];
	return NULL;
}

static void var_set(struct fn_state *F, const char *key, const struct taint *t, bool merge)
{
	struct var *v = var_find(F, key);
	if (!v) {
		if (!t->kinds || F->nvars == VARS_MAX)
			return;
		v = &F->vars[F->nvars++];
		snprintf(v->key, sizeof(v->key), "%s", key);
		v->kinds = 0;
	}
	for (int k = 0; k < NKINDS; k++)
		if ((t->kinds & (1u << k)) && (!merge || !(v->kinds & (1u << k))))
			memcpy(v->origin[k], t->origin[k], ORIGIN_MAX);
	v->kinds = merge ? v->kinds | t->kinds : t->kinds;
}

static void taint_add(struct taint *t, unsigned kinds, const char *origin)
{
	for (int k = 0; k < NKINDS; k++)
		if ((kinds & (1u << k)) && !(t->kinds & (1u << k))) {
			snprintf(t->origin[k], ORIGIN_MAX, "%s", origin);
			t->kinds |= 1u << k;
		}
}

/* Adds every kind of src with its own origin. */
static void taint_merge(struct taint *t, const struct taint *src)
{
	for (int k = 0; k < NKINDS; k++)
		if (src->kinds & (1u << k))
			taint_add(t, 1u << k, src->origin[k]);
}

static void taint_from_var(struct taint *t, const struct var *v)
{
	for (int k = 0; k < NKINDS; k++)
		if (v->kinds & (1u << k))
			taint_add(t, 1u << k, v->origin[k]);
}

/* ------------------------------------------------------------------ */
/* Expressions                                                          */
/* ------------------------------------------------------------------ */

/* The rules that a tainted value reaching a use of class `use` reports. */
enum use { USE_WRITE, USE_INDEX, USE_STORE, USE_CALL, USE_COND, USE_RETURN, USE_MAC };

static const char *const why_func[] = {
	[USE_WRITE] = "function number flows into a register write: with functions renumbered "
		      "or assigned alone, it selects the other port's registers",
	[USE_INDEX] = "function number indexes an array: per-port state picked by the host's "
		      "function number, not the guest's",
	[USE_STORE] = "function number kept as the device's identity: two guests can derive the "
		      "same identity",
	[USE_CALL] = "function number passed on as identity/port selector",
	[USE_COND] = "behaviour (port, lock, MAC, resources) selected by the function number",
	[USE_RETURN] = "function number returned as an identity",
	[USE_MAC] = "function number goes into the MAC address: assigned alone, two guests' MACs "
		    "can collide",
};
static const char *const why_bdf[] = {
	[USE_WRITE] = "bus/slot/devfn written to the device or firmware: the guest's BDF differs "
		      "from the host's",
	[USE_INDEX] = "bus/slot/devfn used as an index: virtual and host BDF differ",
	[USE_STORE] = "bus/slot/devfn kept as an identity or key: virtual BDF differs from the "
		      "host's",
	[USE_CALL] = "bus/slot/devfn passed on as identity (lookup, firmware, key)",
	[USE_COND] =
		"behaviour selected by the device's bus/slot/devfn: the guest's BDF is virtual",
	[USE_RETURN] = "bus/slot/devfn returned as an identity",
	[USE_MAC] = "bus/slot/devfn goes into the MAC address",
};

static void use_taint(struct scan *S, const struct taint *t, enum use u, size_t at)
{
	if (t->kinds & T_FUNC)
		report(S, HQIO_DVH_FUNC_NUMBER, at, t->origin[kind_index(T_FUNC)], why_func[u]);
	if (t->kinds & T_BDF)
		report(S, HQIO_DVH_BDF_IDENTITY, at, t->origin[kind_index(T_BDF)], why_bdf[u]);
	if ((t->kinds & T_BAR) && (u == USE_WRITE))
		report(S, HQIO_DVH_BAR_ADDR_TO_DEVICE, at, t->origin[kind_index(T_BAR)],
		       "BAR address written into a device register: the device holds a "
		       "guest-physical address");
}

static bool is_mac_key(const char *key)
{
	static const char *const parts[] = { "mac", "perm_addr", "dev_addr", "addr", NULL };
	const char *last = strrchr(key, '.');
	last = last ? last + 1 : key;
	for (int k = 0; parts[k]; k++)
		if (strstr(last, parts[k]))
			return true;
	return false;
}

static void eval(struct scan *S, size_t a, size_t b, struct taint *t, bool uses);

/* Token classes computed once per pass, so that scanning call arguments
 * is a bit test per token whatever the nesting. */
#define TC_SNOOP    1u
#define TC_MSIX	    2u
#define TC_MIRROR   4u
#define TC_NVMIRROR 8u /* a number in the NVIDIA config mirror range */
#define TC_CHIP	    16u
#define TC_CF8	    32u
#define TC_BIGNUM   64u	 /* a number >= 0x10000: a physical address if mapped */
#define TC_MEMTYPE  128u /* a caching-choice name (memtype_ids) */

static int classify_tokens(struct scan *S, bool full)
{
	free(S->tclass);
	S->tclass = calloc(S->n + 1, 1);
	if (!S->tclass)
		return -ENOMEM;
	for (size_t k = 0; full && k < S->n; k++) {
		unsigned c = 0;
		if (tok_ident(S, k)) {
			if (tok_contains(S, k, "snoop", true) || tok_contains(S, k, "cohbit", true))
				c |= TC_SNOOP;
			for (int m = 0; msix_parts[m]; m++)
				if (tok_contains(S, k, msix_parts[m], true))
					c |= TC_MSIX;
			unsigned mk = known_kinds(S, S->buf + S->t[k].off, S->t[k].len);
			if (mk & M_CFG)
				c |= TC_MIRROR;
			if (mk & M_CHIP)
				c |= TC_CHIP;
			for (int m = 0; chip_ids[m]; m++)
				if (tok_contains(S, k, chip_ids[m], false))
					c |= TC_CHIP;
			for (int m = 0; mirror_ids[m]; m++)
				if (tok_contains(S, k, mirror_ids[m], false))
					c |= TC_MIRROR;
			if (S->t[k].len >= 12 && in_list(S, k, memtype_ids)) /* shortest: 12 */
				c |= TC_MEMTYPE;
		} else if (S->t[k].kind == DVH_T_NUM) {
			bool ok;
			unsigned long long v = num_value(S, k, &ok);
			if (ok && ((v >= NV_CFG_MIRROR_LO && v <= NV_CFG_MIRROR_HI) ||
				   (v >= NV04_CFG_MIRROR_LO && v <= NV04_CFG_MIRROR_HI)))
				c |= TC_NVMIRROR;
			if (ok && v >= CF8_PORT && v <= CFC_PORT_LAST)
				c |= TC_CF8;
			if (ok && v >= 0x10000)
				c |= TC_BIGNUM;
		}
		S->tclass[k] = (uint8_t)c;
	}
	return 0;
}

/* A call at i (identifier followed by '('); returns the index after ')'. */
static size_t eval_call(struct scan *S, size_t i, size_t b, struct taint *t, bool uses)
{
	size_t open = i + 1, close = match_close(S, open, b);
	char org[ORIGIN_MAX];
	if (S->depth >= DVH_EVAL_DEPTH_MAX)
		return close + 1;
	if (is_mention(S, i))
		return close + 1; /* a mention: nothing inside is a use or a value */

	if (tok_is(S, i, "PCI_FUNC")) {
		text_of(S, i, close + 1 < b ? close + 1 : b, org, sizeof(org));
		taint_add(t, T_FUNC, org);
		return close + 1;
	}
	if (tok_is(S, i, "PCI_SLOT") || tok_is(S, i, "PCI_DEVID") || tok_is(S, i, "pci_dev_id")) {
		text_of(S, i, close + 1 < b ? close + 1 : b, org, sizeof(org));
		taint_add(t, T_BDF, org);
		return close + 1;
	}
	/* nouveau's device->func->resource_addr(device, bar) is its
	 * pci_resource_start (nvkm/engine/device/pci.c). */
	if (tok_is(S, i, "pci_resource_start") || tok_is(S, i, "pci_bus_address") ||
	    tok_is(S, i, "resource_addr") || tok_is(S, i, "nvkm_device_pci_resource_addr")) {
		/* Of another device (host bridge, sibling): a window of hardware
		 * the driver does not own, handled like a value from its config. */
		struct taint dt = { 0 };
		eval(S, open + 1, close, &dt, false);
		text_of(S, i, close + 1 < b ? close + 1 : b, org, sizeof(org));
		taint_add(t, (dt.kinds & T_FDEV) ? T_FVAL : T_BAR, org);
		return close + 1;
	}
	if (tok_is(S, i, "pci_platform_rom")) {
		text_of(S, i, open, org, sizeof(org));
		taint_add(t, T_PHYS, org);
		return close + 1;
	}
	if (in_list(S, i, foreign_lookup)) {
		text_of(S, i, open, org, sizeof(org));
		taint_add(t, T_FDEV, org);
		/* Finding another device by id, slot or bus (not a bridge walk) is
		 * where the driver starts to depend on devices it does not own. */
		if (uses && !tok_is(S, i, "pci_upstream_bridge") &&
		    !tok_is(S, i, "pci_find_parent_resource"))
			report(S, HQIO_DVH_FOREIGN_CFG, i, org,
			       "looks up another PCI device (host bridge, sibling, chipset) to "
			       "use it: in a guest it is virtual, absent or someone else's");
	}
	if (uses && in_list(S, i, memtype_calls)) {
		text_of(S, i, open, org, sizeof(org));
		report(S, HQIO_DVH_MEMTYPE, i, org,
		       "memory type of pages shared with the device (or MTRRs) changed: the "
		       "guest's type must reach the host page tables");
	}
	if (uses && in_list(S, i, mirror_accessors)) {
		text_of(S, i, open, org, sizeof(org));
		report(S, HQIO_DVH_CFG_MIRROR, i, org,
		       "config space accessed through the BAR mirror accessor: the guest sees "
		       "host values and bypasses the virtual config space");
	}
	if (uses && (tok_prefix(S, i, "pci_bus_read_config_") ||
		     tok_prefix(S, i, "pci_bus_write_config_"))) {
		text_of(S, i, open, org, sizeof(org));
		report(S, HQIO_DVH_FOREIGN_CFG, i, org,
		       "config space addressed by bus/devfn, not through the own device: reaches "
		       "other functions");
	}

	/* Arguments one by one. */
	bool write = is_write(S, i), macro = is_macro_name(S, i);
	bool cfg = false, map = in_list(S, i, map_calls);
	for (int k = 0; cfg_access_prefix[k]; k++)
		cfg = cfg || tok_prefix(S, i, cfg_access_prefix[k]);
	bool snoop_arg = false, msix_arg = false, mirror_arg = false, cf8_arg = false;
	bool chip_arg = false, memtype_arg = false;
	size_t memtype_at = i;
	/* pci_read_config_*(dev, PCI_BASE_ADDRESS_n, &v): v holds a BAR address;
	 * at a vendor-specific offset (not a PCI_* header register) of the
	 * device's own config space, a platform address published by firmware
	 * (e.g. i915 ASLS); pcibios_resource_to_bus(bus, &region, res): the
	 * region is a BAR's bus address. */
	bool bar_off = false, vendor_off = false;
	bool read_cfg = tok_prefix(S, i, "pci_read_config_");
	bool res2bus = tok_is(S, i, "pcibios_resource_to_bus");
	/* Port I/O to the fixed legacy VGA ports (VGA_* names of video/vga.h). */
	static const char *const port_io[] = { "outb", "outw",	 "outl",  "inb", "inw",
					       "inl",  "outb_p", "inb_p", NULL };
	bool vga_arg = false, pio = in_list(S, i, port_io);
	for (size_t k = open + 1; pio && k < close; k++)
		vga_arg = vga_arg || (tok_ident(S, k) && tok_prefix(S, k, "VGA_"));
	/* The NVIDIA mirror ranges mean something only to nouveau's register
	 * accessors (nvkm_rd32, nvif_mask, the VBIOS init_* interpreter). */
	bool nv_callee = tok_prefix(S, i, "nvkm_") || tok_prefix(S, i, "nvif_") ||
			 tok_prefix(S, i, "nv_") || tok_prefix(S, i, "init_");
	size_t chip_at = i;
	size_t mirror_at = i;
	struct taint all = { 0 };
	size_t a0 = open + 1;
	int argn = 0;
	while (a0 <= close && a0 < b) {
		size_t e = a0;
		while (e < close) {
			if (is_punct(S, e, '(') || is_punct(S, e, '['))
				e = match_close(S, e, close);
			else if (is_punct(S, e, ','))
				break;
			e++;
		}
		if (e > close)
			e = close;
		struct taint at = { 0 };
		eval(S, a0, e, &at, uses);
		for (size_t k = a0; k < e; k++) {
			unsigned c = S->tclass[k];
			if (!c)
				continue;
			snoop_arg = snoop_arg || (c & TC_SNOOP);
			msix_arg = msix_arg || (c & TC_MSIX);
			if ((c & TC_MIRROR) || ((c & TC_NVMIRROR) && argn == 1 && nv_callee))
				mirror_arg = true, mirror_at = k;
			if (c & TC_CHIP)
				chip_arg = true, chip_at = k;
			cf8_arg = cf8_arg || (c & TC_CF8);
			if ((c & TC_MEMTYPE) && !memtype_arg)
				memtype_arg = true, memtype_at = k;
			if (uses && map && argn == 0 && (c & TC_BIGNUM) && e - a0 == 1) {
				char num[40];
				text_of(S, i, e, num, sizeof(num));
				report(S, HQIO_DVH_CHIPSET_MMIO, i, num,
				       "fixed physical address mapped: in a guest it is "
				       "guest-physical, not the chipset");
			}
		}
		if (uses && (at.kinds & T_FDEV) && (cfg || map))
			report(S, HQIO_DVH_FOREIGN_CFG, i, at.origin[kind_index(T_FDEV)],
			       "config space of another device (host bridge, parent or sibling) "
			       "read or written: the guest sees a virtual bridge or nothing");
		if (read_cfg && argn == 1 && e == a0 + 1 && tok_ident(S, a0)) {
			bar_off = tok_prefix(S, a0, "PCI_BASE_ADDRESS_");
			vendor_off = !tok_prefix(S, a0, "PCI_");
		}
		if (uses && (at.kinds & T_PHYS) && map)
			report(S, HQIO_DVH_CHIPSET_MMIO, i, at.origin[kind_index(T_PHYS)],
			       "maps a platform physical address that is not a BAR of the device "
			       "(ROM shadow, firmware region published in config space): in a "
			       "guest it is guest-physical");
		if (uses && (at.kinds & T_FVAL) && map)
			report(S, HQIO_DVH_CHIPSET_MMIO, i, at.origin[kind_index(T_FVAL)],
			       "maps a window whose address comes from another device's config "
			       "space (chipset MMIO)");
		if (uses && write)
			use_taint(S, &at, USE_WRITE, a0 < e ? a0 : i);
		else if (uses && !macro && !cfg && !map && !in_list(S, i, foreign_lookup))
			use_taint(S, &at, USE_CALL, a0 < e ? a0 : i);
		else if (uses && in_list(S, i, foreign_lookup))
			use_taint(S, &at, USE_CALL, a0 < e ? a0 : i);
		if (((read_cfg && argn == 2 && (bar_off || vendor_off) && !(all.kinds & T_FDEV)) ||
		     (res2bus && argn == 1)) &&
		    is_punct(S, a0, '&') && tok_ident(S, a0 + 1) && S->fn) {
			char key[HQIO_DVH_FIELD_MAX * 2], l2[HQIO_DVH_FIELD_MAX];
			int nc;
			chain(S, a0 + 1, e, key, sizeof(key), l2, sizeof(l2), &nc, NULL);
			struct taint bv = { 0 };
			text_of(S, i, close + 1 < b ? close + 1 : b, org, sizeof(org));
			taint_add(&bv, (res2bus || bar_off) ? T_BAR : T_PHYS, org);
			var_set(S->fn, key, &bv, false);
			if (res2bus) { /* the address is region.start */
				size_t kl = strlen(key);
				if (kl + sizeof(".start") <= sizeof(key)) {
					memcpy(key + kl, ".start", sizeof(".start"));
					var_set(S->fn, key, &bv, false);
				}
			}
		}
		/* pci_read_config_*(foreign, off, &val): val holds a foreign value. */
		if (cfg && argn == 2 && (all.kinds & T_FDEV) && is_punct(S, a0, '&')) {
			char key[HQIO_DVH_FIELD_MAX * 2], l2[HQIO_DVH_FIELD_MAX];
			int nc;
			if (tok_ident(S, a0 + 1)) {
				chain(S, a0 + 1, e, key, sizeof(key), l2, sizeof(l2), &nc, NULL);
				struct taint fv = { 0 };
				text_of(S, i, open, org, sizeof(org));
				taint_add(&fv, T_FVAL, org);
				if (S->fn)
					var_set(S->fn, key, &fv, false);
			}
		}
		taint_merge(&all, &at);
		argn++;
		a0 = e + 1;
	}
	if (uses && snoop_arg && (write || cfg)) {
		text_of(S, i, open, org, sizeof(org));
		report(S, HQIO_DVH_NOSNOOP, i, org,
		       "No-Snoop/snoop control changed: DMA may bypass the caches, the monitor "
		       "must keep memory types coherent");
	}
	if (uses && memtype_arg) {
		text_of(S, memtype_at, memtype_at + 1, org, sizeof(org));
		report(S, HQIO_DVH_MEMTYPE, memtype_at, org,
		       "write-combined/uncached caching chosen for RAM shared with the device: "
		       "the guest's type must reach the host page tables");
	}
	if (uses && msix_arg && write && !tok_prefix(S, i, "pci_")) {
		text_of(S, i, open, org, sizeof(org));
		report(S, HQIO_DVH_MSIX_BACKDOOR, i, org,
		       "MSI/MSI-X state programmed through a device register: bypasses the "
		       "monitor's interrupt remapping");
	}
	if (uses && mirror_arg && (write || is_read(S, i)) && !cfg) {
		text_of(S, mirror_at, mirror_at + 1, org, sizeof(org));
		report(S, HQIO_DVH_CFG_MIRROR, mirror_at, org,
		       "config space / BAR base reached through a BAR mirror: the guest sees host "
		       "values and bypasses the virtual config space");
	}
	if (uses && chip_arg && (write || is_read(S, i)) && !cfg) {
		text_of(S, chip_at, chip_at + 1, org, sizeof(org));
		report(S, HQIO_DVH_CHIPSET_MMIO, chip_at, org,
		       "chipset (host bridge MCHBAR) registers reached through a mirror in the "
		       "device's BAR: the guest reads or changes host chipset state");
	}
	if (uses && vga_arg) {
		text_of(S, i, open, org, sizeof(org));
		report(S, HQIO_DVH_RAW_CFG_IO, i, org,
		       "legacy VGA I/O ports (0x3B0-0x3DF) accessed directly: fixed platform "
		       "ports routed by the host's bridges, not the device's BARs");
	}
	if (uses && cf8_arg &&
	    (tok_prefix(S, i, "out") || tok_prefix(S, i, "in") || tok_prefix(S, i, "io"))) {
		text_of(S, i, open, org, sizeof(org));
		report(S, HQIO_DVH_RAW_CFG_IO, i, org,
		       "raw 0xCF8/0xCFC configuration access: bypasses the monitor's config path");
	}
	/* The call's value: macros and plain functions pass their arguments' taint
	 * on (register offsets computed from a port, lookups), but a device handle
	 * stays a handle only for lookups. */
	all.kinds &=
		(macro || write || ((all.kinds & (T_BAR | T_PHYS)) && in_list(S, i, value_helpers)))
			? (T_FUNC | T_BDF | T_BAR | T_PHYS)
			: (T_FUNC | T_BDF);
	if (!in_list(S, i, foreign_lookup) && !cfg)
		taint_merge(t, &all);
	return close + 1;
}

/* Taint of tokens [a,b); with uses, also reports the uses inside (calls,
 * indexes). */
static void eval(struct scan *S, size_t a, size_t b, struct taint *t, bool uses)
{
	size_t i = a;
	/* Nesting deeper than any real driver is left unanalysed (bounded stack). */
	if (S->depth >= DVH_EVAL_DEPTH_MAX)
		return;
	S->depth++;
	while (i < b && !S->err) {
		if (is_call(S, i, b) &&
		    !(i > a && (is_punct(S, i - 1, '.') || tok_is(S, i - 1, "->")))) {
			i = eval_call(S, i, b, t, uses);
			continue;
		}
		if (tok_ident(S, i) &&
		    !(i > a && (is_punct(S, i - 1, '.') || tok_is(S, i - 1, "->")))) {
			char key[HQIO_DVH_FIELD_MAX * 2], l2[HQIO_DVH_FIELD_MAX], org[ORIGIN_MAX];
			int nc;
			size_t e = chain(S, i, b, key, sizeof(key), l2, sizeof(l2), &nc, NULL);
			if (nc >= 2 && e < b && is_punct(S, e, '(') && tok_ident(S, e - 1)) {
				/* ops->write(...): a call through a member pointer. */
				i = eval_call(S, e - 1, b, t, uses);
				continue;
			}
			text_of(S, i, e, org, sizeof(org));
			/* Index expressions inside the chain. */
			for (size_t k = i; k < e; k++)
				if (is_punct(S, k, '[')) {
					size_t c = match_close(S, k, e);
					struct taint it = { 0 };
					eval(S, k + 1, c, &it, uses);
					if (uses)
						use_taint(S, &it, USE_INDEX, k + 1);
					k = c;
				}
			const char *lastc = strrchr(key, '.');
			lastc = lastc ? lastc + 1 : key;
			bool member = nc >= 2;
			if (member && !strcmp(lastc, "devfn")) {
				/* devfn & 7 is the function; devfn alone the whole BDF part. */
				if (e + 1 < b && is_punct(S, e, '&') &&
				    S->t[e + 1].kind == DVH_T_NUM) {
					bool ok;
					unsigned long long v = num_value(S, e + 1, &ok);
					if (ok && v <= 7) {
						text_of(S, i, e + 2, org, sizeof(org));
						taint_add(t, T_FUNC, org);
						i = e + 2;
						continue;
					}
				}
				taint_add(t, T_BDF, org);
			} else if (member && nc >= 2 && !strcmp(l2, "bus.number")) {
				taint_add(t, T_BDF, org);
			} else if (member && !strcmp(l2, "bus.self")) {
				taint_add(t, T_FDEV, org);
			} else if (member && !strcmp(l2, "resource.start")) {
				/* pdev->resource[n].start: pci_resource_start() spelled out */
				taint_add(t, T_BAR, org);
			} else if (member && !strcmp(lastc, "rom") && strstr(key, "dev.rom")) {
				/* pdev->rom: the platform's shadow ROM (pci_dev.rom) */
				taint_add(t, T_PHYS, org);
			} else {
				struct var *v = S->fn ? var_find(S->fn, key) : NULL;
				if (v)
					taint_from_var(t, v);
				else if (member)
					taint_add(t, field_kinds(S, l2) & ID_KINDS, org);
			}
			if (nc == 1)
				for (int m = 0; func_field_ids[m]; m++)
					if (tok_contains(S, i, func_field_ids[m], false))
						taint_add(t, T_FUNC, org);
			i = e;
			continue;
		}
		if (is_punct(S, i, '[')) { /* e.g. (x)[i] */
			size_t c = match_close(S, i, b);
			struct taint it = { 0 };
			eval(S, i + 1, c, &it, uses);
			if (uses)
				use_taint(S, &it, USE_INDEX, i + 1);
			i = c + 1;
			continue;
		}
		if (is_punct(S, i, '?') && uses) {
			/* cond ? a : b — the condition so far selects a value. */
			struct taint ct = *t;
			use_taint(S, &ct, USE_COND, i);
		}
		i++;
	}
	S->depth--;
}

static bool is_assign_op(const struct scan *S, size_t i)
{
	static const char *const ops[] = { "=",	 "|=",	"&=",  "^=", "+=",
					   "-=", "<<=", ">>=", "*=", NULL };
	return S->t[i].kind == DVH_T_PUNCT && in_list(S, i, ops);
}

/* One expression statement (or declaration) [a,b) without its ';'. */
static void statement(struct scan *S, size_t a, size_t b);

static void one_expr(struct scan *S, size_t a, size_t b);

static void expr_stmt(struct scan *S, size_t a, size_t b)
{
	/* Split declarations / comma expressions at top-level commas. */
	for (size_t k = a; k < b; k++) {
		if (is_punct(S, k, '(') || is_punct(S, k, '[') || is_punct(S, k, '{')) {
			k = match_close(S, k, b);
			continue;
		}
		if (is_punct(S, k, ',')) {
			one_expr(S, a, k);
			a = k + 1;
		}
	}
	one_expr(S, a, b);
}

/* The first caching-choice name (memtype_ids) in [a,b), if any, reported
 * as a memtype finding explained by why. */
static void report_memtype(struct scan *S, size_t a, size_t b, const char *why)
{
	for (size_t q = a; q < b; q++)
		if (tok_ident(S, q) && in_list(S, q, memtype_ids)) {
			char org[ORIGIN_MAX];
			text_of(S, q, q + 1, org, sizeof(org));
			report(S, HQIO_DVH_MEMTYPE, q, org, why);
			return;
		}
}

/* One comma-free expression or declarator [a,b). */
static void value_checks(struct scan *S, size_t eq, size_t b, const char *l2)
{
	/* A caching choice for shared RAM assigned (not the I/O-memory caching
	 * of a BAR: TTM's bus.caching). */
	if (strcmp(l2, "bus.caching"))
		report_memtype(S, eq + 1, b,
			       "write-combined/uncached caching chosen for RAM shared with the "
			       "device: the guest's type must reach the host page tables");
	/* snoop control bits assigned into a value (written later). */
	for (size_t q = eq + 1; q < b; q++)
		if ((S->tclass[q] & TC_SNOOP) && /* "snoop"/"cohbit" in the name */
		    (tok_contains(S, q, "nosnoop", true) || tok_contains(S, q, "no_snoop", true) ||
		     tok_contains(S, q, "enable_snoop", true) ||
		     tok_contains(S, q, "cohbit", true) ||
		     /* device snoop-control constants (PTE snooped bits, NONSNOOP
		      * enables, SNOOP_DIS): upper-case names, not LTR latencies */
		     (is_macro_name(S, q) && tok_contains(S, q, "SNOOP", false) &&
		      !tok_contains(S, q, "LTR", false)))) {
			char org[ORIGIN_MAX];
			text_of(S, q, q + 1, org, sizeof(org));
			report(S, HQIO_DVH_NOSNOOP, q, org,
			       "No-Snoop/snoop control bit set or cleared in a value the driver "
			       "writes: DMA may bypass the caches");
			break;
		}
}

static void one_expr(struct scan *S, size_t a, size_t b)
{
	size_t eq = b;
	for (size_t k = a; k < b; k++) {
		if (is_punct(S, k, '(') || is_punct(S, k, '[') || is_punct(S, k, '{')) {
			k = match_close(S, k, b);
			continue;
		}
		if (is_assign_op(S, k)) {
			eq = k;
			break;
		}
	}
	if (eq == b) {
		struct taint t = { 0 };
		eval(S, a, b, &t, true);
		return;
	}
	/* lhs: the last chain before the operator. */
	size_t ls = eq;
	while (ls > a) {
		size_t p = ls - 1;
		if (is_punct(S, p, ']')) {
			int d = 0;
			while (p > a) {
				if (is_punct(S, p, ']'))
					d++;
				else if (is_punct(S, p, '[') && --d == 0)
					break;
				p--;
			}
			ls = p;
			continue;
		}
		if (tok_ident(S, p) || is_punct(S, p, '.') || tok_is(S, p, "->")) {
			ls = p;
			continue;
		}
		break;
	}
	/* The leading type words of a declaration are not part of the chain. */
	while (ls < eq && tok_ident(S, ls) && ls + 1 < eq && tok_ident(S, ls + 1))
		ls++;
	struct taint rt = { 0 };
	eval(S, eq + 1, b, &rt, true);
	/* Indexes on the left are uses too. */
	struct taint lt = { 0 };
	eval(S, a, ls, &lt, true);
	if (ls >= eq || !tok_ident(S, ls)) {
		value_checks(S, eq, b, "");
		return;
	}
	char key[HQIO_DVH_FIELD_MAX * 2], l2[HQIO_DVH_FIELD_MAX];
	int nc;
	bool anyroot;
	size_t ce = chain(S, ls, eq, key, sizeof(key), l2, sizeof(l2), &nc, &anyroot);
	/* The identity-field name this store teaches (see chain()). */
	char fname[HQIO_DVH_FIELD_MAX];
	const char *dot = strrchr(l2, '.');
	if (anyroot && dot)
		snprintf(fname, sizeof(fname), "*%s", dot);
	else
		snprintf(fname, sizeof(fname), "%s", l2);
	for (size_t q = ls; q < ce; q++)
		if (is_punct(S, q, '[')) {
			size_t c = match_close(S, q, ce);
			struct taint it = { 0 };
			eval(S, q + 1, c, &it, true);
			use_taint(S, &it, USE_INDEX, q + 1);
			q = c;
		}
	bool merge = !tok_is(S, eq, "=");
	unsigned id = rt.kinds & (T_FUNC | T_BDF);
	/* BAR addresses are learned only under a specific member name: "addr"
	 * or "base" alone would match every register address field. */
	const char *lastn = strrchr(fname, '.');
	lastn = lastn ? lastn + 1 : fname;
	unsigned learn = rt.kinds & T_FDEV;
	if ((rt.kinds & T_BAR) && !generic_member(lastn, strlen(lastn)))
		learn |= T_BAR;
	/* "doorbell.base": a generic member under a specific parent names one
	 * BAR too; "bus.base" (generic parent) does not. */
	if ((rt.kinds & T_BAR) && lastn > fname + 1 &&
	    !generic_member(fname, (size_t)(lastn - 1 - fname)))
		learn |= T_BAR;
	if (learn && nc >= 2 && field_add(S->out, fname, learn))
		grow_fail(S);
	if (id && is_mac_key(key)) {
		use_taint(S, &rt, USE_MAC, eq);
	} else if (id && nc >= 2) {
		if (field_add(S->out, fname, id))
			grow_fail(S);
		use_taint(S, &rt, USE_STORE, eq);
	}
	value_checks(S, eq, b, l2);
	if (S->fn && nc >= 1)
		var_set(S->fn, key, &rt, merge);
}

static const char *const cond_kw[] = { "if", "while", "switch", NULL };

static void statement(struct scan *S, size_t a, size_t b)
{
	/* Prefixes (else, do, case x:, labels, if (...), for (...)) are peeled
	 * off in a loop, not by recursion: input may hold thousands of them. */
	while (a < b && !S->err) {
		if (tok_is(S, a, "else") || tok_is(S, a, "do")) {
			a++;
			continue;
		}
		if (tok_is(S, a, "case") || tok_is(S, a, "default")) {
			size_t k = a;
			while (k < b && !is_punct(S, k, ':'))
				k++;
			a = k + 1;
			continue;
		}
		if (tok_ident(S, a) && a + 1 < b && is_punct(S, a + 1, ':')) { /* label */
			a += 2;
			continue;
		}
		if (in_list(S, a, cond_kw) && a + 1 < b && is_punct(S, a + 1, '(')) {
			size_t c = match_close(S, a + 1, b);
			struct taint t = { 0 };
			eval(S, a + 2, c, &t, true);
			use_taint(S, &t, USE_COND, a + 2 < c ? a + 2 : a);
			a = c + 1;
			continue;
		}
		if (tok_is(S, a, "for") && a + 1 < b && is_punct(S, a + 1, '(')) {
			size_t c = match_close(S, a + 1, b);
			size_t p = a + 2;
			for (size_t k = a + 2; k <= c && k < b; k++)
				if (k == c || is_punct(S, k, ';')) {
					expr_stmt(S, p, k);
					p = k + 1;
				}
			a = c + 1;
			continue;
		}
		if (tok_is(S, a, "return")) {
			struct taint t = { 0 };
			report_memtype(S, a + 1, b,
				       "write-combined/uncached caching chosen for RAM shared with "
				       "the device");
			eval(S, a + 1, b, &t, true);
			use_taint(S, &t, USE_RETURN, a);
			return;
		}
		if (tok_is(S, a, "goto") || tok_is(S, a, "break") || tok_is(S, a, "continue"))
			return;
		expr_stmt(S, a, b);
		return;
	}
}

/* ------------------------------------------------------------------ */
/* Functions                                                            */
/* ------------------------------------------------------------------ */

static const char *const attr_names[] = {
	"__attribute__", "__acquires",	   "__releases", "__must_hold", "__printf", "__section",
	"__aligned",	 "__maybe_unused", "__init",	 "__exit",	NULL
};

/* If the '{' at i opens a function body, its name token; else SIZE_MAX. */
static size_t function_name(const struct scan *S, size_t i)
{
	size_t k = i;
	while (k > 0) {
		size_t p = k - 1;
		if (tok_ident(S, p) && in_list(S, p, attr_names)) {
			k = p;
			continue;
		}
		if (!is_punct(S, p, ')'))
			return SIZE_MAX;
		int d = 0;
		while (1) {
			if (is_punct(S, p, ')'))
				d++;
			else if (is_punct(S, p, '(') && --d == 0)
				break;
			if (p == 0)
				return SIZE_MAX;
			p--;
		}
		if (p == 0 || !tok_ident(S, p - 1))
			return SIZE_MAX;
		if (in_list(S, p - 1, attr_names)) {
			k = p - 1;
			continue;
		}
		if (in_list(S, p - 1, cond_kw) || tok_is(S, p - 1, "for"))
			return SIZE_MAX;
		return p - 1;
	}
	return SIZE_MAX;
}

static void body(struct scan *S, size_t a, size_t b)
{
	size_t s = a;
	for (size_t k = a; k < b && !S->err; k++) {
		if (is_punct(S, k, '(') || is_punct(S, k, '[')) {
			k = match_close(S, k, b);
			continue;
		}
		if (is_punct(S, k, '{')) {
			/* Initializer braces "= {" belong to the statement. */
			if (k > s && is_punct(S, k - 1, '=')) {
				k = match_close(S, k, b);
				continue;
			}
			statement(S, s, k);
			s = k + 1;
		} else if (is_punct(S, k, ';') || is_punct(S, k, '}')) {
			statement(S, s, k);
			s = k + 1;
		}
	}
	if (s < b)
		statement(S, s, b);
}

static void scan_tokens(struct scan *S)
{
	size_t i = 0;
	while (i < S->n && !S->err) {
		if (!is_punct(S, i, '{')) {
			i++;
			continue;
		}
		size_t close = match_close(S, i, S->n);
		size_t nm = function_name(S, i);
		if (nm != SIZE_MAX) {
			struct fn_state *F = calloc(1, sizeof(*F));
			if (!F) {
				grow_fail(S);
				return;
			}
			F->name = S->buf + S->t[nm].off;
			F->name_len = S->t[nm].len;
			for (int r = 0; r < HQIO_DVH_RULE_COUNT; r++)
				F->first[r] = -1;
			S->fn = F;
			body(S, i + 1, close);
			for (int r = 0; r < HQIO_DVH_RULE_COUNT; r++)
				if (F->first[r] >= 0 && S->report)
					S->out->v[F->first[r]].more_uses = F->more[r];
			S->fn = NULL;
			free(F);
		}
		i = close + 1;
	}
}

static bool has_sub(const char *s, size_t l, const char *p)
{
	size_t pl = strlen(p);
	for (size_t k = 0; k + pl <= l; k++)
		if (!memcmp(s + k, p, pl))
			return true;
	return false;
}

/* Macro class of a #define body: mirror register names, NVIDIA mirror
 * addresses, or macros already known to be mirrors. */
static unsigned def_class(struct scan *S, const struct dvh_def *d)
{
	const char *b = S->buf + d->body_off;
	size_t l = d->body_len, k = 0;
	unsigned cls = 0;
	while (k < l) {
		unsigned char c = (unsigned char)b[k];
		if (isalpha(c) || c == '_') {
			size_t e = k;
			while (e < l && (isalnum((unsigned char)b[e]) || b[e] == '_'))
				e++;
			for (int m = 0; mirror_ids[m]; m++)
				if (e - k >= strlen(mirror_ids[m]) &&
				    has_sub(b + k, e - k, mirror_ids[m]))
					cls |= M_CFG;
			for (int m = 0; chip_ids[m]; m++)
				if (e - k >= strlen(chip_ids[m]) &&
				    has_sub(b + k, e - k, chip_ids[m]))
					cls |= M_CHIP;
			cls |= known_kinds(S, b + k, e - k) & (M_CFG | M_CHIP);
			k = e;
		} else if (isdigit(c)) {
			char tmp[24];
			size_t e = k;
			while (e < l && isalnum((unsigned char)b[e]))
				e++;
			size_t tl = e - k < sizeof(tmp) - 1 ? e - k : sizeof(tmp) - 1;
			memcpy(tmp, b + k, tl);
			tmp[tl] = 0;
			unsigned long long v = strtoull(tmp, NULL, 0);
			if (v >= NV_CFG_MIRROR_LO && v <= NV_CFG_MIRROR_HI && tmp[0] == '0' &&
			    (tmp[1] == 'x' || tmp[1] == 'X'))
				cls |= M_CFG;
			k = e;
		} else {
			k++;
		}
	}
	return cls;
}

/* Learns the buffer's mirror macros into learned (two rounds, so a macro
 * defined through another one of the same file is found too). */
static int learn_macros(struct scan *S, const struct dvh_toks *toks,
			struct hqio_dvh_result *learned)
{
	for (int round = 0; round < 2; round++) {
		S->known = learned->fields;
		S->nknown = learned->nfields;
		if (build_hash(S))
			return -ENOMEM;
		for (size_t k = 0; k < toks->ndefs; k++) {
			const struct dvh_def *d = &toks->defs[k];
			unsigned cls = def_class(S, d);
			char name[HQIO_DVH_FIELD_MAX];
			if (!cls || d->name_len >= sizeof(name))
				continue;
			memcpy(name, S->buf + d->name_off, d->name_len);
			name[d->name_len] = 0;
			if (field_add(learned, name, cls)) {
				free(S->hash);
				S->hash = NULL;
				return -ENOMEM;
			}
		}
		free(S->hash);
		S->hash = NULL;
		S->hcap = 0;
	}
	S->known = NULL;
	S->nknown = 0;
	return 0;
}

int hqio_dvh_scan_buffer(const char *buf, size_t len, const struct hqio_dvh_opts *opts,
			 struct hqio_dvh_result *out)
{
	struct dvh_toks toks = { 0 };
	int rc = dvh_lex(buf, len, &toks);
	if (rc) {
		out->oom = 1;
		dvh_toks_free(&toks);
		return rc;
	}
	struct scan S = {
		.buf = buf,
		.t = toks.v,
		.n = toks.n,
		.rules = opts && opts->rules ? opts->rules : HQIO_DVH_ALL_RULES,
		.out = out,
	};
	if (build_match(&S)) {
		free(S.match);
		dvh_toks_free(&toks);
		out->oom = 1;
		return -ENOMEM;
	}
	/* Pass 1: learn the identity fields this buffer stores into and the
	 * macros that name mirror registers. */
	struct hqio_dvh_result learned = { 0 };
	S.out = &learned;
	S.report = false;
	rc = classify_tokens(&S, false); /* pass 1 reports nothing: no classes needed */
	if (!rc) {
		scan_tokens(&S);
		rc = S.err;
	}
	if (!rc && opts && opts->nfields)
		rc = hqio_dvh_fields_merge(&learned, opts->fields, opts->nfields);
	if (!rc)
		rc = learn_macros(&S, &toks, &learned);
	if (!rc && !(opts && opts->learn_only)) {
		/* Pass 2: report, with the learned and the known fields as sources. */
		S.out = out;
		S.report = true;
		S.known = learned.fields;
		S.nknown = learned.nfields;
		rc = build_hash(&S);
		if (!rc)
			rc = classify_tokens(&S, true);
		if (!rc) {
			scan_tokens(&S);
			rc = S.err;
		}
		free(S.hash);
		S.hash = NULL;
		S.hcap = 0;
	}
	if (!rc && hqio_dvh_fields_merge(out, learned.fields, learned.nfields))
		rc = -ENOMEM;
	hqio_dvh_result_free(&learned);
	free(S.match);
	free(S.tclass);
	dvh_toks_free(&toks);
	if (rc)
		out->oom = 1;
	return rc;
}

void hqio_dvh_result_free(struct hqio_dvh_result *r)
{
	free(r->v);
	free(r->fields);
	free(r->fidx);
	memset(r, 0, sizeof(*r));
}

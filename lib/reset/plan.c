/*
 * Reset planner (see hqio/reset.h): which reset methods can work for one
 * function, in the order to try them, why the others cannot, how quiesce
 * knows the device's DMA is over, and whether the function may be handed
 * to its owner at all.
 *
 * Methods, in Linux's default order (drivers/pci/pci.c
 * pci_reset_fn_methods[]: device_specific, acpi, flr, af_flr, pm, bus;
 * hqio has no ACPI _RST):
 *  - device_specific: a quirk with HQIO_QUIRK_DEVICE_RESET (the executor
 *    calls hooks.device_reset);
 *  - flr: PCIe Device Capabilities FLR (PCIe 5.0 §6.6.2, §7.5.3.3), not
 *    quirked HQIO_QUIRK_NO_FLR;
 *  - af_flr: Advanced Features capability with both TP and FLR (AF ECN;
 *    Linux pci_af_flr requires both), not quirked NO_FLR;
 *  - pm: PM capability with PMCSR No_Soft_Reset clear (PCI PM 1.2 §5.4.1),
 *    not quirked NO_PM_RESET;
 *  - bus: Secondary Bus Reset at the parent bridge (P2P 1.2 §3.2.5.18)
 *    resets everything below it. It needs a parent bridge (not a root
 *    bus), the function must not be a bridge itself, no quirk
 *    NO_BUS_RESET on it, on the parent bridge or on any function it also
 *    resets, every other function below the parent must go to the same
 *    owner, and none of them may be bound to a host driver (other than
 *    vfio-pci): a function still bound to a host driver is never reset
 *    behind its back.
 *
 * Group viability: the IOMMU translates by requester ID, and functions
 * that share an IOMMU group cannot be told apart, so every function of
 * the group must go to the same owner. Bridges in the group are the
 * exception (type 1 headers, such as the PCIe-to-PCI bridge whose
 * secondary-bus requester ID the conventional devices behind it alias
 * to): a bridge does no DMA of its own, and Linux's VFIO likewise lets a
 * group be used while its bridges stay with the host (pcieport or no
 * driver; vfio_dev_driver_allowed).
 */
#include "hqio/reset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Quiesce of a function without any Transactions Pending bit and without
 * a quirk that knows better: wait, after Bus Master Enable is cleared,
 * for 1 s. No specification bounds how long a conventional PCI master
 * may hold a DMA it has queued; the longest device-side latency
 * conventional PCI does define is Trhfa, 2^25 clocks (1 s at 33 MHz,
 * PCI LB 3.0 §4.3.2). The same order of magnitude covers Linux's wait for
 * Transactions Pending (pci_wait_for_pending: 100 + 200 + 400 ms) and the
 * 100 ms timers of emulated devices. The executor reports such an idle as
 * waited, not confirmed.
 */
#define HQIO_IDLE_WAIT_DEFAULT_NS (1000ull * 1000 * 1000)

const char *hqio_reset_method_name(enum hqio_reset_method m)
{
	static const char *const s[] = { "device_specific", "flr", "af_flr", "pm", "bus" };
	return (unsigned)m < HQIO_RM_COUNT ? s[m] : "?";
}

const char *hqio_idle_kind_name(enum hqio_idle_kind k)
{
	static const char *const s[] = { "tp_pcie", "tp_af", "register", "wait" };
	return (unsigned)k <= HQIO_IDLE_WAIT ? s[k] : "?";
}

/* ------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static void set_eval(struct hqio_method_eval *e, bool usable,
							   const char *fmt, ...)
{
	va_list ap;
	e->usable = usable;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

static const struct hqio_pci_node *find_node(const struct hqio_system *sys, struct hqio_bdf b)
{
	for (size_t i = 0; i < sys->n; i++)
		if (hqio_bdf_cmp(sys->nodes[i].bdf, b) == 0)
			return &sys->nodes[i];
	return NULL;
}

static bool decoded(const struct hqio_pci_node *n)
{
	return n && n->info && hqio_pci_decode_usable(n->decode_rc);
}

static bool is_bridge(const struct hqio_pci_node *n)
{
	return decoded(n) && (n->info->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE ||
			      n->info->header_type == HQIO_PCI_HEADER_TYPE_CARDBUS);
}

static bool same_group(const struct hqio_pci_node *a, const struct hqio_pci_node *b)
{
	return a->iommu_known && b->iommu_known && a->iommu_group >= 0 &&
	       a->iommu_group == b->iommu_group;
}

static bool host_driver(const struct hqio_pci_node *n)
{
	return n->driver[0] && strcmp(n->driver, "vfio-pci") != 0;
}

static bool is_vf(const struct hqio_pci_node *n)
{
	return n->is_vf_link || n->physfn_known || hqio_pci_looks_like_vf(n->info);
}

/* Vendor and device ID for quirk lookups: a VF reads 0xffff and takes
 * its PF's vendor and the SR-IOV VF Device ID (PCIe 5.0 §9.3.3.11). */
static void effective_ids(const struct hqio_system *sys, const struct hqio_pci_node *n,
			  uint16_t *vendor, uint16_t *device)
{
	*vendor = n->info->vendor_id;
	*device = n->info->device_id;
	if (*vendor != 0xffff)
		return;
	for (size_t i = 0; i < sys->n; i++) {
		const struct hqio_pci_node *pf = &sys->nodes[i];
		unsigned idx;
		uint16_t v, d;
		if (pf == n || !decoded(pf))
			continue;
		if (n->physfn_known && hqio_bdf_cmp(pf->bdf, n->physfn) != 0)
			continue;
		if (hqio_pci_vf_of(pf->info, pf->bdf, n->bdf, &idx, &v, &d) == 0) {
			*vendor = v;
			*device = d;
			return;
		}
	}
}

static const struct hqio_reset_quirk *quirk_of(const struct hqio_plan_input *in,
					       const struct hqio_pci_node *n)
{
	uint16_t v, d;
	if (!decoded(n))
		return NULL;
	effective_ids(in->sys, n, &v, &d);
	return hqio_reset_quirk_find(in->quirks, in->n_quirks, v, d);
}

static bool quirked(const struct hqio_reset_quirk *q, unsigned flag)
{
	return q && (q->flags & flag);
}

/* The owner another function goes to. */
static int owner_of(const struct hqio_plan_input *in, const struct hqio_pci_node *o)
{
	if (in->owner_of)
		return in->owner_of(in->owner_arg, o->bdf);
	return same_group(in->node, o) ? in->owner : HQIO_OWNER_HOST;
}

/* Append "BDF BDF ..." to out. */
static void list_bdfs(char *out, size_t len, const struct hqio_bdf *b, unsigned n)
{
	size_t used = strlen(out);
	for (unsigned i = 0; i < n && used < len; i++) {
		char s[HQIO_BDF_STR_MAX];
		int w = snprintf(out + used, len - used, "%s%s", i ? " " : "",
				 hqio_bdf_format(b[i], s, sizeof(s)));
		if (w < 0 || (size_t)w >= len - used) {
			out[used] = '\0';
			break;
		}
		used += (size_t)w;
	}
}

/* ------------------------------------------------------------------ */

static void eval_device_specific(struct hqio_reset_plan *pl, const struct hqio_reset_quirk *q)
{
	struct hqio_method_eval *e = &pl->eval[HQIO_RM_DEVICE_SPECIFIC];
	if (quirked(q, HQIO_QUIRK_DEVICE_RESET))
		set_eval(e, true, "quirk: device-specific reset (%s)", q->why ? q->why : "");
	else
		set_eval(e, false, "no device-specific reset known");
}

static void eval_flr(const struct hqio_pci_info *in, struct hqio_reset_plan *pl,
		     const struct hqio_reset_quirk *q)
{
	struct hqio_method_eval *e = &pl->eval[HQIO_RM_FLR];
	if (in->std.unreadable)
		set_eval(e, false, "capabilities not readable");
	else if (!in->exp.present)
		set_eval(e, false, "no PCI Express capability");
	else if (!in->exp.flr)
		set_eval(e, false, "PCIe DevCap FLReset-");
	else if (quirked(q, HQIO_QUIRK_NO_FLR))
		set_eval(e, false, "PCIe DevCap FLReset+, but quirk: FLR broken (%s)",
			 q->why ? q->why : "");
	else
		set_eval(e, true, "PCIe DevCap FLReset+");
}

static void eval_af_flr(const struct hqio_pci_info *in, struct hqio_reset_plan *pl,
			const struct hqio_reset_quirk *q)
{
	struct hqio_method_eval *e = &pl->eval[HQIO_RM_AF_FLR];
	if (in->std.unreadable)
		set_eval(e, false, "capabilities not readable");
	else if (!in->af.present)
		set_eval(e, false, "no Advanced Features capability");
	else if (!in->af.tp || !in->af.flr)
		set_eval(e, false, "AF capability without %s", !in->af.flr ? "FLR" : "TP");
	else if (quirked(q, HQIO_QUIRK_NO_FLR))
		set_eval(e, false, "AF capability with TP+ FLR+, but quirk: FLR broken (%s)",
			 q->why ? q->why : "");
	else
		set_eval(e, true, "AF capability with TP+ FLR+");
}

static void eval_pm(const struct hqio_pci_info *in, struct hqio_reset_plan *pl,
		    const struct hqio_reset_quirk *q)
{
	struct hqio_method_eval *e = &pl->eval[HQIO_RM_PM];
	if (in->std.unreadable)
		set_eval(e, false, "capabilities not readable");
	else if (!in->pm.present)
		set_eval(e, false, "no Power Management capability");
	else if (in->pm.no_soft_reset)
		set_eval(e, false, "PMCSR No_Soft_Reset+: D3hot->D0 keeps the state");
	else if (quirked(q, HQIO_QUIRK_NO_PM_RESET))
		set_eval(e, false, "No_Soft_Reset-, but quirk: D3hot->D0 resets nothing (%s)",
			 q->why ? q->why : "");
	else
		set_eval(e, true, "PM D3hot->D0 with No_Soft_Reset-");
}

/* What the parent bridge tells the executor (delays after a bus reset). */
static void describe_parent(const struct hqio_pci_node *p, struct hqio_reset_plan *pl)
{
	if (!decoded(p))
		return;
	const struct hqio_pci_info *pi = p->info;
	if (pi->exp.present && pi->exp.has_link)
		pl->parent_link_speed = pi->exp.link_speed_max;
	/* A PCIe-to-PCI bridge, or a bridge without a PCIe capability, has a
	 * conventional PCI secondary bus: Trhfa applies after its reset. */
	if (pi->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE)
		pl->parent_conventional_secondary =
			!pi->exp.present || pi->exp.port_type == HQIO_PCI_EXP_TYPE_PCI_BRIDGE;
}

static void eval_bus(const struct hqio_plan_input *in, struct hqio_reset_plan *pl,
		     const struct hqio_reset_quirk *q)
{
	const struct hqio_pci_node *n = in->node;
	struct hqio_method_eval *e = &pl->eval[HQIO_RM_BUS];
	char b[HQIO_BDF_STR_MAX], ob[HQIO_BDF_STR_MAX];

	if (is_bridge(n)) {
		set_eval(e, false,
			 "a bridge: it has a subordinate bus that a bus reset would take down");
		return;
	}
	if (quirked(q, HQIO_QUIRK_NO_BUS_RESET)) {
		set_eval(e, false, "quirk: a bus reset breaks it (%s)", q->why ? q->why : "");
		return;
	}
	if (!n->parent_known) {
		set_eval(e, false, "parent bridge unknown%s", n->sysfs ? "" : " (not in the dump)");
		return;
	}
	if (n->on_root_bus) {
		set_eval(e, false, "on a root bus: no parent bridge to reset");
		return;
	}
	pl->parent = n->parent;
	hqio_bdf_format(n->parent, b, sizeof(b));

	/* Everything below the parent bridge is reset with us. */
	const struct hqio_pci_node *p = find_node(in->sys, n->parent);
	unsigned lo = n->bdf.bus, hi = n->bdf.bus;
	if (decoded(p) && p->info->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE &&
	    p->info->secondary_bus == n->bdf.bus && p->info->subordinate_bus >= lo)
		hi = p->info->subordinate_bus;
	describe_parent(p, pl);

	unsigned n_others = 0;
	const struct hqio_pci_node *bound = NULL, *fragile = NULL, *foreign = NULL;
	for (size_t i = 0; i < in->sys->n; i++) {
		const struct hqio_pci_node *o = &in->sys->nodes[i];
		if (o == n || o->bdf.domain != n->bdf.domain || o->bdf.bus < lo || o->bdf.bus > hi)
			continue;
		n_others++;
		if (pl->n_affected < HQIO_PLAN_MAX_AFFECTED)
			pl->affected[pl->n_affected++] = o->bdf;
		if (!bound && host_driver(o))
			bound = o;
		if (!fragile && quirked(quirk_of(in, o), HQIO_QUIRK_NO_BUS_RESET))
			fragile = o;
		if (!foreign && owner_of(in, o) != in->owner)
			foreign = o;
	}
	const struct hqio_reset_quirk *pq = quirk_of(in, p);

	if (quirked(pq, HQIO_QUIRK_NO_BUS_RESET))
		set_eval(e, false, "bridge %s: quirk: its bus reset fails (%s)", b,
			 pq->why ? pq->why : "");
	else if (n_others == 0)
		set_eval(e, true, "alone below bridge %s%s", b,
			 n->sysfs ? "" : " (as far as the dump shows)");
	else if (fragile)
		set_eval(e, false,
			 "bridge %s; would also reset %s, which a bus reset breaks (quirk)", b,
			 hqio_bdf_format(fragile->bdf, ob, sizeof(ob)));
	else if (foreign && !in->owner_of && !n->iommu_known)
		set_eval(e, false,
			 "bridge %s; also resets %u other function(s): usable only if they go to "
			 "the same owner",
			 b, n_others);
	else if (foreign)
		set_eval(e, false, "bridge %s; would also reset %u function(s) of other owners", b,
			 n_others);
	else if (bound)
		set_eval(e, false, "bridge %s; would also reset %s, still bound to host driver %s",
			 b, hqio_bdf_format(bound->bdf, ob, sizeof(ob)), bound->driver);
	else
		set_eval(e, true,
			 in->owner_of ? "bridge %s; also resets %u other function(s), all of the "
					"same owner"
				      : "bridge %s; also resets %u other function(s), all in the "
					"same IOMMU group",
			 b, n_others);
}

/* How quiesce knows the DMA is over. A quirk that distrusts the device's
 * TP bit wins over any TP bit; then the PCIe one; then AF TP; else wait. */
static void plan_idle(const struct hqio_pci_info *in, struct hqio_reset_plan *pl,
		      const struct hqio_reset_quirk *q)
{
	if (quirked(q, HQIO_QUIRK_TP_UNTRUSTED)) {
		pl->idle = q->idle == HQIO_IDLE_REGISTER ? HQIO_IDLE_REGISTER : HQIO_IDLE_WAIT;
		pl->idle_bar = q->idle_bar;
		pl->idle_off = q->idle_off;
		pl->idle_mask = q->idle_mask;
		pl->idle_value = q->idle_value;
		pl->idle_wait_ns = q->idle_wait_ns;
		if (pl->idle == HQIO_IDLE_WAIT && !pl->idle_wait_ns)
			pl->idle_wait_ns = HQIO_IDLE_WAIT_DEFAULT_NS;
	} else if (!in->std.unreadable && in->exp.present) {
		pl->idle = HQIO_IDLE_TP_PCIE;
	} else if (!in->std.unreadable && in->af.present && in->af.tp) {
		pl->idle = HQIO_IDLE_TP_AF;
	} else {
		pl->idle = HQIO_IDLE_WAIT;
		pl->idle_wait_ns = HQIO_IDLE_WAIT_DEFAULT_NS;
	}
}

static void plan_group(const struct hqio_plan_input *in, struct hqio_reset_plan *pl)
{
	const struct hqio_pci_node *n = in->node;
	pl->group_viable = true;
	if (!in->owner_of || !n->iommu_known || n->iommu_group < 0)
		return;
	for (size_t i = 0; i < in->sys->n; i++) {
		const struct hqio_pci_node *o = &in->sys->nodes[i];
		if (o == n || !same_group(n, o) || is_bridge(o))
			continue;
		if (owner_of(in, o) == in->owner)
			continue;
		pl->group_viable = false;
		if (pl->n_group_others < HQIO_PLAN_MAX_AFFECTED)
			pl->group_others[pl->n_group_others++] = o->bdf;
	}
}

__attribute__((format(printf, 2, 3))) static void refuse(struct hqio_reset_plan *pl,
							 const char *fmt, ...)
{
	va_list ap;
	pl->refused = true;
	va_start(ap, fmt);
	vsnprintf(pl->refusal, sizeof(pl->refusal), fmt, ap);
	va_end(ap);
}

/* "no reset method: bus: ...; flr: ...; af_flr: ...; pm: ... (use --force
 * ...)": as many reasons as fit, the advice always. The bus reset comes
 * first: its reason depends on the topology and the owners, the others
 * only on the device. */
static void refuse_no_method(struct hqio_reset_plan *pl)
{
	static const char tail[] = " (use --force to assign anyway)";
	static const char more[] = "; ...";
	char body[sizeof(pl->refusal)];
	size_t room = sizeof(body) - sizeof(tail) - sizeof(more) + 1;
	size_t used = (size_t)snprintf(body, sizeof(body), "no reset method: ");
	bool first = true;
	static const enum hqio_reset_method order[] = { HQIO_RM_BUS, HQIO_RM_FLR, HQIO_RM_AF_FLR,
							HQIO_RM_PM };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum hqio_reset_method m = order[i];
		char item[sizeof(pl->eval[m].reason) + 24];
		int w = snprintf(item, sizeof(item), "%s%s: %s", first ? "" : "; ",
				 hqio_reset_method_name(m), pl->eval[m].reason);
		if (w < 0 || used + (size_t)w >= room) {
			memcpy(body + used, more, sizeof(more));
			used += sizeof(more) - 1;
			break;
		}
		memcpy(body + used, item, (size_t)w + 1);
		used += (size_t)w;
		first = false;
	}
	refuse(pl, "%s%s", body, tail);
}

int hqio_reset_plan(const struct hqio_plan_input *in, struct hqio_reset_plan *pl,
		    struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	if (!in || !pl || !in->sys || !in->node)
		return hqio_error_set(err, -EINVAL, "reset plan: no system or function given");
	const struct hqio_pci_node *n = in->node;
	memset(pl, 0, sizeof(*pl));
	pl->bdf = n->bdf;
	hqio_bdf_format(n->bdf, b, sizeof(b));
	if (!decoded(n))
		return hqio_error_set(err, -EINVAL, "%s: configuration space not decoded%s%s", b,
				      n->decode_msg[0] ? ": " : "", n->decode_msg);
	const struct hqio_pci_info *ci = n->info;
	const struct hqio_reset_quirk *q = quirk_of(in, n);
	pl->quirk = q;
	pl->vf = is_vf(n);

	if (ci->exp.present)
		pl->exp = ci->exp.offset;
	if (ci->af.present)
		pl->af = ci->af.offset;
	if (ci->pm.present)
		pl->pm = ci->pm.offset;
	if (ci->msi.present)
		pl->msi = ci->msi.offset;
	if (ci->msix.present)
		pl->msix = ci->msix.offset;
	if (ci->ats.present)
		pl->ats = ci->ats.offset;
	pl->imm_ready = ci->imm_ready;
	pl->ats_enabled = ci->ats.present && ci->ats.enabled;

	eval_device_specific(pl, q);
	eval_flr(ci, pl, q);
	eval_af_flr(ci, pl, q);
	eval_pm(ci, pl, q);
	eval_bus(in, pl, q);
	for (int m = 0; m < HQIO_RM_COUNT; m++)
		if (pl->eval[m].usable)
			pl->methods[pl->n_methods++] = (enum hqio_reset_method)m;

	plan_idle(ci, pl, q);
	plan_group(in, pl);

	/* Refusals, most fundamental first. */
	if (ci->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE) {
		refuse(pl, "a bridge (type 1 header): only endpoints are assignable");
	} else if (ci->header_type != HQIO_PCI_HEADER_TYPE_NORMAL) {
		refuse(pl, "header type %u: only type 0 functions are assignable", ci->header_type);
	} else if ((ci->class_code >> 8) == HQIO_PCI_CLASS_BRIDGE_HOST) {
		refuse(pl, "a host bridge: a platform resource, not a device to assign");
	} else if (!pl->group_viable) {
		char list[160] = "";
		list_bdfs(list, sizeof(list), pl->group_others, pl->n_group_others);
		refuse(pl,
		       "group not viable: IOMMU group %d also holds %s, not going to owner %d; "
		       "the whole group must go to one owner",
		       n->iommu_group, list, in->owner);
	} else if (pl->n_methods == 0 && !in->force) {
		refuse_no_method(pl);
	}
	return 0;
}

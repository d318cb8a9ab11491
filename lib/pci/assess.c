/*
 * Assignability assessment of one PCI function (see hqio/inspect.h).
 *
 * Reset methods are the planner's (lib/reset/plan.c, hqio_reset_plan):
 * the same rules the executor relies on, with the whole IOMMU group as one
 * owner. What a dump cannot show stays unknown here: capabilities that
 * were not read, a parent bridge missing from the dump, and a bus reset
 * that also resets functions whose IOMMU group is not known.
 */
#include "hqio/inspect.h"
#include "hqio/reset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hqio_level_str(enum hqio_level l)
{
	static const char *const s[] = { "ok", "note", "degraded", "unsafe" };
	return l <= HQIO_LEVEL_UNSAFE ? s[l] : "?";
}

const char *hqio_verdict_str(enum hqio_level l)
{
	return l >= HQIO_LEVEL_UNSAFE ? "unsafe" : l == HQIO_LEVEL_DEGRADED ? "degraded" : "ready";
}

const char *hqio_reset_name(enum hqio_reset_kind k)
{
	static const char *const s[] = { "flr", "af_flr", "pm", "bus" };
	return k < HQIO_RESET_COUNT ? s[k] : "?";
}

__attribute__((format(printf, 3, 4))) static void reason(struct hqio_assessment *a,
							 enum hqio_level l, const char *fmt, ...)
{
	if (l > a->verdict)
		a->verdict = l;
	if (a->n_reasons >= HQIO_MAX_REASONS)
		return;
	struct hqio_reason *r = &a->reasons[a->n_reasons++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	r->level = l;
}

static void set_reset(struct hqio_reset_eval *r, enum hqio_tristate usable, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_reset(struct hqio_reset_eval *r, enum hqio_tristate usable, const char *fmt, ...)
{
	va_list ap;
	r->usable = usable;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

static const struct hqio_pci_node *find_c(const struct hqio_system *sys, struct hqio_bdf b)
{
	for (size_t i = 0; i < sys->n; i++)
		if (hqio_bdf_cmp(sys->nodes[i].bdf, b) == 0)
			return &sys->nodes[i];
	return NULL;
}

static bool usable_info(const struct hqio_pci_node *n)
{
	return n && n->info && hqio_pci_decode_usable(n->decode_rc);
}

/* Assess calls the planner with one owner for the whole IOMMU group; a
 * second call with an owner for everything tells whether a bus reset that
 * failed only for want of IOMMU groups (a dump) could work. */
static int everyone_same_owner(void *arg, struct hqio_bdf bdf)
{
	(void)arg;
	(void)bdf;
	return 1;
}

static bool host_bound(const struct hqio_pci_node *n)
{
	return n->driver[0] && strcmp(n->driver, "vfio-pci") != 0;
}

static bool in_group_of(const struct hqio_pci_node *n, const struct hqio_pci_node *o)
{
	return n->iommu_known && o->iommu_known && n->iommu_group >= 0 &&
	       n->iommu_group == o->iommu_group;
}

/*
 * inspect judges a function as it will be once assigned: the rest of its
 * IOMMU group goes with it, unbound from its host drivers first. The
 * planner judges the system as it is now (a function still bound to a
 * host driver blocks a bus reset), so give it that view. Should the copy
 * fail, the planner's stricter answer stands.
 */
static int plan_as_assigned(const struct hqio_plan_input *pin, struct hqio_reset_plan *plan)
{
	const struct hqio_system *sys = pin->sys;
	const struct hqio_pci_node *n = pin->node;
	size_t idx = (size_t)(n - sys->nodes);
	bool bound = false;
	for (size_t i = 0; i < sys->n && !bound; i++)
		bound = &sys->nodes[i] != n && in_group_of(n, &sys->nodes[i]) &&
			host_bound(&sys->nodes[i]);
	struct hqio_system view = *sys;
	if (!bound || n < sys->nodes || idx >= sys->n ||
	    !(view.nodes = malloc(sys->n * sizeof(*view.nodes))))
		return hqio_reset_plan(pin, plan, NULL);
	memcpy(view.nodes, sys->nodes, sys->n * sizeof(*view.nodes));
	for (size_t i = 0; i < view.n; i++)
		if (in_group_of(n, &view.nodes[i]))
			view.nodes[i].driver[0] = '\0';
	struct hqio_plan_input vin = *pin;
	vin.sys = &view;
	vin.node = &view.nodes[idx];
	int rc = hqio_reset_plan(&vin, plan, NULL);
	free(view.nodes);
	return rc;
}

static void eval_resets(const struct hqio_system *sys, const struct hqio_pci_node *n,
			struct hqio_assessment *a)
{
	static const enum hqio_reset_method method_of[HQIO_RESET_COUNT] = {
		[HQIO_RESET_FLR] = HQIO_RM_FLR,
		[HQIO_RESET_AF_FLR] = HQIO_RM_AF_FLR,
		[HQIO_RESET_PM] = HQIO_RM_PM,
		[HQIO_RESET_BUS] = HQIO_RM_BUS,
	};
	const struct hqio_pci_info *in = n->info;
	struct hqio_plan_input pin = { .sys = sys, .node = n, .owner = 1 };
	struct hqio_reset_plan plan;
	struct hqio_reset_eval *r;

	if (plan_as_assigned(&pin, &plan) < 0)
		memset(&plan, 0, sizeof(plan)); /* not reached: n is decoded */
	for (int k = 0; k < HQIO_RESET_COUNT; k++) {
		const struct hqio_method_eval *e = &plan.eval[method_of[k]];
		r = &a->resets[k];
		r->kind = (enum hqio_reset_kind)k;
		r->linux_lists = HQIO_UNKNOWN;
		set_reset(r, e->usable ? HQIO_YES : HQIO_NO, "%s", e->reason);
		/* Capabilities that could not be read are unknown, not absent. */
		if (k != HQIO_RESET_BUS && in->std.unreadable)
			r->usable = HQIO_UNKNOWN;
	}
	r = &a->resets[HQIO_RESET_BUS];
	r->n_affected = plan.n_affected;
	memcpy(r->affected, plan.affected, plan.n_affected * sizeof(plan.affected[0]));
	bool quirk_no_bus = plan.quirk && (plan.quirk->flags & HQIO_QUIRK_NO_BUS_RESET);
	bool bridge = in->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE ||
		      in->header_type == HQIO_PCI_HEADER_TYPE_CARDBUS;
	if (r->usable == HQIO_NO && !bridge && !quirk_no_bus) {
		if (!n->parent_known) {
			r->usable = HQIO_UNKNOWN; /* a dump without the parent bridge */
		} else if (!n->iommu_known && plan.n_affected) {
			/* plan is no longer needed: r holds what is shown */
			pin.owner_of = everyone_same_owner;
			if (plan_as_assigned(&pin, &plan) == 0 && plan.eval[HQIO_RM_BUS].usable)
				r->usable = HQIO_UNKNOWN;
		}
	}

	if (!n->reset_method_known)
		return;
	/* Compare with Linux's probe results (sysfs reset_method). */
	char buf[sizeof(n->reset_method) + 2];
	snprintf(buf, sizeof(buf), " %s ", n->reset_method);
	a->linux_agrees = HQIO_YES;
	size_t used = 0;
	a->linux_diff[0] = '\0';
	for (int k = 0; k < HQIO_RESET_COUNT; k++) {
		char tok[16];
		snprintf(tok, sizeof(tok), " %s ", hqio_reset_name((enum hqio_reset_kind)k));
		r = &a->resets[k];
		r->linux_lists = strstr(buf, tok) ? HQIO_YES : HQIO_NO;
		if (r->usable == HQIO_UNKNOWN || (int)r->usable == (int)r->linux_lists)
			continue;
		a->linux_agrees = HQIO_NO;
		int w = snprintf(a->linux_diff + used, sizeof(a->linux_diff) - used, "%s%s %s",
				 used ? ", " : "", hqio_reset_name((enum hqio_reset_kind)k),
				 r->linux_lists == HQIO_YES ? "listed by Linux only"
							    : "found by hqio only");
		if (w > 0 && (size_t)w < sizeof(a->linux_diff) - used)
			used += (size_t)w;
	}
}

static void eval_acs(const struct hqio_system *sys, const struct hqio_pci_node *n,
		     struct hqio_assessment *a)
{
	const struct hqio_pci_node *cur = n;
	a->acs_path_ok = HQIO_YES;

	/* A multi-function device must itself isolate its functions
	 * (PCIe 5.0 §6.12.1.2); a downstream or root port must redirect
	 * peer-to-peer requests upstream (§6.12.1.1). */
	for (unsigned depth = 0; cur && depth < 16; depth++) {
		const struct hqio_pci_info *in = cur->info;
		if (!usable_info(cur)) {
			a->acs_path_ok = HQIO_UNKNOWN;
			break;
		}
		bool port = in->exp.present && (in->exp.port_type == HQIO_PCI_EXP_TYPE_ROOT_PORT ||
						in->exp.port_type == HQIO_PCI_EXP_TYPE_DOWNSTREAM);
		bool mfd = cur == n && in->multifunction && in->exp.present;
		if (port || mfd) {
			struct hqio_acs_hop *h = &a->acs[a->n_acs++];
			h->bdf = cur->bdf;
			h->applies = true;
			h->acs_present = in->acs.present;
			h->ctrl = in->acs.ctrl;
			h->isolates = in->acs.present && (in->acs.ctrl & HQIO_PCI_ACS_ISOLATION) ==
								 HQIO_PCI_ACS_ISOLATION;
			if (in->ext.unreadable)
				a->acs_path_ok = HQIO_UNKNOWN;
			else if (!h->isolates && a->acs_path_ok == HQIO_YES)
				a->acs_path_ok = HQIO_NO;
		}
		if (a->n_acs >= sizeof(a->acs) / sizeof(a->acs[0]))
			break;
		if (!cur->parent_known) {
			if (cur != n || !cur->on_root_bus)
				a->acs_path_ok = a->acs_path_ok == HQIO_NO ? HQIO_NO : HQIO_UNKNOWN;
			break;
		}
		if (cur->on_root_bus)
			break;
		const struct hqio_pci_node *p = find_c(sys, cur->parent);
		if (!p) {
			a->acs_path_ok = a->acs_path_ok == HQIO_NO ? HQIO_NO : HQIO_UNKNOWN;
			break;
		}
		cur = p;
	}
}

static void find_vf(const struct hqio_system *sys, const struct hqio_pci_node *n,
		    struct hqio_assessment *a)
{
	const struct hqio_pci_info *in = n->info;
	if (!(n->is_vf_link || hqio_pci_looks_like_vf(in)))
		return;
	a->vf = true;
	for (size_t i = 0; i < sys->n; i++) {
		const struct hqio_pci_node *pf = &sys->nodes[i];
		if (pf == n || !usable_info(pf))
			continue;
		if (n->physfn_known && hqio_bdf_cmp(pf->bdf, n->physfn) != 0)
			continue;
		if (hqio_pci_vf_of(pf->info, pf->bdf, n->bdf, &a->vf_index, &a->vendor_id,
				   &a->device_id) == 0) {
			a->vf_pf_known = true;
			a->vf_pf = pf->bdf;
			return;
		}
	}
}

static void eval_group(const struct hqio_system *sys, const struct hqio_pci_node *n,
		       struct hqio_assessment *a)
{
	if (!n->iommu_known) {
		a->iommu_group = -2;
		return;
	}
	a->iommu_group = n->iommu_group;
	if (n->iommu_group < 0)
		return;
	for (size_t i = 0; i < sys->n && a->n_group < HQIO_MAX_GROUP; i++)
		if (sys->nodes[i].iommu_known && sys->nodes[i].iommu_group == n->iommu_group)
			a->group[a->n_group++] = sys->nodes[i].bdf;
}

static void list_bdfs(char *out, size_t len, const struct hqio_bdf *b, unsigned n,
		      struct hqio_bdf skip)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		char s[HQIO_BDF_STR_MAX];
		if (hqio_bdf_cmp(b[i], skip) == 0)
			continue;
		int w = snprintf(out + used, len - used, "%s%s", used ? " " : "",
				 hqio_bdf_format(b[i], s, sizeof(s)));
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

static void judge(const struct hqio_system *sys, const struct hqio_pci_node *n,
		  struct hqio_assessment *a)
{
	const struct hqio_pci_info *in = n->info;
	char list[160], b[HQIO_BDF_STR_MAX];

	if (n->decode_rc == -EBADMSG)
		reason(a, HQIO_LEVEL_UNSAFE, "malformed configuration space: %s", n->decode_msg);
	/* Functions that are never assigned get that one reason, not a list of
	 * what else they lack. */
	if (in->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE) {
		reason(a, HQIO_LEVEL_UNSAFE,
		       "a bridge (type 1 header): only endpoints are assignable");
		return;
	}
	if (in->header_type != HQIO_PCI_HEADER_TYPE_NORMAL) {
		reason(a, HQIO_LEVEL_UNSAFE, "header type %u: only type 0 functions are assignable",
		       in->header_type);
		return;
	}
	if ((in->class_code >> 8) == HQIO_PCI_CLASS_BRIDGE_HOST) {
		reason(a, HQIO_LEVEL_UNSAFE,
		       "a host bridge: a platform resource, not a device to assign");
		return;
	}

	if (n->cfg_size && n->cfg_len < n->cfg_size)
		reason(a, HQIO_LEVEL_DEGRADED,
		       "only %zu of %zu bytes of configuration space readable (not root): "
		       "capabilities not checked",
		       n->cfg_len, n->cfg_size);
	else if (in->std.unreadable)
		reason(a, HQIO_LEVEL_DEGRADED,
		       "only %zu bytes of configuration space available: capabilities not checked",
		       n->cfg_len);
	else if (in->exp.present && in->ext.unreadable)
		reason(a, HQIO_LEVEL_NOTE,
		       "extended configuration space not available: AER, ACS, SR-IOV, ATS not "
		       "checked");

	if (a->vf) {
		if (a->vf_pf_known)
			reason(a, HQIO_LEVEL_NOTE, "SR-IOV virtual function %u of PF %s",
			       a->vf_index, hqio_bdf_format(a->vf_pf, b, sizeof(b)));
		else
			reason(a, HQIO_LEVEL_NOTE,
			       "SR-IOV virtual function (IDs read 0xffff); its PF is not known "
			       "here");
	}

	/* Reset. */
	bool any_yes = false, any_unknown = false, only_bus = true;
	for (int k = 0; k < HQIO_RESET_COUNT; k++) {
		if (a->resets[k].usable == HQIO_YES) {
			any_yes = true;
			if (k != HQIO_RESET_BUS)
				only_bus = false;
		} else if (a->resets[k].usable == HQIO_UNKNOWN) {
			any_unknown = true;
		}
	}
	if (!any_yes && !any_unknown)
		reason(a, HQIO_LEVEL_UNSAFE,
		       "no reset method: the device cannot be put in a known state on assignment "
		       "or reclaim");
	else if (!any_yes)
		reason(a, HQIO_LEVEL_DEGRADED, "no reset method confirmed (see the reset list)");
	else if (only_bus)
		reason(a, HQIO_LEVEL_DEGRADED,
		       "only a secondary bus reset: slower, and resets everything below the "
		       "bridge");
	if (a->linux_agrees == HQIO_NO)
		reason(a, HQIO_LEVEL_NOTE, "Linux reset_method differs: %s", a->linux_diff);

	/* Quiesce: is there a trustworthy Transactions Pending bit? */
	if (!in->std.unreadable && !in->exp.present && !(in->af.present && in->af.tp))
		reason(a, HQIO_LEVEL_DEGRADED,
		       "no Transactions Pending bit (conventional PCI without AF TP): quiesce "
		       "needs "
		       "a device-specific idle check");

	/* Interrupts. */
	if (!in->std.unreadable && !a->msi && !a->msix)
		reason(a, HQIO_LEVEL_DEGRADED,
		       a->intx ? "INTx only: no dedicated host MSI, the line may be shared"
			       : "no interrupt at all (no INTx pin, MSI or MSI-X)");

	/* Isolation. */
	if (a->iommu_group == -2)
		reason(a, HQIO_LEVEL_DEGRADED,
		       "IOMMU group unknown (not in a dump): isolation not checked");
	else if (a->iommu_group == -1)
		reason(a, HQIO_LEVEL_UNSAFE,
		       "no IOMMU group: device DMA cannot be confined (no IOMMU, or it is off)");
	else if (a->n_group > 1) {
		list_bdfs(list, sizeof(list), a->group, a->n_group, n->bdf);
		reason(a, HQIO_LEVEL_DEGRADED,
		       "IOMMU group %d also holds %s: they must be assigned together",
		       a->iommu_group, list);
	}
	for (unsigned i = 0; i < a->n_acs; i++) {
		const struct hqio_acs_hop *h = &a->acs[i];
		if (h->isolates)
			continue;
		hqio_bdf_format(h->bdf, b, sizeof(b));
		if (!h->acs_present)
			reason(a, n->iommu_known ? HQIO_LEVEL_NOTE : HQIO_LEVEL_DEGRADED,
			       "no ACS at %s: peer-to-peer requests may bypass the IOMMU%s", b,
			       n->iommu_known ? " (the IOMMU group accounts for it)" : "");
		else
			reason(a, n->iommu_known ? HQIO_LEVEL_NOTE : HQIO_LEVEL_DEGRADED,
			       "ACS at %s lacks SV/RR/CR/UF control (ctrl 0x%04x)", b, h->ctrl);
	}

	/* Caching and translation. */
	if (a->no_snoop == HQIO_YES)
		reason(a, HQIO_LEVEL_NOTE,
		       "Enable No Snoop set: guest memory types must reach the host page tables");
	if (a->ats_enabled == HQIO_YES)
		reason(a, HQIO_LEVEL_NOTE,
		       "ATS enabled: reclaim must invalidate the device's translation cache");
	if (in->pm.present && in->pm.state != 0)
		reason(a, HQIO_LEVEL_NOTE, "in D%u%s", in->pm.state,
		       in->pm.state == 3 ? "hot" : "");
	if (n->driver[0])
		reason(a, HQIO_LEVEL_NOTE, "bound to host driver %s: it is unbound on assignment",
		       n->driver);
	if (in->std.misaligned || in->ext.misaligned)
		reason(a, HQIO_LEVEL_NOTE, "a capability pointer has its reserved low bits set");
	(void)sys;
}

/* Most serious first; equal levels keep the order they were found in. */
static void sort_reasons(struct hqio_assessment *a)
{
	for (unsigned i = 1; i < a->n_reasons; i++) {
		struct hqio_reason r = a->reasons[i];
		unsigned k = i;
		while (k > 0 && a->reasons[k - 1].level < r.level) {
			a->reasons[k] = a->reasons[k - 1];
			k--;
		}
		a->reasons[k] = r;
	}
}

void hqio_assess(const struct hqio_system *sys, const struct hqio_pci_node *n,
		 struct hqio_assessment *a)
{
	memset(a, 0, sizeof(*a));
	a->bdf = n->bdf;
	a->iommu_group = -2;
	a->linux_agrees = HQIO_UNKNOWN;
	a->acs_path_ok = HQIO_UNKNOWN;
	a->no_snoop = HQIO_UNKNOWN;
	a->ats_enabled = HQIO_UNKNOWN;
	if (!usable_info(n)) {
		for (int k = 0; k < HQIO_RESET_COUNT; k++) {
			a->resets[k].kind = (enum hqio_reset_kind)k;
			a->resets[k].linux_lists = HQIO_UNKNOWN;
			set_reset(&a->resets[k], HQIO_UNKNOWN, "configuration space not decoded");
		}
		reason(a, HQIO_LEVEL_UNSAFE, "%s",
		       n->decode_msg[0] ? n->decode_msg : "configuration space not decoded");
		return;
	}
	const struct hqio_pci_info *in = n->info;
	a->vendor_id = in->vendor_id;
	a->device_id = in->device_id;
	a->intx = in->int_pin >= 1 && in->int_pin <= 4;
	a->msi = in->msi.present;
	a->msi_vectors = in->msi.present ? in->msi.vectors_capable : 0;
	a->msix = in->msix.present;
	a->msix_vectors = in->msix.present ? in->msix.table_size : 0;
	if (!in->std.unreadable) {
		a->no_snoop = in->exp.present && in->exp.no_snoop_enabled ? HQIO_YES : HQIO_NO;
		if (!in->exp.present || !in->ext.unreadable)
			a->ats_enabled = in->ats.present && in->ats.enabled ? HQIO_YES : HQIO_NO;
	}
	find_vf(sys, n, a);
	eval_resets(sys, n, a);
	eval_group(sys, n, a);
	eval_acs(sys, n, a);
	judge(sys, n, a);
	sort_reasons(a);
}

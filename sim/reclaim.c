/*
 * Randomized reclaim experiment (see reclaim.h).
 *
 * Units are what is assigned together: the NVMe-like controller, both
 * functions of the dual-port NIC (one IOMMU group), the HD-Audio-like
 * controller, the two conventional NICs behind the PCIe-to-PCI bridge (one
 * requester ID), the GPU-like device, the well-behaved edu-like device and
 * two faulty edu-like devices added on the root bus: one whose queued DMA
 * survives Bus Master off and reset, one that holds it until Bus Master is
 * set again. Each run: the owner programs a DMA (a pattern that names its
 * epoch), a random delay (often shorter than the transfer), the reclaim,
 * and the next owner maps the same IOVA (usually onto the very page just
 * released) and enables Bus Master at once.
 */
#include "reclaim.h"

#include "devices/devices.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IOVA	   0x100000ULL
#define XFER_BYTES 64u
#define POOL_PAGES 64u
#define RING	   16u

struct xfer {
	uint64_t epoch;
	uint8_t pattern;
	bool live;
};

struct unit {
	const char *name;
	struct sim_fn *fn[2];
	unsigned n;
	struct hqio_reset_plan plan[2];
	bool quarantined;
	int domain;	/* current owner's IOMMU domain, -1 none */
	uint64_t page;	/* current owner's page at IOVA */
	uint64_t epoch; /* current owner's epoch */
	struct xfer ring[RING];
	unsigned ring_next;
	struct sim_reclaim_unit_stats *st;
};

struct exp {
	struct sim_platform *p;
	struct hqio_host_ops ops;
	struct unit units[SIM_RECLAIM_MAX_UNITS];
	unsigned n_units;
	uint64_t pool[POOL_PAGES];
	unsigned n_pool;
	uint64_t pool_base;
	/* Owner of each pool page, as the epoch of its owner (-1: free).
	 * Epochs, unlike IOMMU domain numbers, are never reused. */
	int64_t page_epoch[POOL_PAGES];
	uint64_t n_epochs;
	bool reclaiming; /* between the start of a reclaim and the next owner */
	struct unit *reclaimed;
	struct sim_reclaim_stats *st;
};

static struct unit *unit_of(struct exp *x, const struct sim_fn *f)
{
	for (unsigned i = 0; i < x->n_units; i++)
		for (unsigned k = 0; k < x->units[i].n; k++)
			if (x->units[i].fn[k] == f)
				return &x->units[i];
	return NULL;
}

/* Every DMA write that reaches host memory. */
static void observe(void *arg, struct sim_fn *f, uint64_t hpa, const void *buf, uint64_t len)
{
	struct exp *x = arg;
	struct unit *u = unit_of(x, f);
	const uint8_t *b = buf;
	if (!u || len == 0)
		return;
	x->st->dma_landed++;
	/* Which programmed transfer is this? Its first byte is its pattern. */
	struct xfer *t = NULL;
	for (unsigned i = 0; i < RING; i++) {
		struct xfer *c = &u->ring[(u->ring_next + RING - 1 - i) % RING];
		if (c->live && c->pattern == b[0]) {
			t = c;
			break;
		}
	}
	int64_t owner = -2;
	if (hpa >= x->pool_base && hpa < x->pool_base + POOL_PAGES * SIM_PAGE_SIZE)
		owner = x->page_epoch[(hpa - x->pool_base) / SIM_PAGE_SIZE];
	if (t)
		t->live = false;
	if (!t || owner != (int64_t)t->epoch) {
		x->st->stray_writes++;
		u->st->stray_writes++;
	} else if (x->reclaiming && u == x->reclaimed) {
		x->st->drained++;
	}
}

static void attach(struct exp *x, struct unit *u, int domain)
{
	for (unsigned k = 0; k < u->n; k++)
		sim_iommu_attach(x->p, sim_requester_id(u->fn[k]), domain);
}

/* A new owner: its own domain, a page from the pool at IOVA, Bus Master on at once. */
static int assign(struct exp *x, struct unit *u)
{
	int d = sim_iommu_domain_new(x->p);
	if (d < 0 || x->n_pool == 0)
		return -ENOSPC;
	u->domain = d;
	u->page = x->pool[--x->n_pool];
	sim_mem_set_owner(x->p, u->page, SIM_PAGE_SIZE, d);
	sim_iommu_map(x->p, d, IOVA, u->page, SIM_PAGE_SIZE, HQIO_DMA_READ | HQIO_DMA_WRITE);
	attach(x, u, d);
	u->epoch = x->n_epochs++;
	x->page_epoch[(u->page - x->pool_base) / SIM_PAGE_SIZE] = (int64_t)u->epoch;
	for (unsigned k = 0; k < u->n; k++) {
		struct hqio_bdf b = sim_fn_bdf(u->fn[k]);
		uint32_t cmd;
		x->ops.cfg_read(x->ops.ctx, b, HQIO_PCI_COMMAND, 2, &cmd);
		cmd |= HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO | HQIO_PCI_COMMAND_MASTER;
		x->ops.cfg_write(x->ops.ctx, b, HQIO_PCI_COMMAND, 2, cmd);
	}
	return 0;
}

static void release(struct exp *x, struct unit *u)
{
	if (u->domain < 0)
		return;
	sim_iommu_unmap(x->p, u->domain, IOVA, SIM_PAGE_SIZE);
	attach(x, u, -1);
	sim_iommu_domain_free(x->p, u->domain);
	sim_mem_set_owner(x->p, u->page, SIM_PAGE_SIZE, -1);
	x->page_epoch[(u->page - x->pool_base) / SIM_PAGE_SIZE] = -1;
	x->pool[x->n_pool++] = u->page; /* LIFO: the next owner usually gets this page */
	u->domain = -1;
}

static void release_cb(void *arg, struct hqio_bdf bdf)
{
	struct exp *x = arg;
	(void)bdf;
	release(x, x->reclaimed);
}

static void bar_w(struct exp *x, struct sim_fn *f, unsigned bar, uint64_t off, uint32_t v)
{
	x->ops.bar_write(x->ops.ctx, sim_fn_bdf(f), bar, off, 4, v);
}

/* The owner programs a transfer on each function that writes memory. */
static void program(struct exp *x, struct unit *u)
{
	uint8_t pat = (uint8_t)(u->epoch * 37 + 11);
	bool any = false;
	for (unsigned k = 0; k < u->n; k++) {
		struct sim_fn *f = u->fn[k];
		uint16_t vid = (uint16_t)sim_fn_cfg_get(f, 0, 2);
		if (vid == SIM_NVME_VENDOR) {
			bar_w(x, f, 0, SIM_NVME_DMA_ADDR_LO, (uint32_t)IOVA);
			bar_w(x, f, 0, SIM_NVME_DMA_ADDR_HI, 0);
			bar_w(x, f, 0, SIM_NVME_DMA_LEN, XFER_BYTES);
			bar_w(x, f, 0, SIM_NVME_DMA_PATTERN, pat);
			bar_w(x, f, 0, SIM_NVME_DMA_DOORBELL, 1);
			any = true;
		} else if (vid == SIM_EDU_VENDOR) {
			for (unsigned i = 0; i < XFER_BYTES; i += 4)
				bar_w(x, f, 0, SIM_EDU_BUF + i, pat * 0x01010101u);
			bar_w(x, f, 0, SIM_EDU_DMA_SRC, SIM_EDU_BUF);
			bar_w(x, f, 0, SIM_EDU_DMA_SRC + 4, 0);
			bar_w(x, f, 0, SIM_EDU_DMA_DST, (uint32_t)IOVA);
			bar_w(x, f, 0, SIM_EDU_DMA_DST + 4, 0);
			bar_w(x, f, 0, SIM_EDU_DMA_COUNT, XFER_BYTES);
			bar_w(x, f, 0, SIM_EDU_DMA_COUNT + 4, 0);
			bar_w(x, f, 0, SIM_EDU_DMA_CMD,
			      SIM_EDU_DMA_CMD_START | SIM_EDU_DMA_CMD_TO_RAM);
			any = true;
		} else if (vid == SIM_NIC_VENDOR && sim_fn_cfg_get(f, 2, 2) != SIM_HDA_DEVICE) {
			bar_w(x, f, 0, SIM_NIC_DMA_ADDR_LO, (uint32_t)IOVA + 256u * k);
			bar_w(x, f, 0, SIM_NIC_DMA_ADDR_HI, 0);
			bar_w(x, f, 0, SIM_NIC_DMA_PATTERN, pat);
			u->ring[u->ring_next % RING] = (struct xfer){ u->epoch, pat, true };
			u->ring_next++;
			bar_w(x, f, 0, SIM_NIC_DMA_GO, XFER_BYTES);
			continue;
		}
	}
	if (any) {
		u->ring[u->ring_next % RING] = (struct xfer){ u->epoch, pat, true };
		u->ring_next++;
	}
}

static bool in_flight(const struct unit *u)
{
	for (unsigned i = 0; i < RING; i++)
		if (u->ring[i].live && u->ring[i].epoch == u->epoch)
			return true;
	return false;
}

static int owner_same_unit(void *arg, struct hqio_bdf bdf)
{
	const struct unit *u = arg;
	for (unsigned k = 0; k < u->n; k++)
		if (hqio_bdf_cmp(sim_fn_bdf(u->fn[k]), bdf) == 0)
			return 1;
	return HQIO_OWNER_HOST;
}

static int plan_units(struct exp *x, char *msg, size_t msglen)
{
	struct hqio_system sys = { 0 };
	int rc = sim_snapshot(x->p, &sys);
	for (unsigned i = 0; rc == 0 && i < x->n_units; i++) {
		struct unit *u = &x->units[i];
		for (unsigned k = 0; k < u->n; k++) {
			struct hqio_plan_input in = {
				.sys = &sys,
				.node = hqio_system_find(&sys, sim_fn_bdf(u->fn[k])),
				.owner = 1,
				.owner_of = owner_same_unit,
				.owner_arg = u,
				.force = true,
			};
			struct hqio_error err = { 0 };
			if (!in.node || hqio_reset_plan(&in, &u->plan[k], &err) < 0) {
				snprintf(msg, msglen, "cannot plan %s: %s", u->name, err.msg);
				rc = -EINVAL;
				break;
			}
		}
	}
	hqio_system_free(&sys);
	return rc;
}

static int build(struct exp *x, uint64_t seed, char *msg, size_t msglen)
{
	struct sim_reference ref;
	x->p = sim_platform_new(seed, 8ULL << 20);
	if (!x->p || sim_build_reference_ex(x->p, &ref) != 0) {
		snprintf(msg, msglen, "cannot build the reference machine");
		return -ENOMEM;
	}
	struct sim_fn *survives = sim_dev_edu(x->p, NULL, 0x11, 0, SIM_FAULT_DMA_SURVIVES);
	struct sim_fn *waits = sim_dev_edu(x->p, NULL, 0x12, 0, SIM_FAULT_DMA_WAITS_BME);
	if (!survives || !waits) {
		snprintf(msg, msglen, "cannot add the faulty edu-like devices");
		return -ENOMEM;
	}
	sim_host_ops(x->p, &x->ops);
	const struct {
		const char *name;
		struct sim_fn *a, *b;
	} units[] = {
		{ "nvme", ref.nvme, NULL },
		{ "nic (2 functions)", ref.nic[0], ref.nic[1] },
		{ "hda", ref.hda, NULL },
		{ "conventional pair", ref.legacy23, ref.legacy22 },
		{ "gpu", ref.gpu, NULL },
		{ "edu", ref.edu, NULL },
		{ "edu, DMA survives reset", survives, NULL },
		{ "edu, DMA waits for Bus Master", waits, NULL },
	};
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		struct unit *u = &x->units[x->n_units++];
		u->name = units[i].name;
		u->fn[u->n++] = units[i].a;
		if (units[i].b)
			u->fn[u->n++] = units[i].b;
		u->domain = -1;
		u->st = &x->st->units[i];
		u->st->name = u->name;
	}
	x->st->n_units = x->n_units;
	uint64_t base = sim_mem_alloc(x->p, POOL_PAGES, -1);
	if (base == UINT64_MAX)
		return -ENOMEM;
	x->pool_base = base;
	for (unsigned i = 0; i < POOL_PAGES; i++) {
		x->pool[x->n_pool++] = base + (POOL_PAGES - 1 - i) * SIM_PAGE_SIZE;
		x->page_epoch[i] = -1;
	}
	x->p->dma_observer = observe;
	x->p->dma_observer_arg = x;
	return plan_units(x, msg, msglen);
}

/* hqio: hqio_reclaim on every function, memory released after the last. */
static void reclaim_hqio(struct exp *x, struct unit *u)
{
	struct hqio_reclaim_ops rops = { .arg = x, .release_memory = release_cb };
	struct hqio_reset_opts opts = { 0 };
	for (unsigned k = 0; k < u->n; k++) {
		struct hqio_reset_result res;
		struct hqio_error err = { 0 };
		int rc = hqio_reclaim(&x->ops, &u->plan[k], NULL, &opts,
				      k + 1 == u->n ? &rops : NULL, &res, &err);
		if (rc || res.quarantined) {
			u->quarantined = true;
			return;
		}
		x->st->methods_used[res.used]++;
		u->st->last_method = res.used;
	}
}

/* --naive: release the memory first, reset later, no idle check. */
static void reclaim_naive(struct exp *x, struct unit *u)
{
	struct hqio_reset_opts opts = { .tp_timeout_ns = 1 };
	release(x, u);
	for (unsigned k = 0; k < u->n; k++) {
		struct hqio_reset_plan plan = u->plan[k];
		struct hqio_reset_result res;
		struct hqio_error err = { 0 };
		plan.idle = HQIO_IDLE_WAIT;
		plan.idle_wait_ns = 0;
		if (hqio_reset_execute(&x->ops, &plan, NULL, &opts, &res, &err) == 0 &&
		    !res.quarantined) {
			x->st->methods_used[res.used]++;
			u->st->last_method = res.used;
		}
	}
}

int sim_reclaim_run(const struct sim_reclaim_opts *o, struct sim_reclaim_stats *st, char *msg,
		    size_t msglen)
{
	struct exp *x = calloc(1, sizeof(*x));
	int rc;
	memset(st, 0, sizeof(*st));
	if (!x)
		return -ENOMEM;
	x->st = st;
	rc = build(x, o->seed, msg, msglen);
	struct sim_engine *e = x->p ? &x->p->eng : NULL;
	/* Count reassignments, not draws: picks of a quarantined unit are
	 * skipped (bounded, so a machine of quarantined devices ends). */
	for (uint64_t draw = 0, run = 0; rc == 0 && run < o->runs && draw < 8 * o->runs + 64;
	     draw++) {
		unsigned alive = 0;
		for (unsigned i = 0; i < x->n_units; i++)
			alive += !x->units[i].quarantined;
		if (!alive)
			break;
		/* Draws happen in the same order in both modes. */
		uint64_t pick = sim_rand_below(e, x->n_units);
		bool short_delay = sim_rand_below(e, 2) == 0;
		uint64_t delay = short_delay ? sim_rand_below(e, 15 * SIM_NS_PER_US)
					     : sim_rand_below(e, 120 * SIM_NS_PER_MS);
		struct unit *u = &x->units[pick];
		if (u->quarantined)
			continue;
		if (u->domain < 0 && (rc = assign(x, u)) != 0)
			break;
		program(x, u);
		sim_run_for(e, delay);
		if (in_flight(u))
			st->in_flight++;
		x->reclaiming = true;
		x->reclaimed = u;
		if (o->naive)
			reclaim_naive(x, u);
		else
			reclaim_hqio(x, u);
		if (u->quarantined) {
			st->quarantined++;
			u->st->quarantined = true;
		} else if ((rc = assign(x, u)) != 0) {
			snprintf(msg, msglen, "out of IOMMU domains or memory after %llu runs",
				 (unsigned long long)run);
			break;
		}
		x->reclaiming = false;
		st->runs++;
		run++;
		u->st->reassignments++;
	}
	if (x->p) {
		/* Let every transfer still queued anywhere land (or not). */
		sim_run_for(e, SIM_NS_PER_S);
		st->virtual_ns = e->now_ns;
	}
	sim_platform_free(x->p);
	free(x);
	return rc;
}

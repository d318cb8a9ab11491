/*
 * Tests of lib/irq on the simulated reference machine: sim_host_ops is the
 * host backend, and each guest is a small scripted one (not sim/guest.c,
 * which takes the platform's interrupt sinks). Device events are raised at
 * random virtual times; the harness counts them per device vector (the
 * "event counter" a driver would read in a device register), and each
 * guest services an interrupt after a random delay: it reads and clears
 * the counters, acknowledges the device, and (INTx) EOIs after another
 * random delay. Every event must be serviced by its own guest.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devices/devices.h"
#include "hqio/irq.h"
#include "hqio/pci_regs.h"
#include "sim.h"

#define MEM	   (64ULL << 20)
#define MAXV	   16
#define HOST_MSI   0xfee00000ULL /* sim/host_ops.c HOST_MSI_ADDR (Intel SDM vol. 3 §11.11.1) */
#define EVENTS	   1500
#define GAP_NS	   (40 * SIM_NS_PER_US) /* test choice: random event spacing bound */
#define SERVICE_NS (8 * SIM_NS_PER_US)	/* test choice: random guest delays bound */

enum dev_kind { DEV_MSG, DEV_LEGACY };

struct tdev {
	struct sim_platform *p;
	struct sim_fn *f;
	enum dev_kind kind;
	unsigned nvec;		/* vectors events are raised on */
	uint64_t pending[MAXV]; /* events since the guest last looked */
	uint64_t since[MAXV];	/* time of the oldest of them */
	uint64_t max_latency;	/* raise to service, worst */
	uint64_t raised, to_raise;
};

struct tguest;
struct svc {
	struct tguest *g;
	unsigned v;
};

struct tguest {
	const char *name;
	struct sim_platform *p;
	struct hqio_irq *irq;
	struct tdev *dev;
	uint64_t addr;	    /* this guest's MSI address */
	uint32_t data_base; /* vector in the low bits */
	unsigned nguest;    /* guest vectors */
	uint64_t msgs[MAXV], foreign;
	bool line, never_eoi, in_service, manual;
	uint64_t rises, serviced, spurious, eois;
	struct svc svc[MAXV];
};

/* ------------------------------------------------------------------ */
/* Device side                                                          */
/* ------------------------------------------------------------------ */

static void dev_raise_one(struct tdev *d, unsigned v)
{
	if (d->pending[v]++ == 0)
		d->since[v] = d->p->eng.now_ns;
	d->raised++;
	if (d->kind == DEV_LEGACY)
		assert_int_equal(
			sim_bar_write(d->p, sim_fn_bdf(d->f), 1, SIM_LEG_SWINT, 4, SIM_LEG_ISR_ROK),
			0);
	else
		sim_irq_raise(d->f, v);
}

static void dev_event(void *arg, uint64_t now)
{
	struct tdev *d = arg;
	(void)now;
	dev_raise_one(d, (unsigned)sim_rand_below(&d->p->eng, d->nvec));
	if (--d->to_raise)
		sim_schedule(&d->p->eng, sim_rand_below(&d->p->eng, GAP_NS), dev_event, d, 1);
}

static void dev_start(struct tdev *d, uint64_t n)
{
	d->to_raise = n;
	sim_schedule(&d->p->eng, sim_rand_below(&d->p->eng, GAP_NS), dev_event, d, 1);
}

static void dev_init(struct tdev *d, struct sim_platform *p, struct sim_fn *f, enum dev_kind k,
		     unsigned nvec)
{
	memset(d, 0, sizeof(*d));
	d->p = p;
	d->f = f;
	d->kind = k;
	d->nvec = nvec;
	uint32_t cmd = sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2);
	assert_int_equal(sim_cfg_write(p, sim_fn_bdf(f), HQIO_PCI_COMMAND, 2,
				       cmd | HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO |
					       HQIO_PCI_COMMAND_MASTER),
			 0);
	if (k == DEV_LEGACY) /* RTL8139/8169 IMR: enable ROK */
		assert_int_equal(
			sim_bar_write(p, sim_fn_bdf(f), 1, SIM_LEG_IMR, 2, SIM_LEG_ISR_ROK), 0);
}

/* The guest driver reads (and clears) the device's event counters of the
 * device vectors that map to guest vector gv (all of them for INTx). */
static uint64_t dev_take(struct tguest *g, int gv)
{
	struct tdev *d = g->dev;
	uint64_t n = 0;
	for (unsigned v = 0; v < d->nvec; v++) {
		if (gv >= 0 && v % g->nguest != (unsigned)gv)
			continue;
		if (d->pending[v] && d->p->eng.now_ns - d->since[v] > d->max_latency)
			d->max_latency = d->p->eng.now_ns - d->since[v];
		n += d->pending[v];
		d->pending[v] = 0;
	}
	if (d->kind == DEV_LEGACY) /* acknowledge: ISR is write-1-to-clear */
		assert_int_equal(sim_bar_write(d->p, sim_fn_bdf(d->f), 1, SIM_LEG_ISR, 2, 0xffff),
				 0);
	return n;
}

/* ------------------------------------------------------------------ */
/* Scripted guest                                                       */
/* ------------------------------------------------------------------ */

static void g_service_msg(void *arg, uint64_t now)
{
	struct svc *s = arg;
	(void)now;
	uint64_t n = dev_take(s->g, (int)s->v);
	if (n == 0)
		s->g->spurious++;
	s->g->serviced += n;
}

static void g_inject(void *arg, uint64_t addr, uint32_t data)
{
	struct tguest *g = arg;
	uint32_t v = data - g->data_base;
	if (addr != g->addr || v >= g->nguest || v >= MAXV) {
		g->foreign++;
		return;
	}
	g->msgs[v]++;
	sim_schedule(&g->p->eng, sim_rand_below(&g->p->eng, SERVICE_NS), g_service_msg, &g->svc[v],
		     2);
}

static void g_eoi(void *arg, uint64_t now)
{
	struct tguest *g = arg;
	(void)now;
	g->eois++;
	g->in_service = false;
	hqio_irq_guest_eoi(g->irq);
}

static void g_service_intx(void *arg, uint64_t now)
{
	struct tguest *g = arg;
	(void)now;
	/* Acknowledge the device first, then EOI (the order lib/irq needs). */
	uint64_t n = dev_take(g, -1);
	if (n == 0)
		g->spurious++;
	g->serviced += n;
	if (!g->never_eoi)
		sim_schedule(&g->p->eng, sim_rand_below(&g->p->eng, SERVICE_NS), g_eoi, g, 3);
}

static void g_set_intx(void *arg, bool level)
{
	struct tguest *g = arg;
	if (level && !g->line) {
		g->rises++;
		if (g->manual) {
			g->line = level;
			return;
		}
		assert_false(g->in_service); /* one interrupt at a time */
		g->in_service = true;
		sim_schedule(&g->p->eng, sim_rand_below(&g->p->eng, SERVICE_NS), g_service_intx, g,
			     4);
	}
	g->line = level;
}

static void guest_init(struct tguest *g, const char *name, struct sim_platform *p,
		       struct hqio_irq *irq, struct tdev *d, uint64_t addr, uint32_t base)
{
	memset(g, 0, sizeof(*g));
	g->name = name;
	g->p = p;
	g->irq = irq;
	g->dev = d;
	g->addr = addr;
	g->data_base = base;
	g->nguest = 1;
	for (unsigned i = 0; i < MAXV; i++)
		g->svc[i] = (struct svc){ g, i };
}

/* ------------------------------------------------------------------ */
/* Rig                                                                  */
/* ------------------------------------------------------------------ */

struct rig {
	struct sim_platform *p;
	struct sim_reference ref;
	struct hqio_host_ops ops;
	struct hqio_irq *irq[3];
	unsigned n_irq;
	bool ticking;
};

static void rig_init(struct rig *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->p = sim_platform_new(seed, MEM);
	assert_non_null(r->p);
	assert_int_equal(sim_build_reference_ex(r->p, &r->ref), 0);
	sim_host_ops(r->p, &r->ops);
}

static void rig_fini(struct rig *r)
{
	for (unsigned i = 0; i < r->n_irq; i++) {
		hqio_irq_fini(r->irq[i]);
		test_free(r->irq[i]);
	}
	r->ticking = false;
	sim_platform_free(r->p);
}

/* Another function drives the same host INTx line. */
static bool line_shared(struct sim_platform *p, struct sim_fn *f)
{
	for (size_t i = 0; i < p->n_fns; i++) {
		struct sim_fn *o = p->fns[i];
		if (o != f && sim_fn_cfg_get(o, HQIO_PCI_INTERRUPT_PIN, 1) &&
		    sim_intx_pin(o) == sim_intx_pin(f))
			return true;
	}
	return false;
}

/* The physical capabilities, as the decoder would report them. */
static void cfg_from_fn(struct rig *r, struct hqio_irq_config *c, struct sim_fn *f,
			struct tguest *g)
{
	memset(c, 0, sizeof(*c));
	c->ops = &r->ops;
	c->bdf = sim_fn_bdf(f);
	c->guest = (struct hqio_irq_guest){ g, g_inject, g_set_intx };
	c->pin = (uint16_t)sim_fn_cfg_get(f, HQIO_PCI_INTERRUPT_PIN, 1);
	if (f->msi) {
		uint32_t fl = sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2);
		c->msi = f->msi;
		c->msi_vectors = 1u << ((fl & HQIO_PCI_MSI_FLAGS_QMASK) >> 1);
		c->msi_64bit = fl & HQIO_PCI_MSI_FLAGS_64BIT;
		c->msi_pvm = fl & HQIO_PCI_MSI_FLAGS_MASKBIT;
	}
	if (f->msix) {
		uint32_t fl = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2);
		uint32_t t = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_TABLE, 4);
		uint32_t pb = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_PBA, 4);
		c->msix = f->msix;
		c->msix_size = (fl & HQIO_PCI_MSIX_FLAGS_QSIZE) + 1;
		c->msix_table_bir = t & HQIO_PCI_MSIX_BIR_MASK;
		c->msix_table_off = t & HQIO_PCI_MSIX_OFFSET_MASK;
		c->msix_pba_bir = pb & HQIO_PCI_MSIX_BIR_MASK;
		c->msix_pba_off = pb & HQIO_PCI_MSIX_OFFSET_MASK;
	}
	c->intx_disable_supported =
		f->wmask[HQIO_PCI_COMMAND + 1] & (HQIO_PCI_COMMAND_INTX_DISABLE >> 8);
	c->intx_line_exclusive = !line_shared(r->p, f);
	c->host_page_size = 4096;
}

/* The monitor's periodic tick. */
static void rig_tick(void *arg, uint64_t now)
{
	struct rig *r = arg;
	(void)now;
	if (!r->ticking)
		return;
	for (unsigned i = 0; i < r->n_irq; i++)
		hqio_irq_tick(r->irq[i]);
	sim_schedule(&r->p->eng, 50 * SIM_NS_PER_US, rig_tick, r, 5);
}

static void rig_start_tick(struct rig *r)
{
	r->ticking = true;
	sim_schedule(&r->p->eng, 50 * SIM_NS_PER_US, rig_tick, r, 5);
}

static struct hqio_irq *rig_irq(struct rig *r, struct hqio_irq_config *c)
{
	struct hqio_irq *irq = test_calloc(1, sizeof(*irq));
	struct hqio_error err = { 0 };
	int rc = hqio_irq_init(irq, c, &err);
	if (rc)
		print_message("init: %s\n", err.msg);
	assert_int_equal(rc, 0);
	r->irq[r->n_irq++] = irq;
	if (!r->ticking)
		rig_start_tick(r);
	return irq;
}

/* Function f passed through to a guest: d raises f's events (kind k, on
 * nvec vectors), g is the guest (MSI address addr, data base; 0, 0 for an
 * INTx guest), *c the configuration the decoder would report, for the
 * caller to adjust before rig_irq. */
static void rig_prepare(struct rig *r, struct hqio_irq_config *c, struct tdev *d, struct tguest *g,
			const char *name, struct sim_fn *f, enum dev_kind k, unsigned nvec,
			uint64_t addr, uint32_t base)
{
	dev_init(d, r->p, f, k, nvec);
	guest_init(g, name, r->p, NULL, d, addr, base);
	cfg_from_fn(r, c, f, g);
}

/* rig_prepare with the decoder's configuration as it is, then g's lib/irq
 * instance. */
static void rig_attach(struct rig *r, struct tdev *d, struct tguest *g, const char *name,
		       struct sim_fn *f, enum dev_kind k, unsigned nvec, uint64_t addr,
		       uint32_t base)
{
	struct hqio_irq_config c;
	rig_prepare(r, &c, d, g, name, f, k, nvec, addr, base);
	g->irq = rig_irq(r, &c);
}

/* Guest MSI-X: program entries through the trapped table. */
static void guest_msix_program(struct tguest *g, unsigned n, bool masked)
{
	struct hqio_irq *irq = g->irq;
	unsigned bir = irq->cfg.msix_table_bir;
	uint64_t t = irq->cfg.msix_table_off;
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = t + (uint64_t)i * 16;
		uint64_t v = (uint32_t)g->addr;
		assert_true(hqio_irq_bar_access(irq, bir, e, 4, &v, true));
		v = g->addr >> 32;
		assert_true(hqio_irq_bar_access(irq, bir, e + 4, 4, &v, true));
		v = g->data_base + i;
		assert_true(hqio_irq_bar_access(irq, bir, e + 8, 4, &v, true));
		v = masked ? 1 : 0;
		assert_true(hqio_irq_bar_access(irq, bir, e + 12, 4, &v, true));
	}
	g->nguest = n;
	assert_int_equal(hqio_irq_guest_msix(irq, true, false), 0);
}

static void guest_msix_mask(struct tguest *g, unsigned i, bool masked)
{
	uint64_t v = masked ? 1 : 0;
	assert_true(hqio_irq_bar_access(g->irq, g->irq->cfg.msix_table_bir,
					g->irq->cfg.msix_table_off + (uint64_t)i * 16 + 12, 4, &v,
					true));
}

static void check_all_serviced(struct tguest *g)
{
	struct tdev *d = g->dev;
	print_message("%-10s raised %4llu serviced %4llu msgs/rises %4llu/%4llu spurious %3llu "
		      "(host %llu delivered %llu coalesced %llu latched %llu lib-spurious %llu)\n",
		      g->name, (unsigned long long)d->raised, (unsigned long long)g->serviced,
		      (unsigned long long)(g->msgs[0] + g->msgs[1] + g->msgs[2] + g->msgs[3] +
					   g->msgs[4] + g->msgs[5] + g->msgs[6] + g->msgs[7]),
		      (unsigned long long)g->rises, (unsigned long long)g->spurious,
		      (unsigned long long)g->irq->stats.host_irqs,
		      (unsigned long long)g->irq->stats.delivered,
		      (unsigned long long)g->irq->stats.coalesced,
		      (unsigned long long)g->irq->stats.latched,
		      (unsigned long long)g->irq->stats.spurious);
	for (unsigned v = 0; v < d->nvec; v++)
		assert_int_equal(d->pending[v], 0);
	print_message("%-10s worst raise-to-service latency %llu ns\n", g->name,
		      (unsigned long long)d->max_latency);
	assert_int_equal(g->serviced, d->raised);
	assert_int_equal(g->foreign, 0);
	/* Bounded: at most one spurious look per interrupt the guest got. */
	assert_true(g->spurious <= g->irq->stats.delivered);
}

/* EVENTS random events on each of two guests' devices, the simulation run
 * for EVENTS + slack event gaps, then every event serviced by its guest. */
static void run_two(struct rig *r, struct tguest *ga, struct tguest *gb, uint64_t slack)
{
	dev_start(ga->dev, EVENTS);
	dev_start(gb->dev, EVENTS);
	sim_run_for(&r->p->eng, (EVENTS + slack) * GAP_NS);
	check_all_serviced(ga);
	check_all_serviced(gb);
}

/* The device's table still holds the host's values (sim/host_ops.c). */
static void check_phys_msix(struct sim_fn *f)
{
	for (unsigned i = 0; i < f->irq.msix_size; i++) {
		const uint8_t *e = f->irq.msix_table + (size_t)i * 16;
		uint32_t lo = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
			      (uint32_t)e[3] << 24;
		uint32_t hi = (uint32_t)e[4] | (uint32_t)e[5] << 8 | (uint32_t)e[6] << 16 |
			      (uint32_t)e[7] << 24;
		uint32_t data = (uint32_t)e[8] | (uint32_t)e[9] << 8;
		assert_int_equal(lo, (uint32_t)HOST_MSI);
		assert_int_equal(hi, 0);
		assert_true(data < SIM_HOST_VECTORS);
		assert_int_equal(f->plat->host_vectors[data].bdf.bus, sim_fn_bdf(f).bus);
	}
}

static void check_phys_msi(struct sim_fn *f)
{
	assert_int_equal(sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_ADDRESS_LO, 4),
			 (uint32_t)HOST_MSI);
	assert_int_equal(sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_ADDRESS_HI, 4), 0);
	uint32_t data = sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_DATA_64, 2);
	assert_true(data < SIM_HOST_VECTORS);
	assert_int_equal(hqio_bdf_cmp(f->plat->host_vectors[data].bdf, sim_fn_bdf(f)), 0);
}

/* Every message the platform saw carried a host address. */
static void check_msi_log(struct sim_platform *p)
{
	uint64_t n = p->n_msi < SIM_MSI_LOG ? p->n_msi : SIM_MSI_LOG;
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(p->msi_log[i].addr & 0xfff00000ULL, HOST_MSI);
}

/* ------------------------------------------------------------------ */
/* MSI-X with masking                                                   */
/* ------------------------------------------------------------------ */

struct masker {
	struct tguest *g;
	unsigned left;
	bool masked[MAXV];
	uint64_t pba_seen;
};

static void masker_step(void *arg, uint64_t now)
{
	struct masker *m = arg;
	(void)now;
	struct tguest *g = m->g;
	unsigned v = (unsigned)sim_rand_below(&g->p->eng, g->nguest);
	if (m->masked[v]) {
		/* PBA read before unmasking: read-only, mirrors pending. */
		uint64_t pba = 0;
		assert_true(hqio_irq_bar_access(g->irq, g->irq->cfg.msix_pba_bir,
						g->irq->cfg.msix_pba_off, 8, &pba, false));
		if ((pba >> v) & 1)
			m->pba_seen++;
		assert_int_equal((pba >> v) & 1, g->irq->vec[v].pending);
		uint64_t junk = ~0ULL;
		assert_true(hqio_irq_bar_access(g->irq, g->irq->cfg.msix_pba_bir,
						g->irq->cfg.msix_pba_off, 8, &junk, true));
		uint64_t again = 0;
		hqio_irq_bar_access(g->irq, g->irq->cfg.msix_pba_bir, g->irq->cfg.msix_pba_off, 8,
				    &again, false);
		assert_int_equal(again, pba);
	}
	m->masked[v] = !m->masked[v];
	guest_msix_mask(g, v, m->masked[v]);
	if (--m->left) {
		sim_schedule(&g->p->eng, sim_rand_below(&g->p->eng, 40 * SIM_NS_PER_US),
			     masker_step, m, 6);
	} else {
		for (unsigned i = 0; i < g->nguest; i++)
			if (m->masked[i])
				guest_msix_mask(g, i, false);
	}
}

static void test_msix_two_guests(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 11);
	struct tdev da, db;
	struct tguest ga, gb;
	rig_attach(&r, &da, &ga, "nvme/A", r.ref.nvme, DEV_MSG, 8, 0xfee01000ULL, 0x40);
	rig_attach(&r, &db, &gb, "nic/B", r.ref.nic[0], DEV_MSG, 5, 0xfee02000ULL, 0x80);
	assert_int_equal(ga.irq->host_type, HQIO_IRQ_MSIX);
	assert_int_equal(ga.irq->host_count, SIM_NVME_MSIX_ENTRIES);
	assert_int_equal(gb.irq->host_type, HQIO_IRQ_MSIX);

	/* Events before the guest enabled anything: entry masked -> pending. */
	guest_msix_program(&ga, 8, true);
	dev_raise_one(&da, 3);
	dev_raise_one(&da, 3);
	assert_true(ga.irq->vec[3].pending);
	assert_int_equal(ga.msgs[3], 0);
	for (unsigned i = 0; i < 8; i++)
		guest_msix_mask(&ga, i, false);
	assert_int_equal(ga.msgs[3], 1); /* two events, one message */
	assert_true(ga.irq->stats.coalesced >= 1);

	/* Function mask holds everything, its clearing releases. */
	assert_int_equal(hqio_irq_guest_msix(ga.irq, true, true), 0);
	dev_raise_one(&da, 5);
	assert_int_equal(ga.msgs[5], 0);
	assert_int_equal(hqio_irq_guest_msix(ga.irq, true, false), 0);
	assert_int_equal(ga.msgs[5], 1);

	guest_msix_program(&gb, 5, false);
	struct masker m = { .g = &ga, .left = 400 };
	sim_schedule(&r.p->eng, 1000, masker_step, &m, 6);
	run_two(&r, &ga, &gb, 400);
	print_message("masker: pending seen in the PBA %llu times\n",
		      (unsigned long long)m.pba_seen);
	assert_true(ga.irq->stats.coalesced > 0);
	check_phys_msix(r.ref.nvme);
	check_phys_msix(r.ref.nic[0]);
	check_msi_log(r.p);
	rig_fini(&r);
}

/* Guest MSI-X entries aimed at host memory / another guest never reach
 * the device; the reserved Vector Control bits read 0. */
static void test_msix_hostile_table(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 12);
	struct tdev da, db;
	struct tguest ga, gb;
	rig_attach(&r, &db, &gb, "nic/B", r.ref.nic[0], DEV_MSG, 1, 0xfee02000ULL, 0x80);
	guest_msix_program(&gb, 1, false);
	/* Guest A: entry 0 at host memory, entry 1 at B's address and data. */
	uint64_t hpa = sim_mem_alloc(r.p, 1, -1);
	rig_attach(&r, &da, &ga, "nvme/A", r.ref.nvme, DEV_MSG, 4, hpa, 0x80);
	guest_msix_program(&ga, 4, false);
	uint64_t v = 0xfee02000ULL;
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_MSIX_TABLE + 16, 8, &v, true));
	v = 0xffffffffULL; /* all of Vector Control: only the mask bit sticks */
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_MSIX_TABLE + 16 + 12, 4, &v, true));
	v = 0;
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_MSIX_TABLE + 16 + 12, 4, &v, false));
	assert_int_equal(v, 1);
	v = 0;
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_MSIX_TABLE + 16 + 12, 4, &v, true));
	uint8_t before[64];
	assert_int_equal(sim_mem_read(r.p, hpa, before, sizeof(before)), 0);
	ga.addr = ~0ULL; /* whatever A programmed is A's business: count as foreign */
	for (unsigned i = 0; i < 4; i++)
		dev_raise_one(&da, i);
	assert_int_equal(gb.msgs[0] + gb.foreign, 0);
	assert_int_equal(ga.foreign, 4); /* all four went to A's own inject */
	assert_int_equal(ga.irq->stats.delivered, 4);
	uint8_t after[64];
	assert_int_equal(sim_mem_read(r.p, hpa, after, sizeof(after)), 0);
	assert_memory_equal(before, after, sizeof(before));
	check_phys_msix(r.ref.nvme);
	check_msi_log(r.p);
	rig_fini(&r);
}

/* Registers sharing a trapped page pass through; outside: not trapped. */
static void test_msix_trap_pages(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 13);
	struct tdev da;
	struct tguest ga;
	struct hqio_irq_config c;
	rig_prepare(&r, &c, &da, &ga, "nvme/A", r.ref.nvme, DEV_MSG, 1, 0xfee01000ULL, 0x40);
	c.host_page_size = 65536; /* the whole 16 KiB BAR shares the page */
	ga.irq = rig_irq(&r, &c);
	uint64_t v = 0, direct = 0;
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_VS, 4, &v, false));
	assert_int_equal(sim_bar_read(r.p, sim_fn_bdf(r.ref.nvme), 0, SIM_NVME_VS, 4, &direct), 0);
	assert_int_equal(v, direct);
	assert_int_equal(ga.irq->stats.trapped_other, 1);
	v = 0x1234;
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_DMA_PATTERN, 4, &v, true));
	assert_int_equal(ga.irq->stats.trapped_other, 2);
	/* PBA bytes are the virtual pending bits; table bytes the virtual entry. */
	v = ~0ULL;
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_MSIX_PBA, 8, &v, false));
	assert_int_equal(v, 0);
	assert_int_equal(ga.irq->stats.trapped_accesses, 3);
	hqio_irq_fini(ga.irq);
	/* 4 KiB pages: the registers page is not trapped. */
	c.host_page_size = 4096;
	struct hqio_error err;
	assert_int_equal(hqio_irq_init(ga.irq, &c, &err), 0);
	assert_false(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_VS, 4, &v, false));
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_MSIX_TABLE + 0xff0, 4, &v, false));
	assert_false(hqio_irq_bar_access(ga.irq, 2, SIM_NVME_MSIX_TABLE, 4, &v, false));
	/* Nothing of a table write reaches the device's table. */
	v = 0xdeadbeef;
	assert_true(hqio_irq_bar_access(ga.irq, 0, SIM_NVME_MSIX_TABLE + 8, 4, &v, true));
	check_phys_msix(r.ref.nvme);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* MSI                                                                  */
/* ------------------------------------------------------------------ */

static void test_msi_two_guests(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 21);
	struct tdev da, db;
	struct tguest ga, gb;
	rig_attach(&r, &da, &ga, "hda/A", r.ref.hda, DEV_MSG, 1, 0xfee01000ULL, 0x40);
	rig_attach(&r, &db, &gb, "edu/B", r.ref.edu, DEV_MSG, 1, 0xfee02000ULL, 0x80);
	assert_int_equal(ga.irq->host_type, HQIO_IRQ_MSI);
	assert_int_equal(gb.irq->host_type, HQIO_IRQ_MSI);
	/* INTx Disable set on the device: it cannot fall back on its pin. */
	assert_true(sim_fn_cfg_get(r.ref.hda, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_INTX_DISABLE);

	/* A first hostile programming: host memory, then B's vector. */
	uint64_t hpa = sim_mem_alloc(r.p, 1, -1);
	assert_int_equal(hqio_irq_guest_msi(ga.irq, true, 1, hpa, 0x80, 0), 0);
	check_phys_msi(r.ref.hda);
	assert_int_equal(hqio_irq_guest_msi(ga.irq, true, 1, 0xfee02000ULL, 0x80, 0), 0);
	check_phys_msi(r.ref.hda);
	dev_raise_one(&da, 0);
	/* A's own inject got it, with the numbers A wrote; B saw nothing. */
	assert_int_equal(ga.foreign, 1);
	assert_int_equal(gb.msgs[0] + gb.foreign, 0);
	ga.foreign = 0;
	ga.serviced += da.pending[0];
	da.pending[0] = 0;

	/* Now the real programming. */
	assert_int_equal(hqio_irq_guest_msi(ga.irq, true, 1, ga.addr, ga.data_base, 0), 0);
	assert_int_equal(hqio_irq_guest_msi(gb.irq, true, 1, gb.addr, gb.data_base, 0), 0);
	check_phys_msi(r.ref.hda);
	check_phys_msi(r.ref.edu);
	run_two(&r, &ga, &gb, 100);
	assert_true(da.max_latency <= SERVICE_NS);
	assert_true(db.max_latency <= SERVICE_NS);
	check_msi_log(r.p);
	rig_fini(&r);
}

/* Multi-vector MSI with the vector in the low data bits (§6.8.1.6), and
 * fewer guest vectors than host vectors: all on vector 0. */
static void test_msi_vectors(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 22);
	struct tdev da;
	struct tguest ga;
	/* host MSI-X; the guest uses "MSI" on it */
	rig_attach(&r, &da, &ga, "nvme/A", r.ref.nvme, DEV_MSG, 4, 0xfee01000ULL, 0x40);
	ga.irq->cfg.msi = 0x70; /* pretend capability: guest-side only */
	ga.irq->cfg.msi_vectors = 4;
	assert_int_equal(hqio_irq_guest_msi(ga.irq, true, 4, ga.addr, 0x43, 0), 0);
	ga.nguest = 4;
	for (unsigned i = 0; i < 4; i++) {
		dev_raise_one(&da, i);
		assert_int_equal(ga.msgs[i], 1);
	}
	assert_int_equal(hqio_irq_guest_msi(ga.irq, true, 1, ga.addr, 0x40, 0), 0);
	ga.nguest = 1;
	dev_raise_one(&da, 3);
	assert_int_equal(ga.msgs[0], 2);
	sim_run_for(&r.p->eng, SIM_NS_PER_MS);
	check_all_serviced(&ga);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Guest INTx on MSI-capable devices                                    */
/* ------------------------------------------------------------------ */

static void test_intx_from_msi(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 31);
	struct tdev da, db;
	struct tguest ga, gb;
	rig_attach(&r, &da, &ga, "edu/A", r.ref.edu, DEV_MSG, 1, 0, 0);
	rig_attach(&r, &db, &gb, "nic1/B", r.ref.nic[1], DEV_MSG, 1, 0, 0);
	assert_int_equal(ga.irq->mode, HQIO_GUEST_IRQ_INTX);

	/* INTx Disable: only Interrupt Status; clearing it asserts. */
	assert_int_equal(hqio_irq_guest_intx(ga.irq, true), 0);
	dev_raise_one(&da, 0);
	assert_true(ga.irq->status);
	assert_false(ga.line);
	assert_int_equal(hqio_irq_guest_intx(ga.irq, false), 0);
	assert_true(ga.line);
	sim_run_for(&r.p->eng, 4 * SERVICE_NS);
	assert_false(ga.line);
	assert_false(ga.irq->status);

	/* Step by step: an MSI between the guest's acknowledgement and its
	 * EOI is latched and re-asserts the line at the EOI. */
	ga.manual = true;
	dev_raise_one(&da, 0);
	assert_true(ga.line);
	ga.serviced += dev_take(&ga, -1); /* acknowledge */
	dev_raise_one(&da, 0);		  /* arrives before the EOI */
	assert_true(ga.irq->line_latched);
	hqio_irq_guest_eoi(ga.irq);
	assert_true(ga.line); /* asserted again */
	assert_int_equal(ga.rises, 3);
	ga.serviced += dev_take(&ga, -1);
	hqio_irq_guest_eoi(ga.irq);
	assert_false(ga.line);
	assert_int_equal(da.raised, ga.serviced);
	ga.manual = false;

	run_two(&r, &ga, &gb, 100);
	/* Each event is serviced through its own interrupt: ack, EOI,
	 * re-assertion, service (not picked up by some later event). */
	assert_true(da.max_latency <= 2 * SERVICE_NS);
	assert_true(db.max_latency <= 2 * SERVICE_NS);
	/* The latch was exercised (else the negative control proves nothing). */
	assert_true(ga.irq->stats.latched > 0);
	assert_true(gb.irq->stats.latched > 0);
	check_phys_msi(r.ref.edu);
	check_phys_msix(r.ref.nic[1]);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* INTx-only devices                                                    */
/* ------------------------------------------------------------------ */

/* host_intx_only: an MSI-capable function served on its INTx pin (the
 * monitor's --host-intx); the guest has INTx only. */
static void test_host_intx_only(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 43);
	struct tdev da;
	struct tguest ga;
	struct hqio_irq_config c;
	rig_prepare(&r, &c, &da, &ga, "edu/A", r.ref.edu, DEV_MSG, 1, 0xfee00000ULL, 0x40);
	assert_true(c.msi && c.pin);
	c.host_intx_only = true;
	ga.irq = rig_irq(&r, &c);
	assert_int_equal(ga.irq->host_type, HQIO_IRQ_INTX);
	assert_int_equal(ga.irq->host_count, 1);
	assert_int_equal(ga.irq->mode, HQIO_GUEST_IRQ_INTX);
	/* The guest cannot leave INTx. */
	assert_int_equal(hqio_irq_guest_msi(ga.irq, true, 1, 0xfee00000ULL, 0x40, 0), -EOPNOTSUPP);
	assert_int_equal(ga.irq->mode, HQIO_GUEST_IRQ_INTX);
	/* The host MSI stays off, so an event comes on the pin: the guest
	 * line rises and the function is silenced (INTx Disable, the VFIO
	 * model) until the guest's EOI. */
	assert_int_equal(sim_fn_cfg_get(r.ref.edu, r.ref.edu->msi + HQIO_PCI_MSI_FLAGS, 2) &
				 HQIO_PCI_MSI_FLAGS_ENABLE,
			 0);
	ga.manual = true;
	dev_raise_one(&da, 0);
	assert_true(ga.line);
	assert_int_equal(ga.irq->stats.host_irqs, 1);
	assert_true(sim_fn_cfg_get(r.ref.edu, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_INTX_DISABLE);
	rig_fini(&r);
	/* Without the flag the same function gets its MSI on the host. */
	rig_init(&r, 44);
	rig_attach(&r, &da, &ga, "edu/A", r.ref.edu, DEV_MSG, 1, 0xfee00000ULL, 0x40);
	assert_int_equal(ga.irq->host_type, HQIO_IRQ_MSI);
	rig_fini(&r);
}

/* 10ec:8169 (INTx Disable) shares its line with 10ec:8139 (P2P §9.1). */
static void test_intx_only_disable(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 41);
	struct tdev da, db;
	struct tguest ga, gb;
	struct hqio_irq_config c;
	rig_prepare(&r, &c, &da, &ga, "leg23/A", r.ref.legacy23, DEV_LEGACY, 1, 0, 0);
	assert_false(c.intx_line_exclusive);
	ga.irq = rig_irq(&r, &c);
	assert_int_equal(ga.irq->host_type, HQIO_IRQ_INTX);
	rig_attach(&r, &db, &gb, "nvme/B", r.ref.nvme, DEV_MSG, 4, 0xfee02000ULL, 0x80);
	guest_msix_program(&gb, 4, false);

	run_two(&r, &ga, &gb, 100);
	assert_true(ga.rises > 0);
	assert_true(da.max_latency <= 2 * SERVICE_NS);
	assert_true(db.max_latency <= SERVICE_NS);
	check_phys_msix(r.ref.nvme);
	rig_fini(&r);
}

/* 10ec:8139 (no INTx Disable): refused on the shared line of the reference
 * machine, served on an exclusive one. */
static void test_intx_only_exclusive(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 42);
	struct tguest ga;
	struct tdev da;
	struct hqio_irq_config c;
	struct hqio_irq *irq = test_calloc(1, sizeof(*irq));
	guest_init(&ga, "leg22", r.p, irq, &da, 0, 0);
	cfg_from_fn(&r, &c, r.ref.legacy22, &ga);
	assert_false(c.intx_disable_supported);
	assert_false(c.intx_line_exclusive);
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_irq_init(irq, &c, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "needs an exclusive host interrupt line: "));
	print_message("refused: %s\n", err.msg);
	test_free(irq);
	rig_fini(&r);

	/* A small machine: 8139 at 00:01.0 (GSI 17), 8169 at 00:02.0 (GSI 18). */
	memset(&r, 0, sizeof(r));
	r.p = sim_platform_new(43, MEM);
	assert_non_null(r.p);
	struct sim_fn *l22 = sim_dev_legacy_nointxdis(r.p, NULL, 1, 0, 0);
	struct sim_fn *l23 = sim_dev_legacy(r.p, NULL, 2, 0, 0);
	assert_non_null(l22);
	assert_non_null(l23);
	sim_enumerate(r.p);
	sim_host_ops(r.p, &r.ops);
	struct tdev db;
	struct tguest gb;
	rig_prepare(&r, &c, &da, &ga, "leg22/A", l22, DEV_LEGACY, 1, 0, 0);
	assert_true(c.intx_line_exclusive);
	ga.irq = rig_irq(&r, &c);
	rig_attach(&r, &db, &gb, "leg23/B", l23, DEV_LEGACY, 1, 0, 0);
	run_two(&r, &ga, &gb, 100);
	assert_true(da.max_latency <= 2 * SERVICE_NS);
	assert_true(db.max_latency <= 2 * SERVICE_NS);
	rig_fini(&r);
}

/* A guest that never EOIs: its line stays asserted, its host INTx masked;
 * the other guests keep every interrupt. */
static void test_never_eoi(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 51);
	struct tdev da, db, dc;
	struct tguest ga, gb, gc;
	struct hqio_irq_config c;
	rig_prepare(&r, &c, &da, &ga, "leg23/A", r.ref.legacy23, DEV_LEGACY, 1, 0, 0);
	ga.never_eoi = true;
	ga.irq = rig_irq(&r, &c);
	rig_attach(&r, &db, &gb, "nvme/B", r.ref.nvme, DEV_MSG, 4, 0xfee02000ULL, 0x80);
	guest_msix_program(&gb, 4, false);
	rig_prepare(&r, &c, &dc, &gc, "edu/C", r.ref.edu, DEV_MSG, 1, 0, 0);
	gc.never_eoi = true; /* INTx from MSI, never EOI'd either */
	gc.irq = rig_irq(&r, &c);

	dev_start(&da, 50);
	dev_start(&db, EVENTS);
	dev_start(&dc, 50);
	sim_run_for(&r.p->eng, (EVENTS + 100) * GAP_NS);
	check_all_serviced(&gb);
	assert_true(ga.line);
	assert_int_equal(ga.rises, 1);
	assert_int_equal(ga.irq->stats.host_irqs, 1);
	assert_true(sim_fn_cfg_get(r.ref.legacy23, HQIO_PCI_COMMAND, 2) &
		    HQIO_PCI_COMMAND_INTX_DISABLE);
	assert_true(gc.line);
	assert_int_equal(gc.rises, 1);
	print_message("never-EOI: A host irqs %llu, C latched %llu\n",
		      (unsigned long long)ga.irq->stats.host_irqs,
		      (unsigned long long)gc.irq->stats.latched);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Storm guard                                                          */
/* ------------------------------------------------------------------ */

#define STORM_WINDOW_NS (1 * SIM_NS_PER_MS) /* test choice */
#define STORM_MAX	100u
#define STORM_RUN_NS	(20 * SIM_NS_PER_MS)

static void test_storm(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 61);
	struct sim_fn *edu = sim_dev_edu(r.p, NULL, 0x11, 0, SIM_FAULT_IRQ_STORM);
	assert_non_null(edu);
	struct tdev da, db;
	struct tguest ga, gb;
	struct hqio_irq_config c;
	rig_prepare(&r, &c, &da, &ga, "edu-storm", edu, DEV_MSG, 1, 0xfee01000ULL, 0x40);
	c.storm_window_ns = STORM_WINDOW_NS;
	c.storm_max = STORM_MAX;
	ga.irq = rig_irq(&r, &c);
	/* default guard */
	rig_attach(&r, &db, &gb, "nvme/B", r.ref.nvme, DEV_MSG, 4, 0xfee02000ULL, 0x80);
	guest_msix_program(&gb, 4, false);
	assert_int_equal(hqio_irq_guest_msi(ga.irq, true, 1, ga.addr, ga.data_base, 0), 0);
	uint64_t t0 = r.p->eng.now_ns;
	/* The storm starts with MSI Enable (edu model). */
	dev_start(&db, 600);
	sim_run_for(&r.p->eng, STORM_RUN_NS);
	uint64_t windows = (r.p->eng.now_ns - t0) / STORM_WINDOW_NS + 1;
	print_message("storm: edu host irqs %llu in %llu windows (bound %llu), throttled %llu, "
		      "guest got %llu\n",
		      (unsigned long long)ga.irq->stats.host_irqs, (unsigned long long)windows,
		      (unsigned long long)(windows * STORM_MAX),
		      (unsigned long long)ga.irq->stats.storm_throttled,
		      (unsigned long long)ga.msgs[0]);
	assert_true(ga.irq->stats.host_irqs <= windows * STORM_MAX);
	assert_true(ga.irq->stats.host_irqs >= STORM_MAX); /* it did storm */
	assert_true(ga.irq->stats.storm_throttled > 0);
	check_all_serviced(&gb);
	assert_int_equal(gb.irq->stats.storm_throttled, 0);
	rig_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msix_two_guests),
		cmocka_unit_test(test_msix_hostile_table),
		cmocka_unit_test(test_msix_trap_pages),
		cmocka_unit_test(test_msi_two_guests),
		cmocka_unit_test(test_msi_vectors),
		cmocka_unit_test(test_intx_from_msi),
		cmocka_unit_test(test_host_intx_only),
		cmocka_unit_test(test_intx_only_disable),
		cmocka_unit_test(test_intx_only_exclusive),
		cmocka_unit_test(test_never_eoi),
		cmocka_unit_test(test_storm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * hqio's monitor (see vmm.h, docs/monitor.md): one KVM VM, one vCPU, guest
 * RAM in a memslot and mapped for DMA at IOVA = guest physical, a virtual
 * host bridge (pcihost.c), and up to HQIO_VMM_MAX_ASSIGN assigned
 * functions, each with its configuration space through lib/vpci and its
 * interrupts through lib/irq.
 *
 * KVM facts used (Linux Documentation/virt/kvm/api.rst; the order verified
 * in the test bed, testbed.md): KVM_CREATE_IRQCHIP before any vCPU; guest
 * MSIs are injected with KVM_SIGNAL_MSI (the hop) or by irqfds on MSI
 * routes (the fast path; KVM_SET_GSI_ROUTING replaces the whole table, so
 * the default PIC/IOAPIC routes are re-created beside them); each
 * function's INTx line is a KVM irqfd with KVM_IRQFD_FLAG_RESAMPLE, whose
 * resample eventfd fires at the guest's EOI (the line is then de-asserted
 * by KVM and lib/irq decides whether to re-assert it).
 *
 * Threads: the vCPU runs in the calling thread; a "hop" thread waits for
 * the functions' VFIO interrupt eventfds (host/vfio.c dispatch) and hands
 * them to lib/irq; an "event" thread reads the monitor's own eventfds (the
 * fast path's while no irqfd consumes them, and the guest's INTx EOIs).
 * One mutex serializes every call into lib/vpci and lib/irq.
 */
#define _GNU_SOURCE
#include "vmm.h"
#include "loader.h"
#include "bars.h"
#include "pcihost.h"
#include "quarantine.h"
#include "sysfs.h"
#include "vfio.h"

#include "hqio/inspect.h"
#include "hqio/irq.h"
#include "hqio/memtype.h"
#include "hqio/pci_regs.h"
#include "hqio/reset.h"
#include "hqio/vpci.h"

#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KVM_DEV_DEFAULT	 "/dev/kvm"
#define KVM_API_EXPECTED 12	     /* api.rst 4.1: KVM_GET_API_VERSION must return 12 */
#define TSS_GPA		 0xfffbd000u /* 3 pages KVM needs on VMX (api.rst KVM_SET_TSS_ADDR) */
#define RAM_SLOT	 0
#define BAR_SLOT_BASE	 8 /* slots 8 + (dev * 6 + bar) * MAX_PIECES + k */
#define MAX_PIECES	 8
#define MAX_TRAPS	 8
#define PAGE		 4096ull
#define POLL_MS		 20
#define KICK_SIGNAL	 SIGUSR1
#define NS_PER_MS	 1000000ull
#define INTX_SAMPLES_MAX 65536
#define HQIO_VMM_FAST_MAX                                                                          \
	HQIO_VMM_MSI_GSI_STEP /* MSI allows 32 vectors (PCI LB 3.0                                 \
				  6.8.1.3); MSI-X beyond: the hop */

struct piece {
	uint64_t off, len; /* inside the BAR, page aligned */
	bool mapped;
};

struct vbar {
	bool io;   /* an I/O BAR: port exits, forwarded through VFIO */
	void *map; /* VFIO region mmap (NULL: every access trapped) */
	uint64_t size;
	uint64_t guest_addr;
	bool on;
	struct piece piece[MAX_PIECES];
	unsigned n_pieces;
};

struct vmm;

/* One assigned function. */
struct vdev {
	struct vmm *m;
	unsigned idx;
	struct hqio_vmm_dev_stats *ds;
	struct hqio_bdf hbdf;
	struct hqio_host_ops ops; /* m->vops with interrupt handlers run under the lock */
	hqio_irq_fn irq_fn;
	void *irq_arg;
	struct hqio_pci_info *info;
	struct hqio_irq *irq;
	struct hqio_vpci *vpci;
	bool irq_up, vpci_up;
	/* --dvh-mirror: the function's own quirk (replaces the built-in). */
	struct hqio_dvh_quirk own_quirk;
	struct hqio_dvh_table own_table;
	/* lib/reset: the plan made at assignment, used again at reclaim. */
	struct hqio_system sys;
	struct hqio_reset_plan *plan;
	bool assigned; /* reset and verified at assignment (or --no-reset) */
	bool released; /* reclaim reached the memory release for it */
	uint16_t gbdf; /* bus << 8 | dev << 3 | fn as the guest sees it */
	unsigned gsi;  /* its INTx line */
	struct vbar bar[6];
	uint32_t host_bar0;
	unsigned slots_now; /* BAR memslots mapped now */
	/* The guest's INTx line: our irqfd with resample. */
	int intx_efd, resample_efd;
	bool intx_own_attached;
	bool in_eoi;
	uint64_t t_assert_ns; /* last assertion of the guest's line (0: none pending) */
	uint32_t *intx_us;    /* assert -> EOI samples */
	unsigned n_intx_us;
	/* Fast path (see "Fast path" below). */
	unsigned n_fast;
	int fast_efd[HQIO_VMM_FAST_MAX];
	bool fast_on[HQIO_VMM_FAST_MAX];
	uint64_t fast_addr[HQIO_VMM_FAST_MAX];
	uint32_t fast_data[HQIO_VMM_FAST_MAX];
	int unmask_efd; /* host INTx: VFIO's unmask eventfd = KVM's resample fd */
	bool direct_on; /* host INTx -> guest line irqfd attached */
	long long vfio_irqs_before;
	char name[HQIO_BDF_STR_MAX];
};

struct vmm {
	const struct hqio_vmm_config *cfg;
	struct hqio_vmm_stats *st;
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_len;
	uint8_t *ram;
	uint64_t mem;
	struct hqio_pcihost host;
	pthread_mutex_t lock;
	/* The assigned functions (one VFIO container for all). */
	struct hqio_vfio *vfio;
	struct hqio_host_ops vops; /* the VFIO backend */
	struct vdev dev[HQIO_VMM_MAX_ASSIGN];
	unsigned n_dev;
	bool dma_up; /* guest RAM mapped in the container */
	int kvm_vfio_fd;
	/* trace=1 steps of the first function (see struct hqio_vmm_intx_step):
	 * raise -> host MSI read, host MSI read -> assert, assert -> handler
	 * entry, handler entry -> EOI seen. */
	uint64_t t_raise_ns, t_host_ns, t_entry_ns;
	uint32_t *step_us[4];
	unsigned n_step[4];
	/* Threads. */
	pthread_t vcpu_thread, hop, events;
	bool hop_up, events_up;
	volatile bool stop;
	uint64_t deadline_ns;
	/* Console. */
	char line[512];
	size_t line_len;
	int kmsg;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Host operations: the VFIO backend with handlers run under the lock   */
/* ------------------------------------------------------------------ */

static void step_sample(struct vmm *m, unsigned k, uint64_t since_ns)
{
	if (!since_ns || !m->step_us[k] || m->n_step[k] >= INTX_SAMPLES_MAX)
		return;
	uint64_t us = (now_ns() - since_ns) / 1000;
	m->step_us[k][m->n_step[k]++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void resample_event(struct vdev *d);
static void fast_update(struct vdev *d);

static void locked_event(void *arg, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vec)
{
	struct vdev *d = arg;
	struct vmm *m = d->m;
	/* --eoi-first (an experiment, docs/monitor.md "INTx cost"): an EOI
	 * KVM already signaled (it de-asserted the line at the guest's EOI)
	 * is taken before the new host MSI, so the MSI finds the line low and
	 * asserts at once instead of being latched until this thread next
	 * polls the resample eventfd. Same outcome by lib/irq's rule. */
	if (m->cfg->eoi_first && d->resample_efd >= 0 && d->irq &&
	    d->irq->mode == HQIO_GUEST_IRQ_INTX)
		resample_event(d);
	pthread_mutex_lock(&m->lock);
	if (d->idx == 0) {
		step_sample(m, 0, m->t_raise_ns);
		m->t_raise_ns = 0;
		m->t_host_ns = now_ns();
	}
	bool held = d->irq && d->irq->throttled;
	if (d->irq_fn)
		d->irq_fn(d->irq_arg, bdf, type, vec);
	if (d->irq && held != d->irq->throttled)
		fast_update(d); /* a storm-guard hold began or ended */
	pthread_mutex_unlock(&m->lock);
}

#define VO(c) (&((struct vdev *)(c))->m->vops)
static int w_cfg_read(void *c, struct hqio_bdf b, uint16_t off, unsigned sz, uint32_t *v)
{
	return VO(c)->cfg_read(VO(c)->ctx, b, off, sz, v);
}
static int w_cfg_write(void *c, struct hqio_bdf b, uint16_t off, unsigned sz, uint32_t v)
{
	return VO(c)->cfg_write(VO(c)->ctx, b, off, sz, v);
}
static int w_bar_read(void *c, struct hqio_bdf b, unsigned bar, uint64_t off, unsigned sz,
		      uint64_t *v)
{
	return VO(c)->bar_read(VO(c)->ctx, b, bar, off, sz, v);
}
static int w_bar_write(void *c, struct hqio_bdf b, unsigned bar, uint64_t off, unsigned sz,
		       uint64_t v)
{
	return VO(c)->bar_write(VO(c)->ctx, b, bar, off, sz, v);
}
static uint64_t w_now(void *c)
{
	return VO(c)->now_ns(VO(c)->ctx);
}
static int w_sleep(void *c, uint64_t ns)
{
	return VO(c)->sleep_ns(VO(c)->ctx, ns);
}
static int w_wait(void *c, bool (*cond)(void *), void *a, uint64_t poll_ns, uint64_t to_ns)
{
	return VO(c)->wait_until(VO(c)->ctx, cond, a, poll_ns, to_ns);
}
static int w_irq_set(void *c, struct hqio_bdf b, enum hqio_irq_type t, unsigned n, hqio_irq_fn fn,
		     void *arg)
{
	struct vdev *d = c;
	d->irq_fn = fn;
	d->irq_arg = arg;
	int rc = VO(c)->irq_set(VO(c)->ctx, b, t, n, fn ? locked_event : NULL, fn ? d : NULL);
	/* lib/irq re-enabled the vectors (the end of a storm-guard hold on a
	 * device without mask bits): the backend made new eventfds; point
	 * the triggers at the fast path's again, so its irqfds keep working. */
	if (rc == 0 && n && d->ds->fast_path && n == d->n_fast && t == d->irq->host_type) {
		struct hqio_error e = { 0 };
		if (hqio_vfio_set_irq_eventfds(d->m->vfio, b, t, d->fast_efd, n, &e) == 0)
			d->ds->fast_reswaps++;
	}
	return rc;
}
static int w_irq_mask(void *c, struct hqio_bdf b, enum hqio_irq_type t, unsigned vec, bool mask)
{
	return VO(c)->irq_mask(VO(c)->ctx, b, t, vec, mask);
}
static int w_dma_map(void *c, struct hqio_bdf b, uint64_t iova, uint64_t host, uint64_t len,
		     unsigned prot)
{
	return VO(c)->dma_map(VO(c)->ctx, b, iova, host, len, prot);
}
static int w_dma_unmap(void *c, struct hqio_bdf b, uint64_t iova, uint64_t len)
{
	return VO(c)->dma_unmap(VO(c)->ctx, b, iova, len);
}
static int w_ats(void *c, struct hqio_bdf b, uint64_t iova, uint64_t len)
{
	return VO(c)->ats_invalidate(VO(c)->ctx, b, iova, len);
}
static int w_reset(void *c, struct hqio_bdf b, enum hqio_platform_reset kind)
{
	return VO(c)->platform_reset(VO(c)->ctx, b, kind);
}

static void wrap_ops(struct vdev *d)
{
	const struct hqio_host_ops *v = &d->m->vops;
	d->ops = (struct hqio_host_ops){
		.ctx = d,
		.flags = v->flags,
		.cfg_read = w_cfg_read,
		.cfg_write = w_cfg_write,
		.bar_read = w_bar_read,
		.bar_write = w_bar_write,
		.now_ns = w_now,
		.sleep_ns = w_sleep,
		.wait_until = w_wait,
		.irq_set = w_irq_set,
		.irq_mask = w_irq_mask,
		.dma_map = w_dma_map,
		.dma_unmap = w_dma_unmap,
		.ats_invalidate = v->ats_invalidate ? w_ats : NULL,
		.platform_reset = v->platform_reset ? w_reset : NULL,
	};
}

/* ------------------------------------------------------------------ */
/* Guest interrupts (called by lib/irq under the lock)                  */
/* ------------------------------------------------------------------ */

static void guest_inject_msi(void *arg, uint64_t addr, uint32_t data)
{
	struct vdev *d = arg;
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	d->ds->msi_signaled++;
	/* Returns > 0 when delivered, 0 when the guest blocked it (api.rst). */
	if (ioctl(d->m->vm, KVM_SIGNAL_MSI, &msi) < 0)
		d->ds->spurious++;
}

static void guest_set_intx(void *arg, bool level)
{
	struct vdev *d = arg;
	if (!level)
		return; /* KVM de-asserted the resample irqfd's line at the EOI */
	if (d->in_eoi)
		d->ds->reasserted++;
	if (d->idx == 0) {
		step_sample(d->m, 1, d->m->t_host_ns);
		d->m->t_host_ns = 0;
	}
	d->t_assert_ns = now_ns();
	uint64_t one = 1;
	if (write(d->intx_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		d->ds->spurious++;
}

/* ------------------------------------------------------------------ */
/* BAR memslots                                                         */
/* ------------------------------------------------------------------ */

static int set_slot(struct vmm *m, unsigned slot, uint64_t gpa, uint64_t len, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = len,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};
	return ioctl(m->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static unsigned bar_slot(const struct vdev *d, unsigned b, unsigned k)
{
	return BAR_SLOT_BASE + (d->idx * 6 + b) * MAX_PIECES + k;
}

/* Split BAR b into the pages to map (NSDR) and the pages to trap: the
 * MSI-X table and PBA (lib/irq) and back doors (lib/vpci's quirk table). */
static void plan_pieces(struct vdev *d, unsigned b)
{
	struct vbar *vb = &d->bar[b];
	struct hqio_vmm_trap traps[MAX_TRAPS];
	unsigned n = 0;
	vb->n_pieces = 0;
	if (!vb->map || vb->size < PAGE || d->m->cfg->trap_bars) {
		d->ds->bar_trapped_bytes += vb->size; /* all trapped */
		return;
	}
	const struct hqio_pci_msix *x = &d->info->msix;
	if (x->present) {
		if (x->table_bir == b && n < MAX_TRAPS)
			traps[n++] = (struct hqio_vmm_trap){ x->table_offset,
							     (uint64_t)x->table_size * 16 };
		if (x->pba_bir == b && n < MAX_TRAPS)
			traps[n++] =
				(struct hqio_vmm_trap){ x->pba_offset,
							((uint64_t)x->table_size + 63) / 64 * 8 };
	}
	struct hqio_dvh_range dr[MAX_TRAPS];
	int nd = hqio_vpci_trapped_ranges(d->vpci, PAGE, dr, MAX_TRAPS);
	for (int i = 0; i < nd && i < MAX_TRAPS; i++)
		if (dr[i].bar == b && n < MAX_TRAPS)
			traps[n++] = (struct hqio_vmm_trap){ dr[i].off, dr[i].len };
	struct hqio_vmm_piece pc[MAX_PIECES];
	unsigned np = hqio_vmm_bar_pieces(vb->size, PAGE, traps, n, pc, MAX_PIECES);
	uint64_t mapped = 0;
	for (unsigned i = 0; i < np; i++) {
		vb->piece[i] = (struct piece){ .off = pc[i].off, .len = pc[i].len };
		mapped += pc[i].len;
	}
	vb->n_pieces = np;
	d->ds->bar_trapped_bytes += vb->size - mapped;
}

static void unmap_bar(struct vdev *d, unsigned b)
{
	struct vbar *vb = &d->bar[b];
	for (unsigned k = 0; k < vb->n_pieces; k++)
		if (vb->piece[k].mapped) {
			set_slot(d->m, bar_slot(d, b, k), 0, 0, NULL);
			vb->piece[k].mapped = false;
			d->slots_now--;
		}
}

/* lib/vpci: the guest moved or (de)activated a BAR. */
static void bar_changed(void *arg, unsigned b, uint64_t guest_addr, bool on)
{
	struct vdev *d = arg;
	if (b >= 6)
		return;
	struct vbar *vb = &d->bar[b];
	unmap_bar(d, b);
	vb->guest_addr = guest_addr;
	vb->on = on;
	if (!on)
		return;
	for (unsigned k = 0; k < vb->n_pieces; k++) {
		struct piece *p = &vb->piece[k];
		int rc = set_slot(d->m, bar_slot(d, b, k), guest_addr + p->off, p->len,
				  (uint8_t *)vb->map + p->off);
		if (rc == 0) {
			p->mapped = true;
			if (++d->slots_now > d->ds->bar_slots)
				d->ds->bar_slots = d->slots_now;
		} /* else (e.g. overlapping RAM or another BAR): the piece stays trapped */
	}
}

/* ------------------------------------------------------------------ */
/* Exits                                                                */
/* ------------------------------------------------------------------ */

static void console_byte(struct vmm *m, char c)
{
	if (c != '\n' && m->line_len < sizeof(m->line) - 1) {
		m->line[m->line_len++] = c;
		return;
	}
	m->line[m->line_len] = 0;
	if (m->cfg->console) {
		fprintf(m->cfg->console, "%s\n", m->line);
		fflush(m->cfg->console);
	}
	if (!strncmp(m->line, "GUEST RESULT ", 13)) {
		const char *p = strchr(m->line + 13, ' ');
		if (p && !strncmp(p + 1, "PASS", 4))
			m->st->guest_pass++;
		else if (p && !strncmp(p + 1, "FAIL", 4))
			m->st->guest_fail++;
	}
	m->line_len = 0;
}

/* lib/vpci behind the host bridge. */
static bool dev_cfg(void *arg, uint16_t bdf, uint16_t off, unsigned size, bool write, uint32_t *val)
{
	struct vmm *m = arg;
	struct vdev *d = NULL;
	for (unsigned i = 0; i < m->n_dev && !d; i++)
		if (m->dev[i].vpci_up && m->dev[i].gbdf == bdf)
			d = &m->dev[i];
	if (!d)
		return false;
	pthread_mutex_lock(&m->lock);
	int rc = write ? hqio_vpci_write(d->vpci, off, size, *val)
		       : hqio_vpci_read(d->vpci, off, size, val);
	if (write)
		fast_update(d);
	pthread_mutex_unlock(&m->lock);
	if (rc && !write)
		*val = 0xffffffffu;
	d->ds->cfg++;
	m->st->cfg_dev++;
	return true;
}

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}
static void wr_le(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A port access inside an assigned function's I/O BAR as the guest
 * placed it: to the function through lib/vpci (which forwards to VFIO's
 * region of the BAR). Returns false when no I/O BAR claims the port. */
static bool io_bar(struct vmm *m, uint16_t port, unsigned size, bool out, uint32_t *v)
{
	for (unsigned i = 0; i < m->n_dev; i++) {
		struct vdev *d = &m->dev[i];
		for (unsigned b = 0; d->vpci_up && b < 6; b++) {
			const struct vbar *vb = &d->bar[b];
			if (!vb->io || !vb->on || port < vb->guest_addr ||
			    port - vb->guest_addr >= vb->size)
				continue;
			uint64_t off = port - vb->guest_addr, val = out ? *v : 0;
			pthread_mutex_lock(&m->lock);
			int rc = out ? hqio_vpci_bar_write(d->vpci, b, off, size, val)
				     : hqio_vpci_bar_read(d->vpci, b, off, size, &val);
			pthread_mutex_unlock(&m->lock);
			if (!out)
				*v = rc ? 0xffffffffu : (uint32_t)val;
			d->ds->io_trapped++;
			return true;
		}
	}
	return false;
}

/* Returns 1 when the guest asked to exit. */
static int handle_io(struct vmm *m)
{
	struct kvm_run *r = m->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	bool out = r->io.direction == KVM_EXIT_IO_OUT;
	unsigned size = r->io.size;
	m->st->exits.io++;
	for (uint32_t i = 0; i < r->io.count; i++, data += size) {
		uint16_t port = r->io.port;
		uint32_t v = (uint32_t)rd_le(data, size);
		if (port == HQIO_VMM_DEBUG_PORT && out) {
			m->st->exits.io_debug++;
			console_byte(m, (char)v);
		} else if (port == HQIO_VMM_TRACE_PORT && out) {
			m->st->exits.io_debug++;
			pthread_mutex_lock(&m->lock);
			if (v == 0) {
				m->t_raise_ns = now_ns();
			} else {
				step_sample(m, 2, m->n_dev ? m->dev[0].t_assert_ns : 0);
				m->t_entry_ns = now_ns();
			}
			pthread_mutex_unlock(&m->lock);
		} else if (port == HQIO_VMM_EXIT_PORT && out) {
			m->st->exits.io_exit++;
			m->st->guest_exit = (int)(v & 0xff);
			return 1;
		} else if (hqio_pcihost_pio(&m->host, port, size, out, &v)) {
			m->st->exits.io_cfg++;
			if (!out)
				wr_le(data, size, v);
		} else if (io_bar(m, port, size, out, &v)) {
			m->st->exits.io_bar++;
			if (!out)
				wr_le(data, size, v);
		} else {
			m->st->exits.io_unclaimed++;
			if (!out)
				memset(data, 0xff, size);
		}
	}
	return 0;
}

static void handle_mmio(struct vmm *m)
{
	struct kvm_run *r = m->run;
	uint64_t gpa = r->mmio.phys_addr;
	unsigned len = r->mmio.len;
	bool w = r->mmio.is_write;
	m->st->exits.mmio++;
	uint32_t v32 = w ? (uint32_t)rd_le(r->mmio.data, len > 4 ? 4 : len) : 0;
	if (len <= 4 && hqio_pcihost_ecam(&m->host, gpa, len, w, &v32)) {
		m->st->exits.mmio_ecam++;
		if (!w)
			wr_le(r->mmio.data, len, v32);
		return;
	}
	for (unsigned i = 0; i < m->n_dev; i++) {
		struct vdev *d = &m->dev[i];
		for (unsigned b = 0; d->vpci_up && b < 6; b++) {
			struct vbar *vb = &d->bar[b];
			if (vb->io || !vb->on || !vb->size || gpa < vb->guest_addr ||
			    gpa - vb->guest_addr >= vb->size)
				continue;
			uint64_t off = gpa - vb->guest_addr, v = w ? rd_le(r->mmio.data, len) : 0;
			pthread_mutex_lock(&m->lock);
			uint64_t before = d->irq->stats.trapped_accesses;
			int rc = w ? hqio_vpci_bar_write(d->vpci, b, off, len, v)
				   : hqio_vpci_bar_read(d->vpci, b, off, len, &v);
			if (d->irq->stats.trapped_accesses != before) {
				d->ds->msix_trapped++;
				if (w) /* an MSI-X entry or the mask may have changed */
					fast_update(d);
			}
			pthread_mutex_unlock(&m->lock);
			if (rc && !w)
				v = ~0ull;
			if (!w)
				wr_le(r->mmio.data, len, v);
			m->st->exits.mmio_bar++;
			d->ds->mmio_trapped++;
			return;
		}
	}
	m->st->exits.mmio_unclaimed++;
	if (!w)
		memset(r->mmio.data, 0xff, len);
}

/* ------------------------------------------------------------------ */
/* Threads                                                              */
/* ------------------------------------------------------------------ */

static void kick(struct vmm *m)
{
	pthread_kill(m->vcpu_thread, KICK_SIGNAL);
}

static void *hop_main(void *arg)
{
	struct vmm *m = arg;
	while (!m->stop) {
		if (m->n_dev)
			hqio_vfio_dispatch(m->vfio, POLL_MS * NS_PER_MS);
		else
			poll(NULL, 0, POLL_MS);
		pthread_mutex_lock(&m->lock);
		for (unsigned i = 0; i < m->n_dev; i++)
			if (m->dev[i].irq_up) {
				bool held = m->dev[i].irq->throttled;
				hqio_irq_tick(m->dev[i].irq);
				if (held != m->dev[i].irq->throttled)
					fast_update(&m->dev[i]);
			}
		pthread_mutex_unlock(&m->lock);
		if (now_ns() > m->deadline_ns)
			kick(m);
	}
	return NULL;
}

/* The guest's EOI of a function's INTx line (KVM signalled the resample
 * eventfd of our irqfd). */
static void resample_event(struct vdev *d)
{
	struct vmm *m = d->m;
	uint64_t n;
	if (read(d->resample_efd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	pthread_mutex_lock(&m->lock);
	if (d->t_assert_ns && d->intx_us && d->n_intx_us < INTX_SAMPLES_MAX) {
		uint64_t us = (now_ns() - d->t_assert_ns) / 1000;
		d->intx_us[d->n_intx_us++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	d->t_assert_ns = 0;
	if (d->idx == 0) {
		step_sample(m, 3, m->t_entry_ns);
		m->t_entry_ns = 0;
	}
	d->ds->eois += n;
	if (d->irq_up) {
		bool held = d->irq->throttled;
		d->in_eoi = true;
		hqio_irq_guest_eoi(d->irq);
		d->in_eoi = false;
		if (held != d->irq->throttled)
			fast_update(d);
	}
	pthread_mutex_unlock(&m->lock);
}

static void on_kick(int sig)
{
	(void)sig; /* only interrupts KVM_RUN (EINTR) */
}

/* ------------------------------------------------------------------ */
/* VM and vCPU                                                          */
/* ------------------------------------------------------------------ */

static int kvm_fail(struct hqio_error *err, const char *what)
{
	int e = errno;
	return hqio_error_set(err, -e, "KVM: %s: %s", what, strerror(e));
}

static int check_caps(int vm, struct hqio_error *err)
{
	static const struct {
		long cap;
		const char *name;
	} need[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP (in-kernel interrupt controller)" },
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
		{ KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE" },
		{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (ioctl(vm, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
			return hqio_error_set(err, -EOPNOTSUPP, "KVM lacks %s", need[i].name);
	return 0;
}

static int open_vm(const char *dev, int *kvm, int *vm, struct hqio_error *err)
{
	*kvm = open(dev, O_RDWR | O_CLOEXEC);
	if (*kvm < 0) {
		int e = errno;
		return hqio_error_set(err, -e, "cannot open %s: %s%s", dev, strerror(e),
				      e == ENOENT ? " (no KVM: kvm-intel/kvm-amd not loaded or no "
						    "hardware virtualization)"
				      : e == EACCES ? " (need root or the kvm group)"
						    : "");
	}
	int api = ioctl(*kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_EXPECTED)
		return hqio_error_set(err, -EOPNOTSUPP, "%s: KVM API version %d, need %d", dev, api,
				      KVM_API_EXPECTED);
	*vm = ioctl(*kvm, KVM_CREATE_VM, 0);
	if (*vm < 0)
		return kvm_fail(err, "KVM_CREATE_VM");
	return check_caps(*vm, err);
}

/* Flat 32-bit protected mode as multiboot requires (3.2): CS 4 GiB
 * execute/read, data segments 4 GiB read/write, CR0.PE, paging off,
 * EFLAGS.IF clear, EAX magic, EBX information. */
static int setup_vcpu(int vcpu, uint32_t entry, uint32_t ebx, struct hqio_error *err)
{
	struct kvm_sregs s;
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		return kvm_fail(err, "KVM_GET_SREGS");
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x08,
		.type = 0xb, /* code, RX, accessed */
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 0x10;
	data.type = 0x3; /* data, RW, accessed */
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = (struct kvm_segment){ .limit = 0xffff, .type = 0xb, .present = 1 }; /* busy TSS */
	s.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
	s.cr0 = 0x11; /* PE | ET */
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0)
		return kvm_fail(err, "KVM_SET_SREGS (32-bit protected mode)");
	struct kvm_regs r = { 0 };
	r.rip = entry;
	r.rax = HQIO_MB_LOADER_MAGIC;
	r.rbx = ebx;
	r.rflags = 0x2; /* bit 1 is always 1 */
	if (ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		return kvm_fail(err, "KVM_SET_REGS");
	return 0;
}

static int set_cpuid(int kvm, int vcpu)
{
	int n = 128;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	c->nent = n;
	int rc = 0;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0 || ioctl(vcpu, KVM_SET_CPUID2, c) < 0)
		rc = -errno;
	free(c);
	return rc;
}

static int create_vcpu(struct vmm *m, uint32_t entry, uint32_t ebx, struct hqio_error *err)
{
	m->vcpu = ioctl(m->vm, KVM_CREATE_VCPU, 0);
	if (m->vcpu < 0)
		return kvm_fail(err, "KVM_CREATE_VCPU");
	int sz = ioctl(m->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return kvm_fail(err, "KVM_GET_VCPU_MMAP_SIZE");
	m->run_len = (size_t)sz;
	m->run = mmap(NULL, m->run_len, PROT_READ | PROT_WRITE, MAP_SHARED, m->vcpu, 0);
	if (m->run == MAP_FAILED) {
		m->run = NULL;
		return kvm_fail(err, "mmap of the vCPU's kvm_run");
	}
	set_cpuid(m->kvm, m->vcpu); /* best effort: the guest uses no CPUID */
	return setup_vcpu(m->vcpu, entry, ebx, err);
}

/* ------------------------------------------------------------------ */
/* KVM debugfs and the kernel log                                       */
/* ------------------------------------------------------------------ */

static long long debugfs_stat(const char *name)
{
	char path[128], buf[32];
	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoll(buf);
}

/* This vCPU's own counters through KVM's binary statistics
 * (KVM_GET_STATS_FD, api.rst 4.133, Linux 5.14+): a header, descriptors
 * of name_size-byte names, and u64 values at data_offset + desc->offset.
 * Returns 0 when read (missing names stay -1). */
static int vcpu_stats(int vcpu, const char *const *names, long long *out, unsigned n)
{
	int fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return -errno;
	struct kvm_stats_header h;
	int rc = -EIO;
	uint8_t *descs = NULL;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.num_desc > 4096 ||
	    h.name_size > 4096)
		goto out;
	size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(dsz * h.num_desc);
	if (!descs ||
	    pread(fd, descs, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc))
		goto out;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		const struct kvm_stats_desc *d = (const void *)(descs + i * dsz);
		for (unsigned k = 0; k < n; k++) {
			uint64_t v;
			if (d->size < 1 || strncmp(d->name, names[k], h.name_size) ||
			    pread(fd, &v, sizeof(v), (off_t)h.data_offset + d->offset) !=
				    (ssize_t)sizeof(v))
				continue;
			out[k] = (long long)v;
		}
	}
	rc = 0;
out:
	free(descs);
	close(fd);
	return rc;
}

/* Count the IOMMU's DMA fault lines for the device logged since the run
 * began: Intel "DMAR: [DMA Write ...] Request device [01:00.0] ... fault
 * addr 0x..." (drivers/iommu/intel/dmar.c dmar_fault_do_one), AMD
 * "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0 ... address=0x...]"
 * (drivers/iommu/amd/iommu.c). */
static void scan_kmsg(struct vmm *m)
{
	if (m->kmsg < 0)
		return;
	char rec[1024], dev[HQIO_VMM_MAX_ASSIGN][16];
	for (unsigned i = 0; i < m->n_dev; i++)
		snprintf(dev[i], sizeof(dev[i]), "%02x:%02x.%x", m->dev[i].hbdf.bus,
			 m->dev[i].hbdf.dev, m->dev[i].hbdf.fn);
	for (;;) {
		ssize_t n = read(m->kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten: go on with the next */
		if (n <= 0)
			break;
		rec[n] = 0;
		bool dmar = strstr(rec, "DMAR") && strstr(rec, "fault addr");
		bool amd = strstr(rec, "IO_PAGE_FAULT");
		if (!dmar && !amd)
			continue;
		for (unsigned i = 0; i < m->n_dev; i++) {
			if (!strstr(rec, dev[i]))
				continue;
			struct hqio_vmm_dev_stats *ds = m->dev[i].ds;
			ds->dma_faults++;
			const char *a = strstr(rec, dmar ? "fault addr " : "address=");
			if (a && !ds->dma_fault_addr)
				ds->dma_fault_addr = strtoull(a + (dmar ? 11 : 8), NULL, 16);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Memory types                                                         */
/* ------------------------------------------------------------------ */

/* The guest runs with paging off and the MTRRs as KVM creates them
 * (IA32_MTRR_DEF_TYPE 0: MTRRs disabled, so the guest's own view is UC
 * everywhere, SDM vol. 3 11.11.2.1); the PAT is not used without paging,
 * modelled as PAT entry 0 (WB). KVM's non-coherent-DMA input: KVM counts
 * a group added to its VFIO device as non-coherent when its IOMMU does not
 * enforce cache coherency (virt/kvm/vfio.c kvm_vfio_update_coherency ->
 * kvm_arch_register_noncoherent_dma), which VFIO_DMA_CC_IOMMU tells. */
static void noncoherent_input(struct vmm *m, struct hqio_vmm_memtype *r)
{
	bool added = false;
	for (unsigned i = 0; i < m->n_dev; i++)
		added |= m->dev[i].ds->kvm_vfio_group;
	if (!added) {
		r->noncoherent_dma = false;
		r->dma_source = m->n_dev ? "no group added to KVM's VFIO device: KVM assumes "
					   "coherent DMA"
					 : "no assigned function";
		return;
	}
	int c = hqio_vfio_iommu_coherent(m->vfio);
	r->noncoherent_dma = c == 0;
	r->dma_source = c > 0	 ? "VFIO_DMA_CC_IOMMU: the IOMMU enforces snooping"
			: c == 0 ? "VFIO_DMA_CC_IOMMU: the IOMMU does not enforce snooping, "
				   "so KVM registered non-coherent DMA"
				 : "VFIO_DMA_CC_IOMMU unknown: modelled as coherent";
}

static void memtype_report(struct hqio_vmm_memtype *r)
{
	unsigned a, b, c, d;
	char vendor[13] = { 0 };
	if (!__get_cpuid(0, &a, &b, &c, &d))
		return;
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	struct hqio_vm_memtype_result ram, bar;
	if (!strcmp(vendor, "GenuineIntel")) {
		struct hqio_ept_input in;
		hqio_ept_input_init(&in);
		in.guest_mtrr = HQIO_MT_UC;
		in.guest_pat = HQIO_MT_WB;
		in.noncoherent_dma = r->noncoherent_dma;
		if (hqio_ept_kvm61(&in, &ram))
			return;
		in.is_mmio = true;
		if (hqio_ept_kvm61(&in, &bar))
			return;
		r->model = "ept";
	} else if (!strcmp(vendor, "AuthenticAMD")) {
		struct hqio_npt_input in;
		hqio_npt_input_init(&in);
		in.guest_mtrr = HQIO_MT_UC;
		in.guest_pat = HQIO_MT_WB;
		in.noncoherent_dma = r->noncoherent_dma;
		if (hqio_npt_kvm61(&in, &ram))
			return;
		in.is_mmio = true;
		in.host_mtrr = HQIO_MT_UC; /* BARs lie in the host's UC MMIO range */
		if (hqio_npt_kvm61(&in, &bar))
			return;
		r->model = "npt";
	} else {
		return;
	}
	r->ram_guest = hqio_memtype_name(ram.guest_intended);
	r->ram_effective = hqio_memtype_name(ram.device_type);
	r->ram_coherent = ram.coherent;
	r->ram_reason = ram.reason;
	r->bar_guest = hqio_memtype_name(bar.guest_intended);
	r->bar_effective = hqio_memtype_name(bar.device_type);
	r->bar_coherent = bar.coherent;
	r->bar_reason = bar.reason;
}

/* ------------------------------------------------------------------ */
/* Fast path                                                            */
/* ------------------------------------------------------------------ */

/*
 * Interrupts go from VFIO's eventfds straight into KVM, with no user-space
 * hop. The group fds (for KVM's VFIO device) come from host/vfio.c
 * (hqio_vfio_group_fd), and hqio_vfio_set_irq_eventfds points the triggers
 * of the block lib/irq enabled at our eventfds (VFIO_DEVICE_SET_IRQS on an
 * enabled block swaps them, vfio_msi_set_block). The eventfds then stay
 * ours; whenever an irqfd does not consume one, the event thread reads it
 * and hands the event to lib/irq (the hop), so none is lost.
 *
 * MSI / MSI-X: each host vector v has an MSI route at the function's GSI
 * base + v carrying the guest's message for it, and its irqfd is attached
 * exactly while lib/irq would inject that message unchanged: the guest's
 * mode matches, the vector and (MSI-X) the function are unmasked, no storm
 * hold. A masked vector's events thus reach lib/irq, which sets its
 * pending bit (the PBA the guest reads) and delivers at the unmask.
 *
 * Host INTx (an INTx-only function, or --host-intx): VFIO's INTx trigger
 * is a KVM irqfd on the function's guest line with KVM_IRQFD_FLAG_RESAMPLE,
 * and KVM's resample eventfd is VFIO's unmask eventfd: VFIO masks the line
 * in its hard interrupt handler, the guest's EOI unmasks it in the kernel
 * (QEMU's vfio-pci INTx path). Attached while the guest's INTx is enabled;
 * our own INTx irqfd on that GSI is detached meanwhile.
 */

/* Sum of the function's vfio-msi/-msix/-intx lines in /proc/interrupts. */
static long long vfio_irq_count(struct hqio_bdf bdf)
{
	char name[48], line[4096];
	snprintf(name, sizeof(name), "(%04x:%02x:%02x.%x)", bdf.domain, bdf.bus, bdf.dev, bdf.fn);
	FILE *f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	long long sum = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "vfio-") || !strstr(line, name))
			continue;
		char *p = strchr(line, ':');
		while (p) {
			char *end;
			long long v = strtoll(p + 1, &end, 10);
			if (end == p + 1)
				break;
			sum += v;
			p = end;
		}
	}
	fclose(f);
	return sum;
}

static unsigned msi_gsi(const struct vdev *d, unsigned v)
{
	return HQIO_VMM_MSI_GSI_BASE + d->idx * HQIO_VMM_MSI_GSI_STEP + v;
}

/* Default routes KVM creates (arch/x86/kvm/irq_comm.c default_routing):
 * GSI 0-15 to the PIC (master pins 0-7, slave 8-15) and to IOAPIC pin =
 * GSI, 16-23 to the IOAPIC. KVM_SET_GSI_ROUTING replaces the whole table,
 * so they are re-created next to every function's MSI routes (testbed.md). */
static int set_routing(struct vmm *m)
{
	unsigned n = 16 + 24;
	for (unsigned i = 0; i < m->n_dev; i++)
		if (m->dev[i].irq_up && m->dev[i].irq->host_type != HQIO_IRQ_INTX)
			n += m->dev[i].n_fast;
	struct kvm_irq_routing *r =
		calloc(1, sizeof(*r) + n * sizeof(struct kvm_irq_routing_entry));
	if (!r)
		return -ENOMEM;
	unsigned k = 0;
	for (unsigned g = 0; g < 16; g++)
		r->entries[k++] = (struct kvm_irq_routing_entry){
			.gsi = g,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = g < 8 ? KVM_IRQCHIP_PIC_MASTER
							: KVM_IRQCHIP_PIC_SLAVE,
				       .pin = g % 8 },
		};
	for (unsigned g = 0; g < 24; g++)
		r->entries[k++] = (struct kvm_irq_routing_entry){
			.gsi = g,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = g },
		};
	for (unsigned i = 0; i < m->n_dev; i++) {
		const struct vdev *d = &m->dev[i];
		if (!d->irq_up || d->irq->host_type == HQIO_IRQ_INTX)
			continue;
		for (unsigned v = 0; v < d->n_fast; v++)
			r->entries[k++] = (struct kvm_irq_routing_entry){
				.gsi = msi_gsi(d, v),
				.type = KVM_IRQ_ROUTING_MSI,
				.u.msi = { .address_lo = (uint32_t)d->fast_addr[v],
					   .address_hi = (uint32_t)(d->fast_addr[v] >> 32),
					   .data = d->fast_data[v] },
			};
	}
	r->nr = k;
	int rc = ioctl(m->vm, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : 0;
	free(r);
	return rc;
}

static int irqfd(struct vmm *m, int fd, unsigned gsi, bool assign, int resamplefd)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = (assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN) |
			 (assign && resamplefd >= 0 ? KVM_IRQFD_FLAG_RESAMPLE : 0),
		.resamplefd = resamplefd >= 0 ? (uint32_t)resamplefd : 0,
	};
	return ioctl(m->vm, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

/* Our own irqfd on the function's INTx line (lib/irq drives it). */
static int own_intx(struct vdev *d, bool on)
{
	if (d->intx_own_attached == on)
		return 0;
	int rc = irqfd(d->m, d->intx_efd, d->gsi, on, on ? d->resample_efd : -1);
	if (rc == 0)
		d->intx_own_attached = on;
	return rc;
}

static void direct_intx(struct vdev *d, bool on)
{
	struct vmm *m = d->m;
	if (d->direct_on == on)
		return;
	if (on) {
		if (own_intx(d, false))
			return;
		if (irqfd(m, d->fast_efd[0], d->gsi, true, d->unmask_efd)) {
			own_intx(d, true);
			return;
		}
		d->direct_on = true;
		d->ds->fast_attaches++;
		/* A line lib/irq left masked (waiting for an EOI that now goes
		 * to VFIO) would never come back. */
		m->vops.irq_mask(m->vops.ctx, d->hbdf, HQIO_IRQ_INTX, 0, false);
	} else {
		irqfd(m, d->fast_efd[0], d->gsi, false, -1);
		d->direct_on = false;
		own_intx(d, true);
		m->vops.irq_mask(m->vops.ctx, d->hbdf, HQIO_IRQ_INTX, 0, false);
	}
}

static void fast_detach(struct vdev *d)
{
	for (unsigned v = 0; v < d->n_fast; v++)
		if (d->fast_on[v]) {
			irqfd(d->m, d->fast_efd[v], msi_gsi(d, v), false, -1);
			d->fast_on[v] = false;
		}
	direct_intx(d, false);
}

/* Which guest message host vector v stands for now, if lib/irq would
 * inject it unchanged (NULL: the vector must go through lib/irq). */
static const struct hqio_irq_vector *fast_target(const struct hqio_irq *q, unsigned v)
{
	if (q->throttled || q->guest_count == 0)
		return NULL;
	const struct hqio_irq_vector *g = NULL;
	if (q->host_type == HQIO_IRQ_MSI && q->mode == HQIO_GUEST_IRQ_MSI)
		g = &q->vec[v & (q->guest_count - 1)];
	else if (q->host_type == HQIO_IRQ_MSIX && q->mode == HQIO_GUEST_IRQ_MSIX &&
		 !q->msix_function_mask && v < q->guest_count)
		g = &q->vec[v];
	return g && !g->masked && !g->pending ? g : NULL;
}

/* After each guest write that can change lib/irq's state (configuration,
 * MSI-X table and PBA pages) and each storm-guard change; under the lock. */
static void fast_update(struct vdev *d)
{
	if (!d->ds->fast_path)
		return;
	const struct hqio_irq *q = d->irq;
	if (q->host_type == HQIO_IRQ_INTX) {
		direct_intx(d, q->mode == HQIO_GUEST_IRQ_INTX && !q->intx_disable && !q->throttled);
		return;
	}
	bool want[HQIO_VMM_FAST_MAX], changed = false;
	for (unsigned v = 0; v < d->n_fast; v++) {
		const struct hqio_irq_vector *g = fast_target(q, v);
		want[v] = g != NULL;
		if (g && (g->addr != d->fast_addr[v] || g->data != d->fast_data[v])) {
			d->fast_addr[v] = g->addr;
			d->fast_data[v] = g->data;
			changed = true;
		}
	}
	/* Detach first: a vector no longer wanted must not take a new route. */
	for (unsigned v = 0; v < d->n_fast; v++)
		if (d->fast_on[v] && (!want[v] || changed)) {
			irqfd(d->m, d->fast_efd[v], msi_gsi(d, v), false, -1);
			d->fast_on[v] = false;
		}
	if (changed && set_routing(d->m) < 0)
		return; /* every vector stays with lib/irq */
	for (unsigned v = 0; v < d->n_fast; v++)
		if (want[v] && !d->fast_on[v] &&
		    irqfd(d->m, d->fast_efd[v], msi_gsi(d, v), true, -1) == 0) {
			d->fast_on[v] = true;
			d->ds->fast_attaches++;
		}
}

/* Events of our eventfds that no irqfd consumed: to lib/irq; and the
 * guest's INTx EOIs (one thread for both keeps the INTx round trip to one
 * wake-up per direction). */
static void *events_main(void *arg)
{
	struct vmm *m = arg;
	struct pollfd p[HQIO_VMM_MAX_ASSIGN * (HQIO_VMM_FAST_MAX + 1)];
	struct {
		struct vdev *d;
		int v; /* -1: the resample eventfd */
	} who[sizeof(p) / sizeof(p[0])];
	unsigned n = 0;
	for (unsigned i = 0; i < m->n_dev; i++) {
		struct vdev *d = &m->dev[i];
		for (unsigned v = 0; d->ds->fast_path && v < d->n_fast; v++) {
			p[n] = (struct pollfd){ .fd = d->fast_efd[v], .events = POLLIN };
			who[n].d = d;
			who[n++].v = (int)v;
		}
		p[n] = (struct pollfd){ .fd = d->resample_efd, .events = POLLIN };
		who[n].d = d;
		who[n++].v = -1;
	}
	while (!m->stop) {
		if (poll(p, n, POLL_MS) <= 0)
			continue;
		for (unsigned k = 0; k < n; k++) {
			if (!(p[k].revents & POLLIN))
				continue;
			struct vdev *d = who[k].d;
			if (who[k].v < 0) {
				resample_event(d);
				continue;
			}
			uint64_t cnt;
			if (read(p[k].fd, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
				continue; /* an attached irqfd consumed it first */
			enum hqio_irq_type t = d->irq->host_type;
			for (uint64_t e = 0; e < cnt; e++) {
				d->ds->fast_fallback++;
				locked_event(d, d->hbdf, t, (unsigned)who[k].v);
			}
		}
	}
	return NULL;
}

/* KVM learns about the function's group (non-coherent DMA, arch hooks). */
static void kvm_vfio_add(struct vdev *d)
{
	struct vmm *m = d->m;
	int gfd = hqio_vfio_group_fd(m->vfio, d->hbdf);
	if (gfd < 0)
		return;
	if (m->kvm_vfio_fd < 0) {
		struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
		if (ioctl(m->vm, KVM_CREATE_DEVICE, &cd) < 0)
			return;
		m->kvm_vfio_fd = (int)cd.fd;
	}
	int32_t fd = gfd;
	struct kvm_device_attr a = { .group = KVM_DEV_VFIO_GROUP,
				     .attr = KVM_DEV_VFIO_GROUP_ADD,
				     .addr = (uint64_t)(uintptr_t)&fd };
	/* EEXIST: a function of the same group was added already. */
	d->ds->kvm_vfio_group =
		ioctl(m->kvm_vfio_fd, KVM_SET_DEVICE_ATTR, &a) == 0 || errno == EEXIST;
}

static int fast_setup(struct vdev *d, char *why, size_t why_len)
{
	struct vmm *m = d->m;
	const struct hqio_irq *q = d->irq;
	if (q->host_count == 0 || q->host_count > HQIO_VMM_FAST_MAX) {
		snprintf(why, why_len, "%u host vector(s): the hop serves them (irqfds for 1..%d)",
			 q->host_count, HQIO_VMM_FAST_MAX);
		return -EOPNOTSUPP;
	}
	d->n_fast = q->host_count;
	for (unsigned v = 0; v < d->n_fast; v++) {
		d->fast_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->fast_efd[v] < 0) {
			snprintf(why, why_len, "eventfd: %s", strerror(errno));
			return -errno;
		}
	}
	struct hqio_error e = { 0 };
	if (q->host_type == HQIO_IRQ_INTX) {
		d->unmask_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->unmask_efd < 0) {
			snprintf(why, why_len, "eventfd: %s", strerror(errno));
			return -errno;
		}
		int rc = hqio_vfio_set_intx_unmask_eventfd(m->vfio, d->hbdf, d->unmask_efd, &e);
		if (rc) {
			snprintf(why, why_len, "%s", e.msg);
			return rc;
		}
	}
	int rc = hqio_vfio_set_irq_eventfds(m->vfio, d->hbdf, q->host_type, d->fast_efd, d->n_fast,
					    &e);
	if (rc) {
		if (d->unmask_efd >= 0)
			hqio_vfio_set_intx_unmask_eventfd(m->vfio, d->hbdf, -1, &e);
		snprintf(why, why_len, "%s", e.msg);
		return rc;
	}
	if (q->host_type == HQIO_IRQ_INTX)
		snprintf(why, why_len,
			 "host INTx -> KVM irqfd on GSI %u with resample -> VFIO unmask eventfd%s",
			 d->gsi, d->ds->kvm_vfio_group ? ", group added to KVM's VFIO device" : "");
	else
		snprintf(why, why_len, "VFIO eventfd -> KVM irqfd, GSI %u.., %u %s vector(s)%s",
			 msi_gsi(d, 0), d->n_fast, q->host_type == HQIO_IRQ_MSIX ? "MSI-X" : "MSI",
			 d->ds->kvm_vfio_group ? ", group added to KVM's VFIO device" : "");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Assignment and reclaim through lib/reset                             */
/* ------------------------------------------------------------------ */

/*
 * Known state in both directions (hqio/reset.h): at assignment the plan is
 * made from sysfs (hqio's planner: methods, idle check, group viability,
 * refusal) and the function is quiesced, reset and verified before the
 * guest sees it; at reclaim hqio_reclaim runs its order (guest access
 * stopped, quiesce, reset, verify, drain window, and only then guest RAM
 * unmapped from the device's IOMMU domain). Any failure quarantines the
 * function: it stays bound to vfio-pci, guest RAM stays mapped at reclaim
 * until the container closes, and the caller says it must not be handed
 * back. The VFIO backend sets HQIO_HOST_CFG_RESTORED: there only the MSI
 * address/data canary and device canaries (hooks) count.
 */

/* Negative control (--fault-inject canary): a device canary in a register
 * the reset does not clear. edu (QEMU docs/specs/edu.rst) BAR0 0x08 is the
 * factorial register; QEMU's hw/misc/edu.c registers no reset handler, so
 * it survives every reset (measured: edu-registers-after-reset). 1 is its
 * own factorial, so the value stays 1 whether or not edu computed it. */
#define EDU_VENDOR_ID	0x1234
#define EDU_DEVICE_ID	0x11e8
#define EDU_REG_FACT	0x08
#define EDU_FACT_CANARY 1u

static int stuck_canary_write(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf)
{
	(void)arg;
	uint64_t v = 0;
	int rc = ops->bar_write(ops->ctx, bdf, 0, EDU_REG_FACT, 4, EDU_FACT_CANARY);
	if (!rc)
		rc = ops->bar_read(ops->ctx, bdf, 0, EDU_REG_FACT, 4, &v);
	return rc ? rc : (uint32_t)v == EDU_FACT_CANARY ? 0 : -EIO;
}

static int stuck_canary_check(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf,
			      bool *cleared)
{
	(void)arg;
	uint64_t v = ~0ull;
	int rc = ops->bar_read(ops->ctx, bdf, 0, EDU_REG_FACT, 4, &v);
	*cleared = rc == 0 && (uint32_t)v == 0;
	return rc;
}

static void methods_text(const struct hqio_reset_plan *p, char *buf, size_t len)
{
	buf[0] = 0;
	for (unsigned i = 0; i < p->n_methods; i++) {
		size_t u = strlen(buf);
		snprintf(buf + u, len - u, "%s%s", i ? " " : "",
			 hqio_reset_method_name(p->methods[i]));
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* hqio's planner on the host function, from sysfs. */
static int plan_reset(struct vdev *d, struct hqio_error *err)
{
	const struct hqio_vmm_config *c = d->m->cfg;
	struct hqio_vmm_dev_stats *ds = d->ds;
	char dir[PATH_MAX];
	int want = -1;
	if (c->reset_method) {
		for (int i = 0; i < HQIO_RM_COUNT; i++)
			if (!strcmp(c->reset_method,
				    hqio_reset_method_name((enum hqio_reset_method)i)))
				want = i;
		if (want < 0)
			return hqio_error_set(err, -EINVAL,
					      "unknown reset method '%s' (device_specific, flr, "
					      "af_flr, pm, bus)",
					      c->reset_method);
	}
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", c->sys ? c->sys : HQIO_SYSFS_ROOT);
	int rc = hqio_sysfs_read(dir, &d->hbdf, 1, &d->sys, err);
	if (!rc)
		rc = hqio_system_decode(&d->sys, err);
	if (rc)
		return rc;
	const struct hqio_pci_node *n = hqio_system_find(&d->sys, d->hbdf);
	if (!n || !n->info)
		return hqio_error_set(err, -ENOENT, "%s: not decoded from sysfs", d->name);
	d->plan = calloc(1, sizeof(*d->plan));
	if (!d->plan)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	struct hqio_plan_input in = { .sys = &d->sys, .node = n, .owner = 1 };
	if ((rc = hqio_reset_plan(&in, d->plan, err)))
		return rc;
	if (want >= 0) {
		/* An experiment: only this method, whether the planner found it
		 * usable or not (its refusal for lack of a method is lifted; a
		 * non-viable group still refuses). */
		bool no_method =
			d->plan->refused && d->plan->n_methods == 0 && d->plan->group_viable;
		if (no_method)
			d->plan->refused = false;
		d->plan->methods[0] = (enum hqio_reset_method)want;
		d->plan->n_methods = 1;
	}
	methods_text(d->plan, ds->reset_plan, sizeof(ds->reset_plan));
	if (d->plan->refused)
		return hqio_error_set(err, -EPERM, "%s: not assignable: %s", d->name,
				      d->plan->refusal);
	return 0;
}

/* Before the guest sees the function: plan, quiesce, reset, verify. */
static int assign_reset(struct vdev *d, struct hqio_error *err)
{
	struct hqio_vmm_dev_stats *ds = d->ds;
	int rc = plan_reset(d, err);
	if (rc)
		return rc; /* nothing done to the function yet */
	if (d->m->cfg->no_reset) {
		snprintf(ds->assign_msg, sizeof(ds->assign_msg), "skipped (--no-reset)");
		d->assigned = true;
		return 0;
	}
	struct hqio_reset_result *res = calloc(1, sizeof(*res));
	if (!res)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	rc = hqio_reset_execute(&d->m->vops, d->plan, NULL, NULL, res, err);
	if (rc || res->quarantined) {
		ds->quarantined = true;
		snprintf(ds->assign_msg, sizeof(ds->assign_msg), "%s",
			 res->msg[0] ? res->msg : err->msg);
		rc = hqio_error_set(err, rc ? rc : -EIO,
				    "%s quarantined at assignment (%s); the guest was not started",
				    d->name, ds->assign_msg);
	} else {
		ds->assign_verified = true;
		d->assigned = true;
		snprintf(ds->assign_msg, sizeof(ds->assign_msg),
			 "%s reset and verified (quiesce %llu ms, reset %llu ms)",
			 hqio_reset_method_name(res->used),
			 (unsigned long long)(res->quiesce_ns / NS_PER_MS),
			 (unsigned long long)(res->reset_ns / NS_PER_MS));
	}
	free(res);
	return rc;
}

/* hqio_reclaim_ops: the guest's view of the function goes first ... */
static void reclaim_stop_guest(void *arg, struct hqio_bdf bdf)
{
	struct vdev *d = arg;
	(void)bdf;
	for (unsigned i = 0; i < 6; i++)
		unmap_bar(d, i);
	if (d->vpci_up)
		hqio_vpci_fini(d->vpci);
	if (d->irq_up)
		hqio_irq_fini(d->irq); /* host interrupts off */
	d->vpci_up = d->irq_up = false;
}

/* ... and guest memory last, once no function can write to it: the
 * container holds one mapping for all, released when the last function
 * reached this point and none before it failed. */
static void reclaim_release(void *arg, struct hqio_bdf bdf)
{
	struct vdev *d = arg;
	struct vmm *m = d->m;
	(void)bdf;
	d->released = true;
	for (unsigned i = 0; i < m->n_dev; i++)
		if (!m->dev[i].released)
			return;
	if (m->dma_up && m->vops.dma_unmap(m->vops.ctx, d->hbdf, 0, m->mem) == 0)
		m->st->memory_released = true;
	m->dma_up = false;
}

/* Read the function's configuration space as VFIO shows it and decode it. */
static int decode_function(struct vdev *d, struct hqio_error *err)
{
	struct vmm *m = d->m;
	uint8_t *img = calloc(1, HQIO_PCI_CFG_EXP_SIZE);
	d->info = calloc(1, sizeof(*d->info));
	d->irq = calloc(1, sizeof(*d->irq));
	d->vpci = calloc(1, sizeof(*d->vpci));
	if (!img || !d->info || !d->irq || !d->vpci) {
		free(img);
		return hqio_error_set(err, -ENOMEM, "out of memory");
	}
	for (uint16_t off = 0; off < HQIO_PCI_CFG_EXP_SIZE; off += 4) {
		uint32_t v = 0xffffffff;
		if (m->vops.cfg_read(m->vops.ctx, d->hbdf, off, 4, &v) && off < 256) {
			free(img);
			return hqio_error_set(err, -EIO, "%s: configuration read at 0x%x: %s",
					      d->name, off, hqio_vfio_error(m->vfio)->msg);
		}
		memcpy(img + off, &v, 4);
	}
	int rc = hqio_pci_decode(img, HQIO_PCI_CFG_EXP_SIZE, NULL, d->info, err);
	memcpy(&d->host_bar0, img + HQIO_PCI_BASE_ADDRESS_0, 4);
	free(img);
	if (!hqio_pci_decode_usable(rc))
		return rc;
	d->ds->host_bar0_before = d->host_bar0;
	return 0;
}

static const char *host_irq_name(const struct hqio_irq *q)
{
	if (!q->host_count)
		return "none";
	return q->host_type == HQIO_IRQ_MSIX  ? "msi-x"
	       : q->host_type == HQIO_IRQ_MSI ? "msi"
					      : "intx";
}

/* The function at guest BDF 00:(idx + 1).0 (after the host bridge). */
static int setup_device(struct vdev *d, struct hqio_error *err)
{
	struct vmm *m = d->m;
	const struct hqio_vmm_config *c = m->cfg;
	static const unsigned gsis[] = HQIO_VMM_INTX_GSIS;
	d->ds->was_quarantined = hqio_quarantine_get(c->state_dir, d->hbdf, NULL, 0);
	int rc = hqio_vfio_add(m->vfio, d->hbdf, err);
	if (rc)
		return rc;
	wrap_ops(d);
	if ((rc = assign_reset(d, err)))
		return rc;
	if ((rc = decode_function(d, err)))
		return rc;

	struct hqio_irq_config ic = {
		.ops = &d->ops,
		.bdf = d->hbdf,
		.storm_max = c->storm_max, /* 0: lib/irq's default */
		.guest = { .arg = d, .inject_msi = guest_inject_msi, .set_intx = guest_set_intx },
		.intx_disable_supported = true, /* PCI 2.3 and later; VFIO masks INTx anyway */
		.host_page_size = PAGE,
	};
	hqio_irq_config_from_info(&ic, d->info);
	ic.host_intx_only = c->host_intx;
	if (c->host_intx && !ic.pin)
		return hqio_error_set(err, -EOPNOTSUPP,
				      "%s has no INTx pin (Interrupt Pin 0): --host-intx cannot "
				      "apply",
				      d->name);
	rc = hqio_irq_init(d->irq, &ic, err);
	if (rc)
		return rc;
	d->irq_up = true;
	d->ds->host_irq = host_irq_name(d->irq);
	d->gsi = gsis[d->idx];
	d->ds->intx_gsi = d->gsi;
	d->gbdf = (uint16_t)((1 + d->idx) << 3); /* 00:01.0, 00:02.0, ... */
	d->ds->guest_bdf = d->gbdf;
	if (c->n_mirror) {
		d->own_quirk = (struct hqio_dvh_quirk){
			.name = "hqio run --dvh-mirror",
			.vendor = d->info->vendor_id,
			.device = d->info->device_id,
			.device_mask = 0xffff,
			.n_bd = c->n_mirror,
			.source = "the command line",
		};
		memcpy(d->own_quirk.bd, c->mirror, c->n_mirror * sizeof(c->mirror[0]));
		d->own_table = (struct hqio_dvh_table){ &d->own_quirk, 1 };
	}
	struct hqio_vpci_config vc = {
		.ops = &d->ops,
		.host_bdf = d->hbdf,
		.dvh_table = c->n_mirror ? &d->own_table : NULL,
		.guest_bdf = { .bus = 0, .dev = (uint8_t)(1 + d->idx), .fn = 0 },
		.irq = d->irq,
		.allow_bus_master = true,
		.bar_changed = bar_changed,
		.bar_arg = d,
	};
	rc = hqio_vpci_init(d->vpci, &vc, err);
	if (rc)
		return rc;
	d->vpci_up = true;
	d->ds->quirk = d->vpci->quirk ? d->vpci->quirk->name : NULL;
	/* The guest's INTx line: what firmware would have written. */
	d->vpci->vcfg[HQIO_PCI_INTERRUPT_LINE] = (uint8_t)d->gsi;

	for (unsigned i = 0; i < 6; i++) {
		d->bar[i].size = d->vpci->bar_size[i];
		d->bar[i].io = d->info->bars[i].kind == HQIO_BAR_IO;
		if (!d->bar[i].size || d->bar[i].io)
			continue; /* I/O BARs: every access is a port exit (io_bar) */
		void *p = NULL;
		uint64_t len = 0;
		struct hqio_error e2 = { 0 };
		if (hqio_vfio_bar_mmap(m->vfio, d->hbdf, i, &p, &len, &e2) == 0 &&
		    len >= d->bar[i].size)
			d->bar[i].map = p; /* else every access of the BAR is trapped */
		plan_pieces(d, i);
	}

	/* DMA: guest RAM at IOVA = guest physical, once for the container. */
	if (!m->dma_up) {
		rc = m->vops.dma_map(m->vops.ctx, d->hbdf, 0, (uint64_t)(uintptr_t)m->ram, m->mem,
				     HQIO_DMA_READ | HQIO_DMA_WRITE);
		if (rc)
			return hqio_error_set(err, rc, "%s: mapping guest RAM for DMA: %s", d->name,
					      hqio_vfio_error(m->vfio)->msg);
		m->dma_up = true;
	}

	/* The guest's INTx line: a resample irqfd on its GSI. */
	d->intx_efd = eventfd(0, EFD_CLOEXEC);
	d->resample_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->intx_efd < 0 || d->resample_efd < 0)
		return hqio_error_set(err, -errno, "eventfd: %s", strerror(errno));
	if (own_intx(d, true) < 0)
		return kvm_fail(err, "KVM_IRQFD with resample for the guest's INTx line");
	d->vfio_irqs_before = vfio_irq_count(d->hbdf);
	kvm_vfio_add(d);
	struct hqio_vmm_dev_stats *ds = d->ds;
	if (c->msi_hop)
		snprintf(ds->fast_path_msg, sizeof(ds->fast_path_msg),
			 "off (--msi-hop): every interrupt through the user-space hop");
	else if (fast_setup(d, ds->fast_path_msg, sizeof(ds->fast_path_msg)) == 0)
		ds->fast_path = true;
	ds->intx_direct = ds->fast_path && d->irq->host_type == HQIO_IRQ_INTX;
	d->intx_us = calloc(INTX_SAMPLES_MAX, sizeof(uint32_t)); /* NULL: no breakdown */
	pthread_mutex_lock(&m->lock);
	fast_update(d); /* host INTx: the guest's line is enabled from the start */
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void step_breakdown(struct vmm *m)
{
	static const char *const names[4] = { "raise_to_host_msi", "host_msi_to_assert",
					      "assert_to_handler", "handler_to_eoi_seen" };
	for (unsigned k = 0; k < 4; k++) {
		struct hqio_vmm_intx_step *o = &m->st->intx_steps[k];
		unsigned n = m->n_step[k];
		o->name = names[k];
		o->n = n;
		if (!n)
			continue;
		qsort(m->step_us[k], n, sizeof(uint32_t), cmp_u32);
		o->p10_us = m->step_us[k][n / 10];
		o->p50_us = m->step_us[k][n / 2];
		o->p90_us = m->step_us[k][(n * 9) / 10];
	}
}

static void intx_breakdown(struct vdev *d)
{
	unsigned n = d->n_intx_us;
	d->ds->intx_samples = n;
	if (!n)
		return;
	qsort(d->intx_us, n, sizeof(uint32_t), cmp_u32);
	d->ds->intx_assert_to_eoi_p10_us = d->intx_us[n / 10];
	d->ds->intx_assert_to_eoi_p50_us = d->intx_us[n / 2];
	d->ds->intx_assert_to_eoi_p90_us = d->intx_us[(n * 9) / 10];
}

static uint32_t host_bar0_now(struct vdev *d)
{
	uint32_t v = 0;
	d->m->vops.cfg_read(d->m->vops.ctx, d->hbdf, HQIO_PCI_BASE_ADDRESS_0, 4, &v);
	return v;
}

/* The quarantine record outlives the process (host/quarantine.h): set on
 * any quarantine, removed only by a verified reset at reclaim. */
static void record_quarantine(struct vdev *d)
{
	struct hqio_vmm_dev_stats *ds = d->ds;
	const char *dir = d->m->cfg->state_dir;
	struct hqio_error e = { 0 };
	if (ds->quarantined) {
		char why[HQIO_QUARANTINE_REASON_MAX];
		const char *msg = d->assigned ? ds->reset_msg : ds->assign_msg;
		snprintf(why, sizeof(why), "hqio run: %s", msg[0] ? msg : "no verified reset");
		if (hqio_quarantine_mark(dir, d->hbdf, why, &e))
			snprintf(ds->reset_msg + strlen(ds->reset_msg),
				 sizeof(ds->reset_msg) - strlen(ds->reset_msg),
				 " (and no record kept: %.80s)", e.msg);
	} else if (ds->reset_done && ds->was_quarantined &&
		   hqio_quarantine_clear(dir, d->hbdf, &e) == 0) {
		ds->quarantine_lifted = true;
	}
}

/* Reclaim in hqio_reclaim's order; a failure quarantines the function. */
static void reclaim(struct vdev *d)
{
	struct vmm *m = d->m;
	struct hqio_vmm_dev_stats *ds = d->ds;
	ds->guest_bar0 = (uint32_t)d->bar[0].guest_addr;
	if (!d->assigned) {
		/* Refused or quarantined before the guest could use it. */
		reclaim_stop_guest(d, d->hbdf);
		if (!ds->quarantined)
			reclaim_release(d, d->hbdf);
		if (!ds->reset_msg[0])
			snprintf(ds->reset_msg, sizeof(ds->reset_msg), "not assigned: %s",
				 ds->quarantined ? "quarantined at assignment" : "set-up failed");
		if (ds->quarantined)
			record_quarantine(d);
		return;
	}
	if (m->cfg->no_reset) {
		reclaim_stop_guest(d, d->hbdf);
		reclaim_release(d, d->hbdf);
		snprintf(ds->reset_msg, sizeof(ds->reset_msg), "skipped (--no-reset)");
	} else {
		struct hqio_reset_hooks hooks = { 0 };
		bool stuck = m->cfg->fault_canary && d->info &&
			     d->info->vendor_id == EDU_VENDOR_ID &&
			     d->info->device_id == EDU_DEVICE_ID;
		if (stuck) {
			hooks.canary_write = stuck_canary_write;
			hooks.canary_check = stuck_canary_check;
		}
		struct hqio_reclaim_ops rops = { .arg = d,
						 .stop_guest_access = reclaim_stop_guest,
						 .release_memory = reclaim_release };
		struct hqio_reset_result *res = calloc(1, sizeof(*res));
		struct hqio_error e = { 0 };
		if (stuck) {
			/* the canary lives in BAR0: the host's memory decode on */
			uint32_t cmd = 0;
			if (m->vops.cfg_read(m->vops.ctx, d->hbdf, HQIO_PCI_COMMAND, 2, &cmd) == 0)
				m->vops.cfg_write(m->vops.ctx, d->hbdf, HQIO_PCI_COMMAND, 2,
						  cmd | HQIO_PCI_COMMAND_MEMORY);
		}
		int rc = res ? hqio_reclaim(&m->vops, d->plan, stuck ? &hooks : NULL, NULL, &rops,
					    res, &e)
			     : hqio_error_set(&e, -ENOMEM, "out of memory");
		if (rc == 0) {
			ds->reset_done = true;
			snprintf(ds->reset_used, sizeof(ds->reset_used), "%s",
				 hqio_reset_method_name(res->used));
			snprintf(ds->reset_msg, sizeof(ds->reset_msg),
				 "%s reset and verified (quiesce %llu ms, reset %llu ms)",
				 ds->reset_used, (unsigned long long)(res->quiesce_ns / NS_PER_MS),
				 (unsigned long long)(res->reset_ns / NS_PER_MS));
		} else {
			ds->quarantined = true;
			if (d->vpci_up || d->irq_up) /* a failure before the reclaim order ran */
				reclaim_stop_guest(d, d->hbdf);
			snprintf(ds->reset_msg, sizeof(ds->reset_msg), "%s",
				 e.msg[0] ? e.msg : "reclaim failed");
		}
		free(res);
	}
	ds->host_bar0_after = host_bar0_now(d);
	ds->host_bars_unchanged = ds->host_bar0_after == ds->host_bar0_before;
	record_quarantine(d);
}

/* The run's totals from the functions' own (see struct hqio_vmm_stats). */
static void aggregate(struct hqio_vmm_stats *st)
{
	if (!st->n_dev)
		return;
	const struct hqio_vmm_dev_stats *shown = NULL; /* the first that failed */
	st->fast_path = st->kvm_vfio_group = st->assign_verified = st->reset_done =
		st->host_bars_unchanged = true;
	st->host_vfio_irqs = 0;
	for (unsigned i = 0; i < st->n_dev; i++) {
		const struct hqio_vmm_dev_stats *ds = &st->dev[i];
		st->host_irqs += ds->host_irqs;
		st->delivered += ds->delivered;
		st->latched += ds->latched;
		st->reasserted += ds->reasserted;
		st->eois += ds->eois;
		st->coalesced += ds->coalesced;
		st->spurious += ds->spurious;
		st->msi_signaled += ds->msi_signaled;
		st->fast_attaches += ds->fast_attaches;
		st->fast_fallback += ds->fast_fallback;
		st->bar_slots += ds->bar_slots;
		st->bar_trapped_bytes += ds->bar_trapped_bytes;
		st->dma_faults += ds->dma_faults;
		if (!st->dma_fault_addr)
			st->dma_fault_addr = ds->dma_fault_addr;
		if (st->host_vfio_irqs >= 0)
			st->host_vfio_irqs = ds->host_vfio_irqs < 0
						     ? -1
						     : st->host_vfio_irqs + ds->host_vfio_irqs;
		st->fast_path &= ds->fast_path;
		st->kvm_vfio_group &= ds->kvm_vfio_group;
		st->assign_verified &= ds->assign_verified;
		st->reset_done &= ds->reset_done;
		st->host_bars_unchanged &= ds->host_bars_unchanged;
		st->quarantined |= ds->quarantined;
		if (!shown && (ds->quarantined || !ds->reset_done || !ds->assign_verified))
			shown = ds;
	}
	if (!shown)
		shown = &st->dev[0];
	char b[HQIO_BDF_STR_MAX];
	const char *pre = st->n_dev > 1 ? hqio_bdf_format(shown->host_bdf, b, sizeof(b)) : "";
	const char *sep = st->n_dev > 1 ? ": " : "";
	snprintf(st->fast_path_msg, sizeof(st->fast_path_msg), "%s", st->dev[0].fast_path_msg);
	snprintf(st->reset_plan, sizeof(st->reset_plan), "%s", shown->reset_plan);
	snprintf(st->assign_msg, sizeof(st->assign_msg), "%s%s%.*s", pre, sep,
		 (int)(sizeof(st->assign_msg) - 40), shown->assign_msg);
	snprintf(st->reset_used, sizeof(st->reset_used), "%s", shown->reset_used);
	snprintf(st->reset_msg, sizeof(st->reset_msg), "%s%s%.*s", pre, sep,
		 (int)(sizeof(st->reset_msg) - 40), shown->reset_msg);
	st->host_bar0_before = st->dev[0].host_bar0_before;
	st->host_bar0_after = st->dev[0].host_bar0_after;
	st->guest_bar0 = st->dev[0].guest_bar0;
	st->intx_samples = st->dev[0].intx_samples;
	st->intx_assert_to_eoi_p10_us = st->dev[0].intx_assert_to_eoi_p10_us;
	st->intx_assert_to_eoi_p50_us = st->dev[0].intx_assert_to_eoi_p50_us;
	st->intx_assert_to_eoi_p90_us = st->dev[0].intx_assert_to_eoi_p90_us;
}

/* ------------------------------------------------------------------ */
/* Run                                                                  */
/* ------------------------------------------------------------------ */

static int run_loop(struct vmm *m, struct hqio_error *err)
{
	for (;;) {
		if (now_ns() > m->deadline_ns) {
			m->st->timed_out = true;
			return 0;
		}
		if (ioctl(m->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				m->st->exits.intr++;
				continue;
			}
			return kvm_fail(err, "KVM_RUN");
		}
		switch (m->run->exit_reason) {
		case KVM_EXIT_IO:
			if (handle_io(m))
				return 0;
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(m);
			break;
		case KVM_EXIT_INTR:
			m->st->exits.intr++;
			break;
		case KVM_EXIT_SHUTDOWN:
			return hqio_error_set(
				err, -EFAULT, "the guest shut down (triple fault) after %llu exits",
				(unsigned long long)(m->st->exits.io + m->st->exits.mmio));
		case KVM_EXIT_FAIL_ENTRY:
			return hqio_error_set(
				err, -EIO,
				"KVM could not enter the guest (hardware entry failure 0x%llx): "
				"this KVM cannot run a 32-bit protected-mode guest",
				(unsigned long long)
					m->run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			return hqio_error_set(err, -EIO, "KVM internal error (suberror %u)",
					      m->run->internal.suberror);
		default:
			m->st->exits.other++;
			return hqio_error_set(err, -EIO, "unexpected KVM exit reason %u",
					      m->run->exit_reason);
		}
	}
}

static void dev_counters(struct vdev *d)
{
	struct hqio_vmm_dev_stats *ds = d->ds;
	if (d->vpci_up)
		ds->backdoor_redirected = d->vpci->stats.dvh_redirected;
	if (d->vfio_irqs_before >= 0) {
		long long now = vfio_irq_count(d->hbdf);
		ds->host_vfio_irqs = now >= 0 ? now - d->vfio_irqs_before : -1;
	} else {
		ds->host_vfio_irqs = -1;
	}
	if (d->irq) {
		ds->host_irqs = d->irq->stats.host_irqs;
		ds->delivered = d->irq->stats.delivered;
		ds->latched = d->irq->stats.latched;
		ds->coalesced = d->irq->stats.coalesced;
		ds->storm_throttled = d->irq->stats.storm_throttled;
		ds->spurious += d->irq->stats.spurious;
	}
	intx_breakdown(d);
}

static void dev_close(struct vdev *d)
{
	for (unsigned v = 0; v < HQIO_VMM_FAST_MAX; v++)
		if (d->fast_efd[v] >= 0)
			close(d->fast_efd[v]);
	if (d->unmask_efd >= 0)
		close(d->unmask_efd);
	if (d->intx_efd >= 0)
		close(d->intx_efd);
	if (d->resample_efd >= 0)
		close(d->resample_efd);
	free(d->intx_us);
	free(d->plan);
	hqio_system_free(&d->sys);
	free(d->vpci);
	free(d->irq);
	free(d->info);
}

static void teardown(struct vmm *m)
{
	m->stop = true;
	if (m->hop_up)
		pthread_join(m->hop, NULL);
	if (m->events_up)
		pthread_join(m->events, NULL);
	m->hop_up = m->events_up = false;
	for (unsigned i = 0; i < m->n_dev; i++) {
		fast_detach(&m->dev[i]);
		own_intx(&m->dev[i], false);
		dev_counters(&m->dev[i]);
	}
	static const char *const kst[] = { "exits", "io_exits", "mmio_exits", "halt_exits",
					   "irq_injections" };
	long long *kv[] = { &m->st->kvm_exits, &m->st->kvm_io_exits, &m->st->kvm_mmio_exits,
			    &m->st->kvm_halt_exits, &m->st->kvm_irq_injections };
	long long got[5] = { -1, -1, -1, -1, -1 };
	if (m->vcpu >= 0 && vcpu_stats(m->vcpu, kst, got, 5) == 0) {
		m->st->kvm_stats_source = "KVM_GET_STATS_FD: this vCPU's own";
	} else if (m->vm >= 0) {
		/* KVM's debugfs totals count only VMs that exist: sample now. */
		for (unsigned k = 0; k < 5; k++)
			got[k] = debugfs_stat(kst[k]);
		m->st->kvm_stats_source = "debugfs: summed over every VM of the machine";
	}
	for (unsigned k = 0; k < 5; k++)
		*kv[k] = got[k];
	noncoherent_input(m, &m->st->memtype);
	memtype_report(&m->st->memtype);
	step_breakdown(m);
	m->st->cfg_cf8 = m->host.stats.cfc_accesses;
	m->st->cfg_ecam = m->host.stats.ecam_accesses;
	/* lib/irq's fini disables the host interrupts: our triggers go with it. */
	for (unsigned i = 0; i < m->n_dev; i++)
		reclaim(&m->dev[i]);
	scan_kmsg(m);
	for (unsigned i = 0; i < m->n_dev; i++)
		dev_close(&m->dev[i]);
	if (m->kvm_vfio_fd >= 0)
		close(m->kvm_vfio_fd);
	if (m->kmsg >= 0)
		close(m->kmsg);
	if (m->run)
		munmap(m->run, m->run_len);
	if (m->vcpu >= 0)
		close(m->vcpu);
	if (m->vm >= 0)
		close(m->vm);
	if (m->kvm >= 0)
		close(m->kvm);
	hqio_vfio_close(m->vfio); /* unmaps the BARs, disables interrupts */
	if (m->ram)
		munmap(m->ram, m->mem);
	for (unsigned k = 0; k < 4; k++)
		free(m->step_us[k]);
	aggregate(m->st);
	pthread_mutex_destroy(&m->lock);
}

static int build_cmdline(const struct hqio_vmm_config *c, char *buf, size_t len,
			 struct hqio_error *err)
{
	int n = snprintf(buf, len, "ecam=0x%llx irq=%s%s%s",
			 (unsigned long long)HQIO_PCIHOST_ECAM_BASE,
			 c->irq == HQIO_VMM_IRQ_INTX ? "intx" : "msi", c->cmdline ? " " : "",
			 c->cmdline ? c->cmdline : "");
	if (n < 0 || (size_t)n >= len)
		return hqio_error_set(err, -EINVAL, "guest command line too long (max %zu bytes)",
				      len - 1);
	return 0;
}

int hqio_vmm_run(const struct hqio_vmm_config *c, struct hqio_vmm_stats *st, struct hqio_error *err)
{
	if (!c || !st || !c->guest)
		return hqio_error_set(err, -EINVAL, "no guest image");
	memset(st, 0, sizeof(*st));
	st->guest_exit = -1;
	st->kvm_exits = st->kvm_io_exits = st->kvm_mmio_exits = st->kvm_halt_exits =
		st->kvm_irq_injections = -1;
	if (c->mem_bytes < HQIO_VMM_MEM_MIN || c->mem_bytes > HQIO_VMM_MEM_MAX ||
	    c->mem_bytes % PAGE)
		return hqio_error_set(err, -EINVAL,
				      "guest RAM %llu bytes: need a multiple of 4 KiB in [2 MiB, "
				      "256 MiB] (edu's DMA reaches 2^28)",
				      (unsigned long long)c->mem_bytes);
	if (c->n_assign > HQIO_VMM_MAX_ASSIGN)
		return hqio_error_set(err, -EINVAL, "at most %d assigned functions",
				      HQIO_VMM_MAX_ASSIGN);
	for (unsigned i = 0; i < c->n_assign; i++)
		for (unsigned j = 0; j < i; j++)
			if (hqio_bdf_cmp(c->assign[i], c->assign[j]) == 0) {
				char b[HQIO_BDF_STR_MAX];
				return hqio_error_set(err, -EINVAL, "%s is assigned twice",
						      hqio_bdf_format(c->assign[i], b, sizeof(b)));
			}
	if (c->host_intx && c->irq != HQIO_VMM_IRQ_INTX)
		return hqio_error_set(err, -EINVAL,
				      "--host-intx leaves the guest INTx only: use --irq intx");
	char cmdline[HQIO_MB_CMDLINE_MAX];
	int rc = build_cmdline(c, cmdline, sizeof(cmdline), err);
	if (rc)
		return rc;
	struct hqio_mb_image mb;
	rc = hqio_mb_load(c->guest, c->guest_len, NULL, c->mem_bytes, &mb, err);
	if (rc)
		return rc;

	struct vmm *m = calloc(1, sizeof(*m));
	if (!m)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	m->cfg = c;
	m->st = st;
	m->kvm = m->vm = m->vcpu = m->kmsg = m->kvm_vfio_fd = -1;
	for (unsigned i = 0; i < HQIO_VMM_MAX_ASSIGN; i++) {
		struct vdev *d = &m->dev[i];
		d->m = m;
		d->idx = i;
		d->ds = &st->dev[i];
		d->intx_efd = d->resample_efd = d->unmask_efd = -1;
		d->vfio_irqs_before = -1;
		for (unsigned v = 0; v < HQIO_VMM_FAST_MAX; v++)
			d->fast_efd[v] = -1;
	}
	for (unsigned k = 0; k < 4; k++)
		m->step_us[k] = calloc(INTX_SAMPLES_MAX, sizeof(uint32_t)); /* NULL: none */
	pthread_mutex_init(&m->lock, NULL);
	m->mem = c->mem_bytes;
	uint64_t t0 = now_ns();

	/* The order KVM needs (testbed.md): VM, irqchip, memslots, vCPU. */
	rc = open_vm(c->kvm_dev ? c->kvm_dev : KVM_DEV_DEFAULT, &m->kvm, &m->vm, err);
	if (rc)
		goto out;
	if (ioctl(m->vm, KVM_SET_TSS_ADDR, TSS_GPA) < 0 && errno != ENOTTY) {
		rc = kvm_fail(err, "KVM_SET_TSS_ADDR");
		goto out;
	}
	if (ioctl(m->vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		rc = kvm_fail(err, "KVM_CREATE_IRQCHIP");
		goto out;
	}
	m->ram = mmap(NULL, m->mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		rc = hqio_error_set(err, -ENOMEM, "cannot allocate %llu bytes of guest RAM",
				    (unsigned long long)m->mem);
		goto out;
	}
	if ((rc = set_slot(m, RAM_SLOT, 0, m->mem, m->ram))) {
		errno = -rc;
		rc = kvm_fail(err, "KVM_SET_USER_MEMORY_REGION (guest RAM)");
		goto out;
	}
	uint32_t ebx = 0;
	if ((rc = hqio_mb_load(c->guest, c->guest_len, m->ram, m->mem, &mb, err)) ||
	    (rc = hqio_mb_info(m->ram, m->mem, cmdline, &ebx, err)))
		goto out;
	hqio_pcihost_init(&m->host, HQIO_PCIHOST_ECAM_BASE, dev_cfg, m);
	m->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (m->kmsg >= 0)
		lseek(m->kmsg, 0, SEEK_END); /* only what the run logs */
	if (c->n_assign) {
		struct hqio_vfio_paths paths = { .sys = c->sys, .dev_vfio = c->dev_vfio };
		for (unsigned i = 0; i < c->n_assign; i++) {
			int group = -1;
			if ((rc = hqio_vfio_check_assignable(c->sys, c->assign[i], &group, err)))
				goto out;
		}
		if ((rc = hqio_vfio_open(&paths, &m->vfio, err)))
			goto out;
		hqio_vfio_host_ops(m->vfio, &m->vops);
		for (unsigned i = 0; i < c->n_assign; i++) {
			struct vdev *d = &m->dev[i];
			d->hbdf = d->ds->host_bdf = c->assign[i];
			hqio_bdf_format(d->hbdf, d->name, sizeof(d->name));
			m->n_dev = st->n_dev = i + 1;
			if ((rc = setup_device(d, err)))
				goto out;
		}
	}
	if ((rc = create_vcpu(m, mb.entry, ebx, err)))
		goto out;

	struct sigaction sa = { .sa_handler = on_kick }; /* no SA_RESTART: KVM_RUN gets EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
	m->vcpu_thread = pthread_self();
	m->deadline_ns = t0 + (c->timeout_ms ? c->timeout_ms : 60000) * NS_PER_MS;
	if (pthread_create(&m->hop, NULL, hop_main, m) == 0)
		m->hop_up = true;
	if (m->n_dev && pthread_create(&m->events, NULL, events_main, m) == 0)
		m->events_up = true;
	cpu_set_t saved;
	bool pinned = false;
	if (c->pin && sysconf(_SC_NPROCESSORS_ONLN) >= 2 &&
	    pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(1, &one);
		pthread_t helpers[2] = { m->hop, m->events };
		bool up[2] = { m->hop_up, m->events_up };
		for (int i = 0; i < 2; i++)
			if (up[i])
				pthread_setaffinity_np(helpers[i], sizeof(one), &one);
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		pinned = pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0;
	}
	rc = run_loop(m, err);
	if (pinned)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (m->line_len)
		console_byte(m, '\n');
out:
	teardown(m);
	st->wall_ns = now_ns() - t0;
	free(m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Probe                                                                */
/* ------------------------------------------------------------------ */

int hqio_vmm_probe_kvm(const char *kvm_dev, struct hqio_error *err)
{
	/* out 0xE9, al; out 0xF4, al; hlt — in 32-bit protected mode at 1 MiB */
	static const uint8_t code[] = { 0xb0, 'K', 0xe6, 0xe9, 0xe6, 0xf4, 0xf4 };
	int kvm = -1, vm = -1, vcpu = -1, rc;
	const size_t mem = 2u << 20;
	uint8_t *ram = NULL;
	struct kvm_run *run = NULL;
	int sz = 0;
	rc = open_vm(kvm_dev ? kvm_dev : KVM_DEV_DEFAULT, &kvm, &vm, err);
	if (rc)
		goto out;
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		rc = kvm_fail(err, "KVM_CREATE_IRQCHIP");
		goto out;
	}
	ram = mmap(NULL, mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		ram = NULL;
		rc = hqio_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(ram + HQIO_MB_LOAD_MIN, code, sizeof(code));
	struct kvm_userspace_memory_region r = { .slot = 0,
						 .memory_size = mem,
						 .userspace_addr = (uint64_t)(uintptr_t)ram };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		rc = kvm_fail(err, "KVM_SET_USER_MEMORY_REGION");
		goto out;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || sz <= 0) {
		rc = kvm_fail(err, "KVM_CREATE_VCPU");
		goto out;
	}
	run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) {
		run = NULL;
		rc = kvm_fail(err, "mmap of kvm_run");
		goto out;
	}
	if ((rc = setup_vcpu(vcpu, HQIO_MB_LOAD_MIN, 0, err)))
		goto out;
	for (int i = 0; i < 4; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			rc = kvm_fail(err, "KVM_RUN of a 32-bit protected-mode vCPU");
			goto out;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == HQIO_VMM_EXIT_PORT) {
			rc = 0;
			goto out;
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			rc = hqio_error_set(
				err, -EOPNOTSUPP,
				"this KVM cannot run a 32-bit protected-mode vCPU (exit "
				"reason %u where a port exit was due)%s",
				run->exit_reason,
				run->exit_reason == KVM_EXIT_FAIL_ENTRY ||
						run->exit_reason == KVM_EXIT_INTERNAL_ERROR
					? ": a software KVM such as kvm-pvm?"
					: "");
			goto out;
		}
	}
	rc = hqio_error_set(err, -EOPNOTSUPP, "the probe vCPU never reached its exit port");
out:
	if (run)
		munmap(run, (size_t)sz);
	if (vcpu >= 0)
		close(vcpu);
	if (ram)
		munmap(ram, mem);
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
	return rc;
}

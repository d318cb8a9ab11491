/*
 * hqio's monitor (see vmm.h, docs/monitor.md): one KVM VM, one vCPU, guest
 * RAM in a memslot and mapped for DMA at IOVA = guest physical, a virtual
 * host bridge (pcihost.c), the assigned function's configuration space
 * through lib/vpci and its interrupts through lib/irq.
 *
 * KVM facts used (Linux Documentation/virt/kvm/api.rst; the order verified
 * in the test bed, testbed.md): KVM_CREATE_IRQCHIP before any vCPU; the
 * default GSI routing (0-15 PIC + IOAPIC, 16-23 IOAPIC) is kept because
 * this monitor sets no routes of its own (KVM_SET_GSI_ROUTING would
 * replace the defaults); guest MSIs are injected with KVM_SIGNAL_MSI; the
 * guest's INTx line is a KVM irqfd with KVM_IRQFD_FLAG_RESAMPLE, whose
 * resample eventfd fires at the guest's EOI (the line is then de-asserted
 * by KVM and lib/irq decides whether to re-assert it).
 *
 * Threads: the vCPU runs in the calling thread; a "hop" thread waits for
 * the device's VFIO interrupt eventfds (host/vfio.c dispatch) and hands
 * them to lib/irq; a "resample" thread turns guest EOIs into
 * hqio_irq_guest_eoi. One mutex serializes every call into lib/vpci and
 * lib/irq.
 */
#define _GNU_SOURCE
#include "vmm.h"
#include "loader.h"
#include "pcihost.h"
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

#define KVM_DEV_DEFAULT	  "/dev/kvm"
#define KVM_API_EXPECTED  12	      /* api.rst 4.1: KVM_GET_API_VERSION must return 12 */
#define TSS_GPA		  0xfffbd000u /* 3 pages KVM needs on VMX (api.rst KVM_SET_TSS_ADDR) */
#define RAM_SLOT	  0
#define BAR_SLOT_BASE	  8 /* slots 8 + bar * MAX_PIECES + k */
#define MAX_PIECES	  8
#define MAX_TRAPS	  8
#define PAGE		  4096ull
#define POLL_MS		  20
#define KICK_SIGNAL	  SIGUSR1
#define NS_PER_MS	  1000000ull
#define INTX_SAMPLES_MAX  65536
#define HQIO_VMM_FAST_MAX 32 /* MSI allows 32 vectors (PCI LB 3.0 6.8.1.3) */

struct piece {
	uint64_t off, len; /* inside the BAR, page aligned */
	bool mapped;
};

struct vbar {
	void *map; /* VFIO region mmap (NULL: every access trapped) */
	uint64_t size;
	uint64_t guest_addr;
	bool on;
	struct piece piece[MAX_PIECES];
	unsigned n_pieces;
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
	/* The assigned function. */
	bool have_dev;
	struct hqio_vfio *vfio;
	struct hqio_host_ops vops; /* the VFIO backend */
	struct hqio_host_ops ops;  /* vops with interrupt handlers run under lock */
	hqio_irq_fn irq_fn;
	void *irq_arg;
	struct hqio_pci_info *info;
	struct hqio_irq *irq;
	struct hqio_vpci *vpci;
	bool irq_up, vpci_up, dma_up;
	struct hqio_bdf hbdf;
	/* lib/reset: the plan made at assignment, used again at reclaim. */
	struct hqio_system sys;
	struct hqio_reset_plan *plan;
	bool assigned; /* reset and verified at assignment (or --no-reset) */
	uint16_t gbdf; /* bus << 8 | dev << 3 | fn as the guest sees it */
	struct vbar bar[6];
	uint32_t host_bar0;
	int intx_efd, resample_efd;
	bool in_eoi;
	uint64_t t_assert_ns; /* last assertion of the guest's line (0: none pending) */
	uint32_t *intx_us;    /* assert -> EOI samples */
	unsigned n_intx_us;
	/* trace=1 steps (see struct hqio_vmm_intx_step): raise -> host MSI
	 * read, host MSI read -> assert, assert -> handler entry, handler
	 * entry -> EOI seen. */
	uint64_t t_raise_ns, t_host_ns, t_entry_ns;
	uint32_t *step_us[4];
	unsigned n_step[4];
	/* MSI fast path (see "MSI fast path" below). */
	int group_fd, kvm_vfio_fd; /* group_fd: owned by host/vfio.c */
	unsigned n_fast;
	int fast_efd[HQIO_VMM_FAST_MAX];
	bool fast_attached;
	uint64_t fast_addr[HQIO_VMM_FAST_MAX];
	uint32_t fast_data[HQIO_VMM_FAST_MAX];
	pthread_t fallback;
	bool fallback_up;
	long long vfio_irqs_before;
	/* Threads. */
	pthread_t vcpu_thread, hop, resampler;
	bool hop_up, resampler_up;
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

static void resample_event(struct vmm *m);

static void locked_event(void *arg, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vec)
{
	struct vmm *m = arg;
	/* --eoi-first (an experiment, docs/monitor.md "INTx cost"): an EOI
	 * KVM already signaled (it de-asserted the line at the guest's EOI)
	 * is taken before the new host MSI, so the MSI finds the line low and
	 * asserts at once instead of being latched until this thread next
	 * polls the resample eventfd. Same outcome by lib/irq's rule. */
	if (m->cfg->eoi_first && m->resample_efd >= 0 && m->irq &&
	    m->irq->mode == HQIO_GUEST_IRQ_INTX)
		resample_event(m);
	pthread_mutex_lock(&m->lock);
	step_sample(m, 0, m->t_raise_ns);
	m->t_raise_ns = 0;
	m->t_host_ns = now_ns();
	if (m->irq_fn)
		m->irq_fn(m->irq_arg, bdf, type, vec);
	pthread_mutex_unlock(&m->lock);
}

#define VO(m) (&((struct vmm *)(m))->vops)
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
	struct vmm *m = c;
	m->irq_fn = fn;
	m->irq_arg = arg;
	return m->vops.irq_set(m->vops.ctx, b, t, n, fn ? locked_event : NULL, fn ? m : NULL);
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

static void wrap_ops(struct vmm *m)
{
	m->ops = (struct hqio_host_ops){
		.ctx = m,
		.flags = m->vops.flags,
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
		.ats_invalidate = m->vops.ats_invalidate ? w_ats : NULL,
		.platform_reset = m->vops.platform_reset ? w_reset : NULL,
	};
}

/* ------------------------------------------------------------------ */
/* Guest interrupts (called by lib/irq under the lock)                  */
/* ------------------------------------------------------------------ */

static void guest_inject_msi(void *arg, uint64_t addr, uint32_t data)
{
	struct vmm *m = arg;
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	m->st->msi_signaled++;
	/* Returns > 0 when delivered, 0 when the guest blocked it (api.rst). */
	if (ioctl(m->vm, KVM_SIGNAL_MSI, &msi) < 0)
		m->st->spurious++;
}

static void guest_set_intx(void *arg, bool level)
{
	struct vmm *m = arg;
	if (!level)
		return; /* KVM de-asserted the resample irqfd's line at the EOI */
	if (m->in_eoi)
		m->st->reasserted++;
	step_sample(m, 1, m->t_host_ns);
	m->t_host_ns = 0;
	m->t_assert_ns = now_ns();
	uint64_t one = 1;
	if (write(m->intx_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		m->st->spurious++;
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

static void add_trap(uint64_t (*t)[2], unsigned *n, uint64_t off, uint64_t len, uint64_t size)
{
	if (!len || off >= size || *n >= MAX_TRAPS)
		return;
	uint64_t s = off & ~(PAGE - 1), e = (off + len + PAGE - 1) & ~(PAGE - 1);
	t[*n][0] = s;
	t[*n][1] = e > size ? size : e;
	(*n)++;
}

/* Split BAR b into the pages to map (NSDR) and the pages to trap: the
 * MSI-X table and PBA (lib/irq) and back doors (lib/vpci's quirk table). */
static void plan_pieces(struct vmm *m, unsigned b)
{
	struct vbar *vb = &m->bar[b];
	uint64_t traps[MAX_TRAPS][2];
	unsigned n = 0;
	vb->n_pieces = 0;
	if (!vb->map || vb->size < PAGE || m->cfg->trap_bars) {
		m->st->bar_trapped_bytes += vb->size; /* all trapped */
		return;
	}
	const struct hqio_pci_msix *x = &m->info->msix;
	if (x->present) {
		if (x->table_bir == b)
			add_trap(traps, &n, x->table_offset, (uint64_t)x->table_size * 16,
				 vb->size);
		if (x->pba_bir == b)
			add_trap(traps, &n, x->pba_offset, ((uint64_t)x->table_size + 63) / 64 * 8,
				 vb->size);
	}
	struct hqio_dvh_range dr[MAX_TRAPS];
	int nd = hqio_vpci_trapped_ranges(m->vpci, PAGE, dr, MAX_TRAPS);
	for (int i = 0; i < nd && i < MAX_TRAPS; i++)
		if (dr[i].bar == b)
			add_trap(traps, &n, dr[i].off, dr[i].len, vb->size);
	/* Gaps between sorted traps are the pieces. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && traps[j][0] < traps[j - 1][0]; j--) {
			uint64_t tmp[2] = { traps[j][0], traps[j][1] };
			memcpy(traps[j], traps[j - 1], sizeof(tmp));
			memcpy(traps[j - 1], tmp, sizeof(tmp));
		}
	uint64_t at = 0;
	for (unsigned i = 0; i <= n && vb->n_pieces < MAX_PIECES; i++) {
		uint64_t end = i < n ? traps[i][0] : vb->size;
		if (end > at)
			vb->piece[vb->n_pieces++] = (struct piece){ .off = at, .len = end - at };
		if (i < n && traps[i][1] > at)
			at = traps[i][1];
	}
	uint64_t mapped = 0;
	for (unsigned i = 0; i < vb->n_pieces; i++)
		mapped += vb->piece[i].len;
	m->st->bar_trapped_bytes += vb->size - mapped;
}

static void unmap_bar(struct vmm *m, unsigned b)
{
	struct vbar *vb = &m->bar[b];
	for (unsigned k = 0; k < vb->n_pieces; k++)
		if (vb->piece[k].mapped) {
			set_slot(m, BAR_SLOT_BASE + b * MAX_PIECES + k, 0, 0, NULL);
			vb->piece[k].mapped = false;
			m->st->bar_slots--;
		}
}

/* lib/vpci: the guest moved or (de)activated a BAR. */
static void bar_changed(void *arg, unsigned b, uint64_t guest_addr, bool on)
{
	struct vmm *m = arg;
	if (b >= 6)
		return;
	struct vbar *vb = &m->bar[b];
	unmap_bar(m, b);
	vb->guest_addr = guest_addr;
	vb->on = on;
	if (!on)
		return;
	for (unsigned k = 0; k < vb->n_pieces; k++) {
		struct piece *p = &vb->piece[k];
		int rc = set_slot(m, BAR_SLOT_BASE + b * MAX_PIECES + k, guest_addr + p->off,
				  p->len, (uint8_t *)vb->map + p->off);
		if (rc == 0) {
			p->mapped = true;
			m->st->bar_slots++;
		} /* else (e.g. overlapping RAM): the piece stays trapped */
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

static void fast_update(struct vmm *m);

/* lib/vpci behind the host bridge. */
static bool dev_cfg(void *arg, uint16_t bdf, uint16_t off, unsigned size, bool write, uint32_t *val)
{
	struct vmm *m = arg;
	if (!m->have_dev || bdf != m->gbdf)
		return false;
	pthread_mutex_lock(&m->lock);
	int rc = write ? hqio_vpci_write(m->vpci, off, size, *val)
		       : hqio_vpci_read(m->vpci, off, size, val);
	if (write)
		fast_update(m);
	pthread_mutex_unlock(&m->lock);
	if (rc && !write)
		*val = 0xffffffffu;
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
				step_sample(m, 2, m->t_assert_ns);
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
	for (unsigned b = 0; m->have_dev && b < 6; b++) {
		struct vbar *vb = &m->bar[b];
		if (!vb->on || !vb->size || gpa < vb->guest_addr ||
		    gpa - vb->guest_addr >= vb->size)
			continue;
		uint64_t off = gpa - vb->guest_addr, v = w ? rd_le(r->mmio.data, len) : 0;
		pthread_mutex_lock(&m->lock);
		int rc = w ? hqio_vpci_bar_write(m->vpci, b, off, len, v)
			   : hqio_vpci_bar_read(m->vpci, b, off, len, &v);
		pthread_mutex_unlock(&m->lock);
		if (rc && !w)
			v = ~0ull;
		if (!w)
			wr_le(r->mmio.data, len, v);
		m->st->exits.mmio_bar++;
		return;
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
		if (m->have_dev)
			hqio_vfio_dispatch(m->vfio, POLL_MS * NS_PER_MS);
		else
			poll(NULL, 0, POLL_MS);
		if (m->have_dev) {
			pthread_mutex_lock(&m->lock);
			hqio_irq_tick(m->irq);
			pthread_mutex_unlock(&m->lock);
		}
		if (now_ns() > m->deadline_ns)
			kick(m);
	}
	return NULL;
}

/* The guest's EOI of its INTx line (KVM signalled the resample eventfd). */
static void resample_event(struct vmm *m)
{
	uint64_t n;
	if (read(m->resample_efd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	pthread_mutex_lock(&m->lock);
	if (m->t_assert_ns && m->intx_us && m->n_intx_us < INTX_SAMPLES_MAX) {
		uint64_t us = (now_ns() - m->t_assert_ns) / 1000;
		m->intx_us[m->n_intx_us++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	m->t_assert_ns = 0;
	step_sample(m, 3, m->t_entry_ns);
	m->t_entry_ns = 0;
	m->st->eois += n;
	m->in_eoi = true;
	hqio_irq_guest_eoi(m->irq);
	m->in_eoi = false;
	pthread_mutex_unlock(&m->lock);
}

static void *resample_main(void *arg)
{
	struct vmm *m = arg;
	while (!m->stop) {
		struct pollfd p = { .fd = m->resample_efd, .events = POLLIN };
		if (poll(&p, 1, POLL_MS) > 0)
			resample_event(m);
	}
	return NULL;
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

/* Count the IOMMU's DMA fault lines for the device logged since the run
 * began: Intel "DMAR: [DMA Write ...] Request device [01:00.0] ... fault
 * addr 0x..." (drivers/iommu/intel/dmar.c dmar_fault_do_one), AMD
 * "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0 ... address=0x...]"
 * (drivers/iommu/amd/iommu.c). */
static void scan_kmsg(struct vmm *m)
{
	if (m->kmsg < 0)
		return;
	char rec[1024], dev[16];
	snprintf(dev, sizeof(dev), "%02x:%02x.%x", m->hbdf.bus, m->hbdf.dev, m->hbdf.fn);
	for (;;) {
		ssize_t n = read(m->kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten: go on with the next */
		if (n <= 0)
			break;
		rec[n] = 0;
		bool dmar = strstr(rec, "DMAR") && strstr(rec, "fault addr");
		bool amd = strstr(rec, "IO_PAGE_FAULT");
		if ((!dmar && !amd) || !strstr(rec, dev))
			continue;
		m->st->dma_faults++;
		const char *a = strstr(rec, dmar ? "fault addr " : "address=");
		if (a && !m->st->dma_fault_addr)
			m->st->dma_fault_addr = strtoull(a + (dmar ? 11 : 8), NULL, 16);
	}
}

/* ------------------------------------------------------------------ */
/* Memory types                                                         */
/* ------------------------------------------------------------------ */

/* The guest runs with paging off and the MTRRs as KVM creates them
 * (IA32_MTRR_DEF_TYPE 0: MTRRs disabled, so the guest's own view is UC
 * everywhere, SDM vol. 3 11.11.2.1); the PAT is not used without paging,
 * modelled as PAT entry 0 (WB). The monitor does not register the device
 * with KVM (no KVM_DEV_VFIO_GROUP_ADD yet), so KVM assumes coherent DMA. */
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
/* MSI fast path                                                        */
/* ------------------------------------------------------------------ */

/*
 * The device's MSI goes from VFIO's eventfd straight into KVM (irqfd on a
 * GSI routed to the guest's message), with no user-space hop. The group fd
 * (for KVM's VFIO device) comes from host/vfio.c (hqio_vfio_group_fd), and
 * hqio_vfio_set_irq_eventfds points the triggers of the MSI block lib/irq
 * enabled at our eventfds (VFIO_DEVICE_SET_IRQS on an enabled block swaps
 * them, vfio_msi_set_block). The eventfds then stay ours: when the guest's
 * MSI is off or changes to something the irqfd cannot express, the irqfd
 * is detached and a fallback thread reads them and hands the events to
 * lib/irq (the hop), so none is lost.
 */

/* Sum of the device's vfio-msi/-intx lines in /proc/interrupts. */
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

/* Default routes KVM creates (arch/x86/kvm/irq_comm.c default_routing):
 * GSI 0-15 to the PIC (master pins 0-7, slave 8-15) and to IOAPIC pin =
 * GSI, 16-23 to the IOAPIC. KVM_SET_GSI_ROUTING replaces the whole table,
 * so they are re-created next to the MSI routes (testbed.md). */
static int set_routing(struct vmm *m, bool with_msi)
{
	unsigned n = 16 + 24 + (with_msi ? m->n_fast : 0);
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
	for (unsigned v = 0; with_msi && v < m->n_fast; v++)
		r->entries[k++] = (struct kvm_irq_routing_entry){
			.gsi = HQIO_VMM_MSI_GSI_BASE + v,
			.type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)m->fast_addr[v],
				   .address_hi = (uint32_t)(m->fast_addr[v] >> 32),
				   .data = m->fast_data[v] },
		};
	r->nr = k;
	int rc = ioctl(m->vm, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : 0;
	free(r);
	return rc;
}

static int irqfd(struct vmm *m, unsigned v, bool assign)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)m->fast_efd[v],
		.gsi = HQIO_VMM_MSI_GSI_BASE + v,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};
	return ioctl(m->vm, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

static void fast_detach(struct vmm *m)
{
	if (!m->fast_attached)
		return;
	for (unsigned v = 0; v < m->n_fast; v++)
		irqfd(m, v, false);
	m->fast_attached = false;
}

/* After each guest configuration write (under the lock): attach the
 * irqfds when the guest's MSI is on with every vector unmasked (lib/irq
 * would inject exactly the message it programmed), detach otherwise. */
static void fast_update(struct vmm *m)
{
	if (!m->st->fast_path)
		return;
	const struct hqio_irq *q = m->irq;
	bool want = q->mode == HQIO_GUEST_IRQ_MSI && q->host_type == HQIO_IRQ_MSI &&
		    q->guest_count > 0 && !q->throttled;
	for (unsigned v = 0; want && v < m->n_fast; v++)
		if (q->vec[v & (q->guest_count - 1)].masked)
			want = false;
	bool changed = false;
	for (unsigned v = 0; want && v < m->n_fast; v++) {
		const struct hqio_irq_vector *g = &q->vec[v & (q->guest_count - 1)];
		changed |= g->addr != m->fast_addr[v] || g->data != m->fast_data[v];
		m->fast_addr[v] = g->addr;
		m->fast_data[v] = g->data;
	}
	if (!want) {
		fast_detach(m);
		return;
	}
	if (m->fast_attached && !changed)
		return;
	if (set_routing(m, true) < 0) {
		fast_detach(m);
		return;
	}
	if (m->fast_attached)
		return; /* new messages take effect through the routes */
	for (unsigned v = 0; v < m->n_fast; v++)
		if (irqfd(m, v, true) < 0) {
			while (v--)
				irqfd(m, v, false);
			return;
		}
	m->fast_attached = true;
	m->st->fast_attaches++;
}

/* Events of our eventfds while no irqfd consumes them: to lib/irq; and
 * the guest's INTx EOIs (one thread for both keeps the INTx round trip to
 * one wake-up per direction). */
static void *fallback_main(void *arg)
{
	struct vmm *m = arg;
	struct pollfd p[HQIO_VMM_FAST_MAX + 1];
	for (unsigned v = 0; v < m->n_fast; v++)
		p[v] = (struct pollfd){ .fd = m->fast_efd[v], .events = POLLIN };
	p[m->n_fast] = (struct pollfd){ .fd = m->resample_efd, .events = POLLIN };
	while (!m->stop) {
		if (poll(p, m->n_fast + 1, POLL_MS) <= 0)
			continue;
		for (unsigned v = 0; v < m->n_fast; v++) {
			uint64_t cnt;
			if (!(p[v].revents & POLLIN) ||
			    read(m->fast_efd[v], &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
				continue; /* an attached irqfd consumed it first */
			for (uint64_t i = 0; i < cnt; i++) {
				m->st->fast_fallback++;
				locked_event(m, m->hbdf, HQIO_IRQ_MSI, v);
			}
		}
		if (p[m->n_fast].revents & POLLIN)
			resample_event(m);
	}
	return NULL;
}

static int fast_setup(struct vmm *m, char *why, size_t why_len)
{
	m->group_fd = hqio_vfio_group_fd(m->vfio, m->hbdf);
	if (m->group_fd < 0) {
		snprintf(why, why_len, "no VFIO group fd for the device");
		return m->group_fd;
	}
	/* KVM learns about the group (non-coherent DMA, arch hooks). */
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	if (ioctl(m->vm, KVM_CREATE_DEVICE, &cd) == 0) {
		m->kvm_vfio_fd = (int)cd.fd;
		int32_t gfd = m->group_fd;
		struct kvm_device_attr a = { .group = KVM_DEV_VFIO_GROUP,
					     .attr = KVM_DEV_VFIO_GROUP_ADD,
					     .addr = (uint64_t)(uintptr_t)&gfd };
		m->st->kvm_vfio_group = ioctl(m->kvm_vfio_fd, KVM_SET_DEVICE_ATTR, &a) == 0;
	}
	if (m->irq->host_type != HQIO_IRQ_MSI || m->irq->host_count == 0 ||
	    m->irq->host_count > HQIO_VMM_FAST_MAX) {
		snprintf(why, why_len, "the device's host vectors are not MSI (type %d, %u)",
			 (int)m->irq->host_type, m->irq->host_count);
		return -EOPNOTSUPP;
	}
	m->n_fast = m->irq->host_count;
	for (unsigned v = 0; v < m->n_fast; v++) {
		m->fast_efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->fast_efd[v] < 0) {
			snprintf(why, why_len, "eventfd: %s", strerror(errno));
			return -errno;
		}
	}
	struct hqio_error e = { 0 };
	int rc = hqio_vfio_set_irq_eventfds(m->vfio, m->hbdf, HQIO_IRQ_MSI, m->fast_efd, m->n_fast,
					    &e);
	if (rc) {
		snprintf(why, why_len, "%s", e.msg);
		return rc;
	}
	snprintf(why, why_len, "VFIO eventfd -> KVM irqfd, GSI %d.., %u vector(s)%s",
		 HQIO_VMM_MSI_GSI_BASE, m->n_fast,
		 m->st->kvm_vfio_group ? ", group added to KVM's VFIO device" : "");
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
static int plan_reset(struct vmm *m, struct hqio_error *err)
{
	const struct hqio_vmm_config *c = m->cfg;
	char dir[PATH_MAX], b[HQIO_BDF_STR_MAX];
	hqio_bdf_format(m->hbdf, b, sizeof(b));
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
	int rc = hqio_sysfs_read(dir, &m->hbdf, 1, &m->sys, err);
	if (!rc)
		rc = hqio_system_decode(&m->sys, err);
	if (rc)
		return rc;
	const struct hqio_pci_node *n = hqio_system_find(&m->sys, m->hbdf);
	if (!n || !n->info)
		return hqio_error_set(err, -ENOENT, "%s: not decoded from sysfs", b);
	m->plan = calloc(1, sizeof(*m->plan));
	if (!m->plan)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	struct hqio_plan_input in = { .sys = &m->sys, .node = n, .owner = 1 };
	if ((rc = hqio_reset_plan(&in, m->plan, err)))
		return rc;
	if (want >= 0) {
		/* An experiment: only this method, whether the planner found it
		 * usable or not (its refusal for lack of a method is lifted; a
		 * non-viable group still refuses). */
		bool no_method =
			m->plan->refused && m->plan->n_methods == 0 && m->plan->group_viable;
		if (no_method)
			m->plan->refused = false;
		m->plan->methods[0] = (enum hqio_reset_method)want;
		m->plan->n_methods = 1;
	}
	methods_text(m->plan, m->st->reset_plan, sizeof(m->st->reset_plan));
	if (m->plan->refused)
		return hqio_error_set(err, -EPERM, "%s: not assignable: %s", b, m->plan->refusal);
	return 0;
}

/* Before the guest sees the function: plan, quiesce, reset, verify. */
static int assign_reset(struct vmm *m, struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	hqio_bdf_format(m->hbdf, b, sizeof(b));
	int rc = plan_reset(m, err);
	if (rc)
		return rc; /* nothing done to the function yet */
	if (m->cfg->no_reset) {
		snprintf(m->st->assign_msg, sizeof(m->st->assign_msg), "skipped (--no-reset)");
		m->assigned = true;
		return 0;
	}
	struct hqio_reset_result *res = calloc(1, sizeof(*res));
	if (!res)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	rc = hqio_reset_execute(&m->vops, m->plan, NULL, NULL, res, err);
	if (rc || res->quarantined) {
		m->st->quarantined = true;
		snprintf(m->st->assign_msg, sizeof(m->st->assign_msg), "%s",
			 res->msg[0] ? res->msg : err->msg);
		rc = hqio_error_set(err, rc ? rc : -EIO,
				    "%s quarantined at assignment (%s); the guest was not started",
				    b, m->st->assign_msg);
	} else {
		m->st->assign_verified = true;
		m->assigned = true;
		snprintf(m->st->assign_msg, sizeof(m->st->assign_msg),
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
	struct vmm *m = arg;
	(void)bdf;
	for (unsigned i = 0; i < 6; i++)
		unmap_bar(m, i);
	if (m->vpci_up)
		hqio_vpci_fini(m->vpci);
	if (m->irq_up)
		hqio_irq_fini(m->irq); /* host interrupts off */
	m->vpci_up = m->irq_up = false;
}

/* ... and its memory last, once the function can no longer write to it. */
static void reclaim_release(void *arg, struct hqio_bdf bdf)
{
	struct vmm *m = arg;
	(void)bdf;
	if (m->dma_up && m->vops.dma_unmap(m->vops.ctx, m->hbdf, 0, m->mem) == 0)
		m->st->memory_released = true;
	m->dma_up = false;
}

static int setup_device(struct vmm *m, struct hqio_error *err)
{
	const struct hqio_vmm_config *c = m->cfg;
	char b[HQIO_BDF_STR_MAX];
	m->hbdf = c->assign[0];
	hqio_bdf_format(m->hbdf, b, sizeof(b));
	int group = -1;
	int rc = hqio_vfio_check_assignable(c->sys, m->hbdf, &group, err);
	if (rc)
		return rc;
	struct hqio_vfio_paths paths = { .sys = c->sys, .dev_vfio = c->dev_vfio };
	rc = hqio_vfio_open(&paths, &m->vfio, err);
	if (rc)
		return rc;
	rc = hqio_vfio_add(m->vfio, m->hbdf, err);
	if (rc)
		return rc;
	hqio_vfio_host_ops(m->vfio, &m->vops);
	wrap_ops(m);
	if ((rc = assign_reset(m, err)))
		return rc;

	/* Decode the function (as VFIO shows it). */
	uint8_t *img = calloc(1, HQIO_PCI_CFG_EXP_SIZE);
	m->info = calloc(1, sizeof(*m->info));
	m->irq = calloc(1, sizeof(*m->irq));
	m->vpci = calloc(1, sizeof(*m->vpci));
	if (!img || !m->info || !m->irq || !m->vpci) {
		free(img);
		return hqio_error_set(err, -ENOMEM, "out of memory");
	}
	for (uint16_t off = 0; off < HQIO_PCI_CFG_EXP_SIZE; off += 4) {
		uint32_t v = 0xffffffff;
		if (m->vops.cfg_read(m->vops.ctx, m->hbdf, off, 4, &v) && off < 256) {
			free(img);
			return hqio_error_set(err, -EIO, "%s: configuration read at 0x%x: %s", b,
					      off, hqio_vfio_error(m->vfio)->msg);
		}
		memcpy(img + off, &v, 4);
	}
	rc = hqio_pci_decode(img, HQIO_PCI_CFG_EXP_SIZE, NULL, m->info, err);
	memcpy(&m->host_bar0, img + HQIO_PCI_BASE_ADDRESS_0, 4);
	free(img);
	if (!hqio_pci_decode_usable(rc))
		return rc;
	m->st->host_bar0_before = m->host_bar0;

	struct hqio_irq_config ic = {
		.ops = &m->ops,
		.bdf = m->hbdf,
		.guest = { .arg = m, .inject_msi = guest_inject_msi, .set_intx = guest_set_intx },
		.intx_disable_supported = true, /* PCI 2.3 and later; VFIO masks INTx anyway */
		.host_page_size = PAGE,
	};
	hqio_irq_config_from_info(&ic, m->info);
	rc = hqio_irq_init(m->irq, &ic, err);
	if (rc)
		return rc;
	m->irq_up = true;
	m->gbdf = 1 << 3; /* 00:01.0 */
	struct hqio_vpci_config vc = {
		.ops = &m->ops,
		.host_bdf = m->hbdf,
		.guest_bdf = { .bus = 0, .dev = 1, .fn = 0 },
		.irq = m->irq,
		.allow_bus_master = true,
		.bar_changed = bar_changed,
		.bar_arg = m,
	};
	rc = hqio_vpci_init(m->vpci, &vc, err);
	if (rc)
		return rc;
	m->vpci_up = true;
	/* The guest's INTx line: what firmware would have written. */
	m->vpci->vcfg[HQIO_PCI_INTERRUPT_LINE] = HQIO_VMM_INTX_GSI;

	for (unsigned i = 0; i < 6; i++) {
		m->bar[i].size = m->vpci->bar_size[i];
		if (!m->bar[i].size || m->info->bars[i].kind == HQIO_BAR_IO)
			continue;
		void *p = NULL;
		uint64_t len = 0;
		struct hqio_error e2 = { 0 };
		if (hqio_vfio_bar_mmap(m->vfio, m->hbdf, i, &p, &len, &e2) == 0 &&
		    len >= m->bar[i].size)
			m->bar[i].map = p; /* else every access of the BAR is trapped */
		plan_pieces(m, i);
	}

	/* DMA: guest RAM at IOVA = guest physical. */
	rc = m->vops.dma_map(m->vops.ctx, m->hbdf, 0, (uint64_t)(uintptr_t)m->ram, m->mem,
			     HQIO_DMA_READ | HQIO_DMA_WRITE);
	if (rc)
		return hqio_error_set(err, rc, "%s: mapping guest RAM for DMA: %s", b,
				      hqio_vfio_error(m->vfio)->msg);
	m->dma_up = true;

	/* The guest's INTx line: a resample irqfd on its GSI. */
	m->intx_efd = eventfd(0, EFD_CLOEXEC);
	m->resample_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->intx_efd < 0 || m->resample_efd < 0)
		return hqio_error_set(err, -errno, "eventfd: %s", strerror(errno));
	struct kvm_irqfd fd = {
		.fd = (uint32_t)m->intx_efd,
		.gsi = HQIO_VMM_INTX_GSI,
		.flags = KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = (uint32_t)m->resample_efd,
	};
	if (ioctl(m->vm, KVM_IRQFD, &fd) < 0)
		return kvm_fail(err, "KVM_IRQFD with resample for the guest's INTx line");
	m->vfio_irqs_before = vfio_irq_count(m->hbdf);
	if (c->msi_hop) {
		snprintf(m->st->fast_path_msg, sizeof(m->st->fast_path_msg),
			 "off (--msi-hop): every MSI through the user-space hop");
	} else if (fast_setup(m, m->st->fast_path_msg, sizeof(m->st->fast_path_msg)) == 0) {
		m->st->fast_path = true;
	}
	m->intx_us = calloc(INTX_SAMPLES_MAX, sizeof(uint32_t)); /* NULL: no breakdown */
	for (unsigned k = 0; k < 4; k++)
		m->step_us[k] = calloc(INTX_SAMPLES_MAX, sizeof(uint32_t));
	m->have_dev = true;
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

static void intx_breakdown(struct vmm *m)
{
	unsigned n = m->n_intx_us;
	m->st->intx_samples = n;
	if (!n)
		return;
	qsort(m->intx_us, n, sizeof(uint32_t), cmp_u32);
	m->st->intx_assert_to_eoi_p10_us = m->intx_us[n / 10];
	m->st->intx_assert_to_eoi_p50_us = m->intx_us[n / 2];
	m->st->intx_assert_to_eoi_p90_us = m->intx_us[(n * 9) / 10];
}

static uint32_t host_bar0_now(struct vmm *m)
{
	uint32_t v = 0;
	m->vops.cfg_read(m->vops.ctx, m->hbdf, HQIO_PCI_BASE_ADDRESS_0, 4, &v);
	return v;
}

/* Reclaim in hqio_reclaim's order; a failure quarantines the function. */
static void reclaim(struct vmm *m)
{
	if (!m->vfio)
		return;
	if (m->have_dev)
		m->st->guest_bar0 = (uint32_t)m->bar[0].guest_addr;
	struct hqio_vmm_stats *st = m->st;
	if (!m->assigned) {
		/* Refused or quarantined before the guest could use it. */
		reclaim_stop_guest(m, m->hbdf);
		if (!st->quarantined)
			reclaim_release(m, m->hbdf);
		if (!st->reset_msg[0])
			snprintf(st->reset_msg, sizeof(st->reset_msg), "not assigned: %s",
				 st->quarantined ? "quarantined at assignment" : "set-up failed");
		return;
	}
	if (m->cfg->no_reset) {
		reclaim_stop_guest(m, m->hbdf);
		reclaim_release(m, m->hbdf);
		snprintf(st->reset_msg, sizeof(st->reset_msg), "skipped (--no-reset)");
	} else {
		struct hqio_reset_hooks hooks = { 0 };
		bool stuck = m->cfg->fault_canary && m->info &&
			     m->info->vendor_id == EDU_VENDOR_ID &&
			     m->info->device_id == EDU_DEVICE_ID;
		if (stuck) {
			hooks.canary_write = stuck_canary_write;
			hooks.canary_check = stuck_canary_check;
		}
		struct hqio_reclaim_ops rops = { .arg = m,
						 .stop_guest_access = reclaim_stop_guest,
						 .release_memory = reclaim_release };
		struct hqio_reset_result *res = calloc(1, sizeof(*res));
		struct hqio_error e = { 0 };
		if (stuck) {
			/* the canary lives in BAR0: the host's memory decode on */
			uint32_t cmd = 0;
			if (m->vops.cfg_read(m->vops.ctx, m->hbdf, HQIO_PCI_COMMAND, 2, &cmd) == 0)
				m->vops.cfg_write(m->vops.ctx, m->hbdf, HQIO_PCI_COMMAND, 2,
						  cmd | HQIO_PCI_COMMAND_MEMORY);
		}
		int rc = res ? hqio_reclaim(&m->vops, m->plan, stuck ? &hooks : NULL, NULL, &rops,
					    res, &e)
			     : hqio_error_set(&e, -ENOMEM, "out of memory");
		if (rc == 0) {
			st->reset_done = true;
			snprintf(st->reset_used, sizeof(st->reset_used), "%s",
				 hqio_reset_method_name(res->used));
			snprintf(st->reset_msg, sizeof(st->reset_msg),
				 "%s reset and verified (quiesce %llu ms, reset %llu ms)",
				 st->reset_used, (unsigned long long)(res->quiesce_ns / NS_PER_MS),
				 (unsigned long long)(res->reset_ns / NS_PER_MS));
		} else {
			st->quarantined = true;
			if (m->vpci_up || m->irq_up) /* a failure before the reclaim order ran */
				reclaim_stop_guest(m, m->hbdf);
			snprintf(st->reset_msg, sizeof(st->reset_msg), "%s",
				 e.msg[0] ? e.msg : "reclaim failed");
		}
		free(res);
	}
	st->host_bar0_after = host_bar0_now(m);
	st->host_bars_unchanged = st->host_bar0_after == st->host_bar0_before;
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

static void teardown(struct vmm *m)
{
	m->stop = true;
	if (m->hop_up)
		pthread_join(m->hop, NULL);
	if (m->resampler_up)
		pthread_join(m->resampler, NULL);
	if (m->fallback_up)
		pthread_join(m->fallback, NULL);
	m->hop_up = m->resampler_up = m->fallback_up = false;
	fast_detach(m);
	if (m->have_dev && m->vfio_irqs_before >= 0) {
		long long now = vfio_irq_count(m->hbdf);
		m->st->host_vfio_irqs = now >= 0 ? now - m->vfio_irqs_before : -1;
	} else {
		m->st->host_vfio_irqs = -1;
	}
	if (m->vm >= 0) {
		/* KVM's debugfs totals count only VMs that exist: sample now. */
		m->st->kvm_exits = debugfs_stat("exits");
		m->st->kvm_io_exits = debugfs_stat("io_exits");
		m->st->kvm_mmio_exits = debugfs_stat("mmio_exits");
		m->st->kvm_halt_exits = debugfs_stat("halt_exits");
		m->st->kvm_irq_injections = debugfs_stat("irq_injections");
	}
	if (m->irq) {
		m->st->host_irqs = m->irq->stats.host_irqs;
		m->st->delivered = m->irq->stats.delivered;
		m->st->latched = m->irq->stats.latched;
		m->st->coalesced = m->irq->stats.coalesced;
		m->st->spurious += m->irq->stats.spurious;
	}
	memtype_report(&m->st->memtype);
	intx_breakdown(m);
	step_breakdown(m);
	m->st->cfg_cf8 = m->host.stats.cfc_accesses;
	m->st->cfg_ecam = m->host.stats.ecam_accesses;
	reclaim(m); /* lib/irq's fini disables MSI: our triggers go with it */
	for (unsigned v = 0; v < HQIO_VMM_FAST_MAX; v++)
		if (m->fast_efd[v] >= 0)
			close(m->fast_efd[v]);
	if (m->kvm_vfio_fd >= 0)
		close(m->kvm_vfio_fd);
	scan_kmsg(m);
	if (m->kmsg >= 0)
		close(m->kmsg);
	if (m->run)
		munmap(m->run, m->run_len);
	if (m->vcpu >= 0)
		close(m->vcpu);
	if (m->intx_efd >= 0)
		close(m->intx_efd);
	if (m->resample_efd >= 0)
		close(m->resample_efd);
	if (m->vm >= 0)
		close(m->vm);
	if (m->kvm >= 0)
		close(m->kvm);
	hqio_vfio_close(m->vfio); /* unmaps the BARs, disables interrupts */
	if (m->ram)
		munmap(m->ram, m->mem);
	free(m->intx_us);
	for (unsigned k = 0; k < 4; k++)
		free(m->step_us[k]);
	free(m->plan);
	hqio_system_free(&m->sys);
	free(m->vpci);
	free(m->irq);
	free(m->info);
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
		return hqio_error_set(err, -EINVAL, "at most %d assigned function(s) for now",
				      HQIO_VMM_MAX_ASSIGN);
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
	m->kvm = m->vm = m->vcpu = m->intx_efd = m->resample_efd = m->kmsg = -1;
	m->group_fd = m->kvm_vfio_fd = -1;
	for (unsigned v = 0; v < HQIO_VMM_FAST_MAX; v++)
		m->fast_efd[v] = -1;
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
	if (c->n_assign && (rc = setup_device(m, err)))
		goto out;
	if ((rc = create_vcpu(m, mb.entry, ebx, err)))
		goto out;

	struct sigaction sa = { .sa_handler = on_kick }; /* no SA_RESTART: KVM_RUN gets EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
	m->vcpu_thread = pthread_self();
	m->deadline_ns = t0 + (c->timeout_ms ? c->timeout_ms : 60000) * NS_PER_MS;
	if (pthread_create(&m->hop, NULL, hop_main, m) == 0)
		m->hop_up = true;
	if (m->st->fast_path && pthread_create(&m->fallback, NULL, fallback_main, m) == 0)
		m->fallback_up = true;
	else if (m->have_dev && pthread_create(&m->resampler, NULL, resample_main, m) == 0)
		m->resampler_up = true;
	cpu_set_t saved;
	bool pinned = false;
	if (c->pin && sysconf(_SC_NPROCESSORS_ONLN) >= 2 &&
	    pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(1, &one);
		pthread_t helpers[3] = { m->hop, m->resampler, m->fallback };
		bool up[3] = { m->hop_up, m->resampler_up, m->fallback_up };
		for (int i = 0; i < 3; i++)
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

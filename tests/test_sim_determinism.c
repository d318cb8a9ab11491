/*
 * Determinism of the whole platform: the reference machine with an
 * HD-Audio-like stream whose "driver" refills each period after a random
 * delay (drawn from the platform's seeded source), run for 2 s of virtual
 * time. Two runs with one seed give the same event trace bit for bit and
 * the same underrun count; another seed gives another run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "sim.h"

#define IOVA	 0x100000ULL
#define PERIOD	 1920u /* 10 ms at 48 kHz, 4-byte frames */
#define NPERIODS 4u

struct trace_log {
	uint64_t *v;
	size_t n, cap;
};

struct scenario {
	struct sim_platform *p;
	struct hqio_bdf hda;
	struct trace_log log;
	uint64_t refills;
};

static void log_event(void *arg, uint64_t when, uint64_t seq, uint32_t tag)
{
	struct trace_log *t = arg;
	if (t->n + 3 > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4096;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		assert_non_null(t->v);
	}
	t->v[t->n++] = when;
	t->v[t->n++] = seq;
	t->v[t->n++] = tag;
}

static void refill(void *arg, uint64_t now)
{
	struct scenario *s = arg;
	uint64_t wp;
	(void)now;
	sim_bar_read(s->p, s->hda, 0, SIM_HDA_SD_WP, 4, &wp);
	sim_bar_write(s->p, s->hda, 0, SIM_HDA_SD_WP, 4, wp + 1);
	s->refills++;
}

/* The driver's interrupt handler: refill one period after 0-12 ms. */
static void on_msi(void *arg, const struct sim_msi_msg *m)
{
	struct scenario *s = arg;
	(void)m;
	sim_schedule(&s->p->eng, sim_rand_below(&s->p->eng, 12 * SIM_NS_PER_MS), refill, s, 7);
}

static uint64_t run(uint64_t seed, struct scenario *s, uint64_t *underruns)
{
	struct sim_reference ref;
	memset(s, 0, sizeof(*s));
	s->p = sim_platform_new(seed, 1 << 20);
	assert_non_null(s->p);
	assert_int_equal(sim_build_reference_ex(s->p, &ref), 0);
	s->p->eng.trace = log_event;
	s->p->eng.trace_arg = &s->log;
	s->p->msi_sink = on_msi;
	s->p->msi_arg = s;
	s->hda = sim_fn_bdf(ref.hda);
	int d = sim_iommu_domain_new(s->p);
	uint64_t hpa = sim_mem_alloc(s->p, 2, d);
	sim_iommu_attach(s->p, sim_requester_id(ref.hda), d);
	assert_int_equal(sim_iommu_map(s->p, d, IOVA, hpa, 2 * SIM_PAGE_SIZE,
				       HQIO_DMA_READ | HQIO_DMA_WRITE),
			 0);
	struct hqio_bdf b = s->hda;
	uint16_t msi = ref.hda->msi;
	sim_cfg_write(s->p, b, HQIO_PCI_COMMAND, 2,
		      HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	sim_cfg_write(s->p, b, msi + HQIO_PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	sim_cfg_write(s->p, b, msi + HQIO_PCI_MSI_DATA_64, 2, 0x61);
	sim_cfg_write(s->p, b, msi + HQIO_PCI_MSI_FLAGS, 2,
		      sim_fn_cfg_get(ref.hda, msi + HQIO_PCI_MSI_FLAGS, 2) |
			      HQIO_PCI_MSI_FLAGS_ENABLE);
	sim_bar_write(s->p, b, 0, SIM_HDA_SD_PERIOD, 4, PERIOD);
	sim_bar_write(s->p, b, 0, SIM_HDA_SD_NPERIODS, 4, NPERIODS);
	sim_bar_write(s->p, b, 0, SIM_HDA_SD_RATE, 4, 48000);
	sim_bar_write(s->p, b, 0, SIM_HDA_SD_BDPL, 4, (uint32_t)IOVA);
	sim_bar_write(s->p, b, 0, SIM_HDA_SD_WP, 4, 2);
	sim_bar_write(s->p, b, 0, SIM_HDA_SD_CTL, 4, SIM_HDA_SD_CTL_RUN | SIM_HDA_SD_CTL_IOCE);
	sim_run_for(&s->p->eng, 2 * SIM_NS_PER_S);
	sim_bar_read(s->p, b, 0, SIM_HDA_SD_UNDERRUNS, 4, underruns);
	uint64_t h = s->p->eng.trace_hash;
	sim_platform_free(s->p);
	return h;
}

static void test_same_seed_same_platform_run(void **state)
{
	(void)state;
	struct scenario a, b, c;
	uint64_t ua, ub, uc;
	uint64_t ha = run(11, &a, &ua), hb = run(11, &b, &ub), hc = run(12, &c, &uc);
	assert_true(a.log.n > 3 * 300); /* 200 periods + refills ran */
	assert_true(ua > 0);		/* random refill delays above 10 ms cause underruns */
	assert_int_equal(a.log.n, b.log.n);
	assert_memory_equal(a.log.v, b.log.v, a.log.n * sizeof(uint64_t));
	assert_true(ha == hb);
	assert_int_equal(ua, ub);
	assert_int_equal(a.refills, b.refills);
	assert_true(ha != hc);
	free(a.log.v);
	free(b.log.v);
	free(c.log.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_platform_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

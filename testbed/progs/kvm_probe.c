/*
 * kvm_probe: does KVM really run a guest inside the test bed?
 *
 * /dev/kvm existing is not enough (a software KVM such as kvm-pvm also
 * creates it; docs/testbed.md). This creates a VM with one memory slot and
 * one vCPU, runs four bytes of 16-bit real-mode code that write 0x42 to
 * I/O port 0x10 and halt, and checks both exits. It also reports the
 * capabilities the monitor work (issue #20) relies on. Output: result lines
 * of the test-bed contract, group "kvm"; exit 0 when all passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* KVM_GET_API_VERSION returns 12 for every stable KVM (Documentation/virt/kvm/api.rst). */
#define KVM_STABLE_API_VERSION 12
#define GUEST_MEM_BYTES	       0x2000
#define GUEST_CODE_GPA	       0x1000 /* a vCPU starts in real mode; we point CS:IP here */
#define PROBE_PORT	       0x10
#define PROBE_VALUE	       0x42

static int failures;

static void result(int ok, const char *check, const char *detail)
{
	printf("HQIO-TB %s kvm/%s: %s\n", ok ? "PASS" : "FAIL", check, detail);
	if (!ok)
		failures++;
}

static int fail_errno(const char *check, const char *what)
{
	char buf[160];

	snprintf(buf, sizeof(buf), "%s: %s", what, strerror(errno));
	result(0, check, buf);
	return 1;
}

int main(void)
{
	/* mov $0x42,%al; out %al,$0x10; hlt */
	static const uint8_t code[] = { 0xb0, PROBE_VALUE, 0xe6, PROBE_PORT, 0xf4 };
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	char buf[200];
	int kvm, vm, vcpu, api, mmap_bytes;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail_errno("create-vm", "open /dev/kvm");
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	snprintf(buf, sizeof(buf), "KVM_GET_API_VERSION = %d (expected %d)", api,
		 KVM_STABLE_API_VERSION);
	result(api == KVM_STABLE_API_VERSION, "api-version", buf);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail_errno("create-vm", "KVM_CREATE_VM");
	snprintf(buf, sizeof(buf),
		 "KVM_CAP IRQFD %d, IRQFD_RESAMPLE %d, SIGNAL_MSI %d, "
		 "IOEVENTFD %d, SPLIT_IRQCHIP %d, KVM_CAP_DEVICE_CTRL %d",
		 ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD),
		 ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE),
		 ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI),
		 ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD),
		 ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP),
		 ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_DEVICE_CTRL));
	result(ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) > 0, "caps", buf);

	mem = mmap(NULL, GUEST_MEM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (mem == MAP_FAILED)
		return fail_errno("run-guest", "mmap guest memory");
	memcpy(mem + GUEST_CODE_GPA, code, sizeof(code));
	memset(&region, 0, sizeof(region));
	region.memory_size = GUEST_MEM_BYTES;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail_errno("run-guest", "KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail_errno("run-guest", "KVM_CREATE_VCPU");
	mmap_bytes = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_bytes <= 0)
		return fail_errno("run-guest", "KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail_errno("run-guest", "mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail_errno("run-guest", "KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail_errno("run-guest", "KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_CODE_GPA;
	regs.rflags = 0x2; /* bit 1 is reserved and always 1 (Intel SDM vol. 1 §3.4.3) */
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail_errno("run-guest", "KVM_SET_REGS");

	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail_errno("run-guest", "first KVM_RUN");
	snprintf(buf, sizeof(buf), "first exit: reason %u, port 0x%x, size %u, value 0x%x",
		 run->exit_reason, run->io.port, run->io.size,
		 *((uint8_t *)run + run->io.data_offset));
	result(run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		       run->io.port == PROBE_PORT && run->io.size == 1 &&
		       *((uint8_t *)run + run->io.data_offset) == PROBE_VALUE,
	       "guest-out", buf);
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail_errno("run-guest", "second KVM_RUN");
	snprintf(buf, sizeof(buf), "second exit: reason %u (KVM_EXIT_HLT is %d)", run->exit_reason,
		 KVM_EXIT_HLT);
	result(run->exit_reason == KVM_EXIT_HLT, "guest-hlt", buf);
	return failures ? 1 : 0;
}

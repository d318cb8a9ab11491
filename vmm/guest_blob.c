/*
 * The test guest (guest/) built into hqio, so that `hqio run --guest
 * builtin` works wherever the hqio binary is (the test bed copies only
 * binaries). The ELF is included by the assembler (.incbin); its path comes
 * from vmm/CMakeLists.txt, which also orders the guest's build first.
 */
#include "vmm.h"

#ifdef HQIO_GUEST_ELF_PATH
__asm__(".section .rodata\n"
	".balign 16\n"
	"hqio_guest_elf_start:\n"
	".incbin \"" HQIO_GUEST_ELF_PATH "\"\n"
	"hqio_guest_elf_end:\n"
	".previous\n");
extern const uint8_t hqio_guest_elf_start[] __asm__("hqio_guest_elf_start");
extern const uint8_t hqio_guest_elf_end[] __asm__("hqio_guest_elf_end");

const uint8_t *hqio_vmm_builtin_guest(size_t *len)
{
	*len = (size_t)(hqio_guest_elf_end - hqio_guest_elf_start);
	return hqio_guest_elf_start;
}
#else
const uint8_t *hqio_vmm_builtin_guest(size_t *len)
{
	*len = 0;
	return NULL;
}
#endif

/*
 * Entry of the hqio test guest: a multiboot v1 header, our own flat GDT,
 * a stack, and the interrupt entry stubs that hand a frame to C.
 *
 * Multiboot v1 (GNU Multiboot Specification 0.6.96, section 3.1): the
 * header (magic 0x1BADB002, flags, checksum) lies 4-byte aligned in the
 * first 8192 bytes of the image; the loader enters in 32-bit protected mode
 * with flat segments, EAX = 0x2BADB002 and EBX = the multiboot information.
 * GDTR/IDTR are undefined at entry (section 3.2), so we load our own.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-aligned modules, bit 1: memory info */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text
	.globl _start
_start:
	cli
	lgdt gdt_desc
	ljmp $0x08, $1f /* selector 0x08: flat 32-bit code */
1:	movw $0x10, %cx /* selector 0x10: flat data */
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	movl $stack_top, %esp
	pushl %ebx /* multiboot information */
	pushl %eax /* loader magic */
	call guest_main
2:	cli
	hlt
	jmp 2b

/* Interrupt entry: the CPU pushes EFLAGS, CS, EIP (and an error code for
 * some exceptions: SDM vol. 3, 6.13); the stub pushes a dummy error code
 * where there is none, then the vector, then the general registers. */
.macro STUB vec, has_err
	.globl isr_stub_\vec
isr_stub_\vec:
	.if \has_err == 0
	pushl $0
	.endif
	pushl $\vec
	jmp isr_common
.endm

	STUB 0, 0
	STUB 1, 0
	STUB 2, 0
	STUB 3, 0
	STUB 4, 0
	STUB 5, 0
	STUB 6, 0
	STUB 7, 0
	STUB 8, 1
	STUB 9, 0
	STUB 10, 1
	STUB 11, 1
	STUB 12, 1
	STUB 13, 1
	STUB 14, 1
	STUB 15, 0
	STUB 16, 0
	STUB 17, 1
	STUB 18, 0
	STUB 19, 0
	STUB 48, 0  /* e1000e MSI-X vectors 0-4 */
	STUB 49, 0
	STUB 50, 0
	STUB 51, 0
	STUB 52, 0
	STUB 64, 0  /* edu 0-3 (MSI or IOAPIC) */
	STUB 65, 0
	STUB 66, 0
	STUB 67, 0
	STUB 80, 0  /* LAPIC timer: watchdog */
	STUB 255, 0 /* LAPIC spurious vector */

isr_common:
	pushal
	cld
	pushl %esp /* struct irq_frame * */
	call isr_dispatch
	addl $4, %esp
	popal
	addl $8, %esp /* vector + error code */
	iretl

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF /* 0x08: base 0, limit 4 GiB, code, 32-bit */
	.quad 0x00CF92000000FFFF /* 0x10: base 0, limit 4 GiB, data */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.section .bss
	.balign 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits

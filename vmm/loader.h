/*
 * Multiboot v1 loader of the monitor: puts a 32-bit ELF kernel that carries
 * a multiboot header into guest RAM and builds the multiboot information
 * the kernel finds in EBX (GNU Multiboot Specification 0.6.96, sections
 * 3.1-3.3). Pure functions on buffers: tests feed them crafted images.
 */
#ifndef HQIO_VMM_LOADER_H
#define HQIO_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "hqio/error.h"

#define HQIO_MB_HEADER_MAGIC 0x1BADB002u /* Multiboot 0.6.96, 3.1.2 */
#define HQIO_MB_LOADER_MAGIC 0x2BADB002u /* ... 3.2: EAX at entry */
#define HQIO_MB_SEARCH_BYTES 8192u	 /* ... 3.1.1: header within the first 8 KiB */
#define HQIO_MB_LOAD_MIN     0x100000u	 /* we load nothing below 1 MiB (info lives there) */
#define HQIO_MB_INFO_GPA     0x8000u	 /* where the monitor puts the information */
#define HQIO_MB_CMDLINE_MAX  2048u

struct hqio_mb_image {
	uint32_t entry;
	uint32_t load_lo, load_hi; /* guest-physical range the segments occupy */
	uint32_t header_flags;
	unsigned n_segments;
};

/* Check img (an ELF32 i386 executable with a multiboot header) and copy
 * its PT_LOAD segments into ram (zero-filling memsz beyond filesz).
 * Everything must fit in [HQIO_MB_LOAD_MIN, ram_len); -EINVAL/-ENOEXEC
 * with a sentence on anything malformed. ram may be NULL to only check. */
int hqio_mb_load(const uint8_t *img, size_t len, uint8_t *ram, uint64_t ram_len,
		 struct hqio_mb_image *out, struct hqio_error *err);

/* Write the multiboot information (flags: mem_lower/mem_upper, cmdline) at
 * HQIO_MB_INFO_GPA with the command line right after it; *ebx gets its
 * guest-physical address. */
int hqio_mb_info(uint8_t *ram, uint64_t ram_len, const char *cmdline, uint32_t *ebx,
		 struct hqio_error *err);

#endif

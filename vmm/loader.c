/*
 * Multiboot v1 ELF loader (see loader.h). ELF32 layout from the System V
 * ABI (gABI 4.1, "ELF Header", "Program Header"); the i386 values
 * (EM_386 = 3) from the Intel386 psABI. Only what a multiboot kernel needs:
 * ELFCLASS32, little-endian, ET_EXEC, PT_LOAD segments by physical address.
 */
#include "loader.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define EI_NIDENT	    16
#define ELFCLASS32	    1
#define ELFDATA2LSB	    1
#define ET_EXEC		    2
#define EM_386		    3
#define PT_LOAD		    1
#define EHDR32_SIZE	    52u
#define PHDR32_SIZE	    32u
#define MB_FLAG_AOUT_KLUDGE 0x00010000u /* 3.1.2: addresses in the header */
#define MB_FLAGS_REQUIRED   0x0000ffffu /* 3.1.2: low 16 bits must be understood */
#define MB_FLAGS_KNOWN	    0x00000007u /* align modules, memory info, video mode */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int find_header(const uint8_t *img, size_t len, uint32_t *flags, struct hqio_error *err)
{
	size_t lim = len < HQIO_MB_SEARCH_BYTES ? len : HQIO_MB_SEARCH_BYTES;
	for (size_t off = 0; off + 12 <= lim; off += 4) {
		if (rd32(img + off) != HQIO_MB_HEADER_MAGIC)
			continue;
		uint32_t f = rd32(img + off + 4), sum = rd32(img + off + 8);
		if ((uint32_t)(HQIO_MB_HEADER_MAGIC + f + sum) != 0)
			return hqio_error_set(err, -ENOEXEC,
					      "multiboot header at offset %zu: checksum wrong "
					      "(magic + flags + checksum must be 0 mod 2^32)",
					      off);
		if (f & MB_FLAG_AOUT_KLUDGE)
			return hqio_error_set(err, -ENOEXEC,
					      "multiboot header asks for the a.out kludge (flags "
					      "bit 16): only ELF kernels are loaded");
		if ((f & MB_FLAGS_REQUIRED) & ~MB_FLAGS_KNOWN)
			return hqio_error_set(err, -ENOEXEC,
					      "multiboot header flags 0x%08x require features this "
					      "loader does not know",
					      f);
		*flags = f;
		return 0;
	}
	return hqio_error_set(err, -ENOEXEC,
			      "no multiboot v1 header (magic 0x1BADB002) in the first %u bytes",
			      HQIO_MB_SEARCH_BYTES);
}

int hqio_mb_load(const uint8_t *img, size_t len, uint8_t *ram, uint64_t ram_len,
		 struct hqio_mb_image *out, struct hqio_error *err)
{
	if (!img || !out)
		return hqio_error_set(err, -EINVAL, "no image");
	memset(out, 0, sizeof(*out));
	if (len < EHDR32_SIZE || memcmp(img,
					"\x7f"
					"ELF",
					4) != 0)
		return hqio_error_set(err, -ENOEXEC, "not an ELF file (%zu bytes)", len);
	if (img[4] != ELFCLASS32 || img[5] != ELFDATA2LSB)
		return hqio_error_set(err, -ENOEXEC,
				      "not a 32-bit little-endian ELF (class %u, data %u): a "
				      "multiboot v1 kernel is ELF32 i386",
				      img[4], img[5]);
	if (rd16(img + 16) != ET_EXEC || rd16(img + 18) != EM_386)
		return hqio_error_set(err, -ENOEXEC,
				      "ELF type %u machine %u: need an i386 executable (2, 3)",
				      rd16(img + 16), rd16(img + 18));
	int rc = find_header(img, len, &out->header_flags, err);
	if (rc)
		return rc;
	uint32_t entry = rd32(img + 24), phoff = rd32(img + 28);
	uint16_t phentsize = rd16(img + 42), phnum = rd16(img + 44);
	if (phentsize != PHDR32_SIZE || phnum == 0 || phoff > len ||
	    (uint64_t)phnum * PHDR32_SIZE > len - phoff)
		return hqio_error_set(err, -ENOEXEC,
				      "program headers out of the file (offset %u, %u x %u bytes)",
				      phoff, phnum, phentsize);
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;
	for (unsigned pass = 0; pass < 2; pass++) { /* check all, then copy */
		for (unsigned i = 0; i < phnum; i++) {
			const uint8_t *ph = img + phoff + (size_t)i * PHDR32_SIZE;
			if (rd32(ph) != PT_LOAD)
				continue;
			uint32_t off = rd32(ph + 4), paddr = rd32(ph + 12);
			uint32_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);
			if (pass == 0) {
				if (filesz > memsz || off > len || filesz > len - off)
					return hqio_error_set(
						err, -ENOEXEC,
						"segment %u: file bytes [%u, +%u) beyond the file "
						"(%zu bytes) or larger than its memory size %u",
						i, off, filesz, len, memsz);
				uint64_t end = (uint64_t)paddr + memsz;
				if (paddr < HQIO_MB_LOAD_MIN || end > ram_len)
					return hqio_error_set(
						err, -EINVAL,
						"segment %u: [0x%x, 0x%llx) outside guest RAM "
						"[0x%x, 0x%llx): give more --mem or link higher",
						i, paddr, (unsigned long long)end, HQIO_MB_LOAD_MIN,
						(unsigned long long)ram_len);
				if (paddr < lo)
					lo = paddr;
				if (end > hi)
					hi = end;
				if (entry >= paddr && entry < end)
					entry_ok = true;
				out->n_segments++;
			} else if (ram) {
				memcpy(ram + paddr, img + off, filesz);
				memset(ram + paddr + filesz, 0, memsz - filesz);
			}
		}
		if (pass == 0 && out->n_segments == 0)
			return hqio_error_set(err, -ENOEXEC, "no loadable segment");
		if (pass == 0 && !entry_ok)
			return hqio_error_set(err, -ENOEXEC,
					      "entry point 0x%x is in no loaded segment", entry);
	}
	out->entry = entry;
	out->load_lo = (uint32_t)lo;
	out->load_hi = (uint32_t)hi;
	return 0;
}

int hqio_mb_info(uint8_t *ram, uint64_t ram_len, const char *cmdline, uint32_t *ebx,
		 struct hqio_error *err)
{
	const uint32_t info_size = 88; /* 3.3: the fields up to vbe_interface_len */
	const char *c = cmdline ? cmdline : "";
	size_t clen = strlen(c) + 1;
	if (clen > HQIO_MB_CMDLINE_MAX)
		return hqio_error_set(err, -EINVAL, "guest command line longer than %u bytes",
				      HQIO_MB_CMDLINE_MAX - 1);
	if (ram_len < HQIO_MB_LOAD_MIN + 0x100000u)
		return hqio_error_set(err, -EINVAL, "guest RAM below 2 MiB");
	uint8_t *mbi = ram + HQIO_MB_INFO_GPA;
	memset(mbi, 0, info_size);
	/* flags: bit 0 mem_lower/mem_upper, bit 2 cmdline (3.3) */
	wr32(mbi + 0, 0x1 | 0x4);
	wr32(mbi + 4, 640);					  /* KiB of conventional memory */
	uint64_t upper_kib = (ram_len - HQIO_MB_LOAD_MIN) / 1024; /* KiB from 1 MiB */
	wr32(mbi + 8, (uint32_t)upper_kib);
	uint32_t cmd_gpa = HQIO_MB_INFO_GPA + info_size;
	wr32(mbi + 16, cmd_gpa);
	memcpy(ram + cmd_gpa, c, clen);
	*ebx = HQIO_MB_INFO_GPA;
	return 0;
}

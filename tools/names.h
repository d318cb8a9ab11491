/* pciutils' name database (pci.ids), loaded once per command. */
#ifndef HQIO_TOOLS_NAMES_H
#define HQIO_TOOLS_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct hqio_names {
	char *text; /* whole pci.ids, NULL when not found */
	size_t len;
	char path[256]; /* where it was found */
};

/* Tries $HQIO_PCI_IDS, then Debian's /usr/share/misc/pci.ids and the usual
 * other places. Missing is not an error: lookups then return NULL. */
void hqio_names_load(struct hqio_names *n);
void hqio_names_free(struct hqio_names *n);
const char *hqio_names_vendor(const struct hqio_names *n, uint16_t v, char *buf, size_t len);
const char *hqio_names_device(const struct hqio_names *n, uint16_t v, uint16_t d, char *buf,
			      size_t len);
const char *hqio_names_class(const struct hqio_names *n, uint32_t cls, char *buf, size_t len);

#endif

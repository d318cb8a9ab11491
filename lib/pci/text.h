/* Internal helpers shared by lib/pci's text parsers (addresses, lspci dumps, pci.ids). */
#ifndef HQIO_LIB_PCI_TEXT_H
#define HQIO_LIB_PCI_TEXT_H

/* Value of one hex digit, or -1. */
static inline int hqio_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif

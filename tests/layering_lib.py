#!/usr/bin/env python3
"""Layering check for lib/ (DESIGN.md): no system calls, no clocks, no globals.

Reads the symbols of libhqio.a with nm:
  - every undefined symbol must be a pure libc function from the allow-list
    below (memory, strings, formatting into buffers, sorting);
  - no object may define writable data (objdump: objects in .data, .bss, common
    or thread-local sections; .data.rel.ro is read-only after relocation).
Usage: layering_lib.py path/to/libhqio.a
"""
import subprocess
import sys

ALLOWED = {
    # memory
    "malloc", "calloc", "realloc", "free",
    "memcpy", "memmove", "memset", "memcmp", "memchr",
    # strings
    "strlen", "strnlen", "strcmp", "strncmp", "strchr", "strrchr", "strstr", "strspn",
    "strcspn", "strtoul", "strtol", "strtoull",
    # formatting into caller buffers
    "snprintf", "vsnprintf", "__snprintf_chk", "__vsnprintf_chk", "__memcpy_chk",
    "__memset_chk", "__memmove_chk", "__stack_chk_fail", "__strcpy_chk",
    # sorting
    "qsort",
    # position-independent code
    "_GLOBAL_OFFSET_TABLE_",
    # character classes
    "__ctype_b_loc", "__ctype_tolower_loc", "__ctype_toupper_loc", "isxdigit", "isspace",
    "tolower", "toupper",
}
# Instrumentation a sanitizer or coverage build adds.
ALLOWED_PREFIXES = ("__asan_", "__ubsan_", "__sanitizer_", "__sancov_", "__msan_", "__lsan_")


def main():
    if len(sys.argv) != 2:
        print("usage: layering_lib.py libhqio.a", file=sys.stderr)
        return 2
    lib = sys.argv[1]
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
    defined = set()
    undefined = {}
    writable = []
    for line in out.splitlines():
        # "lib.a:obj.o: 0000000000000000 T name" or "lib.a:obj.o:                  U name"
        where, _, rest = line.rpartition(": ")
        parts = rest.split()
        if len(parts) == 2:
            kind, name = parts
        elif len(parts) == 3:
            _, kind, name = parts
        else:
            continue
        if kind == "U":
            undefined.setdefault(name, where)
        else:
            defined.add(name)
    dump = subprocess.run(["objdump", "-t", lib], capture_output=True, text=True,
                          check=True).stdout
    obj = ""
    for line in dump.splitlines():
        if "file format" in line:
            obj = line.split(":")[0]
            continue
        f = line.split()
        # "<addr> <flags...> <section> <size> <name>": objects only
        if len(f) < 5 or " O " not in line:
            continue
        section, name = f[-3], f[-1]
        if name.startswith(ALLOWED_PREFIXES) or name.startswith(("__odr_asan", "___asan")):
            continue
        if section.startswith((".data.rel.ro",)):
            continue
        if section in ("*COM*", ".bss", ".data", ".tbss", ".tdata") or \
                section.startswith((".bss.", ".data.", ".tbss.", ".tdata.")):
            writable.append(f"{obj}: {name} in {section}")
    bad = sorted(f"{undefined[n]}: {n}" for n in undefined
                 if n not in defined and n not in ALLOWED and not n.startswith(ALLOWED_PREFIXES))
    ok = True
    if bad:
        ok = False
        print("lib/ calls functions outside the pure allow-list (system calls, clocks, I/O?):")
        print("\n".join("  " + b for b in bad))
    if writable:
        ok = False
        print("lib/ defines writable globals:")
        print("\n".join("  " + w for w in writable))
    n_und = len([n for n in undefined if n not in defined])
    print(f"layering: {len(defined)} symbols defined, {n_und} external references checked")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""check_json_schema: `hqio inspect --json` output conforms to docs/inspect.schema.json.

What it checks:
  1. The schema is a valid JSON Schema (draft 2020-12).
  2. Output validates: sysfs as this user (`hqio inspect --json`, and one BDF
     selected), sysfs as an unprivileged user (root only: setpriv to uid
     65534, 64-byte images), every synthetic dump of check_lspci_dump.py
     (well-formed, malformed, truncated, absent, multi-function, topology
     with bridge and VFs), a dump read from standard input (`--dump -`), and
     `lspci -xxxx` / `-x` dumps of this machine when lspci is installed.
  3. Coverage: across those outputs, every nullable object of a device
     (pm, msi, ..., bridge, rom, vf, pcie.link, pcie.root, capability
     defects) was seen both null and non-null, and devices that could and
     could not be decoded were seen, so every branch of the schema met data.
  4. Negative controls: deliberately broken copies of real output (verdict
     "maybe", a missing required key, a wrong type, an unknown key, ...) must
     fail validation; a schema that accepts them is too loose.

Needs python3-jsonschema (Debian package); exits 77 when it is missing.

usage: check_json_schema.py PATH-TO-HQIO
exit: 0 pass, 1 fail, 77 skipped (no jsonschema module).
"""

import copy
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "docs", "inspect.schema.json")
SKIP = 77

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import check_lspci_sysfs as ls  # noqa: E402  (run helpers, Checker)
import check_lspci_dump as cases  # noqa: E402  (synthetic dumps)

NULLABLE_OBJECTS = ["rom", "bridge", "pm", "msi", "msix", "pcie", "af", "acs", "sriov", "ats",
                    "pri", "pasid", "aer", "vf"]


def coverage(docs):
    """Which variants the validated outputs contained."""
    seen = set()
    for doc in docs:
        seen.add("source " + doc["source"])
        for d in doc["devices"]:
            seen.add("decoded" if "vendor_id" in d else "not decoded")
            seen.add("decode ok" if d["decode"]["ok"] else "decode error")
            for k in NULLABLE_OBJECTS:
                if k in d:
                    seen.add("%s %s" % (k, "null" if d[k] is None else "object"))
            if d.get("pcie"):
                for k in ("link", "root"):
                    seen.add("pcie.%s %s" % (k, "null" if d["pcie"][k] is None else "object"))
            for k in ("capabilities", "extended_capabilities"):
                if k in d:
                    c = d[k]
                    seen.add("%s defect %s" % (k, "null" if c["defect"] is None else "object"))
                    seen.add("%s readable %s" % (k, c["readable"]))
            if d.get("bars"):
                seen.add("bars")
            if d["acs_path"]["hops"]:
                seen.add("acs hops")
            if "subsystem_id" in d:
                seen.add("subsystem ids")
    want = {"source sysfs", "source dump", "decoded", "not decoded", "decode ok", "decode error",
            "bars", "acs hops", "subsystem ids"}
    for k in NULLABLE_OBJECTS:
        want |= {"%s null" % k, "%s object" % k}
    for k in ("link", "root"):
        want |= {"pcie.%s null" % k, "pcie.%s object" % k}
    for k in ("capabilities", "extended_capabilities"):
        want |= {"%s defect null" % k, "%s defect object" % k,
                 "%s readable True" % k, "%s readable False" % k}
    return sorted(want - seen)


def find_device(doc, pred):
    for d in doc["devices"]:
        if pred(d):
            return d
    raise LookupError("no device for a negative control")


def negative_controls(doc):
    """[(description, mutate(doc_copy))] for a rich, valid document."""
    dev = lambda x: find_device(x, lambda d: "vendor_id" in d and d.get("sriov"))  # noqa: E731
    bridge = lambda x: find_device(x, lambda d: d.get("header_type") == 1)  # noqa: E731

    def setv(path_fn, key, value):
        def m(x):
            path_fn(x)[key] = value
        return m

    def delete(path_fn, key):
        def m(x):
            del path_fn(x)[key]
        return m

    return [
        ('verdict "maybe"', setv(dev, "verdict", "maybe")),
        ("required key verdict missing", delete(dev, "verdict")),
        ("required top-level key devices missing", lambda x: x.pop("devices")),
        ("format_version 2", setv(lambda x: x, "format_version", 2)),
        ('source "file"', setv(lambda x: x, "source", "file")),
        ("unknown key in a device", setv(dev, "colour", "blue")),
        ("unknown key in a capability entry",
         lambda x: dev(x)["capabilities"]["list"][0].update(extra=1)),
        ('reason level "fatal"', lambda x: dev(x)["reasons"].append(
            {"level": "fatal", "text": "x"})),
        ('reset usable "maybe"', lambda x: dev(x)["reset_methods"][0].update(usable="maybe")),
        ("reset methods out of order", lambda x: dev(x)["reset_methods"].reverse()),
        ("only three reset methods", lambda x: dev(x)["reset_methods"].pop()),
        ("affects on the flr entry", lambda x: dev(x)["reset_methods"][0].update(affects=[])),
        ("capability id as a string",
         lambda x: dev(x)["capabilities"]["list"][0].update(id="0x01")),
        ("extended capability without version",
         lambda x: dev(x)["extended_capabilities"]["list"][0].pop("version")),
        ("standard capability offset in the header",
         lambda x: dev(x)["capabilities"]["list"][0].update(offset=0x20)),
        ('defect kind "weird"', lambda x: dev(x)["capabilities"].update(
            defect={"kind": "weird", "pointer": 0x40, "at": 0x34})),
        ("present true but not readable",
         lambda x: dev(x)["capabilities"].update(readable=False, present=True)),
        ("vendor_id in upper case", setv(dev, "vendor_id", "0xABCD")),
        ("vendor_id without 0x", setv(dev, "vendor_id", "8086")),
        ("device_id missing while vendor_id is there", delete(dev, "device_id")),
        ("bdf without domain", setv(dev, "bdf", "01:00.0")),
        ("decode ok with an error text", lambda x: dev(x).update(
            decode={"ok": True, "error": "oops"})),
        ("decode failed without an error text", lambda x: dev(x).update(
            decode={"ok": False, "error": None})),
        ("no_snoop_enabled as a string", setv(dev, "no_snoop_enabled", "unknown")),
        ("subsystem IDs on a bridge",
         lambda x: bridge(x).update(subsystem_vendor_id="0x1234", subsystem_id="0x0001")),
        ("bridge object missing on a type 1 header", setv(bridge, "bridge", None)),
        ('BAR kind "mem128"', lambda x: dev(x)["bars"][0].update(kind="mem128")),
        ('link speed "3GT/s"', lambda x: dev(x)["pcie"]["link"].update(speed="3GT/s")),
        ("iommu group although unknown", lambda x: dev(x)["iommu"].update(group=3)),
        ("dump output with dump_file null", setv(lambda x: x, "dump_file", None)),
    ]


def main(argv):
    if len(argv) != 2:
        print("usage: %s PATH-TO-HQIO" % argv[0], file=sys.stderr)
        return 2
    hqio = os.path.abspath(argv[1])
    try:
        import jsonschema
        from jsonschema import Draft202012Validator
    except ImportError as e:
        print("SKIP: python module jsonschema (>= 4.0, Debian package python3-jsonschema) "
              "cannot be imported by %s: %s" % (sys.executable, e))
        return SKIP
    ck = ls.Checker()
    with open(SCHEMA) as f:
        schema = json.load(f)
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        ck.check(False, "%s is not a valid draft 2020-12 schema: %s" % (SCHEMA, e.message))
        return ck.finish("check_json_schema")
    validator = Draft202012Validator(schema)

    def errors(doc):
        return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))

    docs = []

    def validate(what, cmd, **kw):
        doc, err = ls.run_hqio_json(cmd, **kw)
        if not ck.check(doc is not None, "%s: %s" % (what, err)):
            return None
        errs = errors(doc)
        ck.extend(["%s: schema violation at /%s: %s" % (what, "/".join(map(str, e.absolute_path)),
                                                        e.message[:300]) for e in errs[:10]],
                  "%s: %d devices valid" % (what, len(doc.get("devices", []))))
        docs.append(doc)
        return doc

    tmp = tempfile.mkdtemp(prefix="hqio-schema-")
    try:
        sim = validate("sim topo", [hqio, "sim", "topo", "--json"])
        ck.check(sim is None or sim.get("source") == "sim",
                 "hqio sim topo --json says source \"sim\"")
        if os.path.isdir(ls.SYSFS_PCI) and os.listdir(ls.SYSFS_PCI):
            doc = validate("sysfs", [hqio, "inspect", "--json"])
            if doc and doc["devices"]:
                bdf = doc["devices"][-1]["bdf"]
                one = validate("sysfs %s" % bdf, [hqio, "inspect", "--json", bdf])
                ck.check(one is None or [d["bdf"] for d in one["devices"]] == [bdf],
                         "hqio inspect --json %s lists %s" % (
                             bdf, one and [d["bdf"] for d in one["devices"]]))
            if os.geteuid() == 0 and shutil.which("setpriv"):
                binary = hqio
                if not ls.reachable_by_nobody(hqio):
                    os.chmod(tmp, 0o755)
                    binary = os.path.join(tmp, "hqio")
                    shutil.copy2(hqio, binary)
                    os.chmod(binary, 0o755)
                validate("sysfs as uid %d" % ls.NOBODY,
                         ["setpriv", "--reuid=%d" % ls.NOBODY, "--regid=%d" % ls.NOBODY,
                          "--clear-groups", binary, "inspect", "--json"], cwd="/")
            else:
                print("note: not root (or no setpriv): unprivileged output not validated")
        else:
            print("note: no PCI devices in %s: sysfs output not validated" % ls.SYSFS_PCI)

        topology = None
        for name, _desc, text, _truth in cases.synthetic_cases():
            path = os.path.join(tmp, "case-%s.txt" % name)
            with open(path, "w") as f:
                f.write(text)
            doc = validate("dump %s" % name, [hqio, "inspect", "--dump", path, "--json"])
            if name == "topology":
                topology = doc
            if name == "pcie-endpoint":
                with open(path) as f:
                    validate("dump %s from stdin" % name,
                             [hqio, "inspect", "--dump", "-", "--json"], stdin=f)

        if shutil.which("lspci"):
            for opt in ("-xxxx", "-x"):
                p = ls.run(["lspci", opt])
                if p.returncode == 0 and p.stdout.strip():
                    path = os.path.join(tmp, "machine%s.txt" % opt)
                    with open(path, "w") as f:
                        f.write(p.stdout)
                    validate("lspci %s dump" % opt, [hqio, "inspect", "--dump", path, "--json"])
        else:
            print("note: lspci not installed: dumps of this machine not validated")

        missing = coverage(docs)
        ck.check(not missing, "the validated outputs never contained: %s (the schema branches "
                 "for them were not exercised)" % ", ".join(missing))

        # Negative controls.
        if ck.check(topology is not None, "no topology output for the negative controls"):
            ck.check(not errors(topology), "the negative-control base document is not valid")
            for desc, mutate in negative_controls(topology):
                bad = copy.deepcopy(topology)
                try:
                    mutate(bad)
                except (LookupError, IndexError, KeyError) as e:
                    ck.check(False, "negative control %r could not be applied: %r" % (desc, e))
                    continue
                errs = errors(bad)
                ck.extend([] if errs else
                          ["negative control %r: the broken document passes validation "
                           "(schema too loose)" % desc],
                          "negative control rejected: %s (%s)" % (
                              desc, errs[0].message[:100] if errs else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ck.finish("check_json_schema")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

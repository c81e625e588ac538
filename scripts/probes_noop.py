#!/usr/bin/env python3
"""Turn provider.d into a header of empty probe macros (probes compiled out).

Same macro names as systemtap's `dtrace -h`: PROVIDER_PROBE(args...) and
PROVIDER_PROBE_ENABLED().  The ENABLED macros are the constant 0, so every
guarded probe site and the argument building behind it compile away.
Usage: probes_noop.py provider.d out.h
"""
import re
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    text = re.sub(r"/\*.*?\*/", "", open(src).read(), flags=re.S)
    lines = ["/* Generated from provider.d by scripts/probes_noop.py: probes compiled out. */",
             "#ifndef SONDE_PROBES_NOOP_H", "#define SONDE_PROBES_NOOP_H"]
    n = 0
    for prov, body in re.findall(r"provider\s+(\w+)\s*\{(.*?)\};", text, flags=re.S):
        for name, args in re.findall(r"probe\s+(\w+)\s*\(([^)]*)\)\s*;", body):
            macro = (prov + "_" + name.replace("__", "_")).upper()
            lines.append("#define %s_ENABLED() (0)" % macro)
            lines.append("#define %s(...) do { } while (0)" % macro)
            n += 1
    if n == 0:
        sys.exit("probes_noop.py: no probes found in " + src)
    lines.append("#endif")
    open(out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

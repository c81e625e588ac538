#!/usr/bin/env python3
"""Turn provider.d into a header of empty probe macros (probes compiled out).

Same macro names as systemtap's `dtrace -h`: PROVIDER_PROBE(args...) and
PROVIDER_PROBE_ENABLED().  The ENABLED macros are the constant 0, so every
guarded probe site and the argument building behind it compile away.
Usage: probes_noop.py provider.d out.h

With --list, it writes instead the list of every probe, whatever the build:
SONDE_PROBE_COUNT and the X-macro SONDE_PROBE_LIST(X), X(provider, probe,
MACRO) for each, probe spelled as in its semaphore's name (local__send),
MACRO as in dtrace -h's (IP_LOCAL_SEND): what probes/probes.h builds its
gate from, so that a probe added to provider.d is in it by itself.
Usage: probes_noop.py --list provider.d out.h
"""
import re
import sys


def provider_probes(src, tool):
    """Every probe of provider.d at src, in order: (provider, probe, args,
    the macro name dtrace -h gives it).  Exits, naming tool, when there is
    none.  probes_record.py reads provider.d through this too."""
    text = re.sub(r"/\*.*?\*/", "", open(src).read(), flags=re.S)
    probes = []
    for prov, body in re.findall(r"provider\s+(\w+)\s*\{(.*?)\};", text, flags=re.S):
        for name, args in re.findall(r"probe\s+(\w+)\s*\(([^)]*)\)\s*;", body):
            probes.append((prov, name, args, (prov + "_" + name.replace("__", "_")).upper()))
    if not probes:
        sys.exit("%s: no probes found in %s" % (tool, src))
    return probes


def write_list(src, out):
    probes = provider_probes(src, "probes_noop.py")
    lines = ["/* Generated from provider.d by scripts/probes_noop.py --list: every probe. */",
             "#ifndef SONDE_PROBES_LIST_H", "#define SONDE_PROBES_LIST_H",
             "#define SONDE_PROBE_COUNT %d" % len(probes),
             "/* X(provider, probe, MACRO) */",
             "#define SONDE_PROBE_LIST(X) \\"]
    lines += ["\tX(%s, %s, %s)%s" % (prov, name, macro, " \\" if i + 1 < len(probes) else "")
              for i, (prov, name, _, macro) in enumerate(probes)]
    lines.append("#endif")
    open(out, "w").write("\n".join(lines) + "\n")


def main():
    if sys.argv[1] == "--list":
        write_list(sys.argv[2], sys.argv[3])
        return
    src, out = sys.argv[1], sys.argv[2]
    lines = ["/* Generated from provider.d by scripts/probes_noop.py: probes compiled out. */",
             "#ifndef SONDE_PROBES_NOOP_H", "#define SONDE_PROBES_NOOP_H"]
    for _, _, _, macro in provider_probes(src, "probes_noop.py"):
        lines.append("#define %s_ENABLED() (0)" % macro)
        lines.append("#define %s(...) do { } while (0)" % macro)
    lines.append("#endif")
    open(out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turn provider.d into a header of recording probe macros (unit tests only).

Same macro names as systemtap's `dtrace -h`: PROVIDER_PROBE(args...) and
PROVIDER_PROBE_ENABLED().  Each probe macro calls
sonde_probe_record("provider", "probe", args...) with the probe's name as
DTrace writes it ("drop-in", not "drop__in"); each ENABLED macro reads
sonde_probe_recording, so the sites are on exactly while a test records.
The recorder (tests/unit/probe_record.c) defines both; a library built with
this header links only into a test that has it.
Usage: probes_record.py provider.d out.h
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from probes_noop import provider_probes  # noqa: E402 (after the line above)


def main():
    src, out = sys.argv[1], sys.argv[2]
    lines = ["/* Generated from provider.d by scripts/probes_record.py: probes recorded. */",
             "#ifndef SONDE_PROBES_RECORD_H", "#define SONDE_PROBES_RECORD_H",
             "extern int sonde_probe_recording;",
             "void sonde_probe_record(const char *provider, const char *probe, const void *a0,",
             "\tconst void *a1, const void *a2, const void *a3, const void *a4, const void *a5);"]
    for prov, name, args, macro in provider_probes(src, "probes_record.py"):
        # The recorder takes six arguments: a probe of another arity would
        # record the wrong thing, so it is refused here.
        if len([a for a in args.split(",") if a.strip()]) != 6:
            sys.exit("probes_record.py: %s:%s does not take six arguments" % (prov, name))
        lines.append("#define %s_ENABLED() (sonde_probe_recording)" % macro)
        lines.append("#define %s(a0, a1, a2, a3, a4, a5) sonde_probe_record(\"%s\", \"%s\", "
                     "(a0), (a1), (a2), (a3), (a4), (a5))"
                     % (macro, prov, name.replace("__", "-")))
    lines.append("#endif")
    open(out, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

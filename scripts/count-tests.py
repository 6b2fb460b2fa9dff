#!/usr/bin/env python3
"""Sum the Criterion test cases of every test binary from meson's testlog.json
and print "N passed, N failed". A binary that ends without Criterion's
synthesis line (crash, timeout) counts as one failed case."""
import json
import re
import sys

SYNTH = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")

passed = failed = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        m = SYNTH.findall(out)
        if not m:
            print(f"{t['name']}: no test summary ({t.get('result')})")
            failed += 1
            continue
        tested, passing, failing, crashing = map(int, m[-1])
        passed += passing
        failed += failing + crashing
        if t.get("result") != "OK" and failing + crashing == 0:
            failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

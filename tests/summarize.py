#!/usr/bin/env python3
"""Adds up GoogleTest JSON reports, node:test TAP and fuzz outcomes in a results folder
and prints the closing line "N passed, N failed[, N skipped]". Exit status 1 on failure."""
import glob
import json
import os
import re
import sys

folder = sys.argv[1]
passed = failed = skipped = 0

for path in glob.glob(os.path.join(folder, "gtest-*.json")):
    with open(path) as f:
        report = json.load(f)
    for suite in report.get("testsuites", []):
        for case in suite.get("testsuite", []):
            if case.get("result") == "SKIPPED" or case.get("status") == "NOTRUN":
                skipped += 1
            elif case.get("failures"):
                failed += 1
            else:
                passed += 1
failed += len(glob.glob(os.path.join(folder, "crash-*")))

for tap in sorted(glob.glob(os.path.join(folder, "node*.tap"))):
    counts = {}
    with open(tap) as f:
        for line in f:
            m = re.match(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", line.strip())
            if m:
                counts[m.group(1)] = int(m.group(2))
    passed += counts.get("pass", 0)
    # A todo test is a known defect: it counts as a failure until it is fixed.
    failed += counts.get("fail", 0) + counts.get("cancelled", 0) + counts.get("todo", 0)
    skipped += counts.get("skipped", 0)

for path in glob.glob(os.path.join(folder, "outcome-fuzz-*")):
    outcome = open(path).read().strip()
    if outcome == "pass":
        passed += 1
    elif outcome == "skip":
        skipped += 1
    else:
        failed += 1

line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)

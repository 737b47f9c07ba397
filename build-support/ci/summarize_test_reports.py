"""Sums the JUnit reports of `pants test --test-report` into one closing line; fails on zero tests.

python3 build-support/ci/summarize_test_reports.py dist/test/reports
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(report_dir: Path) -> int:
    passed = failed = skipped = 0
    for report in sorted(report_dir.rglob("*.xml")):
        for case in ET.parse(report).getroot().iter("testcase"):
            skip = case.find("skipped")
            if skip is not None:
                skipped += 1
                print(f"skipped: {case.get('classname')}::{case.get('name')}: {skip.get('message')}")
            elif case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            else:
                passed += 1
    if passed + failed == 0:
        print(
            f"No test ran (no JUnit report under {report_dir}): treating as a failure, like pytest's exit 5."
        )
        return 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "dist/test/reports")))

"""`make mutation`'s last step: the survivors and the score of the mutants named by the patterns given.

Reads `mutmut results --all true` (one `name: status` a line). A mutant counts as killed when a test
failed on it or it timed out; survivors and mutants no test reaches ("no tests") count against the
score."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from collections import Counter


def main(mutmut: str, patterns: list[str]) -> int:
    out = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True,  # noqa: S603
                         check=True).stdout
    rows = [line.strip().rsplit(": ", 1) for line in out.splitlines() if ": " in line]
    ours = [(name, status) for name, status in rows if any(fnmatch.fnmatch(name, p) for p in patterns)]
    counts = Counter(status for _, status in ours)
    unchecked = counts.pop("not checked", 0)
    for name, status in ours:
        if status in ("survived", "no tests", "suspicious"):
            print(f"  {status:>10}  {name}   (mutmut show {name})")
    killed = counts["killed"] + counts["timeout"]
    total = sum(counts.values())
    print(f"mutation score: {killed}/{total} killed ({100 * killed / max(total, 1):.1f}%); "
          f"{dict(sorted(counts.items()))}" + (f"; {unchecked} not checked" if unchecked else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))

#!/usr/bin/env python3
"""The size report of a Depot node image, checked against the node's budget.

    size_report.py --size arm-none-eabi-size --board B [--report FILE] IMAGE.elf

Prints one line: flash (text + data's initial values) and RAM (data + bss +
the stack the linker script reserves), each against the budget of a scale
node or a scanner terminal: 24 KiB of flash, 6 KiB of RAM. Exits 1 when the
image is over either (the build fails). --report also writes the line,
and the figures as key=value, to FILE.
"""
import argparse
import re
import subprocess
import sys

FLASH_BUDGET = 24 * 1024
RAM_BUDGET = 6 * 1024


def sections(size_tool, elf):
    out = subprocess.run([size_tool, "-A", "-d", elf], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"^(\.\S+)\s+(\d+)\s+(\d+)$", line.strip())
        if m:
            found[m.group(1)] = int(m.group(2))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", required=True)
    ap.add_argument("--board", required=True)
    ap.add_argument("--report")
    ap.add_argument("elf")
    a = ap.parse_args()
    s = sections(a.size, a.elf)
    text = s.get(".text", 0) + s.get(".ARM.exidx", 0)
    data, bss, stack = s.get(".data", 0), s.get(".bss", 0), s.get(".stack", 0)
    flash, ram = text + data, data + bss + stack
    name = re.sub(r"\.elf$", "", a.elf.rsplit("/", 1)[-1])
    line = ("size %s %s: flash %d B of %d (%.0f%%: text %d, data %d); RAM %d B of %d "
            "(%.0f%%: data %d, bss %d, stack %d)"
            % (a.board, name, flash, FLASH_BUDGET, 100.0 * flash / FLASH_BUDGET, text, data,
               ram, RAM_BUDGET, 100.0 * ram / RAM_BUDGET, data, bss, stack))
    print(line)
    if a.report:
        with open(a.report, "w") as f:
            f.write(line + "\n")
            f.write("board=%s image=%s text=%d data=%d bss=%d stack=%d flash=%d ram=%d "
                    "flash_budget=%d ram_budget=%d\n"
                    % (a.board, name, text, data, bss, stack, flash, ram, FLASH_BUDGET, RAM_BUDGET))
    over = []
    if flash > FLASH_BUDGET:
        over.append("flash %d > %d" % (flash, FLASH_BUDGET))
    if ram > RAM_BUDGET:
        over.append("RAM %d > %d" % (ram, RAM_BUDGET))
    if not stack:
        over.append("no .stack section: the stack size is not set")
    if over:
        print("size %s %s: over the budget: %s" % (a.board, name, ", ".join(over)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

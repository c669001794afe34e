#!/usr/bin/env python3
"""Doxygen input filter for include/ (docs/Doxyfile.in): the headers
document the API in plain C comments; this presents them to Doxygen as
documentation comments without changing the headers.

- the file's first comment becomes its @file description;
- a comment on lines of its own documents what follows it (/** ... */);
- a comment after code on the same line documents that member (/**< */);
- <word> in comment text (a placeholder, as in "<uuid>") is escaped, not
  taken for an HTML tag.
Line numbers stay as they are, so warnings point at the header's lines."""
import re
import sys

PLACEHOLDER = re.compile(r"<([A-Za-z_][A-Za-z0-9_-]*)>")


def escape(comment):
    return PLACEHOLDER.sub(r"\\<\1\\>", comment)


def main(path):
    out = []
    first = True
    in_comment = False
    for line in open(path, encoding="utf-8").read().split("\n"):
        if in_comment:
            in_comment = "*/" not in line
            out.append(escape(line))
            continue
        m = re.match(r"^(\s*)/\*(?![*!])(.*)$", line)
        if m:
            opener = "/** @file" if first else "/**"
            first = False
            in_comment = "*/" not in m.group(2)
            out.append(m.group(1) + opener + escape(m.group(2)))
            continue
        m = re.match(r"^(.*\S)(\s*)/\*(?![*!])(.*)$", line)
        if m and "//" not in m.group(1):
            in_comment = "*/" not in m.group(3)
            line = m.group(1) + m.group(2) + "/**<" + escape(m.group(3))
        out.append(line)
    sys.stdout.write("\n".join(out))


main(sys.argv[1])

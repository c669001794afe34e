#!/usr/bin/env python3
"""tests/docs/test_ownership_marks.py - every public function that hands
out a pointer says who owns it. A function of include/zkc.h or
include/zkc/*.h whose return type is a pointer, or that has a `const T **`
out-parameter, must carry an "Owned:" or a "Borrowed:" line in its doc
comment (docs/api-conventions.md, "Ownership"). The comment is the one
right above the declaration, or above the group of ZKC_EXTERN declarations
it belongs to. A TAP test: one case per header, then a case that plants an
unmarked function and checks the parse catches it.

Usage: tests/docs/test_ownership_marks.py
"""
import glob
import os
import re
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MARK = re.compile(r"\b(Owned|Borrowed):")
DECL = re.compile(r"ZKC_EXTERN\b([^;]*?)\b([A-Za-z_][A-Za-z0-9_]*)\s*\(([^;]*?)\)\s*;", re.S)
COMMENT = re.compile(r"/\*.*?\*/", re.S)


def declarations(text):
    """(name, needs a mark, doc comment) for each ZKC_EXTERN function."""
    out = []
    for m in DECL.finditer(text):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        needs = "*" in ret or re.search(r"\bconst\b[^,]*\*\s*\*", params) is not None
        # walk back over the declarations of the same group to its comment
        before = text[:m.start()]
        while True:
            before = before.rstrip()
            if before.endswith(";"):
                start = before.rfind("ZKC_EXTERN")
                if start >= 0 and ";" not in before[start:-1] and "*/" not in before[start:]:
                    before = before[:start]
                    continue
            break
        doc = ""
        if before.endswith("*/"):
            start = before.rfind("/*")
            doc = before[start:]
        out.append((name, needs, doc))
    return out


def unmarked(text):
    return [name for name, needs, doc in declarations(text) if needs and not MARK.search(doc)]


def main():
    headers = [os.path.join(TOP, "include", "zkc.h")] + sorted(
        glob.glob(os.path.join(TOP, "include", "zkc", "*.h")))
    n = failed = total = 0
    for h in headers:
        if not os.path.exists(h):
            continue
        text = open(h, encoding="utf-8").read()
        decls = [d for d in declarations(text) if d[1]]
        if not decls:
            continue
        total += len(decls)
        missing = unmarked(text)
        n += 1
        rel = os.path.relpath(h, TOP)
        if missing:
            failed += 1
            print("not ok %d - %s: %d of %d pointer-giving functions say neither "
                  "Owned: nor Borrowed:" % (n, rel, len(missing), len(decls)))
            for name in missing:
                print("#   %s" % name)
        else:
            print("ok %d - %s: all %d pointer-giving functions say who owns it"
                  % (n, rel, len(decls)))
    # the parse must see the API, and must catch a planted violation
    n += 1
    if total >= 20:
        print("ok %d - %d pointer-giving public functions found" % (n, total))
    else:
        failed += 1
        print("not ok %d - only %d pointer-giving functions found: is the parse broken?"
              % (n, total))
    planted = ("/* Grouped. Borrowed: the group's. */\n"
               "ZKC_EXTERN const char *zkc_a(void);\n"
               "ZKC_EXTERN const char *zkc_b(int x);\n\n"
               "/* Says nothing of who frees it. */\n"
               "ZKC_EXTERN char *\nzkc_c(const char *p);\n"
               "/* No pointer. */\nZKC_EXTERN int zkc_d(int *out);\n"
               "/* An out-parameter the caller must not free. */\n"
               "ZKC_EXTERN int zkc_e(const char **out_name, int i);\n")
    n += 1
    got = unmarked(planted)
    if got == ["zkc_c", "zkc_e"]:
        print("ok %d - a planted unmarked function is caught, a marked group is not" % n)
    else:
        failed += 1
        print("not ok %d - planted check found %s, expected ['zkc_c', 'zkc_e']" % (n, got))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

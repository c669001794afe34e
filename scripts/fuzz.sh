#!/usr/bin/env bash
# scripts/fuzz.sh - builds the libFuzzer targets in tests/fuzz with clang
# (ASan + UBSan) and runs each for ZKC_FUZZ_SECONDS (default 30) from its
# seed corpus (tests/fuzz/corpus_NAME). Exit 0 when no target found a
# problem. The library's sources are compiled once into two archives (core
# and recipes) that every target links; a target that includes a source
# file to reach its static parsers (fuzz_dns) overrides that file's symbols.
# The CLI's sources (tools/, less main() in tools/zkc.c) make a third
# archive, for fuzz_cli.
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${ZKC_FUZZ_SECONDS:-30}
# ZKC_FUZZ_TARGETS="fuzz_cli fuzz_url": only those (default: every target)
ONLY=${ZKC_FUZZ_TARGETS:-}
OUT=${ZKC_FUZZ_DIR:-build-fuzz}
CFLAGS="-g -O1 -std=gnu11 -DTHREADED -D_GNU_SOURCE -Iinclude -Isrc -Irecipes"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
LIBS="-lzookeeper_mt -lcurl -ljansson -lyaml -lssl -lcrypto -lresolv -lpthread"
mkdir -p "$OUT/obj"
status=0

# archive DIR NAME [SKIP]: compiles DIR/*.c but SKIP (when newer than the
# object) into $OUT/libNAME.a
archive() {
	local dir=$1 name=$2 skip=${3:-} objs=() src obj
	for src in "$dir"/*.c; do
		[ "$(basename "$src")" = "$skip" ] && continue
		obj="$OUT/obj/${name}_$(basename "$src" .c).o"
		if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$dir" include -name '*.h' -newer "$obj" -print -quit)" ]; then
			# shellcheck disable=SC2086
			clang $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj" 2>>"$OUT/build.log" ||
				{ echo "fuzz: cannot compile $src (log: $OUT/build.log)"; return 1; }
		fi
		objs+=("$obj")
	done
	rm -f "$OUT/lib$name.a"
	ar rcs "$OUT/lib$name.a" "${objs[@]}"
}

: >"$OUT/build.log"
if ! archive src core || ! archive recipes recipes || ! archive tools cli zkc.c; then
	tail -n 30 "$OUT/build.log"
	echo "fuzz: library build FAILED"
	exit 1
fi

for target in tests/fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	case " $ONLY " in "  "|*" $name "*) ;; *) continue ;; esac
	corpus="tests/fuzz/corpus_${name#fuzz_}"
	# shellcheck disable=SC2086
	if ! clang $CFLAGS $SAN -fsanitize=fuzzer -Itools "$target" "$OUT/libcli.a" "$OUT/librecipes.a" "$OUT/libcore.a" \
		$LIBS -o "$OUT/$name" 2>"$OUT/$name.build.log"; then
		cat "$OUT/$name.build.log"
		echo "fuzz: $name: build failed"
		status=1
		continue
	fi
	work="$OUT/corpus_${name#fuzz_}"
	mkdir -p "$work"
	if "$OUT/$name" -artifact_prefix="$OUT/" -max_total_time="$SECS" -max_len=4096 -timeout=10 "$work" "$corpus" \
		>"$OUT/$name.log" 2>&1; then
		echo "fuzz: $name: ok ($(grep -c . <(ls "$work")) corpus entries, ${SECS}s)"
	else
		tail -n 40 "$OUT/$name.log"
		echo "fuzz: $name: FAILED (log: $OUT/$name.log)"
		status=1
	fi
done
exit $status

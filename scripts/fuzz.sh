#!/usr/bin/env bash
# scripts/fuzz.sh - builds the libFuzzer targets in tests/fuzz with clang
# (ASan + UBSan) and runs each for ZKC_FUZZ_SECONDS (default 30) from its
# seed corpus. Exit 0 when no target found a problem.
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${ZKC_FUZZ_SECONDS:-30}
OUT=${ZKC_FUZZ_DIR:-build-fuzz}
mkdir -p "$OUT"
CORE="src/url.c src/path.c src/retry.c src/util.c src/error.c src/log.c"
status=0
for target in tests/fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	corpus="tests/fuzz/corpus_${name#fuzz_}"
	# targets beyond the URL parsers name their extra sources and libraries
	case "$name" in
	fuzz_k8s) extra="src/k8s_json.c src/k8s_config.c -ljansson -lyaml -lcrypto" ;;
	*) extra="" ;;
	esac
	if ! clang -g -O1 -std=gnu11 -DTHREADED -D_GNU_SOURCE -Iinclude -Isrc \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		"$target" $CORE $extra -lzookeeper_mt -lpthread -o "$OUT/$name" 2>"$OUT/$name.build.log"; then
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

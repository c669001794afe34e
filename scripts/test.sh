#!/usr/bin/env bash
# scripts/test.sh - the one command that builds zkc and runs its whole test
# suite on a fresh Debian machine: plain build, sanitizer build, valgrind,
# ThreadSanitizer over the threaded tests, fuzzing, the chaos suite, and the
# Python and Go bindings.
#
# Environment:
#   ZKC_TEST_PHASES   phases to run, in order (default "plain asan tsan valgrind fuzz chaos python go demo")
#   ZKC_FUZZ_SECONDS  how long each fuzz target runs (default 30)
#   ZKC_CHAOS_SECONDS / ZKC_CHAOS_SEED  the chaos phase's clean run (100 s, seed 1)
#   ZKC_VALGRIND_TESTS  test programs for the valgrind phase (paths relative
#                     to the build dir; default: $VALGRIND_TESTS below)
#   ZKC_TSAN_TESTS    the same for the tsan phase (default: $TSAN_TESTS below)
#   ZKC_CONFIGURE_FLAGS extra flags for every configure
#   ZKC_PYTHON_WHEEL=0  python phase: skip the self-contained wheel check
#   ZKC_SKIP_DEPS=1   do not run scripts/setup-deps.sh
#   ZKC_SKIP_K8S_BUILD=1  do not run tests/k8s/build.sh (the k8s tests then
#                     fail unless its binaries are already in its cache)
#
# Output: make's own output per phase (with automake's "Testsuite summary"),
# then, as the LAST line, "N passed, N failed[, N skipped]" summed over all
# phases from the .trs files (one result per TAP test case). Exit status 0
# only if nothing failed and at least one test ran.
set -uo pipefail

# Test programs run under valgrind memcheck (kept short: valgrind is slow
# and the JVMs the tests start run outside it). The lead maintains this.
VALGRIND_TESTS="tests/integration/test_proxy tests/integration/test_ensemble tests/integration/test_client tests/integration/test_batch tests/unit/test_url tests/unit/test_k8s_parse tests/unit/test_k8s_config tests/unit/test_index_key tests/unit/test_service_hash"

# Test programs run in the ThreadSanitizer build (build-tsan/): the ones
# whose threads meet (client and its event queue, cache, lock, queue, and
# 10,000 clients opened and closed by four threads). Measured warm: 79 s
# here, 50 results, on the shared 2-core machine (the phase prints its time).
TSAN_TESTS="tests/integration/test_client tests/integration/test_cache tests/integration/test_lock tests/integration/test_queue tests/integration/test_open_close"

# ThreadSanitizer suppressions, each with the reason beside it.
TSAN_SUPP="scripts/tsan.supp"

# LeakSanitizer suppressions, used only when the file has entries. Today it
# has none: the ASan phase found no leak in libzookeeper_mt worth hiding.
LSAN_SUPP="scripts/lsan.supp"

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
PHASES=${ZKC_TEST_PHASES:-plain asan tsan valgrind fuzz chaos python go demo}
JOBS=-j2

passed=0
failed=0
skipped=0
ran_phase=0

say() { printf '%s\n' "$*"; }
phase_header() { say ""; say "======== phase: $1 ========"; }

# A step that fails before any test could run counts as one failed result,
# so a broken build can never look like a green run.
step_failed() {
	say "test.sh: $1"
	failed=$((failed + 1))
}

# Adds up the .trs files written since the stamp (this phase's results).
count_results() {
	local dir=$1 stamp=$2 p=0 f=0 s=0 trs result
	while IFS= read -r -d '' trs; do
		while IFS= read -r result; do
			case "$result" in
			PASS|XFAIL) p=$((p + 1)) ;;
			SKIP) s=$((s + 1)) ;;
			*) f=$((f + 1)) ;;      # FAIL, XPASS, ERROR
			esac
		done < <(sed -n 's/^:test-result: *\([A-Z]*\).*/\1/p' "$trs")
	done < <(find "$dir" -name '*.trs' -newer "$stamp" -print0)
	say "phase $3: $p passed, $f failed, $s skipped"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

ensure_configure() {
	local need=0 f
	if [ ! -x configure ] || [ ! -f build-aux/tap-driver.sh ]; then
		need=1
	else
		for f in configure.ac Makefile.am; do
			[ "$f" -nt configure ] && need=1
		done
	fi
	if [ "$need" = 1 ]; then
		say "test.sh: autoreconf -fi"
		if ! autoreconf -fi >autoreconf.log 2>&1; then
			cat autoreconf.log
			return 1
		fi
		rm -f autoreconf.log
	fi
	return 0
}

# configure (once) and build into $1 with extra configure flags $2.
build_in() {
	local dir=$1 flags=$2 log
	mkdir -p "$dir" || return 1
	log="$dir/build.log"
	if [ ! -f "$dir/Makefile" ]; then
		# shellcheck disable=SC2086
		if ! (cd "$dir" && "$ROOT/configure" $flags ${ZKC_CONFIGURE_FLAGS:-}) \
			>"$log" 2>&1; then
			tail -n 40 "$log"
			say "test.sh: configure failed in $dir (full log: $dir/build.log)"
			return 1
		fi
	fi
	if ! make -C "$dir" $JOBS >>"$log" 2>&1; then
		grep -E 'error|Error' "$log" | tail -n 30
		say "test.sh: build failed in $dir (full log: $dir/build.log)"
		return 1
	fi
	return 0
}

# make check in $1 with the given extra make arguments; prints make's
# output (automake's summary included) and, on failure, the failing logs.
check_in() {
	local dir=$1 name=$2 stamp rc
	shift 2
	stamp="$dir/.phase-$name.stamp"
	touch "$stamp"
	sleep 1   # .trs files must be strictly newer than the stamp
	make -C "$dir" $JOBS check "$@" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ -f "$dir/test-suite.log" ]; then
		say "---- $dir/test-suite.log ----"
		cat "$dir/test-suite.log"
	fi
	count_results "$dir" "$stamp" "$name"
	return 0
}

phase_plain() {
	build_in build "" || { step_failed "plain: build failed"; return; }
	check_in build plain
}

# kube-apiserver, kubectl, helm for the k8s tests (tests/k8s/build.sh), once
# before the phases that run them. Cold, it compiles Kubernetes (about 22
# minutes here on 2 shared cores, see tests/k8s/README.md); warm, it checks
# its stamps and runs no go command (under a second).
k8s_build() {
	local t0=$SECONDS
	say ""
	say "======== tests/k8s/build.sh ========"
	if tests/k8s/build.sh 2>&1; then
		say "test.sh: tests/k8s/build.sh took $((SECONDS - t0))s"
	else
		step_failed "tests/k8s/build.sh FAILED after $((SECONDS - t0))s: the k8s tests cannot run"
	fi
}

phase_asan() {
	local supp=""
	build_in build-asan "--enable-sanitizers" ||
		{ step_failed "asan: build failed"; return; }
	if [ -s "$LSAN_SUPP" ] && grep -q '^leak:' "$LSAN_SUPP"; then
		supp="suppressions=$ROOT/$LSAN_SUPP:print_suppressions=0"
	fi
	ASAN_OPTIONS="detect_leaks=1" \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
	LSAN_OPTIONS="$supp" \
		check_in build-asan asan
}

# The threaded tests in a ThreadSanitizer build. A report makes the test
# program exit 66 after it ran (halt_on_error=0), so its TAP result fails.
# Only the named programs are built (make check would build every test).
phase_tsan() {
	local list=${ZKC_TSAN_TESTS:-$TSAN_TESTS} t0=$SECONDS t
	build_in build-tsan "--enable-tsan" ||
		{ step_failed "tsan: build failed"; return; }
	for t in $list; do
		make -C build-tsan $JOBS "$t" >>build-tsan/build.log 2>&1 ||
			{ step_failed "tsan: cannot build $t"; return; }
	done
	TSAN_OPTIONS="suppressions=$ROOT/$TSAN_SUPP:halt_on_error=0:exitcode=66:second_deadlock_stack=1" \
		check_in build-tsan tsan TESTS="$list" check_PROGRAMS= check_LTLIBRARIES=
	say "test.sh: tsan phase took $((SECONDS - t0))s"
}

phase_valgrind() {
	local list=${ZKC_VALGRIND_TESTS:-$VALGRIND_TESTS} present="" t vg
	if ! command -v valgrind >/dev/null; then
		step_failed "valgrind: valgrind is not installed"
		return
	fi
	build_in build "" || { step_failed "valgrind: build failed"; return; }
	for t in $list; do
		if make -C build "$t" >>build/build.log 2>&1; then
			present="$present $t"
		else
			step_failed "valgrind: cannot build $t"
		fi
	done
	if [ -z "$present" ]; then
		say "test.sh: no test programs for valgrind"
		return
	fi
	# libtool --mode=execute runs valgrind on the real binary, not on a
	# libtool wrapper script; exit 97 marks a memcheck error
	vg="$ROOT/build/libtool --mode=execute valgrind --quiet \
--leak-check=full --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --error-exitcode=97 \
--child-silent-after-fork=yes"
	ZKC_TEST_TIMEOUT_SCALE=${ZKC_TEST_TIMEOUT_SCALE:-4} \
		check_in build valgrind TESTS="${present# }" LOG_COMPILER="$vg"
}

# Each libFuzzer target (scripts/fuzz.sh) counts as one result.
phase_fuzz() {
	local line
	while IFS= read -r line; do
		say "$line"
		case "$line" in
		"fuzz: "*": ok"*) passed=$((passed + 1)) ;;
		"fuzz: "*"FAILED"*|"fuzz: "*"failed"*) failed=$((failed + 1)) ;;
		esac
	done < <(ZKC_FUZZ_SECONDS=${ZKC_FUZZ_SECONDS:-30} scripts/fuzz.sh 2>&1 | grep -E '^fuzz: |ERROR|SUMMARY')
}

# The chaos suite (tests/chaos/run, docs/chaos.md), three results: the
# checker's own tests (small histories with known answers), a short seeded
# run under the default fault kinds that must end with "0 violations", and
# a run of the workers built with the deliberate lock and counter defects,
# which passes only if the checkers catch both.
phase_chaos() {
	local t0 out
	build_in build "" || { step_failed "chaos: build failed"; return; }
	if (cd tests/chaos/checker && GOFLAGS="-mod=mod -buildvcs=false" go test -count=1 .); then
		passed=$((passed + 1))
	else
		step_failed "chaos: the checker's tests failed"
	fi
	t0=$SECONDS
	out=$(tests/chaos/run --seconds "${ZKC_CHAOS_SECONDS:-100}" --seed "${ZKC_CHAOS_SEED:-1}" 2>&1)
	if [ $? -eq 0 ]; then
		say "$out"
		say "chaos: clean run passed in $((SECONDS - t0))s"
		passed=$((passed + 1))
	else
		say "$out"
		step_failed "chaos: the clean run found violations or failed ($((SECONDS - t0))s)"
	fi
	t0=$SECONDS
	out=$(tests/chaos/run --broken --seconds 40 --seed "${ZKC_CHAOS_SEED:-1}" 2>&1)
	if [ $? -eq 0 ]; then
		say "$(printf '%s\n' "$out" | grep -E '^(expected|[0-9]+ violations)')"
		say "chaos: the broken lock and counter were caught in $((SECONDS - t0))s"
		passed=$((passed + 1))
	else
		say "$out"
		step_failed "chaos: the broken build's violations were NOT all found"
	fi
}

# The Python binding from a clean clone of HEAD: a venv under build/ (pip,
# pytest and mypy from PyPI), `pip install` of the clone's bindings/python
# (SWIG from PyPI as its build requirement) against this tree's libzkc,
# mypy over the package and its stubs (--strict) and over its tests, then
# pytest with a JUnit report whose counts join the summary. pytest finding no test counts as a failure.
phase_python() {
	local dir="$ROOT/build/python-phase" venv clone junit rc t f e s line
	build_in build "" || { step_failed "python: build failed"; return; }
	venv="$dir/venv"
	clone="$dir/clone"
	junit="$dir/pytest.xml"
	rm -rf "$clone" "$junit"
	mkdir -p "$dir"
	if [ ! -x "$venv/bin/python" ]; then
		python3 -m venv "$venv" || { step_failed "python: cannot make a venv"; return; }
	fi
	"$venv/bin/pip" install -q --upgrade pip pytest mypy >"$dir/pip.log" 2>&1 ||
		{ tail -n 20 "$dir/pip.log"; step_failed "python: pip install pytest mypy failed"; return; }
	git clone -q --no-hardlinks "$ROOT" "$clone" ||
		{ step_failed "python: git clone failed"; return; }
	if ! ZKC_CFLAGS="-I$clone/include" ZKC_LIBS="-L$ROOT/build/.libs -lzkc" \
		ZKC_RPATH="$ROOT/build/.libs" \
		"$venv/bin/pip" install -q --force-reinstall "$clone/bindings/python" \
		>>"$dir/pip.log" 2>&1; then
		tail -n 30 "$dir/pip.log"
		step_failed "python: pip install ./bindings/python failed (log: $dir/pip.log)"
		return
	fi
	(cd "$dir" && "$venv/bin/python" -c 'import zkc; print("python: zkc", zkc.__version__, "on libzkc", zkc.core_version)') ||
		{ step_failed "python: import zkc failed"; return; }
	if (cd "$clone/bindings/python" &&
		"$venv/bin/mypy" --strict zkc ../../examples/python ../../examples/demo); then
		passed=$((passed + 1))
	else
		step_failed "python: mypy found type errors"
	fi
	# the tests too, not --strict: there it rejects the checks that a
	# client's state changed after close() (it keeps the state it narrowed
	# before the call)
	if (cd "$clone/bindings/python" && "$venv/bin/mypy" tests); then
		passed=$((passed + 1))
	else
		step_failed "python: mypy found type errors in bindings/python/tests"
	fi
	(cd "$clone/bindings/python/tests" && ZKC_CLI="$ROOT/build/zkc" \
		timeout 600 "$venv/bin/python" -m pytest -q -p no:cacheprovider --junitxml="$junit")
	rc=$?
	if [ ! -s "$junit" ]; then
		step_failed "python: pytest wrote no report (exit $rc)"
		return
	fi
	line=$(sed -n 's/.*<testsuite \([^>]*\)>.*/\1/p' "$junit" | head -n 1)
	t=$(printf '%s' "$line" | sed -n 's/.* tests="\([0-9]*\)".*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* failures="\([0-9]*\)".*/\1/p')
	e=$(printf '%s' "$line" | sed -n 's/.* errors="\([0-9]*\)".*/\1/p')
	s=$(printf '%s' "$line" | sed -n 's/.* skipped="\([0-9]*\)".*/\1/p')
	t=${t:-0} f=${f:-0} e=${e:-0} s=${s:-0}
	say "phase python: $((t - f - e - s)) passed, $((f + e)) failed, $s skipped (pytest exit $rc)"
	passed=$((passed + t - f - e - s))
	failed=$((failed + f + e))
	skipped=$((skipped + s))
	if [ "$rc" -eq 5 ] || [ "$t" -eq 0 ]; then
		step_failed "python: pytest collected no tests"
	elif [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
		step_failed "python: pytest exited $rc"
	fi
	# the self-contained wheel (auditwheel), installed where no libzkc is
	# on the library path
	if [ "${ZKC_PYTHON_WHEEL:-1}" != 0 ]; then
		if ZKC_CFLAGS="-I$clone/include" ZKC_LIBS="-L$ROOT/build/.libs -lzkc" \
			ZKC_CLI="$ROOT/build/zkc" timeout 600 \
			"$clone/bindings/python/scripts/wheel.sh" "$dir/wheel" >"$dir/wheel.log" 2>&1; then
			say "$(grep '^wheel.sh: ' "$dir/wheel.log")"
			passed=$((passed + 1))
		else
			tail -n 30 "$dir/wheel.log"
			step_failed "python: the self-contained wheel failed (log: $dir/wheel.log)"
		fi
	fi
}

# The Go binding against this tree's libzkc (bindings/go/check.sh: the
# generated capi is current, gofmt over every Go file of the project,
# go vet, staticcheck, go test -race); each
# check and each top-level Go test counts as one result.
phase_go() {
	local line p=0 f=0
	build_in build "" || { step_failed "go: build failed"; return; }
	while IFS= read -r line; do
		say "$line"
		case "$line" in
		"go-result: PASS "*) p=$((p + 1)) ;;
		"go-result: FAIL "*) f=$((f + 1)) ;;
		esac
	done < <(bindings/go/check.sh build 2>&1)
	say "phase go: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
	[ $((p + f)) -gt 0 ] || step_failed "go: no result"
}

# The README's demo (scripts/demo.sh) in its short version, on this tree's
# build: a run whose summary must show nothing lost (exit 0) although a
# Python worker also dies between recording a result and counting it
# (--crash-mid-step: another worker must count it), and a run in which a
# worker drops a job (--break), whose summary must fail (exit 1, the lost
# job named). Each counts as one result.
phase_demo() {
	local log="$ROOT/build/demo-phase.log" rc
	build_in build "" || { step_failed "demo: build failed"; return; }
	ZKC_SKIP_DEPS=1 timeout 600 scripts/demo.sh --short --plain --crash-mid-step >"$log" 2>&1
	rc=$?
	sed -n '/^summary$/,$p' "$log"
	if [ "$rc" -eq 0 ] && grep -q '^nothing was lost$' "$log"; then
		say "demo: ok (short run, nothing lost)"
		passed=$((passed + 1))
	else
		tail -n 40 "$log"
		step_failed "demo: the short run FAILED (exit $rc; log: $log)"
	fi
	ZKC_SKIP_DEPS=1 timeout 600 scripts/demo.sh --short --plain --break >"$log.break" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q 'FAIL  jobs done = jobs queued.*missing job-' "$log.break"; then
		say "demo: ok (--break: a dropped job fails the summary)"
		passed=$((passed + 1))
	else
		tail -n 40 "$log.break"
		step_failed "demo: --break did not fail the summary as it must (exit $rc; log: $log.break)"
	fi
}

if [ "${ZKC_SKIP_DEPS:-0}" != 1 ]; then
	scripts/setup-deps.sh || step_failed "setup-deps.sh failed"
fi
if ! ensure_configure; then
	step_failed "autoreconf failed"
	PHASES=""
fi

case " $PHASES " in
*" plain "*|*" asan "*)
	[ "${ZKC_SKIP_K8S_BUILD:-0}" = 1 ] || k8s_build
	;;
esac

for phase in $PHASES; do
	case "$phase" in
	plain|asan|tsan|valgrind|fuzz|chaos|python|go|demo)
		phase_header "$phase"
		"phase_$phase"
		ran_phase=1
		;;
	*)
		step_failed "unknown phase '$phase' (use: plain asan tsan valgrind fuzz chaos python go demo)"
		;;
	esac
done

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
say ""
if [ "$failed" -eq 0 ] && [ "$passed" -eq 0 ]; then
	say "test.sh: no test ran (phases: ${PHASES:-none})"
	say "$summary"
	exit 1
fi
say "$summary"
[ "$failed" -eq 0 ] && [ "$ran_phase" -eq 1 ]

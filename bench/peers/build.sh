# bench/peers/build.sh - sourced by bench/peers/run and bench/scale/run:
# builds the peers' programs and sets $venv (kazoo, matplotlib), the
# go-zookeeper program $build/peers-gozk, zkc's Go binding's
# $build/peers-zkcgo and $curator_cp. Needs
# $peers_dir (bench/peers), $build and log().

# kazoo and matplotlib in the bench's own venv
venv=$build/peers-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import kazoo, matplotlib' 2>/dev/null; then
	log "venv with kazoo and matplotlib in $venv (PyPI)"
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check -r "$peers_dir/requirements.txt"
fi

# go-zookeeper (Go module proxy)
export PATH=$PATH:/usr/local/go/bin
log "go build of bench/peers/gozk"
(cd "$peers_dir/gozk" && GOFLAGS=-mod=mod go build -o "$build/peers-gozk" .)

# zkc's Go binding against this build's libzkc (a pkg-config file for the
# build tree, as bindings/go/check.sh makes)
log "go build of bench/peers/zkcgo"
mkdir -p "$build/go-pkgconfig"
printf 'Name: zkc\nDescription: zkc build tree\nVersion: 0.1.0\nLibs: -L%s/.libs -lzkc\nCflags: -I%s/include\n' \
	"$build" "$peers_dir/../../" >"$build/go-pkgconfig/zkc.pc"
(cd "$peers_dir/zkcgo" && PKG_CONFIG_PATH="$build/go-pkgconfig" CGO_ENABLED=1 GOFLAGS=-mod=mod \
	go build -o "$build/peers-zkcgo" .)

# Curator (Maven Central)
log "mvn package of bench/peers/curator"
if ! (cd "$peers_dir/curator" && mvn -q -B package -DskipTests &&
	mvn -q -B dependency:build-classpath -Dmdep.outputFile="$build/peers-curator.cp") \
	>"$build/peers-mvn.log" 2>&1; then
	cat "$build/peers-mvn.log" >&2
	echo "bench: the Curator program did not build (log above)" >&2
	exit 1
fi
curator_cp="$peers_dir/curator/target/classes:$(cat "$build/peers-curator.cp")"


# bench/peers/build.sh - sourced by bench/peers/run and bench/scale/run:
# builds the programs of the clients named in $peers (default: every one)
# and sets $venv (kazoo, matplotlib: always, report.py plots with it), and
# as needed the go-zookeeper program $build/peers-gozk, zkc's Go binding's
# $build/peers-zkcgo and $curator_cp. Needs $peers_dir (bench/peers),
# $build and log().

peers=${peers:-zkc zkcgo zkcpy curator kazoo gozk}
for p in $peers; do
	case "$p" in
	zkc|zkcgo|zkcpy|curator|kazoo|gozk) ;;
	*)
		echo "bench: unknown client '$p' in ZKC_PEERS (names: zkc zkcgo zkcpy curator kazoo gozk)" >&2
		exit 2
		;;
	esac
done
wants() { case " $peers " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# kazoo and matplotlib in the bench's own venv (also zkcpy's and the
# report's, so whatever the clients)
venv=$build/peers-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import kazoo, matplotlib' 2>/dev/null; then
	log "venv with kazoo and matplotlib in $venv (PyPI)"
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check -r "$peers_dir/requirements.txt"
fi

export PATH=$PATH:/usr/local/go/bin

# go-zookeeper (Go module proxy)
if wants gozk; then
	log "go build of bench/peers/gozk"
	(cd "$peers_dir/gozk" && GOFLAGS=-mod=mod go build -o "$build/peers-gozk" .)
fi

# zkc's Go binding against this build's libzkc (a pkg-config file for the
# build tree, as bindings/go/check.sh makes)
if wants zkcgo; then
	log "go build of bench/peers/zkcgo"
	mkdir -p "$build/go-pkgconfig"
	printf 'Name: zkc\nDescription: zkc build tree\nVersion: 0.1.0\nLibs: -L%s/.libs -lzkc\nCflags: -I%s/include\n' \
		"$build" "$peers_dir/../../" >"$build/go-pkgconfig/zkc.pc"
	(cd "$peers_dir/zkcgo" && PKG_CONFIG_PATH="$build/go-pkgconfig" CGO_ENABLED=1 GOFLAGS=-mod=mod \
		go build -o "$build/peers-zkcgo" .)
fi

# Curator (Maven Central)
curator_cp=""
if wants curator; then
	log "mvn package of bench/peers/curator"
	if ! (cd "$peers_dir/curator" && mvn -q -B package -DskipTests &&
		mvn -q -B dependency:build-classpath -Dmdep.outputFile="$build/peers-curator.cp") \
		>"$build/peers-mvn.log" 2>&1; then
		cat "$build/peers-mvn.log" >&2
		echo "bench: the Curator program did not build (log above)" >&2
		exit 1
	fi
	curator_cp="$peers_dir/curator/target/classes:$(cat "$build/peers-curator.cp")"
fi

#!/bin/sh
# scripts/gen-man.sh ZKC VERSION - writes the zkc(1) man page on stdout from
# the program's own help (`zkc --help` and `zkc COMMAND --help` of every
# command it lists), so that the page says what the program does. Run by
# the build (Makefile.am: zkc.1), installed by `make install`.
set -eu
zkc=$1
version=$2

# Help text as roff: backslashes escaped, no line starting with . or '.
roff() {
	sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

commands=$("$zkc" --help | awk '
	/^commands/ { on = 1; next }
	on && /^  [a-z]/ { print $1; next }
	on && /^$/ { exit }')

cat <<HEAD
.TH ZKC 1 "" "zkc $version" "User Commands"
.SH NAME
zkc \\- ZooKeeper from the shell: nodes, watches, recipes, subtrees, local ensembles
.SH SYNOPSIS
.B zkc
[\\fB\\-\\-url\\fR \\fIURL\\fR] [\\fB\\-\\-json\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR] [\\fB\\-\\-\\fR \\fIARGS\\fR]
.br
.B zkc
\\fICOMMAND\\fR \\fB\\-\\-help\\fR
.SH DESCRIPTION
HEAD
echo ".nf"
"$zkc" --help | awk '/^commands/ { exit } { print }' | roff
echo ".fi"
echo ".SH COMMANDS"
for c in $commands; do
	echo ".SS $c"
	echo ".nf"
	"$zkc" "$c" --help | roff
	echo ".fi"
done
echo ".SH EXIT STATUS"
echo ".nf"
"$zkc" --help | awk '/^exit status/ { on = 1; next } on { print }' | roff
echo ".fi"
cat <<'TAIL'
.SH ENVIRONMENT
.TP
.B ZKC_URL
the connection URL when \fB\-\-url\fR is not given
.TP
.B ZKC_ENSEMBLE_DIR
the default \fB\-\-dir\fR of \fBzkc ensemble\fR
.SH FILES
Bash completion: \fIshare/bash-completion/completions/zkc\fR under the installation prefix.
.SH SEE ALSO
docs/cli.md, docs/operators.md and docs/getting-started.md in the zkc sources.
TAIL

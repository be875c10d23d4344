#!/bin/sh
# check_exports.sh LIBRARY PREFIX VERSION HEADER...
# Fails when the shared LIBRARY exports a symbol whose name does not start
# with PREFIX (or is internal: PREFIX followed by '_'), one not tagged with
# the version node VERSION, or lacks a function a HEADER declares with XA_API.
set -eu
lib=$1 prefix=$2 version=$3
shift 3
[ -r "$lib" ] || { echo "check_exports: cannot read $lib" >&2; exit 1; }

# "NAME@@VERSION" per defined dynamic symbol; the version node itself is an
# absolute symbol named VERSION.
syms=$(nm -D --defined-only --with-symbol-versions "$lib" | awk '$3 != "" {print $3}')
[ -n "$syms" ] || { echo "check_exports: $lib exports nothing" >&2; exit 1; }

bad=0
for s in $syms; do
    name=${s%%@*}
    ver=${s#"$name"}
    ver=${ver#@}
    ver=${ver#@}
    [ "$name" = "$version" ] && continue
    case $name in
        "${prefix}_"*) echo "$lib: internal symbol exported: $name" >&2; bad=1; continue ;;
        "$prefix"*) ;;
        *) echo "$lib: symbol outside the API ($prefix*): $name" >&2; bad=1; continue ;;
    esac
    if [ "$ver" != "$version" ]; then
        echo "$lib: $name has version '$ver', not $version" >&2; bad=1
    fi
done

# Every function the headers declare is exported.
for h in "$@"; do
    for fn in $(grep '^XA_API' "$h" | grep -o '[A-Za-z0-9_]*(' | tr -d '(' | grep "^$prefix"); do
        if ! printf '%s\n' "$syms" | grep -Eq "^$fn(@|$)"; then
            echo "$lib: $fn is declared in $h but not exported" >&2; bad=1
        fi
    done
done
exit $bad

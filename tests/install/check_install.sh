#!/bin/sh
# check_install.sh BUILD_DIR SRC_DIR - installs into a scratch DESTDIR, then builds
# consumer.c with `pkg-config --cflags --libs localai` and runs it against the installed
# shared library, and also links it statically (`pkg-config --static`).
set -eu
build="$1"; src="$2"
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
pc=$(find "$dest" -name localai.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL: localai.pc was not installed"; exit 1; }
for f in localai.h liblocalai.so liblocalai.so.0 liblocalai.a; do
    [ -n "$(find "$dest" -name "$f" | head -n 1)" ] || { echo "FAIL: $f was not installed"; exit 1; }
done
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$dest"
cflags=$(pkg-config --cflags localai)
libs=$(pkg-config --libs localai)
libdir=$(dirname "$(find "$dest" -name liblocalai.so.0 | head -n 1)")
cc -std=c99 -Wall -Werror $cflags "$src/tests/install/consumer.c" -o "$dest/consumer" $libs
LD_LIBRARY_PATH="$libdir" "$dest/consumer"
# The program must have picked up the installed library, not one from the build tree.
LD_LIBRARY_PATH="$libdir" ldd "$dest/consumer" | grep -q "$libdir/liblocalai.so.0" ||
    { echo "FAIL: consumer did not load the installed liblocalai.so.0"; exit 1; }
static_libs=$(pkg-config --static --libs localai)
cc -std=c99 -Wall -Werror $cflags "$src/tests/install/consumer.c" -o "$dest/consumer_static" \
    -Wl,-Bstatic -llocalai -Wl,-Bdynamic $(echo "$static_libs" | sed 's/-llocalai//') -L"$libdir"
"$dest/consumer_static"
echo "ok: installed header, libraries and localai.pc work"

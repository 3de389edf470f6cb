#!/bin/sh
# binkind.sh - what the 'logtriage' on PATH is, for cases that scale
# their input or a memory limit to it: "release" (a plain binary),
# "asan" (linked with AddressSanitizer: it reserves terabytes of
# address space, so ulimit -v cannot bound it), or "wrapper" (a script,
# such as the valgrind one of 'make check-full': some 50 times slower).
bin=$(readlink -f "$(command -v logtriage)")
if [ "$(head -c 2 "$bin")" = "#!" ]; then
	echo wrapper
elif ldd "$bin" 2>/dev/null | grep -q libasan; then
	echo asan
else
	echo release
fi

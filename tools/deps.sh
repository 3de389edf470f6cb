#!/bin/sh
# deps.sh [extra-package...] - make sure the Debian packages logtriage needs
# to build and test are installed: install the missing ones with apt-get
# when running as root, else print the exact command and fail.
set -eu
need=""
add() { need="$need $1"; }

command -v pkg-config >/dev/null 2>&1 || add pkg-config
for m in libpcre2-8:libpcre2-dev zlib:zlib1g-dev sqlite3:libsqlite3-dev \
	 jansson:libjansson-dev; do
	if ! command -v pkg-config >/dev/null 2>&1 ||
	   ! pkg-config --exists "${m%%:*}" 2>/dev/null; then
		add "${m#*:}"
	fi
done
# ISA-L inflates gzip; Debian builds it for amd64 (elsewhere zlib does)
if [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] &&
   { ! command -v pkg-config >/dev/null 2>&1 ||
     ! pkg-config --exists libisal 2>/dev/null; }; then
	add libisal-dev
fi
command -v sqlite3 >/dev/null 2>&1 || add sqlite3
command -v gnuplot >/dev/null 2>&1 || add gnuplot-nox
command -v gzip >/dev/null 2>&1 || add gzip
# the tests render the man pages
command -v man >/dev/null 2>&1 || add man-db
command -v groff >/dev/null 2>&1 || add groff-base
# the browser test renders the HTML reports (tests/browser/run.sh)
command -v chromium >/dev/null 2>&1 || add chromium
for p in "$@"; do
	dpkg -s "$p" >/dev/null 2>&1 || add "$p"
done

if [ -z "$need" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$need" >&2
	echo "deps: run: sudo apt-get install -y --no-install-recommends$need" >&2
	exit 1
fi
echo "deps: installing:$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
echo "deps: installed:$need"

#!/bin/sh
# check_exports.sh LIB - the shared library exports only localai_* symbols, has soname
# liblocalai.so.0, and imports no socket or DNS functions.
set -u
lib="$1"
fail=0
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
if [ "$soname" != "liblocalai.so.0" ]; then
    echo "FAIL: soname is '$soname', expected liblocalai.so.0"; fail=1
fi
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | sed 's/@.*//' | grep -v '^localai_' || true)
if [ -n "$bad" ]; then
    echo "FAIL: exported symbols outside localai_*:"; echo "$bad" | head -20; fail=1
fi
count=$(nm -D --defined-only "$lib" | awk '$2 == "T"' | wc -l)
if [ "$count" -lt 10 ]; then
    echo "FAIL: only $count exported functions"; fail=1
fi
net=$(nm -D --undefined-only "$lib" | awk '{print $2}' | sed 's/@.*//' |
      grep -Ex 'socket|connect|bind|listen|accept|accept4|getaddrinfo|gethostbyname|gethostbyname_r|gethostbyaddr|send|sendto|sendmsg|recv|recvfrom|recvmsg|curl_.*' || true)
if [ -n "$net" ]; then
    echo "FAIL: network functions imported:"; echo "$net"; fail=1
fi
[ $fail -eq 0 ] && echo "ok: soname $soname, $count exported functions, all localai_*, no network imports"
exit $fail

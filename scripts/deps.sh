#!/usr/bin/env bash
# The one list of Debian packages slotcache needs to build, test, benchmark and
# run locally. `make deps` (a prerequisite of `make`, `make test`, `make up`)
# calls this; it installs only what is missing, so it is quick when all is
# present. Why each package is here: README.md, "Dependencies".
set -euo pipefail

PACKAGES=(
    # build
    gcc make pkg-config clang libclang-rt-14-dev
    libev-dev libjemalloc-dev libhiredis-dev libpq-dev libssl-dev
    libprotobuf-c-dev protobuf-c-compiler libxxhash-dev
    # database, for the loader, tests and `make up`
    postgresql postgresql-contrib
    # real clients and benchmark anchors
    redis-server redis-tools nutcracker
    python3-redis python3-pytest python3-psycopg2 python3-yaml
    # the Node.js clients of the compatibility matrix (make compat-npm)
    nodejs npm
    # the test suite's throwaway CA and certificates
    openssl
    # charts, compose-file validation
    gnuplot-nox docker-compose
    # make test-valgrind
    valgrind
)

# A package counts as present when installed or provided by an installed
# one: NodeSource's nodejs provides (and conflicts with) Debian's npm.
provided=" $(dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null |
    sed -nE 's/^ii +//p' | tr ',' '\n' | sed -E 's/\(.*\)//' | tr -s ' \n' ' ') "
missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' &&
        [[ "$provided" != *" $p "* ]]; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run 'sudo scripts/deps.sh' (or make as root) to install them" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's redis-server and postgresql packages try to start system services;
# tests start their own on free ports, so keep the packaged ones down.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

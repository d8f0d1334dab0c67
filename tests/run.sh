#!/usr/bin/env bash
# Runs the whole test suite: installs the Debian packages the integration tests drive
# (radclient from freeradius-utils; slapd and ldap-utils for directory tests) when they
# are missing, then runs every test with the committed lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v radclient >/dev/null 2>&1 || need+=(freeradius-utils)
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
if [ ${#need[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Benches are measured with `cargo bench`, not run as tests.
cargo test --locked --lib --bins --tests "$@"

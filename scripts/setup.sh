#!/usr/bin/env bash
# Installs, with apt-get, exactly the Debian 12 packages this project needs that are
# missing: build tools and libraries, plus redis-server and postgresql for the tests
# and the demo. Does nothing when everything is present. Idempotent; run as root
# (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libboost-dev libboost-program-options-dev
  libyaml-cpp-dev libpqxx-dev libhiredis-dev libcurl4-openssl-dev
  libspdlog-dev doctest-dev libssl-dev nlohmann-json3-dev
  redis-server postgresql postgresql-contrib
  python3-jsonschema python3-yaml
  python3-lxml
  openssl  # the HTTP tests sign webhooks with the openssl command line
  python3-aiosmtpd
  python3-prometheus-client  # an independent parser of /metrics in the HTTP tests
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 3; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# Debian's postgresql and redis-server packages start system services on install;
# we never use those (tests and the demo run private servers), so keep them off.
policy_added=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
  policy_added=1
fi
trap '[[ $policy_added == 1 ]] && "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"

#!/usr/bin/env bash
# Installs the real proxies the verify tests run on 127.0.0.1 (nginx, haproxy), openssl
# (the fake Kubernetes API servers' certificates), and curl and jq (the probe loops a stack
# exports run through sh), from Debian's packages when they are missing. Part of the README's
# test command.
set -euo pipefail
missing=()
for bin in nginx haproxy openssl curl jq; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("$bin")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]} from Debian's packages"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages start system services; the tests run their own instances on free ports.
for svc in "${missing[@]}"; do [ "$svc" = nginx ] || [ "$svc" = haproxy ] || continue; $sudo service "$svc" stop >/dev/null 2>&1 || true; done

#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs (Debian and npm packages), builds, runs
# unit, contract and end-to-end tests with real clients, and ends with a pass/fail count.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(skopeo podman runc umoci awscli docker-registry uidmap busybox-static postgresql nginx-light wrk curl zstd rpm python3-urllib3 python3-requests golang-golang-x-vuln-dev golang-github-knqyf263-go-rpmdb-dev golang-github-aquasecurity-go-dep-parser-dev golang-github-knqyf263-go-apk-version-dev golang-github-knqyf263-go-rpm-version-dev ceph-mon ceph-osd radosgw ceph-common uuid-runtime libisal2)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== installing npm packages"
npm ci --no-audit --no-fund
echo "== building"
npm run build

shopt -s globstar nullglob
unit=(test/unit/**/*.test.ts test/contract/**/*.test.ts)
e2e=(test/e2e/**/*.test.ts)
log=$(mktemp)
status=0
echo "== unit and contract tests"
node --import tsx --test --test-reporter=spec "${unit[@]}" 2>&1 | tee -a "$log" || status=1
echo "== end-to-end tests (real clients)"
BERTH_E2E_NO_BUILD=1 node --import tsx --test --test-reporter=spec --test-concurrency=1 "${e2e[@]}" 2>&1 | tee -a "$log" || status=1

pass=$(grep -E '^ℹ pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
fail=$(grep -E '^ℹ fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
rm -f "$log"
echo
if [ "$status" -eq 0 ] && [ "$fail" -eq 0 ]; then
  echo "TESTS PASSED: $pass passed, $fail failed"
else
  echo "TESTS FAILED: $pass passed, $fail failed"
  exit 1
fi

#!/usr/bin/env bash
# The time-sensitive tests at fixed clock times, to prove they pass at every hour:
#
#   00:30, 04:15 (= 22:45 UTC), 07:59, 08:00, 20:59, 21:00 and 23:59 IST today,
#   31 December 23:59 IST and 1 January 00:30 IST (the year differs in UTC and in India)
#
# with libfaketime (Debian package libfaketime; scripts/system_packages.sh installs it).
# Every process of a run (pytest and the services the tests start) gets the same offset
# from the real clock (FAKETIME="+N"), so all of them agree on the time and it runs on;
# the monotonic clock (timeouts, pacing, sleeps) is left alone.
#
#   scripts/time_matrix.sh                      the default test files, every clock time
#   scripts/time_matrix.sh tests/test_x.py -k y any pytest arguments instead
#   TIME_MATRIX_POINTS="23:59 IST|2026-12-31 23:59 +0530" scripts/time_matrix.sh
#                                               only these points (label|date, ;-separated)
#
# Writes results/time-matrix.md and exits non-zero if any clock time failed.
set -uo pipefail
cd "$(dirname "$0")/.."

LIB=""
for candidate in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
  /usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 \
  /usr/local/lib/faketime/libfaketime.so.1; do
  if [ -e "$candidate" ]; then LIB=$candidate; break; fi
done
if [ -z "$LIB" ]; then
  echo "libfaketime is not installed: scripts/system_packages.sh, or apt-get install -y libfaketime" >&2
  exit 2
fi

if [ "$#" -gt 0 ]; then
  TESTS=("$@")
else
  TESTS=(tests/test_backends_*.py tests/test_actions.py tests/test_flow_actions.py
    tests/test_grievance_feedback.py tests/test_dashboard_*.py -m "not browser")
fi

TODAY=$(date -u +%F)
YEAR=$(date -u +%Y)
DEFAULT_POINTS="00:30 IST|$TODAY 00:30 +0530;04:15 IST = 22:45 UTC|$TODAY 04:15 +0530"
DEFAULT_POINTS+=";07:59 IST|$TODAY 07:59 +0530;08:00 IST|$TODAY 08:00 +0530"
DEFAULT_POINTS+=";20:59 IST|$TODAY 20:59 +0530;21:00 IST|$TODAY 21:00 +0530"
DEFAULT_POINTS+=";23:59 IST|$TODAY 23:59 +0530;31 December 23:59 IST|$YEAR-12-31 23:59 +0530"
DEFAULT_POINTS+=";1 January 00:30 IST|$((YEAR + 1))-01-01 00:30 +0530"
IFS=';' read -r -a POINTS <<<"${TIME_MATRIX_POINTS:-$DEFAULT_POINTS}"

export TF_CPP_MIN_LOG_LEVEL=3 SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false
mkdir -p results
LOGS=results/time-matrix
mkdir -p "$LOGS"
REPORT="| clock time | UTC | result | seconds |"$'\n'"|---|---|---|---|"
failed=0
for point in "${POINTS[@]}"; do
  label=${point%%|*}
  when=${point#*|}
  target=$(date -u -d "$when" +%s) || { echo "bad time: $when" >&2; exit 2; }
  offset=$((target - $(date -u +%s)))
  sign=+
  if [ "$offset" -lt 0 ]; then sign=-; offset=$((-offset)); fi
  utc=$(date -u -d "@$target" '+%Y-%m-%d %H:%M')
  log="$LOGS/$(echo "$label" | tr -c 'A-Za-z0-9' '_').log"
  echo "== $label ($utc UTC)"
  started=$(date +%s)
  FAKETIME="$sign$offset" FAKETIME_DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$LIB" \
    .venv/bin/pytest -q -p no:cacheprovider "${TESTS[@]}" >"$log" 2>&1
  status=$?
  took=$(($(date +%s) - started))
  summary=$(grep -E '^[0-9]+ (passed|failed)|(passed|failed|error).* in [0-9.]+s' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    result="passed: $summary"
  else
    result="**FAILED**: $summary (log: $log)"
    failed=1
    grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/   /'
  fi
  echo "   $result (${took}s)"
  REPORT+=$'\n'"| $label | $utc | $result | $took |"
done
printf '# Time-sensitive tests at fixed clock times (libfaketime)\n\n%s\n' "$REPORT" \
  >results/time-matrix.md
echo "results/time-matrix.md"
exit $failed

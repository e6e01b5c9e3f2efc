#!/usr/bin/env bash
# The tests whose pages depend on the day (the demo is seeded relative to now: meetings held, in progress,
# next; deadlines; breaks), run with the process clock set to moments where that has gone wrong or could:
# a meeting in progress and just after it, around midnight, around a case deadline, the Christmas break,
# the spring DST switch. libfaketime sets the clock of the Python processes only (the browser keeps the
# real one). Not part of `make test` (about half an hour); run it after changing the demo or anything
# that reads the time. Usage: scripts/time_sweep.sh ["YYYY-MM-DD HH:MM:SS" ...] (UTC).
set -uo pipefail

LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
if [ -z "$LIB" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends faketime >/dev/null
  LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 | head -1)
fi

MOMENTS=("$@")
if [ ${#MOMENTS[@]} -eq 0 ]; then
  # Meetings are every other Monday 13.00–15.00 Stockholm time (12.00–14.00 UTC in winter); 7 Dec 2026 is one.
  MOMENTS=(
    "2026-12-07 12:30:00"  # a meeting in progress
    "2026-12-07 14:30:00"  # just after it: one more meeting held until midnight
    "2026-12-07 22:30:00"  # 23.30 Stockholm
    "2026-12-07 23:30:00"  # 00.30 Stockholm, the next day
    "2026-11-30 11:30:00"  # just before the case deadline of 7 December
    "2026-11-30 12:30:00"  # just after it
    "2026-12-13 22:30:00"  # Sunday night
    "2026-12-22 10:00:00"  # in the Christmas break
    "2027-01-05 10:00:00"  # the break's last days
    "2027-03-28 01:30:00"  # the spring DST switch
  )
fi
TESTS=(tests/browser tests/unit/test_demo_cases.py tests/unit/test_agenda.py tests/web/test_start_page.py
  tests/web/test_query_counts.py tests/web/test_swedish_pages.py tests/test_backup.py
  tests/web/test_evaluations.py tests/web/test_agenda.py tests/web/test_meetings.py)

failed=0
for moment in "${MOMENTS[@]}"; do
  log="$(mktemp -t samrad-sweep.XXXXXX)"
  LD_PRELOAD="$LIB" FAKETIME="@$moment" FAKETIME_DONT_RESET=1 FAKETIME_ONLY_CMDS=python,python3,python3.11 \
    .venv/bin/python -m pytest -q -p no:cacheprovider -k "not postgresql" "${TESTS[@]}" >"$log" 2>&1
  rc=$?
  echo "$moment UTC: $(tail -1 "$log")"
  if [ $rc -ne 0 ]; then
    failed=1
    grep -E "^(FAILED|ERROR) " "$log" | sed 's/^/  /'
    echo "  (log: $log)"
  else
    rm -f "$log"
  fi
done
exit $failed

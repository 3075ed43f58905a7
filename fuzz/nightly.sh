#!/usr/bin/env bash
# The nightly fuzz job: build the fuzzers with ASan/UBSan, run each in
# --jobs long-lived libFuzzer processes (or libFuzzer's fork mode with
# --fork), keep what is new in a corpus outside the repository, deduplicate
# and minimize crashes, write reproducers and a report. With --kernel it
# hands over to fuzz/vm/fuzz_vm.py, which does the same in qemu guests.
#
# Exit status: see usage() below.
set -euo pipefail

usage() {
  cat <<'TXT'
usage: ringcheck fuzz [TARGET...] [--time DURATION] [--jobs N] [--out DIR] [--kernel KERNEL]
       ringcheck fuzz --replay CRASH_DIR --kernel KERNEL
       fuzz/nightly.sh [same arguments]   (from the repository root)

  TARGET      sqe, register, setup (default: all three)
  --time D    total fuzzing time, shared equally by the targets: 600, 600s,
              10m, 1h (default 10m)
  --jobs N    fuzzing processes per target (default 1): long-lived libFuzzer
              processes on one corpus, each restarted past its crashes
  --fork      use libFuzzer's -fork=N mode instead (a new process per job)
  --out DIR   where corpora, crashes and the report go (default fuzz-out/)
  --no-known  do not step around the known findings listed in fuzz/known-findings
  --kernel K  fuzz kernel K in qemu guests instead of the running kernel:
              debian:5.10|6.1|6.12|7.2 or IMAGE[:MODULES_DIR] (as ./ringcheck vm).
              Corpora go to DIR/corpus/<kernel>/TARGET; a guest panic, hang,
              kernel splat or taint is a finding in DIR/crashes/kernel-ID/
              (console excerpt, last inputs, kernel package), then the guest
              boots again until --time is spent. See fuzz/vm/fuzz_vm.py.
  --replay D  with --kernel: run crash directory D (a kernel finding, a
              crash of this job, or fuzz/sqe/findings/ID) alone on that
              kernel, say whether it reproduces, record it in D/reproduced.json
  --accel A   tcg (default) or kvm, for --kernel
  --results R with --kernel: also put the fuzz report in R/<release>/fuzz/, beside
              that kernel's conformance results (./ringcheck vm K --out R), so
              ./ringcheck report R/* shows both

Writes DIR/fuzz-report.json and DIR/fuzz-report.md; keeps each target's
corpus in DIR/corpus/TARGET and each distinct crash in DIR/crashes/ID/
(input, minimized input, log, reproducer).
Exit status: 0 no new crash, 1 a new crash, 2 the job could not run, 10 the
disk of DIR is full (under 64 MiB free), 64 bad usage. With --kernel also: 5 qemu cannot run, 7 no such kernel, 8 the kernel does not
boot, 9 the guest died before its first input, 11 --time
too short to boot, 130/143 interrupted (the report covers what ran). --replay:
1 reproduces, 0 does not (or not applicable), 3 could not tell.
TXT
}

die() { echo "ringcheck fuzz: $*" >&2; exit 2; }
usage_error() { echo "ringcheck fuzz: $*" >&2; exit 64; }

to_seconds() {
  case "$1" in
    *[0-9]h) echo $(( ${1%h} * 3600 )) ;;
    *[0-9]m) echo $(( ${1%m} * 60 )) ;;
    *[0-9]s) echo "${1%s}" ;;
    *[0-9]) echo "$1" ;;
    *) return 1 ;;
  esac
}

tsv() {  # one line of tab-separated fields for fuzz_report.py (tabs and newlines in a field become spaces)
  local field out=""
  for field in "$@"; do
    field=${field//$'\t'/ }
    out+="${out:+$'\t'}${field//$'\n'/ }"
  done
  printf '%s\n' "$out"
}

targets=()
total_time=600
jobs=1
out=fuzz-out
use_known=1
fork_mode=0
kernel=""
replay=""
vm_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --time) [ $# -ge 2 ] || usage_error "--time needs a duration."; total_time=$(to_seconds "$2") || usage_error "cannot read --time '$2' (use 600, 600s, 10m or 1h)."; shift 2 ;;
    --jobs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage_error "--jobs needs a positive number."; jobs=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage_error "--out needs a directory."; out=$2; shift 2 ;;
    --no-known) use_known=0; shift ;;
    --fork) fork_mode=1; shift ;;
    --kernel) [ $# -ge 2 ] || usage_error "--kernel needs a kernel (debian:6.1 or IMAGE)."; kernel=$2; shift 2 ;;
    --replay) [ $# -ge 2 ] || usage_error "--replay needs a crash directory."; replay=$2; shift 2 ;;
    --accel) [[ ${2:-} =~ ^(tcg|kvm)$ ]] || usage_error "--accel takes tcg or kvm."; vm_args+=(--accel "$2"); shift 2 ;;
    --inject-panic|--hang) [[ ${2:-} =~ ^[0-9]+$ ]] || usage_error "$1 needs seconds."; vm_args+=("$1" "$2"); shift 2 ;;
    --die-early) vm_args+=("$1"); shift ;;
    --results) [ $# -ge 2 ] || usage_error "--results needs a directory."; vm_args+=(--results "$2"); shift 2 ;;
    sqe|register|setup) targets+=("$1"); shift ;;
    *) usage_error "unknown argument '$1' (see --help)." ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(sqe register setup)
[ -z "$replay" ] || [ -n "$kernel" ] || usage_error "--replay needs --kernel."
[ -z "$replay" ] || [ -d "$replay" ] || usage_error "--replay: $replay is not a directory."
if [ -n "$replay" ]; then targets=(sqe register setup); fi
if [ -n "$kernel" ] && [ -z "$replay" ] && [ "$total_time" -lt $(( 45 + 5 * ${#targets[@]} )) ]; then
  echo "ringcheck fuzz: --time ${total_time}s is too short to boot a guest and fuzz ${#targets[@]} target(s): give it at least $(( 45 + 5 * ${#targets[@]} ))s." >&2
  exit 11
fi
if [ ! -f WORKSPACE ] || [ ! -f fuzz/nightly.sh ]; then die "run me from the repository root."; fi
# RINGCHECK_FUZZ_BIN_DIR: binaries built already (a test of this script
# gives it stand-ins); otherwise they are built here.
prebuilt=${RINGCHECK_FUZZ_BIN_DIR:-}
if [ -z "$prebuilt" ]; then
  command -v bazel >/dev/null || die "bazel is not installed."
  command -v clang-14 >/dev/null || die "clang-14 is not installed (apt-get install clang-14 libfuzzer-14-dev)."
fi
[ "$total_time" -ge "${#targets[@]}" ] || usage_error "--time is too short for ${#targets[@]} targets."
per_target=$(( total_time / ${#targets[@]} ))
known=""
if [ "$use_known" -eq 1 ] && [ -f fuzz/known-findings ]; then
  known=$(grep -vE '^(#|$)' fuzz/known-findings | tr '\n' ',' | sed 's/,$//')
fi

mkdir -p "$out" || die "cannot create $out."
out=$(cd "$out" && pwd)
# The binaries, corpora and crashes need room; a full disk is its own failure.
free_kb=$(df -Pk "$out" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt 65536 ]; then
  echo "ringcheck fuzz: the disk of $out is full (less than 64 MiB free); nothing was run and the corpus is as it was." >&2
  exit 10
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start_s=$(date +%s)

mkdir -p "$out/bin"
if [ -n "$prebuilt" ]; then
  for f in "$prebuilt"/*; do install -m 755 "$f" "$out/bin/"; done
else
  echo "== building the fuzzers (clang-14, ASan, UBSan)"
  build_targets=(//fuzz/tools:sqe_repro //fuzz/sqe/findings:zc_links)
  for t in "${targets[@]}"; do build_targets+=("//fuzz/$t:${t}_fuzzer"); done
  bazel build --config=fuzz "${build_targets[@]}" >"$out/build.log" 2>&1 ||
    die "the fuzzers did not build; see $out/build.log."
  bin_dir=$(bazel info --config=fuzz bazel-bin 2>/dev/null) || die "bazel info failed."
  for t in "${targets[@]}"; do install -m 755 "$bin_dir/fuzz/$t/${t}_fuzzer" "$out/bin/"; done
  install -m 755 "$bin_dir/fuzz/tools/sqe_repro" "$bin_dir/fuzz/sqe/findings/zc_links" "$out/bin/"
fi

if [ -n "$kernel" ]; then
  # The guest's userland is a declared input, never this machine's: busybox
  # and the Debian packages the fuzzers' shared libraries are taken from
  # (bazel/guest_inputs.bzl), as for ./ringcheck vm's image.
  command -v bazel >/dev/null || die "bazel is not installed (it brings the guest's userland, @guest_userland)."
  bazel build --config=fuzz @guest_userland//:busybox @guest_userland//:sysroot.tar >>"$out/build.log" 2>&1 ||
    die "the guest userland (@guest_userland, bazel/guest_inputs.bzl) did not build; see $out/build.log."
  userland=$(bazel info --config=fuzz output_base 2>/dev/null)/external/guest_userland || die "bazel info failed."
  vm_args+=(--busybox "$userland/busybox" --sysroot "$userland/sysroot.tar")
  if [ -n "$replay" ]; then
    exec python3 fuzz/vm/fuzz_vm.py replay "$replay" --kernel "$kernel" --bin "$out/bin" --out "$out" "${vm_args[@]}"
  fi
  exec python3 fuzz/vm/fuzz_vm.py fuzz "${targets[@]}" --kernel "$kernel" --bin "$out/bin" --out "$out" \
    --time "$total_time" --known "$known" "${vm_args[@]}"
fi

# Crash identity: the oracle (or sanitizer) line up to " | ", plus the first
# three frames of our own code.
crash_key() {  # log file -> key on stdout
  local oracle frames
  oracle=$(grep -m1 -E '^(ORACLE |HARNESS: |==[0-9]+==ERROR: |SUMMARY: |.*runtime error: )' "$1" | sed -E 's/ \| .*//; s/^==[0-9]+==//; s/0x[0-9a-f]+//g' || true)
  frames=$(grep -E '^ +#[0-9]+ .* in (ringcheck|rcfuzz|LLVMFuzzerTestOneInput)' "$1" | grep -v OracleFail | head -3 | sed -E 's/^.* in //; s/\(anonymous namespace\):://g; s/\(.*//' | tr '\n' ' ' || true)
  printf '%s | %s' "${oracle:-unknown crash}" "$frames"
}

mkdir -p "$out/crashes"
index="$out/crashes/index.tsv"  # id <TAB> first seen <TAB> key
touch "$index"
new_crashes=0
targets_tsv="$out/.targets.tsv"
crashes_tsv="$out/.crashes.tsv"
unrepro_tsv="$out/.unreproduced.tsv"
where_tsv="$out/.where.tsv"
: >"$targets_tsv"
: >"$crashes_tsv"
: >"$unrepro_tsv"
: >"$where_tsv"

for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${per_target}s with $jobs job(s)"
  work="$out/work/$t"
  rm -rf "$work"
  mkdir -p "$work/artifacts" "$work/tmp" "$out/corpus/$t"
  dict=()
  [ -f "fuzz/$t/$t.dict" ] && dict=("-dict=fuzz/$t/$t.dict")
  stats="$work/stats"
  : >"$stats"
  t_start=$(date +%s)
  # Progress goes to the terminal as libFuzzer prints it; new units land in
  # the first corpus directory (the one outside the repository).
  if [ "$fork_mode" -eq 1 ]; then
    TMPDIR="$work/tmp" RINGCHECK_FUZZ_STATS="$stats" RINGCHECK_FUZZ_KNOWN="$known" \
      RINGCHECK_FUZZ_CRASHLOG="$work/crash-lines.log" \
      "$out/bin/${t}_fuzzer" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$per_target" -timeout=30 -rss_limit_mb=2560 -artifact_prefix="$work/artifacts/" \
      "${dict[@]}" "$out/corpus/$t" "fuzz/$t/corpus" 2>&1 | tee "$work/fuzz.log" |
      grep --line-buffered -E '^#[0-9]+: |ORACLE|HARNESS|INFO: (-fork|seed)' || true
  else
    # JOBS long-lived libFuzzer processes on one corpus (-reload picks up
    # what the others found), each restarted past its own crashes. libFuzzer's
    # fork mode instead starts a process per job, for 1 s, 2 s, 3 s, ... with
    # a subset of the corpus: its processes spent most of their life
    # starting (see "Where the time goes" in fuzz/README.md).
    t_end=$(( t_start + per_target ))
    for w in $(seq 1 "$jobs"); do
      (
        n=0
        while left=$(( t_end - $(date +%s) )); [ "$left" -ge 2 ]; do
          n=$((n + 1))
          TMPDIR="$work/tmp" RINGCHECK_FUZZ_STATS="$stats" RINGCHECK_FUZZ_KNOWN="$known" \
            RINGCHECK_FUZZ_CRASHLOG="$work/crash-lines.log" \
            "$out/bin/${t}_fuzzer" -max_total_time="$left" -timeout=30 -rss_limit_mb=2560 -reload=1 \
            -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
            "${dict[@]}" "$out/corpus/$t" "fuzz/$t/corpus" >"$work/fuzz.$w.$n.log" 2>&1 || true
          grep -a -m1 -E '^(ORACLE|HARNESS)' "$work/fuzz.$w.$n.log" | sed "s/^/== worker $w: /" || true
        done
      ) &
    done
    wait
    cat "$work"/fuzz.*.*.log >"$work/fuzz.log" 2>/dev/null || true
  fi
  duration=$(( $(date +%s) - t_start ))
  rm -rf "$work/tmp"

  if [ "$fork_mode" -eq 1 ]; then
    last=$(grep -E '^#[0-9]+: cov:' "$work/fuzz.log" | tail -1 || true)
    runs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$last"); runs=${runs:-0}
    features=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last"); features=${features:-0}
  else
    # Each process's last count of runs, summed; the most features any had.
    runs=$(for f in "$work"/fuzz.*.*.log; do grep -a -oE '^#[0-9]+' "$f" | tail -1; done | tr -d '#' | awk '{ s += $1 } END { print s + 0 }')
    features=$(grep -a -ohE ' ft: [0-9]+' "$work"/fuzz.*.*.log 2>/dev/null | awk '$2 > m { m = $2 } END { print m + 0 }')
  fi
  execs_per_s=$(( duration > 0 ? runs / duration : 0 ))
  corpus_size=$(find "$out/corpus/$t" -type f | wc -l)
  # SQEs: the last running total each fuzzing process reported, summed.
  units=$(awk '{ for (i = 4; i <= NF; i++) if ($i ~ /^units=/) { split($i, a, "="); last[$2] = a[2] } }
               END { s = 0; for (p in last) s += last[p]; print s }' "$stats")
  sqes_per_s=$(( duration > 0 ? units / duration : 0 ))
  # Open fds and rings of the fuzzing processes, at one minute and at the end.
  fds_1m=$(awk -v t0="$t_start" '$1 - t0 >= 60 { for (i = 4; i <= NF; i++) if ($i ~ /^(fds|rings)=/) printf "%s ", $i; print ""; exit }' "$stats")
  fds_end=$(tail -1 "$stats" | awk '{ for (i = 4; i <= NF; i++) if ($i ~ /^(fds|rings)=/) printf "%s ", $i }')
  growth=$(awk '{ for (i = 4; i <= NF; i++) if ($i ~ /^fds=/) { split($i, a, "="); if (!($2 in first)) first[$2] = a[2]; if (a[2] - first[$2] > g) g = a[2] - first[$2] } }
                END { print g + 0 }' "$stats")

  # Where the time went: each counter of the stats lines (the last value of
  # each process, summed), the number of fuzzing processes (each one builds
  # the sandbox anew) and the inputs that hit the completion deadline.
  awk -v t="$t" '{ for (i = 4; i <= NF; i++) if ($i ~ /^[a-z_]+=[0-9]+$/ && $i !~ /^(execs|fds|rings|units)=/) { split($i, a, "="); last[$2, a[1]] = a[2]; keys[a[1]] = 1 } pids[$2] = 1 }
       END { for (k in keys) { s = 0; for (p in pids) s += last[p, k]; printf "%s\t%s\t%d\n", t, k, s }
             n = 0; for (p in pids) n++; printf "%s\tprocesses\t%d\n", t, n }' "$stats" >>"$where_tsv"
  printf '%s\tdeadline_hits\t%d\n' "$t" "$(grep -c 'ORACLE completion-deadline' "$work/crash-lines.log" 2>/dev/null || true)" >>"$where_tsv"
  seen_ids=""
  examined=0
  for art in "$work"/artifacts/crash-* "$work"/artifacts/timeout-* "$work"/artifacts/oom-*; do
    [ -f "$art" ] || continue
    examined=$((examined + 1))
    if [ "$examined" -gt 30 ]; then
      echo "== more than 30 crash files for $t: the rest stay unexamined in $work/artifacts"
      break
    fi
    log="$art.log"
    hung=0
    # 124: timed out; 137: killed 10 s later, still in an uninterruptible
    # wait (the fuzzer's hang watchdog, oracle.h, normally reports those).
    TMPDIR="$work" RINGCHECK_FUZZ_KNOWN="$known" timeout -k 10 60 "$out/bin/${t}_fuzzer" -runs=1 "$art" >"$log" 2>&1 || { rc=$?; [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ]; } || hung=1
    key=$(crash_key "$log")
    [ "$hung" -eq 0 ] || key="replay did not finish in 60 s (a hang the deadline oracle missed) | "
    # Ran clean alone: it needs earlier inputs or timing. Listed apart with
    # what the oracles said in the run (fork mode deletes its workers' logs;
    # crash-lines.log keeps their lines); not a new crash, no exit 1.
    if [ "$hung" -eq 0 ] && [[ $key == "unknown crash |"* ]]; then
      udir="$out/unreproduced/$t-$(sha1sum <"$art" | cut -c1-10)"
      mkdir -p "$udir"
      cp "$art" "$udir/input"
      cp "$log" "$udir/replay.log"
      [ -f "$work/crash-lines.log" ] && cp "$work/crash-lines.log" "$udir/crash-lines.log"
      said=$(grep -E 'ORACLE |HARNESS: ' "$work/crash-lines.log" 2>/dev/null | sed -E 's/^[0-9]+ [0-9]+ //' | sort | uniq -c | sort -rn | head -3 | sed -E 's/^ *([0-9]+) /\1x /' | tr '\n' ';' || true)
      tsv "$t" "${said:-no oracle line in the run}" "$udir/input" "$udir/replay.log" >>"$unrepro_tsv"
      echo "== $t: $(basename "$art") did not reproduce alone (listed apart, not counted)"
      continue
    fi
    id=$(awk -F'\t' -v k="$key" '$3 == k { print $1; exit }' "$index")
    if [ -z "$id" ]; then
      id="$t-$(printf '%s' "$key" | sha1sum | cut -c1-10)"
      printf '%s\t%s\t%s\n' "$id" "$started" "$key" >>"$index"
      new_crashes=$((new_crashes + 1))
      dir="$out/crashes/$id"
      mkdir -p "$dir"
      cp "$art" "$dir/input"
      cp "$log" "$dir/log"
      echo "== new crash $id: $key"
      if [ "$hung" -eq 0 ]; then
        TMPDIR="$work" RINGCHECK_FUZZ_KNOWN="$known" timeout -k 10 120 "$out/bin/${t}_fuzzer" -minimize_crash=1 -max_total_time=60 \
          -exact_artifact_path="$dir/minimized" "$art" >"$dir/minimize.log" 2>&1 || true
      fi
      [ -f "$dir/minimized" ] || cp "$art" "$dir/minimized"
      if [ "$t" = sqe ]; then
        "$out/bin/sqe_repro" "$dir/minimized" "${key% | *}" >"$dir/repro.cc" || true
      else
        # shellcheck disable=SC2016  # the script expands these when it runs
        printf '#!/bin/sh\n# Replays the input through the %s fuzzer binary.\nexec "${FUZZER:-./%s_fuzzer}" -runs=1 "$(dirname "$0")/minimized"\n' "$t" "$t" >"$dir/repro.sh"
        chmod +x "$dir/repro.sh"
      fi
    fi
    dir="$out/crashes/$id"
    first_seen=$(awk -F'\t' -v i="$id" '$1 == i { print $2; exit }' "$index")
    repro="$dir/repro.cc"; [ -f "$repro" ] || repro="$dir/repro.sh"
    case " $seen_ids " in
      *" $id "*) ;;
      *)
        seen_ids+=" $id"
        tsv "$t" "$id" "${key% | *}" "$first_seen" "$dir/minimized" "$repro" >>"$crashes_tsv"
        ;;
    esac
  done
  # Private directories of replays and minimizations that ended by a crash.
  rm -rf "$work"/ringcheck-fuzz-*
  tsv "$t" "$runs" "$execs_per_s" "$sqes_per_s" "$features" "$corpus_size" "$duration" "$fds_1m" "$fds_end" "$growth" >>"$targets_tsv"
done

duration_s=$(( $(date +%s) - start_s ))
python3 fuzz/fuzz_report.py "$out" "$started" "$duration_s" "$(uname -r)" "$known" "$new_crashes" \
  "$targets_tsv" "$crashes_tsv" "$unrepro_tsv" "$where_tsv" || die "cannot write the fuzz report in $out."
rm -f "$targets_tsv" "$crashes_tsv" "$unrepro_tsv" "$where_tsv"
echo "== report: $out/fuzz-report.md, $out/fuzz-report.json"
[ "$new_crashes" -eq 0 ] || exit 1
exit 0

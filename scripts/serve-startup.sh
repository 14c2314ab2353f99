#!/usr/bin/env bash
# Measures how long `vmsim serve` takes to answer: from the launch to the first HTTP response on its
# port (curl GET /, the playground page), for one or more launch commands, alternating between them.
#
#   scripts/serve-startup.sh [-n RUNS] [-p PORT] NAME=COMMAND [NAME=COMMAND ...]
#   scripts/serve-startup.sh -n 7 before='/tmp/before/vmsim serve' after='./vmsim serve'
#
# Each COMMAND is run with `--port PORT` appended. Per run: check that nothing listens on PORT,
# start the command, poll with curl every 10 ms until it answers (wall ms recorded, and when the URL
# line appeared on its output, and the CPU time it had used), send SIGTERM
# and WAIT for the process to exit, so that the next run finds the port free. One unmeasured run of
# each command comes first (it writes the launcher's class-data-sharing archive, fills the page
# cache). Prints every run, then per command the median, minimum and maximum, and the load average
# (`uptime`) before and after.
set -euo pipefail
runs=7
port=18080
while getopts n:p: o; do
    case "$o" in
        n) runs="$OPTARG" ;;
        p) port="$OPTARG" ;;
        *) echo "usage: $0 [-n RUNS] [-p PORT] NAME=COMMAND ..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
    echo "usage: $0 [-n RUNS] [-p PORT] NAME=COMMAND ..." >&2
    exit 2
fi
names=()
cmds=()
for a in "$@"; do
    names+=("${a%%=*}")
    cmds+=("${a#*=}")
done
url="http://127.0.0.1:$port/"
answers() { curl -s -o /dev/null --max-time 1 "$url"; }

# One run of command $1: prints its wall milliseconds to the first answer.
once() {
    if answers; then
        echo "serve-startup: something already answers on $url" >&2
        exit 1
    fi
    local log t0 t1 pid
    log="$(mktemp)"
    t0=$(date +%s%N)
    # shellcheck disable=SC2086 # the command is word-split on purpose
    $1 --port "$port" >"$log" 2>&1 &
    pid=$!
    turl=""
    until answers; do
        if [ -z "$turl" ] && grep -q "^vmsim serve: http" "$log"; then
            turl=$(date +%s%N)
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "serve-startup: '$1' exited before answering:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.01
    done
    t1=$(date +%s%N)
    [ -n "$turl" ] || turl=$t1
    # CPU time of all its threads so far (utime + stime, in clock ticks): less load-dependent than wall
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$pid/stat")
    kill -TERM "$pid"
    wait "$pid" || true   # 143 after SIGTERM is expected
    rm -f "$log"
    echo "$(((t1 - t0) / 1000000)) $cpu $(((turl - t0) / 1000000))"
}

echo "load before: $(uptime)"
for i in "${!cmds[@]}"; do
    read -r ms cpu urlms < <(once "${cmds[$i]}")
    echo "warm-up ${names[$i]}: $ms ms wall, $cpu ms CPU, URL printed at $urlms ms"
done
declare -A all cpus urls
for r in $(seq 1 "$runs"); do
    for i in "${!cmds[@]}"; do
        read -r ms cpu urlms < <(once "${cmds[$i]}")
        [ -n "$ms" ] || exit 1
        all[$i]="${all[$i]:-} $ms"
        cpus[$i]="${cpus[$i]:-} $cpu"
        urls[$i]="${urls[$i]:-} $urlms"
        echo "run $r ${names[$i]}: $ms ms wall, $cpu ms CPU, URL printed at $urlms ms"
    done
done
echo "load after: $(uptime)"
# "median M, min A, max B" of the numbers given
stats() {
    local sorted n
    sorted=$(printf '%s\n' "$@" | sort -n)
    n=$(echo "$sorted" | wc -l)
    echo "median $(echo "$sorted" | sed -n "$(((n + 1) / 2))p"), min $(echo "$sorted" | head -1), max $(echo "$sorted" | tail -1)"
}
for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086
    echo "${names[$i]}: first page, wall ms $(stats ${all[$i]}); CPU ms $(stats ${cpus[$i]}); URL printed, wall ms $(stats ${urls[$i]}); $runs runs of '${cmds[$i]}'"
done

#!/usr/bin/env bash
# A collector, two workers and the console on one machine, without systemd: the
# same commands as the unit files beside this script, each in the background with
# its log and pid in $RUN; workers are started again when they exit. PostgreSQL and NATS JetStream answer on 127.0.0.1.
#
#   docs/deploy/one-machine.sh start     # start everything (NATS too, if it is not running)
#   docs/deploy/one-machine.sh status    # the stream, its consumer, the processes
#   docs/deploy/one-machine.sh stop      # SIGTERM each: the collector publishes what it holds
#
# Settings come from the environment (see bastion.env); the defaults suit a trial.
set -eu

BASTION=${BASTION:-bastion}
RUN=${RUN:-$PWD/bastion-run}
NATS_PORT=${NATS_PORT:-4222}
NATS=nats://127.0.0.1:$NATS_PORT
SYSLOG_PORT=${SYSLOG_PORT:-5514}
METRICS_PORT=${METRICS_PORT:-9464}
CONSOLE_PORT=${CONSOLE_PORT:-8000}
FORMAT=${FORMAT:-panos}
export BASTION_DATABASE_URL=${BASTION_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/bastion}
export BASTION_DATA_DIR=${BASTION_DATA_DIR:-$RUN/data}
export POLARS_MAX_THREADS=1 RAYON_NUM_THREADS=1

background() {  # NAME COMMAND...: run in the background, log and pid in $RUN
    name=$1
    shift
    "$@" >"$RUN/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    echo "started $name (pid $!, log $RUN/$name.log)"
}

supervise() {  # COMMAND...: start it again whenever it exits, as systemd's Restart=always does
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM
    while :; do
        "$@" &
        child=$!
        wait "$child" || true
        sleep 2
    done
}

case ${1:-} in
start)
    mkdir -p "$RUN"
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; then
        background nats nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$RUN/nats"
        sleep 1
    fi
    "$BASTION" init
    background collector "$BASTION" boundary listen --publish --format "$FORMAT" \
        --udp "$SYSLOG_PORT" --tcp "$SYSLOG_PORT" --nats "$NATS" \
        --spool "$RUN/spool" --metrics-port "$METRICS_PORT" --status-every 0
    background worker-1 supervise "$BASTION" boundary worker --nats "$NATS" --id worker-1 --metrics-port 9101 --maintain-every 300
    background worker-2 supervise "$BASTION" boundary worker --nats "$NATS" --id worker-2 --metrics-port 9102 --maintain-every 300
    background console "$BASTION" serve --port "$CONSOLE_PORT"
    ;;
status)
    "$BASTION" boundary status --nats "$NATS"
    for pid in "$RUN"/*.pid; do
        name=$(basename "$pid" .pid)
        if kill -0 "$(cat "$pid")" 2>/dev/null; then echo "$name: running"; else echo "$name: stopped"; fi
    done
    ;;
stop)
    for name in collector worker-1 worker-2 console nats; do
        [ -f "$RUN/$name.pid" ] || continue
        pid=$(cat "$RUN/$name.pid")
        kill -TERM "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
        rm -f "$RUN/$name.pid"
        echo "stopped $name"
    done
    ;;
*)
    echo "usage: $0 start|status|stop" >&2
    exit 2
    ;;
esac

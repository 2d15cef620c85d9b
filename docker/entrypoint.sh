#!/bin/sh
# Starts `lstmcast serve` from environment variables, as the container images do; flags given to the container
# are appended and win over the variables. Also usable outside a container (LSTMCAST_JAR points at the program).
set -eu

jar="${LSTMCAST_JAR:-/app/lstmcast.jar}"
set -- serve \
  --models "${LSTMCAST_MODELS:-/models}" \
  --host "${LSTMCAST_HOST:-0.0.0.0}" \
  --port "${LSTMCAST_PORT:-8080}" \
  --grpc-port "${LSTMCAST_GRPC_PORT:-8081}" \
  --device "${LSTMCAST_DEVICE:-auto}" \
  --max-batch-size "${LSTMCAST_MAX_BATCH_SIZE:-64}" \
  --max-queue-delay-us "${LSTMCAST_MAX_QUEUE_DELAY_US:-0}" \
  --max-queue "${LSTMCAST_MAX_QUEUE:-1024}" \
  --poll-seconds "${LSTMCAST_POLL_SECONDS:-2}" \
  ${LSTMCAST_THREADS:+--threads "$LSTMCAST_THREADS"} \
  ${LSTMCAST_WARM_UP_TRAFFIC:+--warm-up-traffic "$LSTMCAST_WARM_UP_TRAFFIC"} \
  ${LSTMCAST_WARM_UP_GRPC:+--warm-up-grpc} \
  "$@"

# The class-data archive of the serving classes, written for this jar at image build (or by `./mvnw package` as
# target/lstmcast.jsa beside target/lstmcast.jar): mapped instead of loaded, the server is ready sooner. Where there
# is none the JVM starts without; one that no longer matches the jar is ignored with a warning.
cds="${LSTMCAST_CDS_ARCHIVE:-${jar%.jar}.jsa}"
share=
if [ -f "$cds" ]; then
  share="-XX:SharedArchiveFile=$cds"
fi

# JVM flags that respect the container's memory limit; the heap takes a share, native ONNX Runtime memory the rest.
# exec: the JVM becomes PID 1 and receives SIGTERM itself, so a stopping pod drains gracefully.
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:--XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError} $share -jar "$jar" "$@"

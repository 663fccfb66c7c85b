# shellcheck shell=bash
# The properties of the local stack's distributed Connect workers, written here once for every
# one of them: hack/stack.sh's group of two and its TLS worker, hack/lib/connect-matrix.sh's
# older versions. Sourced by hack/stack.sh; never executed. Needs $KAFKA_PORT.

# worker_properties GROUP TOPICS — what every worker has: the stack's broker, its group, its
# internal topics TOPICS-configs, TOPICS-offsets and TOPICS-status (one replica each, as the
# broker has), and JSON converters.
worker_properties() {
  local group="$1" topics="$2"
  cat <<EOF
bootstrap.servers=127.0.0.1:$KAFKA_PORT
group.id=$group
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
config.storage.topic=$topics-configs
offset.storage.topic=$topics-offsets
status.storage.topic=$topics-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
EOF
}

# http_worker_properties GROUP TOPICS PORT — worker_properties for a worker serving plain HTTP
# on 127.0.0.1:PORT, with JSON without schemas and offsets flushed every second.
http_worker_properties() {
  local port="$3"
  worker_properties "$1" "$2"
  cat <<EOF
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:$port
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$port
EOF
}

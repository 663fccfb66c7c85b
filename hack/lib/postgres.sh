# shellcheck shell=bash
# The local stack's PostgreSQL, from the machine's packages (Debian: `apt-get install postgresql`).
# Sourced by hack/stack.sh after its helpers (start, stop, wait_for, pid_alive); never executed.
#
# One server on 127.0.0.1:$POSTGRES_PORT, data in $STACK_DIR/postgres, no Unix socket,
# wal_level=logical, every login by password (scram-sha-256, so a wrong one is refused).
# The database $POSTGRES_DB belongs to $POSTGRES_USER, who has LOGIN and REPLICATION: what
# Debezium needs to create a replication slot and a publication for the tables it owns, and what
# the JDBC sink needs to create and write tables. It runs as a non-root system user when the
# stack runs as root (PostgreSQL refuses root): the package's `postgres`, else one created here.

POSTGRES_PORT="${KCO_POSTGRES_PORT:-5433}"
POSTGRES_DB=kco
POSTGRES_USER=kco
POSTGRES_PASSWORD=kco-postgres-secret
PG_DIR="$STACK_DIR/postgres"
# Connect's FileConfigProvider reads this: `${file:<path>:password}` in a connector config.
PG_SECRETS="$DATA/connect-secrets/postgres.properties"

# The directory holding initdb, postgres and psql, wherever the package put them.
pg_bin() {
  local d
  for d in "${KCO_POSTGRES_BIN:-}" "$(pg_config --bindir 2>/dev/null)" \
    $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) "$(dirname "$(command -v initdb 2>/dev/null || echo .)")"; do
    [[ -n "$d" && -x "$d/initdb" && -x "$d/postgres" && -x "$d/psql" ]] && { echo "$d"; return 0; }
  done
  log "no PostgreSQL server binaries (initdb, postgres, psql) found: install them (Debian: apt-get install postgresql) or set KCO_POSTGRES_BIN"
  return 1
}

PG_BIN="$(pg_bin 2>/dev/null)" || PG_BIN=
pg_check() { local d; d="$(pg_bin)" || return 1; log "PostgreSQL binaries in $d"; }

# The OS user the server runs as: the current one, or (as root) a system user.
pg_os_user() {
  if (($(id -u) != 0)); then id -un; return 0; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return 0; fi
  id kco-postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin kco-postgres
  echo kco-postgres
}

# as_pg CMD... — run CMD as the server's OS user ($AS_PG: the prefix that does it, if any).
as_pg() { "${AS_PG[@]}" "$@"; }

pg_ready() { [[ -n "$PG_BIN" ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT"; }

# psql as the superuser (used only here, to set the stack up).
pg_admin() {
  PGPASSWORD="$(cat "$PG_DIR/superuser.password")" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d postgres "$@"
}

start_postgres() {
  PG_OS_USER="$(pg_os_user)"
  AS_PG=()
  if (($(id -u) == 0)); then
    AS_PG=(setpriv --reuid="$PG_OS_USER" --regid="$(id -g "$PG_OS_USER")" --init-groups)
  fi
  pid_alive postgres && return 0
  if pg_ready; then
    log "port $POSTGRES_PORT already serves another PostgreSQL: stop it or set KCO_POSTGRES_PORT"; return 1
  fi
  if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
    remove_postgres_data
    mkdir -p "$STACK_DIR"
    if as_pg test -x "$STACK_DIR"; then
      mkdir -p "$PG_DIR"
    else
      # E.g. a clone under /root: the server's user cannot search its way to target/stack.
      local elsewhere
      elsewhere="${TMPDIR:-/tmp}/kco-postgres-$(printf %s "$STACK_DIR" | sha256sum | cut -c1-12)"
      log "$PG_OS_USER cannot reach $STACK_DIR: PostgreSQL's data go to $elsewhere, linked from $PG_DIR"
      rm -rf "$elsewhere" && mkdir -p "$elsewhere" && ln -sfn "$elsewhere" "$PG_DIR"
    fi
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PG_DIR/superuser.password"
    chown -R "$PG_OS_USER:" "$PG_DIR/" && chmod 700 "$PG_DIR/" && chmod 600 "$PG_DIR/superuser.password"
    as_pg "$PG_BIN/initdb" -D "$(pg_data)" -U postgres --pwfile="$(pg_home)/superuser.password" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      >"$LOGS/postgres-initdb.log" 2>&1 || { cat "$LOGS/postgres-initdb.log" >&2; return 1; }
    as_pg tee -a "$(pg_data)/postgresql.conf" >/dev/null <<EOF2
# hack/lib/postgres.sh: the local stack's settings
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = ''
password_encryption = scram-sha-256
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
# Test data only: durability traded for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF2
  fi
  start postgres "${AS_PG[@]}" "$PG_BIN/postgres" -D "$(pg_data)"
}

# The server's folder and data directory by their real paths (the server's user may not reach
# them through $PG_DIR).
pg_home() { readlink -f "$PG_DIR"; }
pg_data() { echo "$(pg_home)/data"; }

# Removes the server's data, wherever they are.
remove_postgres_data() {
  if [[ -L "$PG_DIR" ]]; then rm -rf "$(readlink -f "$PG_DIR")"; fi
  rm -rf "$PG_DIR"
}

# Stops the server (SIGINT: PostgreSQL's fast shutdown; SIGTERM would wait for every client to
# leave) and removes its data.
stop_postgres() {
  stop postgres INT
  remove_postgres_data
}

# The role and database Debezium and the JDBC sink use, and the password file for Connect.
setup_postgres() {
  pg_admin <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$POSTGRES_USER') THEN
    CREATE ROLE $POSTGRES_USER LOGIN REPLICATION PASSWORD '$POSTGRES_PASSWORD';
  END IF;
END \$\$;
SQL
  if [[ -z "$(pg_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$POSTGRES_DB'")" ]]; then
    pg_admin -c "CREATE DATABASE $POSTGRES_DB OWNER $POSTGRES_USER"
  fi
  mkdir -p "$(dirname "$PG_SECRETS")"
  (umask 077; printf 'password=%s\n' "$POSTGRES_PASSWORD" >"$PG_SECRETS")
}

write_postgres_env() {
  cat <<EOF2
export POSTGRES_HOST=127.0.0.1
export POSTGRES_PORT=$POSTGRES_PORT
export POSTGRES_DB=$POSTGRES_DB
export POSTGRES_USER=$POSTGRES_USER
export POSTGRES_PASSWORD=$POSTGRES_PASSWORD
export POSTGRES_BIN=$PG_BIN
export POSTGRES_SECRETS_FILE=$PG_SECRETS
EOF2
}

wait_postgres() { wait_for PostgreSQL 60 pg_ready && setup_postgres; }

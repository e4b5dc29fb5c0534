#!/usr/bin/env bash
# The official postgres image's entrypoint contract, for Debian's PostgreSQL:
# - started as root: owns the data and socket directories to postgres, then re-runs itself as postgres;
# - an empty $PGDATA: initdb with $POSTGRES_USER (default postgres) and $POSTGRES_PASSWORD, or the
#   file $POSTGRES_PASSWORD_FILE names (one of them, not both; required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), creates $POSTGRES_DB (default: the user's name), runs
#   /docker-entrypoint-initdb.d/*.sql and *.sh on a socket-only server, then stops it;
# - an initialised $PGDATA is used as it is (the env is ignored, as upstream);
# - finally execs the server (listen_addresses = '*', password auth from every other host).
set -Eeuo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  # The password stays a shell variable (never exported): the server started below does not inherit it.
  password="${POSTGRES_PASSWORD:-}"
  unset POSTGRES_PASSWORD
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    if [ -n "$password" ]; then
      echo "error: both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set; set one of them." >&2
      exit 1
    fi
    if [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
      echo "error: POSTGRES_PASSWORD_FILE names $POSTGRES_PASSWORD_FILE, which the user $(id -un) cannot read." >&2
      exit 1
    fi
    password="$(< "$POSTGRES_PASSWORD_FILE")"
  fi
  if [ -z "$password" ] && [ "$auth" != trust ]; then
    echo "error: the database is uninitialized and POSTGRES_PASSWORD is not set." >&2
    echo "       Set POSTGRES_PASSWORD_FILE (a file holding the password) or POSTGRES_PASSWORD to a non-empty value for the superuser (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
    exit 1
  fi
  user="${POSTGRES_USER:-postgres}"
  db="${POSTGRES_DB:-$user}"
  read -r -a extra_args <<< "${POSTGRES_INITDB_ARGS:-}"
  pwfile="$(mktemp)"
  printf '%s\n' "$password" > "$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" "${extra_args[@]}"
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$user" --dbname postgres)
  if [ "$db" != postgres ]; then
    # Variables are interpolated from stdin only; :"db" quotes the name as an identifier.
    "${psql[@]}" --set db="$db" <<< 'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "running $f"; . "$f" ;;
      *.sql) echo "running $f"; "${psql[@]}" --dbname "$db" -f "$f" ;;
      *) if [ -e "$f" ]; then echo "ignoring $f"; fi ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  unset password
  echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"

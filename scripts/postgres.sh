# Sourced by scripts/test: start a throwaway PostgreSQL 15 on loopback for the tests,
# unless FAMPLAN_TEST_PG_URL already names one. As root (CI) it installs the server
# from Debian's packages when missing and runs it as the postgres user; elsewhere it
# uses the server binaries if they are installed, and otherwise the PostgreSQL tests
# are skipped (in CI they fail instead).

famplan_pg_start() {
    if [ -n "${FAMPLAN_TEST_PG_URL:-}" ]; then
        return 0
    fi
    local pgbin=/usr/lib/postgresql/15/bin
    local asuser=()
    if [ "$(id -u)" = 0 ]; then
        if [ ! -x "$pgbin/initdb" ]; then
            echo "== installing postgresql-15 (Debian package)"
            apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq postgresql-15 >/dev/null
        fi
        id -u postgres >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        asuser=(runuser -u postgres --)
    fi
    if [ ! -x "$pgbin/initdb" ]; then
        echo "== PostgreSQL 15 is not installed: its tests will be skipped"
        return 0
    fi
    local port=${FAMPLAN_TEST_PG_PORT:-54329}
    FAMPLAN_PG_ROOT=$(mktemp -d /tmp/famplan-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$FAMPLAN_PG_ROOT"
    "${asuser[@]}" "$pgbin/initdb" -D "$FAMPLAN_PG_ROOT/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >/dev/null
    "${asuser[@]}" "$pgbin/pg_ctl" -D "$FAMPLAN_PG_ROOT/data" -l "$FAMPLAN_PG_ROOT/server.log" \
        -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port -k $FAMPLAN_PG_ROOT" start >/dev/null
    FAMPLAN_PG_STOP=("${asuser[@]}" "$pgbin/pg_ctl" -D "$FAMPLAN_PG_ROOT/data" -m immediate -w stop)
    export FAMPLAN_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    echo "== PostgreSQL 15 started on 127.0.0.1:$port"
}

famplan_pg_stop() {
    if [ -n "${FAMPLAN_PG_ROOT:-}" ]; then
        "${FAMPLAN_PG_STOP[@]}" >/dev/null 2>&1 || true
        rm -rf "$FAMPLAN_PG_ROOT"
    fi
}

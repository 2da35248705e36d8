# shellcheck shell=bash
# The development Redis of scripts/start and scripts/stop-redis (sourced by them; needs node on PATH).
# Data, AOF, config, pid file and log live in .data/redis/ of this checkout. It listens on
# 127.0.0.1 only, on the port chosen at its first start (6390 if that was free), kept in
# .data/redis/port so that REDIS_URL stays the same from one start to the next.

LOCAL_REDIS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.data/redis"
LOCAL_REDIS_DEFAULT_PORT=6390

_lr_say() { printf '==> mailpush: %s\n' "$*" >&2; }

_lr_port_free() {
  node -e "const s=require('node:net').createServer();s.once('error',()=>process.exit(1));s.listen(+process.argv[1],'127.0.0.1',()=>s.close(()=>process.exit(0)))" "$1"
}

_lr_any_free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
}

_lr_pid() {
  local pid
  [[ -s "${LOCAL_REDIS_DIR}/redis.pid" ]] || return 1
  pid="$(tr -dc '0-9' <"${LOCAL_REDIS_DIR}/redis.pid")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null || return 1
  # A stale pid file whose number now belongs to another process does not count.
  if [[ -r "/proc/${pid}/comm" && "$(cat "/proc/${pid}/comm")" != redis-server* ]]; then return 1; fi
  echo "${pid}"
}

_lr_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }

# Prints the port of the running local Redis, starting it first when needed.
local_redis_start() {
  local dir="${LOCAL_REDIS_DIR}" port pid i
  mkdir -p "${dir}"
  chmod 700 "${dir}"
  port="$(cat "${dir}/port" 2>/dev/null || true)"
  if pid="$(_lr_pid)" && [[ -n "${port}" ]] && _lr_ping "${port}"; then
    _lr_say "reusing the local Redis on 127.0.0.1:${port} (pid ${pid})"
    echo "${port}"
    return 0
  fi
  if pid="$(_lr_pid)"; then
    printf '==> mailpush: ERROR: %s\n    %s\n' "a local Redis (pid ${pid}) is running but does not answer on port ${port:-?}." \
      "Look at ${dir}/redis.log; stop it with scripts/stop-redis and start again." >&2
    return 1
  fi
  rm -f "${dir}/redis.pid"
  if [[ -z "${port}" ]] || ! _lr_port_free "${port}"; then
    if [[ -n "${port}" ]]; then
      _lr_say "port ${port} of the local Redis is taken by something else: choosing another"
    fi
    if _lr_port_free "${LOCAL_REDIS_DEFAULT_PORT}"; then port="${LOCAL_REDIS_DEFAULT_PORT}"; else port="$(_lr_any_free_port)"; fi
    echo "${port}" >"${dir}/port"
  fi
  # Rewritten at every start so that changes here apply to an existing data folder.
  cat >"${dir}/redis.conf" <<EOF
# Written by scripts/start: the development Redis of this checkout. Edits are overwritten.
bind 127.0.0.1
protected-mode yes
port ${port}
daemonize yes
supervised no
dir "${dir}"
pidfile "${dir}/redis.pid"
logfile "${dir}/redis.log"
# mailpush keeps accounts, cursors, leases and queues here: never evict, persist every second.
maxmemory-policy noeviction
appendonly yes
appendfsync everysec
EOF
  _lr_say "starting a local Redis on 127.0.0.1:${port} (data in .data/redis/)"
  # Closed fd 9 and stdio: the daemon must not hold the bootstrap lock or the caller's pipes.
  redis-server "${dir}/redis.conf" </dev/null >/dev/null 2>&1 9>&- || true
  for i in $(seq 1 100); do
    if _lr_ping "${port}"; then
      echo "${port}"
      return 0
    fi
    sleep 0.1
  done
  printf '==> mailpush: ERROR: %s\n' "the local Redis did not start on 127.0.0.1:${port} within 10 s. Last lines of ${dir}/redis.log:" >&2
  tail -n 15 "${dir}/redis.log" 2>/dev/null | sed 's/^/    /' >&2 || true
  return 1
}

# Stops the local Redis (SHUTDOWN flushes the AOF), if it runs.
local_redis_stop() {
  local dir="${LOCAL_REDIS_DIR}" pid port i
  if ! pid="$(_lr_pid)"; then
    _lr_say "the local Redis is not running"
    rm -f "${dir}/redis.pid"
    return 0
  fi
  port="$(cat "${dir}/port" 2>/dev/null || true)"
  _lr_say "stopping the local Redis (pid ${pid}, port ${port:-?})"
  if [[ -n "${port}" ]]; then redis-cli -h 127.0.0.1 -p "${port}" shutdown >/dev/null 2>&1 || true; fi
  for i in $(seq 1 100); do
    kill -0 "${pid}" 2>/dev/null || { _lr_say "stopped"; return 0; }
    [[ ${i} == 50 ]] && kill -TERM "${pid}" 2>/dev/null
    sleep 0.1
  done
  printf '==> mailpush: ERROR: %s\n' "the local Redis (pid ${pid}) did not stop within 10 s; kill ${pid} by hand." >&2
  return 1
}

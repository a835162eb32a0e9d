#!/usr/bin/env bash
# Real services for daytona-native's tests: a local Docker Engine, offline-made base images and an
# S3 server that checks signatures and STS session tokens. Made for a fresh Debian bookworm machine
# (root, no systemd), where the tests start them themselves; every subcommand is idempotent and cheap
# when its service is already there. Quiet unless something fails; one summary line per service on
# stderr. State (logs, pid files, caches, the moto venv, s3.json) lives in $DAYTONA_SERVICES_DIR
# (default <repo>/.services, git-ignored).
#
#   engine  Make `docker info` work. Nothing happens if a daemon already answers (DOCKER_HOST or the
#           default socket). Otherwise it installs docker.io when dockerd is missing and starts
#           `dockerd --iptables=false --ip6tables=false --bridge=none` (no systemd on CI; no bridge,
#           so builds use network mode host/none and sandboxes none).
#   images  Base images built without a registry (Docker Hub is unreachable). The python:* tags are
#           only made on an engine this script started (or with DAYTONA_OFFLINE_IMAGES=1):
#             daytona-test/busybox:1    busybox-static + `--install -s /bin`, /tmp 1777, CMD /bin/sh
#             daytona-test/debian-pip:bookworm, also tagged python:3.{9..13}.*-slim-bookworm (the FROM
#                                       names Image.debianSlim() emits): debootstrap minbase with
#                                       python3, pip, python-is-python3, ca-certificates; pip trusts
#                                       the host's CA bundle (TLS egress may go through a MITM proxy),
#                                       no EXTERNALLY-MANAGED, so `pip install` works as in python:slim.
#                                       Python is Debian's 3.11 whatever the tag says. gcc, gfortran
#                                       and build-essential are included, so debianSlim's
#                                       `apt-get install -y gcc gfortran build-essential` is a no-op
#                                       (its first build: 15 s instead of 57 s; 542 MB instead of
#                                       188 + 579 MB of layers). Builds that run apt/pip need network
#                                       mode host (deb.debian.org, PyPI).
#           The debootstrap rootfs is cached as a tarball, so a rebuild after `docker system prune`
#           takes seconds. Existing images/tags are never replaced.
#   s3      moto (PyPI, pinned) in a venv, serving S3+IAM+STS on 127.0.0.1:$DAYTONA_TEST_S3_PORT
#           (default 9000) with real SigV4 and security-token checks (INITIAL_NO_AUTH_ACTION_COUNT):
#           an IAM user + key, a role assumed through STS, bucket daytona-volume-builds. The
#           credentials go to $DAYTONA_SERVICES_DIR/s3.json:
#             {endpoint, region, bucket, accessKey, secret, sessionToken, expiration,
#              userAccessKey, userSecret, roleArn}
#           (accessKey/secret/sessionToken are the assumed-role session, as the Daytona API hands out).
#   all     engine + images + s3.
#   stop    Stop the dockerd and moto this script started (by their pid files); nothing else.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES_DIR=${DAYTONA_SERVICES_DIR:-$REPO_DIR/.services}
S3_PORT=${DAYTONA_TEST_S3_PORT:-9000}
MOTO_VERSION=5.2.5
DEBIAN_MIRROR=${DAYTONA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
BUSYBOX_IMAGE=daytona-test/busybox:1
DEBIAN_IMAGE=daytona-test/debian-pip:bookworm
PYTHON_TAGS=(python:3.9.22-slim-bookworm python:3.10.17-slim-bookworm python:3.11.12-slim-bookworm
             python:3.12.10-slim-bookworm python:3.13.3-slim-bookworm)
DEBIAN_INCLUDES=python3,python3-pip,python-is-python3,ca-certificates,gcc,gfortran,build-essential
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LOG_DIR=$SERVICES_DIR/logs

# ---------------------------------------------------------------------------------------------
# helpers

SCRIPT_NAME=test-services
# shellcheck source=lib/shell.sh
source "$REPO_DIR/scripts/lib/shell.sh"

setup_dirs() {
  mkdir -p "$SERVICES_DIR" "$LOG_DIR" "$SERVICES_DIR/cache" "$SERVICES_DIR/tmp"
  # One run at a time (tests may start several runners at once).
  exec 9>"$SERVICES_DIR/.lock"
  flock 9
}

# ---------------------------------------------------------------------------------------------
# engine

docker_ok() { docker info >/dev/null 2>&1; }
server_version() { docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'; }

cmd_engine() {
  local t0 log=$SERVICES_DIR/dockerd.log pidfile=$SERVICES_DIR/dockerd.pid pid i
  t0=$(now_ms)
  if command -v docker >/dev/null && docker_ok; then
    say "engine: Docker Engine $(server_version) already answering (${DOCKER_HOST:-default socket})"
    return 0
  fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != unix:///var/run/docker.sock ]; then
    die "engine: DOCKER_HOST=$DOCKER_HOST does not answer; unset it to use a local dockerd"
  fi
  command -v dockerd >/dev/null && command -v docker >/dev/null || apt_install docker.io
  need_root "starting dockerd"

  if pid_alive "$pidfile" dockerd; then
    pid=$(cat "$pidfile")               # ours, still starting up: wait for it below
  elif pid_alive /var/run/docker.pid dockerd; then
    pid=$(cat /var/run/docker.pid)                                 # someone else's dockerd is starting: wait, don't fight it
  else
    echo "=== $(date -Is) dockerd --iptables=false --ip6tables=false --bridge=none" >>"$log"
    spawn "$log" dockerd --iptables=false --ip6tables=false --bridge=none
    pid=$!
    echo "$pid" >"$pidfile"
  fi
  for i in $(seq 1 150); do
    docker_ok && break
    running "$pid" || break
    sleep 0.2
  done
  if ! docker_ok; then
    say "engine: dockerd (pid $pid) did not answer within 30 s; last lines of $log:"
    tail -n 40 "$log" | sed 's/^/    /' >&2
    if pid_alive "$pidfile" dockerd && [ "$(cat "$pidfile")" = "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
    exit 1
  fi
  say "engine: started dockerd $(server_version) (pid $pid) in $(since "$t0"); log $log"
}

# ---------------------------------------------------------------------------------------------
# images

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_size() { docker image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }

busybox_binary() {
  local bb
  bb=$(dpkg -L busybox-static 2>/dev/null | grep -m1 -E '/bin/busybox$' || true)
  if [ -z "$bb" ] || [ ! -x "$bb" ]; then
    apt_install busybox-static
    bb=$(dpkg -L busybox-static | grep -m1 -E '/bin/busybox$')
  fi
  echo "$bb"
}

make_busybox_image() {
  local log=$LOG_DIR/images.log bb root
  bb=$(busybox_binary)
  root=$(mktemp -d "$SERVICES_DIR/tmp/busybox.XXXXXX")
  mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  chmod 1777 "$root/tmp"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  logged "$log" chroot "$root" /bin/busybox --install -s /bin
  echo "+ [$(date +%T.%3N)] docker import $BUSYBOX_IMAGE" >>"$log"
  tar --numeric-owner -C "$root" -cf - . |
    docker import -c 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >>"$log" 2>&1 ||
    fail_log "$log" "images: docker import $BUSYBOX_IMAGE failed"
  rm_tree "$root"
}

# Left out of the cached rootfs and of the image: apt lists, .debs, pkgcache (python:slim has none
# either; `apt-get update` comes first anyway).
APT_EXCLUDES=(--exclude='./var/lib/apt/lists/*_*' --exclude='./var/cache/apt/*.bin'
              --exclude='./var/cache/apt/archives/*.deb')

# debian_rootfs DIR: fill DIR with the pristine debootstrap rootfs, from the cached tarball, or by
# running debootstrap (once) and caching its result.
debian_rootfs() {
  local root=$1 log=$LOG_DIR/debootstrap.log tar
  tar=$SERVICES_DIR/cache/debian-bookworm-minbase-$(echo "$DEBIAN_INCLUDES $DEBIAN_MIRROR" | md5sum | cut -c1-8).tar
  if [ -s "$tar" ]; then
    logged "$LOG_DIR/images.log" tar --numeric-owner -xpf "$tar" -C "$root"
    return 0
  fi
  command -v debootstrap >/dev/null || apt_install debootstrap
  echo "=== $(date -Is) debootstrap $DEBIAN_INCLUDES" >>"$log"
  if ! env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin debootstrap --variant=minbase \
      --include="$DEBIAN_INCLUDES" bookworm "$root" "$DEBIAN_MIRROR" >>"$log" 2>&1; then
    cat "$root/debootstrap/debootstrap.log" >>"$log" 2>/dev/null || true
    rm_tree "$root"
    fail_log "$log" "images: debootstrap failed"
  fi
  logged "$log" tar --numeric-owner -C "$root" "${APT_EXCLUDES[@]}" -cf "$tar.tmp" .
  mv "$tar.tmp" "$tar"
  # Older variants (other package lists or mirror) are dead weight.
  find "$SERVICES_DIR/cache" -maxdepth 1 -name 'debian-bookworm-minbase-*.tar*' ! -path "$tar" -delete
}

# Runs inside the image's chroot: add the host bundle's certificates that Debian's bundle lacks
# (e.g. a TLS-intercepting proxy's CA) as local CAs, so they survive update-ca-certificates.
CA_EXTRAS_PY='
import re, sys
PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
def certs(path):
    return [re.sub(r"\s+", "", m) for m in PEM.findall(open(path, encoding="latin-1").read())]
have = set(certs("/etc/ssl/certs/ca-certificates.crt"))
n = 0
for body in certs(sys.argv[1]):
    if body not in have:
        have.add(body)
        n += 1
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        with open("/usr/local/share/ca-certificates/daytona-host-%d.crt" % n, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n")
print(n)
'
CA_CHECK_PY='
import re, sys
PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
def certs(path):
    return {re.sub(r"\s+", "", m) for m in PEM.findall(open(path, encoding="latin-1").read())}
missing = certs(sys.argv[1]) - certs("/etc/ssl/certs/ca-certificates.crt")
sys.exit("%d host certificates missing from the image bundle" % len(missing) if missing else 0)
'

make_debian_image() {
  local log=$LOG_DIR/images.log root f
  root=$(mktemp -d "$SERVICES_DIR/tmp/debian.XXXXXX")
  debian_rootfs "$root"
  # Nothing from the host environment goes in: commands run with an empty environment.
  local -a in_root=(env -i PATH=$IMAGE_PATH LANG=C.UTF-8 chroot "$root")
  if ! "${in_root[@]}" /bin/sh -c 'exit 0' >>"$log" 2>&1; then
    ln -sf dash "$root/usr/bin/sh"
    logged "$log" "${in_root[@]}" /bin/sh -c 'exit 0'
  fi
  # pip may install system-wide (what python:slim images allow).
  for f in "$root"/usr/lib/python3*/EXTERNALLY-MANAGED; do rm -f "$f"; done
  # TLS trust: Debian's CAs plus the host's (its bundle may hold a proxy CA). pip uses it explicitly,
  # also after `pip install --upgrade pip` replaced Debian's (system-store patched) pip.
  if [ -s "$HOST_CA_BUNDLE" ]; then
    cp "$HOST_CA_BUNDLE" "$root/tmp/host-ca.crt"
    logged "$log" "${in_root[@]}" python3 -c "$CA_EXTRAS_PY" /tmp/host-ca.crt
    logged "$log" "${in_root[@]}" update-ca-certificates
    logged "$log" "${in_root[@]}" python3 -c "$CA_CHECK_PY" /tmp/host-ca.crt
    rm -f "$root/tmp/host-ca.crt"
  fi
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
  # debootstrap copies the host's resolv.conf and hostname; Docker supplies its own at run time.
  : >"$root/etc/resolv.conf"
  echo localhost >"$root/etc/hostname"
  echo "+ [$(date +%T.%3N)] docker import $DEBIAN_IMAGE" >>"$log"
  tar --numeric-owner -C "$root" "${APT_EXCLUDES[@]}" --exclude='./dev/*' --exclude='./proc/*' \
      --exclude='./sys/*' --exclude='./tmp/*' -cf - . |
    docker import -c "ENV PATH=$IMAGE_PATH" -c 'ENV LANG=C.UTF-8' \
      -c 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' -c 'CMD ["/bin/bash"]' - "$DEBIAN_IMAGE" >>"$log" 2>&1 ||
    fail_log "$log" "images: docker import $DEBIAN_IMAGE failed"
  rm_tree "$root"
  echo "+ [$(date +%T.%3N)] imported" >>"$log"
  logged "$log" docker run --rm --network none "$DEBIAN_IMAGE" \
    sh -c 'python --version && python -m pip --version && test -d /tmp'
}

cmd_images() {
  docker_ok || die "images: no Docker Engine answers (run: $0 engine)"
  local t0 made=() tag d
  # Scratch trees of an interrupted run (we hold the lock, so nobody else uses them).
  for d in "$SERVICES_DIR"/tmp/*; do [ -e "$d" ] && rm_tree "$d"; done
  t0=$(now_ms)
  if ! image_exists "$BUSYBOX_IMAGE"; then
    need_root "making $BUSYBOX_IMAGE"
    make_busybox_image
    made+=("$BUSYBOX_IMAGE")
  fi
  say "images: $BUSYBOX_IMAGE $(image_size "$BUSYBOX_IMAGE")${made:+ (made in $(since "$t0"))}"

  t0=$(now_ms); made=()
  # The python:* names are real images on Docker Hub. Fake them only on an engine this script
  # started (a CI-like machine without a registry), or when asked to; an engine that was already
  # running pulls the real ones when a build needs them.
  if ! pid_alive "$SERVICES_DIR/dockerd.pid" dockerd && [ "${DAYTONA_OFFLINE_IMAGES:-}" != 1 ]; then
    say "images: python:*-slim-bookworm left to your registry (engine not started here; DAYTONA_OFFLINE_IMAGES=1 makes offline ones)"
    return 0
  fi
  if ! image_exists "$DEBIAN_IMAGE"; then
    need_root "making $DEBIAN_IMAGE"
    make_debian_image
    made+=("$DEBIAN_IMAGE")
  fi
  for tag in "${PYTHON_TAGS[@]}"; do
    image_exists "$tag" || { logged "$LOG_DIR/images.log" docker tag "$DEBIAN_IMAGE" "$tag"; made+=("$tag"); }
  done
  say "images: $DEBIAN_IMAGE $(image_size "$DEBIAN_IMAGE") = python:3.{9..13}.*-slim-bookworm${made:+ (${#made[@]} made/tagged in $(since "$t0"))}"
}

# ---------------------------------------------------------------------------------------------
# s3

S3_VENV=$SERVICES_DIR/moto-venv
S3_JSON=$SERVICES_DIR/s3.json
S3_PIDFILE=$SERVICES_DIR/moto.pid
S3_LOG=$SERVICES_DIR/moto.log
# Requests moto serves unauthenticated, i.e. exactly the bootstrap calls made without a key below.
S3_NO_AUTH_ACTIONS=3

host_python() {
  local p
  for p in ${DAYTONA_PYTHON:-} /usr/bin/python3 python3; do
    command -v "$p" >/dev/null && "$p" -c 'import venv, ensurepip' >/dev/null 2>&1 && { echo "$p"; return; }
  done
  apt_install python3 python3-venv
  echo /usr/bin/python3
}

# s3_answers: something serves moto's management API on the port (these requests are not counted
# as actions by INITIAL_NO_AUTH_ACTION_COUNT). Uses bash's /dev/tcp: no curl on a fresh machine.
s3_answers() {
  local status
  status=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
    head -n1 <&3' _ "$S3_PORT" 2>/dev/null) || return 1
  [[ $status == HTTP/*" 200"* ]]
}

port_in_use() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$S3_PORT" 2>/dev/null; }

S3_SETUP_PY='
import json, os, sys, time
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, out, bucket, region = sys.argv[1:5]
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
def client(service, ak, sk, token=None):
    return boto3.client(service, endpoint_url=endpoint, region_name=region, config=cfg,
                        aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=token)

allow_all = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
# The only unauthenticated calls (INITIAL_NO_AUTH_ACTION_COUNT=3): a user, its policy, its key.
iam = client("iam", "bootstrap", "bootstrap")
iam.create_user(UserName="daytona-test")
iam.put_user_policy(UserName="daytona-test", PolicyName="all", PolicyDocument=allow_all)
key = iam.create_access_key(UserName="daytona-test")["AccessKey"]
ak, sk = key["AccessKeyId"], key["SecretAccessKey"]

# From here on every request is signed and checked.
iam = client("iam", ak, sk)
trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="daytona-push", AssumeRolePolicyDocument=trust,
                       MaxSessionDuration=43200)["Role"]
iam.put_role_policy(RoleName="daytona-push", PolicyName="all", PolicyDocument=allow_all)
client("s3", ak, sk).create_bucket(Bucket=bucket)
sess = client("sts", ak, sk).assume_role(RoleArn=role["Arn"], RoleSessionName="daytona-test",
                                         DurationSeconds=43200)["Credentials"]

# Self-check: the session works; a wrong token and an unknown key do not.
s3 = client("s3", sess["AccessKeyId"], sess["SecretAccessKey"], sess["SessionToken"])
s3.put_object(Bucket=bucket, Key=".selftest", Body=b"ok")
s3.delete_object(Bucket=bucket, Key=".selftest")
for name, bad in (("wrong session token", client("s3", sess["AccessKeyId"], sess["SecretAccessKey"], "x" + sess["SessionToken"])),
                  ("unknown key", client("s3", "AKIAUNKNOWNUNKNOWN00", "nope"))):
    try:
        bad.put_object(Bucket=bucket, Key=".selftest", Body=b"no")
    except ClientError:
        continue
    sys.exit("moto accepted a request with a " + name + ": auth checks are off")

data = {"endpoint": endpoint, "region": region, "bucket": bucket,
        "accessKey": sess["AccessKeyId"], "secret": sess["SecretAccessKey"],
        "sessionToken": sess["SessionToken"], "expiration": sess["Expiration"].isoformat(),
        "userAccessKey": ak, "userSecret": sk, "roleArn": role["Arn"]}
with open(out + ".tmp", "w") as f:
    json.dump(data, f, indent=2)
    f.write("\n")
os.replace(out + ".tmp", out)
'

cmd_s3() {
  local t0 endpoint=http://127.0.0.1:$S3_PORT py pid i log=$LOG_DIR/s3-setup.log
  t0=$(now_ms)
  if [ -s "$S3_JSON" ] && grep -q "\"$endpoint\"" "$S3_JSON" && s3_answers; then
    say "s3: moto already answering at $endpoint; credentials $S3_JSON"
    return 0
  fi
  # Not usable as is: ours is stale (no credentials, or a different port) -> restart it.
  if pid_alive "$S3_PIDFILE" moto_server; then
    kill "$(cat "$S3_PIDFILE")" 2>/dev/null || true
    for i in $(seq 1 50); do pid_alive "$S3_PIDFILE" moto_server || break; sleep 0.1; done
  fi
  rm -f "$S3_JSON" "$S3_PIDFILE"
  port_in_use && die "s3: port $S3_PORT is taken by a process this script did not start (set DAYTONA_TEST_S3_PORT)"

  if [ "$(cat "$S3_VENV/.installed" 2>/dev/null)" != "moto[server]==$MOTO_VERSION" ]; then
    py=$(host_python)
    rm -rf "$S3_VENV"
    logged "$log" "$py" -m venv "$S3_VENV"
    logged "$log" "$S3_VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION"
    echo "moto[server]==$MOTO_VERSION" >"$S3_VENV/.installed"
  fi

  echo "=== $(date -Is) moto_server -H 127.0.0.1 -p $S3_PORT" >>"$S3_LOG"
  INITIAL_NO_AUTH_ACTION_COUNT=$S3_NO_AUTH_ACTIONS spawn "$S3_LOG" "$S3_VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT"
  pid=$!
  echo "$pid" >"$S3_PIDFILE"
  for i in $(seq 1 100); do
    s3_answers && break
    running "$pid" || break
    sleep 0.1
  done
  s3_answers || fail_log "$S3_LOG" "s3: moto_server (pid $pid) did not answer on port $S3_PORT within 10 s"
  echo "=== $(date -Is) setup" >>"$log"
  # Empty environment apart from PATH: no AWS_* variables or config files of the host take part.
  if ! env -i PATH=/usr/bin:/bin HOME=/nonexistent AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
      "$S3_VENV/bin/python" -c "$S3_SETUP_PY" "$endpoint" "$S3_JSON" daytona-volume-builds us-east-1 >>"$log" 2>&1; then
    kill "$pid" 2>/dev/null || true
    rm -f "$S3_PIDFILE"
    fail_log "$log" "s3: setting up users/role/bucket on moto failed"
  fi
  say "s3: started moto $MOTO_VERSION at $endpoint (pid $pid) in $(since "$t0"); credentials $S3_JSON"
}

# ---------------------------------------------------------------------------------------------
# stop

stop_one() { # NAME PIDFILE MATCH
  local pid i
  if ! pid_alive "$2" "$3"; then
    rm -f "$2"
    say "stop: $1 not running (not started by this script)"
    return 0
  fi
  pid=$(cat "$2")
  kill "$pid"
  for i in $(seq 1 300); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    say "stop: $1 (pid $pid) ignored SIGTERM for 30 s; killed"
  else
    say "stop: $1 (pid $pid) stopped"
  fi
  rm -f "$2"
}

cmd_stop() {
  stop_one moto "$S3_PIDFILE" moto_server
  rm -f "$S3_JSON"
  stop_one dockerd "$SERVICES_DIR/dockerd.pid" dockerd
}

# ---------------------------------------------------------------------------------------------

usage() { echo "usage: $0 (engine|images|s3|all|stop)..." >&2; exit 2; }

[ $# -ge 1 ] || usage
for arg in "$@"; do
  case $arg in engine|images|s3|all|stop) ;; *) usage ;; esac
done
setup_dirs
for arg in "$@"; do
  case $arg in
    engine) cmd_engine ;;
    images) cmd_images ;;
    s3) cmd_s3 ;;
    all) cmd_engine; cmd_images; cmd_s3 ;;
    stop) cmd_stop ;;
  esac
done

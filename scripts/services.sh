#!/usr/bin/env bash
# services.sh — install (from Debian) and start the real components the integration tests use:
# the Docker Engine, a docker-registry on 127.0.0.1, skopeo, umoci, runc, oci-image-tool, strace, buildah.
# Idempotent: what is installed is not reinstalled, what runs is not restarted.
# Exports nothing; writes the registry address to $FROMSCRATCH_STATE/registry.
set -euo pipefail

STATE=${FROMSCRATCH_STATE:-/tmp/fromscratch-services}
mkdir -p "$STATE"

need_pkgs=()
want() { command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2"); }
want skopeo skopeo
want umoci umoci
want runc runc
want oci-image-tool oci-image-tool
want strace strace
want docker-registry docker-registry
want dockerd docker.io
want buildah buildah
want pigz pigz
want jq jq
# Python console scripts (their entry points); Debian's own, wherever PATH finds another pip3
want yq yq
[ -x /usr/bin/pygmentize ] || need_pkgs+=(python3-pygments)
[ -x /usr/bin/pip3 ] || need_pkgs+=(python3-pip)
want setcap libcap2-bin
want getfattr attr
want readelf binutils
want gcc gcc
want python3 python3
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need_pkgs+=(python3-yaml)
# a library a Python app loads through ctypes
ls /usr/lib/*/libpng16.so.16 >/dev/null 2>&1 || need_pkgs+=(libpng16-16)
# the real-program corpus (test/e2e/real-launch-*.test.ts, real-check.test.ts)
/usr/bin/python3 -c 'import cryptography' >/dev/null 2>&1 || need_pkgs+=(python3-cryptography)
want tclsh tcl
want guile guile-3.0
# a Perl script's modules from Debian's vendor directories (pure Perl, and DBI with its compiled part)
for m in JSON=libjson-perl DBI=libdbi-perl Algorithm::Diff=libalgorithm-diff-perl; do
  /usr/bin/perl -M"${m%%=*}" -e1 >/dev/null 2>&1 || need_pkgs+=("${m#*=}")
done
want file file
# GLib's GSettings (gsettings and the compiled schemas of the packages installed)
want gsettings libglib2.0-bin
[ -f /usr/share/glib-2.0/schemas/org.gnome.system.proxy.gschema.xml ] || need_pkgs+=(gsettings-desktop-schemas)
want git git
want gpg gnupg
want gpg-agent gpg-agent
want tini tini
want make make
want bzip2 bzip2
# zip -T runs unzip; rsync runs ssh (openssh-client, above)
want zip zip
want unzip unzip
want rsync rsync
want tput ncurses-bin
want ruby ruby
want rake rake
# Ruby libraries outside the standard library: a gem of Debian's rubygems-integration (webrick), one
# with a compiled extension (sdbm), a library of vendor_ruby (xmlrpc)
ls /usr/share/rubygems-integration/all/specifications/webrick-*.gemspec >/dev/null 2>&1 || need_pkgs+=(ruby-webrick)
[ -f /usr/lib/ruby/vendor_ruby/xmlrpc.rb ] || need_pkgs+=(ruby-xmlrpc)
ls /usr/lib/*/rubygems-integration/*/extensions/*/*/sdbm-*/sdbm.so >/dev/null 2>&1 || need_pkgs+=(ruby-sdbm)
# drivers of a formatting pipeline
want groff groff-base
want man man-db
want ssh-keygen openssh-client
want openssl openssl
want setpriv util-linux
want nginx nginx-light
# tinyproxy-bin has the program; the tinyproxy package its configuration (the program-files corpus)
[ -f /etc/tinyproxy/tinyproxy.conf ] || need_pkgs+=(tinyproxy)
# servers given their configuration on the command line (the program-files corpus); redis-server brings
# redis-cli
want haproxy haproxy
# a database server and its client (the server drops to the user its command line names)
want mariadbd mariadb-server
want mariadb mariadb-client
# servers that run helper programs (squid's /usr/lib/squid, lighttpd's include_shell scripts)
want squid squid
want lighttpd lighttpd
want apache2 apache2
want redis-server redis-server
# servers told on their command line which system user to drop to
want memcached memcached
# a runtime that is a whole root beside its launcher (Erlang/OTP)
want erl erlang-base
want dnsmasq dnsmasq-base
# daemons whose runtime directory the init system makes when the service starts (/run/mosquitto,
# /run/sshd) and that look up an account compiled into them
[ -x /usr/sbin/mosquitto ] || need_pkgs+=(mosquitto)
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
# libraries that load modules from a directory compiled into them (ImageMagick's coders, Graphviz's
# plugins, SoX's formats); convert by its real name (a machine may put a stand-in earlier on PATH)
[ -x /usr/bin/convert-im6.q16 ] || need_pkgs+=(imagemagick-6.q16)
want dot graphviz
# fontconfig: fc-match, and the font configuration graphviz and ImageMagick draw text with
want fc-match fontconfig
want sox sox
want php php-cli
# programs that read their data from a compiled-in directory under /usr/share
want vim.basic vim
want nmap nmap
# a program finding its configuration as SYSCONFDIR + a name (dpkg lists it among its conffiles)
want enscript enscript
want hunspell hunspell
want pandoc pandoc
want gdb gdb
want cmake cmake
[ -f /usr/share/hunspell/en_US.dic ] || need_pkgs+=(hunspell-en-us)
want gs ghostscript
want curl curl
want zstd zstd
want xz xz-utils
[ -f /usr/include/zlib.h ] || need_pkgs+=(zlib1g-dev)
want javac openjdk-17-jdk-headless
want mvn maven
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_pkgs+=(postgresql-15)
want gawk gawk
want locale-gen locales
want chromium chromium
want zsh zsh
want fish fish
want tmux tmux
want valgrind valgrind
# valgrind's memcheck stops at start without the dynamic loader's symbols (separate debug info)
dpkg -s libc6-dbg >/dev/null 2>&1 || need_pkgs+=(libc6-dbg)
[ -d /usr/share/gocode/src/github.com/opencontainers/image-spec/schema ] || need_pkgs+=(golang-github-opencontainers-image-spec-dev)

# the differential package tests read the host's apt lists (bookworm main)
ls /var/lib/apt/lists/*_dists_bookworm_main_binary-amd64_Packages* >/dev/null 2>&1 || need_update=1

if [ ${#need_pkgs[@]} -gt 0 ] || [ "${need_update:-0}" = 1 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "services: missing ${need_pkgs[*]}; run as root or: sudo apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
  echo "services: installing ${need_pkgs[*]:-nothing; refreshing the apt lists}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  [ ${#need_pkgs[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

# --- Docker Engine -----------------------------------------------------------------------------------
docker_ok() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if ! docker_ok; then
  echo "services: starting dockerd" >&2
  mkdir -p "$STATE/docker"
  # Debian's dockerd; overlay2 may fail inside a container, so fall back to vfs.
  (setsid dockerd --host unix:///var/run/docker.sock >"$STATE/dockerd.log" 2>&1 &)
  for _ in $(seq 1 60); do docker_ok && break; sleep 1; done
  if ! docker_ok; then
    echo "services: dockerd did not start with the default storage driver; retrying with vfs" >&2
    pkill -x dockerd || true
    sleep 2
    (setsid dockerd --host unix:///var/run/docker.sock --storage-driver vfs >"$STATE/dockerd.log" 2>&1 &)
    for _ in $(seq 1 60); do docker_ok && break; sleep 1; done
  fi
  docker_ok || { echo "services: dockerd failed to start; see $STATE/dockerd.log" >&2; tail -20 "$STATE/dockerd.log" >&2; exit 1; }
fi

# --- registry on loopback ---------------------------------------------------------------------------
REG_PORT=${FROMSCRATCH_REGISTRY_PORT:-5055}
if ! curl -fsS "http://127.0.0.1:$REG_PORT/v2/" >/dev/null 2>&1; then
  echo "services: starting docker-registry on 127.0.0.1:$REG_PORT" >&2
  mkdir -p "$STATE/registry/data"
  cat >"$STATE/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REG_PORT
YAML
  (setsid docker-registry serve "$STATE/registry/config.yml" >"$STATE/registry/log.txt" 2>&1 &)
  for _ in $(seq 1 30); do curl -fsS "http://127.0.0.1:$REG_PORT/v2/" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fsS "http://127.0.0.1:$REG_PORT/v2/" >/dev/null || { echo "services: registry failed; see $STATE/registry/log.txt" >&2; exit 1; }
fi
echo "127.0.0.1:$REG_PORT" >"$STATE/registry-address"

# --- Debian test mirror ------------------------------------------------------------------------------
# The package tests install real Debian packages from a snapshot served on loopback (no network and no
# calendar in the tests); it is taken here once, from the host's apt source.
node --import tsx test/support/debian-mirror.ts --ensure

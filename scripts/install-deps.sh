#!/bin/sh
# install-deps.sh - install the Debian packages Shield builds and tests with.
# Idempotent: installs only what is missing; needs root for apt-get.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev zstd
libgmime-3.0-dev libpsl-dev publicsuffix libidn2-dev libmagic-dev libarchive-dev
libsqlite3-dev sqlite3 libzstd-dev libssl-dev libjansson-dev libcurl4-openssl-dev
libmaxminddb-dev libicu-dev libopendkim-dev opendkim-tools python3-dkim python3 rspamd hyperfine
mmdb-bin bgpdump python3-pyasn python3-aiosmtpd python3-jsonschema libmaxmind-db-writer-perl
postfix unbound bind9-dnsutils bind9-utils"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run 'sudo make deps' (or apt-get install them) first" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "install-deps: apt-get update failed; trying the cached lists" >&2
postfix_new=
case " $missing " in *" postfix "*) postfix_new=1 ;; esac
if [ -n "$postfix_new" ]; then
	# answer postfix's debconf questions (no prompt); the tests run their
	# own Postfix instance (tests/notify/notify_postfix.sh), never this one
	echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
	echo "postfix postfix/mailname string cert.test" | debconf-set-selections
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
# postfix was not installed before, so a running system instance is one the
# package install started: stop it
if [ -n "$postfix_new" ] && postfix status >/dev/null 2>&1; then
	echo "install-deps: stopping the system Postfix the package install started"
	postfix stop || echo "install-deps: 'postfix stop' failed" >&2
fi
# the same for unbound: tests/act/rpz_unbound.sh runs its own on 127.0.0.1
case " $missing " in *" unbound "*)
	if [ -s /run/unbound.pid ] && kill -0 "$(cat /run/unbound.pid)" 2>/dev/null; then
		echo "install-deps: stopping the system unbound the package install started"
		kill "$(cat /run/unbound.pid)" || echo "install-deps: stopping unbound failed" >&2
	fi ;;
esac

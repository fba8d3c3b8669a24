#!/bin/sh
# Random secrets for deploy/compose.yaml, written once into deploy/secrets/ (an existing
# file is kept: run it again safely). Only root on the host can enter the folder; inside,
# the files are readable by the containers' own users (Compose mounts them as they are).
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
chmod 0700 secrets
cd secrets

random() { openssl rand -hex "$1"; }
keep_or_write() {  # name, content
    [ -e "$1" ] && return 0
    printf '%s\n' "$2" >"$1"
    chmod 0644 "$1"
}

[ -e db_password ] || keep_or_write db_password "$(random 24)"
keep_or_write database_url "postgresql://locker:$(cat db_password)@db:5432/locker"
keep_or_write secret_key "$(random 48)"
keep_or_write metrics_token "$(random 32)"
[ -e s3_access_key ] || keep_or_write s3_access_key "locker$(random 6)"
[ -e s3_secret_key ] || keep_or_write s3_secret_key "$(random 24)"
keep_or_write s3_credentials "[default]
aws_access_key_id = $(cat s3_access_key)
aws_secret_access_key = $(cat s3_secret_key)"
[ -e redis_conf ] || keep_or_write redis_conf "requirepass $(random 24)"
keep_or_write throttle_url "redis://:$(sed -n 's/^requirepass //p' redis_conf)@redis:6379/0"

for file in tls_certificate tls_private_key; do
    [ -e "$file" ] || echo "still missing: deploy/secrets/$file (the site's certificate chain and its key, PEM)"
done

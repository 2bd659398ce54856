#!/usr/bin/env bash
# Mount life cycle: SIGTERM unmounts cleanly and keeps closed data; a
# foreground mount serves; -o options reach FUSE (allow_other lets another
# user in, and then tessera's own permission checks apply).
source "$(dirname "$0")/lib.sh"
format_volume
mount_volume -o allow_other

# Permission checks for a non-root caller.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mkdir "$MNT/open" "$MNT/closed"
chmod 777 "$MNT/open"
chmod 700 "$MNT/closed"
echo secret >"$MNT/closed/s"
echo public >"$MNT/pub"
chmod 644 "$MNT/pub"
expect_eq "other users read a 0644 file" "$(as_nobody cat "$MNT/pub")" public
if as_nobody sh -c "echo x >'$MNT/pub'" 2>/dev/null; then fail "nobody wrote a 0644 root file"; fi
if as_nobody cat "$MNT/closed/s" 2>/dev/null; then fail "nobody searched a 0700 directory"; fi
if as_nobody touch "$MNT/closed/newfile" 2>/dev/null; then fail "nobody created inside a 0700 directory"; fi
check "nobody creates in a 0777 directory" as_nobody sh -c "echo mine >'$MNT/open/n'"
expect_eq "new file is owned by its creator" "$(stat -c %u:%g "$MNT/open/n")" 65534:65534
if as_nobody chown 0 "$MNT/open/n" 2>/dev/null; then fail "nobody gave a file away"; fi
if as_nobody chmod 777 "$MNT/pub" 2>/dev/null; then fail "nobody chmod'ed root's file"; fi

# SIGTERM: the daemon unmounts and exits; data closed before is kept.
head -c 3000000 /dev/urandom >"$WORK/data"
cp "$WORK/data" "$MNT/kept"
pid=$(pgrep -f "tessera mount $META" | head -1)
[ -n "$pid" ] || fail "no daemon process"
kill -TERM "$pid"
check "daemon exits on SIGTERM" wait_until 20 bash -c "! kill -0 $pid 2>/dev/null"
mountpoint -q "$MNT" && fail "still mounted after SIGTERM"
"$TESSERA" status "$META" | grep -q '"mountpoint"' && fail "session left behind after SIGTERM"

# A foreground mount.
# (a script's background jobs start with SIGINT ignored; give it back its default)
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' "$TESSERA" mount "$META" "$MNT" --cache-dir "$WORK/cache" >"$WORK/fg.log" 2>&1 &
fg=$!
check "foreground mount comes up" wait_until 20 mountpoint -q "$MNT"
check "data intact after SIGTERM and remount" cmp "$WORK/data" "$MNT/kept"
kill -INT "$fg"
check "foreground mount ends on SIGINT" wait_until 20 bash -c "! kill -0 $fg 2>/dev/null"
mountpoint -q "$MNT" && fail "still mounted after SIGINT"
pass

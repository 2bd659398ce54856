#!/usr/bin/env bash
# The trash: a removed file waits in the hidden /.trash/<hour>/ as
# <parent>-<inode>-<name> (root only), `tessera restore` puts it back byte for
# byte, hours past the trash days are purged; --trash-days 0 frees at once.
source "$(dirname "$0")/lib.sh"
format_volume  # trash on: 1 day by default
mount_volume --trash-purge-interval 1

mkdir "$MNT/d"
head -c $((3 << 20)) /dev/urandom >"$WORK/orig"
cp "$WORK/orig" "$MNT/d/f"
echo old >"$MNT/d/h"
echo new >"$MNT/d/g"
sync
parent=$(stat -c %i "$MNT/d")
ino=$(stat -c %i "$MNT/d/f")
hino=$(stat -c %i "$MNT/d/h")
objects=$(count_objects)
space=$(usage_of used_space)

exec 7<"$MNT/d/f"
rm "$MNT/d/f"
expect_eq "an open removed file shows no links" "$(stat -L -c %h /proc/self/fd/7)" 0
check "and reads on" cmp "$WORK/orig" /proc/self/fd/7
exec 7<&-
mv "$MNT/d/g" "$MNT/d/h"  # replaces h: the old h goes to the trash too
[ ! -e "$MNT/d/f" ] || fail "removed name still there"
expect_eq "d lists" "$(ls "$MNT/d")" h
expect_eq "h is the renamed file" "$(cat "$MNT/d/h")" new
ls -a "$MNT" | grep -qx .trash && fail "the root lists .trash"
expect_error "no .trash in the root" "exists|Operation not permitted" mkdir "$MNT/.trash"

hours=$(ls "$MNT/.trash")
expect_eq "one hour directory" "$(echo "$hours" | wc -l)" 1
[[ "$hours" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}$ ]] || fail "hour directory '$hours'"
expect_eq "trash entries" "$(ls "$MNT/.trash/$hours" | sort | tr '\n' ' ')" \
  "$(printf '%s\n' "$parent-$ino-f" "$parent-$hino-h" | sort | tr '\n' ' ')"
check "content intact in the trash" cmp "$WORK/orig" "$MNT/.trash/$hours/$parent-$ino-f"
sleep 1.5  # a purge and a cleanup pass run meanwhile
expect_eq "blocks kept in the trash" "$(count_objects)" "$objects"
[ "$(usage_of used_space)" -ge "$space" ] || fail "the trash no longer counts in used_space"

# restore: f comes back; h's name is taken, so it stays.
out=$("$TESSERA" restore "$META" "$MNT/.trash/$hours/")
echo "$out" | grep -q "1 restored, 1 left in the trash" || fail "restore said: $out"
echo "$out" | grep -q "kept $hours/$parent-$hino-h" || fail "restore did not report h: $out"
check "restored byte for byte" wait_until 5 cmp "$WORK/orig" "$MNT/d/f"
expect_eq "restored inode" "$(stat -c %i "$MNT/d/f")" "$ino"
expect_eq "h still in the trash" "$(ls "$MNT/.trash/$hours")" "$parent-$hino-h"
expect_error "restore of a missing hour" "no hour directory" "$TESSERA" restore "$META" 2000-01-01-00

# Purge: an hour past the trash days (here renamed to an old hour) goes for real.
rm "$MNT/d/f"
mv "$MNT/.trash/$hours" "$MNT/.trash/2000-01-01-00"
check "purged hour's blocks freed" wait_until 20 bash -c "[ \$(find '$BUCKET' -type f -path '*/chunks/*' | wc -l) -lt $objects ]"
check "purged hour gone" wait_until 5 bash -c "[ -z \"\$(ls '$MNT/.trash')\" ]"
umount_volume

# --trash-days 0: removed files are freed at once and there is no trash.
META="sqlite3://$WORK/meta0.db"
BUCKET="$WORK/blocks0"
format_volume --trash-days 0
mount_volume
cp "$WORK/orig" "$MNT/f"
sync
objects=$(count_objects)
[ "$objects" -ge 1 ] || fail "nothing stored"
rm "$MNT/f"
check "blocks freed at once" wait_until 10 bash -c "[ \$(find '$BUCKET' -type f -path '*/chunks/*' | wc -l) -eq 0 ]"
[ ! -e "$MNT/.trash" ] || fail "a trash without --trash-days"
umount_volume
pass

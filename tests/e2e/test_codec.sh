#!/usr/bin/env bash
# Compression and encryption of blocks, seen from the bucket: compressible
# data takes fewer bytes, incompressible data still round-trips; encrypted
# blocks never hold the plaintext, the volume needs its passphrase, and a
# flipped byte in any block is EIO, never wrong data.
source "$(dirname "$0")/lib.sh"
bucket_bytes() { du -sb "$BUCKET" | cut -f1; }

# --- compression
format_volume --compress zstd
mount_volume
{ yes "tessera keeps this line in object storage, many times over" || true; } | head -c $((64 << 20)) >"$WORK/text"
head -c $((16 << 20)) /dev/urandom >"$WORK/noise"
cp "$WORK/text" "$WORK/noise" "$MNT/"
sync
check "compressible file reads back" cmp "$WORK/text" "$MNT/text"
check "incompressible file reads back" cmp "$WORK/noise" "$MNT/noise"
used=$(bucket_bytes)
# 64 MiB of text should shrink to a small fraction; the 16 MiB of noise cannot.
[ "$used" -lt $(((16 << 20) + (8 << 20))) ] || fail "bucket holds $used bytes for 80 MiB written, 64 MiB of it text"
[ "$used" -gt $((16 << 20)) ] || fail "bucket holds $used bytes: smaller than the random data"
remount_volume
check "compressed file after remount" cmp "$WORK/text" "$MNT/text"
umount_volume

# --- encryption
rm -rf "$BUCKET" "$WORK/meta.db"*
openssl genrsa -aes256 -passout pass:s3cret-phrase -out "$WORK/key.pem" 2048 2>/dev/null
export TESSERA_RSA_PASSPHRASE=s3cret-phrase
format_volume --encrypt-rsa-key "$WORK/key.pem" --compress lz4
mount_volume
marker="TESSERA-PLAINTEXT-MARKER-$RANDOM"
for i in $(seq 1 20000); do echo "$marker $i"; done >"$WORK/marked"
cp "$WORK/marked" "$MNT/marked"
head -c $((5 << 20)) /dev/urandom >"$WORK/rand"
cp "$WORK/rand" "$MNT/rand"
sync
check "encrypted file reads back" cmp "$WORK/marked" "$MNT/marked"
if grep -rq "$marker" "$BUCKET"; then fail "a block in the bucket holds the plaintext marker"; fi
"$TESSERA" status "$META" | grep -q "PRIVATE KEY" && fail "status shows the private key"
umount_volume

out=$(env -u TESSERA_RSA_PASSPHRASE "$TESSERA" mount "$META" "$MNT" --background --log "$WORK/mount.log" 2>&1) \
  && fail "mounted an encrypted volume without its passphrase"
echo "$out" | grep -q "TESSERA_RSA_PASSPHRASE" || fail "no hint about the passphrase: $out"
[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "more than one line: $out"
out=$(TESSERA_RSA_PASSPHRASE=wrong "$TESSERA" mount "$META" "$MNT" --background --log "$WORK/mount.log" 2>&1) \
  && fail "mounted with a wrong passphrase"
echo "$out" | grep -qi "passphrase" || fail "wrong passphrase message: $out"

# Flip one byte in every block of one file: every read of it fails with EIO.
mount_volume
keys=$("$TESSERA" info "$MNT/rand" | grep -o '"testvol/chunks/[^"]*"' | tr -d '"')
[ -n "$keys" ] || fail "info lists no objects for rand"
umount_volume
for k in $keys; do
  f="$BUCKET/$k"
  size=$(stat -c %s "$f")
  pos=$((size / 2))
  byte=$(dd if="$f" bs=1 skip=$pos count=1 status=none | od -An -tu1 | tr -d ' ')
  printf "$(printf '\\%03o' $(((byte + 1) % 256)))" | dd of="$f" bs=1 seek=$pos count=1 conv=notrunc status=none
done
rm -rf "$WORK/cache"  # the local disk cache kept the good copies: read the bucket's
mount_volume
err=$(cat "$MNT/rand" 2>&1 >/dev/null) && fail "a damaged block was read without error"
echo "$err" | grep -q "Input/output error" || fail "damaged block gave: $err"
check "the undamaged file still reads" cmp "$WORK/marked" "$MNT/marked"
grep -q "testvol/chunks" "$WORK/mount.log" || fail "the log does not name the damaged object"
pass

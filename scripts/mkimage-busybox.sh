#!/bin/sh
# Build the default image, busybox:latest, from the host's busybox-static: no network needed.
# Usage: scripts/mkimage-busybox.sh [NAME:TAG]   (uses BOCKER_ROOT like bocker itself)
set -eu
name=${1:-busybox:latest}
here=$(cd "$(dirname "$0")/.." && pwd)
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "mkimage-busybox: $busybox missing: apt-get install busybox-static" >&2; exit 1; }

rootfs=$(mktemp -d)
chmod 755 "$rootfs"   # mktemp makes it 0700: other users could not reach /
trap 'rm -rf "$rootfs"' EXIT

# the usual top-level directories of a root filesystem
mkdir -p "$rootfs/bin" "$rootfs/sbin" "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/etc" \
         "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp" "$rootfs/root" \
         "$rootfs/var/www" "$rootfs/home"
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"

# one static binary, and a link for each applet it provides (sh, ls, echo, httpd, ...)
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done

# users and groups, so that `-u nobody` and `ls -l` have names to show
cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
tty:x:5:
www-data:x:33:
nogroup:x:65534:
GROUP

# (not exec: the trap removes the directory once bocker has copied it)
"$here/bocker.py" init "$rootfs" "$name"

#!/bin/sh
# The guest's init (runs from the initrd, busybox only): load the modules,
# mount the host root read-only with its own /tmp, /run, /var, /etc, mount
# the job and the project, and run the job. Its exit code comes back on the
# console as BLEAK-VM-RC=N.
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m 2>/dev/null; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot
for d in tmp run; do mount -t tmpfs $d /newroot/$d; done
mount -t proc proc /newroot/proc; mount -t sysfs sys /newroot/sys; mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts; mount -t devpts pts /newroot/dev/pts
mkdir -p /up; mount -t tmpfs up /up; mkdir -p /up/var /up/wvar /up/etc /up/wetc
mount -t overlay ov -o lowerdir=/newroot/var,upperdir=/up/var,workdir=/up/wvar /newroot/var
mount -t overlay ov -o lowerdir=/newroot/etc,upperdir=/up/etc,workdir=/up/wetc /newroot/etc
mkdir -p /newroot/run/job; mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 job /newroot/run/job
project=$(sed -n 's/.*bleak\.project=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$project" ]; then
  # Under /tmp the directory must be made in the guest's tmpfs; elsewhere it
  # exists on the read-only root already, and a mount over it works.
  mkdir -p "/newroot$project" 2>/dev/null
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 project "/newroot$project"
fi
chroot /newroot /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LANG=C.UTF-8 \
  BLEAK_PROJECT="$project" /bin/sh -c 'cd /run/job && exec /bin/sh ./vmjob.sh'
echo "BLEAK-VM-RC=$?"
poweroff -f

#!/bin/busybox sh
# /init of the Xen test bed's dom0 (busybox): brings up the Xen toolstack
# (xenfs, xenstored, xen-init-dom0, xenconsoled), runs /xa/dom0-run.sh and
# powers the machine off. Everything it says goes to hvc0 -> Xen -> com1.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin /root
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin:/xa/bin HOME=/root
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /var/run/xen /var/run/xenstored /var/lib/xen /var/lib/xenstored \
    /var/log/xen/console /var/lock /etc/xen
mount -t devpts devpts /dev/pts
echo "XA-DOM0-UP $(cut -d' ' -f1 /proc/uptime)"
KVER=$(uname -r)
while read -r m; do
    [ -n "$m" ] && { insmod "/lib/modules/$KVER/$m" || echo "XA-WARN: insmod $m failed"; }
done < /xa/modules.list
mount -t xenfs xenfs /proc/xen || echo "XA-WARN: no xenfs"
xenstored --pid-file /var/run/xenstored.pid || echo "XA-WARN: xenstored failed"
xen-init-dom0 || echo "XA-WARN: xen-init-dom0 failed"
xenconsoled --log=guest --log-dir=/var/log/xen/console || echo "XA-WARN: xenconsoled failed"
echo "XA-TOOLSTACK-UP $(cut -d' ' -f1 /proc/uptime)"
sh /xa/dom0-run.sh 2>&1
echo "XA-DOM0-DONE $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f

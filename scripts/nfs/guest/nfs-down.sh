#!/usr/bin/env bash
# INSIDE the guest: unmount both clients and stop the server (the guest is thrown away anyway; this makes
# sure dirty client data reached the server before the guest powers off).
umount /mnt/nfs-a /mnt/nfs-b 2>/dev/null || umount -f -l /mnt/nfs-a /mnt/nfs-b 2>/dev/null
rpc.nfsd 0 2>/dev/null
exportfs -ua 2>/dev/null
true

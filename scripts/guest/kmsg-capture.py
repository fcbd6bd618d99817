#!/usr/bin/env python3
"""Copies the kernel log from /dev/kmsg to a file, continuously, from the oldest record still in
the ring (boot, when started early) until killed: a splat stays in the file however much is
logged after it. A reader that falls behind the ring gets EPIPE for the records overwritten;
that is written into the file as a line the splat scan treats as a failure (nothing may be
assumed about what was lost).   usage: kmsg-capture.py FILE"""
import os
import sys

fd = os.open("/dev/kmsg", os.O_RDONLY)
with open(sys.argv[1], "a", buffering=1, encoding="utf-8") as out:
    while True:
        try:
            rec = os.read(fd, 16384)
        except BrokenPipeError:
            out.write("rsm-kmsg: records lost (the capture fell behind the ring buffer)\n")
            continue
        except InterruptedError:
            continue
        if not rec:
            break
        # "prio,seq,usec,flags;message\n" then " KEY=value" dictionary lines.
        head, _, body = rec.decode("utf-8", "replace").partition(";")
        msg = body.split("\n", 1)[0]
        fields = head.split(",")
        usec = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
        out.write(f"[{usec // 1000000:5d}.{usec % 1000000:06d}] {msg}\n")

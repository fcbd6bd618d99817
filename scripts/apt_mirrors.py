#!/usr/bin/env python3
"""Prints "ARCHIVE_URI SECURITY_URI": the Debian mirrors this host's own apt configuration uses
(/etc/apt/sources.list and sources.list.d/*.list one-line entries, sources.list.d/*.sources
deb822 stanzas), so that the project's private apt lists go through the same mirror (and, via
the host's apt.conf, the same proxy). The archive is the entry serving the host's release
(VERSION_CODENAME in /etc/os-release, or -updates/-backports of it); security is the entry
serving <codename>-security. RSM_APT_ARCHIVE / RSM_APT_SECURITY override either."""
import glob
import os
import re
import sys

APT = os.environ.get("RSM_APT_ETC", "/etc/apt")


def one_line(path):
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        line = re.sub(r"\[[^\]]*\]", " ", line)
        parts = line.split()
        if len(parts) >= 3:
            yield parts[1], [parts[2]]


def deb822(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    for stanza in re.split(r"\n[ \t]*\n", text):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            yield uri, fields.get("suites", "").split()


def entries():
    paths = [f"{APT}/sources.list"] + sorted(glob.glob(f"{APT}/sources.list.d/*.list"))
    for p in paths:
        if os.path.isfile(p):
            yield from one_line(p)
    for p in sorted(glob.glob(f"{APT}/sources.list.d/*.sources")):
        yield from deb822(p)


def codename():
    try:
        for line in open(os.environ.get("RSM_OS_RELEASE", "/etc/os-release"), encoding="utf-8"):
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def main():
    code = codename()
    if not code:
        sys.exit("apt_mirrors: no VERSION_CODENAME in /etc/os-release")
    archive = security = None
    for uri, suites in entries():
        uri = uri.rstrip("/")
        if security is None and f"{code}-security" in suites:
            security = uri
        if archive is None and any(s in (code, f"{code}-updates", f"{code}-backports") for s in suites):
            archive = uri
    archive = os.environ.get("RSM_APT_ARCHIVE") or archive
    security = os.environ.get("RSM_APT_SECURITY") or security
    if not archive:
        sys.exit(f"apt_mirrors: no entry for {code} in {APT}/sources.list(.d): set RSM_APT_ARCHIVE to a Debian mirror URI")
    if not security:
        # Debian's security archive lives beside the main one on the official mirrors.
        security = re.sub(r"/debian$", "/debian-security", archive)
        print(f"apt_mirrors: no {code}-security entry; using {security}", file=sys.stderr)
    print(archive, security)


if __name__ == "__main__":
    main()

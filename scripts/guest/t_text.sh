# shellcheck shell=bash
# plan: 59
# The text command interface and the report's socket and stats sections.

# The checks below count absolutely (live=4, released_user=5, errors=EINVAL:1, attempts=1 in a
# stats line) and pick sockets by position: start from no live socket and from statistics with
# no record of an earlier part (same key, or max_stat_keys reached), whatever ran before.
cmd "release all"; cmd "reset stats"

# Run in this shell (not through `check`, which forks) so the creator is this shell's pid ($BASHPID: the part runs in a subshell, $$ is the parent's).
if cmd "create inet stream tcp"; then ok "create inet stream tcp (text)"; else not_ok "create inet stream tcp (text)"; fi
line=$(socket_lines | tail -1)
myns=$(netns_inode /proc/self/ns/net)
check "socket line: family/type/protocol/state by name and number" grep -q \
    "family=inet(2) type=stream(1) protocol=tcp(6) state=CLOSE(7) hold=no " <<<"$line"
check "socket line: netns is the caller's ($myns)" grep -q "netns=$myns " <<<"$line"
check "socket line: creator comm is the writing shell" grep -q "pid=$BASHPID comm=bash " <<<"$line"
check "socket line: latency measured" grep -Eq "latency_ns=[1-9][0-9]*$" <<<"$line"
check "create inet6 dgram udp" cmd "create inet6 dgram udp"
check "create unix seqpacket" cmd "create unix seqpacket"
check "create netlink raw 0" cmd "create netlink raw 0"
check "three more live sockets" test "$(totals live)" = 4
expect_fail "kernel errno via text: inet stream udp" "Protocol not supported" cmd "create inet stream udp"
expect_fail "kernel errno via text: SOCK_NONBLOCK on inet stream (kernel path keeps flags)" "Invalid argument" cmd "create inet stream|nonblock"
check "type flags shown with the number in the stats line" grep -q "type=stream|nonblock(2049) .*errors=EINVAL:1 " "$DEV"
stat=$(grep "^stat .*family=inet(2) type=stream(1) protocol=udp(17)" "$DEV")
check "stats line counts the failure by errno name" grep -q "attempts=1 ok=0 failed=1 errors=EPROTONOSUPPORT:1 live=0" <<<"$stat"
check "stats line has a latency histogram" grep -Eq "hist_log2_ns=[0-9]+:1$" <<<"$stat"
expect_fail "malformed: create without a family" "Invalid argument" cmd "create"
expect_fail "malformed: unknown command" "Invalid argument" cmd "explode now"
expect_fail "malformed: unknown family name" "Invalid argument" cmd "create inet9 stream"
expect_fail "malformed: release of a non-number" "Invalid argument" cmd "release seven"
expect_fail "malformed: trailing garbage" "Invalid argument" cmd "release all now"
expect_fail "malformed: netns= relative path" "Invalid argument" cmd "create inet stream netns=run/netns/x"
expect_fail "malformed: over-long command" "Invalid argument" cmd "create inet stream $(printf 'x%.0s' $(seq 300))"
expect_fail "release of an unknown id" "No such file or directory" cmd "release 987654321"
expect_fail "netns= path that is not a netns" "Invalid argument" cmd "create inet stream netns=/dev/null"
expect_fail "netns= path that does not exist" "No such file or directory" cmd "create inet stream netns=/run/netns/nope"
expect_fail "pid= of no process" "No such process" cmd "create inet stream pid=2147483647"
# bind / listen
tcp_id=$(socket_lines | grep "protocol=tcp(6)" | head -1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
check "bind the tcp socket to port 8080" cmd "bind $tcp_id 8080"
check "listen on it" cmd "listen $tcp_id"
check "the report shows it in LISTEN" grep -q "^socket id=$tcp_id .*state=LISTEN(10)" "$DEV"
udp6=$(socket_lines | grep "family=inet6(10).*protocol=udp(17)" | head -1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
check "bind the inet6 udp socket" cmd "bind $udp6 9000"
# Join keys: a bound kernel socket is in the protocol's hash tables, so sock_diag (ss) sees it;
# the report's ino= and cookie= are what ss -e prints as ino: and sk: (hex).
ss_keys() { socket_lines | sed -n "s/^socket id=$1 .* ino=\([0-9]*\) cookie=\([0-9a-f]*\) .*/ino:\1 sk:\2/p"; }
check "report: the listener's line says local=0.0.0.0:8080" grep -q "^socket id=$tcp_id .* local=0.0.0.0:8080 " "$DEV"
check "ss -tlne shows the listener with the report's ino and cookie ($(ss_keys "$tcp_id"))" \
    grep -Eq "0.0.0.0:8080 .*$(ss_keys "$tcp_id")( |$)" <<<"$(ss -Htlne 'sport = :8080')"
check "report: the inet6 udp socket's line says local=[::]:9000" grep -qF "local=[::]:9000 " <<<"$(socket_lines | grep "^socket id=$udp6 ")"
check "ss -ulne shows it with the report's ino and cookie" \
    grep -Eq "$(ss_keys "$udp6")( |$)" <<<"$(ss -Hulne 'sport = :9000')"
# The same keys through RSM_IOC_INFO (userspace_test info, and --json).
rkeys() { socket_lines | sed -n "s/^socket id=$1 .* \(ino=[0-9]* cookie=[0-9a-f]* local=[^ ]*\) .*/\1/p"; }
check "userspace_test info: the listener's ino, cookie and local as in the report ($(rkeys "$tcp_id"))" \
    grep -qF "$(rkeys "$tcp_id")" <<<"$("$UT" info "$tcp_id")"
check "userspace_test info --json: the inet6 socket's cookie and local [::]:9000" python3 -c '
import json, sys
i = json.loads(sys.argv[1])
assert (i["cookie"], i["local"], i["ino"]) == (sys.argv[2], "[::]:9000", int(sys.argv[3])), i' \
    "$("$UT" info --json "$udp6")" "$(ss_keys "$udp6" | sed 's/.*sk://')" "$(ss_keys "$udp6" | sed 's/ino:\([0-9]*\) .*/\1/')"
cmd "create inet dgram udp"
unbound=$(socket_lines | tail -1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
ino=$(socket_lines | sed -n "s/^socket id=$unbound .* ino=\([0-9]*\) .*/\1/p")
check "an unbound kernel udp socket: local=- in the report, absent from ss -uane (ino $ino)" \
    sh -c "grep -q '^socket id=$unbound .* local=- ' $DEV && ! ss -Huane | grep -q 'ino:$ino '"
cmd "release $unbound"
unix_id=$(socket_lines | grep "family=unix(1)" | head -1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
expect_fail "bind a unix socket: EAFNOSUPPORT" "Address family not supported" cmd "bind $unix_id 1"
expect_fail "bind to port 70000: EINVAL" "Invalid argument" cmd "bind $tcp_id 70000"
expect_fail "listen on an unknown id: ENOENT" "No such file or directory" cmd "listen 987654321"
expect_fail "bind without a port: EINVAL" "Invalid argument" cmd "bind $tcp_id"
first=$(socket_lines | head -1 | sed 's/^socket id=\([0-9]*\) .*/\1/')
check "release ID (text)" cmd "release $first"
check "released socket gone from the report" test -z "$(socket_lines | grep "^socket id=$first ")"
check "release all (text)" cmd "release all"
check "no socket lines after release all" test -z "$(socket_lines)"
check "released_user counts 5" test "$(totals released_user)" = 5

# Several commands in one write (printf with newlines): run in order; the first one that fails
# ends the write (a short write up to it; the writer's retry of the rest gets its error).
# (One write(2) each, in python: a shell's printf retries a short write, which would hide one.)
check "one write(2) of two newline-separated commands returns its whole length" python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
b = b"create inet dgram udp\ncreate unix stream\n"
n = os.write(fd, b)
assert n == len(b), n' "$DEV"
check "... both ran: 2 live" test "$(totals live)" = 2
check "a write whose second command is malformed: a short write up to it, then EINVAL for the rest" python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
b = b"create inet dgram udp\nexplode now\n"
n = os.write(fd, b)
assert n == len(b"create inet dgram udp\n"), n
try:
    os.write(fd, b[n:])
    sys.exit("the rest was accepted")
except OSError as e:
    assert e.errno == errno.EINVAL, e' "$DEV"
check "... its first command ran: 3 live" test "$(totals live)" = 3
cmd "release all"
# The report is a stream generated per open file: no lseek (ESPIPE for every whence, the misc
# device's fops have none); read(2) and pread(2) honour the offset they pass.
check "lseek: ESPIPE for SEEK_SET, SEEK_CUR and SEEK_END; pread at an offset reads those bytes" python3 - "$DEV" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for whence in (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END):
    try:
        os.lseek(fd, 5, whence)
        sys.exit(f"lseek whence={whence} succeeded")
    except OSError as e:
        assert e.errno == errno.ESPIPE, e
head = os.read(fd, 64)
assert os.pread(fd, 20, 10) == head[10:30], (head, os.pread(fd, 20, 10))
PY

# Reads honour the file offset: cat, dd bs=1 and a skip all see the same bytes. Each read pass
# stamps its own time (as_of_ms, and age_ms relative to it; fixed widths), so those digits are
# masked when comparing two passes.
mask() { sed -E 's/(as_of_ms|age_ms)=[0-9]+/\1=N/g'; }
for _ in $(seq 40); do cmd "create inet dgram udp"; done
# shellcheck disable=SC2002 # cat is the reader under test (its read sizes), as in the checks below.
full=$(cat "$DEV" | mask)
check "a report with 40 sockets has 40 socket lines" test "$(grep -c '^socket ' <<<"$full")" = 40
raw=$(cat "$DEV")
check "dd bs=1 reads the same bytes as cat" test "$(dd if="$DEV" bs=1 2>/dev/null | mask)" = "$full"
check "dd bs=7 skip=13 matches the same offset of cat" \
    test "$(dd if="$DEV" bs=7 skip=13 2>/dev/null | mask)" = "$(tail -c +92 <<<"$raw" | mask)"
check "less sees the same bytes" test "$(less -f "$DEV" 2>/dev/null | mask)" = "$full"
ages_ok=$(awk -F'age_ms=' '/^socket /{split($2,a," "); if (a[1]+0 > 600000) bad=1} END{print bad ? "no" : "yes"}' <<<"$raw")
check "socket ages within one pass are plausible (< 10 min)" test "$ages_ok" = yes
check "the userspace ioctl devtest passes" "$UT" devtest
check "reset stats (text)" cmd "reset stats"
check "reset keeps live, zeroes attempts" test "$(totals attempts)-$(totals live)" = "0-40"
check "release all again" cmd "release all"

#!/usr/bin/env bash
# NAT lab: three network namespaces, a UA behind a masquerading router and a
# proxy on the "public" side. Nothing is attached to the root namespace, so
# no lab packet can leave the machine.
#
#   se-ua                        se-nat                           se-pub
#   192.168.77.10/24 ---- 192.168.77.1/24 | 198.51.100.2/24 ---- 198.51.100.1/24
#   se-ua0        veth   se-nat-priv      | se-nat-pub    veth   se-pub0
#   default via 192.168.77.1   MASQUERADE out of se-nat-pub      (proxy)
#
# 198.51.100.0/24 is TEST-NET-2 (RFC 5737) and 192.168.77.0/24 private:
# the UA's Contact and Via carry 192.168.77.10, which the proxy sees arrive
# from 198.51.100.2:<port chosen by the NAT>, so nat_uac_test(19) fires.
#
# Usage:
#   loadtest/natlab.sh up                 (re)create the lab; NAT_RANDOM_FULLY=1
#                                         adds --random-fully to MASQUERADE
#   loadtest/natlab.sh down               remove it (idempotent)
#   loadtest/natlab.sh exec pub|nat|ua CMD...   run CMD inside a namespace
#   loadtest/natlab.sh status             namespaces, addresses, NAT rule, conntrack
#   loadtest/natlab.sh check              UDP echo through the NAT (python3): the
#                                         server in se-pub must see 198.51.100.2
#                                         and the UA must get the echo back; prints
#                                         the translated source ports, and with
#                                         --random-fully in force checks that they
#                                         were randomised. Brings the lab up (and
#                                         down again) when it is not up.
#
# Needs root, iproute2, iptables, python3 (installed with apt-get when missing;
# SIPEDGE_NO_INSTALL=1 refuses). If `up` fails half-way, what it made is
# removed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LT_NAME=natlab
# shellcheck source=loadtest/lib.sh
. "$SCRIPT_DIR/lib.sh"

NS_PUB=se-pub NS_NAT=se-nat NS_UA=se-ua
IF_PUB=se-pub0 IF_NAT_PUB=se-nat-pub IF_NAT_PRIV=se-nat-priv IF_UA=se-ua0
PUB_IP=198.51.100.1 NAT_PUB_IP=198.51.100.2 NAT_PRIV_IP=192.168.77.1 UA_IP=192.168.77.10
ECHO_PORT="${ECHO_PORT:-7777}"

usage() {
    sed -n '/^# Usage:/,/^# Needs root/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

need_root() { [[ "$(id -u)" == 0 ]] || die "natlab needs root (network namespaces, iptables)"; }

ns_exists() { ip netns list 2>/dev/null | awk '{ print $1 }' | grep -qx "$1"; }

lab_is_up() { ns_exists "$NS_PUB" && ns_exists "$NS_NAT" && ns_exists "$NS_UA"; }

lab_down() {
    local ns
    for ns in "$NS_UA" "$NS_NAT" "$NS_PUB"; do
        if ns_exists "$ns"; then
            # Deleting a namespace deletes its veth ends (and their peers).
            ip netns delete "$ns" 2>/dev/null || log "WARNING: could not delete netns $ns (a process still inside? ip netns pids $ns)"
        fi
    done
    return 0
}

lab_up() {
    need_root
    ensure_cmds ip:iproute2 iptables:iptables python3:python3
    lab_down
    trap 'lab_down' EXIT # undo a half-built lab
    local ns
    for ns in "$NS_PUB" "$NS_NAT" "$NS_UA"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # No IPv6 chatter (RS, MLD, DAD) in the lab.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    # Each veth is created directly inside its namespaces: never in the root one.
    ip -n "$NS_PUB" link add "$IF_PUB" type veth peer name "$IF_NAT_PUB" netns "$NS_NAT"
    ip -n "$NS_UA" link add "$IF_UA" type veth peer name "$IF_NAT_PRIV" netns "$NS_NAT"

    ip -n "$NS_PUB" addr add "$PUB_IP/24" dev "$IF_PUB"
    ip -n "$NS_PUB" link set "$IF_PUB" up

    ip -n "$NS_NAT" addr add "$NAT_PUB_IP/24" dev "$IF_NAT_PUB"
    ip -n "$NS_NAT" addr add "$NAT_PRIV_IP/24" dev "$IF_NAT_PRIV"
    ip -n "$NS_NAT" link set "$IF_NAT_PUB" up
    ip -n "$NS_NAT" link set "$IF_NAT_PRIV" up
    ip netns exec "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1
    local rf=()
    [[ "${NAT_RANDOM_FULLY:-0}" != 1 ]] || rf=(--random-fully)
    ip netns exec "$NS_NAT" iptables -t nat -A POSTROUTING -o "$IF_NAT_PUB" -j MASQUERADE "${rf[@]}"

    ip -n "$NS_UA" addr add "$UA_IP/24" dev "$IF_UA"
    ip -n "$NS_UA" link set "$IF_UA" up
    ip -n "$NS_UA" route add default via "$NAT_PRIV_IP"
    trap - EXIT
    log "up: $NS_UA $UA_IP -> $NS_NAT ($NAT_PRIV_IP | $NAT_PUB_IP, MASQUERADE${rf[*]:+ ${rf[*]}}) -> $NS_PUB $PUB_IP"
}

lab_status() {
    local ns
    if ! lab_is_up; then
        echo "natlab: down (namespaces present: $(ip netns list 2>/dev/null | awk '/^se-(pub|nat|ua)( |$)/ { printf "%s ", $1 }'))"
        return 1
    fi
    for ns in "$NS_PUB" "$NS_NAT" "$NS_UA"; do
        echo "== $ns"
        ip -n "$ns" -brief addr show | sed 's/^/   /'
        ip -n "$ns" route show | sed 's/^/   route: /'
    done
    echo "== $NS_NAT nat table"
    ip netns exec "$NS_NAT" iptables -t nat -S POSTROUTING | sed 's/^/   /'
    echo "   ip_forward=$(ip netns exec "$NS_NAT" cat /proc/sys/net/ipv4/ip_forward)"
    if command -v conntrack >/dev/null 2>&1; then
        echo "== $NS_NAT conntrack (udp)"
        ip netns exec "$NS_NAT" conntrack -L -p udp 2>/dev/null | sed 's/^/   /' || true
    fi
}

lab_random_fully() { # is --random-fully in force in the running lab?
    ip netns exec "$NS_NAT" iptables -t nat -S POSTROUTING 2>/dev/null | grep -q -- '--random-fully'
}

# UDP echo through the NAT. The server (se-pub) answers each datagram with
# the source address it saw; the UA (se-ua) sends from a few fixed ports.
ECHO_SERVER_PY='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(15)
print("ready", flush=True)
for _ in range(int(sys.argv[3])):
    data, (ip, port) = s.recvfrom(2048)
    print("server %s:%s got %r from %s:%d" % (sys.argv[1], sys.argv[2], data.decode(), ip, port), flush=True)
    s.sendto(("%s:%d" % (ip, port)).encode(), (ip, port))
'
ECHO_CLIENT_PY='
import socket, sys
ua_ip, dst, dport = sys.argv[1], sys.argv[2], int(sys.argv[3])
for sport in map(int, sys.argv[4:]):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind((ua_ip, sport))
    c.settimeout(3)
    c.sendto(("natlab-check from %s:%d" % (ua_ip, sport)).encode(), (dst, dport))
    try:
        seen = c.recvfrom(2048)[0].decode()
    except socket.timeout:
        seen = "NO-ECHO"
    print("%d %s" % (sport, seen), flush=True)
    c.close()
'

lab_check() {
    need_root
    ensure_cmds ip:iproute2 iptables:iptables python3:python3
    local took_up=0 tmp spid i rc=0
    if ! lab_is_up; then
        lab_up
        took_up=1
    fi
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now
    trap "rm -rf '$tmp'; ((took_up == 0)) || lab_down" EXIT
    local ports=(40001 40002 40003)
    ip netns exec "$NS_PUB" python3 -c "$ECHO_SERVER_PY" "$PUB_IP" "$ECHO_PORT" "${#ports[@]}" >"$tmp/server.out" 2>&1 &
    spid=$!
    for ((i = 0; i < 50; i++)); do
        grep -q ready "$tmp/server.out" 2>/dev/null && break
        sleep 0.1
    done
    ip netns exec "$NS_UA" python3 -c "$ECHO_CLIENT_PY" "$UA_IP" "$PUB_IP" "$ECHO_PORT" "${ports[@]}" >"$tmp/client.out" 2>&1 || rc=1
    wait "$spid" 2>/dev/null || true
    sed 's/^/  /' "$tmp/server.out" | grep -v '^  ready'

    local random=0 sport seen ip port changed=0 kept=0 bad=0 note
    lab_random_fully && random=1
    while read -r sport seen; do
        ip="${seen%:*}" port="${seen##*:}"
        if [[ "$seen" == NO-ECHO ]]; then
            echo "  UA $UA_IP:$sport -> no echo came back through the NAT"
            bad=1
            continue
        fi
        if [[ "$ip" != "$NAT_PUB_IP" ]]; then
            echo "  UA $UA_IP:$sport -> server saw $ip:$port (expected $NAT_PUB_IP: NAT not applied)"
            bad=1
            continue
        fi
        if [[ "$port" == "$sport" ]]; then kept=$((kept + 1)); note="port preserved"; else changed=$((changed + 1)); note="port translated"; fi
        echo "  UA $UA_IP:$sport -> server saw $ip:$port ($note)"
    done <"$tmp/client.out"
    rm -rf "$tmp"
    ((took_up == 0)) || lab_down
    trap - EXIT

    if ((rc != 0 || bad != 0 || kept + changed != ${#ports[@]})); then
        log "check FAILED"
        return 1
    fi
    if ((random)); then
        # --random-fully: every mapping is drawn at random (1 in ~28000 that one
        # lands on the original port by chance).
        if ((changed == 0)); then
            log "check FAILED: --random-fully is set but no source port was changed"
            return 1
        fi
        log "check OK: source address translated to $NAT_PUB_IP, $changed of ${#ports[@]} ports randomised (--random-fully)"
    else
        log "check OK: source address translated to $NAT_PUB_IP ($kept port(s) preserved, $changed changed: MASQUERADE keeps the port when it is free)"
    fi
}

(($#)) || usage
cmd="$1"
shift
case "$cmd" in
-h | --help | help) ;;
*) need_root; ensure_cmds ip:iproute2 ;;
esac
case "$cmd" in
up) need_root; lab_up ;;
down) need_root; lab_down; log "down" ;;
status) lab_status ;;
check) lab_check ;;
exec)
    (($# >= 2)) || usage
    case "$1" in
    pub) ns="$NS_PUB" ;;
    nat) ns="$NS_NAT" ;;
    ua) ns="$NS_UA" ;;
    *) usage ;;
    esac
    shift
    ns_exists "$ns" || die "netns $ns does not exist (run: $0 up)"
    exec ip netns exec "$ns" "$@"
    ;;
-h | --help | help) usage ;;
*) usage ;;
esac

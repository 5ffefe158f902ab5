# Scenario d: tests/integration/fastpath_ping.sh with real pppd on both
# ends. Our l2tpd as LNS runs its DPDK data plane (access and core ports on
# net_af_packet over veths, one worker) and starts real pppd for the call;
# an xl2tpd LAC with real pppd dials it; a core host sits behind the core
# port. The subscriber's pings of the core host, the core host's of the
# subscriber, and 100 KB over TCP from a web server on the core host cross
# our fast path: our counters show them, and neither our pty nor the LNS
# pppd's ppp interface carried any of it. Teardown from the LAC withdraws
# the fast-path entry.
# l2tpvm: cpus 2
. /scenarios/lib.sh

check "three namespaces joined by two veth pairs, offloads off" make_dp_namespaces || exit 1
# A web server on the core host: 100 KB of random bytes.
mkdir -p "$W/www" && head -c 100000 /dev/urandom >"$W/www/blob"
in_ns core httpd -f -p 8080 -h "$W/www" </dev/null >"$W/httpd.log" 2>&1 &
HTTPD=$!
write_ppp_options
# The fast path carries IPv4; IPv6 (the kernel's router solicitations and
# MLD reports once IPV6CP is up) would rightly take the pty, and the checks
# below want a pty and an LNS ppp interface that carry no data at all.
echo noipv6 >>"$W/options.lns"
echo noipv6 >>"$W/options.lac"
# No novj here: pppd would negotiate Van Jacobson TCP header compression,
# whose frames are not IPv4 to the fast path; our daemon passes novj,
# novjccomp and noccp to the pppd it starts with a data plane, and the
# 100 KB download below checks that it does.
{ our_lns_conf; our_dataplane_conf; } >"$W/ours.conf"
xl2tpd_lac_conf >"$W/xl-lac.conf"

L="xl2tpd LAC to our DPDK LNS"
start_l2tpd_dpdk lns ours || { dump_logs; exit 1; }
# ARP and ICMP for our own addresses, on the data plane's control path.
check "$L: our core address answers the core host's ping" in_ns core ping -c 1 -W 5 "$DP_CORE_IP"
check "$L: our access address answers the LAC's ping" in_ns lac ping -c 1 -W 5 "$LNS_IP"

# The LAC dials at start (autodial = yes).
start_xl2tpd lac xl-lac || { dump_logs; exit 1; }
if ! check_pool_address "$L"; then
  dump_logs
  exit 1
fi
check "$L: our log has the call's IPCP (subscriber $SUB)" \
  wait_log "$W/ours.log" "session [0-9]+: IPCP up, peer $SUB, local $POOL_LOCAL" 10
check_pap "$L"
check_pppd_parent "$L" lns ours

# The subscriber reaches the core network through the ppp link alone.
in_ns lac ip route add "$CORE_NET" dev "$(ppp_ifname lac)"
lac_tx0=$(ppp_stat lac tx_packets)
lns_rx0=$(ppp_stat lns rx_packets)
lns_tx0=$(ppp_stat lns tx_packets)
check "$L: the subscriber's ping of the core host crosses the fast path" \
  in_ns lac ping -c 5 -W 5 -I "$SUB" "$CORE_HOST_IP"
check "$L: the core host's ping of the subscriber crosses the fast path" \
  in_ns core ping -c 5 -W 5 "$SUB"
check "$L: the subscriber fetches 100 KB over TCP from the core host, intact" \
  sh -c "/sbin/ip netns exec lac timeout 30 wget -q -O '$W/got' 'http://$CORE_HOST_IP:8080/blob' && cmp '$W/got' '$W/www/blob'"
kill "$HTTPD" 2>/dev/null
lac_tx1=$(ppp_stat lac tx_packets)
lns_rx1=$(ppp_stat lns rx_packets)
lns_tx1=$(ppp_stat lns tx_packets)
# Ten echo requests and replies and the TCP segments left the subscriber's
# ppp interface; the LNS pppd's interface, which the kernel would route
# them through in socket mode, saw none of them.
if [ $((lac_tx1 - lac_tx0)) -ge 20 ] && [ "$lns_rx1" = "$lns_rx0" ] && [ "$lns_tx1" = "$lns_tx0" ]; then
  pass "$L: the pings left the subscriber's ppp interface and never reached the LNS pppd's"
else
  fail "$L: the pings left the subscriber's ppp interface and never reached the LNS pppd's" \
    "LAC ppp tx $lac_tx0 -> $lac_tx1, LNS ppp rx $lns_rx0 -> $lns_rx1, tx $lns_tx0 -> $lns_tx1"
fi

# Our counters: the session's fast path moved the pings both ways and the
# transfer (at least its 74 segments of at most 1360 bytes, the MSS of an
# MTU of 1400), the pty carried no IP (only LCP, PAP and IPCP), the worker
# decapsulated and encapsulated them.
our_status ours
line=$(grep -E "session [0-9]+ established .*fast path [0-9]+" "$W/ours.log" | tail -n 1)
fast=$(echo "$line" | sed -n 's/.*fast path \([0-9]*\).*/\1/p')
pty_data=$(echo "$line" | sed -n 's/.*dropped, \([0-9]*\) of them data.*/\1/p')
if [ -n "$fast" ] && [ "$fast" -ge 94 ] && [ "$pty_data" = 0 ]; then
  pass "$L: the session's fast-path counter holds the pings and the transfer ($fast packets) and the pty carried no IP"
else
  fail "$L: the session's fast-path counter holds the pings and the transfer and the pty carried no IP" "${line:-no session line}"
fi
# Down: 10 ping packets and at least the 74 segments; up: 10 ping packets
# and the request and the ACKs, a few dozen.
wline=$(grep "status: data plane: workers 1: decap" "$W/ours.log" | tail -n 1)
decap=$(echo "$wline" | sed -n 's/.* decap \([0-9]*\) encap.*/\1/p')
encap=$(echo "$wline" | sed -n 's/.* encap \([0-9]*\) .*/\1/p')
if [ -n "$decap" ] && [ -n "$encap" ] && [ "$decap" -ge 20 ] && [ "$encap" -ge 84 ]; then
  pass "$L: the worker decapsulated ($decap) and encapsulated ($encap) the pings and the transfer"
else
  fail "$L: the worker decapsulated and encapsulated the pings and the transfer" "${wline:-no worker line}"
fi

# Teardown from the LAC: both pppds exit, our tunnel goes down, the
# fast-path entry is withdrawn.
in_ns lac xl2tpd-control -c "$W/xl-lac.ctl" disconnect-lac vm >"$W/xlctl.out" 2>&1
check_pppds_exit "$L, xl2tpd-control disconnect-lac"
if check "$L, xl2tpd-control disconnect-lac: our tunnel goes down" wait_log "$W/ours.log" "tunnel [0-9]+ down" 10; then
  our_status ours
  status=$(grep -E "fast-path sessions [0-9]+;|status: fast path: [0-9]+ sessions published" "$W/ours.log" | tail -n 2)
  if echo "$status" | grep -q "fast-path sessions 0;" && echo "$status" | grep -q "status: fast path: 0 sessions published"; then
    pass "$L, xl2tpd-control disconnect-lac: the fast-path entry is gone"
  else
    fail "$L, xl2tpd-control disconnect-lac: the fast-path entry is gone" "$(echo "$status" | tr '\n' ' ')"
  fi
  check "$L, after the disconnect: the core host's ping of the old subscriber address goes unanswered" \
    sh -c "! /sbin/ip netns exec core ping -c 2 -W 2 $SUB"
fi

# SIGTERM: the daemon shuts down (no call is left), stops its worker and
# the EAL, and exits with status 0. It is this shell's child: waited for
# here, so that its exit status says whether it finished or a signal ended
# it (and no zombie passes for a live process).
ours=$(l2tpd_pid ours)
kill -TERM "$ours"
if wait_for 15 proc_gone "$ours"; then
  wait "$ours"
  rc=$?
  if [ "$rc" = 0 ] && grep -q "exiting" "$W/ours.log"; then
    pass "$L: SIGTERM stops our daemon and its worker, exit status 0"
  else
    fail "$L: SIGTERM stops our daemon and its worker, exit status 0" \
      "exit status $rc (128 + N: signal N), log: $(tail -n 2 "$W/ours.log" | tr '\n' ' ')"
  fi
else
  fail "$L: SIGTERM stops our daemon and its worker, exit status 0" "still running 15 s after SIGTERM"
  proc_report "$ours"
fi
[ "$FAILED" = 0 ] || dump_logs

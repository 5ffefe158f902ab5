# Scenario b: our l2tpd as LNS (pppd per call, addresses from its pool) with
# an xl2tpd LAC and real pppd. Teardown from each side stops both pppds.
. /scenarios/lib.sh

check "two namespaces joined by a veth pair" make_namespaces || exit 1
write_ppp_options
our_lns_conf >"$W/ours.conf"
xl2tpd_lac_conf >"$W/xl-lac.conf"

start_l2tpd lns ours || { dump_logs; exit 1; }
# The LAC dials at start (autodial = yes).
start_xl2tpd lac xl-lac || { dump_logs; exit 1; }

L="xl2tpd LAC to our LNS"
if check_link "$L"; then
  check_pap "$L"
  check_pppd_parent "$L" lns ours
  # Teardown from the LAC's side.
  in_ns lac xl2tpd-control -c "$W/xl-lac.ctl" disconnect-lac vm >"$W/xlctl.out" 2>&1
  check_pppds_exit "$L, xl2tpd-control disconnect-lac"
  check "$L, xl2tpd-control disconnect-lac: our tunnel goes down" wait_log "$W/ours.log" "tunnel [0-9]+ down" 10

  # Again, and teardown from our side: "d <our tunnel id>" on our FIFO.
  ups=$(grep -c "tunnel [0-9]* up as" "$W/ours.log")
  in_ns lac xl2tpd-control -c "$W/xl-lac.ctl" connect-lac vm >"$W/xlctl.out" 2>&1
  if wait_for 20 sh -c "[ \$(grep -c 'tunnel [0-9]* up as' '$W/ours.log') -gt $ups ]" && check_link "$L, redialled"; then
    set -- $(our_tunnel_ids ours)
    echo "d $1" >"$W/ours.ctl"
    check_pppds_exit "$L, our FIFO d <tunnel>"
    check "$L, our FIFO d <tunnel>: xl2tpd closes the tunnel" wait_log "$W/xl-lac.log" "Connection ([0-9]+ )?closed" 10
  else
    fail "$L: xl2tpd-control connect-lac brings the call up again" "$(tail -3 "$W/ours.log" | tr '\n' ' ')"
  fi

  # Our shutdown with a call up: SIGTERM ends pppd and the tunnel (StopCCN),
  # and the daemon exits once both are done.
  ups=$(grep -c "tunnel [0-9]* up as" "$W/ours.log")
  in_ns lac xl2tpd-control -c "$W/xl-lac.ctl" connect-lac vm >"$W/xlctl.out" 2>&1
  if wait_for 20 sh -c "[ \$(grep -c 'tunnel [0-9]* up as' '$W/ours.log') -gt $ups ]" && wait_for 40 ppp_up lac; then
    ours=$(l2tpd_pid ours)
    kill -TERM "$ours"
    check_pppds_exit "$L, our SIGTERM"
    check "$L, our SIGTERM: our l2tpd exits" wait_for 10 sh -c "! kill -0 $ours"
    check "$L, our SIGTERM: xl2tpd closes the tunnel" wait_log "$W/xl-lac.log" "Connection ([0-9]+ )?closed.*shutting down" 10
  else
    fail "$L: the call comes up a third time" "$(tail -3 "$W/ours.log" | tr '\n' ' ')"
  fi
fi
[ "$FAILED" = 0 ] || dump_logs

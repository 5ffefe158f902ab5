# Scenario c: our l2tpd as LAC ([lac vm] with autodial) against an xl2tpd LNS
# with real pppd. Teardown from each side stops both pppds.
. /scenarios/lib.sh

check "two namespaces joined by a veth pair" make_namespaces || exit 1
write_ppp_options
xl2tpd_lns_conf >"$W/xl-lns.conf"
our_lac_conf >"$W/ours.conf"

start_xl2tpd lns xl-lns || { dump_logs; exit 1; }
# Our LAC dials at start (autodial = yes).
start_l2tpd lac ours || { dump_logs; exit 1; }

L="our LAC to xl2tpd LNS"
if check_link "$L"; then
  check_pap "$L"
  check_pppd_parent "$L" lac ours
  # Teardown from our side: "d <our tunnel id>" on our FIFO.
  set -- $(our_tunnel_ids ours)
  echo "d $1" >"$W/ours.ctl"
  check_pppds_exit "$L, our FIFO d <tunnel>"
  check "$L, our FIFO d <tunnel>: xl2tpd closes the tunnel" wait_log "$W/xl-lns.log" "Connection ([0-9]+ )?closed" 10

  # Again ("c vm" dials the [lac]), and teardown from xl2tpd's side: its
  # FIFO's "d <its tunnel id>", which is our peer tunnel id.
  ups=$(grep -c "tunnel [0-9]* up as" "$W/ours.log")
  echo "c vm" >"$W/ours.ctl"
  if wait_for 20 sh -c "[ \$(grep -c 'tunnel [0-9]* up as' '$W/ours.log') -gt $ups ]" && check_link "$L, redialled"; then
    set -- $(our_tunnel_ids ours)
    echo "d $2" >"$W/xl-lns.ctl"
    check_pppds_exit "$L, xl2tpd's FIFO d <tunnel>"
    check "$L, xl2tpd's FIFO d <tunnel>: our tunnel goes down" wait_for 10 sh -c "grep -q 'tunnel $1 down' '$W/ours.log'"
  else
    fail "$L: our FIFO c vm brings the call up again" "$(tail -3 "$W/ours.log" | tr '\n' ' ')"
  fi
fi
[ "$FAILED" = 0 ] || dump_logs

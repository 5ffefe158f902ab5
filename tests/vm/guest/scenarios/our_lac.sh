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

  # xl2tpd-control's connect-lac with a user and a password: pppd answers
  # PAP as that user with the password it read from our pipe (passwordfd);
  # /etc/ppp/pap-secrets has no line that the subscriber's pppd could use.
  L2="$L, connect-lac with a password"
  ups=$(grep -c "tunnel [0-9]* up as" "$W/ours.log")
  in_ns lac xl2tpd-control -c "$W/ours.ctl" connect-lac vm subscriber2 vm-fd-secret >"$W/xlctl.out" 2>&1
  if wait_for 20 sh -c "[ \$(grep -c 'tunnel [0-9]* up as' '$W/ours.log') -gt $ups ]" && check_link "$L2"; then
    check_pap "$L2" subscriber2
    args=
    for p in $(pppd_pids lac); do args="$args$(tr '\0' ' ' <"/proc/$p/cmdline")"; done
    case $args in
      *vm-fd-secret*) fail "$L2: the password is not on pppd's command line" "$args" ;;
      *"plugin passwordfd.so passwordfd"*) pass "$L2: the password is not on pppd's command line" ;;
      *) fail "$L2: the password is not on pppd's command line" "no passwordfd in: $args" ;;
    esac
    set -- $(our_tunnel_ids ours)
    echo "d $1" >"$W/ours.ctl"
    check_pppds_exit "$L2, our FIFO d <tunnel>"
  else
    fail "$L2: the call comes up" "$(cat "$W/xlctl.out"; tail -3 "$W/ours.log" | tr '\n' ' ')"
  fi
fi
[ "$FAILED" = 0 ] || dump_logs

# Scenario a, the harness on its own: xl2tpd LAC + real pppd dials xl2tpd
# LNS + real pppd. If this fails, the VM, not our daemon, is at fault.
. /scenarios/lib.sh

check "two namespaces joined by a veth pair" make_namespaces || exit 1
write_ppp_options
xl2tpd_lns_conf >"$W/xl-lns.conf"
xl2tpd_lac_conf >"$W/xl-lac.conf"

start_xl2tpd lns xl-lns || { dump_logs; exit 1; }
# The LAC dials at start (autodial = yes).
start_xl2tpd lac xl-lac || { dump_logs; exit 1; }

if check_link "xl2tpd to xl2tpd"; then
  check_pap "xl2tpd to xl2tpd"
  # Teardown from the LAC: its pppd and the LNS's both go.
  in_ns lac xl2tpd-control -c "$W/xl-lac.ctl" disconnect-lac vm >"$W/xlctl.out" 2>&1
  check_pppds_exit "xl2tpd to xl2tpd, xl2tpd-control disconnect-lac"
fi
[ "$FAILED" = 0 ] || dump_logs

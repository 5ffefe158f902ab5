#!/usr/bin/env bash
# fastpath_ping.sh with two workers: the session has one owner worker, and
# the other worker hands it what it receives (upstream and downstream)
# through the handoff rings; pppd's frames leave through the owner.
cd "$(dirname "$0")" && WORKERS=2 exec ./fastpath_ping.sh

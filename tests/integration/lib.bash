# Shared by the integration scripts (sourced; not a test itself).

# wait_log FILE REGEX [SECONDS]: true once FILE has a line matching REGEX.
wait_log() {
  local deadline=$((SECONDS + ${3:-10}))
  while ((SECONDS < deadline)); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

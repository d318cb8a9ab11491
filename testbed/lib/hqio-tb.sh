# Helpers for test-bed groups (installed in the VM as /lib/hqio-tb.sh).
# A group may `. /lib/hqio-tb.sh`; it only has to print the lines of the
# contract in docs/testbed.md, these functions just spell them correctly.

# tb_pass GROUP/CHECK DETAIL...   one PASS line
tb_pass() { _c=$1; shift; echo "HQIO-TB PASS $_c: $*"; }
# tb_fail GROUP/CHECK DETAIL...   one FAIL line
tb_fail() { _c=$1; shift; echo "HQIO-TB FAIL $_c: $*"; }
# tb_skip GROUP/CHECK REASON...   one SKIP line
tb_skip() { _c=$1; shift; echo "HQIO-TB SKIP $_c: $*"; }
# tb_check GROUP/CHECK DETAIL -- CMD...   PASS if CMD exits 0, else FAIL
# (the FAIL detail adds CMD's exit code and the last line it printed)
tb_check() {
	_c=$1 _d=$2
	shift 2
	[ "$1" = "--" ] && shift
	if _o=$("$@" 2>&1); then
		tb_pass "$_c" "$_d"
	else
		_r=$?
		tb_fail "$_c" "$_d: '$*' exited $_r: $(printf '%s\n' "$_o" | tail -n 1)"
	fi
}
# tb_find_dev VENDOR DEVICE root|port   print the BDF of a function with
# these IDs on the root bus (root) or behind a bridge (port); exit 1: none
tb_find_dev() {
	for _fd in /sys/bus/pci/devices/*; do
		[ "$(cat "$_fd/vendor")" = "$1" ] && [ "$(cat "$_fd/device")" = "$2" ] || continue
		_fp=$(basename "$(dirname "$(readlink -f "$_fd")")")
		case $_fp in pci*) _fw=root ;; *) _fw=port ;; esac
		[ "$_fw" = "$3" ] && { basename "$_fd"; return 0; }
	done
	return 1
}
# tb_end GROUP   last line of a group
tb_end() { echo "HQIO-TB END $1"; }
# tb_data GROUP/NAME FILE   copy FILE to the host: gzip + base64 between
# DATA-BEGIN/DATA-END lines; the host unpacks it to
# <run dir>/data/GROUP/NAME for testbed/post/GROUP.py (gzip's CRC catches a
# damaged transfer).
tb_data() {
	echo "HQIO-TB DATA-BEGIN $1"
	gzip -c "$2" | base64 | sed 's/^/HQIO-TB-D /'
	echo "HQIO-TB DATA-END $1"
}
# tb_jget FILE KEY [N]   the Nth (default 1st) numeric/boolean/string value
# of "KEY" in hqio's pretty-printed JSON (one key per line)
tb_jget() {
	sed -n -e "s/^ *\"$2\": \"\(.*\)\",\{0,1\}$/\1/p" \
		-e "s/^ *\"$2\": \([^\",]*\),\{0,1\}$/\1/p" "$1" | sed -n "${3:-1}p"
}
# tb_guest_results GROUP NAME RC   after `hqio run --json >NAME.json
# 2>NAME.log` exited RC: the guest's RESULT lines as GROUP/NAME-<check>
# lines, then GROUP/NAME-guest-exit (exit value 0x10 and RC 0)
tb_guest_results() {
	sed -n "s|^GUEST RESULT \([^ ]*\) PASS \(.*\)|HQIO-TB PASS $1/$2-\1: \2|p;
		s|^GUEST RESULT \([^ ]*\) FAIL \(.*\)|HQIO-TB FAIL $1/$2-\1: \2|p" "$2.log"
	if [ "$(tb_jget "$2.json" exit_value)" = 16 ] && [ "$3" -eq 0 ]; then
		tb_pass "$1/$2-guest-exit" "guest exit 0x10, $(tb_jget "$2.json" results_pass) checks passed"
	else
		tb_fail "$1/$2-guest-exit" "hqio run exited $3, guest exit $(tb_jget "$2.json" exit_value), timed out $(tb_jget "$2.json" timed_out): $(grep -v '^GUEST' "$2.log" | tail -n 1)"
	fi
}

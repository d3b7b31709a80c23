#!/bin/bash
# Records one RTSP 503 scenario with real RTSP clients and the camera emulator on loopback.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tools/rtsp/record.sh <scenario> [<outdir>]  writes <outdir>/rtsp-<scenario>.pcapng, .truth (and .args)
#        tools/rtsp/record.sh --list                  prints the scenario names
# Without <outdir> it writes to captures/rtsp-gstreamer/, the family folder of these recordings;
# the vlc_* scenarios write <outdir>/vlc-<name>.pcapng (vlc_failover: vlc-failover), by default
# to captures/rtsp-vlc/.
#
# The vlc_* scenarios add a second RTSP server implementation, VLC (cvlc with
# #rtp{sdp=rtsp://...}), as a relay the clients fail over to after the emulator's 503s. VLC 3.0
# itself never answers 503: its RTSP code (modules/stream_out/rtsp.c, src/network/httpd.c) has
# no session or client limit and answers 404 (unknown path), 461 (RTP over TCP, not
# implemented), 500 (no elementary stream yet), 405 and 454 but no 503, so every 503 in these
# captures is still the emulator's. VLC refuses to run as root: it runs as nobody (setpriv).
#
# Each device is camera_emulator (GStreamer RTSP server, see camera_emulator.c) on an address of
# its own in 127.0.55.0/24, so that dumpcap captures nothing but its RTSP port, its RTP/RTCP
# ports (the emulator sends from its own address and 100 ports of its own), its HTTP port and
# ICMP about them. The clients are real: ffmpeg and ffprobe (-rtsp_transport tcp or udp) and
# GStreamer's rtspsrc (gst-launch-1.0, protocols=tcp or udp), each bounded by timeout(1), plus
# curl for the encoder changes over HTTP. They connect from 127.0.0.1.
#
# A recording fails rather than write a doubtful .truth: every 503 in the capture must be one
# the emulator logged as deliberate (REFUSED ... cause=<cause>), matched by server, client port
# and CSeq, and the other way round; no 503 may be cause=unexpected; sessions must also succeed
# (PLAY answered 200, RTP seen); the RTSP must not be malformed; every address must be 127.x.
#
# Needs: ffmpeg, gstreamer1.0-tools, gstreamer1.0-plugins-{base,good,bad} (openh264enc, rtspsrc),
# libgstrtspserver-1.0-dev and pkg-config (to build the emulator), wireshark-common (dumpcap),
# tshark, curl, python3 (reactions.py lists the client reactions of the hammer scenario); root or
# the right to capture on lo, and root for port 554 and 80.
# Work files go to a temp dir (diag503-rtsp-<scenario>.XXXXXX), removed on success unless
# KEEP_WORK=1, kept with every log on failure.
#
# CLIENT_MIX=rotated: every client of a story but the killed ghost is swapped for another kind
# (FFmpeg over TCP for GStreamer over UDP and back, FFmpeg over UDP for GStreamer over TCP and
# back, ffprobe for GStreamer over TCP): the same devices and stories, asked by clients that send
# other requests in another order over another transport. Writes rtsp-rotated_<scenario>
# (vlc-rotated_<name>).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCENARIOS=(too_many_clients encoder_busy unsupported_profile nvr_channel_unavailable
	encoder_restart device_overload mixed hammer vlc_failover vlc_overload_failover
	vlc_restart_failover vlc_nvr_failover)
EMULATOR=$HERE/build/camera_emulator
declare -A PACKAGE=([ffmpeg]=ffmpeg [ffprobe]=ffmpeg [gst-launch-1.0]=gstreamer1.0-tools
	[gst-inspect-1.0]=gstreamer1.0-tools [dumpcap]=wireshark-common [tshark]=tshark
	[curl]=curl [pkg-config]=pkg-config [cmake]=cmake [cc]=gcc [timeout]=coreutils
	[setsid]=util-linux [python3]=python3 [cvlc]=vlc-bin [setpriv]=util-linux)

# shellcheck source=tools/lib/recording.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/recording.sh"

if [[ ${1-} == --list ]]; then
	printf '%s\n' "${SCENARIOS[@]}"
	exit 0
fi
[[ $# -eq 1 || $# -eq 2 ]] || die "usage: record.sh <scenario> [<outdir>] | record.sh --list"
SCENARIO=$1
[[ " ${SCENARIOS[*]} " == *" $SCENARIO "* ]] ||
	die "unknown scenario '$SCENARIO' (known: ${SCENARIOS[*]})"
need ffmpeg ffprobe gst-launch-1.0 gst-inspect-1.0 dumpcap tshark curl pkg-config cmake cc \
	timeout setsid python3
[[ $SCENARIO != vlc_* ]] || need cvlc setpriv
for element in openh264enc rtspsrc rtph264pay rtph264depay videotestsrc; do
	gst-inspect-1.0 "$element" >/dev/null 2>&1 ||
		die "GStreamer element $element missing (gstreamer1.0-plugins-bad, -good, -base)"
done
pkg-config --exists gstreamer-rtsp-server-1.0 ||
	die "gstreamer-rtsp-server-1.0 not found (Debian package libgstrtspserver-1.0-dev)"
# configured once: CMakeLists.txt calls project() only while CMAKE_PROJECT_NAME is unset, and a
# second configure finds it cached (no C compiler enabled); --build still rebuilds what changed
{ cmake -S "$HERE" -B "$HERE/build" >/dev/null &&
	cmake --build "$HERE/build" >/dev/null; } >&2 || die "could not build the emulator"
CLIENT_MIX=${CLIENT_MIX:-}
[[ -z $CLIENT_MIX || $CLIENT_MIX == rotated ]] || die "CLIENT_MIX must be empty or rotated, not $CLIENT_MIX"
MIX_PREFIX=${CLIENT_MIX:+${CLIENT_MIX}_}
if [[ $SCENARIO == vlc_* ]]; then
	OUTDIR=$(output_dir rtsp-vlc "${2-}")
	STEM=vlc-$MIX_PREFIX${SCENARIO#vlc_}
else
	OUTDIR=$(output_dir rtsp-gstreamer "${2-}")
	STEM=rtsp-$MIX_PREFIX$SCENARIO
fi
declare -A ROTATED=([ffmpeg-tcp]=gst-udp [gst-udp]=ffmpeg-tcp [ffmpeg-udp]=gst-tcp
	[gst-tcp]=ffmpeg-udp [ffprobe]=gst-tcp)
PCAP=$OUTDIR/$STEM.pcapng
TRUTH=$OUTDIR/$STEM.truth

# ---------------------------------------------------------------- processes

WORK=$(mktemp -d "${TMPDIR:-/tmp}/diag503-rtsp-$SCENARIO.XXXXXX")
declare -A EXPECT=()  # pid -> what a spawned client should get: ok, refused or any
CLIENTS=0

listening() { # listening <ip> <port>: a TCP socket listens there
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	awk -v want="$(printf '%02X%02X%02X%02X:%04X' "$d" "$c" "$b" "$a" "$2")" \
		'$2 == want && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp
}

# ---------------------------------------------------------------- devices

DEVICES=()             # names, in order
declare -A DEV_IP=() DEV_PORT=() DEV_HTTP=() DEV_RTP=() DEV_ARGS=() DEV_WHAT=() DEV_VLC=()
declare -A DEV_VLC_INPUT=() # a VLC relay's input when not the test pattern

device() { # device <name> <ip> <port> <what> <emulator args...>: declare one emulator
	local name=$1 ip=$2 port=$3
	DEVICES+=("$name")
	DEV_IP[$name]=$ip DEV_PORT[$name]=$port DEV_WHAT[$name]=$4 DEV_HTTP[$name]=''
	DEV_RTP[$name]=$((40000 + 100 * ${ip##*.}))
	shift 4
	DEV_ARGS[$name]="$*"
	while (($#)); do
		[[ $1 == --http-port ]] && DEV_HTTP[$name]=$2
		shift
	done
}

vlc_device() { # vlc_device <name> <ip> <port> <what> <path...>: declare a VLC relay of those paths
	local name=$1 path dst=''
	device "$1" "$2" "$3" "$4"
	shift 4
	for path; do
		dst+="${dst:+,}dst=rtp{sdp=rtsp://${DEV_IP[$name]}:${DEV_PORT[$name]}$path}"
	done
	DEV_VLC[$name]="#duplicate{$dst}"
}

vlc_start() { # vlc_start <name>: cvlc as nobody, looping a test pattern (openh264, MPEG-TS)
	local name=$1 dir=$WORK/vlc
	if [[ ! -e $dir/pattern.ts ]]; then
		mkdir -p "$dir"
		chmod 711 "$WORK"
		chmod 755 "$dir"
		gst-launch-1.0 -q videotestsrc num-buffers=150 pattern=ball \
			! video/x-raw,width=640,height=360,framerate=10/1 \
			! openh264enc bitrate=300000 gop-size=10 ! h264parse ! mpegtsmux \
			! filesink "location=$dir/pattern.ts" >"$WORK/pattern.log" 2>&1 ||
			die "could not encode the test pattern for VLC"
		chmod 644 "$dir/pattern.ts"
	fi
	start "$name" env HOME="$dir" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		cvlc -I dummy --no-video-title-show --loop "${DEV_VLC_INPUT[$name]:-$dir/pattern.ts}" \
		--sout "${DEV_VLC[$name]}"
}

devices_start() {
	local name
	for name in "${DEVICES[@]}"; do
		! listening "${DEV_IP[$name]}" "${DEV_PORT[$name]}" ||
			die "${DEV_IP[$name]}:${DEV_PORT[$name]} is in use (another recording running?)"
		if [[ -n ${DEV_VLC[$name]-} ]]; then
			vlc_start "$name"
			wait_for 10 "VLC $name on ${DEV_IP[$name]}:${DEV_PORT[$name]}" \
				listening "${DEV_IP[$name]}" "${DEV_PORT[$name]}"
			sleep 1 # its elementary stream: before it, DESCRIBE gets 500
			continue
		fi
		# shellcheck disable=SC2086 # DEV_ARGS holds words
		start "$name" "$EMULATOR" --name "$name" --address "${DEV_IP[$name]}" \
			--port "${DEV_PORT[$name]}" --rtp-port "${DEV_RTP[$name]}" --lifetime 60 \
			${DEV_ARGS[$name]}
		wait_for 5 "$name on ${DEV_IP[$name]}:${DEV_PORT[$name]}" \
			listening "${DEV_IP[$name]}" "${DEV_PORT[$name]}"
	done
}

url() { # url <device> <path>: the rtsp:// URL, the port left out when it is 554
	local port=:${DEV_PORT[$1]}
	[[ $port == :554 ]] && port=''
	echo "rtsp://${DEV_IP[$1]}$port$2"
}

count_log() { # count_log <device> <extended regexp>: lines of its log that match
	grep -cE -- "$2" "$WORK/$1.log" || true
}

played() { # played <device> <at least>: the device answered that many PLAYs with 200
	(($(plays "$1") >= $2))
}

# ---------------------------------------------------------------- clients

client_cmd() { # client_cmd <kind> <url> [seconds]: CMD, the client command line, bounded
	local kind=$1 target=$2 secs=${3:-2}
	case $kind in
	ffmpeg-tcp | ffmpeg-udp)
		# -fpsprobesize 0: openh264 writes no frame rate into the SPS, and ffmpeg would
		# read some 2 s more to guess it
		CMD=(timeout -k 2 $((secs + 12)) ffmpeg -nostdin -hide_banner -loglevel info
			-rtsp_transport "${kind#ffmpeg-}" -fpsprobesize 0 -i "$target" -t "$secs"
			-f null -)
		;;
	ffprobe)
		CMD=(timeout -k 2 12 ffprobe -hide_banner -rtsp_transport tcp -fpsprobesize 0
			"$target")
		;;
	gst-tcp | gst-udp)
		# identity ends the stream after <seconds> at 10 to 15 frames/s: rtspsrc tears down
		CMD=(timeout -k 2 $((secs + 12)) gst-launch-1.0 rtspsrc "location=$target"
			"protocols=${kind#gst-}" ! rtph264depay ! identity "eos-after=$((secs * 10))"
			! fakesink)
		;;
	*) die "unknown client kind $kind" ;;
	esac
}

spawn() { # spawn <ok|refused|any> <kind> <device> <path> [seconds]: start a client
	local expect=$1 kind=$2 dev=$3 path=$4
	[[ $CLIENT_MIX != rotated ]] || kind=${ROTATED[$kind]}
	client_cmd "$kind" "$(url "$dev" "$path")" "${5-}"
	start "client-$((++CLIENTS))-$kind" "${CMD[@]}"
	EXPECT[$LAST_PID]=$expect
	echo "client $CLIENTS: $kind $(url "$dev" "$path") (expect $expect)" >>"$WORK/clients.log"
}

outcome() { # outcome <client log name> <exit code>: played, refused or failed
	local log=$WORK/$1.log
	if grep -qE '503 Service Unavailable|Service Unavailable \(503\)|Error \(503\)' "$log"; then
		echo refused
	elif [[ $1 == *-gst-* ]]; then
		# after EOS rtspsrc may fail to send PAUSE on the connection the server closed
		# after TEARDOWN: gst-launch then exits 1 although the stream played
		if grep -q 'Got EOS from element' "$log"; then echo played; else echo failed; fi
	elif (($2 == 0)); then
		echo played
	else
		echo failed
	fi
}

join() { # join <pid>: wait for a spawned client; it must have got what it expected
	local pid=$1 rc=0 name=${RUNNING[$1]} expect=${EXPECT[$1]} got
	wait "$pid" || rc=$?
	unset "RUNNING[$pid]" "EXPECT[$pid]"
	((rc != 124 && rc != 137)) || die "$name timed out, see $WORK/$name.log"
	got=$(outcome "$name" "$rc")
	echo "$name exited $rc: $got" >>"$WORK/clients.log"
	case $expect in
	ok) [[ $got == played ]] || die "$name $got but should have played, see $WORK/$name.log" ;;
	refused) [[ $got == refused ]] || die "$name $got but should have been refused" ;;
	esac
}

join_all() { # join_all: wait for every spawned client
	local pid
	for pid in "${!EXPECT[@]}"; do
		join "$pid"
	done
}

run() { # run <ok|refused|any> <kind> <device> <path> [seconds]: a client, to its end
	spawn "$@"
	join "$LAST_PID"
}

plays() { # plays <device>: how many PLAYs it has answered with 200
	count_log "$1" ' PLAY .* -> 200$'
}

spawn_playing() { # spawn_playing <ok|any> <kind> <device> <path> <seconds>: start a client,
	local before    # return once it plays
	before=$(plays "$3")
	spawn "$@"
	wait_for 10 "client $CLIENTS to play" played "$3" $((before + 1))
}

ghost() { # ghost <device> <path>: ffmpeg plays over TCP, then dies by SIGKILL: no TEARDOWN
	local before pid rc=0
	before=$(plays "$1")
	client_cmd ffmpeg-tcp "$(url "$1" "$2")" 30
	# bash -c waits for timeout(1), which dies of the signal that killed ffmpeg: so this
	# job ends normally, and bash does not report it "Killed"
	start "client-$((++CLIENTS))-ghost" bash -c '"$@"; exit $?' ghost "${CMD[@]}"
	pid=$LAST_PID
	echo "client $CLIENTS: ffmpeg-tcp $(url "$1" "$2") (a ghost)" >>"$WORK/clients.log"
	wait_for 10 "the ghost to play" played "$1" $((before + 1))
	sleep 1
	kill -KILL "$(pgrep -P "$(pgrep -P "$pid")")" # bash -> timeout -> ffmpeg
	wait "$pid" || rc=$?
	unset "RUNNING[$pid]"
	((rc == 128 + 9)) || die "the ghost's ffmpeg was not killed ($rc)"
	echo "client $CLIENTS: ffmpeg killed by SIGKILL, its session left behind" >>"$WORK/clients.log"
}

retry() { # retry <kind> <device> <path> [seconds]: play, again after Retry-After if refused
	local attempt refusals after
	for attempt in 1 2 3; do
		refusals=$(count_log "$2" 'REFUSED 503')
		spawn any "$@"
		join "$LAST_PID"
		(($(count_log "$2" 'REFUSED 503') > refusals)) || return 0
		after=$(grep 'REFUSED 503' "$WORK/$2.log" | tail -n 1 | grep -o 'retry_after=[0-9]*' |
			cut -d= -f2)
		echo "attempt $attempt refused; again after ${after:-1} s" >>"$WORK/clients.log"
		sleep "${after:-1}"
	done
	die "$1 $3 refused 3 times"
}

encoder_change() { # encoder_change <device> <isapi|onvif>: what a VMS sends to change it
	local dev=$1 base="http://${DEV_IP[$1]}:${DEV_HTTP[$1]}"
	local action=http://www.onvif.org/ver10/media/wsdl/SetVideoEncoderConfiguration
	case $2 in
	isapi)
		curl -sS -m 5 -X PUT -H 'Content-Type: application/xml' \
			--data-binary "@$HERE/isapi-streaming-channel.xml" \
			"$base/ISAPI/Streaming/channels/101" >>"$WORK/curl.log" 2>&1
		;;
	onvif)
		curl -sS -m 5 -X POST \
			-H "Content-Type: application/soap+xml; charset=utf-8; action=\"$action\"" \
			--data-binary "@$HERE/onvif-set-video-encoder.xml" \
			"$base/onvif/media_service" >>"$WORK/curl.log" 2>&1
		;;
	esac
	echo "curl: $2 encoder change on $dev" >>"$WORK/clients.log"
	USED_CURL=1
}

# ---------------------------------------------------------------- the scenarios
# prepare_<scenario> declares the devices; traffic_<scenario> runs the clients.
# Hikvision paths: /Streaming/Channels/<ch><01 main|02 sub|03 third>; Dahua:
# /cam/realmonitor?channel=<ch>&subtype=<0|1|2>; Axis: /axis-media/media.amp?<query>.

HIK=/Streaming/Channels
AXIS=/axis-media/media.amp

prepare_too_many_clients() {
	device cam 127.0.55.11 554 "a Hikvision-style camera allowing 2 sessions (timeout 10 s)" \
		--policy too_many_clients --max-sessions 2 --session-timeout 10
}

traffic_too_many_clients() {
	run ok ffmpeg-tcp cam "$HIK/101" 2 # a session that ends with TEARDOWN
	spawn_playing ok ffmpeg-udp cam "$HIK/102" 8
	local viewer=$LAST_PID
	ghost cam "$HIK/101" # the second slot, held by a session nobody will tear down
	run refused ffprobe cam "$HIK/101"
	run refused gst-tcp cam "$HIK/102"
	join "$viewer" # its TEARDOWN frees a slot; the ghost keeps the other
	spawn_playing ok gst-udp cam "$HIK/101" 5
	local second=$LAST_PID
	run refused ffmpeg-tcp cam "$HIK/102"
	join "$second"
	wait_for 25 "the ghost session to expire" grep -q 'removed: expired' "$WORK/cam.log"
	spawn ok ffmpeg-udp cam "$HIK/102" 2
	run ok ffmpeg-tcp cam "$HIK/101" 2
	join_all
}

prepare_encoder_busy() {
	device cam 127.0.55.12 8554 \
		"a camera whose encoder makes one profile besides main and sub" --policy encoder_busy
}

traffic_encoder_busy() {
	run ok ffmpeg-tcp cam "$HIK/101" 2
	spawn_playing ok ffmpeg-udp cam "$HIK/103" 10 # the third stream holds the extra encoder
	local third=$LAST_PID
	run refused ffprobe cam "$AXIS?resolution=800x450&fps=12"
	run ok gst-tcp cam "/cam/realmonitor?channel=1&subtype=1" 2
	run ok ffmpeg-tcp cam "$HIK/103" 2 # the same profile: shared
	run refused gst-udp cam "$AXIS?resolution=480x270&fps=5&videocodec=h264"
	run ok ffmpeg-udp cam "$AXIS?resolution=1280x720&fps=15&videocodec=h264" 1 # main
	join "$third"
	spawn_playing ok gst-tcp cam "$AXIS?resolution=800x450&fps=12" 4 # now a custom profile
	run refused ffmpeg-tcp cam "$HIK/103"
	run refused ffmpeg-udp cam "/cam/realmonitor?channel=1&subtype=2"
	join_all
}

prepare_unsupported_profile() {
	device cam 127.0.55.13 554 "an Axis-style camera making H.264 up to 1920x1080@30 only" \
		--policy unsupported_profile
}

traffic_unsupported_profile() {
	run ok ffmpeg-tcp cam "$AXIS?resolution=1280x720&fps=15&videocodec=h264" 2
	run refused ffprobe cam "$AXIS?resolution=1280x720&fps=15&videocodec=h265"
	run refused gst-tcp cam "$AXIS?resolution=3840x2160&fps=15&videocodec=h264"
	run ok ffmpeg-udp cam "$AXIS?resolution=640x360&fps=10&videocodec=h264" 2
	run refused ffmpeg-tcp cam "$AXIS?resolution=1920x1080&fps=60&videocodec=h264"
	run refused ffmpeg-udp cam "$AXIS?videocodec=h265"
	run ok gst-udp cam "$HIK/102" 2
}

prepare_nvr_channel_unavailable() {
	device nvr 127.0.55.14 554 "a 4-channel NVR whose channel 3 camera is offline" \
		--mode nvr --channels 4 --policy nvr_channel_unavailable --offline-channel 3
}

traffic_nvr_channel_unavailable() {
	spawn_playing ok ffmpeg-tcp nvr "$HIK/101" 6
	spawn_playing ok ffmpeg-udp nvr "$HIK/201" 6
	run refused ffprobe nvr "$HIK/301"
	run refused gst-tcp nvr "$HIK/302"
	run refused ffmpeg-tcp nvr "/cam/realmonitor?channel=3&subtype=0"
	run ok gst-udp nvr "$HIK/402" 2
	run ok ffmpeg-tcp nvr "/cam/realmonitor?channel=4&subtype=0" 1
	run refused ffmpeg-udp nvr "$HIK/301"
	join_all
}

prepare_encoder_restart() {
	device cam 127.0.55.15 8554 \
		"a Hikvision-style camera whose encoder restarts for 5 s after a change over HTTP" \
		--policy encoder_restart --http-port 80 --restart-seconds 5
}

restart_over() { # restart_over <device>: each encoder restart of the device has ended
	(($(count_log "$1" 'encoder restart over') >= $(count_log "$1" 'encoder change by')))
}

wait_restart_over() { # wait_restart_over <device>
	wait_for 15 "the encoder restart of $1 to end" restart_over "$1"
}

traffic_encoder_restart() {
	run ok ffmpeg-tcp cam "$HIK/101" 2
	spawn_playing any gst-tcp cam "$HIK/102" 20 # both dropped by the restart
	spawn_playing any ffmpeg-udp cam "$HIK/102" 20
	encoder_change cam isapi
	run refused ffmpeg-tcp cam "$HIK/101"
	run refused gst-udp cam "$HIK/102"
	join_all
	wait_restart_over cam
	run ok ffmpeg-udp cam "$HIK/101" 2
	encoder_change cam onvif
	run refused ffprobe cam "$HIK/101"
	wait_restart_over cam
	run ok gst-tcp cam "$HIK/101" 2
}

prepare_device_overload() {
	device cam 127.0.55.16 8554 \
		"a camera too busy for about one in 3 DESCRIBE or SETUP (Retry-After: 2)" \
		--policy device_overload --overload-every 3 --overload-retry-after 2
}

traffic_device_overload() {
	retry ffmpeg-tcp cam "$HIK/101" 1
	retry ffmpeg-udp cam "$HIK/102" 1
	retry gst-tcp cam "/cam/realmonitor?channel=1&subtype=1" 1
	retry ffprobe cam "$HIK/101"
	retry gst-udp cam "$AXIS?resolution=640x360&fps=10&videocodec=h264" 1
	retry ffmpeg-tcp cam "$HIK/103" 1
}

prepare_mixed() {
	device nvr 127.0.55.20 554 \
		"a 4-channel NVR (channel 3 offline, 3 sessions at most, timeout 10 s)" --mode nvr \
		--channels 4 --policy nvr_channel_unavailable,too_many_clients --max-sessions 3 \
		--session-timeout 10
	device cam 127.0.55.21 554 \
		"a camera (one extra encoder profile at a time, encoder restart after ISAPI changes)" \
		--policy encoder_busy,encoder_restart --http-port 80 --restart-seconds 4
	device axis 127.0.55.22 8554 \
		"an Axis-style camera (H.264 up to 1080p only, overloaded: 1 in 3 refused)" \
		--policy unsupported_profile,device_overload --overload-every 3
}

traffic_mixed() { # a VMS starting up, a user browsing, an operator changing an encoder
	spawn_playing ok ffmpeg-tcp nvr "$HIK/102" 12
	spawn_playing ok ffmpeg-udp nvr "$HIK/202" 12
	run refused ffprobe nvr "$HIK/302"
	spawn_playing ok gst-tcp cam "$HIK/103" 6
	retry ffmpeg-udp axis "$AXIS?resolution=640x360&fps=10&videocodec=h264" 1
	run refused ffmpeg-tcp cam "$AXIS?resolution=800x450&fps=12"
	run ok gst-udp nvr "$HIK/401" 2
	run refused ffmpeg-tcp axis "$AXIS?videocodec=h265"
	spawn_playing ok ffmpeg-tcp nvr "$HIK/101" 4
	run refused gst-tcp nvr "$HIK/201" 2
	retry ffprobe axis "$AXIS?resolution=1280x720&fps=15&videocodec=h264"
	join_all
	encoder_change cam isapi
	run refused ffmpeg-tcp cam "$HIK/101"
	retry gst-tcp axis "$HIK/101" 1
	wait_restart_over cam
	run ok ffmpeg-udp cam "$HIK/101" 1
	run refused gst-udp nvr "/cam/realmonitor?channel=3&subtype=1"
}

prepare_hammer() {
	# a long session timeout: the viewers send no keep-alive while the client hammers
	device cam 127.0.55.17 554 "a Hikvision-style camera allowing 2 sessions (timeout 60 s)" \
		--policy too_many_clients --max-sessions 2 --session-timeout 60
	REACTIONS=1 # the .truth file lists the hammering requests (retry_same_request)
}

traffic_hammer() { # two viewers hold both sessions; a client asks again 1 s after each 503, 6 times
	spawn_playing ok ffmpeg-tcp cam "$HIK/101" 20
	spawn_playing ok ffmpeg-udp cam "$HIK/102" 20
	local attempt
	for attempt in 1 2 3 4 5 6; do
		run refused ffprobe cam "$HIK/101"
		echo "attempt $attempt refused; again in 1 s" >>"$WORK/clients.log"
		((attempt == 6)) || sleep 1
	done
	join_all
}

# The vlc_* scenarios: a VMS whose clients fail over to a VLC relay of the same stream paths
# when the camera refuses them. VLC serves RTP over UDP only, so a client asking it over TCP
# gets 461 and the VMS asks again over UDP.

refused_by() { # refused_by <device> <count before>: the device logged a 503 since
	(($(count_log "$1" 'REFUSED 503') > $2))
}

try_or_failover() { # try_or_failover <kind> <device> <path> <relay kind> <relay> [seconds]:
	local before # play from the device; if it refuses, from the relay at once (same path)
	before=$(count_log "$2" 'REFUSED 503')
	run any "$1" "$2" "$3" "${6-}"
	if refused_by "$2" "$before"; then
		echo "refused: failover to $5" >>"$WORK/clients.log"
		run ok "$4" "$5" "$3" "${6-}"
		return 0
	fi
	return 1
}

prepare_vlc_failover() {
	device cam 127.0.55.31 554 "a Hikvision-style camera allowing 2 sessions (timeout 30 s)" \
		--policy too_many_clients --max-sessions 2 --session-timeout 30
	vlc_device relay 127.0.55.32 8554 \
		"a VLC relay of the camera's paths $HIK/101 and 102 (a test pattern; RTP over UDP only)" \
		"$HIK/101" "$HIK/102"
	REACTIONS=1 # the .truth file lists the failovers (and any hammering)
}

traffic_vlc_failover() { # two viewers hold both sessions; later clients go to the relay
	spawn_playing ok ffmpeg-udp cam "$HIK/101" 22
	spawn_playing ok gst-tcp cam "$HIK/102" 22
	run refused ffprobe cam "$HIK/101" # gives up
	sleep 2
	run refused ffmpeg-tcp cam "$HIK/101"
	run any ffmpeg-tcp relay "$HIK/101" # 461: VLC has no RTP over TCP
	run ok ffmpeg-udp relay "$HIK/101" 2
	sleep 2
	run refused gst-udp cam "$HIK/102"
	run ok gst-udp relay "$HIK/102" 2
	sleep 2
	run refused ffmpeg-udp cam "/cam/realmonitor?channel=1&subtype=1"
	run any ffprobe relay "/cam/realmonitor?channel=1&subtype=1" # 404: not relayed
	join_all # the viewers tear down: both sessions free
	run ok ffmpeg-tcp cam "$HIK/101" 2
	run ok gst-udp cam "$HIK/102" 2
}

prepare_vlc_overload_failover() {
	device cam 127.0.55.33 8554 \
		"a camera too busy for about one in 2 DESCRIBE or SETUP (Retry-After: 3)" \
		--policy device_overload --overload-every 2 --overload-retry-after 3
	vlc_device relay 127.0.55.34 8554 \
		"a VLC relay of the camera's paths $HIK/101 and 102 (a test pattern; RTP over UDP only)" \
		"$HIK/101" "$HIK/102"
	REACTIONS=1
}

traffic_vlc_overload_failover() { # some clients wait Retry-After, others fail over at once
	retry ffmpeg-tcp cam "$HIK/101" 1
	try_or_failover gst-tcp cam "$HIK/102" gst-udp relay 2 && sleep 3
	retry gst-udp cam "$HIK/102" 1
	try_or_failover ffmpeg-tcp cam "$HIK/101" ffmpeg-udp relay 1 && sleep 3
	retry ffmpeg-udp cam "$HIK/101" 1
	try_or_failover ffprobe cam "$HIK/101" ffmpeg-udp relay 1 && sleep 3
	retry ffprobe cam "$HIK/102"
	try_or_failover ffmpeg-udp cam "$HIK/102" gst-udp relay 1 || true
}

prepare_vlc_restart_failover() {
	device cam 127.0.55.35 554 \
		"a Hikvision-style camera whose encoder restarts for 8 s after a change over HTTP" \
		--policy encoder_restart --http-port 80 --restart-seconds 8
	vlc_device standby 127.0.55.36 8554 \
		"a VLC relay of $HIK/101 and 102 whose input (RTP on udp://@127.0.55.36:5004) never sends, so it has no stream (DESCRIBE: 500)" \
		"$HIK/101" "$HIK/102"
	DEV_VLC_INPUT[standby]=udp://@127.0.55.36:5004
	vlc_device relay 127.0.55.37 8554 \
		"a VLC relay of the camera's paths $HIK/101 and 102 (a test pattern; RTP over UDP only)" \
		"$HIK/101" "$HIK/102"
	REACTIONS=1
}

traffic_vlc_restart_failover() { # a VMS tries the standby relay, then the other, while the encoder restarts
	spawn_playing any gst-tcp cam "$HIK/101" 20 # both dropped by the restart
	spawn_playing any ffmpeg-udp cam "$HIK/102" 20
	encoder_change cam isapi
	run refused ffmpeg-tcp cam "$HIK/101"
	run any ffmpeg-udp standby "$HIK/101" # 500: VLC has no stream yet
	run ok ffmpeg-udp relay "$HIK/101" 2
	run refused gst-udp cam "$HIK/102"
	run ok gst-udp relay "$HIK/102" 2
	join_all
	wait_restart_over cam
	run ok ffmpeg-tcp cam "$HIK/101" 2
	encoder_change cam onvif
	run refused ffprobe cam "$HIK/101"
	run any ffprobe standby "$HIK/101"
	wait_restart_over cam
	run ok gst-tcp cam "$HIK/101" 2
}

prepare_vlc_nvr_failover() {
	device nvr 127.0.55.38 554 "a 4-channel NVR whose channel 3 camera is offline" \
		--mode nvr --channels 4 --policy nvr_channel_unavailable --offline-channel 3
	vlc_device relay 127.0.55.39 8554 \
		"a VLC relay of channel 3's paths $HIK/301 and 302 (a test pattern; RTP over UDP only)" \
		"$HIK/301" "$HIK/302"
	REACTIONS=1
}

traffic_vlc_nvr_failover() { # a VMS opens every channel; channel 3 comes from the relay
	spawn_playing ok ffmpeg-tcp nvr "$HIK/101" 14
	spawn_playing ok gst-udp nvr "$HIK/201" 14
	run refused ffmpeg-tcp nvr "$HIK/301"
	run any ffmpeg-tcp relay "$HIK/301" # 461: VLC has no RTP over TCP
	run ok ffmpeg-udp relay "$HIK/301" 2
	run ok ffmpeg-udp nvr "$HIK/401" 2
	run refused gst-tcp nvr "$HIK/302"
	run ok gst-udp relay "$HIK/302" 2
	sleep 2
	run refused ffprobe nvr "/cam/realmonitor?channel=3&subtype=0" # gives up: not relayed
	run ok gst-tcp nvr "/cam/realmonitor?channel=4&subtype=1" 2
	join_all
}

# ---------------------------------------------------------------- capture, checks, truth

capture_filter() { # each device's RTSP, HTTP and RTP/RTCP ports, and ICMP about it
	local name filter='' ports
	for name in "${DEVICES[@]}"; do
		ports="tcp port ${DEV_PORT[$name]}"
		[[ -z ${DEV_HTTP[$name]} ]] || ports+=" or tcp port ${DEV_HTTP[$name]}"
		ports+=" or udp portrange ${DEV_RTP[$name]}-$((DEV_RTP[$name] + 99)) or icmp"
		filter+="${filter:+ or }(host ${DEV_IP[$name]} and ($ports))"
	done
	echo "$filter"
}

capture_start() {
	start dumpcap dumpcap -q -i lo -w "$WORK/capture.pcapng" -f "$(capture_filter)"
	CAPTURE_PID=$LAST_PID
	wait_for 5 "dumpcap to capture" grep -qs "Capturing on" "$WORK/dumpcap.log"
}

TSHARK_D=() # -d tcp.port==<port>,rtsp for each RTSP port but 554
decode_as() {
	local name
	for name in "${DEVICES[@]}"; do
		[[ ${DEV_PORT[$name]} == 554 || " ${TSHARK_D[*]} " == *"==${DEV_PORT[$name]},"* ]] ||
			TSHARK_D+=(-d "tcp.port==${DEV_PORT[$name]},rtsp")
	done
}

ts() { # ts <tshark args...>: tshark on the capture with the RTSP ports decoded
	tshark -r "$PCAP" "${TSHARK_D[@]}" "$@" 2>>"$WORK/tshark.log"
}

count() { # count <display filter>: how many frames match
	ts -Y "$1" | wc -l
}

check_capture() { # the RTSP is well formed, only loopback, and streams played
	local malformed others plays rtp
	# rtspsrc sends 5 random 200-byte "dummy" packets from its RTP port to the server's to
	# open NATs; Wireshark takes them for RTP or RTCP and may find one malformed. Nothing
	# else may be.
	malformed=$(count '_ws.malformed && !(udp.length == 208 && ip.src == 127.0.0.1)')
	((malformed == 0)) || die "the capture has $malformed malformed packets (tshark -z expert)"
	# (an ICMP error holds a second IP header: tshark lists both, separated by commas)
	others=$(ts -T fields -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst | tr -s '\t,' '\n' |
		grep -v '^$' | grep -vc '^127\.' || true)
	((others == 0)) || die "$others addresses outside 127.0.0.0/8"
	plays=$(count 'rtsp.method == "PLAY"')
	rtp=$(count rtp)
	((plays > 0 && rtp > 0)) || die "no stream played (PLAY $plays, RTP $rtp)"
}

write_truth() { # label each 503 frame with the cause the emulator logged for it
	local frame src dport cseq key cause name ffmpeg gst server dumpcap_v how
	declare -A logged=() seen=()
	# REFUSED 503 cause=<c> method=<m> cseq=<n> peer=<ip>:<port> server=<ip>:<port> ...
	while read -r cause cseq peer server; do
		logged["$server ${peer##*:} $cseq"]=$cause
	done < <(cat "$WORK"/*.log | grep -h 'REFUSED 503' |
		sed -E 's/.* cause=([^ ]*) method=[^ ]* cseq=([^ ]*) peer=([^ ]*) server=([^ ]*) .*/\1 \2 \3 \4/')
	((${#logged[@]} > 0)) || die "no device refused anything"
	for key in "${!logged[@]}"; do
		[[ ${logged[$key]} != unexpected ]] || die "a 503 no policy asked for: $key"
	done
	# frame, server ip:port, client port and CSeq of each 503 in the capture
	ts -Y 'rtsp.status == 503' -V -O rtsp | awk '
		/^Frame [0-9]+:/ { sub(":", "", $2); frame = $2 }
		/^Internet Protocol Version 4, Src:/ { src = $6; sub(",", "", src) }
		/^Transmission Control Protocol, Src Port:/ { sport = $6; sub(",", "", sport);
			dport = $9; sub(",", "", dport) }
		/^ *Response: RTSP\/1.0 503/ { n503[frame]++ }
		/^ *CSeq:/ { c = $2; sub(/\\r\\n$/, "", c); if (n503[frame] && !done[frame]++)
			print frame, src ":" sport, dport, c }' >"$WORK/503s"
	[[ -s $WORK/503s ]] || die "the capture has no 503"
	(($(wc -l <"$WORK/503s") == $(count 'rtsp.status == 503'))) ||
		die "a 503 frame without a CSeq, or a frame with two 503s"
	ffmpeg=$(ffmpeg -version | awk 'NR == 1 { print $3 }')
	gst=$(gst-launch-1.0 --version | awk '/GStreamer/ { print $2; exit }')
	server=$(pkg-config --modversion gstreamer-rtsp-server-1.0)
	dumpcap_v=$(dumpcap -v | awk 'NR == 1 { print $3 }')
	how="camera_emulator (GStreamer RTSP server $server, openh264enc) as"
	for name in "${DEVICES[@]}"; do
		[[ -z ${DEV_VLC[$name]-} ]] || continue
		how+=" $name ${DEV_IP[$name]}:${DEV_PORT[$name]}, ${DEV_WHAT[$name]};"
	done
	for name in "${DEVICES[@]}"; do
		[[ -n ${DEV_VLC[$name]-} ]] || continue
		how+=" VLC $(dpkg-query -W -f '${Version}' vlc-bin) (cvlc, sout rtp"
		how+=" with sdp=rtsp://, as nobody; it never answers 503, and its RTP leaves from"
		how+=" 127.0.0.1, outside the capture) as $name ${DEV_IP[$name]}:${DEV_PORT[$name]},"
		how+=" ${DEV_WHAT[$name]};"
	done
	if [[ $SCENARIO == hammer && -z $CLIENT_MIX ]]; then
		how+=" clients FFmpeg $ffmpeg ffmpeg/ffprobe"
	else
		how+=" clients FFmpeg $ffmpeg ffmpeg/ffprobe and GStreamer $gst rtspsrc (gst-launch-1.0)"
	fi
	TRUTH_NOTE=''
	if [[ $SCENARIO == vlc_* ]]; then
		TRUTH_NOTE="; each 503 is labelled with the cause the emulator logged when it refused"
		TRUTH_NOTE+=" (REFUSED 503 cause=..., matched by server, client port and CSeq); the"
		TRUTH_NOTE+=" client reactions are computed by tools/rtsp/reactions.py from the capture"
		TRUTH_NOTE+=" (captures/FORMAT.md rules), the failovers scripted by the recorder"
	fi
	if [[ -n ${USED_CURL-} ]]; then
		how+=", curl $(curl --version | awk 'NR == 1 { print $2 }') for the encoder changes"
	fi
	{
		echo "# how: ${CLIENT_MIX:+CLIENT_MIX=$CLIENT_MIX }tools/rtsp/record.sh $SCENARIO: $how, on loopback, captured by dumpcap $dumpcap_v$TRUTH_NOTE"
		echo "# scenario: $SCENARIO"
		while read -r frame src dport cseq; do
			key="$src $dport $cseq"
			[[ -n ${logged[$key]-} ]] ||
				die "frame $frame: a 503 the emulator did not log as deliberate ($key)"
			seen[$key]=1
			printf '%s\t%s\n' "$frame" "${logged[$key]}"
		done <"$WORK/503s"
	} >"$WORK/truth"
	for key in "${!logged[@]}"; do
		[[ -n ${seen[$key]-} ]] || die "the refusal $key is not in the capture"
	done
	if [[ -n ${REACTIONS-} ]]; then
		# the clients' requests after the 503s (captures/FORMAT.md, "Client reactions")
		python3 "$HERE/reactions.py" "$PCAP" "${TSHARK_D[@]}" >"$WORK/reactions" ||
			die "could not list the client reactions"
		[[ -s $WORK/reactions ]] || die "no client reacted to a 503 as the scenario meant"
		cat "$WORK/reactions" >>"$WORK/truth"
	fi
	mv "$WORK/truth" "$TRUTH"
	# The decoding arguments every reading of this capture needs (captures/FORMAT.md).
	if ((${#TSHARK_D[@]})); then echo "${TSHARK_D[*]}" >"${TRUTH%.truth}.args"; else rm -f "${TRUTH%.truth}.args"; fi
}

summary() { # one line per scenario: 503s by cause, sessions, RTP, size
	local causes
	causes=$(tail -n +3 "$TRUTH" | awk -F '\t' 'NF == 2' | cut -f2 | sort | uniq -c |
		awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')
	echo "record.sh: $SCENARIO: $(tail -n +3 "$TRUTH" | awk -F '\t' 'NF == 2' | wc -l) 503s ($causes)," \
		"$(tail -n +3 "$TRUTH" | awk -F '\t' 'NF == 3' | wc -l) client reactions;" \
		"PLAY $(count 'rtsp.method == "PLAY"'), TEARDOWN $(count 'rtsp.method == "TEARDOWN"')," \
		"RTP $(count 'rtp && udp') over UDP and $(count 'rtp && tcp') interleaved;" \
		"$(stat -c %s "$PCAP") bytes in ${SECONDS} s"
}

# ---------------------------------------------------------------- main

"prepare_$SCENARIO"
decode_as
capture_start
devices_start
"traffic_$SCENARIO"
join_all
sleep 0.5 # the last TEARDOWN answers and RTCP
for pid in "${!RUNNING[@]}"; do
	[[ $pid == "$CAPTURE_PID" ]] || stop "$pid"
done
sleep 0.5
stop "$CAPTURE_PID"
cp "$WORK/capture.pcapng" "$PCAP"
check_capture
write_truth
summary

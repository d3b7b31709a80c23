// camera_emulator: an RTSP camera or NVR (GStreamer RTSP server) answering 503 for a chosen cause.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Serves H.264 test video (videotestsrc -> openh264enc, low bitrate, a key frame every 2 s) at
// vendor-like URLs, one shared media per URL; URLs that differ by their query alone (Dahua, Axis)
// are told apart by a GstRTSPMountPoints and a GstRTSPClient subclass:
//   Hikvision  /Streaming/Channels/<ch*100+type>   type 1 main 1280x720@15, 2 sub 640x360@10,
//                                                  3 third 320x180@10 (cameras only)
//   Dahua      /cam/realmonitor?channel=<ch>&subtype=<0 main|1 sub|2 third>
//   Axis       /axis-media/media.amp?camera=<ch>&resolution=<W>x<H>&fps=<n>&videocodec=h264
//              (the main or sub values name those streams; any other resolution or fps asks the
//              encoder for a custom profile)
// A camera has channel 1, an NVR (--mode nvr) channels 1..--channels.
//
// The refusal policies (--policy, comma separated), each refusing the real way:
//   too_many_clients         gst_rtsp_session_pool_set_max_sessions (--max-sessions, default 2):
//                            the server itself answers 503 to the SETUP that would open one
//                            session too many; a client gone without TEARDOWN keeps its slot
//                            until the session timeout (--session-timeout) expires.
//   encoder_busy             per channel one profile beyond main and sub at a time: while a
//                            session holds the third stream or a custom profile, DESCRIBE or
//                            SETUP of another such profile of that channel gets 503.
//   unsupported_profile      a profile the encoder cannot make (videocodec other than h264,
//                            resolution above 1920x1080, fps above 30) always gets 503
//                            (without this policy: 404).
//   nvr_channel_unavailable  one channel (--offline-channel, default 3) always gets 503: its
//                            camera is offline.
//   encoder_restart          an HTTP listener (--http-port) takes the encoder changes
//                            PUT /ISAPI/Streaming/channels/<id> (Hikvision ISAPI) and the ONVIF
//                            SetVideoEncoderConfiguration SOAP POST to /onvif/media_service;
//                            for --restart-seconds after one the encoder restarts: the streams
//                            playing are dropped and every DESCRIBE and SETUP gets 503 with
//                            Retry-After (the seconds left).
//   device_overload          about one in --overload-every DESCRIBE or SETUP requests,
//                            whatever the stream or client, gets 503 with Retry-After:
//                            --overload-retry-after: requests n, 2n + 1, 3n + 1, 4n + 2, ...
//                            (gaps of n and n + 1 in turn, so that both methods get some).
// The pre-describe-request and pre-setup-request signals of GstRTSPClient return the 503; the
// send-message signal adds Retry-After to it and logs it. Every 503 the server sends is logged
// to stderr as one line
//   REFUSED 503 cause=<cause> method=<m> cseq=<n> peer=<ip>:<port> server=<ip>:<port>
//   session=<id|-> retry_after=<s|-> uri=<uri> reason="<why>"
// so that a recorder can check that each 503 in a capture was meant; a 503 for no reason of
// these policies is logged with cause=unexpected.
//
// Build: make -C tools/rtsp (pkg-config gstreamer-rtsp-server-1.0). Run: see --help.

#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHANNELS 16
#define HTTP_MAX_LINE 4096
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_BODY 65536

typedef enum { STREAM_CUSTOM = 0, STREAM_MAIN = 1, STREAM_SUB = 2, STREAM_THIRD = 3 } StreamType;

static const char *const STREAM_NAME[] = {"custom", "main", "sub", "third"};

/* The standard streams of every channel: size, rate and bitrate (kbit/s). */
static const struct {
	int width, height, fps, kbps;
} STANDARD[] = {{0, 0, 0, 0}, {1280, 720, 15, 256}, {640, 360, 10, 128}, {320, 180, 10, 64}};

/* What the encoder can make at most. */
#define ENCODER_MAX_WIDTH 1920
#define ENCODER_MAX_HEIGHT 1080
#define ENCODER_MAX_FPS 30

/* The ball of videotestsrc, one colour per channel: it compresses well (smpte or circular at
 * 1280x720 make openh264 overshoot its bitrate several times) */
static const unsigned BALL_COLOUR[] = {0xffffffff, 0xff00ff00, 0xffff0000, 0xff00a0ff};

typedef struct {
	int channel;
	StreamType type;
	int width, height, fps, kbps;
	char codec[16];
	char key[96];     /* the encoder profile, e.g. "ch1/third", "ch1/custom-800x450@12-h264" */
	char mount[1024]; /* the path the media is mounted at, query included */
	char unsupported[192]; /* why the encoder cannot make it, or "" */
} Profile;

/* Options */
static char *opt_mode = NULL;
static char *opt_name = NULL;
static char *opt_address = NULL;
static int opt_port = 8554;
static int opt_channels = 0;
static char *opt_policy = NULL;
static int opt_max_sessions = 2;
static int opt_session_timeout = 60;
static int opt_offline_channel = 3;
static int opt_http_port = 0;
static int opt_restart_seconds = 5;
static int opt_overload_every = 3;
static int opt_overload_retry_after = 2;
static int opt_rtp_port = 0;
static int opt_lifetime = 120;

static gboolean nvr_mode;
static gboolean pol_too_many_clients, pol_encoder_busy, pol_unsupported_profile;
static gboolean pol_channel_unavailable, pol_encoder_restart, pol_device_overload;

static GstRTSPServer *server;
static GstRTSPSessionPool *pool;
static GstRTSPMountPoints *mounts;
static GstRTSPAddressPool *address_pool;
static GMainLoop *loop;
static gint64 started_us;

/* State shared by the main loop, the HTTP threads and the media threads, under state_lock */
static GMutex state_lock;
static GHashTable *mounted;       /* mount path -> TRUE */
static GHashTable *sessions;      /* session id -> SessionInfo */
static char *extra_key[MAX_CHANNELS + 1];  /* the profile beyond main and sub a channel encodes */
static int extra_refs[MAX_CHANNELS + 1];   /* how many sessions hold it */
static gint64 restart_until_us;   /* monotonic time the encoder restart ends */
static char *restart_what;        /* what started it */
static unsigned overload_count;   /* DESCRIBE and SETUP requests counted for device_overload */
static unsigned overload_next;    /* the next one it refuses */
static gboolean overload_long_gap; /* the gap after the next refusal is --overload-every + 1 */
static gboolean cleaning_up;      /* the pool removes sessions because they expired */

typedef struct {
	char *peer;
	char *key;        /* the profile */
	gboolean extra;   /* holds extra_key[channel] */
	int channel;
	gpointer client;  /* only compared, never dereferenced */
	gboolean orphaned; /* its RTSP connection closed without TEARDOWN */
	gint64 created_us;
} SessionInfo;

typedef struct {
	const char *cause;
	char *reason;
	int retry_after; /* seconds, 0 for no Retry-After */
} Refusal;

/* ---------------------------------------------------------------- logging */

static void
logf_(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void
logf_(const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%8.3f] %s: %s\n", (g_get_monotonic_time() - started_us) / 1e6, opt_name,
		text);
	g_free(text);
}

/* ---------------------------------------------------------------- profiles */

static int
param_int(GHashTable *params, const char *name, int fallback)
{
	const char *v = params ? g_hash_table_lookup(params, name) : NULL;
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return fallback;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 0 && n < 100000 ? (int)n : -1;
}

static void
profile_standard(Profile *p, StreamType type)
{
	p->type = type;
	p->width = STANDARD[type].width;
	p->height = STANDARD[type].height;
	p->fps = STANDARD[type].fps;
	p->kbps = STANDARD[type].kbps;
}

/* An Axis request: the standard stream it names, or a custom profile. */
static void
profile_axis(Profile *p, GHashTable *params)
{
	const char *res = params ? g_hash_table_lookup(params, "resolution") : NULL;
	const char *codec = params ? g_hash_table_lookup(params, "videocodec") : NULL;
	int w = STANDARD[STREAM_MAIN].width, h = STANDARD[STREAM_MAIN].height;
	int fps = param_int(params, "fps", STANDARD[STREAM_MAIN].fps);
	StreamType t;

	if (res != NULL && sscanf(res, "%dx%d", &w, &h) != 2)
		w = h = 0;
	g_strlcpy(p->codec, codec && *codec ? codec : "h264", sizeof p->codec);
	for (t = STREAM_MAIN; t <= STREAM_SUB; t++) {
		if (w == STANDARD[t].width && h == STANDARD[t].height && fps == STANDARD[t].fps) {
			profile_standard(p, t);
			return;
		}
	}
	p->type = STREAM_CUSTOM;
	p->width = w;
	p->height = h;
	p->fps = fps;
	/* the main stream's bitrate scaled by pixels per second, at least 64 kbit/s */
	p->kbps = MAX(64, (int)((double)w * h * fps * STANDARD[STREAM_MAIN].kbps /
				 ((double)STANDARD[STREAM_MAIN].width * STANDARD[STREAM_MAIN].height *
				  STANDARD[STREAM_MAIN].fps)));
}

static void
profile_check_encoder(Profile *p)
{
	if (g_ascii_strcasecmp(p->codec, "h264") != 0)
		g_snprintf(p->unsupported, sizeof p->unsupported,
			   "videocodec=%s: this encoder makes H.264 only", p->codec);
	else if (p->width <= 0 || p->height <= 0 || p->fps <= 0)
		g_snprintf(p->unsupported, sizeof p->unsupported,
			   "resolution or fps not understood");
	else if (p->width > ENCODER_MAX_WIDTH || p->height > ENCODER_MAX_HEIGHT)
		g_snprintf(p->unsupported, sizeof p->unsupported,
			   "resolution %dx%d above the encoder's maximum %dx%d", p->width, p->height,
			   ENCODER_MAX_WIDTH, ENCODER_MAX_HEIGHT);
	else if (p->fps > ENCODER_MAX_FPS)
		g_snprintf(p->unsupported, sizeof p->unsupported,
			   "%d fps above the encoder's maximum %d", p->fps, ENCODER_MAX_FPS);
}

/* Parses a request URL into the profile it asks for; FALSE when no such stream exists (404). */
static gboolean
parse_profile(const GstRTSPUrl *url, Profile *p)
{
	char *full, *cut, **parts;
	const char *path;
	GHashTable *params = NULL;
	gboolean ok = TRUE;
	int n;

	memset(p, 0, sizeof *p);
	g_strlcpy(p->codec, "h264", sizeof p->codec);
	full = url->query ? g_strdup_printf("%s?%s", url->abspath, url->query) : g_strdup(url->abspath);
	/* a SETUP names a stream of the media: drop the control part of the SDP */
	if ((cut = g_strrstr(full, "/stream=")) != NULL)
		*cut = '\0';
	n = (int)strlen(full);
	while (n > 1 && full[n - 1] == '/')
		full[--n] = '\0';
	g_strlcpy(p->mount, full, sizeof p->mount);
	parts = g_strsplit(full, "?", 2);
	path = parts[0];
	if (parts[1] != NULL)
		params = g_uri_parse_params(parts[1], -1, "&", G_URI_PARAMS_CASE_INSENSITIVE, NULL);

	if (g_ascii_strncasecmp(path, "/Streaming/Channels/", 20) == 0) {
		char *end;
		long id = strtol(path + 20, &end, 10);

		ok = *end == '\0' && id > 0;
		p->channel = (int)(id / 100);
		if (id % 100 < STREAM_MAIN || id % 100 > STREAM_THIRD)
			ok = FALSE;
		else
			profile_standard(p, (StreamType)(id % 100));
	} else if (g_ascii_strcasecmp(path, "/cam/realmonitor") == 0) {
		int subtype = param_int(params, "subtype", 0);

		p->channel = param_int(params, "channel", 1);
		ok = subtype >= 0 && subtype <= 2;
		if (ok)
			profile_standard(p, (StreamType)(subtype + 1));
	} else if (g_ascii_strcasecmp(path, "/axis-media/media.amp") == 0) {
		p->channel = param_int(params, "camera", 1);
		profile_axis(p, params);
	} else {
		ok = FALSE;
	}
	if (p->channel < 1 || p->channel > opt_channels)
		ok = FALSE;
	/* an NVR relays its cameras' main and sub streams only */
	if (nvr_mode && p->type != STREAM_MAIN && p->type != STREAM_SUB)
		ok = FALSE;
	if (p->type == STREAM_CUSTOM)
		g_snprintf(p->key, sizeof p->key, "ch%d/custom-%dx%d@%d-%s", p->channel, p->width,
			   p->height, p->fps, p->codec);
	else
		g_snprintf(p->key, sizeof p->key, "ch%d/%s", p->channel, STREAM_NAME[p->type]);
	profile_check_encoder(p);
	if (params)
		g_hash_table_unref(params);
	g_strfreev(parts);
	g_free(full);
	return ok;
}

/* ---------------------------------------------------------------- media */

/* Mounts a shared media for the profile's URL, once. Called with state_lock held. */
static void
ensure_mount(const Profile *p)
{
	GstRTSPMediaFactory *factory;
	char *launch;

	if (g_hash_table_contains(mounted, p->mount))
		return;
	/* openh264, not x264: x264 writes VUI timing info into the SPS, whose emulation
	 * prevention bytes Wireshark 4.0 does not remove when it reads sprop-parameter-sets:
	 * it would flag the DESCRIBE answers as malformed. */
	launch = g_strdup_printf(
		"( videotestsrc is-live=true pattern=ball foreground-color=0x%08x ! "
		"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "
		"openh264enc usage-type=camera complexity=low rate-control=bitrate bitrate=%d "
		"gop-size=%d multi-thread=1 ! video/x-h264,profile=constrained-baseline ! "
		"rtph264pay name=pay0 pt=96 config-interval=-1 )",
		BALL_COLOUR[(p->channel - 1) % G_N_ELEMENTS(BALL_COLOUR)], p->width, p->height, p->fps,
		p->kbps * 1000, 2 * p->fps);
	factory = gst_rtsp_media_factory_new();
	gst_rtsp_media_factory_set_launch(factory, launch);
	gst_rtsp_media_factory_set_shared(factory, TRUE);
	gst_rtsp_media_factory_set_address_pool(factory, address_pool);
	gst_rtsp_mount_points_add_factory(mounts, p->mount, factory);
	g_hash_table_add(mounted, g_strdup(p->mount));
	logf_("mounted %s (%s, %dx%d@%d, %d kbit/s)", p->mount, p->key, p->width, p->height,
	      p->fps, p->kbps);
	g_free(launch);
}

/* The path of a request URL with its query (Dahua and Axis URLs differ by the query alone),
 * without the '/' a client puts after the query when it resolves the SDP's control URLs against
 * Content-Base. The default mount points match the path alone, and the default client keeps
 * that '/' after a query, so that the aggregate PLAY and TEARDOWN would get 460. */
static gchar *
path_with_query(const GstRTSPUrl *url)
{
	const char *path = url->abspath[0] ? url->abspath : "/";
	char *result;
	size_t n;

	if (url->query == NULL)
		return g_strdup(path);
	result = g_strdup_printf("%s?%s", path, url->query);
	n = strlen(result);
	while (n > 0 && result[n - 1] == '/')
		result[--n] = '\0';
	return result;
}

/* A GObject subclass <Name> of <Parent> whose class only sets <member> to <func>. */
#define SUBCLASS(Name, name, PARENT_TYPE, Parent, member, func)                                   \
	typedef Parent Name;                                                                       \
	typedef Parent##Class Name##Class;                                                         \
	G_DEFINE_TYPE(Name, name, PARENT_TYPE)                                                     \
	static void name##_class_init(Name##Class *klass) { klass->member = func; }                \
	static void name##_init(Name *self) {}

static gchar *
mounts_make_path(GstRTSPMountPoints *m, const GstRTSPUrl *url)
{
	return path_with_query(url);
}

static gchar *
client_make_path(GstRTSPClient *client, const GstRTSPUrl *url)
{
	return path_with_query(url);
}

/* A server whose clients are QueryClients; otherwise as gst_rtsp_server's own create_client. */
static GstRTSPClient *
server_create_client(GstRTSPServer *srv);

SUBCLASS(QueryMounts, query_mounts, GST_TYPE_RTSP_MOUNT_POINTS, GstRTSPMountPoints, make_path,
	 mounts_make_path)
SUBCLASS(QueryClient, query_client, GST_TYPE_RTSP_CLIENT, GstRTSPClient, make_path_from_uri,
	 client_make_path)
SUBCLASS(CameraServer, camera_server, GST_TYPE_RTSP_SERVER, GstRTSPServer, create_client,
	 server_create_client)

static GstRTSPClient *
server_create_client(GstRTSPServer *srv)
{
	GstRTSPClient *client = g_object_new(query_client_get_type(), NULL);
	GstRTSPSessionPool *session_pool = gst_rtsp_server_get_session_pool(srv);
	GstRTSPMountPoints *mount_points = gst_rtsp_server_get_mount_points(srv);
	GstRTSPThreadPool *thread_pool = gst_rtsp_server_get_thread_pool(srv);

	gst_rtsp_client_set_session_pool(client, session_pool);
	gst_rtsp_client_set_mount_points(client, mount_points);
	gst_rtsp_client_set_thread_pool(client, thread_pool);
	g_object_unref(session_pool);
	g_object_unref(mount_points);
	g_object_unref(thread_pool);
	return client;
}

/* ---------------------------------------------------------------- sessions */

static void
session_info_free(gpointer data)
{
	SessionInfo *info = data;

	g_free(info->peer);
	g_free(info->key);
	g_free(info);
}

static const char *
peer_of(GstRTSPClient *client)
{
	return g_object_get_data(G_OBJECT(client), "diag503-peer");
}

static void
on_new_session(GstRTSPClient *client, GstRTSPSession *session, gpointer data)
{
	GstRTSPContext *ctx = gst_rtsp_context_get_current();
	SessionInfo *info = g_new0(SessionInfo, 1);
	Profile p;

	gst_rtsp_session_set_timeout(session, opt_session_timeout);
	info->peer = g_strdup(peer_of(client));
	info->client = client;
	info->created_us = g_get_monotonic_time();
	g_mutex_lock(&state_lock);
	if (ctx != NULL && ctx->uri != NULL && parse_profile(ctx->uri, &p)) {
		info->key = g_strdup(p.key);
		info->channel = p.channel;
		if (pol_encoder_busy && (p.type == STREAM_THIRD || p.type == STREAM_CUSTOM)) {
			if (extra_refs[p.channel]++ == 0) {
				g_free(extra_key[p.channel]);
				extra_key[p.channel] = g_strdup(p.key);
			}
			info->extra = TRUE;
		}
	}
	g_hash_table_replace(sessions, g_strdup(gst_rtsp_session_get_sessionid(session)), info);
	logf_("session %s opened by %s for %s (%u sessions, at most %d, 0: no limit)",
	      gst_rtsp_session_get_sessionid(session), info->peer, info->key ? info->key : "?",
	      g_hash_table_size(sessions), gst_rtsp_session_pool_get_max_sessions(pool));
	g_mutex_unlock(&state_lock);
}

static void
on_session_removed(GstRTSPSessionPool *p, GstRTSPSession *session, gpointer data)
{
	const char *id = gst_rtsp_session_get_sessionid(session);
	SessionInfo *info;

	g_mutex_lock(&state_lock);
	info = g_hash_table_lookup(sessions, id);
	if (info != NULL) {
		if (info->extra && --extra_refs[info->channel] == 0)
			g_clear_pointer(&extra_key[info->channel], g_free);
		logf_("session %s of %s removed: %s%s", id, info->peer,
		      cleaning_up ? "expired, no request or RTCP within timeout" : "closed",
		      info->orphaned ? " (its client had left without TEARDOWN)" : "");
		g_hash_table_remove(sessions, id);
	}
	g_mutex_unlock(&state_lock);
}

static gboolean
cleanup_sessions(gpointer data)
{
	g_mutex_lock(&state_lock);
	cleaning_up = TRUE;
	g_mutex_unlock(&state_lock);
	/* session-removed is emitted from here, in this thread: no lock held meanwhile */
	gst_rtsp_session_pool_cleanup(pool);
	g_mutex_lock(&state_lock);
	cleaning_up = FALSE;
	g_mutex_unlock(&state_lock);
	return G_SOURCE_CONTINUE;
}

static GstRTSPFilterResult
note_expiry(GstRTSPSessionPool *p, GstRTSPSession *session, gpointer data)
{
	gint64 left = gst_rtsp_session_next_timeout_usec(session, g_get_monotonic_time());

	/* not gst_rtsp_session_pool_find(): that would touch the session and so keep it alive */
	g_hash_table_insert(data, g_strdup(gst_rtsp_session_get_sessionid(session)),
			    g_strdup_printf("%.1f", left / 1e3));
	return GST_RTSP_FILTER_KEEP;
}

/* "<id> from <peer> for <profile>, expires in <s> s[, ...]; ..." for the log of a full pool */
static char *
describe_sessions(void)
{
	GHashTable *expiry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GString *s = g_string_new(NULL);
	GHashTableIter it;
	gpointer id, value;

	gst_rtsp_session_pool_filter(pool, note_expiry, expiry);
	g_mutex_lock(&state_lock);
	g_hash_table_iter_init(&it, sessions);
	while (g_hash_table_iter_next(&it, &id, &value)) {
		SessionInfo *info = value;
		const char *left = g_hash_table_lookup(expiry, id);

		g_string_append_printf(s, "%s%s from %s for %s, expires in %s s%s",
				       s->len ? "; " : "", (char *)id, info->peer,
				       info->key ? info->key : "?", left ? left : "?",
				       info->orphaned ? ", its client left without TEARDOWN" : "");
	}
	g_mutex_unlock(&state_lock);
	g_hash_table_unref(expiry);
	return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- refusals */

static void
refusal_free(gpointer data)
{
	Refusal *r = data;

	g_free(r->reason);
	g_free(r);
}

static GstRTSPStatusCode
refuse(GstRTSPClient *client, const char *cause, int retry_after, char *reason)
{
	Refusal *r = g_new0(Refusal, 1);

	r->cause = cause;
	r->reason = reason;
	r->retry_after = retry_after;
	g_object_set_data_full(G_OBJECT(client), "diag503-refusal", r, refusal_free);
	return GST_RTSP_STS_SERVICE_UNAVAILABLE;
}

/* The policies for a DESCRIBE or SETUP; state_lock held. */
static GstRTSPStatusCode
decide(GstRTSPClient *client, GstRTSPContext *ctx)
{
	Profile p;
	gint64 now = g_get_monotonic_time();

	if (ctx->uri == NULL || !parse_profile(ctx->uri, &p))
		return GST_RTSP_STS_OK; /* the server answers 404 itself */
	if (p.unsupported[0] != '\0') {
		if (pol_unsupported_profile)
			return refuse(client, "unsupported_profile", 0,
				      g_strdup_printf("%s: %s", p.key, p.unsupported));
		return GST_RTSP_STS_OK; /* never mounted: 404 */
	}
	if (pol_channel_unavailable && p.channel == opt_offline_channel)
		return refuse(client, "nvr_channel_unavailable", 0,
			      g_strdup_printf("channel %d: its camera is offline (no video signal)",
					      p.channel));
	if (pol_encoder_restart && now < restart_until_us) {
		int left = (int)((restart_until_us - now + 999999) / 1000000);

		return refuse(client, "encoder_restart", left,
			      g_strdup_printf("encoder restarting after %s, %d s left",
					      restart_what, left));
	}
	if (pol_encoder_busy && (p.type == STREAM_THIRD || p.type == STREAM_CUSTOM) &&
	    extra_refs[p.channel] > 0 && strcmp(extra_key[p.channel], p.key) != 0)
		return refuse(client, "encoder_busy", 0,
			      g_strdup_printf("%s asked while channel %d's encoder makes %s for %d "
					      "session(s); it makes one profile besides main and sub",
					      p.key, p.channel, extra_key[p.channel],
					      extra_refs[p.channel]));
	if (pol_device_overload && ++overload_count == overload_next) {
		/* gaps of n and n + 1 in turn: the refusals fall on DESCRIBE and on SETUP */
		overload_next += (unsigned)opt_overload_every + (overload_long_gap ? 1 : 0);
		overload_long_gap = !overload_long_gap;
		return refuse(client, "device_overload", opt_overload_retry_after,
			      g_strdup_printf("DESCRIBE/SETUP request %u of this device: overloaded, "
					      "refusing about one in %d",
					      overload_count, opt_overload_every));
	}
	ensure_mount(&p);
	return GST_RTSP_STS_OK;
}

/* pre-describe-request and pre-setup-request: the policies */
static GstRTSPStatusCode
on_pre_request(GstRTSPClient *client, GstRTSPContext *ctx, gpointer data)
{
	GstRTSPStatusCode code;

	g_mutex_lock(&state_lock);
	code = decide(client, ctx);
	g_mutex_unlock(&state_lock);
	return code;
}

/* Every response goes out through here: log it; a 503 also gets its Retry-After. */
static void
on_send_message(GstRTSPClient *client, GstRTSPContext *ctx, GstRTSPMessage *msg, gpointer data)
{
	GstRTSPStatusCode code;
	Refusal *r;
	char *uri, *session_header = NULL, *cseq = NULL, retry[16] = "-";
	const char *method = ctx && ctx->request ? gst_rtsp_method_as_text(ctx->method) : "?";

	if (gst_rtsp_message_get_type(msg) != GST_RTSP_MESSAGE_RESPONSE ||
	    gst_rtsp_message_parse_response(msg, &code, NULL, NULL) != GST_RTSP_OK)
		return;
	r = g_object_steal_data(G_OBJECT(client), "diag503-refusal");
	uri = ctx && ctx->uri ? gst_rtsp_url_get_request_uri(ctx->uri) : g_strdup("?");
	gst_rtsp_message_get_header(msg, GST_RTSP_HDR_CSEQ, &cseq, 0);
	if (code != GST_RTSP_STS_SERVICE_UNAVAILABLE) {
		logf_("%s %s %s -> %d", peer_of(client), method, uri, code);
		if (r)
			refusal_free(r);
		g_free(uri);
		return;
	}
	if (r == NULL) {
		/* not one of ours: the server's own session limit, or something unexpected */
		int max = gst_rtsp_session_pool_get_max_sessions(pool);
		unsigned n = gst_rtsp_session_pool_get_n_sessions(pool);

		r = g_new0(Refusal, 1);
		if (pol_too_many_clients && ctx->method == GST_RTSP_SETUP && max > 0 &&
		    n >= (unsigned)max) {
			char *list = describe_sessions();

			r->cause = "too_many_clients";
			r->reason = g_strdup_printf("session pool full, %u of %d sessions: %s", n,
						    max, list);
			g_free(list);
		} else {
			r->cause = "unexpected";
			r->reason = g_strdup("a 503 no policy asked for");
		}
	}
	if (r->retry_after > 0) {
		g_snprintf(retry, sizeof retry, "%d", r->retry_after);
		gst_rtsp_message_add_header(msg, GST_RTSP_HDR_RETRY_AFTER, retry);
	}
	gst_rtsp_message_get_header(msg, GST_RTSP_HDR_SESSION, &session_header, 0);
	logf_("REFUSED 503 cause=%s method=%s cseq=%s peer=%s server=%s:%d session=%s "
	      "retry_after=%s uri=%s reason=\"%s\"",
	      r->cause, method, cseq ? cseq : "-", peer_of(client), opt_address, opt_port,
	      session_header ? session_header : "-", retry, uri, r->reason);
	refusal_free(r);
	g_free(uri);
}

/* ---------------------------------------------------------------- clients */

static void
on_client_closed(GstRTSPClient *client, gpointer data)
{
	GHashTableIter it;
	gpointer id, value;

	g_mutex_lock(&state_lock);
	g_hash_table_iter_init(&it, sessions);
	while (g_hash_table_iter_next(&it, &id, &value)) {
		SessionInfo *info = value;

		if (info->client == client && !info->orphaned) {
			info->orphaned = TRUE;
			info->client = NULL;
			logf_("session %s stays: %s closed its connection without TEARDOWN",
			      (char *)id, info->peer);
		}
	}
	g_mutex_unlock(&state_lock);
	logf_("connection from %s closed", peer_of(client));
}

static void
on_teardown(GstRTSPClient *client, GstRTSPContext *ctx, gpointer data)
{
	/* a TEARDOWN ends the session: it is no ghost even if the connection closes first */
	if (ctx->session == NULL)
		return;
	g_mutex_lock(&state_lock);
	{
		SessionInfo *info = g_hash_table_lookup(sessions,
							gst_rtsp_session_get_sessionid(ctx->session));
		if (info)
			info->client = NULL;
	}
	g_mutex_unlock(&state_lock);
}

static void
on_client_connected(GstRTSPServer *srv, GstRTSPClient *client, gpointer data)
{
	GstRTSPConnection *conn = gst_rtsp_client_get_connection(client);
	GSocket *socket = conn ? gst_rtsp_connection_get_read_socket(conn) : NULL;
	GSocketAddress *addr = socket ? g_socket_get_remote_address(socket, NULL) : NULL;
	char *peer;

	if (addr != NULL && G_IS_INET_SOCKET_ADDRESS(addr)) {
		GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS(addr);
		char *ip = g_inet_address_to_string(g_inet_socket_address_get_address(inet));

		peer = g_strdup_printf("%s:%u", ip, g_inet_socket_address_get_port(inet));
		g_free(ip);
	} else {
		peer = g_strdup("?");
	}
	g_clear_object(&addr);
	g_object_set_data_full(G_OBJECT(client), "diag503-peer", peer, g_free);
	logf_("connection from %s", peer);
	g_signal_connect(client, "pre-describe-request", G_CALLBACK(on_pre_request), NULL);
	g_signal_connect(client, "pre-setup-request", G_CALLBACK(on_pre_request), NULL);
	g_signal_connect(client, "send-message", G_CALLBACK(on_send_message), NULL);
	g_signal_connect(client, "new-session", G_CALLBACK(on_new_session), NULL);
	g_signal_connect(client, "teardown-request", G_CALLBACK(on_teardown), NULL);
	g_signal_connect(client, "closed", G_CALLBACK(on_client_closed), NULL);
}

/* ---------------------------------------------------------------- encoder restart (HTTP) */

static GstRTSPFilterResult
drop_session(GstRTSPSessionPool *p, GstRTSPSession *session, gpointer data)
{
	return GST_RTSP_FILTER_REMOVE;
}

static GstRTSPFilterResult
drop_client(GstRTSPServer *srv, GstRTSPClient *client, gpointer data)
{
	return GST_RTSP_FILTER_REMOVE;
}

/* The encoder restarts: every stream playing stops, as on a real camera. */
static gboolean
restart_encoder(gpointer data)
{
	logf_("encoder restart: dropping %u session(s) and every RTSP connection",
	      gst_rtsp_session_pool_get_n_sessions(pool));
	gst_rtsp_session_pool_filter(pool, drop_session, NULL);
	gst_rtsp_server_client_filter(server, drop_client, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean
restart_over(gpointer data)
{
	gboolean over;

	g_mutex_lock(&state_lock);
	over = g_get_monotonic_time() >= restart_until_us;
	g_mutex_unlock(&state_lock);
	if (over)
		logf_("encoder restart over: streams available again");
	return G_SOURCE_REMOVE;
}

static void
start_restart(const char *what)
{
	g_mutex_lock(&state_lock);
	restart_until_us = g_get_monotonic_time() + (gint64)opt_restart_seconds * G_USEC_PER_SEC;
	g_free(restart_what);
	restart_what = g_strdup(what);
	g_mutex_unlock(&state_lock);
	logf_("encoder change by %s: restarting the encoder for %d s", what, opt_restart_seconds);
	g_idle_add(restart_encoder, NULL);
	g_timeout_add((guint)opt_restart_seconds * 1000 + 10, restart_over, NULL);
}

static void
http_reply(GOutputStream *out, int code, const char *phrase, const char *type, const char *body)
{
	char *head = g_strdup_printf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
				     "Connection: close\r\n\r\n",
				     code, phrase, type, strlen(body));

	g_output_stream_write_all(out, head, strlen(head), NULL, NULL, NULL);
	g_output_stream_write_all(out, body, strlen(body), NULL, NULL, NULL);
	g_free(head);
	logf_("http -> %d %s", code, phrase);
}

static const char ISAPI_OK[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	"<ResponseStatus version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\">\r\n"
	"<requestURL>%s</requestURL>\r\n<statusCode>1</statusCode>\r\n"
	"<statusString>OK</statusString>\r\n<subStatusCode>ok</subStatusCode>\r\n"
	"</ResponseStatus>\r\n";

static const char ONVIF_OK[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	"<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://www.w3.org/2003/05/soap-envelope\" "
	"xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\"><SOAP-ENV:Body>"
	"<trt:SetVideoEncoderConfigurationResponse/></SOAP-ENV:Body></SOAP-ENV:Envelope>\r\n";

static gboolean
http_run(GThreadedSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	GDataInputStream *din = g_data_input_stream_new(in);
	char *line, **request = NULL, *body = NULL;
	gsize len, length = 0;
	int i;

	g_socket_set_timeout(g_socket_connection_get_socket(conn), 5);
	g_data_input_stream_set_newline_type(din, G_DATA_STREAM_NEWLINE_TYPE_ANY);
	line = g_data_input_stream_read_line(din, &len, NULL, NULL);
	if (line == NULL || len > HTTP_MAX_LINE)
		goto done;
	request = g_strsplit(line, " ", 3);
	g_free(line);
	if (g_strv_length(request) != 3)
		goto done;
	for (i = 0; i < HTTP_MAX_HEADERS; i++) {
		line = g_data_input_stream_read_line(din, &len, NULL, NULL);
		if (line == NULL || *line == '\0') {
			g_free(line);
			break;
		}
		if (g_ascii_strncasecmp(line, "Content-Length:", 15) == 0)
			length = (gsize)g_ascii_strtoull(line + 15, NULL, 10);
		g_free(line);
	}
	if (length > HTTP_MAX_BODY)
		goto done;
	body = g_malloc0(length + 1);
	if (!g_input_stream_read_all(G_INPUT_STREAM(din), body, length, &len, NULL, NULL) ||
	    len != length)
		goto done;
	logf_("http %s %s (%zu bytes of body)", request[0], request[1], length);

	if (pol_encoder_restart && g_ascii_strcasecmp(request[0], "PUT") == 0 &&
	    g_ascii_strncasecmp(request[1], "/ISAPI/Streaming/channels/", 26) == 0) {
		char *what = g_strdup_printf("ISAPI PUT %s", request[1]);
		char *reply = g_strdup_printf(ISAPI_OK, request[1]);

		start_restart(what);
		http_reply(out, 200, "OK", "application/xml", reply);
		g_free(reply);
		g_free(what);
	} else if (pol_encoder_restart && g_ascii_strcasecmp(request[0], "POST") == 0 &&
		   g_str_has_prefix(request[1], "/onvif/") &&
		   strstr(body, "SetVideoEncoderConfiguration") != NULL) {
		start_restart("ONVIF SetVideoEncoderConfiguration");
		http_reply(out, 200, "OK", "application/soap+xml; charset=utf-8", ONVIF_OK);
	} else {
		http_reply(out, 404, "Not Found", "text/plain", "not found\r\n");
	}
done:
	g_free(body);
	g_strfreev(request);
	g_object_unref(din);
	return TRUE;
}

static gboolean
http_start(GError **error)
{
	GSocketService *service = g_threaded_socket_service_new(4);
	GInetAddress *ip = g_inet_address_new_from_string(opt_address);
	GSocketAddress *addr = g_inet_socket_address_new(ip, (guint16)opt_http_port);
	gboolean ok = g_socket_listener_add_address(G_SOCKET_LISTENER(service), addr,
						    G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
						    NULL, NULL, error);

	g_object_unref(addr);
	g_object_unref(ip);
	if (!ok)
		return FALSE;
	g_signal_connect(service, "run", G_CALLBACK(http_run), NULL);
	g_socket_service_start(service);
	logf_("HTTP (ISAPI, ONVIF) on %s:%d", opt_address, opt_http_port);
	return TRUE;
}

/* ---------------------------------------------------------------- main */

static gboolean
quit(gpointer data)
{
	logf_("%s", (const char *)data);
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static gboolean
parse_policies(GError **error)
{
	static const struct {
		const char *name;
		gboolean *on;
	} POLICIES[] = {{"too_many_clients", &pol_too_many_clients},
			{"encoder_busy", &pol_encoder_busy},
			{"unsupported_profile", &pol_unsupported_profile},
			{"nvr_channel_unavailable", &pol_channel_unavailable},
			{"encoder_restart", &pol_encoder_restart},
			{"device_overload", &pol_device_overload}};
	char **names = g_strsplit(opt_policy ? opt_policy : "", ",", -1);
	gboolean ok = TRUE;
	size_t i, k;

	for (i = 0; names[i] != NULL && ok; i++) {
		if (names[i][0] == '\0' || strcmp(names[i], "none") == 0)
			continue;
		for (k = 0; k < G_N_ELEMENTS(POLICIES) && strcmp(names[i], POLICIES[k].name); k++)
			;
		if (k < G_N_ELEMENTS(POLICIES)) {
			*POLICIES[k].on = TRUE;
		} else {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "unknown policy '%s'", names[i]);
			ok = FALSE;
		}
	}
	g_strfreev(names);
	return ok;
}

static gboolean
check_options(GError **error)
{
	if (!parse_policies(error))
		return FALSE;
	if (opt_mode == NULL || strcmp(opt_mode, "camera") == 0)
		nvr_mode = FALSE;
	else if (strcmp(opt_mode, "nvr") == 0)
		nvr_mode = TRUE;
	else {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--mode is camera or nvr");
		return FALSE;
	}
	if (opt_channels == 0)
		opt_channels = nvr_mode ? 4 : 1;
	if (opt_channels < 1 || opt_channels > MAX_CHANNELS || opt_port <= 0 || opt_port > 65535 ||
	    opt_overload_every < 2 || opt_session_timeout < 1 || opt_lifetime < 1 ||
	    opt_restart_seconds < 1 || opt_rtp_port < 0 || opt_rtp_port > 65000) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "an option is out of range");
		return FALSE;
	}
	if (pol_encoder_restart && opt_http_port <= 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "encoder_restart needs --http-port");
		return FALSE;
	}
	if (opt_address == NULL)
		opt_address = g_strdup("127.0.0.1");
	if (opt_name == NULL)
		opt_name = g_strdup(nvr_mode ? "nvr" : "camera");
	if (opt_rtp_port == 0)
		opt_rtp_port = 40000 + (opt_port % 100) * 100;
	overload_next = (unsigned)opt_overload_every;
	overload_long_gap = TRUE;
	return TRUE;
}

int
main(int argc, char **argv)
{
	GOptionEntry entries[] = {
		{"mode", 0, 0, G_OPTION_ARG_STRING, &opt_mode, "camera (default) or nvr", "MODE"},
		{"name", 0, 0, G_OPTION_ARG_STRING, &opt_name, "name in the log", "NAME"},
		{"address", 0, 0, G_OPTION_ARG_STRING, &opt_address,
		 "address to listen on (default 127.0.0.1)", "IP"},
		{"port", 0, 0, G_OPTION_ARG_INT, &opt_port, "RTSP port (default 8554)", "PORT"},
		{"channels", 0, 0, G_OPTION_ARG_INT, &opt_channels,
		 "channels (camera 1, NVR 4)", "N"},
		{"policy", 0, 0, G_OPTION_ARG_STRING, &opt_policy,
		 "refusal policies, comma separated: too_many_clients, encoder_busy, "
		 "unsupported_profile, nvr_channel_unavailable, encoder_restart, device_overload",
		 "LIST"},
		{"max-sessions", 0, 0, G_OPTION_ARG_INT, &opt_max_sessions,
		 "too_many_clients: sessions of the whole device (default 2)", "N"},
		{"session-timeout", 0, 0, G_OPTION_ARG_INT, &opt_session_timeout,
		 "session timeout in s (default 60; the server allows 5 s more)", "S"},
		{"offline-channel", 0, 0, G_OPTION_ARG_INT, &opt_offline_channel,
		 "nvr_channel_unavailable: the channel whose camera is offline (default 3)", "N"},
		{"http-port", 0, 0, G_OPTION_ARG_INT, &opt_http_port,
		 "encoder_restart: HTTP port for ISAPI and ONVIF", "PORT"},
		{"restart-seconds", 0, 0, G_OPTION_ARG_INT, &opt_restart_seconds,
		 "encoder_restart: how long the encoder restarts (default 5)", "S"},
		{"overload-every", 0, 0, G_OPTION_ARG_INT, &opt_overload_every,
		 "device_overload: refuse about one in n DESCRIBE or SETUP (default 3)", "N"},
		{"overload-retry-after", 0, 0, G_OPTION_ARG_INT, &opt_overload_retry_after,
		 "device_overload: Retry-After seconds (default 2)", "S"},
		{"rtp-port", 0, 0, G_OPTION_ARG_INT, &opt_rtp_port,
		 "first of 100 UDP ports for RTP and RTCP (default 40000 + 100 * (port % 100))",
		 "PORT"},
		{"lifetime", 0, 0, G_OPTION_ARG_INT, &opt_lifetime,
		 "exit after this many seconds (default 120)", "S"},
		{NULL}};
	GOptionContext *octx = g_option_context_new("- RTSP camera/NVR emulator for diag503");
	GError *error = NULL;
	char service[16];
	int last_rtp;

	started_us = g_get_monotonic_time();
	setvbuf(stderr, NULL, _IOLBF, 0);
	g_option_context_add_main_entries(octx, entries, NULL);
	g_option_context_add_group(octx, gst_init_get_option_group());
	if (!g_option_context_parse(octx, &argc, &argv, &error) || !check_options(&error)) {
		fprintf(stderr, "camera_emulator: %s\n", error->message);
		return 2;
	}
	g_option_context_free(octx);

	mounted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, session_info_free);
	loop = g_main_loop_new(NULL, FALSE);
	server = g_object_new(camera_server_get_type(), NULL);
	gst_rtsp_server_set_address(server, opt_address);
	g_snprintf(service, sizeof service, "%d", opt_port);
	gst_rtsp_server_set_service(server, service);
	mounts = g_object_new(query_mounts_get_type(), NULL);
	gst_rtsp_server_set_mount_points(server, mounts);
	pool = gst_rtsp_server_get_session_pool(server);
	if (pol_too_many_clients)
		gst_rtsp_session_pool_set_max_sessions(pool, (guint)opt_max_sessions);
	g_signal_connect(pool, "session-removed", G_CALLBACK(on_session_removed), NULL);
	/* RTP and RTCP from this device's address and ports only */
	address_pool = gst_rtsp_address_pool_new();
	last_rtp = opt_rtp_port + 99;
	gst_rtsp_address_pool_add_range(address_pool, opt_address, opt_address,
					(guint16)opt_rtp_port, (guint16)last_rtp, 0);
	g_signal_connect(server, "client-connected", G_CALLBACK(on_client_connected), NULL);

	if (gst_rtsp_server_attach(server, NULL) == 0) {
		fprintf(stderr, "camera_emulator: cannot listen on %s:%d\n", opt_address, opt_port);
		return 1;
	}
	if (pol_encoder_restart && !http_start(&error)) {
		fprintf(stderr, "camera_emulator: HTTP on %s:%d: %s\n", opt_address, opt_http_port,
			error->message);
		return 1;
	}
	g_timeout_add_seconds(1, cleanup_sessions, NULL);
	g_timeout_add_seconds((guint)opt_lifetime, quit, "lifetime over, exiting");
	g_unix_signal_add(SIGTERM, quit, "SIGTERM, exiting");
	g_unix_signal_add(SIGINT, quit, "SIGINT, exiting");
	logf_("%s on rtsp://%s:%d/ (%d channel(s)), policies: %s, sessions at most %d (0: no "
	      "limit), session timeout %d s, RTP/RTCP ports %d-%d, %s",
	      nvr_mode ? "NVR" : "camera", opt_address, opt_port, opt_channels,
	      opt_policy ? opt_policy : "none", pol_too_many_clients ? opt_max_sessions : 0,
	      opt_session_timeout, opt_rtp_port, last_rtp, gst_version_string());
	g_main_loop_run(loop);
	return 0;
}

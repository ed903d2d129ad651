#include "pipelines/webrtc/WebrtcEngine.hpp"

#include <stdexcept>

#include "core/Log.hpp"
#include "pipelines/router/Router.hpp"
#include "pipelines/webrtc/PeerSession.hpp"

namespace manifold::media {

namespace {

// Payload types are chosen here and kept on every leg: the server offers both the
// publisher's and the subscribers' m-lines, so forwarded packets never need a PT rewrite.
constexpr const char* kAudioCaps =
    "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000,"
    "encoding-params=(string)2,minptime=(string)10,useinbandfec=(string)1,"
    "extmap-1=(string)urn:ietf:params:rtp-hdrext:ssrc-audio-level"; // RFC 6464, for `speaking`
// Video: VP8 first (every browser), then VP9, H264 and AV1 for clients that prefer them
// (RTCRtpTransceiver.setCodecPreferences before answering).
constexpr const char* kVideoCaps =
    "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000;"
    "application/x-rtp,media=video,encoding-name=VP9,payload=98,clock-rate=90000,profile-id=(string)0;"
    "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,"
    "packetization-mode=(string)1,profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1;"
    "application/x-rtp,media=video,encoding-name=AV1,payload=45,clock-rate=90000";

} // namespace

WebrtcEngine::WebrtcEngine(MediaConfig config, Scheduler& scheduler)
    : config_(std::move(config)), scheduler_(scheduler), audioCaps_(gst_caps_from_string(kAudioCaps)),
      videoCaps_(gst_caps_from_string(kVideoCaps)) {
    for (const char* factory : {"webrtcbin", "fakesink", "dtlsdec", "nicesrc", "srtpenc", "rtpbin"}) {
        GstElementFactory* f = gst_element_factory_find(factory);
        if (!f)
            throw std::runtime_error(std::string("GStreamer element '") + factory +
                                     "' is missing: install gstreamer1.0-plugins-bad, -good and gstreamer1.0-nice");
        gst_object_unref(f);
    }
    // The first DTLS element generates the process-wide certificate (RSA-2048, up to
    // half a second). Do it now, not when the first participant joins.
    const gint64 start = g_get_monotonic_time();
    { GstPtr<GstElement> warm = makeElement("dtlsdec"); }
    MLOG(Media, Info, "DTLS certificate ready in %.1f ms", double(g_get_monotonic_time() - start) / 1000.0);
    teardownPool_ = g_thread_pool_new(&WebrtcEngine::teardown, this, 1, TRUE, nullptr);
}

WebrtcEngine::~WebrtcEngine() {
    // Waits for every retired pipeline to stop.
    g_thread_pool_free(teardownPool_, FALSE, TRUE);
}

std::unique_ptr<MediaSession> WebrtcEngine::createSession(const std::string& room, const std::string& participantId,
                                                          MediaSession::Listener& listener) {
    sessions_++;
    return std::make_unique<PeerSession>(*this, router(room), participantId, listener);
}

std::shared_ptr<Router> WebrtcEngine::router(const std::string& room) {
    // Forget the rooms whose last endpoint went away.
    for (auto it = routers_.begin(); it != routers_.end();)
        it = it->second.expired() ? routers_.erase(it) : std::next(it);
    if (auto existing = routers_[room].lock()) return existing;
    Scheduler* scheduler = &scheduler_;
    auto created = std::make_shared<Router>(room, counters_, [scheduler] { return scheduler->now(); });
    routers_[room] = created;
    return created;
}

std::size_t WebrtcEngine::routers() const {
    std::size_t n = 0;
    for (const auto& [room, router] : routers_) n += router.expired() ? 0 : 1;
    return n;
}

CapsPtr WebrtcEngine::publishCaps(MediaKind kind, const std::string& preferred) const {
    const GstCaps* all = kind == MediaKind::Audio ? audioCaps_.get() : videoCaps_.get();
    CapsPtr out(gst_caps_new_empty());
    for (int pass = 0; pass < 2; ++pass)
        for (guint i = 0; i < gst_caps_get_size(all); ++i) {
            const GstStructure* s = gst_caps_get_structure(all, i);
            const char* name = gst_structure_get_string(s, "encoding-name");
            const bool isPreferred = name && !preferred.empty() && g_ascii_strcasecmp(name, preferred.c_str()) == 0;
            if (isPreferred == (pass == 0)) gst_caps_append_structure(out.get(), gst_structure_copy(s));
        }
    return out;
}

bool WebrtcEngine::isVideoPayload(int payloadType) const {
    for (guint i = 0; i < gst_caps_get_size(videoCaps_.get()); ++i) {
        int pt = -1;
        if (gst_structure_get_int(gst_caps_get_structure(videoCaps_.get(), i), "payload", &pt) && pt == payloadType)
            return true;
    }
    return false;
}

void WebrtcEngine::retire(GstPtr<GstElement> pipeline, PromisePtr lastOperation) {
    if (!pipeline) return;
    retiring_++;
    g_thread_pool_push(teardownPool_, new Retired{std::move(pipeline), std::move(lastOperation)}, nullptr);
}

void WebrtcEngine::teardown(gpointer data, gpointer self) noexcept {
    std::unique_ptr<Retired> retired(static_cast<Retired*>(data));
    // webrtcbin 1.22 deadlocks if its own thread changes an element's state while the
    // pipeline goes down: applying a description or building an offer, that thread holds
    // the connection lock and syncs a new transport bin to webrtcbin's state (now going
    // to NULL), so it waits for a pad's stream lock, while the streaming thread holding
    // that lock waits for the connection lock in rtpbin's on-new-ssrc handler. Only the
    // operations we queue do that, and webrtcbin runs its queue in order, so stopping
    // after the last one answered closes the window.
    if (retired->lastOperation) gst_promise_wait(retired->lastOperation.get());
    gst_element_set_state(retired->pipeline.get(), GST_STATE_NULL);
    retired.reset();
    static_cast<WebrtcEngine*>(self)->retiring_--;
}

} // namespace manifold::media

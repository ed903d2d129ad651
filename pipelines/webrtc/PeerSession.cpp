#include "pipelines/webrtc/PeerSession.hpp"

#include <algorithm>
#include <cstring>

#include "core/Log.hpp"
#include "pipelines/router/Consumer.hpp"
#include "pipelines/router/Router.hpp"
#include "pipelines/webrtc/Posting.hpp"
#include "pipelines/webrtc/WebrtcEngine.hpp"
#include "pipelines/webrtc/Workarounds.hpp"

namespace manifold::media {

namespace {

// RTCP bandwidth (bytes/s) large enough that the regular interval is set by
// rtcp-min-interval (RFC 4585 T_rr), not by the 5% of a small session's bitrate.
constexpr double kRtcpBandwidthBytesPerSecond = 50000.0;

using Token = WeakToken<PeerSession>;

} // namespace

PeerSession::PeerSession(WebrtcEngine& engine, std::shared_ptr<Router> router, std::string participantId,
                         MediaSession::Listener& listener)
    : engine_(engine), listener_(listener), router_(std::move(router)), participantId_(std::move(participantId)),
      token_(std::make_shared<PeerSession*>(this)) {
    const MediaConfig& config = engine_.config();
    pipeline_ = adoptGst(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(("m-" + participantId_).c_str()))));
    GstPtr<GstElement> webrtc = makeElement("webrtcbin", "webrtc");
    g_object_set(webrtc.get(), "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency",
                 guint(config.jitterLatencyMs), nullptr);
    GstWebRTCICE* ice = nullptr;
    g_object_get(webrtc.get(), "ice-agent", &ice, nullptr);
    if (ice) {
        for (const std::string& address : config.iceAddresses) {
            gboolean ok = FALSE;
            g_signal_emit_by_name(ice, "add-local-ip-address", address.c_str(), &ok);
            if (!ok) MLOG(Media, Warning, "%sICE cannot use address %s", tag().c_str(), address.c_str());
        }
        if (config.udpPortMin > 0)
            g_object_set(ice, "min-rtp-port", guint(config.udpPortMin), "max-rtp-port", guint(config.udpPortMax),
                         nullptr);
        GObject* agent = nullptr;
        g_object_get(ice, "agent", &agent, nullptr);
        if (agent) {
            g_object_set(agent, "upnp", FALSE, nullptr);
            g_object_unref(agent);
        }
        gst_object_unref(ice);
    }
    // RTCP timing: under AVPF an early RTCP packet (a PLI/FIR asking a publisher for a
    // keyframe) is allowed once per regular RTCP interval; later ones wait for the next
    // regular report, 0.3-1.8 s at rtpsession's defaults, which is what a late joiner
    // waited for. Regular reports every rtcpIntervalMs (randomised 0.5-1.5x) bound that
    // wait (see ARCHITECTURE.md, "Keyframes").
    if (GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(webrtc.get()), "rtpbin")) {
        g_signal_connect(rtpbin, "element-added", G_CALLBACK(+[](GstBin*, GstElement* element, gpointer interval) noexcept {
            GstElementFactory* factory = gst_element_get_factory(element);
            if (factory && g_str_equal(GST_OBJECT_NAME(factory), "rtpsession"))
                g_object_set(element, "rtcp-fraction", kRtcpBandwidthBytesPerSecond, "rtcp-min-interval",
                             guint64(GPOINTER_TO_SIZE(interval)) * GST_MSECOND, nullptr);
        }), GSIZE_TO_POINTER(std::size_t(config.rtcpIntervalMs)));
        decideNackPerStream(rtpbin, engine_, tag()); // Workarounds.hpp, 1
        gst_object_unref(rtpbin);
    }
    guardEarlyRtp(webrtc.get(), tag()); // Workarounds.hpp, 4
    segmentSrtcpEarly(webrtc.get(), tag()); // Workarounds.hpp, 10
    webrtc_ = webrtc.get();
    gst_bin_add(GST_BIN(pipeline_.get()), webrtc_);
    g_signal_connect_data(webrtc_, "pad-added", G_CALLBACK(&PeerSession::onPadAdded), newToken(token_),
                          &deleteToken<PeerSession>, GConnectFlags(0));
    g_signal_connect_data(webrtc_, "on-ice-candidate", G_CALLBACK(&PeerSession::onIceCandidate),
                          newToken(token_), &deleteToken<PeerSession>, GConnectFlags(0));
    g_signal_connect_data(webrtc_, "notify::ice-connection-state", G_CALLBACK(&PeerSession::onStateNotify),
                          newToken(token_), &deleteToken<PeerSession>, GConnectFlags(0));
    g_signal_connect_data(webrtc_, "notify::connection-state", G_CALLBACK(&PeerSession::onStateNotify),
                          newToken(token_), &deleteToken<PeerSession>, GConnectFlags(0));
    GstBus* bus = gst_element_get_bus(pipeline_.get());
    busWatch_ = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, &PeerSession::onBusMessage, newToken(token_),
                                       &deleteTokenNotify<PeerSession>);
    gst_object_unref(bus);
    receiver_ = std::make_unique<Receiver>(webrtc_, *router_, engine_, participantId_, tag());
    sender_ = std::make_unique<Sender>(webrtc_, pipeline_.get(), *router_, tag());
    negotiator_ = std::make_unique<Negotiator>(webrtc_, engine_.scheduler(), config.answerTimeout, tag(), *this);
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        // Reported once the session is wired: the listener may drop the session at once.
        MLOG(Media, Error, "%scannot start the pipeline", tag().c_str());
        post(Token(token_), [](PeerSession& self) { self.failed("the media pipeline could not start"); });
    }
    MLOG(Media, Debug, "%speer session created", tag().c_str());
}

PeerSession::~PeerSession() {
    token_.reset(); // posted work for this session is dropped from now on
    if (busWatch_) g_source_remove(busWatch_);
    gateTimer_.reset();
    negotiator_->stop();
    // Stop webrtcbin's signals reaching us (their tokens are freed with the handlers).
    g_signal_handlers_disconnect_matched(webrtc_, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                         reinterpret_cast<gpointer>(&PeerSession::onPadAdded), nullptr);
    g_signal_handlers_disconnect_matched(webrtc_, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                         reinterpret_cast<gpointer>(&PeerSession::onIceCandidate), nullptr);
    g_signal_handlers_disconnect_matched(webrtc_, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                         reinterpret_cast<gpointer>(&PeerSession::onStateNotify), nullptr);
    sender_.reset();   // closes this participant's consumers (subscribers of others' tracks)
    receiver_.reset(); // closes its producers and with them everyone's consumers of them
    PromisePtr lastOperation = negotiator_->takeLastOperation();
    negotiator_.reset();
    engine_.retire(std::move(pipeline_), std::move(lastOperation)); // Workarounds.hpp, 8
    engine_.sessionGone();
    MLOG(Media, Debug, "%speer session closed", tag().c_str());
}

std::string PeerSession::tag() const { return log::tag(router_->room(), participantId_); }

// ------------------------------------------------------------------ publishing

void PeerSession::publish(const TrackInfo& track, const std::string& preferredCodec) {
    Token token = token_;
    const std::string error = receiver_->publish(track, preferredCodec, [token, trackId = track.id](bool speaking) {
        post(token, [trackId, speaking](PeerSession& self) { self.listener_.onSpeaking(trackId, speaking); });
    });
    if (!error.empty()) {
        failed(error);
        return;
    }
    negotiator_->renegotiate();
}

void PeerSession::unpublish(const std::string& trackId) {
    receiver_->unpublish(trackId);
    negotiator_->renegotiate();
}

void PeerSession::setMuted(const std::string& trackId, bool muted) { receiver_->setMuted(trackId, muted); }

void PeerSession::onPadAdded(GstElement* webrtc, GstPad* pad, gpointer data) noexcept {
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    Receiver::linkNewPad(webrtc, pad);
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_object_get(pad, "transceiver", &transceiver, nullptr);
    GstCaps* caps = gst_pad_get_current_caps(pad);
    if (!caps) caps = gst_pad_query_caps(pad, nullptr);
    post(*static_cast<Token*>(data),
         [pad = retainGst(pad), transceiver = adoptGst(transceiver), caps = CapsPtr(caps)](PeerSession& self) mutable {
             self.receiver_->streamAdded(pad.get(), transceiver.get(), std::move(caps));
         });
}

// ------------------------------------------------------------------ subscribing

void PeerSession::subscribe(const TrackInfo& track) {
    if (sender_->has(track.id)) return; // already receiving it
    Token token = token_;
    // The router waits until the producer's media flows (its codec and SSRC are known
    // only then) before the consumer gets a send slot.
    auto consumer = router_->consume(track.id, participantId_, tag(), [token, track](const std::shared_ptr<Consumer>& c) {
        auto alive = token.lock();
        if (!alive) return false;
        PeerSession& self = **alive;
        if (const std::string error = self.sender_->attach(c, track); !error.empty()) {
            self.failed(error);
            return false;
        }
        self.negotiator_->renegotiate();
        return true;
    });
    if (!consumer) MLOG(Media, Info, "%strack %s has no producer; not forwarded", tag().c_str(), track.id.c_str());
}

void PeerSession::unsubscribe(const std::string& trackId) {
    if (sender_->detach(trackId)) negotiator_->renegotiate();
}

void PeerSession::setPaused(const std::string& trackId, bool paused) { sender_->setPaused(trackId, paused); }

// ------------------------------------------------------------------ negotiation

bool PeerSession::prepareOffer() { return sender_->prepareOffer(); }

void PeerSession::offerStarted() { sender_->offerStarted(); }

void PeerSession::offerAborted(bool staleCaps) { sender_->offerAborted(staleCaps); }

void PeerSession::offerReady(std::uint64_t negotiationId, const std::string& sdp) {
    const auto mids = midsFromOffer(webrtc_, sdp, tag()); // Workarounds.hpp, 3
    receiver_->learnMids(mids);
    sender_->learnMids(mids);
    sender_->offerSent(negotiationId);
    std::vector<MidMapping> described;
    receiver_->describe(described);
    sender_->describe(described);
    MLOG(Media, Debug, "%soffer %llu sent (%zu m-lines)", tag().c_str(), static_cast<unsigned long long>(negotiationId),
         described.size());
    listener_.onLocalOffer(negotiationId, sdp, described);
}

void PeerSession::answerApplied(std::uint64_t, const GstSDPMessage* answer) {
    for (const auto& [track, codec] : sender_->answerApplied(answer)) listener_.onCodecMismatch(track, codec);
    openConsumers();
}

void PeerSession::negotiationFailed(const std::string& reason) { failed(reason); }

Status PeerSession::applyAnswer(std::uint64_t negotiationId, const std::string& sdp) {
    return negotiator_->applyAnswer(negotiationId, sdp);
}

Status PeerSession::addRemoteCandidate(int mlineIndex, const std::string&, const std::string& candidate) {
    return negotiator_->addRemoteCandidate(mlineIndex, candidate);
}

void PeerSession::openConsumers() {
    if (!connected_) return; // packets sent before DTLS is up only fill queues
    if (!sender_->openLinked() || gateTimer_) return;
    MLOG(Media, Debug, "%sa send slot's input is not connected yet; checked again in 20 ms", tag().c_str());
    Token token = token_;
    gateTimer_ = engine_.scheduler().after(std::chrono::milliseconds(20), [token] {
        if (auto alive = token.lock()) {
            (*alive)->gateTimer_.reset();
            (*alive)->openConsumers();
        }
    });
}

// ------------------------------------------------------------------ webrtcbin events

void PeerSession::onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer data) noexcept {
    post(*static_cast<Token*>(data), [mline, c = std::string(candidate ? candidate : "")](PeerSession& self) {
        self.listener_.onLocalCandidate(int(mline), "", c);
    });
}

void PeerSession::onStateNotify(GObject* webrtc, GParamSpec* pspec, gpointer data) noexcept {
    if (std::strcmp(pspec->name, "ice-connection-state") == 0) {
        GstWebRTCICEConnectionState state;
        g_object_get(webrtc, "ice-connection-state", &state, nullptr);
        if (state == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
            post(*static_cast<Token*>(data), [](PeerSession& self) { self.failed("ICE failed"); });
    } else {
        GstWebRTCPeerConnectionState state;
        g_object_get(webrtc, "connection-state", &state, nullptr);
        post(*static_cast<Token*>(data), [state](PeerSession& self) {
            MLOG(Media, Debug, "%sconnection state %d", self.tag().c_str(), int(state));
            if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
                self.connected_ = true;
                self.openConsumers();
            }
            if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) self.failed("the connection failed");
        });
    }
}

gboolean PeerSession::onBusMessage(GstBus*, GstMessage* message, gpointer data) noexcept {
    // A bus watch runs on the control thread (default main context).
    auto alive = static_cast<Token*>(data)->lock();
    if (!alive) return G_SOURCE_REMOVE;
    PeerSession& self = **alive;
    const GstMessageType type = GST_MESSAGE_TYPE(message);
    if (type == GST_MESSAGE_ELEMENT) {
        self.onElementMessage(message);
        return G_SOURCE_CONTINUE;
    }
    if (type != GST_MESSAGE_ERROR && type != GST_MESSAGE_WARNING) return G_SOURCE_CONTINUE;
    GError* error = nullptr;
    gchar* debug = nullptr;
    if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error(message, &error, &debug);
    else
        gst_message_parse_warning(message, &error, &debug);
    const std::string what = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " + (error ? error->message : "?");
    MLOG(Media, Warning, "%s%s from %s (%s)", self.tag().c_str(), type == GST_MESSAGE_ERROR ? "error" : "warning",
         what.c_str(), debug ? debug : "");
    g_clear_error(&error);
    g_free(debug);
    // An element that posted an ERROR has stopped: this participant's media cannot go on.
    if (type == GST_MESSAGE_ERROR) self.failed("media error in " + what); // may destroy self
    return G_SOURCE_CONTINUE;
}

void PeerSession::onElementMessage(GstMessage* message) {
    // A publisher stream's jitterbuffer dropped a packet that did arrive (Workarounds.hpp, 1).
    const GstStructure* s = gst_message_get_structure(message);
    if (!s || !gst_structure_has_name(s, "drop-msg")) return;
    guint seqnum = 0, tooLate = 0, onLatency = 0;
    gst_structure_get_uint(s, "seqnum", &seqnum);
    gst_structure_get_uint(s, "num-too-late", &tooLate);
    gst_structure_get_uint(s, "num-drop-on-latency", &onLatency);
    const char* reason = gst_structure_get_string(s, "reason");
    // One message per drop (drop-messages-interval 0); the counts say how many it stands for.
    engine_.counters().jitterBufferDrops.fetch_add(std::max(1u, tooLate + onLatency), std::memory_order_relaxed);
    MLOG(Media, Log, "%s%s dropped RTP #%u (%s)", tag().c_str(), GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), seqnum,
         reason ? reason : "?");
}

void PeerSession::failed(const std::string& reason) {
    if (failed_) return;
    failed_ = true;
    MLOG(Media, Warning, "%s%s", tag().c_str(), reason.c_str());
    listener_.onMediaFailed(reason); // may destroy this: nothing after this line
}

} // namespace manifold::media

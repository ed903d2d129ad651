#include "pipelines/PeerSession.hpp"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "common/ControlThread.hpp"
#include "core/Log.hpp"
#include "pipelines/AnswerCheck.hpp"
#include "pipelines/Retransmission.hpp"
#include "pipelines/SdpMids.hpp"
#include "pipelines/WebrtcEngine.hpp"

namespace manifold::media {

namespace {

using Token = std::weak_ptr<PeerSession*>;

/// Runs `fn(session)` on the control thread if the session still exists then.
template <typename Fn>
void post(const Token& token, Fn fn) {
    // std::function wants a copyable target; the work itself may own move-only handles.
    auto work = std::make_shared<Fn>(std::move(fn));
    postToControlThread([token, work] {
        if (auto alive = token.lock()) (*work)(**alive);
    });
}

// RTCP bandwidth (bytes/s) large enough that the regular interval is set by
// rtcp-min-interval (RFC 4585 T_rr), not by the 5% of a small session's bitrate.
constexpr double kRtcpBandwidthBytesPerSecond = 50000.0;

gpointer newToken(const std::shared_ptr<PeerSession*>& token) { return new Token(token); }
void deleteToken(gpointer data, GClosure*) noexcept { delete static_cast<Token*>(data); }
void deleteTokenNotify(gpointer data) noexcept { delete static_cast<Token*>(data); }

} // namespace

/// The route of keyframe requests from one send slot to the TrackSource feeding it.
/// The control thread changes it when the slot is reassigned; the subscriber's RTCP
/// thread reads it when a PLI/FIR arrives (rare), under the mutex.
struct KeyframeRoute {
    std::mutex mutex;
    std::weak_ptr<TrackSource> source;

    void set(std::weak_ptr<TrackSource> to) {
        std::lock_guard lock(mutex);
        source = std::move(to);
    }
};

namespace {

GstPadProbeReturn onUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && isForceKeyUnit(event)) {
        auto& route = **static_cast<std::shared_ptr<KeyframeRoute>*>(data);
        std::shared_ptr<TrackSource> source;
        {
            std::lock_guard lock(route.mutex);
            source = route.source.lock();
        }
        if (source) source->requestKeyframe();
    }
    return GST_PAD_PROBE_OK;
}

GstPadProbeReturn onForwardBuffer(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
    auto& source = **static_cast<std::shared_ptr<TrackSource>*>(data);
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
        source.forward(GST_PAD_PROBE_INFO_BUFFER(info));
    else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        source.forwardList(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    return GST_PAD_PROBE_OK;
}

/// A participant's RTP that arrives before webrtcbin has linked its transport to rtpbin.
/// webrtcbin 1.22 links the receive path ("output stream") only when it applies the
/// first description with a receiving m-line, but opens the transport as soon as ICE is
/// up. A client that starts sending on a new publication before the server has applied
/// its answer (a late publisher on a connected session; likely under load) made the
/// packet return NOT_LINKED, which stopped nicesrc for good: nothing from that
/// participant reached the gateway again. Such packets are dropped until the link exists.
struct EarlyRtp {
    std::string tag;
    std::atomic<guint64> dropped{0};
};

GstPadProbeReturn onTransportRtp(GstPad* pad, GstPadProbeInfo*, gpointer data) noexcept {
    auto& early = *static_cast<EarlyRtp*>(data);
    if (gst_pad_is_linked(pad)) {
        if (const guint64 n = early.dropped.load())
            MLOG(Media, Info, "%sreceive path linked; %llu earlier RTP packets dropped", early.tag.c_str(),
                 static_cast<unsigned long long>(n));
        return GST_PAD_PROBE_REMOVE; // and pass this one
    }
    if (early.dropped++ == 0)
        MLOG(Media, Debug, "%sRTP before webrtcbin linked its receive path: dropped", early.tag.c_str());
    return GST_PAD_PROBE_DROP;
}

void onWebrtcElementAdded(GstBin*, GstElement* element, gpointer tag) noexcept {
    if (!g_str_equal(G_OBJECT_TYPE_NAME(element), "TransportReceiveBin")) return;
    GstPad* rtp = gst_element_get_static_pad(element, "rtp_src");
    if (!rtp) return;
    auto* early = new EarlyRtp{*static_cast<const std::string*>(tag)};
    gst_pad_add_probe(rtp, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &onTransportRtp, early, [](gpointer d) noexcept { delete static_cast<EarlyRtp*>(d); });
    gst_object_unref(rtp);
}

std::string promiseError(GstPromise* promise) {
    if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "no reply";
    const GstStructure* reply = gst_promise_get_reply(promise);
    if (!reply || !gst_structure_has_field(reply, "error")) return "";
    GError* error = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    std::string out = error ? error->message : "unknown error";
    g_clear_error(&error);
    return out;
}

} // namespace

PeerSession::PeerSession(WebrtcEngine& engine, std::string room, std::string participantId, Listener& listener)
    : engine_(engine), listener_(listener), room_(std::move(room)), participantId_(std::move(participantId)),
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
        // Connected after webrtcbin's own handler, so this decision is the one that holds.
        decideNackPerStream(rtpbin, engine_, tag());
        gst_object_unref(rtpbin);
    }
    g_signal_connect_data(webrtc.get(), "element-added", G_CALLBACK(&onWebrtcElementAdded), new std::string(tag()),
                          [](gpointer d, GClosure*) noexcept { delete static_cast<std::string*>(d); }, GConnectFlags(0));
    webrtc_ = webrtc.get();
    gst_bin_add(GST_BIN(pipeline_.get()), webrtc_);
    g_signal_connect_data(webrtc_, "pad-added", G_CALLBACK(&PeerSession::onPadAdded), newToken(token_),
                          &deleteToken, GConnectFlags(0));
    g_signal_connect_data(webrtc_, "on-ice-candidate", G_CALLBACK(&PeerSession::onIceCandidate),
                          newToken(token_), &deleteToken, GConnectFlags(0));
    g_signal_connect_data(webrtc_, "notify::ice-connection-state", G_CALLBACK(&PeerSession::onStateNotify),
                          newToken(token_), &deleteToken, GConnectFlags(0));
    g_signal_connect_data(webrtc_, "notify::connection-state", G_CALLBACK(&PeerSession::onStateNotify),
                          newToken(token_), &deleteToken, GConnectFlags(0));
    GstBus* bus = gst_element_get_bus(pipeline_.get());
    busWatch_ = gst_bus_add_watch_full(bus, G_PRIORITY_DEFAULT, &PeerSession::onBusMessage, newToken(token_),
                                       &deleteTokenNotify);
    gst_object_unref(bus);
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        MLOG(Media, Error, "%scannot start the pipeline", tag().c_str());
    MLOG(Media, Debug, "%speer session created", tag().c_str());
}

PeerSession::~PeerSession() {
    token_.reset(); // posted work for this session is dropped from now on
    if (busWatch_) g_source_remove(busWatch_);
    answerTimer_.reset();
    offerTimer_.reset();
    gateTimer_.reset();
    for (auto& slot : slots_)
        if (auto source = slot->source.lock()) source->removeOutlet(slot->outlet);
    for (auto& pub : publications_)
        if (pub->source) pub->source->close();
    // Stop webrtcbin's signals reaching us (their tokens are freed with the handlers).
    g_signal_handlers_disconnect_matched(webrtc_, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                         reinterpret_cast<gpointer>(&PeerSession::onPadAdded), nullptr);
    g_signal_handlers_disconnect_matched(webrtc_, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                         reinterpret_cast<gpointer>(&PeerSession::onIceCandidate), nullptr);
    g_signal_handlers_disconnect_matched(webrtc_, G_SIGNAL_MATCH_FUNC, 0, 0, nullptr,
                                         reinterpret_cast<gpointer>(&PeerSession::onStateNotify), nullptr);
    slots_.clear();
    publications_.clear();
    engine_.retire(std::move(pipeline_), std::move(lastOperation_));
    engine_.sessionGone();
    MLOG(Media, Debug, "%speer session closed", tag().c_str());
}

std::string PeerSession::tag() const { return log::tag(room_, participantId_); }

std::shared_ptr<TrackSource> PeerSession::source(const std::string& trackId) const {
    for (const auto& pub : publications_)
        if (pub->trackId == trackId) return pub->source;
    return nullptr;
}

// ------------------------------------------------------------------ publishing

void PeerSession::publish(const TrackInfo& track, const std::string& preferredCodec) {
    const CapsPtr caps = engine_.publishCaps(track.kind, preferredCodec);
    Publication* pub = nullptr;
    for (auto& p : publications_)
        if (p->trackId.empty() && p->kind == track.kind) {
            pub = p.get();
            break;
        }
    if (!pub) {
        GstWebRTCRTPTransceiver* transceiver = nullptr;
        g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                              caps.get(), &transceiver);
        if (!transceiver) {
            failed("webrtcbin refused a receive transceiver");
            return;
        }
        if (track.kind == MediaKind::Video) g_object_set(transceiver, "do-nack", TRUE, nullptr);
        auto p = std::make_unique<Publication>();
        p->transceiver = adoptGst(transceiver);
        p->kind = track.kind;
        pub = p.get();
        publications_.push_back(std::move(p));
    }
    g_object_set(pub->transceiver.get(), "codec-preferences", caps.get(), nullptr); // a reused one may differ
    pub->trackId = track.id;
    pub->source = std::make_shared<TrackSource>(track.id, track.kind, tag(), engine_.counters());
    if (track.kind == MediaKind::Audio) {
        Token token = token_;
        pub->source->setSpeakingCallback([token, trackId = track.id](bool speaking) {
            post(token, [trackId, speaking](PeerSession& self) { self.listener_.onSpeaking(trackId, speaking); });
        });
    }
    MLOG(Media, Debug, "%sreceiving %s track %s", tag().c_str(), toString(track.kind), track.id.c_str());
    renegotiate();
}

void PeerSession::unpublish(const std::string& trackId) {
    for (auto& pub : publications_) {
        if (pub->trackId != trackId) continue;
        if (pub->source) pub->source->close();
        pub->source.reset();
        pub->trackId.clear(); // the receive transceiver waits for the next publication
        renegotiate();
        return;
    }
}

void PeerSession::setMuted(const std::string& trackId, bool muted) {
    if (auto s = source(trackId)) s->setMuted(muted);
}

void PeerSession::onPadAdded(GstElement* webrtc, GstPad* pad, gpointer data) noexcept {
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    // Link at once (an unlinked pad would stop webrtcbin); forwarding is hooked up on
    // the control thread, which knows which track this is.
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, nullptr);
    GstObject* parent = gst_object_get_parent(GST_OBJECT(webrtc));
    gst_bin_add(GST_BIN(parent), sink);
    gst_object_unref(parent);
    GstPad* sinkPad = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sinkPad);
    gst_object_unref(sinkPad);
    gst_element_sync_state_with_parent(sink);

    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_object_get(pad, "transceiver", &transceiver, nullptr);
    GstCaps* caps = gst_pad_get_current_caps(pad);
    if (!caps) caps = gst_pad_query_caps(pad, nullptr);
    post(*static_cast<Token*>(data),
         [pad = retainGst(pad), transceiver = adoptGst(transceiver), caps = CapsPtr(caps)](PeerSession& self) mutable {
             self.streamAdded(pad.get(), transceiver.get(), std::move(caps));
         });
}

void PeerSession::streamAdded(GstPad* pad, GstWebRTCRTPTransceiver* transceiver, CapsPtr caps) {
    Publication* pub = nullptr;
    for (auto& p : publications_)
        if (p->transceiver.get() == transceiver) pub = p.get();
    if (!pub || !pub->source) {
        MLOG(Media, Info, "%sa stream arrived on an m-line with no publication; ignored", tag().c_str());
        return;
    }
    gchar* text = gst_caps_to_string(caps.get());
    MLOG(Media, Info, "%strack %s flowing: %s", tag().c_str(), pub->trackId.c_str(), text);
    g_free(text);
    pub->source->setUpstreamPad(pad);
    gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &onForwardBuffer, new std::shared_ptr<TrackSource>(pub->source),
                      [](gpointer d) noexcept { delete static_cast<std::shared_ptr<TrackSource>*>(d); });
    pub->source->markReady(forwardingCaps(caps.get(), engine_.publishCaps(pub->kind).get()));
}

// ------------------------------------------------------------------ subscribing

void PeerSession::subscribe(const TrackInfo& track, MediaSession& publisher) {
    auto* peer = dynamic_cast<PeerSession*>(&publisher);
    std::shared_ptr<TrackSource> source = peer ? peer->source(track.id) : nullptr;
    if (!source) return;
    Token token = token_;
    std::weak_ptr<TrackSource> weak = source;
    // Until the publisher's media flows we do not know its codec or SSRC.
    source->whenReady([token, weak, track] {
        auto alive = token.lock();
        auto src = weak.lock();
        if (alive && src) (*alive)->attachSubscription(track, src);
    });
}

void PeerSession::attachSubscription(const TrackInfo& track, const std::shared_ptr<TrackSource>& source) {
    for (const auto& s : slots_)
        if (s->trackId == track.id) return; // already receiving it
    const GstCaps* caps = source->caps();
    Slot* slot = nullptr;
    for (auto& s : slots_)
        if (s->trackId.empty() && s->kind == track.kind) {
            slot = s.get();
            break;
        }
    if (slot) {
        // A recycled slot: the stream changes (new SSRC, maybe new codec). Not now: an offer
        // may be in flight, and webrtcbin builds it on its own thread from the transceiver's
        // codec preferences and the caps its sink pad last received; new preferences against
        // the old stream's caps fail that offer ("Caps negotiation on pad sink_N failed
        // against codec preferences"; webrtcbin 1.22 also leaks the m-line it was building).
        // createOffer() applies them once no offer is in flight (applyNextCaps).
        slot->nextCaps = CapsPtr(gst_caps_copy(caps));
    } else {
        auto s = std::make_unique<Slot>();
        s->kind = track.kind;
        GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtc_), "sink_%u");
        GstPad* sinkPad = gst_element_request_pad(webrtc_, templ, nullptr, caps);
        if (!sinkPad) {
            failed("webrtcbin refused a send pad");
            return;
        }
        GstWebRTCRTPTransceiver* transceiver = nullptr;
        g_object_get(sinkPad, "transceiver", &transceiver, nullptr);
        s->transceiver = adoptGst(transceiver);
        g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences",
                     caps, nullptr);
        if (track.kind == MediaKind::Video) g_object_set(transceiver, "do-nack", TRUE, nullptr);
        s->sinkPad = adoptGst(sinkPad);
        s->feed = std::make_shared<SendPad>(GST_PAD_NAME(sinkPad), pipeline_.get());
        s->feed->setCaps(caps);
        s->route = std::make_shared<KeyframeRoute>();
        gst_pad_add_probe(s->feed->pad(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &onUpstreamEvent,
                          new std::shared_ptr<KeyframeRoute>(s->route),
                          [](gpointer d) noexcept { delete static_cast<std::shared_ptr<KeyframeRoute>*>(d); });
        // Linked in startAnsweredSlots(), once the client has answered the offer that
        // carries this m-line.
        slot = s.get();
        slots_.push_back(std::move(s));
    }
    slot->route->set(source);
    slot->trackId = track.id;
    slot->publisherId = track.participantId;
    slot->track = track;
    slot->refused = false;
    slot->source = source;
    slot->outlet = std::make_shared<Outlet>();
    slot->outlet->sendPad = slot->feed;
    slot->outlet->source = source;
    slot->awaitingKeyframe = true;
    slot->offeredIn = 0;
    slot->inNextOffer = false;
    source->addOutlet(slot->outlet);
    MLOG(Media, Debug, "%ssending track %s of %s", tag().c_str(), track.id.c_str(), track.participantId.c_str());
    renegotiate();
}

void PeerSession::unsubscribe(const std::string& trackId) {
    for (auto& slot : slots_) {
        if (slot->trackId != trackId) continue;
        if (auto source = slot->source.lock()) source->removeOutlet(slot->outlet);
        slot->route->set({});
        slot->outlet.reset();
        slot->source.reset();
        slot->trackId.clear(); // stays sendonly, waiting for the next track of its kind
        slot->publisherId.clear();
        renegotiate();
        return;
    }
}

void PeerSession::setPaused(const std::string& trackId, bool paused) {
    for (auto& slot : slots_) {
        if (slot->trackId != trackId || !slot->outlet) continue;
        const bool was = slot->outlet->paused.exchange(paused);
        if (was && !paused)
            if (auto source = slot->source.lock()) source->requestKeyframe(true);
    }
}

// ------------------------------------------------------------------ negotiation

void PeerSession::renegotiate() {
    if (failed_) return;
    if (offerInFlight_) {
        renegotiate_ = true;
        return;
    }
    // Every change made in this turn of the control loop (a join subscribing to every
    // track, a publish) goes into one offer: each extra offer costs the client a round
    // trip and, in webrtcbin 1.22, new RTX SSRCs on every m-line.
    if (offerTimer_) return;
    scheduleOffer(std::chrono::milliseconds(0));
}

void PeerSession::scheduleOffer(std::chrono::milliseconds delay) {
    Token token = token_;
    offerTimer_ = engine_.scheduler().after(delay, [token] {
        if (auto alive = token.lock()) {
            (*alive)->offerTimer_.reset();
            (*alive)->createOffer();
        }
    });
}

void PeerSession::applyNextCaps() {
    for (auto& slot : slots_) {
        if (!slot->nextCaps) continue;
        g_object_set(slot->transceiver.get(), "codec-preferences", slot->nextCaps.get(), nullptr);
        // The offer is checked against the sink pad's caps, so they go into the sink pad
        // before it, not with the stream's next packet; refused while webrtcbin briefly
        // flushes the pad (deliverPendingCaps retries).
        slot->capsPending = !slot->feed->setCaps(slot->nextCaps.get());
        slot->nextCaps.reset();
    }
}

bool PeerSession::deliverPendingCaps() {
    bool all = true;
    for (auto& slot : slots_) {
        if (!slot->capsPending) continue;
        // webrtcbin offers what its sink pad last received intersected with the codec
        // preferences; both carry the SSRC, so a pad still holding the previous stream's
        // caps fails the offer ("Caps negotiation ... failed against codec preferences").
        if (slot->feed->sendCaps())
            slot->capsPending = false;
        else
            all = false;
    }
    return all;
}

void PeerSession::createOffer() {
    applyNextCaps();
    if (!deliverPendingCaps()) {
        if (++capsRetries_ > kCapsRetries) {
            failed("a reused send slot did not take its new stream's caps");
            return;
        }
        MLOG(Media, Info, "%sa reused send slot refused its new caps (flushing); offer in 20 ms", tag().c_str());
        scheduleOffer(std::chrono::milliseconds(20));
        return;
    }
    capsRetries_ = 0;
    // Only streams attached by now are in this offer: one attached while webrtcbin builds
    // it (an offer is created and applied asynchronously) waits for the next one, so its
    // gate does not open on an answer to an offer that did not carry it.
    for (auto& slot : slots_) slot->inNextOffer = slot->outlet && slot->offeredIn == 0;
    offerInFlight_ = true;
    renegotiate_ = false;
    GstPromise* promise = gst_promise_new_with_change_func(
        [](GstPromise* p, gpointer data) noexcept {
            const std::string error = promiseError(p);
            GstWebRTCSessionDescription* offer = nullptr;
            if (error.empty())
                gst_structure_get(gst_promise_get_reply(p), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer,
                                  nullptr);
            gst_promise_unref(p);
            // Owned by the posted work, so it is freed even if the session is gone by then.
            std::shared_ptr<GstWebRTCSessionDescription> owned(offer, [](GstWebRTCSessionDescription* d) noexcept {
                if (d) gst_webrtc_session_description_free(d);
            });
            post(*static_cast<Token*>(data), [owned, error](PeerSession& self) {
                GstWebRTCSessionDescription* offer = owned.get();
                if (!offer && error.find("failed against codec preferences") != std::string::npos &&
                    self.offerRetries_ < kOfferRetries) {
                    // A sink pad held an earlier stream's caps. Not expected since reused
                    // slots take new caps only between offers (applyNextCaps); kept as a
                    // safety net: send every active slot's caps again and retry instead of
                    // dropping the participant (webrtcbin 1.22 leaks ~24 bytes per failure).
                    ++self.offerRetries_;
                    MLOG(Media, Info, "%s%s; caps sent again, offer retried in 20 ms", self.tag().c_str(), error.c_str());
                    for (auto& slot : self.slots_)
                        if (slot->linked && !slot->trackId.empty()) slot->capsPending = true;
                    self.offerInFlight_ = false;
                    self.scheduleOffer(std::chrono::milliseconds(20));
                    return;
                }
                if (!offer) {
                    self.failed("could not create an offer: " + error);
                    return;
                }
                self.offerRetries_ = 0;
                self.offerCreated(offer);
            });
        },
        newToken(token_), &deleteTokenNotify);
    lastOperation_.reset(gst_promise_ref(promise));
    g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

void PeerSession::offerCreated(GstWebRTCSessionDescription* offer) {
    rtxSsrcs_.keep(offer->sdp);
    gchar* text = gst_sdp_message_as_text(offer->sdp);
    std::string sdp = text ? text : "";
    g_free(text);
    auto* ctx = new std::pair<Token, std::string>(token_, sdp);
    GstPromise* promise = gst_promise_new_with_change_func(
        [](GstPromise* p, gpointer data) noexcept {
            auto* c = static_cast<std::pair<Token, std::string>*>(data);
            const std::string error = promiseError(p);
            gst_promise_unref(p);
            post(c->first, [error, sdp = c->second](PeerSession& self) {
                if (!error.empty())
                    self.failed("could not apply our own offer: " + error);
                else
                    self.localDescriptionSet(sdp);
            });
        },
        ctx, [](gpointer d) noexcept { delete static_cast<std::pair<Token, std::string>*>(d); });
    lastOperation_.reset(gst_promise_ref(promise));
    g_signal_emit_by_name(webrtc_, "set-local-description", offer, promise);
}

void PeerSession::learnMids(const std::string& sdp) {
    const std::map<GstWebRTCRTPTransceiver*, std::string> mids = midsFromOffer(webrtc_, sdp, tag());
    auto update = [&](GstWebRTCRTPTransceiver* t, std::string& mid) {
        const std::string known = transceiverMid(t);
        if (!known.empty())
            mid = known;
        else if (auto it = mids.find(t); it != mids.end())
            mid = it->second;
    };
    for (auto& pub : publications_) update(pub->transceiver.get(), pub->mid);
    for (auto& slot : slots_) update(slot->transceiver.get(), slot->mid);
}

void PeerSession::localDescriptionSet(const std::string& sdp) {
    rtxSsrcs_.apply(webrtc_, tag()); // webrtcbin just set its own, new ones
    learnMids(sdp);
    std::vector<MidMapping> mids;
    for (const auto& pub : publications_)
        if (!pub->mid.empty())
            mids.push_back(MidMapping{pub->mid, pub->trackId, pub->trackId.empty() ? "" : participantId_,
                                      MidMapping::Direction::Send});
    for (const auto& slot : slots_)
        if (!slot->mid.empty())
            mids.push_back(MidMapping{slot->mid, slot->trackId, slot->publisherId, MidMapping::Direction::Recv});
    ++negotiationId_;
    for (auto& slot : slots_)
        if (!slot->mid.empty() && slot->inNextOffer) {
            slot->offeredIn = negotiationId_;
            slot->inNextOffer = false;
        }
    Token token = token_;
    answerTimer_ = engine_.scheduler().after(engine_.config().answerTimeout, [token] {
        if (auto alive = token.lock()) (*alive)->failed("the client did not answer the offer in time");
    });
    MLOG(Media, Debug, "%soffer %llu sent (%zu m-lines)", tag().c_str(),
         static_cast<unsigned long long>(negotiationId_), mids.size());
    MLOG(Media, Log, "%soffer %llu:\n%s", tag().c_str(), static_cast<unsigned long long>(negotiationId_), sdp.c_str());
    listener_.onLocalOffer(negotiationId_, sdp, mids);
}

std::string PeerSession::applyAnswer(std::uint64_t negotiationId, const std::string& sdp) {
    if (!offerInFlight_ || negotiationId != negotiationId_) return "no offer is waiting for this answer";
    MLOG(Media, Log, "%sanswer %llu:\n%s", tag().c_str(), static_cast<unsigned long long>(negotiationId), sdp.c_str());
    GstSDPMessage* message = nullptr;
    gst_sdp_message_new_from_text(sdp.c_str(), &message);
    if (!message || gst_sdp_message_medias_len(message) == 0) {
        if (message) gst_sdp_message_free(message);
        return "the SDP has no media sections";
    }
    GstWebRTCSessionDescription* answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
    answerTimer_.reset();
    pendingAnswer_ = sdp;
    GstPromise* promise = gst_promise_new_with_change_func(
        [](GstPromise* p, gpointer data) noexcept {
            const std::string error = promiseError(p);
            gst_promise_unref(p);
            post(*static_cast<Token*>(data), [error](PeerSession& self) { self.remoteDescriptionSet(error); });
        },
        newToken(token_), &deleteTokenNotify);
    lastOperation_.reset(gst_promise_ref(promise));
    g_signal_emit_by_name(webrtc_, "set-remote-description", answer, promise);
    gst_webrtc_session_description_free(answer);
    return "";
}

void PeerSession::remoteDescriptionSet(const std::string& error) {
    if (!error.empty()) {
        failed("the answer was rejected: " + error);
        return;
    }
    MLOG(Media, Debug, "%sanswer %llu applied", tag().c_str(), static_cast<unsigned long long>(negotiationId_));
    offerInFlight_ = false;
    rtxSsrcs_.apply(webrtc_, tag()); // before any slot opens: rtprtxsend reads the map at a stream's first packet
    checkRefusedCodecs();
    startAnsweredSlots();
    openAnsweredSlots();
    if (renegotiate_) {
        renegotiate_ = false;
        renegotiate();
    }
}

void PeerSession::checkRefusedCodecs() {
    GstSDPMessage* answer = nullptr;
    gst_sdp_message_new_from_text(pendingAnswer_.c_str(), &answer);
    pendingAnswer_.clear();
    if (!answer) return;
    std::map<std::string, int> offered;
    std::map<std::string, Slot*> byMid;
    for (auto& slot : slots_) {
        auto source = slot->source.lock();
        int pt = 0;
        if (!source || slot->mid.empty() || slot->refused || !source->caps() ||
            !gst_structure_get_int(gst_caps_get_structure(source->caps(), 0), "payload", &pt))
            continue;
        offered[slot->mid] = pt;
        byMid[slot->mid] = slot.get();
    }
    const std::vector<std::string> refused = refusedSendMids(answer, offered);
    gst_sdp_message_free(answer);
    for (const std::string& mid : refused) {
        Slot* slot = byMid[mid];
        slot->refused = true;
        auto source = slot->source.lock();
        const char* codec = source ? gst_structure_get_string(gst_caps_get_structure(source->caps(), 0), "encoding-name") : nullptr;
        MLOG(Media, Info, "%sthe client refused %s for track %s", tag().c_str(), codec ? codec : "?", slot->trackId.c_str());
        listener_.onCodecMismatch(slot->track, codec ? codec : "unknown");
    }
}

void PeerSession::startAnsweredSlots() {
    for (auto& slot : slots_) {
        if (slot->linked || slot->offeredIn == 0 || slot->offeredIn > negotiationId_) continue;
        slot->linked = slot->feed->link(slot->sinkPad.get());
        if (!slot->linked) MLOG(Media, Warning, "%scannot link the send slot of %s", tag().c_str(), slot->mid.c_str());
    }
}

void PeerSession::openAnsweredSlots() {
    if (!connected_) return; // packets sent before DTLS is up only fill queues
    bool blocked = false;
    for (auto& slot : slots_) {
        if (!slot->outlet || !slot->linked || slot->refused || slot->offeredIn == 0 ||
            slot->offeredIn > negotiationId_ || (offerInFlight_ && slot->offeredIn == negotiationId_))
            continue;
        // webrtcbin blocks a new sink pad until it has connected the m-line's input stream;
        // a push into it then would stall the publisher's thread. Not expected once the
        // answer is applied and the caps are in; checked again shortly if it happens.
        if (slot->outlet->gated.load() && gst_pad_is_blocked(slot->sinkPad.get())) {
            blocked = true;
            continue;
        }
        if (slot->outlet->gated.exchange(false))
            MLOG(Media, Debug, "%sforwarding %s on %s", tag().c_str(), slot->trackId.c_str(), slot->mid.c_str());
        if (!slot->awaitingKeyframe) continue;
        slot->awaitingKeyframe = false;
        if (auto source = slot->source.lock()) source->requestKeyframe(true);
    }
    if (blocked && !gateTimer_) {
        MLOG(Media, Debug, "%sa send slot's input is not connected yet; gate checked again in 20 ms", tag().c_str());
        Token token = token_;
        gateTimer_ = engine_.scheduler().after(std::chrono::milliseconds(20), [token] {
            if (auto alive = token.lock()) {
                (*alive)->gateTimer_.reset();
                (*alive)->openAnsweredSlots();
            }
        });
    }
}

void PeerSession::addRemoteCandidate(int mlineIndex, const std::string&, const std::string& candidate) {
    if (candidate.empty()) return; // end of candidates: nothing to do for webrtcbin 1.22
    g_signal_emit_by_name(webrtc_, "add-ice-candidate", guint(mlineIndex), candidate.c_str());
}

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
                self.openAnsweredSlots();
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
    if (type != GST_MESSAGE_ERROR && type != GST_MESSAGE_WARNING) return G_SOURCE_CONTINUE;
    GError* error = nullptr;
    gchar* debug = nullptr;
    if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error(message, &error, &debug);
    else
        gst_message_parse_warning(message, &error, &debug);
    MLOG(Media, Warning, "%s%s from %s: %s (%s)", self.tag().c_str(), type == GST_MESSAGE_ERROR ? "error" : "warning",
         GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error ? error->message : "?", debug ? debug : "");
    g_clear_error(&error);
    g_free(debug);
    return G_SOURCE_CONTINUE;
}

void PeerSession::failed(const std::string& reason) {
    if (failed_) return;
    failed_ = true;
    MLOG(Media, Warning, "%s%s", tag().c_str(), reason.c_str());
    listener_.onMediaFailed(reason); // may destroy this: nothing after this line
}

} // namespace manifold::media

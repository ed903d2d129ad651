#include "pipelines/webrtc/Receiver.hpp"

#include "core/Log.hpp"
#include "pipelines/router/Producer.hpp"
#include "pipelines/router/Router.hpp"
#include "pipelines/webrtc/ForwardingCaps.hpp"
#include "pipelines/webrtc/Workarounds.hpp"
#include "pipelines/webrtc/WebrtcEngine.hpp"

namespace manifold::media {

namespace {

/// A webrtcbin src pad as a producer's origin: a keyframe request goes upstream into
/// webrtcbin, where rtpsession answers it with a FIR (all-headers; the m-line offers
/// "ccm fir", and webrtcbin 1.22 does not put "nack pli" in the payload caps rtpsession
/// consults, so a PLI is never sent).
class PadOrigin final : public ProducerOrigin {
public:
    explicit PadOrigin(GstPad* pad) : pad_(retainGst(pad)) {}
    void requestKeyframe(int count) override {
        GstStructure* s = gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN, TRUE, "count",
                                            G_TYPE_INT, count, nullptr);
        gst_pad_send_event(pad_.get(), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
    }

private:
    GstPtr<GstPad> pad_;
};

GstPadProbeReturn onForwardBuffer(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
    auto& producer = **static_cast<std::shared_ptr<Producer>*>(data);
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER)
        producer.forward(GST_PAD_PROBE_INFO_BUFFER(info));
    else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        producer.forwardList(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    return GST_PAD_PROBE_OK;
}

} // namespace

Receiver::Receiver(GstElement* webrtc, Router& router, WebrtcEngine& engine, std::string participantId,
                   std::string tag)
    : webrtc_(webrtc), router_(router), engine_(engine), participantId_(std::move(participantId)),
      tag_(std::move(tag)) {}

Receiver::~Receiver() {
    for (auto& pub : publications_)
        if (pub->producer) router_.closeProducer(pub->trackId);
}

Receiver::Publication* Receiver::find(const std::string& trackId) {
    for (auto& pub : publications_)
        if (pub->trackId == trackId) return pub.get();
    return nullptr;
}

std::string Receiver::publish(const TrackInfo& track, const std::string& preferredCodec,
                              std::function<void(bool)> onSpeaking) {
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
        if (!transceiver) return "webrtcbin refused a receive transceiver";
        if (track.kind == MediaKind::Video) g_object_set(transceiver, "do-nack", TRUE, nullptr);
        auto p = std::make_unique<Publication>();
        p->transceiver = adoptGst(transceiver);
        p->kind = track.kind;
        pub = p.get();
        publications_.push_back(std::move(p));
    }
    auto producer = router_.createProducer(track.id, track.kind, tag_);
    if (!producer) return "track " + track.id + " is published already";
    g_object_set(pub->transceiver.get(), "codec-preferences", caps.get(), nullptr); // a reused one may differ
    pub->trackId = track.id;
    pub->producer = std::move(producer);
    if (track.kind == MediaKind::Audio) pub->producer->setSpeakingCallback(std::move(onSpeaking));
    MLOG(Media, Debug, "%sreceiving %s track %s", tag_.c_str(), toString(track.kind), track.id.c_str());
    return "";
}

void Receiver::unpublish(const std::string& trackId) {
    Publication* pub = find(trackId);
    if (!pub) return;
    router_.closeProducer(trackId);
    pub->producer.reset();
    pub->trackId.clear(); // the receive transceiver waits for the next publication
}

void Receiver::setMuted(const std::string& trackId, bool muted) {
    if (Publication* pub = find(trackId); pub && pub->producer) pub->producer->setMuted(muted);
}

void Receiver::linkNewPad(GstElement* webrtc, GstPad* pad) {
    // Forwarding is hooked up on the control thread, which knows which track this is.
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, nullptr);
    GstObject* parent = gst_object_get_parent(GST_OBJECT(webrtc));
    gst_bin_add(GST_BIN(parent), sink);
    gst_object_unref(parent);
    GstPad* sinkPad = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sinkPad);
    gst_object_unref(sinkPad);
    gst_element_sync_state_with_parent(sink);
}

void Receiver::streamAdded(GstPad* pad, GstWebRTCRTPTransceiver* transceiver, CapsPtr caps) {
    Publication* pub = nullptr;
    for (auto& p : publications_)
        if (p->transceiver.get() == transceiver) pub = p.get();
    if (!pub || !pub->producer) {
        MLOG(Media, Info, "%sa stream arrived on an m-line with no publication; ignored", tag_.c_str());
        return;
    }
    gchar* text = gst_caps_to_string(caps.get());
    MLOG(Media, Info, "%strack %s flowing: %s", tag_.c_str(), pub->trackId.c_str(), text);
    g_free(text);
    pub->producer->setOrigin(std::make_shared<PadOrigin>(pad));
    gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &onForwardBuffer, new std::shared_ptr<Producer>(pub->producer),
                      [](gpointer d) noexcept { delete static_cast<std::shared_ptr<Producer>*>(d); });
    pub->producer->markReady(forwardingCaps(caps.get(), engine_.publishCaps(pub->kind).get()));
}

void Receiver::learnMids(const std::map<GstWebRTCRTPTransceiver*, std::string>& mids) {
    for (auto& pub : publications_) learnMid(pub->mid, pub->transceiver.get(), mids);
}

void Receiver::describe(std::vector<MidMapping>& out) const {
    for (const auto& pub : publications_)
        if (!pub->mid.empty())
            out.push_back(MidMapping{pub->mid, pub->trackId, pub->trackId.empty() ? "" : participantId_,
                                     MidMapping::Direction::Send});
}

} // namespace manifold::media

#include "pipelines/webrtc/Sender.hpp"

#include <mutex>

#include "core/Log.hpp"
#include "pipelines/router/Consumer.hpp"
#include "pipelines/router/Producer.hpp"
#include "pipelines/router/Router.hpp"
#include "pipelines/webrtc/AnswerCheck.hpp"
#include "pipelines/webrtc/ForwardingCaps.hpp"
#include "pipelines/webrtc/SendPad.hpp"
#include "pipelines/webrtc/Workarounds.hpp"

namespace manifold::media {

/// The route of keyframe requests from one send slot to the consumer it carries now.
/// The control thread changes it when the slot is reassigned; the subscriber's RTCP
/// thread reads it when a PLI/FIR arrives (rare), under the mutex.
struct KeyframeRoute {
    std::mutex mutex;
    std::weak_ptr<Consumer> consumer;

    void set(std::weak_ptr<Consumer> to) {
        std::lock_guard lock(mutex);
        consumer = std::move(to);
    }
};

namespace {

GstPadProbeReturn onUpstreamEvent(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && isForceKeyUnit(event)) {
        auto& route = **static_cast<std::shared_ptr<KeyframeRoute>*>(data);
        std::shared_ptr<Consumer> consumer;
        {
            std::lock_guard lock(route.mutex);
            consumer = route.consumer.lock();
        }
        if (consumer) consumer->requestKeyframe();
    }
    return GST_PAD_PROBE_OK;
}

int payloadType(const GstCaps* caps) {
    int pt = -1;
    if (caps && !gst_caps_is_empty(caps)) gst_structure_get_int(gst_caps_get_structure(caps, 0), "payload", &pt);
    return pt;
}

std::string encodingName(const GstCaps* caps) {
    const char* name =
        caps && !gst_caps_is_empty(caps) ? gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name") : nullptr;
    return name ? name : "unknown";
}

} // namespace

Sender::Sender(GstElement* webrtc, GstElement* pipeline, Router& router, std::string tag)
    : webrtc_(webrtc), pipeline_(pipeline), router_(router), tag_(std::move(tag)) {}

Sender::~Sender() {
    for (auto& slot : slots_)
        if (slot->consumer) router_.closeConsumer(slot->consumer);
}

Sender::Slot* Sender::find(const std::string& trackId) const {
    for (const auto& slot : slots_)
        if (slot->consumer && slot->track.id == trackId) return slot.get();
    return nullptr;
}

bool Sender::has(const std::string& trackId) const { return find(trackId) != nullptr; }

Sender::Slot* Sender::newSlot(MediaKind kind, const GstCaps* caps, std::string& error) {
    auto s = std::make_unique<Slot>();
    s->kind = kind;
    GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtc_), "sink_%u");
    GstPad* sinkPad = gst_element_request_pad(webrtc_, templ, nullptr, caps);
    if (!sinkPad) {
        error = "webrtcbin refused a send pad";
        return nullptr;
    }
    GstWebRTCRTPTransceiver* transceiver = nullptr;
    g_object_get(sinkPad, "transceiver", &transceiver, nullptr);
    s->transceiver = adoptGst(transceiver);
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences", caps,
                 nullptr);
    if (kind == MediaKind::Video) g_object_set(transceiver, "do-nack", TRUE, nullptr);
    s->sinkPad = adoptGst(sinkPad);
    dropTosEvents(sinkPad);
    s->sendPad = std::make_shared<SendPad>(GST_PAD_NAME(sinkPad), pipeline_);
    s->sendPad->setCaps(caps);
    s->route = std::make_shared<KeyframeRoute>();
    gst_pad_add_probe(s->sendPad->pad(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &onUpstreamEvent,
                      new std::shared_ptr<KeyframeRoute>(s->route),
                      [](gpointer d) noexcept { delete static_cast<std::shared_ptr<KeyframeRoute>*>(d); });
    // Linked in answerApplied(), once the client has answered the offer that carries it.
    slots_.push_back(std::move(s));
    return slots_.back().get();
}

std::string Sender::attach(const std::shared_ptr<Consumer>& consumer, const TrackInfo& track) {
    auto producer = consumer->producer();
    if (!producer || !producer->caps()) return "the track is gone";
    const GstCaps* caps = producer->caps();
    Slot* slot = nullptr;
    for (auto& s : slots_)
        if (!s->consumer && s->kind == track.kind) {
            slot = s.get();
            break;
        }
    if (slot) {
        // A recycled slot: the stream changes (new SSRC, maybe new codec). Not now: an
        // offer may be in flight, built on webrtcbin's thread from the transceiver's codec
        // preferences and the caps its sink pad last received (Workarounds.hpp, 6).
        slot->nextCaps = CapsPtr(gst_caps_copy(caps));
        slot->caps = Slot::Caps::Next;
    } else {
        std::string error;
        slot = newSlot(track.kind, caps, error);
        if (!slot) return error;
    }
    slot->consumer = consumer;
    slot->track = track;
    slot->route->set(consumer);
    consumer->setSink(slot->sendPad);
    MLOG(Media, Debug, "%ssending track %s of %s", tag_.c_str(), track.id.c_str(), track.participantId.c_str());
    return "";
}

bool Sender::detach(const std::string& trackId) {
    Slot* slot = find(trackId);
    if (!slot) return false;
    router_.closeConsumer(slot->consumer);
    slot->route->set({});
    slot->consumer.reset(); // stays sendonly, waiting for the next track of its kind
    return true;
}

void Sender::setPaused(const std::string& trackId, bool paused) {
    if (Slot* slot = find(trackId)) slot->consumer->setPaused(paused);
}

bool Sender::prepareOffer() {
    bool all = true;
    for (auto& slot : slots_) {
        if (slot->caps == Slot::Caps::Next) {
            g_object_set(slot->transceiver.get(), "codec-preferences", slot->nextCaps.get(), nullptr);
            // The offer is checked against the sink pad's caps, so they go into the pad
            // now, not with the stream's next packet.
            slot->caps = slot->sendPad->setCaps(slot->nextCaps.get()) ? Slot::Caps::Current : Slot::Caps::Pending;
            slot->nextCaps.reset();
        } else if (slot->caps == Slot::Caps::Pending && slot->sendPad->sendCaps()) {
            slot->caps = Slot::Caps::Current;
        }
        // Refused while webrtcbin briefly flushes the pad: the offer waits.
        if (slot->caps == Slot::Caps::Pending) all = false;
    }
    return all;
}

void Sender::offerStarted() {
    // Only consumers attached by now are in this offer: one attached while webrtcbin
    // builds it waits for the next one, so it does not open on an answer to an offer
    // that did not carry it.
    for (auto& slot : slots_)
        if (slot->consumer && slot->consumer->state() == Consumer::State::Attached)
            slot->consumer->moveTo(Consumer::State::Offering);
}

void Sender::offerAborted(bool resendCaps) {
    for (auto& slot : slots_) {
        if (!slot->consumer) continue;
        if (slot->consumer->state() == Consumer::State::Offering) slot->consumer->moveTo(Consumer::State::Attached);
        if (resendCaps && slot->sendPad->linked() && slot->caps == Slot::Caps::Current)
            slot->caps = Slot::Caps::Pending;
    }
}

void Sender::offerSent(std::uint64_t) {
    for (auto& slot : slots_) {
        if (!slot->consumer || slot->consumer->state() != Consumer::State::Offering) continue;
        // Without a mid the client cannot know the m-line: the next offer carries it again.
        slot->consumer->moveTo(slot->mid.empty() ? Consumer::State::Attached : Consumer::State::Offered);
    }
}

std::vector<std::pair<TrackInfo, std::string>> Sender::answerApplied(const GstSDPMessage* answer) {
    std::map<std::string, int> offered;
    for (auto& slot : slots_)
        if (slot->consumer && slot->consumer->state() == Consumer::State::Offered)
            if (auto producer = slot->consumer->producer()) offered[slot->mid] = payloadType(producer->caps());
    std::vector<std::string> refusedMids;
    if (answer) refusedMids = refusedSendMids(answer, offered);
    std::vector<std::pair<TrackInfo, std::string>> refused;
    for (auto& slot : slots_) {
        if (!slot->consumer || slot->consumer->state() != Consumer::State::Offered) continue;
        if (std::find(refusedMids.begin(), refusedMids.end(), slot->mid) != refusedMids.end()) {
            auto producer = slot->consumer->producer();
            const std::string codec = encodingName(producer ? producer->caps() : nullptr);
            MLOG(Media, Info, "%sthe client refused %s for track %s", tag_.c_str(), codec.c_str(), slot->track.id.c_str());
            slot->consumer->moveTo(Consumer::State::Refused); // parked until unsubscribed
            refused.emplace_back(slot->track, codec);
            continue;
        }
        if (!slot->sendPad->linked() && !slot->sendPad->link(slot->sinkPad.get())) {
            MLOG(Media, Warning, "%scannot link the send slot of %s", tag_.c_str(), slot->mid.c_str());
            continue;
        }
        slot->consumer->moveTo(Consumer::State::Linked);
    }
    return refused;
}

bool Sender::openLinked() {
    bool blocked = false;
    for (auto& slot : slots_) {
        if (!slot->consumer || slot->consumer->state() != Consumer::State::Linked) continue;
        // Workaround 9: webrtcbin blocks a new sink pad until it has connected the
        // m-line's input stream; a push into it then would stall the publisher's thread.
        if (gst_pad_is_blocked(slot->sinkPad.get())) {
            blocked = true;
            continue;
        }
        slot->consumer->moveTo(Consumer::State::Open); // asks the producer for a keyframe
        MLOG(Media, Debug, "%sforwarding %s on %s", tag_.c_str(), slot->track.id.c_str(), slot->mid.c_str());
    }
    return blocked;
}

void Sender::learnMids(const std::map<GstWebRTCRTPTransceiver*, std::string>& mids) {
    for (auto& slot : slots_) learnMid(slot->mid, slot->transceiver.get(), mids);
}

void Sender::describe(std::vector<MidMapping>& out) const {
    for (const auto& slot : slots_)
        if (!slot->mid.empty())
            out.push_back(MidMapping{slot->mid, slot->consumer ? slot->track.id : "",
                                     slot->consumer ? slot->track.participantId : "", MidMapping::Direction::Recv});
}

} // namespace manifold::media

// Sender.hpp — the send half of a participant's webrtcbin: the tracks it receives.
//
// What: each Consumer of this participant gets a send slot: a sendonly transceiver whose
// sink pad a SendPad is linked to (the consumer's sink). webrtcbin 1.22 cannot remove a
// transceiver or change its direction back, so a slot freed by an unsubscribe stays
// sendonly and is given to the next consumer of the same kind, with the new stream's
// caps applied only between offers (Workarounds.hpp, 6). The Sender moves its consumers
// through their states as the Negotiator reports offers and answers (Consumer.hpp has the
// table): Attached → Offering → Offered → Linked (answer applied, SendPad linked) → Open
// (connected and the sink pad unblocked), or Refused when the answer drops the codec.
// A subscriber's PLI/FIR arrives as an upstream event at the slot's SendPad and is
// routed to the slot's current consumer, which passes it to its producer.
// Thread: control thread; the keyframe probe runs on the subscriber's RTCP thread.
// Ownership: a member of PeerSession. Owns its slots and their SendPads (shared with the
// consumers); borrows webrtcbin and the pipeline (owned by the session) and the Router.
// Closes its consumers in the router when destroyed.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/Types.hpp"
#include "pipelines/gst/GstPtr.hpp"

namespace manifold::media {

class Consumer;
class Router;
class SendPad;
struct KeyframeRoute; // Sender.cpp: where a slot's keyframe requests go

class Sender {
public:
    Sender(GstElement* webrtc, GstElement* pipeline, Router& router, std::string tag);
    ~Sender();
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;

    /// Gives a consumer whose producer is ready a slot: a recycled one of its kind, else
    /// a new one. Returns "" or what went wrong (webrtcbin refused a pad).
    std::string attach(const std::shared_ptr<Consumer>& consumer, const TrackInfo& track);
    /// Closes the consumer of `trackId` in the router and frees its slot. False if none.
    bool detach(const std::string& trackId);
    bool has(const std::string& trackId) const;
    /// The subscriber paused or resumed `trackId`.
    void setPaused(const std::string& trackId, bool paused);

    // ---- negotiation (the Negotiator's steps, through PeerSession)
    /// Before an offer: reused slots take their new stream's caps. False when webrtcbin
    /// refused them for now (its pad is flushing): try again shortly.
    bool prepareOffer();
    /// The offer being made carries every Attached consumer (→ Offering).
    void offerStarted();
    /// It failed and will be made again (Offering → Attached); `resendCaps`: webrtcbin
    /// refused it over stale sink pad caps, so every slot's caps go in again first.
    void offerAborted(bool resendCaps);
    /// Offer `negotiationId` went out (Offering → Offered for consumers with a mid).
    void offerSent(std::uint64_t negotiationId);
    /// The answer to the offer in flight is applied: consumers it refused go to Refused
    /// (returned, with their codec), the others are linked (Offered → Linked).
    std::vector<std::pair<TrackInfo, std::string>> answerApplied(const GstSDPMessage* answer);
    /// Opens the consumers that are Linked once webrtcbin unblocked their sink pads.
    /// Returns true if one is still blocked (call again shortly).
    bool openLinked();

    void learnMids(const std::map<GstWebRTCRTPTransceiver*, std::string>& mids);
    void describe(std::vector<MidMapping>& out) const;

private:
    struct Slot {
        GstPtr<GstWebRTCRTPTransceiver> transceiver;
        std::string mid; // "" until it appeared in an offer
        MediaKind kind = MediaKind::Audio;
        GstPtr<GstPad> sinkPad;               // webrtcbin's request pad for this slot
        std::shared_ptr<SendPad> sendPad;     // linked to sinkPad after the first answer
        std::shared_ptr<KeyframeRoute> route; // shared with the probe on sendPad
        std::shared_ptr<Consumer> consumer;   // null = free, reusable
        TrackInfo track;                      // what the consumer carries
        /// Workaround 6: a reused slot's new caps wait for the next offer (Next), and are
        /// sent again when webrtcbin's pad refused them (Pending).
        enum class Caps { Current, Next, Pending } caps = Caps::Current;
        CapsPtr nextCaps;
    };
    Slot* find(const std::string& trackId) const;
    Slot* newSlot(MediaKind kind, const GstCaps* caps, std::string& error);

    GstElement* webrtc_;   // Owned by the session's pipeline.
    GstElement* pipeline_; // Owned by the session.
    Router& router_;       // Passed by argument; outlives this.
    const std::string tag_;
    std::vector<std::unique_ptr<Slot>> slots_;
};

} // namespace manifold::media

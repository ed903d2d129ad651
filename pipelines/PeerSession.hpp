// PeerSession.hpp — one participant's media: a pipeline with one webrtcbin.
//
// What: the MediaSession of the media plane. Published tracks arrive on recvonly
// transceivers and end in a TrackSource (the fan-out point); subscribed tracks leave
// through sendonly "slots" (a SendPad linked to a webrtcbin sink pad) that other
// participants' TrackSources push into. The server is always the offerer; offers are
// chained so one is in flight at a time, and changes made meanwhile are folded into the
// next offer.
// webrtcbin 1.22 cannot change a negotiated transceiver's direction (except to
// inactive, for good), so slots are recycled: a freed send slot stays sendonly and is
// given to the next subscription of the same kind; a freed receive transceiver is given
// to the participant's next publication of the same kind. The SDP stays bounded.
// Threads: public methods and Listener calls on the control thread. webrtcbin signals
// and promise replies arrive on GStreamer threads; they copy what they need and post to
// the control thread with a weak token, never touching state directly.
// Ownership: owned by the participant's signalling Session (unique_ptr<MediaSession>).
// Owns its pipeline (handed to the engine's teardown thread on destruction), its
// TrackSources (shared with subscribers' outlets, weakly) and its slots.
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/MediaEngine.hpp"
#include "core/Scheduler.hpp"
#include "pipelines/GstPtr.hpp"
#include "pipelines/Retransmission.hpp"
#include "pipelines/TrackSource.hpp"

namespace manifold::media {

class WebrtcEngine;
struct KeyframeRoute; // PeerSession.cpp: where a send slot's keyframe requests go

class PeerSession final : public MediaSession {
public:
    PeerSession(WebrtcEngine& engine, std::string room, std::string participantId, Listener& listener);
    ~PeerSession() override;

    // MediaSession
    void publish(const TrackInfo& track, const std::string& preferredCodec) override;
    void unpublish(const std::string& trackId) override;
    void subscribe(const TrackInfo& track, MediaSession& publisher) override;
    void unsubscribe(const std::string& trackId) override;
    void setPaused(const std::string& trackId, bool paused) override;
    void setMuted(const std::string& trackId, bool muted) override;
    std::string applyAnswer(std::uint64_t negotiationId, const std::string& sdp) override;
    void addRemoteCandidate(int mlineIndex, const std::string& mid, const std::string& candidate) override;

    /// The fan-out point of one of this participant's published tracks, or null.
    std::shared_ptr<TrackSource> source(const std::string& trackId) const;

private:
    struct Publication {
        GstPtr<GstWebRTCRTPTransceiver> transceiver;
        std::string mid; // "" until it appeared in an offer
        MediaKind kind = MediaKind::Audio;
        std::string trackId; // "" = free, reusable
        std::shared_ptr<TrackSource> source;
    };
    struct Slot {
        GstPtr<GstWebRTCRTPTransceiver> transceiver;
        std::string mid; // "" until it appeared in an offer
        std::shared_ptr<SendPad> feed; // pushed into by the publisher's TrackSource
        std::shared_ptr<KeyframeRoute> route; // shared with the probe on feed's pad
        GstPtr<GstPad> sinkPad;        // webrtcbin's request pad for this slot
        bool linked = false;           // feed linked to the sink pad (after the first answer)
        MediaKind kind = MediaKind::Audio;
        std::string trackId; // "" = free, reusable
        std::string publisherId;
        std::shared_ptr<Outlet> outlet;
        std::weak_ptr<TrackSource> source;
        bool awaitingKeyframe = false; // ask for one once the client can decode this m-line
        bool refused = false;          // the client's answer refused this stream's codec
        TrackInfo track;               // what this slot carries now
        std::uint64_t offeredIn = 0;   // the offer that carried the current stream; 0 = none yet
        bool inNextOffer = false;      // the current stream is in the offer being created
        CapsPtr nextCaps;              // reused: the new stream's caps, applied when the next offer is made
        bool capsPending = false;      // reused: webrtcbin's sink pad must get the new caps before the next offer
    };
    using Token = std::weak_ptr<PeerSession*>;

    void attachSubscription(const TrackInfo& track, const std::shared_ptr<TrackSource>& source);
    void renegotiate();
    void scheduleOffer(std::chrono::milliseconds delay);
    /// Gives reused slots their new stream's caps (codec preferences, feed). Only
    /// between offers: webrtcbin builds an offer on its own thread from both.
    void applyNextCaps();
    /// Sends reused slots' new caps to webrtcbin's sink pads; false if one was refused.
    bool deliverPendingCaps();
    void createOffer();
    void offerCreated(GstWebRTCSessionDescription* offer);
    void localDescriptionSet(const std::string& sdp);
    /// webrtcbin 1.22 gives a new transceiver its mid only once signalling is stable
    /// again; read the mids of our own offer instead and remember them.
    void learnMids(const std::string& sdp);
    void remoteDescriptionSet(const std::string& error);
    void streamAdded(GstPad* pad, GstWebRTCRTPTransceiver* transceiver, CapsPtr caps);
    void failed(const std::string& reason);
    /// Opens the gates of slots the client now knows about (its answer to the offer
    /// that carried them is applied) and, once connected, asks their publishers for a
    /// keyframe.
    void openAnsweredSlots();
    /// Reports and parks the send slots whose codec the just-applied answer refused.
    void checkRefusedCodecs();
    /// Links the feed of slots whose m-line the client has answered.
    void startAnsweredSlots();
    std::string tag() const;

    // GStreamer-thread trampolines (noexcept: copy, post, return).
    static void onPadAdded(GstElement*, GstPad* pad, gpointer token) noexcept;
    static void onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer token) noexcept;
    static void onStateNotify(GObject* webrtc, GParamSpec*, gpointer token) noexcept;
    static gboolean onBusMessage(GstBus*, GstMessage* message, gpointer token) noexcept;

    WebrtcEngine& engine_;  // Passed by argument; outlives this.
    Listener& listener_;    // Passed by argument; outlives this.
    const std::string room_;
    const std::string participantId_;
    std::shared_ptr<PeerSession*> token_; // weak copies travel into GStreamer callbacks
    GstPtr<GstElement> pipeline_;
    GstElement* webrtc_ = nullptr; // owned by pipeline_
    guint busWatch_ = 0;
    std::vector<std::unique_ptr<Publication>> publications_;
    std::vector<std::unique_ptr<Slot>> slots_;

    bool offerInFlight_ = false;  // created/sent, no answer applied yet
    bool renegotiate_ = false;    // something changed while an offer was in flight
    Scheduler::Timer offerTimer_; // coalesces the changes of one control-loop turn into one offer
    int capsRetries_ = 0;         // offers postponed because a reused slot refused its caps
    static constexpr int kCapsRetries = 100; // x 20 ms
    int offerRetries_ = 0;        // offers webrtcbin refused over stale sink pad caps, in a row
    static constexpr int kOfferRetries = 5;
    std::uint64_t negotiationId_ = 0;
    PromisePtr lastOperation_;    // of the last create-offer / set-*-description queued on webrtcbin
    Scheduler::Timer answerTimer_;
    Scheduler::Timer gateTimer_;  // re-checks gates whose sink pad webrtcbin still blocks
    bool failed_ = false;
    bool connected_ = false; // ICE and DTLS are up
    std::string pendingAnswer_; // the answer being applied, checked for refused codecs once applied
    RtxSsrcKeeper rtxSsrcs_; // keeps subscribers' RTX SSRCs stable across offers
};

} // namespace manifold::media

// Negotiator.hpp — offer/answer on one participant's webrtcbin; the server always offers.
//
// What: chains offers so one is in flight at a time, coalesces the changes of one
// control-loop turn into one offer, and makes the next offer when something changed
// while one was in flight. Checks an answer against our offer before applying it
// (AnswerCheck) and a trickled candidate before handing it to webrtcbin. Keeps
// subscribers' RTX SSRCs stable across offers (Workarounds.hpp, 2) and retries offers
// webrtcbin refused over stale sink pad caps (6). An answer must come within the answer
// timeout. The Listener (the PeerSession) learns each step and moves its consumers.
// Thread: control thread. webrtcbin's promise replies arrive on its thread and are
// posted to the control thread with a weak token.
// Ownership: a member of PeerSession, which is its Listener and outlives it. Borrows
// webrtcbin (owned by the session's pipeline) and the Scheduler. Holds the promise of the
// last operation it queued on webrtcbin, which the session hands to the engine's
// teardown thread (Workarounds.hpp, 8).
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/Result.hpp"
#include "core/Scheduler.hpp"
#include "pipelines/gst/GstPtr.hpp"
#include "pipelines/webrtc/Workarounds.hpp"

namespace manifold::media {

class Negotiator {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        /// An offer is about to be made: false postpones it (20 ms) because webrtcbin is
        /// not ready to build it yet.
        virtual bool prepareOffer() = 0;
        /// webrtcbin is building the offer.
        virtual void offerStarted() = 0;
        /// The offer failed and will be made again; `staleCaps`: webrtcbin refused it over
        /// a sink pad's stale caps.
        virtual void offerAborted(bool staleCaps) = 0;
        /// Our offer is applied locally; send it to the client.
        virtual void offerReady(std::uint64_t negotiationId, const std::string& sdp) = 0;
        /// The client's answer is applied (`answer` is the parsed SDP).
        virtual void answerApplied(std::uint64_t negotiationId, const GstSDPMessage* answer) = 0;
        /// Negotiation cannot go on (the listener may destroy the Negotiator in here).
        virtual void negotiationFailed(const std::string& reason) = 0;
    };

    Negotiator(GstElement* webrtc, Scheduler& scheduler, std::chrono::milliseconds answerTimeout, std::string tag,
               Listener& listener);
    ~Negotiator();
    Negotiator(const Negotiator&) = delete;
    Negotiator& operator=(const Negotiator&) = delete;

    /// Something changed: an offer is made soon (after the one in flight is answered).
    void renegotiate();
    /// Checks the client's answer to offer `negotiationId` and starts applying it. A
    /// BadAnswer failure says what is wrong with it (then the offer still waits).
    Status applyAnswer(std::uint64_t negotiationId, const std::string& sdp);
    /// Checks a trickled candidate of the client and hands it to webrtcbin; a
    /// BadCandidate failure says what is wrong. "" as the candidate ends the candidates.
    Status addRemoteCandidate(int mlineIndex, const std::string& candidate);

    bool offerInFlight() const { return offerInFlight_; }
    std::uint64_t negotiationId() const { return negotiationId_; }
    /// The last create-offer / set-*-description promise queued on webrtcbin (teardown).
    PromisePtr takeLastOperation() { return std::move(lastOperation_); }
    /// Stops timers and promise replies reaching this object (before the session goes).
    void stop();

private:
    void scheduleOffer(std::chrono::milliseconds delay);
    void createOffer();
    void offerCreated(GstWebRTCSessionDescription* offer, const std::string& error);
    void localDescriptionSet(const std::string& sdp, const std::string& error);
    void remoteDescriptionSet(const std::string& error);
    void fail(const std::string& reason);

    GstElement* webrtc_;   // Owned by the session's pipeline.
    Scheduler& scheduler_; // Passed by argument; outlives this.
    const std::chrono::milliseconds answerTimeout_;
    const std::string tag_;
    Listener& listener_;   // Passed by argument; outlives this.
    std::shared_ptr<Negotiator*> token_; // weak copies travel into promise callbacks

    bool offerInFlight_ = false;  // created/sent, no answer applied yet
    bool renegotiate_ = false;    // something changed while an offer was in flight
    bool failed_ = false;
    Scheduler::Timer offerTimer_; // coalesces the changes of one control-loop turn into one offer
    Scheduler::Timer answerTimer_;
    int prepareRetries_ = 0;      // offers postponed because the listener was not ready
    static constexpr int kPrepareRetries = 100; // x 20 ms
    int staleCapsRetries_ = 0;    // offers webrtcbin refused over stale sink pad caps, in a row
    static constexpr int kStaleCapsRetries = 5;
    std::uint64_t negotiationId_ = 0;
    std::string lastOffer_;       // our offer in flight, what an answer is checked against
    unsigned offerMlines_ = 0;    // m-lines of our latest offer (candidates name one)
    std::string pendingAnswer_;   // the answer being applied
    PromisePtr lastOperation_;
    RtxSsrcKeeper rtxSsrcs_;
};

} // namespace manifold::media

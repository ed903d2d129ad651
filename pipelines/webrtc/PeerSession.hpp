// PeerSession.hpp — one participant's media: a pipeline with one webrtcbin.
//
// What: the MediaSession of the media plane, and the endpoint of the participant in its
// room's Router. It builds the pipeline and webrtcbin, and wires three parts that each
// own one concern: the Receiver (published tracks → producers), the Sender (consumers →
// send slots) and the Negotiator (offers and answers; the server always offers). It
// turns webrtcbin's signals and bus messages into Listener calls: an ICE or DTLS failure,
// a bus ERROR or a failed state change is a media failure of this session; a
// jitterbuffer's drop message (a packet dropped on arrival) is counted for /metrics.
// Threads: public methods and Listener calls on the control thread. webrtcbin signals
// arrive on GStreamer threads; they copy what they need and post to the control thread
// with a weak token, never touching state directly.
// Ownership: owned by the participant's signalling Session (unique_ptr<MediaSession>).
// Owns its pipeline (handed to the engine's teardown thread on destruction) and its three
// parts; shares the room's Router with the other endpoints of the room.
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/MediaEngine.hpp"
#include "core/Scheduler.hpp"
#include "pipelines/gst/GstPtr.hpp"
#include "pipelines/webrtc/Negotiator.hpp"
#include "pipelines/webrtc/Posting.hpp"
#include "pipelines/webrtc/Receiver.hpp"
#include "pipelines/webrtc/Sender.hpp"

namespace manifold::media {

class Router;
class WebrtcEngine;

class PeerSession final : public MediaSession, public Negotiator::Listener {
public:
    PeerSession(WebrtcEngine& engine, std::shared_ptr<Router> router, std::string participantId,
                MediaSession::Listener& listener);
    ~PeerSession() override;

    // MediaSession
    void publish(const TrackInfo& track, const std::string& preferredCodec) override;
    void unpublish(const std::string& trackId) override;
    void subscribe(const TrackInfo& track) override;
    void unsubscribe(const std::string& trackId) override;
    void setPaused(const std::string& trackId, bool paused) override;
    void setMuted(const std::string& trackId, bool muted) override;
    Status applyAnswer(std::uint64_t negotiationId, const std::string& sdp) override;
    Status addRemoteCandidate(int mlineIndex, const std::string& mid, const std::string& candidate) override;

    // Negotiator::Listener (the negotiator's steps; called only by it)
    bool prepareOffer() override;
    void offerStarted() override;
    void offerAborted(bool staleCaps) override;
    void offerReady(std::uint64_t negotiationId, const std::string& sdp) override;
    void answerApplied(std::uint64_t negotiationId, const GstSDPMessage* answer) override;
    void negotiationFailed(const std::string& reason) override;

private:
    using Token = WeakToken<PeerSession>;

    /// Opens the consumers whose answer is applied, once ICE and DTLS are up; checks
    /// again in 20 ms while webrtcbin still blocks a sink pad.
    void openConsumers();
    void failed(const std::string& reason);
    /// An element message from the bus: a jitterbuffer's drop-msg is counted in /metrics
    /// (manifold_rtp_jitterbuffer_dropped_total) and logged at Log level.
    void onElementMessage(GstMessage* message);
    std::string tag() const;

    // GStreamer-thread trampolines (noexcept: copy, post, return).
    static void onPadAdded(GstElement*, GstPad* pad, gpointer token) noexcept;
    static void onIceCandidate(GstElement*, guint mline, gchar* candidate, gpointer token) noexcept;
    static void onStateNotify(GObject* webrtc, GParamSpec*, gpointer token) noexcept;
    static gboolean onBusMessage(GstBus*, GstMessage* message, gpointer token) noexcept;

    WebrtcEngine& engine_;  // Passed by argument; outlives this.
    MediaSession::Listener& listener_; // Passed by argument; outlives this.
    std::shared_ptr<Router> router_; // shared with the room's other endpoints
    const std::string participantId_;
    std::shared_ptr<PeerSession*> token_; // weak copies travel into GStreamer callbacks
    GstPtr<GstElement> pipeline_;
    GstElement* webrtc_ = nullptr; // owned by pipeline_
    guint busWatch_ = 0;
    std::unique_ptr<Receiver> receiver_;
    std::unique_ptr<Sender> sender_;
    std::unique_ptr<Negotiator> negotiator_;
    Scheduler::Timer gateTimer_; // re-checks consumers whose sink pad webrtcbin still blocks
    bool failed_ = false;
    bool connected_ = false; // ICE and DTLS are up
};

} // namespace manifold::media

// MediaEngine.hpp — the seam between the control plane and the media plane.
//
// What: the control plane asks the media plane for one MediaSession per participant (one
// webrtcbin, in pipelines/). A MediaSession receives the client's published tracks,
// forwards tracks of the room to it, and produces SDP offers and ICE candidates (the
// server is always the offerer). Tracks are named by id only: the media plane's router
// of the room finds the track's producer, so no session ever reaches another one.
// Events come back through MediaSession::Listener.
// Thread: every call, and every Listener callback, on the control thread. Implementations
// post from their streaming threads to the control thread before calling the listener.
// Ownership: the App owns the MediaEngine; each signalling Session owns its MediaSession
// (unique_ptr) and is its Listener, and outlives it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/Result.hpp"
#include "core/Types.hpp"

namespace manifold {

class MediaSession {
public:
    class Listener {
    public:
        virtual ~Listener() = default;
        /// A new offer to send to the client; answers must echo negotiationId.
        virtual void onLocalOffer(std::uint64_t negotiationId, const std::string& sdp,
                                  const std::vector<MidMapping>& mids) = 0;
        /// A local ICE candidate to trickle to the client ("" = end of candidates).
        virtual void onLocalCandidate(int mlineIndex, const std::string& mid,
                                      const std::string& candidate) = 0;
        /// The peer connection failed (ICE failure, DTLS error, negotiation timeout).
        virtual void onMediaFailed(const std::string& reason) = 0;
        /// The audio level of one of this participant's published tracks says it started
        /// or stopped speaking.
        virtual void onSpeaking(const std::string& trackId, bool speaking) = 0;
        /// The client refused the codec of a track it was to receive (e.g. H264 for a
        /// client without it): the track is not forwarded to it.
        virtual void onCodecMismatch(const TrackInfo& track, const std::string& codec) = 0;
    };

    virtual ~MediaSession() = default;
    /// Receive `track` from the client (a new m-line in the next offer), offering
    /// `preferredCodec` ("VP9", ...; "" = the default order) first.
    virtual void publish(const TrackInfo& track, const std::string& preferredCodec) = 0;
    virtual void unpublish(const std::string& trackId) = 0;
    /// Forward `track` (published in the same room) to this client.
    virtual void subscribe(const TrackInfo& track) = 0;
    virtual void unsubscribe(const std::string& trackId) = 0;
    virtual void setPaused(const std::string& trackId, bool paused) = 0;
    virtual void setMuted(const std::string& trackId, bool muted) = 0;
    /// Apply the client's answer to offer `negotiationId`. A Failure (BadAnswer) says
    /// what is wrong with it; then the offer still waits for a usable answer.
    virtual Status applyAnswer(std::uint64_t negotiationId, const std::string& sdp) = 0;
    /// A trickled candidate of the client; a Failure (BadCandidate) says what is wrong.
    virtual Status addRemoteCandidate(int mlineIndex, const std::string& mid, const std::string& candidate) = 0;
};

class MediaEngine {
public:
    virtual ~MediaEngine() = default;
    virtual std::unique_ptr<MediaSession> createSession(const std::string& room,
                                                        const std::string& participantId,
                                                        MediaSession::Listener& listener) = 0;
};

} // namespace manifold

// Receiver.hpp — the receive half of a participant's webrtcbin: its published tracks.
//
// What: one recvonly transceiver per publication, recycled for the participant's next
// publication of the same kind (webrtcbin 1.22 cannot remove one). Each publication is a
// Producer in the room's Router; when its stream arrives (webrtcbin's src pad, after the
// jitterbuffer) a pad probe feeds the producer and the pad becomes the producer's
// origin (keyframe requests go upstream into webrtcbin, whose rtpsession sends a FIR).
// Thread: control thread, except linkNewPad (webrtcbin's pad-added thread) and the
// probes (streaming threads).
// Ownership: a member of PeerSession. Borrows webrtcbin (owned by the session's
// pipeline), the Router and the engine, which outlive it. Closes its producers in the
// router when destroyed.
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/Types.hpp"
#include "pipelines/gst/GstPtr.hpp"

namespace manifold::media {

class Producer;
class Router;
class WebrtcEngine;

class Receiver {
public:
    Receiver(GstElement* webrtc, Router& router, WebrtcEngine& engine, std::string participantId, std::string tag);
    ~Receiver();
    Receiver(const Receiver&) = delete;
    Receiver& operator=(const Receiver&) = delete;

    /// Prepares to receive `track` (a new or recycled m-line for the next offer) and
    /// creates its producer. `onSpeaking` is called on a streaming thread. Returns ""
    /// or what went wrong.
    std::string publish(const TrackInfo& track, const std::string& preferredCodec,
                        std::function<void(bool)> onSpeaking);
    void unpublish(const std::string& trackId);
    void setMuted(const std::string& trackId, bool muted);

    /// webrtcbin added a src pad (its pad-added thread): link it to a fakesink at once
    /// (an unlinked pad would stop webrtcbin).
    static void linkNewPad(GstElement* webrtc, GstPad* pad);
    /// The stream of `transceiver` arrived on `pad` (control thread).
    void streamAdded(GstPad* pad, GstWebRTCRTPTransceiver* transceiver, CapsPtr caps);

    /// Remembers the mids our offer gave new transceivers.
    void learnMids(const std::map<GstWebRTCRTPTransceiver*, std::string>& mids);
    /// This side's m-lines for the client (what each mid carries).
    void describe(std::vector<MidMapping>& out) const;

private:
    struct Publication {
        GstPtr<GstWebRTCRTPTransceiver> transceiver;
        std::string mid; // "" until it appeared in an offer
        MediaKind kind = MediaKind::Audio;
        std::string trackId; // "" = free, reusable
        std::shared_ptr<Producer> producer;
    };
    Publication* find(const std::string& trackId);

    GstElement* webrtc_;   // Owned by the session's pipeline.
    Router& router_;       // Passed by argument; outlives this.
    WebrtcEngine& engine_; // Passed by argument; outlives this.
    const std::string participantId_;
    const std::string tag_;
    std::vector<std::unique_ptr<Publication>> publications_;
};

} // namespace manifold::media

// TrackSource.hpp — the forwarding point of one published track (the SFU fan-out).
//
// What: the publisher's webrtcbin src pad for this track ends in a fakesink whose pad
// probe hands every RTP buffer to each subscriber's Outlet (a SendPad linked to the
// subscriber's webrtcbin), pushed on the same thread: no decoding, no queue, and the
// packet's memory is shared, not copied (each outlet gets its own buffer header,
// re-stamped on the subscriber's clock). Pause (per outlet) and mute (whole track) drop
// packets here; resuming asks for a keyframe. Keyframe requests are throttled per track
// and sent upstream into the publisher's webrtcbin, whose rtpsession turns them into a
// FIR; for VP8, VP9, H264 and AV1 a request is owed until a keyframe passes.
// Threads: `forward` and `requestKeyframe` run on GStreamer streaming threads; the
// outlet list is a copy-on-write snapshot, so no lock is held while pushing. `forward`
// runs each subscriber's send chain (RTP session, RTX, SRTP, socket) on the publisher's
// thread, one subscriber after the other. Everything else runs on the control thread.
// Ownership: shared (shared_ptr) by the publisher's PeerSession, which creates it, and
// by subscriber Outlets (weak), which must not keep a gone publisher alive.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/Types.hpp"
#include "pipelines/GstPtr.hpp"
#include "pipelines/Keyframe.hpp"
#include "pipelines/SendPad.hpp"

namespace manifold::media {

class TrackSource;

/// Process-wide media counters for /metrics. Updated on streaming threads (relaxed).
struct MediaCounters {
    std::atomic<std::uint64_t> packetsIn{0};        // RTP packets received from publishers
    std::atomic<std::uint64_t> packetsForwarded{0}; // copies handed to subscribers
    std::atomic<std::uint64_t> keyframeRequests{0}; // FIRs sent to publishers
    std::atomic<std::uint64_t> upstreamGaps{0};     // video packets lost for good before the fan-out
};

/// One subscriber's feed from one TrackSource.
struct Outlet {
    std::shared_ptr<SendPad> sendPad;      // into the subscriber's webrtcbin
    std::weak_ptr<TrackSource> source;     // for keyframe requests
    std::atomic<bool> paused{false};
    /// Closed until the client applied an answer that contains this m-line: packets with
    /// an SSRC the client has not been told about would confuse its demultiplexer.
    std::atomic<bool> gated{true};
};

class TrackSource : public std::enable_shared_from_this<TrackSource> {
public:
    TrackSource(std::string trackId, MediaKind kind, std::string logTag, MediaCounters& counters);
    ~TrackSource();

    const std::string& trackId() const { return trackId_; }
    MediaKind kind() const { return kind_; }

    // ---- control thread
    /// Media is flowing: caps of the publisher's stream (codec, payload type, ssrc).
    void markReady(CapsPtr caps);
    bool ready() const { return caps_ != nullptr; }
    /// Caps for a subscriber's SendPad and transceiver: codec fields and ssrc only.
    const GstCaps* caps() const { return caps_.get(); }
    /// Runs `fn` now if ready, else once markReady is called (never after close()).
    void whenReady(std::function<void()> fn);
    void addOutlet(std::shared_ptr<Outlet> outlet);
    void removeOutlet(const std::shared_ptr<Outlet>& outlet);
    void setMuted(bool muted);
    /// The publisher left: no more packets, no more waiters.
    void close();

    // ---- streaming threads
    /// The pad keyframe requests are sent into (the publisher's webrtcbin src pad).
    void setUpstreamPad(GstPad* pad);
    void forward(GstBuffer* buffer);
    void forwardList(GstBufferList* list);
    /// Throttled to one per 500 ms per track; `soon` (a receiver just became able to
    /// decode, or a packet was lost upstream) allows one every 320 ms, so several new
    /// receivers share one keyframe. For VP8, VP9, H264 and AV1 a request is owed until a
    /// keyframe passes: held back by the throttle or ignored by the publisher, it is sent
    /// again (up to 10 times) from the forwarding thread.
    void requestKeyframe(bool soon = false);

    /// Called (on a streaming thread) when the audio level says the publisher started or
    /// stopped speaking. Set once, on the control thread, before media flows.
    void setSpeakingCallback(std::function<void(bool)> fn) { onSpeaking_ = std::move(fn); }

    std::uint64_t packetsIn() const { return packetsIn_.load(std::memory_order_relaxed); }
    std::uint64_t keyframeRequests() const { return keyframeRequests_.load(std::memory_order_relaxed); }
    std::uint64_t gaps() const { return gaps_.load(std::memory_order_relaxed); }

private:
    using Outlets = std::vector<std::shared_ptr<Outlet>>;
    std::shared_ptr<const Outlets> snapshot() const;
    void trackAudioLevel(GstBuffer* buffer);
    /// Video, per packet: a gap in sequence numbers after the jitterbuffer is a packet
    /// lost for good upstream (subscribers cannot get it retransmitted: ask for a
    /// keyframe at once); a keyframe pays what is owed, else the request is sent again.
    void inspectVideo(GstBuffer* buffer);
    void sendKeyframeRequest(bool soon, bool retry);

    const std::string trackId_;
    const MediaKind kind_;
    const std::string logTag_;
    MediaCounters& counters_; // Owned by the WebrtcEngine, which outlives every source.
    CapsPtr caps_;                                  // control thread
    std::vector<std::function<void()>> waiters_;    // control thread
    bool closed_ = false;                           // control thread

    mutable std::mutex mutex_; // guards the two pointers below, never held while pushing
    std::shared_ptr<const Outlets> outlets_ = std::make_shared<const Outlets>();
    GstPtr<GstPad> upstreamPad_;

    std::atomic<bool> muted_{false};
    std::atomic<int> audioLevelId_{0}; // RFC 6464 extension id in the publisher's packets; 0 = none
    std::function<void(bool)> onSpeaking_;
    // Speaking detection state: touched only by the one streaming thread that forwards.
    bool speaking_ = false;
    int loudRun_ = 0;  // consecutive packets louder than the speaking threshold
    int quietRun_ = 0; // consecutive packets quieter than the silence threshold
    int lastSeq_ = -1; // last video sequence number forwarded (streaming thread only)
    std::atomic<std::int64_t> lastKeyframeRequest_{0}; // monotonic µs
    std::atomic<VideoCodec> codec_{VideoCodec::Unknown}; // set by markReady
    static constexpr int kWanted = 1, kWantedSoon = 2;
    std::atomic<int> keyframeWanted_{0}; // 0, kWanted or kWantedSoon: a keyframe is owed
    int keyframeRetries_ = 0;            // requests re-sent for what is owed (streaming thread only)
    std::atomic<std::uint64_t> packetsIn_{0};
    std::atomic<std::uint64_t> keyframeRequests_{0};
    std::atomic<std::uint64_t> gaps_{0};
};

/// Copies only the fields a receiving transceiver needs from a publisher's stream caps.
/// Format parameters the stream caps lack (webrtcbin 1.22 leaves out H264's
/// profile-level-id) are taken from `offered`, what we offered the publisher for the
/// same payload type.
CapsPtr forwardingCaps(const GstCaps* streamCaps, const GstCaps* offered);

/// True for the GstForceKeyUnit event a receiver's PLI/FIR becomes.
bool isForceKeyUnit(GstEvent* event);

} // namespace manifold::media

// Producer.hpp — one published track in the router: the SFU fan-out point.
//
// What: every RTP packet of the track arrives in forward() (from its origin: today a
// pad probe after the publisher's webrtcbin jitterbuffer) and is handed to each active
// Consumer's sink on the same thread: no decoding, no queue, and the packet's memory is
// shared, not copied (each consumer gets its own buffer header). Mute drops packets here
// for everyone; resuming asks for a keyframe. Keyframe requests are throttled per track
// and sent to the ProducerOrigin; for VP8, VP9, H264 and AV1 a request is owed until a
// keyframe passes. The audio level extension (RFC 6464) drives `speaking`.
// Threads: `forward` and `requestKeyframe` run on GStreamer streaming threads; the
// consumer list is a copy-on-write snapshot, so no lock is held while pushing. `forward`
// runs each consumer's sink (for a webrtcbin: RTP session, RTX, SRTP, socket) on the
// origin's thread, one after the other. Everything else runs on the control thread.
// The clock (monotonic, any thread) is injected so tests can drive the throttle.
// Ownership: owned by the room's Router (shared_ptr, in its producer → consumers map);
// the origin endpoint that feeds it shares it. Consumers hold it weakly.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/Types.hpp"
#include "pipelines/gst/GstPtr.hpp"
#include "pipelines/router/Endpoints.hpp"
#include "pipelines/router/Keyframe.hpp"

namespace manifold::media {

class Consumer;

/// Process-wide media counters for /metrics. Updated on streaming threads (relaxed).
struct MediaCounters {
    std::atomic<std::uint64_t> packetsIn{0};        // RTP packets received from publishers
    std::atomic<std::uint64_t> packetsForwarded{0}; // copies handed to subscribers
    std::atomic<std::uint64_t> keyframeRequests{0}; // FIRs sent to publishers
    std::atomic<std::uint64_t> upstreamGaps{0};     // video packets lost for good before the fan-out
    std::atomic<std::uint64_t> jitterBufferDrops{0}; // packets a publisher's jitterbuffer dropped on arrival
    std::atomic<std::uint64_t> forwardRefused{0};    // copies a subscriber's input refused (flushing, unlinked)
};

/// A monotonic clock readable from any thread.
using MonotonicClock = std::function<std::chrono::steady_clock::time_point()>;

class Producer : public std::enable_shared_from_this<Producer> {
public:
    Producer(std::string id, MediaKind kind, std::string logTag, MediaCounters& counters, MonotonicClock clock);
    ~Producer();
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    const std::string& id() const { return id_; }
    MediaKind kind() const { return kind_; }

    // ---- control thread
    /// Media is flowing: caps of the stream (codec, payload type, ssrc, extensions).
    void markReady(CapsPtr caps);
    bool ready() const { return caps_ != nullptr; }
    const GstCaps* caps() const { return caps_.get(); }
    /// Runs `fn` now if ready, else once markReady is called (never after close()).
    void whenReady(std::function<void()> fn);
    void setMuted(bool muted);
    /// The track is unpublished: no more packets, no more waiters, no consumers.
    void close();
    bool closed() const { return closed_; }
    /// Called by the Router: the consumers packets are handed to.
    void addConsumer(std::shared_ptr<Consumer> consumer);
    void removeConsumer(const std::shared_ptr<Consumer>& consumer);
    std::size_t consumerCount() const;

    // ---- streaming threads
    /// Where keyframe requests go. Set when the stream arrives; any thread.
    void setOrigin(std::shared_ptr<ProducerOrigin> origin);
    void forward(GstBuffer* buffer);
    void forwardList(GstBufferList* list);
    /// Throttled to one per 500 ms per track; `soon` (a receiver just became able to
    /// decode, or a packet was lost upstream) allows one every 320 ms, so several new
    /// receivers share one keyframe. For VP8, VP9, H264 and AV1 a request is owed until a
    /// keyframe passes: held back by the throttle or ignored by the publisher, it is sent
    /// again (up to 10 times) from forward().
    void requestKeyframe(bool soon = false);

    /// Called (on a streaming thread) when the audio level says the publisher started or
    /// stopped speaking. Set once, on the control thread, before media flows.
    void setSpeakingCallback(std::function<void(bool)> fn) { onSpeaking_ = std::move(fn); }

    std::uint64_t packetsIn() const { return packetsIn_.load(std::memory_order_relaxed); }
    std::uint64_t keyframeRequests() const { return keyframeRequests_.load(std::memory_order_relaxed); }
    std::uint64_t gaps() const { return gaps_.load(std::memory_order_relaxed); }

private:
    using Consumers = std::vector<std::shared_ptr<Consumer>>;
    std::shared_ptr<const Consumers> snapshot() const;
    void trackAudioLevel(GstBuffer* buffer);
    /// Video, per packet: a gap in sequence numbers after the jitterbuffer is a packet
    /// lost for good upstream (subscribers cannot get it retransmitted: ask for a
    /// keyframe at once); a keyframe pays what is owed, else the request is sent again.
    void inspectVideo(GstBuffer* buffer);
    void sendKeyframeRequest(bool soon, bool retry);
    std::int64_t nowUs() const;

    const std::string id_;
    const MediaKind kind_;
    const std::string logTag_;
    MediaCounters& counters_; // Owned by the engine, which outlives every producer.
    const MonotonicClock clock_;
    CapsPtr caps_;                                  // control thread
    std::vector<std::function<void()>> waiters_;    // control thread
    bool closed_ = false;                           // control thread

    mutable std::mutex mutex_; // guards the two pointers below, never held while pushing
    std::shared_ptr<const Consumers> consumers_ = std::make_shared<const Consumers>();
    std::shared_ptr<ProducerOrigin> origin_;

    std::atomic<bool> muted_{false};
    std::atomic<int> audioLevelId_{0}; // RFC 6464 extension id in the publisher's packets; 0 = none
    std::function<void(bool)> onSpeaking_;
    // Speaking detection state: touched only by the one streaming thread that forwards.
    bool speaking_ = false;
    int loudRun_ = 0;  // consecutive packets louder than the speaking threshold
    int quietRun_ = 0; // consecutive packets quieter than the silence threshold
    int lastSeq_ = -1; // last video sequence number forwarded (streaming thread only)
    std::atomic<std::int64_t> lastKeyframeRequest_{0}; // monotonic µs; 0 = never
    std::atomic<VideoCodec> codec_{VideoCodec::Unknown}; // set by markReady
    static constexpr int kWanted = 1, kWantedSoon = 2;
    std::atomic<int> keyframeWanted_{0}; // 0, kWanted or kWantedSoon: a keyframe is owed
    int keyframeRetries_ = 0;            // requests re-sent for what is owed (streaming thread only)
    std::atomic<std::uint64_t> packetsIn_{0};
    std::atomic<std::uint64_t> keyframeRequests_{0};
    std::atomic<std::uint64_t> gaps_{0};
};

} // namespace manifold::media

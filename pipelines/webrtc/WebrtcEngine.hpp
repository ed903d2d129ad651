// WebrtcEngine.hpp — the media plane's MediaEngine: makes one PeerSession per participant.
//
// What: holds the media configuration (ICE addresses, UDP port range, receive jitter
// buffer latency, answer timeout), the codecs offered to publishers, one Router per room
// with media (an index of weak pointers: the endpoints of a room share it), warms the DTLS
// certificate at start so the first caller does not pay for it, and stops finished
// pipelines on a teardown thread so the control thread never blocks on GStreamer
// state changes.
// Thread: control thread, except the teardown thread it owns.
// Ownership: owned by the App; outlives every PeerSession (the App destroys sessions
// first). Borrows the Scheduler.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/MediaEngine.hpp"
#include "core/Scheduler.hpp"
#include "pipelines/gst/GstPtr.hpp"
#include "pipelines/router/Producer.hpp"

namespace manifold::media {

class Router;

struct MediaConfig {
    std::vector<std::string> iceAddresses; // empty = let libnice use every interface
    int udpPortMin = 0;                    // 0/0 = any
    int udpPortMax = 0;
    int jitterLatencyMs = 100;             // receive jitterbuffer of publishers' streams
    int rtcpIntervalMs = 200;              // regular RTCP interval (bounds the wait for a keyframe request)
    std::chrono::milliseconds answerTimeout{10000};
};

class WebrtcEngine final : public MediaEngine {
public:
    /// Throws std::runtime_error naming what is missing (a GStreamer plugin).
    WebrtcEngine(MediaConfig config, Scheduler& scheduler);
    ~WebrtcEngine() override;
    WebrtcEngine(const WebrtcEngine&) = delete;
    WebrtcEngine& operator=(const WebrtcEngine&) = delete;

    std::unique_ptr<MediaSession> createSession(const std::string& room, const std::string& participantId,
                                                MediaSession::Listener& listener) override;

    /// The router of `room`, created for its first endpoint; lives while endpoints hold it.
    std::shared_ptr<Router> router(const std::string& room);
    /// Rooms with a live router (for tests and metrics).
    std::size_t routers() const;

    const MediaConfig& config() const { return config_; }
    Scheduler& scheduler() { return scheduler_; }
    /// Codecs offered to a publisher of `kind`, most preferred first; `preferred`
    /// ("VP9", ...) moves that codec to the front.
    CapsPtr publishCaps(MediaKind kind, const std::string& preferred = {}) const;
    /// Whether `payloadType` is one of the video codecs offered to publishers (the
    /// streams that are repaired with NACK/RTX). Any thread: the codec list is immutable.
    bool isVideoPayload(int payloadType) const;
    /// Stops and releases a participant's pipeline on the teardown thread, once
    /// `lastOperation` (the promise of the last operation queued on its webrtcbin, if
    /// any) is answered.
    void retire(GstPtr<GstElement> pipeline, PromisePtr lastOperation);
    /// Pipelines handed to retire() and not yet stopped (for tests and metrics).
    std::size_t retiring() const { return retiring_.load(); }
    std::size_t sessions() const { return sessions_.load(); }
    MediaCounters& counters() { return counters_; }
    const MediaCounters& counters() const { return counters_; }
    void sessionGone() { sessions_--; }

private:
    struct Retired {
        GstPtr<GstElement> pipeline;
        PromisePtr lastOperation;
    };
    static void teardown(gpointer retired, gpointer self) noexcept;

    MediaConfig config_;
    Scheduler& scheduler_; // Passed by argument.
    CapsPtr audioCaps_;
    CapsPtr videoCaps_;
    GThreadPool* teardownPool_ = nullptr; // Allocated by this; joined in the destructor.
    std::atomic<std::size_t> retiring_{0};
    std::atomic<std::size_t> sessions_{0};
    MediaCounters counters_;
    std::map<std::string, std::weak_ptr<Router>> routers_; // control thread
};

} // namespace manifold::media

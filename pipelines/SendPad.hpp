// SendPad.hpp — where one subscription enters a subscriber's webrtcbin.
//
// What: a source pad that belongs to no element, linked straight to the webrtcbin sink
// pad of a send slot. The publisher's streaming thread pushes each packet copy through
// it synchronously (TrackSource::forward): no queue, no thread per forwarded stream, one
// wakeup per packet per publisher instead of one per subscriber. The pad carries the
// stream's sticky events (stream-start, caps, and one segment event object shared by
// every SendPad), answers the queries webrtcbin asks upstream (caps, latency), and drops
// webrtcbin's per-m-line TOS event at the sink pad (ARCHITECTURE.md, "Interleaved
// streams": both would otherwise go down the send chain on every stream switch).
// Threads: created, linked and given caps on the control thread; push() runs on the
// publisher's streaming thread. After a push is refused as FLUSHING (webrtcbin briefly
// deactivates an input it re-links, which drops the pad's sticky events), the next push
// sends the sticky events again first.
// Ownership: shared by the PeerSession slot that creates it and the Outlet a TrackSource
// pushes through; a push through a snapshot may outlive the slot by one packet.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>

#include "pipelines/GstPtr.hpp"

namespace manifold::media {

class SendPad {
public:
    /// `pipeline` is the subscriber's, already PLAYING: its clock and base time stamp the
    /// packets with the subscriber's running time.
    SendPad(const std::string& name, GstElement* pipeline);
    ~SendPad();
    SendPad(const SendPad&) = delete;
    SendPad& operator=(const SendPad&) = delete;

    GstPad* pad() const { return pad_.get(); }

    // ---- control thread
    /// The stream's caps; sent at once if linked. False if the peer refused them now
    /// (flushing): call sendCaps() again later.
    bool setCaps(const GstCaps* caps);
    bool sendCaps();
    /// Links to webrtcbin's sink pad and sends stream-start, caps and segment.
    bool link(GstPad* sink);
    bool linked() const { return linked_; }

    // ---- the publisher's streaming thread
    /// Stamps `buffer` (taken) with the subscriber's running time and pushes it.
    GstFlowReturn push(GstBuffer* buffer);

private:
    bool sendStickyEvents();
    /// The TIME segment every SendPad sends: the same event object (never freed).
    static GstEvent* sharedSegment();
    static gboolean onQuery(GstPad* pad, GstObject* parent, GstQuery* query) noexcept;
    static GstPadProbeReturn dropTosEvent(GstPad* pad, GstPadProbeInfo* info, gpointer) noexcept;

    GstPtr<GstPad> pad_;
    GstPtr<GstClock> clock_;
    GstClockTime baseTime_ = 0;
    const std::string streamId_;
    bool linked_ = false;                    // control thread
    std::mutex capsMutex_;                   // guards caps_ (read by a streaming thread resending events)
    CapsPtr caps_;
    std::atomic<bool> resendEvents_{false};  // a push was refused as FLUSHING
};

} // namespace manifold::media

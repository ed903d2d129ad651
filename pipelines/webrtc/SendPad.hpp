// SendPad.hpp — where one subscription enters a subscriber's webrtcbin.
//
// What: a source pad that belongs to no element, linked straight to the webrtcbin sink
// pad of a send slot. The publisher's streaming thread pushes each packet copy through
// it synchronously (Producer::forward): no queue, no thread per forwarded stream, one
// wakeup per packet per publisher instead of one per subscriber. The pad carries the
// stream's sticky events (stream-start, caps, and one segment event object shared by
// every SendPad: it would otherwise go down the send chain on every stream switch, see
// ARCHITECTURE.md, "Interleaved streams") and answers the queries webrtcbin asks
// upstream (caps, latency). It is the ConsumerSink of a webrtcbin send slot.
// Threads: created, linked and given caps on the control thread; push() runs on the
// publisher's streaming thread. After a push is refused as FLUSHING (webrtcbin briefly
// deactivates an input it re-links, which drops the pad's sticky events), the next push
// sends the sticky events again first.
// Ownership: shared by the Sender slot that creates it and the Consumer a Producer pushes
// through; a push through a snapshot may outlive the slot by one packet.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>

#include "pipelines/gst/GstPtr.hpp"
#include "pipelines/router/Endpoints.hpp"

namespace manifold::media {

class SendPad final : public ConsumerSink {
public:
    /// `pipeline` is the subscriber's, already PLAYING: its clock and base time stamp the
    /// packets with the subscriber's running time.
    SendPad(const std::string& name, GstElement* pipeline);
    ~SendPad() override;
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
    GstFlowReturn push(GstBuffer* buffer) override;

private:
    bool sendStickyEvents();
    /// The TIME segment every SendPad sends: the same event object (never freed).
    static GstEvent* sharedSegment();
    static gboolean onQuery(GstPad* pad, GstObject* parent, GstQuery* query) noexcept;

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

// Endpoints.hpp — the two ends of the router: where a producer's packets come from and
// where a consumer's packets go.
//
// What: `ProducerOrigin` is what a Producer asks for a keyframe (today: a webrtcbin
// receive transceiver, which turns the request into a FIR to the browser; next: an RTSP
// ingest, a WHIP endpoint). `ConsumerSink` is what a Consumer pushes packets into
// (today: a SendPad into a webrtcbin send slot; next: a recorder branch, a WHEP
// endpoint). The router, producers and consumers know only these interfaces, so a new
// kind of endpoint is a new implementation and nothing else changes.
// Thread: both are called on GStreamer streaming threads (the origin from whichever
// thread asks for a keyframe, the sink from the producer's forwarding thread), so
// implementations must be thread-safe and must not block.
// Ownership: shared (shared_ptr): the endpoint that creates one, and the Producer or
// Consumer that uses it; a push through a snapshot may outlive the endpoint by a packet.
#pragma once

#include <gst/gst.h>

namespace manifold::media {

class ProducerOrigin {
public:
    virtual ~ProducerOrigin() = default;
    /// Ask the source of the stream for a keyframe. `count` is fresh for each request
    /// (a FIR's sequence number advances only when it changes).
    virtual void requestKeyframe(int count) = 0;
};

class ConsumerSink {
public:
    virtual ~ConsumerSink() = default;
    /// Takes `buffer` (one RTP packet; its memory is shared with other consumers and
    /// must not be written) and sends it on. FLUSHING and other non-OK returns drop it.
    virtual GstFlowReturn push(GstBuffer* buffer) = 0;
};

} // namespace manifold::media

// MediaTestSupport.hpp — in-process stand-ins for the router's endpoints.
//
// What: a ProducerOrigin that counts keyframe requests, a ConsumerSink that counts (and
// optionally keeps) the packets pushed into it, a manual monotonic clock, and RTP packet
// builders. With them a Router, its Producers and Consumers run in one process with no
// webrtcbin and no network, and time moves only when the test says so.
// Thread: the test's thread. Ownership: the test owns them (shared_ptr where the router
// shares them).
#pragma once

#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "pipelines/gst/GstPtr.hpp"
#include "pipelines/router/Endpoints.hpp"
#include "pipelines/router/Producer.hpp"

namespace manifold::media::test {

struct CountingOrigin final : ProducerOrigin {
    void requestKeyframe(int count) override {
        ++requests;
        lastCount = count;
    }
    std::atomic<int> requests{0};
    int lastCount = -1;
};

struct CountingSink final : ConsumerSink {
    GstFlowReturn push(GstBuffer* buffer) override {
        ++packets;
        GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
        if (gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
            seqs.push_back(gst_rtp_buffer_get_seq(&rtp));
            gst_rtp_buffer_unmap(&rtp);
        }
        gst_buffer_unref(buffer);
        return result;
    }
    std::atomic<int> packets{0};
    std::vector<int> seqs;
    GstFlowReturn result = GST_FLOW_OK;
};

struct ManualClock {
    std::chrono::steady_clock::time_point now{std::chrono::seconds(100)};
    void advance(int ms) { now += std::chrono::milliseconds(ms); }
    MonotonicClock clock() {
        return [this] { return now; };
    }
};

inline CapsPtr rtpCaps(const char* media, const char* codec, int payload) {
    return CapsPtr(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, media, "encoding-name",
                                       G_TYPE_STRING, codec, "payload", G_TYPE_INT, payload, nullptr));
}

/// A VP8 packet with sequence number `seq`: the start of a keyframe or of an inter frame.
inline GstBuffer* vp8Packet(guint16 seq, bool keyframe) {
    GstBuffer* b = gst_rtp_buffer_new_allocate(2, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp);
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_set_payload_type(&rtp, 96);
    auto* p = static_cast<std::uint8_t*>(gst_rtp_buffer_get_payload(&rtp));
    p[0] = 0x10;
    p[1] = keyframe ? 0x00 : 0x01;
    gst_rtp_buffer_unmap(&rtp);
    return b;
}

/// An Opus packet with sequence number `seq`.
inline GstBuffer* opusPacket(guint16 seq) {
    GstBuffer* b = gst_rtp_buffer_new_allocate(3, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp);
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_set_payload_type(&rtp, 111);
    gst_rtp_buffer_unmap(&rtp);
    return b;
}

} // namespace manifold::media::test

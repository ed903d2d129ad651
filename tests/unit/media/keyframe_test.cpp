// startsKeyframe: which RTP payloads begin a keyframe, per codec; and the TrackSource's
// owed keyframe (a request sent again until a keyframe passes).
#include <gst/rtp/gstrtpbuffer.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "pipelines/Keyframe.hpp"
#include "pipelines/TrackSource.hpp"

using namespace manifold::media;
using manifold::MediaKind;

namespace {

bool key(VideoCodec codec, std::vector<std::uint8_t> p) { return startsKeyframe(codec, p.data(), p.size()); }

} // namespace

TEST(Keyframe, CodecNames) {
    EXPECT_EQ(videoCodecFromName("VP8"), VideoCodec::VP8);
    EXPECT_EQ(videoCodecFromName("vp9"), VideoCodec::VP9);
    EXPECT_EQ(videoCodecFromName("H264"), VideoCodec::H264);
    EXPECT_EQ(videoCodecFromName("AV1"), VideoCodec::AV1);
    EXPECT_EQ(videoCodecFromName("H265"), VideoCodec::Unknown);
    EXPECT_EQ(videoCodecFromName(nullptr), VideoCodec::Unknown);
}

TEST(Keyframe, Vp8) {
    // No extension: S=1, PID=0, then the payload header with P=0 (key) or 1 (inter).
    EXPECT_TRUE(key(VideoCodec::VP8, {0x10, 0x00, 0x9d, 0x01}));
    EXPECT_FALSE(key(VideoCodec::VP8, {0x10, 0x01, 0x9d, 0x01}));
    EXPECT_FALSE(key(VideoCodec::VP8, {0x00, 0x00}));        // not the start of the frame
    EXPECT_FALSE(key(VideoCodec::VP8, {0x11, 0x00}));        // partition 1
    // What libwebrtc sends: X=1; I (15-bit picture id), L, T all present.
    EXPECT_TRUE(key(VideoCodec::VP8, {0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x00}));
    EXPECT_FALSE(key(VideoCodec::VP8, {0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x01}));
    // 7-bit picture id only.
    EXPECT_TRUE(key(VideoCodec::VP8, {0x90, 0x80, 0x12, 0x00}));
    // Truncated anywhere: never a keyframe, never a read past the end.
    const std::vector<std::uint8_t> full{0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0x00};
    for (std::size_t n = 0; n < full.size(); ++n)
        EXPECT_FALSE(startsKeyframe(VideoCodec::VP8, full.data(), n)) << n;
}

TEST(Keyframe, Vp9) {
    EXPECT_TRUE(key(VideoCodec::VP9, {0x08}));                // B=1, P=0, no layers
    EXPECT_FALSE(key(VideoCodec::VP9, {0x48}));               // inter-predicted
    EXPECT_FALSE(key(VideoCodec::VP9, {0x04}));               // end of frame only
    EXPECT_TRUE(key(VideoCodec::VP9, {0xa8, 0x81, 0x02, 0x00})); // I (15-bit), L, SID 0
    EXPECT_FALSE(key(VideoCodec::VP9, {0xa8, 0x81, 0x02, 0x02})); // SID 1
    EXPECT_FALSE(key(VideoCodec::VP9, {0xa8, 0x81}));         // truncated
}

TEST(Keyframe, H264) {
    EXPECT_TRUE(key(VideoCodec::H264, {0x65, 0x88}));  // IDR slice
    EXPECT_TRUE(key(VideoCodec::H264, {0x67, 0x42}));  // SPS
    EXPECT_FALSE(key(VideoCodec::H264, {0x41, 0x9a})); // non-IDR slice
    // STAP-A with SPS: size 2, NAL 0x67 0x42.
    EXPECT_TRUE(key(VideoCodec::H264, {0x78, 0x00, 0x02, 0x67, 0x42}));
    EXPECT_FALSE(key(VideoCodec::H264, {0x78, 0x00, 0x02, 0x41, 0x9a}));
    EXPECT_FALSE(key(VideoCodec::H264, {0x78, 0x00, 0x09, 0x67})); // size past the end
    // FU-A: start bit with IDR; a middle fragment of one does not start it.
    EXPECT_TRUE(key(VideoCodec::H264, {0x7c, 0x85}));
    EXPECT_FALSE(key(VideoCodec::H264, {0x7c, 0x05}));
    EXPECT_FALSE(key(VideoCodec::H264, {0x7c}));
}

TEST(Keyframe, Av1AndUnknown) {
    EXPECT_TRUE(key(VideoCodec::AV1, {0x18}));   // N=1 (new coded video sequence)
    EXPECT_FALSE(key(VideoCodec::AV1, {0x10}));
    EXPECT_FALSE(key(VideoCodec::AV1, {0x88}));  // Z=1: continues an OBU
    EXPECT_FALSE(key(VideoCodec::Unknown, {0x10, 0x00}));
    EXPECT_FALSE(startsKeyframe(VideoCodec::VP8, nullptr, 4));
}

namespace {

class OwedKeyframe : public ::testing::Test {
protected:
    static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

    void SetUp() override {
        pad_ = gst_pad_new("src", GST_PAD_SRC);
        gst_object_ref_sink(pad_);
        g_object_set_data(G_OBJECT(pad_), "count", &requests_);
        gst_pad_set_event_function(pad_, [](GstPad* pad, GstObject*, GstEvent* event) noexcept -> gboolean {
            if (gst_event_has_name(event, "GstForceKeyUnit"))
                static_cast<std::atomic<int>*>(g_object_get_data(G_OBJECT(pad), "count"))->fetch_add(1);
            gst_event_unref(event);
            return TRUE;
        });
        gst_pad_set_active(pad_, TRUE);
    }
    void TearDown() override {
        gst_pad_set_active(pad_, FALSE);
        gst_object_unref(pad_);
    }

    std::shared_ptr<TrackSource> source(const char* codec) {
        auto s = std::make_shared<TrackSource>("t", MediaKind::Video, "[test] ", counters_);
        s->markReady(CapsPtr(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video",
                                                 "encoding-name", G_TYPE_STRING, codec, nullptr)));
        s->setUpstreamPad(pad_);
        return s;
    }

    // A VP8 packet: the start of a keyframe or of an inter frame.
    void send(TrackSource& s, bool keyframe) {
        GstBuffer* b = gst_rtp_buffer_new_allocate(2, 0, 0);
        GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
        gst_rtp_buffer_map(b, GST_MAP_WRITE, &rtp);
        gst_rtp_buffer_set_seq(&rtp, seq_++);
        auto* p = static_cast<std::uint8_t*>(gst_rtp_buffer_get_payload(&rtp));
        p[0] = 0x10;
        p[1] = keyframe ? 0x00 : 0x01;
        gst_rtp_buffer_unmap(&rtp);
        s.forward(b);
        gst_buffer_unref(b);
    }

    static void wait(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
    // Past TrackSource's 320 ms "soon" throttle, with a margin.
    static void waitPastThrottle() { wait(340); }

    GstPad* pad_ = nullptr;
    std::atomic<int> requests_{0};
    MediaCounters counters_;
    guint16 seq_ = 100;
};

} // namespace

TEST_F(OwedKeyframe, SentAgainUntilAKeyframePasses) {
    auto s = source("VP8");
    s->requestKeyframe(true);
    EXPECT_EQ(requests_, 1);
    send(*s, false);
    EXPECT_EQ(requests_, 1) << "within the throttle: held back";
    waitPastThrottle();
    send(*s, false);
    EXPECT_EQ(requests_, 2) << "no keyframe came: asked again";
    send(*s, true);
    waitPastThrottle();
    send(*s, false);
    EXPECT_EQ(requests_, 2) << "paid by the keyframe";
}

TEST_F(OwedKeyframe, AThrottledRequestIsNotDropped) {
    auto s = source("VP8");
    s->requestKeyframe(true);
    send(*s, true);             // the first request's keyframe
    s->requestKeyframe(true);   // a second receiver, 0 ms later: throttled
    EXPECT_EQ(requests_, 1);
    waitPastThrottle();
    send(*s, false);
    EXPECT_EQ(requests_, 2) << "the throttled request went out once allowed";
}

TEST_F(OwedKeyframe, UnknownCodecsAreNotRetried) {
    auto s = source("H265");
    s->requestKeyframe(true);
    EXPECT_EQ(requests_, 1);
    waitPastThrottle();
    send(*s, false);
    EXPECT_EQ(requests_, 1);
}

TEST_F(OwedKeyframe, GivesUpAfterTenRetries) {
    auto s = source("VP8");
    s->requestKeyframe(true);
    for (int i = 0; i < 12; ++i) {
        waitPastThrottle();
        send(*s, false);
    }
    EXPECT_EQ(requests_, 11) << "the request and 10 retries";
}

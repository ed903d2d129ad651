// startsKeyframe: which RTP payloads begin a keyframe, per codec. (What the producer does
// with it, owed keyframe requests, is tested in producer_test.cpp.)
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pipelines/router/Keyframe.hpp"

using namespace manifold::media;

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

// forwardingCaps: which fields of a publisher's stream caps a subscriber's transceiver gets.
#include <gtest/gtest.h>

#include "pipelines/webrtc/ForwardingCaps.hpp"

using namespace manifold::media;

namespace {

std::string text(const CapsPtr& caps) {
    gchar* s = gst_caps_to_string(caps.get());
    std::string out = s;
    g_free(s);
    return out;
}

class ForwardingCaps : public ::testing::Test {
protected:
    static void SetUpTestSuite() { gst_init(nullptr, nullptr); }
};

} // namespace

TEST_F(ForwardingCaps, KeepsCodecFieldsSsrcAndExtmapDropsSessionAttributes) {
    CapsPtr stream(gst_caps_from_string(
        "application/x-rtp,media=audio,payload=111,clock-rate=48000,encoding-name=OPUS,ssrc=(uint)1234,"
        "extmap-1=(string)urn:ietf:params:rtp-hdrext:ssrc-audio-level,a-mid=(string)audio1,"
        "rtcp-fb-transport-cc=(boolean)true,ssrc-1234-cname=(string)x,timestamp-offset=(uint)5"));
    const std::string out = text(forwardingCaps(stream.get(), nullptr));
    for (const char* kept : {"payload=(int)111", "encoding-name=(string)OPUS", "ssrc=(uint)1234", "extmap-1="})
        EXPECT_NE(out.find(kept), std::string::npos) << kept << " in " << out;
    for (const char* dropped : {"a-mid", "rtcp-fb-", "ssrc-1234-cname", "timestamp-offset"})
        EXPECT_EQ(out.find(dropped), std::string::npos) << dropped << " in " << out;
}

TEST_F(ForwardingCaps, MissingFormatParametersComeFromTheOffer) {
    CapsPtr stream(gst_caps_from_string(
        "application/x-rtp,media=video,payload=102,clock-rate=90000,encoding-name=H264,packetization-mode=(string)1"));
    CapsPtr offered(gst_caps_from_string(
        "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000;"
        "application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,packetization-mode=(string)1,"
        "profile-level-id=(string)42e01f"));
    const std::string out = text(forwardingCaps(stream.get(), offered.get()));
    EXPECT_NE(out.find("profile-level-id=(string)42e01f"), std::string::npos) << out;
    EXPECT_EQ(out.find("VP8"), std::string::npos) << "only the same payload type contributes: " << out;
}

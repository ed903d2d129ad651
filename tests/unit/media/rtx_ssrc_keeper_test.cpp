// RtxSsrcKeeper::keep on real SDP text: the RTX SSRC first announced for a stream stays
// in every later offer (a=ssrc-group:FID and the a=ssrc lines of the RTX stream), new
// streams keep what webrtcbin chose, and forgotten streams may come back with a new one.
#include <gtest/gtest.h>

#include <string>

#include "pipelines/webrtc/Workarounds.hpp"

using manifold::media::RtxSsrcKeeper;

namespace {

std::string video(unsigned primary, unsigned rtx) {
    const std::string p = std::to_string(primary), r = std::to_string(rtx);
    return "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:video0\r\na=sendonly\r\n"
           "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
           "a=ssrc-group:FID " + p + " " + r + "\r\n"
           "a=ssrc:" + p + " msid:user1 webrtctransceiver2\r\na=ssrc:" + p + " cname:user1@host\r\n"
           "a=ssrc:" + r + " msid:user1 webrtctransceiver2\r\na=ssrc:" + r + " cname:user1@host\r\n";
}

const std::string kAudio = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio1\r\na=sendonly\r\n"
                           "a=rtpmap:111 OPUS/48000/2\r\na=ssrc:777 cname:user1@host\r\n";

std::string kept(RtxSsrcKeeper& keeper, const std::string& media) {
    const std::string text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" + media;
    GstSDPMessage* message = nullptr;
    gst_sdp_message_new_from_text(text.c_str(), &message);
    keeper.keep(message);
    gchar* out = gst_sdp_message_as_text(message);
    std::string result = out;
    g_free(out);
    gst_sdp_message_free(message);
    return result.substr(result.find("m="));
}

} // namespace

TEST(RtxSsrcKeeper, FirstOfferIsUnchanged) {
    RtxSsrcKeeper keeper;
    EXPECT_EQ(kept(keeper, video(1000, 2000)), video(1000, 2000));
}

TEST(RtxSsrcKeeper, LaterOffersKeepTheFirstRtxSsrc) {
    RtxSsrcKeeper keeper;
    kept(keeper, video(1000, 2000));
    // webrtcbin 1.22 picks a new random RTX SSRC in every offer; the audio m-line is new.
    EXPECT_EQ(kept(keeper, video(1000, 3000) + kAudio), video(1000, 2000) + kAudio);
    EXPECT_EQ(kept(keeper, video(1000, 4000) + kAudio), video(1000, 2000) + kAudio);
}

TEST(RtxSsrcKeeper, ANewStreamOnTheSameMlineGetsItsOwn) {
    RtxSsrcKeeper keeper;
    kept(keeper, video(1000, 2000));
    // A recycled slot carries another publisher's SSRC: its RTX SSRC is new, and kept from then on.
    EXPECT_EQ(kept(keeper, video(5000, 6000)), video(5000, 6000));
    EXPECT_EQ(kept(keeper, video(5000, 7000)), video(5000, 6000));
    // The first stream was not in the last offers: it is forgotten, so its return is new.
    EXPECT_EQ(kept(keeper, video(1000, 8000)), video(1000, 8000));
}

TEST(RtxSsrcKeeper, OnlyTheRtxStreamsSsrcLinesChange) {
    RtxSsrcKeeper keeper;
    kept(keeper, video(1000, 2000));
    // An SSRC line that merely starts with the same digits is left alone.
    const std::string extra = "a=ssrc:30001 cname:other\r\n";
    EXPECT_EQ(kept(keeper, video(1000, 3000) + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:video2\r\n" + extra),
              video(1000, 2000) + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:video2\r\n" + extra);
}

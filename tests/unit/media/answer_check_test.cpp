// The codec-mismatch check on real SDP text: kept, rejected and re-typed m-lines.
#include <gtest/gtest.h>

#include "pipelines/AnswerCheck.hpp"

using manifold::media::refusedSendMids;

namespace {

std::vector<std::string> refused(const std::string& sdp, const std::map<std::string, int>& offered) {
    GstSDPMessage* message = nullptr;
    gst_sdp_message_new_from_text(sdp.c_str(), &message);
    auto out = refusedSendMids(message, offered);
    gst_sdp_message_free(message);
    return out;
}

const char* kHeader = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE video0 video1 audio2\r\n";

} // namespace

TEST(AnswerCheck, KeptCodecsAreFine) {
    const std::string sdp = std::string(kHeader) +
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:video0\r\na=recvonly\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:video1\r\na=recvonly\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio2\r\na=recvonly\r\n";
    EXPECT_TRUE(refused(sdp, {{"video0", 96}, {"video1", 102}, {"audio2", 111}}).empty());
}

TEST(AnswerCheck, AnswerWithoutTheOfferedPayloadIsAMismatch) {
    // The client cannot receive H264 (102): it answers with another payload type.
    const std::string sdp = std::string(kHeader) +
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:video0\r\na=recvonly\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:video1\r\na=recvonly\r\n";
    EXPECT_EQ(refused(sdp, {{"video0", 96}, {"video1", 102}}), std::vector<std::string>{"video1"});
}

TEST(AnswerCheck, RejectedMlineIsAMismatchButBundleOnlyIsNot) {
    const std::string sdp = std::string(kHeader) +
        "m=video 0 UDP/TLS/RTP/SAVPF 102\r\na=mid:video0\r\na=inactive\r\n"
        "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:video1\r\na=bundle-only\r\na=recvonly\r\n";
    EXPECT_EQ(refused(sdp, {{"video0", 102}, {"video1", 96}}), std::vector<std::string>{"video0"});
}

TEST(AnswerCheck, MlinesWeDoNotSendOnAreIgnored) {
    const std::string sdp = std::string(kHeader) + "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=mid:audio2\r\n";
    EXPECT_TRUE(refused(sdp, {{"video0", 96}}).empty());
}

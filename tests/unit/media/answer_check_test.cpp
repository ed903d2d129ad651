// The codec-mismatch check on real SDP text: kept, rejected and re-typed m-lines.
#include <gtest/gtest.h>

#include "pipelines/webrtc/AnswerCheck.hpp"

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

// ---- checkAnswer: what issue 10 sent as answers (each got `ok`, then media-failed).

namespace {

using manifold::media::checkAnswer;
using manifold::media::checkCandidate;

const char* kOfferHeader = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n";
const char* kTransport = "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
                         "a=fingerprint:sha-256 AB:CD:EF\r\n";

std::string offerSdp() {
    return std::string(kOfferHeader) + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n" + kTransport +
           "a=setup:actpass\r\na=sendonly\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n" + kTransport +
           "a=setup:actpass\r\na=recvonly\r\n";
}

std::string answerSdp(const std::string& setup = "active", const std::string& transport = kTransport) {
    return std::string(kOfferHeader) + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n" + transport + "a=setup:" +
           setup + "\r\na=recvonly\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n" + transport + "a=setup:" + setup +
           "\r\na=sendonly\r\n";
}

std::string check(const std::string& answer) {
    GstSDPMessage* offer = nullptr;
    GstSDPMessage* parsed = nullptr;
    gst_sdp_message_new_from_text(offerSdp().c_str(), &offer);
    gst_sdp_message_new_from_text(answer.c_str(), &parsed);
    std::string out = checkAnswer(offer, parsed);
    gst_sdp_message_free(offer);
    gst_sdp_message_free(parsed);
    return out;
}

} // namespace

TEST(CheckAnswer, AProperAnswerPasses) { EXPECT_EQ(check(answerSdp()), ""); }

TEST(CheckAnswer, TextThatIsNotSdpHasNoMediaSections) {
    EXPECT_NE(check("hello, this is not SDP").find("no media sections"), std::string::npos);
}

TEST(CheckAnswer, TheOfferSentBackHasTheWrongDtlsRole) {
    EXPECT_NE(check(offerSdp()).find("DTLS role"), std::string::npos);
}

TEST(CheckAnswer, MoreMlinesThanOfferedAreRefused) {
    std::string many = answerSdp();
    for (int i = 0; i < 1500; ++i) many += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:x" + std::to_string(i) + "\r\n";
    EXPECT_NE(check(many).find("1502 m-lines, the offer 2"), std::string::npos) << check(many);
}

TEST(CheckAnswer, EmptiedCredentialsAndFingerprintAreRefused) {
    EXPECT_NE(check(answerSdp("active", "a=ice-ufrag:\r\na=ice-pwd:\r\na=fingerprint:sha-256 AB\r\n")).find("ICE"),
              std::string::npos);
    EXPECT_NE(check(answerSdp("active", "a=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:\r\n")).find("fingerprint"),
              std::string::npos);
}

TEST(CheckAnswer, MidsMustMatchTheOffer) {
    std::string swapped = answerSdp();
    swapped.replace(swapped.find("a=mid:0"), 7, "a=mid:9");
    EXPECT_NE(check(swapped).find("mid"), std::string::npos);
}

TEST(CheckAnswer, SessionLevelTransportAttributesCount) {
    const std::string answer = std::string(kOfferHeader) + kTransport + "a=setup:passive\r\n" +
                               "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=recvonly\r\n" +
                               "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\n";
    EXPECT_EQ(check(answer), "");
}

TEST(CheckCandidate, WellFormedCandidatesPass) {
    EXPECT_EQ(checkCandidate(0, "candidate:1 1 UDP 2122252543 192.0.2.10 54321 typ host", 2), "");
    EXPECT_EQ(checkCandidate(1, "candidate:842163049 1 udp 1677729535 198.51.100.7 3478 typ srflx raddr 0.0.0.0 rport 0 "
                                "generation 0 ufrag abcd network-cost 999", 2), "");
    EXPECT_EQ(checkCandidate(0, "candidate:2 1 TCP 1518280447 abcd-1234.local 9 typ host tcptype active", 1), "");
}

TEST(CheckCandidate, WhatIssue10SentIsRefused) {
    EXPECT_NE(checkCandidate(0, "garbage text", 2), "");
    EXPECT_NE(checkCandidate(7, "candidate:1 1 UDP 1 127.0.0.1 5000 typ host", 2).find("names no m-line"),
              std::string::npos);
    EXPECT_NE(checkCandidate(-1, "candidate:1 1 UDP 1 127.0.0.1 5000 typ host", 2), "");
    EXPECT_NE(checkCandidate(0, "candidate:1 1 UDP 1 127.0.0.1 999999 typ host", 2).find("port"), std::string::npos);
    EXPECT_NE(checkCandidate(0, "candidate:1 1 SCTP 1 127.0.0.1 5000 typ host", 2), "");
    EXPECT_NE(checkCandidate(0, "candidate:1 1 UDP 1 127.0.0.1 5000 typ nonsense", 2), "");
    EXPECT_NE(checkCandidate(0, "candidate:1 x UDP 1 127.0.0.1 5000 typ host", 2), "");
}

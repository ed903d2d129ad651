// Producer: fan-out to active consumers only, mute, upstream gaps, and owed keyframe
// requests (sent again until a keyframe passes) on a manual clock: no sleeping.
#include <gtest/gtest.h>

#include "MediaTestSupport.hpp"
#include "pipelines/router/Consumer.hpp"
#include "pipelines/router/Producer.hpp"

using namespace manifold::media;
using namespace manifold::media::test;
using manifold::MediaKind;

namespace {

class ProducerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

    std::shared_ptr<Producer> video(const char* codec = "VP8") {
        auto p = std::make_shared<Producer>("t", MediaKind::Video, "[test] ", counters_, clock_.clock());
        p->markReady(rtpCaps("video", codec, 96));
        p->setOrigin(origin_);
        return p;
    }
    void send(Producer& p, bool keyframe) {
        GstBuffer* b = vp8Packet(seq_++, keyframe);
        p.forward(b);
        gst_buffer_unref(b);
    }
    /// Past the 320 ms "soon" throttle.
    void pastThrottle() { clock_.advance(321); }

    ManualClock clock_;
    MediaCounters counters_;
    std::shared_ptr<CountingOrigin> origin_ = std::make_shared<CountingOrigin>();
    guint16 seq_ = 100;
};

std::shared_ptr<Consumer> openConsumer(const std::shared_ptr<Producer>& p, std::shared_ptr<CountingSink> sink) {
    auto c = std::make_shared<Consumer>("sub", p, "[test] ");
    c->setSink(std::move(sink));
    EXPECT_TRUE(c->moveTo(Consumer::State::Attached));
    p->addConsumer(c);
    return c;
}

} // namespace

TEST_F(ProducerTest, ForwardsOnlyToActiveConsumers) {
    auto p = video();
    auto openSink = std::make_shared<CountingSink>();
    auto gatedSink = std::make_shared<CountingSink>();
    auto open = openConsumer(p, openSink);
    auto gated = openConsumer(p, gatedSink);
    ASSERT_TRUE(open->moveTo(Consumer::State::Open));
    send(*p, true);
    send(*p, false);
    EXPECT_EQ(openSink->packets, 2);
    EXPECT_EQ(gatedSink->packets, 0) << "attached but not open: gated";
    open->setPaused(true);
    send(*p, false);
    EXPECT_EQ(openSink->packets, 2) << "paused";
    open->setPaused(false);
    send(*p, false);
    EXPECT_EQ(openSink->packets, 3);
    EXPECT_EQ(p->packetsIn(), 4u);
    EXPECT_EQ(counters_.packetsForwarded, 3u);
}

TEST_F(ProducerTest, MuteDropsForEveryone) {
    auto p = video();
    auto sink = std::make_shared<CountingSink>();
    auto c = openConsumer(p, sink);
    c->moveTo(Consumer::State::Open);
    p->setMuted(true);
    send(*p, false);
    EXPECT_EQ(sink->packets, 0);
    p->setMuted(false);
    send(*p, false);
    EXPECT_EQ(sink->packets, 1);
}

TEST_F(ProducerTest, ARefusedPushDropsThatCopyOnly) {
    auto p = video();
    auto flushing = std::make_shared<CountingSink>();
    flushing->result = GST_FLOW_FLUSHING;
    auto ok = std::make_shared<CountingSink>();
    openConsumer(p, flushing)->moveTo(Consumer::State::Open);
    openConsumer(p, ok)->moveTo(Consumer::State::Open);
    send(*p, false);
    EXPECT_EQ(flushing->packets, 1);
    EXPECT_EQ(ok->packets, 1);
    EXPECT_EQ(counters_.packetsForwarded, 1u);
}

TEST_F(ProducerTest, AnUpstreamGapAsksForAKeyframe) {
    auto p = video();
    send(*p, false);
    seq_ += 3; // three packets lost before the fan-out
    pastThrottle();
    send(*p, false);
    EXPECT_EQ(p->gaps(), 1u);
    EXPECT_EQ(origin_->requests, 1);
}

TEST_F(ProducerTest, AKeyframeRequestIsOwedUntilAKeyframePasses) {
    auto p = video();
    p->requestKeyframe(true);
    EXPECT_EQ(origin_->requests, 1);
    send(*p, false);
    EXPECT_EQ(origin_->requests, 1) << "within the throttle: held back";
    pastThrottle();
    send(*p, false);
    EXPECT_EQ(origin_->requests, 2) << "no keyframe came: asked again";
    send(*p, true);
    pastThrottle();
    send(*p, false);
    EXPECT_EQ(origin_->requests, 2) << "paid by the keyframe";
}

TEST_F(ProducerTest, EachRequestCarriesAFreshCount) {
    auto p = video();
    p->requestKeyframe(true);
    const int first = origin_->lastCount;
    pastThrottle();
    send(*p, false);
    EXPECT_NE(origin_->lastCount, first) << "a repeated FIR count is ignored by browsers";
}

TEST_F(ProducerTest, AThrottledRequestIsNotDropped) {
    auto p = video();
    p->requestKeyframe(true);
    send(*p, true);           // the first request's keyframe
    p->requestKeyframe(true); // a second receiver, 0 ms later: throttled
    EXPECT_EQ(origin_->requests, 1);
    pastThrottle();
    send(*p, false);
    EXPECT_EQ(origin_->requests, 2) << "the throttled request went out once allowed";
}

TEST_F(ProducerTest, TheRegularThrottleIsLongerThanSoon) {
    auto p = video();
    p->requestKeyframe(false);
    send(*p, true);
    clock_.advance(400);
    p->requestKeyframe(false);
    EXPECT_EQ(origin_->requests, 1) << "400 ms < 500 ms";
    clock_.advance(101);
    send(*p, false);
    EXPECT_EQ(origin_->requests, 2);
}

TEST_F(ProducerTest, UnknownCodecsAreNotRetried) {
    auto p = video("H265");
    p->requestKeyframe(true);
    EXPECT_EQ(origin_->requests, 1);
    pastThrottle();
    send(*p, false);
    EXPECT_EQ(origin_->requests, 1);
}

TEST_F(ProducerTest, GivesUpAfterTenRetries) {
    auto p = video();
    p->requestKeyframe(true);
    for (int i = 0; i < 12; ++i) {
        pastThrottle();
        send(*p, false);
    }
    EXPECT_EQ(origin_->requests, 11) << "the request and 10 retries";
}

TEST_F(ProducerTest, WaitersRunWhenReadyAndNeverAfterClose) {
    auto p = std::make_shared<Producer>("t", MediaKind::Audio, "[test] ", counters_, clock_.clock());
    int ran = 0;
    p->whenReady([&] { ++ran; });
    EXPECT_EQ(ran, 0);
    p->markReady(rtpCaps("audio", "OPUS", 111));
    EXPECT_EQ(ran, 1);
    p->whenReady([&] { ++ran; });
    EXPECT_EQ(ran, 2) << "ready: at once";
    auto q = std::make_shared<Producer>("u", MediaKind::Audio, "[test] ", counters_, clock_.clock());
    q->whenReady([&] { ++ran; });
    q->close();
    q->markReady(rtpCaps("audio", "OPUS", 111));
    EXPECT_EQ(ran, 2);
}

// Consumer: the state table (every allowed move, and the illegal ones rejected), the one
// gate isActive(), and keyframe routing to the producer on open and resume.
#include <gtest/gtest.h>

#include "MediaTestSupport.hpp"
#include "pipelines/router/Consumer.hpp"

using namespace manifold::media;
using namespace manifold::media::test;
using manifold::MediaKind;
using S = Consumer::State;

namespace {

class ConsumerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { gst_init(nullptr, nullptr); }
    void SetUp() override {
        producer_ = std::make_shared<Producer>("t", MediaKind::Video, "[test] ", counters_, clock_.clock());
        producer_->markReady(rtpCaps("video", "VP8", 96));
        producer_->setOrigin(origin_);
        consumer_ = std::make_shared<Consumer>("sub", producer_, "[test] ");
        consumer_->setSink(std::make_shared<CountingSink>());
    }
    ManualClock clock_;
    MediaCounters counters_;
    std::shared_ptr<CountingOrigin> origin_ = std::make_shared<CountingOrigin>();
    std::shared_ptr<Producer> producer_;
    std::shared_ptr<Consumer> consumer_;
};

} // namespace

TEST_F(ConsumerTest, TheWebrtcPathOpensTheGateOnceAndAsksForAKeyframe) {
    for (S s : {S::Attached, S::Offering, S::Offered, S::Linked}) {
        ASSERT_TRUE(consumer_->moveTo(s)) << Consumer::toString(s);
        EXPECT_FALSE(consumer_->isActive()) << Consumer::toString(s);
    }
    EXPECT_EQ(origin_->requests, 0);
    ASSERT_TRUE(consumer_->moveTo(S::Open));
    EXPECT_TRUE(consumer_->isActive());
    EXPECT_EQ(origin_->requests, 1) << "a receiver that can decode now needs a keyframe";
}

TEST_F(ConsumerTest, AFailedOfferGoesBackToAttached) {
    consumer_->moveTo(S::Attached);
    consumer_->moveTo(S::Offering);
    EXPECT_TRUE(consumer_->moveTo(S::Attached));
    EXPECT_TRUE(consumer_->moveTo(S::Offering));
}

TEST_F(ConsumerTest, ARefusedCodecParksTheConsumer) {
    for (S s : {S::Attached, S::Offering, S::Offered, S::Refused}) ASSERT_TRUE(consumer_->moveTo(s));
    EXPECT_FALSE(consumer_->moveTo(S::Linked));
    EXPECT_FALSE(consumer_->moveTo(S::Open));
    EXPECT_FALSE(consumer_->isActive());
    EXPECT_TRUE(consumer_->moveTo(S::Closed));
}

TEST_F(ConsumerTest, IllegalMovesAreRejected) {
    EXPECT_FALSE(consumer_->moveTo(S::Open)) << "waiting: no sink attached yet";
    EXPECT_FALSE(consumer_->moveTo(S::Offered));
    consumer_->moveTo(S::Attached);
    EXPECT_FALSE(consumer_->moveTo(S::Linked)) << "not answered";
    consumer_->moveTo(S::Closed);
    for (S s : {S::Waiting, S::Attached, S::Offering, S::Offered, S::Linked, S::Open, S::Refused, S::Closed})
        EXPECT_FALSE(consumer_->moveTo(s)) << "closed is final: " << Consumer::toString(s);
    EXPECT_EQ(consumer_->state(), S::Closed);
}

TEST_F(ConsumerTest, ASinkWithoutNegotiationOpensFromAttached) {
    consumer_->moveTo(S::Attached);
    EXPECT_TRUE(consumer_->moveTo(S::Open));
    EXPECT_TRUE(consumer_->isActive());
}

TEST_F(ConsumerTest, ResumingAsksForAKeyframe) {
    consumer_->moveTo(S::Attached);
    consumer_->setPaused(true);
    consumer_->moveTo(S::Open);
    EXPECT_EQ(origin_->requests, 0) << "opened paused: nothing to decode yet";
    EXPECT_FALSE(consumer_->isActive());
    clock_.advance(600);
    consumer_->setPaused(false);
    EXPECT_TRUE(consumer_->isActive());
    EXPECT_EQ(origin_->requests, 1);
}

TEST_F(ConsumerTest, AConsumerDoesNotKeepItsProducerAlive) {
    std::weak_ptr<Producer> weak = producer_;
    producer_.reset();
    EXPECT_TRUE(weak.expired());
    EXPECT_EQ(consumer_->producer(), nullptr);
    consumer_->requestKeyframe(); // harmless
}

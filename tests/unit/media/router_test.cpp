// Router: producers by id, consume() waiting for the producer's media, closing either
// side, keyframe routing from a consumer to its producer, and a leak loop of a few
// hundred subscribe/unsubscribe cycles (LeakSanitizer checks it in the sanitized build).
#include <gtest/gtest.h>

#include "MediaTestSupport.hpp"
#include "pipelines/router/Router.hpp"

using namespace manifold::media;
using namespace manifold::media::test;
using manifold::MediaKind;
using S = Consumer::State;

namespace {

class RouterTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

    /// A consumer of `id` whose sink is `sink` (attached when the producer is ready).
    std::shared_ptr<Consumer> consume(const std::string& id, std::shared_ptr<CountingSink> sink) {
        return router_.consume(id, "sub", "[test] ", [sink](const std::shared_ptr<Consumer>& c) {
            c->setSink(sink);
            return true;
        });
    }
    void send(Producer& p, bool keyframe = false) {
        GstBuffer* b = vp8Packet(seq_++, keyframe);
        p.forward(b);
        gst_buffer_unref(b);
    }

    ManualClock clock_;
    MediaCounters counters_;
    Router router_{"room", counters_, clock_.clock()};
    guint16 seq_ = 1;
};

} // namespace

TEST_F(RouterTest, ProducersAreKeyedById) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    ASSERT_TRUE(p);
    EXPECT_EQ(router_.producer("a"), p);
    EXPECT_EQ(router_.createProducer("a", MediaKind::Video, "[test] "), nullptr) << "ids are unique";
    EXPECT_EQ(router_.producer("b"), nullptr);
    EXPECT_EQ(consume("b", std::make_shared<CountingSink>()), nullptr) << "no such producer";
}

TEST_F(RouterTest, AConsumerWaitsForItsProducersMedia) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    auto sink = std::make_shared<CountingSink>();
    auto c = consume("a", sink);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->state(), S::Waiting);
    EXPECT_EQ(p->consumerCount(), 0u);
    p->markReady(rtpCaps("video", "VP8", 96));
    EXPECT_EQ(c->state(), S::Attached);
    EXPECT_EQ(p->consumerCount(), 1u);
    send(*p);
    EXPECT_EQ(sink->packets, 0) << "attached is not open";
    c->moveTo(S::Open);
    send(*p);
    EXPECT_EQ(sink->packets, 1);
}

TEST_F(RouterTest, AnEndpointThatCannotTakeTheConsumerClosesIt) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    auto c = router_.consume("a", "gone", "[test] ", [](const std::shared_ptr<Consumer>&) { return false; });
    p->markReady(rtpCaps("video", "VP8", 96));
    EXPECT_EQ(c->state(), S::Closed);
    EXPECT_EQ(p->consumerCount(), 0u);
}

TEST_F(RouterTest, AConsumerClosedBeforeTheMediaFlowsIsNeverAttached) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    bool attached = false;
    auto c = router_.consume("a", "sub", "[test] ", [&](const std::shared_ptr<Consumer>& consumer) {
        attached = true;
        consumer->setSink(std::make_shared<CountingSink>());
        return true;
    });
    router_.closeConsumer(c);
    p->markReady(rtpCaps("video", "VP8", 96));
    EXPECT_FALSE(attached);
    EXPECT_EQ(router_.consumerCount(), 0u);
}

TEST_F(RouterTest, ClosingAProducerClosesItsConsumers) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    p->markReady(rtpCaps("video", "VP8", 96));
    auto sink = std::make_shared<CountingSink>();
    auto c = consume("a", sink);
    c->moveTo(S::Open);
    router_.closeProducer("a");
    EXPECT_EQ(c->state(), S::Closed);
    EXPECT_FALSE(c->isActive());
    send(*p);
    EXPECT_EQ(sink->packets, 0);
    EXPECT_EQ(router_.producer("a"), nullptr);
    router_.closeConsumer(c); // the subscriber's unsubscribe comes later: harmless
}

TEST_F(RouterTest, AConsumersKeyframeRequestReachesItsProducersOrigin) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    auto origin = std::make_shared<CountingOrigin>();
    p->setOrigin(origin);
    p->markReady(rtpCaps("video", "VP8", 96));
    auto c = consume("a", std::make_shared<CountingSink>());
    c->requestKeyframe(); // a subscriber's PLI
    EXPECT_EQ(origin->requests, 1);
}

TEST_F(RouterTest, FansOutToEveryOpenConsumerInOrder) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    p->markReady(rtpCaps("video", "VP8", 96));
    std::vector<std::shared_ptr<CountingSink>> sinks;
    for (int i = 0; i < 5; ++i) {
        sinks.push_back(std::make_shared<CountingSink>());
        consume("a", sinks.back())->moveTo(S::Open);
    }
    for (int i = 0; i < 100; ++i) send(*p, i % 30 == 0);
    for (const auto& sink : sinks) {
        ASSERT_EQ(sink->packets, 100);
        for (int i = 1; i < 100; ++i) ASSERT_EQ(sink->seqs[i], sink->seqs[i - 1] + 1) << "nothing lost or reordered";
    }
}

TEST_F(RouterTest, SubscribeUnsubscribeCyclesLeaveNothingBehind) {
    auto p = router_.createProducer("a", MediaKind::Video, "[test] ");
    p->markReady(rtpCaps("video", "VP8", 96));
    std::weak_ptr<Consumer> first;
    for (int i = 0; i < 300; ++i) {
        auto sink = std::make_shared<CountingSink>();
        auto c = consume("a", sink);
        if (i == 0) first = c;
        c->moveTo(S::Open);
        send(*p, i % 10 == 0);
        ASSERT_EQ(sink->packets, 1);
        router_.closeConsumer(c);
    }
    EXPECT_EQ(router_.consumerCount(), 0u);
    EXPECT_EQ(p->consumerCount(), 0u);
    EXPECT_TRUE(first.expired()) << "the router, the producer and the endpoint let go of a closed consumer";
    // Producers come and go too.
    for (int i = 0; i < 300; ++i) {
        std::string id = std::to_string(i); // (not "p" + ...: GCC 12 -O3 warns -Wrestrict falsely)
        id.insert(0, 1, 'p');
        auto q = router_.createProducer(id, MediaKind::Audio, "[test] ");
        q->markReady(rtpCaps("audio", "OPUS", 111));
        consume(id, std::make_shared<CountingSink>())->moveTo(S::Open);
        router_.closeProducer(id);
    }
    EXPECT_EQ(router_.producerCount(), 1u);
    EXPECT_EQ(router_.consumerCount(), 0u);
}

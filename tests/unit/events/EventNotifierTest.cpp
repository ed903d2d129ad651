// EventNotifier against a real HTTP server on 127.0.0.1 in this process.
#include <gtest/gtest.h>

#include <memory>

#include "TestHttpServer.hpp"
#include "signalling/events/EventNotifier.hpp"

namespace manifold::auth {
namespace {

using namespace std::chrono_literals;
using test::jsonAt;
using test::runFor;
using test::runUntil;
using test::TestHttpServer;

protocol::Event joinedEvent(const std::string& identity) {
    protocol::Event event;
    event.event = "participant-joined";
    event.room = "demo";
    event.timeMs = 1'800'000'000'123;
    event.participant = ParticipantInfo{"p-" + identity, identity, "Alice", "", {}};
    return event;
}

class EventNotifierTest : public ::testing::Test {
protected:
    std::unique_ptr<EventNotifier> make(std::chrono::milliseconds timeout = 2000ms, std::size_t maxPending = 1000) {
        return std::make_unique<EventNotifier>(
            EventNotifier::Config{server.url("/events"), "events-secret", timeout, maxPending});
    }

    void TearDown() override { runFor(50ms); }

    TestHttpServer server;
};

TEST_F(EventNotifierTest, PostsTheEventAsJson) {
    server.on("/events", {204, ""});
    auto notifier = make();
    notifier->notify(joinedEvent("alice"));
    EXPECT_EQ(notifier->pending(), 1u);
    ASSERT_TRUE(runUntil([&] { return notifier->delivered() == 1; }));
    EXPECT_EQ(notifier->pending(), 0u);
    EXPECT_EQ(notifier->failed(), 0u);
    ASSERT_EQ(server.requests().size(), 1u);
    const auto& request = server.requests()[0];
    EXPECT_EQ(request.contentType, "application/json");
    EXPECT_EQ(request.authorization, "Bearer events-secret");
    EXPECT_EQ(jsonAt(request.body, "event"), "participant-joined");
    EXPECT_EQ(jsonAt(request.body, "room"), "demo");
    EXPECT_EQ(jsonAt(request.body, "timeMs"), "1800000000123");
    EXPECT_EQ(jsonAt(request.body, "participant.identity"), "alice");
    EXPECT_EQ(jsonAt(request.body, "participant.id"), "p-alice");
}

TEST_F(EventNotifierTest, EventsArriveInOrder) {
    server.on("/events", {200, "{}"});
    auto notifier = make();
    for (int i = 0; i < 5; ++i) notifier->notify(joinedEvent("user" + std::to_string(i)));
    ASSERT_TRUE(runUntil([&] { return notifier->delivered() == 5; }));
    ASSERT_EQ(server.requests().size(), 5u);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(jsonAt(server.requests()[i].body, "participant.identity"), "user" + std::to_string(i));
}

TEST_F(EventNotifierTest, FailuresAreCountedAndTheNextEventStillGoes) {
    server.on("/events", {500, "oops"});
    auto notifier = make();
    notifier->notify(joinedEvent("a"));
    notifier->notify(joinedEvent("b"));
    ASSERT_TRUE(runUntil([&] { return notifier->failed() == 2; }));
    EXPECT_EQ(notifier->delivered(), 0u);
    server.on("/events", {200, ""});
    notifier->notify(joinedEvent("c"));
    ASSERT_TRUE(runUntil([&] { return notifier->delivered() == 1; }));
    EXPECT_EQ(notifier->pending(), 0u);
}

TEST_F(EventNotifierTest, TimeoutCountsAsFailed) {
    server.on("/events", {200, "", 1000ms});
    auto notifier = make(100ms);
    notifier->notify(joinedEvent("a"));
    ASSERT_TRUE(runUntil([&] { return notifier->failed() == 1; }, 900ms));
    EXPECT_EQ(notifier->pending(), 0u);
}

TEST_F(EventNotifierTest, ConnectionRefusedCountsAsFailed) {
    unsigned closedPort = 0;
    {
        TestHttpServer gone;
        closedPort = gone.port();
    }
    EventNotifier notifier({"http://127.0.0.1:" + std::to_string(closedPort) + "/events", "", 2000ms, 10});
    notifier.notify(joinedEvent("a"));
    ASSERT_TRUE(runUntil([&] { return notifier.failed() == 1; }));
}

TEST_F(EventNotifierTest, FullQueueDropsTheOldest) {
    server.on("/events", {200, "", 50ms});
    auto notifier = make(2000ms, 3);
    for (int i = 0; i < 10; ++i) notifier->notify(joinedEvent("user" + std::to_string(i)));
    // user0 is in flight; the queue keeps the newest three.
    EXPECT_EQ(notifier->dropped(), 6u);
    EXPECT_EQ(notifier->pending(), 4u);
    ASSERT_TRUE(runUntil([&] { return notifier->delivered() == 4; }));
    ASSERT_EQ(server.requests().size(), 4u);
    EXPECT_EQ(jsonAt(server.requests()[0].body, "participant.identity"), "user0");
    EXPECT_EQ(jsonAt(server.requests()[1].body, "participant.identity"), "user7");
    EXPECT_EQ(jsonAt(server.requests()[3].body, "participant.identity"), "user9");
}

TEST_F(EventNotifierTest, DestroyedWithEventsInFlightIsClean) {
    server.on("/events", {200, "", 200ms});
    auto notifier = make();
    for (int i = 0; i < 3; ++i) notifier->notify(joinedEvent("user" + std::to_string(i)));
    EXPECT_TRUE(runUntil([&] { return server.requests().size() == 1; }));
    notifier.reset();
    runUntil([&] { return server.answered() == 1; });
    runFor(100ms);
    EXPECT_EQ(server.requests().size(), 1u);
}

TEST(EventNotifierConfig, BadConfigIsRefused) {
    EXPECT_THROW(EventNotifier({"nope", "", 2000ms, 10}), std::invalid_argument);
    EXPECT_THROW(EventNotifier({"http://127.0.0.1:1/events", "", 2000ms, 0}), std::invalid_argument);
}

} // namespace
} // namespace manifold::auth

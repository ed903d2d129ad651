// EventNotifier.hpp — tells an HTTP endpoint what happened (participant joined, track
// published, room closed, recording finished...), fire and forget.
//
// What: `notify` encodes the event (Codec encodeEvent) and queues it; events are POSTed
// one at a time, in order, each with the configured timeout. Nothing is retried: a
// non-2xx answer, a timeout or a connection error counts as failed. When `maxPending`
// events wait, the oldest waiting one is dropped (counted, and logged now and then).
// Failures are logged when the endpoint starts failing and when it answers again.
// Destroying it cancels the POST in flight and forgets the queue.
// Thread: control thread only (libsoup answers on the GLib main loop's default context).
// Ownership: the App owns it; rooms and sessions borrow it to report events.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include "signalling/http/HttpPoster.hpp"
#include "signalling/protocol/Codec.hpp"

namespace manifold::auth {

class EventNotifier {
public:
    struct Config {
        std::string url;                         // http:// or https://
        std::string bearerToken;                 // sent as "Authorization: Bearer ..."; "" = none
        std::chrono::milliseconds timeout{2000}; // per POST
        std::size_t maxPending = 1000;           // events waiting (in flight not counted)
    };

    /// Throws std::invalid_argument on a URL that is not http(s), a non-positive timeout or
    /// maxPending 0.
    explicit EventNotifier(Config config);
    ~EventNotifier();
    EventNotifier(const EventNotifier&) = delete;
    EventNotifier& operator=(const EventNotifier&) = delete;

    void notify(const protocol::Event& event);

    // Counters for metrics.
    std::size_t pending() const { return queue_.size() + (sending_ ? 1 : 0); } // waiting + in flight
    std::uint64_t delivered() const { return delivered_; }
    std::uint64_t failed() const { return failed_; }
    std::uint64_t dropped() const { return dropped_; }

private:
    void sendNext();
    void onSent(const HttpPoster::Response& response);

    std::size_t maxPending_;
    std::deque<std::string> queue_; // encoded events waiting, oldest first
    bool sending_ = false;
    bool failing_ = false;          // the last POST failed (logged once per outage)
    std::uint64_t delivered_ = 0;
    std::uint64_t failed_ = 0;
    std::uint64_t dropped_ = 0;
    HttpPoster poster_;             // Allocated by this; destroyed first, cancelling the POST in flight.
};

} // namespace manifold::auth
